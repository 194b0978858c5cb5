"""The consortium schema (docs/PROTOCOL.md section 23), replayed by an auditor.

Used by audit_training.py: the DataSummary transaction (TxType 25) and its
refusals 64..68 (section 23.2), what a StartRun naming a schema id needs
(69 unknown_schema) and the freeze at its start, the derived schema's exact
bytes (section 23.3: integer arithmetic only) whose SHA-256 a RunReady must
name (section 22.2, 70 wrong_schema_hash), and the state bytes of section
23.2. Only the standard library.
"""
import hashlib
import json
import math

from audit_plan import read_varint, varint

TX_DATA_SUMMARY = 25

# ProtocolRejected (section 23.2), numbers as stored.
MALFORMED_SUMMARY, NOT_A_DATA_HOLDER, SCHEMA_FROZEN = 64, 65, 66
SUMMARY_LAYOUT_MISMATCH, TOO_MANY_SUMMARIES, UNKNOWN_SCHEMA = 67, 68, 69

# Bounds of one summary (section 23.1) and of the derivation (section 23.3).
MAX_ROWS, MAX_COLUMNS, MAX_LEVELS_PER_COLUMN, MAX_LEVELS = 1000000, 256, 256, 4096
MAX_LEVEL_BYTES, MAX_NAME_BYTES, MAX_NA_VALUES, MAX_NA_BYTES = 64, 256, 16, 32
MAX_VALUE_MICRO, MICRO = 10 ** 12, 10 ** 6
MAX_SUMMARIES_PER_MEMBER, MAX_SCHEMA_LEVELS, MIN_LEVEL_MEMBERS = 16, 64, 2
NUMERIC, CATEGORICAL = 1, 2


def valid_id(i):
    """1..64 of [A-Za-z0-9._-], starting with a letter or digit (a run id's rule)."""
    def alnum(c):
        return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A
    return 1 <= len(i) <= 64 and alnum(i[0]) and all(alnum(c) or c in b"._-" for c in i)


def varints(values):
    """A packed repeated scalar field (one length-delimited blob per occurrence) -> integers."""
    out = []
    for blob in values:
        if isinstance(blob, int):  # an unpacked element
            out.append(blob)
            continue
        i = 0
        while i < len(blob):
            v, i = read_varint(blob, i)
            out.append(v)
    return out


def unzigzag(n):
    return (n >> 1) ^ -(n & 1)


class Malformed(Exception):
    pass


def summary_from_fields(f):
    """A DataSummary's fields -> its record, or raises Malformed (section 23.1's bounds)."""
    def one(num, default):
        return f.get(num, [default])[-1]
    positive, na, rows = one(2, b""), f.get(3, []), one(4, 0)
    names, kinds, missing = f.get(5, []), varints(f.get(6, [])), varints(f.get(7, []))
    if not 1 <= len(positive) <= MAX_NAME_BYTES or len(na) > MAX_NA_VALUES:
        raise Malformed()
    if any(len(v) > MAX_NA_BYTES for v in na) or not 1 <= rows <= MAX_ROWS:
        raise Malformed()
    if not 1 <= len(names) <= MAX_COLUMNS or len(kinds) != len(names) or len(missing) != len(names):
        raise Malformed()
    if len(set(names)) != len(names) or any(not 1 <= len(n) <= MAX_NAME_BYTES for n in names):
        raise Malformed()
    columns = []
    for name, kind, miss in zip(names, kinds, missing):
        if kind not in (NUMERIC, CATEGORICAL) or miss > rows:
            raise Malformed()
        columns.append({"name": name, "kind": kind, "missing": miss, "count": 0, "sum": 0, "squares": 0,
                        "min": 0, "max": 0, "levels": {}})
    numeric = [c for c in columns if c["kind"] == NUMERIC]
    sums = [unzigzag(v) for v in varints(f.get(8, []))]
    hi, lo = varints(f.get(9, [])), varints(f.get(10, []))
    mins = [unzigzag(v) for v in varints(f.get(11, []))]
    maxs = [unzigzag(v) for v in varints(f.get(12, []))]
    if any(len(x) != len(numeric) for x in (sums, hi, lo, mins, maxs)):
        raise Malformed()
    for k, c in enumerate(numeric):
        c["count"], c["sum"], c["squares"] = rows - c["missing"], sums[k], hi[k] << 64 | lo[k]
        c["min"], c["max"] = mins[k], maxs[k]
        check_numeric(c)
    level_cols, level_names = varints(f.get(13, [])), f.get(14, [])
    level_counts = varints(f.get(15, []))
    if len(level_names) > MAX_LEVELS or not len(level_cols) == len(level_names) == len(level_counts):
        raise Malformed()
    for i, (c, name, count) in enumerate(zip(level_cols, level_names, level_counts)):
        if c >= len(columns) or columns[c]["kind"] != CATEGORICAL:
            raise Malformed()
        if not 1 <= len(name) <= MAX_LEVEL_BYTES or not 1 <= count <= rows:
            raise Malformed()
        if i > 0 and (level_cols[i - 1] > c or (level_cols[i - 1] == c and not level_names[i - 1] < name)):
            raise Malformed()
        columns[c]["levels"][name] = count
        if len(columns[c]["levels"]) > MAX_LEVELS_PER_COLUMN:
            raise Malformed()
    for c in columns:
        if c["kind"] == CATEGORICAL and c["missing"] + sum(c["levels"].values()) != rows:
            raise Malformed()
    return {"positive": positive, "na": list(na), "rows": rows, "columns": columns}


