"""Run control (docs/PROTOCOL.md section 22), replayed by an auditor.

Used by audit_training.py: the readiness phase before turn 0 (RunReady,
TxType 23), an admin's CancelRun (TxType 24), the readiness deadline at the
end of a block, and the run bytes of section 22.4. Only the standard library.
"""

TX_RUN_READY, TX_CANCEL_RUN = 23, 24
CONTROL_TYPES = (TX_RUN_READY, TX_CANCEL_RUN)

# ProtocolRejected (section 22.2-22.3), numbers as stored.
NOT_ADMIN, WRONG_RUN, MALFORMED_REQUEST = 1, 5, 15
NOT_PREPARING, NOT_A_PARTNER, ALREADY_ANSWERED, RUN_ENDED = 57, 58, 59, 60
WRONG_SCHEMA_HASH = 70
# Run statuses.
ACTIVE, FINISHED, UNFUNDED, PREPARING, CANCELLED, NOT_READY = 1, 2, 4, 5, 6, 7
ENDED = (FINISHED, UNFUNDED, CANCELLED, NOT_READY)
# RunStopCause.
CAUSE_CANCELLED, PARTNER_REFUSED, SCHEMA_MISMATCH, READINESS_EXPIRED = 1, 2, 3, 4
REASON_NAMES = {1: "columns_missing", 2: "width_mismatch", 3: "model_unbuildable",
                4: "optimizer_unknown", 5: "store_unreachable", 6: "data_unusable"}
MAX_TEXT_BYTES = 256
EXPIRED, PENDING, DONE = 3, 0, 5
REFUNDED = 4


def deadline_after(height, blocks):
    return min(height + blocks, 2 ** 64 - 1)


class RunControl:
    """Section 22's transitions on audit_training.Training's state."""

    def __init__(self, training, refused):
        self.tr = training
        self.Refused = refused

    def begin_or_prepare(self, run, height):
        if run["plan"]["readiness_deadline_blocks"] == 0:
            run["status"] = ACTIVE
            self.tr.begin_from(run, 0, height)
        else:
            run["status"], run["ready_since"] = PREPARING, height

    def stop(self, run, status, cause, member, reason, height):
        t = self.tr.current_turn(run)
        if t is not None and t["outcome"] == PENDING:
            self.tr.settle_stake(run, t, EXPIRED)
            t["phase"], t["outcome"], t["end_height"] = DONE, EXPIRED, height
        run["status"], run["end_height"], run["stop"] = status, height, (cause, member, reason)
        if self.tr.active_run == run["plan"]["run_id"]:
            self.tr.active_run = None
        e = run["escrow"]
        if e is not None and e["state"] == 1 and not run["models"]:
            self.tr.settle(run, REFUNDED, height)

    @staticmethod
    def ready_count(run):
        return sum(1 for r in run["readiness"].values() if r["ready"])

    def apply(self, sender, ttype, one, height):
        if ttype == TX_CANCEL_RUN:
            if "admin" not in self.tr.c.roles.get(sender, ()):
                raise self.Refused(NOT_ADMIN)
            if len(one(2, b"")) > MAX_TEXT_BYTES:
                raise self.Refused(MALFORMED_REQUEST)
            run = self.tr.runs.get(one(1, b""))
            if run is None:
                raise self.Refused(WRONG_RUN)
            if run["status"] in ENDED:
                raise self.Refused(RUN_ENDED)
            self.stop(run, CANCELLED, CAUSE_CANCELLED, sender, one(2, b""), height)
            return
        run = self.tr.runs.get(one(1, b""))
        if run is None:
            raise self.Refused(WRONG_RUN)
        plan = run["plan"]
        if sender not in plan["partners"]:
            raise self.Refused(NOT_A_PARTNER)
        ready, schema, reason, detail = bool(one(2, 0)), one(3, b""), one(5, 0), one(6, b"")
        reason_ok = reason == 0 if ready else 1 <= reason <= len(REASON_NAMES)
        if not reason_ok or len(schema) not in (0, 32) or len(detail) > MAX_TEXT_BYTES:
            raise self.Refused(MALFORMED_REQUEST)
        if run["status"] != PREPARING:
            raise self.Refused(NOT_PREPARING)
        if sender in run["readiness"]:
            raise self.Refused(ALREADY_ANSWERED)
        if ready and plan["schema_id"]:  # section 22.2: the derived schema's hash, nothing else
            want = self.tr.schemas.sha256(plan["schema_id"])
            if not want or schema != want:
                raise self.Refused(WRONG_SCHEMA_HASH)
        rec = {"ready": ready, "schema": schema or None, "rows": one(4, 0), "reason": reason,
               "detail": detail, "height": height}
        if not ready:
            refused = len(run["readiness"]) + 1 - self.ready_count(run)
            need = plan["min_partners"] if plan["mode"] == 1 else len(plan["partners"])
            if len(plan["partners"]) - refused < need:
                run["readiness"][sender] = rec
                why = REASON_NAMES[reason].encode() + b": " + detail
                self.stop(run, NOT_READY, PARTNER_REFUSED, sender, why, height)
                return
        else:
            for name in sorted(run["readiness"]):
                other = run["readiness"][name]
                if not other["ready"] or other["schema"] == rec["schema"]:
                    continue
                def text(h):
                    return h.hex()[:16].encode() if h else b"none"
                why = (b"schema mismatch: " + sender + b" encodes with schema " + text(rec["schema"])
                       + b" but " + name + b" with " + text(other["schema"]))
                run["readiness"][sender] = rec
                self.stop(run, NOT_READY, SCHEMA_MISMATCH, sender, why, height)
                return
        run["readiness"][sender] = rec
        if len(run["readiness"]) == len(plan["partners"]):
            run["status"] = ACTIVE
            self.tr.begin_from(run, 0, height)

    def end_block(self, height):
        run = self.tr.active()
        if run is None or run["status"] != PREPARING:
            return
        plan = run["plan"]
        if deadline_after(run["ready_since"], plan["readiness_deadline_blocks"]) > height:
            return
        if plan["mode"] == 1 and self.ready_count(run) >= plan["min_partners"]:
            run["status"] = ACTIVE
            self.tr.begin_from(run, 0, height)
            return
        silent = b", ".join(p for p in plan["partners"] if p not in run["readiness"])
        why = b"the readiness deadline passed at height %d" % height
        why += b"; no answer from " + silent if silent else b" with too few partners ready"
        self.stop(run, NOT_READY, READINESS_EXPIRED, b"", why, height)

    @staticmethod
    def encoding(run, u8, u32, u64, s, opt):
        out = b""
        if run["plan"]["readiness_deadline_blocks"] > 0:
            out += u64(run["ready_since"]) + u32(len(run["readiness"]))
            for name in sorted(run["readiness"]):
                r = run["readiness"][name]
                out += s(name) + u8(r["ready"]) + opt(r["schema"]) + u64(r["rows"]) + u8(r["reason"])
                out += s(r["detail"]) + u64(r["height"])
        if run["status"] in (CANCELLED, NOT_READY):
            cause, member, reason = run["stop"]
            out += u8(cause) + s(member) + s(reason)
        return out
