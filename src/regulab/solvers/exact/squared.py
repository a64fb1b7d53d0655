"""Squared loss: the problem after weighted centering, its duality gap, and the direct methods.

With the weights ``s`` (summing to 1), ``ybar = s.y`` and ``xbar = s^T X`` when the intercept is
fitted (else both 0), ``y_c = y - ybar``, the objective at the best intercept ``b* = ybar - xbar.w``
is ``sum_i s_i r_i**2 + l1 ||w||_1 + l2 ||w||_2**2`` with ``r = y_c - X w + xbar.w``. The
centered gradient ``g = X_c^T (s r)`` is half the negative gradient of the loss.

Direct methods: ridge (``l1 = 0``, dense X, small enough) in closed form by one SVD of the
design, kept on it for the next call (:mod:`regulab.solvers.ridge`); unpenalized least squares
(minimum norm) by the same SVD or, for sparse or large X, by LSQR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab.core.losses import normalized_weights
from regulab.solvers import _cd_kernels as CDK
from regulab.solvers import _design_kernels as DK
from regulab.solvers.checks import check_y
from regulab.solvers.design import Design, as_design
from regulab.solvers.exact.result import ExactResult, zero_result
from regulab.solvers.exact.working_set import kkt_violation
from regulab.solvers.ridge import RidgeSVD


@dataclass(frozen=True)
class SquaredProblem:
    """One squared-loss problem, centered (module docstring).

    ``active = L > 0`` marks the features that carry information (``L`` the centered column
    norms); ``null_loss = sum_i s_i y_c,i**2`` is the loss of the null model, the scale of the
    relative gap; ``rank_bound`` (rows of positive weight, less one for the intercept) bounds the
    rank of ``X_c``; ``weighted`` says whether the weights differ.
    """

    D: Design
    y: np.ndarray
    yc: np.ndarray
    s: np.ndarray
    weighted: bool
    fit_intercept: bool
    ybar: float
    xbar: np.ndarray
    L: np.ndarray
    active: np.ndarray
    null_loss: float
    rank_bound: int
    l1: float
    l2: float
    #: ``count_nonzero(active)`` when the maker counted it (-1: not counted); a path's problems
    #: share it (:meth:`active_count`: a pass over p less per use, three per solve)
    n_active: int = -1

    def with_penalty(self, l1, l2) -> SquaredProblem:
        """This problem with the penalty ``(l1, l2)``: ``dataclasses.replace(self, l1=l1,
        l2=l2)`` (the same fields, the others shared) without its per-call walk over the fields
        and the frozen ``__init__`` (a path makes one per lam)."""
        P = object.__new__(SquaredProblem)
        d = P.__dict__
        d.update(self.__dict__)
        d["l1"], d["l2"] = l1, l2
        return P

    def active_count(self) -> int:
        """The active features' count (``n_active``, or counted now)."""
        return self.n_active if self.n_active >= 0 else int(np.count_nonzero(self.active))

    def residual(self, w) -> np.ndarray:
        """``r = y_c - X w + xbar.w``: the residual at the best intercept."""
        return self.yc - self.D.x_dot(w) + float(self.xbar @ w)

    def masked_grad(self, r) -> np.ndarray:
        """:func:`centered_grad`, 0 on the features that are not active."""
        g = centered_grad(self.D, self.s, r, self.xbar)
        if self.n_active != g.size:  # every feature active (counted): no mask and pass over p
            g[~self.active] = 0.0
        return g

    def gap(self, r, g, w) -> tuple[float, float]:
        """``(primal, gap)`` at ``w`` (see :func:`residual_gap`)."""
        return residual_gap(r, self.yc, self.s, g, w, self.l1, self.l2)

    def intercept(self, w) -> float:
        return self.ybar - float(self.xbar @ w) if self.fit_intercept else 0.0

    def objective(self, w) -> float:
        r = self.residual(w)
        return (float(self.s @ (r * r)) + self.l1 * float(np.abs(w).sum())
                + self.l2 * float(w @ w))


def centered_grad(D: Design, s, r, xbar) -> np.ndarray:
    """``X_c^T (s * r)`` with ``X_c`` the weighted-centered design (half the negative gradient)."""
    sr = s * r
    return D.xt_dot(sr) - xbar * float(sr.sum())


def residual_gap(r, yc, s, g, w, l1, l2) -> tuple[float, float]:
    """``(primal, gap)`` from the residual ``r`` at the optimal intercept and ``g = X_c^T(s r)``.

    The duality gap of :func:`regulab.core.certificates.duality_gap_squared`, computed by the
    compiled :func:`regulab.solvers._cd_kernels.duality_gap` from the sums it names.
    """
    quad = float(DK.wdot(s, r, r))
    lin = 2.0 * float(DK.wdot(s, r, yc))
    vmax, conj, nrm1, nrm2 = CDK.gap_sums(g, w, float(l1), float(l2))
    primal, gap = CDK.duality_gap(quad, lin, nrm1, nrm2, vmax, conj, float(l1), float(l2))
    return float(primal), float(gap)


