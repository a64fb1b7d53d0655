"""The per-lam shortcuts of the sparse squared-loss path: the working set taken in the KKT pass
(:func:`regulab.solvers._cd_kernels.kkt_ws_select`) and the prepared problem of
:func:`regulab.solvers.exact.squared_path`, each against an independent oracle."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from regulab.solvers import _cd_kernels as CDK
from regulab.solvers.design import as_design
from regulab.solvers.exact import NO_SUPPORT, solve, squared_gap, squared_path
from regulab.solvers.exact.gradient_bound import NO_LIST
from regulab.solvers.exact.squared import kkt_squared


def _oracle_ws(g, w, l1, l2, sqrtL, active, m):
    """The support and the ``m`` other active features of largest score, ties to the lower
    index (a stable sort of the negated scores), sorted."""
    supp = np.flatnonzero(active & (w != 0.0))
    others = np.flatnonzero(active & (w == 0.0))
    score = (np.abs(g[others] - l2 * w[others]) - 0.5 * l1) / sqrtL[others]
    best = others[np.argsort(-score, kind="stable")[:m]]
    return np.sort(np.concatenate([supp, best]))


def _scored(seed, ties, p):
    """``(g, w, l1, l2, sqrtL, active)`` for the working-set pass: 90 % active, a fifth of them
    non-zero; with ``ties`` few distinct scores (many ties at every threshold)."""
    rng = np.random.default_rng(seed)
    active = rng.random(p) < 0.9
    w = np.where(rng.random(p) < 0.2, rng.standard_normal(p), 0.0) * active
    if ties:
        g = rng.integers(-3, 4, p).astype(float) * active
        sqrtL = np.ones(p)
    else:
        g = rng.standard_normal(p) * active
        sqrtL = np.sqrt(np.where(active, rng.random(p) + 0.1, 1.0))
    return g, w, 1.2, 0.3 * (seed % 2), sqrtL, active


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("ties", [False, True])
def test_the_working_set_taken_in_the_kkt_pass_is_the_top_scores(seed, ties):
    """The set equals the oracle's (ties to the lower index) for every ``m``, and numpy's
    ``argpartition`` set where no scores tie; the KKT value is ``kkt_squared``'s."""
    g, w, l1, l2, sqrtL, active = _scored(seed, ties, 400)
    p = g.size
    nnz = int(np.count_nonzero(w))
    n_free = int(np.count_nonzero(active & (w == 0.0)))
    for m in (0, 1, 2, 7, 64, n_free - 1, n_free, n_free + 5):
        kkt, ws = CDK.kkt_ws_select(g, w, l1, l2, sqrtL, active, nnz, m, -1.0, NO_LIST)[:2]
        assert kkt == pytest.approx(kkt_squared(g, w, l1, l2), rel=1e-14, abs=1e-15)
        assert ws.dtype == np.int64
        assert np.array_equal(ws, _oracle_ws(g, w, l1, l2, sqrtL, active, m))
        if not ties and 0 < m < n_free:
            score = np.full(p, -np.inf)
            score[active] = (np.abs(g - l2 * w) - 0.5 * l1)[active] / sqrtL[active]
            score[active & (w != 0.0)] = np.inf
            part = np.sort(np.argpartition(-score, nnz + m - 1)[:nnz + m])
            assert np.array_equal(ws, part)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("p", [250, 3000])
