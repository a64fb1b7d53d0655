"""Compiled (numba) kernels of the squared-loss coordinate descent, and its duality gap.

They work on the design representation of :mod:`regulab.solvers._design_kernels` (dense X
flattened in Fortran order, or CSC arrays; ``data`` keeps its dtype, arithmetic in float64), so
residuals, gradients and duality gaps are accumulated in float64.

The intercept is handled by implicit weighted centering. With ``xbar_j = sum_i s_i x_ij`` (0 when
no intercept is fitted), the residual of ``w`` at its optimal intercept ``b* = ybar - xbar.w`` is
stored as ``r = q + c`` with the vector ``q = y - ybar - X w`` and the scalar ``c = xbar.w``: a
coordinate move of ``w_j`` by ``d`` changes ``q`` only on the stored entries of column ``j`` and
``c`` by ``xbar_j * d``, so sparse columns are never densified. Because ``sum_i s_i r_i = 0``,
the centered partial gradient is ``g_j = sum_i s_i (x_ij - xbar_j) r_i
= sum_i s_i x_ij q_i + c * xbar_j``.

Every duality gap of the squared loss (here and in :mod:`regulab.solvers.exact`) is
:func:`duality_gap`, fed with sums that each caller takes where its data lives.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers._design_kernels import (
    FASTMATH,
    bits_float,
    col_axpy,
    col_dot,
    col_wdot,
    float_bits,
    lowest_bit,
)


# --------------------------------------------------------------------------------------------
# the duality gap
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=False)
def duality_gap(quad, lin, nrm1, nrm2, vmax, conj, l1, l2):
    """``(primal, gap)`` of :func:`regulab.core.certificates.duality_gap_squared` from its sums.

    There, for ``P(w, b) = sum_i s_i (y_i - x_i.w - b)**2 + l1 ||w||_1 + l2 ||w||_2**2``, the dual
    point is ``theta_i = 2 s_i r_i`` with ``r`` the residual at the best intercept ``b*``, and
    ``D(theta) = sum_i theta_i y_i - sum_i theta_i**2 / (4 s_i) - g*(X^T theta)``. In the sums
    taken by the callers (``y_c = y - ybar``, ``X_c`` centered with the weights ``s``; no
    centering without an intercept)::

        quad = sum_i s_i r_i**2            = sum_i theta_i**2 / (4 s_i)
        lin  = 2 sum_i s_i r_i y_c,i       = sum_i theta_i y_i     (sum_i theta_i = 0 with b*)
        g    = X_c^T (s r),  X^T theta = 2 g
        vmax = max_j 2 |g_j|,  conj = sum_j max(2 |g_j| - l1, 0)**2
        nrm1 = ||w||_1,  nrm2 = ||w||_2**2   (only read when l2 > 0)

    so ``P = quad + l1 nrm1 + l2 nrm2`` and ``D = lin - quad - conj / (4 l2)`` when ``l2 > 0``;
    when ``l2 = 0``, ``g*`` is the indicator of ``|X^T theta|_inf <= l1``, ``theta`` is scaled
    by ``c = min(1, l1 / vmax)`` into it and ``D(c theta) = c lin - c**2 quad``. Returns
    ``(P, max(P - D, 0))``. No fastmath: the certificate keeps IEEE arithmetic.
    """
    primal = quad + l1 * nrm1 + l2 * nrm2
    if l2 > 0.0:
        dual = lin - quad - conj / (4.0 * l2)
    else:
        c = 1.0 if vmax <= l1 else l1 / vmax
        dual = c * lin - c * c * quad
    return primal, max(primal - dual, 0.0)


@njit(cache=True, fastmath=False)
def _dual_terms(g, l1, vmax, conj):
    """``(vmax, conj)`` of :func:`duality_gap` updated with one coordinate's ``g_j``."""
    v = 2.0 * abs(g)
    if v > vmax:
        vmax = v
    if v > l1:
        conj += (v - l1) * (v - l1)
    return vmax, conj


@njit(cache=True, fastmath=False)
def gap_sums(g, w, l1, l2):
    """``(vmax, conj, nrm1, nrm2)`` of :func:`duality_gap` from the gradient ``g`` and ``w``
    (``conj`` and ``nrm2`` only when ``l2 > 0``, else 0), each in one pass over p (numpy took
    four). Four partial sums: one chain of dependent additions was the cost. The maximum of
    ``|g_j|`` (NaN ignored, 0 at least, as ``max`` by ``>`` gave it) is taken on the floats'
    bits (:func:`regulab.solvers._design_kernels.float_bits`), which LLVM vectorizes: 16 ->
    10-11 us a call at p = 50,000."""
    p = g.size
    m = p - p % 4
    vbits = 0
    for j in range(np.uint64(0), np.uint64(p)):  # unsigned: no wrap-around test per read
        a = abs(g[j])
        vbits = max(vbits, float_bits(a if a > 0.0 else 0.0))  # NaN never wins
    vmax = 2.0 * bits_float(vbits)
    conj = nrm2 = 0.0
    if l2 > 0.0:
        for j in range(p):
            _, conj = _dual_terms(g[j], l1, 0.0, conj)
            nrm2 += w[j] * w[j]
    a0 = a1 = a2 = a3 = 0.0
    for j in range(0, m, 4):
        a0 += abs(w[j])
        a1 += abs(w[j + 1])
        a2 += abs(w[j + 2])
        a3 += abs(w[j + 3])
    for j in range(m, p):
        a0 += abs(w[j])
    return vmax, conj, (a0 + a1) + (a2 + a3), nrm2


