"""The command line: explain runs, and bad input gets one line and a non-zero exit."""

import json
import os
import subprocess
import sys

import pytest

from regulab.cli import main

from cli_runner import run_cli


def test_explain_writes_report(tmp_path, capsys):
    code, out, err = run_cli(["explain", "--out", str(tmp_path), "--only", "one-weight"], capsys)
    assert code == 0, err
    assert (tmp_path / "index.html").is_file()
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["claims"][0]["id"] == "one-weight"
    assert "one-weight" in out and doc["claims"][0]["outcome"] in out  # the badge is the JSON's


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


def test_convert_lasso_to_glmnet(capsys):
    code, out, _ = run_cli(["convert", "--from", "sklearn-lasso", "--alpha", "0.1", "--to",
                            "glmnet", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["regulab"]["l1"] == pytest.approx(0.2) and doc["regulab"]["l2"] == 0
    (row,) = doc["to"]
    assert row["params"] == {"lambda": pytest.approx(0.1), "alpha": pytest.approx(1.0)}


def test_convert_table_lists_every_tool(capsys):
    code, out, _ = run_cli(["convert", "--from", "regulab", "--lam", "0.3", "--l1-ratio", "0.5",
                            "--n-samples", "200"], capsys)
    assert code == 0
    for name in ["sklearn-elasticnet", "glmnet", "torch-adamw", "keras-l1l2"]:
        assert name in out


def test_convert_ridge_round_trip_through_cli(capsys):
    code, out, _ = run_cli(["convert", "--from", "sklearn-ridge", "--alpha", "2", "--n-samples",
                            "100", "--to", "torch-sgd", "--json"], capsys)
    assert code == 0
    # Ridge alpha=2 on n=100 is regulab l2 = 0.02, i.e. SGD weight_decay = 2 * l2 = 0.04
    assert json.loads(out)["to"][0]["params"]["weight_decay"] == pytest.approx(0.04)


@pytest.mark.parametrize("args, words", [
    (["--from", "sklearn-ridge", "--alpha", "2"], ["--n-samples"]),
    (["--from", "nope", "--alpha", "1"], ["'nope'", "sklearn-lasso"]),
    (["--from", "sklearn-lasso", "--alpha", "-1"], ["alpha", "-1"]),
    (["--from", "sklearn-lasso", "--alpha", "x"], ["alpha"]),
    (["--from", "sklearn-lasso", "--lam", "1"], ["unexpected", "lam"]),
    (["--from", "sklearn-lasso"], ["alpha"]),
    (["--from", "sklearn-ridge", "--alpha", "1", "--n-samples", "0"], ["n"]),
])
def test_convert_bad_input(capsys, args, words):
    code, _, err = run_cli(["convert"] + args, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for w in words:
        assert w in err


def test_conventions_lists_ids(capsys):
    code, out, _ = run_cli(["conventions"], capsys)
    assert code == 0 and "sklearn-lasso" in out and "glmnet" in out


def test_scheduler_that_does_not_answer(capsys):
    pytest.importorskip("distributed")
    import socket
    import time

    with socket.socket() as s:  # a free loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    code, _, err = run_cli(["--scheduler", f"tcp://127.0.0.1:{port}", "fit", "diabetes",
                            "--target", "progression", "--cv", "3"], capsys)
    assert code == 1 and "scheduler" in err and len(err.strip().splitlines()) == 1
    assert time.perf_counter() - t0 < 30


def test_scheduler_needs_an_address(capsys):
    code, _, err = run_cli(["explain", "--scheduler"], capsys)
    assert code == 2 and "--scheduler needs an address" in err


def test_scheduler_needs_an_address_also_with_equals(capsys):
    code, _, err = run_cli(["--scheduler=", "claims"], capsys)
    assert code == 2 and "--scheduler needs an address" in err


def test_global_flags_are_read_anywhere():
    """--debug and --scheduler are taken out of the command line before typer parses it, wherever
    they stand; typer's root command does not declare them (no option that is never read)."""
    import typer.main

    from regulab.cli import UsageProblem, app, pop_global_flags

    assert pop_global_flags(["--debug", "fit", "x", "--scheduler", "tcp://h:1", "--cv", "3"]) \
        == (["fit", "x", "--cv", "3"], "tcp://h:1")
    assert pop_global_flags(["fit", "--scheduler=tcp://h:1", "x", "--debug"]) \
        == (["fit", "x"], "tcp://h:1")
    assert pop_global_flags(["fit", "x"]) == (["fit", "x"], None)
    with pytest.raises(UsageProblem, match="needs an address"):
        pop_global_flags(["fit", "x", "--scheduler", "--debug"])
    root = {p.name for p in typer.main.get_command(app).params}
    assert "debug" not in root and "scheduler" not in root


def test_help_names_the_global_flags(capsys):
    code, out, _ = run_cli(["--help"], capsys)
    text = " ".join(out.split())
    assert code == 0 and "--debug" in text and "--scheduler ADDRESS" in text
    assert "regulab[distributed]" in text


def test_debug_shows_traceback_of_a_data_command(tmp_path):
    from regulab.data.errors import DataError

    with pytest.raises(DataError, match="no such file"):
        main(["--debug", "fit", str(tmp_path / "missing.csv")])
    with pytest.raises(ValueError, match="--lam"):
        main(["fit", "diabetes", "--lam", "-1", "--debug"])


def test_debug_fit_subprocess(tmp_path):
    missing = str(tmp_path / "missing.csv")
    plain = subprocess.run([sys.executable, "-m", "regulab", "fit", missing],
                           capture_output=True, text=True)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 1 and "no such file" in plain.stderr
    debug = subprocess.run([sys.executable, "-m", "regulab", "--debug", "fit", missing],
                           capture_output=True, text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "DataError" in debug.stderr


HEAVY = ("pandas", "sklearn", "matplotlib", "torch", "numba", "dash")


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["fit", "--help"]])
def test_version_and_help_stay_light(args):
    """The command bodies (and the libraries they need) are imported only when a command runs."""
    code = ("import sys\nfrom regulab.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as exc:\n    assert exc.code == 0\n"
            f"sys.stderr.write('loaded=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines()[-1] == "loaded="


def test_max_rows_default_matches_the_reader():
    from regulab.commands.options import DEFAULT_MAX_ROWS
    from regulab.data.reading import DEFAULT_MAX_ROWS as READER_DEFAULT

    assert DEFAULT_MAX_ROWS == READER_DEFAULT
