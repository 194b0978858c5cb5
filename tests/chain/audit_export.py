#!/usr/bin/python3
"""Checks a Baton chain from `baton ledger export` output without Baton's code.

Usage: /usr/bin/python3 tests/chain/audit_export.py genesis.json export.jsonl

Uses only hashlib, PyNaCl (Debian: python3-nacl) and the byte layouts of
docs/PROTOCOL.md. From each line it reads only "stored_hex" (the exact stored
CommittedBlock bytes) and decodes everything itself, so a wrong decoded field
in the export cannot fool it. It replays the training protocol and the
accounts (sections 18 and 19, audit_training.py beside it) and the membership
changes (section 25, audit_membership.py) to recompute every block's app
state hash and to check every block against the members after the block
before, so a chain that holds training runs, balances, escrows and member
changes is checked as fully as one that holds none. Exits 0 and prints the
tip, one line per training run and one line of balances, or prints
"height N: <problem>" and exits 3.
"""
import hashlib
import json
import struct
import sys

import nacl.exceptions
import nacl.signing

sys.dont_write_bytecode = True  # no __pycache__ in the source tree the tests run from
import audit_membership  # noqa: E402
import audit_training  # noqa: E402
from audit_plan import read_varint  # noqa: E402


def sha(b):
    return hashlib.sha256(b).digest()


def fields(b):
    """Protobuf wire format -> {field number: [values]} (varints and bytes only)."""
    out, i = {}, 0
    while i < len(b):
        key, i = read_varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(b, i)
        elif wire == 2:
            n, i = read_varint(b, i)
            v, i = b[i:i + n], i + n
            if len(v) != n:
                raise ValueError("truncated field")
        else:
            raise ValueError("unexpected wire type %d" % wire)
        out.setdefault(num, []).append(v)
    return out


def one(f, num, default):
    return f.get(num, [default])[-1]


def domain_separated(domain, chain_id, body):
    c = chain_id.encode()
    return domain.encode() + b"\x00" + struct.pack(">I", len(c)) + c + body


def vote_body(vtype, height, rnd, block_id):
    """Vote sign bytes body: a 0x00 tag and 32 zero bytes for nil, 0x01 and the id otherwise."""
    value = b"\x01" + block_id if block_id else b"\x00" + bytes(32)
    return bytes([vtype]) + struct.pack(">QI", height, rnd) + value