@njit(cache=True, fastmath=False)
def _kkt_violation(h, w, half):
    """Distance of ``h = g_j - l2 w_j`` to ``(l1 / 2) d|w_j|`` (half the true gradient units)."""
    if w == 0.0:
        return abs(h) - half
    if w > 0.0:
        return abs(h - half)
    return abs(h + half)


@njit(cache=True, fastmath=False)
def _st_update(zz, half, denom):
    """``ST(zz, half) / denom``, the coordinate update ``w_j = ST(g_j + L_j w_j, l1/2) / (L_j +
    l2)`` of every squared-loss CD here (``zz = g_j + L_j w_j``, ``denom = L_j + l2``)."""
    if zz > half:
        return (zz - half) / denom
    if zz < -half:
        return (zz + half) / denom
    return 0.0


@njit(cache=True, fastmath=False)
def moved_residual(data, indices, indptr, n, is_sparse, w, w_a, w_b, t, q_a, q_b, max_share,
                   supp_a, supp_b):
    """``q = y_c - X w`` from ``q_a``, ``q_b`` at ``w_a``, ``w_b``: ``q_b + t (q_b - q_a)`` is
    the residual at ``line = w_b + t (w_b - w_a)`` (it is affine in ``w``), less ``X (w -
    line)`` on the columns where ``w`` is off the line. Returns ``(True, q)``, or ``(False,
    q_b)`` when more than ``max_share`` of ``w_b``'s non-zeros are off (a product with X costs
    less then). One pass over p (``line`` by the expression of
    :func:`regulab.selection.path.path_step_ahead`, so its start is on it to the bit) and one
    over n, where numpy took eight over p (95 us a call at p = 50,000).

    ``supp_a``, ``supp_b``: the non-zeros of ``w_a`` and ``w_b`` (sorted ``int64``), with ``w``'s
    among ``supp_b``'s (a path's start, :func:`regulab.selection.path.path_step_ahead`), or both
    empty (unknown). Off their union every term is 0 on and off the line: the pass then visits
    the union alone (the same columns off the line, in the same order, so the same ``q``)."""
    p = w.size
    n_off = 0
    nnz = 0
    if supp_a.size + supp_b.size == 0:
        off = np.empty(p, np.int64)
        for j in range(p):
            b = w_b[j]
            if b != 0.0:
                nnz += 1
            if w[j] != b + t * (b - w_a[j]):
                off[n_off] = j
                n_off += 1
    else:
        off = np.empty(supp_a.size + supp_b.size, np.int64)
        nnz = supp_b.size
        ia = 0
        ib = 0
        while ia < supp_a.size or ib < supp_b.size:  # the two sorted lists merged
            if ib >= supp_b.size or (ia < supp_a.size and supp_a[ia] < supp_b[ib]):
                j = supp_a[ia]
                ia += 1
            else:
                j = supp_b[ib]
                if ia < supp_a.size and supp_a[ia] == j:
                    ia += 1
                ib += 1
            b = w_b[j]
            if w[j] != b + t * (b - w_a[j]):
                off[n_off] = j
                n_off += 1
    if n_off > max_share * nnz:
        return False, q_b
    q = np.empty(n)
    for i in range(n):
        q[i] = q_b[i] + t * (q_b[i] - q_a[i])
    for k in range(n_off):
        j = off[k]
        b = w_b[j]
        col_axpy(data, indices, indptr, n, is_sparse, j, -(w[j] - (b + t * (b - w_a[j]))), q)
    return True, q


@njit(cache=True, fastmath=False)
def start_vs_last(w, w_last):
    """One pass over a start ``w`` and the last solution ``w_last`` (a solve on a path):
    ``(same, within, nnz_last)``. ``same``: every entry equal (``np.array_equal``); ``within``:
    ``w`` has a non-zero and each of its non-zeros is one of ``w_last``'s; ``nnz_last``: the
    non-zeros of ``w_last``. Branch-free; numpy took five passes over p for the three."""
    same = True
    nz_any = False
    outside = False
    nnz = 0
    for j in range(w.size):
        a = w[j]
        b = w_last[j]
        nz = a != 0.0
        same &= a == b
        nz_any |= nz
        outside |= nz & (b == 0.0)
        nnz += b != 0.0
    return same, nz_any and not outside, nnz


