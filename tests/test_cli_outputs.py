"""Issue 14, command line: file modes under the umask, output paths checked before any work,
options that messages name, hand-edited model files, the CV rule of fit and compare, the help's
``regulab[distributed]`` and explain's ``--only``, all through :func:`regulab.cli.main`."""

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer.main

from regulab.cli import app, main
from regulab.core.io import atomic_write

from cli_runner import run_cli

SMALL = ["--n-lams", "20", "--cv", "3"]
ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("wide_console")


def one_line(code, err, *words):
    assert code not in (0, None)
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask077():
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    from regulab.data.datasets import load_builtin

    d = tmp_path_factory.mktemp("data")
    load_builtin("diabetes")[0].to_csv(d / "diabetes.csv", index=False)
    return d / "diabetes.csv"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, diabetes_csv):
    path = tmp_path_factory.mktemp("model") / "m.json"
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(diabetes_csv), "--target", "progression", "--save", str(path)] + SMALL)
    assert exc.value.code == 0
    return path


# ----------------------------------------------------------------------------- 3. the umask

def test_new_outputs_follow_the_umask(diabetes_csv, model_file, tmp_path, capsys, umask077):
    model = tmp_path / "model.json"
    code, _, err = run_cli(["fit", "diabetes", "--save", model, "--out", tmp_path / "rep"]
                           + SMALL, capsys)
    assert code == 0, err
    assert mode(model) == 0o600
    for f in ("index.html", "results.json", "figures/fit_path_cv.png"):
        assert mode(tmp_path / "rep" / f) == 0o600, f
    pred = tmp_path / "pred.csv"
    code, _, err = run_cli(["predict", model_file, diabetes_csv, "--out", pred], capsys)
    assert code == 0, err
    assert mode(pred) == 0o600


def test_replaced_output_keeps_its_mode(diabetes_csv, model_file, tmp_path, capsys):
    pred = tmp_path / "pred.csv"
    pred.write_text("old\n")
    pred.chmod(0o640)
    code, _, err = run_cli(["predict", model_file, diabetes_csv, "--out", pred], capsys)
    assert code == 0, err
    assert mode(pred) == 0o640 and pred.read_text() != "old\n"


def test_atomic_write_new_file_mode_is_that_of_open(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "a", b"x")
        with open(tmp_path / "b", "wb") as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "a") == mode(tmp_path / "b") == 0o640


def test_atomic_write_names_the_path_not_the_temporary_file(tmp_path):
    with pytest.raises(OSError) as info:
        atomic_write(tmp_path / "no" / "such" / "model.json", b"x")
    assert str(tmp_path / "no" / "such" / "model.json") in str(info.value)
    assert ".model.json." not in str(info.value)


# ----------------------------------------------------------------------------- 4. output paths

