"""scikit-learn compatible estimators on regulab's objective (README: "The objective, and other tools' lambdas").

Every estimator here minimizes, over the coefficients ``w`` and the unpenalized intercept ``b``::

    Cost(w, b) = EmpLoss(w, b) + lam * Complexity(w)

    Complexity(w) = rho * sum_j |w_j| + (1 - rho) * sum_j w_j**2

with ``rho`` the L1 share of the penalty kind (:data:`regulab.core.penalties.KINDS`): 1 for
``penalty='l1'``, 0 for ``'l2'``, ``l1_ratio`` for ``'elasticnet'`` (``penalty=None``: no penalty
at all). EmpLoss is the sample-weighted *mean* squared error (:class:`RegulabRegressor`) or *mean*
log-loss (:class:`RegulabClassifier`), the weights normalized to sum to 1, so an integer weight
``k`` equals repeating the row ``k`` times and a zero weight equals removing the row.

The fitting is :func:`regulab.solvers.exact.solve` (certified: it stops on a relative duality gap
or a KKT violation, reported as ``dual_gap_``); the CV variants choose ``lam`` with
:func:`regulab.selection.cv.cross_validate_path` and refit on all the data.

* :mod:`~regulab.estimators.base`: parameter checks, sample weights and the shared machinery;
* :mod:`~regulab.estimators.regression`: :class:`RegulabRegressor`, :class:`RegulabRegressorCV`;
* :mod:`~regulab.estimators.classification`: :class:`RegulabClassifier`,
  :class:`RegulabClassifierCV`;
* :mod:`~regulab.estimators.poisson`: :class:`RegulabPoissonRegressor`,
  :class:`RegulabPoissonRegressorCV` (mean Poisson negative log-likelihood, log link, offset).
"""

from regulab.estimators.classification import RegulabClassifier, RegulabClassifierCV
from regulab.estimators.poisson import RegulabPoissonRegressor, RegulabPoissonRegressorCV
from regulab.estimators.regression import RegulabRegressor, RegulabRegressorCV

__all__ = [
    "RegulabRegressor",
    "RegulabClassifier",
    "RegulabRegressorCV",
    "RegulabClassifierCV",
    "RegulabPoissonRegressor",
    "RegulabPoissonRegressorCV",
]
