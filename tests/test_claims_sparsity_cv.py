"""Claims sparsity and choose-lambda as experiments: honest metrics, numbers against independent
oracles (set arithmetic, scikit-learn, a loop-written 1-SE rule, fresh data redrawn here), the
falsifying settings end to end, and the words for every outcome fed synthetic metrics.

No test requires an experiment to come out "holds". Sizes are reduced (40 lams on diabetes, three
draws of 30 lams) to keep the file fast; thresholds and drawn ranges are the claims' own.
"""

import json
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from regulab.data.simulate import make_truth
from regulab.report.claims import REGISTRY, choose_lambda, sparsity
from regulab.report.claims.base import (
    FAILS,
    HOLDS,
    PART,
    ExplainConfig,
    Prediction,
    missed_text,
    outcome_of,
)
from regulab.report.claims.draws import draw_problem, mean_se, mean_se_or_none
from regulab.report.plots.paths import (
    plot_choose_lambda,
    plot_sparsity,
    spread_positions,
)
from regulab.selection.cv import cross_validate_path, make_folds, one_se_rule

SMALL = {"n_lams": 40, "n_draws": 3, "draw_n_lams": 30}


def _run(module, seed, config=None, **over):
    with pytest.MonkeyPatch.context() as mp:
        for k, v in {**SMALL, **over}.items():
            mp.setitem(module.DEFAULTS, k, v)
        return REGISTRY[module.ID].run(config or ExplainConfig(seed=seed))


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


HEADS = {HOLDS: "As the seed says.", PART: "The seed's statement holds only in part:",
         FAILS: "The measurements contradict the seed:"}


@pytest.mark.parametrize("claim", ["sparsity", "choose-lambda"])
@pytest.mark.parametrize("seed", [0, 1])
def test_claim_is_an_experiment(results, claim, seed):
    r = results[(claim, seed)]
    assert r.outcome in (HOLDS, PART, FAILS)
    assert r.verdict.startswith(HEADS[r.outcome])
    assert r.nuance and r.tables
    assert len(r.predictions) >= 8 and all(p.applies for p in r.predictions)
    assert len({p.name for p in r.predictions}) == len(r.predictions)      # stable, unique names
    assert r.checks == {p.name: p.held for p in r.predictions}
    assert r.verifications                                                 # checks of the code
    assert all(v.passed for v in r.verifications), [v for v in r.verifications if not v.passed]
    missed = [p for p in r.predictions if not p.held]
    assert ("Missed:" in r.verdict) == bool(missed)
    for p in missed:
        assert p.text in r.verdict


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
    assert [r["n"] for r in a["draws"]] != [r["n"] for r in b["draws"]]       # drawn, not fixed
    assert a["diabetes"]["l1_lam_max"] == b["diabetes"]["l1_lam_max"]  # data fixed, folds vary
    ca, cb = (results[("choose-lambda", s)].metrics["diabetes"] for s in (0, 1))
    assert ca["cv_error_at_min"] != cb["cv_error_at_min"]


@pytest.mark.parametrize("module", [sparsity, choose_lambda])
def test_cli_lam_and_step_do_not_touch_these_claims(results, module):
    # --lam and --step are the one-weight claims' settings: accepted here, and ignored
    r = _run(module, 0, ExplainConfig(seed=0, lam=1e6, step=1.2))
    assert json.dumps(r.metrics) == json.dumps(results[(module.ID, 0)].metrics)


# ---------------------------------------------------------------- drawn problems

def test_draw_problem_stays_in_its_ranges_and_follows_the_key():
    ranges = {"n": (100, 400), "k": (2, 10), "rho": (0.0, 0.7), "snr": (1.0, 10.0)}
    draws = [draw_problem([s, 1, i], **ranges) for s in range(20) for i in range(5)]
    for d in draws:
        assert 100 <= d["n"] <= 400 and 2 <= d["k"] <= 10
        assert 0.0 <= d["rho"] <= 0.7 and 1.0 <= d["snr"] <= 10.0
    assert len({d["n"] for d in draws}) > 50 and len({d["k"] for d in draws}) == 9
    assert draw_problem([3, 1, 0], **ranges) == draw_problem([3, 1, 0], **ranges)
    fixed = draw_problem([0, 1, 0], n=(400, 400), k=(3, 3), rho=(0.5, 0.5), snr=(50.0, 50.0))
    assert fixed == {"n": 400, "k": 3, "rho": 0.5, "snr": pytest.approx(50.0)}


