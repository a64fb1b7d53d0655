"""The sparse CD kernel with sample weights (:mod:`regulab.solvers._cd_sparse`, its trailing
argument ``s``), and weighted paths on a sparse X, against answers computed here.

The objective is ``sum_i s_i (y_i - x_i.w - b)**2 + l1 ||w||_1 + l2 ||w||_2**2`` with ``s`` the
sample weights normalized to sum 1, at the best intercept ``b``. The oracles, on the dense X:
the optimality conditions of that objective (``2 X_c^T (s r) - 2 l2 w`` in ``l1 * sign(w)``,
``[-l1, l1]`` at 0) written out with numpy, its duality gap (``test_cd_sparse``'s numpy formula
on the rows scaled by ``sqrt(n s_i)``), and scikit-learn's ``ElasticNet`` with
``sample_weight`` (which rescales the weights to sum ``n``: its objective is half of ours at
``alpha = l1 / 2 + l2``, ``l1_ratio = (l1 / 2) / alpha``).

Mutations tried (each made at least one test here fail): the weights dropped from the column
sums (``_col_dot`` without ``s``, times ``inv_n``, in the weighted branch of ``epoch_sparse``);
the weight of each entry read at the entry's position instead of its row (``s[t]``); the
Anderson step comparing the objectives without the weights; ``_cd_pass`` calling the kernel without ``s``.
"""

import numpy as np
import pytest
from scipy import sparse

from regulab.selection.path import lam_grid, regularization_path
from regulab.solvers import _cd_kernels as CDK
from regulab.solvers import _cd_sparse as CDS
from test_cd_sparse import _gap as _unweighted_gap
from test_cd_sparse import _problem as _unweighted_problem


def _problem(seed, n, p, density, fit_intercept):
    """``(X, y, s)``: ``test_cd_sparse``'s CSC X and response, and weights summing to 1 that
    vary by a factor of 20 (so dropping them moves the answer)."""
    X, y = _unweighted_problem(seed, n, p, density, fit_intercept)
    sw = np.random.default_rng([seed, 11]).uniform(0.1, 2.0, n)
    return X, y, sw / sw.sum()


def _centered(X, y, s, fit_intercept):
    """``(A_c, y_c)``: X dense and both centered with the weights ``s`` (not without an
    intercept)."""
    A = X.toarray()
    if not fit_intercept:
        return A, y
    return A - s @ A, y - s @ y


def _kkt(A, yc, s, w, l1, l2):
    """The largest violation of the optimality conditions at ``w`` (gradient units)."""
    h = 2.0 * (A.T @ (s * (yc - A @ w))) - 2.0 * l2 * w
    return float(np.max(np.where(w != 0.0, np.abs(h - l1 * np.sign(w)),
                                 np.maximum(np.abs(h) - l1, 0.0))))


def _gap(A, yc, s, w, l1, l2):
    """``(gap, null)``: the duality gap at ``w`` and the null model's loss ``sum_i s_i
    yc_i**2``, by ``test_cd_sparse``'s equal-weight formula on the rows scaled by
    ``sqrt(n s_i)`` (``sum_i s_i r_i**2 = mean((sqrt(n s) r)**2)``; ``A``, ``yc`` centered
    already)."""
    z = np.sqrt(len(s) * s)
    return _unweighted_gap(sparse.csc_matrix(z[:, None] * A), z * yc, w, l1, l2, False)


