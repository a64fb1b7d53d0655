"""Exact solvers with optimality certificates: the engine every fit, path and CV goes through.

Minimizes regulab's objective (README, "The objective, and other tools' lambdas")::

    P(w, b) = sum_i s_i * loss(y_i, x_i.w + b) + l1 * ||w||_1 + l2 * ||w||_2**2

(``s`` the sample weights normalized to sum to 1; ``b`` unpenalized, fitted when
``fit_intercept``; the penalty given as ``l1=``, ``l2=`` or as one ``penalty=`` object), and stops
on a certificate. :func:`solve` dispatches:

===========================  ===============================================  ===============
problem                      method                                           ``criterion``
===========================  ===============================================  ===============
squared, l1 > 0 (L1, EN)     coordinate descent on working sets (numba,       duality_gap
                             Anderson extrapolation); when CD stalls on a
                             large ill-conditioned support (p >> n near the
                             end of a path): active-set Newton
                             (:mod:`.newton`), kept along a warm path
squared, l1 = 0, l2 > 0      dense: closed form by SVD                        duality_gap
                             (:mod:`regulab.solvers.ridge`), cached per X;
                             sparse: coordinate descent
squared, l1 = l2 = 0         minimum-norm least squares (SVD or LSQR)         kkt
logistic, any penalty        proximal Newton on working sets                  kkt
penalty factors or bounds    :mod:`.box`: working-set CD (squared), proximal  duality_gap or
                             Newton (logistic), per-feature thresholds and    kkt (see there)
                             clipping to the bounds
``groups=`` given, l1 > 0    block coordinate descent on working sets         duality_gap
                             (:mod:`.group`, group lasso)                     (squared), kkt
poisson (offset), any        damped proximal Newton on working sets           kkt
penalty                      (:mod:`.poisson`; Armijo steps: no Lipschitz
                             constant)
multinomial (softmax), any   proximal Newton on working sets                  kkt
penalty, grouped or not      (:mod:`.multinomial`; returns a
                             ``MultinomialResult`` with ``W`` (p x K), ``b``)
===========================  ===============================================  ===============

Certificates (``ExactResult.gap``):

* ``duality_gap``: ``gap / null_loss`` with ``gap`` the duality gap of
  :func:`regulab.core.certificates.duality_gap_squared` (dual point from the residual) and
  ``null_loss`` the loss of the null model (``w = 0``, ``b`` the weighted mean of ``y`` when the
  intercept is fitted, else ``b = 0``). It bounds the relative suboptimality
  ``(P(w, b) - min P) / null_loss``.
* ``kkt``: ``max(max_j dist(-grad_j, l1 * d|w_j|), |grad_b|) / scale`` with ``grad`` the gradient
  of the smooth part (loss + l2 term) and ``scale = max_j |grad_j|`` of the loss at the null model
  (the ``lam_max`` of the pure-L1 problem, so ``tol`` is relative to the largest penalty that
  matters). It is 0 exactly at the optimum.

``converged`` is ``gap <= tol`` for the iterative methods; the direct methods (SVD, dense least
squares) report ``converged=True`` and their gap (rounding level). Non-convergence is never an
error: ``converged=False`` with the gap reached (the estimators warn).

The methods live in :mod:`.squared` (centering, gap, direct methods), :mod:`.squared_cd`
(working-set coordinate descent), :mod:`.newton` (active-set Newton), :mod:`.logistic` and
:mod:`.poisson` (``loss(y_i, z_i) = exp(z_i + o_i) - y_i (z_i + o_i)``, offset ``o``).
A whole L1/elastic-net squared-loss path of a small dense problem (at most 128 features, no
factors, bounds or groups) runs in one compiled call instead of one :func:`solve` per lam
(:mod:`.gram_path`, used by :func:`regulab.selection.path.regularization_path`).

Repeated calls on the same X object (a path, a CV fold) reuse its validated Fortran/CSC copy,
column statistics, SVD and Gram columns (:class:`regulab.solvers.design.Design`); an in-place
edit of X is detected.

Degenerate inputs: a response constant over the rows of positive weight gives ``w = 0`` and
``b = y`` at once; a column constant over those rows (with an intercept; an all-zero column
without one) gets a coefficient exactly 0; zero-weight rows are removed.
"""

from __future__ import annotations

import numpy as np

