"""Working-set coordinate descent for the squared loss (lasso, elastic net; sparse ridge).

Working sets (celer/skglm style): each outer iteration recomputes the residual from scratch,
the full gradient and the duality gap (the stopping test, on the *whole* problem), then ranks the
features by their distance to the dual constraint ``(|g_j| - l1/2) / ||x_j||`` (the current
support always in), takes the top ``nnz + max(ws_start, WS_GROW * nnz)`` (never shrinking within
a call; ties to the lower index, in the pass that computes the KKT violations:
:func:`regulab.solvers._cd_kernels.kkt_ws_select`) and runs CD epochs on them
(:func:`regulab.solvers._cd_kernels.cd_squared_ws`; on a large support, epochs on the support
alone first) until their largest KKT violation is below ``INNER`` times the full one.

Problems with at most ``SMALL_WS`` informative features run that loop in one compiled call
(dense X with n > p: on the centered Gram matrix), to a gap ``SMALL_MARGIN`` times the threshold,
then are re-certified by the general loop. A call warm-started from the previous call's solution
on the same design (a path) reuses that call's last full gradient instead of recomputing it.

On a sparse X the epochs run in :mod:`regulab.solvers._cd_sparse` (the same iterates, column
loops inline, sample weights or not; ``INNER_SPARSE``, ``ANDERSON_SPARSE``), and the full
gradient of each outer iteration is recomputed only where it can matter (:mod:`.gradient_bound`;
the gap is the full gradient's). A start moved ahead of the last solution on the same problem
(:func:`regulab.selection.path.path_step_ahead`) takes its first working set from the last
solution's gradient: no gradient pass before the first CD pass. That pass goes on until its
KKT violations are small enough for one pass per lam (``AHEAD_GAP``); if they are not (its
epochs spent), the gap after it is tested on the residual the CD kernel carried along its steps
(no ``y_c - X w`` product), as is the test after one that failed by more than ``CARRY_FAR``
times the threshold. A gap met on such a residual is re-tested on a fresh residual and gradient
before the loop stops: only a fresh residual certifies.

When CD stalls on a large ill-conditioned support (p >> n near the end of a path) the solver
switches to active-set Newton (:mod:`.newton`), and stays with it along a warm-started path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab.solvers import _cd_kernels as CDK
from regulab.solvers import _cd_sparse as CDS
from regulab.solvers import _design_kernels as DK
from regulab.solvers.design import LastGradient
from regulab.solvers.exact.gradient_bound import NO_LIST, GradientBound
from regulab.solvers.exact.newton import active_set_newton, kept_active_set, newton_pays
from regulab.solvers.exact.result import ExactResult
from regulab.solvers.exact.squared import SquaredProblem, centered_grad

#: CD epochs on a working set without reaching its tolerance before Newton steps on the support
NEWTON_AFTER = 20
MAX_ASM_TRIES = 3
#: the CD pass on a working set stops when its largest KKT violation is below INNER times the
#: full problem's (tighter than 0.3: fewer full-gradient passes, which dominate on large sparse X)
INNER = 0.1
#: ... on sparse X (the kernel of ._cd_sparse, weighted or not), whose gradient is recomputed
#: only where it can matter (.gradient_bound): cheaper outer iterations pay for looser passes
#: (benchmarks/table.py's sparse rows: 0.1 -> 0.3 cut the CD column visits by 4-25 %)
INNER_SPARSE = 0.3
#: at most this many features with L > 0: the working-set loop runs compiled in one call ...
SMALL_WS = 64
#: ... for at most this many epochs before the general loop (active-set switch included) goes on
SMALL_MAX_EPOCHS = 200
#: ... to a gap this fraction of the threshold (the general loop's last CD pass usually lands far
#: below it too; solutions from equivalent inputs, e.g. weights vs repeated rows, then agree)
SMALL_MARGIN = 1e-4
#: the working set holds the support and WS_GROW times as many other features (at least
#: ``ws_start``): on large supports (many true non-zeros) a set of twice the support made every
#: epoch visit ~2x the columns that matter (measured on the sparse benchmark with 2500 true
#: non-zeros: 0.5 cut the column visits by 40 % at the same number of outer iterations)
WS_GROW = 0.5
#: ... 0.2 in the sparse kernel (weighted or not), whose paths start ahead (.selection.path): its
#: column visits -4 to -6 % on benchmarks/table.py's sparse rows, the same epochs and gradients
WS_GROW_SPARSE = 0.2
#: from this many non-zeros on, each CD pass first runs epochs on the support alone (glmnet's
#: active-set cycling) and then on the whole working set
SUPPORT_FIRST = 256
#: Anderson iterates when ``CDSettings.anderson`` is None: 5, and 3 in the sparse kernel
#: (:mod:`regulab.solvers._cd_sparse`, weighted or not; 7-9 % fewer column visits on the sparse
#: rows with many non-zeros; 3 on dense X cost +55 % on a Toeplitz design, docs/benchmarks.md)
ANDERSON = 5
ANDERSON_SPARSE = 3
#: a gap test that fails by more than this factor is followed by one that fails too (on
#: sparse-many 57 times of 61 at 300x, docs/benchmarks.md's sixth round): the next test reads
#: the residual the CD kernel carried (a met gap is re-tested on a fresh one)
CARRY_FAR = 300.0
#: ... at most this many drifted tests in a row (a drift must not run on unchecked)
CARRY_RUN = 3
#: the first CD pass of a moved start goes on until its KKT violations are at most AHEAD_GAP
#: times ``threshold / ||w||_1`` (:func:`_ahead_pass`), without support-first epochs: on
#: benchmarks/table.py's sparse-tall row every lam then stops after that one pass. With
#: support-first epochs, AHEAD_GAP 1 / 4 / 8 / 16 / 32 gave CD column visits per stored entry
#: 200 / 181 / 170 / 164 / 156 (main 175), worst gap 0.4 / 1.9 / 3.6 / 6.0 / 8.9e-7; without
#: them, 4: 128 visits, worst gap 7.4e-7 (8: 134 visits and 10 more full gradient passes)
AHEAD_GAP = 4.0


@dataclass(frozen=True)
class CDSettings:
    """How far and how: stop at relative gap ``tol`` or after ``max_iter`` epochs plus Newton
    steps; ``anderson`` iterates combined by Anderson extrapolation (0 = off); ``ws_start`` the
    first working-set size."""

    tol: float
    max_iter: int
    anderson: int | None
    ws_start: int


def cd_squared(P: SquaredProblem, w, opts: CDSettings, sqrtL=None, q0=None,
               level=None, hint=None, last_support=None, keep_w=False,
               nonzeros=False):
    """Minimize the squared-loss objective from ``w`` (modified in place) to relative gap
    ``opts.tol`` (module docstring). ``sqrtL``: ``P.D.sqrt_norms(P.s, P.fit_intercept)`` if the
    caller has it (each look-up hashes the weights' bytes); ``q0``: ``y_c - X w`` up to rounding
    (taken over, never certifying), for a start moved ahead along a path; ``level``: the
    problem's :func:`.gradient_bound.refusal_level` (sparse X), if the caller has it;
    ``hint``: the working-set pass's threshold hint (a one-entry array, ``-inf`` at first) kept
    by a path's solver from solve to solve (:func:`regulab.solvers._cd_kernels.kkt_ws_select`:
    the same working sets, found from a higher start).

    ``last_support``: the sorted indices of the non-zeros of ``P.D.last_grad.w`` (the last
    solution on this design, which the caller knows: a path's own results), which hold all of
    ``w``'s non-zeros too (a path's moved start, :func:`regulab.selection.path.path_step_ahead`):
    the start is then compared with the last solution and kept for a Newton fallback on those
    indices alone, not by passes over p. ``keep_w``: the caller never writes the result's ``w``
    (a path's own results): the :class:`LastGradient` this solve leaves holds it, not a copy.
    ``nonzeros``: return ``(result, idx)``, ``idx`` the sorted indices of the result's non-zeros
    (``np.flatnonzero(result.w != 0.0)``), found over the last working set when it holds them
    all (:func:`_working_sets`)."""
    if P.active_count() < P.D.p:  # a mask and a pass over p per solve otherwise
        w[~P.active] = 0.0
    threshold = opts.tol * P.null_loss
    n_iter = 0
    asm_tries = 0  # active-set attempts (each after CD stalled for NEWTON_AFTER epochs)
    # the start, for a Newton fallback (_newton_instead): on ``last_support``, which holds all
    # its non-zeros (zeroing the inactive ones above adds none), instead of a copy of p
    w_start = Start(w, last_support)
    # indices holding every non-zero of ``w`` (None: not known; then a pass over p finds them)
    on = last_support
    if P.l1 > 0.0 and kept_active_set(P, w):
        out = active_set_newton(P, w, threshold, opts.max_iter)
        if out is not None:
            asm_tries += 1
            n_iter += out.n_iter
            on = None  # Newton moved ``w`` off ``last_support``
            if out.converged:
                res = _result(P, w, out.gap, n_iter, True, opts.tol, out.primal, "active_set")
                return (res, _nonzeros(w, on)) if nonzeros else res
    if P.active_count() <= SMALL_WS:
        n_iter += _small_pass(P, w, threshold, opts)
        q0 = None  # ``w`` moved
        on = None  # ... on every active feature
    if asm_tries:
        q0 = None
    res, on = _working_sets(P, w, w_start, threshold, opts, n_iter, asm_tries, sqrtL, q0,
                            level, hint, last_support if on is not None else None, on, keep_w)
    return (res, _nonzeros(w, on)) if nonzeros else res


class Start:
    """A solve's start ``w``, kept for :func:`_newton_instead`: the values on ``idx`` (sorted
    indices that hold all of its non-zeros) when given, else a copy of ``w``."""

    __slots__ = ("p", "idx", "vals")

    def __init__(self, w, idx=None):
        self.p = w.shape[0]
        self.idx = idx
        self.vals = w.copy() if idx is None else w[idx]

    def count_nonzero(self) -> int:
        return int(np.count_nonzero(self.vals))

    def dense(self) -> np.ndarray:
        """The start as a fresh array of ``p`` values."""
        if self.idx is None:
            return self.vals.copy()
        w = np.zeros(self.p)
        w[self.idx] = self.vals
        return w


def start_vs_last(w, w_last, last_support=None) -> tuple[bool, bool, int]:
    """:func:`regulab.solvers._cd_kernels.start_vs_last` (``(same, within, nnz_last)``): one
    pass over p, or with ``last_support`` (the sorted indices of ``w_last``'s non-zeros, which
    hold ``w``'s too) a look at those indices alone: off them both are 0, so ``same`` is
    equality there, ``within`` a non-zero there and ``nnz_last`` their count."""
    if last_support is None:
        return CDK.start_vs_last(w, w_last)
    a = w[last_support]
    return (bool((a == w_last[last_support]).all()), bool(a.any()),
            int(last_support.size))


def _nonzeros(w, on):
    """The sorted indices of ``w``'s non-zeros: over ``on`` (sorted indices that hold them
    all) when known, else a pass over p (on a mask: numpy's nonzero on a float64 array took
    114 us at p = 50,000, on the mask 9 us; the same indices, -0.0 and 0.0 zero for both)."""
    if on is None:
        return np.flatnonzero(w != 0.0)
    return on[w[on] != 0.0]


def _small_pass(P: SquaredProblem, w, threshold, opts: CDSettings) -> int:
    """The whole working-set loop of a small problem in one compiled call (no per-iteration
    Python), to ``SMALL_MARGIN * threshold``; the general loop re-certifies ``w``. Returns the
    epochs."""
    D = P.D
    ws = np.flatnonzero(P.active).astype(np.int64)
    if not D.is_sparse and P.rank_bound >= ws.size and D.dtype == np.float64:
        # n > p: epochs on the Gram matrix cost O(p^2), not O(n p)
        G = D.cached("small_gram", (P.s.tobytes(), P.fit_intercept, ws.tobytes()),
                     lambda: CDK.centered_gram(D.data, D.n, P.s, P.xbar, ws))
        b = centered_grad(D, P.s, P.yc, P.xbar)[ws]
        wv = w[ws]
        ep, _ = CDK.cd_squared_gram(G, b, wv, P.null_loss, P.l1, P.l2, SMALL_MARGIN * threshold,
                                    min(opts.max_iter, 20 * SMALL_MAX_EPOCHS), _k(opts.anderson))
        w[ws] = wv
    else:
        ep, _ = CDK.cd_squared_full(*D.args, P.s, P.weighted, 1.0 / D.n, P.xbar, P.L, ws, w, P.yc,
                                    P.l1, P.l2, SMALL_MARGIN * threshold,
                                    min(opts.max_iter, SMALL_MAX_EPOCHS), _k(opts.anderson))
    return int(ep)


def _working_sets(P: SquaredProblem, w, w_start, threshold, opts: CDSettings, n_iter,
                  asm_tries, sqrtL=None, q0=None, level=None, hint=None, last_support=None,
                  on=None, keep_w=False):
    """The general loop: gap on the whole problem, then CD on a working set; Newton when CD
    stalls (at most ``MAX_ASM_TRIES`` times). ``last_support``, ``keep_w``: as in
    :func:`cd_squared`; ``on``: sorted indices holding all of ``w``'s non-zeros, or None.
    Returns ``(result, on)``, ``on`` such indices for the result (None: not known)."""
    D, s, xbar, l1, l2 = P.D, P.s, P.xbar, P.l1, P.l2
    use_newton = l1 > 0.0
    stall = NEWTON_AFTER  # the epochs of a pass that make a stall; doubled at each declined try
    # kkt_ws_select reads sqrt(L) on the active features only (L > 0 there)
    if sqrtL is None:
        sqrtL = D.sqrt_norms(s, P.fit_intercept)
    n_active = P.active_count()
    if hint is None:  # always an array: one compiled kkt_ws_select
        hint = np.full(1, -np.inf)
    ws_size = max(1, opts.ws_start)
    last = D.last_grad
    same = last is not None and last.same_problem(P.yc, s, P.fit_intercept)
    within, nnz_last = False, -1
    if same and D.is_sparse:  # a path's solve: the start against the last solution
        reuse, within, nnz_last = start_vs_last(w, last.w, last_support)
    else:  # (dense X: no kernel more to compile on a small problem's first fit)
        reuse = same and np.array_equal(last.w, w)
    # sparse X: the gradient recomputed only where it can matter (exact gap, fewer passes)
    bound = GradientBound(P, last.ref if same else None, sqrtL, level) if D.is_sparse else None
    # the kernel of ._cd_sparse (every sparse X) has its own measured settings
    own = bound is not None
    inner, grow = (INNER_SPARSE, WS_GROW_SPARSE) if own else (INNER, WS_GROW)
    # a start moved ahead along a path from the last solution (within its support): the first
    # working set is ranked by the last solution's gradient, and the first gap (not met at a
    # new lam) is taken after a CD pass
    ahead = same and not reuse and l1 > 0.0 and bound is not None and within
    # the residual the CD kernel updated along the first pass of a moved start (``carried``):
    # the next outer iteration ranks its working set by it and tests its gap on it; a gap met
    # there is re-tested on a fresh residual and gradient before the loop stops (``drifted``),
    # so rounding accumulated by the kernel can never certify a result. Only after that pass
    # and after a test failed by more than CARRY_FAR: later gap tests pass too often (carrying
    # every pass's residual doubled the last test)
    carried = None
    first_pass = False
    far = False  # the last gap test failed by more than CARRY_FAR: carry the next pass's too
    run = 0  # drifted gap tests in a row
    while True:
        # xbar = 0 without an intercept: no pass over p for it (300 per path on sparse-few)
        c = float(DK.vdot(xbar, w)) if P.fit_intercept else 0.0
        drifted = carried is not None
        if reuse:  # warm start from the previous solution on this design: same residual
            q = last.q.copy()
            r = _shifted(q, c)
            # the last gradient's skipped entries are bounded for the last l1, not this one
            g = last.g.copy() if bound is None else bound.grad(r, w, q)
            reuse = False
        elif drifted:
            q, carried = carried, None
            r = _shifted(q, c)
            g = bound.grad(r, w, q)
        else:  # a moved start's residual may come combined from the last two (q0)
            if ahead and q0 is not None:
                q = q0
            else:  # ``y_c - X w`` into the product's own fresh array: one array less per test
                q = D.x_dot(w)
                np.subtract(P.yc, q, out=q)
            r = _shifted(q, c)
            g = last.g if ahead else P.masked_grad(r) if bound is None else bound.grad(r, w, q)
        if ahead:  # the last solution's violations and support rank the first working set
            ahead = False
            first_pass = True
            wk = last.w
        else:
            primal, gap = P.gap(r, g, w)
            done = gap <= threshold or n_iter >= opts.max_iter
            if done and drifted:
                continue  # the stop is decided on a fresh residual
            if done:
                # ``g`` and ``q`` are not written after this (a later call copies ``last.q``
                # before CD moves it); ``w`` is the caller's
                D.last_grad = LastGradient(w if keep_w else w.copy(), P.yc, s,
                                           P.fit_intercept, g, q,
                                           None if bound is None else bound.ref)
                break
            wk = w
            # at most CARRY_RUN drifted tests in a row: then a fresh residual, whatever the gap
            run = run + 1 if drifted else 0
            far = bound is not None and run < CARRY_RUN and gap > CARRY_FAR * threshold
        nnz = 0
        if l1 > 0.0:
            # ``wk`` is ``last.w`` (counted with the start) only on a moved start's first pass
            nnz = (nnz_last if first_pass else
                   int(np.count_nonzero(wk != 0.0)))  # on a mask: 19 -> 5 us at p = 50,000
            ws_size = max(ws_size, nnz + max(opts.ws_start, int(grow * nnz)))
        # the same pass lists what the next bounded gradient may need (GradientBound.listing)
        reach, cand = (-1.0, NO_LIST) if bound is None else bound.listing(g)
        if l1 == 0.0 or ws_size >= n_active:
            kkt, _, ncand, reach = CDK.kkt_ws_select(g, wk, l1, l2, sqrtL, P.active, 0, 0,
                                                     reach, cand, hint)
            ws = np.flatnonzero(P.active).astype(np.int64)
        else:  # the support and the best others, taken in the pass of the KKT violations
            kkt, ws, ncand, reach = CDK.kkt_ws_select(g, wk, l1, l2, sqrtL, P.active, nnz,
                                                      ws_size - nnz, reach, cand, hint)
        if bound is not None:
            bound.listed(ncand, reach, ws)
        newton_next = use_newton and asm_tries < MAX_ASM_TRIES
        budget = opts.max_iter - n_iter
        if newton_next:
            budget = min(budget, stall)
        # a moved start's passes without support-first epochs (AHEAD_GAP)
        ep, kin = _cd_pass(P, w, q, c, ws, inner * kkt, budget, opts.anderson, not first_pass)
        n_iter += ep
        # ``ws`` holds every non-zero of ``w`` now: it held those of ``wk`` (the support is
        # always in the set), which are ``w``'s or, on a moved start's first pass, the last
        # solution's that hold them (``within``), and CD moves only ``ws``
        on = ws
        if first_pass:  # on to the tolerance of one pass per lam; met: a fresh test next
            more, met = _ahead_pass(P, w, q, ws, threshold, kin, budget - ep, opts.anderson)
            n_iter += more
            carried = None if met else q  # the kernels keep ``q = y_c - X w`` along their steps
        elif far:
            carried = q
        first_pass = far = False
        if newton_next and ep >= stall and kin > inner * kkt:
            # CD is slow here: active-set Newton, from the start point if its support is small,
            # if it pays; declined, CD goes on twice as long before it is asked again
            steps = _newton_instead(P, w, w_start, threshold, opts.max_iter - n_iter, ws, n_iter)
            if steps < 0:
                stall *= 2
            else:
                asm_tries += 1
                n_iter += steps
                carried = None  # Newton moved ``w`` without the residual
                on = None  # ... and off the working set
                if bound is not None:
                    bound.moved()  # ... and off the working set
    return _result(P, w, gap, n_iter, gap <= threshold, opts.tol, primal, "cd"), on


def _shifted(q, c):
    """``r = q + c``, or ``q`` itself when ``c = 0`` (always without an intercept: a pass over
    n and an array saved per outer iteration). ``r`` is only read, and only before the CD pass
    that moves ``q`` in place (a reference keeps a copy)."""
    return q if c == 0.0 else q + c


def _cd_pass(P: SquaredProblem, w, q, c, ws, tol_in, budget, anderson,
             support_first=True) -> tuple[int, float]:
    """CD epochs on ``ws`` (``w``, ``q`` in place) until the largest KKT violation met is below
    ``tol_in``; with a support of at least ``SUPPORT_FIRST`` features, epochs on the support
    alone first (cheap: most of a large working set stays at 0) unless ``support_first`` is
    False (a moved start's passes: its support is the last solution's, and the set is that
    support and a fifth more; with them, sparse-tall's CD visited 170 against 128 times each
    stored entry). Returns ``(epochs, kkt)``."""
    D, s, xbar, l1, l2 = P.D, P.s, P.xbar, P.l1, P.l2
    if D.is_sparse:  # the same epochs, column loops inline (._cd_sparse)
        # unsigned indices: no wrap-around test per stored entry (same bits, 1.50 -> 0.84 ns
        # per stored entry on sparse-tall; Design.index_views)
        indices, indptr = D.index_views
        # the weights only when they differ: left out, the equal-weight specialization runs
        wts = (s,) if P.weighted else ()

        def run(cols, c, left):
            return CDS.cd_sparse_ws(D.data, indices, indptr, 1.0 / D.n, xbar, P.L, cols, w, q,
                                    c, l1, l2, tol_in, left, _k(anderson, ANDERSON_SPARSE), *wts)
    else:
        def run(cols, c, left):
            return CDK.cd_squared_ws(*D.args, s, P.weighted, 1.0 / D.n, xbar, P.L, cols, w, q,
                                     c, l1, l2, tol_in, left, _k(anderson))
    epochs = 0
    # the support is taken only where it can be used: ``supp.size >= SUPPORT_FIRST`` and
    # ``supp.size < ws.size`` need ``ws.size > SUPPORT_FIRST`` (a mask over ``ws`` per pass)
    if l1 > 0.0 and support_first and ws.size > SUPPORT_FIRST:
        supp = ws[w[ws] != 0.0]
        if supp.size >= SUPPORT_FIRST and supp.size < ws.size:
            ep, c, _ = run(supp, c, budget)
            epochs = int(ep)
    ep, _, kin = run(ws, c, max(budget - epochs, 1))
    return epochs + int(ep), float(kin)


def _ahead_pass(P: SquaredProblem, w, q, ws, threshold, kin, budget,
                anderson) -> tuple[int, bool]:
    """More CD on the working set of a moved start's first pass (``w``, ``q`` in place), whose
    largest KKT violation was ``kin``, until it is at most ``AHEAD_GAP * threshold / ||w||_1``.
    Returns ``(epochs, met)``.

    The gap at ``w`` is ``sum_j w_j (l1 sign(w_j) - 2 g_j)`` (at most ``||w||_1`` times the
    largest violation on the support) plus what the features outside the support add through
    the dual's scaling. Without this the first gap test after a moved start failed by 2-41x
    on 91 of sparse-tall's 100 lams: a gradient pass, a test and a new working set spent to
    learn that the pass was too loose (docs/benchmarks.md, "Eighth round"). Met, the next test
    is taken on a fresh residual (it usually certifies); not met (``budget`` spent), on the
    carried one as before."""
    # ``w`` is 0 off ``ws`` (the moved start lies in the last support, which ``ws`` holds, and
    # CD moved only ``ws``): the norm over ``ws``, not a pass and a temporary over p per lam
    a = w[ws]  # a fresh array (fancy indexing): its absolute values in place, then summed
    l1norm = float(np.add.reduce(np.abs(a, out=a)))  # ``.sum()``'s own reduction, same bits
    tol = AHEAD_GAP * threshold / l1norm if l1norm > 0.0 else np.inf
    if kin <= tol:
        return 0, True
    if budget <= 0:
        return 0, False
    # xbar = 0 without an intercept: c = 0 without a pass over p (as in _working_sets)
    c = float(DK.vdot(P.xbar, w)) if P.fit_intercept else 0.0
    ep, kin = _cd_pass(P, w, q, c, ws, tol, budget, anderson, False)
    return ep, kin <= tol


def _k(anderson, default: int = ANDERSON) -> int:
    """The Anderson iterates of a kernel: ``anderson``, or its route's default when None
    (``ANDERSON``; ``ANDERSON_SPARSE`` for the kernel of ``._cd_sparse``)."""
    return default if anderson is None else anderson


def _newton_instead(P: SquaredProblem, w, w_start: Start, threshold, max_rounds, ws,
                    spent) -> int:
    """Active-set Newton from ``w_start`` (if its support is smaller) or ``w``, if it pays
    against more CD epochs on the working set ``ws`` after ``spent`` epochs on this problem
    (:func:`.newton.newton_pays`, ``w``'s support the estimate of the answer's); its result
    replaces ``w`` if it converged or lowered the objective. Returns its steps, -1 if declined
    (``w`` untouched)."""
    k = int(np.count_nonzero(w))
    from_start = w_start.count_nonzero() < k
    cand = w_start.dense() if from_start else w
    if not newton_pays(P, cand, k, ws, spent):
        return -1
    # Newton's own array: ``w`` is copied only once the rule took it (a declined try, asked
    # again after each doubled stall, copies nothing)
    w_try = cand if from_start else w.copy()
    out = active_set_newton(P, w_try, threshold, max_rounds)
    if out is None:
        return 0
    if out.converged or out.primal < P.objective(w):
        w[:] = w_try
    return out.n_iter


def _result(P: SquaredProblem, w, gap, n_iter, converged, tol, primal, solver) -> ExactResult:
    return ExactResult(w=w, intercept=P.intercept(w), gap=gap / P.null_loss, n_iter=n_iter,
                       converged=bool(converged), tol=tol, criterion="duality_gap",
                       objective=primal, solver=solver)
