"""The privacy budget of docs/PROTOCOL.md section 20.2, as an auditor replays it.

Used by audit_plan.py (the plan's privacy fields, their JSON form and bounds)
and audit_training.py (what every SaveRequest must carry, the refusals 40 and
41, the budget_spent turns). The epsilon comes from privacy_accountant.py,
the auditor's own reimplementation of section 20.1, bit for bit with the
ledger's.
"""
import math

from privacy_accountant import epsilon_spent

NONE, DP_SGD, LOCAL = 0, 1, 2
MECHANISMS = {"none": NONE, "dp_sgd": DP_SGD, "local": LOCAL}
PRIVACY_BUDGET_EXCEEDED, PRIVACY_SPEND_MISMATCH = 40, 41

# Section 20.1.1 and 20.2 bounds.
MIN_SIGMA_MICRO, MAX_SIGMA_MICRO = 100_000, 10 ** 9
MAX_Q_NANO, MAX_DELTA_PICO, MAX_STEPS = 10 ** 9, 10 ** 11, 10 ** 9
MAX_EPSILON_MICRO, MAX_CLIP_MICRO = 10 ** 15, 10 ** 9
MAX_LOCAL_SCALE_MICRO, MAX_VALUES_PER_ROW = 10 ** 12, 1 << 24

# (plan field, proto number, JSON name, scale, rounding) in proto order.
FIELDS = (("dp_mechanism", 70, None, None, None), ("dp_delta_pico", 71, "delta", 1e12, "down"),
          ("dp_budget_micro", 72, "epsilon_budget", 1e6, "down"),
          ("dp_clip_micro", 73, "clip", 1e6, "nearest"),
          ("dp_noise_multiplier_micro", 74, "noise_multiplier", 1e6, "down"),
          ("dp_sampling_rate_nano", 75, "sampling_rate", 1e9, "up"),
          ("dp_beta_micro", 76, "beta", 1e6, "down"),
          ("dp_sensitivity_micro", 77, "sensitivity", 1e6, "up"),
          ("dp_values_per_row", 78, "values_per_row", None, None))
JSON_FIELDS = {DP_SGD: {"epsilon_budget", "delta", "clip", "noise_multiplier", "sampling_rate"},
               LOCAL: {"epsilon_budget", "beta", "sensitivity", "values_per_row"}}


def scaled(v, scale, how):
    """A JSON decimal in whole units, rounded against the hospital; within 1e-12 relative of a
    whole unit it is that unit (section 20.2)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError("training plan: a privacy field must be a number")
    x = float(v) * scale
    if not (x >= 0) or x > 1.8e19:
        raise ValueError("training plan: a privacy field is out of range")
    nearest = round(x)  # half to even, as std::nearbyint
    if how == "nearest" or abs(x - nearest) <= 1e-12 * max(1.0, x):
        return int(nearest)
    return int(math.floor(x) if how == "down" else math.ceil(x))


def privacy_from_genesis(j):
    """The genesis plan's "privacy" object -> the plan's dp_* fields (all 0 without DP)."""
    out = {name: 0 for name, *_ in FIELDS}
    mechanism = MECHANISMS[j.get("mechanism", "none")]
    if set(j) - {"mechanism"} - JSON_FIELDS.get(mechanism, set()):
        raise ValueError("training plan: a privacy field of another mechanism")
    out["dp_mechanism"] = mechanism
    if mechanism == NONE:
        return out
    for name, _, key, scale, how in FIELDS:
        if key in JSON_FIELDS[mechanism] and scale is not None:
            out[name] = scaled(j[key], scale, how)
    if mechanism == LOCAL:
        out["dp_values_per_row"] = j["values_per_row"]
    return out


def steps_per_epoch(q_nano):
    return -(-10 ** 9 // q_nano)


_MEMO = {}


def spent(p, steps):
    """The accountant's epsilon (micro-units) of `steps` noisy steps under plan p; memoized (pure)."""
    key = (p["dp_noise_multiplier_micro"], p["dp_sampling_rate_nano"], steps, p["dp_delta_pico"])
    if key not in _MEMO:
        _MEMO[key] = epsilon_spent(*key)[0]
    return _MEMO[key]


