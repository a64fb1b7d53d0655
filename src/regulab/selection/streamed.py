"""Paths and K-fold cross-validation from streamed statistics (data bigger than memory).

Squared loss (:func:`cv_from_moments`): every fold's moments of ``[x_std, y]`` come from ONE pass
over the data (:mod:`regulab.data.stream_pass`); the all-rows path, every fold's path on its
training moments (all folds but k) and every fold's held-out mean squared error (from fold k's
own moments, :func:`regulab.solvers.gram.squared_held_out`) are then computations on
``(p + 1) x (p + 1)`` matrices. Each lam is certified by the duality gap of the moments.

Logistic loss (:func:`cv_logistic`): IRLS. Every pass computes, for the all-rows model and each
fold model at its current coefficients, the weighted Gram ``X^T V X`` of the Newton step, the
gradient (the KKT check) and the held-out log-loss; models whose relative KKT violation is above
``tol`` take a Newton step (the penalized quadratic model solved exactly on its Gram matrix,
:func:`regulab.solvers.gram.newton_subproblem`) and the data are passed again. The pass that
certifies lam ``l`` also gives the Newton system at those coefficients, the warm start of lam
``l + 1``, so a path costs about ``n_lams + extra Newton steps`` passes; at most
``max_newton`` steps per lam (``n_lams * max_newton + 1`` passes in all: the bound reported).

The CV summary is that of :mod:`regulab.selection.cv`: mean and SE over folds per lam,
``lam_min`` and ``lam_1se`` by :func:`regulab.selection.cv.one_se_rule`.
"""

from __future__ import annotations

import math

import numpy as np

from regulab.selection.cv import CVResult, one_se_rule
from regulab.selection.multi_newton import newton_many
from regulab.selection.path import PathResult, default_eps
from regulab.solvers.exact.working_set import kkt_violation
from regulab.solvers.gram import (
    gram_lam_max,
    gram_path,
    newton_subproblem,
    refit_gram,
    squared_held_out,
)


def stream_grid(total, rho: float, n_rows: int, loss: str = "squared", n_lams: int = 100,
                eps=None) -> np.ndarray:
    """The lam grid of :func:`regulab.selection.path.lam_grid`, from the all-rows moments
    ``(W, mean, M)`` of ``[x_std, y]``."""
    W, _, M = total
    p = M.shape[0] - 1
    c = M[:-1, -1] / W
    top = gram_lam_max(c, rho, M[:-1, :-1] / W, curvature=0.25 if loss == "logistic" else 1.0,
                       grad_scale=1.0 if loss == "logistic" else 2.0)
    top = top or 1.0
    eps = default_eps(n_rows, p, rho) if eps is None else eps
    return np.geomspace(top, top * eps, int(n_lams)) if n_lams > 1 else np.array([top])


def _summary(lams, fold_errors, fold_coefs, fold_intercepts, fold_conv, scoring) -> CVResult:
    K = fold_errors.shape[0]
    mean = fold_errors.mean(axis=0)
    se = fold_errors.std(axis=0, ddof=1) / np.sqrt(K)
    idx_min, idx_1se = one_se_rule(lams, mean, se)
    return CVResult(lams=lams, mean_error=mean, se_error=se, fold_errors=fold_errors,
                    fold_coefs=fold_coefs, fold_intercepts=fold_intercepts,
                    fold_converged=fold_conv, idx_min=idx_min, idx_1se=idx_1se, scoring=scoring,
                    n_splits=K, n_repeats=1)


def _split(W, mean, M):
    return M[:-1, :-1] / W, M[:-1, -1] / W, float(M[-1, -1] / W), mean[:-1], float(mean[-1])