def test_mean_se_against_numpy():
    v = [0.2, 0.5, None, float("nan"), 0.9]
    m, se = mean_se_or_none(v)
    ok = np.array([0.2, 0.5, 0.9])
    assert m == pytest.approx(ok.mean()) and se == pytest.approx(ok.std(ddof=1) / np.sqrt(3))
    assert mean_se(v) == (m, se)
    assert mean_se_or_none([0.3]) == (0.3, None)
    assert mean_se_or_none([None, float("nan")]) == (None, None)
    assert all(np.isnan(x) for x in mean_se([None, float("nan")]))


# ---------------------------------------------------------------- sparsity: oracles

@pytest.mark.parametrize("seed", [0, 1])
def test_l2_never_exactly_zero_l1_exact_zeros_at_lam_max(results, seed):
    d = results[("sparsity", seed)].data
    m = results[("sparsity", seed)].metrics
    # the exact zeros of the L2 paths, counted again from the coefficients
    for key, counted in (("diabetes_l2", m["diabetes"]["l2_exact_zeros_on_path"]),
                         ("synthetic_l2", m["draws"][0]["l2_exact_zeros_on_path"])):
        assert np.count_nonzero(d[key]["coefs"] == 0.0) == counted
        assert np.all(d[key]["nnz"] == np.count_nonzero(d[key]["coefs"], axis=0))
    assert m["l2_exact_zeros_total"] == sum(r["l2_exact_zeros_on_path"] for r in m["draws"]) + \
        m["diabetes"]["l2_exact_zeros_on_path"]
    for key in ("diabetes_l1", "synthetic_l1"):
        assert np.all(d[key]["coefs"][:, 0] == 0.0)            # lam_max: all exactly 0
        assert np.count_nonzero(d[key]["coefs"][:, 1]) >= 1     # the next lam: one enters
    prof = m["l1_at_1se"]
    assert prof["exact_zeros"] == int(np.sum(d["w_l1_1se"] == 0.0))
    assert prof["frac_exact_zero"] == pytest.approx(np.mean(d["w_l1_1se"] == 0.0))


def test_support_recovery_recomputed(results):
    r = results[("sparsity", 0)]
    d, m = r.data, r.metrics["synthetic"]
    support = set(m["true_support"])
    sel = set(np.flatnonzero(d["synthetic_l1"]["coefs"][:, d["idx_1se"]]).tolist())
    assert sel == set(m["selected_at_1se"])
    assert m["recall_at_1se"] == len(sel & support) / len(support)
    assert m["precision_at_1se"] == pytest.approx(len(sel & support) / len(sel))
    w = d["w_true"]
    assert set(np.flatnonzero(w).tolist()) == support and len(support) == m["k_true"]
    first = r.metrics["draws"][0]
    assert (first["recall"], first["precision"]) == (m["recall_at_1se"], m["precision_at_1se"])


def test_means_over_draws_recomputed(results):
    m = results[("sparsity", 1)].metrics
    for key in ("zero_share", "recall", "top_share_l1", "top_share_diff"):
        vals = np.array([r[key] for r in m["draws"]], dtype=float)
        assert m["over_draws"][key]["mean"] == pytest.approx(vals.mean())
        assert m["over_draws"][key]["se"] == pytest.approx(vals.std(ddof=1) / np.sqrt(vals.size))
    by = {p.name: p for p in results[("sparsity", 1)].predictions}
    assert by["l1_many_exact_zeros"].value == m["over_draws"]["zero_share"]["mean"]
    assert by["l1_many_exact_zeros"].se == m["over_draws"]["zero_share"]["se"]


