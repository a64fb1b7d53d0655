"""Relaxed lasso (selection/relaxed.py): gamma = 1 is the lasso (scikit-learn's Lasso as the
oracle), gamma = 0 is least squares on the support (numpy lstsq), CV picks from the grid."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from regulab.selection.relaxed import GAMMAS, cv_relaxed, relaxed_path

SEEDS = range(4)


def _problem(seed, binary=False):
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(60, 160)), int(rng.integers(5, 30))
    if binary:  # enough rows per feature that the unpenalized maximum likelihood exists
        n, p = int(rng.integers(300, 500)), int(rng.integers(5, 10))
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2, p) + rng.normal(0, 1, p)
    beta = np.zeros(p)
    beta[rng.choice(p, 3, replace=False)] = rng.normal(0, 2, 3)
    z = X @ beta + rng.normal()
    y = (rng.uniform(size=n) < expit(z)).astype(float) if binary else z + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("seed", SEEDS)
def test_gamma_one_is_the_lasso(seed):
    from sklearn.linear_model import Lasso

    X, y = _problem(seed)
    rp = relaxed_path(X, y, n_lams=12, tol=1e-12)
    coefs, b = rp.blend(1.0)
    n = len(y)
    for k in (2, 6, 11):
        lam = rp.lams[k]
        sk = Lasso(alpha=lam / 2, tol=1e-14, max_iter=200_000).fit(X, y)  # ours / 2
        ours = np.mean((y - X @ coefs[:, k] - b[k]) ** 2) + lam * np.abs(coefs[:, k]).sum()
        peer = np.mean((y - X @ sk.coef_ - sk.intercept_) ** 2) + lam * np.abs(sk.coef_).sum()
        assert ours <= peer + 1e-12 * peer
        np.testing.assert_allclose(coefs[:, k], sk.coef_, atol=1e-6)
    del n


@pytest.mark.parametrize("seed", SEEDS)
def test_gamma_zero_is_least_squares_on_the_support(seed):
    X, y = _problem(seed)
    rp = relaxed_path(X, y, n_lams=12, tol=1e-12)
    coefs, b = rp.blend(0.0)
    for k in range(1, 12):
        S = np.flatnonzero(rp.lasso[:, k])
        A = np.column_stack([np.ones(len(y)), X[:, S]])
        sol = np.linalg.lstsq(A, y, rcond=None)[0]
        assert np.all(coefs[np.setdiff1d(np.arange(X.shape[1]), S), k] == 0)
        np.testing.assert_allclose(coefs[S, k], sol[1:], rtol=1e-7, atol=1e-9)
        assert b[k] == pytest.approx(sol[0], rel=1e-7, abs=1e-9)
        # the blend is the straight line between the two
        c5, b5 = rp.blend(0.5)
        np.testing.assert_allclose(c5[:, k], 0.5 * (rp.lasso[:, k] + rp.relaxed[:, k]))


@pytest.mark.parametrize("seed", SEEDS)
def test_gamma_zero_logistic_is_the_unpenalized_fit_on_the_support(seed):
    from sklearn.linear_model import LogisticRegression

    X, y = _problem(seed, binary=True)
    rp = relaxed_path(X, y, loss="logistic", n_lams=8, tol=1e-10)
    k = 3
    S = np.flatnonzero(rp.lasso[:, k])
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100_000).fit(X[:, S], y)

    def loss(w, b):
        return np.mean(np.logaddexp(0, -(2 * y - 1) * (X[:, S] @ w + b)))

    assert loss(rp.relaxed[S, k], rp.relaxed_intercepts[k]) <= loss(sk.coef_[0], sk.intercept_[0]) \
        + 1e-9


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("rule", ["min", "1se"])
def test_cv_picks_from_the_grid(seed, rule):
    X, y = _problem(seed)
    res = cv_relaxed(X, y, n_lams=15, cv=4, seed=seed, rule=rule)
    assert res.gamma in GAMMAS and res.lam in res.lams
    assert res.mean_error.shape == (len(GAMMAS), 15)
    best = res.mean_error.min()
    if rule == "min":
        assert res.cv_error == best
    else:
        a, k = np.unravel_index(np.argmin(res.mean_error), res.mean_error.shape)
        assert res.cv_error <= best + res.se_error[a, k]
        assert res.lam >= res.lams[k]
    coefs, b = res.path.blend(res.gamma)
    np.testing.assert_array_equal(res.coef, coefs[:, res.index[1]])
    assert np.all(np.isfinite(res.oof))


def test_compare_lists_relaxed(capsys):
    import json

    from regulab.cli import main

    args = ["compare", "diabetes", "--n-lams", "15", "--cv", "3", "--n-boot", "3"]
    with pytest.raises(SystemExit) as exc:
        main(args + ["--json"])
    doc = json.loads(capsys.readouterr().out)
    assert exc.value.code == 0
    r = doc["relaxed"]
    assert r["gamma"] in GAMMAS and r["lam"] == pytest.approx(r["lam"])
    assert r["calibration_slope"] is not None and 0.2 < r["calibration_slope"] < 3
    # the L1 fit is on the same grid and folds: the relaxed CV error at gamma = 1 is L1's curve
    assert r["n_kept"] == sum(v != 0 for v in r["coef_standardized"].values())
    with pytest.raises(SystemExit):
        main(args)
    out = capsys.readouterr().out
    row = next(ln for ln in out.splitlines() if "relaxed L1" in ln and "│" in ln)
    assert f"{r['n_kept']} of {r['n_features']}" in row


@pytest.mark.parametrize("seed", range(2))
def test_estimator_relax_option(seed):
    from sklearn.base import clone

    from regulab.core.validation import InvalidValue
    from regulab.estimators import RegulabRegressorCV

    X, y = _problem(seed)
    est = RegulabRegressorCV(relax=True, n_lams=12, cv=4, seed=seed).fit(X, y)
    ref = cv_relaxed(X, y, n_lams=12, cv=4, seed=seed)
    assert est.gamma_ == ref.gamma and est.lam_ == ref.lam
    np.testing.assert_allclose(est.coef_, ref.coef)
    np.testing.assert_allclose(est.predict(X), X @ ref.coef + ref.intercept)
    assert clone(est).get_params()["relax"] is True
    with pytest.raises(InvalidValue, match="relax"):
        RegulabRegressorCV(relax=True, penalty="l2").fit(X, y)


# -- the relaxed lasso for the logistic loss (the classifier and the binary compare) ----------

def _newton_logistic(A, y, l2=0.0, iters=100):
    """Minimizer of mean log-loss(y, A c) + l2 * ||c[1:]||^2 (column 0 of A the intercept), by
    Newton's method written here: the oracle of the refit."""
    c = np.zeros(A.shape[1])
    pen = np.r_[0.0, np.full(A.shape[1] - 1, 2.0 * l2)]
    n = len(y)
    for _ in range(iters):
        mu = expit(A @ c)
        g = A.T @ (mu - y) / n + pen * c
        H = (A * (mu * (1 - mu))[:, None]).T @ A / n + np.diag(pen)
        step = np.linalg.solve(H, g)
        c = c - step
        if np.abs(step).max() < 1e-13:
            break
    return c


