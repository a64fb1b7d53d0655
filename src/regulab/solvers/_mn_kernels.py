"""Compiled (numba) kernels of the multinomial (softmax) loss and its Newton model solve.

Design representation as :mod:`regulab.solvers._design_kernels`. Class-major arrays: the linear
predictors ``Z`` and probabilities ``P`` are ``(K, n)`` (row ``k`` contiguous), the coefficients
``W`` are ``(p, K)`` and the intercepts ``b`` are ``(K,)``; labels are class codes ``c_i``.

On a working set ``ws`` each Newton step builds the quadratic model of the mean multinomial
log-loss ``F(W, b) = sum_i s_i (logsumexp(z_i) - z_{i c_i})`` at ``Z``::

    d_ki = s_i (p_ki - [c_i = k]),   Hessian of F in z_i:  s_i (diag(p_i) - p_i p_i^T)
    Q(dW, db) = <d, U> + 1/2 sum_i s_i (sum_k p_ki U_ki**2 - (sum_k p_ki U_ki)**2) + pen(W + dW)

with ``U = (X dW + db)^T`` (the change of the predictors), and minimizes it by coordinate
descent keeping ``U`` and ``r_i = sum_k p_ki U_ki`` up to date:

* ungrouped (``l1 |W|_1``): one coordinate ``(j, k)`` at a time, exact on ``Q`` (soft-threshold
  with the diagonal ``sum_i s_i x_ij**2 p_ki (1 - p_ki)``);
* grouped (``l1 sum_j ||W_j.||_2``): one feature ``j`` (its K classes) at a time, by
  majorization-minimization on ``Q``: the block ``sum_i s_i x_ij**2 (diag(p_i) - p_i p_i^T)`` is
  bounded by ``a_j I``, ``a_j = sum_i s_i x_ij**2 max_k 2 p_ki (1 - p_ki)`` (Gershgorin: row
  ``k`` of ``diag(p) - p p^T`` has diagonal and off-diagonal sums ``p_k (1 - p_k)`` each), so the
  block step is a block soft-threshold and never increases ``Q``.

``Q`` is unchanged when one constant is added to a row ``dW_j.`` across the classes (the rows of
``diag(p_i) - p_i p_i^T`` sum to 0, and so do ``sum_k d_ki``): the model is flat along these
shifts and only the penalty sees them. Coordinate steps alone zigzag along that flat direction,
so after each feature the row is shifted by the constant that minimizes its penalty exactly
(:func:`row_shift`; glmnet's ``elc`` does the same for its symmetric multinomial).

The intercepts are K more, unpenalized, coordinates. The Newton steps, their line search and the
path around them are in :mod:`regulab.solvers._mn_newton`; the Gram form of this model solve, for
small working sets, in :mod:`regulab.solvers._mn_gram`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers._design_kernels import FASTMATH, col_wsq


@njit(cache=True, fastmath=FASTMATH)
def softmax_loss(Z, codes, s, P):
    """``sum_i s_i (logsumexp(z_i) - z_{i c_i})``; ``P`` (``(K, n)``) gets the softmax."""
    K, n = Z.shape
    acc = 0.0
    for i in range(n):
        m = Z[0, i]
        for k in range(1, K):
            if Z[k, i] > m:
                m = Z[k, i]
        tot = 0.0
        for k in range(K):
            e = np.exp(Z[k, i] - m)
            P[k, i] = e
            tot += e
        for k in range(K):
            P[k, i] /= tot
        if s[i] > 0.0:
            acc += s[i] * (m + np.log(tot) - Z[codes[i], i])
    return acc


@njit(cache=True, fastmath=FASTMATH)
def softmax_value(Z, codes, s):
    """The loss of :func:`softmax_loss` without the probabilities."""
    K, n = Z.shape
    acc = 0.0
    for i in range(n):
        if s[i] > 0.0:
            m = Z[0, i]
            for k in range(1, K):
                if Z[k, i] > m:
                    m = Z[k, i]
            tot = 0.0
            for k in range(K):
                tot += np.exp(Z[k, i] - m)
            acc += s[i] * (m + np.log(tot) - Z[codes[i], i])
    return acc


@njit(cache=True, fastmath=False)
def residuals(P, codes, s, Dm):
    """``Dm_ki = s_i (p_ki - [c_i = k])`` in place (the derivative of the loss in ``z``)."""
    K, n = P.shape
    for k in range(K):
        for i in range(n):
            Dm[k, i] = s[i] * P[k, i]
    for i in range(n):
        Dm[codes[i], i] -= s[i]


@njit(cache=True, fastmath=FASTMATH)
def _cross(data, indices, indptr, n, is_sparse, j, hp, u, r):
    """``sum_i x_ij hp_i (u_i - r_i)``: column ``j`` of the model's Hessian times ``U``."""
    acc = 0.0
    if is_sparse:
        for q in range(indptr[j], indptr[j + 1]):
            i = indices[q]
            acc += data[q] * hp[i] * (u[i] - r[i])
    else:
        off = j * n
        for i in range(n):
            acc += data[off + i] * hp[i] * (u[i] - r[i])
    return acc


