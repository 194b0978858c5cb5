"""Federated rounds with secure aggregation (docs/PROTOCOL.md section 21), replayed by an auditor.

Used by audit_training.py for a run whose plan is federated: RoundShare,
RoundUpload and RoundUnmask (TxType 20..22) checked in the documented order,
the phases and their deadlines, the ledger's reconstruction of every
dealer's secret from the revealed Shamir shares (GF(2^8), section 21.4) and
the bytes of a round (section 21.3). Needs only hashlib and PyNaCl (X25519).
"""
import hashlib
import struct

import nacl.bindings

TX_ROUND_SHARE, TX_ROUND_UPLOAD, TX_ROUND_UNMASK = 20, 21, 22
ROUND_TYPES = (TX_ROUND_SHARE, TX_ROUND_UPLOAD, TX_ROUND_UNMASK)

# ProtocolRejected 50..56 (section 21.2).
(WRONG_ROUND, NOT_FEDERATED, ALREADY_SHARED, NOT_A_SHARER, ALREADY_UPLOADED, ALREADY_UNMASKED,
 WRONG_SHARE) = range(50, 57)
ROUND_SHARING, ROUND_UPLOADING, ROUND_UNMASKING, ROUND_AGGREGATING = 6, 7, 8, 9
ROUND_FAILED = 8

SHARE_BOX_BYTES = 112
MAX_ROUND_WEIGHT = 1 << 20
MAX_ROUND_OBJECT_KEY_BYTES = 1024
SELF_SEED, EPHEMERAL_KEY = 1, 2


def deadline_after(height, blocks):
    return min(height + blocks, 2 ** 64 - 1)


def need(plan):
    """max(min_partners, t): the partners a round needs to move on."""
    return max(plan["min_partners"], plan["secagg_threshold"])


def new_round():
    return {"shares": {}, "uploads": {}, "unmasks": {}, "self_seeds": {}, "ephemeral_secrets": {},
            "failed_dealer": b"", "complaints": {}}


def total_weight(r):
    return sum(u["weight"] for u in r["uploads"].values())


# ---- section 21.4: the binding, the commitments, Shamir over GF(2^8) ---------

def binding(chain_id, run_id, index):
    return (struct.pack("<I", len(chain_id)) + chain_id + struct.pack("<I", len(run_id)) + run_id
            + struct.pack("<Q", index))


def share_commitment(bound, kind, dealer, recipient, share):
    return hashlib.sha256(b"baton/secagg/share/v1" + bound + bytes([kind])
                          + struct.pack("<II", dealer, recipient) + share).digest()


def seed_commitment(bound, dealer, seed):
    return hashlib.sha256(b"baton/secagg/seed/v1" + bound + struct.pack("<I", dealer) + seed).digest()


def gf_mul(a, b):
    p = 0
    while b:
        if b & 1:
            p ^= a
        a = ((a << 1) ^ 0x11B) if a & 0x80 else a << 1
        b >>= 1
    return p


def gf_inverse(a):
    r = 1
    for _ in range(254):  # a^254 = a^-1 in GF(2^8)
        r = gf_mul(r, a)
    return r


def shamir_combine(points):
    """The secret (the polynomials at 0) from (rank, 32-byte share) points, x = rank + 1."""
    secret = bytearray(32)
    for i, (ri, yi) in enumerate(points):
        xi, num, den = ri + 1, 1, 1
        for j, (rj, _) in enumerate(points):
            if j != i:
                num, den = gf_mul(num, rj + 1), gf_mul(den, (rj + 1) ^ xi)
        basis = gf_mul(num, gf_inverse(den))
        for k in range(32):
            secret[k] ^= gf_mul(yi[k], basis)
    return bytes(secret)


# ---- section 21.2: the transactions ------------------------------------------