#: :func:`kkt_ws_select` streams through a buffer up to this many picks, above it samples
STREAM_MAX = 256
#: ... from about this many of the candidates' scores
SAMPLE = 4096


#: :func:`kkt_ws_select`'s ``hint``: the next pass starts its threshold this share of the m-th
#: best score's magnitude below it (along sparse-few's path 95 of 98 passes then still had m
#: scores above the start; 80 of 98 at 0, 97 at 3: docs/benchmarks.md, "Tenth round")
HINT_SLACK = 0.5


@njit(cache=True, fastmath=False)
def kkt_ws_select(g, w, l1, l2, sqrtL, active, nnz, m, reach, cand, hint=None):
    """One pass over the features for the working-set loop of
    :mod:`regulab.solvers.exact.squared_cd`: ``kkt`` the largest KKT violation in true gradient
    units (:func:`regulab.solvers.exact.squared.kkt_squared`; ``g`` is 0 where not active),
    ``ws`` the support (active ``j`` with ``w_j != 0``; ``nnz`` of them at
    most) and the ``m`` other active features of largest score, the distance to the dual
    constraint ``(|g_j - l2 w_j| - l1/2) / sqrt(L_j)``, sorted (``int64``).

    Ties in the score go to the lower index (the ``np.argpartition`` over all scores this
    replaced broke them in no stated order, and cost 2-4x this pass on the sparse rows of
    benchmarks/table.py). Up to ``STREAM_MAX`` picks, candidates go to a buffer of ``2 m`` while
    their score beats the ``m``-th best kept so far (a later feature, of higher index, must beat
    it strictly); a full buffer is cut back to its ``m`` best (:func:`_keep_best`). Above it the
    buffer holds every candidate and :func:`_sampled_best` cuts it once (the buffer's cuts cost
    more than the pass from a few hundred picks on: sparse-many's ``m`` reaches 2,800 of
    36,000). Fewer than ``m`` are returned only if fewer are active.

    With ``reach >= 0`` and ``m > 0`` the same pass lists in ``cand``, in increasing order, the
    active features with ``w_j = 0`` whose score beats ``-reach LIST_MARGIN``: they hold every
    one that a bounded gradient on ``g`` at a distance up to ``reach`` may need besides the
    support (:meth:`regulab.solvers.exact.gradient_bound.GradientBound.listing`), at the cost
    of one comparison per feature. When ``cand`` is full the reach is cut by ``LIST_SHRINK``
    and the list to it (:func:`_shrink_list`). Returns ``(kkt, ws, nc, reach)``: ``nc`` listed
    at the final ``reach``, -1 if none was asked for or the list gave up.

    ``hint`` (a one-entry array, kept by the caller along a path): a start for the picks'
    threshold up to ``STREAM_MAX`` picks, ``-inf`` for none. Only features scoring above it
    enter the buffer, so fewer are buffered and cut while the threshold rises (with the final
    threshold known in advance, 2 of 9.4 ms over sparse-few's 99 passes). The result is the
    same: when at least ``m`` features score above the start, the ``m`` best are among them;
    when fewer do, the pass is made again from ``-inf``. With ``m > 0`` the pass leaves in
    ``hint`` its ``m``-th best score less ``HINT_SLACK`` of its magnitude (``-inf`` if fewer
    than ``m`` were found)."""
    thr0 = -np.inf
    if hint is not None and m <= STREAM_MAX:  # above: one sampled cut; sparse-many's growing
        thr0 = hint[0]  # m then fell below the start in 29 of 65 passes (a pass more each)
    kkt, ws, nc, reach2, bn, mth = _kkt_ws_pass(g, w, l1, l2, sqrtL, active, nnz, m, reach,
                                                cand, thr0)
    if bn < m and not thr0 == -np.inf:  # fewer than m above the start (NaN included)
        kkt, ws, nc, reach2, bn, mth = _kkt_ws_pass(g, w, l1, l2, sqrtL, active, nnz, m,
                                                    reach, cand, -np.inf)
    if hint is not None and m > 0:
        hint[0] = mth - HINT_SLACK * abs(mth) if bn == m else -np.inf
    return kkt, ws, nc, reach2


#: :func:`_kkt_ws_pass` tests the features in blocks of this many (the bits of a ``uint64``)
KKT_BLOCK = 64


