"""Compiled (numba) kernels of the Poisson-loss proximal Newton solver.

The same method as :mod:`regulab.solvers._pn_kernels` (whose model coordinate descent and
working-set gradient it reuses), with the Poisson derivatives at the linear predictor
``eta = X w + b + o`` (``o`` the offset)::

    mu_i = exp(eta_i),   d_i = s_i (mu_i - y_i),   h_i = s_i mu_i
    F(w, b) = sum_i s_i (mu_i - y_i eta_i) + l1 |w|_1 + l2 |w|^2

The curvature ``h`` is unbounded (no step ``1/L`` is safe), so every Newton direction is damped:
the largest ``t`` in ``1, 1/2, 1/4, ...`` with the Armijo decrease
``F(w + t dw) <= F(w) + 1e-4 t Delta``; a trial step whose ``exp`` overflows is rejected like
any other that fails the test.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers._design_kernels import FASTMATH
from regulab.solvers._pn_kernels import FIRST_EPOCHS, _gradient_ws, _penalty_at, model_solve


@njit(cache=True, fastmath=False)
def poisson_value(eta, y, s):
    """``sum_i s_i (exp(eta_i) - y_i eta_i)`` over the rows of positive weight."""
    acc = 0.0
    for i in range(eta.size):
        if s[i] > 0.0:
            acc += s[i] * (np.exp(eta[i]) - y[i] * eta[i])
    return acc


@njit(cache=True, fastmath=FASTMATH)
def poisson_derivs(eta, y, s, d, h):
    """First and second derivatives of the weighted Poisson loss in ``eta`` (in place)."""
    for i in range(eta.size):
        if s[i] > 0.0:
            mu = np.exp(eta[i])
            d[i] = s[i] * (mu - y[i])
            h[i] = s[i] * mu
        else:
            d[i] = 0.0
            h[i] = 0.0


@njit(cache=True, fastmath=FASTMATH)
def _line_search(z, u, z_new, y, s, ws, w, v, l1, l2, F0, Delta):
    """The step ``t`` in ``1, 1/2, 1/4, ...`` with ``F(w + t dw) <= F0 + 1e-4 t Delta`` (up to
    rounding), ``z_new = z + t u`` in place. Returns ``(accepted, t)``."""
    slack = 1e-15 * abs(F0)
    t = 1.0
    for _ in range(60 if Delta < 0.0 else 0):
        for i in range(z.size):
            z_new[i] = z[i] + t * u[i]
        Ft = poisson_value(z_new, y, s) + _penalty_at(ws, w, v, t, l1, l2)
        if np.isfinite(Ft) and Ft <= F0 + 1e-4 * t * Delta + slack:
            return True, t
        t *= 0.5
    # rounding regime (|Delta| at the level of F's last bits): a full step that keeps F within
    # noise is taken, as in the logistic kernel
    if abs(Delta) <= 1e-12 * abs(F0):
        for i in range(z.size):
            z_new[i] = z[i] + u[i]
        Ft = poisson_value(z_new, y, s) + _penalty_at(ws, w, v, 1.0, l1, l2)
        return np.isfinite(Ft) and Ft <= F0 + 1e-13 * abs(F0), 1.0
    return False, t


@njit(cache=True, fastmath=FASTMATH)
def prox_newton_ws(data, indices, indptr, n, is_sparse, s, y, ws, w, z, b, fit_intercept, l1,
                   l2, tol_in, max_newton, max_cd):
    """Damped proximal Newton steps on the coordinates ``ws`` (and the intercept) until their
    largest KKT violation is ``<= tol_in`` or ``max_newton`` steps; ``z`` is ``eta`` (offset
    included). ``w`` and ``z`` change in place.

    Returns ``(steps, b, status)``: ``status`` 0 = done, 1 = step budget used, 2 = stalled (no
    decrease possible in floating point).
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
    it = 0
    while True:
        poisson_derivs(z, y, s, d, h)
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
            return it, b, 0
        if it >= max_newton:
            return it, b, 1
        it += 1
        db, epochs, At, At_h = model_solve(data, indices, indptr, n, is_sparse, ws, w, gl, H, v,
                                           w_ws, q, h, u, gb, Hb, fit_intercept, l1, l2,
                                           0.1 * kkt, max_cd, epochs, At, At_h)
        pen0 = 0.0
        Delta = gb * db
        for k in range(m):
            j = ws[k]
            dk = v[k] - w[j]
            pen0 += l1 * abs(w[j]) + l2 * w[j] * w[j]
            Delta += gl[k] * dk + l1 * (abs(v[k]) - abs(w[j])) + l2 * dk * (v[k] + w[j])
        F0 = poisson_value(z, y, s) + pen0
        if not np.isfinite(Delta) or (Delta >= 0.0 and Delta > 1e-12 * abs(F0)):
            return it, b, 2
        accepted, t = _line_search(z, u, z_new, y, s, ws, w, v, l1, l2, F0, Delta)
        if not accepted:
            return it, b, 2
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
            return it, b, 2
