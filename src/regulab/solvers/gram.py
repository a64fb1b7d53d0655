"""Exact solutions from second moments alone: the squared loss on its Gram matrix.

With ``s`` the sample weights summing to 1 and the intercept fitted, regulab's squared-loss
objective depends on the data only through the centred moments ``G = X_c^T S X_c`` (p x p),
``c = X_c^T S y_c`` and ``yty = y_c^T S y_c``::

    P(w) = yty - 2 c.w + w^T G w + l1 ||w||_1 + l2 ||w||_2**2,   b* = ybar - xbar.w

so a path needs no row of X. :func:`gram_path` solves it along a decreasing lam grid with
covariance-update coordinate descent (:func:`regulab.solvers._cd_kernels.cd_squared_gram`, the
gradient ``c - G w`` updated by one column of ``G`` per move, Anderson extrapolation), warm
started, each point certified by the duality gap computed from the same moments
(:func:`regulab.core.certificates.duality_gap_gram`), relative to ``yty`` (the null model's loss)
as in :mod:`regulab.solvers.exact`.

:func:`newton_subproblem` is the same solve for one IRLS (Newton) step of the logistic loss: its
quadratic model ``(1/2) sum_i v_i (z_i - b - x_i.w)**2 + l1 ||w||_1 + l2 ||w||_2**2`` has the
moments of ``[x, z]`` under the weights ``v``, and dividing by ``V / 2`` (``V = sum v``) makes it
the squared-loss objective above with ``l1' = 2 l1 / V``, ``l2' = 2 l2 / V``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab.core.certificates import duality_gap_gram
from regulab.solvers import _cd_kernels as CDK

#: Anderson extrapolation iterates in the Gram CD (as the in-memory solver's default)
ANDERSON = 5


@dataclass
class GramPath:
    """Solutions along ``lams`` (decreasing): ``coefs [p, L]``, ``intercepts [L]``, relative
    duality ``gaps [L]``, CD epochs ``n_iter [L]``, ``converged [L]``."""

    lams: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    gaps: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray


def gram_lam_max(c, rho: float, G=None, curvature: float = 1.0, grad_scale: float = 2.0):
    """The top of the lam grid from the moments: ``max_j |grad_j| / rho`` with the loss gradient
    at ``w = 0`` equal to ``-grad_scale * c`` (2 for the squared loss, 1 for the logistic);
    for ``rho = 0`` the ridge top ``100 * curvature * eig_max(G)`` (as
    :func:`regulab.selection.path.ridge_top`)."""
    if rho == 0.0:
        return 100.0 * curvature * float(np.linalg.eigvalsh(G)[-1]) if G.size else 0.0
    gmax = grad_scale * float(np.max(np.abs(c))) if c.size else 0.0
    return gmax / rho


def solve_gram(G, c, yty, l1, l2, w, tol, max_epochs, chunk=50):
    """``min yty - 2 c.w + w^T G w + l1|w|_1 + l2|w|^2`` from ``w`` (modified in place) to
    ``gap <= tol * yty`` AND a largest KKT violation ``<= tol * 2 max|c|`` (the gradient at
    ``w = 0``); columns with ``G_jj = 0`` (constant in these rows) stay 0. Returns
    ``(relative gap, epochs)``.

    Why both: the gap is a difference of terms of the size of ``yty``, so it reaches its
    rounding floor (``~1e-16 yty``) while ``w`` may still be ``~1e-8`` from the optimum; the
    gradient ``c - G w`` has no such floor, and epochs continue until it is tight too."""
    diag = np.diag(G)
    active = np.flatnonzero(diag > 0).astype(np.int64)
    w[diag <= 0] = 0.0
    scale = yty if yty > 0 else 1.0
    kkt_tol = tol * 2.0 * (float(np.max(np.abs(c))) if c.size else 0.0)
    epochs = 0
    if active.size:
        Ga = np.ascontiguousarray(G[np.ix_(active, active)])
        ca = np.ascontiguousarray(c[active])
        wv = w[active].copy()
        ep, _ = CDK.cd_squared_gram(Ga, ca, wv, float(yty), float(l1), float(l2),
                                    1e-2 * tol * scale, int(max_epochs), ANDERSON)
        epochs += int(ep)
        while _kkt_gram(Ga, ca, wv, l1, l2) > kkt_tol and epochs < max_epochs:
            ep, _ = CDK.cd_squared_gram(Ga, ca, wv, float(yty), float(l1), float(l2), -1.0,
                                        min(chunk, int(max_epochs) - epochs), ANDERSON)
            epochs += int(ep)
        w[active] = wv
    gap = duality_gap_gram(G, c, yty, w, l1, l2)
    return gap / scale, int(epochs)


def gram_path(G, c, yty, xbar, ybar, lams, rho: float, *, tol=1e-6, max_epochs=100_000,
              w0=None) -> GramPath:
    """The squared-loss path on the moments (module docstring); ``lam`` splits into
    ``l1 = lam rho``, ``l2 = lam (1 - rho)``."""
    lams = np.asarray(lams, dtype=float)
    p = G.shape[0]
    coefs = np.zeros((p, lams.size))
    gaps = np.zeros(lams.size)
    n_iter = np.zeros(lams.size, dtype=int)
    w = np.zeros(p) if w0 is None else np.array(w0, dtype=float)
    for k, lam in enumerate(lams):
        gaps[k], n_iter[k] = solve_gram(G, c, yty, lam * rho, lam * (1.0 - rho), w, tol,
                                        max_epochs)
        coefs[:, k] = w
    intercepts = ybar - xbar @ coefs
    return GramPath(lams, coefs, intercepts, gaps, n_iter, gaps <= tol)


def _kkt_gram(G, c, w, l1, l2) -> float:
    """Largest KKT violation of ``yty - 2 c.w + w^T G w + l1|w|_1 + l2|w|^2`` at ``w``."""
    grad = 2.0 * (G @ w - c) + 2.0 * l2 * w
    viol = np.where(w == 0.0, np.maximum(np.abs(grad) - l1, 0.0),
                    np.abs(grad + l1 * np.sign(w)))
    return float(viol.max()) if viol.size else 0.0


def newton_subproblem(moments, l1, l2, w, kkt_tol, max_epochs, chunk=50):
    """One IRLS step: minimize the quadratic model whose ``(V, mean, M)`` are the moments of
    ``[x, z]`` under the IRLS weights (module docstring), from ``w`` (modified in place), until
    its largest KKT violation (in the logistic loss's gradient units) is ``<= kkt_tol``.

    The stopping test is the KKT violation, not the duality gap: the gap of this subproblem is
    a difference of terms of the size of ``z``'s variance, which is large where the fitted
    probabilities are near 0 or 1, so its rounding floor would stop the step early. Returns
    ``(intercept, KKT violation, epochs)``."""
    V, mean, M = moments
    G, c, zz = M[:-1, :-1] / V, M[:-1, -1] / V, float(M[-1, -1] / V)
    a1, a2 = 2.0 * l1 / V, 2.0 * l2 / V
    active = np.flatnonzero(np.diag(G) > 0).astype(np.int64)
    w[np.diag(G) <= 0] = 0.0
    Ga = np.ascontiguousarray(G[np.ix_(active, active)])
    ca = np.ascontiguousarray(c[active])
    wv = w[active].copy()
    epochs = 0
    # the subproblem's gradient is V/2 times the loss model's: compare in the loss's units
    kkt = 0.5 * V * _kkt_gram(Ga, ca, wv, a1, a2)
    while kkt > kkt_tol and epochs < max_epochs and active.size:
        ep, _ = CDK.cd_squared_gram(Ga, ca, wv, zz, a1, a2, -1.0, min(chunk, max_epochs - epochs),
                                    ANDERSON)
        epochs += int(ep)
        kkt = 0.5 * V * _kkt_gram(Ga, ca, wv, a1, a2)
    w[active] = wv
    return float(mean[-1] - mean[:-1] @ w), kkt, epochs


def squared_held_out(W, mean, M, coefs, intercepts) -> np.ndarray:
    """Weighted mean squared error of ``b + x.w`` on rows with moments ``(W, mean, M)`` of
    ``[x, y]``, per column of ``coefs``: the residual ``r = y - b - x.w`` has mean
    ``ybar - b - xbar.w`` and centred second moment ``u^T M u / W`` with ``u = [-w, 1]``."""
    U = np.vstack([-coefs, np.ones((1, coefs.shape[1]))])
    var = np.einsum("il,ij,jl->l", U, M, U) / W
    mu = mean[-1] - intercepts - mean[:-1] @ coefs
    return np.maximum(var, 0.0) + mu * mu


def refit_gram(W, mean, M, support) -> tuple[np.ndarray, float]:
    """The unpenalized least-squares fit on the columns ``support`` with an intercept, from the
    moments ``(W, mean, M)`` of ``[x, y]``: ``w`` minimizes ``sum_i s_i (y_i - b - x_iS.w_S)^2``
    (``s`` the weights), i.e. ``G_SS w_S = c_S`` with ``G = M_xx / W``, ``c = M_xy / W``,
    minimum-norm (the least-squares solution of the rows' minimum norm: ``pinv(G_SS) c_S``)
    when ``G_SS`` is singular; ``b = ybar - xbar_S.w_S``. Returns ``(w [p], b)``, 0 off
    ``support``."""
    S = np.asarray(support, dtype=np.intp)
    w = np.zeros(M.shape[0] - 1)
    if S.size:
        G = M[np.ix_(S, S)] / W
        c = M[S, -1] / W
        w[S] = np.linalg.lstsq(G, c, rcond=None)[0]
    return w, float(mean[-1] - mean[:-1] @ w)