@njit(cache=True, fastmath=False)
def _kkt_ws_pass(g, w, l1, l2, sqrtL, active, nnz, m, reach, cand, thr0):
    """The pass of :func:`kkt_ws_select` from the threshold ``thr0``: ``(kkt, ws, nc, reach,
    bn, mth)``, ``bn`` the features picked (at most ``m``) and ``mth`` the lowest score among
    them (``-inf`` if none).

    By blocks of ``KKT_BLOCK`` features: a branch-free loop (vectorized by LLVM) takes the
    block's KKT violations into ``vmax`` and marks in two bit masks the support (active, ``w_j
    != 0``) and the free features that may score above the threshold ``t`` the block starts
    with; only the marked ones are visited, in increasing order, by the selection of the scalar
    pass it replaced (sparse-few's 99 passes, replayed: 9.4 -> 4.5 ms; most blocks hold no
    candidate). The mark ``|g_j - l2 w_j| - l1/2 >= t sqrt(L_j)`` misses no feature whose score beats ``t``:
    ``fl(d / s) > t`` gives ``d > t s`` (rounding is monotone, ``t`` a float), and the float
    ``d`` is then at least the rounded-up ``t s``, so at least ``fl(t s)``; ``t`` only rises
    during the pass (a NaN ``t`` marks nothing and passes nothing). The same picks, list,
    order and ``vmax`` as one feature at a time."""
    half = 0.5 * l1
    vbits = 0  # the largest violation's bits (non-negative floats order as their bits)
    p = g.size
    out = np.empty(nnz + m, np.int64)
    cap = 2 * m if m <= STREAM_MAX else p
    bv = np.empty(cap)
    bi = np.empty(cap, np.int64)
    ns = 0
    bn = 0
    thr = thr0
    nc = 0 if reach >= 0.0 and m > 0 else -1
    lo = -reach * LIST_MARGIN if nc == 0 else np.inf  # the listed features' scores beat lo
    t = min(lo, thr)  # one comparison per feature for both (a second one cost 10 % of the pass)
    one = np.uint64(1)
    for b0 in range(0, p, KKT_BLOCK):
        ub0 = np.uint64(b0)  # unsigned: no wrap-around test per read, which made LLVM gather
        supp = np.uint64(0)
        hits = np.uint64(0)
        for j in range(ub0, np.uint64(min(p, b0 + KKT_BLOCK))):
            wj = w[j]
            h = g[j] - l2 * wj
            d = abs(h) - half
            v = _kkt_violation(h, wj, half)
            vbits = max(vbits, float_bits(v if v > 0.0 else 0.0))  # NaN and v <= 0 never win
            act = active[j]
            free = wj == 0.0
            supp |= np.uint64(act & (not free)) << (j - ub0)
            hits |= np.uint64(act & free & (d >= t * sqrtL[j])) << (j - ub0)
        while supp != 0 and ns < nnz:
            out[ns] = b0 + lowest_bit(supp)
            ns += 1
            supp &= supp - one
        if m == 0:
            continue
        while hits != 0:
            j = b0 + lowest_bit(hits)
            hits &= hits - one
            sc = (abs(g[j] - l2 * w[j]) - half) / sqrtL[j]
            if not sc > t:
                continue
            if sc > lo:
                if nc == cand.size:
                    nc, reach = _shrink_list(g, sqrtL, half, cand, nc, reach)
                    lo = -reach * LIST_MARGIN if nc >= 0 else np.inf
                if sc > lo:
                    cand[nc] = j
                    nc += 1
            if sc > thr:
                if bn == cap:
                    _keep_best(bv, bi, bn, m)
                    bn = m
                    thr = bv[m - 1]
                if sc > thr:
                    bv[bn] = sc
                    bi[bn] = j
                    bn += 1
            t = min(lo, thr)
    vmax = bits_float(vbits)
    if bn > m:
        if m > STREAM_MAX:
            _sampled_best(bv, bi, bn, m)
        else:
            _keep_best(bv, bi, bn, m)
        bn = m
    mth = -np.inf
    for k in range(bn):
        if k == 0 or bv[k] < mth:
            mth = bv[k]
    # the support came in increasing order: sort the few picked and merge, from the back, in
    # place over the support's slots (a sort of the whole set cost more than the pass)
    picked = np.sort(bi[:bn])
    a = ns - 1
    b = bn - 1
    for k in range(ns + bn - 1, -1, -1):
        if b < 0 or (a >= 0 and out[a] > picked[b]):
            out[k] = out[a]
            a -= 1
        else:
            out[k] = picked[b]
            b -= 1
    return 2.0 * vmax, out[:ns + bn], nc, reach, bn, mth


#: :func:`kkt_ws_select` cuts the reach of a full list by this factor (at most ``LIST_CUTS``
#: times in a row before it gives the list up)
LIST_SHRINK = 0.25
LIST_CUTS = 40
#: ... and lists the scores above ``-reach LIST_MARGIN``. Why this covers the features a bounded
#: gradient at a distance ``delta <= reach`` needs, rounding included: with ``d = |g_j| - l1/2``
#: and ``u`` the unit roundoff, the score is ``d (1 + e1)(1 + e2) / sqrt(L_j)``, ``|e1|, |e2| <=
#: u``, so a score ``<= -reach (1 + 8u)`` gives ``d <= -sqrt(L_j) reach (1 + 5u)`` and then
#: ``|g_j| + fl(sqrt(L_j) delta) < l1 / 2`` exactly; rounding is monotone, so the bounded
#: route's floating-point sum does not exceed ``l1 / 2`` either: the feature is not needed
LIST_MARGIN = 1.0 + 1e-14


