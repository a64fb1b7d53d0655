"""Empirical losses on regulab's scale: sample-weighted *means*, never sums.

Both losses take the linear predictor ``z_i = x_i . w + b`` and weights ``s_i >= 0`` normalized to
sum to 1 (no weights: ``s_i = 1/n``), so that weighting a row by 2 equals repeating it::

    SquaredLoss    EmpLoss(w, b) = sum_i s_i * (y_i - z_i)**2                (mean squared error)
    LogisticLoss   EmpLoss(w, b) = sum_i s_i * log(1 + exp(-t_i * z_i)),     t_i = 2*y_i - 1

Each loss gives its value, its gradient in ``(w, b)``, a Lipschitz constant of that gradient (the
step ``1/L`` is always safe for gradient methods) and the intercept of the null model ``w = 0``.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit


def normalized_weights(n: int, sample_weight=None) -> np.ndarray:
    """Weights ``s_i >= 0`` summing to 1; ``None`` gives ``1/n`` each."""
    if sample_weight is None:
        return np.full(n, 1.0 / n)
    s = np.asarray(sample_weight, dtype=float).ravel()
    if s.shape[0] != n:
        raise ValueError(f"sample_weight has {s.shape[0]} entries for {n} samples")
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError("sample_weight must be finite and >= 0")
    total = s.sum()
    if total <= 0:
        raise ValueError("sample_weight sums to 0: no sample carries weight")
    return s / total


def check_labels(y) -> np.ndarray:
    """``y`` as a 1-D float array of labels 0 and 1, or a ValueError naming the first other."""
    y = np.asarray(y, dtype=float).ravel()
    bad = (y != 0.0) & (y != 1.0)
    if bad.any():
        raise ValueError(f"logistic loss needs labels 0 or 1, got {float(y[bad][0])!r}")
    return y


def _linear(X, w, b):
    return np.asarray(X @ w, dtype=float).ravel() + b


def spectral_norm_sq(X, s) -> float:
    """Largest eigenvalue of ``X^T diag(s) X`` (``||diag(sqrt(s)) X||_2**2``), dense or sparse X."""
    Xs = X.multiply(np.sqrt(s)[:, None]).tocsr() if sparse.issparse(X) else X * np.sqrt(s)[:, None]
    if min(Xs.shape) == 0:
        return 0.0
    if sparse.issparse(Xs) or min(Xs.shape) > 500:
        from scipy.sparse.linalg import svds

        if min(Xs.shape) == 1:
            Xd = Xs.toarray() if sparse.issparse(Xs) else Xs
            return float(np.sum(Xd**2))
        sigma = svds(Xs, k=1, return_singular_vectors=False, random_state=0)
        return float(sigma[0] ** 2)
    return float(np.linalg.norm(Xs, 2) ** 2)


def _augment(X):
    """``[X, 1]``: the intercept as one more column, for Lipschitz constants."""
    n = X.shape[0]
    if sparse.issparse(X):
        return sparse.hstack([X, np.ones((n, 1))], format="csr")
    return np.hstack([X, np.ones((n, 1))])


class SquaredLoss:
    """Mean squared error ``sum_i s_i (y_i - x_i.w - b)**2`` (seed 000's "mean squared error").

    Gradient in ``w``: ``-2 X^T (s * r)`` with ``r = y - X w - b``; in ``b``: ``-2 sum_i s_i r_i``.
    Lipschitz constant: ``2 * lambda_max(X^T diag(s) X)`` (``X`` augmented by a column of ones
    when the intercept is fitted).
    """

    name = "squared"

    def value(self, X, y, w, b=0.0, sample_weight=None) -> float:
        y = np.asarray(y, dtype=float).ravel()
        s = normalized_weights(y.shape[0], sample_weight)
        r = y - _linear(X, w, b)
        return float(np.dot(s, r * r))

    def gradient(self, X, y, w, b=0.0, sample_weight=None):
        """``(grad_w, grad_b)`` of :meth:`value`."""
        y = np.asarray(y, dtype=float).ravel()
        s = normalized_weights(y.shape[0], sample_weight)
        sr = s * (y - _linear(X, w, b))
        grad_w = -2.0 * np.asarray(X.T @ sr, dtype=float).ravel()
        return grad_w, float(-2.0 * sr.sum())

    def lipschitz(self, X, sample_weight=None, fit_intercept: bool = False) -> float:
        n = X.shape[0]
        s = normalized_weights(n, sample_weight)
        Xa = _augment(X) if fit_intercept else X
        return 2.0 * spectral_norm_sq(Xa, s)

    def null_intercept(self, y, sample_weight=None) -> float:
        """Intercept minimizing the loss at ``w = 0``: the weighted mean of ``y``."""
        y = np.asarray(y, dtype=float).ravel()
        return float(np.dot(normalized_weights(y.shape[0], sample_weight), y))

    def __repr__(self) -> str:
        return "SquaredLoss()"


class LogisticLoss:
    """Mean log-loss ``sum_i s_i log(1 + exp(-t_i z_i))`` for labels ``y_i`` in {0, 1}.

    ``t_i = 2 y_i - 1`` is the label in {-1, +1}. Gradient in ``w``: ``X^T (s * (sigmoid(z) - y))``.
    Lipschitz constant: ``lambda_max(X^T diag(s) X) / 4``.
    """

    name = "logistic"

    def value(self, X, y, w, b=0.0, sample_weight=None) -> float:
        y = check_labels(y)
        s = normalized_weights(y.shape[0], sample_weight)
        z = _linear(X, w, b)
        return float(-np.dot(s, log_expit((2.0 * y - 1.0) * z)))

    def gradient(self, X, y, w, b=0.0, sample_weight=None):
        y = check_labels(y)
        s = normalized_weights(y.shape[0], sample_weight)
        d = s * (expit(_linear(X, w, b)) - y)
        return np.asarray(X.T @ d, dtype=float).ravel(), float(d.sum())

    def lipschitz(self, X, sample_weight=None, fit_intercept: bool = False) -> float:
        n = X.shape[0]
        s = normalized_weights(n, sample_weight)
        Xa = _augment(X) if fit_intercept else X
        return 0.25 * spectral_norm_sq(Xa, s)

    def null_intercept(self, y, sample_weight=None) -> float:
        """Intercept minimizing the loss at ``w = 0``: ``logit`` of the weighted mean of ``y``."""
        y = check_labels(y)
        p = float(np.dot(normalized_weights(y.shape[0], sample_weight), y))
        if p in (0.0, 1.0):
            raise ValueError("logistic loss needs both classes 0 and 1 in y")
        return float(np.log(p / (1.0 - p)))

    def __repr__(self) -> str:
        return "LogisticLoss()"


LOSSES = {"squared": SquaredLoss, "logistic": LogisticLoss}
#: the loss fitted for each kind of target, and how reports name its mean
LOSS_OF_TASK = {"regression": "squared", "binary": "logistic"}
ERROR_NAME = {"squared": "mean squared error", "logistic": "mean log-loss"}


def make_loss(name: str):
    """Build a loss from its name, ``'squared'`` or ``'logistic'``."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid choices: {', '.join(LOSSES)}")
    return LOSSES[name]()
