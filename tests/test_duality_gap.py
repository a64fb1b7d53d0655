"""The compiled duality gap, on every route the solvers take to it, against the one documented
formula (regulab.core.certificates.duality_gap_squared) at random, non-optimal points."""

import numpy as np
import pytest
from scipy import sparse

from regulab.core.certificates import duality_gap_squared
from regulab.core.losses import normalized_weights
from regulab.solvers import _cd_kernels as CDK
from regulab.solvers.design import as_design
from regulab.solvers.exact import solve, squared_gap
from regulab.solvers.exact.squared import centered_grad

REL = 1e-10


def _case(seed, sparse_X, weighted, n=40, p=15):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.5
    if sparse_X:
        X = sparse.random(n, p, density=0.3, random_state=seed, format="csr",
                          data_rvs=rng.standard_normal)
    y = rng.standard_normal(n) * 2.0 + 1.0
    sw = rng.uniform(0.0, 3.0, n) if weighted else None
    if weighted:
        sw[:3] = 0.0  # rows without weight too
    return X, y, sw


def _points(seed, p):
    """Random points: dense, sparse (some exact zeros), tiny, large."""
    rng = np.random.default_rng(seed + 1000)
    w = rng.standard_normal(p)
    w_sparse = np.where(rng.uniform(size=p) < 0.6, 0.0, w)
    return [w, w_sparse, 1e-3 * w, 10.0 * w]


def _certificate(X, y, w, l1, l2, sw, fit_intercept):
    s = normalized_weights(len(y), sw)
    Xw = np.asarray(X @ w).ravel()
    b_star = float(s @ (y - Xw)) if fit_intercept else 0.0
    return duality_gap_squared(X, y, w, b_star, l1, l2, sw, fit_intercept)


CASES = [(seed, sp, wt, fi, l2) for seed in (0, 1) for sp in (False, True)
         for wt in (False, True) for fi in (True, False) for l2 in (0.0, 0.3)]


@pytest.mark.parametrize("seed, sparse_X, weighted, fit_intercept, l2", CASES)
def test_compiled_gap_equals_certificate(seed, sparse_X, weighted, fit_intercept, l2):
    X, y, sw = _case(seed, sparse_X, weighted)
    l1 = 0.05
    D = as_design(X)
    s = normalized_weights(D.n, sw)
    xbar, L = D.stats(s, fit_intercept)
    ybar = float(s @ y) if fit_intercept else 0.0
    yc = y - ybar
    ws = np.arange(D.p, dtype=np.int64)
    for w in _points(seed, D.p):
        want = _certificate(X, y, w, l1, l2, sw, fit_intercept)
        assert want > 0.0
        # the solvers' Python route (exact.squared.residual_gap)
        _, gap, primal = squared_gap(X, y, w, 0.0, l1, l2, sw, fit_intercept)
        assert gap == pytest.approx(want, rel=REL)
        r = yc - np.asarray(X @ w).ravel() + float(xbar @ w)
        assert primal == pytest.approx(float(s @ (r * r)) + l1 * np.abs(w).sum() + l2 * w @ w,
                                       rel=REL)
        # the residual-form kernel (cd_squared_full with no epoch: the gap at w)
        wk = w.copy()
        ep, gap_k = CDK.cd_squared_full(*D.args, s, weighted, 1.0 / D.n, xbar, L, ws, wk, yc, l1,
                                        l2, 0.0, 0, 0)
        assert ep == 0 and np.array_equal(wk, w)
        assert gap_k == pytest.approx(want, rel=REL)
        # the Gram-form kernel (dense X)
        if not sparse_X:
            G = CDK.centered_gram(D.data, D.n, s, xbar, ws)
            b = centered_grad(D, s, yc, xbar)
            null = float(s @ (yc * yc))
            ep, gap_g = CDK.cd_squared_gram(G, b, w.copy(), null, l1, l2, 0.0, 0, 0)
            assert ep == 0
            assert gap_g == pytest.approx(want, rel=REL)