def kkt_squared(g, w, l1, l2) -> float:
    """Largest ``dist(-grad_j, l1 d|w_j|)``, ``grad = -2 g + 2 l2 w`` (true gradient units)."""
    return kkt_violation(-2.0 * g + 2.0 * l2 * w, w, l1)


def squared_gap(X, y, w, b, l1, l2, sample_weight=None, fit_intercept=True):
    """Relative duality gap and primal value of ``(w, b*)`` as :func:`~regulab.solvers.exact.solve`
    computes them.

    ``b`` is ignored: the intercept is taken at its optimum for ``w`` (as in
    :func:`regulab.core.certificates.duality_gap_squared`). Returns
    ``(gap / null_loss, gap, primal)``.
    """
    D = as_design(X)
    y = check_y(y, D.n)
    s = normalized_weights(D.n, sample_weight)
    w = np.asarray(w, dtype=np.float64).ravel()
    xbar, _ = D.stats(s, bool(fit_intercept))
    ybar = float(s @ y) if fit_intercept else 0.0
    yc = y - ybar
    r = yc - D.x_dot(w) + float(xbar @ w)
    g = centered_grad(D, s, r, xbar)
    primal, gap = residual_gap(r, yc, s, g, w, l1, l2)
    null = float(s @ (yc * yc))
    return (gap / null if null > 0 else 0.0), gap, primal


# ---------------------------------------------------------------------------------------------
# direct methods
# ---------------------------------------------------------------------------------------------
def ridge_factor(D: Design, s, fit_intercept) -> RidgeSVD:
    """The SVD of this (dense) design for these weights, computed once and kept on the design."""
    return D.cached("ridge", (s.tobytes(), fit_intercept),
                    lambda: RidgeSVD(D.dense, s, fit_intercept))


def solve_ridge_svd(P: SquaredProblem, tol) -> ExactResult:
    """Ridge (``l1 = 0``, ``l2 > 0``) in closed form, certified by its duality gap."""
    fac = ridge_factor(P.D, P.s, P.fit_intercept)
    coefs, _ = fac.solve(P.y, [P.l2])
    w = coefs[:, 0]
    r = P.residual(w)
    g = centered_grad(P.D, P.s, r, P.xbar)
    primal, gap = P.gap(r, g, w)
    return ExactResult(w=w, intercept=P.intercept(w), gap=gap / P.null_loss, n_iter=0,
                       converged=True, tol=tol, criterion="duality_gap", objective=primal,
                       solver="svd")


def least_squares(P: SquaredProblem, tol, max_iter, small) -> ExactResult:
    """Minimum-norm least squares (``l1 = l2 = 0``): SVD when ``small`` and dense, else LSQR;
    certified by the largest gradient entry relative to that of the null model."""
    g0 = P.masked_grad(P.yc)
    scale = 2.0 * float(np.abs(g0).max())
    null_loss = float(P.s @ (P.yc * P.yc))
    if scale == 0.0:
        return zero_result(P.D.p, P.ybar, "kkt", tol, null_loss, "constant")
    n_iter = 0
    if not P.D.is_sparse and small:
        fac = ridge_factor(P.D, P.s, P.fit_intercept)
        w = fac.solve(P.y, [0.0])[0][:, 0]
        solver = "svd"
    else:
        w, n_iter = _lsqr(P, max_iter)
        solver = "lsqr"
    r = P.residual(w)
    g = P.masked_grad(r)
    gap = 2.0 * float(np.abs(g).max()) / scale
    return ExactResult(w=w, intercept=P.intercept(w), gap=gap, n_iter=n_iter,
                       converged=True if solver == "svd" else gap <= tol, tol=tol,
                       criterion="kkt", objective=float(P.s @ (r * r)), solver=solver)


def _lsqr(P: SquaredProblem, max_iter):
    """LSQR on ``sqrt(s) X_c w = sqrt(s) y_c`` (inactive features held at 0): ``(w, iters)``."""
    from scipy.sparse.linalg import LinearOperator, lsqr

    D, xbar, active = P.D, P.xbar, P.active
    sq = np.sqrt(P.s)

    def mv(v):
        v = np.where(active, np.ravel(v), 0.0)
        return sq * (D.x_dot(v) - float(xbar @ v))

    def rmv(u):
        su = sq * np.ravel(u)
        out = D.xt_dot(su) - xbar * float(su.sum())
        out[~active] = 0.0
        return out

    A = LinearOperator((D.n, D.p), matvec=mv, rmatvec=rmv, dtype=np.float64)
    res = lsqr(A, sq * P.yc, atol=1e-16, btol=1e-16, conlim=1e16, iter_lim=max_iter)
    return np.asarray(res[0], dtype=float), int(res[2])
