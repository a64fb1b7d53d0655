"""Input checks, one module for the whole package.

Every check takes the value and the parameter's name **as the caller knows it**: the argument
name in the library (``l1_ratio``), the flag on the command line (``--l1-ratio``), the estimator
and its parameter in the scikit-learn faces (``RegulabRegressor: l1_ratio``). It returns the value
in its canonical type or raises :class:`InvalidValue` (a ValueError) whose message starts with that
name and ends with the offending value::

    l1_ratio must be a finite real number, got 'half'
    l1_ratio must lie in [0, 1], got 1.5
    --cv must be an integer >= 2, got 1
    rule must be one of 'min', '1se', got 'max'

A real number is an ``int``, ``float`` or NumPy scalar (``numbers.Real``), never a ``bool`` and
never a string: strings are parsed at the edge (:func:`parse_number`), where the caller knows they
came from text.
"""

from __future__ import annotations

import math
import reprlib
import sys
from numbers import Integral, Real

import numpy as np

__all__ = [
    "InvalidValue",
    "check_bool",
    "check_bounds",
    "check_choice",
    "check_fraction",
    "check_int",
    "check_nonneg",
    "check_penalty_factor",
    "check_positive",
    "check_real",
    "interval",
    "issparse",
    "parse_number",
    "shown",
]


class InvalidValue(ValueError):
    """A parameter's value is not allowed; ``name`` is the parameter as the caller knows it."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def issparse(x) -> bool:
    """Whether ``x`` is a scipy sparse matrix or array: ``scipy.sparse.issparse`` without
    importing scipy.sparse.

    A sparse matrix can only exist once its class's module has been imported, so while
    ``scipy.sparse`` is not in ``sys.modules`` nothing is sparse; a dense ``regulab fit`` thereby
    never pays scipy.sparse's import (about 60 ms of a 1.5 s process).
    """
    module = sys.modules.get("scipy.sparse")
    return module is not None and module.issparse(x)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 40


def shown(value) -> str:
    """``repr`` of a value for a one-line message: NumPy scalars as Python ones, long text cut."""
    if isinstance(value, np.generic):
        value = value.item()
    return _REPR.repr(value)


def _is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def interval(low=None, high=None, low_open: bool = False, high_open: bool = False) -> str:
    """``[0, inf)``, ``(0, 1)``, ``(-inf, 2]``: the set a bounded number must lie in."""
    lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
    hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
    return f"{lo}, {hi}"


def check_real(value, name: str, *, low=None, high=None, low_open: bool = False,
               high_open: bool = False) -> float:
    """``value`` as a float: a finite real number within the bounds (closed unless ``*_open``)."""
    if not _is_real(value) or not math.isfinite(value):
        raise InvalidValue(name, f"{name} must be a finite real number, got {shown(value)}")
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        raise InvalidValue(name, f"{name} must lie in "
                                 f"{interval(low, high, low_open, high_open)}, got {shown(value)}")
    return float(value)


def check_nonneg(value, name: str) -> float:
    """``value`` as a float, a finite number ``>= 0``."""
    return check_real(value, name, low=0.0)


def check_positive(value, name: str) -> float:
    """``value`` as a float, a finite number ``> 0``."""
    return check_real(value, name, low=0.0, low_open=True)


def check_fraction(value, name: str) -> float:
    """``value`` as a float in ``[0, 1]``."""
    return check_real(value, name, low=0.0, high=1.0)


def check_int(value, name: str, low=None, high=None) -> int:
    """``value`` as an int: an integer (Python or NumPy; not a bool, not a float) in
    ``[low, high]``."""
    ok = isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))
    if ok and (low is None or value >= low) and (high is None or value <= high):
        return int(value)
    if low is not None and high is None:
        rule = f">= {low}"
    elif low is None and high is not None:
        rule = f"<= {high}"
    else:
        rule = "" if low is None else f"in [{low}, {high}]"
    raise InvalidValue(name, f"{name} must be an integer{' ' + rule if rule else ''}, "
                             f"got {shown(value)}")


def check_choice(value, choices, name: str):
    """The choice ``value`` equals, of the choice's type (``True`` is not ``1``; a NumPy string
    is a string and comes back as the choice itself)."""
    choices = tuple(choices)
    for c in choices:
        same_kind = isinstance(value, type(c)) and isinstance(value, bool) == isinstance(c, bool)
        if value is c or (same_kind and value == c):
            return c
    raise InvalidValue(name, f"{name} must be one of {', '.join(map(repr, choices))}, "
                             f"got {shown(value)}")


def check_bool(value, name: str) -> bool:
    """``value`` as a bool; only ``True``/``False`` (Python or NumPy) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidValue(name, f"{name} must be True or False, got {shown(value)}")
    return bool(value)


