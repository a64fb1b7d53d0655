"""Solvers for regulab's objective.

Instrumented first-order methods (each returns a :class:`SolverResult` whose ``trace`` records
every iteration): :func:`gradient_descent`, :func:`subgradient_descent`, :func:`ista`,
:func:`fista`. The certified exact solvers, the engine of every fit, path and CV, are
:func:`regulab.solvers.exact.solve`; every solver checks its arrays with :mod:`.checks`.

The names above are loaded on first use: importing the package (as every kernel module's
parent) then costs no scipy, so a command's first run can start its compile-ahead helper
(:mod:`.ahead`) before its other imports.
"""

from regulab.solvers.jit import configure_cache

# before any kernel module imports numba: its cache goes to a folder named by a fingerprint of
# the kernel sources (an edited kernel file never leaves stale callers), in the user cache folder
configure_cache()

#: the package's names, each from its module, imported on first use
_LAZY = {"fista": "first_order", "gradient_descent": "first_order", "ista": "first_order",
         "subgradient_descent": "first_order", "Problem": "problem",
         "SolverResult": "problem"}

__all__ = ["fista", "gradient_descent", "ista", "subgradient_descent", "Problem", "SolverResult",
           "SOLVERS"]


def __getattr__(name):
    import importlib

    if name == "SOLVERS":
        from regulab.solvers import first_order as F

        value = {"gradient_descent": F.gradient_descent,
                 "subgradient_descent": F.subgradient_descent, "ista": F.ista, "fista": F.fista}
    elif name in _LAZY:
        value = getattr(importlib.import_module(f"regulab.solvers.{_LAZY[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
