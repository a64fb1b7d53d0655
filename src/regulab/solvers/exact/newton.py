"""Active-set Newton rounds for the squared loss with an L1 part, certified by the duality gap.

The method (Newton on the support, then the features that violate the optimality conditions
most enter) is :mod:`regulab.solvers._active_set`; here each round is followed by the full
gradient and the duality gap of :class:`~regulab.solvers.exact.squared.SquaredProblem`, and the
rounds stop on the gap, a right support that rounding keeps from the gap, or a stall.
:func:`newton_pays` says whether the rounds are worth starting after a stalled CD pass.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from regulab.core.memory import gram_capacity
from regulab.solvers._active_set import ActiveSetSolver, get_cache
from regulab.solvers.exact.squared import SquaredProblem

#: features a round adds at most (those that violate the optimality conditions most)
ADD_MAX = 10
#: Newton is taken after a stalled CD pass when its estimated work (:func:`newton_work`) is at
#: most this many epochs of that pass (docs/benchmarks.md, "Twelfth round: when to take
#: Newton": 16-142 on the dense paths where it paid 4-14x, break-even near 390, lost at 1,000
#: and beyond, 2 10^5 on the weighted wide sparse path where it cost 1.2-1.8 s)
NEWTON_EPOCHS = 300


class NewtonOutcome(NamedTuple):
    """``n_iter`` Newton steps; ``converged``: the gap reached the threshold; ``(primal, gap)``
    at the last iterate."""

    n_iter: int
    converged: bool
    primal: float
    gap: float


def kept_active_set(P: SquaredProblem, w) -> bool:
    """Whether the design keeps an active set from the previous solve of this problem (same
    weights, intercept and l2): a warm-started path then goes on with Newton at once."""
    cache = P.D.gram
    return (cache is not None and cache.key == (P.s.tobytes(), P.fit_intercept)
            and cache.active is not None and cache.active.l2 == P.l2 and cache.active.s > 0
            and np.count_nonzero(w) > 0)


def newton_work(P: SquaredProblem, start, k_end: int, add_max: int = ADD_MAX) -> float:
    """Estimated floating-point operations of active-set Newton from the support of ``start``
    to one of ``k_end`` features.

    The Cholesky factor of the start support (``k^3 / 3``, or ``k^2`` per feature that differs
    from the factor a path kept), ``k_end^2`` per feature added, and per round (``add_max``
    features each) the triangular solves (``4 k_end^2``) and the full gradient (every stored
    entry of X).
    """
    k0 = int(np.count_nonzero(start))
    k1 = max(int(k_end), k0)
    if kept_active_set(P, start):
        kept = P.D.gram.active.features()
        factor = float(np.setxor1d(kept, np.flatnonzero(start)).size) * k1 * k1
    else:
        factor = k0 ** 3 / 3.0
    rounds = -(-(k1 - k0) // add_max) + 1
    grad = float(P.D.data.size) if P.D.is_sparse else float(P.D.n) * P.D.p
    return factor + float(k1 - k0) * k1 * k1 + rounds * (4.0 * k1 * k1 + grad)


def epoch_work(P: SquaredProblem, ws) -> float:
    """Floating-point operations of one CD epoch on the features ``ws``: their stored entries
    (all ``n`` of each column on dense X), two per entry (the dot and the update)."""
    D = P.D
    if D.is_sparse:
        return 2.0 * float(np.sum(D.indptr[ws + 1] - D.indptr[ws]))
    return 2.0 * D.n * len(ws)


def newton_pays(P: SquaredProblem, start, k_end: int, ws, spent: int = 0) -> bool:
    """Whether active-set Newton from ``start`` is worth trying after CD stalled on the working
    set ``ws`` with an iterate of ``k_end`` non-zeros, ``spent`` CD epochs into the problem:
    that support fits the Gram cache (Newton cannot finish otherwise) and :func:`newton_work`
    is at most ``max(NEWTON_EPOCHS, spent)`` epochs of CD on ``ws``.

    The second bound is the rent-or-buy rule: CD, however slow, is not given more than Newton
    would cost on top of what it already spent (the caller asks again after twice the epochs).
    """
    if max(k_end, int(np.count_nonzero(start))) > gram_capacity(P.D.n, P.D.p):
        return False
    return newton_work(P, start, k_end) <= max(NEWTON_EPOCHS, spent) * epoch_work(P, ws)


def active_set_newton(P: SquaredProblem, w, threshold, max_rounds,
                      add_max=ADD_MAX) -> NewtonOutcome | None:
    """Active-set Newton from ``w`` (modified in place) until the gap is ``<= threshold``.

    Returns None if it cannot start (more non-zeros than the rank allows, another thread on this
    design, a singular start), else a :class:`NewtonOutcome`.
    """
    if np.count_nonzero(w) > P.rank_bound:  # more features than the rank allows: G_S singular
        return None
    cache = get_cache(P.D, P.s, P.fit_intercept, P.xbar)
    if not cache.lock.acquire(blocking=False):  # another thread works on this design: use CD
        return None
    try:
        c_full = cache.correlations(P.yc, P.masked_grad)
        solver = ActiveSetSolver(cache, c_full, P.l1, P.l2)
        if not solver.start(w):
            cache.active = None
            return None
        return _rounds(P, solver, w, threshold, max_rounds, add_max)
    finally:
        cache.lock.release()


def _rounds(P: SquaredProblem, solver: ActiveSetSolver, w, threshold, max_rounds, add_max):
    sigma_new = {}
    it = 0
    refined = 0
    stall = 0
    last = float("inf")
    primal = gap = float("inf")
    while it < max_rounds:
        st = solver.newton(w, sigma_new)
        if st < 0:
            solver.cache.active = None
            break
        it += max(st, 1)
        r = P.residual(w)
        g = P.masked_grad(r)
        primal, gap = P.gap(r, g, w)
        if gap <= threshold:
            return NewtonOutcome(it, True, primal, gap)
        S = solver.AS.features()
        h = g - P.l2 * w
        viol = np.where(P.active, np.abs(h) - 0.5 * P.l1, -np.inf)
        viol[S] = -np.inf
        n_viol = int(np.count_nonzero(viol > 0.0))
        if n_viol == 0:
            # the support is right: the gap is rounding error in the normal equations
            if refined >= 2 or not solver.AS.refactor():
                break
            refined += 1
            continue
        if primal >= last - 1e-15 * abs(last):
            stall += 1
            if stall > 3:
                break
        else:
            stall = 0
        last = primal
        k = min(n_viol, add_max)
        top = np.argpartition(-viol, k - 1)[:k]
        top = top[np.argsort(-viol[top])]
        if solver.add(top, np.sign(h[top]), sigma_new) == 0:
            break
    return NewtonOutcome(it, False, primal, gap)
