"""`regulab explain` on the command line: claim lists, several seeds, failing claims."""

from __future__ import annotations

import json

import pytest

from regulab.report.claims.base import Claim

from cli_runner import run_cli


@pytest.mark.parametrize("only", [["--only", "one-weight,gradient-table"],
                                  ["--only", "one-weight", "--only", "gradient-table"]])
def test_only_takes_a_list(tmp_path, capsys, only):
    code, out, err = run_cli(["explain", "--out", str(tmp_path)] + only, capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "results.json").read_text())
    assert [c["id"] for c in doc["claims"]] == ["one-weight", "gradient-table"]


def test_seeds_report_share_held(tmp_path, capsys):
    code, out, err = run_cli(["explain", "--out", str(tmp_path), "--only", "one-weight",
                              "--seeds", "0-2"], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["seeds"] == [0, 1, 2] and doc["seed"] == 0
    rob = doc["claims"][0]["robustness"]
    assert sum(rob["outcomes"].values()) == 3
    for name, d in rob["predictions"].items():
        assert d["applied"] <= 3 and 0 <= d["held"] <= d["applied"]
        assert len(d["values"]) == 3
    assert "0..2" in out and "seeds 0-2" in (tmp_path / "index.html").read_text()


@pytest.mark.parametrize("bad", ["3-1", "x", "1,1"])
def test_bad_seeds_one_line(tmp_path, capsys, bad):
    code, _, err = run_cli(["explain", "--out", str(tmp_path), "--seeds", bad], capsys)
    assert code == 2 and "--seeds" in err and len(err.strip().splitlines()) == 1


def test_a_failing_claim_is_reported_and_the_others_run(tmp_path, capsys, monkeypatch):
    from regulab.report import claims as claims_mod

    def boom(config):
        raise FloatingPointError("overflow in the experiment")

    fake = Claim(id="boom", title="t", source="s", statement="st", run=boom, plot=lambda r: {})
    monkeypatch.setitem(claims_mod.REGISTRY, "boom", fake)
    code, out, err = run_cli(["explain", "--out", str(tmp_path), "--only", "boom,gradient-table"],
                             capsys)
    assert code == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    by_id = {c["id"]: c for c in doc["claims"]}
    assert by_id["boom"]["outcome"] == "error"
    assert by_id["gradient-table"]["outcome"] != "error" and by_id["gradient-table"]["figures"]
    assert "overflow in the experiment" in err and "Traceback" not in err
