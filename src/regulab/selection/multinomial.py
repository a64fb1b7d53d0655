"""Multinomial (softmax) paths and cross-validation: the library entry point for 3+ classes.

Each grid point solves (:func:`regulab.solvers.exact.multinomial.solve_multinomial_path`)::

    min_{W, b}  sum_i s_i (-log softmax(x_i W + b)[c_i])
                + lam * (rho * L1(W) + (1 - rho) * ||W||_F**2)

with ``L1(W) = sum_jk |W_jk|`` (ungrouped) or ``sum_j ||W_j.||_2`` (grouped: a feature kept or
dropped for all classes at once), ``W`` of shape ``(p, K)`` and unpenalized intercepts ``b``.

``lam_max`` (every coefficient exactly 0 for ``lam >= lam_max``) is ``max_jk |G_jk| / rho``
(ungrouped) or ``max_j ||G_j.||_2 / rho`` (grouped), with ``G = X^T S (P0 - Y)`` the loss gradient
at the null model (``P0`` the class shares when the intercept is fitted, else ``1/K``). A pure L2
path (``rho = 0``) is anchored like the binary ridge path (:mod:`regulab.selection.path`) on the
curvature: the multinomial Hessian is bounded by ``1/2`` times that of the squared loss
(Böhning), so the top is ``100 * d_max / 2``.

Cross-validation follows :mod:`regulab.selection.cv` (one grid on all the data, folds stratified
by class, ``lam_min`` and ``lam_1se``); the held-out error is the mean multinomial log-loss
``sum_i s_i (-log p_{i c_i})`` (``'log_loss'``; the multinomial deviance is twice it, so both
choose the same lams) or the misclassification rate (``'misclassification'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy.special import log_softmax

from regulab.core.execution import run_tasks
from regulab.core.losses import normalized_weights
from regulab.core.validation import check_choice, check_fraction, check_int, check_real
from regulab.selection.cv import RULES, CVResult, make_folds, summarize_folds
from regulab.selection.path import default_eps, ridge_top
from regulab.solvers.design import as_design
from regulab.solvers.exact.multinomial import (
    check_codes,
    loss_gradient,
    null_intercepts,
    solve_multinomial_path,
)

#: held-out errors of a multinomial CV, the first the default
SCORINGS = ("log_loss", "misclassification")


def multinomial_lam_max(X, y, *, grouped=False, l1_ratio=1.0, fit_intercept=True,
                        sample_weight=None, n_classes=None) -> float:
    """Smallest lam with ``W = 0`` (module docstring); for ``l1_ratio = 0`` the ridge top."""
    rho = check_fraction(l1_ratio, "l1_ratio")
    if rho == 0.0:
        return 0.5 * ridge_top(X, fit_intercept=fit_intercept, sample_weight=sample_weight)
    D = as_design(X)
    codes, K = check_codes(y, D.n, n_classes)
    s = normalized_weights(D.n, sample_weight)
    b = null_intercepts(codes, s, K, fit_intercept)
    G, _, _ = loss_gradient(D, codes, s, np.repeat(b[:, None], D.n, axis=1))
    _, L = D.stats(s, fit_intercept)
    G[L <= 0] = 0.0
    if G.size == 0:
        return 0.0
    top = np.linalg.norm(G, axis=1).max() if grouped else np.abs(G).max()
    return float(top) / rho


def multinomial_lam_grid(X, y, *, grouped=False, l1_ratio=1.0, n_lams=100, eps=None,
                         fit_intercept=True, sample_weight=None, n_classes=None) -> np.ndarray:
    """``n_lams`` lams, geometric and decreasing, from :func:`multinomial_lam_max` to
    ``lam_max * eps`` (``eps`` as :func:`regulab.selection.path.default_eps`)."""
    n_lams = check_int(n_lams, "n_lams", 1)
    n, p = X.shape
    rho = check_fraction(l1_ratio, "l1_ratio")
    eps = default_eps(n, p, rho) if eps is None else check_real(
        eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)
    top = multinomial_lam_max(X, y, grouped=grouped, l1_ratio=rho, fit_intercept=fit_intercept,
                              sample_weight=sample_weight, n_classes=n_classes) or 1.0
    return np.geomspace(top, top * eps, n_lams) if n_lams > 1 else np.array([top])


@dataclass
class MultinomialPath:
    """Solutions along a decreasing lam grid: ``coefs`` is ``[n_features, n_classes, n_lams]``,
    ``intercepts`` ``[n_classes, n_lams]``; ``gaps`` the relative KKT violations."""

    lams: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    gaps: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    l1_ratio: float
    grouped: bool
    fit_intercept: bool
    criterion: str = "kkt"

    @property
    def nnz(self) -> np.ndarray:
        """Features kept (a coefficient not exactly 0 in some class), per lam."""
        return np.count_nonzero(np.any(self.coefs != 0.0, axis=1), axis=0)


def multinomial_path(X, y, *, grouped=False, l1_ratio=1.0, lams=None, n_lams=100, eps=None,
                     fit_intercept=True, sample_weight=None, n_classes=None, tol=1e-6,
                     max_iter=10_000) -> MultinomialPath:
    """Solve along a decreasing lam grid (default :func:`multinomial_lam_grid`), each fit
    warm-started from the previous one, in one compiled call
    (:func:`regulab.solvers.exact.multinomial.solve_multinomial_path`). ``y`` holds class codes
    ``0..K-1``."""
    rho = check_fraction(l1_ratio, "l1_ratio")
    D = as_design(X)
    codes, K = check_codes(y, D.n, n_classes)
    if lams is None:
        lams = multinomial_lam_grid(X, codes, grouped=grouped, l1_ratio=rho, n_lams=n_lams,
                                    eps=eps, fit_intercept=fit_intercept,
                                    sample_weight=sample_weight, n_classes=K)
    lams = _check_lams(lams)
    r = solve_multinomial_path(D, codes, lams * rho, lams * (1.0 - rho), n_classes=K,
                               grouped=grouped, fit_intercept=fit_intercept,
                               sample_weight=sample_weight, tol=tol, max_iter=max_iter)
    coefs, intercepts = r.coefs, r.intercepts
    gaps, n_iter, conv = r.gaps, r.n_iter.astype(int), r.converged
    return MultinomialPath(lams, coefs, intercepts, gaps, n_iter, conv, rho, bool(grouped),
                           bool(fit_intercept))


def _check_lams(lams) -> np.ndarray:
    lams = np.asarray(lams, dtype=float).ravel()
    if lams.size == 0 or not np.all(np.isfinite(lams)) or np.any(lams < 0):
        raise ValueError("lams must be a non-empty sequence of finite numbers >= 0")
    return np.sort(lams)[::-1]


def held_out_multinomial(scoring, codes, Z, sample_weight=None) -> np.ndarray:
    """Error of predictors ``Z`` (``[n_test, K, n_lams]``) on the codes, one value per lam."""
    s = normalized_weights(codes.shape[0], sample_weight)
    rows = np.arange(codes.shape[0])
    if scoring == "log_loss":
        return s @ -log_softmax(Z, axis=1)[rows, codes, :]
    return s @ (np.argmax(Z, axis=1) != codes[:, None]).astype(float)


def cross_validate_multinomial(X, y, *, grouped=False, l1_ratio=1.0, lams=None, n_lams=100,
                               eps=None, cv=5, n_repeats=1, seed=0, fit_intercept=True,
                               sample_weight=None, n_classes=None, tol=1e-6, max_iter=10_000,
                               scoring="log_loss", n_jobs=None, on_fold=None,
                               backend=None) -> CVResult:
    """K-fold (stratified by class; ``n_repeats`` > 1: repeated) CV of the multinomial path.

    Returns a :class:`regulab.selection.cv.CVResult` whose ``fold_coefs`` are
    ``[n_folds, n_features, n_classes, n_lams]`` and ``fold_intercepts``
    ``[n_folds, n_classes, n_lams]``. ``cv``, ``n_jobs``, ``on_fold`` and ``backend`` as in
    :func:`regulab.selection.cv.cross_validate_path`.
    """
    check_choice(scoring, SCORINGS, "scoring")
    rho = check_fraction(l1_ratio, "l1_ratio")
    check_int(n_repeats, "n_repeats", 1)
    n = X.shape[0]
    codes, K = check_codes(y, n, n_classes)
    if lams is None:
        lams = multinomial_lam_grid(X, codes, grouped=grouped, l1_ratio=rho, n_lams=n_lams,
                                    eps=eps, fit_intercept=fit_intercept,
                                    sample_weight=sample_weight, n_classes=K)
    lams = _check_lams(lams)
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float).ravel()
    folds, n_splits = make_folds(cv, n, n_repeats, seed, "logistic", codes)
    if len(folds) < 2:
        raise ValueError(f"cv must give at least 2 folds, got {len(folds)}")
    _check_folds_hold_every_class(folds, codes, sw, K, fit_intercept)
    fit_fold = partial(_fit_fold, grouped=bool(grouped), rho=rho, lams=lams, K=K,
                       fit_intercept=fit_intercept, tol=tol, max_iter=max_iter, scoring=scoring)
    out = run_tasks(fit_fold, folds, n_jobs=n_jobs, on_done=on_fold, data=(X, codes, sw),
                    backend=backend)
    return summarize_folds(lams, out, scoring=scoring, n_splits=n_splits, n_repeats=n_repeats)


def _check_folds_hold_every_class(folds, codes, sw, K, fit_intercept):
    if not fit_intercept:
        return
    for train, _ in folds:
        keep = train if sw is None else train[sw[train] > 0]
        missing = np.setdiff1d(np.arange(K), codes[keep])
        if missing.size:
            raise ValueError(f"a training fold has no sample of class {int(missing[0])}: every "
                             f"class needs at least as many samples as there are folds")


def _fit_fold(data, fold, *, grouped, rho, lams, K, fit_intercept, tol, max_iter, scoring):
    """One fold (one task; ``data = (X, codes, sample_weight)``)."""
    X, codes, sw = data
    train, test = fold
    path = multinomial_path(X[train], codes[train], grouped=grouped, l1_ratio=rho, lams=lams,
                            fit_intercept=fit_intercept, n_classes=K,
                            sample_weight=None if sw is None else sw[train], tol=tol,
                            max_iter=max_iter)
    Xt = X[test]
    Z = np.stack([np.asarray(Xt @ path.coefs[:, k, :]) for k in range(K)], axis=1)
    Z = Z + path.intercepts[None, :, :]
    err = held_out_multinomial(scoring, codes[test], Z, None if sw is None else sw[test])
    return err, path.coefs, path.intercepts, path.converged


@dataclass
class MultinomialCVFit:
    """The all-data fit at the lam chosen by cross-validation: ``coef`` ``(p, K)`` (column
    ``k`` for ``classes[k]``), ``intercept`` ``(K,)``."""

    coef: np.ndarray
    intercept: np.ndarray
    lam: float
    index: int
    classes: np.ndarray
    cv: CVResult
    path: MultinomialPath

    @property
    def n_kept(self) -> int:
        """Features with a coefficient not exactly 0 in some class."""
        return int(np.count_nonzero(np.any(self.coef != 0.0, axis=1)))


def fit_multinomial_cv(X, y_codes, classes, *, grouped=False, l1_ratio=1.0, folds=5,
                       rule="min", n_lams=100, seed=0, sample_weight=None, n_repeats=1,
                       lams=None, eps=None, fit_intercept=True, tol=1e-6, max_iter=10_000,
                       scoring="log_loss", n_jobs=None, on_fold=None,
                       backend=None) -> MultinomialCVFit:
    """Cross-validate the multinomial path, then take the all-data path's solution at the
    ``rule``'s lam (``'min'`` or ``'1se'``). ``y_codes`` index ``classes``; ``folds`` is a
    number of folds, a splitter or explicit splits."""
    check_choice(rule, RULES, "rule")
    classes = np.asarray(classes)
    K = classes.size
    res = cross_validate_multinomial(X, y_codes, grouped=grouped, l1_ratio=l1_ratio, lams=lams,
                                     n_lams=n_lams, eps=eps, cv=folds, n_repeats=n_repeats,
                                     seed=seed, fit_intercept=fit_intercept,
                                     sample_weight=sample_weight, n_classes=K, tol=tol,
                                     max_iter=max_iter, scoring=scoring, n_jobs=n_jobs,
                                     on_fold=on_fold, backend=backend)
    k = res.chosen(rule)
    path = multinomial_path(X, y_codes, grouped=grouped, l1_ratio=l1_ratio, lams=res.lams,
                            fit_intercept=fit_intercept, sample_weight=sample_weight,
                            n_classes=K, tol=tol, max_iter=max_iter)
    return MultinomialCVFit(coef=path.coefs[:, :, k].copy(),
                            intercept=path.intercepts[:, k].copy(), lam=float(res.lams[k]),
                            index=k, classes=classes, cv=res, path=path)


def out_of_fold_multinomial(X, codes, res: CVResult, index: int, *, cv, seed: int,
                            sample_weight=None) -> np.ndarray:
    """Out-of-fold linear predictors ``[n, K]`` at ``res.lams[index]``: every row scored by the
    fold model that did not see it. The folds are rebuilt as
    :func:`cross_validate_multinomial` drew them (``make_folds(cv, n, 1, seed, 'logistic',
    codes)``) and each fold's held-out log-loss is checked against ``res.fold_errors``
    (ValueError if they differ: other folds, or repeated CV)."""
    codes = np.asarray(codes).astype(np.int64)
    n = codes.shape[0]
    if res.n_repeats != 1:
        raise ValueError("out-of-fold predictions need a single repetition of the folds")
    folds, _ = make_folds(cv, n, 1, seed, "logistic", codes)
    if len(folds) != res.fold_coefs.shape[0]:
        raise ValueError("the folds rebuilt are not the folds of the cross-validation")
    K = res.fold_coefs.shape[2]
    Z = np.full((n, K), np.nan)
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float).ravel()
    for f, (_, test) in enumerate(folds):
        z = np.asarray(X[test] @ res.fold_coefs[f][:, :, index]) + res.fold_intercepts[f][:, index]
        if res.scoring == "log_loss":
            err = held_out_multinomial("log_loss", codes[test], z[:, :, None],
                                       None if sw is None else sw[test])[0]
            if not np.isclose(err, res.fold_errors[f, index], rtol=1e-8, atol=1e-12):
                raise ValueError("the folds rebuilt are not the folds of the cross-validation")
        Z[test] = z
    return Z


def fold_kept_sets(res: CVResult, index: int) -> list[set]:
    """The features kept (a coefficient not exactly 0 in some class) by each CV training-set
    fit at ``res.lams[index]``: the stability of the selection over the training sets."""
    return [set(np.flatnonzero(np.any(c[:, :, index] != 0.0, axis=1)).tolist())
            for c in res.fold_coefs]
