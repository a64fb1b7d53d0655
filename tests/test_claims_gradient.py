"""Claims gradient-view and gradient-table: verdicts fed by hand-made numbers for every outcome,
the settings the review named end to end (no crash, a true sentence), and the numbers against
independent oracles (closed forms, plain numpy recurrences, the library's solvers)."""

import math
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from regulab.core.onedim import descend_parabola, make_one_weight_data, w_l1, w_l2
from regulab.core.penalties import L1, L2
from regulab.report.claims import REGISTRY, gradient_table, gradient_view
from regulab.report.claims.base import FAILS, HOLDS, PART, ExplainConfig, outcome_of
from regulab.solvers import gradient_descent, ista, subgradient_descent


def _run(cid, **kw):
    return REGISTRY[cid].run(ExplainConfig(seed=kw.pop("seed", 0), **kw))


@pytest.fixture(scope="module")
def view():
    return _run("gradient-view")


@pytest.fixture(scope="module")
def table():
    return _run("gradient-table")


def _verdict(module, m):
    preds = module.predict(m, ExplainConfig())
    outcome = outcome_of(preds)
    verdict, nuance = module.words(m, preds, outcome)
    return preds, outcome, verdict, nuance


# --------------------------------------------------------------------------- the batched descents

@pytest.mark.parametrize("method, solver, pen", [
    ("subgradient_l1", subgradient_descent, L1), ("ista_l1", ista, L1),
    ("gradient_l2", gradient_descent, L2)])
@pytest.mark.parametrize("seed", [0, 4])
def test_descend_parabola_equals_the_library_solvers(method, solver, pen, seed):
    rng = np.random.default_rng(seed)
    data = make_one_weight_data(n=50, w_true=rng.uniform(-1, 1), noise=0.3, seed=seed)
    lam, step, w0 = rng.uniform(0.05, 1.0), rng.uniform(0.05, 0.5), rng.uniform(-2, 2)
    ours = descend_parabola(data.a, data.w_hat, lam, step, w0, 200, method)
    ref = solver(data.X, data.y, penalty=pen(lam), step=step, max_iter=200, tol=0.0,
                 w0=[w0]).trace.w[:, 0]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    assert np.array_equal(ours == 0.0, ref == 0.0)


def test_descend_parabola_records_divergence_and_batches():
    W = descend_parabola(np.array([0.3, 0.3]), 0.5, 0.5, np.array([0.1, 10.0]), 1.0, 400,
                         "gradient_l2")
    assert W.shape == (401, 2)
    assert np.all(np.isfinite(W[:, 0])) and not np.all(np.isfinite(W[:, 1]))
    with pytest.raises(ValueError, match="method"):
        descend_parabola(1.0, 0.5, 0.5, 0.1, 1.0, 3, "newton")


# --------------------------------------------------------------------------- gradient-view

def _gv_metrics(**over):
    """A complete gradient-view metrics dict (the seed's setting), then ``over``."""
    m = {"lam": 0.5, "step": 0.1, "lipschitz": 0.75, "w0": 1.0, "n_iter": 300, "tail": 50,
         "lam_threshold": 0.377, "mean_x2": 0.377, "w_hat": 0.5, "w_l1": 0.0,
         "l2_closed_form": 0.215, "subgradient_exact_zeros": 0,
         "subgradient_sign_changes_in_tail": 16, "subgradient_amplitude": 0.049,
         "subgradient_amplitude_over_step_lam": 0.98, "subgradient_final_w": 0.02,
         "subgradient_iterations_run": 300, "subgradient_overflow_at": None,
         "subgradient_diverged": False, "subgradient_max_abs_w": 1.0,
         "subgradient_sqrt_final_abs_w": 2e-9, "subgradient_sqrt_exact_zeros": 0,
         "ista_iterations_to_zero": 26, "ista_stays_zero": True, "ista_tail_max_abs_w": 0.0,
         "ista_final_w": 0.0, "ista_exact_zeros": 275, "ista_iterations_run": 300,
         "ista_overflow_at": None, "ista_diverged": False, "ista_max_abs_w": 1.0,
         "l2_exact_zeros": 0, "l2_rate_measured": 0.8246, "l2_rate_theory": 0.8246,
         "l2_final_w": 0.215, "l2_final_error": 0.0, "l2_min_abs_w": 0.215,
         "l2_iterations_run": 300, "l2_overflow_at": None, "l2_diverged": False,
         "l2_max_abs_w": 1.0}
    m.update(over)
    return m


