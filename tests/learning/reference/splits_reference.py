#!/usr/bin/python3
# An independent implementation, from the C++ standard's text, of the random
# source behind learning/splits.cpp: std::seed_seq::generate ([rand.util.seedseq]),
# std::mt19937_64 seeded from a seed sequence ([rand.eng.mers]), the rejection
# sampler and the Fisher-Yates shuffle documented in learning/splits.h. It
# reproduces the pinned values of tests/learning/splits_test.cpp, showing that
# Baton's splits depend on no compiler or standard-library detail and can be
# recomputed in any language.
# Run: /usr/bin/python3 tests/learning/reference/splits_reference.py
M32 = (1 << 32) - 1
M64 = (1 << 64) - 1


def seed_seq_generate(v, n):
    out = [0x8B8B8B8B] * n
    s = len(v)
    t = 11 if n >= 623 else 7 if n >= 68 else 5 if n >= 39 else 3 if n >= 7 else (n - 1) // 2
    p = (n - t) // 2
    q = p + t
    m = max(s + 1, n)

    def T(x):
        return x ^ (x >> 27)

    for k in range(m):
        r1 = (1664525 * T(out[k % n] ^ out[(k + p) % n] ^ out[(k - 1) % n])) & M32
        if k == 0:
            r2 = r1 + s
        elif k <= s:
            r2 = r1 + k % n + v[k - 1]
        else:
            r2 = r1 + k % n
        r2 &= M32
        out[(k + p) % n] = (out[(k + p) % n] + r1) & M32
        out[(k + q) % n] = (out[(k + q) % n] + r2) & M32
        out[k % n] = r2
    for k in range(m, m + n):
        r3 = (1566083941 * T((out[k % n] + out[(k + p) % n] + out[(k - 1) % n]) & M32)) & M32
        r4 = (r3 - k % n) & M32
        out[(k + p) % n] ^= r3
        out[(k + q) % n] ^= r4
        out[k % n] = r4
    return out


class MT19937_64:
    N, M, R = 312, 156, 31
    A = 0xB5026F5AA96619E9
    U, D, S, B, T, C, L = 29, 0x5555555555555555, 17, 0x71D67FFFEDA60000, 37, 0xFFF7EEE000000000, 43
    F = 6364136223846793005

    def __init__(self, state):
        self.x = state
        self.i = self.N

    @classmethod
    def from_seed(cls, seed=5489):
        x = [seed & M64]
        for i in range(1, cls.N):
            x.append((cls.F * (x[-1] ^ (x[-1] >> 62)) + i) & M64)
        return cls(x)

    @classmethod
    def from_seed_seq(cls, words):
        a = seed_seq_generate(words, 2 * cls.N)
        return cls([a[2 * i] | (a[2 * i + 1] << 32) for i in range(cls.N)])

    def __call__(self):
        if self.i >= self.N:
            upper, lower = M64 ^ ((1 << self.R) - 1), (1 << self.R) - 1
            for k in range(self.N):
                y = (self.x[k] & upper) | (self.x[(k + 1) % self.N] & lower)
                self.x[k] = self.x[(k + self.M) % self.N] ^ (y >> 1) ^ (self.A if y & 1 else 0)
            self.i = 0
        z = self.x[self.i]
        self.i += 1
        z ^= (z >> self.U) & self.D
        z ^= (z << self.S) & self.B
        z ^= (z << self.T) & self.C
        z ^= z >> self.L
        return z & M64


def make_engine(seed, stream, substream):
    return MT19937_64.from_seed_seq([seed & M32, seed >> 32, stream, substream])


def uniform_below(rng, bound):
    while True:
        x = rng()
        r = x % bound
        if x - r <= (-bound) & M64:
            return r


def shuffle_indices(v, rng):
    for i in range(len(v), 1, -1):
        j = uniform_below(rng, i)
        v[i - 1], v[j] = v[j], v[i - 1]
    return v


rng = MT19937_64.from_seed()
for _ in range(9999):
    rng()
print("mt19937_64 10000th output", rng(), "(standard: 9981545732273789042)")
print("shuffle(0..9), seed 2026, stream 0, class 0:",
      shuffle_indices(list(range(10)), make_engine(2026, 0, 0)))


def apportion(total, weights):
    s = sum(weights)
    out = [total * w // s for w in weights]
    rem = [total * w % s for w in weights]
    order = sorted(range(len(weights)), key=lambda i: -rem[i])  # stable: ties to lower index
    for k in range(total - sum(out)):
        out[order[k]] += 1
    return out


def stratified_split(labels, num_classes, test_fraction, seed):
    import math
    by_class = [[i for i, y in enumerate(labels) if y == c] for c in range(num_classes)]
    test_total = int(math.floor(len(labels) * test_fraction + 0.5))
    per_class = apportion(test_total, [len(r) for r in by_class])
    train, test = [], []
    for c, rows in enumerate(by_class):
        rows = shuffle_indices(list(rows), make_engine(seed, 0, c))
        test += rows[:per_class[c]]
        train += rows[per_class[c]:]
    return sorted(train), sorted(test)


def labels_with(negatives, positives):  # as in splits_test.cpp
    y, n, p = [], 0, 0
    while n < negatives or p < positives:
        for _ in range(2):
            if n < negatives:
                y.append(0)
                n += 1
        if p < positives:
            y.append(1)
            p += 1
    return y


train, test = stratified_split(labels_with(251, 169), 2, 0.2, 7)
print("stratified_split(labels_with(251, 169), 0.2, seed 7): test", test[:10], "... sum",
      sum(test))
