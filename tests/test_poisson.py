"""The Poisson family (log link, offset) against glum, scikit-learn and the maths.

Oracles: the objective ``sum_i s_i (exp(eta_i) - y_i eta_i) + l1 ||w||_1 + l2 ||w||_2**2``
(``eta = X w + b + offset``) and its KKT conditions are written out here and evaluated at each
answer; glum's ``GeneralizedLinearRegressor(family='poisson')`` (mean deviance / 2 +
``alpha r ||w||_1 + alpha (1 - r) / 2 ||w||_2**2``: ``l1 = alpha r``, ``l2 = alpha (1 - r) / 2``)
and scikit-learn's ``PoissonRegressor(alpha)`` (``l2 = alpha / 2``) solve the same problems.
"""

import numpy as np
import pytest
from sklearn.linear_model import PoissonRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from regulab.estimators import RegulabPoissonRegressor, RegulabPoissonRegressorCV
from regulab.selection.cv import cross_validate_path
from regulab.selection.path import lam_max, regularization_path
from regulab.solvers.exact import solve

from cli_runner import run_cli

glum = pytest.importorskip("glum", reason="glum (the Poisson oracle) is not installed")

SEEDS = range(5)


def _counts(seed, n=200, p=15, exposure=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    k = rng.integers(2, min(p, 5) + 1)
    w[:k] = rng.uniform(-0.5, 0.5, k)
    o = np.log(rng.uniform(0.2, 3.0, n)) if exposure else np.zeros(n)
    y = rng.poisson(np.exp(rng.uniform(-0.5, 1.0) + X @ w + o)).astype(float)
    return X, y, o


def objective(X, y, o, w, b, l1, l2, s=None):
    s = np.full(len(y), 1.0 / len(y)) if s is None else s / s.sum()
    eta = X @ w + b + o
    return float(s @ (np.exp(eta) - y * eta)) + l1 * np.abs(w).sum() + l2 * w @ w


def kkt(X, y, o, w, b, l1, l2, fit_intercept=True):
    """Largest violation of the optimality conditions, relative to the null model's gradient."""
    n = len(y)
    mu = np.exp(X @ w + b + o)
    g = X.T @ (mu - y) / n + 2 * l2 * w
    viol = np.where(w == 0, np.maximum(np.abs(g) - l1, 0), np.abs(g + l1 * np.sign(w)))
    v = viol.max()
    if fit_intercept:
        v = max(v, abs(np.mean(mu - y)))
        b0 = np.log(y.mean() / np.mean(np.exp(o)))
    else:
        b0 = 0.0
    scale = np.abs(X.T @ (np.exp(b0 + o) - y) / n).max()
    return v / scale


def _glum(X, y, o, l1, l2, fit_intercept=True):
    alpha = l1 + 2 * l2
    m = glum.GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=l1 / alpha,
                                        fit_intercept=fit_intercept, gradient_tol=1e-12,
                                        max_iter=1000)
    m.fit(X, y, offset=o)
    return m.coef_, m.intercept_


@pytest.mark.parametrize("seed", SEEDS)
def test_loss_value_gradient_and_null_intercept(seed):
    from scipy.optimize import approx_fprime
    from scipy.stats import poisson

    from regulab.core.losses import PoissonLoss

    X, y, o = _counts(seed, n=50, p=4)
    s = np.random.default_rng(seed).uniform(0.5, 2, len(y))
    loss = PoissonLoss(offset=o)
    w, b = np.random.default_rng(seed + 10).normal(0, 0.3, 4), 0.2
    # the negative log-likelihood, less the constant sum s log(y!)
    nll = -np.sum(s * poisson.logpmf(y, np.exp(X @ w + b + o))) / s.sum()
    const = np.sum(s * np.array([np.sum(np.log(np.arange(1, k + 1))) for k in y])) / s.sum()
    assert loss.value(X, y, w, b, s) == pytest.approx(nll - const, rel=1e-12)
    gw, gb = loss.gradient(X, y, w, b, s)
    num = approx_fprime(np.append(w, b), lambda v: loss.value(X, y, v[:-1], v[-1], s), 1e-7)
    np.testing.assert_allclose(np.append(gw, gb), num, rtol=1e-5, atol=1e-7)
    b0 = loss.null_intercept(y, s)
    assert loss.gradient(X, y, np.zeros(4), b0, s)[1] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="no global Lipschitz"):
        loss.lipschitz(X)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("rho", [1.0, 0.5, 0.0])
