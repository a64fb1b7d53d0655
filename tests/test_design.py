"""The design matrix the compiled solvers work on: declared caches, and nothing else."""

import numpy as np
import pytest
from scipy import sparse

from regulab.solvers.design import Design, as_design
from regulab.solvers.exact import solve


def _X(seed=0, n=80, p=6):
    return np.random.default_rng(seed).standard_normal((n, p))


def test_design_declares_its_caches_and_refuses_others():
    D = as_design(_X())
    with pytest.raises(AttributeError):
        D._gram = object()  # the attribute the solvers once attached from outside
    assert set(Design.__slots__) >= {"stats_cache", "ridge", "small_gram", "gram", "last_grad"}


def test_solvers_fill_the_declared_caches_and_clear_caches_empties_them():
    rng = np.random.default_rng(1)
    X = _X(1)
    y = X[:, 0] - 2 * X[:, 1] + rng.standard_normal(80)
    D = as_design(X)
    solve(D, y, l2=0.1)  # ridge by SVD
    solve(D, y, l1=0.01)  # small working set on its Gram matrix, then the general loop
    Xw = rng.standard_normal((30, 200))
    Dw = as_design(Xw)
    yw = Xw[:, :10].sum(axis=1)
    w0 = None
    for lam in np.geomspace(0.5, 0.005, 12):  # a warm path into p >> n: active-set Newton
        w0 = solve(Dw, yw, l1=lam, w0=w0, tol=1e-10).w
    assert D.stats_cache and D.ridge is not None and D.small_gram is not None
    assert D.last_grad is not None and Dw.gram is not None
    for d in (D, Dw):
        d.clear_caches()
        assert (d.stats_cache, d.ridge, d.small_gram, d.gram, d.last_grad) == ({}, None, None,
                                                                              None, None)
    # and the solver still works, from scratch
    assert solve(D, y, l1=0.01).converged


def test_dense_keeps_the_fortran_array_sparse_none():
    X = _X(2)
    D = as_design(X)
    assert D.dense is not None and D.dense.flags.f_contiguous
    np.testing.assert_array_equal(D.dense, X)
    assert as_design(sparse.csr_matrix(X)).dense is None