def test_first_draw_refitted_by_sklearn_on_data_redrawn_here(results):
    """The first draw's data rebuilt from its keys, and its L1 and L2 fits at lam_1se against
    scikit-learn's Lasso (alpha = lam / 2) and Ridge (alpha = n lam)."""
    from sklearn.linear_model import Lasso, Ridge

    r = results[("sparsity", 0)]
    p, s = sparsity.DEFAULTS, r.metrics["synthetic"]
    st = draw_problem([0, 1, 0], n=p["draw_n"], k=p["draw_k"], rho=p["draw_rho"],
                      snr=p["draw_snr"])
    truth, _ = make_truth("sparse", n=st["n"], p=p["synth_p"], k=st["k"], rho=st["rho"],
                          snr=st["snr"], seed=[0, 2, 0])
    assert truth.X.shape == (s["n"], s["p"]) and list(truth.support) == s["true_support"]
    w1 = Lasso(alpha=s["l1_lam_1se"] / 2, tol=1e-12, max_iter=10**6).fit(truth.X, truth.y).coef_
    w2 = Ridge(alpha=s["n"] * s["l2_lam_1se"]).fit(truth.X, truth.y).coef_
    np.testing.assert_allclose(r.data["w_l1_1se"], w1, atol=1e-5 * np.abs(w1).max())
    np.testing.assert_allclose(r.data["w_l2_1se"], w2, rtol=1e-6, atol=1e-9)


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
    assert math.isnan(sparsity.precision_recall(np.zeros((3, 1)), [0])[0][0])  # nothing kept


def test_synthetic_snr_and_truth():
    d, _ = make_truth("sparse", n=4000, p=20, k=3, rho=0.5, snr=3.0, seed=0)
    signal = d.X @ d.w
    assert np.var(signal) / d.noise_sd ** 2 == pytest.approx(3.0, rel=0.1)
    assert np.corrcoef(d.X[:, 0], d.X[:, 1])[0, 1] == pytest.approx(0.5, abs=0.05)
    assert np.count_nonzero(d.w) == 3


def test_duality_gaps_recomputed_not_trusted(results):
    m = results[("sparsity", 0)].metrics
    assert max(m["max_relative_gap"].values()) <= m["tol"]


# ---------------------------------------------------------------- sparsity: falsifier

def test_dense_truth_falsifies_the_sparsity_predictions():
    r = _run(sparsity, 0, truth="dense")
    m, by = r.metrics, {p.name: p for p in r.predictions}
    assert all(row["k"] == m["synthetic"]["p"] for row in m["draws"])      # every feature true
    assert r.outcome in (PART, FAILS)
    assert not by["l1_many_exact_zeros"].held and not by["l1_few_large"].held
    zeros = m["over_draws"]["zero_share"]["mean"]
    assert "drawn dense truths" in r.verdict
    assert f"set {100 * zeros:.0f} % ± " in r.verdict
    assert by["l1_many_exact_zeros"].text in r.verdict.split("Missed:")[1]


# ---------------------------------------------------------------- sparsity: words

