"""Compiled (numba) kernels of the logistic-loss proximal Newton solver.

Same design representation as :mod:`regulab.solvers._design_kernels` (dense X flattened in Fortran
order, or CSC arrays; ``data`` keeps its dtype, arithmetic in float64).

On a working set ``ws`` each Newton step builds the quadratic model of the mean log-loss at the
current linear predictor ``z = X w + b``::

    d_i = s_i (sigmoid(z_i) - y_i),   h_i = s_i sigmoid(z_i) (1 - sigmoid(z_i))
    Q(dw, db) = d^T (X dw + db) + 1/2 sum_i h_i ((X dw)_i + db)**2 + l1 |w + dw|_1 + l2 |w + dw|^2

minimizes it by coordinate descent (the intercept is one more, unpenalized, coordinate; on the
rows, with Anderson extrapolation of the iterates every ``ANDERSON + 1`` epochs, kept when it
lowers ``Q``; or on the working set's weighted Gram matrix where building it costs less than the
epochs of the last solve, :mod:`regulab.solvers._pn_gram`), then
takes the largest step ``t`` in ``1, 1/2, 1/4, ...`` with the Armijo decrease
``F(w + t dw) <= F(w) + 1e-4 t Delta``, ``Delta = grad^T dw + pen(w + dw) - pen(w) < 0``
(glmnet's IRLS-CD, skglm's ProxNewton).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers import _pn_gram as PG
from regulab.solvers._cd_kernels import anderson_weights
from regulab.solvers._design_kernels import FASTMATH, col_axpy, col_dot, col_wdot, col_wsq

#: the epochs of the first model solve, before any was counted (chooses rows or Gram)
FIRST_EPOCHS = 10
#: iterates combined by Anderson extrapolation in the logistic model's coordinate descent on
#: the rows (0 = off): on 2000 x 1000 and 1000 x 3000 dense L1 paths 5 iterates cut the column
#: visits by 35-40 % (working sets of ~1000 ill-conditioned features), 3 by 7-10 % more (and
#: 29 % more on a 5000 x 200 path). The Poisson solver's model solve
#: (:mod:`regulab.solvers._pn_poisson`) keeps plain CD (``model_solve``'s default ``K=0``)
ANDERSON = 3


@njit(cache=True, fastmath=FASTMATH)
def _sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + np.exp(-x))
    e = np.exp(x)
    return e / (1.0 + e)


@njit(cache=True, fastmath=False)
def _log1pexp(x):
    """``log(1 + exp(x))`` without overflow."""
    if x > 0.0:
        return x + np.log1p(np.exp(-x))
    return np.log1p(np.exp(x))


@njit(cache=True, fastmath=False)
def logistic_value(z, y, s):
    """``sum_i s_i log(1 + exp(-t_i z_i))``, ``t_i = 2 y_i - 1``."""
    acc = 0.0
    for i in range(z.size):
        if s[i] > 0.0:
            t = 2.0 * y[i] - 1.0
            acc += s[i] * _log1pexp(-t * z[i])
    return acc


@njit(cache=True, fastmath=FASTMATH)
def logistic_derivs(z, y, s, d, h):
    """First and second derivatives of the weighted log-loss in ``z`` (``d``, ``h`` in place)."""
    for i in range(z.size):
        if s[i] > 0.0:
            p = _sigmoid(z[i])
            d[i] = s[i] * (p - y[i])
            h[i] = s[i] * p * (1.0 - p)
        else:
            d[i] = 0.0
            h[i] = 0.0


@njit(cache=True, fastmath=FASTMATH)
def _viol(g, w, l1):
    """Distance of ``-g`` to ``l1 * subdifferential of |.| at w``."""
    if w == 0.0:
        v = abs(g) - l1
        return v if v > 0.0 else 0.0
    if w > 0.0:
        return abs(g + l1)
    return abs(g - l1)


@njit(cache=True, fastmath=FASTMATH)
def _gradient_ws(data, indices, indptr, n, is_sparse, ws, w, d, l1, l2, gl):
    """``gl_k = x_j^T d`` for ``j = ws[k]`` (in place) and the largest KKT violation there."""
    kkt = 0.0
    for k in range(ws.size):
        j = ws[k]
        gl[k] = col_dot(data, indices, indptr, n, is_sparse, j, d)
        vk = _viol(gl[k] + 2.0 * l2 * w[j], w[j], l1)
        if vk > kkt:
            kkt = vk
    return kkt


@njit(cache=True, fastmath=FASTMATH)
def _model_epoch(data, indices, indptr, n, is_sparse, ws, gl, H, v, h, u, gb, Hb, db,
                 fit_intercept, l1, l2):
    """One pass of :func:`_model_cd` (``v``, ``u`` in place). Returns ``(db, kkt)``, ``kkt``
    the largest KKT violation of ``Q`` met (each coordinate measured when visited)."""
    vmax = 0.0
    for k in range(ws.size):
        j = ws[k]
        den = H[k] + 2.0 * l2
        if not (den > 1e-300):
            continue
        G = gl[k] + col_wdot(data, indices, indptr, n, is_sparse, j, h, u)
        old = v[k]
        vk = _viol(G + 2.0 * l2 * old, old, l1)
        if vk > vmax:
            vmax = vk
        zz = H[k] * old - G
        if zz > l1:
            new = (zz - l1) / den
        elif zz < -l1:
            new = (zz + l1) / den
        else:
            new = 0.0
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
    return db, vmax


@njit(cache=True, fastmath=FASTMATH)
def _model_value(gl, gb, h, v, w_ws, u, db, l1, l2):
    """``Q`` of the module docstring at ``v = w + dw`` with ``u = X dw + db``."""
    acc = gb * db
    for k in range(v.size):
        acc += gl[k] * (v[k] - w_ws[k]) + l1 * abs(v[k]) + l2 * v[k] * v[k]
    quad = 0.0
    for i in range(u.size):
        quad += h[i] * u[i] * u[i]
    return acc + 0.5 * quad


@njit(cache=True, fastmath=FASTMATH)
def _model_anderson(gl, gb, h, v, w_ws, u, db, l1, l2, hist, hist_u, cw, v_acc, u_acc):
    """Anderson extrapolation of the model's last iterates (rows of ``hist``: ``v`` then
    ``db``; of ``hist_u``: ``u``, affine in them, so combined exactly), kept (``v``, ``u`` in
    place) if it lowers ``Q``. Returns ``db``."""
    if not anderson_weights(hist, cw):
        return db
    K = hist.shape[0] - 1
    m = v.size
    for k in range(m + 1):
        acc = 0.0
        for a in range(K):
            acc += cw[a] * hist[a + 1, k]
        v_acc[k] = acc
    for i in range(u.size):
        acc = 0.0
        for a in range(K):
            acc += cw[a] * hist_u[a + 1, i]
        u_acc[i] = acc
    db_acc = v_acc[m]
    if (_model_value(gl, gb, h, v_acc[:m], w_ws, u_acc, db_acc, l1, l2)
            < _model_value(gl, gb, h, v, w_ws, u, db, l1, l2)):
        for k in range(m):  # loops, not slice copies: their shape checks compile slowly
            v[k] = v_acc[k]
        for i in range(u.size):
            u[i] = u_acc[i]
        return db_acc
    return db


@njit(cache=True, fastmath=FASTMATH)
def _model_cd(data, indices, indptr, n, is_sparse, ws, gl, H, v, w_ws, h, u, gb, Hb,
              fit_intercept, l1, l2, tol_cd, max_cd, K):
    """Coordinate descent on the quadratic model ``Q`` of the module docstring, from ``dw = 0``
    (``v = w_ws``): ``v = w + dw`` on ``ws`` and ``u = X dw + db`` in place, until the largest
    KKT violation of ``Q`` is ``<= tol_cd`` or ``max_cd`` passes. Every ``K + 1`` epochs
    (``K > 0``) an Anderson extrapolation of the last iterates is tried, kept if it lowers
    ``Q``. Returns ``(db, epochs)``."""
    m = ws.size
    u[:] = 0.0
    db = 0.0
    epochs = 0
    hist = np.empty((K + 1, m + 1))
    hist_u = np.empty((K + 1, n))
    cw = np.empty(max(K, 1))
    v_acc = np.empty(m + 1)
    u_acc = np.empty(n)
    n_hist = 0
    for _ in range(max_cd):
        epochs += 1
        db, vmax = _model_epoch(data, indices, indptr, n, is_sparse, ws, gl, H, v, h, u, gb, Hb,
                                db, fit_intercept, l1, l2)
        if vmax <= tol_cd:
            break
        if K > 0:
            hist[n_hist, :m] = v
            hist[n_hist, m] = db
            hist_u[n_hist] = u
            n_hist += 1
            if n_hist == K + 1:
                n_hist = 0
                db = _model_anderson(gl, gb, h, v, w_ws, u, db, l1, l2, hist, hist_u, cw,
                                     v_acc, u_acc)
    return db, epochs


@njit(cache=True, fastmath=FASTMATH)
def model_solve(data, indices, indptr, n, is_sparse, ws, w, gl, H, v, w_ws, q, h, u, gb, Hb,
                fit_intercept, l1, l2, tol_cd, max_cd, epochs, At, At_h, K=0):
    """Minimize the quadratic model from ``dw = 0`` (``v = w + dw`` on ``ws``, ``u = X dw +
    db``, in place): on the weighted Gram matrix where building it costs less than the
    ``epochs`` of the last solve (``At``, the gathered columns, kept from one step to the next;
    empty until first needed), else on the rows, with Anderson extrapolation of ``K`` iterates
    (0 = off; the logistic solver's :data:`ANDERSON`). Returns ``(db, epochs, At, At_h)``."""
    m = ws.size
    for k in range(m):
        v[k] = w[ws[k]]
        w_ws[k] = v[k]
    if PG.gram_pays(indptr, n, is_sparse, ws, fit_intercept, epochs):
        if At.shape[0] == 0:
            At = PG.gather_ws(data, indices, indptr, n, is_sparse, ws, fit_intercept)
            At_h = np.empty_like(At)
        G = PG.weighted_gram(At, h, At_h)
        db, epochs = PG.model_cd_gram(G, gl, gb, v, q, fit_intercept, l1, l2, tol_cd, max_cd)
        PG.model_direction(At, v, w_ws, db, u)
        return db, epochs, At, At_h
    for k in range(m):
        H[k] = col_wsq(data, indices, indptr, n, is_sparse, ws[k], h)
    db, epochs = _model_cd(data, indices, indptr, n, is_sparse, ws, gl, H, v, w_ws, h, u, gb,
                           Hb, fit_intercept, l1, l2, tol_cd, max_cd, K)
    return db, epochs, At, At_h


@njit(cache=True, fastmath=FASTMATH)
def _penalty_at(ws, w, v, t, l1, l2):
    """``l1 |w_t|_1 + l2 |w_t|^2`` on ``ws`` at ``w_t = w + t (v - w)``."""
    pen = 0.0
    for k in range(ws.size):
        j = ws[k]
        wt = w[j] + t * (v[k] - w[j])
        pen += l1 * abs(wt) + l2 * wt * wt
    return pen


@njit(cache=True, fastmath=FASTMATH)
def _line_search(z, u, z_new, y, s, ws, w, v, l1, l2, F0, Delta):
    """The step ``t`` in ``1, 1/2, 1/4, ...`` with ``F(w + t dw) <= F0 + 1e-4 t Delta`` (up to
    rounding), ``z_new = z + t u`` in place. Returns ``(accepted, t)``."""
    slack = 1e-15 * abs(F0)
    t = 1.0
    for _ in range(50 if Delta < 0.0 else 0):
        for i in range(z.size):
            z_new[i] = z[i] + t * u[i]
        Ft = logistic_value(z_new, y, s) + _penalty_at(ws, w, v, t, l1, l2)
        if np.isfinite(Ft) and Ft <= F0 + 1e-4 * t * Delta + slack:
            return True, t
        t *= 0.5
    # in the rounding regime of F (|Delta| at the level of its last bits) the Newton step cannot
    # be judged by F; a full step is then taken if it keeps F within noise
    if abs(Delta) <= 1e-12 * abs(F0):
        for i in range(z.size):
            z_new[i] = z[i] + u[i]
        pen_t = 0.0
        for k in range(ws.size):
            pen_t += l1 * abs(v[k]) + l2 * v[k] * v[k]
        Ft = logistic_value(z_new, y, s) + pen_t
        return np.isfinite(Ft) and Ft <= F0 + 1e-13 * abs(F0), 1.0
    return False, t


@njit(cache=True, fastmath=FASTMATH)
def prox_newton_ws(data, indices, indptr, n, is_sparse, s, y, ws, w, z, b, fit_intercept, l1,
                   l2, tol_in, max_newton, max_cd):
    """Proximal Newton steps on the coordinates ``ws`` (and the intercept) until their largest
    KKT violation is ``<= tol_in`` or ``max_newton`` steps. ``w`` and ``z`` change in place.

    Returns ``(steps, b, status, epochs)``: ``status`` 0 = done, 1 = step budget used, 2 =
    stalled (no decrease possible in floating point, e.g. separable data without penalty);
    ``epochs`` the coordinate-descent epochs of the model solves (a work count).
    """
    m = ws.size
    d = np.empty(n)
    h = np.empty(n)
    u = np.empty(n)
    z_new = np.empty(n)
    gl = np.empty(m)
    H = np.empty(m)
    v = np.empty(m)
    w_ws = np.empty(m)
    q = np.empty(m + 1 if fit_intercept else m)
    At = np.zeros((0, n))
    At_h = np.zeros((0, n))
    epochs = FIRST_EPOCHS
    total = 0
    it = 0
    while True:
        logistic_derivs(z, y, s, d, h)
        kkt = _gradient_ws(data, indices, indptr, n, is_sparse, ws, w, d, l1, l2, gl)
        gb = 0.0
        Hb = 0.0
        if fit_intercept:
            for i in range(n):
                gb += d[i]
                Hb += h[i]
            if abs(gb) > kkt:
                kkt = abs(gb)
        if kkt <= tol_in:
            return it, b, 0, total
        if it >= max_newton:
            return it, b, 1, total
        it += 1
        db, epochs, At, At_h = model_solve(data, indices, indptr, n, is_sparse, ws, w, gl, H, v,
                                           w_ws, q, h, u, gb, Hb, fit_intercept, l1, l2,
                                           0.1 * kkt, max_cd, epochs, At, At_h, ANDERSON)
        total += epochs
        # --- line search on F(w + t dw), Delta = grad^T dw + pen(w + dw) - pen(w) ---------
        pen0 = 0.0
        Delta = gb * db
        for k in range(m):
            j = ws[k]
            dk = v[k] - w[j]
            pen0 += l1 * abs(w[j]) + l2 * w[j] * w[j]
            # per coordinate, so that a tiny Delta is not lost in rounding
            Delta += gl[k] * dk + l1 * (abs(v[k]) - abs(w[j])) + l2 * dk * (v[k] + w[j])
        F0 = logistic_value(z, y, s) + pen0
        if not np.isfinite(Delta) or (Delta >= 0.0 and Delta > 1e-12 * abs(F0)):
            return it, b, 2, total
        accepted, t = _line_search(z, u, z_new, y, s, ws, w, v, l1, l2, F0, Delta)
        if not accepted:
            return it, b, 2, total
        moved = False
        for k in range(m):
            j = ws[k]
            wt = w[j] + t * (v[k] - w[j])
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
            return it, b, 2, total