def merkle(leaves):
    if not leaves:
        return sha(b"")
    if len(leaves) == 1:
        return sha(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha(b"\x01" + merkle(leaves[:k]) + merkle(leaves[k:]))


def verifies(key, message, sig):
    try:
        nacl.signing.VerifyKey(key).verify(message, sig)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False


TX_NOTE = 1
CURRENT = {"height": 0}  # the block being checked, for errors raised while decoding


class BadBlock(Exception):
    """A check that failed: "height N: <problem>"."""


def verify(genesis_path, export_path, checked=True, on_tx=None):
    """Checks the chain and replays its training state; returns (training, blocks, transactions, tip).

    `on_tx(sender, type, payload, tx hash)` sees every transaction (spec_audit.py takes the
    SaveRequests). With `checked` false, signatures, Merkle roots, state hashes and commits are
    not checked (spec_audit.py --skip-ledger-checks: a doctored copy of a ledger)."""
    genesis_bytes = open(genesis_path, "rb").read()
    genesis = json.loads(genesis_bytes)
    chain_id = genesis["chain_id"]
    genesis_hash = sha(genesis_bytes)  # inside every signature, and block 1's parent
    previous = genesis_hash
    next_nonce, tx_count, evidence = {}, 0, set()
    consortium = audit_training.Consortium(genesis)
    training = audit_training.Training(consortium)
    membership = audit_membership.Membership(
        genesis, lambda domain, body: domain_separated(domain, chain_id, genesis_hash + body))
    height = 0
    for line in open(export_path):
        if not line.strip():
            continue
        # Section 25.3: block H is checked against the members after block H - 1.
        members = {m["ed25519"]: m for m in membership.members()}
        total = sum(m["power"] for m in members.values())
        height += 1
        CURRENT["height"] = height
        def bad(why, always=False):
            if checked or always:
                raise BadBlock("height %d: %s" % (height, why))
        stored = bytes.fromhex(json.loads(line)["stored_hex"])
        committed = fields(stored)
        block = fields(one(committed, 1, b""))
        commit = fields(one(committed, 2, b""))
        header_bytes = one(block, 1, b"")
        h = fields(header_bytes)
        block_id = sha(header_bytes)
        if one(h, 1, b"").decode() != chain_id:
            bad("wrong chain id")
        if one(h, 2, 0) != height:
            bad("wrong height", always=True)
        if one(h, 4, b"") != previous:
            bad("wrong previous hash")
        if members.get(one(h, 8, b""), {}).get("power", 0) == 0:
            bad("proposer is not a validator")
        txs, evs = block.get(2, []), block.get(3, [])
        if merkle(txs) != one(h, 5, b""):
            bad("wrong transaction Merkle root")
        if merkle(evs) != one(h, 6, b""):
            bad("wrong evidence Merkle root")
        training.begin_block(genesis, height)
        for i, tx_bytes in enumerate(txs):
            t = fields(tx_bytes)
            sender, nonce, ttype, payload = one(t, 2, b""), one(t, 3, 0), one(t, 4, 0), one(t, 5, b"")
            if one(t, 1, b"").decode() != chain_id:
                bad("transaction %d: wrong chain id" % i)
            if sender not in members:
                bad("transaction %d: sender is not a member" % i, always=True)
            body = sender + struct.pack(">QII", nonce, ttype, len(payload)) + payload
            if not verifies(sender, domain_separated("baton/tx/v2", chain_id, genesis_hash + body), one(t, 6, b"")):
                bad("transaction %d: bad signature" % i)
            if (ttype != TX_NOTE and ttype not in audit_training.PROTOCOL_TYPES and
                    ttype not in audit_membership.TYPES):
                bad("transaction %d: unknown type %d" % (i, ttype), always=True)
            if nonce != next_nonce.get(sender, 1):
                bad("transaction %d: nonce %d, expected %d" % (i, nonce, next_nonce.get(sender, 1)))
            next_nonce[sender] = nonce + 1
            tx_count += 1
            if on_tx is not None:
                on_tx(sender, ttype, payload, sha(tx_bytes))
            grant = membership.grant_target(training, ttype, fields(payload))
            if grant is not None:  # section 25.7: a model's key for a member without it
                try:
                    membership.apply_grant(grant, members[sender]["name"], fields(payload))
                except audit_membership.Refused as r:
                    log = grant[0]["refusals"]
                    log["total"] += 1
                    refusal = (height, sha(tx_bytes), members[sender]["name"], ttype, r.args[0],
                               one(fields(payload), 1, b""), None)
                    log["recent"] = (log["recent"] + [refusal])[-audit_training.MAX_REFUSALS_KEPT:]
            elif ttype in audit_training.PROTOCOL_TYPES:  # its effect, or its refusal recorded
                training.apply(sender, ttype, fields(payload), sha(tx_bytes), height)
            elif ttype in audit_membership.TYPES:  # section 25: refusals go to the own log
                try:
                    membership.apply(sender, ttype, payload, fields(payload), height)
                except audit_membership.Refused as r:
                    log = training.refusals
                    log["total"] += 1
                    refusal = (height, sha(tx_bytes), members[sender]["name"], ttype, r.args[0], b"", None)
                    log["recent"] = (log["recent"] + [refusal])[-audit_training.MAX_REFUSALS_KEPT:]
        for i, ev_bytes in enumerate(evs):
            e = fields(ev_bytes)
            votes = [fields(one(e, 1, b"")), fields(one(e, 2, b""))]
            for v in votes:
                vt, vh, vr, vb = one(v, 1, 0), one(v, 2, 0), one(v, 3, 0), one(v, 4, b"")
                if len(vb) not in (0, 32) or vb == bytes(32):
                    bad("evidence %d: a vote's block id is neither empty (nil) nor a block id" % i)
                msg = domain_separated("baton/vote/v2", chain_id, genesis_hash + vote_body(vt, vh, vr, vb))
                if not verifies(one(v, 5, b""), msg, one(v, 6, b"")):
                    bad("evidence %d: bad vote signature" % i)
            a, b = votes
            key = (one(a, 5, b""), one(a, 2, 0), one(a, 3, 0), one(a, 1, 0))
            if key != (one(b, 5, b""), one(b, 2, 0), one(b, 3, 0), one(b, 1, 0)) or one(a, 4, b"") == one(b, 4, b""):
                bad("evidence %d: votes do not conflict" % i)
            if key in evidence:
                bad("evidence %d: already recorded" % i)
            evidence.add(key)
        state = struct.pack(">QI", tx_count, len(next_nonce))
        for k in sorted(next_nonce):
            state += k + struct.pack(">Q", next_nonce[k])
        state += struct.pack(">I", len(evidence))
        for k, eh, er, et in sorted(evidence):
            state += k + struct.pack(">QIB", eh, er, et)
        training.end_block(height)
        if membership.end_block(height):  # section 25.3: the set after this block
            consortium.by_key = {m["ed25519"]: m["name"] for m in membership.members()}
            consortium.power = {m["name"]: m["power"] for m in membership.members()}
            consortium.roles = {m["name"]: {r.decode() for r in m["roles"]} for m in membership.members()}
            consortium.total_power = sum(consortium.power.values())
        if not membership.empty():  # section 25.5: the marker and the membership part
            skip_removed_partners(training, {m["name"] for m in membership.members()}, height)
            state += audit_membership.MARKER + membership.encoding()
        if not training.empty():  # sections 18.4 and 19.4
            state += training.encoding()
        domain = "baton/state/v4" if not membership.empty() else training.domain()
        if sha(domain_separated(domain, chain_id, state)) != one(h, 7, b""):
            bad("wrong app state hash")
        if one(commit, 1, 0) != height or one(commit, 3, b"") != block_id:
            bad("commit is for another height or block")
        msg = domain_separated("baton/vote/v2", chain_id,
                               genesis_hash + vote_body(2, height, one(commit, 2, 0), block_id))
        power, seen = 0, set()
        for s in commit.get(4, []):
            sig = fields(s)
            key = one(sig, 1, b"")
            if members.get(key, {}).get("power", 0) == 0 or key in seen:
                bad("commit signature from a non-validator or twice from one")
            if not verifies(key, msg, one(sig, 2, b"")):
                bad("commit signature does not verify")
            seen.add(key)
            power += members.get(key, {}).get("power", 0)
        if 3 * power <= 2 * total:
            bad("commit has two thirds of the voting power or less")
        previous = block_id
    return training, height, tx_count, previous


def skip_removed_partners(training, names, height):
    """Section 25.3 step 5: a removed partner's turns of the active chained run end at once."""
    while True:
        run = training.active()
        if run is None or run["plan"]["mode"] == 1:
            return
        t = training.current_turn(run)
        if t is None or t["outcome"] != audit_training.PENDING or t["partner"] in names:
            return
        training.finish_turn(run, audit_membership.REMOVED, height)


def main(genesis_path, export_path):
    try:
        training, height, tx_count, tip = verify(genesis_path, export_path)
    except BadBlock as e:
        print(e)
        sys.exit(3)
    print("ok: %d blocks, %d transactions, tip %s" % (height, tx_count, tip.hex()))
    for line in training.summary():
        print(line)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        main(sys.argv[1], sys.argv[2])
    except (ValueError, KeyError, IndexError, UnicodeDecodeError) as e:
        # Bytes that do not even decode (a flipped length, a cut field).
        print("height %d: malformed block bytes (%s)" % (CURRENT["height"], e))
        sys.exit(3)
