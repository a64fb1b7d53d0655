"""Logistic regression on regulab's objective: :class:`RegulabClassifier` at a given ``lam``,
:class:`RegulabClassifierCV` with ``lam`` chosen by cross-validation; more than two classes are
fitted one-vs-rest."""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets

from regulab.estimators.base import (
    BOX_PARAMS,
    _drop_zero_weight,
    _RegulabBase,
    _warn_not_converged,
)


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
    l1_ratio : float in [0, 1] or None, default=None
    fit_intercept : bool, default=True
    tol : float >= 0, default=1e-6
    max_iter : int >= 1, default=10000
""" + BOX_PARAMS + """
    Attributes
    ----------""" + _CLF_ATTRIBUTES + """
    See Also
    --------
    RegulabClassifierCV : chooses ``lam`` by cross-validation.
    """ + _OBJECTIVE_NOTES_CLF

    def __init__(self, penalty="l1", lam=1.0, l1_ratio=None, fit_intercept=True, tol=1e-6,
                 max_iter=10_000, penalty_factor=None, lower_bounds=None, upper_bounds=None,
                 positive=False, adaptive=False):
        self.penalty = penalty
        self.lam = lam
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds
        self.positive = positive
        self.adaptive = adaptive

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
        rho = self._check_params()
        X, y, sw = self._validate_fit_data(X, y, sample_weight, y_numeric=False)
        X, y, sw = _drop_zero_weight(X, y, sw)
        targets = self._encode(y)
        l1, l2 = self._l1_l2(float(self.lam), rho)
        return self._store([self._solve(X, t, l1, l2, sw, self._box(X, t, sw))
                            for t in targets])


class RegulabClassifierCV(_ClassifierMixinBase):
    __doc__ = """:class:`RegulabClassifier` with ``lam`` chosen by (repeated) stratified K-fold CV.

    As :class:`RegulabRegressorCV`, on the held-out mean log-loss. With more than two classes
    every one-vs-rest problem chooses **its own** lam (its own grid, folds stratified on its
    binary target), and is refitted at it.

    Parameters
    ----------
    penalty : {'l1', 'l2', 'elasticnet'}, default='l1'
    l1_ratio : float in [0, 1] or None, default=None
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
""" + BOX_PARAMS + """
    Attributes
    ----------
    lam_ : float for two classes, else ndarray of shape (n_classes,)
        The chosen lam (of each one-vs-rest problem).
    path_ : regulab.selection.cv.CVResult for two classes, else list of CVResult (one per class)
    """ + _CLF_ATTRIBUTES.lstrip("\n") + _OBJECTIVE_NOTES_CLF

    _cv = True

    def __init__(self, penalty="l1", l1_ratio=None, lams=None, n_lams=100, eps=None, cv=5,
                 n_repeats=1, rule="min", seed=0, fit_intercept=True, tol=1e-6, max_iter=10_000,
                 n_jobs=None, penalty_factor=None, lower_bounds=None, upper_bounds=None,
                 positive=False, adaptive=False):
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
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds
        self.positive = positive
        self.adaptive = adaptive
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
            box = self._box(X, t, sw)
            path = self._cross_validate(X, t, rho, sw, box)
            lam = float(path.lams[path.chosen(self.rule)])
            paths.append(path)
            lams.append(lam)
            results.append(self._solve(X, t, *self._l1_l2(lam, rho), sw, box))
        if len(targets) == 1:
            self.path_, self.lam_ = paths[0], lams[0]
        else:
            self.path_, self.lam_ = paths, np.array(lams)
        return self._store(results)
