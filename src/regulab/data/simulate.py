"""Seeded regression problems with a known truth: sparse, dense, and correlated groups.

Every generator returns a :class:`Truth`: the design, the response, the true coefficients and the
noise standard deviation, so an experiment can score support recovery and the excess test error
``E[(y - x.w_hat)^2] - sigma^2`` against the truth rather than against another fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REGIMES = ("sparse", "dense", "groups")


@dataclass(frozen=True)
class Truth:
    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    noise_sd: float
    groups: np.ndarray | None = None   # group id per feature (groups regime)

    @property
    def support(self) -> np.ndarray:
        return np.flatnonzero(self.w)


def _ar1_design(rng, n: int, p: int, rho: float) -> np.ndarray:
    """Columns with corr(x_j, x_k) = rho**|j - k| (Toeplitz), built column by column."""
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1.0 - rho**2) * Z[:, j]
    return X


def _group_design(rng, n: int, p: int, group_size: int, rho: float):
    """Blocks of ``group_size`` features sharing a factor: within-block correlation ``rho``."""
    groups = np.arange(p) // group_size
    factors = rng.standard_normal((n, groups.max() + 1))
    X = np.sqrt(rho) * factors[:, groups] + np.sqrt(1.0 - rho) * rng.standard_normal((n, p))
    return X, groups


def make_truth(regime: str, *, n: int = 100, p: int = 60, n_test: int = 0, k: int = 5,
               snr: float = 3.0, rho: float = 0.3, group_size: int = 5, group_rho: float = 0.9,
               seed: int = 0) -> tuple[Truth, Truth | None]:
    """A training set of ``n`` rows (and a test set of ``n_test`` from the same law).

    ``sparse``: ``k`` strong coefficients (+-1 to +-2) among ``p``, AR(1) correlation ``rho``.
    ``dense``: every coefficient non-zero, of similar size (``+-Uniform(0.5, 1)``): many small
    effects, none negligible.
    ``groups``: blocks of ``group_size`` features with correlation ``group_rho``; the truth is the
    whole first block with equal coefficients (the case where lasso picks one member at random).
    The noise level makes ``var(x.w) / sigma^2 = snr`` in the population.
    """
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; valid: {', '.join(REGIMES)}")
    rng = np.random.default_rng(seed)
    w = np.zeros(p)
    groups = None
    total = n + n_test
    if regime == "sparse":
        idx = rng.choice(p, size=k, replace=False)
        w[idx] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 2.0, k)
        X = _ar1_design(rng, total, p, rho)
    elif regime == "dense":
        w = rng.choice([-1.0, 1.0], p) * rng.uniform(0.5, 1.0, p)
        X = _ar1_design(rng, total, p, rho)
    else:
        X, groups = _group_design(rng, total, p, group_size, group_rho)
        w[:group_size] = 1.0
    signal = X @ w
    noise_sd = float(np.std(signal) / np.sqrt(snr)) if np.std(signal) > 0 else 1.0
    y = signal + noise_sd * rng.standard_normal(total)
    train = Truth(X[:n], y[:n], w, noise_sd, groups)
    test = Truth(X[n:], y[n:], w, noise_sd, groups) if n_test else None
    return train, test
