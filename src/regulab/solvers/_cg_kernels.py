"""Compiled (numba) conjugate gradients for the sign-fixed Newton step of the squared loss.

On a support ``S`` with signs ``sigma`` (``w_j != 0`` on S), the objective of
:mod:`regulab.solvers._cd_kernels` restricted to the orthant of ``sigma`` is the quadratic::

    f(w_S) = sum_i s_i r_i**2 + (l1 / 2) * 2 sigma.w_S + l2 ||w_S||**2,   r = y_c - X_c,S w_S

whose minimizer ``w_S + d`` solves ``H d = rho`` with ``H = X_c,S^T diag(s) X_c,S + l2 I`` and
``rho = g_S - l2 w_S - (l1 / 2) sigma`` (``g = X_c^T (s r)``, half the negative gradient of the
loss). Conjugate gradients, preconditioned by the diagonal ``L_j + l2`` of ``H``, solve it with
one product by ``X_S`` and one by ``X_S^T`` per iteration (the memory traffic of one
coordinate-descent epoch on S) and never form ``H``: the support may hold thousands of sparse
columns. The residual is kept as in :mod:`regulab.solvers._cd_kernels` (``r = q + c``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers._design_kernels import FASTMATH


@njit(cache=True)
def _x_dot(data, indices, indptr, n, is_sparse, S, p, u):
    """``u = X_S p``. No fastmath in these products: a reassociated (vectorized) gather over the
    few stored entries of a sparse column is slower than the plain loop."""
    for i in range(n):
        u[i] = 0.0
    for k in range(S.size):
        j = S[k]
        a = p[k]
        if is_sparse:
            for t in range(indptr[j], indptr[j + 1]):
                u[indices[t]] += a * data[t]
        else:
            off = j * n
            for i in range(n):
                u[i] += a * data[off + i]


@njit(cache=True)
def _xt_dot(data, indices, indptr, n, is_sparse, S, v, out):
    """``out = X_S^T v``."""
    for k in range(S.size):
        j = S[k]
        acc = 0.0
        if is_sparse:
            for t in range(indptr[j], indptr[j + 1]):
                acc += data[t] * v[indices[t]]
        else:
            off = j * n
            for i in range(n):
                acc += data[off + i] * v[i]
        out[k] = acc


@njit(cache=True)
def _hess_dot(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, S, l2, p, u, su,
              out):
    """``out = H p`` and ``u = X_S p`` (uncentered; ``X_c,S p = u - xbar.p``). Returns
    ``xbar.p``."""
    _x_dot(data, indices, indptr, n, is_sparse, S, p, u)
    xp = 0.0
    for k in range(S.size):
        xp += xbar[S[k]] * p[k]
    mean_u = 0.0  # sum_i s_i (u_i - xp)
    if weighted:
        for i in range(n):
            su[i] = s[i] * u[i]
            mean_u += su[i]
        _xt_dot(data, indices, indptr, n, is_sparse, S, su, out)
    else:
        for i in range(n):
            mean_u += u[i]
        mean_u *= inv_n
        _xt_dot(data, indices, indptr, n, is_sparse, S, u, out)
        for k in range(S.size):
            out[k] *= inv_n
    mean_u -= xp
    for k in range(S.size):
        j = S[k]
        # X_c^T diag(s) X_c p = X^T (s (u - xp)) - xbar sum(s (u - xp)), and the xp part of the
        # first product is xp * sum_i s_i x_ij = xp * xbar_j (both 0 without an intercept)
        out[k] += -xp * xbar[j] - xbar[j] * mean_u + l2 * p[k]
    return xp


@njit(cache=True, fastmath=FASTMATH)
def cg_support(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, L, S, w, q, c, l1,
               l2, stop, max_iter):
    """Preconditioned CG for the sign-fixed Newton step on ``S`` (module docstring).

    Starts from ``d = 0`` and stops when ``2 max_k |rho_k| <= stop`` (the largest KKT violation on
    S, in the units of the CD kernels) or after ``max_iter`` iterations. Returns ``(d, u_d, xbar.d, iters, rz)`` with ``u_d = X_S d`` (uncentered) and
    ``rz`` the last ``rho^T M^{-1} rho``; ``w``, ``q`` are not modified.
    """
    m = S.size
    half = 0.5 * l1
    rho = np.empty(m)
    z = np.empty(m)
    p = np.empty(m)
    hp = np.empty(m)
    d = np.zeros(m)
    u = np.empty(n)
    su = np.empty(n if weighted else 0)
    ud = np.zeros(n)
    xd = 0.0
    rz = 0.0
    rmax = 0.0
    if weighted:
        for i in range(n):
            u[i] = s[i] * q[i]
        _xt_dot(data, indices, indptr, n, is_sparse, S, u, hp)
    else:
        _xt_dot(data, indices, indptr, n, is_sparse, S, q, hp)
        for k in range(m):
            hp[k] *= inv_n
    for k in range(m):
        j = S[k]
        g = hp[k] + c * xbar[j]
        sg = 1.0 if w[j] > 0.0 else -1.0
        rho[k] = g - l2 * w[j] - half * sg
        z[k] = rho[k] / (L[j] + l2)
        p[k] = z[k]
        rz += rho[k] * z[k]
        rmax = max(rmax, abs(rho[k]))
    it = 0
    while it < max_iter and 2.0 * rmax > stop:
        it += 1
        xp = _hess_dot(data, indices, indptr, n, is_sparse, s, weighted, inv_n, xbar, S, l2, p,
                       u, su, hp)
        php = 0.0
        for k in range(m):
            php += p[k] * hp[k]
        if not (php > 0.0):
            break
        alpha = rz / php
        for k in range(m):
            d[k] += alpha * p[k]
            rho[k] -= alpha * hp[k]
        for i in range(n):
            ud[i] += alpha * u[i]
        xd += alpha * xp
        rz_new = 0.0
        rmax = 0.0
        for k in range(m):
            z[k] = rho[k] / (L[S[k]] + l2)
            rz_new += rho[k] * z[k]
            rmax = max(rmax, abs(rho[k]))
        beta = rz_new / rz
        rz = rz_new
        for k in range(m):
            p[k] = z[k] + beta * p[k]
    return d, ud, xd, it, rz
