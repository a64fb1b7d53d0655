"""`regulab explain` end to end: the results.json contract, the HTML's references, determinism."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape as markupsafe_escape

from regulab.core.onedim import make_one_weight_data
from regulab.report.claims import REGISTRY, ExplainConfig
from regulab.report.claims.base import Prediction, outcome_of
from regulab.report.explain import explain


@pytest.fixture(scope="module")
def report(explain_report):
    out, doc, _ = explain_report
    return out, doc


def _prediction(d: dict) -> Prediction:
    return Prediction(d["name"], d["text"], d["value"] if d["value"] is not None else float("nan"),
                      d["op"], d["threshold"], applies=d["applies"])


def test_every_verdict_follows_its_predictions(report):
    """Whatever came out, the outcome, the badge and the counts are the ones the predictions in
    results.json give (recomputed here from the written values, thresholds and ops)."""
    _, doc = report
    assert [c["id"] for c in doc["claims"]] == list(REGISTRY)
    counts = {}
    for c in doc["claims"]:
        if c.get("skipped"):
            continue
        preds = [_prediction(p) for p in c["predictions"]]
        assert preds, f"{c['id']} makes no prediction that could fail"
        for p, d in zip(preds, c["predictions"]):
            assert p.held is d["held"] and p.margin == pytest.approx(d["margin"], nan_ok=True)
        assert c["outcome"] == outcome_of(preds), c["id"]
        assert c["holds"] is (c["outcome"] == "holds")
        assert c["checks"] == {p.name: p.held for p in preds if p.applies}
        per = doc["summary"]["per_claim"][c["id"]]
        assert per["held"] == sum(p.held for p in preds if p.applies)
        assert per["predictions"] == sum(p.applies for p in preds)
        counts[c["outcome"]] = counts.get(c["outcome"], 0) + 1
    assert doc["summary"]["hold"] == counts.get("holds", 0)


def test_results_contract(report):
    out, doc = report
    assert set(doc) >= {"regulab_version", "seed", "claims"}
    assert isinstance(doc["regulab_version"], str) and doc["seed"] == 0
    for c in doc["claims"]:
        assert set(c) >= {"id", "title", "source", "holds", "metrics", "figures"}
        assert c["figures"], c["id"]
        for f in c["figures"]:
            assert not Path(f).is_absolute() and (out / f).is_file()
    m = {c["id"]: c["metrics"] for c in doc["claims"]}
    for key in ["w_true", "mean_x2", "lam", "w_l1", "w_l2", "lam_threshold", "w_l1_grid",
                "w_l2_grid"]:
        assert key in m["one-weight"]
    for key in ["subgradient_final_abs_w", "subgradient_exact_zeros", "ista_iterations_to_zero",
                "l2_final_w"]:
        assert key in m["gradient-view"]


def test_one_weight_numbers_against_closed_form(report):
    """Recompute the numbers from the data with plain numpy, independently of the claim code."""
    _, doc = report
    m = next(c for c in doc["claims"] if c["id"] == "one-weight")["metrics"]
    data = make_one_weight_data(n=m["n"], w_true=0.5, seed=0)
    a = np.mean(data.x**2)
    w_hat = np.sum(data.x * data.y) / np.sum(data.x**2)
    lam = m["lam"]
    assert m["w_true"] == 0.5 and w_hat == pytest.approx(0.5, abs=1e-12)
    assert m["mean_x2"] == pytest.approx(a, rel=1e-12)
    assert m["lam_threshold"] == pytest.approx(2 * a * 0.5, rel=1e-12)
    assert lam > m["lam_threshold"]  # the seed's point: L1 exactly 0 at the default lam
    assert m["w_l1"] == 0.0 and m["w_l1_grid"] == 0.0 and m["w_l1_ista"] == 0.0
    assert m["w_l2"] == pytest.approx(0.5 * a / (a + lam), rel=1e-12)
    assert abs(m["w_l2_grid"] - m["w_l2"]) <= m["grid_spacing"]
    assert m["w_l2"] > 0.1  # "clearly not" zero


def test_gradient_view_numbers(report):
    _, doc = report
    m = next(c for c in doc["claims"] if c["id"] == "gradient-view")["metrics"]
    assert m["subgradient_exact_zeros"] == 0 and m["subgradient_final_abs_w"] > 0
    assert isinstance(m["ista_iterations_to_zero"], int) and 0 < m["ista_iterations_to_zero"] < 300
    # L2: the fixed point of w <- w - t(2a(w - w_hat) + 2 lam w)
    a, lam = m["mean_x2"], m["lam"]
    assert m["l2_final_w"] == pytest.approx(a * 0.5 / (a + lam), rel=1e-9)
    assert m["l2_rate_measured"] == pytest.approx(1 - 2 * m["step"] * (a + lam), rel=1e-6)
    assert 0.3 < m["subgradient_band_over_step_lam"] < 5


def test_gradient_table_numbers(report):
    _, doc = report
    m = next(c for c in doc["claims"] if c["id"] == "gradient-table")["metrics"]
    lam = m["lam"]
    assert m["l1_gradient_magnitude_min"] == pytest.approx(lam, abs=1e-6)
    assert m["l1_gradient_magnitude_max"] == pytest.approx(lam, abs=1e-6)
    assert m["l2_gradient_over_w_min"] == pytest.approx(2 * lam, rel=1e-4)
    assert m["l1_right_derivative_at_0"] == pytest.approx(lam, rel=1e-9)
    assert m["l1_left_derivative_at_0"] == pytest.approx(-lam, rel=1e-9)


def test_html_references_exist_and_no_network(report):
    out, doc = report
    html = (out / "index.html").read_text()
    refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert refs
    for ref in refs:
        assert not re.match(r"^[a-z]+://", ref), ref  # opens with no network
        assert (out / ref).is_file(), ref
    for c in doc["claims"]:
        assert f'id="{c["id"]}"' in html
        assert str(markupsafe_escape(c["statement"][:40])) in html


def test_same_seed_same_numbers(tmp_path, report):
    """A second run (of the quick claims, to spare a second whole run) writes the same
    claim entries and the same figure files, byte for byte."""
    out, doc = report
    quick = ["one-weight", "gradient-table", "geometry"]
    explain(tmp_path, only=quick, config=ExplainConfig(seed=0))
    again = json.loads((tmp_path / "results.json").read_text())
    first = {c["id"]: c for c in doc["claims"]}
    for c in again["claims"]:
        assert json.dumps(c, sort_keys=True) == json.dumps(first[c["id"]], sort_keys=True), c["id"]
    for f in (tmp_path / "figures").iterdir():
        assert (out / "figures" / f.name).read_bytes() == f.read_bytes(), f.name


def test_other_seed_other_numbers(tmp_path):
    results = explain(tmp_path, only=["one-weight", "gradient-table"],
                      config=ExplainConfig(seed=7))
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["seed"] == 7 and doc["seeds"] == [7]
    m = doc["claims"][0]["metrics"]
    assert m["mean_x2"] != pytest.approx(0.3768038374207769, rel=1e-6)
    assert [r.outcome for r in results] == [c["outcome"] for c in doc["claims"]]


def test_only_runs_the_named_claim(tmp_path):
    explain(tmp_path, only=["gradient-table"])
    doc = json.loads((tmp_path / "results.json").read_text())
    assert [c["id"] for c in doc["claims"]] == ["gradient-table"]


def test_missing_optional_dependency_is_skipped(tmp_path, monkeypatch):
    from regulab.report import claims as claims_mod
    from regulab.report.claims.base import Claim

    fake = Claim(id="needs-missing", title="t", source="s", statement="st",
                 run=lambda c: 1 / 0, plot=lambda r: {}, requires=("no_such_module_xyz",),
                 install_hint="pip install 'regulab[nn]'")
    monkeypatch.setitem(claims_mod.REGISTRY, "needs-missing", fake)
    results = explain(tmp_path, only=["needs-missing", "gradient-table"])
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["summary"]["skipped"] == ["needs-missing"]
    assert "pip install" in results[1].skipped
    assert "skipped" in (tmp_path / "index.html").read_text()