def test_a_threshold_hint_changes_no_working_set(seed, ties, p):
    """``kkt_ws_select(..., hint)``: from every start (none, below the ``m``-th best score, at
    it, just above it, far above, NaN, +inf) the same KKT value, set and list as without one,
    the set the oracle's (ties to the lower index), and the hint left at the ``m``-th best
    score less ``HINT_SLACK`` of its magnitude (``-inf`` when fewer than ``m`` are free), or
    untouched with ``m = 0``; above ``STREAM_MAX`` picks (where the start is not used) too."""
    g, w, l1, l2, sqrtL, active = _scored(seed, ties, p)
    nnz = int(np.count_nonzero(w))
    free = active & (w == 0.0)
    n_free = int(np.count_nonzero(free))
    score = np.sort((np.abs(g - l2 * w) - 0.5 * l1)[free] / sqrtL[free])[::-1]
    for m in (0, 1, 7, 64, CDK.STREAM_MAX, CDK.STREAM_MAX + 3, n_free - 1, n_free,
              n_free + 5):
        want = CDK.kkt_ws_select(g, w, l1, l2, sqrtL, active, nnz, m, -1.0, NO_LIST)
        assert np.array_equal(want[1], _oracle_ws(g, w, l1, l2, sqrtL, active, m))
        mth = score[m - 1] if 0 < m <= n_free else np.nan
        starts = [-np.inf, np.nan, np.inf, 1e9]
        if np.isfinite(mth):
            starts += [mth - 1.0, np.nextafter(mth, -np.inf), mth, np.nextafter(mth, np.inf)]
        for start in starts:
            hint = np.array([start])
            got = CDK.kkt_ws_select(g, w, l1, l2, sqrtL, active, nnz, m, -1.0, NO_LIST, hint)
            assert got[0] == want[0] and got[2:] == want[2:]
            assert np.array_equal(got[1], want[1]), (m, start)
            if m == 0:
                assert np.array_equal(hint, [start], equal_nan=True)
            elif m <= n_free:
                assert hint[0] == mth - CDK.HINT_SLACK * abs(mth)
            else:
                assert hint[0] == -np.inf


