#!/usr/bin/python3
"""Opens every model of a training run from docs/PROTOCOL.md alone and scores the final one.

An outside auditor's check (issue 16), written from the spec, with no Baton
code and no protobuf descriptors: python3, hashlib, PyNaCl (python3-nacl),
cryptography (AESGCM) and numpy. Steps, each named when it fails:

  chain check  the whole chain, as tests/chain/audit_export.py checks it
               (signatures, Merkle roots, commits, the replayed training state
               and every app state hash, sections 5-11, 18, 19), which gives
               each run's approved models (its lineage) and its final model
  blob hash    each approved model's SaveRequest (section 18.1) names its
               object; SHA-256 of the fetched blob = ciphertext_sha256
  wrapped key  the envelope rebuilt from the SaveRequest's key_recipients,
               wrapped_keys and key_commitment and the genesis keys (13.4);
               the auditor's entry opens with its x25519_secret (section 3)
  key commitment  the unwrapped key matches key_commitment and the header
  decrypt      AES-256-GCM chunks with the associated data of section 13.1
  model_sha256 SHA-256 of the plaintext = the SaveRequest's model_sha256
  model blob   the section 17 layout, the plan's spec byte for byte, the
               section 17.1 tensors of an mlp
  test AUC     the mlp forward pass (17.1) in numpy on the test CSV encoded
               with the feature schema (17.2); ROC AUC, ties counted half

usage (the ledger from `baton ledger export`, run as a separate step):
  spec_audit.py --genesis genesis.json --export export.jsonl --store DIR|file:///DIR|http://HOST:PORT/BUCKET[/PREFIX]
                --key NAME.key [--run RUN] [--test-csv test.csv --feature-schema schema.json]
                [--report report.json] [--skip-ledger-checks]
  spec_audit.py --demo DIR --export export.jsonl       (a deploy/demo.sh directory: its
                genesis, store, hospital-a's key, test set, schema and report.json)

Exits 0 and prints one line per model and "final model AUC 0.XXXX on N test
rows" (the precision `baton report` prints); with --report, also checks that
this AUC equals the report's final AUC to that precision. Exits 3 with
"spec_audit: <model>: <check>: <detail>" on the first failed check.
--skip-ledger-checks decodes and replays the ledger without checking its
signatures, Merkle roots, commits and state hashes: only for testing the model
checks on a doctored copy of a ledger.
"""
import argparse
import csv
import hashlib
import json
import math
import os
import struct
import sys
import urllib.request

import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.public import PrivateKey, SealedBox

sys.dont_write_bytecode = True  # no __pycache__ in the source tree the tests run from
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit_export  # noqa: E402

TX_SAVE_REQUEST = 13
HEADER_SIZE, TAG_SIZE = 56, 16
MAX_SPEC_BYTES = 65536


class Failed(Exception):
    """A check that failed: args = (model, check, detail)."""


# ---- section 13: the blob, the envelope, the associated data ----------------

def key_commitment(key):
    return hashlib.sha256(b"baton/vault/key-commitment/v1\x00" + key).digest()


def proto_fields(b):
    """Protobuf wire format (section 1) -> {field number: [values]}; fixed-width fields (wire types 1
    and 5, which no ledger message uses today) are skipped as a proto3 reader skips unknown fields."""
    out, i = {}, 0
    while i < len(b):
        key, i = audit_export.read_varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = audit_export.read_varint(b, i)
        elif wire == 2:
            n, i = audit_export.read_varint(b, i)
            v, i = b[i:i + n], i + n
            if len(v) != n:
                raise ValueError("truncated field")
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
            if i > len(b):
                raise ValueError("truncated field")
            continue
        else:
            raise ValueError("unexpected wire type %d" % wire)
        out.setdefault(num, []).append(v)
    return out


def save_request(payload):
    """Section 18.1's SaveRequest from its protobuf bytes (unknown fields skipped, proto3 rules)."""
    f = proto_fields(payload)
    one = lambda n, d: f.get(n, [d])[-1]  # noqa: E731
    return {"run_id": one(1, b""), "turn": one(2, 0), "parent_model_id": one(3, b""),
            "object_key": one(4, b""), "ciphertext_sha256": one(5, b""), "model_sha256": one(6, b""),
            "key_recipients": f.get(7, []), "wrapped_keys": f.get(8, []), "key_commitment": one(11, b"")}


def envelope_of(save, genesis):
    """Section 13.4: the baton-envelope-v1 a node-sealed model would have had."""
    x25519 = {m["name"]: m["x25519_public"] for m in genesis["members"]}
    return {"format": "baton-envelope-v1", "cipher": "AES-256-GCM",
            "key_commitment": save["key_commitment"].hex(),
            "recipients": [{"name": n.decode(), "x25519_public": x25519.get(n.decode(), ""),
                            "wrapped_key": w.hex()}
                           for n, w in zip(save["key_recipients"], save["wrapped_keys"])],
            "blob_sha256": save["ciphertext_sha256"].hex()}


