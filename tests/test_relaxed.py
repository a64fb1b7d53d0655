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