def check_numeric(c):
    n, s, q, lo, hi = c["count"], c["sum"], c["squares"], c["min"], c["max"]
    if n == 0:
        if s or q or lo or hi:
            raise Malformed()
        return
    if not (-MAX_VALUE_MICRO <= lo <= MAX_VALUE_MICRO and -MAX_VALUE_MICRO <= hi <= MAX_VALUE_MICRO):
        raise Malformed()
    if lo > hi or not n * lo <= s <= n * hi:
        raise Malformed()
    big = max(abs(lo), abs(hi))
    if q > n * big * big or n * q < s * s:  # above count x max^2, or below sum^2 / count
        raise Malformed()


def canonical(schema_id, r):
    """The canonical pb::DataSummary bytes of a record (what the state holds): fields in number
    order, repeated scalars packed, proto3 defaults left out."""
    def put_bytes(num, v):
        return varint(num << 3 | 2) + varint(len(v)) + v

    def packed(num, values):
        return put_bytes(num, b"".join(varint(v) for v in values)) if values else b""

    def zigzag(v):
        return -2 * v - 1 if v < 0 else 2 * v

    cols = r["columns"]
    numeric = [c for c in cols if c["kind"] == NUMERIC]
    out = put_bytes(1, schema_id) + put_bytes(2, r["positive"]) + b"".join(put_bytes(3, v) for v in r["na"])
    out += varint(4 << 3) + varint(r["rows"])
    out += b"".join(put_bytes(5, c["name"]) for c in cols)
    out += packed(6, [c["kind"] for c in cols]) + packed(7, [c["missing"] for c in cols])
    out += packed(8, [zigzag(c["sum"]) for c in numeric])
    out += packed(9, [c["squares"] >> 64 for c in numeric])
    out += packed(10, [c["squares"] & (2 ** 64 - 1) for c in numeric])
    out += packed(11, [zigzag(c["min"]) for c in numeric]) + packed(12, [zigzag(c["max"]) for c in numeric])
    levels = [(i, name, n) for i, c in enumerate(cols) for name, n in sorted(c["levels"].items())]
    out += packed(13, [i for i, _, _ in levels]) + b"".join(put_bytes(14, name) for _, name, _ in levels)
    out += packed(15, [n for _, _, n in levels])
    return out


def same_layout(a, b):
    return (a["positive"] == b["positive"] and a["na"] == b["na"]
            and [(c["name"], c["kind"]) for c in a["columns"]] == [(c["name"], c["kind"]) for c in b["columns"]])


# ---- the derivation (section 23.3) -------------------------------------------

def trunc_div(n, d):
    """C++'s n / d and n % d for d > 0: the quotient rounds toward zero."""
    q = abs(n) // d
    q = -q if n < 0 else q
    return q, n - q * d


def round_div(n, d):
    """n / d rounded half away from zero."""
    q, r = trunc_div(n, d)
    if 2 * abs(r) >= d:
        return q - 1 if n < 0 else q + 1
    return q


def micro_decimal(v):
    """A micro-unit integer as an exact decimal: -1500000 -> -1.5, 70000000 -> 70."""
    whole, frac = divmod(abs(v), MICRO)
    out = ("-" if v < 0 else "") + str(whole)
    if frac:
        out += "." + ("%06d" % frac).rstrip("0")
    return out


def json_string(b):
    return json.dumps(b.decode("utf-8"), ensure_ascii=False)


def json_list(items):
    return "[" + ",".join(json_string(b) for b in items) + "]"


def kept_levels(summaries, c):
    pooled = {}
    for r in summaries:
        for level, rows in r["columns"][c]["levels"].items():
            p = pooled.setdefault(level, [0, 0])
            p[0] += rows
            p[1] += 1
    need = min(MIN_LEVEL_MEMBERS, len(summaries))
    eligible = [(level, p[0]) for level, p in sorted(pooled.items()) if p[1] >= need]
    fallback = not eligible
    if fallback:
        eligible = [(level, p[0]) for level, p in sorted(pooled.items())]
    eligible.sort(key=lambda e: -e[1])  # stable: byte order among equal counts
    eligible = eligible[:1 if fallback else MAX_SCHEMA_LEVELS]
    most = eligible[0][0] if eligible else b""
    return sorted(level for level, _ in eligible), most


