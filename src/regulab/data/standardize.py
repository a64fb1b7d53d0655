"""Standardization of the design and the maps of coefficients between the two scales.

Every column of ``X``, indicators included, is centred on its mean and divided by its population
standard deviation (``ddof=0``, as glmnet), so penalties treat features alike::

    x_std[:, j] = (x[:, j] - mean_j) / scale_j

A linear predictor ``b + x_std . c`` is the same number as ``intercept + x . coef`` with::

    coef_j    = c_j / scale_j
    intercept = b - sum_j coef_j * mean_j
"""

from __future__ import annotations

import numpy as np


def column_scales(raw: np.ndarray, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(means, scales)`` of the columns of ``raw`` (population sd); zeros and ones when
    ``standardize`` is False."""
    p = raw.shape[1]
    if not standardize:
        return np.zeros(p), np.ones(p)
    means = raw.mean(axis=0)
    scales = raw.std(axis=0)
    scales[~(scales > 0)] = 1.0  # a constant column is dropped before; kept as a guard
    return means, scales


def standardize_in_place(raw: np.ndarray, means, scales, standardize: bool) -> np.ndarray:
    """``(raw - means) / scales`` written over ``raw`` (returned); ``raw`` as it is when
    ``standardize`` is False."""
    if standardize:
        raw -= means
        raw /= scales
    return raw


def _broadcast(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((-1,) + (1,) * (ndim - 1))


def to_original_units(coef_std, intercept_std, means, scales):
    """Coefficients of the standardized X -> ``(coef, intercept)`` on the raw columns:
    ``coef = c / scale`` and ``intercept = b - sum(coef * mean)``. ``coef_std`` may be ``[p]`` or
    ``[p, k]`` (a path), ``intercept_std`` a scalar or ``[k]``."""
    c = np.asarray(coef_std, dtype=float)
    if c.shape[:1] != (means.shape[0],):
        raise ValueError(f"expected {means.shape[0]} coefficients, got shape {c.shape}")
    coef = c / _broadcast(scales, c.ndim)
    intercept = np.asarray(intercept_std, dtype=float) - np.sum(coef * _broadcast(means, c.ndim),
                                                                axis=0)
    return coef, (float(intercept) if np.ndim(intercept) == 0 else intercept)


def to_standardized_units(coef, intercept, means, scales):
    """The inverse of :func:`to_original_units`: ``c = coef * scale``,
    ``b = intercept + sum(coef * mean)``."""
    c = np.asarray(coef, dtype=float)
    if c.shape[:1] != (means.shape[0],):
        raise ValueError(f"expected {means.shape[0]} coefficients, got shape {c.shape}")
    intercept = np.asarray(intercept, dtype=float) + np.sum(c * _broadcast(means, c.ndim), axis=0)
    return c * _broadcast(scales, c.ndim), (float(intercept) if np.ndim(intercept) == 0
                                            else intercept)
