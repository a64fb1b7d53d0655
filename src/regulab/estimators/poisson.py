"""Poisson regression (log link, exposure/offset) on regulab's objective:
:class:`RegulabPoissonRegressor` at a given ``lam``, :class:`RegulabPoissonRegressorCV` with
``lam`` chosen by cross-validation on the held-out mean Poisson deviance."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from regulab.core.losses import check_counts, check_offset, poisson_deviance
from regulab.estimators.base import _drop_zero_weight, _RegulabBase

_OBJECTIVE_NOTES_POIS = """
    Notes
    -----
    The objective, with sample weights ``s_i`` normalized to sum to 1 (``1/n`` without weights),
    the offset ``o_i`` (``log(exposure_i)``, 0 when not given) and the intercept ``b`` never
    penalized, is::

        sum_i s_i (exp(eta_i) - y_i eta_i) + lam * (rho * ||w||_1 + (1 - rho) * ||w||_2**2),
        eta_i = x_i.w + b + o_i

    the mean Poisson negative log-likelihood with the constant ``log(y_i!)`` dropped (equal to
    half the mean deviance up to a constant); ``l1 = lam * rho``, ``l2 = lam * (1 - rho)``.
    ``y`` holds counts, or any values ``>= 0`` (rates), as glmnet's Poisson family allows.

    Conversions (unweighted): glum's ``GeneralizedLinearRegressor(family='poisson', alpha=a,
    l1_ratio=r)`` minimizes mean deviance / 2 + ``a r ||w||_1 + a (1 - r) / 2 ||w||_2**2``, i.e.
    ``l1 = a r``, ``l2 = a (1 - r) / 2``; scikit-learn's ``PoissonRegressor(alpha=a)`` is
    ``penalty='l2', lam=a/2``.

    ``dual_gap_`` is the solver's certificate: the largest KKT violation divided by the largest
    gradient entry at the null model (there is no closed-form dual for this loss).
"""


class _PoissonBase(RegressorMixin, _RegulabBase):
    _loss = "poisson"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags

    def _prepare(self, X, y, sample_weight, offset):
        X, y, sw = self._validate_fit_data(X, y, sample_weight, y_numeric=True)
        y = check_counts(y)
        o = None if offset is None else check_offset(offset, X.shape[0])
        return _drop_zero_weight(X, y, sw, o)  # weight 0 is removal, offset rows included

    def _fit_at(self, X, y, l1, l2, sw, o):
        return self._store_solution(self._solve(X, y, l1, l2, sw, offset=o))

    def linear_predictor(self, X, offset=None):
        """``eta = X @ coef_ + intercept_ + offset``."""
        X = self._linear(X)
        eta = np.asarray(X @ self.coef_, dtype=np.float64).ravel() + self.intercept_
        return eta if offset is None else eta + check_offset(offset, eta.shape[0])

    def predict(self, X, offset=None):
        """The expected count ``exp(X @ coef_ + intercept_ + offset)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None
            ``log(exposure)`` of each row (None: exposure 1).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return np.exp(self.linear_predictor(X, offset))

    def score(self, X, y, sample_weight=None, offset=None):
        """D^2, the share of the Poisson deviance explained: ``1 - dev(model) / dev(mean)``."""
        y = check_counts(y)
        mu = self.predict(X, offset)
        s = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, float)
        dev = float(s @ poisson_deviance(y, mu))
        dev0 = float(s @ poisson_deviance(y, np.full_like(y, np.average(y, weights=s))))
        return 1.0 - dev / dev0 if dev0 > 0 else (1.0 if dev == 0 else float("-inf"))


class RegulabPoissonRegressor(_PoissonBase):
    __doc__ = """Poisson regression (log link) with an L1, L2 or elastic-net penalty.

    Minimizes the mean Poisson negative log-likelihood plus ``lam * Complexity(w)``.

    Parameters
    ----------
    penalty : {'l1', 'l2', 'elasticnet'} or None, default='l1'
    lam : float >= 0, default=1.0
    l1_ratio : float in [0, 1] or None, default=None
        The L1 share ``rho`` of the elastic net (None: 0.5).
    fit_intercept : bool, default=True
    tol : float >= 0, default=1e-6
        Stop when the relative KKT violation is at most ``tol``.
    max_iter : int >= 1, default=10000
        Largest number of Newton steps.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
    dual_gap_ : float
        The relative KKT violation at the solution.
    converged_ : bool
    n_features_in_ : int
    """ + _OBJECTIVE_NOTES_POIS

    def __init__(self, penalty="l1", lam=1.0, l1_ratio=None, fit_intercept=True, tol=1e-6,
                 max_iter=10_000):
        self.penalty = penalty
        self.lam = lam
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit the model; ``offset`` is ``log(exposure)`` per row (None: 0)."""
        rho = self._check_params()
        X, y, sw, o = self._prepare(X, y, sample_weight, offset)
        return self._fit_at(X, y, *self._l1_l2(float(self.lam), rho), sw, o)


class RegulabPoissonRegressorCV(_PoissonBase):
    __doc__ = """:class:`RegulabPoissonRegressor` with ``lam`` chosen by K-fold cross-validation.

    The grid runs from ``lam_max`` (all coefficients 0, given the offset) down to
    ``lam_max * eps``; each fold fits the warm-started path and records the held-out mean Poisson
    deviance; ``rule='min'`` or ``'1se'`` picks ``lam_`` and the model is refitted on all rows.

    Parameters
    ----------
    penalty, l1_ratio, lams, n_lams, eps, cv, n_repeats, rule, seed, fit_intercept, tol,
    max_iter, n_jobs
        As in :class:`regulab.estimators.RegulabRegressorCV`.

    Attributes
    ----------
    lam_ : float
    path_ : regulab.selection.cv.CVResult
    coef_, intercept_, n_iter_, dual_gap_, converged_, n_features_in_
    """ + _OBJECTIVE_NOTES_POIS

    _cv = True

    def __init__(self, penalty="l1", l1_ratio=None, lams=None, n_lams=100, eps=None, cv=5,
                 n_repeats=1, rule="min", seed=0, fit_intercept=True, tol=1e-6, max_iter=10_000,
                 n_jobs=None):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.lams = lams
        self.n_lams = n_lams
        self.eps = eps
        self.cv = cv
        self.n_repeats = n_repeats
        self.rule = rule
        self.seed = seed
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs

    def fit(self, X, y, sample_weight=None, offset=None):
        """Cross-validate the lam grid, then refit on all rows at ``lam_``."""
        rho = self._check_params()
        X, y, sw, o = self._prepare(X, y, sample_weight, offset)
        self.path_ = self._cross_validate(X, y, rho, sw, offset=o)
        self.lam_ = float(self.path_.lams[self.path_.chosen(self.rule)])
        return self._fit_at(X, y, *self._l1_l2(self.lam_, rho), sw, o)
