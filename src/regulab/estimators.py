"""scikit-learn compatible estimators on regulab's objective.

Every estimator here minimizes, over the coefficients ``w`` and the unpenalized intercept ``b``
(README, "The objective, and other tools' lambdas")::

    Cost(w, b) = EmpLoss(w, b) + lam * Complexity(w)

    Complexity(w) = rho * sum_j |w_j| + (1 - rho) * sum_j w_j**2

with ``rho = 1`` for ``penalty='l1'``, ``0`` for ``'l2'``, ``l1_ratio`` for ``'elasticnet'``
(``penalty=None``: no penalty at all). EmpLoss is the sample-weighted *mean* squared error
(:class:`RegulabRegressor`) or *mean* log-loss (:class:`RegulabClassifier`), the weights
normalized to sum to 1, so an integer weight ``k`` equals repeating the row ``k`` times and a zero
weight equals removing the row.

The fitting is :func:`regulab.solvers.exact.solve` (certified: it stops on a relative duality gap
or a KKT violation, reported as ``dual_gap_``); the CV variants choose ``lam`` with
:func:`regulab.selection.cv.cross_validate_path` and refit on all the data.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from regulab.selection.cv import cross_validate_path
from regulab.solvers.exact import solve

__all__ = [
    "RegulabRegressor",
    "RegulabClassifier",
    "RegulabRegressorCV",
    "RegulabClassifierCV",
]

#: valid values of ``penalty`` (besides ``None`` for the plain estimators)
PENALTIES = ("l1", "l2", "elasticnet")
#: valid values of ``rule`` for the CV estimators
RULES = ("min", "1se")

_CRITERION_TEXT = {"duality_gap": "relative duality gap", "kkt": "largest KKT violation"}


# -- parameter checks (in fit, never in __init__) ---------------------------------------------

def _choices(values, none_ok=False) -> str:
    names = [repr(v) for v in values] + (["None"] if none_ok else [])
    return ", ".join(names)


def _check_penalty(name, penalty, none_ok):
    if penalty is None and none_ok:
        return
    if not isinstance(penalty, str) or penalty not in PENALTIES:
        extra = "" if none_ok else " (None leaves no lam to choose)"
        raise ValueError(f"{name}: penalty must be one of {_choices(PENALTIES, none_ok)}"
                         f"{extra}; got {penalty!r}")


def _check_real(name, param, value, *, low=None, high=None, low_open=False):
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name}: {param} must be a finite real number, got {value!r}")
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and value > high
    if bad_low or bad_high:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}]"
        raise ValueError(f"{name}: {param} must lie in {lo}, {hi}; got {value!r}")
    return float(value)


def _check_int(name, param, value, low):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name}: {param} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_bool(name, param, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: {param} must be True or False, got {value!r}")
    return bool(value)


def _l1_l2(penalty, lam, l1_ratio):
    """``(rho, l1, l2)`` of a validated setting."""
    if penalty is None:
        return 0.0, 0.0, 0.0
    rho = {"l1": 1.0, "l2": 0.0}.get(penalty, l1_ratio)
    return rho, lam * rho, lam * (1.0 - rho)


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


def _drop_zero_weight(X, y, sw):
    """Remove rows of weight 0 (so that zero weight is *exactly* removal, CV folds included)."""
    if sw is None or np.all(sw > 0):
        return X, y, sw
    keep = sw > 0
    return X[keep], y[keep], sw[keep]


def _warn_not_converged(res, max_iter, what=""):
    if res.converged:
        return
    text = _CRITERION_TEXT.get(res.criterion, res.criterion)
    warnings.warn(
        f"regulab did not converge{what}: {text} {res.gap:.1e} > tol {res.tol:g} after "
        f"{res.n_iter} iterations (max_iter={max_iter}); increase max_iter or tol",
        ConvergenceWarning, stacklevel=4)


# -- shared machinery -------------------------------------------------------------------------

class _RegulabBase(BaseEstimator):
    """Parameter checks, input validation and tags shared by the four estimators."""

    _loss = "squared"
    _cv = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _check_params(self):
        """Validate hyperparameters; return ``rho`` (the L1 share)."""
        name = type(self).__name__
        _check_penalty(name, self.penalty, none_ok=not self._cv)
        if not self._cv:
            _check_real(name, "lam", self.lam, low=0.0)
        l1_ratio = _check_real(name, "l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        _check_bool(name, "fit_intercept", self.fit_intercept)
        _check_real(name, "tol", self.tol, low=0.0)
        _check_int(name, "max_iter", self.max_iter, 1)
        if self._cv:
            self._check_cv_params(name)
        return {"l1": 1.0, "l2": 0.0, None: 0.0}.get(self.penalty, l1_ratio)

    def _check_cv_params(self, name):
        if self.lams is not None:
            lams = np.asarray(self.lams, dtype=float)
            if lams.ndim != 1 or lams.size == 0:
                raise ValueError(f"{name}: lams must be None or a non-empty 1-D sequence of "
                                 f"numbers >= 0, got shape {lams.shape}")
            if not np.all(np.isfinite(lams)) or np.any(lams < 0):
                raise ValueError(f"{name}: every lam in lams must be a finite number >= 0")
        _check_int(name, "n_lams", self.n_lams, 1)
        if self.eps is not None:
            eps = _check_real(name, "eps", self.eps, low=0.0, low_open=True)
            if eps >= 1:
                raise ValueError(f"{name}: eps must lie in (0, 1), got {self.eps!r}")
        if isinstance(self.cv, Integral) or isinstance(self.cv, bool):
            _check_int(name, "cv", self.cv, 2)  # else a splitter or explicit (train, test) pairs
        _check_int(name, "n_repeats", self.n_repeats, 1)
        if not isinstance(self.rule, str) or self.rule not in RULES:
            raise ValueError(f"{name}: rule must be one of {_choices(RULES)}; got {self.rule!r}")
        _check_int(name, "seed", self.seed, 0)
        n_jobs = self.n_jobs
        if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral)
                                   or n_jobs == 0):
            raise ValueError(f"{name}: n_jobs must be None or a non-zero integer, got {n_jobs!r}")

    def _validate_fit_data(self, X, y, sample_weight, y_numeric):
        X, y = validate_data(self, X, y, accept_sparse="csc", dtype=[np.float64, np.float32],
                             y_numeric=y_numeric)
        sw = _check_sample_weight(sample_weight, X.shape[0])
        return X, y, sw

    def _solve(self, X, y, l1, l2, sw):
        return solve(X, y, loss=self._loss, l1=l1, l2=l2, fit_intercept=bool(self.fit_intercept),
                     sample_weight=sw, tol=float(self.tol), max_iter=int(self.max_iter))

    def _cross_validate(self, X, y, rho, sw):
        return cross_validate_path(
            X, y, loss=self._loss, l1_ratio=rho, lams=self.lams, n_lams=int(self.n_lams),
            eps=self.eps, cv=self._cv_arg(), n_repeats=int(self.n_repeats), seed=int(self.seed),
            fit_intercept=bool(self.fit_intercept), sample_weight=sw, tol=float(self.tol),
            max_iter=int(self.max_iter), n_jobs=self.n_jobs)

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


# -- regression -------------------------------------------------------------------------------

class _RegressorMixinBase(RegressorMixin, _RegulabBase):
    _loss = "squared"

    def _fit_at(self, X, y, l1, l2, sw):
        res = self._solve(X, y, l1, l2, sw)
        self.coef_ = np.asarray(res.w, dtype=np.float64).ravel()
        self.intercept_ = float(res.intercept)
        self.n_iter_ = int(res.n_iter)
        self.dual_gap_ = float(res.gap)
        self.converged_ = bool(res.converged)
        _warn_not_converged(res, self.max_iter)
        return self

    def predict(self, X):
        """Predict ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._linear(X)
        return np.asarray(X @ self.coef_, dtype=np.float64).ravel() + self.intercept_


