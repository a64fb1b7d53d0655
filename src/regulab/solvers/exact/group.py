"""Group lasso: block coordinate descent on working sets, certified.

Minimizes, for a partition ``groups`` of the features (:mod:`regulab.core.groups`)::

    P(w, b) = sum_i s_i loss(y_i, x_i.w + b) + l1 * sum_g sqrt(|g|) ||w_g||_2 + l2 * ||w||_2**2

(``s`` the sample weights normalized to sum to 1, ``b`` unpenalized; ``loss`` squared
``(y - z)**2`` or logistic ``log(1 + exp(-t z))``, ``t = 2y - 1``). A group is kept or dropped
whole: ``w_g = 0`` exactly iff ``||grad_g|| <= l1 sqrt(|g|)`` at the optimum. With singleton
groups this is the lasso.

Method: the columns are centered (weighted) once, which eliminates the intercept of the squared
loss and conditions the logistic one; block steps with block soft-thresholding
(:mod:`regulab.solvers._group_kernels`) run on a working set (the groups kept so far plus the
groups that violate the optimality conditions most, doubling), until the working set's largest
KKT violation is below 0.3 times the full problem's.

Certificates (``ExactResult.gap``):

* squared loss, ``criterion='duality_gap'``: :func:`regulab.core.certificates.
  duality_gap_group_squared` divided by the null model's loss, as for the lasso;
* logistic loss, ``criterion='kkt'``: ``max(max_g viol_g, |grad_b|) / scale`` with
  ``viol_g = max(||grad_g|| - l1 sqrt(|g|), 0)`` for ``w_g = 0`` and
  ``||grad_g + l1 sqrt(|g|) w_g / ||w_g|| ||`` otherwise (``grad`` the gradient of loss + l2
  term), and ``scale = max_g ||grad_g|| / sqrt(|g|)`` of the loss at the null model (the
  ``lam_max`` of the pure group-lasso problem).
"""

from __future__ import annotations

import math

import numpy as np

from regulab.core.certificates import duality_gap_group_squared
from regulab.core.groups import Groups, as_groups
from regulab.core.losses import check_labels
from regulab.solvers import _group_kernels as GK
from regulab.solvers.exact.result import ExactResult, zero_result

SQUARED, LOGISTIC = 0, 1
#: epochs between two checks of the working set's KKT conditions
CHECK_EVERY = 10


def solve_group(X, y, s, groups, loss, fit_intercept, l1, l2, w, b, tol,
                max_iter, ws_start) -> ExactResult:
    """Minimize the module's ``P`` from ``w`` (modified in place) and ``b`` (None: the null
    model's intercept) to ``gap <= tol``; ``s`` normalized weights, ``y`` checked."""
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    G = as_groups(groups, p)
    kind = LOGISTIC if loss == "logistic" else SQUARED
    xbar = s @ X if fit_intercept else np.zeros(p)
    Xc = np.asfortranarray(X - xbar)
    if kind == LOGISTIC:
        return _logistic(X, Xc, xbar, y, s, G, fit_intercept, l1, l2, w, b, tol, max_iter,
                         ws_start)
    ybar = float(s @ y) if fit_intercept else 0.0
    yc = y - ybar
    null_loss = float(s @ yc**2)
    if null_loss == 0.0 or p == 0:
        return zero_result(p, ybar, "duality_gap", tol, null_loss, "constant")
    Lg = _block_curvatures(Xc, s, G, 2.0)

    def criterion(w, b_arr):
        b = ybar - float(xbar @ w)
        return duality_gap_group_squared(X, y, w, b, G, l1, l2, s, fit_intercept) / null_loss

    b_arr = np.zeros(1)
    w, n_iter, crit = _bcd(Xc, yc, s, G, Lg, SQUARED, fit_intercept, l1, l2, w, b_arr, tol,
                           max_iter, ws_start, criterion)
    b = ybar - float(xbar @ w)
    r = y - X @ w - b
    obj = float(s @ r**2) + l1 * G.penalty(w) + l2 * float(w @ w)
    return ExactResult(w=w, intercept=b, gap=crit, n_iter=n_iter, converged=crit <= tol,
                       tol=tol, criterion="duality_gap", objective=obj, solver="bcd")


