"""The working-set coordinate descent of :mod:`regulab.solvers._cd_kernels` for a CSC X: the
same iterates, with the column loops written inline.

It minimizes the same objective, ``(1/n) sum_i r_i**2 + l1 ||w||_1 + l2 ||w||_2**2`` over the
coordinates of a working set ``ws``, ``r = q + c`` the residual at the best intercept (``q = y_c
- X w`` on the stored entries, the scalar ``c = xbar.w``; see :mod:`._cd_kernels`), by the same
update ``w_j = ST(g_j + L_j w_j, l1/2) / (L_j + l2)``, ``g_j = (1/n) sum_i x_ij q_i + c xbar_j``.

With sample weights ``s`` (summing to 1; the trailing argument ``s`` of :func:`cd_sparse_ws`,
:func:`epoch_sparse` and :func:`_anderson_sparse`) the objective is ``sum_i s_i r_i**2 + ...``
and ``g_j = sum_i s_i x_ij q_i + c xbar_j`` (``L``, ``xbar`` the weighted ones), as in the
general kernel's ``col_wdot``. Left out (``None``, the default), numba compiles the equal-weight
specialization with the weighted branches pruned at compile time: its loops' machine code and
its results' bits are the ones of the kernel before weights were added ("Eleventh round" in
docs/benchmarks.md; the weighted wide path ran the general kernel at ~114 ns per column visit,
here ~22).

Why a second copy: with ~20 stored entries per column (the many-non-zeros sparse benchmark) the
general epoch spent about as much per column on its set-up as on the entries (the dense/sparse
and weighted branches, the calls of ``col_dot``/``col_axpy``, a vectorized gather with its
remainder loop and horizontal sum). Here each column is one scalar loop with four accumulators
(written out, no compiler reassociation), measured 6.4 against 9.4 ns per stored entry on one
epoch over 14,000 columns with two accumulators (docs/benchmarks.md); four cut the chain of
dependent multiply-adds of a ~20-entry column in half (in the path, 4.3 -> 3.6 ns per stored
entry on sparse-many, "Seventh round"). The results differ from the general kernel's only by
rounding, and each answer is certified by the same duality gap afterwards.

Each epoch asks the processor for the stored entries of the column ``AHEAD`` places further
in the working set (a prefetch: no change to any result). A working set's columns are short
runs scattered over X, which the hardware prefetcher does not foresee; in the path about as
much time went into waiting for them as into the arithmetic (docs/benchmarks.md, "Seventh
round").

The solver passes int32 row indices and column pointers as ``uint32`` views
(:func:`regulab.solvers._design_kernels.unsigned`): numba then reads ``q[indices[t]]`` without
its wrap-around test for a negative index (sparse-tall: 1.50 -> 0.84 ns per stored entry, the
same bits; "Ninth round").
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers import _design_kernels as DK
from regulab.solvers._cd_kernels import _kkt_violation, _st_update, _wmean_sq, anderson_solve

#: fused multiply-add only: no reassociation (each column's sum is the plain loop's)
_FM = {"contract"}
#: the column prefetched while one is visited: this many places further in the working set
#: (in the path, ns per stored entry, sparse-many / sparse-tall: none 4.67 / 2.29, 2 ahead
#: 4.35 / 1.99, 4: 4.24 / 2.03, 8: 4.23 / 1.98, 16: 4.28 / 2.04; docs/benchmarks.md,
#: "Seventh round")
AHEAD = 8


@njit(cache=True, fastmath=_FM)
def _prefetch_column(data, indices, indptr, w, L, xbar, j):
    """Prefetch what visiting column ``j`` reads: the cache lines of its stored entries (8
    values, 16 int32 or 8 int64 row indices per 64-byte line) and its ``w``, ``L``, ``xbar``
    (arrays over p, together larger than L2 on a wide X)."""
    DK.prefetch(w, j)
    DK.prefetch(L, j)
    DK.prefetch(xbar, j)
    DK.prefetch_span(data, indices, indptr[j], indptr[j + 1])


@njit(cache=True, fastmath=_FM)
def _col_dot(data, indices, a, b, q, s=None):
    """``sum_{t in [a, b)} x_t * q[i_t]``, ``i_t = indices[t]``, with ``x_t = data[t]``, or
    ``data[t] * s[i_t]`` given the sample weights ``s`` (each product as ``col_wdot`` takes
    it; ``s is None`` is decided when numba compiles, so the equal-weight loop reads no weight).
    Four accumulators (``t - a`` mod 4; the last ``(b - a) mod 4`` entries into the first),
    added pairwise at the end."""
    g0 = 0.0
    g1 = 0.0
    g2 = 0.0
    g3 = 0.0
    t = a
    while t + 3 < b:
        i0 = indices[t]
        i1 = indices[t + 1]
        i2 = indices[t + 2]
        i3 = indices[t + 3]
        g0 += (data[t] if s is None else data[t] * s[i0]) * q[i0]
        g1 += (data[t + 1] if s is None else data[t + 1] * s[i1]) * q[i1]
        g2 += (data[t + 2] if s is None else data[t + 2] * s[i2]) * q[i2]
        g3 += (data[t + 3] if s is None else data[t + 3] * s[i3]) * q[i3]
        t += 4
    while t < b:
        i0 = indices[t]
        g0 += (data[t] if s is None else data[t] * s[i0]) * q[i0]
        t += 1
    return (g0 + g1) + (g2 + g3)


@njit(cache=True, fastmath=_FM)
def epoch_sparse(data, indices, indptr, inv_n, xbar, L, ws, w, q, c, l1, l2, s=None):
    """One pass of coordinate descent over ``ws`` (``w``, ``q`` in place). Returns ``(c, kkt)``,
    ``kkt`` the largest KKT violation met (true gradient units), each coordinate measured when
    visited, as :func:`regulab.solvers._cd_kernels._cd_epoch`. ``s``: the sample weights (then
    ``inv_n`` is not read), or None for equal ones (a compile-time branch)."""
    half = 0.5 * l1
    vmax = 0.0
    m = ws.size
    for k in range(min(AHEAD, m)):
        _prefetch_column(data, indices, indptr, w, L, xbar, ws[k])
    for k in range(m):
        if k + AHEAD < m:
            _prefetch_column(data, indices, indptr, w, L, xbar, ws[k + AHEAD])
        j = ws[k]
        a = indptr[j]
        b = indptr[j + 1]
        if s is None:
            g = _col_dot(data, indices, a, b, q) * inv_n + c * xbar[j]
        else:
            g = _col_dot(data, indices, a, b, q, s) + c * xbar[j]
        old = w[j]
        v = _kkt_violation(g - l2 * old, old, half)
        if v > vmax:
            vmax = v
        Lj = L[j]
        new = _st_update(g + Lj * old, half, Lj + l2)
        if new != old:
            d = new - old
            for t in range(a, b):
                q[indices[t]] -= d * data[t]
            c += xbar[j] * d
            w[j] = new
    return c, 2.0 * vmax


@njit(cache=True, fastmath=_FM)
def _anderson_weights(hist, cw):
    """:func:`regulab.solvers._cd_kernels.anderson_weights` with ``U U^T`` built in one pass
    over the iterates (all ``K (K + 1) / 2`` products per coordinate at once, where the general
    function reads the history once per product: on a working set of 12,000 features that was
    about one CD epoch per extrapolation)."""
    K = hist.shape[0] - 1
    m = hist.shape[1]
    A = np.empty((K, K + 1))
    for a in range(K):
        for b in range(K + 1):
            A[a, b] = 0.0
    du = np.empty(K)
    for k in range(m):
        for a in range(K):
            du[a] = hist[a + 1, k] - hist[a, k]
        for a in range(K):
            for b in range(a, K):
                A[a, b] += du[a] * du[b]
    for a in range(K):
        for b in range(a + 1, K):
            A[b, a] = A[a, b]
    return anderson_solve(A, cw)


@njit(cache=True, fastmath=_FM)
def _anderson_sparse(ws, w, q, c, l1, l2, inv_n, hist, qhist, chist, cw, w_acc, q_acc,
                     s=None):
    """:func:`regulab.solvers._cd_kernels._anderson_step` for this case: the extrapolation
    ``sum_a cw_a w^(a)`` of the iterates in ``hist``, kept (``w``, ``q`` in place) if it lowers
    the objective (weighted by ``s`` unless None). Returns ``c``.

    Its residual is the same combination of the stored residuals (``qhist``, ``chist``): ``q`` is
    affine in ``w`` and the weights sum to 1, so this is ``y_c - X w_acc`` up to rounding, at
    O(K n) sequential work instead of a scatter over every stored entry of the working set."""
    if not _anderson_weights(hist, cw):
        return c
    m = ws.size
    n = q.size
    K = hist.shape[0] - 1
    for k in range(m):
        acc = 0.0
        for a in range(K):
            acc += cw[a] * hist[a + 1, k]
        w_acc[k] = acc
    for i in range(n):
        acc = 0.0
        for a in range(K):
            acc += cw[a] * qhist[a + 1, i]
        q_acc[i] = acc
    c_acc = 0.0
    for a in range(K):
        c_acc += cw[a] * chist[a + 1]
    pen_cur = 0.0
    pen_acc = 0.0
    for k in range(m):
        j = ws[k]
        pen_cur += l1 * abs(w[j]) + l2 * w[j] * w[j]
        pen_acc += l1 * abs(w_acc[k]) + l2 * w_acc[k] * w_acc[k]
    if s is None:  # equal weights: _wmean_sq never reads its weights argument (q stands in)
        lower = (_wmean_sq(q_acc, c_acc, q, False, inv_n) + pen_acc
                 < _wmean_sq(q, c, q, False, inv_n) + pen_cur)
    else:
        lower = (_wmean_sq(q_acc, c_acc, s, True, inv_n) + pen_acc
                 < _wmean_sq(q, c, s, True, inv_n) + pen_cur)
    if lower:
        for k in range(m):
            w[ws[k]] = w_acc[k]
        for i in range(n):
            q[i] = q_acc[i]
        c = c_acc
    return c


@njit(cache=True, fastmath=_FM)
def cd_sparse_ws(data, indices, indptr, inv_n, xbar, L, ws, w, q, c, l1, l2, tol_in, max_epochs,
                 K, s=None):
    """:func:`regulab.solvers._cd_kernels.cd_squared_ws` for a CSC X, with the sample weights
    ``s`` (summing to 1) or equal ones (``s`` None: ``inv_n`` scales the sums).

    Epochs of :func:`epoch_sparse` over ``ws`` (``w``, ``q`` in place) until the largest KKT
    violation of an epoch is ``<= tol_in`` or ``max_epochs``; every ``K + 1`` epochs (``K > 0``)
    an Anderson extrapolation of the last iterates, kept if it lowers the objective
    (:func:`_anderson_sparse`). Returns ``(epochs, c, kkt)``.
    """
    m = ws.size
    n = q.size
    hist = np.empty((K + 1, m))
    qhist = np.empty((K + 1, n if K > 0 else 0))
    chist = np.empty(K + 1)
    q_acc = np.empty(n if K > 0 else 0)
    cw = np.empty(max(K, 1))
    w_acc = np.empty(m)
    n_hist = 0
    epoch = 0
    kkt = np.inf
    while epoch < max_epochs:
        epoch += 1
        c, kkt = epoch_sparse(data, indices, indptr, inv_n, xbar, L, ws, w, q, c, l1, l2, s)
        if kkt <= tol_in:
            break
        if K > 0:
            for k in range(m):
                hist[n_hist, k] = w[ws[k]]
            for i in range(n):
                qhist[n_hist, i] = q[i]
            chist[n_hist] = c
            n_hist += 1
            if n_hist == K + 1:
                n_hist = 0
                c = _anderson_sparse(ws, w, q, c, l1, l2, inv_n, hist, qhist, chist, cw, w_acc,
                                     q_acc, s)
    return epoch, c, kkt
