"""Empirical losses on regulab's scale: sample-weighted *means*, never sums.

Both losses take the linear predictor ``z_i = x_i . w + b`` and weights ``s_i >= 0`` normalized to
sum to 1 (no weights: ``s_i = 1/n``), so that weighting a row by 2 equals repeating it::

    SquaredLoss    EmpLoss(w, b) = sum_i s_i * (y_i - z_i)**2                (mean squared error)
    LogisticLoss   EmpLoss(w, b) = sum_i s_i * log(1 + exp(-t_i * z_i)),     t_i = 2*y_i - 1
    PoissonLoss    EmpLoss(w, b) = sum_i s_i * (exp(z_i + o_i) - y_i (z_i + o_i))  (offset o_i)

Each loss gives its value, its gradient in ``(w, b)``, a Lipschitz constant of that gradient (the
step ``1/L`` is always safe for gradient methods; the Poisson loss has none, see its class) and
the intercept of the null model ``w = 0``.
"""

from __future__ import annotations

import numpy as np

# scipy.sparse and scipy.special are imported where used: a dense squared-loss fit needs
# neither (about 0.15 s of a whole ``regulab fit``'s start-up)
from regulab.core.validation import issparse


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
    Xs = X.multiply(np.sqrt(s)[:, None]).tocsr() if issparse(X) else X * np.sqrt(s)[:, None]
    if min(Xs.shape) == 0:
        return 0.0
    if issparse(Xs) or min(Xs.shape) > 500:
        from scipy.sparse.linalg import svds

        if min(Xs.shape) == 1:
            Xd = Xs.toarray() if issparse(Xs) else Xs
            return float(np.sum(Xd**2))
        sigma = svds(Xs, k=1, return_singular_vectors=False, random_state=0)
        return float(sigma[0] ** 2)
    return float(np.linalg.norm(Xs, 2) ** 2)


def _augment(X):
    """``[X, 1]``: the intercept as one more column, for Lipschitz constants."""
    n = X.shape[0]
    if issparse(X):
        from scipy import sparse

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
        from scipy.special import log_expit

        return float(-np.dot(s, log_expit((2.0 * y - 1.0) * z)))

    def gradient(self, X, y, w, b=0.0, sample_weight=None):
        y = check_labels(y)
        s = normalized_weights(y.shape[0], sample_weight)
        from scipy.special import expit

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


def check_counts(y) -> np.ndarray:
    """``y`` as a 1-D float array of finite values ``>= 0`` (counts, or rates: glmnet's Poisson
    family accepts non-negative reals too), or a ValueError naming the first other."""
    y = np.asarray(y, dtype=float).ravel()
    bad = ~np.isfinite(y) | (y < 0.0)
    if bad.any():
        raise ValueError(f"poisson loss needs a target >= 0 (counts), got {float(y[bad][0])!r}")
    return y


def check_offset(offset, n: int) -> np.ndarray:
    """The offset ``o`` (``log(exposure)``) as a finite float array of length ``n``; zeros for
    None."""
    if offset is None:
        return np.zeros(n)
    o = np.asarray(offset, dtype=float).ravel()
    if o.shape[0] != n:
        raise ValueError(f"offset has {o.shape[0]} entries for {n} samples")
    if not np.all(np.isfinite(o)):
        raise ValueError("offset must be finite (log of an exposure > 0)")
    return o


def poisson_deviance(y, mu) -> np.ndarray:
    """Unit Poisson deviance ``2 (y log(y / mu) - (y - mu))`` (``y log y = 0`` at ``y = 0``),
    elementwise; broadcasts (``mu`` may be ``[n, k]`` against ``y[:, None]``)."""
    y = np.asarray(y, dtype=float)
    mu = np.asarray(mu, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ylog = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return 2.0 * (ylog - (y - mu))


class PoissonLoss:
    """Mean Poisson negative log-likelihood (log link) with an offset ``o_i = log(exposure_i)``::

        EmpLoss(w, b) = sum_i s_i (exp(z_i + o_i) - y_i (z_i + o_i)),   z_i = x_i.w + b

    the negative log-likelihood of ``y_i ~ Poisson(exposure_i * exp(z_i))`` with the terms that
    do not depend on ``(w, b)`` (``log(y_i!)``) dropped; equivalently half the mean deviance
    minus a constant: ``EmpLoss = sum_i s_i dev_i / 2 + sum_i s_i (y_i - y_i log y_i)``.
    ``y_i >= 0`` may be counts or (as glmnet allows) non-negative reals such as rates.
    Gradient in ``w``: ``X^T (s * (mu - y))`` with ``mu = exp(z + o)``; in ``b``:
    ``sum_i s_i (mu_i - y_i)``.

    There is no global Lipschitz constant (the curvature ``X^T diag(s mu) X`` grows without bound
    with ``z``): :meth:`lipschitz` raises, and the exact solver takes damped proximal Newton
    steps with an Armijo line search instead of fixed steps ``1/L``.
    """

    name = "poisson"

    def __init__(self, offset=None):
        self.offset = offset

    def _eta(self, X, w, b, n):
        return _linear(X, w, b) + check_offset(self.offset, n)

    def value(self, X, y, w, b=0.0, sample_weight=None) -> float:
        y = check_counts(y)
        s = normalized_weights(y.shape[0], sample_weight)
        eta = self._eta(X, w, b, y.shape[0])
        return float(np.dot(s, np.exp(eta) - y * eta))

    def gradient(self, X, y, w, b=0.0, sample_weight=None):
        y = check_counts(y)
        s = normalized_weights(y.shape[0], sample_weight)
        d = s * (np.exp(self._eta(X, w, b, y.shape[0])) - y)
        return np.asarray(X.T @ d, dtype=float).ravel(), float(d.sum())

    def lipschitz(self, X, sample_weight=None, fit_intercept: bool = False) -> float:
        raise ValueError("the poisson loss has no global Lipschitz constant (its curvature "
                         "exp(z) is unbounded): use the exact solver (damped proximal Newton)")

    def null_intercept(self, y, sample_weight=None) -> float:
        """Intercept minimizing the loss at ``w = 0``: ``log(sum s_i y_i / sum s_i exp(o_i))``,
        the log of the weighted mean rate."""
        y = check_counts(y)
        s = normalized_weights(y.shape[0], sample_weight)
        ybar = float(np.dot(s, y))
        if ybar <= 0.0:
            raise ValueError("poisson loss with an intercept needs a positive count in y (all "
                             "are 0: the intercept would go to -inf)")
        return float(np.log(ybar) - np.log(np.dot(s, np.exp(check_offset(self.offset,
                                                                            y.shape[0])))))

    def __repr__(self) -> str:
        return "PoissonLoss()" if self.offset is None else "PoissonLoss(offset=...)"


LOSSES = {"squared": SquaredLoss, "logistic": LogisticLoss, "poisson": PoissonLoss}
#: the loss fitted for each kind of target, and how reports name its mean
LOSS_OF_TASK = {"regression": "squared", "binary": "logistic", "count": "poisson"}
ERROR_NAME = {"squared": "mean squared error", "logistic": "mean log-loss",
              "poisson": "mean Poisson deviance"}


def make_loss(name: str, **options):
    """Build a loss from its name, ``'squared'``, ``'logistic'`` or ``'poisson'`` (``options``:
    the Poisson ``offset``)."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid choices: {', '.join(LOSSES)}")
    return LOSSES[name](**options)
