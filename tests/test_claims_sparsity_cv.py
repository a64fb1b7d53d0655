"""Claims sparsity and choose-lambda: verdicts across seeds, honest metrics, the 1se rule
recomputed independently, and the figures. Sizes are reduced (40 lams) to keep the file fast."""

import json
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from regulab.report.claims import choose_lambda, sparsity
from regulab.report.claims.base import ExplainConfig
from regulab.selection.cv import cross_validate_path, one_se_rule
from regulab.report.plots.paths import plot_choose_lambda, plot_sparsity, spread_positions

SMALL = {"n_lams": 40}


def _run(module, seed):
    with pytest.MonkeyPatch.context() as mp:
        for k, v in SMALL.items():
            mp.setitem(module.DEFAULTS, k, v)
        return module.run(ExplainConfig(seed=seed))


@pytest.fixture(scope="module")
def results():
    return {(m.ID, s): _run(m, s) for m in (sparsity, choose_lambda) for s in (0, 1)}


def _numbers(value, path=""):
    """Every number inside a metrics tree, with where it sits."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        yield path, float(value)


@pytest.mark.parametrize("claim", ["sparsity", "choose-lambda"])
@pytest.mark.parametrize("seed", [0, 1])
def test_claim_holds(results, claim, seed):
    r = results[(claim, seed)]
    assert r.holds, {k: v for k, v in r.checks.items() if not v}
    assert r.checks and all(r.checks.values())
    assert r.verdict and r.nuance and r.tables


@pytest.mark.parametrize("key", [("sparsity", 0), ("choose-lambda", 0), ("sparsity", 1)])
def test_metrics_finite_and_json_ready(results, key):
    r = results[key]
    found = list(_numbers(r.metrics))
    assert found
    bad = [(p, v) for p, v in found if not math.isfinite(v)]
    assert not bad, bad
    json.dumps(r.metrics, allow_nan=False)       # plain Python types only
    json.dumps(r.checks)
    assert all(isinstance(v, bool) for v in r.checks.values())


def test_same_seed_same_numbers_other_seed_other_folds(results):
    again = _run(sparsity, 0)
    assert json.dumps(again.metrics) == json.dumps(results[("sparsity", 0)].metrics)
    a, b = results[("sparsity", 0)].metrics, results[("sparsity", 1)].metrics
    assert a["synthetic"]["true_support"] != b["synthetic"]["true_support"]
    assert a["diabetes"]["l1_lam_max"] == b["diabetes"]["l1_lam_max"]  # data fixed, folds vary
    ca, cb = (results[("choose-lambda", s)].metrics["diabetes"] for s in (0, 1))
    assert ca["cv_error_at_min"] != cb["cv_error_at_min"]


# ---------------------------------------------------------------- sparsity

@pytest.mark.parametrize("seed", [0, 1])
def test_l2_never_exactly_zero_l1_exact_zeros(results, seed):
    d = results[("sparsity", seed)].data
    for key in ("diabetes_l2", "synthetic_l2"):
        assert np.all(d[key]["coefs"] != 0.0), key
        assert np.all(d[key]["nnz"] == d[key]["coefs"].shape[0])
    assert np.all(d["w_l2_1se"] != 0.0)
    for key in ("diabetes_l1", "synthetic_l1"):
        assert np.all(d[key]["coefs"][:, 0] == 0.0)            # lam_max: all exactly 0
        assert np.count_nonzero(d[key]["coefs"][:, 1]) >= 1     # the next lam: one enters
    assert np.sum(d["w_l1_1se"] == 0.0) >= 0.5 * d["w_l1_1se"].size


def test_support_recovery_recomputed(results):
    r = results[("sparsity", 0)]
    d, m = r.data, r.metrics["synthetic"]
    support = set(m["true_support"])
    sel = set(np.flatnonzero(d["synthetic_l1"]["coefs"][:, d["idx_1se"]]).tolist())
    assert sel == set(m["selected_at_1se"])
    assert m["recall_at_1se"] == len(sel & support) / len(support) == 1.0
    assert m["precision_at_1se"] == pytest.approx(len(sel & support) / len(sel))
    w = d["w_true"]
    assert set(np.flatnonzero(w).tolist()) == support and len(support) == m["k_true"]


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_support_recovery_thresholds_hold_across_seeds(seed):
    r = _run(sparsity, seed)
    m = r.metrics["synthetic"]
    assert m["recall_at_1se"] == 1.0
    assert m["precision_at_1se"] >= sparsity.DEFAULTS["min_precision_1se"]
    assert r.holds, {k: v for k, v in r.checks.items() if not v}


def test_weight_profile_helpers():
    w = np.array([0.0, 0.0, 0.0, 5.0, -1.0, 1e-9, 0.0, 0.0, 0.0, 0.0])
    prof = sparsity.weight_profile(w, 1e-3, 0.2)
    assert prof["exact_zeros"] == 7 and prof["frac_exact_zero"] == 0.7
    assert prof["frac_below_small"] == 0.8                   # 1e-9 < 1e-3 * 5 counts as small
    assert prof["top_share"] == pytest.approx(6.0 / (6.0 + 1e-9))
    assert sparsity.gini(np.ones(8)) == pytest.approx(0.0, abs=1e-12)
    assert sparsity.gini(np.eye(1, 8)[0]) == pytest.approx(1 - 1 / 8)
    prec, rec = sparsity.precision_recall(np.array([[0, 1.0], [2.0, 0], [0, 3.0]]), [0, 2])
    assert prec[0] == 0.0
    assert prec[1] == 1.0 and rec.tolist() == [0.0, 1.0]


def test_synthetic_snr_and_truth():
    d = sparsity.make_sparse_regression(4000, 20, 3, 0.5, 3.0, seed=0)
    signal = d["X"] @ d["w_true"]
    assert np.var(signal) / d["noise_sd"] ** 2 == pytest.approx(3.0, rel=0.1)
    assert np.corrcoef(d["X"][:, 0], d["X"][:, 1])[0, 1] == pytest.approx(0.5, abs=0.05)
    assert np.count_nonzero(d["w_true"]) == 3


def test_duality_gaps_recomputed_not_trusted(results):
    m = results[("sparsity", 0)].metrics
    assert max(m["max_relative_gap"].values()) <= m["tol"]


# ---------------------------------------------------------------- choose-lambda

def _one_se_by_loop(lams, fold_errors):
    """glmnet's rule written out with Python loops (a third, independent implementation)."""
    k, n = len(fold_errors), len(lams)
    means = [sum(fold_errors[f][i] for f in range(k)) / k for i in range(n)]
    ses = [math.sqrt(sum((fold_errors[f][i] - means[i]) ** 2 for f in range(k)) / (k - 1))
           / math.sqrt(k) for i in range(n)]
    best = min(range(n), key=lambda i: means[i])
    bound = means[best] + ses[best]
    lam_1se = max(lams[i] for i in range(n) if means[i] <= bound)
    return lams[best], lam_1se


