"""Compiled (numba) kernels for per-feature penalties and bounds (:mod:`regulab.solvers.exact.box`).

Every feature ``j`` carries its own penalty ``a_j |w_j| + c_j w_j**2`` (``a_j = l1 v_j``,
``c_j = l2 v_j`` for the penalty factor ``v_j``; ``a_j = inf`` holds ``w_j`` at 0) and its bounds
``lo_j <= w_j <= hi_j``. A coordinate step minimizes a one-variable convex function, so the
bounded minimizer is the unbounded one (soft-thresholding at the coordinate's own threshold)
clipped to ``[lo_j, hi_j]``. Kept apart from :mod:`._cd_kernels` and :mod:`._pn_kernels` (scalar
``l1``, ``l2``): the default problems run their kernels unchanged.

Same design representation as :mod:`regulab.solvers._design_kernels`; arithmetic in float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers._cd_kernels import _wmean_sq, anderson_weights
from regulab.solvers._design_kernels import FASTMATH, col_axpy, col_dot, col_wdot, col_wsq
from regulab.solvers._pn_kernels import logistic_derivs, logistic_value


# --------------------------------------------------------------------------------------------
# certificate pieces
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=False)
def conjugate(u, a, c, lo, hi):
    """``h*(u)`` of :func:`regulab.core.certificates.box_conjugate` for one feature."""
    if a == np.inf:
        return 0.0
    if c > 0.0:
        t = 0.0
        if u > a:
            t = (u - a) / (2.0 * c)
        elif u < -a:
            t = (u + a) / (2.0 * c)
        t = min(max(t, lo), hi)
        return u * t - a * abs(t) - c * t * t
    if (hi == np.inf and u > a) or (lo == -np.inf and u < -a):
        return np.inf
    best = 0.0 if (lo <= 0.0 and hi >= 0.0) else -np.inf
    if np.isfinite(lo):
        best = max(best, u * lo - a * abs(lo))
    if np.isfinite(hi):
        best = max(best, u * hi - a * abs(hi))
    return best


@njit(cache=True, fastmath=False)
def _capped(tu, a, c, lo, hi):
    """``t u`` kept within ``[-a, a]`` on a side with an infinite bound and ``c = 0``: ``t`` was
    chosen for exactly that, so this only undoes the rounding of ``t * u``."""
    if c == 0.0 and a != np.inf:
        if hi == np.inf and tu > a:
            tu = a
        if lo == -np.inf and tu < -a:
            tu = -a
    return tu


@njit(cache=True, fastmath=False)
def box_gap(quad_p, quad, lin, u, w, a, c, lo, hi, free):
    """``(primal, gap)`` of :func:`regulab.core.certificates.duality_gap_box` from its sums.

    ``quad_p = sum_i s_i e_i**2`` at the point, ``quad = sum_i s_i r_i**2`` and
    ``lin = theta.y = 2 sum_i s_i r_i y_i`` at the residual ``r`` of the best intercept and free
    coefficients, ``u = X^T theta`` (``theta = 2 s r``), per feature ``w, a, c, lo, hi`` and
    ``free`` (unpenalized, unbounded: profiled, skipped). No fastmath: IEEE arithmetic.
    """
    primal = quad_p
    t = 1.0
    for j in range(w.size):
        if a[j] != np.inf:
            primal += a[j] * abs(w[j]) + c[j] * w[j] * w[j]
        if free[j] or c[j] > 0.0 or a[j] == np.inf:
            continue
        if hi[j] == np.inf and u[j] > a[j]:
            t = min(t, a[j] / u[j])
        if lo[j] == -np.inf and u[j] < -a[j]:
            t = min(t, -a[j] / u[j])
    dual = t * lin - t * t * quad
    for j in range(w.size):
        if not free[j]:
            dual -= conjugate(_capped(t * u[j], a[j], c[j], lo[j], hi[j]), a[j], c[j], lo[j],
                              hi[j])
    return primal, max(primal - dual, 0.0)


@njit(cache=True, fastmath=False)
def box_viol(grad, w, a, lo, hi):
    """Distance of ``-grad`` (the smooth part's gradient) to the subdifferential of
    ``a |.| + indicator([lo, hi])`` at ``w``: the KKT violation of one coordinate."""
    if a == np.inf:
        return 0.0
    low = a if w > 0.0 else -a
    high = -a if w < 0.0 else a
    if w >= hi:
        high = np.inf
    if w <= lo:
        low = -np.inf
    x = -grad
    if x < low:
        return low - x
    if x > high:
        return x - high
    return 0.0


@njit(cache=True, fastmath=FASTMATH)
def _step(zz, thr, den, lo, hi):
    """``clip(ST(zz, thr) / den, lo, hi)``: one coordinate's bounded minimizer."""
    if zz > thr:
        new = (zz - thr) / den
    elif zz < -thr:
        new = (zz + thr) / den
    else:
        new = 0.0
    return min(max(new, lo), hi)


# --------------------------------------------------------------------------------------------
# squared loss: coordinate descent on a working set
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def _anderson_box(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, ws, w, q, c,
                  a, cc, lo, hi, hist, cw, w_acc, q_acc):
    """Anderson extrapolation of the iterates in ``hist`` (:func:`._cd_kernels.anderson_weights`)
    projected on the bounds, kept (``w``, ``q`` in place) if it lowers the objective. Returns
    ``c``."""
    if not anderson_weights(hist, cw):
        return c
    m = ws.size
    K = hist.shape[0] - 1
    for k in range(m):
        acc = 0.0
        for b in range(K):
            acc += cw[b] * hist[b + 1, k]
        j = ws[k]
        w_acc[k] = 0.0 if a[j] == np.inf else min(max(acc, lo[j]), hi[j])
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
        if a[j] != np.inf:
            pen_cur += a[j] * abs(w[j]) + cc[j] * w[j] * w[j]
            pen_acc += a[j] * abs(w_acc[k]) + cc[j] * w_acc[k] * w_acc[k]
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
def cd_box_ws(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, L, ws, w, q, c, a,
              cc, lo, hi, tol_in, max_epochs, K):
    """Coordinate descent epochs over ``ws`` for
    ``sum_i s_i r_i**2 + sum_j (a_j |w_j| + cc_j w_j**2)`` subject to ``lo <= w <= hi``.

    ``r = q + c`` as in :mod:`._cd_kernels` (``q = y_c - X w``, ``c = xbar.w``); the step is
    ``w_j = clip(ST(g_j + L_j w_j, a_j / 2) / (L_j + cc_j), lo_j, hi_j)``. Every ``K + 1``
    epochs (``K > 0``) an Anderson extrapolation, projected on the bounds, is kept if it lowers
    the objective. Modifies ``w``, ``q`` in place; returns ``(epochs, c, kkt)``, ``kkt`` the
    largest violation (true gradient units) met in the last epoch."""
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
        kkt = 0.0
        for k in range(ws.size):
            j = ws[k]
            if weighted:
                g = col_wdot(data, indices, indptr, n, is_sparse, j, s, q)
            else:
                g = col_dot(data, indices, indptr, n, is_sparse, j, q) * inv_n
            g += c * xbar[j]
            old = w[j]
            v = box_viol(-2.0 * g + 2.0 * cc[j] * old, old, a[j], lo[j], hi[j])
            if v > kkt:
                kkt = v
            if a[j] == np.inf:
                continue
            new = _step(g + L[j] * old, 0.5 * a[j], L[j] + cc[j], lo[j], hi[j])
            if new != old:
                d = new - old
                col_axpy(data, indices, indptr, n, is_sparse, j, -d, q)
                c += xbar[j] * d
                w[j] = new
        if kkt <= tol_in:
            break
        if K > 0:
            for k in range(m):
                hist[n_hist, k] = w[ws[k]]
            n_hist += 1
            if n_hist == K + 1:
                n_hist = 0
                c = _anderson_box(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar,
                                  ws, w, q, c, a, cc, lo, hi, hist, cw, w_acc, q_acc)
    return epoch, c, kkt


# --------------------------------------------------------------------------------------------
# logistic loss: proximal Newton on a working set
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH)
def _model_cd(data, indices, indptr, n, is_sparse, ws, gl, H, v, h, u, gb, Hb, fit_intercept, a,
              cc, lo, hi, tol_cd, max_cd):
    """CD on the quadratic model of :mod:`._pn_kernels` with per-feature penalties and bounds:
    ``v = w + dw`` on ``ws`` and ``u = X dw + db`` in place. Returns ``db``."""
    u[:] = 0.0
    db = 0.0
    for _ in range(max_cd):
        vmax = 0.0
        for k in range(ws.size):
            j = ws[k]
            if a[j] == np.inf:
                continue
            den = H[k] + 2.0 * cc[j]
            if not (den > 1e-300):
                continue
            G = gl[k] + col_wdot(data, indices, indptr, n, is_sparse, j, h, u)
            old = v[k]
            vk = box_viol(G + 2.0 * cc[j] * old, old, a[j], lo[j], hi[j])
            if vk > vmax:
                vmax = vk
            new = _step(H[k] * old - G, a[j], den, lo[j], hi[j])
            if new != old and np.isfinite(new):
                col_axpy(data, indices, indptr, n, is_sparse, j, new - old, u)
                v[k] = new
        if fit_intercept and Hb > 1e-300:
            Gb = gb
            for i in range(n):
                Gb += h[i] * u[i]
            step = -Gb / Hb
            if np.isfinite(step):
                db += step
                for i in range(n):
                    u[i] += step
            if abs(Gb) > vmax:
                vmax = abs(Gb)
        if vmax <= tol_cd:
            break
    return db


