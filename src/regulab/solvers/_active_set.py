"""Active-set Newton for the squared loss with an L1 part (lasso, elastic net).

Coordinate descent slows down badly when the support ``S`` is large and ill-conditioned (p >> n
near the end of a path, where ``|S|`` approaches ``n``). There the objective restricted to the
orthant of the signs ``sigma`` is a quadratic whose minimizer solves::

    (G_S + l2 I) w_S = c_S - (l1 / 2) sigma,     G = X_c^T diag(s) X_c,   c = X_c^T diag(s) y_c

(``X_c``, ``y_c`` centered with the weights ``s`` when the intercept is fitted). The method
(an active-set / feature-sign search in the spirit of Osborne et al. 2000 and Lee et al. 2007):

1. Newton on S: solve the system above with a Cholesky factor ``L L^T = G_S + l2 I``. If no
   coordinate changes sign, that is the minimizer on S. Otherwise move to the exact minimizer of
   the (convex, piecewise quadratic) objective on the segment towards it, which puts at least one
   coordinate at 0; drop it from S and repeat. The objective never increases.
2. Compute the full gradient and the duality gap; stop if the gap is small enough. Otherwise add
   the features that violate ``|c_j - (G w)_j| <= l1/2`` most (sign of their gradient) and go to 1.

``L`` is updated, not recomputed, when a feature enters (``O(|S|^2)`` plus one Gram column) or
leaves (Givens rotations, ``O(|S|^2)``), and it is kept on the design between calls, so along a
warm-started path a new lam costs a few ``O(|S|^2)`` updates and one ``X^T r`` per round.

The centered weighted columns ``A_j = sqrt(s) (x_j - xbar_j)`` (float64, dense X) and their Gram
matrix are cached per design for the features seen so far (at most ``GRAM_MAX_COLS`` of
:mod:`regulab.core.memory`).
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.linalg as sla
from numba import njit

from regulab.core.memory import gram_capacity
from regulab.solvers._design_kernels import FASTMATH


# ---------------------------------------------------------------------------------------------
# Cholesky factor kept up to date (lower triangular L, C order, in a cap x cap buffer)
# ---------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def chol_add(L, s, c, gamma):
    """Append a variable: ``c`` its Gram column against the s current ones, ``gamma`` its
    diagonal entry. Returns False (and leaves L unchanged) if it is numerically dependent."""
    for i in range(s):
        acc = c[i]
        for k in range(i):
            acc -= L[i, k] * L[s, k]
        L[s, i] = acc / L[i, i]
    rr = 0.0
    for k in range(s):
        rr += L[s, k] * L[s, k]
    rho2 = gamma - rr
    if not (rho2 > 1e-11 * gamma) or not np.isfinite(rho2):
        return False
    L[s, s] = np.sqrt(rho2)
    return True


@njit(cache=True, fastmath=FASTMATH)
def chol_delete(L, s, k):
    """Remove variable ``k`` of ``s``: drop row k, restore triangularity by Givens rotations."""
    for i in range(k, s - 1):
        for j in range(i + 2):
            L[i, j] = L[i + 1, j]
    for i in range(k, s - 1):
        a = L[i, i]
        b = L[i, i + 1]
        if b == 0.0:
            continue
        rr = np.hypot(a, b)
        cs = a / rr
        sn = b / rr
        for r in range(i, s - 1):
            x = L[r, i]
            y = L[r, i + 1]
            L[r, i] = cs * x + sn * y
            L[r, i + 1] = -sn * x + cs * y
        L[i, i + 1] = 0.0
    for j in range(s):
        L[s - 1, j] = 0.0
        L[j, s - 1] = 0.0


@njit(cache=True, fastmath=FASTMATH)
def chol_solve(L, s, b):
    """``x`` with ``L L^T x = b``."""
    z = np.empty(s)
    for i in range(s):
        acc = b[i]
        for k in range(i):
            acc -= L[i, k] * z[k]
        z[i] = acc / L[i, i]
    for i in range(s - 1, -1, -1):
        z[i] = z[i] / L[i, i]
        xi = z[i]
        for k in range(i):
            z[k] -= xi * L[i, k]
    return z


@njit(cache=True, fastmath=FASTMATH)
def chol_lt(L, s, x):
    """``L^T x``."""
    out = np.zeros(s)
    for i in range(s):
        xi = x[i]
        for k in range(i + 1):
            out[k] += L[i, k] * xi
    return out


# ---------------------------------------------------------------------------------------------
# Gram cache
# ---------------------------------------------------------------------------------------------
class GramCache:
    """``G_B = A_B^T A_B`` (centered, weighted) for a growing feature set B, and the active set.

    Kept on the design (:attr:`Design.gram <regulab.solvers.design.Design>`) for one
    ``key = (s, fit_intercept)``; ``active`` is the :class:`ActiveSet` of the last solve (for one
    l2) and ``c_full`` the correlations ``X_c^T (s y_c)`` for the ``y_c`` whose bytes are
    ``c_key`` (see :meth:`correlations`). ``lock``: one solve at a time uses the cache.
    """

    def __init__(self, D, s, fit_intercept, xbar):
        self.D = D
        self.key = (s.tobytes(), bool(fit_intercept))
        self.xbar = xbar
        self.s = s
        self.sqrt_s = np.sqrt(s)
        n, p = D.n, D.p
        self.cap = gram_capacity(n, p)
        self.pos = -np.ones(p, dtype=np.int64)
        self.m = 0
        self.A = np.empty((n, self.cap), order="F") if not D.is_sparse else None
        self.G = np.empty((self.cap, self.cap))
        self._csc = None
        if D.is_sparse:
            from scipy import sparse

            self._csc = sparse.csc_matrix((D.data, D.indices, D.indptr), shape=(n, p))
        self.active: ActiveSet | None = None
        self.c_key: bytes | None = None
        self.c_full: np.ndarray | None = None
        self.lock = threading.Lock()

    def correlations(self, yc, compute):
        """``X_c^T (s y_c)`` (``compute(yc)``), kept for the next call with the same ``yc``."""
        key = yc.tobytes()
        if self.c_key != key:
            self.c_full = compute(yc)
            self.c_key = key
        return self.c_full

    def _columns(self, idx):
        Xi = np.asarray(self.D.dense[:, idx], dtype=np.float64)
        return (Xi - self.xbar[idx]) * self.sqrt_s[:, None]

    def ensure(self, S) -> bool:
        """Make sure the Gram entries of the features ``S`` (and those kept) are available."""
        S = np.asarray(S, dtype=np.int64)
        new = np.unique(S[self.pos[S] < 0])
        if new.size == 0:
            return True
        keep = self.active.features() if self.active is not None else np.zeros(0, np.int64)
        if self.m + new.size > self.cap:  # start over with what is needed now
            need = np.unique(np.concatenate([S, keep]))
            if need.size > self.cap:
                return False
            self.pos[:] = -1
            self.m = 0
            new = need
        k, m = new.size, self.m
        if self.D.is_sparse:
            from scipy import sparse

            Xn = self._csc[:, new]
            sXn = sparse.diags(self.s) @ Xn
            self.G[m:m + k, m:m + k] = ((Xn.T @ sXn).toarray()
                                        - np.outer(self.xbar[new], self.xbar[new]))
            if m:
                old = np.flatnonzero(self.pos >= 0)
                old = old[np.argsort(self.pos[old])]
                cross = ((self._csc[:, old].T @ sXn).toarray()
                         - np.outer(self.xbar[old], self.xbar[new]))
                self.G[:m, m:m + k] = cross
                self.G[m:m + k, :m] = cross.T
        else:
            An = self._columns(new)
            self.A[:, m:m + k] = An
            if m:
                cross = self.A[:, :m].T @ An
                self.G[:m, m:m + k] = cross
                self.G[m:m + k, :m] = cross.T
            self.G[m:m + k, m:m + k] = An.T @ An
        self.pos[new] = np.arange(m, m + k)
        self.m += k
        return True

    def gram_col(self, S, j):
        return self.G[self.pos[S], self.pos[j]]

    def gram_diag(self, j):
        return float(self.G[self.pos[j], self.pos[j]])


class ActiveSet:
    """Ordered active features and the Cholesky factor of ``G_S + l2 I``."""

    def __init__(self, cache: GramCache, l2: float):
        self.cache = cache
        self.l2 = l2
        cap = cache.cap
        self.L = np.zeros((cap, cap))
        self.feat = np.empty(cap, dtype=np.int64)
        self.s = 0
        self.updates = 0

    def features(self):
        return self.feat[:self.s].copy()

    def add(self, j) -> bool:
        if self.s >= self.cache.cap:
            return False
        S = self.feat[:self.s]
        c = self.cache.gram_col(S, j) if self.s else np.zeros(0)
        gamma = self.cache.gram_diag(j) + self.l2
        if not gamma > 0.0:
            return False
        ok = chol_add(self.L, self.s, np.ascontiguousarray(c), gamma)
        if ok:
            self.feat[self.s] = j
            self.s += 1
            self.updates += 1
        return bool(ok)

    def delete(self, k):
        chol_delete(self.L, self.s, k)
        self.feat[k:self.s - 1] = self.feat[k + 1:self.s].copy()
        self.s -= 1
        self.updates += 1

    def refactor(self) -> bool:
        S = self.features()
        s = S.size
        if s == 0:
            self.updates = 0
            return True
        P = self.cache.pos[S]
        G = self.cache.G[np.ix_(P, P)]
        G[np.diag_indices_from(G)] += self.l2
        try:
            Lf = sla.cholesky(G, lower=True, check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            return False
        if not np.all(np.isfinite(Lf)):
            return False
        self.L[:s, :s] = Lf
        self.updates = 0
        return True

    def sync(self, target) -> bool:
        """Make the active features equal ``target`` (order kept where possible)."""
        target = np.asarray(target, dtype=np.int64)
        if not self.cache.ensure(target):
            return False
        want = np.zeros(self.cache.D.p, dtype=bool)
        want[target] = True
        for k in range(self.s - 1, -1, -1):
            if not want[self.feat[k]]:
                self.delete(k)
        have = np.zeros(self.cache.D.p, dtype=bool)
        have[self.feat[:self.s]] = True
        for j in target:
            if not have[j] and not self.add(j):
                return False
        return True


def get_cache(D, s, fit_intercept, xbar) -> GramCache:
    """The design's :class:`GramCache` for these weights, made anew if it was for others."""
    key = (s.tobytes(), bool(fit_intercept))
    cache = D.gram
    if cache is None or cache.key != key:
        cache = GramCache(D, s, fit_intercept, xbar)
        D.gram = cache
    return cache


