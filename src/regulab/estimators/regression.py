"""Linear regression on regulab's objective: :class:`RegulabRegressor` at a given ``lam``,
:class:`RegulabRegressorCV` with ``lam`` chosen by cross-validation."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from regulab.estimators.base import BOX_PARAMS, _drop_zero_weight, _RegulabBase


class _RegressorMixinBase(RegressorMixin, _RegulabBase):
    _loss = "squared"

    def _fit_at(self, X, y, l1, l2, sw, box):
        res = self._solve(X, y, l1, l2, sw, box)
        self.penalty_factor_ = box.get("penalty_factor")
        return self._store_solution(res)

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
    l1_ratio : float in [0, 1] or None, default=None
        The L1 share ``rho`` of the elastic net (None: 0.5). With ``'l1'`` or ``'l2'`` it must be
        None or equal that kind's share (1 or 0); with ``penalty=None``, None.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept.
    tol : float >= 0, default=1e-6
        Stop when the relative duality gap is at most ``tol``.
    max_iter : int >= 1, default=10000
        Largest number of solver iterations.
""" + BOX_PARAMS + """
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
    penalty_factor_ : ndarray of shape (n_features,) or None
        The factors used (the adaptive ones included); None without factors.
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
        rho = self._check_params()
        X, y, sw = self._validate_fit_data(X, y, sample_weight, y_numeric=True)
        X, y, sw = _drop_zero_weight(X, y, sw)
        l1, l2 = self._l1_l2(float(self.lam), rho)
        y = np.asarray(y, dtype=np.float64)
        return self._fit_at(X, y, l1, l2, sw, self._box(X, y, sw))


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
        A pure L2 grid is anchored on the spectrum of X (see :mod:`regulab.selection.path`).
    l1_ratio : float in [0, 1] or None, default=None
        The L1 share of the elastic net (None: 0.5), as in :class:`RegulabRegressor`.
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
""" + BOX_PARAMS + """
    relax : bool, default=False
        The relaxed lasso (glmnet's ``relax=TRUE``, :mod:`regulab.selection.relaxed`): for each
        lam the blend ``gamma * lasso + (1 - gamma) * least squares on the lasso's support``,
        ``(gamma, lam)`` chosen by CV on the same folds, ``gamma`` in ``gammas``. Needs
        ``penalty='l1'`` and ``n_repeats=1``.
    gammas : sequence of float in [0, 1], default=(0, 0.25, 0.5, 0.75, 1)
        The blends tried when ``relax=True``.

    Attributes
    ----------
    lam_ : float
        The chosen lam (one of ``path_.lams``).
    gamma_ : float
        The chosen blend (``relax=True`` only; 1 is the lasso, 0 the refit).
    path_ : regulab.selection.cv.CVResult or regulab.selection.relaxed.RelaxedCV
        The whole cross-validation: lams, mean and standard error per lam, fold errors and
        coefficients, ``lam_min`` and ``lam_1se`` (``relax=True``: the errors per
        ``(gamma, lam)``).
    coef_, intercept_, n_iter_, dual_gap_, converged_, n_features_in_, feature_names_in_
        Those of the refit at ``lam_``, as in :class:`RegulabRegressor` (``relax=True``:
        ``coef_``, ``intercept_`` are the blend; the solver's attributes are the lasso's).
    """ + _OBJECTIVE_NOTES_REG

    _cv = True

    def __init__(self, penalty="l1", l1_ratio=None, lams=None, n_lams=100, eps=None, cv=5,
                 n_repeats=1, rule="min", seed=0, fit_intercept=True, tol=1e-6, max_iter=10_000,
                 n_jobs=None, penalty_factor=None, lower_bounds=None, upper_bounds=None,
                 positive=False, adaptive=False, relax=False,
                 gammas=(0.0, 0.25, 0.5, 0.75, 1.0)):
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
        self.relax = relax
        self.gammas = gammas

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
        box = self._box(X, y, sw)
        if self.relax:
            return self._fit_relaxed(X, y, rho, sw, box)
        self.path_ = self._cross_validate(X, y, rho, sw, box)
        self.lam_ = float(self.path_.lams[self.path_.chosen(self.rule)])
        return self._fit_at(X, y, *self._l1_l2(self.lam_, rho), sw, box)

    def _fit_relaxed(self, X, y, rho, sw, box):
        """``relax=True``: (gamma, lam) by CV, the lasso at lam_ (its certificate), the blend."""
        from regulab.core.validation import InvalidValue
        from regulab.selection.relaxed import cv_relaxed

        if rho != 1.0 or int(self.n_repeats) != 1:
            raise InvalidValue(self._name("relax"), f"{self._name('relax')}=True needs "
                               f"penalty='l1' and n_repeats=1")
        if box:
            raise InvalidValue(self._name("relax"), f"{self._name('relax')}=True does not "
                               "combine with penalty factors, bounds, positive or adaptive")
        res = cv_relaxed(X, y, loss="squared", gammas=self.gammas, lams=self.lams,
                         n_lams=int(self.n_lams), eps=self.eps, cv=self._cv_arg(),
                         seed=int(self.seed), rule=self.rule,
                         fit_intercept=bool(self.fit_intercept), sample_weight=sw,
                         tol=float(self.tol), max_iter=int(self.max_iter))
        self.path_, self.lam_, self.gamma_ = res, res.lam, res.gamma
        self._fit_at(X, y, *self._l1_l2(self.lam_, rho), sw, box)
        self.coef_, self.intercept_ = np.asarray(res.coef, dtype=np.float64), res.intercept
        return self
