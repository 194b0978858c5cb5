"""Members and keys by vote (docs/PROTOCOL.md section 25), replayed by an auditor.

Used by audit_export.py: the MemberChange (TxType 26) and KeyRotation (27)
transactions and their refusals 71..83 (section 25.4), the end-of-block step
that applies the changes whose approvers hold the quorum (section 25.3), and
the membership part of the state bytes (section 25.5, baton/state/v4). Only
the standard library and PyNaCl (for the rotation's new-key signature).
"""
import hashlib
import struct

import nacl.exceptions
import nacl.signing

TX_MEMBER_CHANGE, TX_KEY_ROTATION = 26, 27
TYPES = (TX_MEMBER_CHANGE, TX_KEY_ROTATION)
ADD, REMOVE, UPDATE, REPLACE_KEYS = 1, 2, 3, 4

# ProtocolRejected (section 25.4), numbers as stored.
(NOT_VALIDATOR, UNKNOWN_MEMBER, NAME_TAKEN, KEY_TAKEN, LAST_VALIDATOR, BAD_ROTATION_SIGNATURE,
 CHANGE_EXPIRED, TOO_MANY_PENDING, BAD_MEMBER_FIELDS, TOO_MANY_MEMBERS, ALREADY_APPROVED,
 TOO_MANY_ROTATIONS, ALREADY_ROTATING, TOO_MANY_GRANTS) = range(71, 85)
# Section 19.8's reasons, reused by a grant to a member (section 25.7).
MALFORMED_REQUEST, GRANT_TO_NON_SPONSOR, NOT_KEY_HOLDER, KEY_COMMITMENT_MISMATCH = 15, 28, 27, 26
REMOVED = 9  # the turn outcome of a removed partner (section 25.3 step 5)

MAX_MEMBERS, MAX_PENDING, MAX_PENDING_PER_PROPOSER = 256, 64, 4
MAX_LIFETIME, MAX_P2P_BYTES, MAX_ROLES, MAX_ROTATIONS = 100000, 255, 4, 16
MAX_MEMBER_GRANTS, WRAPPED_KEY_BYTES, TX_KEY_GRANT = 4096, 80, 19
MAX_TOTAL_POWER = (2 ** 64 - 1) // 8
MARKER = b"\xff\xff\xff\xff"
ROLES = (b"admin", b"validator", b"partner", b"sponsor")


class Refused(Exception):
    """args[0]: the reason number."""


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def s(b):
    return u32(len(b)) + b


def one(f, num, default):
    return f.get(num, [default])[-1]


def valid_name(n):
    ok = all(0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A or 0x30 <= c <= 0x39 or c in b"._-" for c in n)
    return 1 <= len(n) <= 64 and n[:1] != b"." and ok


def valid_p2p(a):
    """host:port (section 3), at most 255 bytes of 0x21..0x7e (section 25.1)."""
    if len(a) > MAX_P2P_BYTES or any(not 0x21 <= c <= 0x7E for c in a):
        return False
    colon = a.rfind(b":")
    if colon <= 0 or colon + 1 == len(a):
        return False
    port = a[colon + 1:]
    return all(0x30 <= c <= 0x39 for c in port) and int(port) <= 65535


def valid_fields(p2p, power, roles):
    """The genesis rules for roles and power (section 25.1)."""
    if not valid_p2p(p2p) or power > MAX_TOTAL_POWER or len(roles) > MAX_ROLES:
        return False
    if any(r not in ROLES for r in roles) or len(set(roles)) != len(roles):
        return False
    if (power > 0) != (b"validator" in roles):
        return False
    return not (b"sponsor" in roles and (b"validator" in roles or b"partner" in roles))


def change_of(f):
    return {"kind": one(f, 1, 0), "name": one(f, 2, b""), "ed25519": one(f, 3, b""),
            "x25519": one(f, 4, b""), "p2p": one(f, 5, b""), "power": one(f, 6, 0),
            "roles": list(f.get(7, [])), "expires": one(f, 8, 0)}


def well_formed(c):
    if not valid_name(c["name"]):
        return False
    keys = len(c["ed25519"]) == 32 and len(c["x25519"]) == 32
    no_keys = not c["ed25519"] and not c["x25519"]
    no_fields = not c["p2p"] and c["power"] == 0 and not c["roles"]
    if c["kind"] == ADD:
        return keys and valid_fields(c["p2p"], c["power"], c["roles"])
    if c["kind"] == REMOVE:
        return no_keys and no_fields
    if c["kind"] == UPDATE:
        return no_keys and valid_fields(c["p2p"], c["power"], c["roles"])
    if c["kind"] == REPLACE_KEYS:
        return keys and no_fields
    return False


def member_encoding(m):
    return (s(m["name"]) + m["ed25519"] + m["x25519"] + s(m["p2p"]) + u64(m["power"]) +
            u32(len(m["roles"])) + b"".join(s(r) for r in m["roles"]))


def members_encoding(ms):
    return u32(len(ms)) + b"".join(member_encoding(m) for m in ms)


