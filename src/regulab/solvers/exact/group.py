"""Group lasso: block coordinate descent on working sets, certified.

Minimizes, for a partition ``groups`` of the features (:mod:`regulab.core.groups`)::

    P(w, b) = sum_i s_i loss(y_i, x_i.w + b) + l1 * sum_g sqrt(|g|) ||w_g||_2 + l2 * ||w||_2**2

(``s`` the sample weights normalized to sum to 1, ``b`` unpenalized; ``loss`` squared
``(y - z)**2`` or logistic ``log(1 + exp(-t z))``, ``t = 2y - 1``). A group is kept or dropped
whole: ``w_g = 0`` exactly iff ``||grad_g|| <= l1 sqrt(|g|)`` at the optimum. With singleton
groups this is the lasso.

Method, squared loss: the columns are centered (weighted) once, which eliminates the intercept;
block steps with block soft-thresholding (:mod:`regulab.solvers._group_kernels`) run on a working
set (the groups kept so far plus the groups that violate the optimality conditions most,
doubling), until the working set's largest KKT violation is below 0.3 times the full problem's.

Logistic loss: proximal Newton on the same working sets (:func:`_newton_gram`). Each step forms
the log-loss's Hessian on the working set's columns (``X_F^T D X_F``, ``D = diag(s p (1-p))``,
the intercept eliminated exactly by its Schur complement), minimizes the quadratic model plus
the penalty by block steps on that Gram matrix (cost ``O(m**2)`` per pass, not ``O(n m)``), and
backtracks on the true objective (Armijo). The earlier route (block steps on the curvature
bound ``1/4``, or Newton steps whose model was solved by the squared-loss route with its
centered copy, block eigenvalues and duality gaps) needed tens to thousands of passes over X
per lam once most groups were kept; it remains for designs wider than ``GRAM_FEATURES``, and
block steps finish a Newton run that stalls in rounding.

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
    if kind == LOGISTIC:
        return _logistic(X, xbar, y, s, G, fit_intercept, l1, l2, w, b, tol, max_iter,
                         ws_start)
    Xc = np.asfortranarray(X - xbar)
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


def _logistic(X, xbar, y, s, G, fit_intercept, l1, l2, w, b, tol, max_iter,
              ws_start) -> ExactResult:
    check_labels(y)
    pmean = float(s @ y)
    if fit_intercept and (pmean <= 0.0 or pmean >= 1.0):
        raise ValueError("logistic loss with an intercept needs both classes 0 and 1 among the "
                         "samples of positive weight")
    b_null = math.log(pmean / (1.0 - pmean)) if fit_intercept else 0.0
    r_null = s * (1.0 / (1.0 + math.exp(-b_null)) - y)
    g_null = X.T @ r_null - xbar * float(r_null.sum())  # the centered columns' gradient
    scale = G.dual_norm(g_null)
    if scale == 0.0:
        val = float(s @ np.logaddexp(0.0, -(2 * y - 1) * b_null))
        return zero_result(X.shape[1], b_null, "kkt", tol, val, "constant")
    centered = {}  # the centered copy, made only where block steps need it

    def Xc_():
        if "Xc" not in centered:
            centered["Xc"] = np.asfortranarray(X - xbar)
        return centered["Xc"]

    b_arr = np.array([0.0 if not fit_intercept else
                      (b_null if b is None else b + float(xbar @ w))])
    all_groups = np.arange(G.n_groups, dtype=np.int64)

    def criterion(w, b_arr):
        Xc = Xc_()
        z = Xc @ w
        out = np.empty(2 * G.n_groups)
        GK.group_violations(Xc, y, s, z, b_arr[0], w, G.ptr, G.idx, G.weights, all_groups,
                            l1, l2, LOGISTIC, out)
        gb = float(s @ (_sigmoid(z + b_arr[0]) - y)) if fit_intercept else 0.0
        return max(float(out[:G.n_groups].max(initial=0.0)), abs(gb)) / scale

    b0 = float(b_arr[0]) - float(xbar @ w)
    if X.shape[1] <= GRAM_FEATURES:
        w, b, n_iter, crit = _newton_gram(X, y, s, G, fit_intercept, l1, l2, w, b0, tol,
                                          max_iter, ws_start, scale)
    else:
        w, b, n_iter, crit = _prox_newton(
            X, y, s, G, fit_intercept, l1, l2, w, b0, tol, max_iter, ws_start,
            lambda w, b: criterion(w, np.array([b + float(xbar @ w)])))
    if crit > tol and n_iter < max_iter:  # Newton stalled (rounding): finish by block steps
        b_arr[0] = b + float(xbar @ w)
        Lg = _block_curvatures(Xc_(), s, G, 0.25)
        w, more, crit = _bcd(Xc_(), y, s, G, Lg, LOGISTIC, fit_intercept, l1, l2, w, b_arr,
                             tol, max_iter - n_iter, ws_start, criterion, kkt_scale=scale)
        n_iter += more
        b = float(b_arr[0]) - float(xbar @ w)
    z = X @ w + b
    obj = float(s @ np.logaddexp(0.0, -(2 * y - 1) * z)) + l1 * G.penalty(w) + l2 * float(w @ w)
    return ExactResult(w=w, intercept=b, gap=crit, n_iter=n_iter, converged=crit <= tol,
                       tol=tol, criterion="kkt", objective=obj, solver="prox_newton")


#: the logistic proximal Newton holds its working set's Hessian (m x m) up to this many features
#: (:func:`_newton_gram`); wider problems take :func:`_prox_newton`
GRAM_FEATURES = 2000
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


def _violations(G: Groups, grad, w, l1):
    """Per group: the KKT violation of the module docstring, ``||grad_g|| / c_g`` and kept."""
    wn, gn, c = G.norms(w), G.norms(grad), G.weights
    kept = wn > 0
    viol = np.maximum(gn - l1 * c, 0.0)
    if kept.any():
        fac = np.divide(l1 * c, wn, out=np.zeros_like(wn), where=kept)
        per_feature = np.empty(w.size)
        per_feature[G.idx] = np.repeat(fac, G.sizes)
        viol = np.where(kept, G.norms(grad + per_feature * w), viol)
    return viol, gn / c, kept


def _newton_gram(X, y, s, G: Groups, fit_intercept, l1, l2, w, b, tol, max_iter, ws_start,
                 scale):
    """Proximal Newton on working sets of groups for the logistic loss, the model of each step
    solved in Gram form (:func:`_newton_ws`). The working set: the kept groups, then the groups
    that violate their conditions most (by ``||grad_g|| / c_g``), its size doubling. Returns
    ``(w, b, newton_steps, criterion)``; a criterion above ``tol`` below ``max_iter`` means the
    steps stalled in rounding."""
    ng = G.n_groups
    steps, stalled = 0, False
    ws_size = max(1, int(ws_start))
    z = X @ w + b
    while True:
        r = s * (_sigmoid(z) - y)
        grad = X.T @ r + 2.0 * l2 * w
        viol, score, kept = _violations(G, grad, w, l1)
        kkt = max(float(viol.max(initial=0.0)), abs(float(r.sum())) if fit_intercept else 0.0)
        if kkt <= tol * scale or steps >= max_iter or stalled:
            return w, b, steps, kkt / scale
        ws_size = min(ng, max(ws_size, 2 * int(kept.sum())))
        order = np.argsort(-np.where(kept, np.inf, np.where(viol > 0, score, -1.0)),
                           kind="stable")
        wsg = np.sort(order[:ws_size])
        if not kept.all() and ws_size < ng:
            ws_size = min(ng, 2 * ws_size)
        feats = np.concatenate([G.members(g) for g in wsg])
        gptr = np.concatenate([[0], np.cumsum(G.sizes[wsg])]).astype(np.int64)
        target = max(0.3 * kkt, 0.5 * tol * scale)
        b, z, more, stalled = _newton_ws(X[:, feats], y, s, feats, gptr, G.weights[wsg],
                                         fit_intercept, l1, l2, w, b, z, target,
                                         max_iter - steps)
        steps += more


def _local_pen(v, gptr, cw, l1):
    return l1 * float(cw @ np.sqrt(np.add.reduceat(v * v, gptr[:-1])))


def _newton_ws(XF, y, s, feats, gptr, cw, fit_intercept, l1, l2, w, b, z, target, max_steps):
    """Newton steps on the features ``feats`` (``XF`` their columns; local groups ``gptr``,
    weights ``cw``) until their KKT violation (and the intercept gradient) is ``<= target``.
    Each step: the log-loss's quadratic model (weights ``d = s p (1-p)``, floored) with the
    intercept eliminated exactly (Schur complement: the ``d``-weighted centering), solved by
    :func:`regulab.solvers._group_kernels.gram_bcd` to a tenth of the current violation, then
    the Armijo backtracking on the true objective. ``w`` changes in place; returns
    ``(b, z, steps, stalled)``."""
    steps = 0
    while steps < max_steps:
        pr = _sigmoid(z)
        r = s * (pr - y)
        vF = w[feats]
        gw = XF.T @ r + 2.0 * l2 * vF
        gb = float(r.sum()) if fit_intercept else 0.0
        wn = np.sqrt(np.add.reduceat(vF * vF, gptr[:-1]))
        gn = np.sqrt(np.add.reduceat(gw * gw, gptr[:-1]))
        fac = np.repeat(np.divide(l1 * cw, wn, out=np.zeros_like(wn), where=wn > 0),
                        np.diff(gptr))
        off = np.sqrt(np.add.reduceat((gw + fac * vF) ** 2, gptr[:-1]))
        viol = np.where(wn > 0, off, np.maximum(gn - l1 * cw, 0.0))
        kkt = max(float(viol.max(initial=0.0)), abs(gb))
        if kkt <= target:
            return b, z, steps, False
        steps += 1
        d = s * np.maximum(pr * (1.0 - pr), MIN_CURVATURE)
        Xd = XF * np.sqrt(d)[:, None]
        A = Xd.T @ Xd
        gq = gw.copy()
        if fit_intercept:
            hwb, hbb = XF.T @ d, float(d.sum())
            A -= np.outer(hwb, hwb) / hbb
            gq -= hwb * (gb / hbb)
        A[np.diag_indices_from(A)] += 2.0 * l2
        Lb = np.array([A[a, a] if e - a == 1 else np.linalg.eigvalsh(A[a:e, a:e])[-1]
                       for a, e in zip(gptr[:-1], gptr[1:])])
        v = vF.copy()
        GK.gram_bcd(np.ascontiguousarray(A), gq, v, gptr, cw, Lb, l1, 0.1 * kkt, 100_000)
        dv = v - vF
        db = -(gb + float(hwb @ dv)) / hbb if fit_intercept else 0.0
        u = XF @ dv + db
        pen0 = _local_pen(vF, gptr, cw, l1)
        f0 = float(s @ np.logaddexp(0.0, -(2 * y - 1) * z)) + l2 * float(vF @ vF) + pen0
        delta = float(gw @ dv) + gb * db + _local_pen(v, gptr, cw, l1) - pen0
        if not delta < -1e-15 * abs(f0):
            return b, z, steps, True
        t = 1.0
        for _ in range(50):
            vt, zt = vF + t * dv, z + t * u
            ft = (float(s @ np.logaddexp(0.0, -(2 * y - 1) * zt)) + l2 * float(vt @ vt)
                  + _local_pen(vt, gptr, cw, l1))
            if ft <= f0 + 1e-4 * t * delta + 1e-15 * abs(f0):
                break
            t *= 0.5
        else:
            return b, z, steps, True
        w[feats] = vt
        b, z = b + t * db, zt
    return b, z, steps, False


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