def test_matches_glum_with_offset(seed, rho):
    X, y, o = _counts(seed)
    lam = lam_max(X, y, loss="poisson", l1_ratio=max(rho, 0.3), offset=o) * 0.1
    l1, l2 = lam * rho, lam * (1 - rho)
    res = solve(X, y, loss="poisson", l1=l1, l2=l2, offset=o, tol=1e-10)
    gw, gb = _glum(X, y, o, l1, l2)
    assert res.converged and res.criterion == "kkt"
    ours = objective(X, y, o, res.w, res.intercept, l1, l2)
    assert ours <= objective(X, y, o, gw, gb, l1, l2) + 1e-12
    assert abs(ours - res.objective) <= 1e-12 * max(1.0, abs(ours))
    assert kkt(X, y, o, res.w, res.intercept, l1, l2) <= 1e-8
    np.testing.assert_allclose(res.w, gw, atol=1e-6)
    assert abs(res.intercept - gb) <= 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_no_intercept_matches_glum(seed):
    X, y, o = _counts(seed, exposure=False)
    l1 = lam_max(X, y, loss="poisson", fit_intercept=False) * 0.2
    res = solve(X, y, loss="poisson", l1=l1, fit_intercept=False, tol=1e-10)
    gw, _ = _glum(X, y, o, l1, 0.0, fit_intercept=False)
    assert res.intercept == 0.0
    assert objective(X, y, o, res.w, 0.0, l1, 0) <= objective(X, y, o, gw, 0.0, l1, 0) + 1e-12
    assert kkt(X, y, o, res.w, 0.0, l1, 0.0, fit_intercept=False) <= 1e-8


