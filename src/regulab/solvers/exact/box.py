"""Per-feature penalty factors and coefficient bounds, for the squared and logistic losses.

Minimizes (``v_j >= 0`` the penalty factors, used as given: **not** rescaled to sum to ``p`` as
glmnet's ``penalty.factor`` is; ``v_j = 0`` leaves ``w_j`` unpenalized, ``v_j = inf`` holds it
at 0)::

    sum_i s_i loss(y_i, x_i.w + b) + l1 * sum_j v_j |w_j| + l2 * sum_j v_j w_j**2
    subject to  lower_j <= w_j <= upper_j

Both losses run working-set loops like the default solvers (:mod:`.squared_cd`,
:mod:`.logistic`) on the kernels of :mod:`regulab.solvers._box_kernels` (each coordinate's own
threshold, then a clip to its bounds); the active-set Newton phase and the ridge SVD are not used
here. Certificates (``ExactResult.criterion``):

* ``duality_gap`` (squared loss, when every unpenalized feature is unbounded and something is
  penalized): the gap of :func:`regulab.core.certificates.duality_gap_box` over the null loss.
  The unpenalized features are profiled like the intercept: at each check they are refitted by
  weighted least squares on the residual, and the returned point is the refitted one, so the
  certificate is that of the returned ``(w, b)``.
* ``kkt`` (logistic loss; squared loss with an unpenalized bounded feature or no penalty): the
  largest distance of ``-grad_j`` to the subdifferential of ``a_j |.|`` plus the normal cone of
  ``[lower_j, upper_j]`` at ``w_j`` (:func:`regulab.solvers._box_kernels.box_viol`), over the
  largest gradient entry at the intercept-only model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from regulab.core.losses import normalized_weights
from regulab.core.validation import check_bounds, check_penalty_factor
from regulab.solvers import _box_kernels as BK
from regulab.solvers import _design_kernels as DK
from regulab.solvers import _pn_kernels as PNK
from regulab.solvers.design import Design, as_design
from regulab.solvers.exact.result import ExactResult, zero_result
from regulab.solvers.exact.squared import centered_grad
from regulab.solvers.exact.working_set import select_ws

#: a CD pass on a working set stops when its largest KKT violation is below INNER times the full
INNER = 0.1
#: the gap profiles at most this many unpenalized features (a dense least-squares solve each
#: check); with more, the squared loss is certified by the KKT violation
MAX_FREE = 500


@dataclass(frozen=True)
class Box:
    """Per-feature penalty ``a_j |w_j| + c_j w_j**2`` (``a_j = inf``: held at 0) and bounds."""

    v: np.ndarray
    a: np.ndarray
    c: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    held: np.ndarray
    free: np.ndarray

    @property
    def gap_ok(self) -> bool:
        """Whether the squared-loss duality gap certifies (module docstring)."""
        unpen = (self.a == 0) & (self.c == 0)
        return bool(np.any(~unpen) and not np.any(unpen & ~self.free)
                    and self.free.sum() <= MAX_FREE)

    def penalty(self, w) -> float:
        k = ~self.held
        return float(np.sum(self.a[k] * np.abs(w[k]) + self.c[k] * w[k] ** 2))


def make_box(l1, l2, penalty_factor, lower, upper, p, names=None) -> Box:
    """The :class:`Box` of ``l1``, ``l2``, the factors (None: all 1) and the bounds (None:
    none); bad values raise :class:`~regulab.core.validation.InvalidValue`."""
    v = check_penalty_factor(penalty_factor, p, names=names)
    v = np.ones(p) if v is None else v
    lo, hi = check_bounds(lower, upper, p, v, names=names)
    if lo is None:
        lo, hi = np.full(p, -np.inf), np.full(p, np.inf)
    held = np.isinf(v)
    vf = np.where(held, 0.0, v)
    a = np.where(held, np.inf, l1 * vf)
    c = l2 * vf
    free = (a == 0) & (c == 0) & np.isneginf(lo) & np.isposinf(hi)
    return Box(v, a, c, lo, hi, held, free)


def _violations(grad, w, box: Box, active):
    out = np.empty(w.size)
    BK.box_viols(grad, w, box.a, box.lo, box.hi, out)
    out[~active] = 0.0
    return out


def _start(w, box: Box, active):
    """``w`` clipped to the box; features without information at the point of the box nearest
    0 (their coefficient does not change the fit)."""
    w = np.clip(w, box.lo, box.hi)
    zero = np.clip(0.0, box.lo, box.hi)
    w[~active] = zero[~active]
    w[box.held] = 0.0
    return w


# ---------------------------------------------------------------------------------------------
# squared loss
# ---------------------------------------------------------------------------------------------
class _Profile:
    """Least squares of a residual on the centered, weighted unpenalized columns ``F``, and
    ``C = X_c^T S X_F,c`` (the gradient's change per unit of their coefficients)."""

    def __init__(self, D: Design, s, xbar, F, active):
        self.F = F
        E = np.zeros((D.p, F.size))
        E[F, np.arange(F.size)] = 1.0
        cols = [D.x_dot(E[:, k]) for k in range(F.size)]
        self.XF = (np.column_stack(cols) if cols else np.zeros((D.n, 0))) - xbar[F]
        self.C = np.zeros((D.p, F.size))
        for k in range(F.size):
            self.C[:, k] = centered_grad(D, s, self.XF[:, k], xbar)
        self.C[~active] = 0.0
        self.sq = np.sqrt(s)

    def refit(self, r, g):
        """``(r - X_F delta, g - C delta, delta)``, ``delta`` the weighted least-squares fit of
        the residual ``r`` on ``X_F`` (``g`` its centered gradient)."""
        if self.F.size == 0:
            return r, g, np.zeros(0)
        delta = np.linalg.lstsq(self.sq[:, None] * self.XF, self.sq * r, rcond=None)[0]
        return r - self.XF @ delta, g - self.C @ delta, delta


def box_squared_gap(s, yc, box: Box, w, r, g, prof: _Profile, inactive):
    """``(w_cert, primal, gap)``: the point with its unpenalized features refitted, and the
    compiled :func:`regulab.solvers._box_kernels.box_gap` there (sums of
    :func:`regulab.core.certificates.duality_gap_box`), from the residual ``r`` at the best
    intercept and its centered gradient ``g`` (0 on the features without information)."""
    r, g, delta = prof.refit(r, g)
    w_cert = w.copy()
    w_cert[prof.F] += delta
    quad = float(DK.wdot(s, r, r))
    lin = 2.0 * float(DK.wdot(s, r, yc))
    primal, gap = BK.box_gap(quad, quad, lin, 2.0 * g, w_cert, box.a, box.c, box.lo, box.hi,
                             box.free | inactive)
    return w_cert, float(primal), float(gap)


def solve_box_squared(D: Design, y, s, weighted, fit_intercept, box: Box, w, tol, max_iter,
                      ws_start, anderson=5) -> ExactResult:
    """The squared loss with factors and bounds, from ``w`` (module docstring); ``anderson``
    iterates combined by Anderson extrapolation in CD (0 = off)."""
    ybar = float(DK.vdot(s, y)) if fit_intercept else 0.0
    yc = y - ybar
    null_loss = float(DK.wdot(s, yc, yc))
    xbar, L = D.stats(s, fit_intercept)
    active = (L > 0) & ~box.held
    w = _start(w, box, active)
    crit_name = "duality_gap" if box.gap_ok else "kkt"
    if null_loss == 0.0 and not np.any(w):
        return zero_result(D.p, ybar, crit_name, tol, box.penalty(w), "constant")
    g0 = centered_grad(D, s, yc, xbar)
    scale = 2.0 * float(np.abs(g0[active]).max(initial=0.0)) or 1.0
    prof = (_Profile(D, s, xbar, np.flatnonzero(box.free & active), active) if box.gap_ok
            else None)
    sqrtL = np.sqrt(np.where(active, L, 1.0))
    force = active & (box.v == 0)
    ws_size = max(1, int(ws_start))
    n_iter = 0
    while True:
        q = yc - D.x_dot(w)
        c = float(xbar @ w)
        r = q + c
        g = centered_grad(D, s, r, xbar)
        g[~active] = 0.0
        viol = _violations(-2.0 * g + 2.0 * box.c * w, w, box, active)
        if prof is not None:
            w_out, primal, gap = box_squared_gap(s, yc, box, w, r, g, prof, ~active)
            crit = gap / null_loss if null_loss > 0 else 0.0
        else:
            w_out, primal = w, float(DK.wdot(s, q + c, q + c)) + box.penalty(w)
            crit = float(viol.max(initial=0.0)) / scale
        if crit <= tol or n_iter >= max_iter:
            break
        ws_size = max(2 * ws_size, 2 * int(np.count_nonzero(w)))
        score = viol / sqrtL
        score[force] = np.inf
        ws = select_ws(score, w, active, ws_size)
        ep, _, _ = BK.cd_box_ws(*D.args, s, weighted, 1.0 / D.n, xbar, L, ws, w, q, c, box.a,
                                box.c, box.lo, box.hi, INNER * float(viol.max()),
                                max_iter - n_iter, anderson)
        n_iter += int(ep)
    b = ybar - float(xbar @ w_out) if fit_intercept else 0.0
    return ExactResult(w=w_out, intercept=b, gap=crit, n_iter=n_iter, converged=crit <= tol,
                       tol=tol, criterion=crit_name, objective=primal, solver="cd_box")


# ---------------------------------------------------------------------------------------------
# logistic loss
# ---------------------------------------------------------------------------------------------
def solve_box_logistic(D: Design, y, s, fit_intercept, box: Box, w, b, tol, max_iter,
                       ws_start) -> ExactResult:
    """The logistic loss with factors and bounds: proximal Newton on working sets from
    ``(w, b)``, certified by the KKT violation (module docstring)."""
    from scipy.special import expit  # here: a squared-loss fit never imports scipy.special

    pmean = float(s @ y)
    if fit_intercept and (pmean <= 0.0 or pmean >= 1.0):
        raise ValueError("logistic loss with an intercept needs both classes 0 and 1 among the "
                         "samples of positive weight")
    b_null = math.log(pmean / (1.0 - pmean)) if fit_intercept else 0.0
    _, L = D.stats(s, fit_intercept)
    active = (L > 0) & ~box.held
    w = _start(w, box, active)
    g_null = D.xt_dot(s * (expit(np.full(D.n, b_null)) - y))
    scale = float(np.abs(g_null[active]).max(initial=0.0)) or 1.0
    b = b_null if (b is None or not fit_intercept) else float(b)
    sqrtL = np.sqrt(np.where(active, L, 1.0))
    force = active & (box.v == 0)
    z = D.x_dot(w) + b
    n_newton, ws_size, stalled = 0, max(1, int(ws_start)), False
    while True:
        dvec = s * (expit(z) - y)
        grad = D.xt_dot(dvec) + 2.0 * box.c * w
        viol = _violations(grad, w, box, active)
        kkt = float(viol.max(initial=0.0))
        if fit_intercept:
            kkt = max(kkt, abs(float(dvec.sum())))
        crit = kkt / scale
        if crit <= tol or n_newton >= max_iter or stalled:
            break
        ws_size = max(2 * ws_size, 2 * int(np.count_nonzero(w)))
        score = viol / sqrtL
        score[force] = np.inf
        ws = select_ws(score, w, active, ws_size)
        tol_in = max(0.3 * kkt, 0.5 * tol * scale)
        it, b, status = BK.pn_box_ws(*D.args, s, y, ws, w, z, float(b), fit_intercept, box.a,
                                     box.c, box.lo, box.hi, tol_in, max_iter - n_newton, 50)
        n_newton += int(it)
        stalled = status == 2 or (it == 0 and ws.size == int(active.sum()))
        z = D.x_dot(w) + b
    obj = float(PNK.logistic_value(z, y, s)) + box.penalty(w)
    return ExactResult(w=w, intercept=float(b), gap=crit, n_iter=n_newton,
                       converged=crit <= tol, tol=tol, criterion="kkt", objective=obj,
                       solver="prox_newton_box")


def box_gap_at(X, y, w, l1, l2, penalty_factor=None, lower=None, upper=None,
               sample_weight=None, fit_intercept=True):
    """``(w_cert, b_cert, gap)``: the solvers' route to the duality gap of
    :func:`regulab.core.certificates.duality_gap_box` at ``w`` with its unpenalized features and
    intercept refitted (the point the squared-loss solver returns and certifies)."""
    D = as_design(X)
    y = np.asarray(y, dtype=float).ravel()
    s = normalized_weights(D.n, sample_weight)
    box = make_box(l1, l2, penalty_factor, lower, upper, D.p)
    xbar, L = D.stats(s, bool(fit_intercept))
    ybar = float(s @ y) if fit_intercept else 0.0
    active = (L > 0) & ~box.held
    prof = _Profile(D, s, xbar, np.flatnonzero(box.free & active), active)
    w = np.asarray(w, dtype=float).copy()
    r = y - ybar - D.x_dot(w) + float(xbar @ w)
    g = centered_grad(D, s, r, xbar)
    g[~active] = 0.0
    w_cert, _, gap = box_squared_gap(s, y - ybar, box, w, r, g, prof, ~active)
    b = ybar - float(xbar @ w_cert) if fit_intercept else 0.0
    return w_cert, b, gap