def cv_from_moments(total, training, tests, lams, rho: float, *, tol=1e-6, max_epochs=100_000,
                    feature_names=None) -> tuple[PathResult, CVResult]:
    """The all-rows path and K-fold CV of the squared loss from moments (module docstring):
    ``total``, ``training[k]``, ``tests[k]`` are ``(W, mean, M)`` of ``[x_std, y]``."""
    lams = np.sort(np.asarray(lams, dtype=float))[::-1]
    G, c, yty, xbar, ybar = _split(*total)
    full = gram_path(G, c, yty, xbar, ybar, lams, rho, tol=tol, max_epochs=max_epochs)
    path = PathResult(lams, full.coefs, full.intercepts, full.gaps, full.n_iter, full.converged,
                      rho, "squared", True, "duality_gap", feature_names)
    K = len(training)
    errs, coefs, ints, conv = [], [], [], []
    for k in range(K):
        fp = gram_path(*_split(*training[k]), lams, rho, tol=tol, max_epochs=max_epochs)
        errs.append(squared_held_out(*tests[k], fp.coefs, fp.intercepts))
        coefs.append(fp.coefs)
        ints.append(fp.intercepts)
        conv.append(fp.converged)
    return path, _summary(lams, np.array(errs), np.array(coefs), np.array(ints), np.array(conv),
                          "mse")


def _model_state(W, mean, M):
    """``(w, b, scale)`` of the null model of one training set: ``b`` the log-odds of the
    weighted mean label, ``scale`` the largest gradient entry there (``max_j |c_j|``)."""
    p = M.shape[0] - 1
    pbar = float(mean[-1])
    if not 0.0 < pbar < 1.0:
        raise ValueError("logistic loss needs both classes 0 and 1 in every training fold")
    scale = float(np.max(np.abs(M[:-1, -1] / W))) if p else 0.0
    return np.zeros(p), math.log(pbar / (1.0 - pbar)), scale or 1.0


def cv_logistic(irls, total, training, lams, rho: float, *, tol=1e-6, max_newton=50,
                max_epochs=100_000, feature_names=None) -> tuple[PathResult, CVResult, dict]:
    """The all-rows path and K-fold CV of the logistic loss by IRLS (module docstring).

    ``irls(models)`` runs one pass for ``models = [(fold, w, b), ...]`` (``fold = -1``: all
    rows) and returns one object per model with ``moments`` (``.fold(0)`` = ``(V, mean, M)``
    of ``[x_std, z]``), ``S``, ``grad``, ``grad0``, ``loss``, ``test_loss``, ``test_weight``
    (:class:`regulab.data.stream_pass.IRLSStats`). ``total`` / ``training[k]`` are the squared
    moments of ``[x_std, y]`` (null models and the KKT scale). Returns ``(path, cv, info)``,
    ``info`` with the passes made and their bound."""
    state = [list(_model_state(*t)) for t in [total] + list(training)]
    folds = [-1] + list(range(len(training)))
    stats = irls([(f, s[0].copy(), s[1]) for f, s in zip(folds, state)])
    return cv_irls(irls, state, stats, 1, lams, rho, "logistic", tol=tol,
                   max_newton=max_newton, max_epochs=max_epochs, feature_names=feature_names)


def poisson_start(irls, total, training, with_offset: bool):
    """The Poisson null models (``w = 0``, ``b`` the log of the weighted mean rate, as
    :meth:`regulab.core.losses.PoissonLoss.null_intercept`) of all rows and every fold's
    training rows, and the pass at them. ``total`` / ``training[k]``: the moments of
    ``[x_std, y]`` (their ``W * ybar`` is ``sum s y``). With an offset, ``sum s exp(o)`` comes
    from one pass at ``(w, b) = (0, 0)`` (its ``grad0 = sum s (exp(o) - y)``).

    Returns ``(state, stats, passes)``: ``state[m] = [w, b, scale]`` (``scale`` the largest
    gradient entry of the null model, the KKT scale) and the pass's
    :class:`~regulab.data.stream_pass.IRLSStats` per model."""
    sets = [total] + list(training)
    folds = [-1] + list(range(len(training)))
    p = total[2].shape[0] - 1
    sy = [float(W * mean[-1]) for W, mean, _ in sets]
    if min(sy) <= 0.0:
        raise ValueError("poisson loss with an intercept needs a positive count in every "
                         "training fold (all are 0: the intercept would go to -inf)")
    if with_offset:
        zero = irls([(f, np.zeros(p), 0.0) for f in folds])
        b = [math.log(y / (st.grad0 + y)) for y, st in zip(sy, zero)]
    else:
        b = [math.log(float(mean[-1])) for _, mean, _ in sets]
    stats = irls([(f, np.zeros(p), bb) for f, bb in zip(folds, b)])
    state = [[np.zeros(p), bb, float(np.max(np.abs(st.grad / st.S))) if p else 0.0]
             for bb, st in zip(b, stats)]
    for s in state:
        s[2] = s[2] or 1.0
    return state, stats, 1 + int(with_offset)


