"""The when-to-use and calibration claims: verdicts from metrics, margins across seeds, oracles."""

import numpy as np
import pytest

from regulab.selection.calibration import calibration_slope, optimism_corrected_slope
from regulab.report.claims import calibration, when_to_use
from regulab.report.claims.base import ExplainConfig
from regulab.report.claims.calibration import ols
from regulab.data.simulate import make_truth


@pytest.fixture
def small_when(monkeypatch):
    monkeypatch.setattr(when_to_use, "DEFAULTS", dict(when_to_use.DEFAULTS, n_seeds=3,
                                                       n_test=1000, n_lams=25, n_boot=15))


@pytest.mark.parametrize("seed", [0, 1])
def test_when_to_use_margins_across_seeds(small_when, seed):
    r = when_to_use.run(ExplainConfig(seed=seed))
    m = r.metrics["excess_test_error_mean"]
    # sparse truth: the better sparse method beats L2 by a clear margin; dense: L2 beats L1
    assert min(m["sparse"]["l1"], m["sparse"]["elasticnet"]) < 0.8 * m["sparse"]["l2"]
    assert m["dense"]["l2"] < 0.9 * m["dense"]["l1"]
    assert r.holds == all(r.checks.values())
    jac = r.metrics["groups_block_jaccard"]
    assert jac["elasticnet"] > jac["l1"]


def test_jaccard_stability_by_hand():
    assert when_to_use.jaccard_stability([{1, 2}, {1, 2}]) == 1.0
    # pairs: ({1,2},{2,3}) -> 1/3, ({1,2},{1}) -> 1/2, ({2,3},{1}) -> 0
    assert when_to_use.jaccard_stability([{1, 2}, {2, 3}, {1}]) == pytest.approx((1 / 3 + 1 / 2) / 3)


def test_ols_training_slope_is_one_and_held_out_below_one():
    train, test = make_truth("dense", n=50, p=30, n_test=2000, snr=2.0, seed=3)
    w, b = ols(train.X, train.y)
    assert calibration_slope(train.y, train.X @ w + b) == pytest.approx(1.0, abs=1e-10)
    assert calibration_slope(test.y, test.X @ w + b) < 0.9


def test_calibration_slope_is_the_least_squares_slope():
    rng = np.random.default_rng(0)
    yhat = rng.standard_normal(200)
    y = 0.7 * yhat + 0.1 * rng.standard_normal(200)
    assert calibration_slope(y, yhat) == pytest.approx(np.polyfit(yhat, y, 1)[0], rel=1e-12)


def test_optimism_correction_of_ols():
    """Apparent slope of least squares is 1; the corrected slope is below 1 on an overfit problem."""
    train, _ = make_truth("dense", n=40, p=25, snr=2.0, seed=1)

    def fit(X, y):
        w, b = ols(X, y)
        return lambda Z: Z @ w + b

    res = optimism_corrected_slope(fit, train.X, train.y, n_boot=30, seed=0)
    assert res["apparent"] == pytest.approx(1.0, abs=1e-10)
    assert res["optimism"] > 0 and res["corrected"] < 1.0
    assert res["corrected"] == pytest.approx(res["apparent"] - np.mean(res["per_resample_optimism"]))


def test_calibration_claim_holds_small(monkeypatch):
    monkeypatch.setattr(calibration, "DEFAULTS", dict(calibration.DEFAULTS, n_seeds=3, n_boot=10,
                                                       curse_sims=60, n_lams=25))
    r = calibration.run(ExplainConfig(seed=0))
    assert r.holds, r.checks
    m = r.metrics
    assert max(abs(s - 1) for s in m["ols_slope_train"]) < 1e-9
    assert m["winners_curse_mean_bias"]["ols"] > m["winners_curse_mean_bias"]["ridge"]


def test_claim_tasks_give_the_same_numbers_on_dask():
    """The claims' resamples run through the execution layer: a LocalCluster changes nothing."""
    pytest.importorskip("distributed")
    from regulab.core.execution import local_cluster

    train, _ = make_truth("dense", n=40, p=10, snr=2.0, seed=2)

    def fit(X, y):
        w, b = ols(X, y)
        return lambda Z: Z @ w + b

    here = optimism_corrected_slope(fit, train.X, train.y, n_boot=12, seed=5)
    with local_cluster(n_workers=2, threads_per_worker=1):
        there = optimism_corrected_slope(fit, train.X, train.y, n_boot=12, seed=5)
    assert np.array_equal(here["per_resample_optimism"], there["per_resample_optimism"])