@njit(cache=True, fastmath=FASTMATH)
def _move(data, indices, indptr, n, is_sparse, j, delta, u, pk, r):
    """``u += delta x_j`` and ``r += delta p_k * x_j`` (keeps ``r_i = sum_k p_ki u_ki``)."""
    if is_sparse:
        for q in range(indptr[j], indptr[j + 1]):
            i = indices[q]
            v = delta * data[q]
            u[i] += v
            r[i] += pk[i] * v
    else:
        off = j * n
        for i in range(n):
            v = delta * data[off + i]
            u[i] += v
            r[i] += pk[i] * v


@njit(cache=True, fastmath=FASTMATH)
def _soft(x, t):
    if x > t:
        return x - t
    if x < -t:
        return x + t
    return 0.0


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
def group_viol(g, w, l1):
    """Distance of ``-g`` (a K-vector) to ``l1 * subdifferential of ||.||_2 at w``."""
    nw = np.sqrt(np.sum(w * w))
    if nw == 0.0:
        v = np.sqrt(np.sum(g * g)) - l1
        return v if v > 0.0 else 0.0
    return np.sqrt(np.sum((g + l1 * w / nw) ** 2))


@njit(cache=True, fastmath=FASTMATH)
def _shift_slope(v, c, l1, l2, right):
    """Right (``right``) or left derivative in ``c`` of ``sum_k l1 |v_k + c| + l2 (v_k + c)**2``."""
    acc = 0.0
    for k in range(v.size):
        x = v[k] + c
        if x > 0.0 or (x == 0.0 and right):
            acc += l1
        else:
            acc -= l1
        acc += 2.0 * l2 * x
    return acc