def irls_grid(null, rho: float, n_rows: int, n_lams: int = 100, eps=None) -> np.ndarray:
    """The lam grid of :func:`regulab.selection.path.lam_grid` from the pass at the all-rows
    null model (``null``: its IRLS sums): ``max_j |grad_j| / rho``, for ``rho = 0`` the ridge
    top ``100 * eig_max`` of the null model's curvature ``M_xx / S`` (weights ``s mu``)."""
    M = null.moments.fold(0)[2]
    p = M.shape[0] - 1
    top = gram_lam_max(null.grad / null.S, rho, M[:-1, :-1] / null.S, curvature=1.0,
                       grad_scale=1.0) or 1.0
    eps = default_eps(n_rows, p, rho) if eps is None else eps
    return np.geomspace(top, top * eps, int(n_lams)) if n_lams > 1 else np.array([top])


def _objective(st, w, l1, l2) -> float:
    """The penalized objective ``loss / S + l1 |w|_1 + l2 |w|^2`` at a pass's point."""
    return st.loss / st.S + l1 * float(np.abs(w).sum()) + l2 * float(w @ w)


def cv_irls(irls, state, stats, passes, lams, rho: float, loss: str, *, tol=1e-6,
            max_newton=50, max_epochs=100_000, feature_names=None):
    """IRLS paths of the all-rows model (``state[0]``) and every fold model from their
    current ``state[m] = [w, b, scale]`` and the pass ``stats`` at it (module docstring).

    Poisson loss (no bound on the curvature): a Newton step that does not lower the penalized
    objective (:func:`_objective`, known from the next pass) is halved, one pass per halving,
    within the ``max_newton`` steps of the lam (a step still not accepted at the last is
    undone). Returns ``(path, cv, info)``."""
    lams = np.sort(np.asarray(lams, dtype=float))[::-1]
    K, L = len(state) - 1, lams.size
    folds = [-1] + list(range(K))
    damped = loss == "poisson"
    p = state[0][0].size
    coefs = np.zeros((K + 1, p, L))
    ints = np.zeros((K + 1, L))
    crit_at = np.zeros((K + 1, L))
    conv = np.zeros((K + 1, L), dtype=bool)
    n_iter = np.zeros((K + 1, L), dtype=int)
    test_err = np.zeros((K, L))
    train_loss = np.zeros(L)   # the all-rows model's mean loss (log-loss, deviance) at each lam
    bound = passes + L * max_newton
    for li, lam in enumerate(lams):
        l1, l2 = lam * rho, lam * (1.0 - rho)
        todo = list(range(K + 1))
        prev: dict = {}   # model -> (w, b, objective, stats) before its last Newton step
        for step in range(max_newton + 1):
            left = []
            for m in todo:
                if m in prev and not _objective(stats[m], state[m][0], l1, l2) <= \
                        prev[m][2] + 1e-13 * max(1.0, abs(prev[m][2])):
                    w0, b0, _, st0 = prev[m]
                    if step < max_newton:   # halve the step back towards the last point
                        state[m][0] = 0.5 * (state[m][0] + w0)
                        state[m][1] = 0.5 * (state[m][1] + b0)
                        n_iter[m, li] += 1
                        left.append(m)
                        continue
                    state[m][0], state[m][1], stats[m] = w0, b0, st0
                prev.pop(m, None)
                w, b, scale = state[m]
                st = stats[m]
                grad = st.grad / st.S + 2.0 * l2 * w
                crit = max(kkt_violation(grad, w, l1), abs(st.grad0 / st.S)) / scale
                crit_at[m, li] = crit
                if crit <= tol or step == max_newton:
                    coefs[m, :, li], ints[m, li], conv[m, li] = w, b, crit <= tol
                    if m == 0:
                        train_loss[li] = (st.dev if damped else st.loss) / st.S
                    else:
                        test_err[m - 1, li] = st.test_loss / st.test_weight
                    continue
                if damped:
                    prev[m] = (w.copy(), b, _objective(st, w, l1, l2), st)
                V, mean, M = st.moments.fold(0)
                b, _, ep = newton_subproblem((V / st.S, mean, M / st.S), l1, l2, w,
                                             1e-2 * tol * scale, max_epochs)
                state[m][1] = b
                n_iter[m, li] += 1
                left.append(m)
            if not left:
                break
            new = irls([(folds[m], state[m][0].copy(), state[m][1]) for m in left])
            passes += 1
            for m, st in zip(left, new):
                stats[m] = st
            todo = left
    path = PathResult(lams, coefs[0], ints[0], crit_at[0], n_iter[0], conv[0], rho, loss,
                      True, "kkt", feature_names)
    cv = _summary(lams, test_err, coefs[1:], ints[1:], conv[1:],
                  "deviance" if damped else "log_loss")
    return path, cv, {"passes": passes, "pass_bound": bound, "train_error": train_loss}


