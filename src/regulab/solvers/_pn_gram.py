"""The inner solve of a proximal Newton step on the working set's weighted Gram matrix (numba).

Same quadratic model ``Q`` as :mod:`regulab.solvers._pn_kernels`, written with the Gram matrix
``G = A^T diag(h) A`` of ``A = [X_ws, 1]`` (the column of ones only with an intercept)::

    Q(delta) = g^T delta + 1/2 delta^T G delta + l1 |w_ws + dw|_1 + l2 |w_ws + dw|^2,
    delta = (dw, db), g = (X_ws^T d, sum_i d_i)

Coordinate descent on this form keeps ``q = G delta`` up to date (O(|ws|) per changed
coordinate) instead of the rows' ``X delta`` (O(n) per visited coordinate): an epoch costs
O(|ws|^2) instead of O(n |ws|), for O(n |ws|^2 / 2) once per Newton step. It is
the same coordinate descent, with the same updates and the same stopping rule, on the same
model: only the bookkeeping differs (covariance updates, as in glmnet's ``type.gaussian =
"covariance"``), and the row route's Anderson extrapolation is not tried here (its iterates
differ; the minimizer, to the stopping rule, does not).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers._design_kernels import FASTMATH

#: the Gram matrix's columns ``c`` (|ws| + intercept) and the gathered ``c x n`` entries are
#: capped: the route's memory, ``16 n c + 8 c^2`` bytes, stays under about 100 MiB (the order of
#: the squared-loss solver's Gram cache in :mod:`regulab.core.memory`)
MAX_COLS = 2048
MAX_ENTRIES = 1 << 22
#: the cost of a multiply-add in the Gram product and in a Gram epoch, in multiply-adds of a
#: row epoch (measured with n = 2000 and 30-800 working features: 0.25, 0.8 and 0.5 ns)
BUILD_COST = 0.5
EPOCH_COST = 1.6


@njit(cache=True, fastmath=FASTMATH)
def gather_ws(data, indices, indptr, n, is_sparse, ws, fit_intercept):
    """``A^T`` (``[c, n]``, float64): the columns ``ws`` of X, then ones with an intercept."""
    m = ws.size
    c = m + 1 if fit_intercept else m
    At = np.zeros((c, n))
    for k in range(m):
        j = ws[k]
        if is_sparse:
            for t in range(indptr[j], indptr[j + 1]):
                At[k, indices[t]] = data[t]
        else:
            off = j * n
            for i in range(n):
                At[k, i] = data[off + i]
    if fit_intercept:
        At[m, :] = 1.0
    return At


@njit(cache=True, fastmath=FASTMATH)
def gram_pays(indptr, n, is_sparse, ws, fit_intercept, epochs):
    """Whether the Gram route (the product, ``n c^2 / 2`` multiply-adds, then ``epochs``
    epochs of ``c m``) costs less than ``epochs`` epochs on the rows (two passes over the
    working set's entries each), within the size caps."""
    m = ws.size
    c = m + 1 if fit_intercept else m
    if c > MAX_COLS or c * n > MAX_ENTRIES:
        return False
    if is_sparse:
        work = 0
        for k in range(m):
            # signed: a uint32 view's difference is unsigned, which numba adds to int as float
            work += np.int64(indptr[ws[k] + 1]) - np.int64(indptr[ws[k]])
    else:
        work = n * m
    rows = 2.0 * epochs * (work + (n if fit_intercept else 0))
    return BUILD_COST * 0.5 * n * c * c + EPOCH_COST * epochs * c * m <= rows


@njit(cache=True, fastmath=FASTMATH)
def weighted_gram(At, h, At_h):
    """``G = A^T diag(h) A`` (``At_h`` a work array shaped like ``At``). A compiled loop, not
    BLAS: a multi-threaded BLAS on a busy machine was measured 100x slower on small products."""
    c, n = At.shape
    for k in range(c):
        for i in range(n):
            At_h[k, i] = At[k, i] * h[i]
    G = np.empty((c, c))
    for k in range(c):
        for a in range(k + 1):
            acc = 0.0
            for i in range(n):
                acc += At_h[k, i] * At[a, i]
            G[k, a] = acc
            G[a, k] = acc
    return G


@njit(cache=True, fastmath=FASTMATH)
def model_cd_gram(G, gl, gb, v, q, fit_intercept, l1, l2, tol_cd, max_cd):
    """Coordinate descent on ``Q`` (module docstring) from ``delta = 0``: ``v = w_ws + dw``
    and ``q = G delta`` in place, until the largest KKT violation of ``Q`` is ``<= tol_cd`` or
    ``max_cd`` passes. Returns ``(db, epochs)``."""
    m = v.size
    c = q.size
    q[:] = 0.0
    db = 0.0
    epochs = 0
    for _ in range(max_cd):
        epochs += 1
        vmax = 0.0
        for k in range(m):
            Hk = G[k, k]
            den = Hk + 2.0 * l2
            if not (den > 1e-300):
                continue
            grad = gl[k] + q[k]
            old = v[k]
            if old == 0.0:
                vk = max(abs(grad) - l1, 0.0)
            else:
                vk = abs(grad + 2.0 * l2 * old + (l1 if old > 0.0 else -l1))
            if vk > vmax:
                vmax = vk
            zz = Hk * old - grad
            if zz > l1:
                new = (zz - l1) / den
            elif zz < -l1:
                new = (zz + l1) / den
            else:
                new = 0.0
            if new != old and np.isfinite(new):
                dlt = new - old
                for a in range(c):
                    q[a] += dlt * G[a, k]
                v[k] = new
        if fit_intercept and G[m, m] > 1e-300:
            Gb = gb + q[m]
            step = -Gb / G[m, m]
            if np.isfinite(step):
                db += step
                for a in range(c):
                    q[a] += step * G[a, m]
            if abs(Gb) > vmax:
                vmax = abs(Gb)
        if vmax <= tol_cd:
            break
    return db, epochs


@njit(cache=True, fastmath=FASTMATH)
def model_direction(At, v, w_ws, db, u):
    """``u = X_ws dw + db = A delta``."""
    m = v.size
    c = At.shape[0]
    delta = np.empty(c)
    for k in range(m):
        delta[k] = v[k] - w_ws[k]
    if c > m:
        delta[m] = db
    c, n = At.shape
    u[:] = 0.0
    for k in range(c):
        if delta[k] != 0.0:
            for i in range(n):
                u[i] += delta[k] * At[k, i]
