"""The seed's one-weight problem ``y = w * x``, with its closed-form minimizers.

For data ``(x_i, y_i)`` and no intercept, the mean squared error is a parabola in ``w``::

    MSE(w) = mean((y - w x)**2) = a (w - w_hat)**2 + c,
    a = mean(x**2),  w_hat = mean(x y) / a,  c = mean(y**2) - a w_hat**2.

Adding ``lam |w|`` or ``lam w**2`` and setting the (sub)derivative to zero gives::

    w_L1(lam) = sign(w_hat) * max(|w_hat| - lam / (2 a), 0)     exactly 0 once lam >= lam*
    w_L2(lam) = w_hat * a / (a + lam)                             never 0 while w_hat != 0
    lam*      = 2 a |w_hat|

L1 subtracts a constant ``lam / (2a)`` and stops at 0; L2 multiplies by a factor in (0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab.core.penalties import soft_threshold
from regulab.core.validation import check_nonneg, check_positive


@dataclass(frozen=True)
class OneWeightData:
    """Samples of ``y = w_true * x (+ noise)`` and the two numbers the parabola needs."""

    x: np.ndarray
    y: np.ndarray
    w_true: float

    @property
    def a(self) -> float:
        """``mean(x**2)``: the curvature of ``MSE(w) / 2``."""
        return float(np.mean(self.x**2))

    @property
    def w_hat(self) -> float:
        """Least-squares weight ``mean(x y) / mean(x**2)`` (``w_true`` when noise-free)."""
        return float(np.mean(self.x * self.y) / self.a)

    @property
    def X(self) -> np.ndarray:
        return self.x[:, None]


def make_one_weight_data(n: int = 100, w_true: float = 0.5, x_spread: float = 1.0,
                         noise: float = 0.0, seed: int = 0) -> OneWeightData:
    """Draw ``x ~ Uniform(-x_spread, x_spread)`` and ``y = w_true * x + noise * N(0, 1)``."""
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n!r}")
    x_spread = check_positive(x_spread, "x_spread")
    noise = check_nonneg(noise, "noise")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-x_spread, x_spread, size=int(n))
    y = float(w_true) * x + noise * rng.standard_normal(int(n))
    return OneWeightData(x=x, y=y, w_true=float(w_true))


def mse_curve(data: OneWeightData, w_grid) -> np.ndarray:
    """``MSE(w)`` at every ``w`` of the grid, computed from the samples (not the parabola)."""
    w_grid = np.asarray(w_grid, dtype=float)
    r = data.y[None, :] - w_grid[:, None] * data.x[None, :]
    return np.mean(r * r, axis=1)


def w_l1(a: float, w_hat: float, lam) -> np.ndarray | float:
    """Minimizer of ``a (w - w_hat)**2 + lam |w|``: ``sign(w_hat) max(|w_hat| - lam/(2a), 0)``,
    exactly 0 wherever ``lam >= lam_threshold(a, w_hat)`` (in floating point the two can
    disagree by one rounding, e.g. a subnormal ``w_hat`` whose ``lam*`` underflows to 0)."""
    lam = np.asarray(lam, dtype=float)
    out = np.sign(w_hat) * np.maximum(abs(w_hat) - lam / (2.0 * a), 0.0)
    out = np.where(lam >= lam_threshold(a, w_hat), 0.0, out)
    return float(out) if out.ndim == 0 else out


def w_l2(a: float, w_hat: float, lam) -> np.ndarray | float:
    """Minimizer of ``a (w - w_hat)**2 + lam w**2``: ``w_hat * a / (a + lam)``."""
    lam = np.asarray(lam, dtype=float)
    out = w_hat * a / (a + lam)
    return float(out) if out.ndim == 0 else out


def lam_threshold(a: float, w_hat: float) -> float:
    """``lam* = 2 a |w_hat|``: the smallest lam at which the L1 minimizer is exactly 0."""
    return 2.0 * a * abs(w_hat)


def symmetric_grid(lo: float, hi: float, spacing: float) -> np.ndarray:
    """Grid ``k * spacing`` for integers ``k`` covering ``[lo, hi]``: it holds 0.0 exactly."""
    k0 = int(np.floor(lo / spacing))
    k1 = int(np.ceil(hi / spacing))
    return np.arange(k0, k1 + 1) * spacing


#: the three descents of the gradient-view argument, one update each (``g = 2 a (w - w_hat)``)
DESCENTS = ("subgradient_l1", "ista_l1", "gradient_l2")


def descend_parabola(a, w_hat, lam, step, w0, n_iter: int, method: str) -> np.ndarray:
    """Iterates of one descent on ``a (w - w_hat)**2 + penalty``, for many problems at once.

    With ``g(w) = 2 a (w - w_hat)`` the derivative of the parabola (the MSE of the one-weight
    problem, up to a constant), the updates are those of :mod:`regulab.solvers.first_order`::

        subgradient_l1   w <- w - step * (g(w) + lam * sign(w))
        ista_l1          w <- soft_threshold(w - step * g(w), step * lam)
        gradient_l2      w <- w - step * (g(w) + 2 * lam * w)

    ``a``, ``w_hat``, ``lam``, ``step`` and ``w0`` broadcast to one shape (one entry per
    problem). Returns the ``(n_iter + 1, ...)`` array of iterates, row 0 the start. A descent
    that diverges is recorded as it goes (``inf`` / ``nan`` once it overflows), never raised:
    divergence is something to measure here.
    """
    if method not in DESCENTS:
        raise ValueError(f"method must be one of {', '.join(DESCENTS)}, got {method!r}")
    a, w_hat, lam, step, w = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                                   for v in (a, w_hat, lam, step, w0)))
    out = np.empty((int(n_iter) + 1,) + w.shape)
    out[0] = w
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, int(n_iter) + 1):
            g = 2.0 * a * (w - w_hat)
            if method == "subgradient_l1":
                w = w - step * (g + lam * np.sign(w))
            elif method == "ista_l1":
                w = soft_threshold(w - step * g, step * lam)
            else:
                w = w - step * (g + 2.0 * lam * w)
            out[k] = w
    return out
