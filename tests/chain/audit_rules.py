"""The pure rules of docs/PROTOCOL.md sections 18 and 19 that audit_training.py replays: the
numbers the ledger stores (transaction types, refusal reasons, phases, outcomes, statuses), the
deadlines, deposits, escrow payouts, vote policies and gains, and the byte encoding of the training
state (section 18.4). Functions of their arguments only; the state and its transitions are
audit_training.Training's.
"""
import struct

import audit_control

# Transaction types (chain/proto/ledger.proto).
(TX_START_RUN, TX_LOAD_REQUEST, TX_LOAD_APPROVAL, TX_SAVE_REQUEST, TX_MODEL_VOTE,
 TX_TURN_ABANDON, TX_TRANSFER, TX_FUND_RUN, TX_RELEASE_ESCROW, TX_KEY_GRANT) = range(10, 20)
PROTOCOL_TYPES = range(10, 26)  # 20..22: rounds (audit_rounds.py); 23..24: run control
#   (audit_control.py); 25: DataSummary (audit_schema.py)

# ProtocolRejected (section 18.3), numbers as stored.
(NOT_ADMIN, RUN_ACTIVE, DUPLICATE_RUN_ID, INVALID_PLAN, WRONG_RUN, RUN_NOT_ACTIVE, OUT_OF_TURN,
 WRONG_PHASE, WRONG_HEAD, NO_OPEN_REQUEST, VOTE_AFTER_DEADLINE, DUPLICATE_VOTE, NOT_A_VOTER,
 OWN_REQUEST, MALFORMED_REQUEST, VOTE_CONTRADICTS_POLICY, DUPLICATE_MODEL) = range(1, 18)
# Section 19.3.
(INSUFFICIENT_BALANCE, UNKNOWN_RECIPIENT, ZERO_AMOUNT, NOT_SPONSOR, RUN_FINISHED, RUN_NOT_FINISHED,
 ALREADY_RELEASED, NOT_RELEASED, KEY_COMMITMENT_MISMATCH, NOT_KEY_HOLDER, GRANT_TO_NON_SPONSOR,
 GAINS_NOT_SETTLED) = range(18, 30)
CANNOT_AFFORD_STAKE, BELOW_MIN_BALANCE = 30, 31  # section 19.9
PRIVACY_BUDGET_EXCEEDED, PRIVACY_SPEND_MISMATCH = 40, 41  # section 20.2

# Turn phases and outcomes (section 18.4).
AWAITING_LOAD_REQUEST, LOAD_VOTING, TRAINING, SAVE_VOTING, DONE = range(1, 6)
PENDING, APPROVED, REJECTED, EXPIRED, ABANDONED, SUSPENDED, CANNOT_PAY, BUDGET_SPENT = range(0, 8)
ROUND_FAILED = 8  # section 21.2
OUTCOME_NAMES = ["pending", "approved", "rejected", "expired", "abandoned", "suspended", "cannot_pay",
                 "budget_spent", "round_failed", "removed"]  # 9: section 25.3
ACTIVE, FINISHED, AWAITING_FUNDING, UNFUNDED = 1, 2, 3, 4
STATUS_NAMES = {ACTIVE: "active", FINISHED: "finished", AWAITING_FUNDING: "awaiting_funding",
                UNFUNDED: "unfunded", 5: "preparing", 6: "cancelled", 7: "not_ready"}
CANCELLED, NOT_READY = audit_control.CANCELLED, audit_control.NOT_READY
# Escrow states (section 19.7).
OPEN, RELEASED, PAID_AT_DEADLINE, REFUNDED = 1, 2, 3, 4
ESCROW_NAMES = {OPEN: "open", RELEASED: "released", PAID_AT_DEADLINE: "paid_at_deadline",
                REFUNDED: "refunded"}

MAX_REFUSALS_KEPT = 256
MAX_LOAD_FAILURE = 6
MAX_ABANDON_DETAIL_BYTES = 256
WRAPPED_KEY_BYTES = 80


U64_MAX = 2 ** 64 - 1


def deadline_after(height, blocks):
    """height + blocks, saturating at 2^64 - 1 ("never")."""
    return min(height + blocks, U64_MAX)


ECONOMY_TYPES = (TX_TRANSFER, TX_FUND_RUN, TX_RELEASE_ESCROW, TX_KEY_GRANT)