def oof_squared_slope(tests, fold_coefs, fold_intercepts) -> float:
    """Least-squares slope of ``y`` on the out-of-fold prediction ``z`` (every row predicted by
    the fold model that did not see it: ``z = b_k + x.w_k`` on fold ``k``'s rows), from each
    fold's own moments ``(W_k, mean_k, M_k)`` of ``[x, y]``: ``z`` is linear in ``x``, so within
    fold k ``sum (z - zbar_k)**2 = w_k^T M_xx w_k`` and ``sum (z - zbar_k)(y - ybar_k) =
    w_k^T M_xy``, and the folds combine by the parallel-axis rule around the overall means.
    Returns ``cov(z, y) / var(z)`` (weighted by ``W``), ``nan`` if ``z`` is flat."""
    Ws = np.array([float(t[0]) for t in tests])
    zbar = np.array([b + t[1][:-1] @ w for t, w, b in zip(tests, fold_coefs, fold_intercepts)])
    ybar = np.array([float(t[1][-1]) for t in tests])
    zc, yc = Ws @ zbar / Ws.sum(), Ws @ ybar / Ws.sum()
    szz = sum(w @ t[2][:-1, :-1] @ w for t, w in zip(tests, fold_coefs))
    szy = sum(w @ t[2][:-1, -1] for t, w in zip(tests, fold_coefs))
    szz += Ws @ (zbar - zc) ** 2
    szy += Ws @ ((zbar - zc) * (ybar - yc))
    if szz <= 1e-300 * Ws.sum():
        return float("nan")
    return float(szy / szz)


def relaxed_from_moments(total, training, tests, lasso, gammas=None, rule="min"):
    """The relaxed lasso (:mod:`regulab.selection.relaxed`, glmnet's ``relax = TRUE``) of the
    squared loss from the moments, on the lasso fit ``lasso = (path, cv)`` of
    :func:`cv_from_moments` (``rho = 1``): the refit on each support is the least-squares
    solve of the support's block of the moments (:func:`regulab.solvers.gram.refit_gram`, exact
    from the statistics), blended ``gamma * lasso + (1 - gamma) * refit``; every fold's
    held-out error of every ``(gamma, lam)`` from fold k's own moments; ``(gamma, lam)`` chosen
    by ``rule`` as :func:`regulab.selection.relaxed.cv_relaxed` does.

    Returns ``(RelaxedCV, fold_coefs [K, p], fold_intercepts [K])``: the
    :class:`~regulab.selection.relaxed.RelaxedCV` (``oof = None``) and the K fold models at the
    chosen pair (their out-of-fold calibration and kept sets)."""
    from regulab.selection.relaxed import GAMMAS, RelaxedCV, _choose, check_gammas

    path, cv = lasso
    gammas = check_gammas(GAMMAS if gammas is None else gammas)
    lams = np.asarray(cv.lams)
    full = _relaxed_path(total, lams, path.coefs, path.intercepts)
    K = len(training)
    errors = np.empty((K, gammas.size, lams.size))
    fold_paths = []
    for k in range(K):
        fp = _relaxed_path(training[k], lams, cv.fold_coefs[k], cv.fold_intercepts[k])
        for a, g in enumerate(gammas):
            errors[k, a] = squared_held_out(*tests[k], *fp.blend(g))
        fold_paths.append(fp)
    mean = errors.mean(axis=0)
    se = errors.std(axis=0, ddof=1) / np.sqrt(K)
    index = _choose(mean, se, rule)
    gamma, i = float(gammas[index[0]]), index[1]
    coefs, b = full.blend(gamma)
    blended = [fp.blend(gamma) for fp in fold_paths]
    res = RelaxedCV(gammas, lams, mean, se, gamma, float(lams[i]), index, coefs[:, i].copy(),
                    float(b[i]), full, None, "mse", rule)
    return (res, np.array([c[:, i] for c, _ in blended]),
            np.array([bb[i] for _, bb in blended]))