@njit(cache=True, fastmath=False)
def _shrink_list(g, sqrtL, half, cand, nc, reach):
    """Cut ``reach`` by ``LIST_SHRINK`` until fewer than ``cand.size`` of the ``nc`` listed
    features (``w_j = 0``) keep a score above ``-reach LIST_MARGIN``; keep those, in order.
    Returns ``(nc, reach)``, or ``(-1, reach)`` after ``LIST_CUTS`` cuts."""
    for _ in range(LIST_CUTS):
        reach *= LIST_SHRINK
        lo = -reach * LIST_MARGIN
        k = 0
        for t in range(nc):
            j = cand[t]
            if (abs(g[j]) - half) / sqrtL[j] > lo:
                cand[k] = j
                k += 1
        nc = k
        if nc < cand.size:
            return nc, reach
    return -1, reach


@njit(cache=True, fastmath=False)
def _sampled_best(fv, fi, nf, m):
    """Reorder the ``nf > m`` entries ``(fv, fi)`` (in index order) so that the first ``m`` are
    the ``m`` best (:func:`_better`): the ``r``-th best of every ``stride``-th entry (``r`` the
    sample's share of ``m`` and a margin of 4 standard deviations) bounds the ``m``-th best from
    below, nearly always; the entries at or above that bound (if ``m`` of them at least, else
    all) are cut to their ``m`` best (:func:`_keep_best`)."""
    stride = max(1, nf // SAMPLE)
    n_s = (nf + stride - 1) // stride
    sv = np.empty(n_s)
    si = np.empty(n_s, np.int64)
    for k in range(n_s):
        sv[k] = fv[k * stride]
        si[k] = fi[k * stride]
    r = m * n_s // nf
    r = min(n_s, r + 4 * int(np.sqrt(r)) + 8)
    _keep_best(sv, si, n_s, r)
    t = sv[r - 1]
    c = 0
    for k in range(nf):
        if fv[k] >= t:
            c += 1
    if c >= m:  # every one of the m best is at or above t: keep those (in index order)
        c = 0
        for k in range(nf):
            if fv[k] >= t:
                fv[c] = fv[k]
                fi[c] = fi[k]
                c += 1
        nf = c
    _keep_best(fv, fi, nf, m)


@njit(cache=True, fastmath=False)
def _better(bv, bi, a, b):
    """Whether entry ``a`` of the buffer ranks before ``b``: larger score, then lower index."""
    return bv[a] > bv[b] or (bv[a] == bv[b] and bi[a] < bi[b])


@njit(cache=True, fastmath=False)
def _swap(bv, bi, a, b):
    bv[a], bv[b] = bv[b], bv[a]
    bi[a], bi[b] = bi[b], bi[a]


@njit(cache=True, fastmath=False)
def _keep_best(bv, bi, n, k):
    """Reorder the first ``n`` entries of ``(bv, bi)`` so that the first ``k`` are the ``k`` best
    (:func:`_better`, a strict order: the indices differ) with the ``k``-th best at ``k - 1``
    (quickselect, median-of-three pivots)."""
    lo = 0
    hi = n - 1
    t = k - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        # median of three to ``hi``: sorted or reversed input stays linear
        if _better(bv, bi, mid, lo):
            _swap(bv, bi, mid, lo)
        if _better(bv, bi, hi, lo):
            _swap(bv, bi, hi, lo)
        if _better(bv, bi, mid, hi):
            _swap(bv, bi, mid, hi)
        store = lo
        for u in range(lo, hi):
            if _better(bv, bi, u, hi):
                _swap(bv, bi, u, store)
                store += 1
        _swap(bv, bi, store, hi)
        if store == t:
            return
        if t < store:
            hi = store - 1
        else:
            lo = store + 1


# --------------------------------------------------------------------------------------------
# inner coordinate descent on a working set, with Anderson extrapolation
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def _wmean_sq(q, c, s, weighted, inv_n):
    acc = 0.0
    if weighted:
        for i in range(q.size):
            r = q[i] + c
            acc += s[i] * r * r
    else:
        for i in range(q.size):
            r = q[i] + c
            acc += r * r
        acc *= inv_n
    return acc


@njit(cache=True, fastmath=False)
def anderson_weights(hist, out_c):
    """Anderson extrapolation weights from ``K + 1`` stored iterates (rows of ``hist``).

    Solves ``(U U^T + eps I) z = 1`` with ``U`` the ``K`` successive differences, ``c = z / sum z``
    (Gaussian elimination with partial pivoting, ``K`` is tiny; ``z`` is solved in ``out_c``).
    Returns False if degenerate.
    """
    K = hist.shape[0] - 1
    m = hist.shape[1]
    # every entry is written before it is read; np.zeros would compile numba's zero fill too
    A = np.empty((K, K + 1))
    for a in range(K):
        for b in range(a, K):
            acc = 0.0
            for k in range(m):
                acc += (hist[a + 1, k] - hist[a, k]) * (hist[b + 1, k] - hist[b, k])
            A[a, b] = acc
            A[b, a] = acc
    return anderson_solve(A, out_c)


@njit(cache=True, fastmath=False)
def anderson_solve(A, out_c):
    """The weights of :func:`anderson_weights` from ``A`` (``K x (K + 1)``, its first ``K``
    columns holding ``U U^T``; overwritten): ``z`` solved in ``out_c``, then ``c = z / sum z``.
    Returns False if degenerate."""
    K = A.shape[0]
    tr = 0.0
    for a in range(K):
        tr += A[a, a]
    if not (tr > 0.0) or not np.isfinite(tr):
        return False
    for a in range(K):
        A[a, a] += 1e-10 * tr / K
        A[a, K] = 1.0
    for col in range(K):
        piv = col
        best = abs(A[col, col])
        for r in range(col + 1, K):
            if abs(A[r, col]) > best:
                best = abs(A[r, col])
                piv = r
        if best == 0.0:
            return False
        if piv != col:
            for k in range(K + 1):
                tmp = A[col, k]
                A[col, k] = A[piv, k]
                A[piv, k] = tmp
        for r in range(col + 1, K):
            f = A[r, col] / A[col, col]
            for k in range(col, K + 1):
                A[r, k] -= f * A[col, k]
    z = out_c  # back substitution in place: one allocation (and its compile) less
    for a in range(K - 1, -1, -1):
        acc = A[a, K]
        for k in range(a + 1, K):
            acc -= A[a, k] * z[k]
        z[a] = acc / A[a, a]
    tot = 0.0
    for a in range(K):
        tot += z[a]
    if tot == 0.0 or not np.isfinite(tot):
        return False
    for a in range(K):
        out_c[a] = z[a] / tot
        if not np.isfinite(out_c[a]):
            return False
    return True


@njit(cache=True, fastmath=FASTMATH)
def _cd_epoch(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, L, ws, w, q, c, l1,
              l2):
    """One pass of coordinate descent over ``ws`` (``w``, ``q`` in place; see
    :func:`cd_squared_ws`). Returns ``(c, kkt)``, ``kkt`` the largest KKT violation met, each
    coordinate measured when visited."""
    half = 0.5 * l1
    vmax = 0.0
    for k in range(ws.size):
        j = ws[k]
        Lj = L[j]
        if weighted:
            g = col_wdot(data, indices, indptr, n, is_sparse, j, s, q)
        else:
            g = col_dot(data, indices, indptr, n, is_sparse, j, q) * inv_n
        g += c * xbar[j]
        old = w[j]
        v = _kkt_violation(g - l2 * old, old, half)
        if v > vmax:
            vmax = v
        new = _st_update(g + Lj * old, half, Lj + l2)
        if new != old:
            d = new - old
            col_axpy(data, indices, indptr, n, is_sparse, j, -d, q)
            c += xbar[j] * d
            w[j] = new
    return c, 2.0 * vmax


@njit(cache=True, fastmath=FASTMATH)
def _anderson_step(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, ws, w, q, c,
                   l1, l2, hist, cw, w_acc, q_acc):
    """Anderson extrapolation of the iterates in ``hist``, kept (``w``, ``q`` in place) if it
    lowers the objective. Returns ``c``."""
    if not anderson_weights(hist, cw):
        return c
    m = ws.size
    K = hist.shape[0] - 1
    for k in range(m):
        acc = 0.0
        for a in range(K):
            acc += cw[a] * hist[a + 1, k]
        w_acc[k] = acc
    for i in range(n):  # a loop: an array slice copy compiles numba's error formatting (~8 s)
        q_acc[i] = q[i]
    c_acc = c
    pen_cur = 0.0
    pen_acc = 0.0
    for k in range(m):
        j = ws[k]
        d = w_acc[k] - w[j]
        if d != 0.0:
            col_axpy(data, indices, indptr, n, is_sparse, j, -d, q_acc)
            c_acc += xbar[j] * d
        pen_cur += l1 * abs(w[j]) + l2 * w[j] * w[j]
        pen_acc += l1 * abs(w_acc[k]) + l2 * w_acc[k] * w_acc[k]
    f_cur = _wmean_sq(q, c, s, weighted, inv_n) + pen_cur
    f_acc = _wmean_sq(q_acc, c_acc, s, weighted, inv_n) + pen_acc
    if f_acc < f_cur:
        for k in range(m):
            w[ws[k]] = w_acc[k]
        for i in range(n):
            q[i] = q_acc[i]
        c = c_acc
    return c


@njit(cache=True, fastmath=FASTMATH)
def cd_squared_ws(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, L, ws, w, q,
                  c, l1, l2, tol_in, max_epochs, K):
    """Coordinate descent epochs over the features ``ws`` (none with ``L == 0``).

    Minimizes ``sum_i s_i r_i**2 + l1*|w|_1 + l2*|w|_2**2`` in the coordinates ``ws``: the update
    is ``w_j = ST(g_j + L_j w_j, l1/2) / (L_j + l2)``. Modifies ``w`` and ``q`` in place and
    returns ``(epochs, c, kkt)``, ``kkt`` the largest KKT violation seen in the last epoch
    (each coordinate measured when visited). Every ``K + 1`` epochs (``K > 0``) an Anderson
    extrapolation of the last iterates is tried and kept if it lowers the objective.
    """
    m = ws.size
    hist = np.empty((K + 1, m))
    cw = np.empty(max(K, 1))
    w_acc = np.empty(m)
    q_acc = np.empty(n) if K > 0 else np.empty(0)
    n_hist = 0
    epoch = 0
    kkt = np.inf
    while epoch < max_epochs:
        epoch += 1
        c, kkt = _cd_epoch(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, L, ws,
                           w, q, c, l1, l2)
        if kkt <= tol_in:
            break
        if K > 0:
            for k in range(m):
                hist[n_hist, k] = w[ws[k]]
            n_hist += 1
            if n_hist == K + 1:
                n_hist = 0
                c = _anderson_step(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar,
                                   ws, w, q, c, l1, l2, hist, cw, w_acc, q_acc)
    return epoch, c, kkt


@njit(cache=True, fastmath=FASTMATH)
def _residual_gap(data, indices, indptr, n, is_sparse, s, xbar, ws, w, yc, q, l1, l2):
    """From scratch: ``q = y_c - X w`` (in place) and ``c = xbar.w`` for ``w`` supported on
    ``ws``, the :func:`duality_gap` of ``w`` and the largest KKT violation over ``ws``.
    Returns ``(gap, kkt, c)``."""
    m = ws.size
    for i in range(n):  # not q[:] = yc, whose shape check compiles slowly
        q[i] = yc[i]
    c = 0.0
    nrm1 = 0.0
    nrm2 = 0.0
    for k in range(m):
        j = ws[k]
        if w[j] != 0.0:
            col_axpy(data, indices, indptr, n, is_sparse, j, -w[j], q)
            c += xbar[j] * w[j]
            nrm1 += abs(w[j])
            nrm2 += w[j] * w[j]
    quad = 0.0
    lin = 0.0
    ssr = 0.0
    for i in range(n):
        r = q[i] + c
        quad += s[i] * r * r
        lin += s[i] * r * yc[i]
        ssr += s[i] * r
    lin *= 2.0
    half = 0.5 * l1
    vmax = 0.0
    conj = 0.0
    kkt = 0.0
    for k in range(m):
        j = ws[k]
        g = col_wdot(data, indices, indptr, n, is_sparse, j, s, q) + c * xbar[j] \
            - xbar[j] * ssr
        vmax, conj = _dual_terms(g, l1, vmax, conj)
        viol = _kkt_violation(g - l2 * w[j], w[j], half)
        if viol > kkt:
            kkt = viol
    _, gap = duality_gap(quad, lin, nrm1, nrm2, vmax, conj, l1, l2)
    return gap, 2.0 * kkt, c


@njit(cache=True, fastmath=FASTMATH)
def cd_squared_full(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, L, ws, w, yc,
                    l1, l2, threshold, max_epochs, K):
    """Outer loop of :func:`cd_squared_ws` for a small problem whose working set is every
    feature ``ws`` (the others have ``w = 0`` and ``g = 0``): from a fresh residual, the
    :func:`duality_gap`; stop when it is ``<= threshold``, else CD epochs until the largest KKT
    violation drops below 0.3 times the current one. Modifies ``w`` in place and returns
    ``(epochs, gap)``; the caller re-certifies ``w`` on the whole problem.
    """
    q = np.empty(n)
    epochs = 0
    while True:
        gap, kkt, c = _residual_gap(data, indices, indptr, n, is_sparse, s, xbar, ws, w, yc, q,
                                    l1, l2)
        if gap <= threshold or epochs >= max_epochs:
            break
        ep, c, _ = cd_squared_ws(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, L,
                                 ws, w, q, c, l1, l2, 0.3 * kkt, max_epochs - epochs, K)
        epochs += ep
    return epochs, gap


# --------------------------------------------------------------------------------------------
# small working sets on their Gram matrix (dense X, n > p)
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath={"contract"})
def centered_gram(data, n, s, xbar, ws):
    """``G_ab = sum_i s_i (x_ij - xbar_j)(x_ik - xbar_k)``, ``j = ws[a]``, ``k = ws[b]``
    (dense X)."""
    m = ws.size
    G = np.empty((m, m))
    for a in range(m):
        oj = ws[a] * n
        mj = xbar[ws[a]]
        for b in range(a, m):
            ok = ws[b] * n
            mk = xbar[ws[b]]
            acc = 0.0
            for i in range(n):
                acc += s[i] * (data[oj + i] - mj) * (data[ok + i] - mk)
            G[a, b] = acc
            G[b, a] = acc
    return G