class Membership:
    """The membership part of the state and its rules (section 25)."""

    def __init__(self, genesis, network):
        self.genesis = [{"name": m["name"].encode(), "ed25519": bytes.fromhex(m["ed25519_public"]),
                         "x25519": bytes.fromhex(m["x25519_public"]), "p2p": m["p2p_address"].encode(),
                         "power": m["power"], "roles": [r.encode() for r in m["roles"]]}
                        for m in genesis["members"]]
        self.network = network  # domain_separated(domain, chain_id, genesis_hash || body) prefix maker
        self.current = None  # None: the genesis members
        self.previous = None
        self.last_change_height = 0
        self.removed = []
        self.retired_ed25519 = {}  # key -> name
        self.retired_x25519 = set()
        self.pending = {}  # id -> {"payload", "change", "proposer", "approvers"}
        self.staged = []  # (name, ed25519, x25519), within a block
        self.grants = {}  # (run id, model id, recipient) -> {granter: sealed key}

    def members(self):
        return self.current if self.current is not None else self.genesis

    def empty(self):
        return (self.current is None and self.previous is None and self.last_change_height == 0 and
                not self.removed and not self.retired_ed25519 and not self.retired_x25519 and
                not self.pending and not self.staged and not self.grants)

    def by_key(self, key):
        for m in self.members():
            if m["ed25519"] == key:
                return m
        return None

    def keys_taken(self, members, ed, x):
        if any(m["ed25519"] == ed or m["x25519"] == x for m in members):
            return True
        if ed in self.retired_ed25519 or x in self.retired_x25519:
            return True
        return any(e == ed or xx == x for _, e, xx in self.staged)

    def check_against(self, members, c):
        target = next((m for m in members if m["name"] == c["name"]), None)
        total = sum(m["power"] for m in members)
        if c["kind"] == ADD:
            if target is not None or any(r["name"] == c["name"] for r in self.removed):
                return NAME_TAKEN
            if len(members) >= MAX_MEMBERS:
                return TOO_MANY_MEMBERS
            if self.keys_taken(members, c["ed25519"], c["x25519"]):
                return KEY_TAKEN
            if c["power"] > MAX_TOTAL_POWER - total:
                return BAD_MEMBER_FIELDS
            return None
        if target is None:
            return UNKNOWN_MEMBER
        if c["kind"] == REMOVE:
            return LAST_VALIDATOR if len(members) == 1 or total - target["power"] == 0 else None
        if c["kind"] == UPDATE:
            if total - target["power"] + c["power"] == 0:
                return LAST_VALIDATOR
            return BAD_MEMBER_FIELDS if c["power"] > MAX_TOTAL_POWER - (total - target["power"]) else None
        if self.keys_taken(members, c["ed25519"], c["x25519"]):
            return KEY_TAKEN
        return None

    def apply(self, sender_key, ttype, payload, f, height):
        """One type-26/27 transaction of block `height`: its effect, or raises Refused."""
        sender = self.by_key(sender_key)
        if sender is None:
            raise Refused(UNKNOWN_MEMBER)
        if ttype == TX_MEMBER_CHANGE:
            if sender["power"] == 0:
                raise Refused(NOT_VALIDATOR)
            c = change_of(f)
            cid = hashlib.sha256(payload).digest()
            if cid in self.pending:
                if c["expires"] < height:
                    raise Refused(CHANGE_EXPIRED)
                if sender["name"] in self.pending[cid]["approvers"]:
                    raise Refused(ALREADY_APPROVED)
                self.pending[cid]["approvers"].add(sender["name"])
                return
            if not well_formed(c):
                raise Refused(BAD_MEMBER_FIELDS)
            if c["expires"] <= height or c["expires"] - height > MAX_LIFETIME:
                raise Refused(CHANGE_EXPIRED)
            if len(self.pending) >= MAX_PENDING:
                raise Refused(TOO_MANY_PENDING)
            if sum(1 for p in self.pending.values() if p["proposer"] == sender["name"]) >= MAX_PENDING_PER_PROPOSER:
                raise Refused(TOO_MANY_PENDING)
            reason = self.check_against(self.members(), c)
            if reason is not None:
                raise Refused(reason)
            self.pending[cid] = {"payload": payload, "change": c, "proposer": sender["name"],
                                 "approvers": {sender["name"]}}
            return
        new_ed, new_x, sig = one(f, 1, b""), one(f, 2, b""), one(f, 3, b"")
        if len(new_ed) != 32 or len(new_x) != 32 or len(sig) != 64:
            raise Refused(BAD_MEMBER_FIELDS)
        if any(name == sender["name"] for name, _, _ in self.staged):
            raise Refused(ALREADY_ROTATING)
        if sum(1 for n in self.retired_ed25519.values() if n == sender["name"]) >= MAX_ROTATIONS:
            raise Refused(TOO_MANY_ROTATIONS)
        if self.keys_taken(self.members(), new_ed, new_x):
            raise Refused(KEY_TAKEN)
        message = self.network("baton/key-rotation/v1", sender_key + new_ed + new_x)
        try:
            nacl.signing.VerifyKey(new_ed).verify(message, sig)
        except (nacl.exceptions.BadSignatureError, ValueError):
            raise Refused(BAD_ROTATION_SIGNATURE)
        self.staged.append((sender["name"], new_ed, new_x))

    def grant_target(self, training, ttype, f):
        """Section 25.7: (run, save) when this KeyGrant goes to a current member without the model's key."""
        if ttype != TX_KEY_GRANT:
            return None
        run_id, model, recipient = one(f, 1, b""), one(f, 2, b""), one(f, 3, b"")
        run = training.runs.get(run_id)
        if run is None or len(model) != 32 or (run["plan"]["sponsor"] and recipient == run["plan"]["sponsor"]):
            return None
        if not any(m["name"] == recipient for m in self.members()):
            return None
        if not any(m["id"] == model for m in run["models"]):
            return None
        save = next((t["save"] for t in run["turns"] if t["save_request_id"] == model and t["save"]), None)
        if save is None or recipient in save["wrapped_keys"]:
            return None
        return run, save

    def apply_grant(self, target, sender, f):
        """Raises Refused (recorded in the run's log by the caller) or records the grant."""
        run, save = target
        run_id, model, recipient, sealed, commitment = (one(f, n, b"") for n in (1, 2, 3, 4, 5))
        if len(commitment) != 32 or len(sealed) != WRAPPED_KEY_BYTES:
            raise Refused(MALFORMED_REQUEST)
        if b"sponsor" in next(m for m in self.members() if m["name"] == recipient)["roles"]:
            raise Refused(GRANT_TO_NON_SPONSOR)
        if sender not in save["wrapped_keys"]:
            raise Refused(NOT_KEY_HOLDER)
        if commitment != save["key_commitment"]:
            raise Refused(KEY_COMMITMENT_MISMATCH)
        key = (run_id, model, recipient)
        if len(self.grants) >= MAX_MEMBER_GRANTS and key not in self.grants:
            raise Refused(TOO_MANY_GRANTS)
        self.grants.setdefault(key, {})[sender] = sealed

    def retire(self, m):
        self.retired_ed25519[m["ed25519"]] = m["name"]
        self.retired_x25519.add(m["x25519"])

    def end_block(self, height):
        """Section 25.3 steps 1-4; True when the set changed."""
        if not self.pending and not self.staged:
            return False
        members = [dict(m, roles=list(m["roles"])) for m in self.members()]
        changed = False
        for name, ed, x in self.staged:
            m = next(m for m in members if m["name"] == name)
            self.retire(m)
            m["ed25519"], m["x25519"] = ed, x
            changed = True
        self.staged = []
        for cid in sorted(self.pending):
            p = self.pending[cid]
            total = sum(m["power"] for m in members)
            approved = sum(m["power"] for m in members if m["name"] in p["approvers"])
            if 3 * approved <= 2 * total:
                continue
            c = p["change"]
            if self.check_against(members, c) is None:
                changed = True
                if c["kind"] == ADD:
                    members.append({"name": c["name"], "ed25519": c["ed25519"], "x25519": c["x25519"],
                                    "p2p": c["p2p"], "power": c["power"], "roles": list(c["roles"])})
                else:
                    i = next(i for i, m in enumerate(members) if m["name"] == c["name"])
                    if c["kind"] == REMOVE:
                        self.retire(members[i])
                        self.removed.append(members.pop(i))
                    elif c["kind"] == UPDATE:
                        members[i].update(p2p=c["p2p"], power=c["power"], roles=list(c["roles"]))
                    else:
                        self.retire(members[i])
                        members[i].update(ed25519=c["ed25519"], x25519=c["x25519"])
            del self.pending[cid]
        for cid in [cid for cid, p in self.pending.items() if p["change"]["expires"] <= height]:
            del self.pending[cid]
        if changed:
            self.previous, self.current, self.last_change_height = self.current, members, height
        return changed

    def encoding(self):
        """Section 25.5, after the marker."""
        out = u64(self.last_change_height)
        for ms in (self.current, self.previous):
            out += b"\x00" if ms is None else b"\x01" + members_encoding(ms)
        out += members_encoding(self.removed)
        out += u32(len(self.retired_ed25519))
        for k in sorted(self.retired_ed25519):
            out += k + s(self.retired_ed25519[k])
        out += u32(len(self.retired_x25519)) + b"".join(sorted(self.retired_x25519))
        out += u32(len(self.pending))
        for cid in sorted(self.pending):
            p = self.pending[cid]
            out += s(p["payload"]) + s(p["proposer"]) + u32(len(p["approvers"]))
            out += b"".join(s(n) for n in sorted(p["approvers"]))
        out += u32(len(self.grants))
        for key in sorted(self.grants):
            run_id, model, recipient = key
            out += s(run_id) + model + s(recipient) + u32(len(self.grants[key]))
            for granter in sorted(self.grants[key]):
                out += s(granter) + s(self.grants[key][granter])
        return out
