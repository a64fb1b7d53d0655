"""Compiled multinomial proximal Newton: the Newton steps on a working set and the whole path.

:func:`prox_newton_ws` takes Newton steps on the features of a working set: each builds the
quadratic model ``Q`` of the loss (:mod:`regulab.solvers._mn_kernels`) and minimizes it plus the
penalty by coordinate descent, in Gram form while the working set is small
(:mod:`regulab.solvers._mn_gram`), else column by column; then the step ``t`` in ``1, 1/2, ...``
with the Armijo decrease ``F(W + t dW) <= F(W) + 1e-4 t Delta`` is taken (as :mod:`._pn_kernels`).

:func:`mn_path` is the outer loop of :mod:`regulab.solvers.exact.multinomial` for a whole grid of
``(l1, l2)`` in one call (no Python per lam or per working set): at each point, until the
relative KKT violation is ``<= tol``, it computes the full gradient and the criterion, picks the
working set (the support, then the features that violate the optimality conditions most by
``(||G_j.|| - l1) / sqrt(L_j)``, its size at least doubling the support's) and runs
:func:`prox_newton_ws` on it; each point is warm-started from the previous one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from regulab.solvers._design_kernels import FASTMATH, col_axpy, col_dot
from regulab.solvers._mn_gram import gather, model_cd_gram, use_gram
from regulab.solvers._mn_kernels import (
    _model_cd,
    _viol,
    group_viol,
    residuals,
    softmax_loss,
    softmax_value,
)


@njit(cache=True, fastmath=FASTMATH)
def _penalty(W, ws, grouped, l1, l2):
    """``pen`` of the rows ``ws`` of ``W`` (``(len(ws), K)`` if ``ws`` is None-like: all)."""
    pen = 0.0
    for q in range(ws.size):
        row = W[ws[q]]
        sq = np.sum(row * row)
        pen += l2 * sq + (l1 * np.sqrt(sq) if grouped else l1 * np.sum(np.abs(row)))
    return pen


@njit(cache=True, fastmath=FASTMATH)
def _line_search(Z, U, Znew, codes, s, ws, W, V, grouped, l1, l2, F0, Delta):
    """The step ``t`` in ``1, 1/2, ...`` with ``F(W + t dW) <= F0 + 1e-4 t Delta`` (up to
    rounding), ``Znew = Z + t U`` in place. Returns ``(accepted, t)``."""
    slack = 1e-15 * abs(F0)
    Wt = np.empty_like(V)
    idx = np.arange(ws.size)
    t = 1.0
    for _ in range(50 if Delta < 0.0 else 0):
        Znew[:, :] = Z + t * U
        for q in range(ws.size):
            Wt[q] = W[ws[q]] + t * (V[q] - W[ws[q]])
        Ft = softmax_value(Znew, codes, s) + _penalty(Wt, idx, grouped, l1, l2)
        if np.isfinite(Ft) and Ft <= F0 + 1e-4 * t * Delta + slack:
            return True, t
        t *= 0.5
    if abs(Delta) <= 1e-12 * abs(F0):  # rounding regime: accept a full step that keeps F
        Znew[:, :] = Z + U
        Ft = softmax_value(Znew, codes, s) + _penalty(V, idx, grouped, l1, l2)
        return np.isfinite(Ft) and Ft <= F0 + 1e-13 * abs(F0), 1.0
    return False, t


@njit(cache=True, fastmath=FASTMATH)
def _ws_gradient(data, indices, indptr, n, is_sparse, ws, W, Dm, grouped, l1, l2, gl):
    """``gl[q, k] = x_j^T Dm_k`` for ``j = ws[q]`` (in place); the largest KKT violation."""
    K = W.shape[1]
    kkt = 0.0
    g = np.empty(K)
    for q in range(ws.size):
        j = ws[q]
        for k in range(K):
            gl[q, k] = col_dot(data, indices, indptr, n, is_sparse, j, Dm[k])
            g[k] = gl[q, k] + 2.0 * l2 * W[j, k]
        if grouped:
            v = group_viol(g, W[j], l1)
            if v > kkt:
                kkt = v
        else:
            for k in range(K):
                v = _viol(g[k], W[j, k], l1)
                if v > kkt:
                    kkt = v
    return kkt


@njit(cache=True, fastmath=FASTMATH)
def prox_newton_ws(data, indices, indptr, n, is_sparse, s, codes, ws, W, Z, b, grouped,
                   fit_intercept, l1, l2, tol_in, max_newton, max_cd):
    """Proximal Newton steps on the features ``ws`` (all K classes) and the intercepts until
    their largest KKT violation is ``<= tol_in`` or ``max_newton`` steps. ``W``, ``Z``, ``b``
    change in place.

    Returns ``(steps, status)``: 0 = done, 1 = step budget used, 2 = stalled (no decrease
    possible in floating point).
    """
    K = Z.shape[0]
    m = ws.size
    P = np.empty((K, n))
    Dm = np.empty((K, n))
    U = np.empty((K, n))
    Znew = np.empty((K, n))
    gl = np.empty((m, K))
    gb = np.zeros(K)
    V = np.empty((m, K))
    db = np.zeros(K)
    gram = use_gram(n, m, K, fit_intercept)
    Xw = (gather(data, indices, indptr, n, is_sparse, ws, fit_intercept) if gram
          else np.zeros((1, 1)))
    it = 0
    while True:
        F = softmax_loss(Z, codes, s, P)
        residuals(P, codes, s, Dm)
        kkt = _ws_gradient(data, indices, indptr, n, is_sparse, ws, W, Dm, grouped, l1, l2, gl)
        if fit_intercept:
            for k in range(K):
                gb[k] = np.sum(Dm[k])
                if abs(gb[k]) > kkt:
                    kkt = abs(gb[k])
        if kkt <= tol_in:
            return it, 0
        if it >= max_newton:
            return it, 1
        it += 1
        for q in range(m):
            V[q] = W[ws[q]]
        if gram:
            model_cd_gram(Xw, m, W, ws, gl, gb, P, s, V, U, db, grouped, fit_intercept, l1, l2,
                          0.1 * kkt, max_cd)
        else:
            _model_cd(data, indices, indptr, n, is_sparse, ws, gl, gb, P, s, V, U, db, grouped,
                      fit_intercept, l1, l2, 0.1 * kkt, max_cd)
        # --- line search on F(W + t dW), Delta = grad^T dW + pen(W + dW) - pen(W) ----------
        pen0 = 0.0
        Delta = 0.0
        for k in range(K):
            Delta += gb[k] * db[k]
        for q in range(m):
            j = ws[q]
            wo = W[j]
            sq0 = np.sum(wo * wo)
            sq1 = np.sum(V[q] * V[q])
            for k in range(K):
                dk = V[q, k] - wo[k]
                Delta += gl[q, k] * dk + l2 * dk * (V[q, k] + wo[k])
                if not grouped:
                    Delta += l1 * (abs(V[q, k]) - abs(wo[k]))
                    pen0 += l1 * abs(wo[k])
            if grouped:
                Delta += l1 * (np.sqrt(sq1) - np.sqrt(sq0))
                pen0 += l1 * np.sqrt(sq0)
            pen0 += l2 * sq0
        F0 = F + pen0
        if not np.isfinite(Delta) or (Delta >= 0.0 and Delta > 1e-12 * abs(F0)):
            return it, 2
        accepted, t = _line_search(Z, U, Znew, codes, s, ws, W, V, grouped, l1, l2, F0, Delta)
        if not accepted:
            return it, 2
        moved = False
        for q in range(m):
            j = ws[q]
            for k in range(K):
                wt = W[j, k] + t * (V[q, k] - W[j, k])
                if wt != W[j, k]:
                    moved = True
                W[j, k] = wt
        for k in range(K):
            bt = b[k] + t * db[k]
            if bt != b[k]:
                moved = True
            b[k] = bt
        Z[:, :] = Znew
        if not moved:
            return it, 2


@njit(cache=True, fastmath=False)
def predictors(data, indices, indptr, n, is_sparse, W, b, Z):
    """``Z = (X W + b)^T`` in place (``(K, n)``); rows of ``W`` that are 0 cost nothing."""
    p, K = W.shape
    for k in range(K):
        Z[k, :] = b[k]
    for j in range(p):
        for k in range(K):
            if W[j, k] != 0.0:
                col_axpy(data, indices, indptr, n, is_sparse, j, W[j, k], Z[k])


@njit(cache=True, fastmath=FASTMATH)
def full_gradient(data, indices, indptr, n, is_sparse, act, Dm, W, l2, grouped, l1, G, gn):
    """``G[j] = X_j^T Dm^T + 2 l2 W_j.`` for the active ``j`` (in place), ``gn[j]`` its
    ``||.||_2`` (grouped) or ``max |.|`` (ungrouped); returns the largest KKT violation."""
    K = W.shape[1]
    kkt = 0.0
    for t in range(act.size):
        j = act[t]
        for k in range(K):
            G[j, k] = col_dot(data, indices, indptr, n, is_sparse, j, Dm[k]) + 2.0 * l2 * W[j, k]
        if grouped:
            gn[j] = np.sqrt(np.sum(G[j] * G[j]))
            v = group_viol(G[j], W[j], l1)
        else:
            gn[j] = np.max(np.abs(G[j]))
            v = 0.0
            for k in range(K):
                v = max(v, _viol(G[j, k], W[j, k], l1))
        if v > kkt:
            kkt = v
    return kkt


@njit(cache=True, fastmath=False)
def pick_ws(act, W, gn, sqrtL, l1, size):
    """The ``size`` active features of largest ``(gn_j - l1) / sqrtL_j``, the support first
    (all active features when ``size`` covers them), sorted."""
    if size >= act.size:
        return act.copy()
    p = W.shape[0]
    score = np.full(p, -np.inf)
    for t in range(act.size):
        j = act[t]
        score[j] = np.inf if np.any(W[j] != 0.0) else (gn[j] - l1) / sqrtL[j]
    return np.sort(np.argsort(-score)[:size]).astype(np.int64)


@njit(cache=True, fastmath=False)
def solve_point(data, indices, indptr, n, is_sparse, s, codes, act, sqrtL, scale, W, b,
                grouped, fit_intercept, l1, l2, tol, max_iter, ws_start, max_cd):
    """One grid point from the warm start ``(W, b)`` (changed in place); returns
    ``(criterion, newton_steps, converged)``. Without any penalty the rows of ``W`` are
    centered; the intercepts are returned centered."""
    p, K = W.shape
    Z = np.empty((K, n))
    P = np.empty((K, n))
    Dm = np.empty((K, n))
    G = np.zeros((p, K))
    gn = np.zeros(p)
    predictors(data, indices, indptr, n, is_sparse, W, b, Z)
    n_newton, converged, stalled, ws_size = 0, False, False, ws_start
    while True:
        softmax_loss(Z, codes, s, P)
        residuals(P, codes, s, Dm)
        kkt = full_gradient(data, indices, indptr, n, is_sparse, act, Dm, W, l2, grouped, l1,
                            G, gn)
        if fit_intercept:
            for k in range(K):
                kkt = max(kkt, abs(np.sum(Dm[k])))
        crit = kkt / scale
        if crit <= tol:
            converged = True
            break
        if n_newton >= max_iter or stalled:
            break
        if l1 == 0.0:
            ws = act.copy()
        else:
            rows = 0
            for j in range(p):
                rows += 1 if np.any(W[j] != 0.0) else 0
            ws_size = max(ws_size, 2 * rows)
            ws = pick_ws(act, W, gn, sqrtL, l1, ws_size)
        tol_in = max(0.3 * kkt, 0.5 * tol * scale)
        it, status = prox_newton_ws(data, indices, indptr, n, is_sparse, s, codes, ws, W, Z, b,
                                    grouped, fit_intercept, l1, l2, tol_in, max_iter - n_newton,
                                    max_cd)
        n_newton += it
        stalled = status == 2 or (it == 0 and status == 0 and ws.size == act.size)
        predictors(data, indices, indptr, n, is_sparse, W, b, Z)
    if l1 == 0.0 and l2 == 0.0:  # no penalty: rows defined up to a shift
        for j in range(p):
            W[j] -= np.mean(W[j])
    if fit_intercept:
        b -= np.mean(b)
    return crit, n_newton, converged


@njit(cache=True, fastmath=False)
def mn_path(data, indices, indptr, n, is_sparse, s, codes, act, sqrtL, scale, l1s, l2s,
            grouped, fit_intercept, tol, max_iter, ws_start, max_cd, W, b, coefs, intercepts,
            gaps, n_iter, converged):
    """:func:`solve_point` at each ``(l1s[t], l2s[t])`` in turn, warm-started from ``(W, b)``
    and then from the previous point; ``coefs[:, :, t]``, ``intercepts[:, t]``, ``gaps[t]``,
    ``n_iter[t]``, ``converged[t]`` filled in place."""
    for t in range(l1s.size):
        crit, it, ok = solve_point(data, indices, indptr, n, is_sparse, s, codes, act, sqrtL,
                                   scale, W, b, grouped, fit_intercept, l1s[t], l2s[t], tol,
                                   max_iter, ws_start, max_cd)
        coefs[:, :, t] = W
        intercepts[:, t] = b
        gaps[t] = crit
        n_iter[t] = it
        converged[t] = ok