def associated_data(chain_id, save, aggregator):
    """Section 13.1: "baton/vault/ad/v1" 0x00, then chain id, run/candidate, parent hex, each u32be-prefixed."""
    candidate = b"turn-%d" % save["turn"] + (b"-" + aggregator if aggregator else b"")
    parts = [chain_id.encode(), save["run_id"] + b"/" + candidate, save["parent_model_id"].hex().encode()]
    return b"baton/vault/ad/v1\x00" + b"".join(struct.pack(">I", len(p)) + p for p in parts)


def unwrap(model, envelope, secret):
    private = PrivateKey(secret)
    mine = private.public_key.encode().hex()
    for r in envelope["recipients"]:
        if r["x25519_public"].lower() == mine:
            try:
                key = SealedBox(private).decrypt(bytes.fromhex(r["wrapped_key"]))
            except Exception as e:  # nacl's CryptoError
                raise Failed(model, "wrapped key", "the entry of %s does not open (%s)" % (r["name"], e))
            if len(key) != 32 or key_commitment(key) != bytes.fromhex(envelope["key_commitment"]):
                raise Failed(model, "key commitment", "the unwrapped key is not the one key_commitment names")
            return key
    raise Failed(model, "wrapped key", "no key_recipients entry for this key file's x25519 public key")


def decrypt(model, blob, key, ad):
    if len(blob) < HEADER_SIZE:
        raise Failed(model, "decrypt", "shorter than the 56-byte header")
    header = blob[:HEADER_SIZE]
    magic, version, cipher, reserved, chunk_size = struct.unpack(">8sBB2sI", header[:16])
    prefix, reserved2, commitment = header[16:23], header[23:24], header[24:56]
    if magic != b"BATONVLT" or version != 1 or cipher != 1 or reserved != b"\0\0" or reserved2 != b"\0":
        raise Failed(model, "decrypt", "bad blob header")
    if not 16 <= chunk_size <= 64 << 20:
        raise Failed(model, "decrypt", "chunk size %d out of range" % chunk_size)
    if commitment != key_commitment(key):
        raise Failed(model, "key commitment", "the blob header commits to another key")
    aead, aad, record = AESGCM(key), header + ad, chunk_size + TAG_SIZE
    out, pos, i = [], HEADER_SIZE, 0
    while True:
        chunk = blob[pos:pos + record]
        final = pos + record >= len(blob)
        if len(chunk) < TAG_SIZE:
            raise Failed(model, "decrypt", "truncated inside chunk %d" % i)
        nonce = prefix + struct.pack(">I", i) + (b"\x01" if final else b"\x00")
        try:
            out.append(aead.decrypt(nonce, chunk, aad))
        except Exception:
            raise Failed(model, "decrypt", "chunk %d fails AES-256-GCM authentication" % i)
        if final:
            return b"".join(out)
        pos, i = pos + record, i + 1


def fetch(store, object_key):
    """The object's bytes: file:///DIR or DIR stores key K at DIR/K (section 13.3); http(s)://HOST/BUCKET/PREFIX
    is a plain S3 path-style GET of PREFIX/K."""
    if store.startswith(("http://", "https://")):
        with urllib.request.urlopen(store.rstrip("/") + "/" + object_key, timeout=30) as r:
            return r.read()
    root = store[len("file://"):] if store.startswith("file://") else store
    path = os.path.join(root, object_key)
    if not os.path.exists(path) and os.path.exists(path + "._S3rver_object"):
        path += "._S3rver_object"  # s3rver's own directory (its data dir/BUCKET/PREFIX), read while it is down
    with open(path, "rb") as f:
        return f.read()


# ---- section 17: the model blob and the mlp -----------------------------------

def mlp_layout(spec):
    """Section 17.1: the mlp's tensors, names and shapes, in blob order."""
    out, width = [], spec["input_shape"][0]
    for i, h in enumerate(spec["hidden"]):
        out += [("hidden%d.weight" % i, (h, width)), ("hidden%d.bias" % i, (h,))]
        width = h
    n = 1 if spec["num_classes"] == 2 else spec["num_classes"]
    return out + [("out.weight", (n, width)), ("out.bias", (n,))]


