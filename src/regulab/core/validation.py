"""Small input checks shared by the library, each raising a ValueError that names the value."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np


def check_nonneg(value, name: str) -> float:
    """Return ``value`` as a float, or raise ValueError if it is not a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def check_positive(value, name: str) -> float:
    """Return ``value`` as a float, or raise ValueError if it is not a finite number > 0."""
    value = check_nonneg(value, name)
    if value == 0:
        raise ValueError(f"{name} must be > 0, got 0")
    return value


def check_fraction(value, name: str) -> float:
    """Return ``value`` as a float in [0, 1], or raise ValueError."""
    value = check_nonneg(value, name)
    if value > 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return value