@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_refit_is_a_stationary_point_of_the_unpenalized_loss(seed):
    X, y = _problem(seed, binary=True)
    rp = relaxed_path(X, y, loss="logistic", n_lams=10, tol=1e-10)
    n = len(y)
    for k in range(1, 10):
        S = np.flatnonzero(rp.lasso[:, k])
        assert rp.refit_l2[k] == 0.0
        w, b = rp.relaxed[S, k], rp.relaxed_intercepts[k]
        r = expit(X[:, S] @ w + b) - y
        grad = np.r_[r.mean(), X[:, S].T @ r / n]  # of the mean log-loss, written here
        assert np.abs(grad).max() <= 1e-6, (k, grad)
        off = np.setdiff1d(np.arange(X.shape[1]), S)
        assert np.all(rp.relaxed[off, k] == 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_separable_refit_is_the_ridge_fit_at_the_smallest_lam(seed):
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(40, 90)), int(rng.integers(3, 8))
    X = rng.standard_normal((n, p))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(float)  # separable on features 0 and 1
    rp = relaxed_path(X, y, loss="logistic", n_lams=8, tol=1e-10)
    k = 7  # the smallest lam: the lasso keeps the separating features
    S = np.flatnonzero(rp.lasso[:, k])
    assert 0 in S
    lam_min = rp.lams.min()
    assert rp.refit_l2[k] == lam_min
    A = np.column_stack([np.ones(n), X[:, S]])
    c = _newton_logistic(A, y, l2=lam_min)
    np.testing.assert_allclose(rp.relaxed[S, k], c[1:], atol=1e-6)
    assert rp.relaxed_intercepts[k] == pytest.approx(c[0], abs=1e-6)
    assert np.all(np.isfinite(rp.relaxed))


