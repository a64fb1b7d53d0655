"""regulab: shows, measures and applies L1 and L2 regularization.

regulab minimizes, everywhere, the objective of the seed documents::

    Cost(w, b) = EmpLoss(w, b) + lam * Complexity(w)

with EmpLoss the (sample-weighted) *mean* squared error or mean log-loss, the intercept ``b``
never penalized, and Complexity one of ``sum|w_j|`` (L1), ``sum w_j**2`` (L2) or
``rho*sum|w_j| + (1-rho)*sum w_j**2`` (elastic net).  :mod:`regulab.core.conventions` converts
other tools' ``alpha``/``lambda`` to this scale.
"""

from regulab import _aliases

_aliases.install()  # old flat import paths (regulab.cv, regulab.penalties, ...) keep working

#: the top-level names, loaded on first use so that ``regulab --help`` imports no numpy
_LAZY = {"L1": "regulab.core.penalties", "L2": "regulab.core.penalties",
         "ElasticNet": "regulab.core.penalties", "soft_threshold": "regulab.core.penalties",
         "SquaredLoss": "regulab.core.losses", "LogisticLoss": "regulab.core.losses"}


def _version() -> str:
    # importlib.metadata (email, zipfile, csv, ...) costs tens of ms: read only when asked
    from importlib.metadata import PackageNotFoundError, version

    try:  # pragma: no cover - depends on install mode
        return version("regulab")
    except PackageNotFoundError:  # pragma: no cover
        return "0.0.0+unknown"


def __getattr__(name):
    if name == "__version__":  # ``from regulab import __version__`` works as before
        globals()[name] = value = _version()
        return value
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'regulab' has no attribute {name!r}")


__all__ = [
    "__version__",
    "L1",
    "L2",
    "ElasticNet",
    "SquaredLoss",
    "LogisticLoss",
    "soft_threshold",
]

# The layers, lowest first (a layer imports only from those below it; ``lint-imports`` checks it):
# core -> solvers -> selection | data -> estimators | nn -> report -> cli | commands | app.
