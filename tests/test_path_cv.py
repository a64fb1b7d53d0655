"""Paths, cross-validation and stability selection against independent checks."""

import numpy as np
import pytest
from scipy import sparse

from regulab.selection.cv import cross_validate_path, held_out_error, one_se_rule
from regulab.selection.path import lam_grid, lam_max, regularization_path
from regulab.selection.stability import complementary_halves, stability_selection
from regulab.solvers.exact import solve


def _data(seed=0, n=80, p=15, k=3, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:k] = rng.choice([-1, 1], k) * rng.uniform(1, 2, k)
    return X, X @ w + 1.0 + noise * rng.standard_normal(n), w


def _kkt_violation(X, y, w, b, l1, l2):
    """Largest violation of the optimality conditions of regulab's squared objective."""
    n = len(y)
    r = y - X @ w - b
    g = -2.0 / n * X.T @ r + 2 * l2 * w
    on = w != 0
    v_on = np.abs(g[on] + l1 * np.sign(w[on]))
    v_off = np.maximum(np.abs(g[~on]) - l1, 0)
    return max(v_on.max(initial=0), v_off.max(initial=0), abs(2.0 / n * r.sum()))


def test_grid_is_geometric_from_lam_max():
    X, y, _ = _data()
    g = lam_grid(X, y, n_lams=30)
    assert g[0] == pytest.approx(lam_max(X, y)) and g[-1] == pytest.approx(g[0] * 1e-3)
    ratios = g[1:] / g[:-1]
    assert np.allclose(ratios, ratios[0])
    assert lam_grid(X[:10], y[:10], n_lams=5)[-1] == pytest.approx(lam_max(X[:10], y[:10]) * 1e-2)


def test_lam_max_zero_and_next_nonzero():
    X, y, _ = _data(1)
    path = regularization_path(X, y, n_lams=20, tol=1e-10, max_iter=100_000)
    assert np.all(path.coefs[:, 0] == 0.0)
    assert path.nnz[1] >= 1
    assert path.intercepts[0] == pytest.approx(y.mean())


def test_kkt_at_every_point_of_the_path():
    X, y, _ = _data(2)
    for rho in (1.0, 0.5):
        path = regularization_path(X, y, l1_ratio=rho, n_lams=15, tol=1e-12, max_iter=200_000)
        for k in range(path.lams.size):
            l1, l2 = path.l1_l2(k)
            assert _kkt_violation(X, y, path.coefs[:, k], path.intercepts[k], l1, l2) < 1e-5


def test_warm_path_equals_cold_fits():
    X, y, _ = _data(3)
    path = regularization_path(X, y, n_lams=8, tol=1e-12, max_iter=200_000)
    for k in (1, 4, 7):
        cold = solve(X, y, l1=path.lams[k], tol=1e-12, max_iter=200_000)
        assert np.allclose(cold.w, path.coefs[:, k], atol=1e-6)


def test_ridge_path_is_closed_form():
    X, y, _ = _data(4)
    path = regularization_path(X, y, l1_ratio=0.0, n_lams=6)
    n = len(y)
    Xc, yc = X - X.mean(0), y - y.mean()
    for k, lam in enumerate(path.lams):
        w = np.linalg.solve(Xc.T @ Xc / n + lam * np.eye(X.shape[1]), Xc.T @ yc / n)
        assert np.allclose(path.coefs[:, k], w, atol=1e-8)
        assert np.all(path.coefs[:, k] != 0.0)


