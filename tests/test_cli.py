"""The command line: explain runs, and bad input gets one line and a non-zero exit."""

import json
import os
import subprocess
import sys

import pytest

from regulab.cli import main


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


def test_explain_writes_report(tmp_path, capsys):
    code, out, err = run_cli(["explain", "--out", str(tmp_path), "--only", "one-weight"], capsys)
    assert code == 0, err
    assert "one-weight" in out and "holds" in out
    assert (tmp_path / "index.html").is_file()
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["claims"][0]["id"] == "one-weight"


def test_unknown_claim_id(tmp_path, capsys):
    code, out, err = run_cli(["explain", "--out", str(tmp_path), "--only", "nope"], capsys)
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1 and "'nope'" in lines[0]
    for cid in ["one-weight", "gradient-view", "gradient-table"]:
        assert cid in lines[0]
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; see the file-in-the-way test")
def test_unwritable_out_permission(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    code, _, err = run_cli(["explain", "--out", str(ro / "r")], capsys)
    assert code == 1 and "cannot write the report" in err


def test_unwritable_out_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli(["explain", "--out", str(blocker / "sub")], capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "cannot write the report" in err
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("args, word", [
    (["--lam", "-1"], "lam"), (["--lam", "abc"], "lam"), (["--step", "0"], "step"),
    (["--step", "-0.5"], "step"), (["--lam", "nan"], "lam"), (["--seed", "-3"], "seed")])
def test_bad_numbers(tmp_path, capsys, args, word):
    code, _, err = run_cli(["explain", "--out", str(tmp_path)] + args, capsys)
    assert code == 2
    assert word in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unknown_option(capsys):
    code, _, err = run_cli(["explain", "--bogus"], capsys)
    assert code == 2 and "--bogus" in err


def test_debug_shows_traceback(tmp_path):
    from regulab.cli import UsageProblem

    with pytest.raises(UsageProblem, match="valid ids"):
        main(["--debug", "explain", "--out", str(tmp_path), "--only", "nope"])
    with pytest.raises(ValueError, match="lam"):
        main(["explain", "--out", str(tmp_path), "--lam", "-1", "--debug"])


def test_version_and_help(capsys):
    code, out, _ = run_cli(["--version"], capsys)
    assert code == 0 and out.startswith("regulab ")
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0 and "explain" in out


def test_python_dash_m(tmp_path):
    r = subprocess.run([sys.executable, "-m", "regulab", "explain", "--out", str(tmp_path),
                        "--only", "gradient-table", "--lam", "-2"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "lam" in r.stderr
