"""What the four estimators share: parameter checks (in ``fit``, never in ``__init__``), sample
weights, the solver and cross-validation calls, and the convergence warning."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from regulab.core.penalties import KINDS, resolve_l1_ratio
from regulab.core.validation import (
    InvalidValue,
    check_bool,
    check_bounds,
    check_choice,
    check_int,
    check_nonneg,
    check_penalty_factor,
    check_real,
)
from regulab.selection.adaptive import adaptive_weights, combine_factors
from regulab.selection.cv import RULES, cross_validate_path
from regulab.solvers.exact import solve

#: the estimators' ``adaptive`` choices: off, or the first fit of the adaptive lasso
ADAPTIVE = (False, True, "ridge", "ols")

#: the parameters every estimator shares for per-feature penalties and bounds (docstrings)
BOX_PARAMS = """    penalty_factor : array-like of shape (n_features,) of float >= 0, default=None
        Per-feature factors ``v_j``: the penalty becomes ``lam * (rho * sum_j v_j |w_j| +
        (1 - rho) * sum_j v_j w_j**2)``; 0 leaves a feature unpenalized (always kept), inf
        drops it. Used as given (glmnet's ``penalty.factor`` is rescaled to sum to
        n_features; regulab's is not).
    lower_bounds, upper_bounds : float or array-like of shape (n_features,), default=None
        Bounds on the coefficients; a penalized feature needs ``lower <= 0 <= upper``.
    positive : bool, default=False
        Coefficients >= 0 (scikit-learn's ``positive=True``; glmnet's ``lower.limits = 0``).
    adaptive : {False, True, 'ridge', 'ols'}, default=False
        The adaptive lasso (Zou 2006, :mod:`regulab.selection.adaptive`): factors
        ``1 / |w_init_j|`` from a ridge fit with lam chosen by CV (True, 'ridge') or an
        unpenalized fit ('ols'), multiplied into ``penalty_factor``.
"""

_CRITERION_TEXT = {"duality_gap": "relative duality gap", "kkt": "largest KKT violation"}


def _check_sample_weight(sample_weight, n_samples):
    """``None`` or a float64 vector of ``n_samples`` finite weights >= 0 with positive sum."""
    if sample_weight is None:
        return None
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        raise ValueError(f"sample_weight must have shape ({n_samples},), got {sw.shape}")
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight must be finite (no NaN or inf)")
    if np.any(sw < 0):
        raise ValueError("sample_weight must be >= 0")
    if not sw.sum() > 0:
        raise ValueError("sample_weight sums to 0: every sample has zero weight")
    return sw


def _drop_zero_weight(X, y, sw, *rows):
    """Remove rows of weight 0 (so that zero weight is *exactly* removal, CV folds included)
    from ``X``, ``y``, ``sw`` and any further per-row arrays ``rows`` (None stays None)."""
    if sw is None or np.all(sw > 0):
        return (X, y, sw, *rows)
    keep = sw > 0
    return (X[keep], y[keep], sw[keep], *(None if r is None else r[keep] for r in rows))


def _warn_not_converged(res, max_iter, what=""):
    if res.converged:
        return
    text = _CRITERION_TEXT.get(res.criterion, res.criterion)
    warnings.warn(
        f"regulab did not converge{what}: {text} {res.gap:.1e} > tol {res.tol:g} after "
        f"{res.n_iter} iterations (max_iter={max_iter}); increase max_iter or tol",
        ConvergenceWarning, stacklevel=4)


class _RegulabBase(BaseEstimator):
    """Parameter checks, input validation and tags shared by the four estimators."""

    _loss = "squared"
    _cv = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _name(self, param: str) -> str:
        """A parameter as the error messages name it: ``'RegulabRegressor: lam'``."""
        return f"{type(self).__name__}: {param}"

    def _check_params(self) -> float:
        """Validate the hyperparameters; return ``rho``, the L1 share (0 without a penalty)."""
        rho = self._check_penalty()
        if not self._cv:
            check_nonneg(self.lam, self._name("lam"))
        check_bool(self.fit_intercept, self._name("fit_intercept"))
        check_nonneg(self.tol, self._name("tol"))
        check_int(self.max_iter, self._name("max_iter"), 1)
        if self._cv:
            self._check_cv_params()
        return rho

    def _check_penalty(self) -> float:
        """``penalty`` is a kind of :data:`~regulab.core.penalties.KINDS` (or None, for the plain
        estimators); ``l1_ratio`` is its share where the kind leaves it free, else None or
        equal to the kind's."""
        kinds = tuple(KINDS) if self._cv else (*KINDS, None)
        try:
            check_choice(self.penalty, kinds, self._name("penalty"))
        except InvalidValue as exc:
            if self.penalty is None:
                raise InvalidValue(exc.name, f"{exc} (None leaves no lam to choose)") from None
            raise
        if self.penalty is not None:
            return resolve_l1_ratio(self.penalty, self.l1_ratio,
                                    ratio_name=self._name("l1_ratio"))
        if self.l1_ratio is not None:
            name = self._name("l1_ratio")
            raise InvalidValue(name, f"{name} is {self.l1_ratio!r}, but penalty=None has no "
                                     f"penalty to share; leave l1_ratio None")
        return 0.0

    def _l1_l2(self, lam: float, rho: float) -> tuple[float, float]:
        """``(l1, l2) = (lam * rho, lam * (1 - rho))``; ``(0, 0)`` without a penalty."""
        if self.penalty is None:
            return 0.0, 0.0
        return lam * rho, lam * (1.0 - rho)

    def _check_cv_params(self):
        if self.lams is not None:
            lams = np.asarray(self.lams, dtype=float)
            if lams.ndim != 1 or lams.size == 0:
                raise ValueError(f"{self._name('lams')} must be None or a non-empty 1-D sequence "
                                 f"of numbers >= 0, got shape {lams.shape}")
            if not np.all(np.isfinite(lams)) or np.any(lams < 0):
                raise ValueError(f"{type(self).__name__}: every lam in lams must be a finite "
                                 f"number >= 0")
        check_int(self.n_lams, self._name("n_lams"), 1)
        if self.eps is not None:
            check_real(self.eps, self._name("eps"), low=0.0, high=1.0, low_open=True,
                       high_open=True)
        if isinstance(self.cv, Integral):  # else a splitter or explicit (train, test) pairs
            check_int(self.cv, self._name("cv"), 2)
        check_int(self.n_repeats, self._name("n_repeats"), 1)
        check_choice(self.rule, RULES, self._name("rule"))
        check_int(self.seed, self._name("seed"), 0)
        n_jobs = self.n_jobs
        if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral)
                                   or n_jobs == 0):
            name = self._name("n_jobs")
            raise InvalidValue(name, f"{name} must be None or a non-zero integer, got {n_jobs!r}")

    def _validate_fit_data(self, X, y, sample_weight, y_numeric):
        X, y = validate_data(self, X, y, accept_sparse="csc", dtype=[np.float64, np.float32],
                             y_numeric=y_numeric)
        sw = _check_sample_weight(sample_weight, X.shape[0])
        return X, y, sw

    def _solve(self, X, y, l1, l2, sw, box=None, offset=None):
        return solve(X, y, loss=self._loss, l1=l1, l2=l2, fit_intercept=bool(self.fit_intercept),
                     sample_weight=sw, tol=float(self.tol), max_iter=int(self.max_iter),
                     offset=offset, **(box or {}))

    def _cross_validate(self, X, y, rho, sw, box=None, offset=None):
        return cross_validate_path(
            X, y, loss=self._loss, l1_ratio=rho, lams=self.lams, n_lams=int(self.n_lams),
            eps=self.eps, cv=self._cv_arg(), n_repeats=int(self.n_repeats), seed=int(self.seed),
            fit_intercept=bool(self.fit_intercept), sample_weight=sw, tol=float(self.tol),
            max_iter=int(self.max_iter), n_jobs=self.n_jobs, offset=offset, **(box or {}))

    def _store_solution(self, res):
        """The single-problem fitted attributes (``coef_``, ``intercept_``, ``n_iter_``,
        ``dual_gap_``, ``converged_``) from one solver result; warns if it did not converge."""
        self.coef_ = np.asarray(res.w, dtype=np.float64).ravel()
        self.intercept_ = float(res.intercept)
        self.n_iter_ = int(res.n_iter)
        self.dual_gap_ = float(res.gap)
        self.converged_ = bool(res.converged)
        _warn_not_converged(res, self.max_iter)
        return self

    def _box(self, X, y, sw) -> dict:
        """The solver's ``penalty_factor``, ``lower``, ``upper`` from :data:`BOX_PARAMS` (an
        empty dict when none is set: the default problem)."""
        p = X.shape[1]
        names = getattr(self, "feature_names_in_", None)
        positive = check_bool(self.positive, self._name("positive"))
        adaptive = check_choice(self.adaptive, ADAPTIVE, self._name("adaptive"))
        v = check_penalty_factor(self.penalty_factor, p, self._name("penalty_factor"), names)
        lower = self.lower_bounds
        if positive:
            lower = 0.0 if lower is None else np.maximum(np.asarray(lower, dtype=float), 0.0)
        lo, hi = check_bounds(lower, self.upper_bounds, p, np.ones(p) if v is None else v,
                              names, self._name("lower_bounds"), self._name("upper_bounds"))
        if adaptive is not False:
            init = "ridge" if adaptive is True else adaptive
            v = combine_factors(v, adaptive_weights(
                X, y, loss=self._loss, init=init, fit_intercept=bool(self.fit_intercept),
                sample_weight=sw, seed=int(getattr(self, "seed", 0)), lower=lo, upper=hi))
        if v is None and lo is None:
            return {}
        return dict(penalty_factor=v, lower=lo, upper=hi)

    def _cv_arg(self):
        """``cv`` as cross_validate_path takes it: folds, a splitter, or a list of splits."""
        if isinstance(self.cv, Integral):
            return int(self.cv)
        return self.cv if hasattr(self.cv, "split") else list(self.cv)

    def _linear(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=True, dtype=[np.float64, np.float32],
                          reset=False)
        return X