def _sparsity_metrics(zero=0.7, top1=0.96, top2=0.64, recall=1.0, precision=0.63,
                      l2_zeros=0, d_zero=0.6, d_top1=0.92, d_top2=0.45, n_draws=4):
    se = {"mean": None, "se": 0.03}
    rows = [{"n": 100 + 50 * i, "k": 5 + i, "rho": 0.1 * i, "snr": 1.5 + i,
             "precision": precision} for i in range(n_draws)]
    over = {k: {**se, "mean": v} for k, v in {
        "zero_share": zero, "top_share_l1": top1, "top_share_l2": top2,
        "top_share_diff": None if top1 is None else top1 - top2, "recall": recall,
        "precision": precision, "nnz_at_1se": 9.0, "k": 6.5, "l2_below_small_share": 0.0}.items()}
    prof = {"exact_zeros": round(10 * d_zero), "frac_exact_zero": d_zero, "top_share": d_top1}
    return {
        "truth": "sparse", "n_draws": n_draws, "draw_n_lams": 40, "top_frac": 0.2,
        "thresholds": {"min_zero_share": 0.5, "min_top_share": 0.9, "min_recall": 0.9,
                           "min_precision": 0.5},
        "draws": rows, "over_draws": over,
        "l2_exact_zeros_total": l2_zeros, "l2_coefficients_total": 9000,
        "l2_min_abs_anywhere": 4.9e-6,
        "synthetic": {"p": 50, "k_true": 5, "l1_nnz_at_min": 12, "l1_nnz_at_1se": 7,
                      "precision_at_min": 0.42, "precision_at_1se": 0.71,
                      "lams_with_exact_support": 3},
        "diabetes": {"n": 442, "p": 10, "l1_lam_1se": 11.1, "l1_nnz_at_1se": 10 - prof["exact_zeros"],
                     "l1_kept_at_1se": ["bmi", "s5"], "l1_at_1se": prof,
                     "l2_at_1se": {"exact_zeros": 0, "top_share": d_top2},
                     "top_share_diff": d_top1 - d_top2, "l1_sign_changes": {},
                     "most_correlated_pair": ["s1", "s2", 0.9],
                     "l1_entry_order": ["bmi", "s5", "bp", "s1"]},
    }


def _say(module, m):
    preds = module.predict(m, ExplainConfig())
    outcome = outcome_of(preds)
    verdict, nuance = module.words(m, preds, outcome)
    return outcome, preds, verdict, nuance


def test_sparsity_words_when_it_holds():
    outcome, _preds, verdict, nuance = _say(sparsity, _sparsity_metrics())
    assert outcome == HOLDS and verdict.startswith("As the seed says.")
    assert "set 70 % ± 3 % of the weights exactly 0" in verdict
    assert "recall 100 % ± 3 % and precision 63 % ± 3 %" in verdict
    assert "L2 had no exact 0 among the 9000 coefficients" in verdict
    assert "Missed" not in verdict and "never selects a feature" in nuance


def test_sparsity_words_in_part_state_what_missed():
    m = _sparsity_metrics(zero=0.1, top1=0.39, top2=0.32, recall=0.6, precision=1.0)
    outcome, _preds, verdict, _ = _say(sparsity, m)
    assert outcome == PART
    assert verdict.startswith("The seed's statement holds only in part: 6 of 9 predictions held")
    missed = verdict.split("Missed:")[1]
    assert "(measured 0.1 ± 0.03)" in missed and "(measured 0.39 ± 0.03)" in missed
    assert "(measured 0.6 ± 0.03)" in missed


def test_sparsity_words_when_nothing_holds():
    m = _sparsity_metrics(zero=0.1, top1=0.3, top2=0.4, recall=0.5, precision=None, l2_zeros=3,
                          d_zero=0.1, d_top1=0.4, d_top2=0.5)
    outcome, _preds, verdict, nuance = _say(sparsity, m)
    assert outcome == FAILS
    assert verdict.startswith("The measurements contradict the seed: 0 of 9 predictions held")
    assert "precision undefined (L1 kept nothing in 4 draws: no precision)" in verdict
    assert "L2 had 3 exact zeros among the 9000 coefficients" in verdict
    assert "(measured undefined ± 0.03)" in verdict                 # the precision prediction
    assert "never selects" not in nuance and "L2 produced exact zeros" in nuance


# ---------------------------------------------------------------- choose-lambda: oracles

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