@njit(cache=True, fastmath=FASTMATH)
def row_shift(v, l1, l2):
    """The constant ``c`` minimizing ``sum_k l1 |v_k + c| + l2 (v_k + c)**2``; where the
    minimizers form an interval (``l2 = 0``), its point closest to 0."""
    K = v.size
    if l2 == 0.0:
        if l1 == 0.0:
            return 0.0
        a = np.sort(-v)
        lo = a[(K + 1) // 2 - 1]
        hi = a[K // 2]
        return min(max(0.0, lo), hi)
    a = np.sort(-v)
    for m in range(K):
        if (_shift_slope(v, a[m], l1, l2, False) <= 0.0
                and _shift_slope(v, a[m], l1, l2, True) >= 0.0):
            return a[m]
    # the root lies inside one interval between breakpoints, where the slope is linear
    for m in range(K + 1):
        left = -np.inf if m == 0 else a[m - 1]
        right = np.inf if m == K else a[m]
        mid = right - 1.0 if m == 0 else (left + 1.0 if m == K else 0.5 * (left + right))
        cnt = 0.0
        tot = 0.0
        for k in range(K):
            cnt += 1.0 if v[k] + mid > 0.0 else -1.0
            tot += v[k]
        c = -(l1 * cnt + 2.0 * l2 * tot) / (2.0 * l2 * K)
        if left <= c <= right:
            return c
    return 0.0


@njit(cache=True, fastmath=FASTMATH)
def _shift_row(data, indices, indptr, n, is_sparse, j, V, q, U, r, l1, l2):
    """Move row ``q`` of ``V`` (feature ``j``) to its penalty-minimizing shift; ``Q`` is
    unchanged, ``U`` and ``r`` follow (``r_i`` gains ``c x_ij`` as ``sum_k p_ki = 1``)."""
    c = row_shift(V[q], l1, l2)
    if c == 0.0 or not np.isfinite(c):
        return
    K = V.shape[1]
    for k in range(K):
        V[q, k] += c
    if is_sparse:
        for t in range(indptr[j], indptr[j + 1]):
            i = indices[t]
            x = c * data[t]
            for k in range(K):
                U[k, i] += x
            r[i] += x
    else:
        off = j * n
        for i in range(n):
            x = c * data[off + i]
            for k in range(K):
                U[k, i] += x
            r[i] += x


@njit(cache=True, fastmath=FASTMATH)
def _ungrouped_pass(data, indices, indptr, n, is_sparse, ws, gl, Hd, V, HP, P, U, r, l1, l2):
    """One pass of exact coordinate steps on ``Q`` over ``ws`` x classes; the largest KKT
    violation of ``Q`` seen."""
    K = V.shape[1]
    vmax = 0.0
    for q in range(ws.size):
        j = ws[q]
        for k in range(K):
            h = Hd[q, k]
            G = gl[q, k] + _cross(data, indices, indptr, n, is_sparse, j, HP[k], U[k], r)
            old = V[q, k]
            vk = _viol(G + 2.0 * l2 * old, old, l1)
            if vk > vmax:
                vmax = vk
            den = h + 2.0 * l2
            if not (den > 1e-300):
                continue
            new = _soft(h * old - G, l1) / den
            if new != old and np.isfinite(new):
                _move(data, indices, indptr, n, is_sparse, j, new - old, U[k], P[k], r)
                V[q, k] = new
        _shift_row(data, indices, indptr, n, is_sparse, j, V, q, U, r, l1, l2)
    return vmax


@njit(cache=True, fastmath=FASTMATH)
def _grouped_pass(data, indices, indptr, n, is_sparse, ws, gl, A, V, HP, P, U, r, l1, l2):
    """One pass of block majorization steps on ``Q`` over the features of ``ws`` (each block
    iterated a few times); the largest block KKT violation of ``Q`` seen."""
    K = V.shape[1]
    G = np.empty(K)
    old = np.empty(K)
    vmax = 0.0
    for q in range(ws.size):
        j = ws[q]
        a = A[q]
        for rep in range(5):
            for k in range(K):
                G[k] = gl[q, k] + _cross(data, indices, indptr, n, is_sparse, j, HP[k], U[k], r)
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
                    _move(data, indices, indptr, n, is_sparse, j, new - old[k], U[k], P[k], r)
                    V[q, k] = new
        # a group's norm and squares are both smallest at the centered row
        _shift_row(data, indices, indptr, n, is_sparse, j, V, q, U, r, 0.0, 1.0)
    return vmax


@njit(cache=True, fastmath=FASTMATH)
def _intercept_step(gb, Hb, HP, P, U, r, db):
    """Exact steps on ``Q`` in each intercept; the largest intercept gradient of ``Q``."""
    K, n = U.shape
    vmax = 0.0
    for k in range(K):
        Gb = gb[k]
        for i in range(n):
            Gb += HP[k, i] * (U[k, i] - r[i])
        if abs(Gb) > vmax:
            vmax = abs(Gb)
        if Hb[k] > 1e-300:
            step = -Gb / Hb[k]
            if np.isfinite(step) and step != 0.0:
                db[k] += step
                for i in range(n):
                    U[k, i] += step
                    r[i] += P[k, i] * step
    return vmax


@njit(cache=True, fastmath=FASTMATH)
def _model_cd(args_data, indices, indptr, n, is_sparse, ws, gl, gb, P, s, V, U, db, grouped,
              fit_intercept, l1, l2, tol_cd, max_cd):
    """Coordinate descent on ``Q`` from ``dW = 0`` (``V = W + dW`` on ``ws``, ``U``, ``db`` in
    place) until its largest KKT violation is ``<= tol_cd`` or ``max_cd`` passes."""
    K = P.shape[0]
    m = ws.size
    HP = np.empty((K, n))
    Hb = np.zeros(K)
    for k in range(K):
        for i in range(n):
            HP[k, i] = s[i] * P[k, i]
            Hb[k] += HP[k, i] * (1.0 - P[k, i])
    Hd = np.empty((m, K))
    A = np.empty(m)
    if grouped:
        c = np.zeros(n)
        for i in range(n):
            for k in range(K):
                v = 2.0 * P[k, i] * (1.0 - P[k, i])
                if v > c[i]:
                    c[i] = v
            c[i] *= s[i]
        for q in range(m):
            A[q] = col_wsq(args_data, indices, indptr, n, is_sparse, ws[q], c)
    else:
        hk = np.empty(n)
        for k in range(K):
            for i in range(n):
                hk[i] = HP[k, i] * (1.0 - P[k, i])
            for q in range(m):
                Hd[q, k] = col_wsq(args_data, indices, indptr, n, is_sparse, ws[q], hk)
    U[:, :] = 0.0
    r = np.zeros(n)
    db[:] = 0.0
    for _ in range(max_cd):
        if grouped:
            vmax = _grouped_pass(args_data, indices, indptr, n, is_sparse, ws, gl, A, V, HP, P,
                                 U, r, l1, l2)
        else:
            vmax = _ungrouped_pass(args_data, indices, indptr, n, is_sparse, ws, gl, Hd, V, HP,
                                   P, U, r, l1, l2)
        if fit_intercept:
            vb = _intercept_step(gb, Hb, HP, P, U, r, db)
            if vb > vmax:
                vmax = vb
        if vmax <= tol_cd:
            break
