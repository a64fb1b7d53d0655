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

from regulab.core.certificates import duality_gap_squared
from regulab.core.groups import as_groups
from regulab.core.losses import (
    PoissonLoss,
    SquaredLoss,
    make_loss,
    normalized_weights,
    spectral_norm_sq,
)
from regulab.core.penalties import ElasticNet, resolve_l1_ratio
from regulab.core.validation import (
    check_bounds,
    check_fraction,
    check_int,
    check_nonneg,
    check_penalty_factor,
    check_real,
    issparse,
)
from regulab.solvers.checks import check_max_iter, check_y
from regulab.solvers.design import as_design
from regulab.solvers.exact import solve, squared_path
from regulab.solvers.exact.gram_path import gram_path
from regulab.solvers.ridge import ridge_svd


def lam_max(X, y, *, loss="squared", l1_ratio=1.0, fit_intercept=True, sample_weight=None,
            penalty_factor=None, lower=None, upper=None, groups=None,
            offset=None) -> float:
    """Smallest lam with every coefficient exactly 0; for ``l1_ratio = 0`` (never all 0) the top
    of the ridge grid, ``100 * d_max`` (see the module docstring).

    With penalty factors or bounds (:func:`regulab.solvers.exact.solve`): the smallest lam with
    every *penalized* coefficient 0, the unpenalized ones (factor 0) fitted (the null model then
    includes them): ``max_j allowed_j / (rho v_j)`` over the ``j`` with ``0 < v_j < inf``, where
    ``allowed_j = max(-G_j if upper_j > 0, G_j if lower_j < 0, 0)`` and ``G`` the loss gradient
    at that null model (a bound at 0 keeps the coefficient from moving to that side). With
    ``groups`` (group lasso, :mod:`regulab.core.groups`): ``max_g ||grad_g||_2 / sqrt(|g|) /
    rho``, ``grad`` the loss gradient at the null model. ``offset``: the Poisson loss's
    ``log(exposure)`` (the null model, hence the gradient at ``w = 0``, depends on it)."""
    rho = check_fraction(l1_ratio, "l1_ratio")
    # a y of the wrong length or with NaN gets the solvers' message, not numpy's broadcast error
    y = check_y(y, X.shape[0])
    if rho == 0.0:
        return ridge_top(X, loss=loss, fit_intercept=fit_intercept, sample_weight=sample_weight,
                         y=y, offset=offset)
    if groups is not None:
        if penalty_factor is not None or lower is not None or upper is not None:
            raise ValueError("groups= does not combine with penalty_factor=/lower=/upper=")
        lf = make_loss(loss)
        b0 = lf.null_intercept(y, sample_weight) if fit_intercept else 0.0
        grad, _ = lf.gradient(X, y, np.zeros(X.shape[1]), b0, sample_weight)
        return as_groups(groups, X.shape[1]).dual_norm(grad) / rho
    if penalty_factor is not None or lower is not None or upper is not None:
        return _lam_max_box(X, y, loss, rho, fit_intercept, sample_weight, penalty_factor, lower,
                            upper)
    options = {"offset": offset} if loss == "poisson" else {}
    return ElasticNet(1.0, rho).lam_max(X, y, make_loss(loss, **options), fit_intercept,
                                        sample_weight)


def null_with_unpenalized(X, y, loss, fit_intercept, sample_weight, v, lo, hi):
    """``(w, b)``: penalized coefficients 0, unpenalized ones (``v_j = 0``) and the intercept
    fitted (within their bounds)."""
    p = X.shape[1]
    U = np.flatnonzero(v == 0)
    XU = X[:, U]
    kw = {} if U.size == 0 else dict(penalty_factor=np.zeros(U.size), lower=lo[U], upper=hi[U])
    res = solve(XU, y, loss=loss, fit_intercept=fit_intercept, sample_weight=sample_weight,
                tol=1e-10, **kw)
    w = np.zeros(p)
    w[U] = res.w
    return w, res.intercept