def test_view_words_when_everything_held():
    _, outcome, verdict, _ = _verdict(gradient_view, _gv_metrics())
    assert outcome == HOLDS
    assert "As the seed says" in verdict and "hit exactly 0.0 at iteration 26" in verdict
    assert "0.98 x step*lam" in verdict and "changed sign 16 times" in verdict
    assert "approached w_L2 = 0.215" in verdict and "Missed" not in verdict


def test_view_words_step_too_small_for_ista():
    """--step 1e-4 at lam = 0.5 > lam*: ISTA does not get to 0 in the budget; the sentence says how
    far it got and does not blame lam."""
    m = _gv_metrics(step=1e-4, subgradient_sign_changes_in_tail=0, subgradient_final_w=0.974,
                    subgradient_amplitude_over_step_lam=44.0, ista_iterations_to_zero=None,
                    ista_stays_zero=False, ista_tail_max_abs_w=0.974, ista_final_w=0.974,
                    ista_exact_zeros=0, l2_rate_measured=0.99982, l2_rate_theory=0.99982,
                    l2_final_w=0.96, l2_final_error=0.745, l2_min_abs_w=0.96)
    preds, outcome, verdict, _ = _verdict(gradient_view, m)
    by = {p.name: p.held for p in preds}
    assert outcome == PART
    assert not by["ista_exactly_zero_in_finite_steps"]
    assert not by["subgradient_oscillates_around_zero"] and by["l2_approaches_geometrically"]
    assert "ISTA never reached 0: it ended at w = 0.974" in verdict
    assert "2.6% of the way from w0 = 1 to 0" in verdict
    assert "lam >= lam*, so 0 is the L1 minimizer" in verdict and "lam < lam*" not in verdict
    assert "converged" not in verdict and "0.745 from w_L2" in verdict
    assert "1 - 0.00018" in verdict                     # a rate told apart from 1


def test_view_words_when_nothing_held():
    m = _gv_metrics(subgradient_exact_zeros=3, subgradient_sign_changes_in_tail=0,
                    subgradient_amplitude_over_step_lam=math.inf, ista_iterations_to_zero=None,
                    ista_stays_zero=False, ista_tail_max_abs_w=0.3, ista_final_w=0.3,
                    l2_exact_zeros=2, l2_rate_measured=1.104, l2_diverged=True,
                    l2_max_abs_w=6.7e12)
    _, outcome, verdict, _ = _verdict(gradient_view, m)
    assert outcome == FAILS and "contradict the seed: 0 of 6" in verdict
    assert "produced 3 exact zeros" in verdict
    assert "L2 gradient descent diverged: it ran away to |w| = 6.7e+12" in verdict
    assert "1.104 per step" in verdict
    assert "approached" not in verdict and "converged" not in verdict


def test_view_default_numbers_against_closed_forms(view):
    """The recorded runs against a plain numpy recurrence and the closed forms."""
    m = view.metrics
    data = make_one_weight_data(n=100, w_true=0.5, seed=0)
    a = float(np.mean(data.x ** 2))
    w_hat = float(np.mean(data.x * data.y) / a)
    lam, t = m["lam"], m["step"]
    assert m["mean_x2"] == pytest.approx(a, rel=1e-12) and m["lam_threshold"] == pytest.approx(
        2 * a * abs(w_hat), rel=1e-12)
    w, sub, prox = 1.0, [1.0], [1.0]
    for _ in range(m["n_iter"]):
        w = w - t * (2 * a * (w - w_hat) + lam * np.sign(w))
        sub.append(w)
    w = 1.0
    for _ in range(m["n_iter"]):
        v = w - t * 2 * a * (w - w_hat)
        w = np.sign(v) * max(abs(v) - t * lam, 0.0)
        prox.append(w)
    sub, prox = np.array(sub), np.array(prox)
    assert m["subgradient_exact_zeros"] == int(np.sum(sub == 0.0))
    tail = sub[-m["tail"]:]
    assert m["subgradient_band_width"] == pytest.approx(np.ptp(tail), rel=1e-9)
    assert m["subgradient_sign_changes_in_tail"] == int(np.sum(np.diff(np.sign(tail)) != 0))
    assert m["ista_iterations_to_zero"] == int(np.flatnonzero(prox == 0.0)[0])
    assert isinstance(m["ista_iterations_to_zero"], int) and 0 < m["ista_iterations_to_zero"] < 300
    assert m["l2_final_w"] == pytest.approx(a * w_hat / (a + lam), rel=1e-9)
    assert m["l2_rate_measured"] == pytest.approx(abs(1 - 2 * t * (a + lam)), rel=1e-6)
    assert m["w_l1"] == w_l1(a, w_hat, lam) and m["l2_closed_form"] == pytest.approx(
        w_l2(a, w_hat, lam), rel=1e-12)
    assert 0.3 < m["subgradient_band_over_step_lam"] < 5
    assert all(v.passed for v in view.verifications)


