"""``regulab compare --adaptive``: the adaptive lasso's row (regression and binary targets)
equals the library's adaptive fit (:func:`regulab.selection.adaptive.adaptive_lasso`) on the
same folds, its calibration slope recomputed here from the fold models; combinations it cannot
honour are refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from cli_runner import run_cli


def _csv(tmp_path, seed, kind):
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(120, 220)), int(rng.integers(5, 10))
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + rng.normal(0, 1, p)
    w = np.zeros(p)
    w[rng.choice(p, 3, replace=False)] = rng.normal(0, 1, 3)
    z = (X - X.mean(0)) / X.std(0) @ w
    if kind == "binary":
        y = np.where(rng.uniform(size=n) < expit(z), "yes", "no")
    elif kind == "count":
        y = rng.poisson(np.exp(0.3 * z))
        y[0] = 0
    else:
        y = z * rng.uniform(0.5, 20) + rng.standard_normal(n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = y
    path = tmp_path / f"{kind}{seed}.csv"
    df.to_csv(path, index=False)
    return path, df


def _oof_slope(X, y, fit, loss, folds, seed):
    """Calibration slope from the fold models' out-of-fold predictions, fitted here (least
    squares, or logistic regression by Newton's method)."""
    from regulab.selection.cv import make_folds

    cv, k = fit.cv, fit.index
    splits, _ = make_folds(folds, len(y), 1, seed, loss, y)
    z = np.empty(len(y))
    for f, (_, test) in enumerate(splits):
        z[test] = X[test] @ cv.fold_coefs[f][:, k] + cv.fold_intercepts[f, k]
    A = np.column_stack([np.ones(len(y)), z])
    if loss == "squared":
        return np.linalg.lstsq(A, y, rcond=None)[0][1]
    c = np.zeros(2)
    for _ in range(100):
        mu = expit(A @ c)
        step = np.linalg.solve((A * (mu * (1 - mu))[:, None]).T @ A, A.T @ (mu - y))
        c -= step
        if np.abs(step).max() < 1e-13:
            break
    return c[1]


@pytest.mark.parametrize("seed", range(4))
def test_adaptive_row_equals_the_library_on_the_same_folds(tmp_path, capsys, seed):
    from regulab.data.prepare import prepare
    from regulab.selection.adaptive import adaptive_lasso

    kind = ("regression", "binary")[seed % 2]
    rule = ("min", "1se")[(seed // 2) % 2]
    path, df = _csv(tmp_path, seed, kind)
    folds = 5  # the adaptive factors' ridge fit takes 5 folds, as in `fit --adaptive`
    code, out, err = run_cli(["compare", path, "--target", "y", "--n-lams", 12, "--cv", folds,
                              "--n-boot", 3, "--rule", rule, "--seed", seed, "--adaptive",
                              "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    a = doc["adaptive"]
    prep = prepare(df, "y")
    loss = "squared" if kind == "regression" else "logistic"
    ref = adaptive_lasso(prep.X, prep.y, loss=loss, rule=rule, n_lams=12, cv=folds, seed=seed)
    fit = ref.fit
    v = [np.inf if f is None else f for f in a["penalty_factors"].values()]
    np.testing.assert_allclose(v, ref.penalty_factor, rtol=1e-12)
    assert a["lam"] == pytest.approx(fit.lam, rel=1e-12) and a["rule"] == rule
    assert a["lam_min"] == pytest.approx(fit.cv.lam_min, rel=1e-12)
    assert a["lam_1se"] == pytest.approx(fit.cv.lam_1se, rel=1e-12)
    assert a["cv_error"] == pytest.approx(fit.cv.mean_error[fit.index], rel=1e-9)
    assert a["cv_se"] == pytest.approx(fit.cv.se_error[fit.index], rel=1e-9)
    assert a["n_kept"] == int(np.count_nonzero(fit.coef))
    np.testing.assert_allclose(list(a["coef_standardized"].values()), fit.coef, rtol=1e-9,
                               atol=1e-12)
    slope = _oof_slope(prep.X, prep.y, fit, loss, folds, seed)
    assert a["calibration_slope"] == pytest.approx(slope, rel=1e-6)
    assert a["stability"] is None or 0 <= a["stability"] <= 1
    # the other rows are unchanged by the flag, and the printed table has the row
    code, out, _ = run_cli(["compare", path, "--target", "y", "--n-lams", 12, "--cv", folds,
                            "--n-boot", 3, "--rule", rule, "--seed", seed, "--adaptive"], capsys)
    row = next(ln for ln in out.splitlines() if "adaptive L1" in ln and "│" in ln)
    assert f"{a['n_kept']} of {a['n_features']}" in row


@pytest.mark.parametrize("kind,extra,words", [
    ("regression", ["--grouped"], ["--grouped", "--adaptive"]),
    ("count", ["--family", "poisson"], ["poisson", "--adaptive"]),
    ("regression", ["--stream"], ["--stream", "--adaptive"]),
])
def test_adaptive_refusals_in_one_line(tmp_path, capsys, kind, extra, words):
    path, _ = _csv(tmp_path, 0, kind)
    code, out, err = run_cli(["compare", path, "--target", "y", "--n-lams", 5, "--cv", 3,
                              "--adaptive"] + extra, capsys)
    assert code == 2 and out == "", err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for w in words:
        assert w in err