def _logistic(X, Xc, xbar, y, s, G, fit_intercept, l1, l2, w, b, tol, max_iter,
              ws_start) -> ExactResult:
    check_labels(y)
    pmean = float(s @ y)
    if fit_intercept and (pmean <= 0.0 or pmean >= 1.0):
        raise ValueError("logistic loss with an intercept needs both classes 0 and 1 among the "
                         "samples of positive weight")
    b_null = math.log(pmean / (1.0 - pmean)) if fit_intercept else 0.0
    g_null = Xc.T @ (s * (1.0 / (1.0 + math.exp(-b_null)) - y))
    scale = G.dual_norm(g_null)
    if scale == 0.0:
        val = float(s @ np.logaddexp(0.0, -(2 * y - 1) * b_null))
        return zero_result(X.shape[1], b_null, "kkt", tol, val, "constant")
    Lg = _block_curvatures(Xc, s, G, 0.25)
    b_arr = np.array([0.0 if not fit_intercept else
                      (b_null if b is None else b + float(xbar @ w))])
    all_groups = np.arange(G.n_groups, dtype=np.int64)

    def criterion(w, b_arr):
        z = Xc @ w
        out = np.empty(2 * G.n_groups)
        GK.group_violations(Xc, y, s, z, b_arr[0], w, G.ptr, G.idx, G.weights, all_groups,
                            l1, l2, LOGISTIC, out)
        gb = float(s @ (_sigmoid(z + b_arr[0]) - y)) if fit_intercept else 0.0
        return max(float(out[:G.n_groups].max(initial=0.0)), abs(gb)) / scale

    b0 = float(b_arr[0]) - float(xbar @ w)
    w, b, n_iter, crit = _prox_newton(X, y, s, G, fit_intercept, l1, l2, w, b0, tol, max_iter,
                                      ws_start,
                                      lambda w, b: criterion(w, np.array([b + float(xbar @ w)])))
    if crit > tol and n_iter < max_iter:  # Newton stalled (rounding): finish by block steps
        b_arr[0] = b + float(xbar @ w)
        w, more, crit = _bcd(Xc, y, s, G, Lg, LOGISTIC, fit_intercept, l1, l2, w, b_arr, tol,
                             max_iter - n_iter, ws_start, criterion, kkt_scale=scale)
        n_iter += more
        b = float(b_arr[0]) - float(xbar @ w)
    z = X @ w + b
    obj = float(s @ np.logaddexp(0.0, -(2 * y - 1) * z)) + l1 * G.penalty(w) + l2 * float(w @ w)
    return ExactResult(w=w, intercept=b, gap=crit, n_iter=n_iter, converged=crit <= tol,
                       tol=tol, criterion="kkt", objective=obj, solver="bcd")


#: the curvature p(1-p) of a row is floored here in the quadratic model (as glmnet bounds p away
#: from 0 and 1): a row the model already classifies with certainty keeps a little weight
MIN_CURVATURE = 1e-5


def _logistic_value(X, y, s, w, b, G, l1, l2) -> float:
    z = X @ w + b
    return float(s @ np.logaddexp(0.0, -(2 * y - 1) * z)) + l1 * G.penalty(w) + l2 * float(w @ w)


