"""The relaxed lasso (glmnet's ``relax = TRUE``): the lasso fit blended with an unpenalized refit
on its support, ``gamma`` and ``lam`` chosen by cross-validation on the same folds.

For each ``lam`` of a lasso path (regulab's objective with ``l1 = lam``, ``l2 = 0``):

* ``beta_lam``: the lasso solution;
* ``beta_relax``: the unpenalized fit (least squares, or logistic regression) on the support
  ``S = {j : beta_lam_j != 0}`` with the intercept, 0 off ``S``, i.e. the minimizer of
  ``sum_i s_i loss(y_i, x_iS.w_S + b)`` (minimum-norm when ``|S|`` exceeds the rank). A
  logistic refit has no finite minimizer when the classes are separable on ``S``; it is then
  the ridge fit ``sum_i s_i loss(y_i, x_iS.w_S + b) + lam_min * ||w_S||**2`` at the smallest
  lam of the path, ``lam_min`` (the tiniest penalty of the grid; ``RelaxedPath.refit_l2``
  records it, 0 where the refit is unpenalized). Separable is detected as: the unpenalized
  solve does not converge, or it classifies every training row with a positive margin (then
  scaling it up lowers every loss term, so no finite minimizer exists);
* the relaxed fit ``beta_gamma = gamma * beta_lam + (1 - gamma) * beta_relax`` (intercepts
  blended the same way), ``gamma`` in ``GAMMAS = (0, 0.25, 0.5, 0.75, 1)`` as glmnet.

``gamma = 1`` is the lasso; ``gamma = 0`` is the refit on the support (glmnet's "relaxed" fit,
which undoes the shrinkage of the coefficients the lasso keeps). Friedman, Hastie & Tibshirani,
glmnet vignette "The Relaxed Lasso"; Meinshausen (2007), "Relaxed Lasso".

CV (:func:`cv_relaxed`): the same folds as :func:`regulab.selection.cv.make_folds` (so the same
folds as the other penalties of ``regulab compare`` for the same seed); each fold fits the path
on its training rows, refits each support, and scores every ``(gamma, lam)`` on its test rows.
``rule='min'``: the pair of smallest mean error; ``'1se'``: among the pairs within one standard
error of that minimum, the largest ``lam`` (fewest features), then the largest ``gamma``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab.core.validation import InvalidValue, check_choice
from regulab.selection.cv import RULES, SCORINGS, held_out_error, make_folds
from regulab.selection.path import lam_grid, regularization_path
from regulab.solvers.exact import solve

GAMMAS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass
class RelaxedPath:
    """The lasso path and the refit on each support: ``lasso``/``relaxed`` coefficients are
    ``[p, n_lams]``, intercepts ``[n_lams]``."""

    lams: np.ndarray
    lasso: np.ndarray
    lasso_intercepts: np.ndarray
    relaxed: np.ndarray
    relaxed_intercepts: np.ndarray
    loss: str
    refit_l2: np.ndarray | None = None  # per lam: the ridge l2 of a separable refit, else 0

    def blend(self, gamma: float):
        """``(coefs [p, n_lams], intercepts [n_lams])`` of ``gamma * lasso + (1-gamma) * refit``."""
        g = float(gamma)
        return (g * self.lasso + (1.0 - g) * self.relaxed,
                g * self.lasso_intercepts + (1.0 - g) * self.relaxed_intercepts)


def check_gammas(gammas) -> np.ndarray:
    """``gammas`` as a sorted array of numbers in [0, 1]; InvalidValue otherwise."""
    g = np.asarray(gammas, dtype=float).ravel()
    if g.size == 0 or not np.all(np.isfinite(g)) or np.any((g < 0) | (g > 1)):
        raise InvalidValue("gammas", f"gammas must be numbers in [0, 1], got {gammas!r}")
    return np.unique(g)


def relaxed_path(X, y, *, loss="squared", lams=None, n_lams=100, eps=None, fit_intercept=True,
                 sample_weight=None, tol=1e-6, max_iter=10_000) -> RelaxedPath:
    """The lasso path over ``lams`` (default :func:`regulab.selection.path.lam_grid`) and the
    unpenalized refit on each of its supports (module docstring)."""
    path = regularization_path(X, y, loss=loss, l1_ratio=1.0, lams=lams, n_lams=n_lams, eps=eps,
                               fit_intercept=fit_intercept, sample_weight=sample_weight, tol=tol,
                               max_iter=max_iter)
    relaxed = np.zeros_like(path.coefs)
    b_relax, l2s = np.zeros(path.lams.size), np.zeros(path.lams.size)
    cache: dict = {}
    fallback = float(path.lams.min()) if loss == "logistic" else None
    for k in range(path.lams.size):
        support = np.flatnonzero(path.coefs[:, k])
        key = support.tobytes()
        if key not in cache:
            cache[key] = refit_on_support(X, y, support, loss=loss, fit_intercept=fit_intercept,
                                          sample_weight=sample_weight, tol=tol,
                                          max_iter=max_iter, separable_l2=fallback)
        relaxed[support, k], b_relax[k], l2s[k] = cache[key]
    return RelaxedPath(path.lams, path.coefs, path.intercepts, relaxed, b_relax, loss, l2s)


def refit_on_support(X, y, support, *, loss="squared", fit_intercept=True, sample_weight=None,
                     tol=1e-6, max_iter=10_000, separable_l2=None):
    """``(w_S, b, l2)``: the unpenalized fit on the columns ``support`` (the intercept alone
    when empty), certified by :func:`regulab.solvers.exact.solve`, ``l2 = 0``; for the logistic
    loss on classes separable there (module docstring), the fit with ``l2 = separable_l2`` (when
    given and > 0) instead."""
    Xs = X[:, support]
    res = solve(Xs, y, loss=loss, l1=0.0, l2=0.0, fit_intercept=fit_intercept,
                sample_weight=sample_weight, tol=tol, max_iter=max_iter)
    if (loss == "logistic" and separable_l2 and support.size
            and _separable(Xs, y, res, sample_weight)):
        res = solve(Xs, y, loss=loss, l1=0.0, l2=float(separable_l2),
                    fit_intercept=fit_intercept, sample_weight=sample_weight, tol=tol,
                    max_iter=max_iter)
        return res.w, res.intercept, float(separable_l2)
    return res.w, res.intercept, 0.0


def _separable(Xs, y, res, sample_weight=None) -> bool:
    """No finite unpenalized logistic fit: the solve did not converge, or every row (of
    positive weight) lies on its class's side with a positive margin (scaling the fit up then
    lowers every loss term)."""
    if not res.converged:
        return True
    t = 2.0 * np.asarray(y, dtype=float) - 1.0
    margin = t * (np.asarray(Xs @ res.w).ravel() + res.intercept)
    if sample_weight is not None:
        margin = margin[np.asarray(sample_weight, dtype=float).ravel() > 0]
    return bool(np.all(margin > 0))


@dataclass
class RelaxedCV:
    """Cross-validated relaxed lasso: errors ``[n_gammas, n_lams]``, the chosen pair and the fit
    on all the data at it (``coef``, ``intercept``); ``oof`` the out-of-fold linear predictions
    at the chosen pair (None with repeated folds)."""

    gammas: np.ndarray
    lams: np.ndarray
    mean_error: np.ndarray
    se_error: np.ndarray
    gamma: float
    lam: float
    index: tuple
    coef: np.ndarray
    intercept: float
    path: RelaxedPath
    oof: np.ndarray | None
    scoring: str
    rule: str

    @property
    def n_kept(self) -> int:
        return int(np.count_nonzero(self.coef))

    @property
    def cv_error(self) -> float:
        return float(self.mean_error[self.index])

    @property
    def cv_se(self) -> float:
        return float(self.se_error[self.index])


def cv_relaxed(X, y, *, loss="squared", gammas=GAMMAS, lams=None, n_lams=100, eps=None, cv=5,
               seed=0, rule="min", fit_intercept=True, sample_weight=None, tol=1e-6,
               max_iter=10_000, scoring=None, on_fold=None) -> RelaxedCV:
    """Choose ``(gamma, lam)`` by K-fold CV on the folds of
    :func:`regulab.selection.cv.make_folds` (``cv``, ``seed``), then fit on all the data."""
    gammas = check_gammas(gammas)
    check_choice(rule, RULES, "rule")
    scoring = scoring or SCORINGS[loss][0]
    y = np.asarray(y, dtype=float).ravel()
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float).ravel()
    if lams is None:
        lams = lam_grid(X, y, loss=loss, l1_ratio=1.0, n_lams=n_lams, eps=eps,
                        fit_intercept=fit_intercept, sample_weight=sw)
    lams = np.sort(np.asarray(lams, dtype=float))[::-1]
    folds, _ = make_folds(cv, X.shape[0], 1, seed, loss, y)
    errors = np.empty((len(folds), gammas.size, lams.size))
    fold_paths = []
    for f, (train, test) in enumerate(folds):
        fp = relaxed_path(X[train], y[train], loss=loss, lams=lams, fit_intercept=fit_intercept,
                          sample_weight=None if sw is None else sw[train], tol=tol,
                          max_iter=max_iter)
        for a, g in enumerate(gammas):
            coefs, b = fp.blend(g)
            z = np.asarray(X[test] @ coefs) + b[None, :]
            errors[f, a] = held_out_error(loss, scoring, y[test], z,
                                          None if sw is None else sw[test])
        fold_paths.append(fp)
        if on_fold is not None:
            on_fold(f)
    mean = errors.mean(axis=0)
    se = errors.std(axis=0, ddof=1) / np.sqrt(len(folds))
    index = _choose(mean, se, rule)
    full = relaxed_path(X, y, loss=loss, lams=lams, fit_intercept=fit_intercept,
                        sample_weight=sw, tol=tol, max_iter=max_iter)
    gamma, k = float(gammas[index[0]]), index[1]
    coefs, b = full.blend(gamma)
    oof = np.empty(X.shape[0])
    for (_, test), fp in zip(folds, fold_paths):
        c, bb = fp.blend(gamma)
        oof[test] = np.asarray(X[test] @ c[:, k]) + bb[k]
    return RelaxedCV(gammas, lams, mean, se, gamma, float(lams[k]), index, coefs[:, k].copy(),
                     float(b[k]), full, oof, scoring, rule)


def _choose(mean, se, rule) -> tuple[int, int]:
    """``(gamma index, lam index)`` by ``rule`` (module docstring); lams decrease with the
    index, so the largest lam is the smallest index."""
    a, k = np.unravel_index(int(np.argmin(mean)), mean.shape)
    if rule == "min":
        return int(a), int(k)
    ok = mean <= mean[a, k] + se[a, k]
    k1 = int(np.flatnonzero(ok.any(axis=0))[0])
    a1 = int(np.flatnonzero(ok[:, k1])[-1])
    return a1, k1