def _relaxed_path(moments, lams, coefs, intercepts):
    """The :class:`~regulab.selection.relaxed.RelaxedPath` of one set of rows: the lasso
    ``coefs [p, L]`` and the refit on each support from ``moments = (W, mean, M)``."""
    from regulab.selection.relaxed import RelaxedPath

    refit = np.zeros_like(coefs)
    b = np.zeros(lams.size)
    cache: dict = {}
    for i in range(lams.size):
        S = np.flatnonzero(coefs[:, i])
        key = S.tobytes()
        if key not in cache:
            cache[key] = refit_gram(*moments, S)
        refit[:, i], b[i] = cache[key]
    return RelaxedPath(lams, coefs, np.asarray(intercepts), refit, b, "squared")


#: the in-memory slopes' tiny ridge on ``c`` (:func:`regulab.selection.calibration.
#: logistic_calibration_slope`: ``l2 = 1e-10``; the Poisson slope has none)
SLOPE_L2 = {"logistic": 1e-10, "poisson": 0.0}


def glm_slopes(slope_pass, fold_models, loss: str, *, tol=1e-12, max_passes=50):
    """Calibration slopes ``c`` of the 2-parameter GLMs ``y ~ a + c z`` (logistic: log-odds;
    Poisson: log-mean) on the out-of-fold predictions ``z`` of each entry of ``fold_models``
    (``(W [p, K], B [K])``: the K fold models at one lam), minimizing
    ``sum s l(a + c z) / sum s + SLOPE_L2[loss] c^2`` by Newton's method from ``(a, c) = (0, 1)``
    (the predictions as they are): ``slope_pass(models)`` is one pass over the rows giving every
    model's :class:`~regulab.data.stream_pass.SlopeStats` at its ``(a, c)``, so each Newton step
    of all the models together is one pass. A step that raises the loss is halved (one more
    pass). A model stops when its largest gradient entry is ``<= tol`` or its step is below
    ``1e-14 (1 + |(a, c)|)``. Returns ``(slopes, info)``, ``nan`` for a model not converged in
    ``max_passes`` passes; ``info``: passes made, their bound, converged per model."""
    def one_pass(idx, thetas):
        return slope_pass([(*fold_models[m], *th) for m, th in zip(idx, thetas)])

    theta, _, conv, passes = newton_many(one_pass, [np.array([0.0, 1.0]) for _ in fold_models],
                                         SLOPE_L2[loss], tol=tol, max_passes=max_passes)
    slopes = [float(th[1]) if ok else float("nan") for th, ok in zip(theta, conv)]
    return slopes, {"passes": passes, "pass_bound": max_passes, "converged": conv}


def oof_spread(tests, W, B) -> float:
    """Weighted variance of the out-of-fold predictions ``z = B[k] + x.W[:, k]`` on fold ``k``'s
    rows, from each fold's own moments ``(W_k, mean_k, M_k)`` of ``[x, y]`` (as
    :func:`oof_squared_slope`: within-fold spread plus the folds' means around the overall)."""
    Ws = np.array([float(t[0]) for t in tests])
    zbar = np.array([B[k] + t[1][:-1] @ W[:, k] for k, t in enumerate(tests)])
    zc = Ws @ zbar / Ws.sum()
    szz = sum(W[:, k] @ t[2][:-1, :-1] @ W[:, k] for k, t in enumerate(tests))
    return float((szz + Ws @ (zbar - zc) ** 2) / Ws.sum())