def parse_model(model, plain, expected_spec):
    """Section 17's layout; returns (spec, [(name, array)])."""
    def bad(why):
        raise Failed(model, "model blob", why)
    if len(plain) < 20 or plain[:8] != b"BATONMDL":
        bad("no BATONMDL magic")
    version, n = struct.unpack("<II", plain[8:16])
    if version != 1 or n > MAX_SPEC_BYTES:
        bad("version %d, spec length %d" % (version, n))
    spec_text = plain[16:16 + n]
    if spec_text != expected_spec:
        bad("spec %r is not the plan's %r" % (spec_text, expected_spec))
    spec = json.loads(spec_text)
    if spec.get("architecture") != "mlp":
        return spec, None  # 17.1's other networks: opened and hashed, not scored here
    layout = mlp_layout(spec)
    pos = 16 + n
    (count,) = struct.unpack("<I", plain[pos:pos + 4])
    pos += 4
    if count != len(layout):
        bad("%d tensors, the spec has %d" % (count, len(layout)))
    tensors = []
    for name, shape in layout:
        (ln,) = struct.unpack("<H", plain[pos:pos + 2])
        got = plain[pos + 2:pos + 2 + ln]
        pos += 2 + ln
        dtype, rank = plain[pos], plain[pos + 1]
        dims = struct.unpack("<%dQ" % rank, plain[pos + 2:pos + 2 + 8 * rank])
        pos += 2 + 8 * rank
        if got != name.encode() or dtype != 1 or tuple(dims) != shape:
            bad("tensor %r dtype %d dims %s, expected %s float32 %s" % (got, dtype, dims, name, shape))
        size = 4 * math.prod(shape)
        if pos + size > len(plain):
            bad("truncated in %s" % name)
        tensors.append((name, np.frombuffer(plain[pos:pos + size], dtype="<f4").reshape(shape)))
        pos += size
    if pos != len(plain):
        bad("%d bytes after the last tensor" % (len(plain) - pos))
    return spec, tensors


def mlp_scores(tensors, x):
    """Section 17.1: relu(Linear) per hidden layer, then out; P(positive) = sigmoid, in float32."""
    t = dict(tensors)
    layers = len(tensors) // 2 - 1
    for i in range(layers):
        x = np.maximum(x @ t["hidden%d.weight" % i].T + t["hidden%d.bias" % i], np.float32(0))
    logits = (x @ t["out.weight"].T + t["out.bias"]).astype(np.float32)
    if logits.shape[1] != 1:
        raise ValueError("multi-class models are not scored by this auditor")
    return (np.float32(1) / (np.float32(1) + np.exp(-logits[:, 0]))).astype(np.float64)


# ---- section 17.2: the feature schema -------------------------------------------

def encode_csv(path, schema, plan):
    """Rows encoded as section 17.2 says; columns neither the label nor a feature column are dropped."""
    label = plan["label_column"].decode()
    keep = {c.decode() for c in plan["feature_columns"]}
    with open(path, newline="") as f:
        rows = [[c.strip(" \t") for c in r] for r in csv.reader(f)]
    header, body = rows[0], [r for r in rows[1:] if r]
    at = {name: i for i, name in enumerate(header)}
    names = [c["name"] for c in schema["columns"]]
    if set(h for h in header if h in keep) != set(names) or label not in at:
        raise ValueError("%s's columns are not the schema's" % path)
    x = np.zeros((len(body), sum(1 if c["kind"] == "numeric" else len(c["levels"]) for c in schema["columns"])),
                 dtype=np.float32)
    y = np.zeros(len(body), dtype=np.int64)
    for r, row in enumerate(body):
        y[r] = 1 if row[at[label]] == schema["positive_value"] else 0
        j = 0
        for c in schema["columns"]:
            cell = row[at[c["name"]]]
            missing = cell in ("", "NA")
            if c["kind"] == "numeric":
                v = c["median"] if missing else float(cell)
                if not math.isfinite(v) or cell.lower().startswith(("0x", "-0x", "+0x")):
                    raise ValueError("%s: %r is not a decimal number" % (c["name"], cell))
                x[r, j] = np.float32((v - c["mean"]) / c["scale"])
                j += 1
            else:
                level = c["most_frequent"] if missing else cell
                for k, lv in enumerate(c["levels"]):
                    x[r, j + k] = 1.0 if lv == level else 0.0
                j += len(c["levels"])
    return x, y


def roc_auc(y, scores):
    """Mann-Whitney: the chance a positive scores above a negative, ties counted half (midranks)."""
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    return (ranks[pos].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0)