@pytest.mark.parametrize("seed", SEEDS)
def test_ridge_matches_sklearn_poisson_regressor(seed):
    X, y, o = _counts(seed, exposure=False)
    alpha = 10.0 ** np.random.default_rng(seed).uniform(-3, -1)
    sk = PoissonRegressor(alpha=alpha, tol=1e-12, max_iter=10_000, solver="newton-cholesky")
    sk.fit(X, y)
    est = RegulabPoissonRegressor(penalty="l2", lam=alpha / 2, tol=1e-10).fit(X, y)
    l2 = alpha / 2
    assert objective(X, y, o, est.coef_, est.intercept_, 0, l2) <= objective(
        X, y, o, sk.coef_, sk.intercept_, 0, l2) + 1e-12
    np.testing.assert_allclose(est.coef_, sk.coef_, atol=1e-6)
    np.testing.assert_allclose(est.predict(X), sk.predict(X), rtol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_lam_max_zeroes_exactly_the_null(seed):
    X, y, o = _counts(seed)
    top = lam_max(X, y, loss="poisson", offset=o)
    above = solve(X, y, loss="poisson", l1=top * 1.001, offset=o, tol=1e-10)
    below = solve(X, y, loss="poisson", l1=top * 0.98, offset=o, tol=1e-10)
    assert not above.w.any()
    assert above.intercept == pytest.approx(np.log(y.mean() / np.exp(o).mean()), abs=1e-12)
    assert below.w.any()


@pytest.mark.parametrize("seed", range(3))
def test_path_each_point_certified_and_glum_on_the_path(seed):
    X, y, o = _counts(seed)
    path = regularization_path(X, y, loss="poisson", l1_ratio=1.0, n_lams=20, offset=o,
                               tol=1e-9)
    assert path.criterion == "kkt" and path.converged.all()
    assert path.nnz[0] == 0 and path.nnz[-1] > 0
    for k in (5, 12, 19):
        l1 = float(path.lams[k])
        w, b = path.coefs[:, k], path.intercepts[k]
        assert kkt(X, y, o, w, b, l1, 0.0) <= 1e-7
        gw, gb = _glum(X, y, o, l1, 0.0)
        assert objective(X, y, o, w, b, l1, 0) <= objective(X, y, o, gw, gb, l1, 0) + 1e-11


def test_cv_held_out_deviance_by_hand():
    X, y, o = _counts(0)
    folds = [(np.arange(100, 200), np.arange(100)), (np.arange(100), np.arange(100, 200))]
    res = cross_validate_path(X, y, loss="poisson", n_lams=8, cv=folds, offset=o, tol=1e-9)
    assert res.scoring == "deviance"
    for f, (tr, te) in enumerate(folds):
        for k in (0, 4, 7):
            r = solve(X[tr], y[tr], loss="poisson", l1=res.lams[k], offset=o[tr], tol=1e-9)
            mu = np.exp(X[te] @ r.w + r.intercept + o[te])
            yt = y[te]
            ylog = np.where(yt > 0, yt * np.log(np.where(yt > 0, yt, 1) / mu), 0)
            assert res.fold_errors[f, k] == pytest.approx(np.mean(2 * (ylog - yt + mu)),
                                                          rel=1e-6)
    assert res.lam_1se >= res.lam_min


@pytest.mark.parametrize("seed", range(3))
def test_cv_estimator_refit_and_offset_matters(seed):
    X, y, o = _counts(seed)
    est = RegulabPoissonRegressorCV(n_lams=15, cv=3, rule="1se", tol=1e-9).fit(X, y, offset=o)
    plain = RegulabPoissonRegressor(lam=est.lam_, tol=1e-9).fit(X, y, offset=o)
    np.testing.assert_allclose(est.coef_, plain.coef_, atol=1e-8)
    assert est.lam_ == est.path_.lam_1se
    no_offset = RegulabPoissonRegressor(lam=est.lam_, tol=1e-9).fit(X, y)
    assert np.abs(no_offset.coef_ - plain.coef_).max() > 1e-6
    mu = plain.predict(X, offset=o)
    np.testing.assert_allclose(mu, np.exp(X @ plain.coef_ + plain.intercept_ + o))


def test_weights_equal_repeated_rows():
    X, y, o = _counts(1, n=60)
    rep = np.random.default_rng(1).integers(0, 3, len(y))
    a = solve(X, y, loss="poisson", l1=0.01, sample_weight=rep, offset=o, tol=1e-11)
    idx = np.repeat(np.arange(len(y)), rep)
    b = solve(X[idx], y[idx], loss="poisson", l1=0.01, offset=o[idx], tol=1e-11)
    np.testing.assert_allclose(a.w, b.w, atol=1e-8)


def test_bad_inputs_are_refused():
    X, y, o = _counts(0, n=30)
    with pytest.raises(ValueError, match="target >= 0"):
        solve(X, -y, loss="poisson", l1=0.1)
    with pytest.raises(ValueError, match="positive count"):
        solve(X, 0 * y, loss="poisson", l1=0.1)
    with pytest.raises(ValueError, match="poisson loss only"):
        solve(X, y, loss="squared", l1=0.1, offset=o)
    with pytest.raises(ValueError, match="offset has 29 entries"):
        solve(X, y, loss="poisson", l1=0.1, offset=o[:-1])


@parametrize_with_checks([RegulabPoissonRegressor(lam=0.01, max_iter=1000),
                          RegulabPoissonRegressorCV(n_lams=5, cv=3, max_iter=1000)],
                         expected_failed_checks=lambda e: {
                             "check_sample_weight_equivalence_on_dense_data":
                                 "explicit cv splits index rows that zero-weight removal dropped",
                             "check_sample_weight_equivalence_on_sparse_data":
                                 "explicit cv splits index rows that zero-weight removal dropped",
                         } if isinstance(e, RegulabPoissonRegressorCV) else {})
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- the command line: --family, --exposure, --offset ------------------------------------------


def _visits_csv(tmp_path, seed, **edits):
    import pandas as pd

    X, y, o = _counts(seed, n=150, p=4)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["years"] = np.exp(o)
    df["visits"] = y.astype(int)
    for col, (row, value) in edits.items():
        df.loc[row, col] = value
    path = tmp_path / "visits.csv"
    df.to_csv(path, index=False)
    return path, df


@pytest.mark.parametrize("seed", range(3))
def test_cli_auto_picks_poisson_prints_why_and_solves_the_objective(tmp_path, capsys, seed):
    import json

    path, df = _visits_csv(tmp_path, seed)
    code, out, err = run_cli(["fit", str(path), "--target", "visits", "--exposure", "years",
                              "--lam", "0.02"], capsys)
    assert code == 0, err
    assert "family: poisson (" in out and "offset = log('years')" in out
    code, out, err = run_cli(["fit", str(path), "--target", "visits", "--exposure", "years",
                              "--lam", "0.02", "--json"], capsys)
    doc = json.loads(out)
    assert doc["family"]["family"] == "poisson" and doc["scoring"] == "mean Poisson deviance"
    # the answer is optimal for the objective written out here, on the standardized features
    X = df[["a", "b", "c", "d"]].to_numpy(float)
    X = (X - X.mean(0)) / X.std(0)
    w = np.array([f["coef_standardized"] for f in doc["features"]])
    b = doc["intercept_standardized"]
    y, o = df["visits"].to_numpy(float), np.log(df["years"].to_numpy())
    assert kkt(X, y, o, w, b, 0.02, 0.0) <= 1e-5
    # without the exposure column the auto rule sees whole numbers >= 0 with a 0: counts
    code, out, err = run_cli(["fit", str(path), "--target", "visits", "--exclude", "years",
                              "--lam", "0.02"], capsys)
    assert code == 0 and "family: poisson (target 'visits': count (whole numbers >= 0" in out
    code, out, err = run_cli(["fit", str(path), "--target", "visits", "--family", "gaussian",
                              "--lam", "0.02"], capsys)
    assert code == 0 and "family: gaussian" in out and "mean squared error" in out


def test_cli_offset_column_equals_log_exposure(tmp_path, capsys):
    import json

    path, df = _visits_csv(tmp_path, 4)
    df["log_years"] = np.log(df["years"])
    df.to_csv(path, index=False)
    docs = []
    for flag, col, drop in (("--exposure", "years", "log_years"),
                            ("--offset", "log_years", "years")):
        code, out, err = run_cli(["path", str(path), "--target", "visits", flag, col,
                                  "--exclude", drop, "--n-lams", "10", "--json"], capsys)
        assert code == 0, err
        docs.append(json.loads(out))
    np.testing.assert_allclose(docs[0]["coefs"]["a"], docs[1]["coefs"]["a"], atol=1e-10)
    assert docs[0]["family"]["family"] == docs[1]["family"]["family"] == "poisson"


@pytest.mark.parametrize("args, edits, words", [
    (["--exposure", "years"], {"years": (3, 0.0)}, ["exposure column 'years'", "> 0",
                                                    "1 of the 150 rows", "data row 4"]),
    (["--exposure", "years"], {"years": (7, -2.0)}, ["1 of the 150 rows", "<= 0"]),
    (["--family", "poisson"], {"visits": (0, -1)}, ["poisson", ">= 0", "1 row below 0"]),
    (["--family", "binomial"], {}, ["binomial", "2 distinct values"]),
    (["--family", "multinomial", "--target", "group", "--exposure", "years"], {},
     ["--exposure", "poisson only, not by multinomial"]),
    (["--family", "multinomial"], {}, ["of the target has only", "fewer than the 5 CV folds"]),
    (["--exposure", "years", "--offset", "a"], {}, ["not both"]),
    (["--family", "poisson", "--task", "regression"], {}, ["disagree"]),
    (["--family", "gaussian", "--exposure", "years"], {}, ["--exposure", "poisson only"]),
    (["--family", "gamma"], {}, ["--family", "'poisson'"]),
    (["--exposure", "nope"], {}, ["no column 'nope'"]),
    (["--exposure", "years", "--grouped"], {}, ["poisson family takes no --grouped"]),
    (["--family", "poisson", "--unpenalized", "a", "--nonnegative"], {},
     ["poisson family takes no --unpenalized, --nonnegative"]),
    (["--exposure", "years", "--adaptive"], {}, ["poisson family takes no --adaptive"]),
])
def test_cli_refuses_in_one_line(tmp_path, capsys, args, edits, words):
    path, df = _visits_csv(tmp_path, 0, **edits)
    if "group" in args:
        df["group"] = np.array(["x", "y", "z"])[np.arange(len(df)) % 3]
        df.to_csv(path, index=False)
    base = ["fit", str(path)] + ([] if "--target" in args else ["--target", "visits"])
    code, out, err = run_cli(base + args, capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err


def test_cli_family_multinomial_fits_a_three_label_target(tmp_path, capsys):
    path, df = _visits_csv(tmp_path, 1)
    df["group"] = np.array(["x", "y", "z"])[np.arange(len(df)) % 3]
    df.to_csv(path, index=False)
    code, out, err = run_cli(["fit", str(path), "--target", "group", "--family", "multinomial",
                              "--exclude", "visits", "--n-lams", "8"], capsys)
    assert code == 0, err
    assert "family: multinomial" in out and "3 classes: x, y, z" in out


def test_cli_poisson_takes_rates_and_saves_a_model(tmp_path, capsys):
    import json

    path, df = _visits_csv(tmp_path, 2)
    df["rate"] = df["visits"] / df["years"]
    df.to_csv(path, index=False)
    code, out, err = run_cli(["fit", str(path), "--target", "rate", "--family", "poisson",
                              "--exclude", "visits,years", "--lam", "0.01"], capsys)
    assert code == 0, err
    assert "not all whole: fitted as rates" in out
    model = tmp_path / "m.json"
    code, out, err = run_cli(["fit", str(path), "--target", "visits", "--exclude", "rate",
                              "--exposure", "years", "--lam", "0.01", "--save", str(model)],
                             capsys)
    assert code == 0, err
    code, out, err = run_cli(["predict", str(model), str(path), "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    saved = json.loads(model.read_text())
    X = df[["a", "b", "c", "d"]].to_numpy(float)
    rate = np.exp(X @ np.array(saved["coef"]) + saved["intercept"])
    np.testing.assert_allclose([r["prediction"] for r in doc["predictions"]], rate, rtol=1e-10)
