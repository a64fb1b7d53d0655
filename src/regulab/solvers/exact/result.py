"""What the exact solvers return: a certified solution."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ExactResult:
    """A certified solution.

    ``gap`` is the stopping criterion's value at the solution: relative duality gap
    (``criterion='duality_gap'``, squared loss) or relative largest KKT violation
    (``criterion='kkt'``, logistic loss and unpenalized least squares); ``converged`` is
    ``gap <= tol`` (always True for the direct methods). ``n_iter`` counts coordinate-descent
    epochs (passes over the working set) plus active-set Newton steps for ``solver='cd'`` and
    ``'active_set'``, Newton steps for ``'prox_newton'``, LSQR iterations for ``'lsqr'`` and 0
    for the direct ``'svd'`` and ``'constant'`` (constant y or null model optimal).
    """

    w: np.ndarray
    intercept: float
    gap: float
    n_iter: int
    converged: bool
    tol: float
    criterion: str
    objective: float
    solver: str = "cd"


def zero_result(p: int, b, criterion: str, tol: float, objective, solver: str) -> ExactResult:
    """``w = 0`` with intercept ``b``: optimal with no iteration (gap 0)."""
    return ExactResult(w=np.zeros(p), intercept=float(b), gap=0.0, n_iter=0, converged=True,
                       tol=tol, criterion=criterion, objective=float(objective), solver=solver)
