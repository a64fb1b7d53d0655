"""Data problems seen through the real command (``regulab fit FILE --target y``): a wide header,
values that overflow float64, categorical encoding. Each bad input gets one line on stderr."""

import json

import numpy as np
import pandas as pd
import pytest

from cli_runner import run_cli


def test_fit_reads_a_header_wider_than_the_sample(tmp_path, capsys):
    """p >> n: a header line over 64 KiB (the sniffing sample) is read whole."""
    rng = np.random.default_rng(0)
    p, n = 3_000, 12
    names = [f"gene_expression_{i:05d}" for i in range(p)]
    x = rng.integers(0, 10, (n, p))
    y = 2 * x[:, 0] + rng.integers(0, 3, n)
    f = tmp_path / "wide.csv"
    f.write_text(",".join(names + ["y"]) + "\n"
                 + "".join(",".join(map(str, r)) + f",{v}\n" for r, v in zip(x, y)))
    assert f.read_text().index("\n") > 64 * 1024
    code, out, err = run_cli(["fit", str(f), "--target", "y", "--lam", "3"], capsys)
    assert code == 0, err
    assert f"12 rows x {p} features" in out and "gene_expression_00000" in out


@pytest.mark.parametrize("big", ["1e200", "-1e308"])
@pytest.mark.parametrize("extra", [[], ["--lam", "0.1"], ["--no-standardize"]])
def test_fit_refuses_values_that_overflow(tmp_path, capsys, recwarn, big, extra):
    """A finite value whose square or sum overflows float64 is refused before any fit, like inf:
    one line naming the file, the column and the row, and no RuntimeWarning."""
    rows = [f"{i},{(3 * i) % 7},{(5 * i) % 11}" for i in range(2, 12)]
    f = tmp_path / "big.csv"
    f.write_text("size,z,y\n" + f"{big},1,2\n" + "\n".join(rows) + "\n")
    code, out, err = run_cli(["fit", str(f), "--target", "y", *extra], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(f) in lines[0] and "column 'size'" in lines[0] and "data row 1" in lines[0]
    assert "overflow" in lines[0] and "column 0" not in lines[0]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    # the target too
    f.write_text("y,z,x\n" + f"{big},1,2\n" + "\n".join(rows) + "\n")
    code, out, err = run_cli(["fit", str(f), "--target", "y", *extra], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "target 'y'" in err and "data row 1" in err and "overflow" in err
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def categorical_table(path, n=120, seed=0):
    """A numeric target, a two-level and a three-level categorical column and two numbers."""
    rng = np.random.default_rng(seed)
    league = rng.permutation(["A"] * (n * 11 // 20) + ["N"] * (n - n * 11 // 20))
    division = rng.permutation(["E"] * (n // 5) + ["W"] * (n // 2) + ["C"] * (n - n // 5 - n // 2))
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
    y = 3 * x1 + 1.5 * (league == "N") - 2 * (division == "E") + rng.standard_normal(n)
    pd.DataFrame({"x1": x1.round(4), "league": league, "division": division,
                  "x2": x2.round(4), "y": y.round(4)}).to_csv(path, index=False)
    return path


def test_fit_one_indicator_per_non_reference_level(tmp_path, capsys):
    """k levels -> k-1 indicators, the reference (most frequent) named in the preparation report;
    the kept count is the exact non-zeros of the solver, with no residue of a collinear pair."""
    f = categorical_table(tmp_path / "teams.csv")
    model = tmp_path / "model.json"
    code, out, err = run_cli(["fit", str(f), "--target", "y", "--json", "--save", str(model)],
                             capsys)
    assert code == 0, err
    doc = json.loads(out)
    names = [feat["name"] for feat in doc["features"]]
    assert names == ["x1", "league=N", "division=C", "division=E", "x2"]
    report = " ".join(doc["preparation"]["steps"])
    assert "reference level 'A'" in report and "reference level 'W'" in report
    kept = [feat for feat in doc["features"] if feat["kept"]]
    assert doc["n_kept"] == len(kept)
    assert all(abs(feat["coef_standardized"]) > 1e-6 for feat in kept)
    assert {"x1", "league=N", "division=E"} <= {feat["name"] for feat in kept}
    # the saved model predicts through the real command
    code, out, err = run_cli(["predict", str(model), str(f), "--json"], capsys)
    assert code == 0, err
    pred = json.loads(out)
    assert len(pred["predictions"]) == 120


def as_format_1(doc):
    """A model document as regulab wrote it before reference levels: preparation version 1, one
    indicator per level. The reference level's indicator gets coefficient 0, so the model is the
    same function of the table."""
    doc = json.loads(json.dumps(doc))
    prep = doc["preparation"]
    prep["version"] = 1
    names, means, scales = [], [], []
    per_feature = {k: [] for k in ("coef", "coef_standardized")}
    j = 0
    for col in prep["columns"]:
        if col["kind"] == "numeric":
            pos = [(col["name"], j)]
            j += 1
        else:
            ref = col.pop("reference")
            freq = dict(zip([lv for lv in col["levels"] if lv != ref], col["fill"]))
            freq[ref] = 1.0 - sum(col["fill"])
            col["fill"] = [freq[lv] for lv in col["levels"]]
            pos = []
            for lv in col["levels"]:
                pos.append((f"{col['name']}={lv}", None if lv == ref else j))
                j += lv != ref
        for name, k in pos:
            names.append(name)
            if k is None:
                f = freq[name.split("=", 1)[1]]
                means.append(f)
                scales.append(float(np.sqrt(f * (1 - f))))
                for values in per_feature.values():
                    values.append(0.0)
            else:
                means.append(prep["means"][k])
                scales.append(prep["scales"][k])
                for key, values in per_feature.items():
                    values.append(doc[key][k])
    prep.update(feature_names=names, means=means, scales=scales)
    doc.update(feature_names=names, **per_feature)
    return doc


def test_predict_reads_format_1_model_files(tmp_path, capsys):
    """Model files written before reference levels (one indicator per level) still load and
    predict as they were fitted."""
    f = categorical_table(tmp_path / "teams.csv")
    new = tmp_path / "new.json"
    code, _, err = run_cli(["fit", str(f), "--target", "y", "--save", str(new)], capsys)
    assert code == 0, err
    old = tmp_path / "old.json"
    old.write_text(json.dumps(as_format_1(json.loads(new.read_text()))))
    preds = []
    for model in (new, old):
        code, out, err = run_cli(["predict", str(model), str(f), "--json"], capsys)
        assert code == 0, err
        preds.append([r["prediction"] for r in json.loads(out)["predictions"]])
    assert np.allclose(preds[0], preds[1], rtol=1e-12, atol=1e-12)
    doc = json.loads(old.read_text())
    doc["preparation"]["version"] = 2      # format 2 must name its reference levels
    old.write_text(json.dumps(doc))
    code, out, err = run_cli(["predict", str(old), str(f)], capsys)
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert "reference level None" in err
