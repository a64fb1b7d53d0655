"""Second moments of ``[X, y]`` per fold, accumulated over batches without losing digits.

For each fold ``k`` the statistics are the weight sum ``W_k``, the row count ``n_k``, the
weighted mean ``m_k`` of ``z = [x, y]`` (``q = p + 1`` values) and the weighted **centred**
co-moment matrix ``M_k = sum_i w_i (z_i - m_k)(z_i - m_k)^T``. From them every quantity of the
squared loss is exact arithmetic on ``q x q`` matrices: the centred Gram ``M_xx / W``, ``X^T W y``
centred ``M_xy / W``, ``y^T W y`` centred ``M_yy / W``, the column sums ``W m``.

Numerics (why 10^9 rows keep their digits): never raw sums of squares, which lose every digit of
a spread that is small next to the mean (a column ``1e8 + N(0, 1)`` has ``sum x**2 ~ 1e16 n``
and its variance vanishes in the rounding). Instead:

* **within a batch**, the corrected two-pass algorithm: ``m0`` the batch's weighted mean,
  ``d = sum w (z - m0) / W`` the rounding left in it, ``M = sum w (z - m0)(z - m0)^T - W d d^T``
  (one BLAS product on centred values);
* **between batches and partitions**, Chan, Golub & LeVeque's pairwise update: merging ``a`` and
  ``b`` with ``delta = m_b - m_a``::

      W = W_a + W_b,  m = m_a + delta W_b / W,  M = M_a + M_b + delta delta^T W_a W_b / W

  so only centred quantities are ever added.

Merges happen in a fixed order (batches in file order, partitions in partition order), so the
bits do not depend on how a pass was scheduled.

Training statistics of fold ``k`` are "all folds but k": merged from the other folds' statistics
(prefix and suffix merges), which is the totals minus fold ``k`` without the cancellation of a
subtraction of co-moments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FoldMoments:
    """``W [K]``, ``n [K]`` (rows), ``mean [K, q]``, ``M [K, q, q]``: see the module docstring.

    ``raw_n``, ``raw_mean``, ``raw_m2`` are the unweighted count, mean and centred sum of squares
    of every column of ``z`` over all rows (the standardization's moments, as in memory)."""

    W: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    M: np.ndarray
    raw_n: int = 0
    raw_mean: np.ndarray | None = None
    raw_m2: np.ndarray | None = None

    @classmethod
    def empty(cls, K: int, q: int) -> "FoldMoments":
        return cls(np.zeros(K), np.zeros(K, dtype=np.int64), np.zeros((K, q)),
                   np.zeros((K, q, q)), 0, np.zeros(q), np.zeros(q))

    @property
    def K(self) -> int:
        return self.W.shape[0]

    def fold(self, k: int) -> tuple[float, np.ndarray, np.ndarray]:
        """``(W, mean, M)`` of fold ``k``."""
        return float(self.W[k]), self.mean[k], self.M[k]

    def total(self) -> tuple[float, np.ndarray, np.ndarray]:
        """``(W, mean, M)`` of all folds, merged in fold order."""
        W, m, M = 0.0, np.zeros(self.mean.shape[1]), np.zeros(self.M.shape[1:])
        for k in range(self.K):
            W, m, M = merge(W, m, M, *self.fold(k))
        return W, m, M

    def training(self) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """``(W, mean, M)`` of every fold's training rows (all folds but ``k``), merged from
        prefix and suffix merges in fold order."""
        K, q = self.K, self.mean.shape[1]
        zero = (0.0, np.zeros(q), np.zeros((q, q)))
        pre = [zero]
        for k in range(K - 1):
            pre.append(merge(*pre[-1], *self.fold(k)))
        suf = [zero] * K
        for k in range(K - 1, 0, -1):
            suf[k - 1] = merge(*self.fold(k), *suf[k]) if k < K else zero
        return [merge(*pre[k], *suf[k]) for k in range(K)]

    def merged(self, other: "FoldMoments") -> "FoldMoments":
        """``self`` then ``other`` (rows of ``other`` after those of ``self``)."""
        out = FoldMoments.empty(self.K, self.mean.shape[1])
        for k in range(self.K):
            out.W[k], out.mean[k], out.M[k] = merge(*self.fold(k), *other.fold(k))
        out.n = self.n + other.n
        out.raw_n, out.raw_mean, out.raw_m2 = merge_raw(
            self.raw_n, self.raw_mean, self.raw_m2, other.raw_n, other.raw_mean, other.raw_m2)
        return out


def merge(Wa, ma, Ma, Wb, mb, Mb):
    """Chan's pairwise merge of two weighted centred moment sets (module docstring)."""
    if Wb == 0.0:
        return Wa, ma, Ma
    if Wa == 0.0:
        return Wb, mb, Mb
    W = Wa + Wb
    delta = mb - ma
    m = ma + delta * (Wb / W)
    M = Ma + Mb + np.outer(delta, delta) * (Wa * Wb / W)
    return W, m, M


def merge_raw(na, ma, m2a, nb, mb, m2b):
    """The same merge for the unweighted per-column ``(count, mean, sum of squared
    deviations)``."""
    if nb == 0:
        return na, ma, m2a
    if na == 0:
        return nb, mb, m2b
    n = na + nb
    delta = mb - ma
    return n, ma + delta * (nb / n), m2a + m2b + delta * delta * (na * nb / n)


def batch_moments(Z, w, fold, K: int) -> FoldMoments:
    """The :class:`FoldMoments` of one batch: ``Z`` [m, q] float64, weights ``w`` [m] (>= 0),
    ``fold`` [m] ints in ``0..K-1``; corrected two-pass centring per fold (module docstring)."""
    m, q = Z.shape
    out = FoldMoments.empty(K, q)
    if m == 0:
        return out
    for k in range(K):
        idx = np.flatnonzero(fold == k)
        out.n[k] = idx.size
        if idx.size == 0:
            continue
        Zk, wk = Z[idx], w[idx]
        Wk = float(wk.sum())
        if Wk == 0.0:
            continue
        m0 = (wk @ Zk) / Wk
        C = Zk - m0
        d = (wk @ C) / Wk
        out.W[k] = Wk
        out.mean[k] = m0 + d
        out.M[k] = (C * wk[:, None]).T @ C - Wk * np.outer(d, d)
    c0 = Z.mean(axis=0)
    C = Z - c0
    d = C.mean(axis=0)
    out.raw_n = m
    out.raw_mean = c0 + d
    out.raw_m2 = np.einsum("ij,ij->j", C, C) - m * d * d
    return out


def standardized(W, mean, M, means, scales) -> tuple[float, np.ndarray, np.ndarray]:
    """Moments of ``z`` -> moments of ``[(x - means) / scales, y]`` (y untouched): the mean moves
    and scales, ``M`` scales by ``D^-1 M D^-1`` (centred moments do not move)."""
    p = means.shape[0]
    shift = np.append(means, 0.0)
    sc = np.append(scales, 1.0)
    assert mean.shape[0] == p + 1
    return W, (mean - shift) / sc, M / np.outer(sc, sc)


def squared_problem(W, mean, M):
    """``(G, c, yty, xbar, ybar)``: the centred Gram ``G = M_xx / W``, ``c = M_xy / W``,
    ``yty = M_yy / W`` (weights normalized to sum 1) and the means, from ``(W, mean, M)`` of
    ``[x, y]``."""
    G = M[:-1, :-1] / W
    c = M[:-1, -1] / W
    return G, c, float(M[-1, -1] / W), mean[:-1], float(mean[-1])
