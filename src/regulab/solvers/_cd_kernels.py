"""Compiled (numba) kernels of the squared-loss coordinate descent.

One design representation serves dense and sparse X, so that each kernel has one compiled
specialization per dtype of X (float32 or float64), not one per storage:

* dense:  ``data`` is X flattened in Fortran order (column ``j`` is ``data[j*n:(j+1)*n]``),
  ``indices``/``indptr`` are unused dummies and ``is_sparse`` is False;
* sparse: ``(data, indices, indptr)`` are the arrays of a CSC matrix and ``is_sparse`` is True.

``data`` keeps the caller's dtype (float32 stays float32); every product is taken in float64, so
residuals, gradients and duality gaps are accumulated in float64.

The intercept is handled by implicit weighted centering. With ``xbar_j = sum_i s_i x_ij`` (0 when
no intercept is fitted), the residual of ``w`` at its optimal intercept ``b* = ybar - xbar.w`` is
stored as ``r = q + c`` with the vector ``q = y - ybar - X w`` and the scalar ``c = xbar.w``: a
coordinate move of ``w_j`` by ``d`` changes ``q`` only on the stored entries of column ``j`` and
``c`` by ``xbar_j * d``, so sparse columns are never densified. Because ``sum_i s_i r_i = 0``,
the centered partial gradient is ``g_j = sum_i s_i (x_ij - xbar_j) r_i
= sum_i s_i x_ij q_i + c * xbar_j``.

Compiled with ``cache=True``: the machine code is written next to this file (or to numba's user
cache), so the compile cost is paid once per install and dtype.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# reassociation lets LLVM vectorize the dot products; no 'nnan'/'ninf': non-finite values are
# checked for and must keep their IEEE meaning.
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


# --------------------------------------------------------------------------------------------
# column primitives (inlined by LLVM into their callers)
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def col_dot(data, indices, indptr, n, is_sparse, j, v):
    """``sum_i x_ij v_i``."""
    acc = 0.0
    if is_sparse:
        for k in range(indptr[j], indptr[j + 1]):
            acc += data[k] * v[indices[k]]
    else:
        off = j * n
        for i in range(n):
            acc += data[off + i] * v[i]
    return acc


@njit(cache=True, fastmath=FASTMATH)
def col_wdot(data, indices, indptr, n, is_sparse, j, s, v):
    """``sum_i s_i x_ij v_i``."""
    acc = 0.0
    if is_sparse:
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            acc += data[k] * s[i] * v[i]
    else:
        off = j * n
        for i in range(n):
            acc += data[off + i] * s[i] * v[i]
    return acc


@njit(cache=True, fastmath=FASTMATH)
def col_wsq(data, indices, indptr, n, is_sparse, j, h):
    """``sum_i h_i x_ij**2``."""
    acc = 0.0
    if is_sparse:
        for k in range(indptr[j], indptr[j + 1]):
            x = data[k] * 1.0
            acc += h[indices[k]] * x * x
    else:
        off = j * n
        for i in range(n):
            x = data[off + i] * 1.0
            acc += h[i] * x * x
    return acc


@njit(cache=True, fastmath=FASTMATH)
def col_axpy(data, indices, indptr, n, is_sparse, j, a, v):
    """``v += a * x_j``."""
    if is_sparse:
        for k in range(indptr[j], indptr[j + 1]):
            v[indices[k]] += a * data[k]
    else:
        off = j * n
        for i in range(n):
            v[i] += a * data[off + i]


# --------------------------------------------------------------------------------------------
# whole-design kernels
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def first_nonfinite(data, indices, indptr, n, p, is_sparse):
    """Column index of the first NaN/inf in X, or -1."""
    for j in range(p):
        if is_sparse:
            for k in range(indptr[j], indptr[j + 1]):
                if not np.isfinite(data[k]):
                    return j
        else:
            off = j * n
            for i in range(n):
                if not np.isfinite(data[off + i]):
                    return j
    return -1


@njit(cache=True, fastmath={"contract"})
def column_stats(data, indices, indptr, n, p, is_sparse, s, fit_intercept):
    """Weighted column means ``xbar`` (0 without intercept) and centered squared norms ``L``.

    ``L_j = sum_i s_i (x_ij - xbar_j)**2`` by a two-pass formula (no cancellation); a column that
    is constant over the rows of positive weight gets ``L_j = 0`` *exactly* when an intercept is
    fitted (it carries no information beyond the intercept), as does an all-zero column.
    """
    xbar = np.zeros(p)
    L = np.zeros(p)
    n_pos = 0
    for i in range(n):
        if s[i] > 0.0:
            n_pos += 1
    for j in range(p):
        # constant over positive-weight rows?
        const = True
        first = 0.0
        seen = False
        if is_sparse:
            cnt = 0
            for k in range(indptr[j], indptr[j + 1]):
                if s[indices[k]] > 0.0:
                    cnt += 1
                    x = data[k] * 1.0
                    if not seen:
                        first = x
                        seen = True
                    elif x != first:
                        const = False
            if cnt < n_pos:  # implicit zeros among the weighted rows
                if seen and first != 0.0:
                    const = False
                first = 0.0 if const else first
        else:
            off = j * n
            for i in range(n):
                if s[i] > 0.0:
                    x = data[off + i] * 1.0
                    if not seen:
                        first = x
                        seen = True
                    elif x != first:
                        const = False
                        break
        if const and (fit_intercept or first == 0.0):
            xbar[j] = first if fit_intercept else 0.0
            L[j] = 0.0
            continue
        m = 0.0
        if fit_intercept:
            if is_sparse:
                for k in range(indptr[j], indptr[j + 1]):
                    m += s[indices[k]] * data[k]
            else:
                off = j * n
                for i in range(n):
                    m += s[i] * data[off + i]
        acc = 0.0
        if is_sparse:
            sw = 0.0
            for k in range(indptr[j], indptr[j + 1]):
                si = s[indices[k]]
                dx = data[k] - m
                acc += si * dx * dx
                sw += si
            rest = 1.0 - sw
            if rest > 0.0:
                acc += rest * m * m
        else:
            off = j * n
            for i in range(n):
                dx = data[off + i] - m
                acc += s[i] * dx * dx
        xbar[j] = m
        L[j] = acc
    return xbar, L


@njit(cache=True, fastmath=FASTMATH)
def xt_dot(data, indices, indptr, n, p, is_sparse, v):
    """``X^T v`` (float64)."""
    out = np.empty(p)
    for j in range(p):
        out[j] = col_dot(data, indices, indptr, n, is_sparse, j, v)
    return out


@njit(cache=True, fastmath=FASTMATH)
def x_dot(data, indices, indptr, n, p, is_sparse, w):
    """``X w`` (float64), touching only the non-zero coefficients."""
    out = np.zeros(n)
    for j in range(p):
        if w[j] != 0.0:
            col_axpy(data, indices, indptr, n, is_sparse, j, w[j], out)
    return out


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


@njit(cache=True)
def anderson_weights(hist, out_c):
    """Anderson extrapolation weights from ``K + 1`` stored iterates (rows of ``hist``).

    Solves ``(U U^T + eps I) z = 1`` with ``U`` the ``K`` successive differences, ``c = z / sum z``
    (Gaussian elimination with partial pivoting, ``K`` is tiny). Returns False if degenerate.
    """
    K = hist.shape[0] - 1
    m = hist.shape[1]
    A = np.zeros((K, K + 1))
    for a in range(K):
        for b in range(a, K):
            acc = 0.0
            for k in range(m):
                acc += (hist[a + 1, k] - hist[a, k]) * (hist[b + 1, k] - hist[b, k])
            A[a, b] = acc
            A[b, a] = acc
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
    z = np.zeros(K)
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
    half = 0.5 * l1
    hist = np.empty((K + 1, m))
    cw = np.empty(max(K, 1))
    w_acc = np.empty(m)
    q_acc = np.empty(n) if K > 0 else np.empty(0)
    n_hist = 0
    epoch = 0
    kkt = np.inf
    while epoch < max_epochs:
        epoch += 1
        vmax = 0.0
        for k in range(m):
            j = ws[k]
            Lj = L[j]
            if weighted:
                g = col_wdot(data, indices, indptr, n, is_sparse, j, s, q)
            else:
                g = col_dot(data, indices, indptr, n, is_sparse, j, q) * inv_n
            g += c * xbar[j]
            old = w[j]
            h = g - l2 * old
            if old == 0.0:
                v = abs(h) - half
            elif old > 0.0:
                v = abs(h - half)
            else:
                v = abs(h + half)
            if v > vmax:
                vmax = v
            zz = g + Lj * old
            if zz > half:
                new = (zz - half) / (Lj + l2)
            elif zz < -half:
                new = (zz + half) / (Lj + l2)
            else:
                new = 0.0
            if new != old:
                d = new - old
                col_axpy(data, indices, indptr, n, is_sparse, j, -d, q)
                c += xbar[j] * d
                w[j] = new
        kkt = 2.0 * vmax
        if kkt <= tol_in:
            break
        if K > 0:
            for k in range(m):
                hist[n_hist, k] = w[ws[k]]
            n_hist += 1
            if n_hist == K + 1:
                n_hist = 0
                if anderson_weights(hist, cw):
                    for k in range(m):
                        acc = 0.0
                        for a in range(K):
                            acc += cw[a] * hist[a + 1, k]
                        w_acc[k] = acc
                    q_acc[:] = q
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
                        q[:] = q_acc
                        c = c_acc
    return epoch, c, kkt


# --------------------------------------------------------------------------------------------
# vector reductions (compiled: a BLAS dot may wake a thread pool, which costs milliseconds on a
# busy machine, many times per solve)
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def vdot(a, b):
    """``sum_i a_i b_i``."""
    acc = 0.0
    for i in range(a.size):
        acc += a[i] * b[i]
    return acc


@njit(cache=True, fastmath=FASTMATH)
def wdot(s, a, b):
    """``sum_i s_i a_i b_i``."""
    acc = 0.0
    for i in range(a.size):
        acc += s[i] * a[i] * b[i]
    return acc


@njit(cache=True, fastmath=FASTMATH)
def cd_squared_full(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, L, ws, w, yc,
                    l1, l2, threshold, max_epochs, K):
    """Outer loop of :func:`cd_squared_ws` for a small problem whose working set is every
    feature ``ws`` (the others have ``w = 0`` and ``g = 0``): from a fresh residual, the
    duality gap of ``exact._gap``; stop when it is ``<= threshold``, else CD epochs until the
    largest KKT violation drops below 0.3 times the current one. Modifies ``w`` in place and
    returns ``(epochs, gap)``; the caller re-certifies ``w`` with ``exact._gap``.
    """
    m = ws.size
    q = np.empty(n)
    epochs = 0
    gap = np.inf
    while True:
        q[:] = yc
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
            v = 2.0 * abs(g)
            if v > vmax:
                vmax = v
            if v > l1:
                conj += (v - l1) * (v - l1)
            h = g - l2 * w[j]
            if w[j] == 0.0:
                viol = abs(h) - half
            elif w[j] > 0.0:
                viol = abs(h - half)
            else:
                viol = abs(h + half)
            if viol > kkt:
                kkt = viol
        kkt *= 2.0
        primal = quad + l1 * nrm1 + l2 * nrm2
        if l2 > 0.0:
            dual = lin - quad - conj / (4.0 * l2)
        else:
            cc = 1.0 if vmax <= l1 else l1 / vmax
            dual = cc * lin - cc * cc * quad
        gap = max(primal - dual, 0.0)
        if gap <= threshold or epochs >= max_epochs:
            break
        ep, c, kin = cd_squared_ws(data, indices, indptr, n, is_sparse, s, weighted, inv_n,
                                   xbar, L, ws, w, q, c, l1, l2, 0.3 * kkt,
                                   max_epochs - epochs, K)
        epochs += ep
    return epochs, gap


@njit(cache=True, fastmath={"contract"})
def centered_gram(data, n, s, xbar, ws):
    """``G_ab = sum_i s_i (x_ij - xbar_j)(x_ik - xbar_k)``, ``j = ws[a]``, ``k = ws[b]`` (dense X)."""
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


@njit(cache=True)
def _gram_gap(G, b, wv, gr, null_loss, l1, l2):
    """``(gap, kkt, primal)`` of ``exact._gap`` in Gram form: ``gr = b - G w`` is ``g`` on the
    working set, ``quad = null - b.w - w.gr`` and ``lin = 2 (null - b.w)``."""
    m = wv.size
    half = 0.5 * l1
    bw = 0.0
    wg = 0.0
    nrm1 = 0.0
    nrm2 = 0.0
    vmax = 0.0
    conj = 0.0
    kkt = 0.0
    for a in range(m):
        acc = b[a]
        for k in range(m):
            acc -= G[a, k] * wv[k]
        gr[a] = acc
        x = wv[a]
        bw += b[a] * x
        wg += x * acc
        nrm1 += abs(x)
        nrm2 += x * x
        v = 2.0 * abs(acc)
        if v > vmax:
            vmax = v
        if v > l1:
            conj += (v - l1) * (v - l1)
        h = acc - l2 * x
        if x == 0.0:
            viol = abs(h) - half
        elif x > 0.0:
            viol = abs(h - half)
        else:
            viol = abs(h + half)
        if viol > kkt:
            kkt = viol
    quad = max(null_loss - bw - wg, 0.0)
    lin = 2.0 * (null_loss - bw)
    primal = quad + l1 * nrm1 + l2 * nrm2
    if l2 > 0.0:
        dual = lin - quad - conj / (4.0 * l2)
    else:
        cc = 1.0 if vmax <= l1 else l1 / vmax
        dual = cc * lin - cc * cc * quad
    return max(primal - dual, 0.0), 2.0 * kkt, primal


@njit(cache=True)
def cd_squared_gram(G, b, wv, null_loss, l1, l2, threshold, max_epochs, K):
    """Coordinate descent on ``w`` restricted to a small working set (``wv``, modified in
    place) from its centered Gram matrix ``G`` and ``b = X_c^T S y_c``, the duality gap checked
    after every epoch (stop at ``<= threshold``); Anderson extrapolation every ``K + 1`` epochs,
    kept if it lowers the objective. Returns ``(epochs, gap)``."""
    m = wv.size
    half = 0.5 * l1
    gr = np.empty(m)
    hist = np.empty((K + 1, m))
    cw = np.empty(max(K, 1))
    w_acc = np.empty(m)
    g_acc = np.empty(m)
    n_hist = 0
    epochs = 0
    gap, kkt, primal = _gram_gap(G, b, wv, gr, null_loss, l1, l2)
    while gap > threshold and epochs < max_epochs:
        epochs += 1
        for a in range(m):
            La = G[a, a]
            old = wv[a]
            zz = gr[a] + La * old
            if zz > half:
                new = (zz - half) / (La + l2)
            elif zz < -half:
                new = (zz + half) / (La + l2)
            else:
                new = 0.0
            if new != old:
                d = new - old
                for k in range(m):
                    gr[k] -= d * G[k, a]
                wv[a] = new
        gap, kkt, primal = _gram_gap(G, b, wv, gr, null_loss, l1, l2)
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
                    gap_a, kkt_a, primal_a = _gram_gap(G, b, w_acc, g_acc, null_loss, l1, l2)
                    if primal_a < primal:
                        wv[:] = w_acc
                        gr[:] = g_acc
                        gap, kkt, primal = gap_a, kkt_a, primal_a
    return epochs, gap


@njit(cache=True)
def xt_dot_sparse(data, indices, indptr, p, v):
    """``X^T v`` (float64) for CSC X. No fastmath: reassociation makes LLVM vectorize the
    gather badly, measured twice as slow as this plain loop."""
    out = np.empty(p)
    for j in range(p):
        acc = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            acc += data[k] * v[indices[k]]
        out[j] = acc
    return out