@pytest.mark.parametrize("seed", range(3))
def test_classifier_relax_option_blends_lasso_and_refit(seed):
    from sklearn.base import clone

    from regulab.core.validation import InvalidValue
    from regulab.estimators import RegulabClassifierCV
    from regulab.solvers.exact import solve

    X, y = _problem(seed, binary=True)
    labels = np.where(y == 1, "yes", "no")
    est = RegulabClassifierCV(relax=True, n_lams=10, cv=4, seed=seed, tol=1e-10).fit(X, labels)
    ref = cv_relaxed(X, y, loss="logistic", n_lams=10, cv=4, seed=seed, tol=1e-10)
    assert est.gamma_ == ref.gamma in GAMMAS and est.lam_ == ref.lam
    # the mixing formula, from a lasso and a refit computed here
    lasso = solve(X, y, loss="logistic", l1=est.lam_, l2=0.0, tol=1e-12)
    S = np.flatnonzero(lasso.w)
    A = np.column_stack([np.ones(len(y)), X[:, S]])
    c = _newton_logistic(A, y)
    g = est.gamma_
    expect = g * lasso.w
    expect[S] += (1 - g) * c[1:]
    np.testing.assert_allclose(est.coef_[0], expect, atol=1e-5)
    assert est.intercept_[0] == pytest.approx(g * lasso.intercept + (1 - g) * c[0], abs=1e-5)
    p1 = expit(X @ est.coef_[0] + est.intercept_[0])
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], p1)
    assert list(est.classes_) == ["no", "yes"]
    assert clone(est).get_params()["relax"] is True
    with pytest.raises(InvalidValue, match="relax"):
        RegulabClassifierCV(relax=True, penalty="l2", n_lams=5).fit(X, labels)
    three = np.where(X[:, 0] > np.quantile(X[:, 0], 0.7), "maybe", labels)
    with pytest.raises(InvalidValue, match="two classes"):
        RegulabClassifierCV(relax=True, n_lams=5).fit(X, three)
    with pytest.raises(InvalidValue, match="relax"):
        RegulabClassifierCV(relax="yes").fit(X, labels)


@pytest.mark.parametrize("seed", range(2))
def test_binary_compare_relaxed_row_equals_the_library(tmp_path, capsys, seed):
    import json

    import pandas as pd

    from regulab.cli import main
    from regulab.data.prepare import prepare
    from regulab.selection.path import lam_grid

    X, y = _problem(seed, binary=True)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    df["won"] = np.where(y == 1, "yes", "no")
    path = tmp_path / "binary.csv"
    df.to_csv(path, index=False)
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(path), "--target", "won", "--n-lams", "12", "--cv", "3",
              "--n-boot", "3", "--seed", str(seed), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert exc.value.code == 0
    r = doc["relaxed"]
    prep = prepare(df, "won")
    lams = lam_grid(prep.X, prep.y, loss="logistic", l1_ratio=1.0, n_lams=12)
    ref = cv_relaxed(prep.X, prep.y, loss="logistic", lams=lams, cv=3, seed=seed, rule="1se")
    assert r["gamma"] == ref.gamma and r["lam"] == pytest.approx(ref.lam, rel=1e-12)
    assert r["cv_error"] == pytest.approx(ref.cv_error, rel=1e-9)
    assert r["cv_se"] == pytest.approx(ref.cv_se, rel=1e-9)
    assert r["n_kept"] == ref.n_kept
    np.testing.assert_allclose(list(r["coef_standardized"].values()), ref.coef, atol=1e-9)
    # calibration slope: logistic regression of y on the out-of-fold log-odds, fitted here
    c = _newton_logistic(np.column_stack([np.ones(len(prep.y)), ref.oof]), prep.y)
    assert r["calibration_slope"] == pytest.approx(c[1], rel=1e-5)