@pytest.mark.parametrize("seed", [0, 1])
def test_one_se_rule_recomputed_from_scratch(results, seed):
    m = results[("choose-lambda", seed)].metrics["diabetes"]
    X, y, _ = sparsity.load_diabetes_standardized()
    cv = cross_validate_path(X, y, n_lams=SMALL["n_lams"], cv=10, seed=seed,
                             tol=choose_lambda.DEFAULTS["tol"])
    lam_min, lam_1se = _one_se_by_loop(cv.lams.tolist(), cv.fold_errors.tolist())
    assert m["lam_min"] == pytest.approx(lam_min, rel=1e-12)
    assert m["lam_1se"] == pytest.approx(lam_1se, rel=1e-12)
    assert lam_1se >= lam_min                              # the LARGER side, glmnet's rule
    assert m["cv_error_at_1se"] <= m["cv_error_at_min"] + m["cv_se_at_min"]


def test_one_se_rule_numpy_agrees_with_library_on_random_curves():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n_lams, k = int(rng.integers(2, 30)), int(rng.integers(2, 11))
        lams = np.sort(rng.uniform(0.01, 10, n_lams))[::-1]
        fe = rng.uniform(1, 2, (k, n_lams)) + rng.uniform(0, 1, n_lams)
        ind = choose_lambda.one_se_rule_numpy(lams, fe)
        lib = one_se_rule(lams, fe.mean(axis=0), fe.std(axis=0, ddof=1) / np.sqrt(k))
        assert (ind["idx_min"], ind["idx_1se"]) == lib
        bound = ind["mean"][ind["idx_min"]] + ind["se"][ind["idx_min"]]
        assert ind["lam_1se"] == max(lam for lam, mu in zip(lams, ind["mean"]) if mu <= bound)