def next_spend(p, epochs, before):
    """chain::next_privacy_spend: (steps_total, epsilon_turn_micro, epsilon_total_micro), or None
    when the steps would pass the accountant's bound."""
    steps, total = 0, 0
    if p["dp_mechanism"] == LOCAL:
        num = p["dp_values_per_row"] * p["dp_sensitivity_micro"] * 10 ** 6
        total = min(-(-num // p["dp_beta_micro"]), MAX_EPSILON_MICRO)
    elif p["dp_mechanism"] == DP_SGD:
        steps = before[0] + epochs * steps_per_epoch(p["dp_sampling_rate_nano"])
        if steps > MAX_STEPS:
            return None
        total = spent(p, steps) if steps else 0
    total = max(total, before[2])
    return (steps, total - before[2], total)


def privacy_is_valid(p):
    """Section 20.2's plan bounds (check_privacy), the could-never-train rule included."""
    m = p["dp_mechanism"]
    values = [p[name] for name, *_ in FIELDS]
    if m == NONE:
        return not any(values)
    if m not in (DP_SGD, LOCAL) or not 1 <= p["dp_budget_micro"] <= MAX_EPSILON_MICRO:
        return False
    if m == DP_SGD:
        if not (MIN_SIGMA_MICRO <= p["dp_noise_multiplier_micro"] <= MAX_SIGMA_MICRO
                and 1 <= p["dp_sampling_rate_nano"] <= MAX_Q_NANO
                and 1 <= p["dp_delta_pico"] <= MAX_DELTA_PICO
                and 1 <= p["dp_clip_micro"] <= MAX_CLIP_MICRO):
            return False
        if p["dp_beta_micro"] or p["dp_sensitivity_micro"] or p["dp_values_per_row"]:
            return False
        if p["cycles"] * p["epochs"] * steps_per_epoch(p["dp_sampling_rate_nano"]) > MAX_STEPS:
            return False
    else:
        if not (1 <= p["dp_beta_micro"] <= MAX_LOCAL_SCALE_MICRO
                and 1 <= p["dp_sensitivity_micro"] <= MAX_LOCAL_SCALE_MICRO
                and 1 <= p["dp_values_per_row"] <= MAX_VALUES_PER_ROW):
            return False
        if p["dp_delta_pico"] or p["dp_clip_micro"] or p["dp_noise_multiplier_micro"] \
                or p["dp_sampling_rate_nano"]:
            return False
    first = next_spend(p, 1, (0, 0, 0))
    return first is not None and first[2] <= p["dp_budget_micro"]


def enabled(plan):
    return plan["dp_mechanism"] != NONE


def spent_by(run, partner):
    return run["privacy_spent"].get(partner, (0, 0, 0))


def budget_spent(run, partner):
    """Section 20.2, "Skipped turns": not even one more epoch fits the budget."""
    p = run["plan"]
    if not enabled(p):
        return False
    if any(t["partner"] == partner and t["outcome"] == BUDGET_SPENT for t in run["turns"]):
        return True
    nxt = next_spend(p, 1, spent_by(run, partner))
    return nxt is None or nxt[2] > p["dp_budget_micro"]


BUDGET_SPENT = 7


def check_spend(run, partner, claimed):
    """Section 20.2, "The checks": None, or the refusal (41 then 40) of a SaveRequest carrying
    claimed = (steps_total, epsilon_turn_micro, epsilon_total_micro)."""
    p = run["plan"]
    if not enabled(p):
        return None if claimed == (0, 0, 0) else PRIVACY_SPEND_MISMATCH
    before = spent_by(run, partner)
    epochs = p["epochs"]
    if p["dp_mechanism"] == DP_SGD:
        per_epoch = steps_per_epoch(p["dp_sampling_rate_nano"])
        steps = claimed[0] - before[0]
        if steps <= 0 or steps % per_epoch or steps // per_epoch > p["epochs"]:
            return PRIVACY_SPEND_MISMATCH
        epochs = steps // per_epoch
    if next_spend(p, epochs, before) != claimed:
        return PRIVACY_SPEND_MISMATCH
    if claimed[2] > p["dp_budget_micro"]:
        return PRIVACY_BUDGET_EXCEEDED
    return None