def named_amounts(amounts):
    """name=N,name=N in ascending name order, or none."""
    return ",".join("%s=%d" % (n.decode(errors="replace"), amounts[n]) for n in sorted(amounts)) or "none"


MAX_PLAN_CREDITS = 10 ** 15


def has_stakes(plan):
    return plan["submission_cost"] > 0 or plan["deposit"] > 0


def required_deposit(run, partner):
    """min(deposit x factor^k, 10^15), k the partner's rejected candidates since its last approval."""
    p = run["plan"]
    if p["deposit"] == 0:
        return 0
    k = 0
    for t in reversed(run["turns"]):
        if t["partner"] != partner:
            continue
        if t["outcome"] == APPROVED:
            break
        if t["outcome"] == REJECTED and t["save"] is not None:
            k += 1
    d = min(p["deposit"], MAX_PLAN_CREDITS)
    for _ in range(k):
        if p["deposit_factor"] <= 1 or d >= MAX_PLAN_CREDITS:
            break
        d = min(d * p["deposit_factor"], MAX_PLAN_CREDITS)
    return d


def partner_cannot_pay(run, partner, balance):
    """Section 19.9: below min_balance, or below submission_cost + the required deposit; else None."""
    p = run["plan"]
    if balance < p["min_balance"]:
        return BELOW_MIN_BALANCE
    if balance < p["submission_cost"] + required_deposit(run, partner):
        return CANNOT_AFFORD_STAKE
    return None