def _lam_max_box(X, y, loss, rho, fit_intercept, sample_weight, penalty_factor, lower, upper):
    p = X.shape[1]
    v = check_penalty_factor(penalty_factor, p)
    v = np.ones(p) if v is None else v
    lo, hi = check_bounds(lower, upper, p, v)
    if lo is None:
        lo, hi = np.full(p, -np.inf), np.full(p, np.inf)
    y = np.asarray(y, dtype=float).ravel()
    w, b = null_with_unpenalized(X, y, loss, fit_intercept, sample_weight, v, lo, hi)
    s = normalized_weights(X.shape[0], sample_weight)
    z = np.asarray(X @ w).ravel() + b
    if loss == "logistic":
        from scipy.special import expit

        d = s * (expit(z) - y)
    else:
        d = -2.0 * s * (y - z)
    G = np.asarray(X.T @ d).ravel()
    allowed = np.maximum(np.where(hi > 0, -G, 0.0), np.where(lo < 0, G, 0.0))
    pen = (v > 0) & np.isfinite(v)
    if not np.any(pen):
        return 0.0
    return float(np.max(np.maximum(allowed[pen], 0.0) / (rho * v[pen])))


def ridge_top(X, *, loss="squared", fit_intercept=True, sample_weight=None, y=None,
              offset=None) -> float:
    """``100 * d_max``, ``d_max`` the largest eigenvalue of the curvature of the loss in ``w``
    (``X^T S X`` centered for the squared loss; a quarter of it for the logistic loss;
    ``X^T S M X`` for the Poisson loss, ``M`` the null model's means ``mu_i``, which need ``y``)."""
    s = normalized_weights(X.shape[0], sample_weight)
    if loss == "poisson":
        s = s * _poisson_null_mean(y, s, fit_intercept, offset)
        if fit_intercept and not issparse(X):
            X = X - (s / s.sum()) @ X
        return 100.0 * spectral_norm_sq(X, s)
    if fit_intercept and not issparse(X):
        X = X - s @ X
    d_max = spectral_norm_sq(X, s) * (0.25 if loss == "logistic" else 1.0)
    return 100.0 * d_max


def _poisson_null_mean(y, s, fit_intercept, offset) -> np.ndarray:
    """``mu_i = exp(b_null + o_i)``: the means of the Poisson null model (``w = 0``)."""
    o = np.zeros(s.shape[0]) if offset is None else np.asarray(offset, dtype=float).ravel()
    b = PoissonLoss(offset).null_intercept(y, s) if fit_intercept else 0.0
    return np.exp(b + o)


def default_eps(n_samples: int, n_features: int, l1_ratio: float = 1.0) -> float:
    if l1_ratio == 0.0:
        return 1e-6 if n_samples > n_features else 1e-4
    return 1e-3 if n_samples > n_features else 1e-2