def test_user_lams_sorted_and_checked():
    X, y, _ = _data()
    path = regularization_path(X, y, lams=[0.01, 0.5, 0.1], tol=1e-8)
    assert list(path.lams) == [0.5, 0.1, 0.01]
    with pytest.raises(ValueError, match="lam"):
        regularization_path(X, y, lams=[0.1, -1.0])
    with pytest.raises(ValueError, match="n_lams"):
        lam_grid(X, y, n_lams=0)


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("loss", ["squared", "logistic", "poisson"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
def test_a_bad_y_gets_one_message_on_every_route(dense, loss, l1_ratio):
    """The grid's top (lam_max, ridge_top) and the solvers check y alike: its length and its
    values, with the solvers' message (was numpy's broadcast error from the grid)."""
    X, y, _ = _data()
    X = X if dense else sparse.csc_matrix(X)
    y = (y > np.median(y)).astype(float)
    with pytest.raises(ValueError, match="X has 80 rows but y has 10 values"):
        regularization_path(X, y[:10], loss=loss, l1_ratio=l1_ratio, n_lams=3)
    bad = y.copy()
    bad[7] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite value \(at index 7\)"):
        lam_max(X, bad, loss=loss, l1_ratio=l1_ratio)


def test_one_se_rule_by_hand():
    lams = np.array([10.0, 5.0, 2.0, 1.0, 0.5])
    mean = np.array([5.0, 3.0, 2.2, 2.0, 2.1])
    se = np.array([0.1, 0.1, 0.1, 0.3, 0.1])
    # minimum at index 3 (2.0 +- 0.3): indices with mean <= 2.3 are 2, 3, 4; the largest lam is 2.0
    assert one_se_rule(lams, mean, se) == (3, 2)


def test_cv_statistics_recomputed():
    X, y, _ = _data(5)
    cv = cross_validate_path(X, y, n_lams=10, cv=4, seed=3, tol=1e-8)
    assert cv.fold_errors.shape == (4, 10)
    assert np.allclose(cv.mean_error, cv.fold_errors.mean(0))
    assert np.allclose(cv.se_error, np.std(cv.fold_errors, axis=0, ddof=1) / 2.0)
    i = int(np.argmin(cv.mean_error))
    ok = cv.mean_error <= cv.mean_error[i] + cv.se_error[i]
    assert cv.idx_min == i and cv.lam_1se == cv.lams[ok].max() and cv.lam_1se >= cv.lam_min
    # fold errors are the MSE of the kept fold coefficients on the held-out rows
    from sklearn.model_selection import KFold
    train, test = next(iter(KFold(4, shuffle=True, random_state=3).split(X)))
    z = X[test] @ cv.fold_coefs[0] + cv.fold_intercepts[0]
    assert np.allclose(((y[test][:, None] - z) ** 2).mean(0), cv.fold_errors[0])


def test_repeated_cv_and_determinism():
    X, y, _ = _data(6)
    a = cross_validate_path(X, y, n_lams=6, cv=3, n_repeats=2, seed=1, tol=1e-8)
    b = cross_validate_path(X, y, n_lams=6, cv=3, n_repeats=2, seed=1, tol=1e-8, n_jobs=2)
    assert a.fold_errors.shape == (6, 6)
    assert np.array_equal(a.fold_errors, b.fold_errors)


def test_cv_logistic_is_stratified_and_scored():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((90, 5))
    y = (X[:, 0] + 0.5 * rng.standard_normal(90) > 0.8).astype(float)
    cv = cross_validate_path(X, y, loss="logistic", n_lams=5, cv=3, tol=1e-6)
    assert cv.scoring == "log_loss" and np.all(np.isfinite(cv.mean_error))
    z = np.array([[0.0, 10.0]])
    assert held_out_error("logistic", "log_loss", np.array([1.0]), z)[0] == pytest.approx(np.log(2))
    assert held_out_error("logistic", "misclassification", np.array([1.0]), z).tolist() == [1, 0]


@pytest.mark.parametrize("kw, word", [({"cv": 1}, "cv"), ({"cv": 1000}, "cv"),
                                      ({"n_repeats": 0}, "n_repeats"),
                                      ({"scoring": "misclassification"}, "scoring")])
def test_cv_bad_arguments(kw, word):
    X, y, _ = _data()
    with pytest.raises(ValueError, match=word):
        cross_validate_path(X, y, n_lams=3, **kw)


def test_complementary_halves_are_disjoint():
    a, b = complementary_halves(11, 0)
    assert len(a) == len(b) == 5 and not set(a) & set(b)


def test_stability_selection_finds_the_truth():
    X, y, w = _data(8, n=120, p=20, k=3, noise=0.3)
    res = stability_selection(X, y, n_lams=10, n_pairs=6, threshold=0.7, seed=0, tol=1e-6)
    assert set(res.selected) >= set(np.flatnonzero(w))
    assert res.frequencies.min() >= 0 and res.frequencies.max() <= 1
    # noise features are rarely selected: frequency is monotone-ish in lam and small at the top
    noise = np.flatnonzero(w == 0)
    assert res.frequencies[noise, 0].max() <= 0.5
    assert res.false_selection_bound == pytest.approx(res.q**2 / ((2 * 0.7 - 1) * 20))
    again = stability_selection(X, y, n_lams=10, n_pairs=6, threshold=0.7, seed=0, tol=1e-6,
                                n_jobs=2)
    assert np.array_equal(res.frequencies, again.frequencies)


def test_stability_refuses_ridge():
    X, y, _ = _data()
    with pytest.raises(ValueError, match="L1"):
        stability_selection(X, y, l1_ratio=0.0)


def test_sparse_path_equals_dense():
    X, y, _ = _data(9)
    X[np.abs(X) < 0.7] = 0.0
    a = regularization_path(X, y, n_lams=8, tol=1e-10, max_iter=100_000)
    b = regularization_path(sparse.csc_matrix(X), y, n_lams=8, tol=1e-10, max_iter=100_000)
    assert np.allclose(a.coefs, b.coefs, atol=1e-7)
