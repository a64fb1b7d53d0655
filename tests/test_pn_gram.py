"""The Gram-matrix inner solve of the logistic / Poisson proximal Newton steps, against oracles:
KKT conditions computed here from the returned coefficients, scikit-learn's LogisticRegression
(liblinear and saga) on the same objective, and the row-based inner solve on the same model."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from regulab.selection.path import regularization_path
from regulab.solvers import _pn_gram as PG
from regulab.solvers import _pn_kernels as PNK
from regulab.solvers.design import as_design
from regulab.solvers.exact import solve


def _problem(seed, n, p, density=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if density < 1.0:
        X[rng.random((n, p)) >= density] = 0.0
    w = np.zeros(p)
    k = max(1, p // 5)
    w[rng.choice(p, k, replace=False)] = rng.uniform(-2.0, 2.0, k)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ w + 0.3)))).astype(float)
    return X, y


def _s(n, sw):
    return np.full(n, 1.0 / n) if sw is None else sw / sw.sum()


def _obj(X, y, w, b, l1, sw=None):
    s = _s(len(y), sw)
    return float(s @ np.logaddexp(0.0, -(2 * y - 1) * (X @ w + b)) + l1 * np.abs(w).sum())


def _kkt(X, y, w, b, l1, sw=None, fit_intercept=True):
    """Largest violation of the optimality conditions of the weighted mean log-loss + l1|w|_1."""
    s = _s(len(y), sw)
    d = s * (1.0 / (1.0 + np.exp(-(X @ w + b))) - y)
    g = X.T @ d
    viol = np.where(w == 0, np.maximum(np.abs(g) - l1, 0), np.abs(g + l1 * np.sign(w)))
    return max(viol.max(initial=0.0), abs(d.sum()) if fit_intercept else 0.0)


def _lam_max(X, y, sw=None, fit_intercept=True):
    s = _s(len(y), sw)
    p0 = float(s @ y) if fit_intercept else 0.5
    return float(np.abs(X.T @ (s * (p0 - y))).max())


@pytest.mark.parametrize("n,p,density", [(150, 20, 1.0), (300, 40, 0.8), (80, 30, 1.0)])
def test_the_gram_route_is_taken_on_these_problems(n, p, density):
    """The problems below exercise the Gram route: its cost rule picks it for the whole
    feature set from the first Newton step on."""
    X, _ = _problem(0, n, p, density)
    for Xin in (X, sparse.csc_matrix(X)):
        D = as_design(Xin)
        ws = np.arange(p, dtype=np.int64)
        assert PG.gram_pays(D.indptr, D.n, D.is_sparse, ws, True, PNK.FIRST_EPOCHS)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gram_and_row_model_solves_agree(seed, fit_intercept):
    """The two bookkeepings of one coordinate descent give the same model minimizer."""
    X, y = _problem(seed, 120, 25)
    D = as_design(X)
    rng = np.random.default_rng(seed)
    n, m = D.n, 12
    ws = np.sort(rng.choice(25, m, replace=False)).astype(np.int64)
    w = np.zeros(25)
    w[ws[:4]] = rng.standard_normal(4)
    z = X @ w
    s = np.full(n, 1.0 / n)
    d, h = np.empty(n), np.empty(n)
    PNK.logistic_derivs(z, y, s, d, h)
    gl = X[:, ws].T @ d
    gb = float(d.sum())
    Hb = float(h.sum())
    l1 = 0.3 * float(np.abs(gl).max())
    out = []
    for epochs in (0, 10**9):  # 0: rows (Gram never pays); 10**9: Gram
        H, v, w_ws, u = np.empty(m), np.empty(m), np.empty(m), np.empty(n)
        q = np.empty(m + 1 if fit_intercept else m)
        At = np.zeros((0, n))
        db, ep, At, _ = PNK.model_solve(*D.args, ws, w, gl, H, v, w_ws, q, h, u, gb, Hb,
                                        fit_intercept, l1, 0.0, 1e-13, 10_000, epochs, At,
                                        np.zeros((0, n)))
        assert (At.shape[0] > 0) == (epochs > 0)
        out.append((v.copy(), db, u.copy()))
    (v0, db0, u0), (v1, db1, u1) = out
    np.testing.assert_allclose(v1, v0, atol=1e-10)
    assert db1 == pytest.approx(db0, abs=1e-10)
    np.testing.assert_allclose(u1, u0, atol=1e-9)
    # the direction is the model's minimizer: its KKT conditions, computed here
    dv = v1 - w[ws]
    gm = gl + X[:, ws].T @ (h * u1)
    viol = np.where(v1 == 0, np.maximum(np.abs(gm) - l1, 0), np.abs(gm + l1 * np.sign(v1)))
    assert viol.max() < 1e-10
    np.testing.assert_allclose(u1, X[:, ws] @ dv + (db1 if fit_intercept else 0.0), atol=1e-10)
    if fit_intercept:
        assert abs(gb + h @ u1) < 1e-10


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sparse_X", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_l1_logistic_matches_saga_with_intercept(seed, sparse_X, weighted):
    X, y = _problem(seed, 150, 20, density=0.7 if sparse_X else 1.0)
    rng = np.random.default_rng(seed + 50)
    sw = rng.uniform(0.2, 3.0, len(y)) if weighted else None
    l1 = rng.uniform(0.05, 0.5) * _lam_max(X, y, sw)
    Xin = sparse.csr_matrix(X) if sparse_X else X
    r = solve(Xin, y, loss="logistic", l1=l1, sample_weight=sw, tol=1e-10)
    assert r.converged
    assert _kkt(X, y, r.w, r.intercept, l1, sw) <= 1e-10 * _lam_max(X, y, sw) * 1.0001
    # scikit-learn: C sum_i sw_i loss_i + |w|_1, so C = 1 / (l1 sum sw)
    C = 1.0 / (l1 * (len(y) if sw is None else sw.sum()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = LogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=1e-10,
                                max_iter=100_000).fit(X, y, sample_weight=sw)
    f_sk = _obj(X, y, sk.coef_.ravel(), sk.intercept_[0], l1, sw)
    f_r = _obj(X, y, r.w, r.intercept, l1, sw)
    assert f_r <= f_sk + 1e-12
    assert f_r == pytest.approx(f_sk, rel=1e-7)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sparse_X", [False, True])
def test_l1_logistic_path_matches_liblinear_without_intercept(seed, sparse_X):
    """A warm-started path (the Newton steps reuse the Gram route across lams), every point
    certified here by its KKT conditions and compared with liblinear."""
    X, y = _problem(seed, 200, 30, density=0.7 if sparse_X else 1.0)
    lmax = _lam_max(X, y, fit_intercept=False)
    lams = lmax * np.geomspace(1.0, 0.02, 8)
    Xin = sparse.csc_matrix(X) if sparse_X else X
    path = regularization_path(Xin, y, loss="logistic", lams=lams, fit_intercept=False,
                               tol=1e-9)
    n = len(y)
    for k, l1 in enumerate(lams):
        w = path.coefs[:, k]
        assert _kkt(X, y, w, 0.0, l1, fit_intercept=False) <= 1e-9 * lmax * 1.0001
        sk = LogisticRegression(C=1.0 / (n * l1), l1_ratio=1.0, solver="liblinear",
                                fit_intercept=False, tol=1e-10, max_iter=100_000).fit(X, y)
        f_sk = _obj(X, y, sk.coef_.ravel(), 0.0, l1)
        assert _obj(X, y, w, 0.0, l1) <= f_sk + 1e-10


@pytest.mark.parametrize("seed", range(3))
def test_poisson_through_the_gram_route_meets_kkt(seed):
    """The Poisson solver shares the inner solve: its KKT conditions, computed here."""
    rng = np.random.default_rng(seed)
    n, p = 200, 15
    X = rng.standard_normal((n, p)) * 0.5
    w0 = np.zeros(p)
    w0[:3] = rng.uniform(-0.8, 0.8, 3)
    y = rng.poisson(np.exp(X @ w0 + 0.2)).astype(float)
    g0 = np.abs(X.T @ ((y.mean() - y) / n)).max()
    l1 = 0.2 * g0
    r = solve(X, y, loss="poisson", l1=l1, tol=1e-10)
    assert r.converged
    mu = np.exp(X @ r.w + r.intercept)
    g = X.T @ ((mu - y) / n)
    viol = np.where(r.w == 0, np.maximum(np.abs(g) - l1, 0), np.abs(g + l1 * np.sign(r.w)))
    assert max(viol.max(), abs(np.mean(mu - y))) <= 1e-10 * g0 * 1.0001