def split_credits(amount, names):
    """floor(amount / n) each, one more to each of the first amount mod n names; non-zero only."""
    n = len(names)
    shares = {name: amount // n + (1 if i < amount % n else 0) for i, name in enumerate(names)}
    return {name: c for name, c in shares.items() if c}


def stake_locked(st):
    return max(0, st["deposit"] + st["cost"] - st["refunded"] - st["escrowed"] - sum(st["forfeits"].values()))


def stake_encoding(st):
    out = u64(st["deposit"]) + u64(st["cost"]) + u8(st["settled"]) + u64(st["refunded"])
    out += u64(st["escrowed"]) + u32(len(st["forfeits"]))
    for name in sorted(st["forfeits"]):
        out += s(name) + u64(st["forfeits"][name])
    return out


def gains_settled(run):
    """Section 18.2: the run finished and every approved model's gain is settled."""
    return run["status"] in (FINISHED, CANCELLED) and all(m["gain_settled"] for m in run["models"])


def payout_tokens(run):
    """Section 19.7: each plan partner's tokens, max(0, contributivity_ppm)."""
    return {p: max(0, run["contributivity"].get(p, 0)) for p in run["plan"]["partners"]}


def escrow_payouts(escrow, tokens, sponsor):
    """Section 19.7: floor(E * tokens_i / T) per partner (none for a zero share), the remainder
    (everything when T = 0) to the sponsor."""
    total, out = sum(tokens.values()), {}
    if total > 0:
        for name, t in tokens.items():
            share = escrow * t // total
            if share:
                out[name] = out.get(name, 0) + share
    paid = sum(out.values())
    if escrow > paid:
        out[sponsor] = out.get(sponsor, 0) + escrow - paid
    return out


STRICT, TOLERANCE, DELONG = 1, 2, 3


def vote_follows_policy(plan, approve, aucs, validation_size):
    """Section 18.3: a ModelVote's approve is what the plan's policy makes of its own numbers.

    aucs is (candidate, head, p_worse) in ppm; a vote on 0 validation rows did
    not measure the candidate and must reject, claiming no candidate AUC and no p.
    """
    candidate, head, p_worse = aucs
    if validation_size == 0:
        return not approve and candidate == 0 and p_worse == 0
    policy, param = plan["vote_policy"], plan["vote_param_ppm"]
    if policy == STRICT:
        approves = candidate >= head
    elif policy == TOLERANCE:
        approves = candidate >= head - param
    else:
        approves = p_worse >= param
    return approve == approves


MAX_VOTE_GAIN_PPM, MAX_VOTE_LOSS_GAIN_MICRO, MAX_LOSS_MICRO = 500000, 1000000, 100000000
DELTA_AUC, DELTA_LOSS = 0, 1


def partner_suspended(run, partner):
    """Rejected plan["suspend_after"] times since its last approved turn (0: never suspended)."""
    n = run["plan"]["suspend_after"]
    if n == 0:
        return False
    rejected = 0
    for t in reversed(run["turns"]):
        if t["partner"] != partner:
            continue
        if t["outcome"] == APPROVED:
            return False
        if t["outcome"] == REJECTED:
            rejected += 1
            if rejected >= n:
                return True
    return False


def turn_partner(plan, index):
    """Section 18.2: partners[(index + offset) mod n]; offset (seed + cycle) mod n when rotating."""
    partners = plan["partners"]
    n = len(partners)
    offset = (plan["seed"] + index // n) % n if plan["turn_order"] == 1 else 0
    return partners[(index + offset) % n]


def settled_gain_ppm(votes, mode=DELTA_AUC):
    """Section 18.2, "Gains": the measured votes' gains (AUC gain, or loss decrease), each clamped,
    sorted; the point of the median interval (the middle value, or the two middle values) nearest
    to zero."""
    def gain(v):
        if mode == DELTA_LOSS:
            g, bound = v["loss_head_micro"] - v["loss_candidate_micro"], MAX_VOTE_LOSS_GAIN_MICRO
        else:
            g, bound = v["auc_candidate_ppm"] - v["auc_head_ppm"], MAX_VOTE_GAIN_PPM
        return max(-bound, min(bound, g))
    gains = sorted(gain(v) for v in votes.values() if v["validation_size"] > 0)
    if not gains:
        return 0
    n = len(gains)
    lo, hi = gains[(n - 1) // 2], gains[n // 2]
    return lo if lo > 0 else hi if hi < 0 else 0


def vote_deadline(run, t):
    """The last block that takes a ModelVote on turn t's SaveRequest."""
    return deadline_after(t["save_request_height"], run["plan"]["vote_deadline_blocks"])


def u8(v):
    return struct.pack(">B", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def i64(v):
    return struct.pack(">q", v)


def s(b):
    return u32(len(b)) + b


def opt(h):
    return u8(0) if h is None else u8(1) + h


def turn_encoding(t):
    out = u64(t["index"]) + u64(t["cycle"]) + s(t["partner"]) + u64(t["start_height"])
    out += u8(t["phase"]) + u64(t["deadline_height"]) + u8(t["outcome"]) + u64(t["end_height"])
    out += opt(t["load_request_id"]) + u64(t["load_request_height"]) + u32(len(t["load_approvals"]))
    for name in sorted(t["load_approvals"]):
        a = t["load_approvals"][name]
        out += s(name) + u8(a["approve"]) + s(a["reason"]) + u64(a["height"])
    out += opt(t["load_token_id"]) + u64(t["load_token_height"])
    out += opt(t["save_request_id"]) + u64(t["save_request_height"])
    save = t["save"]
    out += u8(0 if save is None else 2 if save["repro"] is not None else 1)
    if save is not None:
        out += opt(save["parent"]) + s(save["object_key"]) + save["ciphertext_sha256"]
        out += save["model_sha256"] + save["key_commitment"] + u32(len(save["wrapped_keys"]))
        for name in sorted(save["wrapped_keys"]):
            out += s(name) + s(save["wrapped_keys"][name])
        out += u64(save["train_samples"]) + s(save["metrics_json"])
        if save["repro"] is not None:  # section 18.4: the record, in field order
            seed, threads, version, commit, libtorch, device, rows, schema = save["repro"]
            out += u64(seed) + u32(threads) + s(version) + s(commit) + s(libtorch) + s(device)
            out += opt(rows) + opt(schema)
    out += u32(len(t["model_votes"]))
    for name in sorted(t["model_votes"]):
        v = t["model_votes"][name]
        out += s(name) + u8(v["approve"]) + u32(v["auc_candidate_ppm"]) + u32(v["auc_head_ppm"])
        out += u64(v["validation_size"]) + u32(v["p_worse_ppm"]) + s(v["reason"]) + u64(v["height"])
        out += u64(v["loss_candidate_micro"]) + u64(v["loss_head_micro"])
    out += opt(t["save_token_id"]) + u64(t["save_token_height"]) + opt(t["head_before"])
    if t["outcome"] == ABANDONED:
        out += u8(t["abandon"][0]) + s(t["abandon"][1])
    return out


def refusals_encoding(log):
    out = u64(log["total"]) + u32(len(log["recent"]))
    for height, tx_hash, sender, ttype, reason, run_id, turn in log["recent"]:
        out += u64(height) + tx_hash + s(sender) + u32(ttype) + u8(reason) + s(run_id)
        out += u8(0) if turn is None else u8(1) + u64(turn)
    return out