def test_view_step_1e4_is_a_true_failure():
    r = _run("gradient-view", step=1e-4)
    by = {p.name: p for p in r.predictions}
    assert r.outcome in (PART, FAILS)
    assert not by["ista_exactly_zero_in_finite_steps"].held
    assert r.metrics["lam"] >= r.metrics["lam_threshold"]
    assert "ISTA never reached 0" in r.verdict and "of the way from w0" in r.verdict
    assert "lam < lam*" not in r.verdict and "converged" not in r.verdict


@pytest.mark.parametrize("kw, diverged", [({"step": 1.2}, "l2"), ({"lam": 1e6}, "l2"),
                                          ({"step": 3.0, "lam": 0.01}, "ista")])
def test_view_divergence_is_measured_not_raised(kw, diverged):
    r = _run("gradient-view", **kw)
    m = r.metrics
    assert m[f"{diverged}_diverged"] and r.outcome in (PART, FAILS)
    name = {"l2": "L2 gradient descent", "ista": "ISTA"}[diverged]
    assert f"{name} diverged" in r.verdict and "converged" not in r.verdict
    if diverged == "l2":
        assert not {p.name: p.held for p in r.predictions}["l2_approaches_geometrically"]
        assert m["l2_rate_measured"] == pytest.approx(abs(m["l2_rate_theory"]), rel=1e-6)
    figs = REGISTRY["gradient-view"].plot(r)
    assert all(isinstance(fig, Figure) for fig, _ in figs.values())
    assert "diverged" in figs["gradient_view_trajectories"][1]


def test_view_lam_zero_and_below_threshold():
    r0 = _run("gradient-view", lam=0.0)                   # once a ZeroDivisionError
    assert r0.metrics["subgradient_band_over_step_lam"] is None
    assert "lam = 0: there is no L1 push" in r0.verdict and r0.outcome in (PART, FAILS)
    r = _run("gradient-view", lam=0.2)
    assert r.metrics["ista_iterations_to_zero"] is None
    assert "lam < lam*: the L1 minimizer is w_L1" in r.verdict
    assert not {p.name: p.held for p in r.predictions}["ista_exactly_zero_in_finite_steps"]


def test_view_figures(view):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figs = REGISTRY["gradient-view"].plot(view)
    assert set(figs) == {"gradient_view_trajectories", "gradient_view_push"}
    assert "exactly 0.0 from iteration" in figs["gradient_view_trajectories"][1]


# --------------------------------------------------------------------------- gradient-table

def _gt_metrics(**over):
    m = {"lam": 0.5, "n_points": 2000, "fd_step": 1e-6, "fd_tolerance": 1e-6,
         "w_abs_range": [1e-4, 9.9], "max_abs_error_l1": 4e-10, "max_abs_error_l2": 1e-8,
         "max_abs_error_elasticnet": 5e-9, "l1_gradient_magnitude_min": 0.5,
         "l1_gradient_magnitude_max": 0.5, "l2_gradient_over_w_min": 1.0,
         "l2_gradient_over_w_max": 1.0, "l1_right_derivative_at_0": 0.5,
         "l1_left_derivative_at_0": -0.5, "l2_right_derivative_at_0": 5e-7,
         "l2_left_derivative_at_0": -5e-7, "l1_gradient_at_1e-6": 0.5,
         "l2_gradient_at_1e-6": 1e-6, "l1_min_norm_subgradient_at_0": 0.0,
         "descent_lam": 0.5, "descent_step": 0.1, "n_draws": 200, "descent_iterations": 300,
         "w_hat_range": [-1.0, 1.0], "push_fade_l1_mean": 1.0, "push_fade_l2_mean": 0.4,
         "push_fade_difference_mean": 0.6, "push_fade_difference_se": 0.0015,
         "end_push_ratio_l2_over_l1_mean": 0.4, "end_push_ratio_se": 0.02,
         "l1_closer_to_zero_share": 0.99, "l1_closer_to_zero_se": 0.007, "diverged_l1": 0,
         "diverged_l2": 0, "closest_abs_w_l1_median": 1e-3, "closest_abs_w_l2_median": 0.2,
         "draws_below_lam_threshold": 50, "push_minus_penalty_gradient_max": 1e-15}
    m.update(over)
    return m