# --------------------------------------------------------------------------- the design kernels
def _stats_problem(seed, dtype):
    """X with a constant column, an all-zero column, a column constant on the weighted rows
    only, and zero entries (so that CSC storage differs from dense); weights with zeros."""
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(5, 300)), 6
    X = rng.standard_normal((n, p)) * 10.0 ** rng.uniform(-3, 3, p)
    X[rng.random((n, p)) < 0.4] = 0.0
    X[:, 0] = rng.uniform(1, 5)
    X[:, 1] = 0.0
    s = rng.uniform(0, 1, n)
    s[rng.random(n) < 0.3] = 0.0
    s[0] = 1.0
    X[s > 0, 2] = -1.5  # constant where the weight is positive, anything elsewhere
    return X.astype(dtype), s / s.sum()


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_column_stats_dense_and_sparse_match_the_closed_form(seed, dtype, fit_intercept):
    """The two kernels of Design.stats (dense, sparse) against the weighted mean and centered
    norm computed here; constant columns get L = 0 exactly (with an intercept)."""
    X, s = _stats_problem(seed, dtype)
    X64 = X.astype(np.float64)
    xbar = s @ X64 if fit_intercept else np.zeros(X.shape[1])
    L = s @ (X64 - xbar) ** 2
    if fit_intercept:  # exactly 0 by the kernels' definition, the formula here rounds to ~1e-31
        L[[0, 2]] = 0.0
    for Xin in (X, sparse.csc_matrix(X)):
        got_xbar, got_L = as_design(Xin).stats(s, fit_intercept)
        np.testing.assert_allclose(got_xbar, xbar, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(got_L, L, rtol=1e-12, atol=1e-300)
        assert got_L[1] == 0.0
        if fit_intercept:
            assert got_L[0] == 0.0 and got_L[2] == 0.0


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_xt_dot_matches_numpy_dense_and_sparse(seed, dtype):
    X, s = _stats_problem(seed, dtype)
    v = np.random.default_rng(seed + 100).standard_normal(X.shape[0])
    want = X.astype(np.float64).T @ v
    scale = np.abs(X.astype(np.float64)).T @ np.abs(v)  # bounds the rounding of any order
    for Xin in (X, sparse.csc_matrix(X)):
        got = as_design(Xin).xt_dot(v)
        assert got.dtype == np.float64
        assert np.all(np.abs(got - want) <= 1e-13 * scale)


@pytest.mark.parametrize("m", [1, 7, 4096, 100_003])
def test_fingerprint_weights_are_the_fractional_parts_of_square_roots(m):
    """The position weights of the design's checksum are ``sqrt(i) mod 1 + 0.5`` for ``i = 1..m``
    (numpy's ``%``, the definition, to the bit; a cache key computed before stays valid)."""
    from regulab.solvers import design as DM

    DM._WEIGHTS.clear()
    w = DM._weights(m)
    np.testing.assert_array_equal(w, np.sqrt(np.arange(1.0, m + 1.0)) % 1.0 + 0.5)
    assert not w.flags.writeable


def _route_path(route, X, rng):
    """A short path of one route on X (a sparse matrix or an array), drawn from ``rng``."""
    from regulab.selection.multinomial import multinomial_path
    from regulab.selection.path import regularization_path

    n, p = X.shape
    beta = np.where(rng.random(p) < 0.1, rng.standard_normal(p), 0.0)
    eta = X @ beta
    sw = rng.uniform(0.5, 2.0, n)
    opts = dict(n_lams=12, tol=1e-8)
    if route == "multinomial":
        codes = np.argmax(eta[:, None] + rng.gumbel(size=(n, 3)), axis=1)
        return multinomial_path(X, codes, **opts)
    if route == "logistic":
        y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
        return regularization_path(X, y, loss="logistic", **opts)
    if route == "poisson":
        y = rng.poisson(np.exp(0.3 * eta)).astype(float)
        return regularization_path(X, y, loss="poisson", **opts)
    y = eta + 0.3 * rng.standard_normal(n)
    if route == "weighted":
        return regularization_path(X, y, sample_weight=sw, **opts)
    if route == "enet":
        return regularization_path(X, y, l1_ratio=0.5, sample_weight=sw, **opts)
    factor = rng.uniform(0.5, 2.0, p)
    return regularization_path(X, y, penalty_factor=factor, upper=np.full(p, 0.5), **opts)


@pytest.mark.parametrize("route", ["weighted", "enet", "logistic", "poisson", "box",
                                   "multinomial"])
def test_index_views_give_the_signed_paths_bits(route, monkeypatch):
    """Every kernel reads a sparse X's 4-byte indices through :attr:`Design.args` as ``uint32``
    views (no wrap-around test per read; a dense design's placeholders are ``uint32`` too, one
    compiled signature for both, and 8-byte indices stay signed). Each route's whole path gives
    the same coefficients and gaps, bit for bit, as with the signed arrays (``unsigned`` made
    the identity)."""
    import regulab.solvers._design_kernels as DK

    rng = np.random.default_rng(5)
    X = sparse.random(120, 300, density=0.05, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
    assert X.indices.dtype == np.int32
    D = as_design(X.copy())
    assert [a.dtype for a in D.args[1:3]] == [np.dtype(np.uint32)] * 2
    assert [a.dtype for a in D.index_views] == [np.dtype(np.uint32)] * 2
    assert D.indices.dtype == np.int32  # stored signed: scipy reads it
    assert as_design(_X()).args[1].dtype == np.uint32
    X64 = X.copy()
    X64.indices, X64.indptr = X64.indices.astype(np.int64), X64.indptr.astype(np.int64)
    assert [a.dtype for a in as_design(X64).args[1:3]] == [np.dtype(np.int64)] * 2
    views = _route_path(route, X.copy(), np.random.default_rng(7))
    monkeypatch.setattr(DK, "unsigned", lambda a: a)
    assert as_design(X.copy()).args[1].dtype == np.int32
    signed = _route_path(route, X.copy(), np.random.default_rng(7))
    assert np.count_nonzero(views.coefs) > 0
    assert np.array_equal(views.coefs, signed.coefs)
    assert np.array_equal(views.gaps, signed.gaps)
    assert np.array_equal(views.intercepts, signed.intercepts)


def test_index_views_are_made_once_per_pair_of_index_arrays():
    """A sparse design hands out the same ``uint32`` views of its index arrays on every call,
    and views of new arrays when they are replaced."""
    from scipy import sparse

    from regulab.solvers import _design_kernels as K
    from regulab.solvers.design import as_design

    X = sparse.random(30, 20, density=0.3, format="csc", random_state=0)
    D = as_design(X)
    a, b = D.index_views
    assert a.dtype == np.uint32 and b.dtype == np.uint32
    assert np.array_equal(a, D.indices) and np.array_equal(b, D.indptr)
    assert D.index_views[0] is a and D.index_views[1] is b
    D.indices = D.indices.copy()
    D.indices[0] = (D.indices[0] + 1) % 30  # a different array, different values
    c, d = D.index_views
    assert c is not a and np.array_equal(c, D.indices) and np.shares_memory(c, D.indices)
    assert np.array_equal(K.unsigned(D.indptr), d)
