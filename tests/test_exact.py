"""The exact solvers against oracles: scikit-learn, closed forms, KKT conditions, certificates."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso, LogisticRegression, Ridge

from regulab.core.certificates import duality_gap_squared
from regulab.core.penalties import L1 as L1Pen
from regulab.core.penalties import L2 as L2Pen
from regulab.core.penalties import ElasticNet as ElasticNetPen
from regulab.solvers.design import as_design
from regulab.solvers.exact import ExactResult, solve, squared_gap
from regulab.solvers.ridge import RidgeSVD, ridge_svd


# ---------------------------------------------------------------------------------------------
# problems and independent objective / KKT checks (plain numpy, no solver code)
# ---------------------------------------------------------------------------------------------
def _toeplitz_X(rng, n, p, rho):
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho * rho) * Z[:, j]
    return X


def _problem(seed=0, n=60, p=12, rho=0.5, k=3, offset=0.5):
    rng = np.random.default_rng(seed)
    X = _toeplitz_X(rng, n, p, rho) + 0.3
    w = np.zeros(p)
    w[:k] = rng.choice([-1.0, 1.0], k) * rng.uniform(0.5, 2.0, k)
    y = X @ w + offset + 0.5 * rng.standard_normal(n)
    return X, y


def _weights(n, seed=0):
    return np.random.default_rng(seed + 100).uniform(0.2, 3.0, n)


def _obj_sq(X, y, w, b, l1, l2, sw=None):
    s = np.full(len(y), 1.0 / len(y)) if sw is None else np.asarray(sw) / np.sum(sw)
    r = y - X @ w - b
    return float(s @ (r * r) + l1 * np.abs(w).sum() + l2 * w @ w)


def _obj_log(X, y, w, b, l1, l2, sw=None):
    s = np.full(len(y), 1.0 / len(y)) if sw is None else np.asarray(sw) / np.sum(sw)
    z = X @ w + b
    return float(s @ np.logaddexp(0.0, -(2 * y - 1) * z) + l1 * np.abs(w).sum() + l2 * w @ w)


def _kkt_sq(X, y, w, b, l1, l2, sw=None, fit_intercept=True):
    """Largest violation of the optimality conditions (true gradient units)."""
    s = np.full(len(y), 1.0 / len(y)) if sw is None else np.asarray(sw) / np.sum(sw)
    r = y - X @ w - b
    grad = -2 * X.T @ (s * r) + 2 * l2 * w
    viol = np.where(w == 0, np.maximum(np.abs(grad) - l1, 0), np.abs(grad + l1 * np.sign(w)))
    gb = abs(2 * np.sum(s * r)) if fit_intercept else 0.0
    return max(viol.max(initial=0.0), gb)


def _kkt_log(X, y, w, b, l1, l2, fit_intercept=True):
    s = np.full(len(y), 1.0 / len(y))
    d = s * (1 / (1 + np.exp(-(X @ w + b))) - y)
    grad = X.T @ d + 2 * l2 * w
    viol = np.where(w == 0, np.maximum(np.abs(grad) - l1, 0), np.abs(grad + l1 * np.sign(w)))
    return max(viol.max(initial=0.0), abs(d.sum()) if fit_intercept else 0.0)


CASES = {
    "small": dict(seed=0, n=60, p=12, rho=0.5),
    "p>>n": dict(seed=1, n=50, p=500, rho=0.5, k=5),
    "toeplitz0.9": dict(seed=2, n=80, p=40, rho=0.9, k=4),
}


# ---------------------------------------------------------------------------------------------
# scikit-learn oracles
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_lasso_objective_matches_sklearn(case, fit_intercept, weighted):
    X, y = _problem(**CASES[case])
    sw = _weights(len(y)) if weighted else None
    alpha = 0.05
    l1 = 2 * alpha  # regulab l1 = 2 alpha (sklearn: (1/2n) RSS + alpha |w|_1)
    sk = Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=500_000)
    sk.fit(X, y, sample_weight=sw)
    r = solve(X, y, l1=l1, fit_intercept=fit_intercept, sample_weight=sw, tol=1e-12)
    assert r.converged and r.criterion == "duality_gap" and r.gap <= 1e-12
    f_r = _obj_sq(X, y, r.w, r.intercept, l1, 0.0, sw)
    f_sk = _obj_sq(X, y, sk.coef_, sk.intercept_, l1, 0.0, sw)
    assert f_r == pytest.approx(f_sk, rel=1e-8)
    assert f_r <= f_sk * (1 + 1e-12)
    assert r.objective == pytest.approx(f_r, rel=1e-12)
    assert _kkt_sq(X, y, r.w, r.intercept, l1, 0.0, sw, fit_intercept) < 1e-5
    if not fit_intercept:
        assert r.intercept == 0.0


@pytest.mark.parametrize("case", ["small", "p>>n", "toeplitz0.9"])
@pytest.mark.parametrize("weighted", [False, True])
def test_elasticnet_objective_matches_sklearn(case, weighted):
    X, y = _problem(**CASES[case])
    sw = _weights(len(y), 3) if weighted else None
    alpha, ratio = 0.04, 0.3
    l1, l2 = 2 * alpha * ratio, alpha * (1 - ratio)
    sk = SkElasticNet(alpha=alpha, l1_ratio=ratio, tol=1e-12, max_iter=500_000)
    sk.fit(X, y, sample_weight=sw)
    r = solve(X, y, l1=l1, l2=l2, sample_weight=sw, tol=1e-12)
    assert r.converged
    f_r = _obj_sq(X, y, r.w, r.intercept, l1, l2, sw)
    assert f_r == pytest.approx(_obj_sq(X, y, sk.coef_, sk.intercept_, l1, l2, sw), rel=1e-8)
    assert _kkt_sq(X, y, r.w, r.intercept, l1, l2, sw) < 1e-6


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_matches_sklearn(fit_intercept, weighted):
    X, y = _problem(4, n=50, p=80)
    sw = _weights(len(y), 4) if weighted else None
    total = len(y) if sw is None else sw.sum()
    alpha = 3.0
    l2 = alpha / total  # sklearn Ridge: RSS + alpha |w|^2 (weighted RSS with sample_weight)
    sk = Ridge(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14, solver="svd")
    sk.fit(X, y, sample_weight=sw)
    for Xin in (X, sparse.csc_matrix(X)):
        r = solve(Xin, y, l2=l2, fit_intercept=fit_intercept, sample_weight=sw, tol=1e-12)
        assert r.converged and r.criterion == "duality_gap" and r.gap <= 1e-12
        assert r.solver == ("cd" if sparse.issparse(Xin) else "svd")
        f_sk = _obj_sq(X, y, sk.coef_, sk.intercept_, 0.0, l2, sw)
        assert _obj_sq(X, y, r.w, r.intercept, 0.0, l2, sw) == pytest.approx(f_sk, rel=1e-8)
        if not sparse.issparse(Xin):  # CD: a gap of 1e-12 bounds |w - w*| by ~1e-5 only
            np.testing.assert_allclose(r.w, sk.coef_, rtol=1e-7, atol=1e-9)


def test_logistic_l2_matches_sklearn():
    rng = np.random.default_rng(5)
    n, p = 150, 20
    X = rng.standard_normal((n, p))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X[:, :4] @ [1.5, -1, 1, 0.5] + 0.4)))).astype(float)
    C = 0.3
    l2 = 1 / (2 * C * n)
    sk = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)
    r = solve(X, y, loss="logistic", l2=l2, tol=1e-12)
    assert r.converged and r.criterion == "kkt" and r.solver == "prox_newton"
    f_sk = _obj_log(X, y, sk.coef_.ravel(), sk.intercept_[0], 0, l2)
    assert _obj_log(X, y, r.w, r.intercept, 0, l2) == pytest.approx(f_sk, rel=1e-8)
    assert _kkt_log(X, y, r.w, r.intercept, 0, l2) < 1e-10


def test_logistic_l2_sample_weight_matches_sklearn():
    rng = np.random.default_rng(6)
    n, p = 120, 8
    X = rng.standard_normal((n, p))
    y = (X[:, 0] + rng.standard_normal(n) > 0).astype(float)
    sw = _weights(n, 6)
    C = 0.5
    l2 = 1 / (2 * C * sw.sum())  # sklearn: C sum sw_i loss_i + |w|^2 / 2
    sk = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y, sample_weight=sw)
    r = solve(X, y, loss="logistic", l2=l2, sample_weight=sw, tol=1e-12)
    f_sk = _obj_log(X, y, sk.coef_.ravel(), sk.intercept_[0], 0, l2, sw)
    assert _obj_log(X, y, r.w, r.intercept, 0, l2, sw) == pytest.approx(f_sk, rel=1e-8)


@pytest.mark.parametrize("sparse_X", [False, True])
def test_logistic_l1_matches_sklearn_saga(sparse_X):
    rng = np.random.default_rng(7)
    n, p = 200, 30
    X = rng.standard_normal((n, p))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X[:, :5] @ np.full(5, 1.5) + 0.3)))).astype(float)
    C = 0.5
    l1 = 1 / (C * n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = LogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=1e-12,
                                max_iter=200_000).fit(X, y)
    Xin = sparse.csr_matrix(X) if sparse_X else X
    r = solve(Xin, y, loss="logistic", l1=l1, tol=1e-12)
    assert r.converged and r.gap <= 1e-12
    f_sk = _obj_log(X, y, sk.coef_.ravel(), sk.intercept_[0], l1, 0)
    f_r = _obj_log(X, y, r.w, r.intercept, l1, 0)
    assert f_r == pytest.approx(f_sk, rel=1e-8) and f_r <= f_sk + 1e-12
    assert _kkt_log(X, y, r.w, r.intercept, l1, 0) < 1e-10
    assert np.count_nonzero(r.w) < p


def test_logistic_elasticnet_kkt_and_no_intercept():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((100, 15))
    y = (X[:, 1] - X[:, 2] + 0.5 * rng.standard_normal(100) > 0).astype(float)
    r = solve(X, y, loss="logistic", l1=0.01, l2=0.02, fit_intercept=False, tol=1e-12)
    assert r.converged and r.intercept == 0.0
    assert _kkt_log(X, y, r.w, 0.0, 0.01, 0.02, fit_intercept=False) < 1e-11


# ---------------------------------------------------------------------------------------------
# certificates and structure
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("l1,l2", [(0.1, 0.0), (0.05, 0.1), (0.0, 0.2)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gap_agrees_with_certificates(l1, l2, fit_intercept):
    X, y = _problem(9, n=40, p=15)
    sw = _weights(40, 9)
    rng = np.random.default_rng(0)
    for w in (np.zeros(15), rng.standard_normal(15) * 0.3):
        rel, gap, primal = squared_gap(X, y, w, 0.0, l1, l2, sw, fit_intercept)
        b = float(np.average(y - X @ w, weights=sw)) if fit_intercept else 0.0
        ref = duality_gap_squared(X, y, w, b, l1, l2, sw, fit_intercept)
        assert gap == pytest.approx(ref, rel=1e-9, abs=1e-13)
        assert primal == pytest.approx(_obj_sq(X, y, w, b, l1, l2, sw), rel=1e-12)
    r = solve(X, y, l1=l1, l2=l2, sample_weight=sw, fit_intercept=fit_intercept, tol=1e-9)
    ref = duality_gap_squared(X, y, r.w, r.intercept, l1, l2, sw, fit_intercept)
    yc = y - (np.average(y, weights=sw) if fit_intercept else 0.0)
    assert ref / np.average(yc * yc, weights=sw) <= 1.01e-9
    assert r.gap == pytest.approx(ref / np.average(yc * yc, weights=sw), rel=1e-6, abs=1e-15)


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_dense_equals_sparse(fmt, loss):
    rng = np.random.default_rng(10)
    n, p = 80, 120
    X = rng.standard_normal((n, p)) * (rng.random((n, p)) < 0.2) + 0.0
    X[:, 5] += 3.0  # a column with a large mean: implicit centering must be exact
    if loss == "squared":
        y = X[:, :4] @ [1, -2, 1, 0.5] + 1.0 + 0.1 * rng.standard_normal(n)
        kw = dict(l1=0.02, l2=0.01)
    else:
        y = (X[:, 0] - X[:, 1] + 0.3 * rng.standard_normal(n) > 0).astype(float)
        kw = dict(l1=0.005)
    sw = _weights(n, 10)
    rd = solve(X, y, loss=loss, sample_weight=sw, tol=1e-13, **kw)
    rs = solve(sparse.csc_matrix(X).asformat(fmt), y, loss=loss, sample_weight=sw, tol=1e-13,
               **kw)
    atol = 1e-10
    if loss == "squared":
        # the routes run different CD kernels (a CSC X its own, weighted or not): each answer is
        # as close to the optimum as its certificate says, ||w - w*||**2 <= gap / l2 (the
        # objective is 2 l2-strongly convex; ``gap`` relative to the weighted null loss)
        null = float(np.average((y - np.average(y, weights=sw)) ** 2, weights=sw))
        atol = sum(np.sqrt(max(r.gap, 0.0) * null / kw["l2"]) for r in (rd, rs))
        assert atol < 1e-5  # both certified far below the distances of a wrong answer
    np.testing.assert_allclose(rs.w, rd.w, atol=atol)
    xbar = np.average(X, axis=0, weights=sw)  # b = ybar - xbar.w
    assert rs.intercept == pytest.approx(rd.intercept, abs=max(1e-10,
                                                                   atol * np.abs(xbar).sum()))


def test_float32_is_kept_and_accurate():
    X, y = _problem(11, n=100, p=60)
    X32 = X.astype(np.float32)
    D = as_design(X32)
    assert D.data.dtype == np.float32  # no float64 copy of X
    assert as_design(sparse.csc_matrix(X32)).data.dtype == np.float32
    r32 = solve(X32, y, l1=0.05, tol=1e-12)
    r64 = solve(X32.astype(np.float64), y, l1=0.05, tol=1e-12)
    # same float32 values: same problem, same answer
    np.testing.assert_allclose(r32.w, r64.w, atol=1e-9)
    r = solve(X, y, l1=0.05, tol=1e-12)
    np.testing.assert_allclose(r32.w, r.w, rtol=1e-4, atol=1e-4 * np.abs(r.w).max())
    assert r32.objective == pytest.approx(r.objective, rel=1e-4)
    rl = solve(X32, (y > np.median(y)).astype(float), loss="logistic", l1=0.01, tol=1e-10)
    assert rl.converged and np.all(np.isfinite(rl.w))


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_orthogonal_design_closed_form(fit_intercept):
    # X^T X / n = I (and columns orthogonal to 1 when the intercept is fitted): the objective
    # separates into w_j**2 - 2 w_j z_j + l1 |w_j| with z_j = x_j.y/n, so w_j = ST(z_j, l1/2)
    rng = np.random.default_rng(12)
    n, p = 64, 10
    M = rng.standard_normal((n, p + 1))
    M[:, 0] = 1.0
    Q, _ = np.linalg.qr(M)
    X = Q[:, 1:] * np.sqrt(n)
    y = X @ rng.standard_normal(p) + 2.0 + rng.standard_normal(n)
    l1 = 0.6
    z = X.T @ (y - (y.mean() if fit_intercept else 0.0)) / n
    expected = np.sign(z) * np.maximum(np.abs(z) - l1 / 2, 0.0)
    r = solve(X, y, l1=l1, fit_intercept=fit_intercept, tol=1e-14)
    np.testing.assert_allclose(r.w, expected, atol=1e-10)
    assert np.array_equal(r.w == 0.0, expected == 0.0)
    if fit_intercept:
        assert r.intercept == pytest.approx(y.mean(), abs=1e-10)


def test_permuting_columns_permutes_coefficients():
    X, y = _problem(13, n=50, p=100, rho=0.7)
    perm = np.random.default_rng(13).permutation(100)
    r = solve(X, y, l1=0.05, tol=1e-13)
    rp = solve(X[:, perm], y, l1=0.05, tol=1e-13)
    np.testing.assert_allclose(rp.w, r.w[perm], atol=1e-9)


def test_warm_start_equals_cold():
    X, y = _problem(14, n=50, p=200, rho=0.6, k=6)
    cold = solve(X, y, l1=0.02, tol=1e-13)
    near = solve(X, y, l1=0.03, tol=1e-8)
    warm = solve(X, y, l1=0.02, w0=near.w, b0=near.intercept, tol=1e-13)
    np.testing.assert_allclose(warm.w, cold.w, atol=1e-8)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-12)


def test_warm_path_reaches_interpolation_regime():
    # p >> n down to small lam: the support approaches n and the active-set Newton takes over
    X, y = _problem(15, n=40, p=400, rho=0.6, k=20)
    X = X - 0.3
    lam_max = 2 * np.abs(X.T @ (y - y.mean()) / len(y)).max()
    w, b = None, None
    for k, lam in enumerate(lam_max * np.geomspace(1, 1e-3, 30)):
        r = solve(X, y, l1=lam, w0=w, b0=b, tol=1e-9)
        assert r.converged, lam
        w, b = r.w, r.intercept
        gap = duality_gap_squared(X, y, r.w, r.intercept, lam, 0.0)
        assert gap / np.var(y) <= 1.01e-9
        if k == 12:  # warm path == cold fit
            cold = solve(X, y, l1=lam, tol=1e-12)
            assert cold.converged
            assert r.objective == pytest.approx(cold.objective, rel=1e-8)
    assert 25 <= np.count_nonzero(w) <= 39
    sk = Lasso(alpha=lam / 2, tol=1e-12, max_iter=1_000_000).fit(X, y)
    assert r.objective <= _obj_sq(X, y, sk.coef_, sk.intercept_, lam, 0) * (1 + 1e-8)


def test_lam_max_gives_zeros():
    from regulab.core.penalties import L1

    X, y = _problem(16, n=40, p=30)
    lam_max = L1().lam_max(X, y)
    assert np.all(solve(X, y, l1=lam_max).w == 0.0)
    assert np.count_nonzero(solve(X, y, l1=lam_max * 0.98).w) >= 1


# ---------------------------------------------------------------------------------------------
# degenerate inputs
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sparse_X", [False, True])
def test_constant_column_gets_exact_zero(sparse_X):
    X, y = _problem(17, n=50, p=8)
    X[:, 3] = 2.5
    Xin = sparse.csc_matrix(X) if sparse_X else X
    for kw in (dict(l1=0.01), dict(l1=0.01, l2=0.1), dict(l2=0.1)):
        r = solve(Xin, y, tol=1e-12, **kw)
        assert r.w[3] == 0.0
    rl = solve(Xin, (y > y.mean()).astype(float), loss="logistic", l2=0.01)
    assert rl.w[3] == 0.0


def test_duplicated_columns():
    X, y = _problem(18, n=60, p=10)
    Xd = np.hstack([X, X[:, :3]])
    l1, l2 = 0.04, 0.01
    r = solve(Xd, y, l1=l1, l2=l2, tol=1e-12)
    sk = SkElasticNet(alpha=l1 / 2 + l2, l1_ratio=(l1 / 2) / (l1 / 2 + l2), tol=1e-12,
                      max_iter=500_000).fit(Xd, y)
    assert r.objective == pytest.approx(_obj_sq(Xd, y, sk.coef_, sk.intercept_, l1, l2),
                                        rel=1e-8)
    # EN splits duplicates evenly (a gap of 1e-12 with l2 = 0.01 bounds |w - w*| by ~1e-5)
    np.testing.assert_allclose(r.w[:3], r.w[10:], atol=1e-4)
    rl = solve(Xd, y, l1=l1, tol=1e-12)
    skl = Lasso(alpha=l1 / 2, tol=1e-12, max_iter=500_000).fit(Xd, y)
    assert rl.objective == pytest.approx(_obj_sq(Xd, y, skl.coef_, skl.intercept_, l1, 0),
                                         rel=1e-8)


@pytest.mark.parametrize("kw", [dict(l1=0.1), dict(l2=0.1), dict(), dict(l1=0.1, l2=0.1)])
def test_constant_y(kw):
    X, _ = _problem(19, n=30, p=5)
    y = np.full(30, 0.1)
    r = solve(X, y, **kw)
    assert np.all(r.w == 0.0) and r.intercept == 0.1 and r.converged
    r = solve(X, np.zeros(30), fit_intercept=False, **kw)
    assert np.all(r.w == 0.0) and r.intercept == 0.0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("sparse_X", [False, True])
def test_nonfinite_X_names_the_column(bad, sparse_X):
    X, y = _problem(20, n=20, p=6)
    X[4, 3] = bad
    Xin = sparse.csc_matrix(X) if sparse_X else X
    with pytest.raises(ValueError, match="X has a NaN or infinite value in column 3"):
        solve(Xin, y, l1=0.1)


def test_input_validation():
    X, y = _problem(21, n=20, p=4)
    y_nan = y.copy()
    y_nan[2] = np.nan
    with pytest.raises(ValueError, match="y has a NaN"):
        solve(X, y_nan, l1=0.1)
    with pytest.raises(ValueError, match="l1"):
        solve(X, y, l1=-1.0)
    with pytest.raises(ValueError, match="l2"):
        solve(X, y, l2=-0.1)
    with pytest.raises(ValueError, match="2-D"):
        solve(X[:, 0], y, l1=0.1)
    with pytest.raises(ValueError, match="rows but y has"):
        solve(X, y[:-1], l1=0.1)
    labels = (y > 0).astype(float)
    labels[3] = 2.0
    with pytest.raises(ValueError, match="labels 0 or 1, got 2.0"):
        solve(X, labels, loss="logistic", l1=0.1)
    with pytest.raises(ValueError, match="both classes"):
        solve(X, np.ones(20), loss="logistic", l1=0.1)
    with pytest.raises(ValueError, match="unknown loss"):
        solve(X, y, loss="hinge")
    with pytest.raises(ValueError, match="w0 has"):
        solve(X, y, l1=0.1, w0=np.zeros(3))
    with pytest.raises(ValueError, match="max_iter"):
        solve(X, y, l1=0.1, max_iter=0)


def test_one_sample():
    X = np.array([[1.0, 2.0, 3.0]])
    r = solve(X, [5.0], l1=0.1)
    assert np.all(r.w == 0.0) and r.intercept == 5.0
    r = solve(X, [5.0], l1=0.1, fit_intercept=False, tol=1e-12)
    # one equation: min (5 - x.w)^2 + 0.1 |w|_1 puts all weight on the largest |x_j|
    assert r.w[0] == 0.0 and r.w[1] == 0.0
    assert r.w[2] == pytest.approx((5 * 3 - 0.05) / 9, rel=1e-9)


def test_n20_p5000():
    rng = np.random.default_rng(22)
    X = rng.standard_normal((20, 5000))
    y = X[:, :3] @ [2.0, -1.0, 1.5] + 0.1 * rng.standard_normal(20)
    lam_max = 2 * np.abs(X.T @ (y - y.mean()) / 20).max()
    r = solve(X, y, l1=0.05 * lam_max, tol=1e-10)
    assert r.converged and np.count_nonzero(r.w) <= 19
    assert _kkt_sq(X, y, r.w, r.intercept, 0.05 * lam_max, 0) < 1e-4
    r2 = solve(X, y, l2=0.1)
    assert r2.converged and r2.solver == "svd"


def test_separable_logistic():
    rng = np.random.default_rng(23)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(float)
    for l1, l2 in [(1e-6, 0.0), (0.0, 1e-6), (1e-7, 1e-7)]:
        r = solve(X, y, loss="logistic", l1=l1, l2=l2, tol=1e-8)
        assert np.all(np.isfinite(r.w)) and np.isfinite(r.intercept)
        assert r.converged
    r = solve(X, y, loss="logistic", tol=1e-8, max_iter=200)
    assert not r.converged
    assert np.all(np.isfinite(r.w)) and np.isfinite(r.intercept) and np.isfinite(r.gap)


def test_not_converged_is_reported_not_raised():
    X, y = _problem(24, n=50, p=300, rho=0.9, k=10)
    r = solve(X, y, l1=1e-3, tol=1e-14, max_iter=2)
    assert isinstance(r, ExactResult) and not r.converged
    assert np.isfinite(r.gap) and r.gap > 1e-14 and np.all(np.isfinite(r.w))


def test_unpenalized_least_squares():
    X, y = _problem(25, n=40, p=6)
    for Xin in (X, sparse.csc_matrix(X)):
        r = solve(Xin, y, tol=1e-10)
        assert r.criterion == "kkt" and r.converged
        A = np.c_[X, np.ones(40)]
        coef = np.linalg.lstsq(A, y, rcond=None)[0]
        np.testing.assert_allclose(r.w, coef[:-1], atol=1e-7)
        assert r.intercept == pytest.approx(coef[-1], abs=1e-7)


def test_weights_mean_repetition_and_removal():
    X, y = _problem(26, n=30, p=8)
    sw = np.ones(30)
    sw[:5] = 2.0
    sw[-4:] = 0.0
    Xr = np.vstack([X[:26], X[:5]])
    yr = np.r_[y[:26], y[:5]]
    for loss, yy, yyr in (("squared", y, yr), ("logistic", (y > y.mean()) * 1.0,
                                                 (yr > y.mean()) * 1.0)):
        a = solve(X, yy, loss=loss, l1=0.01, sample_weight=sw, tol=1e-12)
        b = solve(Xr, yyr, loss=loss, l1=0.01, tol=1e-12)
        np.testing.assert_allclose(a.w, b.w, atol=1e-8)
        assert a.intercept == pytest.approx(b.intercept, abs=1e-8)


def test_design_cache_sees_in_place_edits():
    X, y = _problem(27, n=30, p=6)
    r1 = solve(X, y, l1=0.05, tol=1e-12)
    X[:, [0, 1]] = X[:, [1, 0]]  # in place: same buffer, same sum
    r2 = solve(X, y, l1=0.05, tol=1e-12)
    np.testing.assert_allclose(r2.w[[1, 0]], r1.w[[0, 1]], atol=1e-9)


# ---------------------------------------------------------------------------------------------
# ridge by SVD
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_svd_equals_normal_equations(fit_intercept):
    X, y = _problem(28, n=40, p=25)
    sw = _weights(40, 28)
    s = sw / sw.sum()
    lams = [1e-3, 0.1, 1.0, 10.0]
    coefs, intercepts = ridge_svd(X, y, lams, sample_weight=sw, fit_intercept=fit_intercept)
    xbar = s @ X if fit_intercept else np.zeros(25)
    ybar = s @ y if fit_intercept else 0.0
    Xc, yc = X - xbar, y - ybar
    for k, lam in enumerate(lams):
        w = np.linalg.solve(Xc.T @ (s[:, None] * Xc) + lam * np.eye(25), Xc.T @ (s * yc))
        np.testing.assert_allclose(coefs[:, k], w, rtol=1e-9, atol=1e-12)
        assert intercepts[k] == pytest.approx(ybar - xbar @ w, abs=1e-10)


def test_ridge_svd_matches_sklearn_several_lams():
    X, y = _problem(29, n=30, p=60)  # p > n
    n = len(y)
    lams = np.geomspace(1e-3, 10, 5)
    fac = RidgeSVD(X)
    coefs, intercepts = fac.solve(y, lams)
    assert coefs.shape == (60, 5) and intercepts.shape == (5,)
    for k, lam in enumerate(lams):
        sk = Ridge(alpha=lam * n, solver="svd").fit(X, y)
        np.testing.assert_allclose(coefs[:, k], sk.coef_, rtol=1e-8, atol=1e-10)
        assert intercepts[k] == pytest.approx(sk.intercept_, abs=1e-8)
    with pytest.raises(TypeError):
        RidgeSVD(sparse.csc_matrix(X))


# ---------------------------------------------------------------------------------------------
# the penalty as one value: penalty= a Penalty object, or l1=/l2=, never both
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("pen", [L1Pen(0.03), L2Pen(0.05), ElasticNetPen(0.04, 0.3)],
                         ids=["l1", "l2", "elasticnet"])
def test_penalty_object_equals_its_l1_l2_parts(pen, loss):
    X, y = _problem(30, n=50, p=8)
    if loss == "logistic":
        y = (y > np.median(y)).astype(float)
    l1, l2 = pen.l1_l2_parts()
    a = solve(X, y, loss=loss, penalty=pen)
    b = solve(X, y, loss=loss, l1=l1, l2=l2)
    np.testing.assert_array_equal(a.w, b.w)
    assert (a.intercept, a.gap, a.solver) == (b.intercept, b.gap, b.solver)


def test_penalty_and_l1_l2_together_refused():
    X, y = _problem(31, n=20, p=4)
    for kw in ({"l1": 0.1}, {"l2": 0.1}, {"l1": 0.0}, {"l1": 0.1, "l2": 0.1}):
        with pytest.raises(ValueError, match="not both"):
            solve(X, y, penalty=L1Pen(0.1), **kw)
    with pytest.raises(ValueError, match="Penalty"):
        solve(X, y, penalty="l1")
    # no penalty at all is least squares, as before
    assert solve(X, y).criterion == "kkt"
