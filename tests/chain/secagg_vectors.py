#!/usr/bin/python3
"""Independent computation of the secure-aggregation worked example
(docs/PROTOCOL.md §21.4.10) that tests/chain/secagg_vectors_test.cpp pins.

Uses only hashlib, struct and python3-cryptography (X25519, ChaCha20) and
follows the text of §21.4; it shares no code with Baton. Run:
    /usr/bin/python3 tests/chain/secagg_vectors.py
and compare with the constants in secagg_vectors_test.cpp and §21.4.10.
"""
import hashlib
import math
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def sha(b):
    return hashlib.sha256(b).digest()


def u32(n):
    return struct.pack("<I", n)


def u64(n):
    return struct.pack("<Q", n)


def binding(chain_id, run_id, rnd):
    c, r = chain_id.encode(), run_id.encode()
    return u32(len(c)) + c + u32(len(r)) + r + u64(rnd)


def gf_mul(a, b):
    p = 0
    while b:
        if b & 1:
            p ^= a
        a = ((a << 1) ^ 0x11B) if a & 0x80 else a << 1
        b >>= 1
    return p


def gf_inv(a):
    return next(x for x in range(1, 256) if gf_mul(a, x) == 1)


def shamir_split(secret, t, n, key):
    coeffs = [secret] + [sha(b"baton/secagg/shamir/v1" + key + u32(j)) for j in range(1, t)]
    shares = []
    for rank in range(n):
        x = rank + 1
        share = bytearray(32)
        for k in range(32):
            y = 0
            for j in reversed(range(t)):
                y = gf_mul(y, x) ^ coeffs[j][k]
            share[k] = y
        shares.append(bytes(share))
    return shares


def shamir_combine(pairs):
    out = bytearray(32)
    for i, (ri, yi) in enumerate(pairs):
        xi = ri + 1
        num, den = 1, 1
        for j, (rj, _) in enumerate(pairs):
            if j != i:
                num = gf_mul(num, rj + 1)
                den = gf_mul(den, (rj + 1) ^ xi)
        basis = gf_mul(num, gf_inv(den))
        for k in range(32):
            out[k] ^= gf_mul(yi[k], basis)
    return bytes(out)


def x25519_public(secret):
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def x25519(secret, public):
    return X25519PrivateKey.from_private_bytes(secret).exchange(
        X25519PublicKey.from_public_bytes(public))


def round_secrets(long_term, bound):
    k = sha(b"baton/secagg/round-key/v1" + long_term + bound)
    c = sha(b"c" + k)
    return {"k": k, "b": sha(b"b" + k), "c": c, "c_pub": x25519_public(c),
            "pb": sha(b"pb" + k), "pc": sha(b"pc" + k)}


def share_commitment(bound, kind, dealer, recipient, share):
    return sha(b"baton/secagg/share/v1" + bound + bytes([kind]) + u32(dealer) + u32(recipient) +
               share)


def seed_commitment(bound, dealer, seed):
    return sha(b"baton/secagg/seed/v1" + bound + u32(dealer) + seed)


def pair_seed(my_secret, their_public, bound, a, b):
    return sha(b"baton/secagg/pair/v1" + x25519(my_secret, their_public) + bound +
               u32(min(a, b)) + u32(max(a, b)))


def prg(seed, count):
    enc = Cipher(algorithms.ChaCha20(seed, bytes(16)), mode=None).encryptor()
    stream = enc.update(bytes(8 * count))
    return list(struct.unpack("<%dQ" % count, stream))


def round_half_even(x):
    below = math.floor(x)
    frac = x - below
    if frac > 0.5:
        return below + 1
    if frac < 0.5:
        return below
    return below if below % 2 == 0 else below + 1


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def encode(head, trained, w):
    out = []
    for h, t in zip(head, trained):
        d = f32(t) - f32(h)
        d = max(-64.0, min(64.0, d))
        out.append(round_half_even(d * (w * 2 ** 24)) % 2 ** 64)
    return out


def main():
    bound = binding("demo-chain", "demo", 0)
    print("binding", bound.hex())
    keys = [bytes([r + 1]) * 32 for r in range(3)]  # long-term X25519 secrets 0x01.., 0x02.., 0x03..
    s = [round_secrets(k, bound) for k in keys]
    for r in range(3):
        print("rank", r, "k", s[r]["k"].hex())
        print("rank", r, "b", s[r]["b"].hex())
        print("rank", r, "c", s[r]["c"].hex())
        print("rank", r, "c_pub", s[r]["c_pub"].hex())
    shares = shamir_split(s[0]["b"], 2, 3, s[0]["pb"])
    for r, sh in enumerate(shares):
        print("b_0 share for rank", r, sh.hex())
    again = shamir_combine([(1, shares[1]), (2, shares[2])])
    assert again == s[0]["b"]
    print("self share commitment 0->1", share_commitment(bound, 1, 0, 1, shares[1]).hex())
    print("seed commitment 0", seed_commitment(bound, 0, s[0]["b"]).hex())
    s01 = pair_seed(s[0]["c"], s[1]["c_pub"], bound, 0, 1)
    assert s01 == pair_seed(s[1]["c"], s[0]["c_pub"], bound, 1, 0)
    s02 = pair_seed(s[0]["c"], s[2]["c_pub"], bound, 0, 2)
    print("pair seed 0,1", s01.hex())
    print("pair seed 0,2", s02.hex())
    head = [0.25, -1.0]
    trained = [0.375, -1.5]
    q0 = encode(head, trained, 100)
    print("q_0", ["%016x" % q for q in q0])
    m = [(q + a + b + c) % 2 ** 64 for q, a, b, c in
         zip(q0, prg(s[0]["b"], 2), prg(s01, 2), prg(s02, 2))]
    print("PRG(b_0)", ["%016x" % v for v in prg(s[0]["b"], 2)])
    print("y_0", ["%016x" % v for v in m])
    obj = b"BATONMSK" + u32(1) + u64(2) + b"".join(u64(v) for v in m)
    print("object", obj.hex())


if __name__ == "__main__":
    main()