def derive(schema):
    """The derived schema's bytes, or None when it derives none."""
    summaries = [r for _, (_, r) in sorted(schema["summaries"].items())]
    if not summaries:
        return None
    first = summaries[0]
    cols = []
    for c, col in enumerate(first["columns"]):
        name = json_string(col["name"])
        if col["kind"] == CATEGORICAL:
            levels, most = kept_levels(summaries, c)
            if not levels:
                return None
            cols.append('{"name":%s,"kind":"categorical","most_frequent":%s,"levels":%s}'
                        % (name, json_string(most), json_list(levels)))
            continue
        n = sum(r["columns"][c]["count"] for r in summaries)
        s = sum(r["columns"][c]["sum"] for r in summaries)
        q = sum(r["columns"][c]["squares"] for r in summaries)
        missing = sum(r["columns"][c]["missing"] for r in summaries)
        if n == 0:
            return None
        mean = round_div(s, n)
        deviations = max(0, q - 2 * mean * s + n * mean * mean)
        sd = math.isqrt(deviations // (n + missing))
        scale = sd if sd > 0 else MICRO
        cols.append('{"name":%s,"kind":"numeric","median":%s,"mean":%s,"scale":%s}'
                    % (name, micro_decimal(mean), micro_decimal(mean), micro_decimal(scale)))
    p = first["positive"]
    out = ('{"format":"baton-preprocessor/1","classes":%s,"positive_value":%s,"columns":[%s]'
           % (json_list([b"not " + p, p]), json_string(p), ",".join(cols)))
    if first["na"]:
        out += ',"na_values":' + json_list(first["na"])
    return (out + "}").encode("utf-8")


class Schemas:
    """Section 23.2's state: per schema id, each member's latest summary and the frozen flag."""

    def __init__(self, consortium, refused):
        self.c = consortium
        self.Refused = refused
        self.ids = {}  # schema id -> {"frozen": bool, "summaries": {member: (height, record)}}

    def apply(self, sender, f, height):
        """A DataSummary: its effect, or raises Refused before changing anything."""
        if "partner" not in self.c.roles.get(sender, ()):
            raise self.Refused(NOT_A_DATA_HOLDER)
        schema_id = f.get(1, [b""])[-1]
        if not valid_id(schema_id):
            raise self.Refused(MALFORMED_SUMMARY)
        try:
            record = summary_from_fields(f)
        except Malformed:
            raise self.Refused(MALFORMED_SUMMARY) from None
        schema = self.ids.get(schema_id)
        if schema is not None:
            if schema["frozen"]:
                raise self.Refused(SCHEMA_FROZEN)
            if any(name != sender and not same_layout(other, record)
                   for name, (_, other) in schema["summaries"].items()):
                raise self.Refused(SUMMARY_LAYOUT_MISMATCH)
        if schema is None or sender not in schema["summaries"]:
            held = sum(1 for s in self.ids.values() if sender in s["summaries"])
            if held >= MAX_SUMMARIES_PER_MEMBER:
                raise self.Refused(TOO_MANY_SUMMARIES)
        self.ids.setdefault(schema_id, {"frozen": False, "summaries": {}})["summaries"][sender] = (height, record)

    def plan_refusal(self, plan):
        """A StartRun's plan naming a schema id: UNKNOWN_SCHEMA or None (section 23.2)."""
        schema_id = plan["schema_id"]
        if not schema_id:
            return None
        schema = self.ids.get(schema_id)
        if schema is None or not schema["summaries"] or derive(schema) is None:
            return UNKNOWN_SCHEMA
        _, any_record = schema["summaries"][min(schema["summaries"])]
        if any_record["positive"] != plan["positive_value"]:
            return UNKNOWN_SCHEMA
        if sorted(c["name"] for c in any_record["columns"]) != sorted(plan["feature_columns"]):
            return UNKNOWN_SCHEMA
        return None

    def freeze(self, plan):
        if plan["schema_id"] in self.ids:
            self.ids[plan["schema_id"]]["frozen"] = True

    def sha256(self, schema_id):
        """The 32 bytes a ready RunReady must name under this schema id, or b"" when none derives."""
        schema = self.ids.get(schema_id)
        derived = derive(schema) if schema is not None else None
        return hashlib.sha256(derived).digest() if derived is not None else b""

    def encoding(self, u8, u32, u64, s):
        out = u32(len(self.ids))
        for schema_id in sorted(self.ids):
            schema = self.ids[schema_id]
            out += s(schema_id) + u8(schema["frozen"]) + u32(len(schema["summaries"]))
            for member in sorted(schema["summaries"]):
                height, record = schema["summaries"][member]
                out += s(member) + u64(height) + s(canonical(schema_id, record))
        return out
