"""The report writer and the file helpers of core.io, tested directly (not through explain)."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from matplotlib.figure import Figure

from regulab.core.io import atomic_write, jsonable
from regulab.report.claims.base import (
    ClaimResult,
    ExplainConfig,
    Prediction,
    Verification,
)
from regulab.report.writer import (
    ReportError,
    prepare_out_dir,
    results_document,
    save_figure,
    seeds_text,
    write_html,
    write_results_json,
)


def test_jsonable_plain_json_and_nonfinite_as_null():
    doc = jsonable({"a": np.float32(1.5), "b": [np.int64(3), np.nan, -np.inf],
                    "c": np.array([[1, 2]]), "d": np.bool_(True), 4: (1.0, None)})
    assert doc == {"a": 1.5, "b": [3, None, None], "c": [[1, 2]], "d": True, "4": [1.0, None]}
    json.dumps(doc, allow_nan=False)  # strict JSON
    assert type(doc["d"]) is bool and type(doc["b"][0]) is int


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path):
    target = tmp_path / "f.txt"
    target.write_bytes(b"old")
    atomic_write(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    target.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]  # the temp file is gone


def test_prepare_out_dir_refuses_a_file_in_the_way(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportError, match="cannot write the report to"):
        prepare_out_dir(blocker / "sub")
    assert blocker.read_text() == "x"
    out = prepare_out_dir(tmp_path / "new" / "deep")
    assert (out / "figures").is_dir() and not [p for p in out.iterdir() if p.is_file()]


def test_save_figure_is_deterministic(tmp_path):
    def draw():
        fig = Figure()
        fig.subplots().plot([0, 1, 2], [1, 0, 2])
        return fig

    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        prepare_out_dir(d)
        assert save_figure(draw(), d, "x") == ["figures/x.png", "figures/x.svg"]
    for ext in ("png", "svg"):
        assert (a / f"figures/x.{ext}").read_bytes() == (b / f"figures/x.{ext}").read_bytes()
    assert (a / "figures/x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _result(cid="c", outcome_preds=(True, False), skipped=None):
    preds = [Prediction(f"p{i}", f"prediction {i}", 1.0 if h else -1.0, ">", 0.0)
             for i, h in enumerate(outcome_preds)]
    from regulab.report.claims.base import outcome_of

    out = "skipped" if skipped else outcome_of(preds)
    return ClaimResult(id=cid, title="T", source="S", statement="St", holds=out == "holds",
                       verdict="v", metrics={"x": math.nan, "y": 2}, outcome=out,
                       predictions=[] if skipped else preds, skipped=skipped,
                       verifications=[Verification("i", "identity", True)],
                       checks={p.name: p.held for p in preds})


def test_results_document_contract():
    results = [_result("a", (True, True)), _result("b", (True, False)),
               _result("c", (False, False)), _result("d", skipped="skipped: needs torch")]
    doc = results_document(results, ExplainConfig(seed=3), seeds=[3, 4])
    assert doc["seed"] == 3 and doc["seeds"] == [3, 4] and doc["schema"] == 1
    assert [c["outcome"] for c in doc["claims"]] == ["holds", "holds in part", "does not hold",
                                                     "skipped"]
    b = doc["claims"][1]
    assert b["holds"] is False and b["checks"] == {"p0": True, "p1": False}
    assert [(p["name"], p["held"], p["margin"]) for p in b["predictions"]] == [
        ("p0", True, 1.0), ("p1", False, -1.0)]
    assert b["verifications"] == [{"name": "i", "text": "identity", "passed": True, "detail": ""}]
    assert b["metrics"] == {"x": None, "y": 2}
    s = doc["summary"]
    assert (s["claims"], s["ran"], s["hold"]) == (4, 3, 1) and s["skipped"] == ["d"]
    assert s["outcomes"] == {"holds": 1, "holds in part": 1, "does not hold": 1, "skipped": 1}
    assert s["per_claim"]["b"]["held"] == 1 and s["per_claim"]["b"]["predictions"] == 2
    assert s["per_claim"]["c"]["tightest"] == {"name": "p0", "margin": -1.0}
    json.dumps(doc, allow_nan=False)


def test_html_shows_outcomes_predictions_and_escapes(tmp_path):
    out = prepare_out_dir(tmp_path)
    r = _result("a", (True, False))
    r.verdict = "<script>alert(1)</script>"
    write_results_json([r], out, ExplainConfig())
    html = write_html([r], out, ExplainConfig()).read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "holds in part" in html and "prediction 1" in html and "missed" in html
    assert "Verifications of the code" in html and "not evidence" in html


@pytest.mark.parametrize("seeds, text", [([0, 1, 2, 3], "0-3"), ([0, 5], "0, 5"), ([7], "7"),
                                         ([1, 2], "1, 2")])
def test_seeds_text(seeds, text):
    assert seeds_text(seeds) == text