@pytest.mark.parametrize("pattern", ["ties", "distinct", "strided"])
def test_many_picks_from_a_sample_are_the_top_scores(pattern):
    """Above ``STREAM_MAX`` picks the set comes from a sampled bound; it is still the oracle's,
    also when the sample sees only the best scores (every ``stride``-th feature the best: the
    bound is too high and all candidates are cut instead)."""
    rng = np.random.default_rng(11)
    p = 20_000
    active = np.ones(p, dtype=bool)
    active[rng.choice(p, 100, replace=False)] = False
    w = np.where(rng.random(p) < 0.1, rng.standard_normal(p), 0.0) * active
    sqrtL = np.ones(p)
    if pattern == "ties":
        g = rng.integers(-5, 6, p).astype(float)
    elif pattern == "distinct":
        g = rng.standard_normal(p)
        sqrtL = rng.random(p) + 0.5
    else:  # the free features at the sample's positions score highest
        free = np.flatnonzero(active & (w == 0.0))
        stride = max(1, free.size // CDK.SAMPLE)
        g = np.zeros(p)
        g[free] = 0.01 * rng.random(free.size)
        g[free[::stride]] = 10.0 + rng.random(free[::stride].size)
    g = g * active
    nnz = int(np.count_nonzero(w))
    for m in (CDK.STREAM_MAX + 1, 2_000, 9_000):
        kkt, ws = CDK.kkt_ws_select(g, w, 1.0, 0.0, sqrtL, active, nnz, m, -1.0, NO_LIST)[:2]
        assert kkt == pytest.approx(kkt_squared(g, w, 1.0, 0.0), rel=1e-14, abs=1e-15)
        assert np.array_equal(ws, _oracle_ws(g, w, 1.0, 0.0, sqrtL, active, m))


def _violations(g, w, l1, l2):
    """Each feature's KKT violation in half gradient units, one numpy expression per case."""
    h = g - l2 * w
    return np.where(w == 0.0, np.abs(h) - 0.5 * l1,
                    np.where(w > 0.0, np.abs(h - 0.5 * l1), np.abs(h + 0.5 * l1)))


@pytest.mark.parametrize("p", [1, 63, 64, 65, 200, 1000])
def test_the_blocked_pass_gives_the_kkt_value_and_support_to_the_bit(p):
    """The pass goes by blocks of ``KKT_BLOCK`` features: the KKT value is twice the largest
    violation (0 when none is positive; NaN ignored, inf kept) to the bit, the support comes in
    increasing order across block edges, cut at ``nnz`` when the caller allows fewer, and
    the picks are the oracle's."""
    rng = np.random.default_rng(p)
    g, w, l1, l2, sqrtL, active = _scored(p, False, p)
    supp = np.flatnonzero(active & (w != 0.0))
    for k, spoil in enumerate([None, np.nan, np.inf, -np.inf, -0.0]):
        gk = g.copy()
        if spoil is not None:  # in a feature that is not active (its g is then never picked)
            off = np.flatnonzero(~active)
            if off.size == 0:
                continue
            gk[off[rng.integers(off.size)]] = spoil
        v = _violations(gk, w, l1, l2)
        want = 2.0 * np.max(v[v > 0.0], initial=0.0)
        for nnz in sorted({supp.size, supp.size // 2, 0}):
            for m in (0, 1, 5):
                kkt, ws = CDK.kkt_ws_select(gk, w, l1, l2, sqrtL, active, nnz, m, -1.0,
                                             NO_LIST)[:2]
                assert np.float64(kkt).tobytes() == np.float64(want).tobytes(), (k, nnz, m)
                free = np.flatnonzero(active & (w == 0.0))
                score = (np.abs(gk[free] - l2 * w[free]) - 0.5 * l1) / sqrtL[free]
                best = free[np.argsort(-score, kind="stable")[:m]]
                assert np.array_equal(ws, np.sort(np.concatenate([supp[:nnz], best])))
    # all violations negative or zero: the value is +0.0
    zero = np.zeros(max(p, 1))
    kkt = CDK.kkt_ws_select(zero, zero, 1.0, 0.0, np.ones(zero.size), zero == 0.0, 0, 1, -1.0,
                            NO_LIST)[0]
    assert np.float64(kkt).tobytes() == np.float64(0.0).tobytes()


def test_a_score_at_the_threshold_is_not_skipped_by_the_blocks_mark():
    """A block marks the free features with ``|g_j| - l1/2 >= t sqrt(L_j)`` before it divides;
    features built at that edge (``|g_j| - l1/2`` equal to the rounded ``t sqrt(L_j)``, give or
    take a few ulps, ``t`` the list's bound ``-reach LIST_MARGIN``) are listed exactly when
    their score beats ``t``, as numpy's division says, across several blocks. (Fails with the
    mark written ``>``: some scores beat ``t`` with ``|g_j| - l1/2`` equal to ``fl(t s)``.)"""
    rng = np.random.default_rng(5)
    half, reach = 0.5, 0.37
    t = -reach * CDK.LIST_MARGIN
    n_edge = 600
    s = rng.uniform(0.2, 3.0, n_edge)
    x = t * s  # the mark's rounded product
    # g with fl(g - half) = x where possible, and neighbours a few ulps off
    g = np.concatenate([np.nextafter(x + half, np.inf * k) if k else x + half
                        for k in (-1, 0, 1)])
    for k in range(2):
        g = np.concatenate([g, np.nextafter(g[-n_edge:], np.inf * (2 * k - 1))])
    sq = np.tile(s, g.size // n_edge)
    d = np.abs(g) - half
    sc = d / sq
    edge = (d == np.tile(x, g.size // n_edge)) & (sc > t)
    assert np.count_nonzero(edge) >= 5  # the edge the mark must not miss is there
    # three features far above every other score first (the picks), the edge ones after
    g = np.concatenate([[10.0, 11.0, 12.0], g])
    sqrtL = np.concatenate([[1.0, 1.0, 1.0], sq])
    p = g.size
    w = np.zeros(p)
    active = np.ones(p, dtype=bool)
    cand = np.empty(p, dtype=np.int64)
    score = (np.abs(g) - half) / sqrtL
    for hint in (None, np.array([-np.inf]), np.array([5.0])):
        args = (g, w, 2.0 * half, 0.0, sqrtL, active, 0, 3, reach, cand)
        _, ws, nc, r = CDK.kkt_ws_select(*args) if hint is None else \
            CDK.kkt_ws_select(*args, hint)
        assert r == reach and nc >= 0
        np.testing.assert_array_equal(cand[:nc], np.flatnonzero(score > t))
        assert np.array_equal(ws, [0, 1, 2])


def _problem(seed, n=120, p=300, weighted=False):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, p, density=0.05, random_state=seed, format="csc")
    beta = np.zeros(p)
    beta[:8] = rng.standard_normal(8) * 3
    y = X @ beta + 0.3 * rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    return X, y, sw


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("dense", [False, True])
def test_squared_path_gives_solves_result(weighted, fit_intercept, dense):
    """Each call of the prepared solver returns what ``solve`` returns from the same start on a
    fresh design (the same bits), along a warm-started grid, elastic net included."""
    X, y, sw = _problem(3, weighted=weighted)
    X = X.toarray() if dense else X
    lmax = 2.0 * np.abs(np.asarray(X.T @ (y - y.mean()))).max() / X.shape[0]
    fit = squared_path(X, y, fit_intercept=fit_intercept, sample_weight=sw, tol=1e-8)
    D = as_design(X.copy())
    w_prev = None
    for k, lam in enumerate(lmax * np.geomspace(1.0, 0.01, 12)):
        l2 = 0.0 if k % 3 else 0.1 * lam
        got = fit(lam, l2, w_prev)
        want = solve(D, y, l1=lam, l2=l2, fit_intercept=fit_intercept, sample_weight=sw,
                     w0=w_prev, tol=1e-8)
        assert np.array_equal(got.w, want.w)
        assert (got.intercept, got.gap, got.n_iter, got.solver) == (
            want.intercept, want.gap, want.n_iter, want.solver)
        w_prev = got.w.copy()


def test_squared_path_takes_an_owned_start_over():
    """``own=True``: the solve starts from the caller's array itself (the result's ``w`` is
    it) and returns what a copied start gives (the same bits); without it the start is copied
    and left as it was."""
    X, y, _ = _problem(5)
    lmax = 2.0 * np.abs(np.asarray(X.T @ (y - y.mean()))).max() / X.shape[0]
    start = squared_path(X, y, tol=1e-8)(0.3 * lmax, 0.0).w
    w0 = start.copy()
    # each on a fresh design (a design keeps its last solve's gradient)
    want = squared_path(X.copy(), y, tol=1e-8)(0.2 * lmax, 0.0, w0)
    assert np.array_equal(w0, start)  # copied: the caller's start untouched
    got = squared_path(X.copy(), y, tol=1e-8)(0.2 * lmax, 0.0, w0, None, True)
    assert got.w is w0
    assert np.array_equal(got.w, want.w) and (got.gap, got.n_iter) == (want.gap, want.n_iter)
    assert not np.array_equal(want.w, start)  # the solve moved ``w``: the test can tell


def test_squared_path_constant_response_and_ridge_and_least_squares():
    """The rows of ``solve``'s table without CD go through it too: constant ``y``, ridge by
    SVD, unpenalized least squares."""
    X, y, _ = _problem(4)
    Xd = X.toarray()
    const = squared_path(Xd, np.full(X.shape[0], 2.5))(0.1, 0.0)
    assert const.solver == "constant" and const.intercept == 2.5 and not np.any(const.w)
    for l1, l2 in [(0.0, 0.5), (0.0, 0.0)]:
        got = squared_path(Xd, y)(l1, l2)
        want = solve(Xd, y, l1=l1, l2=l2)
        assert got.solver == want.solver and got.criterion == want.criterion
        np.testing.assert_allclose(got.w, want.w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("change", ["y", "weights"])
def test_a_new_response_or_weights_on_the_same_design_is_not_taken_for_the_last(change):
    """A solve on the same design object after another problem's path, warm-started at that
    path's last solution and lam (so a wrongly matched last gradient would be reused as is),
    is certified by the gap computed here from ``X``, its own ``y`` and weights. (With the
    last gradient taken as matching whatever the arrays, the new ``y`` fails: the last residual
    certifies a wrong gap; the new weights then cost only a failing first gap test.)"""
    X, y, _ = _problem(5)
    D = as_design(X)
    lams = np.geomspace(0.5, 0.005, 15)
    fit = squared_path(D, y, tol=1e-9)
    w = None
    for lam in lams:
        w = fit(lam, 0.0, w).w.copy()
    rng = np.random.default_rng(1)
    y2, sw2 = (y + rng.standard_normal(y.size), None) if change == "y" else (
        y, rng.uniform(0.2, 3.0, y.size))
    res = squared_path(D, y2, sample_weight=sw2, tol=1e-9)(lams[-1], 0.0, w)
    rel, _, _ = squared_gap(X, y2, res.w, 0.0, lams[-1], 0.0, sample_weight=sw2)
    assert res.converged and rel <= 1e-9
    assert rel == pytest.approx(res.gap, rel=1e-6, abs=1e-12)


def test_squared_path_checks_its_arguments_once():
    X, y, _ = _problem(6)
    with pytest.raises(ValueError, match="NaN"):
        squared_path(X, np.where(np.arange(y.size) == 3, np.nan, y))
    with pytest.raises(ValueError, match="max_iter"):
        squared_path(X, y, max_iter=0)
    fit = squared_path(X, y)
    with pytest.raises(ValueError, match="l1"):
        fit(-1.0, 0.0)
    with pytest.raises(ValueError, match="w0"):
        fit(0.1, 0.0, np.zeros(3))


def _two_solves(seed=7, fit_intercept=True):
    """A prepared solver after the solves at ``lams[0]`` and ``lams[1]`` of a sparse problem."""
    from regulab.core.losses import normalized_weights
    from regulab.solvers.exact import CDSettings, _SquaredSolver

    X, y, _ = _problem(seed, n=150, p=200)
    D = as_design(X)
    s = normalized_weights(D.n, None)
    fit = _SquaredSolver(D, y, s, False, fit_intercept)
    opts = CDSettings(1e-10, 10_000, None, 10)
    yc = y - y.mean() if fit_intercept else y
    Xc = X.toarray() - (X.toarray().mean(0) if fit_intercept else 0.0)
    lams = 2.0 * np.abs(Xc.T @ yc).max() / D.n * np.geomspace(0.1, 0.06, 3)
    w_a = fit(lams[0], 0.0, np.zeros(D.p), opts).w.copy()
    w_b = fit(lams[1], 0.0, w_a.copy(), opts).w.copy()
    return X, y, D, fit, lams, w_a, w_b


def _residual(X, y, w, fit_intercept=True):
    yc = y - y.mean() if fit_intercept else y
    return yc - X @ w


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_a_moved_start_gets_its_residual_from_the_last_two(fit_intercept):
    """The combined residual of a path's moved start is ``y_c - X w0`` (computed here), also
    when ``w0`` leaves the line (a sign clipped, a feature out, one in) or ``t`` is not the
    one the start was made with; None with many columns off, or after another problem's solve
    on the same design."""
    from regulab.selection.path import path_step_ahead

    X, y, D, fit, lams, w_a, w_b = _two_solves(fit_intercept=fit_intercept)
    assert np.count_nonzero(w_b) >= 8
    lam_c = lams[2]
    t = (lam_c - lams[1]) / (lams[1] - lams[0])
    w0 = path_step_ahead(w_a, w_b, lams[0], lams[1], lam_c)
    scale = np.abs(_residual(X, y, w0, fit_intercept)).max()
    q = fit._moved_residual(w0, t)
    np.testing.assert_allclose(q, _residual(X, y, w0, fit_intercept), rtol=0, atol=1e-12 * scale)
    off = w0.copy()
    j_in = int(np.flatnonzero(w_b == 0.0)[0])
    off[j_in] = 0.7  # a feature the line does not have
    off[int(np.flatnonzero(w_b)[0])] = 0.0  # one it has, set to 0
    for start, step in [(off, t), (w0, 1.01 * t)]:
        q = fit._moved_residual(start, step)
        if q is not None:  # a wrong t moves every column of the support off the line
            np.testing.assert_allclose(q, _residual(X, y, start, fit_intercept), rtol=0,
                                       atol=1e-12 * scale)
    assert fit._moved_residual(off, t) is not None
    assert fit._moved_residual(w0, 1.01 * t) is None
    solve(D, y + 1.0, l1=0.1, fit_intercept=fit_intercept)  # another problem on this design
    assert fit._moved_residual(w0, t) is None


def test_supports_are_taken_only_for_the_solvers_last_two_solves(monkeypatch):
    """``squared_path``'s solver uses a path's supports only for the two results whose solves
    left the LastGradients it combines (by identity): right after them it does; with copies of
    the results, or after a solve in between (the supports now stale), it makes the pass over
    p, and the moved start still gets its answer right."""
    from regulab.core.losses import normalized_weights
    from regulab.selection.path import path_step_ahead
    from regulab.solvers.exact import CDSettings, _SquaredSolver

    X, y, _ = _problem(7, n=150, p=200)
    D = as_design(X)
    fit = _SquaredSolver(D, y, normalized_weights(D.n, None), False, False)
    opts = CDSettings(1e-10, 10_000, None, 10)
    lams = 2.0 * np.abs(X.T @ y).max() / D.n * np.geomspace(0.1, 0.06, 3)
    res_a = fit(lams[0], 0.0, np.zeros(D.p), opts)
    res_b = fit(lams[1], 0.0, res_a.w.copy(), opts)
    w_a, w_b = res_a.w, res_b.w
    supports = (w_a, np.flatnonzero(w_a), w_b, np.flatnonzero(w_b))
    t = (lams[2] - lams[1]) / (lams[1] - lams[0])
    used = []
    kernel = CDK.moved_residual

    def seen(*a):
        used.append(a[12].size + a[13].size > 0)
        return kernel(*a)

    monkeypatch.setattr(CDK, "moved_residual", seen)
    w0 = path_step_ahead(w_a, w_b, lams[0], lams[1], lams[2])
    copies = (w_a.copy(), supports[1], w_b.copy(), supports[3])
    assert fit._moved_residual(w0, t, copies) is not None
    assert fit._moved_residual(w0, t, supports) is not None
    fit(0.5 * lams[2], 0.0, np.zeros(D.p), opts)  # a solve in between
    res = fit(lams[2], 0.0, w0.copy(), opts, t, supports)
    assert used == [False, True, False]
    gap, _, _ = squared_gap(X, y, res.w, 0.0, lams[2], 0.0, fit_intercept=False)
    assert gap <= 1e-10


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_a_paths_moved_residual_over_the_last_two_supports_is_the_full_pass(fit_intercept,
                                                                            monkeypatch):
    """Along a sparse path the moved starts' residuals are combined over the union of the last
    two supports (the path hands them to ``squared_path``): the same ``(ok, q)``, to the bit,
    as the kernel's pass over all p on the same arguments. Features leave the support along
    the path (the union is needed)."""
    from regulab.selection.path import regularization_path

    calls = []
    kernel = CDK.moved_residual

    def both(*a):
        got = kernel(*a)
        full = kernel(*a[:12], NO_SUPPORT, NO_SUPPORT)
        assert got[0] == full[0] and np.array_equal(got[1], full[1])
        supp_a, supp_b = a[12], a[13]
        left = np.setdiff1d(supp_a, supp_b).size
        calls.append((supp_a.size + supp_b.size > 0, left, got[0]))
        return got

    monkeypatch.setattr(CDK, "moved_residual", both)
    rng = np.random.default_rng(2)
    n, p = 200, 400
    X = sparse.random(n, p, density=0.05, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    y = X @ np.where(rng.random(p) < 0.1, rng.standard_normal(p), 0.0) + rng.standard_normal(n)
    y = y + (2.0 if fit_intercept else 0.0)
    regularization_path(X, y, n_lams=40, tol=1e-8, fit_intercept=fit_intercept)
    assert len(calls) >= 30
    # (late on this path some solves end by the active-set Newton route, which leaves no
    # LastGradient: the next starts take the pass over p)
    assert sum(on for on, _, _ in calls) >= 25, "the supports were not taken"
    assert sum(left for _, left, _ in calls) > 0, "no feature left the support: weak test"
    assert sum(ok for _, _, ok in calls) >= 20


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_a_path_with_moved_starts_is_certified_by_its_own_residuals(weighted, l1_ratio):
    """Along a sparse path (moved starts with combined residuals), every reported gap is the one
    computed here from the returned ``w``, below ``tol``."""
    from regulab.selection.path import regularization_path

    X, y, sw = _problem(8, n=200, p=400, weighted=weighted)
    res = regularization_path(X, y, n_lams=25, tol=1e-8, sample_weight=sw, l1_ratio=l1_ratio)
    for k in range(res.lams.size):
        l1, l2 = res.l1_l2(k)
        rel, _, _ = squared_gap(X, y, res.coefs[:, k], res.intercepts[k], l1, l2,
                                sample_weight=sw)
        assert rel <= 1e-8
        assert rel == pytest.approx(res.gaps[k], rel=1e-6, abs=1e-13)


@pytest.mark.parametrize("seed", range(4))
def test_start_vs_last_matches_numpy(seed):
    """``CDK.start_vs_last`` against its three numpy definitions, on starts that equal the
    last solution, stay within its support, leave it, are all 0, hold -0.0 or a NaN."""
    rng = np.random.default_rng(seed)
    p = 300
    last = np.where(rng.random(p) < 0.2, rng.standard_normal(p), 0.0)
    supp = np.flatnonzero(last)
    inside = np.zeros(p)
    inside[supp[::2]] = rng.standard_normal(supp[::2].size)
    outside = inside.copy()
    outside[rng.choice(np.flatnonzero(last == 0.0))] = 1.0
    negzero = last.copy()
    negzero[last == 0.0] = -0.0
    nan = last.copy()
    nan[supp[0]] = np.nan
    cases = [last.copy(), inside, outside, np.zeros(p), negzero, nan, -last]
    for w in cases:
        nz = w != 0.0
        want = (np.array_equal(w, last), bool(nz.any()) and not np.any(nz & (last == 0.0)),
                int(np.count_nonzero(last)))
        assert CDK.start_vs_last(w, last) == want
    # the cases hold each answer both ways: the test can tell
    got = [CDK.start_vs_last(w, last)[:2] for w in cases]
    assert {g[0] for g in got} == {True, False} and {g[1] for g in got} == {True, False}


def test_a_paths_problem_carries_its_active_count():
    """The prepared problem counts its active features once (``n_active``): the count of
    ``L > 0``, a zero column and a constant one (centered away) left out; a problem made
    without it counts on demand."""
    from dataclasses import replace

    from regulab.solvers.exact import _SquaredSolver

    X, y, _ = _problem(6)
    X = X.tolil()
    X[:, 0] = 0.0
    X[:, 1] = 2.0
    X = X.tocsc()
    s = np.full(X.shape[0], 1.0 / X.shape[0])
    P = _SquaredSolver(as_design(X), y, s, False, True).base
    assert P.n_active == int(np.count_nonzero(P.L > 0)) < X.shape[1] - 1
    assert not P.active[:2].any()
    assert replace(P, l1=0.5).active_count() == P.n_active
    assert replace(P, n_active=-1).active_count() == P.n_active


def _path_problem(seed, fit_intercept, n=200, p=400):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, p, density=0.05, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    y = X @ np.where(rng.random(p) < 0.1, rng.standard_normal(p), 0.0) + rng.standard_normal(n)
    return X, y + (2.0 if fit_intercept else 0.0)


@pytest.mark.parametrize("weighted,fit_intercept,newton", [
    (False, False, False), (True, False, False), (False, True, False), (True, True, False),
    (False, False, True), (True, True, True)])
def test_a_paths_shortcuts_over_the_last_support_are_the_passes_over_p(
        weighted, fit_intercept, newton, monkeypatch):
    """Along sparse paths (weights, an intercept; with ``newton``, CD cut to one epoch before
    the active-set Newton fallback, which moves ``w`` off the working set), at every solve:
    the non-zeros found over the last working set are ``np.flatnonzero(w)``, the start compared
    with the last solution over its support gives the kernel's three answers over p, and the
    start kept for Newton on that support is the start itself. The coefficients are certified
    by a gap computed here."""
    import regulab.solvers.exact as EX
    import regulab.solvers.exact.squared_cd as SCD
    from regulab.selection.path import regularization_path

    seen = {"nonzeros_on": 0, "start_on": 0, "newton": 0, "newton_on": 0}
    start = []
    nonzeros, compare, cd, newton_instead = (SCD._nonzeros, SCD.start_vs_last, EX.cd_squared,
                                             SCD._newton_instead)

    def checked_nonzeros(w, on):
        got = nonzeros(w, on)
        assert np.array_equal(got, np.flatnonzero(w != 0.0))
        seen["nonzeros_on"] += on is not None
        return got

    def checked_compare(w, w_last, last_support=None):
        got = compare(w, w_last, last_support)
        assert got == CDK.start_vs_last(w, w_last)
        seen["start_on"] += last_support is not None
        return got

    def recorded_cd(P, w, *a, **k):
        w0 = w.copy()
        w0[~P.active] = 0.0
        start[:] = [w0]
        return cd(P, w, *a, **k)

    def checked_newton(P, w, w_start, *a):
        assert np.array_equal(w_start.dense(), start[0])
        assert w_start.count_nonzero() == np.count_nonzero(start[0])
        seen["newton"] += 1
        seen["newton_on"] += w_start.idx is not None
        return newton_instead(P, w, w_start, *a)

    monkeypatch.setattr(SCD, "_nonzeros", checked_nonzeros)
    monkeypatch.setattr(SCD, "start_vs_last", checked_compare)
    monkeypatch.setattr(EX, "cd_squared", recorded_cd)
    monkeypatch.setattr(SCD, "_newton_instead", checked_newton)
    if newton:  # each solve's CD falls back on Newton (not kept for the next solve's start)
        monkeypatch.setattr(SCD, "NEWTON_AFTER", 1)
        monkeypatch.setattr(SCD, "kept_active_set", lambda P, w: False)
    X, y = _path_problem(4, fit_intercept)
    sw = np.random.default_rng(5).uniform(0.3, 3.0, X.shape[0]) if weighted else None
    res = regularization_path(X, y, n_lams=40, tol=1e-8, fit_intercept=fit_intercept,
                              sample_weight=sw)
    assert seen["start_on"] >= 20, seen
    if newton:  # (then most solves end on Newton's result: their non-zeros by a pass over p)
        assert seen["newton"] >= 5 and seen["newton_on"] >= 3, seen
    else:
        assert seen["nonzeros_on"] >= 30, seen
    for k in range(res.lams.size):
        rel, _, _ = squared_gap(X, y, res.coefs[:, k], res.intercepts[k], *res.l1_l2(k),
                                sample_weight=sw, fit_intercept=fit_intercept)
        assert rel <= 1e-8


def test_nonzeros_come_with_a_read_only_result_kept_as_the_last_solution():
    """``squared_path``'s ``nonzeros=True``: ``(result, idx)`` with ``idx`` the result's
    non-zeros (also from a start with non-zeros anywhere), the result's ``w`` read-only and
    kept as the design's last solution itself; without it a writable result and a copy."""
    X, y, _ = _problem(9)
    lmax = 2.0 * np.abs(np.asarray(X.T @ (y - y.mean()))).max() / X.shape[0]
    fit = squared_path(X, y, tol=1e-8)
    w0 = np.random.default_rng(0).standard_normal(X.shape[1])
    res, idx = fit(0.3 * lmax, 0.0, w0, None, False, None, True)
    assert np.array_equal(idx, np.flatnonzero(res.w)) and idx.size > 0
    assert not res.w.flags.writeable and as_design(X).last_grad.w is res.w
    res2, idx2 = fit(0.2 * lmax, 0.0, res.w, None, False, None, True)
    assert np.array_equal(idx2, np.flatnonzero(res2.w)) and not np.array_equal(idx, idx2)
    res3 = fit(0.1 * lmax, 0.0, res2.w)
    assert res3.w.flags.writeable and as_design(X).last_grad.w is not res3.w
    assert np.array_equal(as_design(X).last_grad.w, res3.w)