def _segment_min(wS, d, a, b, l1):
    """Minimizer ``t`` in [0, 1] of ``2 b t + a t**2 + l1 sum_j |w_j + t d_j|`` (a > 0).

    A zero coordinate takes the sign of ``d_j`` for small ``t > 0``. Returns ``(t, idx)`` with
    ``idx`` the coordinate that sits exactly at 0 there (or -1).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        tb = -wS / d
    cand = np.flatnonzero((tb > 0.0) & (tb < 1.0) & (wS != 0.0))
    order = cand[np.argsort(tb[cand], kind="stable")]
    sg = np.where(wS != 0.0, np.sign(wS), np.sign(d))
    slope = l1 * float(np.sum(sg * d))
    tlo = 0.0
    for idx in order:
        thi = float(tb[idx])
        tstar = -(2.0 * b + slope) / (2.0 * a)
        if tstar <= thi:
            return max(tstar, tlo), -1
        slope -= 2.0 * l1 * sg[idx] * d[idx]
        if 2.0 * b + 2.0 * a * thi + slope >= 0.0:
            return thi, int(idx)
        tlo = thi
    tstar = -(2.0 * b + slope) / (2.0 * a)
    return min(max(tstar, tlo), 1.0), -1


class ActiveSetSolver:
    """Drives the method of the module docstring for one problem (one lam)."""

    def __init__(self, cache: GramCache, c_full, l1, l2):
        self.cache = cache
        if cache.active is None or cache.active.l2 != l2:
            cache.active = ActiveSet(cache, l2)
        self.AS = cache.active
        self.c_full = c_full  # X_c^T (s y_c): the correlations at w = 0
        self.l1 = l1
        self.l2 = l2

    def start(self, w) -> bool:
        S = np.flatnonzero(w)
        if not self.AS.sync(S):
            return False
        if self.AS.updates > max(50, self.AS.s // 2):
            return self.AS.refactor()
        return True

    def newton(self, w, sigma_new=None, max_steps=200) -> int:
        """Newton / feature-sign steps on the active set (``w`` modified in place).

        ``sigma_new``: dict feature -> sign for active features at 0 (entering). Returns the
        number of steps, or -1 on a numerical failure."""
        AS, l1 = self.AS, self.l1
        steps = 0
        while steps < max_steps:
            s = AS.s
            if s == 0:
                return steps
            S = AS.feat[:s]
            wS = w[S]
            sigma = np.sign(wS)
            if sigma_new:
                for k in np.flatnonzero(sigma == 0.0):
                    sigma[k] = sigma_new.get(int(S[k]), 0.0)
            target = chol_solve(AS.L, s, self.c_full[S] - 0.5 * l1 * sigma)
            if not np.all(np.isfinite(target)):
                return -1
            if sigma_new:
                # an entering feature whose Newton coordinate has the wrong sign does not enter
                # (with a single entering feature at an optimum on S this cannot happen)
                ent = np.flatnonzero(wS == 0.0)
                bad = ent[np.sign(target[ent]) != sigma[ent]]
                if bad.size:
                    if bad.size == ent.size:  # keep the first (largest violation) only
                        order = {j: r for r, j in enumerate(sigma_new)}
                        first = min(ent, key=lambda k: order.get(int(S[k]), 1 << 30))
                        bad = bad[bad != first]
                        if bad.size == 0:
                            sigma_new.clear()  # it cannot move: give up on it
                            bad = ent
                    for k in np.sort(bad)[::-1]:
                        sigma_new.pop(int(S[k]), None)
                        AS.delete(int(k))
                    continue
            steps += 1
            if np.all(np.sign(target) == sigma):
                w[S] = target
                return steps
            d = target - wS
            Ld = chol_lt(AS.L, s, d)
            Lw = chol_lt(AS.L, s, wS)
            a = float(Ld @ Ld)
            b = -float(self.c_full[S] @ d) + float(Lw @ Ld)
            if not a > 0.0:
                return -1
            t, idx = _segment_min(wS, d, a, b, l1)
            new = wS + t * d
            if idx >= 0:
                new[idx] = 0.0
            w[S] = new
            zero = np.flatnonzero(new == 0.0)
            if zero.size == 0 and t <= 0.0:
                return -1
            for k in zero[::-1]:
                AS.delete(int(k))
            if sigma_new:
                sigma_new.clear()
        return steps

    def add(self, js, signs, sigma_new) -> int:
        """Activate features ``js`` (in order of priority) at 0 with entering signs ``signs``."""
        if not self.cache.ensure(np.concatenate([self.AS.features(), js])):
            return 0
        added = 0
        for j, sg in zip(js, signs, strict=True):
            if self.AS.add(int(j)):
                sigma_new[int(j)] = float(sg)
                added += 1
        return added
