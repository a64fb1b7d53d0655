"""The adaptive lasso: an L1 path whose per-feature penalty factors come from a first fit.

Zou, H. (2006). The adaptive lasso and its oracle properties. *Journal of the American Statistical
Association* 101(476), 1418-1429. With a first estimate ``w_init`` (ridge with lam chosen by
cross-validation, the default, or unpenalized least squares / logistic regression) the factors
are::

    v_j = 1 / |w_init_j| ** gamma            (gamma > 0; v_j = inf, feature dropped, where 0)

and the adaptive lasso minimizes, over the lam grid of :func:`regulab.selection.path.lam_grid`::

    sum_i s_i loss(y_i, x_i.w + b) + lam * (rho * sum_j v_j |w_j| + (1 - rho) * sum_j v_j w_j**2)

(``rho = 1``: the adaptive lasso itself; ``rho < 1`` an adaptive elastic net). Large first
estimates are penalized little, so the lasso's shrinkage of the strong coefficients shrinks,
and small ones are penalized hard. The factors are used as they are (not rescaled to sum to p;
the grid adapts to their scale through ``lam_max``). User factors multiply the adaptive ones,
a factor 0 (unpenalized) staying 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab.core.validation import check_choice, check_penalty_factor, check_positive
from regulab.selection.cv import CVFit, fit_cv
from regulab.solvers.exact import solve

#: the first estimates the weights can come from
INITS = ("ridge", "ols")


def adaptive_weights(X, y, *, loss="squared", init="ridge", gamma=1.0, fit_intercept=True,
                     sample_weight=None, cv=5, seed=0, n_lams=30, lower=None,
                     upper=None) -> np.ndarray:
    """The adaptive lasso's factors ``1 / |w_init| ** gamma`` (module docstring).

    ``init='ridge'``: ``w_init`` is the ridge fit at the lam of smallest CV error over an
    ``n_lams`` grid (``cv`` folds, ``seed``); ``'ols'``: the unpenalized fit (minimum-norm least
    squares when p > n). ``lower``/``upper`` bound the first fit too (a coefficient that must
    stay >= 0 gets its weight from a fit that respects that)."""
    check_choice(init, INITS, "init")
    gamma = check_positive(gamma, "gamma")
    box = dict(lower=lower, upper=upper)
    if init == "ridge":
        w = fit_cv(X, y, loss=loss, l1_ratio=0.0, n_lams=n_lams, cv=cv, seed=seed,
                   fit_intercept=fit_intercept, sample_weight=sample_weight, **box).coef
    else:
        w = solve(X, y, loss=loss, fit_intercept=fit_intercept, sample_weight=sample_weight,
                  tol=1e-10, **box).w
    a = np.abs(np.asarray(w, dtype=float))
    with np.errstate(divide="ignore"):
        return np.where(a > 0, a ** -gamma, np.inf)


def combine_factors(user, adaptive) -> np.ndarray:
    """User factors times adaptive ones; a user factor 0 stays 0 (unpenalized), never
    ``0 * inf``."""
    if user is None:
        return adaptive
    user = np.asarray(user, dtype=float)
    return np.where(user == 0, 0.0, user * adaptive)


@dataclass
class AdaptiveFit:
    """The adaptive lasso's CV fit and the factors it used."""

    fit: CVFit
    penalty_factor: np.ndarray
    init: str
    gamma: float


def adaptive_lasso(X, y, *, loss="squared", init="ridge", gamma=1.0, l1_ratio=1.0, rule="min",
                   penalty_factor=None, lower=None, upper=None, n_lams=100, eps=None, cv=5,
                   seed=0, fit_intercept=True, sample_weight=None, tol=1e-6, max_iter=10_000,
                   n_jobs=None) -> AdaptiveFit:
    """Fit the adaptive lasso (module docstring) with lam chosen by ``cv``-fold CV (``rule``).

    ``penalty_factor`` (user factors, e.g. 0 for features always kept) multiplies the adaptive
    factors; ``lower``/``upper`` bound the coefficients of both fits."""
    p = X.shape[1]
    user = check_penalty_factor(penalty_factor, p)
    v = combine_factors(user, adaptive_weights(
        X, y, loss=loss, init=init, gamma=gamma, fit_intercept=fit_intercept,
        sample_weight=sample_weight, cv=cv, seed=seed, lower=lower, upper=upper))
    fit = fit_cv(X, y, loss=loss, l1_ratio=l1_ratio, rule=rule, n_lams=n_lams, eps=eps, cv=cv,
                 seed=seed, fit_intercept=fit_intercept, sample_weight=sample_weight, tol=tol,
                 max_iter=max_iter, n_jobs=n_jobs, penalty_factor=v, lower=lower, upper=upper)
    return AdaptiveFit(fit=fit, penalty_factor=v, init=init, gamma=float(gamma))