_OBJECTIVE_NOTES_REG = """
    Notes
    -----
    The objective, with sample weights ``s_i`` normalized to sum to 1 (``1/n`` without weights)
    and the intercept ``b`` never penalized, is::

        sum_i s_i (y_i - x_i.w - b)**2 + lam * (rho * ||w||_1 + (1 - rho) * ||w||_2**2)

    i.e. ``l1 = lam * rho`` and ``l2 = lam * (1 - rho)``, with ``rho = 1`` (``'l1'``), ``0``
    (``'l2'``) or ``l1_ratio`` (``'elasticnet'``); ``penalty=None`` fits ordinary least squares.

    Conversions from scikit-learn (unweighted, ``n`` samples):

    - ``Lasso(alpha)`` is ``penalty='l1', lam=2*alpha`` (so ``alpha = lam / 2``);
    - ``Ridge(alpha)`` is ``penalty='l2', lam=alpha/n`` (so ``alpha = lam * n``; with sample
      weights ``n`` becomes ``sum(sample_weight)``);
    - ``ElasticNet(alpha, l1_ratio=r)`` is ``penalty='elasticnet', lam=alpha*(1+r),
      l1_ratio=2*r/(1+r)`` (so ``alpha = lam*(1 - rho/2)``, ``r = rho/(2 - rho)``).

    ``dual_gap_`` is the solver's certificate: the duality gap divided by the loss of the null
    model (``w = 0``). A fit that stops at ``max_iter`` before ``dual_gap_ <= tol`` emits a
    :class:`~sklearn.exceptions.ConvergenceWarning` stating the gap reached and the tol.
"""


