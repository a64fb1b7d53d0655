"""The claims framework: predictions, verdicts from numbers, error isolation, runs over seeds.

Every verdict here is fed numbers; no test requires an experiment to come out "holds"."""

from __future__ import annotations

import json
import math

import pytest

from regulab.report.claims import REGISTRY, one_weight
from regulab.report.claims import base as B
from regulab.report.claims.base import (
    FAILS,
    HOLDS,
    NOT_TESTED,
    PART,
    Claim,
    ExplainConfig,
    Measured,
    Prediction,
    Verification,
    outcome_of,
)
from regulab.report.explain import explain, parse_seeds, robustness

# ------------------------------------------------------------------------------- Prediction

@pytest.mark.parametrize("op, value, threshold, held, margin", [
    (">", 2.0, 1.0, True, 1.0), (">", 1.0, 1.0, False, 0.0), (">", 0.5, 1.0, False, -0.5),
    (">=", 1.0, 1.0, True, 0.0), (">=", 0.9, 1.0, False, -0.1),
    ("<", 0.5, 1.0, True, 0.5), ("<", 1.0, 1.0, False, 0.0), ("<", 3.0, 1.0, False, -2.0),
    ("<=", 1.0, 1.0, True, 0.0), ("<=", 1.5, 1.0, False, -0.5),
])
def test_prediction_held_and_margin(op, value, threshold, held, margin):
    p = Prediction("x", "x", value, op, threshold)
    assert p.held is held
    assert p.margin == pytest.approx(margin)
    # the margin is positive exactly when the prediction held with room to spare
    assert (p.margin > 0) <= p.held


def test_prediction_nan_never_holds_and_bad_op_refused():
    for op in (">", ">=", "<", "<="):
        assert Prediction("x", "x", math.nan, op, 0.0).held is False
    with pytest.raises(ValueError, match="op must be one of"):
        Prediction("x", "x", 1.0, "==", 1.0)


def test_margin_in_se():
    p = Prediction("x", "x", 1.3, ">", 1.0, se=0.1)
    assert p.margin_in_se == pytest.approx(3.0)
    assert Prediction("x", "x", 1.3, ">", 1.0).margin_in_se is None
    assert Prediction("x", "x", 1.3, ">", 1.0, se=0.0).margin_in_se is None


# ------------------------------------------------------------------------------- outcomes

def _p(held: bool, applies: bool = True, name: str = "p") -> Prediction:
    return Prediction(name, name, 1.0 if held else -1.0, ">", 0.0, applies=applies)


@pytest.mark.parametrize("helds, applies, outcome", [
    ([True, True, True], [True] * 3, HOLDS),
    ([True, False, True], [True] * 3, PART),
    ([False, False], [True] * 2, FAILS),
    ([True, False], [True, False], HOLDS),          # an inapplicable miss is not counted
    ([False, True], [True, False], FAILS),          # nor is an inapplicable success
    ([True], [False], NOT_TESTED),
    ([], [], NOT_TESTED),
])
def test_outcome_from_predictions(helds, applies, outcome):
    preds = [_p(h, a, f"p{i}") for i, (h, a) in enumerate(zip(helds, applies))]
    assert outcome_of(preds) == outcome


def test_verifications_never_change_the_outcome():
    """A claim whose code checks fail but whose predictions held still 'holds' (and the report
    shows the failed verification); the reverse too."""
    class Fake:
        ID, TITLE, SOURCE, STATEMENT = "fake", "t", "s", "st"

        def __init__(self, pred_held, ver_passed):
            self.pred_held, self.ver_passed = pred_held, ver_passed

        def measure(self, config):
            return Measured({"v": 1.0})

        def predict(self, m, config):
            return [_p(self.pred_held)]

        def verify(self, m):
            return [Verification("identity", "an identity", self.ver_passed)]

        def words(self, m, preds, outcome):
            return f"outcome {outcome}", ""

    for pred_held, ver_passed, outcome in [(True, False, HOLDS), (False, True, FAILS)]:
        r = B.run_claim(Fake(pred_held, ver_passed), ExplainConfig())
        assert r.outcome == outcome and r.holds is (outcome == HOLDS)
        assert r.checks == {"p": pred_held}
        assert r.verifications[0].passed is ver_passed
        assert r.verdict == f"outcome {outcome}"


