"""The compiled small-problem path (regulab.solvers.exact.gram_path) against oracles.

Every answer is checked by a duality gap written out here in numpy from the returned
coefficients (no solver code), and against scikit-learn's ElasticNet on the same objective.
"""

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import ElasticNet as SkElasticNet

from regulab.selection.cv import cross_validate_path
from regulab.selection.path import lam_grid, regularization_path
from regulab.solvers.exact import solve
from regulab.solvers.exact.gram_path import MAX_FEATURES, gram_path


def _problem(seed, n=80, p=15, corr=0.6):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):  # correlated columns (AR(1)), shifted so that centering matters
        X[:, j] = corr * X[:, j - 1] + np.sqrt(1 - corr**2) * Z[:, j]
    X += rng.uniform(-1, 1, p)
    w = np.zeros(p)
    w[: p // 3] = rng.choice([-1.0, 1.0], p // 3) * rng.uniform(0.5, 2.0, p // 3)
    y = X @ w + 1.5 + rng.standard_normal(n)
    sw = rng.uniform(0.2, 3.0, n)
    return X, y, sw


def _gap(X, y, w, l1, l2, sw, fit_intercept):
    """Relative duality gap of ``w`` (intercept at its optimum) for
    ``sum_i s_i (y_i - x_i.w - b)**2 + l1 |w|_1 + l2 |w|_2**2``, written out in numpy."""
    s = np.full(len(y), 1 / len(y)) if sw is None else sw / sw.sum()
    Xw = X @ w
    b = s @ (y - Xw) if fit_intercept else 0.0
    r = y - Xw - b
    primal = s @ r**2 + l1 * np.abs(w).sum() + l2 * w @ w
    theta = 2 * s * r
    v = X.T @ theta
    if l2 > 0:
        dual = theta @ y - s @ r**2 - np.sum(np.maximum(np.abs(v) - l1, 0) ** 2) / (4 * l2)
    else:
        c = min(1.0, l1 / np.abs(v).max())
        dual = c * (theta @ y) - c * c * (s @ r**2)
    yc = y - (s @ y if fit_intercept else 0.0)
    return (primal - dual) / (s @ yc**2)


def _objective(X, y, w, b, l1, l2, sw):
    s = np.full(len(y), 1 / len(y)) if sw is None else sw / sw.sum()
    r = y - X @ w - b
    return s @ r**2 + l1 * np.abs(w).sum() + l2 * w @ w


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("rho", [1.0, 0.5])
def test_gram_path_is_certified_by_an_independent_gap(seed, weighted, fit_intercept, rho):
    X, y, sw = _problem(seed)
    sw = sw if weighted else None
    tol = 1e-8
    lams = lam_grid(X, y, l1_ratio=rho, n_lams=30, fit_intercept=fit_intercept,
                    sample_weight=sw)
    fast = gram_path(X, y, lams, rho, sample_weight=sw, fit_intercept=fit_intercept, tol=tol)
    assert fast is not None  # the route applies to this problem
    path = regularization_path(X, y, l1_ratio=rho, lams=lams, fit_intercept=fit_intercept,
                               sample_weight=sw, tol=tol)
    np.testing.assert_array_equal(path.coefs, fast[0])  # the path takes this route
    assert path.converged.all() and np.all(path.gaps <= tol)
    for k, lam in enumerate(lams):
        w = path.coefs[:, k]
        assert _gap(X, y, w, rho * lam, (1 - rho) * lam, sw, fit_intercept) <= tol
        s = np.full(len(y), 1 / len(y)) if sw is None else sw / sw.sum()
        b_opt = s @ (y - X @ w) if fit_intercept else 0.0
        assert path.intercepts[k] == pytest.approx(b_opt, abs=1e-12 * (1 + abs(b_opt)))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("rho", [1.0, 0.3])
def test_gram_path_matches_sklearn_elastic_net(seed, weighted, rho):
    """regulab's ``sum s r^2 + l1 |w|_1 + l2 |w|^2`` is twice scikit-learn's
    ``(1/2) sum s r^2 + alpha l1_ratio |w|_1 + (alpha/2)(1 - l1_ratio)|w|^2`` with
    ``alpha l1_ratio = l1/2`` and ``alpha (1 - l1_ratio) = l2``."""
    X, y, sw = _problem(seed, n=120, p=10)
    sw = sw if weighted else None
    lams = lam_grid(X, y, l1_ratio=rho, n_lams=12, sample_weight=sw)
    path = regularization_path(X, y, l1_ratio=rho, lams=lams, sample_weight=sw, tol=1e-10)
    for k, lam in enumerate(lams):
        l1, l2 = rho * lam, (1 - rho) * lam
        alpha = l1 / 2 + l2
        sk = SkElasticNet(alpha=alpha, l1_ratio=(l1 / 2) / alpha, tol=1e-14, max_iter=100_000)
        sk.fit(X, y, sample_weight=sw)
        ours = _objective(X, y, path.coefs[:, k], path.intercepts[k], l1, l2, sw)
        theirs = _objective(X, y, sk.coef_, sk.intercept_, l1, l2, sw)
        assert ours <= theirs + 1e-10 * abs(theirs)
        # n > p, full rank: the optimum is unique
        np.testing.assert_allclose(path.coefs[:, k], sk.coef_, atol=1e-4)


@pytest.mark.parametrize("seed", range(3))
def test_gram_path_agrees_with_the_general_route(seed):
    X, y, sw = _problem(seed)
    lams = lam_grid(X, y, n_lams=20, sample_weight=sw)
    path = regularization_path(X, y, lams=lams, sample_weight=sw, tol=1e-10)
    w0 = None
    for k, lam in enumerate(lams):
        res = solve(X, y, l1=lam, sample_weight=sw, w0=w0, tol=1e-10)
        w0 = res.w
        np.testing.assert_allclose(path.coefs[:, k], res.w, atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_options_the_route_does_not_know_take_the_general_route(seed):
    X, y, _ = _problem(seed, n=50, p=8)
    lams = lam_grid(X, y, n_lams=10)
    assert gram_path(X.astype(np.float32), y, lams, 1.0) is None
    assert gram_path(sparse.csc_matrix(X), y, lams, 1.0) is None
    assert gram_path(X, np.full(50, 2.0), lams, 1.0) is None  # constant y: closed answer
    assert gram_path(X, y, np.append(lams, 0.0), 1.0) is None  # lam = 0: least squares
    assert gram_path(X, y, lams, 0.0) is None  # pure ridge
    wide = np.random.default_rng(seed).standard_normal((20, MAX_FEATURES + 1))
    assert gram_path(wide, wide[:, 0] + 1.0, lams, 1.0) is None
    # and the general route still certifies those paths
    for Xv, yv in [(X.astype(np.float32), y), (sparse.csc_matrix(X), y)]:
        path = regularization_path(Xv, yv, lams=lams, tol=1e-8)
        for k, lam in enumerate(lams):
            assert _gap(X, y, path.coefs[:, k], lam, 0.0, None, True) <= 1e-6


def test_constant_column_gets_zero_and_grid_with_zero_lam():
    X, y, _ = _problem(7, n=40, p=6)
    X[:, 2] = 3.0  # constant: no information once the intercept is fitted
    lams = lam_grid(X, y, n_lams=15)
    path = regularization_path(X, y, lams=lams, tol=1e-9)
    assert np.all(path.coefs[2] == 0.0)
    for k, lam in enumerate(lams):
        assert _gap(X, y, path.coefs[:, k], lam, 0.0, None, True) <= 1e-9


@pytest.mark.parametrize("seed", range(2))
def test_cv_folds_take_the_route_and_stay_certified(seed):
    X, y, _ = _problem(seed, n=90, p=12)
    perm = np.random.default_rng(seed).permutation(90)
    folds = [(np.setdiff1d(perm, perm[k::3]), perm[k::3]) for k in range(3)]
    res = cross_validate_path(X, y, n_lams=25, cv=folds, tol=1e-7)
    assert res.fold_converged.all() and np.all(np.isfinite(res.mean_error))
    for f, (train, _) in enumerate(folds):
        for k, lam in enumerate(res.lams):
            assert _gap(X[train], y[train], res.fold_coefs[f, :, k], lam, 0.0, None,
                        True) <= 1e-7
