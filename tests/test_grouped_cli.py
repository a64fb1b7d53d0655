"""``--grouped`` through the real commands: a categorical column reported kept or dropped whole,
and the option refused in one line where it means nothing."""

import json

import numpy as np
import pandas as pd
import pytest

from cli_runner import run_cli


def _table(path, seed, binary=False):
    """``region`` (4 levels) drives y, ``color`` (3 levels) does not."""
    rng = np.random.default_rng(seed)
    n = 200
    df = pd.DataFrame({"region": rng.choice(list("NSEW"), n),
                       "color": rng.choice(["red", "green", "blue"], n),
                       "x1": rng.standard_normal(n), "x2": rng.standard_normal(n)})
    z = df["region"].map({"N": 1.5, "S": -1.5, "E": 0.8, "W": 0.0}).to_numpy() + df["x1"]
    df["y"] = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-z)), "yes", "no") if binary \
        else z + rng.standard_normal(n)
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("binary", [False, True])
def test_fit_grouped_reports_columns_whole(tmp_path, capsys, seed, binary):
    f = _table(tmp_path / "d.csv", seed, binary)
    code, out, err = run_cli(["fit", str(f), "--target", "y", "--grouped", "--json",
                              "--n-lams", "20"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["grouped"] is True
    cols = {c["column"]: c for c in doc["columns"]}
    assert set(cols) == {"region", "color"}
    for c in cols.values():
        assert c["n_kept_indicators"] in (0, c["indicators"])
    assert cols["region"]["kept"]
    code, out, err = run_cli(["fit", str(f), "--target", "y", "--grouped", "--n-lams", "20"],
                             capsys)
    assert code == 0, err
    assert "region kept (3 indicators)" in out
    assert ("color dropped (2 indicators)" in out) == (not cols["color"]["kept"])


def test_path_and_compare_grouped(tmp_path, capsys):
    f = _table(tmp_path / "d.csv", 0)
    code, out, err = run_cli(["path", str(f), "--target", "y", "--grouped", "--n-lams", "15"],
                             capsys)
    assert code == 0, err
    assert "region kept (3 indicators)" in out and "entering the path at lam" in out
    code, out, err = run_cli(["compare", str(f), "--target", "y", "--grouped", "--n-lams", "15",
                              "--n-boot", "3", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["methods"]["l1"]["grouped"] and not doc["methods"]["l2"]["grouped"]
    for c in doc["methods"]["l1"]["columns"]:
        assert c["n_kept_indicators"] in (0, c["indicators"])


@pytest.mark.parametrize("args", [["fit", "--penalty", "l2"], ["path", "--penalty", "l2"],
                                  ["fit", "--stability"]])
def test_grouped_refused_in_one_line(tmp_path, capsys, args):
    f = _table(tmp_path / "d.csv", 0)
    code, out, err = run_cli([args[0], str(f), "--target", "y", "--grouped", *args[1:]], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--grouped" in err
