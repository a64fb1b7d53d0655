"""Instrumented solvers against oracles: scikit-learn, closed forms and the duality gap."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso, LogisticRegression, Ridge

from regulab.core.certificates import duality_gap_squared
from regulab.core.losses import LogisticLoss, SquaredLoss
from regulab.core.penalties import L1, L2, ElasticNet
from regulab.solvers import fista, gradient_descent, ista, subgradient_descent


def _problem(seed=0, n=60, p=12, rho=0.5):
    rng = np.random.default_rng(seed)
    cov = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.multivariate_normal(np.zeros(p), cov, size=n)
    w = np.zeros(p)
    w[:3] = [2.0, -1.5, 1.0]
    y = X @ w + 0.5 + 0.5 * rng.standard_normal(n)
    return X, y


def _objective(X, y, w, b, l1, l2):
    return np.mean((y - X @ w - b) ** 2) + l1 * np.abs(w).sum() + l2 * w @ w


@pytest.mark.parametrize("solver", [ista, fista])
@pytest.mark.parametrize("seed", [0, 1])
def test_proximal_matches_sklearn_lasso(solver, seed):
    X, y = _problem(seed)
    lam = 0.1
    sk = Lasso(alpha=lam / 2, tol=1e-14, max_iter=200_000).fit(X, y)  # regulab lam = 2 alpha
    r = solver(X, y, penalty=L1(lam), fit_intercept=True, max_iter=50_000, tol=1e-13)
    assert r.converged
    f_sk = _objective(X, y, sk.coef_, sk.intercept_, lam, 0.0)
    f_r = _objective(X, y, r.w, r.intercept, lam, 0.0)
    assert f_r == pytest.approx(f_sk, rel=1e-9)
    assert np.array_equal(r.w == 0.0, np.abs(sk.coef_) == 0.0)
    assert r.trace.gap[-1] <= 1e-13 * np.var(y) * 10


def test_fista_elasticnet_matches_sklearn():
    X, y = _problem(2)
    alpha, r_ = 0.05, 0.3
    sk = SkElasticNet(alpha=alpha, l1_ratio=r_, tol=1e-14, max_iter=200_000).fit(X, y)
    pen = ElasticNet(lam=2 * alpha * r_ + alpha * (1 - r_),
                     l1_ratio=2 * alpha * r_ / (2 * alpha * r_ + alpha * (1 - r_)))
    l1, l2 = pen.l1_l2_parts()
    assert (l1, l2) == pytest.approx((2 * alpha * r_, alpha * (1 - r_)))
    r = fista(X, y, penalty=pen, fit_intercept=True, max_iter=50_000, tol=1e-14)
    assert _objective(X, y, r.w, r.intercept, l1, l2) == pytest.approx(
        _objective(X, y, sk.coef_, sk.intercept_, l1, l2), rel=1e-9)


def test_gradient_descent_ridge_closed_form():
    X, y = _problem(3)
    n = len(y)
    lam = 0.2
    Xc, yc = X - X.mean(0), y - y.mean()
    w_star = np.linalg.solve(Xc.T @ Xc / n + lam * np.eye(X.shape[1]), Xc.T @ yc / n)
    r = gradient_descent(X, y, penalty=L2(lam), fit_intercept=True, max_iter=100_000, tol=1e-14)
    assert np.allclose(r.w, w_star, atol=1e-7)
    sk = Ridge(alpha=lam * n, tol=1e-12).fit(X, y)  # regulab lam = alpha / n
    assert np.allclose(r.w, sk.coef_, atol=1e-7)


def test_logistic_ista_matches_sklearn():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((200, 5))
    y = (X @ [1.0, -2.0, 0.0, 0.5, 0.0] + 0.3 * rng.standard_normal(200) > 0).astype(float)
    lam, n = 0.05, 200
    sk = LogisticRegression(C=1.0 / (2 * lam * n), tol=1e-12, max_iter=10_000).fit(X, y)
    r = fista(X, y, loss=LogisticLoss(), penalty=L2(lam), fit_intercept=True, max_iter=20_000,
              tol=1e-14)
    assert np.allclose(r.w, sk.coef_.ravel(), atol=1e-5)
    assert r.intercept == pytest.approx(sk.intercept_[0], abs=1e-5)


def test_duality_gap_bounds_suboptimality():
    X, y = _problem(5)
    lam = 0.08
    sk = Lasso(alpha=lam / 2, tol=1e-15, max_iter=500_000).fit(X, y)
    p_star = _objective(X, y, sk.coef_, sk.intercept_, lam, 0.0)
    rng = np.random.default_rng(0)
    for scale in [1.0, 0.1, 0.01]:
        w = sk.coef_ + scale * rng.standard_normal(X.shape[1])
        b = sk.intercept_ + scale
        gap = duality_gap_squared(X, y, w, b, lam, 0.0)
        assert gap >= _objective(X, y, w, b, lam, 0.0) - p_star - 1e-12
    assert duality_gap_squared(X, y, sk.coef_, sk.intercept_, lam, 0.0) < 1e-9


def test_gap_with_weights_equals_repeated_rows():
    X, y = _problem(6, n=20, p=4)
    sw = np.ones(20)
    sw[0] = 3.0
    Xr = np.vstack([X, X[[0, 0]]])
    yr = np.concatenate([y, y[[0, 0]]])
    w = np.array([0.5, -0.2, 0.0, 0.1])
    g1 = duality_gap_squared(X, y, w, 0.3, 0.1, 0.05, sample_weight=sw)
    g2 = duality_gap_squared(Xr, yr, w, 0.3, 0.1, 0.05)
    assert g1 == pytest.approx(g2, rel=1e-12)


def test_sparse_equals_dense():
    X, y = _problem(7)
    X[np.abs(X) < 0.8] = 0.0
    Xs = sparse.csr_matrix(X)
    a = fista(X, y, penalty=L1(0.05), fit_intercept=True, max_iter=3000, tol=1e-12)
    b = fista(Xs, y, penalty=L1(0.05), fit_intercept=True, max_iter=3000, tol=1e-12)
    assert np.allclose(a.w, b.w, atol=1e-9)
    assert np.array_equal(a.w == 0.0, b.w == 0.0)
    loss = SquaredLoss()
    assert loss.lipschitz(Xs, fit_intercept=True) == pytest.approx(
        loss.lipschitz(X, fit_intercept=True), rel=1e-8)


def test_subgradient_never_exact_zero_ista_does():
    X, y = _problem(8, n=40, p=20)
    lam = 0.3
    sub = subgradient_descent(X, y, penalty=L1(lam), fit_intercept=True, max_iter=2000)
    prox = ista(X, y, penalty=L1(lam), fit_intercept=True, max_iter=2000, tol=1e-12)
    assert np.count_nonzero(prox.w) < X.shape[1] // 2
    assert np.count_nonzero(sub.w) == X.shape[1]
    # the subgradient objective is still close: it is an optimizer, just not a sparse one
    assert sub.objective <= prox.objective * 1.05


def test_trace_records_every_iteration():
    X, y = _problem(9)
    r = ista(X, y, penalty=L1(0.1), max_iter=25, tol=0.0)
    assert r.n_iter == 25 and len(r.trace) == 26 and r.trace.w.shape == (26, X.shape[1])
    assert np.all(np.diff(r.trace.objective) <= 1e-12)  # ISTA with step 1/L is monotone
    assert r.trace.nnz == [int(np.count_nonzero(w)) for w in r.trace.w]
    assert r.trace.step[1:] == [r.trace.step[1]] * 25
    assert not r.converged
    d = r.trace.as_dict()
    assert set(d) >= {"objective", "nnz", "step", "gap", "w"}


def test_default_step_is_inverse_lipschitz():
    X, y = _problem(10)
    L = SquaredLoss().lipschitz(X, fit_intercept=False)
    assert L == pytest.approx(2 * np.linalg.eigvalsh(X.T @ X / len(y)).max(), rel=1e-10)
    r = ista(X, y, penalty=L1(0.1), max_iter=2, tol=0.0)
    assert r.trace.step[1] == pytest.approx(1.0 / L)


def test_fista_faster_than_ista():
    X, y = _problem(11, n=80, p=40, rho=0.9)
    a = ista(X, y, penalty=L1(0.02), fit_intercept=True, max_iter=20_000, tol=1e-10)
    b = fista(X, y, penalty=L1(0.02), fit_intercept=True, max_iter=20_000, tol=1e-10)
    assert a.converged and b.converged and b.n_iter < a.n_iter


@pytest.mark.parametrize("kw, word", [
    ({"step": -1.0}, "step"), ({"step": "x"}, "step"), ({"max_iter": 0}, "max_iter"),
    ({"tol": -1.0}, "tol")])
def test_bad_solver_arguments(kw, word):
    X, y = _problem(0)
    with pytest.raises(ValueError, match=word):
        ista(X, y, penalty=L1(0.1), **kw)


def test_gradient_descent_refuses_l1():
    X, y = _problem(0)
    with pytest.raises(ValueError, match="differentiable"):
        gradient_descent(X, y, penalty=L1(0.1))


def test_nan_in_X_named():
    X, y = _problem(0)
    X[3, 5] = np.nan
    with pytest.raises(ValueError, match="column 5"):
        ista(X, y, penalty=L1(0.1))


def test_divergence_is_reported():
    X, y = _problem(0)
    with pytest.raises(FloatingPointError, match="diverged"):
        gradient_descent(X, y, step=100.0, max_iter=500)
