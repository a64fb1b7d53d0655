"""The problem every instrumented solver works on, and the result it returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from regulab.core.certificates import duality_gap_squared
from regulab.core.losses import SquaredLoss, normalized_weights
from regulab.core.penalties import Penalty
from regulab.core.trace import Trace
from regulab.solvers.checks import check_finite_columns, check_start, check_y


@dataclass
class Problem:
    """``min_{w, b}  loss(X w + b; y) + penalty(w)``, the intercept ``b`` unpenalized."""

    X: object
    y: np.ndarray
    loss: object
    penalty: Penalty | None
    fit_intercept: bool = False
    sample_weight: np.ndarray | None = None

    def __post_init__(self):
        if not sparse.issparse(self.X):
            self.X = np.asarray(self.X, dtype=float)
            if self.X.ndim == 1:
                self.X = self.X[:, None]
            check_finite_columns(self.X)
        self.y = check_y(self.y, self.X.shape[0])
        # validate once
        normalized_weights(self.y.shape[0], self.sample_weight)

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    def penalty_value(self, w) -> float:
        return 0.0 if self.penalty is None else self.penalty.value(w)

    def objective(self, w, b) -> float:
        return self.loss.value(self.X, self.y, w, b, self.sample_weight) + self.penalty_value(w)

    def loss_gradient(self, w, b):
        gw, gb = self.loss.gradient(self.X, self.y, w, b, self.sample_weight)
        return gw, (gb if self.fit_intercept else 0.0)

    def lipschitz(self) -> float:
        return self.loss.lipschitz(self.X, self.sample_weight, self.fit_intercept)

    def gap(self, w, b) -> float:
        """Duality gap where it is certifiable (squared loss with a penalty), else NaN."""
        if not isinstance(self.loss, SquaredLoss) or self.penalty is None:
            return float("nan")
        l1, l2 = self.penalty.l1_l2_parts()
        return duality_gap_squared(self.X, self.y, w, b, l1, l2, self.sample_weight,
                                   self.fit_intercept)

    def start(self, w0=None, b0=None):
        """The start point: ``(w0, b0)`` checked, ``w = 0`` and the null model's intercept (0
        without one) where not given."""
        w, b = check_start(w0, b0, self.n_features)
        if b is None:
            b = self.loss.null_intercept(self.y, self.sample_weight) if self.fit_intercept else 0.0
        return w, b


@dataclass
class SolverResult:
    """A solver's answer: coefficients, intercept, and the trace of how it got there."""

    w: np.ndarray
    intercept: float
    trace: Trace
    n_iter: int
    converged: bool
    solver: str

    @property
    def objective(self) -> float:
        return self.trace.objective[-1]