class RoundSteps:
    """The round transitions, on an audit_training.Training (its runs, turns and refusals)."""

    def __init__(self, training, refused):
        self.tr, self.Refused = training, refused

    def current_round(self, one, sender):
        """The run checks shared by the three round transactions."""
        run, t = self.tr.find_active(one(1, b""))
        if run["plan"]["mode"] != 1:
            raise self.Refused(NOT_FEDERATED)
        return run, t

    def apply(self, chain_id, sender, ttype, f, height):
        def one(num, default):
            return f.get(num, [default])[-1]
        run, t = self.current_round(one, sender)
        plan, r, n = run["plan"], t["round"], len(run["plan"]["partners"])
        if ttype == TX_ROUND_SHARE:
            if sender not in plan["partners"]:
                raise self.Refused(7)  # out_of_turn
            if one(2, 0) != t["index"]:
                raise self.Refused(WRONG_ROUND)
            if t["phase"] != ROUND_SHARING:
                raise self.Refused(8)  # wrong_phase
            if sender in r["shares"]:
                raise self.Refused(ALREADY_SHARED)
            boxes, selfc, keyc = f.get(5, []), f.get(6, []), f.get(7, [])
            if (len(one(3, b"")) != 32 or len(one(4, b"")) != 32 or len(boxes) != n
                    or any(len(b) != SHARE_BOX_BYTES for b in boxes) or len(selfc) != n or len(keyc) != n
                    or any(len(c) != 32 for c in selfc + keyc)):
                raise self.Refused(15)  # malformed_request
            r["shares"][sender] = {"ephemeral_public": one(3, b""), "self_seed_commitment": one(4, b""),
                                   "boxes": list(boxes), "self": list(selfc), "key": list(keyc),
                                   "height": height}
            if len(r["shares"]) == n:
                self.begin_uploading(run, t, height)
        elif ttype == TX_ROUND_UPLOAD:
            if one(2, 0) != t["index"]:
                raise self.Refused(WRONG_ROUND)
            if t["phase"] != ROUND_UPLOADING:
                raise self.Refused(8)
            if sender not in r["shares"]:
                raise self.Refused(NOT_A_SHARER)
            if sender in r["uploads"]:
                raise self.Refused(ALREADY_UPLOADED)
            head, key, digest, weight = one(3, b""), one(4, b""), one(5, b""), one(6, 0)
            if (len(head) not in (0, 32) or not 1 <= len(key) <= MAX_ROUND_OBJECT_KEY_BYTES
                    or len(digest) != 32 or not 1 <= weight <= MAX_ROUND_WEIGHT):
                raise self.Refused(15)
            if (head or None) != t["head_before"]:
                raise self.Refused(9)  # wrong_head
            r["uploads"][sender] = {"head": head or None, "object_key": key, "masked_sha256": digest,
                                    "weight": weight, "height": height}
            if len(r["uploads"]) == len(r["shares"]):
                self.begin_unmasking(run, t, height)
        else:
            if one(2, 0) != t["index"]:
                raise self.Refused(WRONG_ROUND)
            if t["phase"] != ROUND_UNMASKING:
                raise self.Refused(8)
            if sender not in r["shares"]:
                raise self.Refused(NOT_A_SHARER)
            if sender in r["unmasks"]:
                raise self.Refused(ALREADY_UNMASKED)
            shares = f.get(3, [])
            if len(shares) != n or any(len(x) not in (0, 32) for x in shares):
                raise self.Refused(15)
            bound = binding(chain_id, plan["run_id"], t["index"])
            me = plan["partners"].index(sender)
            for d, share in enumerate(shares):
                dealer = r["shares"].get(plan["partners"][d])
                if dealer is None:
                    if share:
                        raise self.Refused(WRONG_SHARE)
                    continue
                if not share:
                    raise self.Refused(WRONG_SHARE)
                uploaded = plan["partners"][d] in r["uploads"]
                kind = SELF_SEED if uploaded else EPHEMERAL_KEY
                committed = dealer["self" if uploaded else "key"][me]
                if share_commitment(bound, kind, d, me, share) != committed:
                    raise self.Refused(WRONG_SHARE)
            r["unmasks"][sender] = {"shares": list(shares), "height": height}
            if len(r["unmasks"]) >= plan["secagg_threshold"]:
                self.reconstruct(chain_id, run, t, height)

    def reconstruct(self, chain_id, run, t, height):
        plan, r = run["plan"], t["round"]
        bound = binding(chain_id, plan["run_id"], t["index"])
        revealers = sorted((plan["partners"].index(name), u) for name, u in r["unmasks"].items())
        revealers = revealers[:plan["secagg_threshold"]]
        for d, name in enumerate(plan["partners"]):
            dealer = r["shares"].get(name)
            if dealer is None:
                continue
            secret = shamir_combine([(rank, u["shares"][d]) for rank, u in revealers])
            if name in r["uploads"]:
                if seed_commitment(bound, d, secret) != dealer["self_seed_commitment"]:
                    return self.fail(run, t, name, height)
                r["self_seeds"][name] = secret
            else:
                if nacl.bindings.crypto_scalarmult_base(secret) != dealer["ephemeral_public"]:
                    return self.fail(run, t, name, height)
                r["ephemeral_secrets"][name] = secret
        t["phase"] = ROUND_AGGREGATING
        t["deadline_height"] = deadline_after(height, plan["save_deadline_blocks"])
        return None

    def fail(self, run, t, dealer, height):
        t["round"]["failed_dealer"] = dealer
        self.tr.finish_turn(run, ROUND_FAILED, height)

    def begin_uploading(self, run, t, height):
        t["phase"] = ROUND_UPLOADING
        t["deadline_height"] = deadline_after(height, run["plan"]["save_deadline_blocks"])

    def begin_unmasking(self, run, t, height):
        t["phase"] = ROUND_UNMASKING
        t["deadline_height"] = deadline_after(height, run["plan"]["vote_deadline_blocks"])

    def moves_on_at_deadline(self, run, t, height):
        """Sharing or uploading with at least `need` partners moves on at its deadline."""
        r = t["round"]
        if t["phase"] == ROUND_SHARING and len(r["shares"]) >= need(run["plan"]):
            self.begin_uploading(run, t, height)
            return True
        if t["phase"] == ROUND_UPLOADING and len(r["uploads"]) >= need(run["plan"]):
            self.begin_unmasking(run, t, height)
            return True
        return False


