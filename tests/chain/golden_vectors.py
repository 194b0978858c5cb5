#!/usr/bin/python3
"""Independent computation of the golden vectors in golden_test.cpp.

With --write-corpus DIR it also writes seed inputs for the chain fuzz targets
(tests/fuzz/corpus/chain_block and chain_genesis).

Uses only hashlib, PyNaCl (python3-nacl) and a hand-written protobuf encoder
that follows docs/PROTOCOL.md; it shares no code with Baton. Run:
    /usr/bin/python3 tests/chain/golden_vectors.py
and compare with the constants in tests/chain/golden_test.cpp.
"""
import hashlib
import json
import os
import struct
import sys

import nacl.public
import nacl.signing

CHAIN_ID = "baton-test"


def sha(b):
    return hashlib.sha256(b).digest()


def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def field_varint(num, value):
    return b"" if value == 0 else varint(num << 3) + varint(value)


def field_bytes(num, value):
    return b"" if len(value) == 0 else varint(num << 3 | 2) + varint(len(value)) + value


def domain_separated(domain, chain_id, body):
    c = chain_id.encode()
    return domain.encode() + b"\x00" + struct.pack(">I", len(c)) + c + body
# Signatures (tx, vote, proposal) put the genesis hash first in the body:
# domain_separated(domain, chain_id, genesis_hash || body).


def merkle(leaves):
    if not leaves:
        return sha(b"")
    if len(leaves) == 1:
        return sha(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha(b"\x01" + merkle(leaves[:k]) + merkle(leaves[k:]))


names = ["alice", "bob", "carol", "dave"]
signers = [nacl.signing.SigningKey(bytes([i + 1]) * 32) for i in range(4)]
pubs = [bytes(s.verify_key) for s in signers]
xpubs = [bytes(nacl.public.PrivateKey(bytes([0x11 + i]) * 32).public_key) for i in range(4)]

# --- genesis (nlohmann dump(2) and Python's indent=2 agree for this content) --
genesis = {
    "format": "baton-genesis-v1",
    "chain_id": CHAIN_ID,
    "genesis_time": "2026-11-24T00:00:00Z",
    "consensus": {
        "timeout_propose_ms": 3000, "timeout_propose_delta_ms": 500,
        "timeout_prevote_ms": 1000, "timeout_prevote_delta_ms": 500,
        "timeout_precommit_ms": 1000, "timeout_precommit_delta_ms": 500,
        "timeout_commit_ms": 1000, "max_block_txs": 10000,
        "max_block_bytes": 8 << 20, "max_tx_bytes": 64 << 10, "max_block_evidence": 100,
    },
    "members": [
        {"name": names[i], "ed25519_public": pubs[i].hex(), "x25519_public": xpubs[i].hex(),
         "p2p_address": "127.0.0.1:%d" % (26601 + i), "power": 1,
         "roles": (["admin"] if i == 0 else []) + ["validator", "partner"]}
        for i in range(4)
    ],
    "training_plan": {},
    "object_store": {},
}
genesis_text = json.dumps(genesis, indent=2) + "\n"
genesis_hash = sha(genesis_text.encode())
print("genesis_hash        ", genesis_hash.hex())

# --- transaction: alice, nonce 1, TX_NOTE "hello" ---------------------------
payload = field_bytes(1, b"hello")  # Note{text}
body = pubs[0] + struct.pack(">QII", 1, 1, len(payload)) + payload
tx_sign = domain_separated("baton/tx/v2", CHAIN_ID, genesis_hash + body)
tx_sig = signers[0].sign(tx_sign).signature
tx = (field_bytes(1, CHAIN_ID.encode()) + field_bytes(2, pubs[0]) + field_varint(3, 1) +
      field_varint(4, 1) + field_bytes(5, payload) + field_bytes(6, tx_sig))
print("tx_sign_bytes_sha256", sha(tx_sign).hex())
print("tx_signature        ", tx_sig.hex())
print("tx_hash             ", sha(tx).hex())

# --- ledger state after block 1 ---------------------------------------------
state_body = struct.pack(">Q", 1) + struct.pack(">I", 1) + pubs[0] + struct.pack(">Q", 2) + struct.pack(">I", 0)
state_hash = sha(domain_separated("baton/state/v1", CHAIN_ID, state_body))
print("state_hash_block1   ", state_hash.hex())

# --- block 1 -----------------------------------------------------------------
TIME_MS = 1795996800000  # 2026-11-30T00:00:00Z
header = (field_bytes(1, CHAIN_ID.encode()) + field_varint(2, 1) + field_varint(3, TIME_MS) +
          field_bytes(4, genesis_hash) + field_bytes(5, merkle([tx])) + field_bytes(6, merkle([])) +
          field_bytes(7, state_hash) + field_bytes(8, pubs[0]))
block_id = sha(header)
print("tx_merkle_root      ", merkle([tx]).hex())
print("block1_id           ", block_id.hex())

# --- commit: precommits by alice, bob, carol at round 0 ---------------------
def vote_body(vtype, height, rnd, bid):
    # Tag 0x01 and the id for a block, 0x00 and 32 zero bytes for nil.
    value = b"\x01" + bid if bid else b"\x00" + bytes(32)
    return bytes([vtype]) + struct.pack(">QI", height, rnd) + value


vote_sign = domain_separated("baton/vote/v2", CHAIN_ID, genesis_hash + vote_body(2, 1, 0, block_id))
print("precommit_sign_sha256", sha(vote_sign).hex())
sigs = [signers[i].sign(vote_sign).signature for i in range(3)]
commit = field_varint(1, 1) + field_bytes(3, block_id)
for i in range(3):
    commit += field_bytes(4, field_bytes(1, pubs[i]) + field_bytes(2, sigs[i]))
block = field_bytes(1, header) + field_bytes(2, tx)
committed = field_bytes(1, block) + field_bytes(2, commit)
print("committed_block1_sha", sha(committed).hex())

# --- evidence: bob prevotes block1 and nil at height 1 round 0 ---------------
def vote(signer, pub, vtype, height, rnd, bid):
    sign = domain_separated("baton/vote/v2", CHAIN_ID, genesis_hash + vote_body(vtype, height, rnd, bid))
    sig = signer.sign(sign).signature
    return (field_varint(1, vtype) + field_varint(2, height) + field_varint(3, rnd) + field_bytes(4, bid) +
            field_bytes(5, pub) + field_bytes(6, sig))

va = vote(signers[1], pubs[1], 1, 1, 0, block_id)
vb = vote(signers[1], pubs[1], 1, 1, 0, b"")
# vote_a is the vote whose block id sorts first (nil, the empty id, first): §9.
evidence = field_bytes(1, vb) + field_bytes(2, va)
print("evidence_sha256     ", sha(evidence).hex())

if len(sys.argv) == 3 and sys.argv[1] == "--write-corpus":
    root = sys.argv[2]
    seeds = {"chain_block": {"committed_block1": committed, "transaction": tx, "header": header,
                             "evidence": evidence, "vote": va},
             "chain_genesis": {"genesis.json": genesis_text.encode()}}
    for target, files in seeds.items():
        os.makedirs(os.path.join(root, target), exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(root, target, name), "wb") as f:
                f.write(data)
