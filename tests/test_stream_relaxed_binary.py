"""The relaxed lasso row of ``compare --stream`` for a binary target (logistic refits by passes)
against regulab's in-memory ``cv_relaxed`` on the same hash folds."""

from __future__ import annotations

import numpy as np
import pytest
from test_streaming import TOL, _frame

from regulab.data.prepare import prepare
from regulab.data.streaming import hash_folds


@pytest.mark.parametrize("seed", range(3))
def test_streamed_binary_relaxed_equals_in_memory(tmp_path, seed):
    """The chosen (gamma, lam), its CV error and SE, every (gamma, lam)'s mean error, the
    coefficients and the out-of-fold calibration slope equal the in-memory ``cv_relaxed``
    (logistic refits by its own solver on the rows) to 1e-8."""
    from regulab.commands import compare_stream
    from regulab.commands.common import DataOptions
    from regulab.commands.fitting import grid_for
    from regulab.selection.calibration import logistic_calibration_slope
    from regulab.selection.relaxed import GAMMAS, cv_relaxed

    df = _frame(seed + 70, 1200, 5, binary=True)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=int(np.random.default_rng(seed).integers(300, 700)))
    K, rule = 3 + seed, ["min", "1se", "min"][seed]
    doc = compare_stream.run(f, DataOptions(target="y", seed=seed), folds=K, rule=rule,
                             n_lams=8, batch_rows=311, tol=TOL)
    r = doc["relaxed"]
    assert doc["relaxed_left_out"] is None and r["gammas"] == list(GAMMAS)
    prep = prepare(df, "y")
    X, y = prep.X, prep.y
    lams = grid_for(X, y, "logistic", 1.0, 8)
    folds = hash_folds(prep.rows, K, seed)
    cvs = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(K)]
    mem = cv_relaxed(X, y, loss="logistic", lams=lams, cv=cvs, rule=rule, tol=TOL)
    assert r["gamma"] == mem.gamma and r["lam"] == pytest.approx(mem.lam, rel=1e-10)
    np.testing.assert_allclose([r["cv_error"], r["cv_se"]], [mem.cv_error, mem.cv_se],
                               rtol=1e-8)
    got = np.array([r["coef_standardized"][n] for n in prep.feature_names])
    np.testing.assert_allclose(got, mem.coef, rtol=1e-8, atol=1e-8 * np.abs(mem.coef).max())
    assert r["intercept_standardized"] == pytest.approx(mem.intercept, rel=1e-8, abs=1e-8)
    assert r["kept"] == [n for n, c in zip(prep.feature_names, mem.coef) if c != 0.0]
    assert r["calibration_slope"] == pytest.approx(logistic_calibration_slope(y, mem.oof),
                                                   rel=1e-8)


def test_streamed_binary_relaxed_budget_refusal(tmp_path, monkeypatch):
    """Refits costing more per row than the budget leave the row out with the reason, in one
    line naming the cost and the budget."""
    from regulab.commands import compare_stream
    from regulab.commands.common import DataOptions
    from regulab.selection import streamed_relaxed

    df = _frame(80, 600, 4, binary=True)
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=300)
    monkeypatch.setattr(streamed_relaxed, "BUDGET_RATIO", 1)
    doc = compare_stream.run(f, DataOptions(target="y"), folds=3, rule="min", n_lams=6,
                             batch_rows=300)
    why = doc["relaxed_left_out"]
    assert doc["relaxed"] is None and "\n" not in why
    assert why.startswith("left out with --stream: refitting the") and "above the budget" in why


def test_streamed_binary_relaxed_separable_refits(tmp_path):
    """Classes separated by ``x0`` (with a gap): the refits on supports holding ``x0`` have no
    finite minimizer; they are replaced by the ridge fit at ``lam_min`` as in memory, and the
    row equals the in-memory ``cv_relaxed`` (1e-8)."""
    import pandas as pd

    from regulab.commands import compare_stream
    from regulab.commands.common import DataOptions
    from regulab.commands.fitting import grid_for
    from regulab.selection.relaxed import cv_relaxed

    rng = np.random.default_rng(5)
    n = 400
    x0 = rng.standard_normal(n)
    x0 += np.sign(x0) * 0.3
    df = pd.DataFrame({"x0": x0, "x1": rng.standard_normal(n), "x2": rng.standard_normal(n)})
    df["y"] = np.where(x0 > 0, "yes", "no")
    f = tmp_path / "d.parquet"
    df.to_parquet(f, row_group_size=150)
    doc = compare_stream.run(f, DataOptions(target="y", seed=1), folds=3, rule="min",
                             n_lams=6, batch_rows=128, tol=TOL)
    r = doc["relaxed"]
    assert r is not None and " 0 separable" not in r["why"]
    prep = prepare(df, "y")
    lams = grid_for(prep.X, prep.y, "logistic", 1.0, 6)
    folds = hash_folds(prep.rows, 3, 1)
    cvs = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(3)]
    mem = cv_relaxed(prep.X, prep.y, loss="logistic", lams=lams, cv=cvs, rule="min", tol=TOL)
    assert (mem.path.refit_l2 > 0).any()
    assert r["gamma"] == mem.gamma and r["lam"] == pytest.approx(mem.lam, rel=1e-10)
    np.testing.assert_allclose([r["cv_error"], r["cv_se"]], [mem.cv_error, mem.cv_se],
                               rtol=1e-8)
    got = np.array([r["coef_standardized"][n] for n in prep.feature_names])
    np.testing.assert_allclose(got, mem.coef, rtol=1e-8, atol=1e-8 * np.abs(mem.coef).max())
