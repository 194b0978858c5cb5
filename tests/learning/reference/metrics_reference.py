#!/usr/bin/python3
# Regenerates the reference values hard-coded in tests/learning/metrics_test.cpp
# with independent implementations: Debian's python3-sklearn 1.2.1 and a DeLong
# written straight from DeLong et al. (1988)'s definitions (O(m*n) kernel, no
# ranks), which shares no code or algorithm with learning/metrics.cpp.
# Run: /usr/bin/python3 tests/learning/reference/metrics_reference.py
import math
from statistics import NormalDist

from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

y = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0]
a = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.35, 0.7, 0.6, 0.4, 0.05]
b = [0.3, 0.5, 0.3, 0.7, 0.1, 0.7, 0.3, 0.6, 0.9, 0.2, 0.5, 0.0]

print("roc_auc", repr(roc_auc_score(y, a)), repr(roc_auc_score(y, b)))
print("brier", repr(brier_score_loss(y, a)), repr(brier_score_loss(y, b)))
print("calibration a/10", [v.tolist() for v in calibration_curve(y, a, n_bins=10)])
print("calibration b/3", [v.tolist() for v in calibration_curve(y, b, n_bins=3)])
f, t, _ = roc_curve(y, a, drop_intermediate=False)
print("roc_curve a", f.tolist(), t.tolist())
classes = [0, 1, 2, 2, 1, 0, 2, 1, 0, 1]
probs = [[.7, .2, .1], [.2, .5, .3], [.1, .3, .6], [.3, .3, .4], [.3, .3, .4],
         [.5, .4, .1], [.2, .2, .6], [.1, .8, .1], [.4, .4, .2], [.6, .3, .1]]
print("ovr", roc_auc_score(classes, probs, multi_class="ovr", average=None).tolist())
ratings_y = [0] * 58 + [1] * 51
ratings = ([1] * 33 + [2] * 6 + [3] * 6 + [4] * 11 + [5] * 2 +
           [1] * 3 + [2] * 2 + [3] * 2 + [4] * 11 + [5] * 33)
print("hanley_mcneil", repr(roc_auc_score(ratings_y, ratings)))


def psi(x, z):
    return 1.0 if x > z else (0.5 if x == z else 0.0)


def components(s):
    pos = [v for v, l in zip(s, y) if l == 1]
    neg = [v for v, l in zip(s, y) if l == 0]
    v10 = [sum(psi(x, z) for z in neg) / len(neg) for x in pos]
    v01 = [sum(psi(x, z) for x in pos) / len(pos) for z in neg]
    return sum(v10) / len(v10), v10, v01


def cov(p, q):
    mp, mq = sum(p) / len(p), sum(q) / len(q)
    return sum((u - mp) * (w - mq) for u, w in zip(p, q)) / (len(p) - 1)


A, a10, a01 = components(a)
B, b10, b01 = components(b)
m, n = len(a10), len(a01)
va = cov(a10, a10) / m + cov(a01, a01) / n
vb = cov(b10, b10) / m + cov(b01, b01) / n
cab = cov(a10, b10) / m + cov(a01, b01) / n
zq = NormalDist().inv_cdf(0.975)
print("delong a", repr(A), repr(va), repr(max(0, A - zq * math.sqrt(va))),
      repr(min(1, A + zq * math.sqrt(va))))
print("delong b", repr(B), repr(vb), repr(max(0, B - zq * math.sqrt(vb))),
      repr(min(1, B + zq * math.sqrt(vb))))
vd = va + vb - 2 * cab
z = (A - B) / math.sqrt(vd)
print("paired var", repr(vd), "z", repr(z), "p2", repr(math.erfc(abs(z) / math.sqrt(2))),
      "p_less", repr(NormalDist().cdf(z)))
