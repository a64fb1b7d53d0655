"""Logistic regression on regulab's objective: :class:`RegulabClassifier` at a given ``lam``,
:class:`RegulabClassifierCV` with ``lam`` chosen by cross-validation; more than two classes are
fitted as one multinomial (softmax) model by default (``multi_class='multinomial'``, what glmnet
users expect), or one-vs-rest (``multi_class='ovr'``)."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets

from regulab.core.validation import check_bool, check_choice
from regulab.estimators.base import (
    BOX_PARAMS,
    _drop_zero_weight,
    _RegulabBase,
    _warn_not_converged,
)
from regulab.selection.multinomial import cross_validate_multinomial
from regulab.solvers.exact.multinomial import solve_multinomial

#: how more than two classes are fitted
MULTI_CLASS = ("multinomial", "ovr")


class _ClassifierMixinBase(ClassifierMixin, _RegulabBase):
    _loss = "logistic"

    def _check_multi_class(self):
        check_choice(self.multi_class, MULTI_CLASS, self._name("multi_class"))
        check_bool(self.grouped, self._name("grouped"))

    def _refuse_box_multinomial(self):
        """The multinomial solver has no per-feature factors or bounds: refuse them, naming
        the parameters and the way out (``multi_class='ovr'``)."""
        from regulab.core.validation import InvalidValue

        given = [name for name, on in (
            ("penalty_factor", self.penalty_factor is not None),
            ("lower_bounds", self.lower_bounds is not None),
            ("upper_bounds", self.upper_bounds is not None),
            ("positive", bool(self.positive)), ("adaptive", self.adaptive is not False))
            if on]
        if given:
            name = self._name(given[0])
            raise InvalidValue(name, f"{', '.join(self._name(g) for g in given)}: the "
                               "multinomial fit takes no penalty factors or bounds; pass "
                               "multi_class='ovr' to fit one binary problem per class")

    def _encode(self, y):
        """Class codes; sets ``classes_`` and ``multi_class_`` (``'binary'`` for two classes,
        else the ``multi_class`` parameter)."""
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes (with "
                             f"positive sample_weight); got 1 class: {self.classes_[0]!r}")
        self.multi_class_ = "binary" if self.classes_.size == 2 else self.multi_class
        return y_idx.astype(np.int64)

    def _binary_targets(self, codes):
        """Binary: one problem, class 1 = classes_[1]; one-vs-rest: one problem per class."""
        if self.multi_class_ == "binary":
            return [(codes == 1).astype(np.float64)]
        return [(codes == c).astype(np.float64) for c in range(self.classes_.size)]

    def _solve_multinomial(self, X, codes, l1, l2, sw):
        return solve_multinomial(X, codes, n_classes=self.classes_.size,
                                 grouped=bool(self.grouped), l1=l1, l2=l2,
                                 fit_intercept=bool(self.fit_intercept), sample_weight=sw,
                                 tol=float(self.tol), max_iter=int(self.max_iter))

    def _store_multinomial(self, r):
        self.coef_ = np.ascontiguousarray(r.W.T)
        self.intercept_ = np.asarray(r.intercept, dtype=np.float64).copy()
        self.n_iter_ = np.array([int(r.n_iter)])
        self.dual_gap_ = np.array([float(r.gap)])
        self.converged_ = np.array([bool(r.converged)])
        _warn_not_converged(r, self.max_iter, " (multinomial)")
        return self

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
            ``classes_[1]``), else (n_samples, n_classes) (the multinomial linear predictors,
            or the one-vs-rest scores).
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

        Two classes: ``[1 - sigmoid(score), sigmoid(score)]``. More: multinomial, the softmax
        of the scores; one-vs-rest, the probabilities ``sigmoid(score_k)`` divided by their sum
        over the classes. Each row sums to 1.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        if self.multi_class_ == "multinomial":
            return softmax(scores, axis=1)
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

    (``rho`` as in :class:`RegulabRegressor`). With K > 2 classes and
    ``multi_class='multinomial'`` (the default) it is one **multinomial** (softmax) model, with
    ``W = coef_.T`` (``p x K``) and ``c_i`` the class of row ``i``::

        sum_i s_i (-log softmax(x_i W + b)[c_i]) + lam * (rho * L1(W) + (1 - rho) ||W||_F**2)

    ``L1(W) = sum_jk |W_jk|``, or with ``grouped=True`` ``sum_j ||W_j.||_2`` (glmnet's
    ``type.multinomial = "grouped"``: a feature is kept or dropped for all classes at once);
    ``intercept_`` is centered (sums to 0) and ``predict_proba`` is the softmax of
    ``decision_function`` (:mod:`regulab.solvers.exact.multinomial` states how the softmax's
    non-identifiability is resolved). glmnet's ``lambda, alpha`` (``standardize = FALSE``) is
    ``lam * rho = lambda * alpha`` and ``lam * (1 - rho) = lambda * (1 - alpha) / 2``. Two
    classes are always the binary fit above: the multinomial with K = 2 is the same model with
    ``w = W_1 - W_0`` and ``l2`` halved (grouped: ``l1`` divided by ``sqrt(2)`` as well).

    With ``multi_class='ovr'`` it is fitted **one-vs-rest**: one binary problem per class (that
    class against all others), each with the same penalty; ``coef_`` has one row per class,
    ``decision_function`` returns the per-class scores, ``predict`` their argmax, and
    ``predict_proba`` the per-class sigmoids normalized to sum to 1 (as scikit-learn's
    one-vs-rest logistic regression did).

    Conversions from scikit-learn's ``LogisticRegression(C)`` (unweighted, ``n`` samples):
    L2: ``lam = 1/(2*C*n)`` (so ``C = 1/(2*lam*n)``); L1: ``lam = 1/(C*n)``; elastic net with
    ``l1_ratio=r``: ``lam = (1+r)/(2*C*n)``, ``rho = 2*r/(1+r)``. Both are binary fits; with
    more classes scikit-learn's default is multinomial, not one-vs-rest.

    ``dual_gap_`` holds the solver's stopping criterion per binary problem, or of the one
    multinomial problem (a KKT violation or a relative duality gap); a problem stopped by ``max_iter`` first emits a
    :class:`~sklearn.exceptions.ConvergenceWarning` stating the value reached and the tol.
"""

