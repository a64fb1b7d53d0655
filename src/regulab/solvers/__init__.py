"""Solvers for regulab's objective.

Instrumented first-order methods (each returns a :class:`SolverResult` whose ``trace`` records
every iteration): :func:`gradient_descent`, :func:`subgradient_descent`, :func:`ista`,
:func:`fista`. The certified exact solvers, the engine of every fit, path and CV, are
:func:`regulab.solvers.exact.solve`; every solver checks its arrays with :mod:`.checks`.
"""

from regulab.solvers.jit import configure_cache

# before any kernel module imports numba: its cache goes to a folder named by a fingerprint of
# the kernel sources (an edited kernel file never leaves stale callers), in the user cache folder
configure_cache()

from regulab.solvers.first_order import (  # noqa: E402
    fista,
    gradient_descent,
    ista,
    subgradient_descent,
)
from regulab.solvers.problem import Problem, SolverResult  # noqa: E402

SOLVERS = {
    "gradient_descent": gradient_descent,
    "subgradient_descent": subgradient_descent,
    "ista": ista,
    "fista": fista,
}

__all__ = ["fista", "gradient_descent", "ista", "subgradient_descent", "Problem", "SolverResult",
           "SOLVERS"]