def _kernel_inputs(X, y, s, fit_intercept):
    """``(A_c, y_c, xbar, L, ws)`` as the solver hands them to the kernel: the weighted column
    means (0 without an intercept), the weighted variances and every column with ``L > 0``."""
    A_c, yc = _centered(X, y, s, fit_intercept)
    A = X.toarray()
    xbar = s @ A if fit_intercept else np.zeros(X.shape[1])
    L = s @ (A_c * A_c)
    ws = np.flatnonzero(L > 0).astype(np.int64)
    return A_c, yc, xbar, L, ws


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.2])
@pytest.mark.parametrize("K", [0, 3])
def test_weighted_kernel_solves_the_weighted_problem(seed, fit_intercept, l2, K):
    """Run to a tiny KKT tolerance from 0, the weighted kernel meets the weighted optimality
    conditions computed here; the unweighted ones it does not meet (the weights matter)."""
    X, y, s = _problem(seed, 120, 60, 0.15, fit_intercept)
    A_c, yc, xbar, L, ws = _kernel_inputs(X, y, s, fit_intercept)
    n, p = X.shape
    l1 = 0.1 * float(np.abs(2.0 * A_c.T @ (s * yc)).max())
    w = np.zeros(p)
    q = (y - s @ y if fit_intercept else y).astype(float)
    ep, c, kkt = CDS.cd_sparse_ws(X.data, X.indices, X.indptr, 1.0 / n, xbar, L, ws, w, q, 0.0,
                                  l1, l2, 1e-11, 100_000, K, s)
    assert kkt <= 1e-11 and ep < 100_000
    # the carried residual is the residual of w (q = y_c - X w, c = xbar.w)
    r = yc - A_c @ w
    assert np.abs(q + c - r).max() <= 1e-10 * np.abs(r).max()
    scale = float(np.abs(2.0 * A_c.T @ (s * yc)).max())
    assert _kkt(A_c, yc, s, w, l1, l2) <= 1e-9 * scale
    assert np.count_nonzero(w) > 0
    # with equal weights the conditions are far from met: a kernel that dropped s would fail
    eq = np.full(n, 1.0 / n)
    assert _kkt(A_c, yc, eq, w, l1, l2) > 1e-3 * scale


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_weighted_anderson_epochs_give_the_general_ones(seed, fit_intercept):
    """From one mid-solve state, twelve epochs with Anderson (5 iterates: two extrapolations
    tried, each accepted or not by the weighted objective) give the general weighted kernel's
    iterates up to rounding."""
    X, y, s = _problem(seed, 150, 400, 0.05, fit_intercept)
    A_c, yc, xbar, L, ws = _kernel_inputs(X, y, s, fit_intercept)
    n, p = X.shape
    rng = np.random.default_rng(seed + 1)
    w = np.where(rng.random(p) < 0.3, rng.standard_normal(p), 0.0)
    w[L == 0] = 0.0
    A = X.toarray()
    q = (y - s @ y if fit_intercept else y) - A @ w
    c = float(xbar @ w)
    l1 = 0.05 * float(np.abs(2.0 * A_c.T @ (s * yc)).max())
    w_a, q_a, w_b, q_b = w.copy(), q.copy(), w.copy(), q.copy()
    ep_a, c_a, k_a = CDS.cd_sparse_ws(X.data, X.indices, X.indptr, 1.0 / n, xbar, L, ws, w_a,
                                      q_a, c, l1, 0.1, 0.0, 12, 5, s)
    ep_b, c_b, k_b = CDK.cd_squared_ws(X.data, X.indices, X.indptr, n, True, s, True, 1.0 / n,
                                       xbar, L, ws, w_b, q_b, c, l1, 0.1, 0.0, 12, 5)
    assert ep_a == ep_b == 12
    assert np.abs(w_a - w_b).max() <= 1e-12 * np.abs(w_b).max()
    assert np.abs(q_a - q_b).max() <= 1e-12 * np.abs(q_b).max()
    assert abs(c_a - c_b) <= 1e-12 * (abs(c_b) + np.abs(q_b).max())
    assert abs(k_a - k_b) <= 1e-10 * k_b


def _counted_kernel(monkeypatch):
    """Record the working-set size of every call of the sparse kernel and whether it was
    handed the weights (its 16th argument)."""
    calls = []
    kernel = CDS.cd_sparse_ws

    def counted(*a):
        calls.append((a[6].size, len(a) == 16))
        return kernel(*a)

    monkeypatch.setattr(CDS, "cd_sparse_ws", counted)
    return calls


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_every_lam_of_a_weighted_sparse_path_is_certified(seed, fit_intercept, l1_ratio,
                                                          monkeypatch):
    """A weighted path on a wide sparse X runs the sparse kernel with the weights, and every
    lam meets the weighted duality gap computed here."""
    X, y, s = _problem(seed, 300, 900, 0.04, fit_intercept)
    calls = _counted_kernel(monkeypatch)
    tol = 1e-8
    sw = s * 300.0 * np.random.default_rng(seed).uniform(0.5, 2.0)  # any scale: normalized
    lams = lam_grid(X, y, l1_ratio=l1_ratio, n_lams=30, eps=1e-3, fit_intercept=fit_intercept,
                    sample_weight=sw)
    res = regularization_path(X, y, lams=lams, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                              sample_weight=sw, tol=tol, max_iter=100_000)
    assert calls and all(weighted for _, weighted in calls)
    assert res.converged.all()
    A_c, yc = _centered(X, y, s, fit_intercept)
    for k, lam in enumerate(lams):
        gap, null = _gap(A_c, yc, s, res.coefs[:, k], lam * l1_ratio, lam * (1.0 - l1_ratio))
        assert gap <= tol * null * (1.0 + 1e-6) + 1e-15 * null, (k, gap / null)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_weighted_sparse_path_matches_scikit_learn(seed, fit_intercept, l1_ratio, monkeypatch):
    """On a tall sparse X (a unique solution), the weighted path's coefficients and intercepts
    are scikit-learn's with the same ``sample_weight`` at four lams."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y, s = _problem(seed, 400, 80, 0.1, fit_intercept)
    calls = _counted_kernel(monkeypatch)
    sw = 400.0 * s
    lams = lam_grid(X, y, l1_ratio=l1_ratio, n_lams=12, eps=1e-2, fit_intercept=fit_intercept,
                    sample_weight=sw)
    res = regularization_path(X, y, lams=lams, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                              sample_weight=sw, tol=1e-12, max_iter=100_000)
    assert calls and all(weighted for _, weighted in calls)
    for k in (2, 5, 8, 11):
        l1, l2 = lams[k] * l1_ratio, lams[k] * (1.0 - l1_ratio)
        alpha = 0.5 * l1 + l2
        model = linear_model.ElasticNet(alpha=alpha, l1_ratio=0.5 * l1 / alpha,
                                        fit_intercept=fit_intercept, tol=1e-14,
                                        max_iter=1_000_000)
        model.fit(X.toarray(), y, sample_weight=sw)
        w = res.coefs[:, k]
        scale = np.abs(model.coef_).max()
        assert np.abs(w - model.coef_).max() <= 1e-6 * scale, k
        if fit_intercept:
            assert abs(res.intercepts[k] - model.intercept_) <= 1e-6 * (abs(model.intercept_)
                                                                         + scale)