from regulab.core.losses import check_counts, check_labels, check_offset, normalized_weights
from regulab.core.penalties import Penalty
from regulab.core.validation import check_nonneg
from regulab.solvers import _cd_kernels as CDK
from regulab.solvers import _design_kernels as DK
from regulab.solvers.checks import check_max_iter, check_start, check_y
from regulab.solvers.design import Design, as_design
from regulab.solvers.exact.box import make_box, solve_box_logistic, solve_box_squared
from regulab.solvers.exact.group import solve_group
from regulab.solvers.exact.logistic import solve_logistic
from regulab.solvers.exact.poisson import solve_poisson
from regulab.solvers.exact.multinomial import MultinomialResult, solve_multinomial
from regulab.solvers.exact.result import ExactResult, zero_result
from regulab.solvers.exact.squared import (
    SquaredProblem,
    least_squares,
    solve_ridge_svd,
    squared_gap,
)
from regulab.solvers.exact.gradient_bound import refusal_level
from regulab.solvers.exact.squared_cd import ANDERSON, CDSettings, cd_squared

__all__ = ["ExactResult", "MultinomialResult", "solve", "squared_gap", "squared_path"]

#: beyond this ``min(n, p)**2 * max(n, p)`` a ridge problem is solved by CD, not by SVD
SVD_MAX_FLOPS = 3e10
#: a path's moved start (``squared_path(...)(..., step=t)``) gets its residual combined from the
#: last two unless more than this share of the last support's columns is off their line
MOVED_MAX_OFF = 0.25
#: ... the supports of a moved start's last two solutions, when not known
NO_SUPPORT = np.empty(0, dtype=np.int64)


def solve(X, y, *, loss="squared", l1=None, l2=None, penalty=None, fit_intercept=True,
          sample_weight=None, w0=None, b0=None, tol=1e-6, max_iter=10_000, anderson=None,
          ws_start=10, penalty_factor=None, lower=None, upper=None,
          groups=None, offset=None, grouped=False,
          n_classes=None) -> ExactResult | MultinomialResult:
    """Minimize ``P(w, b)`` above to ``gap <= tol``; see :class:`ExactResult`.

    Parameters
    ----------
    X : array of shape (n, p) or scipy.sparse matrix
        Dense (any order, float32 kept in float32) or sparse (worked on as CSC, never
        densified).
    y : array of shape (n,)
        Response; labels 0/1 for the logistic loss; values >= 0 (counts or rates) for the
        Poisson loss; class codes 0..K-1 for the multinomial.
    loss : {'squared', 'logistic', 'poisson', 'multinomial'}
        ``'multinomial'`` is :func:`.multinomial.solve_multinomial` (its objective, with
        ``grouped`` and ``n_classes``; ``w0``/``b0`` of shapes (p, K)/(K,)).
    l1, l2 : float >= 0, optional
        The penalty ``l1 ||w||_1 + l2 ||w||_2**2`` (each 0 when not given).
    penalty : regulab.core.penalties.Penalty, optional
        The same penalty as an object (:class:`~regulab.core.penalties.L1`, ``L2``,
        ``ElasticNet``: its ``l1_l2_parts()``); not together with ``l1``/``l2``.
    fit_intercept : bool
    sample_weight : array of shape (n,), optional
    w0, b0 : warm start of the iterative methods.
    tol : float
        The certificate's threshold (module docstring).
    max_iter : int
        Bound on the epochs (CD), Newton steps or LSQR iterations.
    anderson : int, optional
        Iterates combined by Anderson extrapolation in CD (0 = off; None: 5, and 3 in the CD
        of a sparse X with equal weights, see :mod:`.squared_cd`).
    ws_start : int
        The first working-set size.
    penalty_factor : array of shape (p,) or float, optional
        Per-feature factors ``v_j >= 0``: the penalty becomes
        ``l1 * sum_j v_j |w_j| + l2 * sum_j v_j w_j**2``. Used as given (glmnet rescales its
        ``penalty.factor`` to sum to p; regulab does not). ``v_j = 0``: unpenalized;
        ``v_j = inf``: ``w_j`` held at 0.
    lower, upper : float or array of shape (p,), optional
        Bounds ``lower_j <= w_j <= upper_j``; a penalized feature needs ``lower_j <= 0 <=
        upper_j``. With factors or bounds the problem is solved by :mod:`.box` (its
        certificates there); without them (the default) nothing changes.
    groups : array of p labels or list of index lists, optional
        A partition of the features penalized as groups (group lasso, :mod:`.group`):
        ``l1 * ||w||_1`` becomes ``l1 * sum_g sqrt(|g|) ||w_g||_2`` (dense X only). Not a
        multinomial model's grouping across classes.
    offset : array of shape (n,), optional
        Poisson loss only: ``o_i`` added to the linear predictor, ``log(exposure_i)``.
    """
    l1, l2 = _penalty_parts(l1, l2, penalty)
    if loss == "multinomial":
        if (penalty_factor is not None or lower is not None or upper is not None
                or groups is not None or offset is not None):
            raise ValueError("the multinomial loss takes no penalty_factor=, lower=, upper=, "
                             "groups= or offset= (yet); grouped=True groups each feature's K "
                             "coefficients")
        return solve_multinomial(X, y, n_classes=n_classes, grouped=grouped, l1=l1, l2=l2,
                                 fit_intercept=fit_intercept, sample_weight=sample_weight,
                                 W0=w0, b0=b0, tol=tol, max_iter=max_iter, ws_start=ws_start)
    tol = check_nonneg(tol, "tol")
    max_iter = check_max_iter(max_iter)
    name = _loss_name(loss)
    D = as_design(X)
    n, p = D.n, D.p
    if n == 0:
        raise ValueError("X has no rows")
    y = check_y(y, n)
    s = normalized_weights(n, sample_weight)
    weighted = not bool(np.all(s == s[0]))
    w, b = check_start(w0, b0, p)
    fit_intercept = bool(fit_intercept)
    has_box = penalty_factor is not None or lower is not None or upper is not None
    if offset is not None and name != "poisson":
        raise ValueError(f"offset is used by the poisson loss only, not by the {name} loss")
    if name == "poisson":
        if has_box or groups is not None:
            raise ValueError("the poisson loss takes no penalty_factor=, lower=, upper= or "
                             "groups= (yet)")
        return solve_poisson(D, check_counts(y), s, check_offset(offset, n), fit_intercept, l1,
                             l2, w, b, tol, max_iter, int(ws_start))
    if groups is not None and l1 > 0.0:
        if has_box:
            raise ValueError("groups= does not combine with penalty_factor=/lower=/upper= "
                             "(the group lasso has no per-feature factors or bounds here)")
        if D.is_sparse:
            raise ValueError("groups= needs a dense X (no group lasso on a sparse X)")
        return solve_group(D.dense, y, s, groups, name, fit_intercept,
                           l1, l2, w, b, tol, max_iter, int(ws_start))
    if has_box:
        box = make_box(l1, l2, penalty_factor, lower, upper, p)
        if name == "logistic":
            check_labels(y)
            return solve_box_logistic(D, y, s, fit_intercept, box, w, b, tol, max_iter,
                                      ws_start)
        return solve_box_squared(D, y, s, weighted, fit_intercept, box, w, tol, max_iter,
                                 ws_start, ANDERSON if anderson is None else int(anderson))
    if name == "logistic":
        check_labels(y)
        return solve_logistic(D, y, s, fit_intercept, l1, l2, w, b, tol, max_iter,
                              int(ws_start))
    return _solve_squared(D, y, s, weighted, fit_intercept, l1, l2, w,
                          CDSettings(tol, max_iter, None if anderson is None else int(anderson),
                                     int(ws_start)))