# ---- the run ----------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--demo")
    p.add_argument("--genesis")
    p.add_argument("--export", required=True)
    p.add_argument("--store")
    p.add_argument("--key")
    p.add_argument("--run")
    p.add_argument("--test-csv")
    p.add_argument("--feature-schema")
    p.add_argument("--report")
    p.add_argument("--skip-ledger-checks", action="store_true")
    a = p.parse_args()
    if a.demo:
        d = a.demo
        a.genesis = a.genesis or os.path.join(d, "genesis.json")
        a.store = a.store or os.path.join(d, "store")
        a.key = a.key or os.path.join(d, "keys", "hospital-a.key")
        a.test_csv = a.test_csv or os.path.join(d, "split", "test.csv")
        a.feature_schema = a.feature_schema or os.path.join(d, "split", "feature_schema.json")
        a.report = a.report or os.path.join(d, "report.json")
    if not (a.genesis and a.store and a.key):
        p.error("--genesis, --store and --key (or --demo DIR) are needed")

    genesis = json.load(open(a.genesis, "rb"))
    saves = {}  # tx hash -> (sender name, SaveRequest)
    names = {bytes.fromhex(m["ed25519_public"]): m["name"].encode() for m in genesis["members"]}

    def on_tx(sender, ttype, payload, tx_hash):
        if ttype == TX_SAVE_REQUEST:
            saves[tx_hash] = (names.get(sender, b""), save_request(payload))

    try:
        training, _, _, _ = audit_export.verify(a.genesis, a.export, checked=not a.skip_ledger_checks, on_tx=on_tx)
    except audit_export.BadBlock as e:
        raise Failed("ledger", "chain check", str(e))
    except (ValueError, KeyError, IndexError, UnicodeDecodeError) as e:
        raise Failed("ledger", "chain check",
                     "height %d: malformed block bytes (%s)" % (audit_export.CURRENT["height"], e))
    if not training.runs:
        raise Failed("ledger", "run", "the ledger holds no training run")
    run_id = a.run.encode() if a.run else max(training.runs, key=lambda r: training.runs[r]["start_height"])
    run = training.runs.get(run_id)
    if run is None:
        raise Failed("ledger", "run", "no run %r on the ledger" % run_id)
    if not run["models"]:
        raise Failed("ledger", "run", "run %s has no approved model" % run_id.decode())
    secret = bytes.fromhex(json.load(open(a.key))["x25519_secret"])
    plan = run["plan"]
    federated = plan["mode"] == 1
    test = None
    if a.test_csv:
        schema = json.load(open(a.feature_schema))
        test = encode_csv(a.test_csv, schema, plan)

    final_auc = None
    for m in run["models"]:
        model = "model %s (turn %d)" % (m["id"].hex()[:12], m["turn"])
        sender, save = saves[m["id"]]
        if save["model_sha256"] != m["model_sha256"] or save["ciphertext_sha256"] != m["ciphertext_sha256"]:
            raise Failed(model, "lineage", "the lineage's hashes are not its SaveRequest's")
        try:
            blob = fetch(a.store, save["object_key"].decode())
        except OSError as e:
            raise Failed(model, "blob hash", "cannot fetch %s: %s" % (save["object_key"].decode(), e))
        if hashlib.sha256(blob).digest() != save["ciphertext_sha256"]:
            raise Failed(model, "blob hash", "SHA-256 of %s is not the SaveRequest's ciphertext_sha256"
                         % save["object_key"].decode())
        key = unwrap(model, envelope_of(save, genesis), secret)
        ad = associated_data(genesis["chain_id"], save, sender if federated else None)
        plain = decrypt(model, blob, key, ad)
        if hashlib.sha256(plain).digest() != save["model_sha256"]:
            raise Failed(model, "model_sha256", "SHA-256 of the plaintext is not the SaveRequest's model_sha256")
        spec, tensors = parse_model(model, plain, plan["model_spec"])
        line = "%s: opened, %d bytes, blob and model hashes as on the ledger" % (model, len(plain))
        if test is not None and tensors is not None:
            auc = roc_auc(test[1], mlp_scores(tensors, test[0]))
            line += ", test AUC %.4f" % auc
            if m["id"] == run["head"]:
                final_auc = auc
        print(line)
    if run["head"] != run["models"][-1]["id"]:
        raise Failed("ledger", "lineage", "the run's head is not its last approved model")
    print("run %s: %d approved models opened, final model %s"
          % (run_id.decode(), len(run["models"]), run["head"].hex()))
    if final_auc is not None:
        print("final model AUC %.4f on %d test rows" % (final_auc, len(test[1])))
        if a.report and os.path.exists(a.report):
            reported = json.load(open(a.report))["final"]["auc"]
            if "%.4f" % reported != "%.4f" % final_auc:
                raise Failed("final model", "test AUC", "%.4f here, %.4f in %s" % (final_auc, reported, a.report))
            print("equals baton report's %.4f" % reported)


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        print("spec_audit: %s: %s: %s" % e.args)
        sys.exit(3)