def test_lassocv_on_the_same_folds_agrees(results):
    """scikit-learn's LassoCV, alpha = lam / 2, on the folds regulab drew: the same CV curve, and
    the loop-written 1-SE rule on its fold errors picks the same two lams."""
    from sklearn.linear_model import LassoCV

    r = results[("choose-lambda", 1)]
    m, d = r.metrics["diabetes"], r.data["diabetes"]
    X, y, _ = sparsity.load_diabetes_standardized()
    folds, _ = make_folds(10, X.shape[0], 1, 1, "squared", y)
    sk = LassoCV(alphas=d["lams"] / 2, cv=folds, tol=1e-10, max_iter=10**6).fit(X, y)
    np.testing.assert_allclose(2 * sk.alphas_, d["lams"], rtol=1e-12)
    np.testing.assert_allclose(sk.mse_path_.mean(axis=1), d["cv_mean"], rtol=1e-6)
    lam_min, lam_1se = _one_se_by_loop((2 * sk.alphas_).tolist(), sk.mse_path_.T.tolist())
    assert 2 * sk.alpha_ == pytest.approx(m["lam_min"], rel=1e-12) == lam_min
    assert lam_1se == pytest.approx(m["lam_1se"], rel=1e-12)
    assert m["sklearn_lassocv"]["cv_curve_max_rel_diff"] <= 1e-4


def test_fresh_data_errors_recomputed_on_rows_drawn_here(results):
    r = results[("choose-lambda", 0)]
    p, first, d = choose_lambda.DEFAULTS, r.metrics["draws"][0], r.data["synthetic"]
    n_p = p["synth_p"]
    st = draw_problem([0, 11, 0], n=tuple(round(n_p * q) for q in p["draw_n_over_p"]),
                      k=p["draw_k"], rho=p["draw_rho"], snr=p["draw_snr"])
    train, test = make_truth("sparse", n=st["n"], p=n_p, n_test=p["n_test"], k=st["k"],
                             rho=st["rho"], snr=st["snr"], seed=[0, 12, 0])
    assert train.X.shape[0] == first["n"] and test.X.shape[0] == first["n_test"]
    assert not np.isin(test.X[:, 0], train.X[:, 0]).any()          # new rows, not the folds
    pred = test.X @ d["coefs"] + d["intercepts"]
    mse = np.mean((test.y[:, None] - pred) ** 2, axis=0)
    i0, i1 = d["idx_min"], d["idx_1se"]
    assert first["test_mse_at_min"] == pytest.approx(mse[i0], rel=1e-12)
    assert first["test_mse_at_1se"] == pytest.approx(mse[i1], rel=1e-12)
    best_end = min(mse[0], mse[-1])
    assert first["fresh_gain_min"] == pytest.approx(1 - mse[i0] / best_end, rel=1e-9, abs=1e-12)
    m = r.metrics
    assert m["draws_flat_at_smallest_lam"] == sum(
        row["cv_excess_at_smallest_lam_in_se"] <= m["u_se"] for row in m["draws"])


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


def test_monotone_slack_is_zero_for_exact_solutions():
    se, sc = choose_lambda.monotone_slack([3.0, 2.0, 1.0], [0.0, 0.0, 0.0])
    assert se.tolist() == [0.0, 0.0] and sc.tolist() == [0.0, 0.0]
    se, sc = choose_lambda.monotone_slack([3.0, 2.0], [0.1, 0.1])
    assert sc[0] == pytest.approx(0.2) and se[0] == pytest.approx(2 * 0.2 + 0.1)


# ---------------------------------------------------------------- choose-lambda: falsifier

def test_n_much_larger_than_p_with_high_snr_flattens_the_small_lam_side():
    r = _run(choose_lambda, 0, synth_p=20, draw_n_over_p=(20.0, 20.0), draw_snr=(50.0, 50.0))
    m, by = r.metrics, {p.name: p for p in r.predictions}
    assert all(row["n"] == 400 and row["p"] == 20 for row in m["draws"])
    assert r.outcome in (PART, FAILS)
    assert not by["cv_rises_toward_small_lam"].held
    nd, flat = m["n_draws"], m["draws_flat_at_smallest_lam"]
    assert f"at the smallest lam in {nd - flat} of {nd}" in r.verdict
    assert by["cv_rises_toward_small_lam"].text in r.verdict.split("Missed:")[1]
    assert "n 400" in r.verdict and "SNR 50" in r.verdict


# ---------------------------------------------------------------- choose-lambda: words