def _penalty_parts(l1, l2, penalty) -> tuple[float, float]:
    """``(l1, l2)`` from the floats or from a :class:`Penalty`, never both."""
    if penalty is None:
        return (check_nonneg(0.0 if l1 is None else l1, "l1"),
                check_nonneg(0.0 if l2 is None else l2, "l2"))
    if l1 is not None or l2 is not None:
        raise ValueError(f"give the penalty once: penalty={penalty!r} or l1=/l2=, not both")
    if not isinstance(penalty, Penalty):
        raise ValueError("penalty must be a regulab.core.penalties.Penalty (L1, L2, "
                         f"ElasticNet), got {penalty!r}")
    l1, l2 = penalty.l1_l2_parts()
    return check_nonneg(l1, "l1"), check_nonneg(l2, "l2")


def _loss_name(loss):
    name = loss if isinstance(loss, str) else getattr(loss, "name", None)
    if name not in ("squared", "logistic", "poisson"):
        raise ValueError(f"unknown loss {loss!r}; valid choices: squared, logistic, poisson, "
                         f"multinomial")
    return name


def squared_path(X, y, *, fit_intercept=True, sample_weight=None, tol=1e-6, max_iter=10_000,
                 anderson=None, ws_start=10):
    """:func:`solve` for the squared loss, prepared once for many penalties (a path).

    Returns ``fit(l1, l2, w0=None) -> ExactResult``, the result of ``solve(X, y, l1=l1, l2=l2,
    w0=w0, ...)`` with these arguments (the same iterates and certificate), without redoing per
    call what depends only on ``X``, ``y`` and the weights: the checks of ``y`` and the weights,
    the centering, the null loss and the column statistics (whose cache look-up hashes the
    weights' bytes). The solves also find their predecessor's :class:`LastGradient
    <regulab.solvers.design.LastGradient>` by identity, not by comparing ``y_c`` and ``s``.
    Errors about ``X``, ``y``, the weights, ``tol`` or ``max_iter`` are raised here.

    ``own=True``: ``w0`` is the caller's fresh float64 array of ``p`` finite values, which the
    solve may overwrite (not copied, not checked).

    ``nonzeros=True``: the solve returns ``(result, idx)``, ``idx`` the sorted indices of
    ``result.w``'s non-zeros, and its caller promises never to write ``result.w`` (made
    read-only): the solver keeps it as the last solution instead of a copy, and finds ``idx``
    over its last working set, not by a pass over p (:func:`.squared_cd.cd_squared`).

    ``step=t``: ``w0`` is :func:`regulab.selection.path.path_step_ahead`'s start ``t`` along the
    line through this ``fit``'s last two solutions. ``y_c - X w`` is affine in ``w``, so the
    residual at ``w0`` is combined from their residuals (and the few columns where ``w0`` left
    the line) instead of a product with ``X``; like the residual the CD kernel carries, it never
    certifies a gap (:mod:`.squared_cd`). Any other ``w0`` is still solved right: the columns
    off the line are corrected, and a product with ``X`` is made when there are many.
    """
    tol = check_nonneg(tol, "tol")
    max_iter = check_max_iter(max_iter)
    D = as_design(X)
    if D.n == 0:
        raise ValueError("X has no rows")
    y = check_y(y, D.n)
    s = normalized_weights(D.n, sample_weight)
    weighted = not bool(np.all(s == s[0]))
    fit = _SquaredSolver(D, y, s, weighted, bool(fit_intercept))
    opts = CDSettings(tol, max_iter, None if anderson is None else int(anderson), int(ws_start))

    def solve_at(l1, l2, w0=None, step=None, own=False, supports=None, nonzeros=False):
        # ``own``: ``w0`` is a float64 array of p finite values made for this call (a path's
        # moved start), taken over as it is: no copy and no check (two passes over p per lam)
        w = w0 if own else check_start(w0, None, D.p)[0]
        return fit(check_nonneg(l1, "l1"), check_nonneg(l2, "l2"), w, opts, step, supports,
                   nonzeros)

    return solve_at