_CLF_ATTRIBUTES = """
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    multi_class_ : {'binary', 'multinomial', 'ovr'}
        How the classes were fitted.
    n_iter_ : ndarray of int, shape (1,) (binary, multinomial) or (n_classes,) (one-vs-rest)
        Iterations of each problem.
    dual_gap_ : ndarray of shape (1,) or (n_classes,)
        The stopping criterion's value of each problem.
    converged_ : ndarray of bool, shape (1,) or (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has feature names (a pandas DataFrame).
"""


class RegulabClassifier(_ClassifierMixinBase):
    __doc__ = """Logistic regression with an L1, L2 or elastic-net penalty on regulab's scale.

    Minimizes the mean log-loss plus ``lam * Complexity(w)``; more than two classes are fitted
    as one multinomial model (or one-vs-rest).

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
""" + BOX_PARAMS + """    multi_class : {'multinomial', 'ovr'}, default='multinomial'
        How more than two classes are fitted (Notes); the multinomial fit takes no penalty
        factors, bounds, ``positive`` or ``adaptive`` (use ``'ovr'`` for those).
    grouped : bool, default=False
        Multinomial only: one L2-norm group per feature across the classes.

    Attributes
    ----------""" + _CLF_ATTRIBUTES + """
    See Also
    --------
    RegulabClassifierCV : chooses ``lam`` by cross-validation.
    """ + _OBJECTIVE_NOTES_CLF

    def __init__(self, penalty="l1", lam=1.0, l1_ratio=None, fit_intercept=True, tol=1e-6,
                 max_iter=10_000, penalty_factor=None, lower_bounds=None, upper_bounds=None,
                 positive=False, adaptive=False, multi_class="multinomial", grouped=False):
        self.multi_class = multi_class
        self.grouped = grouped
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
        """Fit the model (one binary problem; more classes: one multinomial problem, or one
        binary problem per class).

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
        self._check_multi_class()
        X, y, sw = self._validate_fit_data(X, y, sample_weight, y_numeric=False)
        X, y, sw = _drop_zero_weight(X, y, sw)
        codes = self._encode(y)
        l1, l2 = self._l1_l2(float(self.lam), rho)
        if self.multi_class_ == "multinomial":
            self._refuse_box_multinomial()
            return self._store_multinomial(self._solve_multinomial(X, codes, l1, l2, sw))
        return self._store([self._solve(X, t, l1, l2, sw, self._box(X, t, sw))
                            for t in self._binary_targets(codes)])


class RegulabClassifierCV(_ClassifierMixinBase):
    __doc__ = """:class:`RegulabClassifier` with ``lam`` chosen by (repeated) stratified K-fold CV.

    As :class:`RegulabRegressorCV`, on the held-out mean log-loss. With more than two classes
    and ``multi_class='multinomial'`` one lam is chosen for the multinomial model (grid from
    its ``lam_max``, folds stratified by class, held-out mean multinomial log-loss;
    :mod:`regulab.selection.multinomial`); with ``'ovr'`` every one-vs-rest problem chooses
    **its own** lam (its own grid, folds stratified on its binary target), and is refitted at it.

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
""" + BOX_PARAMS + """    multi_class : {'multinomial', 'ovr'}, default='multinomial'
    grouped : bool, default=False
    relax : bool, default=False
        Two classes: the relaxed lasso (glmnet's ``relax=TRUE``,
        :mod:`regulab.selection.relaxed`): for each lam the blend ``gamma * lasso + (1 - gamma)
        * refit``, the refit the unpenalized logistic regression on the lasso's support (the
        ridge fit at the grid's smallest lam where the classes are separable there),
        ``(gamma, lam)`` chosen by CV on the held-out mean log-loss, same folds. Needs
        ``penalty='l1'``, ``n_repeats=1``, two classes and no factors or bounds.
    gammas : sequence of float in [0, 1], default=(0, 0.25, 0.5, 0.75, 1)
        The blends tried when ``relax=True``.

    Attributes
    ----------
    lam_ : float (two classes, multinomial), else ndarray of shape (n_classes,)
        The chosen lam (of each one-vs-rest problem).
    gamma_ : float
        The chosen blend (``relax=True`` only; 1 is the lasso, 0 the refit).
    path_ : regulab.selection.cv.CVResult (two classes, multinomial), else list of CVResult
        (one per one-vs-rest problem); ``relax=True``: regulab.selection.relaxed.RelaxedCV
        (``coef_``, ``intercept_`` are then the blend; the solver's attributes the lasso's)
    """ + _CLF_ATTRIBUTES.lstrip("\n") + _OBJECTIVE_NOTES_CLF

    _cv = True

    def __init__(self, penalty="l1", l1_ratio=None, lams=None, n_lams=100, eps=None, cv=5,
                 n_repeats=1, rule="min", seed=0, fit_intercept=True, tol=1e-6, max_iter=10_000,
                 n_jobs=None, penalty_factor=None, lower_bounds=None, upper_bounds=None,
                 positive=False, adaptive=False, multi_class="multinomial", grouped=False,
                 relax=False, gammas=(0.0, 0.25, 0.5, 0.75, 1.0)):
        self.multi_class = multi_class
        self.grouped = grouped
        self.relax = relax
        self.gammas = gammas
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
        self._check_multi_class()
        X, y, sw = self._validate_fit_data(X, y, sample_weight, y_numeric=False)
        X, y, sw = _drop_zero_weight(X, y, sw)
        codes = self._encode(y)
        if check_bool(self.relax, self._name("relax")):
            return self._fit_relaxed(X, codes, rho, sw)
        if self.multi_class_ == "multinomial":
            self._refuse_box_multinomial()
            return self._fit_multinomial_cv(X, codes, rho, sw)
        targets = self._binary_targets(codes)
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

    def _fit_relaxed(self, X, codes, rho, sw):
        """``relax=True``: (gamma, lam) by CV (:func:`regulab.selection.relaxed.cv_relaxed`,
        logistic), the lasso at ``lam_`` (its certificate), then the blend."""
        from regulab.core.validation import InvalidValue
        from regulab.selection.relaxed import cv_relaxed

        name = self._name("relax")
        if rho != 1.0 or int(self.n_repeats) != 1 or self.multi_class_ != "binary":
            raise InvalidValue(name, f"{name}=True needs penalty='l1', n_repeats=1 and two "
                               f"classes (got {self.classes_.size})")
        t = self._binary_targets(codes)[0]
        box = self._box(X, t, sw)
        if box:
            raise InvalidValue(name, f"{name}=True does not combine with penalty factors, "
                               "bounds, positive or adaptive")
        res = cv_relaxed(X, t, loss="logistic", gammas=self.gammas, lams=self.lams,
                         n_lams=int(self.n_lams), eps=self.eps, cv=self._cv_arg(),
                         seed=int(self.seed), rule=self.rule,
                         fit_intercept=bool(self.fit_intercept), sample_weight=sw,
                         tol=float(self.tol), max_iter=int(self.max_iter))
        self.path_, self.lam_, self.gamma_ = res, res.lam, res.gamma
        self._store([self._solve(X, t, *self._l1_l2(self.lam_, rho), sw, box)])
        self.coef_ = np.asarray(res.coef, dtype=np.float64)[None, :]
        self.intercept_ = np.array([float(res.intercept)])
        return self

    def _fit_multinomial_cv(self, X, codes, rho, sw):
        path = cross_validate_multinomial(
            X, codes, grouped=bool(self.grouped), l1_ratio=rho, lams=self.lams,
            n_lams=int(self.n_lams), eps=self.eps, cv=self._cv_arg(),
            n_repeats=int(self.n_repeats), seed=int(self.seed),
            fit_intercept=bool(self.fit_intercept), sample_weight=sw,
            n_classes=self.classes_.size, tol=float(self.tol), max_iter=int(self.max_iter),
            n_jobs=self.n_jobs)
        self.path_ = path
        self.lam_ = float(path.lams[path.chosen(self.rule)])
        l1, l2 = self._l1_l2(self.lam_, rho)
        return self._store_multinomial(self._solve_multinomial(X, codes, l1, l2, sw))
