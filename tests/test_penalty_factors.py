"""Per-feature penalty factors, bounds and the adaptive lasso (regulab.solvers.exact.box,
regulab.core.certificates.duality_gap_box, regulab.selection.path / adaptive).

Oracles: the objective and the KKT conditions written out in this file, Fortran glmnet
(python-glmnet; glmnet rescales ``relative_penalties`` to sum to p, regulab does not: converted
here), glum (``P1``, ``P2``, ``lower_bounds``, ``upper_bounds``), scikit-learn's
``Lasso(positive=True)``, and least squares on the unpenalized columns.
"""

import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.special import expit

from regulab.core.certificates import duality_gap_box
from regulab.core.losses import normalized_weights
from regulab.core.validation import InvalidValue
from regulab.selection.adaptive import adaptive_lasso, adaptive_weights
from regulab.selection.path import lam_max, regularization_path
from regulab.solvers import _box_kernels as BK
from regulab.solvers.exact import solve
from regulab.solvers.exact.box import box_gap_at

from cli_runner import run_cli as _run_cli

SEEDS = range(5)


def _data(seed, n=90, p=12, logistic=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-1, 1, p)
    beta = np.zeros(p)
    beta[:5] = rng.uniform(0.5, 2.0, 5) * rng.choice([-1, 1], 5)
    z = X @ beta + 0.3
    y = (rng.uniform(size=n) < expit(z)).astype(float) if logistic else z + rng.standard_normal(n)
    return rng, X, y


def _factors_bounds(rng, p):
    """Random factors (two unpenalized), a few features >= 0, a few capped above."""
    v = rng.uniform(0.3, 2.0, p)
    v[rng.choice(p, 2, replace=False)] = 0.0
    lo = np.where(rng.uniform(size=p) < 0.3, 0.0, -np.inf)
    hi = np.where(rng.uniform(size=p) < 0.3, rng.uniform(0.1, 1.0, p), np.inf)
    lo[v == 0], hi[v == 0] = -np.inf, np.inf
    return v, lo, hi


def _objective(X, y, w, b, l1, l2, v, logistic=False, sw=None):
    s = normalized_weights(len(y), sw)
    z = X @ w + b
    loss = np.logaddexp(0.0, -(2 * y - 1) * z) if logistic else (y - z) ** 2
    return float(s @ loss) + l1 * float(v @ np.abs(w)) + l2 * float(v @ (w * w))


def _kkt(X, y, w, b, l1, l2, v, lo, hi, logistic=False):
    """Largest distance of -grad_j to l1 v_j d|w_j| + normal cone of [lo_j, hi_j], written out
    here (and |d/db|), in true gradient units."""
    n = len(y)
    z = X @ w + b
    d = (expit(z) - y) / n if logistic else -2.0 * (y - z) / n
    grad = X.T @ d + 2 * l2 * v * w
    a = l1 * v
    low = np.where(w > 0, a, -a)
    high = np.where(w < 0, -a, a)
    high = np.where(w >= hi, np.inf, high)
    low = np.where(w <= lo, -np.inf, low)
    viol = np.maximum(np.maximum(low + grad, -grad - high), 0.0)
    return max(float(viol.max()), abs(float(d.sum())))


def _assert_same_optimum(X, y, w1, w2, gaps, l2=0.0):
    """Two certified solutions of one strongly convex squared-loss problem: each lies within
    ``sqrt(2 gap / mu)`` of the optimum, ``mu = 2 (lambda_min(cov X) + l2)`` (``gaps`` relative
    to the null loss ``var(y)``)."""
    mu = 2.0 * (np.linalg.eigvalsh(np.cov(X.T, bias=True))[0] + l2)
    radius = sum(np.sqrt(2.0 * g * np.var(y) / mu) for g in gaps)
    assert np.abs(w1 - w2).max() <= radius + 1e-12


def _glmnet():
    return pytest.importorskip("glmnet", reason="python-glmnet (Fortran glmnet) not installed")


def _glum():
    return pytest.importorskip("glum", reason="glum not installed")