def test_one_se_rule_takes_the_largest_lam_not_the_nearest():
    lams = np.array([8.0, 4.0, 2.0, 1.0, 0.5])
    mean = np.array([[1.05, 2.0, 1.3, 1.0, 1.5]] * 2)
    fe = mean + np.array([[-0.1] * 5, [0.1] * 5])         # se = 0.1 at every lam
    ind = choose_lambda.one_se_rule_numpy(lams, fe)
    assert ind["lam_min"] == 1.0 and ind["lam_1se"] == 8.0


def test_train_error_and_complexity_monotone(results):
    d = results[("choose-lambda", 0)].data["diabetes"]
    train, comp = d["train_error"], d["complexity"]        # lams decreasing along the arrays
    assert np.all(np.diff(train) <= 1e-9 * train[0])
    assert np.all(np.diff(comp) >= -1e-9 * max(comp.max(), 1.0))
    assert d["nnz"][0] == 0 and d["nnz"][-1] == 10
    assert 0 < d["idx_min"] < len(d["lams"]) - 1
    assert d["nnz"][d["idx_1se"]] < d["nnz"][d["idx_min"]]


def test_monotone_slack_is_zero_for_exact_solutions():
    se, sc = choose_lambda.monotone_slack([3.0, 2.0, 1.0], [0.0, 0.0, 0.0])
    assert se.tolist() == [0.0, 0.0] and sc.tolist() == [0.0, 0.0]
    se, sc = choose_lambda.monotone_slack([3.0, 2.0], [0.1, 0.1])
    assert sc[0] == pytest.approx(0.2) and se[0] == pytest.approx(2 * 0.2 + 0.1)


# ---------------------------------------------------------------- figures

def test_plot_sparsity_figures(results):
    figs = plot_sparsity(results[("sparsity", 0)])
    assert list(figs) == ["sparsity_paths_diabetes", "sparsity_support_recovery",
                          "sparsity_histograms"]
    for name, (fig, caption) in figs.items():
        assert isinstance(fig, Figure) and isinstance(caption, str) and caption, name
    fig = figs["sparsity_paths_diabetes"][0]
    main = [ax for ax in fig.axes if ax.get_xlabel().startswith("log(lam)")]
    assert len(main) == 2
    for ax in main:
        left, right = ax.get_xlim()
        assert left > right                                   # log(lam) decreasing to the right
        texts = [t.get_text() for t in ax.texts]
        assert set(texts) == set(results[("sparsity", 0)].data["names_diabetes"])
    # L2's top axis shows all 10 coefficients non-zero at every tick
    l1_top, l2_top = (ax.child_axes[0] for ax in main)
    labels = [t.get_text() for t in l2_top.get_xticklabels()]
    assert labels and set(labels) == {"10"}
    assert [t.get_text() for t in l1_top.get_xticklabels()][0] == "0"


def test_plot_choose_lambda_figures(results):
    figs = plot_choose_lambda(results[("choose-lambda", 0)])
    assert list(figs) == ["choose_lambda_cv_curve", "choose_lambda_tradeoff"]
    for name, (fig, caption) in figs.items():
        assert isinstance(fig, Figure) and caption, name
    fig = figs["choose_lambda_cv_curve"][0]
    legends = [t.get_text() for ax in fig.axes if ax.get_legend()
               for t in ax.get_legend().get_texts()]
    assert any(t.startswith("lam_min") for t in legends)
    assert any(t.startswith("lam_1se") for t in legends)


def test_spread_positions_keeps_order_and_gap():
    y = np.array([0.0, 0.01, 0.02, 5.0, 5.001, -3.0])
    pos = spread_positions(y, 0.5, -10, 10)
    assert np.all(np.diff(pos[np.argsort(y)]) >= 0.5 - 1e-12)
    assert abs(pos[5] - (-3.0)) < 1e-12                       # lone labels stay on their curve
    crowded = spread_positions(np.zeros(5), 0.5, -1.0, 1.0)
    assert crowded.max() <= 1.0 + 1e-12 and np.all(np.diff(np.sort(crowded)) >= 0.5 - 1e-12)