def _prox_newton(X, y, s, G, fit_intercept, l1, l2, w, b, tol, max_iter, ws_start, crit_of):
    """Proximal Newton for the logistic group lasso: each step solves the weighted least-squares
    model of the log-loss (weights ``d = s p (1-p)``, working response ``z - (p - y)/(p(1-p))``)
    plus the group penalty with the squared-loss solver (normalized weights ``d / D``, penalties
    ``2 l1 / D``, ``2 l2 / D``: the same problem divided by ``D / 2``), then backtracks on the
    true objective (Armijo). Returns ``(w, b, epochs, criterion)``."""
    epochs = 0
    crit = crit_of(w, b)
    # the model's relative gap is tied to the KKT violation squared; tightened when a step
    # finds the start already within it
    shrink = 1.0
    while crit > tol and epochs < max_iter:
        z = X @ w + b
        p = _sigmoid(z)
        q = np.maximum(p * (1.0 - p), MIN_CURVATURE)
        d = s * q
        D = float(d.sum())
        target = z - (p - y) / q
        sub = solve_group(X, target, d / D, G, "squared", fit_intercept, 2.0 * l1 / D,
                          2.0 * l2 / D, w.copy(), None,
                          max(min(1e-2, 1e-2 * crit * crit) * shrink, 1e-16),
                          max_iter - epochs, ws_start)
        epochs += max(sub.n_iter, 1)
        dw, db = sub.w - w, (sub.intercept - b) if fit_intercept else 0.0
        if sub.n_iter == 0 and not np.any(dw) and abs(db) <= 1e-15 * (1.0 + abs(b)):
            if shrink < 1e-12:
                break
            shrink *= 1e-3
            continue
        grad_w = X.T @ (s * (p - y)) + 2.0 * l2 * w
        grad_b = float(s @ (p - y)) if fit_intercept else 0.0
        pen0 = l1 * G.penalty(w)
        f0 = _logistic_value(X, y, s, w, b, G, l1, l2)
        t, accepted = 1.0, False
        for _ in range(40):
            wt, bt = w + t * dw, b + t * db
            delta = float(grad_w @ dw) * t + grad_b * db * t + l1 * G.penalty(wt) - pen0
            if _logistic_value(X, y, s, wt, bt, G, l1, l2) <= f0 + 1e-4 * min(delta, 0.0):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        w, b = wt, bt
        crit = crit_of(w, b)
    return w, b, epochs, crit


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def _block_curvatures(Xc, s, G: Groups, factor) -> np.ndarray:
    """``factor * lambda_max(Xc_g^T S Xc_g)`` per group: the curvature bound of each block."""
    Xs = Xc * np.sqrt(s)[:, None]
    out = np.empty(G.n_groups)
    for g in range(G.n_groups):
        B = Xs[:, G.members(g)]
        out[g] = (float(B[:, 0] @ B[:, 0]) if B.shape[1] == 1
                  else float(np.linalg.eigvalsh(B.T @ B)[-1]))
    return factor * out


def _bcd(Xc, y, s, G: Groups, Lg, kind, fit_intercept, l1, l2, w, b_arr, tol, max_iter,
         ws_start, criterion, kkt_scale=None):
    """Working-set block coordinate descent until ``criterion(w, b_arr) <= tol`` or
    ``max_iter`` epochs; returns ``(w, epochs, criterion)``."""
    ng = G.n_groups
    all_groups = np.arange(ng, dtype=np.int64)
    out = np.empty(2 * ng)
    z = Xc @ w
    epochs = 0
    ws_size = max(1, int(ws_start))
    crit = criterion(w, b_arr)
    while crit > tol and epochs < max_iter:
        GK.group_violations(Xc, y, s, z, b_arr[0], w, G.ptr, G.idx, G.weights, all_groups,
                            l1, l2, kind, out)
        viol, score = out[:ng], out[ng:]
        kept = G.norms(w) > 0
        ws_size = min(ng, max(ws_size, 2 * int(kept.sum())))
        order = np.argsort(-np.where(kept, np.inf, np.where(viol > 0, score, -1.0)),
                           kind="stable")
        ws = np.sort(order[:ws_size]).astype(np.int64)
        if not kept.all() and ws_size < ng:
            ws_size = min(ng, 2 * ws_size)
        target = max(0.3 * float(viol.max(initial=0.0)), 1e-15 * (kkt_scale or 1.0))
        if kind == LOGISTIC and kkt_scale is not None:
            target = min(target, 0.3 * tol * kkt_scale)  # the intercept is checked outside
        sub = np.empty(2 * ws.size)
        while epochs < max_iter:
            GK.bcd_epochs(Xc, y, s, z, w, b_arr, G.ptr, G.idx, G.weights, Lg, ws, l1, l2,
                          kind, fit_intercept, CHECK_EVERY)
            epochs += CHECK_EVERY
            GK.group_violations(Xc, y, s, z, b_arr[0], w, G.ptr, G.idx, G.weights, ws,
                                l1, l2, kind, sub)
            if float(sub[:ws.size].max(initial=0.0)) <= target:
                break
        z = Xc @ w  # fresh, against drift
        crit = criterion(w, b_arr)
    return w, epochs, crit
