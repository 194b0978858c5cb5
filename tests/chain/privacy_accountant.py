#!/usr/bin/python3
"""An auditor's reimplementation of docs/PROTOCOL.md §20 (privacy accounting).

Written from that section alone: Python floats are IEEE-754 doubles whose
+ - * / are correctly rounded, and nothing here calls math.exp or math.log,
so it must reproduce chain/privacy_accountant.cpp's integers bit for bit.
Usage:
    privacy_accountant.py SIGMA_MICRO Q_NANO STEPS DELTA_PICO [MORE QUADRUPLES...]
prints one line per quadruple: "EPSILON_MICRO ORDER_TENTHS SATURATED" (or
"refused N", N the PrivacyInputProblem).
privacy_accountant_test.cpp runs it on the golden vectors.
"""
import struct
import sys

INF = float("inf")
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e00
SQRT2 = 1.4142135623730951
LOG_PI = 1.1447298858494002
TWO_OVER_SQRT_PI = 1.1283791670955126
RCP = [0.0] + [1.0 / n for n in range(1, 128)]


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def pow2(e):
    return from_bits((e + 1023) << 52)


def exp_(x):
    if x != x:
        return x
    if x > 709.78:
        return INF
    if x < -745.2:
        return 0.0
    kd = x * INV_LN2
    k = int(kd + 0.5) if kd >= 0 else int(kd - 0.5)  # int() truncates
    dk = float(k)
    r = (x - dk * LN2_HI) - dk * LN2_LO
    s = 1.0
    for n in range(16, 0, -1):
        s = 1.0 + (s * r) * RCP[n]
    if k > 1023:
        return (s * pow2(1023)) * pow2(k - 1023)
    if k < -1022:
        return (s * pow2(k + 600)) * pow2(-600)
    return s * pow2(k)


def log_(x):
    if x == 0:
        return -INF
    if x == INF:
        return INF
    e = 0
    if x < 2.2250738585072014e-308:
        x = x * pow2(54)
        e = -54
    b = bits(x)
    e += ((b >> 52) & 0x7FF) - 1023
    m = from_bits((b & 0x000FFFFFFFFFFFFF) | (1023 << 52))
    if m > SQRT2:
        m = m * 0.5
        e += 1
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    t = RCP[33]
    for n in range(15, -1, -1):
        t = RCP[2 * n + 1] + s2 * t
    de = float(e)
    return de * LN2_HI + (de * LN2_LO + (2.0 * s) * t)


def log_erfc(x):
    if x >= 2.5:
        levels = 40 if x < 4.0 else 20 if x < 8.0 else 12
        t = x
        for n in range(levels, 0, -1):
            t = x + (n * 0.5) / t
        return -(x * x) - 0.5 * LOG_PI - log_(t)
    if x <= -2.5:
        return log_(2.0 - exp_(log_erfc(-x)))
    a, total, n = x, 0.0, 0
    while n < 60 and (a > 1e-17 or a < -1e-17):
        total = total + a * RCP[2 * n + 1]
        a = -(a * (x * x)) * RCP[n + 1]
        n += 1
    return log_(1.0 - TWO_OVER_SQRT_PI * total)


def log_add(a, b):
    if a == -INF:
        return b
    if b == -INF:
        return a
    hi, lo = (a, b) if a > b else (b, a)
    return hi + log_(1.0 + exp_(lo - hi))


def log_sub(a, b):
    if b == -INF:
        return a
    if not b < a:
        return float("nan")
    return a + log_(1.0 - exp_(b - a))


LF = [0.0]
for n in range(1, 513):
    LF.append(LF[n - 1] + log_(float(n)))


def log_a_integer(log_q, log_1mq, two_s2, alpha):
    acc = -INF
    for j in range(alpha + 1):
        dj = float(j)
        term = ((LF[alpha] - LF[j] - LF[alpha - j]) + dj * log_q
                + float(alpha - j) * log_1mq + (dj * dj - dj) / two_s2)
        acc = log_add(acc, term)
    return acc


def log_a_fractional(log_q, log_1mq, sigma, two_s2, alpha):
    z0 = sigma * sigma * (log_1mq - log_q) + 0.5
    d = SQRT2 * sigma
    log_half = -LN2_HI - LN2_LO
    a0 = a1 = -INF
    c, sign = 0.0, 1
    for i in range(200):
        di = float(i)
        j = alpha - di
        t0 = c + di * log_q + j * log_1mq
        t1 = c + j * log_q + di * log_1mq
        s0 = t0 + (di * di - di) / two_s2 + (log_half + log_erfc((di - z0) / d))
        s1 = t1 + (j * j - j) / two_s2 + (log_half + log_erfc((z0 - j) / d))
        if sign > 0:
            a0, a1 = log_add(a0, s0), log_add(a1, s1)
        else:
            a0, a1 = log_sub(a0, s0), log_sub(a1, s1)
        if a0 != a0 or a1 != a1:
            return float("nan")
        if max(s0, s1) < -30.0:
            return log_add(a0, a1)
        f = alpha - di
        if f < 0:
            sign = -sign
        c += log_(-f if f < 0 else f) - log_(di + 1.0)
    return float("nan")


GRID = sorted([k for k in range(11, 110) if k % 10] + [10 * a for a in range(2, 65)]
              + [10 * a for a in (80, 96, 128, 160, 192, 256, 512)])


def epsilon_spent(sigma_micro, q_nano, steps, delta_pico):
    for i, (v, lo, hi) in enumerate([(sigma_micro, 100_000, 10**9), (q_nano, 1, 10**9),
                                     (steps, 1, 10**9), (delta_pico, 1, 10**11)]):
        if not lo <= v <= hi:
            return ("refused", i + 1)
    log_1e9 = log_(1e9)
    q_one = q_nano == 10**9
    log_q = log_(float(q_nano)) - log_1e9
    log_1mq = -INF if q_one else log_(float(10**9 - q_nano)) - log_1e9
    sigma = float(sigma_micro) / 1e6
    two_s2 = 2.0 * sigma * sigma
    log_inv_delta = log_(1e12) - log_(float(delta_pico))
    best, best_order = INF, 0
    for tenths in GRID:
        alpha = tenths / 10.0
        if q_one:
            rdp = alpha / two_s2
        else:
            la = (log_a_integer(log_q, log_1mq, two_s2, tenths // 10) if tenths % 10 == 0
                  else log_a_fractional(log_q, log_1mq, sigma, two_s2, alpha))
            if la != la:
                continue
            rdp = (la if la > 0 else 0.0) / (alpha - 1.0)
        eps = float(steps) * rdp + log_inv_delta / (alpha - 1.0)
        if eps < best:
            best, best_order = eps, tenths
    v = best * 1e6
    if not v < 1e15:
        return (10**15, best_order, 1)
    u = int(v)
    if float(u) < v:
        u += 1
    return (u, best_order, 0)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    for i in range(0, len(args) - 3, 4):
        print(*epsilon_spent(*args[i:i + 4]))