def _solve_squared(D: Design, y, s, weighted, fit_intercept, l1, l2, w,
                   opts: CDSettings) -> ExactResult:
    """The squared-loss rows of the table above."""
    return _SquaredSolver(D, y, s, weighted, fit_intercept)(l1, l2, w, opts)


class _SquaredSolver:
    """The squared-loss rows of the table above, for one ``(X, y, s, fit_intercept)``: what does
    not depend on the penalty is computed once (:func:`squared_path`), then each call
    ``(l1, l2, w, opts)`` solves from ``w`` (modified in place)."""

    def __init__(self, D: Design, y, s, weighted, fit_intercept):
        self.D = D
        self.const = None  # ``(intercept, null_loss)`` when ``w = 0`` is optimal for any penalty
        self.sqrtL = None  # ``D.sqrt_norms``, looked up at the first CD solve
        self.level = None  # ``refusal_level`` (sparse X), made with ``sqrtL``
        self.older = None  # the LastGradient before the one this solver's last CD solve left
        # the working-set pass's threshold hint, carried from solve to solve (cd_squared)
        self.hint = np.full(1, -np.inf)
        # the last two LastGradients this solver's solves left, each with that solve's result
        # ``w`` (whose supports a path may hand back: _moved_residual)
        self.made = ()
        pos = s > 0
        ypos = y[pos]
        if fit_intercept and np.all(ypos == ypos[0]):
            self.const = (ypos[0], 0.0)
            return
        if not fit_intercept and not np.any(ypos):
            self.const = (0.0, 0.0)
            return
        ybar = float(DK.vdot(s, y)) if fit_intercept else 0.0
        yc = y - ybar
        null_loss = float(DK.wdot(s, yc, yc))
        if D.p == 0:
            self.const = (ybar, null_loss)
            return
        xbar, L = D.stats(s, fit_intercept)
        n_pos = int(pos.sum())
        # l1 = l2 = 0 here; each call takes its own penalty (``SquaredProblem.with_penalty``)
        active = L > 0
        self.base = SquaredProblem(D, y, yc, s, weighted, fit_intercept, ybar, xbar, L, active,
                                   null_loss, n_pos - (1 if fit_intercept else 0), 0.0, 0.0,
                                   int(np.count_nonzero(active)))
        self.small = min(n_pos, D.p) ** 2 * max(n_pos, D.p) <= SVD_MAX_FLOPS

    def __call__(self, l1, l2, w, opts: CDSettings, step=None, supports=None,
                 nonzeros=False):
        """The solve from ``w``: an :class:`ExactResult`, or ``(result, idx)`` with
        ``nonzeros`` (:func:`squared_path`)."""
        res = self._solve(l1, l2, w, opts, step, supports, nonzeros)
        if not nonzeros:
            return res
        res, idx = res if isinstance(res, tuple) else (res, np.flatnonzero(res.w != 0.0))
        res.w.flags.writeable = False  # may be kept as the last solution (squared_path)
        return res, idx

    def _solve(self, l1, l2, w, opts: CDSettings, step, supports, nonzeros):
        crit = "kkt" if l1 == 0.0 and l2 == 0.0 else "duality_gap"
        if self.const is not None:
            b, null_loss = self.const
            return zero_result(self.D.p, b, crit, opts.tol, null_loss, "constant")
        P = self.base.with_penalty(l1, l2)
        if l1 == 0.0 and l2 == 0.0:
            return least_squares(P, opts.tol, opts.max_iter, self.small)
        if l1 == 0.0 and not self.D.is_sparse and self.small:
            return solve_ridge_svd(P, opts.tol)
        if self.sqrtL is None:
            self.sqrtL = self.D.sqrt_norms(P.s, P.fit_intercept)
            if self.D.is_sparse:  # the bounded gradient's early refusals, for every solve
                self.level = refusal_level(P, self.sqrtL)
        q0 = known = None
        if step is not None:
            mine = self._made_by_me(supports)
            q0 = self._moved_residual(w, step, supports, mine)
            if mine:  # the last solution's non-zeros, holding ``w``'s
                known = supports[3]
        before = self.D.last_grad
        out = cd_squared(P, w, opts, self.sqrtL, q0, self.level, self.hint, known, nonzeros,
                         nonzeros)
        res = out[0] if nonzeros else out
        if self.D.last_grad is not before:
            self.older = before
            self.made = (self.made + ((self.D.last_grad, res.w),))[-2:]
        return out

    def _moved_residual(self, w, t, supports=None, mine=None):
        """``y_c - X w`` from the last two solutions ``w_a``, ``w_b`` of this problem and their
        residuals: ``q_b + t (q_b - q_a)`` at ``line = w_b + t (w_b - w_a)``, less ``X (w -
        line)`` on the columns where ``w`` is off the line (a path's start: where the line
        changed a sign or a feature left the support). None when the two are not this
        problem's or more than ``MOVED_MAX_OFF`` of the columns of ``w_b``'s support are off.

        ``supports``: ``(w_a, supp_a, w_b, supp_b)``, two results of this solver (their ``w``
        arrays, unchanged) and their non-zeros, ``w``'s among ``supp_b``'s (a path's start):
        when those two results' solves left the two LastGradients combined here (checked by
        identity), the pass over p visits the union of the supports alone (the same ``q``);
        ``mine``: :meth:`_made_by_me` of ``supports`` when the caller has it."""
        base, last, older = self.base, self.D.last_grad, self.older
        if (last is None or older is None
                or not last.same_problem(base.yc, base.s, base.fit_intercept)
                or not older.same_problem(base.yc, base.s, base.fit_intercept)):
            return None
        supp_a = supp_b = NO_SUPPORT
        if self._made_by_me(supports) if mine is None else mine:
            supp_a, supp_b = supports[1], supports[3]
        ok, q = CDK.moved_residual(*self.D.args, w, older.w, last.w, float(t), older.q, last.q,
                                   MOVED_MAX_OFF, supp_a, supp_b)
        return q if ok else None

    def _made_by_me(self, supports) -> bool:
        """Whether ``supports = (w_a, supp_a, w_b, supp_b)`` are the results of this solver's
        last two solves, which left the design's last two LastGradients (by identity): then
        ``supp_b`` are the non-zeros of ``self.D.last_grad.w`` too."""
        made = self.made
        return (supports is not None and len(made) == 2 and made[0][0] is self.older
                and made[1][0] is self.D.last_grad and made[0][1] is supports[0]
                and made[1][1] is supports[2])
