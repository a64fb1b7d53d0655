"""The gradient by bounds (:mod:`regulab.solvers.exact.gradient_bound`) gives the duality gap and
KKT violation of the full gradient exactly, and skips only features that cannot matter.

The oracle is the full centered gradient ``X_c^T (r / n)`` computed here with numpy (sparse X,
equal weights, with and without intercept), at a residual near a reference one, as along a path.
The incremental reference (moved through the changed rows) is checked the same way, with and
without weights and intercept, along a walk of iterates; the chain bound by a corrupted update;
a path's reported gaps by :func:`regulab.core.certificates.duality_gap_squared`.
"""

import numpy as np
import pytest
from scipy import sparse

from regulab.core.losses import normalized_weights
from regulab.solvers.design import as_design
import regulab.solvers.exact.gradient_bound as GB
from regulab.solvers.exact.gradient_bound import GradientBound
from regulab.solvers.exact.squared import SquaredProblem, kkt_squared


def _centered_problem(X, y, sw, fit_intercept, l1_frac, l2):
    """The :class:`SquaredProblem` of ``(X, y)`` with weights ``sw`` and ``l1 = l1_frac *
    max_j 2 |X_c^T (s y_c)|_j``; returns ``(P, A)``, ``A`` the dense centered design."""
    n = X.shape[0]
    D = as_design(X)
    s = normalized_weights(n, sw)
    xbar, L = D.stats(s, fit_intercept)
    ybar = float(s @ y) if fit_intercept else 0.0
    yc = y - ybar
    A = X.toarray() - (xbar if fit_intercept else 0.0)
    l1 = l1_frac * 2.0 * float(np.abs(A.T @ (s * yc)).max())
    P = SquaredProblem(D, y, yc, s, sw is not None, fit_intercept, ybar, xbar, L, L > 0,
                       float(s @ (yc * yc)), n - int(fit_intercept), l1, l2)
    return P, A