def _cl_metrics(flat_max=0, flat_small=0, not_simpler=0, g_min=0.3, g_1se=0.25, e_max=19.9,
                e_small=3.0, nnz_min=7, nnz_1se=5, n_draws=4):
    at = {name: {"lam": lam, "cv_mse": cv, "complexity_l1": c, "features": f}
          for name, lam, cv, c, f in (("lam_max", 90.3, 5905.8, 0.0, []),
                                      ("lam_1se", 11.1, 3114.0, 80.0, ["bmi", "s5"]),
                                      ("lam_min", 2.09, 2981.5, 130.0, ["bmi"]),
                                      ("smallest_lam", 0.09, 3100.0, 144.0, ["bmi"]))}
    dia = {"n": 442, "p": 10, "lam_max": 90.3, "lam_min": 2.09, "lam_1se": 11.1,
           "nnz_at_min": nnz_min, "nnz_at_1se": nnz_1se, "cv_error_at_min": 2981.5,
           "cv_se_at_min": 147.0, "cv_error_at_1se": 3114.0,
           "cv_excess_at_lam_max_in_se": e_max, "cv_excess_at_smallest_lam_in_se": e_small,
           "train_error_at_smallest_lam": 2860.6, "train_error_at_lam_max": 5929.9, "at": at}
    rows = [{"n": 30 + 10 * i, "p": 50, "k_true": 3 + i, "snr": 2.0 + i, "n_test": 2000}
            for i in range(n_draws)]
    return {"n_lams": 100, "cv_folds": 10, "u_se": 1.0, "n_draws": n_draws, "diabetes": dia,
            "draws": rows, "draws_flat_at_lam_max": flat_max,
            "draws_flat_at_smallest_lam": flat_small, "draws_not_simpler_at_1se": not_simpler,
            "over_draws": {"fresh_gain_min": {"mean": g_min, "se": 0.05},
                           "fresh_gain_1se": {"mean": g_1se, "se": 0.04}}}


def test_choose_lambda_words_when_it_holds():
    outcome, _preds, verdict, nuance = _say(choose_lambda, _cl_metrics())
    assert outcome == HOLDS and verdict.startswith("As the seed says.")
    assert "at lam_max was more than 1 SE above its minimum in 4 of 4 draws" in verdict
    assert "the test MSE at lam_min was 30.0 % ± 5.0 % below the better end" in verdict
    assert "(3.00 SE above)" in verdict and "a U: it rises on both sides" in nuance
    assert "Missed" not in verdict


def test_choose_lambda_words_in_part_say_which_side_is_flat():
    m = _cl_metrics(flat_small=4, g_1se=-0.024, e_small=0.02)
    outcome, _preds, verdict, nuance = _say(choose_lambda, m)
    assert outcome == PART
    assert "at the smallest lam in 0 of 4" in verdict
    assert "at lam_1se 2.4 % ± 4.0 % above it" in verdict
    assert "(measured 4 draws)" in verdict
    assert "(measured 0.02 SE)" in verdict
    assert "an L more than a U" in nuance


def test_choose_lambda_words_when_nothing_holds():
    m = _cl_metrics(flat_max=4, flat_small=4, not_simpler=4, g_min=-0.1, g_1se=-0.2, e_max=0.5,
                    e_small=0.2, nnz_min=5, nnz_1se=5)
    outcome, _preds, verdict, nuance = _say(choose_lambda, m)
    assert outcome == FAILS
    assert verdict.startswith("The measurements contradict the seed: 0 of 8 predictions held")
    assert "in 0 of 4 draws, at the smallest lam in 0 of 4; lam_1se kept fewer non-zeros than " \
           "lam_min in 0 of 4" in verdict
    assert "10.0 % ± 5.0 % above the better end" in verdict
    assert "for 0 fewer features" in nuance


def test_missed_text_states_value_se_and_unit():
    preds = [Prediction("a", "A holds", 0.2, ">=", 0.5, se=0.01),
             Prediction("b", "B holds", 3, "<=", 0, unit="draws"),
             Prediction("c", "C holds", float("nan"), ">", 0.0),
             Prediction("d", "D holds", 1.0, ">", 0.0)]
    assert missed_text(preds) == (" Missed: A holds (measured 0.2 ± 0.01); B holds (measured 3 "
                                  "draws); C holds (measured undefined).")
    assert missed_text(preds[3:]) == ""


