"""Regularization paths: a lam grid from lam_max down, solved warm-started from the top.

For ``l1_ratio = rho`` each grid point solves regulab's objective with ``l1 = lam * rho`` and
``l2 = lam * (1 - rho)`` (see :func:`regulab.solvers.exact.solve`)::

    min_{w, b}  sum_i s_i loss(y_i, x_i.w + b) + lam * (rho ||w||_1 + (1 - rho) ||w||_2**2)

The grid is geometric, ``n_lams`` values from ``lam_max`` (every coefficient exactly 0 there) down
to ``lam_max * eps`` (``eps = 1e-3`` when n > p, else ``1e-2``).

A pure L2 path has no finite ``lam_max``. glmnet anchors it at the ``lam_max`` of ``rho = 1e-3``,
which puts the whole grid far above where ridge does anything useful (we measured CV choosing the
smallest lam of such a grid, with calibration slopes near 5). regulab anchors it on the spectrum
instead: ridge shrinks the direction of eigenvalue ``d`` of ``X^T S X`` (centered) by
``d / (d + lam)``, so the grid runs from ``100 * d_max`` (every direction shrunk by more than 99%)
down to ``d_max * 1e-4`` (n > p) or ``1e-2`` (n <= p) below that: from nearly zero to nearly least
squares.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from regulab.core.certificates import duality_gap_squared
from regulab.core.losses import SquaredLoss, make_loss, normalized_weights, spectral_norm_sq
from regulab.core.penalties import ElasticNet, resolve_l1_ratio
from regulab.core.validation import check_fraction, check_int, check_nonneg, check_real
from regulab.solvers.checks import check_max_iter
from regulab.solvers.design import as_design
from regulab.solvers.exact import solve
from regulab.solvers.exact.gram_path import gram_path
from regulab.solvers.ridge import ridge_svd


def lam_max(X, y, *, loss="squared", l1_ratio=1.0, fit_intercept=True, sample_weight=None) -> float:
    """Smallest lam with every coefficient exactly 0; for ``l1_ratio = 0`` (never all 0) the top
    of the ridge grid, ``100 * d_max`` (see the module docstring)."""
    rho = check_fraction(l1_ratio, "l1_ratio")
    if rho == 0.0:
        return ridge_top(X, loss=loss, fit_intercept=fit_intercept, sample_weight=sample_weight)
    return ElasticNet(1.0, rho).lam_max(X, y, make_loss(loss), fit_intercept, sample_weight)


def ridge_top(X, *, loss="squared", fit_intercept=True, sample_weight=None) -> float:
    """``100 * d_max``, ``d_max`` the largest eigenvalue of the curvature of the loss in ``w``
    (``X^T S X`` centered for the squared loss; a quarter of it for the logistic loss)."""
    s = normalized_weights(X.shape[0], sample_weight)
    if fit_intercept and not sparse.issparse(X):
        X = X - s @ X
    d_max = spectral_norm_sq(X, s) * (0.25 if loss == "logistic" else 1.0)
    return 100.0 * d_max


def default_eps(n_samples: int, n_features: int, l1_ratio: float = 1.0) -> float:
    if l1_ratio == 0.0:
        return 1e-6 if n_samples > n_features else 1e-4
    return 1e-3 if n_samples > n_features else 1e-2


def lam_grid(X, y, *, loss="squared", l1_ratio=1.0, n_lams=100, eps=None, fit_intercept=True,
             sample_weight=None) -> np.ndarray:
    """``n_lams`` lams, geometric and decreasing, from :func:`lam_max` to ``lam_max * eps``."""
    n_lams = check_int(n_lams, "n_lams", 1)
    n, p = X.shape
    eps = default_eps(n, p, l1_ratio) if eps is None else check_real(
        eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)
    top = lam_max(X, y, loss=loss, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                  sample_weight=sample_weight)
    if top == 0.0:  # y constant (or X zero): every lam gives w = 0; keep a usable grid
        top = 1.0
    return np.geomspace(top, top * eps, int(n_lams)) if n_lams > 1 else np.array([top])


@dataclass
class PathResult:
    """Solutions along a lam grid (decreasing). ``coefs`` is ``[n_features, n_lams]``."""

    lams: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    gaps: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    l1_ratio: float
    loss: str
    fit_intercept: bool
    criterion: str = "duality_gap"
    feature_names: list | None = field(default=None)

    @property
    def nnz(self) -> np.ndarray:
        """Number of coefficients not exactly 0, per lam."""
        return np.count_nonzero(self.coefs, axis=0)

    def l1_l2(self, k: int) -> tuple[float, float]:
        lam = float(self.lams[k])
        return lam * self.l1_ratio, lam * (1.0 - self.l1_ratio)


def _check_lams(lams) -> np.ndarray:
    lams = np.asarray(lams, dtype=float).ravel()
    if lams.size == 0:
        raise ValueError("lams is empty")
    if not np.all(np.isfinite(lams)) or np.any(lams < 0):
        bad = lams[~np.isfinite(lams) | (lams < 0)][0]
        raise ValueError(f"every lam must be a finite number >= 0, got {bad!r}")
    return np.sort(lams)[::-1]


def regularization_path(X, y, *, loss="squared", l1_ratio=None, lams=None, n_lams=100, eps=None,
                        fit_intercept=True, sample_weight=None, tol=1e-6, max_iter=10_000,
                        feature_names=None, penalty=None) -> PathResult:
    """Solve along a decreasing lam grid, each fit warm-started from the previous one.

    The penalty is ``l1_ratio`` (the L1 share rho, default 1) or ``penalty``, a kind name of
    :data:`regulab.core.penalties.KINDS` (``'l1'``, ``'l2'``, ``'elasticnet'`` with ``l1_ratio``
    or its default); both may be given only if they agree. ``lams`` (sorted decreasing here)
    overrides the default grid of :func:`lam_grid`. A pure L2 path on the squared loss with dense
    X uses one SVD for the whole grid; an L1 or elastic-net squared-loss path on a small dense X
    (:mod:`regulab.solvers.exact.gram_path`) runs in one compiled call.
    """
    rho = resolve_l1_ratio(penalty, l1_ratio)
    lams = (lam_grid(X, y, loss=loss, l1_ratio=rho, n_lams=n_lams, eps=eps,
                     fit_intercept=fit_intercept, sample_weight=sample_weight)
            if lams is None else _check_lams(lams))
    p = X.shape[1]
    coefs = np.zeros((p, lams.size))
    intercepts = np.zeros(lams.size)
    gaps = np.zeros(lams.size)
    n_iter = np.zeros(lams.size, dtype=int)
    converged = np.zeros(lams.size, dtype=bool)
    criterion = "duality_gap"
    if rho == 0.0 and loss == "squared" and not sparse.issparse(X):
        coefs, intercepts, gaps = _ridge_path(X, y, lams, sample_weight, fit_intercept)
        converged[:] = gaps <= tol
        return PathResult(lams, coefs, intercepts, gaps, n_iter, converged, rho, loss,
                          fit_intercept, criterion, feature_names)
    if loss == "squared":
        # the compiled small-problem route knows only the options of this signature: a new
        # option (penalty factors, bounds, ...) must skip it
        tol, max_iter = check_nonneg(tol, "tol"), check_max_iter(max_iter)
        fast = gram_path(X, y, lams, rho, sample_weight=sample_weight,
                         fit_intercept=fit_intercept, tol=tol, max_iter=max_iter)
        if fast is not None:
            coefs, intercepts, gaps, n_iter = fast
            return PathResult(lams, coefs, intercepts, gaps, n_iter, gaps <= tol, rho, loss,
                              fit_intercept, criterion, feature_names)
    # validate and prepare X once for the whole grid (the design cache would find it again on
    # every call, at the cost of a checksum of X per lam)
    D = as_design(X)
    w0, b0 = None, None
    for k, lam in enumerate(lams):
        res = solve(D, y, loss=loss, l1=lam * rho, l2=lam * (1.0 - rho),
                    fit_intercept=fit_intercept, sample_weight=sample_weight, w0=w0, b0=b0,
                    tol=tol, max_iter=max_iter)
        coefs[:, k], intercepts[k] = res.w, res.intercept
        gaps[k], n_iter[k], converged[k] = res.gap, res.n_iter, res.converged
        criterion = res.criterion
        w0, b0 = res.w, res.intercept
    return PathResult(lams, coefs, intercepts, gaps, n_iter, converged, rho, loss, fit_intercept,
                      criterion, feature_names)


def _ridge_path(X, y, lams, sample_weight, fit_intercept):
    """Closed-form ridge for every lam from one SVD, with each point's relative duality gap."""
    coefs, intercepts = ridge_svd(X, y, lams, sample_weight=sample_weight,
                                  fit_intercept=fit_intercept)
    loss = SquaredLoss()
    b_null = loss.null_intercept(y, sample_weight) if fit_intercept else 0.0
    scale = loss.value(X, y, np.zeros(X.shape[1]), b_null, sample_weight) or 1.0
    gaps = np.array([duality_gap_squared(X, y, coefs[:, k], intercepts[k], 0.0, lam,
                                         sample_weight, fit_intercept) / scale
                     for k, lam in enumerate(lams)])
    return coefs, intercepts, gaps