def parse_number(value):
    """A numeric string (typed on a command line or in a form) as a float; anything else is
    returned unchanged, for the checks above to judge."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _feature(names, j) -> str:
    return repr(str(names[j])) if names is not None else f"feature {j}"


def check_penalty_factor(value, p: int, name: str = "penalty_factor", names=None):
    """Per-feature penalty factors as a float array of length ``p`` (None stays None).

    Each factor is a real number ``>= 0``: 0 leaves the feature unpenalized, ``inf`` excludes it
    (its coefficient is held at 0, glmnet's ``exclude``). ``names`` label the features in the
    message."""
    if value is None:
        return None
    try:
        v = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidValue(name, f"{name} must be numbers >= 0, got {shown(value)}") from None
    v = np.broadcast_to(v, (p,)).copy() if v.ndim == 0 else v.ravel()
    if v.size != p:
        raise InvalidValue(name, f"{name} must have one factor per feature ({p}), got {v.size}")
    bad = np.flatnonzero(np.isnan(v) | (v < 0))
    if bad.size:
        j = int(bad[0])
        raise InvalidValue(name, f"{name} must be >= 0 for every feature, got {shown(v[j])} for "
                                 f"{_feature(names, j)}")
    return v


def _bound_array(value, p, name, fill):
    if value is None:
        return np.full(p, fill)
    try:
        v = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidValue(name, f"{name} must be numbers, got {shown(value)}") from None
    v = np.broadcast_to(v, (p,)).copy() if v.ndim == 0 else v.ravel()
    if v.size != p:
        raise InvalidValue(name, f"{name} must have one bound per feature ({p}), got {v.size}")
    if np.any(np.isnan(v)):
        raise InvalidValue(name, f"{name} must not be NaN")
    return v


def check_bounds(lower, upper, p: int, factors=None, names=None, lower_name: str = "lower",
                 upper_name: str = "upper"):
    """``(lower, upper)`` as float arrays of length ``p`` (``-inf`` / ``inf`` where not given),
    or ``(None, None)`` when neither is given.

    ``lower <= upper`` everywhere, and on every penalized feature (factor > 0, or every feature
    when ``factors`` is None) ``lower <= 0 <= upper`` (glmnet's rule: the penalty pulls towards
    0, which must be allowed; an unpenalized feature may be bounded away from 0)."""
    if lower is None and upper is None:
        return None, None
    lo = _bound_array(lower, p, lower_name, -np.inf)
    hi = _bound_array(upper, p, upper_name, np.inf)
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        j = int(bad[0])
        raise InvalidValue(lower_name, f"{lower_name} must be <= {upper_name}, got "
                                       f"{shown(lo[j])} > {shown(hi[j])} for {_feature(names, j)}")
    penalized = np.ones(p, bool) if factors is None else np.asarray(factors) > 0
    bad = np.flatnonzero(penalized & ((lo > 0) | (hi < 0)))
    if bad.size:
        j = int(bad[0])
        which, val = (lower_name, lo[j]) if lo[j] > 0 else (upper_name, hi[j])
        raise InvalidValue(which, f"{which} = {shown(val)} excludes 0 for the penalized "
                                  f"{_feature(names, j)}: a penalized coefficient needs "
                                  f"lower <= 0 <= upper (give it penalty factor 0 to bound it "
                                  f"away from 0)")
    return lo, hi