@njit(cache=True, fastmath=FASTMATH)
def _penalty(ws, w, v, t, a, cc):
    """``sum_j a_j |w_t| + cc_j w_t**2`` on ``ws`` at ``w_t = w + t (v - w)``."""
    pen = 0.0
    for k in range(ws.size):
        j = ws[k]
        if a[j] == np.inf:
            continue
        wt = w[j] + t * (v[k] - w[j])
        pen += a[j] * abs(wt) + cc[j] * wt * wt
    return pen


@njit(cache=True, fastmath=FASTMATH)
def _line_search(z, u, z_new, y, s, ws, w, v, a, cc, F0, Delta):
    """Armijo backtracking as in :mod:`._pn_kernels` (``z_new`` in place); ``(accepted, t)``.
    The box is convex, so every ``t`` in ``[0, 1]`` stays feasible."""
    slack = 1e-15 * abs(F0)
    t = 1.0
    for _ in range(50 if Delta < 0.0 else 0):
        for i in range(z.size):
            z_new[i] = z[i] + t * u[i]
        Ft = logistic_value(z_new, y, s) + _penalty(ws, w, v, t, a, cc)
        if np.isfinite(Ft) and Ft <= F0 + 1e-4 * t * Delta + slack:
            return True, t
        t *= 0.5
    if abs(Delta) <= 1e-12 * abs(F0):
        for i in range(z.size):
            z_new[i] = z[i] + u[i]
        Ft = logistic_value(z_new, y, s) + _penalty(ws, w, v, 1.0, a, cc)
        return np.isfinite(Ft) and Ft <= F0 + 1e-13 * abs(F0), 1.0
    return False, t