def lam_grid(X, y, *, loss="squared", l1_ratio=1.0, n_lams=100, eps=None, fit_intercept=True,
             sample_weight=None, penalty_factor=None, lower=None, upper=None,
             groups=None, offset=None) -> np.ndarray:
    """``n_lams`` lams, geometric and decreasing, from :func:`lam_max` to ``lam_max * eps``
    (penalty factors, bounds, groups and the Poisson loss's ``offset`` as there)."""
    n_lams = check_int(n_lams, "n_lams", 1)
    n, p = X.shape
    eps = default_eps(n, p, l1_ratio) if eps is None else check_real(
        eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)
    top = lam_max(X, y, loss=loss, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                  sample_weight=sample_weight, penalty_factor=penalty_factor, lower=lower,
                  upper=upper, groups=groups, offset=offset)
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
    #: per-feature penalty factors and bounds the path was fitted with (None: all 1, unbounded)
    penalty_factor: np.ndarray | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    groups: object = None  # the Groups of a group-lasso path, else None

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
                        feature_names=None, penalty=None, penalty_factor=None, lower=None,
                        upper=None, groups=None, offset=None) -> PathResult:
    """Solve along a decreasing lam grid, each fit warm-started from the previous one.

    The penalty is ``l1_ratio`` (the L1 share rho, default 1) or ``penalty``, a kind name of
    :data:`regulab.core.penalties.KINDS` (``'l1'``, ``'l2'``, ``'elasticnet'`` with ``l1_ratio``
    or its default); both may be given only if they agree. ``lams`` (sorted decreasing here)
    overrides the default grid of :func:`lam_grid`. A pure L2 path on the squared loss with dense
    X uses one SVD for the whole grid; an L1 or elastic-net squared-loss path on a small dense X
    without the options below (:mod:`regulab.solvers.exact.gram_path`) runs in one compiled
    call. ``penalty_factor``, ``lower``, ``upper``: per-feature
    factors and bounds of :func:`regulab.solvers.exact.solve` (the grid's top then leaves the
    unpenalized features fitted, see :func:`lam_max`). ``groups`` (a partition of the features,
    :mod:`regulab.core.groups`) makes the L1 part the group lasso's
    ``sum_g sqrt(|g|) ||w_g||_2``: groups enter or leave the path whole.
    ``offset`` (Poisson loss only) is ``log(exposure)``, added to every linear predictor.
    """
    rho = resolve_l1_ratio(penalty, l1_ratio)
    box = dict(penalty_factor=penalty_factor, lower=lower, upper=upper)
    boxed = any(x is not None for x in box.values())
    if groups is not None:
        groups = as_groups(groups, X.shape[1])
    lams = (lam_grid(X, y, loss=loss, l1_ratio=rho, n_lams=n_lams, eps=eps,
                     fit_intercept=fit_intercept, sample_weight=sample_weight, groups=groups,
                     offset=offset, **box)
            if lams is None else _check_lams(lams))
    p = X.shape[1]
    coefs = np.zeros((p, lams.size))
    intercepts = np.zeros(lams.size)
    gaps = np.zeros(lams.size)
    n_iter = np.zeros(lams.size, dtype=int)
    converged = np.zeros(lams.size, dtype=bool)
    criterion = "duality_gap"
    if rho == 0.0 and loss == "squared" and not issparse(X) and not boxed:
        coefs, intercepts, gaps = _ridge_path(X, y, lams, sample_weight, fit_intercept)
        converged[:] = gaps <= tol
        return PathResult(lams, coefs, intercepts, gaps, n_iter, converged, rho, loss,
                          fit_intercept, criterion, feature_names, groups=groups)
    if loss == "squared" and not boxed and groups is None:
        # the compiled small-problem route knows only the plain options: penalty factors,
        # bounds and groups skip it (as must any new option)
        tol, max_iter = check_nonneg(tol, "tol"), check_max_iter(max_iter)
        # prepared once here for both routes: each look-up of X checksums it (1e6 stored
        # entries: ~2 ms, paid twice per path before)
        D = as_design(X)
        fast = gram_path(D, y, lams, rho, sample_weight=sample_weight,
                         fit_intercept=fit_intercept, tol=tol, max_iter=max_iter)
        if fast is not None:
            coefs, intercepts, gaps, n_iter = fast
            return PathResult(lams, coefs, intercepts, gaps, n_iter, gaps <= tol, rho, loss,
                              fit_intercept, criterion, feature_names)
    else:
        # X validated and prepared once for the whole grid (the design cache would find it
        # again on every call, at the cost of a checksum of X per lam)
        D = as_design(X)
    w0, b0 = _null_start(X, y, loss, fit_intercept, sample_weight, box) if boxed else (None, None)
    options = {} if offset is None else {"offset": offset}
    # each lam's non-zeros kept apart while solving, written as rows of a (lams, p) array
    # after the loop: writing a column of a (p, lams) array touches p cache lines (measured
    # 0.5 s of a 100-lam path at p = 50,000); ``coefs`` is the rows' transpose, a
    # Fortran-ordered view (a C-ordered copy cost 0.05-0.1 s at that size: a fresh 40 MB
    # array). A full row per lam in the loop wrote 400 kB of fresh pages per lam at p = 50,000
    # (faults, and the solver's vectors pushed out of the cache between two lams)
    nonzeros = []
    w_prev = None
    # an L1 squared-loss path on sparse X starts each lam on the line through the last two
    # solutions (fewer CD epochs; the sparse solver ranks its first working set by the last
    # gradient, so no gradient pass is spent on the moved start). Not on dense X, whose solver
    # would then recompute a full gradient the unmoved start gets for free.
    ahead = (loss == "squared" and rho > 0.0 and issparse(X) and not boxed
             and groups is None)
    # the plain squared loss: y, the weights and the centering checked and computed once for
    # the grid (solve() redid them per lam: ~10 passes over n and two hashes of the weights)
    plain = loss == "squared" and not boxed and groups is None and offset is None
    fit = (squared_path(D, y, fit_intercept=fit_intercept, sample_weight=sample_weight, tol=tol,
                        max_iter=max_iter) if plain else None)
    step = None  # the moved start's t along the line through the last two solutions
    moved = False  # ``w0`` is path_step_ahead's fresh array: the solve takes it over
    supports = None  # the last two solutions and their non-zeros, when ``w0`` was moved
    supp = None
    for k, lam in enumerate(lams):
        supp_prev = supp
        if plain:  # ``res.w`` read-only, its non-zeros found over the last working set
            res, supp = fit(lam * rho, lam * (1.0 - rho), w0, step, moved, supports, True)
        else:
            res = solve(D, y, loss=loss, l1=lam * rho, l2=lam * (1.0 - rho),
                        fit_intercept=fit_intercept, sample_weight=sample_weight, w0=w0, b0=b0,
                        tol=tol, max_iter=max_iter, groups=groups, **box, **options)
            supp = np.flatnonzero(res.w != 0.0)  # on a mask: see path_step_ahead
        # ``res.w`` is this solve's own array (the solvers copy their start): kept, not copied
        nonzeros.append((supp, res.w[supp]))
        intercepts[k] = res.intercept
        gaps[k], n_iter[k], converged[k] = res.gap, res.n_iter, res.converged
        criterion = res.criterion
        w0, b0 = res.w, res.intercept
        moved = ahead and 1 <= k < lams.size - 1
        if moved:
            w0 = path_step_ahead(w_prev, res.w, lams[k - 1], lams[k], lams[k + 1], supp)
            step = _step(lams[k - 1], lams[k], lams[k + 1])
            # the start's residual from the last two (squared_path): a pass over their supports
            # instead of p (w0's non-zeros are among supp's)
            supports = (w_prev, supp_prev, res.w, supp)
        w_prev = res.w
    rows = np.zeros((lams.size, p))
    for k, (supp, vals) in enumerate(nonzeros):
        rows[k, supp] = vals
    coefs = rows.T
    return PathResult(lams, coefs, intercepts, gaps, n_iter, converged, rho, loss, fit_intercept,
                      criterion, feature_names, *_box_arrays(p, **box), groups=groups)