def test_table_words_for_each_outcome():
    _, outcome, verdict, _ = _verdict(gradient_table, _gt_metrics())
    assert outcome == HOLDS and "L2 push 0.4 x" in verdict and "99.0% of the draws" in verdict
    _, outcome, verdict, _ = _verdict(gradient_table, _gt_metrics(
        end_push_ratio_l2_over_l1_mean=1.3, l1_closer_to_zero_share=0.42))
    assert outcome == PART and "1 of 3 predictions held" in verdict
    assert "averaged 1.3" in verdict and "42.0% of the draws" in verdict
    _, outcome, verdict, _ = _verdict(gradient_table, _gt_metrics(
        push_fade_l2_mean=math.inf, push_fade_difference_mean=-math.inf,
        push_fade_difference_se=None, end_push_ratio_l2_over_l1_mean=math.inf,
        end_push_ratio_se=None, l1_closer_to_zero_share=0.3, diverged_l2=77))
    assert outcome == FAILS and "77 L2 descents diverged" in verdict


def test_table_lam_zero_speaks_of_no_kink():
    """At lam = 0 the one-sided slopes are +0 and -0: no sentence may call that a kink."""
    r = _run("gradient-table", lam=0.0)
    assert r.outcome == FAILS
    texts = [r.verdict, r.nuance] + [v.text for v in r.verifications]
    assert all("kink" not in t or "no kink" in t for t in texts)
    assert "no push" in r.verdict and "lam = 0" in r.verdict
    for fig, caption in REGISTRY["gradient-table"].plot(r).values():
        assert isinstance(fig, Figure) and caption


@pytest.mark.parametrize("kw", [{"step": 1.2}, {"lam": 1e6}, {"step": 1e-4}])
def test_table_named_settings_run_with_true_sentences(kw):
    r = _run("gradient-table", **kw)
    m = r.metrics
    if m["diverged_l2"]:
        assert f"{m['diverged_l2']} L2 descents diverged" in r.verdict
        assert r.outcome in (PART, FAILS)
    assert f"{m['l1_closer_to_zero_share']:.1%} of the draws" in r.verdict


def test_table_formula_numbers(table):
    m, lam = table.metrics, table.metrics["lam"]
    assert m["l1_gradient_magnitude_min"] == pytest.approx(lam, abs=1e-6)
    assert m["l1_gradient_magnitude_max"] == pytest.approx(lam, abs=1e-6)
    assert m["l2_gradient_over_w_min"] == pytest.approx(2 * lam, rel=1e-4)
    assert m["l1_right_derivative_at_0"] == pytest.approx(lam, rel=1e-9)
    assert m["l1_left_derivative_at_0"] == pytest.approx(-lam, rel=1e-9)
    assert all(v.passed for v in table.verifications)


def test_table_descent_numbers_against_closed_forms(table):
    """L2 descents are linear recurrences: w_k = w_L2 + c^k (w0 - w_L2), c = 1 - 2 t (a + lam)."""
    m, d = table.metrics, table.data
    a, w_hat, lam, t = d["a_draws"], d["w_hat_draws"], m["descent_lam"], m["descent_step"]
    K = m["descent_iterations"]
    target = w_hat * a / (a + lam)
    c = 1 - 2 * t * (a + lam)
    w_last = target + c ** (K - 1) * (w_hat - target)      # the iterate of the last step
    np.testing.assert_allclose(d["push_l2"][-1], 2 * lam * np.abs(w_last), rtol=1e-9)
    assert m["push_fade_l2_mean"] == pytest.approx(np.mean(np.abs(w_last / w_hat)), rel=1e-9)
    assert m["push_fade_l1_mean"] == pytest.approx(1.0, abs=1e-12)
    ratio = np.abs(w_last) * 2 * lam / lam
    assert m["end_push_ratio_l2_over_l1_mean"] == pytest.approx(np.mean(ratio), rel=1e-9)
    assert m["end_push_ratio_se"] == pytest.approx(np.std(ratio, ddof=1) / np.sqrt(len(ratio)),
                                                   rel=1e-9)
    assert m["draws_below_lam_threshold"] == int(np.sum(lam < 2 * a * np.abs(w_hat)))


def test_table_seeded():
    a, b = _run("gradient-table", seed=3), _run("gradient-table", seed=3)
    assert a.metrics == b.metrics
    assert a.metrics["l1_closer_to_zero_share"] != _run("gradient-table", seed=4).metrics[
        "l1_closer_to_zero_share"] or a.metrics["push_fade_l2_mean"] != _run(
        "gradient-table", seed=4).metrics["push_fade_l2_mean"]
