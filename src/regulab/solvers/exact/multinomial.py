"""Multinomial (softmax) regression: proximal Newton on working sets, certified by KKT.

Minimizes, for class codes ``c_i`` in ``0..K-1``, sample weights ``s_i`` normalized to sum to 1,
coefficients ``W`` (``p x K``) and unpenalized intercepts ``b`` (``K``)::

    P(W, b) = sum_i s_i * (-log softmax(z_i)[c_i]) + pen(W),      z_i = x_i W + b
            = sum_i s_i * (logsumexp_k z_ik - z_{i c_i}) + pen(W)

    ungrouped:  pen(W) = l1 * sum_jk |W_jk|        + l2 * ||W||_F**2
    grouped:    pen(W) = l1 * sum_j ||W_j.||_2     + l2 * ||W||_F**2

The grouped form (glmnet's ``type.multinomial = "grouped"``) puts one L2-norm group on each
feature's K coefficients, so a feature is kept or dropped for all classes at once.

In glmnet's terms (``family = "multinomial"``, ``standardize = FALSE``, weights normalized as
glmnet does) ``l1 = lambda * alpha`` and ``l2 = lambda * (1 - alpha) / 2``.

**Non-identifiability.** The loss is unchanged when one constant is added to a row ``W_j.``
(or to ``b``) across the classes. The intercepts are unpenalized, so ``b`` is returned centered
(``sum_k b_k = 0``, as glmnet does). With ``l2 > 0`` the penalty picks the unique row shift
(each row sums to 0 at the optimum) and ``W`` is unique. With ``l2 = 0`` and ``l1 > 0`` the
minimizers may form a set: every minimizer already has each row at a penalty-minimizing shift
(0 lies in the median interval of the row), and the solver returns the one it reaches; glmnet's
symmetric multinomial picks another point of the same set, so tests compare **objectives** there,
not raw coefficients. Without any penalty each row of ``W`` is centered to sum to 0.

**Certificate** (``criterion = 'kkt'``): with ``G = X^T (S (softmax(Z) - Y)) + 2 l2 W`` the
gradient of the smooth part and ``g_b`` the intercept gradient,

    ungrouped:  kkt = max(max_jk dist(-G_jk, l1 d|W_jk|),          max_k |g_b,k|)
    grouped:    kkt = max(max_j  dist(-G_j., l1 d||W_j.||_2),        max_k |g_b,k|)

(``dist(-g, l1 d||w||_2)`` is ``max(||g||_2 - l1, 0)`` at ``w = 0``, else
``||g + l1 w / ||w||_2||_2``), reported relative to ``scale``: the loss gradient's
``max_jk |G_jk|`` (ungrouped) or ``max_j ||G_j.||_2`` (grouped) at the null model, the
``lam_max`` of the pure-L1 problem. It is 0 exactly at the optimum.

Each outer iteration computes the full gradient and the criterion, picks the working set of the
features that violate the optimality conditions most (the support always in) and runs Newton
steps on it; the whole loop, for one point or a whole grid of them, is compiled
(:func:`regulab.solvers._mn_newton.mn_path`, :func:`solve_multinomial_path`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab.core.losses import normalized_weights
from regulab.core.validation import check_nonneg
from regulab.solvers import _mn_kernels as MNK
from regulab.solvers import _mn_newton as MNN
from regulab.solvers.checks import check_max_iter
from regulab.solvers.design import Design, as_design

#: passes of coordinate descent per Newton step at most: near-separable classes (small lam)
#: make the quadratic model ill-conditioned, and a model solved too roughly costs far more
#: Newton steps than the passes saved (iris at lam_max / 1000: 1700 steps with 50 passes, 24
#: with 5000); a well-conditioned model stops after a few passes on its own tolerance.
MAX_CD = 2000


@dataclass
class MultinomialResult:
    """A certified multinomial solution.

    ``W`` is ``(n_features, n_classes)`` and ``intercept`` ``(n_classes,)`` (centered);
    ``gap`` is the relative KKT violation of the module docstring (``criterion = 'kkt'``),
    ``converged`` is ``gap <= tol``, ``n_iter`` counts Newton steps, ``objective`` is
    ``P(W, b)``. The binary solvers' :class:`~regulab.solvers.exact.result.ExactResult` carries
    a vector ``w``; this class carries the matrix (``w`` is an alias of ``W``).
    """

    W: np.ndarray
    intercept: np.ndarray
    gap: float
    n_iter: int
    converged: bool
    tol: float
    objective: float
    grouped: bool
    criterion: str = "kkt"
    solver: str = "prox_newton"

    @property
    def w(self) -> np.ndarray:
        return self.W


def check_codes(y, n: int, n_classes=None) -> tuple[np.ndarray, int]:
    """Class codes as an int64 array of ``n`` values in ``0..K-1``; ``K`` from ``n_classes``
    or ``max(y) + 1`` (at least 2)."""
    a = np.asarray(y)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"y must be 1-D with {n} class codes, got shape {a.shape}")
    codes = a.astype(np.int64)
    if not np.array_equal(codes, a) or (codes.size and codes.min() < 0):
        raise ValueError("multinomial y must hold class codes 0, 1, ..., K-1")
    K = int(codes.max()) + 1 if n_classes is None else int(n_classes)
    if codes.size and codes.max() >= K:
        raise ValueError(f"class code {int(codes.max())} >= n_classes={K}")
    if K < 2:
        raise ValueError(f"multinomial loss needs at least 2 classes, got {K}")
    return codes, K


def class_shares(codes, s, K) -> np.ndarray:
    """Weighted share of each class (``sum_i s_i [c_i = k]``)."""
    return np.bincount(codes, weights=s, minlength=K)[:K]


def loss_gradient(D: Design, codes, s, Z) -> tuple[np.ndarray, np.ndarray, float]:
    """``(G, g_b, F)``: the loss gradient in ``W`` (``p x K``), in ``b`` and the loss at the
    predictors ``Z`` (``K x n``)."""
    K = Z.shape[0]
    Pm = np.empty_like(Z)
    F = float(MNK.softmax_loss(Z, codes, s, Pm))
    Dm = np.empty_like(Z)
    MNK.residuals(Pm, codes, s, Dm)
    G = np.column_stack([D.xt_dot(Dm[k]) for k in range(K)]) if D.p else np.zeros((0, K))
    return G, Dm.sum(axis=1), F


def kkt_of(G, W, l1, grouped) -> float:
    """Largest ``dist(-G, l1 * subdifferential of the L1 part)`` (per coefficient or per row)."""
    if G.size == 0:
        return 0.0
    if grouped:
        nw = np.linalg.norm(W, axis=1)
        ng = np.linalg.norm(G, axis=1)
        at0 = np.maximum(ng - l1, 0.0)
        safe = np.where(nw > 0, nw, 1.0)[:, None]
        off = np.linalg.norm(G + l1 * W / safe, axis=1)
        return float(np.where(nw == 0, at0, off).max())
    a = np.abs(G)
    viol = np.where(W == 0.0, np.maximum(a - l1, 0.0), np.abs(G + l1 * np.sign(W)))
    return float(viol.max())


def penalty_value(W, l1, l2, grouped) -> float:
    l1_part = np.linalg.norm(W, axis=1).sum() if grouped else np.abs(W).sum()
    return float(l1 * l1_part + l2 * np.sum(W * W))


def null_intercepts(codes, s, K, fit_intercept) -> np.ndarray:
    """Intercepts of the best model with ``W = 0``: centered ``log`` of the class shares."""
    if not fit_intercept:
        return np.zeros(K)
    pi = class_shares(codes, s, K)
    if np.any(pi <= 0.0):
        k = int(np.flatnonzero(pi <= 0.0)[0])
        raise ValueError(f"multinomial loss with an intercept needs every class among the "
                         f"samples of positive weight; class {k} has none")
    b = np.log(pi)
    return b - b.mean()


def solve_multinomial(X, y, *, n_classes=None, grouped=False, l1=0.0, l2=0.0,
                      fit_intercept=True, sample_weight=None, W0=None, b0=None, tol=1e-6,
                      max_iter=10_000, ws_start=10) -> MultinomialResult:
    """Minimize ``P(W, b)`` of the module docstring to ``kkt / scale <= tol``.

    Parameters
    ----------
    X : array of shape (n, p) or scipy.sparse matrix (never densified)
    y : array of shape (n,)
        Class codes ``0..K-1``.
    n_classes : int, optional
        ``K`` (default ``max(y) + 1``).
    grouped : bool
        The grouped penalty (one L2 group per feature across the classes).
    l1, l2 : float >= 0
    fit_intercept : bool
    sample_weight : array of shape (n,), optional
    W0, b0 : warm start, ``(p, K)`` and ``(K,)``.
    tol : float
        Threshold of the relative KKT violation.
    max_iter : int
        Bound on the Newton steps.
    ws_start : int
        The first working-set size (features).
    """
    l1, l2 = check_nonneg(l1, "l1"), check_nonneg(l2, "l2")
    path = solve_multinomial_path(X, y, np.array([l1]), np.array([l2]), n_classes=n_classes,
                                  grouped=grouped, fit_intercept=fit_intercept,
                                  sample_weight=sample_weight, W0=W0, b0=b0, tol=tol,
                                  max_iter=max_iter, ws_start=ws_start)
    W, b = path.coefs[:, :, 0].copy(), path.intercepts[:, 0].copy()
    Z = _predictors(path.design, W, b)
    obj = float(MNK.softmax_value(Z, path.codes, path.s)) + penalty_value(W, l1, l2, grouped)
    return MultinomialResult(W, b, float(path.gaps[0]), int(path.n_iter[0]),
                             bool(path.converged[0]), path.tol, obj, bool(grouped),
                             solver=path.solver)


@dataclass
class MultinomialPathResult:
    """Certified solutions at each grid point: ``coefs`` ``(p, K, m)``, ``intercepts`` ``(K, m)``
    (centered), ``gaps`` the relative KKT violations, ``n_iter`` the Newton steps, and the
    validated problem (``design``, ``codes``, normalized weights ``s``)."""

    coefs: np.ndarray
    intercepts: np.ndarray
    gaps: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    tol: float
    solver: str
    design: Design
    codes: np.ndarray
    s: np.ndarray


def solve_multinomial_path(X, y, l1s, l2s, *, n_classes=None, grouped=False,
                           fit_intercept=True, sample_weight=None, W0=None, b0=None, tol=1e-6,
                           max_iter=10_000, ws_start=10) -> MultinomialPathResult:
    """Minimize ``P(W, b)`` at each ``(l1s[t], l2s[t])`` in turn to ``kkt / scale <= tol``,
    each point warm-started from the previous one (the first from ``W0, b0``), in one compiled
    call (:func:`regulab.solvers._mn_newton.mn_path`; no Python per point).

    Parameters as :func:`solve_multinomial`; ``l1s``, ``l2s`` : arrays of values >= 0 of one
    length (a path runs them with decreasing penalties). ``max_iter`` bounds the Newton steps
    of each point.
    """
    l1s = np.array(l1s, dtype=np.float64).ravel()
    l2s = np.array(l2s, dtype=np.float64).ravel()
    if l1s.shape != l2s.shape or l1s.size == 0:
        raise ValueError("l1s and l2s must be non-empty and of one length")
    for v, name in ((l1s, "l1"), (l2s, "l2")):
        if not (np.all(np.isfinite(v)) and np.all(v >= 0.0)):
            raise ValueError(f"{name} must be finite and >= 0")
    tol = check_nonneg(tol, "tol")
    max_iter = check_max_iter(max_iter)
    D = as_design(X)
    n, p = D.n, D.p
    if n == 0:
        raise ValueError("X has no rows")
    codes, K = check_codes(y, n, n_classes)
    s = normalized_weights(n, sample_weight)
    fit_intercept = bool(fit_intercept)
    b_null = null_intercepts(codes, s, K, fit_intercept)
    _, L = D.stats(s, fit_intercept)
    active = L > 0
    G0, _, _ = loss_gradient(D, codes, s, np.repeat(b_null[:, None], n, axis=1))
    G0[~active] = 0.0
    scale = _scale(G0, grouped)
    m = l1s.size
    coefs, intercepts = np.zeros((p, K, m)), np.repeat(b_null[:, None], m, axis=1)
    gaps, n_iter = np.zeros(m), np.zeros(m, dtype=np.int64)
    converged = np.ones(m, dtype=bool)
    if scale == 0.0:
        return MultinomialPathResult(coefs, intercepts, gaps, n_iter, converged, tol,
                                     "constant", D, codes, s)
    W = _start(W0, p, K, active)
    b = b_null.copy() if (b0 is None or not fit_intercept) else _start_b(b0, K)
    sqrtL = np.sqrt(np.where(active, L, 1.0))
    MNN.mn_path(*D.args, s, codes, np.flatnonzero(active).astype(np.int64), sqrtL, scale, l1s,
                l2s, bool(grouped), fit_intercept, tol, max_iter, max(1, int(ws_start)), MAX_CD,
                W, b, coefs, intercepts, gaps, n_iter, converged)
    return MultinomialPathResult(coefs, intercepts, gaps, n_iter, converged, tol,
                                 "prox_newton", D, codes, s)


def _scale(G, grouped) -> float:
    if G.size == 0:
        return 0.0
    return float(np.linalg.norm(G, axis=1).max() if grouped else np.abs(G).max())


def _start(W0, p, K, active):
    W = np.zeros((p, K)) if W0 is None else np.array(W0, dtype=np.float64).reshape(p, K)
    if not np.all(np.isfinite(W)):
        raise ValueError("W0 has a NaN or infinite value")
    W[~active] = 0.0
    return np.ascontiguousarray(W)


def _start_b(b0, K):
    b = np.array(b0, dtype=np.float64).ravel()
    if b.shape[0] != K or not np.all(np.isfinite(b)):
        raise ValueError(f"b0 must hold {K} finite intercepts")
    return b


def _predictors(D: Design, W, b) -> np.ndarray:
    """``Z = (X W + b)^T`` as a ``(K, n)`` C-ordered array."""
    K = W.shape[1]
    Z = np.empty((K, D.n))
    for k in range(K):
        Z[k] = (D.x_dot(W[:, k]) if D.p else 0.0) + b[k]
    return Z
