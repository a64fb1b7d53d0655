"""Poisson loss (log link, offset): damped proximal Newton on working sets, certified by KKT.

Minimizes::

    F(w, b) = sum_i s_i (exp(x_i.w + b + o_i) - y_i (x_i.w + b + o_i)) + l1 ||w||_1 + l2 ||w||_2**2

(``o_i = log(exposure_i)`` the offset, 0 without one; the constant ``sum_i s_i log(y_i!)`` of the
negative log-likelihood dropped). The outer loop is that of :mod:`.logistic`: full gradient, the
criterion ``kkt / scale`` (the house's ``kkt``: ``scale`` the largest gradient entry at the null
model), a working set of the worst violators plus the support, and Newton steps on it
(:func:`regulab.solvers._pn_poisson.prox_newton_ws`). The loss has no global Lipschitz constant,
so every Newton step is damped by an Armijo line search instead.

Dense columns whose weighted mean exceeds their standard deviation are centered first (the
intercept absorbs the means: ``b = b_c - xbar.w``, the penalty is unchanged), because coordinate
descent between such a column and the intercept zig-zags (X near 100 +- 1 took over 1000 Newton
steps); sparse X is never densified, so it is used as it is.

Without a penalty a minimizer may not exist (a feature that is positive only on rows with
``y = 0`` sends its coefficient to ``-inf``); the solver then stops at ``max_iter`` or when no
step decreases ``F`` in floating point, with ``converged=False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from regulab.solvers import _pn_poisson as PPK
from regulab.solvers.design import Design, as_design
from regulab.solvers.exact.result import ExactResult, zero_result
from regulab.solvers.exact.working_set import kkt_violation, select_ws


@dataclass(frozen=True)
class PoissonProblem:
    """One Poisson problem: ``o`` the offset, ``active`` the informative features (``L > 0``),
    ``sqrtL`` their centered norms (1 elsewhere), ``scale`` the criterion's denominator."""

    D: Design
    y: np.ndarray
    s: np.ndarray
    o: np.ndarray
    fit_intercept: bool
    l1: float
    l2: float
    active: np.ndarray
    sqrtL: np.ndarray
    scale: float


def null_intercept(y, s, o) -> float:
    """``log(sum s y / sum s exp(o))``: the intercept of the best model with ``w = 0``."""
    ybar = float(s @ y)
    if ybar <= 0.0:
        raise ValueError("poisson loss with an intercept needs a positive count among the "
                         "samples of positive weight (all are 0: the intercept goes to -inf)")
    return math.log(ybar) - math.log(float(s @ np.exp(o)))


def solve_poisson(D: Design, y, s, o, fit_intercept, l1, l2, w, b, tol, max_iter,
                  ws_start) -> ExactResult:
    """Minimize the Poisson objective from ``(w, b)`` (``w`` modified in place; ``b`` None
    starts at the null model's intercept) to ``kkt / scale <= tol``."""
    p = D.p
    b_null = null_intercept(y, s, o) if fit_intercept else 0.0
    xbar, L = D.stats(s, fit_intercept)
    active = L > 0
    if fit_intercept and D.dense is not None and np.any(active & (xbar * xbar > L)):
        res = solve_poisson(as_design(D.dense - xbar.astype(D.dense.dtype)), y, s, o, True, l1,
                            l2, w, None if b is None else b + float(xbar @ w), tol, max_iter,
                            ws_start)
        res.intercept = float(res.intercept - xbar @ res.w)
        return res
    eta0 = o + b_null
    g_null = D.xt_dot(s * (np.exp(eta0) - y))
    g_null[~active] = 0.0
    scale = float(np.abs(g_null).max()) if p else 0.0
    if scale == 0.0:
        val = float(PPK.poisson_value(eta0, y, s))
        return zero_result(p, b_null, "kkt", tol, val, "prox_newton")
    w[~active] = 0.0
    if not fit_intercept:
        b = 0.0
    elif b is None:
        b = b_null
    P = PoissonProblem(D, y, s, o, fit_intercept, l1, l2, active,
                       np.sqrt(np.where(active, L, 1.0)), scale)
    return _prox_newton(P, w, float(b), tol, max_iter, ws_start)


def _prox_newton(P: PoissonProblem, w, b, tol, max_iter, ws_start) -> ExactResult:
    D, y, s, l1, l2 = P.D, P.y, P.s, P.l1, P.l2
    z = D.x_dot(w) + b + P.o
    if not np.all(np.isfinite(np.exp(z[s > 0]))):  # a warm start far off: restart at the null
        w[:] = 0.0
        b = null_intercept(y, s, P.o) if P.fit_intercept else 0.0
        z = P.o + b
    n_newton = 0
    ws_size = max(1, ws_start)
    converged = stalled = False
    while True:
        dvec = s * (np.exp(z) - y)
        grad = D.xt_dot(dvec) + 2.0 * l2 * w
        grad[~P.active] = 0.0
        kkt = kkt_violation(grad, w, l1)
        if P.fit_intercept:
            kkt = max(kkt, abs(float(dvec.sum())))
        crit = kkt / P.scale
        if crit <= tol:
            converged = True
            break
        if n_newton >= max_iter or stalled:
            break
        if l1 == 0.0:
            ws = np.flatnonzero(P.active).astype(np.int64)
        else:
            ws_size = max(ws_size, 2 * int(np.count_nonzero(w)))
            ws = select_ws((np.abs(grad) - l1) / P.sqrtL, w, P.active, ws_size)
        tol_in = max(0.3 * kkt, 0.5 * tol * P.scale)
        it, b, status = PPK.prox_newton_ws(*D.args, s, y, ws, w, z, float(b), P.fit_intercept,
                                           l1, l2, tol_in, max_iter - n_newton, 50)
        n_newton += int(it)
        stalled = status == 2 or (it == 0 and status == 0 and ws.size == int(P.active.sum()))
        z = D.x_dot(w) + b + P.o
    pen = l1 * float(np.abs(w).sum()) + l2 * float(w @ w)
    obj = float(PPK.poisson_value(z, y, s)) + pen
    return ExactResult(w=w, intercept=float(b), gap=crit, n_iter=n_newton, converged=converged,
                       tol=tol, criterion="kkt", objective=obj, solver="prox_newton")