@njit(cache=True, fastmath=FASTMATH)
def pn_box_ws(data, indices, indptr, n, is_sparse, s, y, ws, w, z, b, fit_intercept, a, cc, lo,
              hi, tol_in, max_newton, max_cd):
    """Proximal Newton steps on ``ws`` (and the intercept) for the mean log-loss plus
    ``sum_j a_j |w_j| + cc_j w_j**2`` subject to ``lo <= w <= hi``, until the largest KKT
    violation there is ``<= tol_in`` or ``max_newton`` steps; ``w``, ``z = X w + b`` in place.
    Returns ``(steps, b, status)``: 0 done, 1 budget used, 2 stalled."""
    m = ws.size
    d = np.empty(n)
    h = np.empty(n)
    u = np.empty(n)
    z_new = np.empty(n)
    gl = np.empty(m)
    H = np.empty(m)
    v = np.empty(m)
    it = 0
    while True:
        logistic_derivs(z, y, s, d, h)
        kkt = 0.0
        for k in range(m):
            j = ws[k]
            gl[k] = col_dot(data, indices, indptr, n, is_sparse, j, d)
            vk = box_viol(gl[k] + 2.0 * cc[j] * w[j], w[j], a[j], lo[j], hi[j])
            if vk > kkt:
                kkt = vk
        gb = 0.0
        Hb = 0.0
        if fit_intercept:
            for i in range(n):
                gb += d[i]
                Hb += h[i]
            if abs(gb) > kkt:
                kkt = abs(gb)
        if kkt <= tol_in:
            return it, b, 0
        if it >= max_newton:
            return it, b, 1
        it += 1
        for k in range(m):
            H[k] = col_wsq(data, indices, indptr, n, is_sparse, ws[k], h)
            v[k] = w[ws[k]]
        db = _model_cd(data, indices, indptr, n, is_sparse, ws, gl, H, v, h, u, gb, Hb,
                       fit_intercept, a, cc, lo, hi, 0.1 * kkt, max_cd)
        pen0 = 0.0
        Delta = gb * db
        for k in range(m):
            j = ws[k]
            if a[j] == np.inf:
                continue
            dk = v[k] - w[j]
            pen0 += a[j] * abs(w[j]) + cc[j] * w[j] * w[j]
            Delta += gl[k] * dk + a[j] * (abs(v[k]) - abs(w[j])) + cc[j] * dk * (v[k] + w[j])
        F0 = logistic_value(z, y, s) + pen0
        if not np.isfinite(Delta) or (Delta >= 0.0 and Delta > 1e-12 * abs(F0)):
            return it, b, 2
        accepted, t = _line_search(z, u, z_new, y, s, ws, w, v, a, cc, F0, Delta)
        if not accepted:
            return it, b, 2
        moved = False
        for k in range(m):
            j = ws[k]
            wt = min(max(w[j] + t * (v[k] - w[j]), lo[j]), hi[j])
            if wt != w[j]:
                moved = True
            w[j] = wt
        bt = b + t * db
        if bt != b:
            moved = True
        b = bt
        for i in range(n):  # not z[:] = z_new, whose shape check compiles slowly
            z[i] = z_new[i]
        if not moved:
            return it, b, 2


@njit(cache=True, fastmath=False)
def box_viols(grad, w, a, lo, hi, out):
    """:func:`box_viol` of every coordinate (``out`` in place); returns the largest."""
    top = 0.0
    for j in range(w.size):
        out[j] = box_viol(grad[j], w[j], a[j], lo[j], hi[j])
        if out[j] > top:
            top = out[j]
    return top
