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