# ---- section 21.3: the bytes -------------------------------------------------

def round_encoding(r, u8, u32, u64, s, opt):
    out = u32(len(r["shares"]))
    for name in sorted(r["shares"]):
        x = r["shares"][name]
        out += s(name) + x["ephemeral_public"] + x["self_seed_commitment"]
        out += u32(len(x["boxes"])) + b"".join(s(b) for b in x["boxes"])
        out += u32(len(x["self"])) + b"".join(x["self"]) + u32(len(x["key"])) + b"".join(x["key"])
        out += u64(x["height"])
    out += u32(len(r["uploads"]))
    for name in sorted(r["uploads"]):
        x = r["uploads"][name]
        out += s(name) + opt(x["head"]) + s(x["object_key"]) + x["masked_sha256"] + u64(x["weight"])
        out += u64(x["height"])
    out += u32(len(r["unmasks"]))
    for name in sorted(r["unmasks"]):
        x = r["unmasks"][name]
        out += s(name) + u32(len(x["shares"])) + b"".join(s(b) for b in x["shares"]) + u64(x["height"])
    for secrets in (r["self_seeds"], r["ephemeral_secrets"]):
        out += u32(len(secrets)) + b"".join(s(name) + secrets[name] for name in sorted(secrets))
    out += s(r["failed_dealer"]) + u32(len(r["complaints"]))
    for name in sorted(r["complaints"]):
        reason, detail = r["complaints"][name]
        out += s(name) + u8(reason) + s(detail)
    return out