@pytest.mark.parametrize("l2", [0.0, 0.2])
def test_gap_at_the_solution_is_small_on_every_route(l2):
    X, y, sw = _case(3, False, True)
    r = solve(X, y, l1=0.05, l2=l2, sample_weight=sw, tol=1e-10)
    rel, gap, _ = squared_gap(X, y, r.w, r.intercept, 0.05, l2, sw)
    want = _certificate(X, y, r.w, 0.05, l2, sw, True)
    s = normalized_weights(len(y), sw)
    null = float(s @ (y - s @ y) ** 2)
    assert rel <= 1e-10 and r.gap <= 1e-10
    assert abs(gap - want) <= 1e-12 * null


@pytest.mark.parametrize("seed", range(3))
def test_gap_sums_equal_their_definitions(seed):
    """The one-pass sums of ``residual_gap`` against their numpy definitions (the docstring of
    ``duality_gap``), with exact zeros in ``w`` and entries of ``2 |g|`` on both sides of l1."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(1000)
    w = np.where(rng.random(1000) < 0.7, 0.0, rng.standard_normal(1000))
    l1 = 1.5
    v = 2.0 * np.abs(g)
    for size in (1000, 999, 3):  # every remainder of the four-way loops
        vmax, conj, nrm1, nrm2 = CDK.gap_sums(g[:size], w[:size], l1, 0.7)
        assert vmax == v[:size].max()
        assert conj == pytest.approx(np.sum(np.maximum(v[:size] - l1, 0.0) ** 2), rel=1e-13)
        assert nrm1 == pytest.approx(np.abs(w[:size]).sum(), rel=1e-13, abs=1e-300)
        assert nrm2 == pytest.approx(w[:size] @ w[:size], rel=1e-13, abs=1e-300)
    conj = CDK.gap_sums(g, w, l1, 0.7)[1]
    assert 0.0 < conj < np.sum(v ** 2)  # some entries above l1, some below
    # without l2 the gap reads neither conj nor nrm2
    assert CDK.gap_sums(g, w, l1, 0.0)[1::2] == (0.0, 0.0)


@pytest.mark.parametrize("p", [1, 2, 5, 64, 1001])
def test_gap_sums_largest_gradient_ignores_nan_and_keeps_inf(p):
    """``vmax = 2 max_j |g_j|``, to the bit: a NaN in ``g`` is passed over (as a maximum by
    ``>`` passes it), ``-0.0`` and all-zero ``g`` give ``+0.0``, ``-inf`` gives ``inf``."""
    rng = np.random.default_rng(p)
    w = np.zeros(p)
    for spoil in (None, np.nan, -np.inf, -0.0):
        g = rng.standard_normal(p)
        if spoil is not None:
            g[rng.integers(p)] = spoil
        a = np.abs(g)
        want = 2.0 * np.max(a[a > 0.0], initial=0.0)
        got = CDK.gap_sums(g, w, 1.0, 0.0)[0]
        assert np.float64(got).tobytes() == np.float64(want).tobytes(), spoil
    got = CDK.gap_sums(np.full(p, -0.0), w, 1.0, 0.0)[0]
    assert np.float64(got).tobytes() == np.float64(0.0).tobytes()
    g = np.full(p, np.nan)
    assert np.float64(CDK.gap_sums(g, w, 1.0, 0.0)[0]).tobytes() == np.float64(0.0).tobytes()


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_sqrt_norms_are_the_centered_column_norms(fit_intercept):
    """``Design.sqrt_norms`` against the column norms computed densely (a constant column and
    an empty one carry nothing: 0 there when centered), and the same array on the next call."""
    rng = np.random.default_rng(0)
    A = sparse.random(60, 40, density=0.2, random_state=1, format="csc").toarray()
    A[:, 3] = 2.0  # constant: 0 once centered
    A[:, 7] = 0.0
    s = normalized_weights(60, rng.random(60) + 0.5)
    D = as_design(sparse.csc_matrix(A))
    Ac = A - s @ A if fit_intercept else A
    expect = np.sqrt(s @ (Ac * Ac))
    got = D.sqrt_norms(s, fit_intercept)
    assert np.allclose(got, expect, rtol=1e-12, atol=1e-12)
    assert got[7] == 0.0 and (not fit_intercept or got[3] <= 1e-7)
    assert D.sqrt_norms(s, fit_intercept) is got
