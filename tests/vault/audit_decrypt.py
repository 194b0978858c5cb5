#!/usr/bin/env python3
"""Decrypt a Baton vault blob following only docs/PROTOCOL.md section 13.

An auditor's independent implementation: Python's `cryptography` (AESGCM)
and PyNaCl (SealedBox), no Baton code. Exit 0 and write --out on success;
exit 3 with one line on stderr when anything fails verification (then --out
is not created).

usage: audit_decrypt.py --key NAME.key --envelope BLOB.envelope.json
                        (--ad TEXT | --ad-hex HEX) --in BLOB --out FILE
"""
import argparse
import hashlib
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.public import PrivateKey, SealedBox

HEADER_SIZE = 56
TAG_SIZE = 16


class Refused(Exception):
    pass


def commitment(key):
    return hashlib.sha256(b"baton/vault/key-commitment/v1\x00" + key).digest()


def unwrap(key_file, envelope):
    secret = bytes.fromhex(key_file["x25519_secret"])
    private = PrivateKey(secret)
    mine = private.public_key.encode().hex()
    if envelope.get("format") != "baton-envelope-v1" or envelope.get("cipher") != "AES-256-GCM":
        raise Refused("not a baton-envelope-v1 AES-256-GCM envelope")
    for r in envelope["recipients"]:
        if r["x25519_public"].lower() == mine:
            try:
                key = SealedBox(private).decrypt(bytes.fromhex(r["wrapped_key"]))
            except Exception as e:  # nacl raises CryptoError
                raise Refused("wrapped key does not open: %s" % e)
            if len(key) != 32 or commitment(key) != bytes.fromhex(envelope["key_commitment"]):
                raise Refused("unwrapped key does not match the envelope's key_commitment")
            return key
    raise Refused("no recipient entry for this member's x25519 key")


def decrypt(blob, key, ad):
    if len(blob) < HEADER_SIZE:
        raise Refused("shorter than a header")
    header = blob[:HEADER_SIZE]
    magic, version, cipher, reserved, chunk_size = struct.unpack(">8sBB2sI", header[:16])
    prefix, reserved2, commit = header[16:23], header[23:24], header[24:56]
    if magic != b"BATONVLT" or version != 1 or cipher != 1 or reserved != b"\0\0" or reserved2 != b"\0":
        raise Refused("bad header")
    if not 16 <= chunk_size <= 64 << 20:
        raise Refused("bad chunk size")
    if commit != commitment(key):
        raise Refused("key commitment mismatch")
    aead = AESGCM(key)
    aad = header + ad
    record = chunk_size + TAG_SIZE
    body = blob[HEADER_SIZE:]
    out = []
    i = 0
    pos = 0
    while True:
        chunk = body[pos:pos + record]
        final = pos + record >= len(body)
        if len(chunk) < TAG_SIZE:
            raise Refused("truncated inside chunk %d" % i)
        nonce = prefix + struct.pack(">I", i) + (b"\x01" if final else b"\x00")
        try:
            out.append(aead.decrypt(nonce, chunk, aad))
        except Exception:
            raise Refused("chunk %d failed authentication" % i)
        if final:
            return b"".join(out)
        pos += record
        i += 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--key", required=True)
    p.add_argument("--envelope", required=True)
    p.add_argument("--ad")
    p.add_argument("--ad-hex")
    p.add_argument("--in", dest="inp", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    ad = bytes.fromhex(a.ad_hex) if a.ad_hex is not None else (a.ad or "").encode()
    try:
        with open(a.key) as f:
            key_file = json.load(f)
        with open(a.envelope) as f:
            envelope = json.load(f)
        key = unwrap(key_file, envelope)
        with open(a.inp, "rb") as f:
            blob = f.read()
        if "blob_sha256" in envelope and hashlib.sha256(blob).hexdigest() != envelope["blob_sha256"]:
            raise Refused("blob hash differs from the envelope's blob_sha256")
        plain = decrypt(blob, key, ad)
    except (Refused, ValueError, KeyError) as e:
        print("audit_decrypt: refused: %s" % e, file=sys.stderr)
        return 3
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(plain)
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