def _problem(seed, fit_intercept, l1_frac, l2):
    rng = np.random.default_rng(seed)
    n, p = 200, 600
    X = sparse.random(n, p, density=0.05, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    y = X @ np.where(rng.random(p) < 0.05, rng.standard_normal(p), 0.0)
    y = y + 0.3 * rng.standard_normal(n) + (2.0 if fit_intercept else 0.0)
    P, A = _centered_problem(X, y, None, fit_intercept, l1_frac, l2)
    return P, A, P.yc, rng


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_bounded_gradient_gives_the_full_gap_and_kkt(seed, fit_intercept, l2):
    P, A, yc, rng = _problem(seed, fit_intercept, 0.3, l2)
    n, p = A.shape
    w0 = np.where(rng.random(p) < 0.03, 0.1 * rng.standard_normal(p), 0.0)
    r0 = yc - A @ w0
    bound = GradientBound(P)
    bound.grad(r0, w0)  # the reference (a full pass)
    skipped_any = False
    for step in (1e-3, 1e-2):  # a nearby iterate, as the next outer iteration of a path
        w = w0 + step * np.where(w0 != 0, rng.standard_normal(p), 0.0)
        r = yc - A @ w
        g = bound.grad(r, w)
        full = P.masked_grad(r)  # the full pass
        g_full = A.T @ r / n  # the oracle's values
        differs = g != full
        skipped_any |= bool(differs.any())
        # a skipped entry: w_j = 0 and the true |g_j| within l1/2
        assert np.all(w[differs] == 0.0)
        assert np.all(np.abs(g_full[differs]) <= 0.5 * P.l1 * (1 + 1e-12))
        assert np.all(np.abs(g[differs]) <= 0.5 * P.l1 * (1 + 1e-12))
        assert np.abs(full - np.where(P.active, g_full, 0.0)).max() <= 1e-12 * np.abs(g_full).max()
        assert P.gap(r, g, w) == P.gap(r, full, w)
        assert kkt_squared(g, w, P.l1, l2) == kkt_squared(full, w, P.l1, l2)
    assert skipped_any, "nothing was skipped: the test proves nothing"


@pytest.mark.parametrize("seed", range(3))
def test_a_far_residual_refreshes_the_reference(seed):
    P, A, yc, rng = _problem(seed, False, 0.3, 0.0)
    n, p = A.shape
    bound = GradientBound(P)
    bound.grad(yc, np.zeros(p))
    r_far = rng.standard_normal(n) * np.abs(yc).max()
    g = bound.grad(r_far, np.zeros(p))
    np.testing.assert_array_equal(g, P.masked_grad(r_far))
    np.testing.assert_array_equal(bound.ref[0], r_far)


# ------------------------------------------------------------------ the incremental reference

def _weighted_problem(seed, fit_intercept, weighted, l1_frac=0.3):
    """A sparse problem with an all-zero column (0) and, with an intercept, a constant one (1):
    both inactive. Returns ``(P, X, A, s, rng)``, ``A`` the dense centered design."""
    rng = np.random.default_rng(seed)
    n, p = 150, 400
    X = sparse.random(n, p, density=0.06, format="lil", random_state=rng,
                      data_rvs=rng.standard_normal)
    X[:, 0] = 0.0
    X[:, 1] = 1.5
    X = X.tocsc()
    X.eliminate_zeros()
    y = X @ np.where(rng.random(p) < 0.05, rng.standard_normal(p), 0.0)
    y = y + 0.3 * rng.standard_normal(n) + (2.0 if fit_intercept else 0.0)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    P, A = _centered_problem(X, y, sw, fit_intercept, l1_frac, 0.0)
    return P, X, A, P.s, rng


def _walk(P, rng, steps):
    """Iterates of a path: a few coefficients move, enter or leave per step. Yields ``(w, q, r)``
    with ``q = y_c - X w`` from the design's product (as the solver forms it), ``r = q + xbar.w``."""
    p = P.D.p
    w = np.zeros(p)
    for _ in range(steps):
        moved = rng.choice(np.arange(2, p), size=3, replace=False)
        w[moved] = np.where(rng.random(3) < 0.3, 0.0, w[moved] + rng.standard_normal(3))
        q = P.yc - P.D.x_dot(w)
        yield w.copy(), q, q + float(P.xbar @ w)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_incremental_gradient_is_the_dense_product(seed, fit_intercept, weighted, monkeypatch):
    """With the bounded route refused (``REFRESH = 0``), every gradient along a walk is a full pass
    or an incremental update; each equals ``X_c^T (s r)`` computed densely here (0 on the
    inactive all-zero and constant columns), and the chain is cut at ``MAX_CHAIN``."""
    monkeypatch.setattr(GB, "REFRESH", 0.0)
    monkeypatch.setattr(GB, "INCREMENTAL", 1.0)
    P, X, A, s, rng = _weighted_problem(seed, fit_intercept, weighted)
    assert not P.active[0] and P.active[1] != fit_intercept
    bound = GradientBound(P)
    chains = []
    for w, q, r in _walk(P, rng, 3 * GB.MAX_CHAIN):
        g = bound.grad(r, w, q)
        oracle = np.where(P.active, A.T @ (s * r), 0.0)
        assert np.abs(g - oracle).max() <= 1e-12 * np.abs(oracle).max()
        assert g[0] == 0.0 and (g[1] == 0.0 or not fit_intercept)
        chains.append(bound.ref.chain)
    assert max(chains) == GB.MAX_CHAIN  # incremental updates happened, up to the bound
    assert chains.count(0) >= 3  # the first pass and the forced ones


def test_the_chain_bound_cuts_a_drifting_update(monkeypatch):
    """An incremental update corrupted by ``eps`` per call: the forced full pass after
    ``MAX_CHAIN`` updates keeps the error of every gradient within ``MAX_CHAIN eps``; without it
    (the bound removed) the error grows past that, so the bound is what keeps it."""
    eps = 1e-6
    update = GB.DK.centered_grad_update

    def drifting(*a):
        out = update(*a)
        if out >= 0:
            a[-1][:] += eps  # ``g``, the last argument, updated in place
        return out

    def worst_error(max_chain):
        monkeypatch.setattr(GB, "MAX_CHAIN", max_chain)
        P, X, A, s, rng = _weighted_problem(7, True, True)
        bound = GradientBound(P)
        worst = 0.0
        for w, q, r in _walk(P, rng, 40):
            g = bound.grad(r, w, q)
            oracle = np.where(P.active, A.T @ (s * r), 0.0)
            worst = max(worst, float(np.abs(g - oracle)[P.active].max()))
        return worst

    monkeypatch.setattr(GB, "REFRESH", 0.0)
    monkeypatch.setattr(GB, "INCREMENTAL", 1.0)
    monkeypatch.setattr(GB.DK, "centered_grad_update", drifting)
    bounded = worst_error(GB.MAX_CHAIN)
    assert GB.MAX_CHAIN * eps * 0.99 <= bounded <= GB.MAX_CHAIN * eps * 1.01
    assert worst_error(10_000) >= 30 * eps  # 39 updates in a row without the bound


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_path_gaps_with_incremental_gradients_are_certificates(fit_intercept, weighted,
                                                                monkeypatch):
    """Along an L1 path on sparse X, every reported gap equals the duality gap of
    :func:`regulab.core.certificates.duality_gap_squared` at the returned ``(w, b)``, relative
    to the null loss, and is within ``tol``; incremental updates were made."""
    from regulab.core.certificates import duality_gap_squared
    from regulab.selection.path import regularization_path
    from regulab.solvers import _design_kernels as DK

    rng = np.random.default_rng(3)
    n, p = 400, 3000
    X = sparse.random(n, p, density=0.02, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    y = X @ np.where(rng.random(p) < 0.02, rng.standard_normal(p), 0.0)
    y = y + 0.5 * rng.standard_normal(n) + (1.0 if fit_intercept else 0.0)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    made = []
    update = DK.centered_grad_update

    def counted(*a):
        out = update(*a)
        made.append(out >= 0)
        return out

    monkeypatch.setattr(DK, "centered_grad_update", counted)
    tol = 1e-8
    res = regularization_path(X, y, n_lams=40, fit_intercept=fit_intercept, sample_weight=sw,
                              tol=tol)
    assert sum(made) > 0, "no incremental update: the test proves nothing"
    s = normalized_weights(n, sw)
    yc = y - (float(s @ y) if fit_intercept else 0.0)
    null = float(s @ (yc * yc))
    for k, lam in enumerate(res.lams):
        gap = duality_gap_squared(X, y, res.coefs[:, k], res.intercepts[k], lam, 0.0,
                                  sample_weight=sw, fit_intercept=fit_intercept) / null
        assert abs(res.gaps[k] - gap) <= 1e-12
        assert gap <= tol * (1 + 1e-9) + 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_the_incremental_update_reads_the_changed_rows_up_to_its_limit(seed):
    """``DK.centered_grad_update`` over more rows than one scan block: with its limit at the
    stored entries of the changed rows it returns that count and ``g + X_c^T (s dq)`` (computed
    here densely, 0 off the active features); one entry less and it refuses (-1), ``g``
    untouched."""
    from regulab.solvers import _design_kernels as DK

    rng = np.random.default_rng(seed)
    n, p = 3 * DK.ROW_BLOCK + 123, 40
    X = sparse.random(n, p, density=0.1, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    D = as_design(X)
    rdata, rcols, rptr = D.csr_arrays()
    s = rng.random(n)
    s /= s.sum()
    xbar = rng.standard_normal(p)
    active = rng.random(p) < 0.8
    q0 = rng.standard_normal(n)
    q = q0.copy()
    moved = rng.random(n) < 0.3
    moved[-1] = True  # the last block's last row counts too
    q[moved] += rng.standard_normal(int(moved.sum()))
    entries = int(np.diff(rptr)[moved].sum())
    g0 = rng.standard_normal(p)
    sdq = s * (q - q0)
    want = np.where(active, g0 + X.T @ sdq - xbar * sdq.sum(), 0.0)
    g = np.full(p, np.nan)  # every entry written, from ``g0`` ...
    read = DK.centered_grad_update(rdata, rcols, rptr, q, q0, s, xbar, active, entries,
                                   g0.copy(), g)
    assert read == entries
    assert np.abs(g - want).max() <= 1e-12 * np.abs(want).max()
    g_in = g0.copy()  # ... or in place, the same bits
    assert DK.centered_grad_update(rdata, rcols, rptr, q, q0, s, xbar, active, entries, g_in,
                                   g_in) == entries
    assert np.array_equal(g_in, g)
    g = g0.copy()
    assert DK.centered_grad_update(rdata, rcols, rptr, q, q0, s, xbar, active, entries - 1,
                                   g0.copy(), g) == -1
    assert np.array_equal(g, g0)


@pytest.mark.parametrize("wide", [False, True])
def test_the_incremental_update_sums_each_column_in_row_order_to_the_bit(wide):
    """``DK.centered_grad_update`` against its sums written in numpy, to the bit: ``d_j`` gets
    ``x_ij v_i`` over the changed rows in increasing ``i``, ``tot`` the ``v_i`` in that order,
    ``g = g0 + (d - xbar tot)`` on the active features. Rows of 0 (the first and the last), 1,
    the prefetched ``8 ROW_LINES - 1``, ``8 ROW_LINES``, ``8 ROW_LINES + 1`` and more entries
    (:func:`DK.prefetch_head` hints at a row's first ``ROW_LINES`` lines, its last entry past
    them), 4- and 8-byte indices."""
    from regulab.solvers import _design_kernels as DK

    rng = np.random.default_rng(7)
    span = 8 * DK.ROW_LINES
    lengths = [0, 1, span - 1, span, span + 1, 3 * span, 5, 0, 2 * span + 3, 0]
    p = 4 * span
    rows = [np.sort(rng.choice(p, k, replace=False)) for k in lengths]
    rptr = np.concatenate([[0], np.cumsum(lengths)])
    rcols = np.concatenate(rows).astype(np.int64 if wide else np.int32)
    rdata = rng.standard_normal(rcols.size)
    rcols, rptr = DK.unsigned(rcols), DK.unsigned(rptr.astype(rcols.dtype))
    n = len(lengths)
    s = rng.random(n)
    q0 = rng.standard_normal(n)
    q = q0 + rng.standard_normal(n)
    q[3] = q0[3]  # one unchanged row between changed ones
    xbar = rng.standard_normal(p)
    active = rng.random(p) < 0.9
    g0 = rng.standard_normal(p)
    d = np.zeros(p)
    tot = 0.0
    for i in range(n):
        if q[i] != q0[i]:
            v = s[i] * (q[i] - q0[i])
            tot += v
            a, b = int(rptr[i]), int(rptr[i + 1])
            d[rcols[a:b]] += rdata[a:b] * v  # a row holds a column once
    want = np.where(active, g0 + (d - xbar * tot), 0.0)
    g = np.full(p, np.nan)
    read = DK.centered_grad_update(rdata, rcols, rptr, q, q0, s, xbar, active, rcols.size, g0,
                                   g)
    assert read == sum(k for i, k in enumerate(lengths) if i != 3)
    assert np.array_equal(g, want)


@pytest.mark.parametrize("dtype", [np.float64, np.uint32, np.int64, np.uint8])
def test_a_cache_line_holds_64_bytes_of_entries_in_a_kernel_too(dtype):
    """``DK.line_entries``: 64 bytes of ``a``'s entries, in Python and as the compiled constant
    :func:`DK.prefetch_span` steps its index hints by."""
    from numba import njit

    from regulab.solvers import _design_kernels as DK

    a = np.zeros(3, dtype=dtype)
    assert DK.line_entries(a) == 64 // a.itemsize
    assert njit(lambda a: DK.line_entries(a))(a) == 64 // a.itemsize


# ------------------------------------------------------------------ the listed features

def _brute_bounded(P, A, g0, r, w, delta):
    """The bounded gradient by its definition, in numpy: ``X_c^T (s r)`` on the needed features
    (active, ``w_j != 0`` or ``|g0_j| + sqrtL_j delta > l1 / 2``), ``g0`` elsewhere."""
    sqrtL = np.sqrt(P.L)
    need = P.active & ((w != 0.0) | (np.abs(g0) + sqrtL * delta > 0.5 * P.l1))
    return np.where(need, A.T @ (P.s * r), g0), need


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_listed_features_give_the_scanned_gradient(seed, fit_intercept, monkeypatch):
    """A reference, the working-set pass listing what may be needed (``kkt_ws_select`` with a
    reach), then requests within the reach: each gradient equals the bounded gradient computed
    by its definition here (to 1e-12) and, bit for bit, that of a scan over all p (a second
    instance on the same reference, no list); one request has a support feature that only the
    working set holds (its bound alone would skip it: a list without ``ws`` returns its
    ``g0``); one lies beyond the reach and scans (``REFRESH = 1``: no request refused)."""
    from regulab.solvers import _cd_kernels as CDK

    monkeypatch.setattr(GB, "REFRESH", 1.0)  # the bounded route at any distance
    P, A, yc, rng = _problem(seed, fit_intercept, 0.3, 0.0)
    n, p = A.shape
    w0 = np.where(rng.random(p) < 0.03, 0.1 * rng.standard_normal(p), 0.0)
    r0 = yc - A @ w0
    bound = GradientBound(P)
    g0 = bound.grad(r0, w0, None)  # the reference: a full pass
    assert g0 is bound.ref.g
    reach, cand = bound.listing(g0)
    assert reach > 0.0
    sqrtL = np.sqrt(P.L)
    nnz = int(np.count_nonzero(w0))
    _, _, ncand, reach = CDK.kkt_ws_select(g0, w0, P.l1, 0.0, bound.sqrtL, P.active, nnz, 5,
                                           reach, cand)
    listed = cand[:ncand].copy()
    assert 0 < ncand <= cand.size
    half = 0.5 * P.l1
    score = (np.abs(g0) - half) / np.where(P.active, sqrtL, 1.0)
    np.testing.assert_array_equal(listed, np.flatnonzero(
        P.active & (w0 == 0.0) & (score > -reach * CDK.LIST_MARGIN)))
    # every feature that a request within the reach may need, by the bound's own formula
    reached = P.active & (np.abs(g0) + sqrtL * reach > half)
    assert np.all(np.isin(np.flatnonzero(reached & (w0 == 0.0)), listed))
    # a working set: the support and two features not listed
    far = np.flatnonzero(P.active & (w0 == 0.0) & ~np.isin(np.arange(p), listed))[:2]
    ws = np.union1d(np.flatnonzero(w0), far).astype(np.int64)
    bound.listed(ncand, reach, ws)
    seen_list = []
    orig = GB.DK.bounded_grad

    def spy(*a):
        seen_list.append(a[17] >= 0)
        return orig(*a)

    GB.DK.bounded_grad = spy
    try:
        for k, frac in enumerate((0.3, 0.9, 0.5, 1.5)):
            # w moves on the working set only; the second request makes a far feature non-zero
            w = w0.copy()
            w[ws] += frac * 1e-3 * rng.standard_normal(ws.size) * (w0[ws] != 0)
            if k == 1:
                w[far[0]] = 1e-9
            dr = rng.standard_normal(n)
            r = r0 + frac * reach * dr / np.sqrt(P.s @ (dr * dr))  # at distance frac * reach
            g = bound.grad(r, w, None).copy()
            assert bound.ref.g is g0  # no new reference: every request was bounded
            delta = float(np.sqrt(P.s @ ((r - r0) ** 2)))
            oracle, need = _brute_bounded(P, A, g0, r, w, delta)
            assert np.abs(g - oracle).max() <= 1e-12 * np.abs(oracle).max()
            if k == 1:
                assert need[far[0]] and g[far[0]] != g0[far[0]]
            scan = GradientBound(P, bound.ref, bound.sqrtL)
            np.testing.assert_array_equal(g, scan.grad(r, w, None))
    finally:
        GB.DK.bounded_grad = orig
    # the scan instance's calls interleave: the list was taken within the reach, not beyond
    assert seen_list[0::2] == [True, True, True, False]


def test_kkt_pass_lists_only_with_a_reach():
    """Without a reach (negative) nothing is listed and the count is -1; the working set and
    the KKT value do not depend on the listing."""
    from regulab.solvers import _cd_kernels as CDK

    P, A, yc, rng = _problem(1, False, 0.3, 0.0)
    p = A.shape[1]
    w = np.where(rng.random(p) < 0.03, 0.1 * rng.standard_normal(p), 0.0)
    g = P.masked_grad(yc - A @ w)
    sqrtL = np.sqrt(P.L)
    nnz = int(np.count_nonzero(w))
    cand = np.empty(p, dtype=np.int64)
    a = CDK.kkt_ws_select(g, w, P.l1, 0.0, sqrtL, P.active, nnz, 7, -1.0, GB.NO_LIST)
    b = CDK.kkt_ws_select(g, w, P.l1, 0.0, sqrtL, P.active, nnz, 7, 0.01, cand)
    assert a[2] == -1 and b[2] > 0
    assert a[0] == b[0] and np.array_equal(a[1], b[1])


def test_a_full_list_cuts_its_reach():
    """With room for fewer features than a reach would list, the pass cuts the reach (by
    ``LIST_SHRINK`` each time) and returns exactly the features within the final one, no more
    than the room; with less room than the features beyond the bound itself it gives up."""
    from regulab.solvers import _cd_kernels as CDK

    P, A, yc, rng = _problem(2, False, 0.05, 0.0)
    p = A.shape[1]
    g = P.masked_grad(yc)
    sqrtL = np.sqrt(P.L)
    half = 0.5 * P.l1
    zero = np.zeros(p)
    score = (np.abs(g) - half) / np.where(P.active, sqrtL, 1.0)
    beyond = int(np.count_nonzero(P.active & (score > 0.0)))
    assert beyond >= 2
    for room in (beyond + 1, beyond + 40, beyond + 100):
        cand = np.empty(room, dtype=np.int64)
        reach0 = 10.0
        _, _, nc, reach = CDK.kkt_ws_select(g, zero, P.l1, 0.0, sqrtL, P.active, 0, 5, reach0,
                                            cand)
        assert np.count_nonzero(P.active & (score > -reach0)) > room
        within = np.flatnonzero(P.active & (score > -reach * CDK.LIST_MARGIN))
        assert 0 <= nc <= room and reach < reach0
        np.testing.assert_array_equal(cand[:nc], within)
        # the reach before the last cut would not have fitted
        wider = P.active & (score > -reach / CDK.LIST_SHRINK * CDK.LIST_MARGIN)
        assert np.count_nonzero(wider) > room
    cand = np.empty(beyond - 1, dtype=np.int64)
    assert CDK.kkt_ws_select(g, zero, P.l1, 0.0, sqrtL, P.active, 0, 5, 10.0, cand)[2] == -1
    # no list without picks besides the support (m = 0): the pass would not see the others
    assert CDK.kkt_ws_select(g, zero, P.l1, 0.0, sqrtL, P.active, 0, 0, 10.0, cand)[2] == -1


@pytest.mark.parametrize("fit_intercept, weighted, l1_ratio",
                         [(False, False, 1.0), (True, False, 1.0), (True, True, 1.0),
                          (False, False, 0.7)])
def test_paths_are_the_same_bits_with_and_without_the_list(fit_intercept, weighted, l1_ratio,
                                                           monkeypatch):
    """An L1 or elastic-net path on sparse X (weights or not) gives the same coefficients and
    gaps, bit for bit, whether the bounded gradients scan p or test the listed features
    (``LIST_SHARE = 0``: no list), and the listed route was taken."""
    from regulab.selection.path import regularization_path

    rng = np.random.default_rng(5)
    n, p = 300, 4000
    X = sparse.random(n, p, density=0.01, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    y = X @ np.where(rng.random(p) < 0.02, rng.standard_normal(p), 0.0)
    y = y + 0.3 * rng.standard_normal(n)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    opts = dict(n_lams=40, fit_intercept=fit_intercept, sample_weight=sw, l1_ratio=l1_ratio,
                tol=1e-8)
    listed = []
    orig = GB.DK.bounded_grad

    def spy(*a):
        listed.append(a[17] >= 0)
        return orig(*a)

    monkeypatch.setattr(GB.DK, "bounded_grad", spy)
    # a copy of X per path: a new design each, not the last path's warm state
    with_list = regularization_path(X.copy(), y, **opts)
    assert sum(listed) > 0, "no listed request: the test proves nothing"
    monkeypatch.setattr(GB, "LIST_SHARE", 0.0)
    listed.clear()
    without = regularization_path(X.copy(), y, **opts)
    assert sum(listed) == 0
    np.testing.assert_array_equal(with_list.coefs, without.coefs)
    np.testing.assert_array_equal(with_list.gaps, without.gaps)


def test_the_list_is_dropped_when_it_may_not_cover():
    """No list for a gradient that is not the reference's own, none after ``moved`` (``w``
    changed off the working set, as by a Newton step), none on another reference: each of these
    requests scans p."""
    from regulab.solvers import _cd_kernels as CDK

    P, A, yc, rng = _problem(3, False, 0.3, 0.0)
    n, p = A.shape
    w0 = np.where(rng.random(p) < 0.03, 0.1 * rng.standard_normal(p), 0.0)
    r0 = yc - A @ w0
    nnz = int(np.count_nonzero(w0))
    modes = []
    orig = GB.DK.bounded_grad

    def spy(*a):
        modes.append(a[17] >= 0)
        return orig(*a)

    def list_and_request(bound, g, r):
        reach, cand = bound.listing(g)
        _, ws, nc, reach = CDK.kkt_ws_select(g, w0, P.l1, 0.0, bound.sqrtL, P.active, nnz, 5,
                                             reach, cand)
        bound.listed(nc, reach, ws)
        return reach

    GB.DK.bounded_grad = spy
    try:
        bound = GradientBound(P)
        g0 = bound.grad(r0, w0, None)
        reach = list_and_request(bound, g0, r0)
        near = r0 + 0.5 * reach * np.sign(rng.standard_normal(n)) / np.sqrt(n * P.s.mean())
        bound.grad(near, w0, None)
        g1 = bound.grad(near, w0, None)  # the bounded gradient: not the reference's own
        assert modes == [True, True] and g1 is not bound.ref.g
        assert bound.listing(g1)[0] == -1.0
        list_and_request(bound, g0, r0)
        bound.moved()
        bound.grad(near, w0, None)
        assert modes[-1] is False
        list_and_request(bound, g0, r0)
        bound.ref = bound.ref._replace(chain=0)  # another reference (same values)
        bound.grad(near, w0, None)
        assert modes[-1] is False
    finally:
        GB.DK.bounded_grad = orig


@pytest.mark.parametrize("n", [1, 7, 1000])
def test_moved_wdist_is_the_weighted_distance_and_s_r(n):
    """``DK.moved_wdist``: ``sum_i s_i (r_i - r0_i)**2`` as numpy sums it (up to the order of
    the sum) and ``s r`` to the bit."""
    from regulab.solvers import _design_kernels as DK

    rng = np.random.default_rng(n)
    s, r, r0 = rng.random(n), rng.standard_normal(n), rng.standard_normal(n)
    sr = np.full(n, np.nan)
    got = DK.moved_wdist(s, r, r0, sr)
    want = float(np.sum(s * (r - r0) ** 2))
    assert abs(got - want) <= 1e-13 * want
    assert np.array_equal(sr, s * r)


def test_a_reference_keeps_its_own_copies_one_when_r_is_q(monkeypatch):
    """A reference's ``r`` and ``q`` are copies the caller cannot move: one array for both when
    the caller's ``r`` is its ``q`` (no intercept), two otherwise; the gradients along a walk
    stay the direct product's (the shared copy is never written)."""
    monkeypatch.setattr(GB, "REFRESH", 0.0)  # every request a full pass or an update
    monkeypatch.setattr(GB, "INCREMENTAL", 1.0)
    P, X, A, s, rng = _weighted_problem(11, False, False)
    bound = GradientBound(P)
    kinds = set()
    for w, q, _ in _walk(P, rng, 12):
        g = bound.grad(q, w, q).copy()  # r is q
        ref = bound.ref
        assert ref.r is ref.q and ref.r is not q and np.array_equal(ref.r, q)
        kinds.add(ref.chain > 0)
        q[:] = np.nan  # the caller's CD moves its q: the reference must not see it
        assert not np.isnan(ref.r).any()
        oracle = np.where(P.active, A.T @ (s * (P.yc - P.D.x_dot(w))), 0.0)
        assert np.abs(g - oracle).max() <= 1e-12 * np.abs(oracle).max()
    assert kinds == {False, True}  # full passes and incremental updates both made
    P, X, A, s, rng = _weighted_problem(11, True, False)
    bound = GradientBound(P)
    w, q, r = next(_walk(P, rng, 1))
    bound.grad(r, w, q)
    assert bound.ref.r is not bound.ref.q and np.array_equal(bound.ref.q, q)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_the_refusal_level_skips_only_requests_the_kernel_refuses(fit_intercept, monkeypatch):
    """``refusal_level`` is the ``(limit + 1)``-th largest ``sqrt(L_j)`` of the active features
    (sorted here); along one walk, a bound with it calls ``bounded_grad`` less often, every
    request it skips is one the kernel refused (-1) in the same walk without it, and the
    gradients are the same bits."""
    from regulab.solvers import _design_kernels as DK

    monkeypatch.setattr(GB, "REFRESH", 0.2)
    P, X, A, s, rng = _weighted_problem(5, fit_intercept, False)
    sqrtL = P.D.sqrt_norms(P.s, P.fit_intercept)
    limit, level = GB.refusal_level(P, sqrtL)
    assert limit == int(0.2 * np.count_nonzero(P.active))
    assert level == np.sort(sqrtL[P.active])[::-1][limit]
    kernel = DK.bounded_grad

    def run(lv):
        out, grads = [], []

        def recorded(*a):
            got = kernel(*a)
            out.append(got)
            return got

        monkeypatch.setattr(DK, "bounded_grad", recorded)
        bound = GradientBound(P, None, sqrtL, lv)
        walk = np.random.default_rng(9)
        for w, q, r in _walk(P, walk, 30):
            n_before = len(out)
            grads.append(bound.grad(r, w, q).copy())
            out_now = out[n_before:]
            yield grads[-1], (out_now[0] if out_now else None)

    plain = list(run(None))
    early = list(run((limit, level)))
    assert len(plain) == len(early)
    skipped = 0
    for (g0, k0), (g1, k1) in zip(plain, early):
        assert np.array_equal(g0, g1)
        if k1 is None and k0 is not None:
            assert k0 == -1  # skipped: the kernel refuses it
            skipped += 1
    assert skipped > 0, "no request skipped: the test proves nothing"


def test_the_refusal_level_is_the_kernels_threshold_at_zero_gradient(monkeypatch):
    """On a reference with ``g0 = 0`` and ``w = 0`` the features needed at ``delta`` are those
    with ``sqrt(L_j) delta > l1 / 2``: just above ``half / level`` the rule refuses and so does
    ``bounded_grad``; just below it does not, and the kernel succeeds (the level is the
    threshold itself, not merely safe)."""
    from regulab.solvers import _design_kernels as DK

    monkeypatch.setattr(GB, "REFRESH", 0.3)
    P, X, A, s, rng = _weighted_problem(6, False, False)
    sqrtL = P.D.sqrt_norms(P.s, P.fit_intercept)
    bound = GradientBound(P, None, sqrtL, GB.refusal_level(P, sqrtL))
    limit, level = bound.level
    half = 0.5
    D, p = P.D, P.D.p
    zeros, sr = np.zeros(p), rng.standard_normal(D.n)
    for delta, refuse in ((half / level * (1 + 1e-12), True), (half / level * (1 - 1e-12), False)):
        assert bound.refused(delta, limit, half) is refuse
        got = DK.bounded_grad(D.data, D.indices, D.indptr, zeros, sqrtL, delta, half, zeros,
                              P.active, sr, P.xbar, 0.0, limit, np.empty(p),
                              np.empty(p, dtype=np.int64), -1, GB.NO_LIST, -1, GB.NO_LIST)
        assert (got == -1) is refuse
    assert not bound.refused(1e300, limit + 1, half)  # a level made for another limit


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_unsigned_index_views_give_the_signed_paths_bits(fit_intercept, monkeypatch):
    """The bounded and incremental gradients read X's 4-byte indices as ``uint32``
    (``_design_kernels.unsigned``: no wrap-around test per read). A whole L1 path, where both
    routes are taken, gives the same coefficients and gaps, bit for bit, as with every kernel
    reading the signed arrays (``unsigned`` made the identity), and the kernels did get the
    views."""
    from regulab.selection.path import regularization_path

    rng = np.random.default_rng(11)
    n, p = 400, 3000
    X = sparse.random(n, p, density=0.01, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    assert X.indices.dtype == np.int32
    y = X @ np.where(rng.random(p) < 0.03, rng.standard_normal(p), 0.0)
    y = y + 0.2 * rng.standard_normal(n)
    opts = dict(n_lams=40, fit_intercept=fit_intercept, tol=1e-8)
    seen = {"bounded_grad": [], "centered_grad_update": []}
    for name in seen:
        orig = getattr(GB.DK, name)

        def spy(*a, _orig=orig, _name=name):
            seen[_name].append(a[1].dtype)
            return _orig(*a)

        monkeypatch.setattr(GB.DK, name, spy)
    views = regularization_path(X.copy(), y, **opts)
    assert seen["bounded_grad"] and seen["centered_grad_update"], "a route was not taken"
    assert {d for v in seen.values() for d in v} == {np.dtype(np.uint32)}
    for v in seen.values():
        v.clear()
    monkeypatch.setattr(GB.DK, "unsigned", lambda a: a)
    signed = regularization_path(X.copy(), y, **opts)
    assert {d for v in seen.values() for d in v} == {np.dtype(np.int32)}
    assert np.array_equal(views.coefs, signed.coefs)
    assert np.array_equal(views.gaps, signed.gaps)
    assert np.count_nonzero(views.coefs) > 0


@pytest.mark.parametrize("p", [1, 63, 64, 65, 130, 1000])
def test_the_bounded_scan_by_blocks_lists_what_its_rule_needs(p):
    """``bounded_grad``'s scan over p (no list) by bit masks of ``SCAN_BLOCK`` features,
    against numpy: ``need`` is every active feature with ``w_j != 0`` or ``|g0_j| + sqrt(L_j)
    delta > l1/2``, in increasing order across block edges; the output is the full product
    there (``xt_dot_sparse``'s bits, less ``xbar_j sum(s r)``) and ``g0`` elsewhere, also when
    reused (``prev``); -1 exactly when more than ``limit`` are needed. Features exactly at the
    bound are not needed (fails with ``>=``)."""
    from regulab.solvers import _design_kernels as DK

    rng = np.random.default_rng(p)
    n = 50
    X = sparse.random(n, p, density=0.2, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    D = as_design(X)
    ind, ptr = D.index_views
    active = rng.random(p) < 0.8
    sqrtL = rng.uniform(0.5, 2.0, p)
    sqrtL[::7] = 1.0  # with g0 = +-1 there and delta = 0.5: exactly at the bound, not needed
    sr, xbar = rng.standard_normal(n), rng.standard_normal(p)
    full = DK.xt_dot_sparse(D.data, ind, ptr, p, sr) - xbar * 0.7
    out = np.full(p, np.nan)
    need = np.empty(p, dtype=np.int64)
    prev = -1
    g0 = None
    for k in range(4):
        w = np.where(rng.random(p) < 0.05, 1.0, 0.0)
        half, delta = 1.5, 0.25 * k
        # odd k: the same g0 as the last call, whose out is reused (only its entries restored)
        if k % 2 == 0:
            g0 = rng.standard_normal(p)
            g0[::7] = np.where(rng.random(g0[::7].size) < 0.5, -1.0, 1.0)
            prev = -1
        want = np.flatnonzero(active & ((w != 0.0) | (np.abs(g0) + sqrtL * delta > half)))
        for limit in (want.size - 1, want.size, p):
            if limit < 0:
                continue
            got = DK.bounded_grad(D.data, ind, ptr, g0, sqrtL, delta, half, w, active, sr,
                                  xbar, 0.7, limit, out, need, prev, GB.NO_LIST, -1,
                                  GB.NO_LIST)
            if limit < want.size:
                assert got == -1
                prev = -1  # out then holds no gradient: the next call refills it
                continue
            assert got == want.size
            assert np.array_equal(need[:got], want)
            expect = g0.copy()
            expect[want] = full[want]
            assert np.array_equal(out, expect)
            prev = got