# ---------------------------------------------------------------------------------------------
# the certificate: compiled == formula, and it bounds the suboptimality
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l2", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_compiled_box_gap_equals_formula(seed, fit_intercept, l2, weighted):
    rng, X, y = _data(seed)
    p = X.shape[1]
    v, lo, hi = _factors_bounds(rng, p)
    v[p - 1] = np.inf
    lo[np.flatnonzero(v == 0)[0]] = 0.0  # an unpenalized bounded feature (a loose, valid gap)
    sw = rng.uniform(0.2, 3.0, len(y)) if weighted else None
    s = normalized_weights(len(y), sw)
    l1 = 0.2
    a, c = np.where(np.isinf(v), np.inf, l1 * np.where(np.isinf(v), 0, v)), l2 * np.where(
        np.isinf(v), 0, v)
    free = (v == 0) & np.isneginf(lo) & np.isposinf(hi)
    for scale in (1e-3, 0.3, 3.0):
        w = np.clip(scale * rng.standard_normal(p), lo, hi)
        w[np.isinf(v)] = 0.0
        b = rng.standard_normal()
        want = duality_gap_box(X, y, w, b, l1, l2, v, lo, hi, sw, fit_intercept)
        # the kernel from sums taken here (profiled residual by least squares on [1, X_F])
        Z = X[:, free]
        if fit_intercept:
            Z = np.column_stack([np.ones(len(y)), Z])
        rest = y - X[:, ~free] @ w[~free]
        coef = np.linalg.lstsq(np.sqrt(s)[:, None] * Z, np.sqrt(s) * rest, rcond=None)[0]
        r = rest - Z @ coef
        e = y - X @ w - b
        primal, gap = BK.box_gap(float(s @ (e * e)), float(s @ (r * r)), 2 * float(s @ (r * y)),
                                 X.T @ (2 * s * r), w, a, c, lo, hi, free)
        assert gap == pytest.approx(want, rel=1e-10, abs=1e-13)
        assert primal == pytest.approx(_objective(X, y, w, b, l1, l2, np.where(
            np.isinf(v), 0, v), sw=sw), rel=1e-12)
        # the solvers' route: the refitted point and its gap
        w_c, b_c, gap_s = box_gap_at(X, y, w, l1, l2, v, lo, hi, sw, fit_intercept)
        assert gap_s == pytest.approx(
            duality_gap_box(X, y, w_c, b_c, l1, l2, v, lo, hi, sw, fit_intercept), rel=1e-10,
            abs=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
def test_box_gap_bounds_suboptimality(seed):
    rng, X, y = _data(seed)
    p = X.shape[1]
    v, lo, hi = _factors_bounds(rng, p)
    l1, l2 = 0.15, 0.05
    best = solve(X, y, l1=l1, l2=l2, penalty_factor=v, lower=lo, upper=hi, tol=1e-13)
    assert best.criterion == "duality_gap" and best.converged
    p_star = _objective(X, y, best.w, best.intercept, l1, l2, v)
    assert duality_gap_box(X, y, best.w, best.intercept, l1, l2, v, lo, hi) <= 1e-10
    for _ in range(5):
        w = np.clip(best.w + 0.3 * rng.standard_normal(p), lo, hi)
        b = best.intercept + 0.1 * rng.standard_normal()
        gap = duality_gap_box(X, y, w, b, l1, l2, v, lo, hi)
        assert gap >= _objective(X, y, w, b, l1, l2, v) - p_star - 1e-12
        assert gap > 0


# ---------------------------------------------------------------------------------------------
# against glmnet, glum and scikit-learn
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_lasso_factors_bounds_vs_glmnet(seed):
    glmnet = _glmnet()
    rng, X, y = _data(seed)
    p = X.shape[1]
    v, lo, hi = _factors_bounds(rng, p)
    l1 = rng.uniform(0.05, 0.4)
    lam = l1 * v.sum() / (2 * p)  # glmnet: (1/2) mean sq + lam * sum_j (v_j p / sum v) |w_j|
    m = glmnet.ElasticNet(alpha=1.0, lambda_path=np.geomspace(50 * lam, lam, 30),
                          standardize=False, n_splits=0, tol=1e-14, max_iter=1_000_000,
                          lower_limits=lo, upper_limits=hi)
    m.fit(X, y, relative_penalties=v)
    wg, bg = m.coef_path_[:, -1], m.intercept_path_[-1]
    res = solve(X, y, l1=l1, penalty_factor=v, lower=lo, upper=hi, tol=1e-12)
    assert res.converged and res.criterion == "duality_gap"
    ours = _objective(X, y, res.w, res.intercept, l1, 0.0, v)
    theirs = _objective(X, y, wg, bg, l1, 0.0, v)
    assert ours <= theirs * (1 + 1e-9)
    assert np.all(res.w >= lo) and np.all(res.w <= hi)
    np.testing.assert_allclose(res.w, wg, atol=1e-6)  # n > p: the optimum is unique
    assert _kkt(X, y, res.w, res.intercept, l1, 0.0, v, lo, hi) < 1e-8


@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_factors_bounds_vs_glmnet(seed):
    glmnet = _glmnet()
    rng, X, y = _data(seed, n=150, logistic=True)
    p = X.shape[1]
    v, lo, hi = _factors_bounds(rng, p)
    l1 = rng.uniform(0.01, 0.05)
    lam = l1 * v.sum() / p  # glmnet binomial: mean log-loss + lam * sum_j (v_j p / sum v) |w_j|
    m = glmnet.LogitNet(alpha=1.0, lambda_path=np.geomspace(50 * lam, lam, 30),
                        standardize=False, n_splits=0, tol=1e-14, max_iter=1_000_000,
                        lower_limits=lo, upper_limits=hi)
    m.fit(X, y, relative_penalties=v)
    wg, bg = m.coef_path_[0, :, -1], m.intercept_path_[0, -1]
    res = solve(X, y, loss="logistic", l1=l1, penalty_factor=v, lower=lo, upper=hi, tol=1e-10)
    assert res.converged and res.criterion == "kkt"
    ours = _objective(X, y, res.w, res.intercept, l1, 0.0, v, logistic=True)
    theirs = _objective(X, y, wg, bg, l1, 0.0, v, logistic=True)
    assert ours <= theirs * (1 + 1e-9)
    np.testing.assert_allclose(res.w, wg, atol=1e-4)
    assert _kkt(X, y, res.w, res.intercept, l1, 0.0, v, lo, hi, logistic=True) < 1e-8


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("logistic", [False, True])
def test_elastic_net_factors_bounds_vs_glum(seed, logistic):
    glum = _glum()
    rng, X, y = _data(seed, n=150, logistic=logistic)
    p = X.shape[1]
    v, lo, hi = _factors_bounds(rng, p)
    l1, l2 = (0.03, 0.02) if logistic else (0.2, 0.1)
    # glum: deviance / (2 sum s) + alpha r P1.|w| + alpha (1 - r) / 2 w.P2.w; the normal
    # deviance is the squared error, the binomial one twice the log-loss
    if logistic:
        alpha = l1 + 2 * l2
        ratio = l1 / alpha
    else:
        alpha = l1 / 2 + l2
        ratio = (l1 / 2) / alpha
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = glum.GeneralizedLinearRegressor(
            family="binomial" if logistic else "normal", alpha=alpha, l1_ratio=ratio, P1=v, P2=v,
            lower_bounds=lo, upper_bounds=hi, gradient_tol=1e-12, max_iter=10_000).fit(X, y)
    res = solve(X, y, loss="logistic" if logistic else "squared", l1=l1, l2=l2,
                penalty_factor=v, lower=lo, upper=hi, tol=1e-11)
    assert res.converged
    ours = _objective(X, y, res.w, res.intercept, l1, l2, v, logistic)
    theirs = _objective(X, y, g.coef_, g.intercept_, l1, l2, v, logistic)
    assert ours <= theirs * (1 + 1e-9)
    np.testing.assert_allclose(res.w, g.coef_, atol=1e-5)
    # a relative gap ~1e-13 allows a gradient ~sqrt(gap) away from the KKT conditions
    assert _kkt(X, y, res.w, res.intercept, l1, l2, v, lo, hi, logistic) < (
        1e-8 if logistic else 1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_nonnegative_lasso_vs_sklearn(seed):
    from sklearn.linear_model import Lasso

    _, X, y = _data(seed, n=60, p=25)
    l1 = 0.1
    sk = Lasso(alpha=l1 / 2, positive=True, tol=1e-14, max_iter=1_000_000).fit(X, y)
    res = solve(X, y, l1=l1, lower=0.0, tol=1e-12)
    assert res.converged and res.criterion == "duality_gap" and np.all(res.w >= 0)
    v = np.ones(X.shape[1])
    assert (_objective(X, y, res.w, res.intercept, l1, 0, v)
            <= _objective(X, y, sk.coef_, sk.intercept_, l1, 0, v) * (1 + 1e-9))
    np.testing.assert_allclose(res.w, sk.coef_, atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_sparse_equals_dense(seed):
    rng, X, y = _data(seed)
    v, lo, hi = _factors_bounds(rng, X.shape[1])
    X[np.abs(X) < 0.8] = 0.0
    kw = dict(l1=0.1, l2=0.05, penalty_factor=v, lower=lo, upper=hi, tol=1e-12)
    a = solve(X, y, **kw)
    b = solve(sparse.csc_matrix(X), y, **kw)
    _assert_same_optimum(X, y, a.w, b.w, [a.gap, b.gap], l2=0.0)
    yb = (y > np.median(y)).astype(float)
    kw.update(l1=0.01, tol=1e-10)
    a = solve(X, yb, loss="logistic", **kw)
    b = solve(sparse.csc_matrix(X), yb, loss="logistic", **kw)
    assert a.converged and b.converged
    for res in (a, b):
        assert _kkt(X, yb, res.w, res.intercept, 0.01, 0.05, v, lo, hi, logistic=True) < 1e-8


@pytest.mark.parametrize("seed", SEEDS)
def test_ridge_with_factors_closed_form(seed):
    """l1 = 0: the minimizer solves (X_c^T X_c / n + l2 diag(v)) w = X_c^T y_c / n (the SVD
    route is not taken; unpenalized features included)."""
    rng, X, y = _data(seed)
    p = X.shape[1]
    v = rng.uniform(0.2, 3.0, p)
    v[rng.choice(p, 2, replace=False)] = 0.0
    l2 = 0.3
    Xc, yc = X - X.mean(0), y - y.mean()
    want = np.linalg.solve(Xc.T @ Xc / len(y) + l2 * np.diag(v), Xc.T @ yc / len(y))
    res = solve(X, y, l2=l2, penalty_factor=v, tol=1e-13)
    assert res.criterion == "duality_gap" and res.converged
    np.testing.assert_allclose(res.w, want, atol=1e-6)
    assert _objective(X, y, res.w, res.intercept, 0, l2, v) <= _objective(
        X, y, want, y.mean() - X.mean(0) @ want, 0, l2, v) * (1 + 1e-12)


def test_stability_keeps_unpenalized_features():
    from regulab.selection.stability import stability_selection

    _, X, y = _data(0)
    v = np.ones(X.shape[1])
    v[[3, 9]] = 0.0
    res = stability_selection(X, y, n_pairs=4, n_lams=8, penalty_factor=v)
    assert np.all(res.frequencies[[3, 9]] == 1.0)
    assert res.frequencies[np.flatnonzero(v)].min() < 1.0


# ---------------------------------------------------------------------------------------------
# unpenalized features, excluded features, lam_max
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_unpenalized_features_are_not_shrunk(seed, loss):
    rng, X, y = _data(seed, n=150, logistic=loss == "logistic")
    p = X.shape[1]
    U = np.sort(rng.choice(p, 3, replace=False))
    v = np.ones(p)
    v[U] = 0.0
    top = lam_max(X, y, loss=loss, penalty_factor=v)
    # above lam_max: the penalized coefficients vanish, the unpenalized ones are the unpenalized
    # fit on [1, X_U] alone (least squares / logistic regression by Newton, written here)
    res = solve(X, y, loss=loss, l1=1.01 * top, penalty_factor=v, tol=1e-12)
    assert np.all(res.w[v > 0] == 0.0)
    Z = np.column_stack([np.ones(len(y)), X[:, U]])
    if loss == "squared":
        beta = np.linalg.lstsq(Z, y, rcond=None)[0]
    else:
        beta = np.zeros(Z.shape[1])
        for _ in range(50):
            mu = expit(Z @ beta)
            beta += np.linalg.solve(Z.T @ (Z * (mu * (1 - mu))[:, None]), Z.T @ (y - mu))
    np.testing.assert_allclose(np.r_[res.intercept, res.w[U]], beta, atol=1e-6)
    # just below lam_max a penalized coefficient enters
    assert np.any(solve(X, y, loss=loss, l1=0.97 * top, penalty_factor=v, tol=1e-12).w[v > 0])
    if loss == "squared":
        # at any lam the unpenalized coefficients are least squares on the partial residual
        res = solve(X, y, l1=0.3 * top, penalty_factor=v, tol=1e-13)
        P = v > 0
        beta = np.linalg.lstsq(Z, y - X[:, P] @ res.w[P], rcond=None)[0]
        np.testing.assert_allclose(np.r_[res.intercept, res.w[U]], beta, atol=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
def test_lam_max_with_a_bound_looks_one_way(seed):
    _, X, y = _data(seed)
    top = lam_max(X, y, lower=0.0)
    assert top <= lam_max(X, y) * (1 + 1e-12)
    assert np.all(solve(X, y, l1=top * 1.001, lower=0.0, tol=1e-12).w == 0.0)
    assert np.any(solve(X, y, l1=top * 0.98, lower=0.0, tol=1e-12).w > 0.0)
    path = regularization_path(X, y, lower=0.0, n_lams=15)
    assert path.coefs.min() >= 0.0 and np.all(path.coefs[:, 0] == 0) and path.converged.all()


@pytest.mark.parametrize("seed", range(3))
def test_infinite_factor_excludes_the_feature(seed):
    _, X, y = _data(seed)
    v = np.ones(X.shape[1])
    v[[1, 4]] = np.inf
    res = solve(X, y, l1=0.1, penalty_factor=v, tol=1e-12)
    keep = np.isfinite(v)
    alone = solve(X[:, keep], y, l1=0.1, tol=1e-12)
    assert np.all(res.w[~keep] == 0.0)
    _assert_same_optimum(X[:, keep], y, res.w[keep], alone.w, [res.gap, alone.gap])


@pytest.mark.parametrize("seed", range(3))
def test_factors_all_one_equal_default(seed):
    """Factors of 1 and no bounds: the same problem as the default solver's."""
    _, X, y = _data(seed)
    a = solve(X, y, l1=0.1, l2=0.05, tol=1e-12)
    b = solve(X, y, l1=0.1, l2=0.05, penalty_factor=np.ones(X.shape[1]), tol=1e-12)
    _assert_same_optimum(X, y, a.w, b.w, [a.gap, b.gap], l2=0.05)


def test_factor_scaling_is_not_rescaled():
    """regulab uses the factors as given: doubling them equals doubling lam."""
    _, X, y = _data(0)
    v = np.linspace(0.5, 1.5, X.shape[1])
    a = solve(X, y, l1=0.2, penalty_factor=2 * v, tol=1e-12)
    b = solve(X, y, l1=0.4, penalty_factor=v, tol=1e-12)
    _assert_same_optimum(X, y, a.w, b.w, [a.gap, b.gap])


# ---------------------------------------------------------------------------------------------
# adaptive lasso
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(3))
def test_adaptive_lasso_weights_and_fit(seed):
    _, X, y = _data(seed, n=200)
    w_ols = np.linalg.lstsq(np.column_stack([np.ones(len(y)), X]), y, rcond=None)[0][1:]
    np.testing.assert_allclose(adaptive_weights(X, y, init="ols", gamma=2.0),
                               1 / np.abs(w_ols) ** 2, rtol=1e-6)
    fit = adaptive_lasso(X, y, n_lams=30)
    v = fit.penalty_factor
    assert np.all(v > 0)
    # the CV fit solves the weighted problem at its lam, to the default tol 1e-6 (the gap of the
    # documented formula over the null model's loss)
    gap = duality_gap_box(X, y, fit.fit.coef, fit.fit.intercept, fit.fit.lam, 0.0, v)
    assert gap / np.var(y) <= 1e-6
    assert fit.fit.n_kept >= 1


# ---------------------------------------------------------------------------------------------
# refusals, in one line
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, text", [
    (dict(penalty_factor=[1, -1, 1]), "penalty_factor must be >= 0"),
    (dict(penalty_factor=[1, 1]), "one factor per feature"),
    (dict(lower=0.5), "excludes 0 for the penalized"),
    (dict(upper=[1, -0.1, 1]), "excludes 0 for the penalized"),
    (dict(lower=[0, 0, 2], upper=[1, 1, 1]), "must be <= upper"),
])
def test_bad_factors_and_bounds_are_refused(kw, text):
    X = np.random.default_rng(0).standard_normal((10, 3))
    with pytest.raises(InvalidValue, match=text) as exc:
        solve(X, X[:, 0], l1=0.1, **kw)
    assert "\n" not in str(exc.value)


def test_unpenalized_feature_may_be_bounded_away_from_zero():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = X @ np.array([0.2, 1.0, -1.0]) + 0.1 * rng.standard_normal(50)
    res = solve(X, y, l1=0.01, penalty_factor=[0, 1, 1], lower=[0.5, -np.inf, -np.inf],
                tol=1e-10)
    assert res.converged and res.criterion == "kkt" and res.w[0] == pytest.approx(0.5)


# ---------------------------------------------------------------------------------------------
# estimators
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(3))
def test_estimators_take_factors_bounds_and_adaptive(seed):
    from regulab.estimators import (
        RegulabClassifier,
        RegulabRegressor,
        RegulabRegressorCV,
    )

    rng, X, y = _data(seed)
    p = X.shape[1]
    m = RegulabRegressor(lam=0.1, positive=True, tol=1e-12).fit(X, y)
    ref = solve(X, y, l1=0.1, lower=0.0, tol=1e-12)
    _assert_same_optimum(X, y, m.coef_, ref.w, [m.dual_gap_, ref.gap])
    assert m.coef_.min() >= 0.0
    v = np.ones(p)
    v[[0, 7]] = 0.0
    cv = RegulabRegressorCV(penalty_factor=v, n_lams=20, rule="1se").fit(X, y)
    assert cv.coef_[0] != 0.0 and cv.coef_[7] != 0.0
    assert duality_gap_box(X, y, cv.coef_, cv.intercept_, cv.lam_, 0.0, v) / np.var(y) <= 1e-6
    ad = RegulabRegressor(lam=0.05, adaptive="ols", tol=1e-10).fit(X, y)
    w_ols = np.linalg.lstsq(np.column_stack([np.ones(len(y)), X]), y, rcond=None)[0][1:]
    np.testing.assert_allclose(ad.penalty_factor_, 1 / np.abs(w_ols), rtol=1e-6)
    _, Xc, yc = _data(seed, logistic=True)
    clf = RegulabClassifier(lam=0.02, upper_bounds=0.5, penalty_factor=v, tol=1e-10).fit(Xc, yc)
    assert clf.coef_.max() <= 0.5 and clf.converged_.all()
    assert _kkt(Xc, yc, clf.coef_[0], clf.intercept_[0], 0.02, 0.0, v, np.full(p, -np.inf),
                np.full(p, 0.5), logistic=True) < 1e-8


