"""Compiled Gram-form solve of the multinomial Newton model, for small working sets.

Same quadratic model ``Q`` as :mod:`regulab.solvers._mn_kernels` (its docstring), same steps
(exact coordinate steps, ungrouped; block majorization steps, grouped; the penalty-minimizing row
shift after each feature; exact intercept steps), but on the model's Hessian, formed once per
Newton step on the ``m`` working-set columns plus, when the intercept is fitted, a column of ones
(index ``m``; ``mm = m + 1`` columns then)::

    H[(k, a), (l, c)] = sum_i s_i x_ia x_ic p_ki ([k = l] - p_li)

stored flat as ``Hf[k * mm + a, l * mm + c]``. The model's gradient ``gq = g + H vec(dV)`` is
kept up to date (a step of ``delta`` in coordinate ``r`` adds ``delta Hf[r]``), so a pass costs
``O((mm K)**2)`` instead of the ``O(n m K)`` of the column form: on a small, near-separable
problem (iris) the model needs tens of passes per Newton step, and the Gram form makes them
cheap. A row shift leaves ``gq`` unchanged, as the rows of ``H`` sum to 0 over the classes.

Forming ``H`` costs ``O(n (mm K)**2 / 2)``, so the route is taken only while ``mm * K <=
GRAM_MAX`` (:func:`use_gram`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers._design_kernels import FASTMATH
from regulab.solvers._mn_kernels import _soft, _viol, group_viol, row_shift

#: the largest model size ``mm * K`` solved in Gram form
GRAM_MAX = 64
#: and the largest gathered block ``n * mm`` (memory: 8 bytes each)
GATHER_MAX = 20_000_000


@njit(cache=True, fastmath=FASTMATH)
def use_gram(n, m, K, fit_intercept):
    mm = m + (1 if fit_intercept else 0)
    return mm * K <= GRAM_MAX and n * mm <= GATHER_MAX


@njit(cache=True, fastmath=FASTMATH)
def gather(data, indices, indptr, n, is_sparse, ws, fit_intercept):
    """The working-set columns as rows of a dense ``(mm, n)`` array, ones last if fitted."""
    m = ws.size
    mm = m + (1 if fit_intercept else 0)
    Xw = np.zeros((mm, n))
    for q in range(m):
        j = ws[q]
        if is_sparse:
            for t in range(indptr[j], indptr[j + 1]):
                Xw[q, indices[t]] = data[t]
        else:
            off = j * n
            for i in range(n):
                Xw[q, i] = data[off + i]
    if fit_intercept:
        Xw[m, :] = 1.0
    return Xw


@njit(cache=True, fastmath=FASTMATH)
def model_hessian(Xw, P, s):
    """``Hf`` of the module docstring (symmetric, ``(K mm, K mm)``)."""
    mm, n = Xw.shape
    K = P.shape[0]
    H = np.empty((K * mm, K * mm))
    v = np.empty(n)
    xa = np.empty(n)
    for k in range(K):
        for l in range(k, K):
            for i in range(n):
                v[i] = s[i] * P[k, i] * ((1.0 if k == l else 0.0) - P[l, i])
            for a in range(mm):
                for i in range(n):
                    xa[i] = Xw[a, i] * v[i]
                for c in range(a + 1):
                    acc = 0.0
                    for i in range(n):
                        acc += xa[i] * Xw[c, i]
                    H[k * mm + a, l * mm + c] = acc
                    H[k * mm + c, l * mm + a] = acc
                    H[l * mm + a, k * mm + c] = acc
                    H[l * mm + c, k * mm + a] = acc
    return H


@njit(cache=True, fastmath=FASTMATH)
def _step(H, gq, r, delta):
    row = H[r]
    for t in range(gq.size):
        gq[t] += row[t] * delta


@njit(cache=True, fastmath=FASTMATH)
def _ungrouped_pass(H, gq, V, mm, l1, l2):
    m, K = V.shape
    vmax = 0.0
    for q in range(m):
        for k in range(K):
            r = k * mm + q
            h = H[r, r]
            G = gq[r]
            old = V[q, k]
            vk = _viol(G + 2.0 * l2 * old, old, l1)
            if vk > vmax:
                vmax = vk
            den = h + 2.0 * l2
            if not (den > 1e-300):
                continue
            new = _soft(h * old - G, l1) / den
            if new != old and np.isfinite(new):
                _step(H, gq, r, new - old)
                V[q, k] = new
        c = row_shift(V[q], l1, l2)
        if c != 0.0 and np.isfinite(c):
            for k in range(K):
                V[q, k] += c
    return vmax


@njit(cache=True, fastmath=FASTMATH)
def _grouped_pass(H, gq, V, A, mm, l1, l2):
    m, K = V.shape
    G = np.empty(K)
    old = np.empty(K)
    vmax = 0.0
    for q in range(m):
        a = A[q]
        for rep in range(5):
            for k in range(K):
                G[k] = gq[k * mm + q]
                old[k] = V[q, k]
            vk = group_viol(G + 2.0 * l2 * old, old, l1)
            if rep == 0 and vk > vmax:
                vmax = vk
            if not (a > 1e-300) or vk <= 1e-3 * vmax:
                break
            zv = a * old - G
            nz = np.sqrt(np.sum(zv * zv))
            scale = (nz - l1) / (nz * (a + 2.0 * l2)) if nz > l1 else 0.0
            for k in range(K):
                new = zv[k] * scale
                if new != old[k] and np.isfinite(new):
                    _step(H, gq, k * mm + q, new - old[k])
                    V[q, k] = new
        c = -np.mean(V[q])  # a group's norm and squares are both smallest at the centered row
        if c != 0.0 and np.isfinite(c):
            for k in range(K):
                V[q, k] += c
    return vmax


@njit(cache=True, fastmath=FASTMATH)
def _intercept_pass(H, gq, db, mm):
    K = db.size
    vmax = 0.0
    for k in range(K):
        r = k * mm + mm - 1
        if abs(gq[r]) > vmax:
            vmax = abs(gq[r])
        if H[r, r] > 1e-300:
            step = -gq[r] / H[r, r]
            if np.isfinite(step) and step != 0.0:
                _step(H, gq, r, step)
                db[k] += step
    return vmax


@njit(cache=True, fastmath=FASTMATH)
def model_cd_gram(Xw, m, W, ws, gl, gb, P, s, V, U, db, grouped, fit_intercept, l1, l2, tol_cd,
                  max_cd):
    """Coordinate descent on ``Q`` from ``dW = 0`` in Gram form, as
    :func:`regulab.solvers._mn_kernels._model_cd` (same outputs ``V``, ``U``, ``db``)."""
    K, n = P.shape
    mm = Xw.shape[0]
    H = model_hessian(Xw, P, s)
    gq = np.zeros(K * mm)
    for k in range(K):
        for q in range(m):
            gq[k * mm + q] = gl[q, k]
        if fit_intercept:
            gq[k * mm + m] = gb[k]
    A = np.zeros(m)
    if grouped:  # Gershgorin bound of each feature's K x K block
        for q in range(m):
            for k in range(K):
                acc = 0.0
                for l in range(K):
                    acc += abs(H[k * mm + q, l * mm + q])
                if acc > A[q]:
                    A[q] = acc
    db[:] = 0.0
    for _ in range(max_cd):
        if grouped:
            vmax = _grouped_pass(H, gq, V, A, mm, l1, l2)
        else:
            vmax = _ungrouped_pass(H, gq, V, mm, l1, l2)
        if fit_intercept:
            vb = _intercept_pass(H, gq, db, mm)
            if vb > vmax:
                vmax = vb
        if vmax <= tol_cd:
            break
    # the change of the predictors, U = (X dW + db)^T, for the line search
    for k in range(K):
        for i in range(n):
            U[k, i] = db[k]
        for q in range(m):
            d = V[q, k] - W[ws[q], k]
            if d != 0.0:
                for i in range(n):
                    U[k, i] += d * Xw[q, i]
