"""Array and start-point checks shared by every solver (exact, first-order, ridge), each raising a
ValueError that names the value. Scalars (``l1``, ``l2``, ``tol``, ``step``) are checked with
:mod:`regulab.core.validation`."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np


def check_y(y, n: int) -> np.ndarray:
    """``y`` as a 1-D float64 array of ``n`` finite values (a column ``(n, 1)`` is accepted)."""
    y = np.asarray(y)
    if y.ndim > 1 and not (y.ndim == 2 and y.shape[1] == 1):
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    try:
        y = y.astype(np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y must be numeric: {exc}") from None
    if y.shape[0] != n:
        raise ValueError(f"X has {n} rows but y has {y.shape[0]} values")
    if not np.all(np.isfinite(y)):
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"y has a NaN or infinite value (at index {i})")
    return y


def check_finite_columns(X: np.ndarray) -> None:
    """Raise if the dense 2-D ``X`` has a NaN or infinite value, naming its first column."""
    if not np.all(np.isfinite(X)):
        col = int(np.argwhere(~np.isfinite(X))[0, 1])
        raise ValueError(f"X has a NaN or infinite value in column {col}")


def check_start(w0, b0, p: int) -> tuple[np.ndarray, float | None]:
    """A start point: ``w0`` as a fresh float64 array of ``p`` finite values (zeros if None) and
    ``b0`` as a finite float (None stays None: the caller picks the intercept)."""
    if w0 is None:
        w = np.zeros(p)
    else:
        w = np.array(w0, dtype=np.float64).ravel()
        if w.shape[0] != p:
            raise ValueError(f"w0 has {w.shape[0]} entries for {p} features")
        if not np.all(np.isfinite(w)):
            raise ValueError("w0 has a NaN or infinite value")
    b = None
    if b0 is not None:
        b = float(b0)
        if not math.isfinite(b):
            raise ValueError(f"b0 must be finite, got {b0!r}")
    return w, b


def check_max_iter(max_iter) -> int:
    """``max_iter`` as an int >= 1 (a bool is refused)."""
    if isinstance(max_iter, bool) or not isinstance(max_iter, Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    return int(max_iter)