class RegulabRegressor(_RegressorMixinBase):
    __doc__ = """Linear regression with an L1, L2 or elastic-net penalty on regulab's scale.

    Minimizes the mean squared error plus ``lam * Complexity(w)``.

    Parameters
    ----------
    penalty : {'l1', 'l2', 'elasticnet'} or None, default='l1'
        The complexity measure: ``sum|w_j|``, ``sum w_j**2``, or their mix
        ``l1_ratio * sum|w_j| + (1 - l1_ratio) * sum w_j**2``; None means no penalty.
    lam : float >= 0, default=1.0
        Strength of the penalty (ignored when ``penalty`` is None).
    l1_ratio : float in [0, 1], default=0.5
        The L1 share ``rho`` of the elastic net (used only with ``penalty='elasticnet'``).
    fit_intercept : bool, default=True
        Fit an unpenalized intercept.
    tol : float >= 0, default=1e-6
        Stop when the relative duality gap is at most ``tol``.
    max_iter : int >= 1, default=10000
        Largest number of solver iterations.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Iterations the solver ran.
    dual_gap_ : float
        The stopping criterion's value at the solution (relative duality gap).
    converged_ : bool
        Whether ``dual_gap_ <= tol``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has feature names (a pandas DataFrame).

    See Also
    --------
    RegulabRegressorCV : chooses ``lam`` by cross-validation.
    regulab.core.conventions : other tools' ``alpha``/``lambda`` on regulab's scale.
    """ + _OBJECTIVE_NOTES_REG + """
    Examples
    --------
    >>> import numpy as np
    >>> from regulab.estimators import RegulabRegressor
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> y = 2.0 * X[:, 0]
    >>> model = RegulabRegressor(penalty="l1", lam=0.1).fit(X, y)
    >>> model.coef_.shape
    (2,)
    """

    def __init__(self, penalty="l1", lam=1.0, l1_ratio=0.5, fit_intercept=True, tol=1e-6,
                 max_iter=10_000):
        self.penalty = penalty
        self.lam = lam
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; weighting a row by an integer ``k`` equals repeating it ``k``
            times, weight 0 equals removing it.

        Returns
        -------
        self : RegulabRegressor
        """
        self._check_params()
        X, y, sw = self._validate_fit_data(X, y, sample_weight, y_numeric=True)
        X, y, sw = _drop_zero_weight(X, y, sw)
        _, l1, l2 = _l1_l2(self.penalty, float(self.lam), float(self.l1_ratio))
        return self._fit_at(X, np.asarray(y, dtype=np.float64), l1, l2, sw)


class RegulabRegressorCV(_RegressorMixinBase):
    __doc__ = """:class:`RegulabRegressor` with ``lam`` chosen by (repeated) K-fold cross-validation.

    The lam grid (geometric from ``lam_max``, where every coefficient is exactly 0, down to
    ``lam_max * eps``) is computed on all the data; every fold fits the warm-started path and the
    held-out mean squared error of each lam is recorded
    (:func:`regulab.selection.cv.cross_validate_path`). ``rule='min'`` picks the lam of smallest mean
    error, ``rule='1se'`` the largest lam whose mean error is within one standard error of that
    minimum (glmnet's rule). The model is then refitted on all the data at ``lam_``.

    Parameters
    ----------
    penalty : {'l1', 'l2', 'elasticnet'}, default='l1'
        As in :class:`RegulabRegressor` (None is not allowed: there would be no lam to choose).
        A pure L2 grid is anchored at the ``lam_max`` of ``l1_ratio = 1e-3``.
    l1_ratio : float in [0, 1], default=0.5
        The L1 share of the elastic net.
    lams : array-like of float >= 0, default=None
        The candidate lams; None builds the grid from ``n_lams`` and ``eps``.
    n_lams : int >= 1, default=100
    eps : float in (0, 1), default=None
        ``lam_min / lam_max`` of the grid; None means 1e-3 when n > p, else 1e-2.
    cv : int >= 2, default=5
        Number of folds.
    n_repeats : int >= 1, default=1
        Repetitions of the K-fold split (with new shuffles).
    rule : {'min', '1se'}, default='min'
    seed : int >= 0, default=0
        Seed of the fold shuffles.
    fit_intercept : bool, default=True
    tol : float >= 0, default=1e-6
    max_iter : int >= 1, default=10000
    n_jobs : int, default=None
        Folds run in parallel through joblib when not None or 1.

    Attributes
    ----------
    lam_ : float
        The chosen lam (one of ``path_.lams``).
    path_ : regulab.selection.cv.CVResult
        The whole cross-validation: lams, mean and standard error per lam, fold errors and
        coefficients, ``lam_min`` and ``lam_1se``.
    coef_, intercept_, n_iter_, dual_gap_, converged_, n_features_in_, feature_names_in_
        Those of the refit at ``lam_``, as in :class:`RegulabRegressor`.
    """ + _OBJECTIVE_NOTES_REG

    _cv = True

    def __init__(self, penalty="l1", l1_ratio=0.5, lams=None, n_lams=100, eps=None, cv=5,
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

    def fit(self, X, y, sample_weight=None):
        """Cross-validate the lam grid, then refit on all the data at ``lam_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fit and of the held-out errors. Rows of weight 0 are removed before
            the folds are drawn.

        Returns
        -------
        self : RegulabRegressorCV
        """
        rho = self._check_params()
        X, y, sw = self._validate_fit_data(X, y, sample_weight, y_numeric=True)
        X, y, sw = _drop_zero_weight(X, y, sw)
        y = np.asarray(y, dtype=np.float64)
        self.path_ = self._cross_validate(X, y, rho, sw)
        self.lam_ = float(self.path_.lams[self.path_.chosen(self.rule)])
        return self._fit_at(X, y, self.lam_ * rho, self.lam_ * (1.0 - rho), sw)


# -- classification ---------------------------------------------------------------------------

class _ClassifierMixinBase(ClassifierMixin, _RegulabBase):
    _loss = "logistic"

    def _encode(self, y):
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes (with "
                             f"positive sample_weight); got 1 class: {self.classes_[0]!r}")
        k = self.classes_.size
        # binary: one problem, class 1 = classes_[1]; multiclass: one-vs-rest, one per class
        return [(y_idx == 1).astype(np.float64)] if k == 2 else \
            [(y_idx == c).astype(np.float64) for c in range(k)]

    def _store(self, results):
        self.coef_ = np.vstack([np.asarray(r.w, dtype=np.float64).ravel() for r in results])
        self.intercept_ = np.array([float(r.intercept) for r in results])
        self.n_iter_ = np.array([int(r.n_iter) for r in results])
        self.dual_gap_ = np.array([float(r.gap) for r in results])
        self.converged_ = np.array([bool(r.converged) for r in results])
        multi = len(results) > 1
        for c, r in zip(self.classes_, results):
            _warn_not_converged(r, self.max_iter, f" (class {c} vs rest)" if multi else "")
        return self

    def decision_function(self, X):
        """Linear scores ``X @ coef_.T + intercept_``.

        Returns
        -------
        scores : ndarray of shape (n_samples,) for two classes (positive means
            ``classes_[1]``), else (n_samples, n_classes) (one-vs-rest scores).
        """
        X = self._linear(X)
        scores = np.asarray(X @ self.coef_.T, dtype=np.float64) + self.intercept_[None, :]
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """The class of largest score (two classes: ``classes_[1]`` where the score is > 0)."""
        scores = self.decision_function(X)
        idx = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[idx]

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Two classes: ``[1 - sigmoid(score), sigmoid(score)]``. More: the one-vs-rest
        probabilities ``sigmoid(score_k)`` divided by their sum over the classes.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        p = expit(scores)
        return p / p.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


_OBJECTIVE_NOTES_CLF = """
    Notes
    -----
    For two classes, with ``t_i = +1`` for ``classes_[1]`` and ``-1`` for ``classes_[0]``,
    sample weights ``s_i`` normalized to sum to 1 and the intercept ``b`` never penalized, the
    objective is::

        sum_i s_i log(1 + exp(-t_i (x_i.w + b))) + lam * (rho ||w||_1 + (1 - rho) ||w||_2**2)

    (``rho`` as in :class:`RegulabRegressor`). With more than two classes it is fitted
    **one-vs-rest**: one binary problem per class (that class against all others), each with
    the same penalty; ``coef_`` has one row per class, ``decision_function`` returns the
    per-class scores, ``predict`` their argmax, and ``predict_proba`` the per-class sigmoids
    normalized to sum to 1 (as scikit-learn's one-vs-rest logistic regression did).

    Conversions from scikit-learn's ``LogisticRegression(C)`` (unweighted, ``n`` samples):
    L2: ``lam = 1/(2*C*n)`` (so ``C = 1/(2*lam*n)``); L1: ``lam = 1/(C*n)``; elastic net with
    ``l1_ratio=r``: ``lam = (1+r)/(2*C*n)``, ``rho = 2*r/(1+r)``. Both are binary fits; with
    more classes scikit-learn's default is multinomial, not one-vs-rest.

    ``dual_gap_`` holds the solver's stopping criterion per binary problem (a KKT violation or
    a relative duality gap); a problem stopped by ``max_iter`` first emits a
    :class:`~sklearn.exceptions.ConvergenceWarning` stating the value reached and the tol.
"""

_CLF_ATTRIBUTES = """
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of int, shape (1,) or (n_classes,)
        Iterations of each binary problem.
    dual_gap_ : ndarray of shape (1,) or (n_classes,)
        The stopping criterion's value of each binary problem.
    converged_ : ndarray of bool, shape (1,) or (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has feature names (a pandas DataFrame).
"""


class RegulabClassifier(_ClassifierMixinBase):
    __doc__ = """Logistic regression with an L1, L2 or elastic-net penalty on regulab's scale.

    Minimizes the mean log-loss plus ``lam * Complexity(w)``; more than two classes are fitted
    one-vs-rest.

    Parameters
    ----------
    penalty : {'l1', 'l2', 'elasticnet'} or None, default='l1'
    lam : float >= 0, default=1.0
        Strength of the penalty. On the mean log-loss ``lam = 1`` is strong: with L1 it sets
        every coefficient to 0 unless some feature's gradient at the null model exceeds 1.
    l1_ratio : float in [0, 1], default=0.5
    fit_intercept : bool, default=True
    tol : float >= 0, default=1e-6
    max_iter : int >= 1, default=10000

    Attributes
    ----------""" + _CLF_ATTRIBUTES + """
    See Also
    --------
    RegulabClassifierCV : chooses ``lam`` by cross-validation.
    """ + _OBJECTIVE_NOTES_CLF

    def __init__(self, penalty="l1", lam=1.0, l1_ratio=0.5, fit_intercept=True, tol=1e-6,
                 max_iter=10_000):
        self.penalty = penalty
        self.lam = lam
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y, sample_weight=None):
        """Fit the model (one binary problem, or one per class for more than two classes).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (integer weight ``k`` == ``k`` copies; 0 == removal).

        Returns
        -------
        self : RegulabClassifier
        """
        self._check_params()
        X, y, sw = self._validate_fit_data(X, y, sample_weight, y_numeric=False)
        X, y, sw = _drop_zero_weight(X, y, sw)
        targets = self._encode(y)
        _, l1, l2 = _l1_l2(self.penalty, float(self.lam), float(self.l1_ratio))
        return self._store([self._solve(X, t, l1, l2, sw) for t in targets])


class RegulabClassifierCV(_ClassifierMixinBase):
    __doc__ = """:class:`RegulabClassifier` with ``lam`` chosen by (repeated) stratified K-fold CV.

    As :class:`RegulabRegressorCV`, on the held-out mean log-loss. With more than two classes
    every one-vs-rest problem chooses **its own** lam (its own grid, folds stratified on its
    binary target), and is refitted at it.

    Parameters
    ----------
    penalty : {'l1', 'l2', 'elasticnet'}, default='l1'
    l1_ratio : float in [0, 1], default=0.5
    lams : array-like of float >= 0, default=None
    n_lams : int >= 1, default=100
    eps : float in (0, 1), default=None
    cv : int >= 2, default=5
    n_repeats : int >= 1, default=1
    rule : {'min', '1se'}, default='min'
    seed : int >= 0, default=0
    fit_intercept : bool, default=True
    tol : float >= 0, default=1e-6
    max_iter : int >= 1, default=10000
    n_jobs : int, default=None

    Attributes
    ----------
    lam_ : float for two classes, else ndarray of shape (n_classes,)
        The chosen lam (of each one-vs-rest problem).
    path_ : regulab.selection.cv.CVResult for two classes, else list of CVResult (one per class)
    """ + _CLF_ATTRIBUTES.lstrip("\n") + _OBJECTIVE_NOTES_CLF

    _cv = True

    def __init__(self, penalty="l1", l1_ratio=0.5, lams=None, n_lams=100, eps=None, cv=5,
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

    def fit(self, X, y, sample_weight=None):
        """Cross-validate each binary problem's lam grid, then refit on all data at ``lam_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Rows of weight 0 are removed before the folds are drawn.

        Returns
        -------
        self : RegulabClassifierCV
        """
        rho = self._check_params()
        X, y, sw = self._validate_fit_data(X, y, sample_weight, y_numeric=False)
        X, y, sw = _drop_zero_weight(X, y, sw)
        targets = self._encode(y)
        paths, lams, results = [], [], []
        for t in targets:
            path = self._cross_validate(X, t, rho, sw)
            lam = float(path.lams[path.chosen(self.rule)])
            paths.append(path)
            lams.append(lam)
            results.append(self._solve(X, t, lam * rho, lam * (1.0 - rho), sw))
        if len(targets) == 1:
            self.path_, self.lam_ = paths[0], lams[0]
        else:
            self.path_, self.lam_ = paths, np.array(lams)
        return self._store(results)