def test_estimator_refusals_name_the_parameter_and_feature():
    pd = pytest.importorskip("pandas")
    from regulab.estimators import RegulabRegressor

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((20, 3)), columns=["age", "sex", "bmi"])
    y = rng.standard_normal(20)
    name = "RegulabRegressor: "
    with pytest.raises(InvalidValue, match=name + r"penalty_factor must be >= 0 .*'sex'"):
        RegulabRegressor(penalty_factor=[1, -2, 1]).fit(X, y)
    with pytest.raises(InvalidValue, match=name + r"lower_bounds = 1.0 excludes 0 .*'bmi'"):
        RegulabRegressor(lower_bounds=[0, 0, 1]).fit(X, y)
    with pytest.raises(InvalidValue, match="RegulabRegressor: adaptive must be one of"):
        RegulabRegressor(adaptive="lasso").fit(X, y)


# ---------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def table(tmp_path):
    """A small table with a categorical column (three levels: two indicators)."""
    rng = np.random.default_rng(4)
    n = 80
    region = rng.choice(["north", "south", "west"], n)
    age = rng.uniform(20, 70, n)
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
    y = 0.05 * age + 2.0 * x1 + (region == "west") * 1.5 + rng.standard_normal(n)
    lines = ["age,region,x1,x2,y"] + [f"{a:.3f},{r},{u:.4f},{v:.4f},{t:.4f}"
                                      for a, r, u, v, t in zip(age, region, x1, x2, y)]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_unpenalized_categorical_and_nonnegative(table, capsys):
    import json

    code, out, err = _run_cli(["fit", str(table), "--target", "y", "--unpenalized",
                               "region,x2", "--nonnegative", "--lam", "50", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    feats = {f["name"]: f for f in doc["features"]}
    unpen = [n for n in feats if n.startswith("region=")] + ["x2"]
    assert len(unpen) == 3 and sorted(doc["per_feature_penalty"]["unpenalized"]) == sorted(unpen)
    for name, f in feats.items():
        assert f["coef_standardized"] >= 0.0
        assert f["penalty_factor"] == (0.0 if name in unpen else 1.0)
    # lam = 50 is far above lam_max (|grad| <= 2 sd(y) on standardized features): the penalized
    # coefficients are 0
    assert feats["age"]["coef_standardized"] == 0.0 and feats["x1"]["coef_standardized"] == 0.0
    code, out, _ = _run_cli(["fit", str(table), "--target", "y", "--unpenalized", "region",
                             "--lam", "0.01"], capsys)
    assert code == 0 and "(unpenalized)" in out


def test_cli_penalty_factor_file(table, tmp_path, capsys):
    import json

    f = tmp_path / "pf.csv"
    f.write_text("feature,factor\nage,0\nx1,2.5\nregion,0.5\n")
    code, out, err = _run_cli(["fit", str(table), "--target", "y", "--penalty-factor", str(f),
                               "--json", "--n-lams", "15"], capsys)
    assert code == 0, err
    feats = {g["name"]: g for g in json.loads(out)["features"]}
    assert feats["age"]["penalty_factor"] == 0.0 and feats["x1"]["penalty_factor"] == 2.5
    regions = [g for n, g in feats.items() if n.startswith("region=")]
    assert len(regions) == 2 and all(g["penalty_factor"] == 0.5 for g in regions)
    assert feats["x2"]["penalty_factor"] == 1
    assert feats["age"]["kept"]


@pytest.mark.parametrize("content, text", [
    ("feature,factor\nage,-1\n", "must be >= 0"),
    ("feature,factor\nweight,1\n", "unknown feature 'weight'"),
    ("feature,factor\nage,abc\n", "must be a number"),
    ("feature,factor\nage,1,2\n", "expected 2 fields"),
    ("name,value\nage,1\n", "the first line must be the header"),
    ("feature,factor,lower\nx1,1,0.5\n", "excludes 0 for the penalized 'x1'"),
])
def test_cli_bad_factor_file_one_line(table, tmp_path, capsys, content, text):
    f = tmp_path / "pf.csv"
    f.write_text(content)
    code, _, err = _run_cli(["fit", str(table), "--target", "y", "--penalty-factor", str(f)],
                            capsys)
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert code == 2 and len(lines) == 1 and text in lines[0], err
    assert "Traceback" not in err


def test_cli_unknown_unpenalized_one_line(table, capsys):
    code, _, err = _run_cli(["fit", str(table), "--target", "y", "--unpenalized", "agee"],
                            capsys)
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert code == 2 and len(lines) == 1 and "unknown feature 'agee'" in lines[0]


def test_cli_adaptive(table, capsys):
    import json

    code, out, err = _run_cli(["fit", str(table), "--target", "y", "--adaptive", "--json",
                               "--n-lams", "15"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    factors = [f["penalty_factor"] for f in doc["features"]]
    assert all(f is None or f > 0 for f in factors) and len(set(factors)) > 1


def test_cli_path_and_compare_take_the_options(table, capsys):
    import json

    code, out, err = _run_cli(["path", str(table), "--target", "y", "--nonnegative",
                               "--unpenalized", "x1", "--n-lams", "10", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["per_feature_penalty"]["unpenalized"] == ["x1"]
    assert min(min(c) for c in doc["coefs"].values()) >= 0.0
    # x1 (true effect 2 sd(x1)) is fitted at every lam, the top one included; nothing else there
    assert all(c > 0.0 for c in doc["coefs"]["x1"])
    assert all(c[0] == 0.0 for n, c in doc["coefs"].items() if n != "x1")
    code, out, err = _run_cli(["compare", str(table), "--target", "y", "--unpenalized", "x2",
                               "--n-boot", "2", "--n-lams", "8", "--cv", "3", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    for m in doc["methods"].values():
        assert "x2" in m["kept"]