# ------------------------------------------------------------------------------- explain

def _fake_claim(cid, run):
    return Claim(id=cid, title=cid, source="s", statement="st", run=run, plot=lambda r: {})


def _seeded_result(config):
    """held for even seeds, missed for odd ones; margin = seed - 0.5 or similar."""
    s = config.seed
    preds = [Prediction("even_seed", "the seed is even", float(s % 2 == 0), ">", 0.5),
             Prediction("always", "always", float(s) + 1.0, ">", 0.0)]
    out = outcome_of(preds)
    return B.ClaimResult(id="seeded", title="t", source="s", statement="st",
                         holds=out == HOLDS, verdict=out, metrics={"seed": s}, outcome=out,
                         predictions=preds, checks={p.name: p.held for p in preds})


def test_error_is_isolated_and_the_report_is_written(tmp_path, monkeypatch):
    from regulab.report import claims as claims_mod

    monkeypatch.setitem(claims_mod.REGISTRY, "boom", _fake_claim("boom", lambda c: 1 / 0))
    monkeypatch.setitem(claims_mod.REGISTRY, "seeded", _fake_claim("seeded", _seeded_result))
    results = explain(tmp_path, only=["boom", "seeded"])
    assert [r.outcome for r in results] == ["error", HOLDS]
    assert "ZeroDivisionError" in results[0].error and "\n" not in results[0].verdict
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["claims"][0]["outcome"] == "error" and "ZeroDivisionError" in doc["claims"][0]["error"]
    assert doc["summary"]["outcomes"] == {"error": 1, HOLDS: 1}
    html = (tmp_path / "index.html").read_text()
    assert "ZeroDivisionError" in html and "error" in html


def test_robustness_over_seeds(tmp_path, monkeypatch):
    from regulab.report import claims as claims_mod

    monkeypatch.setitem(claims_mod.REGISTRY, "seeded", _fake_claim("seeded", _seeded_result))
    (r,) = explain(tmp_path, only=["seeded"], seeds=[0, 1, 2, 3, 5])
    assert r.metrics["seed"] == 0                     # the first seed's result is the one shown
    rob = r.robustness
    assert rob["seeds"] == [0, 1, 2, 3, 5]
    assert rob["outcomes"] == {HOLDS: 2, PART: 3}
    even = rob["predictions"]["even_seed"]
    assert (even["held"], even["applied"]) == (2, 5) and even["share_held"] == pytest.approx(0.4)
    assert even["min_margin"] == pytest.approx(-0.5) and even["min_margin_seed"] == 1
    always = rob["predictions"]["always"]
    assert always["share_held"] == 1.0 and always["min_margin"] == 1.0 and always["min_margin_seed"] == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["seeds"] == [0, 1, 2, 3, 5]
    assert doc["summary"]["per_claim"]["seeded"]["seed_outcomes"] == {HOLDS: 2, PART: 3}
    assert "2 of 5" in (tmp_path / "index.html").read_text()


def test_robustness_counts_errors_per_seed():
    ok = _seeded_result(ExplainConfig(seed=0))
    bad = _fake_claim("seeded", None).error_result(RuntimeError("diverged"))
    rob = robustness([ok, bad], [0, 1])
    assert rob["outcomes"] == {HOLDS: 1, "error": 1}
    assert rob["errors"] == {1: "RuntimeError: diverged"}