@njit(cache=True, fastmath=False)
def _gram_gap(G, b, wv, gr, null_loss, l1, l2, refresh):
    """``(gap, primal)`` of :func:`duality_gap` in Gram form, ``gr = b - G w`` being ``g`` on
    the working set: ``quad = null - b.w - w.gr`` and ``lin = 2 (null - b.w)``. With
    ``refresh``, ``gr`` is recomputed (in place, O(m^2)); without, the caller's running ``gr``
    (updated coordinate by coordinate, so off by rounding) gives an estimate in O(m)."""
    m = wv.size
    bw = 0.0
    wg = 0.0
    nrm1 = 0.0
    nrm2 = 0.0
    vmax = 0.0
    conj = 0.0
    for a in range(m):
        if refresh:
            acc = b[a]
            for k in range(m):
                acc -= G[a, k] * wv[k]
            gr[a] = acc
        acc = gr[a]
        x = wv[a]
        bw += b[a] * x
        wg += x * acc
        nrm1 += abs(x)
        nrm2 += x * x
        vmax, conj = _dual_terms(acc, l1, vmax, conj)
    quad = max(null_loss - bw - wg, 0.0)
    lin = 2.0 * (null_loss - bw)
    primal, gap = duality_gap(quad, lin, nrm1, nrm2, vmax, conj, l1, l2)
    return gap, primal


