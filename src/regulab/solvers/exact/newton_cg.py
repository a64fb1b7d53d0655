"""A sign-fixed Newton step on a large support, by conjugate gradients (squared loss, L1 part).

Coordinate descent needs about ``cond(H)`` epochs on a support ``S`` of thousands of features
(many true non-zeros, ``|S|`` a large fraction of ``n``); once CD has found S and the signs
``sigma`` of a lam, the minimizer of the objective on that orthant solves one linear system
(:mod:`regulab.solvers._cg_kernels`), which conjugate gradients solve in about
``sqrt(cond(H))`` products, each the cost of one CD epoch on S. The step is kept only if it
lowers the objective::

    sum_i s_i r_i**2 + l1 ||w||_1 + l2 ||w||_2**2

1. the signs are kept: the step is the orthant's minimizer (CG only lowers the quadratic that
   equals the objective there) and is taken;
2. some coordinates change sign: they are set to 0 (projection on the orthant) and the result
   is taken if the objective is lower;
3. else the exact minimizer of the objective on the segment ``w + t d``, ``t`` in [0, 1], up to
   its first kink (:func:`regulab.solvers._active_set._segment_min`), which never increases it.

The caller certifies the result with the duality gap as before; nothing here changes what
"solved" means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab.solvers import _cg_kernels as CGK
from regulab.solvers import _design_kernels as DK
from regulab.solvers._active_set import _segment_min

#: the CG iterations stop when twice the largest entry of ``rho`` (the KKT violation on the
#: support) is below this fraction of the CD pass's inner tolerance
CG_MARGIN = 0.5


@dataclass
class NewtonCGCount:
    """What the steps did on one problem: ``steps`` taken (any of the three kinds), of which
    ``kept`` with the signs unchanged, ``projected`` and ``segment``; ``cg_iters`` products by H
    (each about one CD epoch on the support)."""

    steps: int = 0
    kept: int = 0
    projected: int = 0
    segment: int = 0
    cg_iters: int = 0


def newton_cg_step(P, w, q, c, S, tol_in, max_iter, count: NewtonCGCount) -> float:
    """One sign-fixed Newton step on the support ``S`` (module docstring); ``w`` and ``q``
    (``r = q + c``) modified in place. Returns the new ``c``."""
    D, s, xbar, l1, l2 = P.D, P.s, P.xbar, P.l1, P.l2
    wS = w[S]
    d, ud, xd, iters, _ = CGK.cg_support(*D.args, s, P.weighted, 1.0 / D.n, xbar, P.L, S, w, q,
                                         c, l1, l2, CG_MARGIN * tol_in, max_iter)
    count.cg_iters += int(iters)
    if iters == 0:
        return c
    sigma = np.sign(wS)
    new = wS + d
    flip = np.flatnonzero(np.sign(new) != sigma)
    if flip.size == 0:
        _apply(w, q, S, new, ud)
        count.steps += 1
        count.kept += 1
        return c + xd
    f_now = _objective(s, q, c, wS, l1, l2)
    # projection: the flipped coordinates to 0 (their columns taken back out of X d)
    proj = new.copy()
    u_proj = ud.copy()
    xd_proj = xd
    for k in flip:
        j = int(S[k])
        DK.col_axpy(*D.args, j, -new[k], u_proj)
        xd_proj -= xbar[j] * new[k]
        proj[k] = 0.0
    if _objective(s, q - u_proj, c + xd_proj, proj, l1, l2) < f_now:
        _apply(w, q, S, proj, u_proj)
        count.steps += 1
        count.projected += 1
        return c + xd_proj
    # the segment: smooth part t**2 a + 2 t b, a = d^T H d, b = -(g_S - l2 w_S).d
    ucd = ud - xd
    a = float(DK.wdot(s, ucd, ucd)) + l2 * float(d @ d)
    b = -float(DK.wdot(s, q + c, ucd)) + l2 * float(wS @ d)
    if not a > 0.0:
        return c
    t, idx = _segment_min(wS, d, a, b, l1)
    if not t > 0.0:
        return c
    seg = wS + t * d
    if idx >= 0:
        seg[idx] = 0.0
    u_seg = t * ud
    xd_seg = t * xd
    if idx >= 0:  # that coordinate sits at 0, not at rounding error from it
        j = int(S[idx])
        off = wS[idx] + t * d[idx]
        DK.col_axpy(*D.args, j, -off, u_seg)
        xd_seg -= xbar[j] * off
    _apply(w, q, S, seg, u_seg)
    count.steps += 1
    count.segment += 1
    return c + xd_seg


def _objective(s, q, c, wS, l1, l2) -> float:
    r = q + c
    return float(DK.wdot(s, r, r)) + l1 * float(np.abs(wS).sum()) + l2 * float(wS @ wS)


def _apply(w, q, S, new, u):
    """``w_S = new`` and ``q -= u`` (``u = X_S (new - w_S)``, uncentered)."""
    w[S] = new
    q -= u