@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a command reads its data or model before its output paths are checked."""
    import regulab.commands.compare
    import regulab.commands.fit
    import regulab.commands.path
    import regulab.commands.predict
    import regulab.data.model_io

    def boom(*a, **k):
        raise AssertionError("data read before the output paths were checked")

    for mod in (regulab.commands.fit, regulab.commands.path, regulab.commands.compare):
        monkeypatch.setattr(mod, "load", boom)
    monkeypatch.setattr(regulab.commands.predict, "load_input", boom)
    monkeypatch.setattr(regulab.data.model_io, "load_model", boom)


def test_save_in_a_missing_folder_fails_before_the_fit(tmp_path, capsys, no_work, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["fit", "diabetes", "--save", "no/such/dir/model.json"], capsys)
    line = one_line(code, err, "no/such/dir/model.json", "--save", "does not exist")
    assert ".model.json." not in line and code == 1


@pytest.mark.parametrize("cmd", [["fit"], ["path"], ["compare"]])
def test_report_out_through_a_file_fails_before_the_work(cmd, tmp_path, capsys, no_work):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli(cmd + ["diabetes", "--out", blocker / "rep"], capsys)
    one_line(code, err, str(blocker / "rep"), "--out", "not a folder")
    code, _, err = run_cli(cmd + ["diabetes", "--out", blocker], capsys)
    one_line(code, err, str(blocker), "--out")
    assert blocker.read_text() == "x"


def test_save_that_is_a_folder_or_an_input(diabetes_csv, tmp_path, capsys, no_work):
    code, _, err = run_cli(["fit", "diabetes", "--save", tmp_path], capsys)
    one_line(code, err, str(tmp_path), "--save is a folder")
    code, _, err = run_cli(["fit", diabetes_csv, "--target", "progression", "--save",
                            diabetes_csv], capsys)
    one_line(code, err, "--save would overwrite the input file")


def test_predict_out_checked_before_the_model_is_read(diabetes_csv, tmp_path, capsys, no_work):
    model = tmp_path / "m.json"
    model.write_text("{}")
    code, _, err = run_cli(["predict", model, diabetes_csv, "--out", tmp_path / "no" / "p.csv"],
                           capsys)
    one_line(code, err, str(tmp_path / "no" / "p.csv"), "does not exist")
    code, _, err = run_cli(["predict", model, diabetes_csv, "--out", tmp_path], capsys)
    one_line(code, err, "--out is a folder")
    code, _, err = run_cli(["predict", model, diabetes_csv, "--out", model], capsys)
    one_line(code, err, "would overwrite the model file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_save_in_a_read_only_folder(tmp_path, capsys, no_work):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    code, _, err = run_cli(["fit", "diabetes", "--save", ro / "m.json"], capsys)
    one_line(code, err, str(ro / "m.json"), "permission denied")


# ----------------------------------------------------------------------------- 5. named options

@pytest.fixture(scope="module")
def many_levels(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({"x": rng.normal(size=n), "city": [f"c{i % 60}" for i in range(n)]})
    df["y"] = 2 * df["x"] + rng.normal(size=n)
    path = tmp_path_factory.mktemp("levels") / "levels.csv"
    df.to_csv(path, index=False)
    return path


def test_max_categories_and_exclude_exist(many_levels, capsys):
    code, _, err = run_cli(["fit", many_levels, "--target", "y"] + SMALL, capsys)
    one_line(code, err, "'city'", "--max-categories 50")
    for extra in (["--max-categories", "60"], ["--exclude", "city"]):
        code, out, err = run_cli(["fit", many_levels, "--target", "y", "--json"] + SMALL + extra,
                                 capsys)
        assert code == 0, err
        names = [f["name"] for f in json.loads(out)["features"]]
        assert ("city=c59" in names) == (extra[0] == "--max-categories") and "x" in names
    code, _, err = run_cli(["fit", many_levels, "--target", "y", "--max-categories", "1"],
                           capsys)
    one_line(code, err, "--max-categories")
    code, _, err = run_cli(["fit", many_levels, "--target", "y", "--exclude", "town"], capsys)
    one_line(code, err, "--exclude", "'town'")


def test_max_categories_default_matches_prepare():
    import inspect

    from regulab.commands.options import DEFAULT_MAX_CATEGORIES
    from regulab.data.prepare import prepare

    assert inspect.signature(prepare).parameters["max_categories"].default == \
        DEFAULT_MAX_CATEGORIES


def _options_of(name) -> set[str]:
    cmd = typer.main.get_command(app).commands[name]
    opts = {o for p in cmd.params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
    return opts | {"--help"}


def test_every_flag_a_data_message_names_is_an_option_of_fit():
    """The data layer's messages reach the user through fit, path and compare (and the flags of
    reading a file through predict): every ``--flag`` they name must exist there."""
    flags = {}
    for f in (ROOT / "src" / "regulab" / "data").glob("*.py"):
        flags[f.name] = set(re.findall(r"(--[a-z][a-z0-9-]+)", f.read_text()))
    every = set().union(*flags.values())
    assert every <= _options_of("fit"), every - _options_of("fit")
    # model_io's messages name their command ("regulab fit --save"); the rest reach path/compare
    rest = set().union(*(v for k, v in flags.items() if k != "model_io.py"))
    for cmd in ("path", "compare"):
        assert rest <= _options_of(cmd), (cmd, rest - _options_of(cmd))


# ----------------------------------------------------------------------------- 7. model files

@pytest.mark.parametrize("edit, word", [
    (lambda d: d["coef"].__setitem__(2, d["coef"][2] * 2 + 1.0), "'coef' of 'bmi'"),
    (lambda d: d.__setitem__("intercept", d["intercept"] + 1.0), "'intercept'"),
    (lambda d: d["coef_standardized"].__setitem__(2, d["coef_standardized"][2] * 1.001),
     "'coef' of 'bmi'"),
])
def test_hand_edited_model_is_refused(model_file, diabetes_csv, tmp_path, capsys, edit, word):
    doc = json.loads(model_file.read_text())
    edit(doc)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    code, _, err = run_cli(["predict", edited, diabetes_csv], capsys)
    one_line(code, err, "edited.json", word, "must agree")


def test_rounding_within_tolerance_is_accepted(model_file, diabetes_csv, tmp_path, capsys):
    doc = json.loads(model_file.read_text())
    doc["coef"] = [c * (1 + 1e-12) for c in doc["coef"]]
    doc["intercept"] = doc["intercept"] * (1 + 1e-12)
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(doc))
    code, _, err = run_cli(["predict", ok, diabetes_csv], capsys)
    assert code == 0, err


# ----------------------------------------------------------------------------- 8. the CV rule

def test_fit_and_compare_default_to_1se_and_say_so(capsys):
    args = ["diabetes", "--n-lams", "20", "--cv", "3"]
    code, out, err = run_cli(["compare"] + args + ["--n-boot", "4"], capsys)
    assert code == 0, err
    assert "rule 1se" in out
    code, out, err = run_cli(["compare"] + args + ["--n-boot", "4", "--json"], capsys)
    doc = json.loads(out)
    assert doc["rule"] == "1se" and all(m["rule"] == "1se" for m in doc["methods"].values())
    code, out, err = run_cli(["fit"] + args, capsys)
    assert code == 0 and "rule 1se" in out
    code, out, err = run_cli(["fit"] + args + ["--json"], capsys)
    fit_doc = json.loads(out)
    assert fit_doc["lam_choice"]["rule"] == "1se"
    assert fit_doc["lam"] == doc["methods"]["l1"]["lam"]  # same data, same folds, same lam


def test_readme_states_the_default_rule():
    readme = (ROOT / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("| `regulab compare"))
    assert "1se" in line


# ----------------------------------------------------------------------------- 9. --help

def test_help_keeps_the_brackets_of_the_extra():
    env = dict(os.environ, COLUMNS="200", PYTHONPATH=str(ROOT / "src"))
    res = subprocess.run([sys.executable, "-m", "regulab", "--help"], capture_output=True,
                         text=True, timeout=120, env=env, check=False)
    assert res.returncode == 0, res.stderr
    assert "regulab[distributed]" in " ".join(res.stdout.split())


# ----------------------------------------------------------------------------- 10. --only

def test_readme_and_help_agree_on_only(capsys):
    readme = (ROOT / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("| `regulab explain"))
    assert "--only ID[,ID...]" in line and "repeated or comma-separated" in line
    code, out, _ = run_cli(["explain", "--help"], capsys)
    text = " ".join(out.split())
    assert "repeat the option, or separate ids by commas" in text
    # space-separated ids are not a list: one line, exit 2, naming the stray id
    code, _, err = run_cli(["explain", "--only", "one-weight", "geometry"], capsys)
    one_line(code, err, "geometry")
    assert code == 2


def test_one_data_row_says_only_one_row(tmp_path, capsys):
    """A file with one data row is refused for what it is, not as a 'constant target'."""
    f = tmp_path / "one.csv"
    f.write_text("x1,x2,y\n1.0,2.0,3.0\n")
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(f), "--target", "y"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "only 1 row" in err and "constant" not in err
    assert len(err.strip().splitlines()) == 1