#: :func:`cd_squared_gram` recomputes its running gradient at least every this many epochs
REFRESH = 8


@njit(cache=True, fastmath=False)
def cd_squared_gram(G, b, wv, null_loss, l1, l2, threshold, max_epochs, K):
    """Coordinate descent on ``w`` restricted to a small working set (``wv``, modified in
    place) from its centered Gram matrix ``G`` and ``b = X_c^T S y_c``, the duality gap checked
    after every epoch (stop at ``<= threshold``); Anderson extrapolation every ``K + 1`` epochs,
    kept if it lowers the objective. Returns ``(epochs, gap)``.

    The gap after an epoch is first estimated from the running gradient (O(m), where recomputing
    it costs O(m^2), as much as the epoch); only an estimate ``<= threshold`` is confirmed from
    a recomputed gradient, so the returned gap is always the recomputed one; the running
    gradient is also recomputed every ``REFRESH`` epochs, so that its rounding cannot pile up."""
    m = wv.size
    half = 0.5 * l1
    gr = np.empty(m)
    hist = np.empty((K + 1, m))
    cw = np.empty(max(K, 1))
    w_acc = np.empty(m)
    g_acc = np.empty(m)
    n_hist = 0
    epochs = 0
    # a run-time True: a literal True argument would compile a second specialization
    fresh = m >= 0
    gap, primal = _gram_gap(G, b, wv, gr, null_loss, l1, l2, fresh)
    while gap > threshold and epochs < max_epochs:
        epochs += 1
        for a in range(m):
            La = G[a, a]
            old = wv[a]
            new = _st_update(gr[a] + La * old, half, La + l2)
            if new != old:
                d = new - old
                for k in range(m):
                    gr[k] -= d * G[k, a]
                wv[a] = new
        gap, primal = _gram_gap(G, b, wv, gr, null_loss, l1, l2, epochs % REFRESH == 0)
        if gap <= threshold and epochs % REFRESH != 0:
            gap, primal = _gram_gap(G, b, wv, gr, null_loss, l1, l2, fresh)
        if K > 0 and gap > threshold:
            for k in range(m):
                hist[n_hist, k] = wv[k]
            n_hist += 1
            if n_hist == K + 1:
                n_hist = 0
                if anderson_weights(hist, cw):
                    for k in range(m):
                        acc = 0.0
                        for a in range(K):
                            acc += cw[a] * hist[a + 1, k]
                        w_acc[k] = acc
                    gap_a, primal_a = _gram_gap(G, b, w_acc, g_acc, null_loss, l1, l2, fresh)
                    if primal_a < primal:
                        for k in range(m):
                            wv[k] = w_acc[k]
                            gr[k] = g_acc[k]
                        gap, primal = gap_a, primal_a
    return epochs, gap
