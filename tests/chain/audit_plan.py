"""The training plan of docs/PROTOCOL.md section 18.1, as an auditor reads it.

Used by audit_training.py: the plan of a StartRun (its canonical
pb::TrainingPlan payload) or of the genesis "training_plan" object, its
canonical protobuf encoding (which the state hash holds, section 18.4) and
the plan bounds that decide whether a StartRun is refused as invalid_plan,
the escrow fields of section 19.6 and the deposits of section 19.9 included.
Strings are kept as bytes.
"""
import json
import math

from audit_privacy import FIELDS as PRIVACY_FIELDS, privacy_from_genesis, privacy_is_valid

PPM = 1000000


# ---- its protobuf and JSON forms -------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(b, i):
    """A varint at b[i:] -> (value, index after it)."""
    n = shift = 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint")
        n |= (b[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not b[i - 1] & 0x80:
            return n, i


def encode_plan(p):
    """Canonical pb::TrainingPlan bytes: fields in number order, proto3 defaults left out."""
    out = b""

    def put_bytes(num, v):
        return varint(num << 3 | 2) + varint(len(v)) + v

    def put_uint(num, v):
        return varint(num << 3) + varint(v) if v else b""

    for num, key in ((1, "run_id"), (2, "model_spec")):
        if p[key]:
            out += put_bytes(num, p[key])
    out += b"".join(put_bytes(3, c) for c in p["feature_columns"])
    for num, key in ((4, "label_column"), (5, "positive_value")):
        if p[key]:
            out += put_bytes(num, p[key])
    out += b"".join(put_bytes(6, n) for n in p["partners"])
    out += put_uint(7, p["cycles"]) + put_uint(8, p["epochs"]) + put_uint(9, p["batch_size"])
    if p["optimizer"]:
        out += put_bytes(10, p["optimizer"])
    for num, key in ((11, "learning_rate_nano"), (12, "weight_decay_nano"), (13, "seed"),
                     (14, "vote_policy"), (15, "vote_param_ppm"), (16, "quorum_num"),
                     (17, "quorum_den"), (18, "load_deadline_blocks"),
                     (19, "save_deadline_blocks"), (20, "vote_deadline_blocks")):
        out += put_uint(num, p[key])
    if p["sponsor"]:  # the escrow (section 19.6), fields 40..43: absent without a sponsor
        out += put_bytes(40, p["sponsor"])
    for num, key in ((41, "min_escrow"), (42, "funding_deadline_blocks"),
                     (43, "release_deadline_blocks"), (44, "submission_cost"), (45, "deposit"),
                     (46, "deposit_factor"), (47, "min_balance"), (60, "token_mode"),
                     (61, "turn_order"), (62, "suspend_after")):
        out += put_uint(num, p[key])
    for key, num, *_ in PRIVACY_FIELDS:  # section 20.2, fields 70..78: absent without DP
        out += put_uint(num, p[key])
    for num, key in ((80, "mode"), (81, "min_partners"), (82, "secagg_threshold"),
                     (83, "readiness_deadline_blocks")):
        out += put_uint(num, p[key])  # sections 21.1, 22.1: absent when 0
    for num, key in ((84, "dataset"), (85, "schema_id")):  # section 23.1: absent when empty
        if p[key]:
            out += put_bytes(num, p[key])
    return out


def plan_from_proto(f):
    """pb::TrainingPlan fields (audit_export.fields) -> the plan, with its own bytes."""
    def one(num, default):
        return f.get(num, [default])[-1]
    privacy = {key: one(num, 0) for key, num, *_ in PRIVACY_FIELDS}
    return privacy | {
        "run_id": one(1, b""), "model_spec": one(2, b""), "feature_columns": f.get(3, []),
        "label_column": one(4, b""), "positive_value": one(5, b""), "partners": f.get(6, []),
        "cycles": one(7, 0), "epochs": one(8, 0), "batch_size": one(9, 0), "optimizer": one(10, b""),
        "learning_rate_nano": one(11, 0), "weight_decay_nano": one(12, 0), "seed": one(13, 0),
        "vote_policy": one(14, 0), "vote_param_ppm": one(15, 0), "quorum_num": one(16, 0),
        "quorum_den": one(17, 0), "load_deadline_blocks": one(18, 0),
        "save_deadline_blocks": one(19, 0), "vote_deadline_blocks": one(20, 0),
        "token_mode": one(60, 0), "turn_order": one(61, 0), "suspend_after": one(62, 0),
        "sponsor": one(40, b""), "min_escrow": one(41, 0), "funding_deadline_blocks": one(42, 0),
        "release_deadline_blocks": one(43, 0), "submission_cost": one(44, 0), "deposit": one(45, 0),
        "deposit_factor": one(46, 0), "min_balance": one(47, 0),
        "mode": one(80, 0), "min_partners": one(81, 0), "secagg_threshold": one(82, 0),
        "readiness_deadline_blocks": one(83, 0), "dataset": one(84, b""), "schema_id": one(85, b""),
    }


def llround(x):
    """C's llround for x >= 0: the nearest integer, halves away from zero."""
    f = math.floor(x)
    return int(f) + (1 if x - f >= 0.5 else 0)


def plan_from_genesis(j):
    """The genesis "training_plan" object (section 18.1) -> the plan, or None for {}.

    The genesis is the auditor's own input (its hash is block 1's parent), and
    a node refuses a genesis whose plan does not parse, so this reads a valid
    plan; it raises ValueError on anything else.
    """
    if not j:
        return None
    ds, tr = j.get("dataset", {}), j.get("training", {})
    vp, q, d = j.get("vote_policy", {}), j.get("quorum", {}), j.get("deadlines", {})
    es, dep = j.get("escrow", {}), j.get("deposits", {})
    model = j["model"]
    if isinstance(model, str):
        spec = model
    else:  # nlohmann's dump(): sorted keys, no spaces, UTF-8 as is
        spec = json.dumps(model, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def scaled(obj, key, scale, default):
        v = obj.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError("training plan: %s must be a number" % key)
        return llround(float(v) * scale)

    kind = vp.get("kind", "strict")
    policy, param = {"strict": (1, 0), "tolerance": (2, None), "delong": (3, None)}[kind]
    if kind == "tolerance":
        param = scaled(vp, "epsilon", 1e6, None)
    elif kind == "delong":
        param = scaled(vp, "alpha", 1e6, 0.05)
    # Section 21.1: a federated plan counts rounds and local epochs in "federated".
    fed = j.get("federated") if j.get("mode", "chained") == "federated" else None
    federated = {"mode": 0, "min_partners": 0, "secagg_threshold": 0}
    if fed is not None:
        t = fed.get("threshold", len(j["partners"]) // 2 + 1)
        federated = {"mode": 1, "secagg_threshold": t, "min_partners": fed.get("min_partners", t)}
    return privacy_from_genesis(j.get("privacy", {})) | federated | {
        "run_id": j["run_id"].encode(), "model_spec": spec.encode(),
        "feature_columns": [c.encode() for c in ds["feature_columns"]],
        "label_column": ds["label_column"].encode(),
        "positive_value": ds.get("positive_value", "1").encode(),
        "partners": [p.encode() for p in j["partners"]],
        "cycles": fed["rounds"] if fed is not None else j["cycles"],
        "epochs": fed.get("local_epochs", 1) if fed is not None else tr.get("epochs", 1),
        "batch_size": tr.get("batch_size", 32),
        "optimizer": tr.get("optimizer", "adam").encode(),
        "learning_rate_nano": scaled(tr, "learning_rate", 1e9, 1e-3),
        "weight_decay_nano": scaled(tr, "weight_decay", 1e9, 0.0), "seed": tr.get("seed", 0),
        "vote_policy": policy, "vote_param_ppm": param, "quorum_num": q.get("num", 1),
        "quorum_den": q.get("den", 2), "load_deadline_blocks": d.get("load_blocks", 20),
        "save_deadline_blocks": d.get("save_blocks", 200),
        "vote_deadline_blocks": d.get("vote_blocks", 20),
        "readiness_deadline_blocks": d.get("ready_blocks", 0),  # section 22.1: a genesis keeps 0
        # Section 23.1 (a genesis plan may name a dataset, never a schema id).
        "dataset": ds.get("name", "").encode(), "schema_id": ds.get("schema_id", "").encode(),
        "token_mode": {"delta_auc": 0, "delta_loss": 1}[j.get("token_mode", "delta_auc")],
        "turn_order": {"fixed": 0, "rotating": 1}[j.get("turn_order", "fixed")],
        "suspend_after": j.get("suspend_after", 0),
        "sponsor": es.get("sponsor", "").encode(), "min_escrow": es.get("min_credits", 0),
        "funding_deadline_blocks": es.get("funding_blocks", 0),
        "release_deadline_blocks": es.get("release_blocks", 0),
        "submission_cost": dep.get("submission_cost", 0), "deposit": dep.get("deposit", 0),
        "deposit_factor": dep.get("factor", 1 if dep.get("deposit", 0) > 0 else 0),
        "min_balance": dep.get("min_balance", 0),
    }


# ---- its bounds --------------------------------------------------------------

def valid_run_id(run_id):
    """validate_chain_id: 1..64 of [A-Za-z0-9._-], starting with a letter or digit."""
    def alnum(c):
        return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A
    return (1 <= len(run_id) <= 64 and alnum(run_id[0])
            and all(alnum(c) or c in b"._-" for c in run_id))


# The plan bounds of section 18.1 (chain/training_plan.h).
MAX_TURNS, MAX_EPOCHS, MAX_BATCH_SIZE = 10000, 10000, 1000000
MAX_LEARNING_RATE_NANO, MAX_WEIGHT_DECAY_NANO = 10 ** 10, 10 ** 9
MAX_DEADLINE_BLOCKS = 10000000
MAX_MODEL_SPEC_BYTES, MAX_FEATURE_COLUMNS, MAX_COLUMN_NAME_BYTES = 65536, 65536, 256
MAX_OPTIMIZER_BYTES, MAX_PLAN_BYTES = 32, 1 << 20
MAX_TOLERANCE_EPSILON_PPM, MIN_DELONG_ALPHA_PPM, MAX_DELONG_ALPHA_PPM = 100000, 1000, 500000


def plan_is_valid(c, p):
    """The plan bounds of section 18.1: whether a StartRun's plan is refused as invalid_plan."""
    if not 1 <= p["vote_policy"] <= 3 or not valid_run_id(p["run_id"]) or not p["partners"]:
        return False
    if any(p[k] and not valid_run_id(p[k]) for k in ("dataset", "schema_id")):  # section 23.1
        return False
    if p["token_mode"] > 1 or p["turn_order"] > 1 or p["suspend_after"] > p["cycles"]:
        return False
    for i, name in enumerate(p["partners"]):
        if name not in c.power or "partner" not in c.roles[name] or name in p["partners"][:i]:
            return False
        if c.total_power - c.power[name] == 0:
            return False
    if p["mode"] > 1 or not federated_is_valid(p):
        return False
    turns = p["cycles"] if p["mode"] == 1 else p["cycles"] * len(p["partners"])
    if not 1 <= turns <= MAX_TURNS:
        return False
    if not (1 <= p["epochs"] <= MAX_EPOCHS and 1 <= p["batch_size"] <= MAX_BATCH_SIZE
            and 1 <= p["learning_rate_nano"] <= MAX_LEARNING_RATE_NANO
            and p["weight_decay_nano"] <= MAX_WEIGHT_DECAY_NANO):
        return False
    if (len(p["model_spec"]) > MAX_MODEL_SPEC_BYTES or len(p["feature_columns"]) > MAX_FEATURE_COLUMNS
            or any(len(f) > MAX_COLUMN_NAME_BYTES for f in p["feature_columns"])
            or len(p["label_column"]) > MAX_COLUMN_NAME_BYTES
            or len(p["positive_value"]) > MAX_COLUMN_NAME_BYTES
            or len(p["optimizer"]) > MAX_OPTIMIZER_BYTES or len(encode_plan(p)) > MAX_PLAN_BYTES):
        return False
    policy, param = p["vote_policy"], p["vote_param_ppm"]
    if ((policy == 1 and param != 0) or (policy == 2 and param > MAX_TOLERANCE_EPSILON_PPM)
            or (policy == 3 and not MIN_DELONG_ALPHA_PPM <= param <= MAX_DELONG_ALPHA_PPM)):
        return False
    num, den = p["quorum_num"], p["quorum_den"]
    if num == 0 or den == 0 or num >= den or 2 * num < den:
        return False
    validators = max(1, sum(1 for power in c.power.values() if power > 0))
    if not all(validators <= p[k] <= MAX_DEADLINE_BLOCKS
               for k in ("load_deadline_blocks", "save_deadline_blocks", "vote_deadline_blocks")):
        return False
    ready = p["readiness_deadline_blocks"]  # section 22.1
    if ready > 0 and (not validators <= ready <= MAX_DEADLINE_BLOCKS
                      or p["optimizer"] not in (b"adam", b"sgd")):
        return False
    return escrow_is_valid(c, p, validators) and deposits_are_valid(p) and privacy_is_valid(p)


MAX_FEDERATED_PARTNERS = 64


def federated_is_valid(p):
    """Section 21.1: no federated numbers in a chained plan; in a federated one 2..64 partners,
    threshold and min_partners in [2, n], and no DP, stakes or suspension."""
    if p["mode"] == 0:
        return p["min_partners"] == 0 and p["secagg_threshold"] == 0
    n = len(p["partners"])
    if not 2 <= n <= MAX_FEDERATED_PARTNERS:
        return False
    if not (2 <= p["secagg_threshold"] <= n and 2 <= p["min_partners"] <= n):
        return False
    return (p["dp_mechanism"] == 0 and p["submission_cost"] == 0 and p["deposit"] == 0
            and p["suspend_after"] == 0)


MAX_PLAN_CREDITS, MAX_DEPOSIT_FACTOR = 10 ** 15, 16


def deposits_are_valid(p):
    """Section 19.9: amounts at most 10^15, a factor 1..16 exactly when there is a deposit, a
    submission cost only with a sponsor's escrow."""
    if any(p[k] > MAX_PLAN_CREDITS for k in ("submission_cost", "deposit", "min_balance")):
        return False
    if p["deposit"] == 0:
        if p["deposit_factor"] != 0:
            return False
    elif not 1 <= p["deposit_factor"] <= MAX_DEPOSIT_FACTOR:
        return False
    return p["submission_cost"] == 0 or bool(p["sponsor"])


def escrow_is_valid(c, p, validators):
    """Section 19.6: a sponsor with role "sponsor" and a release deadline; a funding deadline
    exactly when the plan requires funding; no escrow numbers without a sponsor."""
    if not p["sponsor"]:
        return p["min_escrow"] == 0 and p["funding_deadline_blocks"] == 0 \
            and p["release_deadline_blocks"] == 0
    if "sponsor" not in c.roles.get(p["sponsor"], ()):
        return False
    if not validators <= p["release_deadline_blocks"] <= MAX_DEADLINE_BLOCKS:
        return False
    if p["min_escrow"] == 0:
        return p["funding_deadline_blocks"] == 0
    return validators <= p["funding_deadline_blocks"] <= MAX_DEADLINE_BLOCKS
