"""The full centered gradient of a sparse squared-loss problem, recomputed only where it can
change the duality gap, the KKT test or the working set, or moved incrementally.

With ``g = X_c^T (s r)`` known exactly at a reference residual ``r0`` (``g0``), Cauchy-Schwarz in
the weights ``s`` bounds every entry at another residual ``r``::

    |g_j(r)| <= |g0_j| + sqrt(L_j) * delta,   delta = sqrt(sum_i s_i (r_i - r0_i)**2),

``L_j = sum_i s_i x_c,ij**2`` (the centered column norms). A feature with ``w_j = 0`` whose bound
is ``<= l1 / 2`` has ``2 |g_j| <= l1``: it adds nothing to the dual's scaling ``max_j 2 |g_j|``
beyond ``l1`` nor to the elastic net's conjugate ``sum_j max(2 |g_j| - l1, 0)**2``, and it
violates no optimality condition. Only the other features' entries are recomputed (the same
loop as the full product, so the same bits); the skipped ones keep ``g0_j``, which is bounded
the same way, so the duality gap of :func:`regulab.solvers.exact.squared.residual_gap` and the
largest KKT violation computed from the returned vector are exactly those of the full gradient.

When more than ``REFRESH`` of the active features would need recomputing, the reference moves
to ``r`` instead. The caller holds ``r = q + c`` with ``q = y_c - X w`` (as its kernels keep it)
and the scalar ``c = xbar.w`` (:mod:`regulab.solvers._cd_kernels`). A constant shift of the
residual leaves ``X_c^T s`` unchanged (``X^T s = xbar`` and ``sum_i s_i = 1`` with an
intercept; ``xbar = 0`` and ``c = 0`` without), so::

    g(r) = g0 + X^T (s dq) - xbar sum_i s_i dq_i,   dq = q - q0,

and ``X^T (s dq)`` reads only the rows with ``dq_i != 0`` (an exact test: a row that moved by
rounding alone is read too), through a CSR copy of X (:meth:`Design.csr_arrays`). Between two
gradient requests of a path few rows change (on ``sparse-few``, about a third of X's stored
entries), so this is taken whenever those rows hold at most ``INCREMENTAL`` of the stored
entries; otherwise a full pass renews the reference.

An updated reference equals the direct product in real arithmetic; in floating point each update
adds its own rounding (of the size of one pass's rounding over the changed rows), and these add
up along a chain of updates. After ``MAX_CHAIN = 16`` updates in a row the next reference is a
full pass. Measured along sparse-few's path (chains left unbounded): the largest entry-wise
difference from the direct product, relative to ``max_j |g_j|``, was <= 2.5e-15 for chains up
to 16 and 2.4e-14 at 64 (``benchmarks/incremental_grad.py drift``). Why the gap stays a
certificate: the gap is computed at the residual ``r`` itself from a ``g`` within ``~1e-14
max_j |g_j|`` of ``X_c^T (s r)``; ``g`` enters it only through the dual scaling ``max_j 2
|g_j|`` and the conjugate, whose relative change is of that order, so the gap moves by
``~1e-14`` of the loss, far below any tolerance the solvers accept (the gap already carries the
full pass's own rounding of the same order). The same holds for the bounded route on such a
reference: its skipped entries and its bounds carry the reference's rounding, no more. The
chain bound keeps that true whatever the path's length. Along ``benchmarks/table.py``'s
``sparse-few`` row, 61 incremental updates costing 21 full passes and 4 full passes replace 65
full passes (docs/benchmarks.md, seventh round).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from regulab.solvers import _design_kernels as DK
from regulab.solvers.exact.squared import SquaredProblem

#: a full pass (and a new reference) when more than this share of the active features is needed
REFRESH = 0.5
#: an incremental update when the changed rows hold at most this share of X's stored entries.
#: The changed rows lie apart in memory; with the kernel's prefetch hints they cost (sparse-few,
#: loaded machine) 0.37 ms at 0.1, 0.66 ms at 0.3, 1.0 ms at 0.6, 1.3 ms at 0.9 against 1.8 ms
#: for a full pass (without the hints 0.85, 1.6, 1.9, 1.8 ms: it paid below a third of a pass)
INCREMENTAL = 0.8
#: incremental updates in a row at most; the next reference is then a full pass (module
#: docstring)
MAX_CHAIN = 16
#: the working-set pass lists at most this share of the features (at least LIST_MIN) that a
#: bounded gradient near the reference may need (:meth:`GradientBound.listing`; 0: no list).
#: On sparse-few a request after a CD pass on a reference made in the same solve lay at 1e-6 to
#: 2e-5 of the null residual's norm from it, where the support and up to ~400 more of the
#: 50,000 features can be needed; a room of p/16 cost the listing passes 2-3x as much in cuts
#: (docs/benchmarks.md, eighth round)
LIST_SHARE = 1 / 64
LIST_MIN = 256
#: ... within this distance of the reference first, in units of the null residual's norm (then
#: cut by 4 while the list is full)
LIST_REACH = 1e-2
#: the empty list of a request that scans p
NO_LIST = np.empty(0, dtype=np.int64)


class Reference(NamedTuple):
    """The exact gradient ``g = X_c^T (s r)`` at ``r = q + c`` (``q = y_c - X w`` as the caller
    holds it), and ``chain``: the incremental updates since its last full pass."""

    r: np.ndarray
    g: np.ndarray
    q: np.ndarray | None
    chain: int


class GradientBound:
    """The gradient of one sparse :class:`SquaredProblem` by bounds (module docstring).

    ``ref`` is the :class:`Reference` (None before the first full pass); it depends only on
    the design, ``y_c``, ``s`` and ``fit_intercept``, so a warm-started call of a path passes on
    its predecessor's (``LastGradient.ref``).

    A bounded gradient is written into one buffer per instance (``_out``): the gradient
    :meth:`grad` returns is valid until its next call, a reference's ``g`` for good (nothing
    writes it). Between a reference and the next request the caller's working-set pass may list
    the features that could be needed (:meth:`listing`): the next requests on that reference
    then test only those, not all p."""

    def __init__(self, P: SquaredProblem, ref=None, sqrtL=None, level=None):
        self.P = P
        self.ref = ref
        # ``sqrtL``: the caller's ``P.D.sqrt_norms`` (each look-up hashes the weights' bytes)
        self.sqrtL = P.D.sqrt_norms(P.s, P.fit_intercept) if sqrtL is None else sqrtL
        self.n_active = P.active_count()
        # ``(limit, level)`` of :func:`refusal_level` for this problem (None: no early refusal)
        self.level = level
        self._out = None  # the bounded gradient's buffer and ...
        self._need = None  # ... its list of recomputed features
        self._synced = None  # the reference whose ``g`` ``_out`` equals off ``_need[:_prev]``
        self._prev = -1
        # ``(ref, reach, cand, ncand, ws)`` of :meth:`listed`, while it holds
        self._listed = None
        self._pending = None  # the reference of a :meth:`listing` not yet :meth:`listed`
        self._cand = None

    def grad(self, r, w, q=None) -> np.ndarray:
        """``X_c^T (s r)`` on the active features (0 elsewhere), exact wherever it matters.

        ``q``: ``y_c - X w`` as held by the caller, ``r = q + xbar.w`` (None: no incremental
        update)."""
        P = self.P
        ref = self.ref
        if ref is not None:
            D = P.D
            sr = np.empty(D.n)
            delta = float(np.sqrt(DK.moved_wdist(P.s, r, ref.r, sr)))
            if self._out is None:
                self._out = np.empty(D.p)
                self._need = np.empty(D.p, dtype=np.int64)
            L = self._listed
            if L is not None and (L[0] is not ref or delta > L[1]):
                L = None
            cand, ncand, ws = (L[2], L[3], L[4]) if L is not None else (NO_LIST, -1, NO_LIST)
            prev = self._prev if self._synced is ref else -1
            # without an intercept xbar = 0: its term is 0 whatever the sum (no pass over n)
            sr_sum = float(sr.sum()) if P.fit_intercept else 0.0
            limit, half = int(REFRESH * self.n_active), 0.5 * P.l1
            if self.refused(delta, limit, half):
                count = -1  # the kernel's answer, known without its scan
            else:
                # unsigned views: no wrap-around test per index read (Design.index_views)
                count = DK.bounded_grad(D.data, *D.index_views, ref.g, self.sqrtL, delta,
                                        half, w, P.active, sr, P.xbar, sr_sum, limit,
                                        self._out, self._need, prev, cand, ncand, ws)
            if count >= 0:
                self._synced, self._prev = ref, count
                return self._out
            self._synced = None
            g = self._incremental(r, q)
            if g is not None:
                return g
        g = P.masked_grad(r)
        rc, qc = _kept(r, q)
        self.ref = Reference(rc, g, qc, 0)
        return g

    def refused(self, delta, limit, half) -> bool:
        """Whether a request at ``delta`` needs more than ``limit`` features by
        :func:`refusal_level` alone (False without a level, or one made for another limit)."""
        lv = self.level
        return lv is not None and lv[0] == limit and lv[1] * delta > half

    def listing(self, g):
        """``(reach, cand)`` for the caller's working-set pass
        (:func:`regulab.solvers._cd_kernels.kkt_ws_select`) on the gradient ``g`` just returned,
        when it is the reference's own (else ``reach = -1``: nothing to list). The pass lists
        in ``cand`` the active features with ``w_j = 0`` that a request at a distance ``delta
        <= reach`` may need (those with ``|g_j| + sqrtL_j delta > l1 / 2``, rounding included:
        ``_cd_kernels.LIST_MARGIN``), cutting the reach while more than ``cand.size`` would be
        listed. With the working set ``ws`` given to :meth:`listed`, which holds the support,
        off which ``w`` stays 0 until the next request (CD moves only ``ws``; :meth:`moved`
        after any other change), no other feature can be needed within the reach. It starts at
        ``LIST_REACH`` times the null model's residual norm; ``cand`` holds ``LIST_SHARE`` of
        the features (at least ``LIST_MIN``)."""
        ref = self.ref
        self._listed = self._pending = None
        if ref is None or g is not ref.g or LIST_SHARE <= 0.0:
            return -1.0, NO_LIST
        if self._cand is None:
            p = self.P.D.p
            self._cand = np.empty(min(p, max(LIST_MIN, int(LIST_SHARE * p))), dtype=np.int64)
        self._pending = ref
        return LIST_REACH * float(np.sqrt(self.P.null_loss)), self._cand

    def listed(self, ncand, reach, ws):
        """The working-set pass's count of listed features (-1: none) and its final reach
        (:meth:`listing`), and its working set (sorted int64, ``w`` 0 off it until the next
        request)."""
        ref, self._pending = self._pending, None
        if ref is not None and ncand >= 0:
            self._listed = (ref, reach, self._cand, ncand, ws)

    def moved(self):
        """``w`` changed off the working set (a Newton step): the listed features no longer
        cover what may be needed."""
        self._listed = None

    def _incremental(self, r, q):
        """The reference moved to ``r`` through the rows where ``q`` changed, when they are
        few enough and the chain is short enough; else None."""
        ref = self.ref
        if q is None or ref.q is None or ref.chain >= MAX_CHAIN:
            return None
        P = self.P
        D = P.D
        g = np.empty(D.p)  # a reference's ``g`` is never written (class docstring)
        rdata, rcols, rptr = D.csr_arrays()
        if DK.centered_grad_update(rdata, rcols, rptr, q, ref.q, P.s, P.xbar, P.active,
                                   int(INCREMENTAL * D.indptr[-1]), ref.g, g) < 0:
            return None
        rc, qc = _kept(r, q)
        self.ref = Reference(rc, g, qc, ref.chain + 1)
        return g


def refusal_level(P: SquaredProblem, sqrtL) -> tuple[int, float]:
    """``(limit, level)``: ``limit = int(REFRESH n_active)``, the most features a bounded
    gradient recomputes, and ``level`` the ``(limit + 1)``-th largest ``sqrt(L_j)`` of the
    active features (``inf`` when there are no more than ``limit``). A request at a distance
    ``delta`` with ``level * delta > l1 / 2`` (in floating point) needs more than ``limit``
    features: the ``limit + 1`` active ones with ``sqrt(L_j) >= level`` have ``sqrt(L_j) delta
    >= level delta`` (a product by ``delta >= 0`` rounds monotonically) and ``|g0_j| + sqrt(L_j)
    delta`` no smaller, so :func:`._design_kernels.bounded_grad` would return -1, after a scan
    of most of p (on sparse-few 52 of the path's 64 refused requests, ~70 us each). One
    selection over the active features, made once per path
    (:func:`regulab.solvers.exact.squared_path`)."""
    limit = int(REFRESH * P.active_count())
    a = sqrtL[P.active]
    if a.size <= limit:
        return limit, np.inf
    k = a.size - (limit + 1)  # ascending position of the (limit + 1)-th largest
    return limit, float(np.partition(a, k)[k])


def _kept(r, q):
    """Copies of ``(r, q)`` for a :class:`Reference` (the caller's move on); one array for both
    when ``r`` is ``q`` (no intercept: ``r = q + 0``), as nothing writes a reference's arrays."""
    rc = r.copy()
    return rc, (rc if q is r else None if q is None else q.copy())