@pytest.mark.parametrize("text, seeds", [("0-3", [0, 1, 2, 3]), ("5", [5]), ("0,3,7", [0, 3, 7]),
                                         ("0-1, 4-5", [0, 1, 4, 5])])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text, match", [("3-1", "backwards"), ("-1", "look like"),
                                         ("a", "look like"), ("1,1", "repeat"),
                                         ("0-5000", "at most")])
def test_parse_seeds_refuses(text, match):
    with pytest.raises(ValueError, match=match):
        parse_seeds(text)


# ------------------------------------------------------------------------------- one-weight

def _ow_metrics(**over):
    """One-weight metrics as the seed's setting gives them, with some numbers replaced."""
    m = {"n": 100, "w_true": 0.5, "w_hat": 0.5, "mean_x2": 0.3768, "lam": 0.5,
         "lam_threshold": 0.3768, "w_l1": 0.0, "w_l2": 0.2149, "w_l1_grid": 0.0,
         "w_l2_grid": 0.215, "grid_spacing": 5e-4, "w_l1_ista": 0.0, "w_l2_gd": 0.2149,
         "ista_iterations": 1, "gd_iterations": 40, "mse_argmin_grid": 0.5, "mse_min": 0.0,
         "l2_shrink_factor": 0.4297, "ista_sweep_lams": 21, "ista_sweep_zeros": 10,
         "ista_sweep_wrong": 0, "w_l1_ista_just_below_threshold": 1e-3,
         "w_l2_at_100x_threshold": 4.95e-3}
    m.update(over)
    return m


def _ow(m):
    preds = one_weight.predict(m, ExplainConfig())
    outcome = outcome_of(preds)
    verdict, nuance = one_weight.words(m, preds, outcome)
    return outcome, verdict, preds


def test_one_weight_verdict_follows_the_numbers():
    outcome, verdict, _ = _ow(_ow_metrics())
    assert outcome == HOLDS and "exactly 0" in verdict and "0.2149" in verdict

    # a solver that stopped short of 0 above lam*: the seed's statement is contradicted at lam
    outcome, verdict, preds = _ow(_ow_metrics(w_l1_ista=3e-5))
    assert outcome == PART
    assert "3e-05, not 0" in verdict and "Missed" in verdict and "1 of 5" not in verdict
    assert not next(p for p in preds if p.name == "l1_exactly_zero_at_lam").held

    # L2 at exactly 0 still "shrinks" (0 < w_hat): one prediction misses, one holds
    outcome, _, preds = _ow(_ow_metrics(w_l2_gd=0.0))
    assert outcome == PART and [p.name for p in preds if not p.held] == ["l2_not_zero_at_lam"]

    # everything contradicted: L1 not 0, L2 exactly 0 and not below w_hat, the threshold law broken
    outcome, verdict, _ = _ow(_ow_metrics(w_hat=0.0, w_l1_ista=0.1, w_l2_gd=0.0,
                                          ista_sweep_wrong=7, w_l2_at_100x_threshold=0.0))
    assert outcome == FAILS
    assert verdict.startswith("The measurements contradict the seed")
    assert "disagreed with the threshold law at 7" in verdict
    assert "reached exactly 0 at lam = 100 lam*" in verdict


def test_one_weight_below_threshold_is_held_in_part_with_the_reason(tmp_path):
    r = REGISTRY["one-weight"].run(ExplainConfig(seed=0, lam=0.2))
    m = r.metrics
    assert m["lam"] < m["lam_threshold"] and m["w_l1_ista"] > 0
    assert r.outcome in (PART, FAILS)
    assert "below lam*" in r.verdict and f"{m['w_l1_ista']:.4g}, not 0" in r.verdict
    assert "Missed" in r.verdict


def test_one_weight_at_lam_zero_says_no_penalty_acts():
    r = REGISTRY["one-weight"].run(ExplainConfig(seed=0, lam=0.0))
    assert r.outcome in (PART, FAILS)
    assert "neither penalty acts" in r.verdict
    assert r.metrics["w_l1_ista"] == pytest.approx(r.metrics["w_hat"], abs=1e-12)