def path_step_ahead(w_a, w_b, lam_a, lam_b, lam_c, supp=None) -> np.ndarray:
    """The warm start at ``lam_c`` from the solutions ``w_a``, ``w_b`` at the two lams before
    it: the straight line through them, on the support of ``w_b`` (``supp``, its indices in
    increasing order, when the caller has them), each coefficient set to 0 where the line
    would change its sign.

    A lasso path is piecewise linear in lam, so this is exact while the support and its signs
    do not change between ``lam_b`` and ``lam_c``; features that enter stay 0 (the solver's
    working set finds them)."""
    t = _step(lam_a, lam_b, lam_c)
    # on the support only: six passes over p cost 0.3 ms per lam at p = 50,000. The support via
    # a boolean mask: numpy's nonzero on a float64 array took 114 us at p = 50,000, on the
    # mask 9 us (the same indices: -0.0 and 0.0 are zero for both)
    if supp is None:
        supp = np.flatnonzero(w_b != 0.0)
    b = w_b[supp]
    v = b + t * (b - w_a[supp])
    v[np.sign(v) != np.sign(b)] = 0.0
    w = np.zeros(w_b.shape[0])
    w[supp] = v
    return w


def _step(lam_a, lam_b, lam_c) -> float:
    """How far :func:`path_step_ahead` goes along its line: ``(lam_c - lam_b) / (lam_b -
    lam_a)`` (0 when ``lam_a = lam_b``)."""
    return (lam_c - lam_b) / (lam_b - lam_a) if lam_b != lam_a else 0.0


def _null_start(X, y, loss, fit_intercept, sample_weight, box):
    """The warm start of a path with unpenalized features: the null model of :func:`lam_max`
    (its penalized coefficients stay exactly 0 down to lam_max)."""
    p = X.shape[1]
    v, lo, hi = _box_arrays(p, **box)
    if v is None or not np.any(v == 0):
        return None, None
    if lo is None:
        lo, hi = np.full(p, -np.inf), np.full(p, np.inf)
    return null_with_unpenalized(X, np.asarray(y, dtype=float).ravel(), loss, fit_intercept,
                                 sample_weight, v, lo, hi)


def _box_arrays(p, penalty_factor, lower, upper):
    """The factors and bounds as arrays for :class:`PathResult` (None when not given)."""
    v = check_penalty_factor(penalty_factor, p)
    lo, hi = check_bounds(lower, upper, p, np.ones(p) if v is None else v)
    return v, lo, hi


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