# ---------------------------------------------------------------- figures

@pytest.mark.parametrize("seed", [0, 1])
def test_support_figure_legend_covers_no_annotation(results, seed):
    """The support-recovery panel's legend sits off the P/R annotations at lam_min and lam_1se
    (drawn, then compared as window boxes); a fixed "center right" legend covered them on
    `regulab explain`'s seed-0 figure."""
    fig = plot_sparsity(results[("sparsity", seed)])["sparsity_support_recovery"][0]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = next(a for a in fig.axes if a.get_title(loc="left").startswith("Support recovery"))
    notes = [t for t in ax.texts if t.get_text().startswith(("min:", "1se:"))]
    assert len(notes) == 2
    box = ax.get_legend().get_window_extent(renderer)
    for t in notes:
        assert not box.overlaps(t.get_window_extent(renderer)), t.get_text()


def test_cv_curve_legend_leaves_the_cv_means_visible():
    """A CV curve that rises toward small lam (as on the drawn problems of choose-lambda) has
    its means in the upper right corner, where a fixed legend covered them: the legend's drawn
    box holds none of the CV means' markers."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from regulab.report.plots.paths import cv_curve
    from regulab.report.plots.style import new_figure

    lams = np.geomspace(2.0, 0.02, 40)
    t = np.linspace(-1.0, 1.0, lams.size)
    cv_mean = 12.0 + 8.0 * t ** 2 + 2.0 * t
    d = {"lams": lams, "cv_mean": cv_mean, "cv_se": np.full(lams.size, 2.0),
         "train_error": 18.0 * np.exp(-3.0 * (t + 1.0)), "nnz": np.arange(lams.size),
         "idx_min": int(np.argmin(cv_mean)), "idx_1se": 8}
    fig, ax = new_figure(7.0, 5.2)
    cv_curve(ax, d, 5, "a U-shaped CV curve")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = ax.get_legend().get_window_extent(canvas.get_renderer())
    pts = ax.transData.transform(np.column_stack([ax.get_lines()[0].get_xdata(), cv_mean]))
    assert np.allclose(ax.get_lines()[0].get_ydata(), cv_mean)  # the markers' line
    inside = [(x, y) for x, y in pts if box.contains(x, y)]
    assert not inside, f"{len(inside)} CV means under the legend"


def test_plot_sparsity_figures(results):
    figs = plot_sparsity(results[("sparsity", 0)])
    assert list(figs) == ["sparsity_paths_diabetes", "sparsity_support_recovery",
                          "sparsity_histograms", "sparsity_draws"]
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
    assert next(t.get_text() for t in l1_top.get_xticklabels()) == "0"
    # the draws figure: one dot per draw in each column, and the thresholds drawn
    ax = figs["sparsity_draws"][0].axes[0]
    m = results[("sparsity", 0)].metrics
    ys = {round(y, 12) for line in ax.get_lines() for y in np.atleast_1d(line.get_ydata())}
    for v in m["thresholds"].values():
        assert round(v, 12) in ys
    assert round(m["draws"][0]["zero_share"], 12) in ys


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
    assert any(t.startswith("test error on") for t in legends)


def test_spread_positions_keeps_order_and_gap():
    y = np.array([0.0, 0.01, 0.02, 5.0, 5.001, -3.0])
    pos = spread_positions(y, 0.5, -10, 10)
    assert np.all(np.diff(pos[np.argsort(y)]) >= 0.5 - 1e-12)
    assert abs(pos[5] - (-3.0)) < 1e-12                       # lone labels stay on their curve
    crowded = spread_positions(np.zeros(5), 0.5, -1.0, 1.0)
    assert crowded.max() <= 1.0 + 1e-12 and np.all(np.diff(np.sort(crowded)) >= 0.5 - 1e-12)
