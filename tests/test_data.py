"""The data-input layer: reading (regulab.data.reading and the modules it calls), preparation
(regulab.data.prepare), built-in datasets.

Every bad input is built in tmp_path; its DataError must be one line naming the file and the
column, line or value at fault.
"""

import csv
import io
import json
import os

import numpy as np
import pandas as pd
import pytest

from regulab.core import memory
from regulab.data import scanning
from regulab.data.checks import check_rows_for_cv
from regulab.data.csv_output import safe_csv_cell, write_csv_safely
from regulab.data.datasets import (
    BUILTIN_DATASETS,
    list_datasets,
    load_builtin,
    true_coefficients,
)
from regulab.data.errors import DataError
from regulab.data.prepare import prepare
from regulab.data.prepared import Prepared
from regulab.data.reading import load_input, read_table


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(DataError) as exc:
        fn(*args, **kwargs)
    msg = str(exc.value)
    assert "\n" not in msg and "\r" not in msg, msg
    assert isinstance(exc.value, ValueError)
    return msg


def table(n=30, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.standard_normal(n), "b": rng.uniform(0, 10, n),
                       "color": rng.choice(["red", "green", "blue"], n)})
    df["y"] = 2 * df["a"] - 0.5 * df["b"] + (df["color"] == "red") + rng.standard_normal(n) * 0.1
    return df


# ----------------------------------------------------------------------------- bad files

def test_missing_file_and_directory(tmp_path):
    msg = error_of(read_table, tmp_path / "nope.csv")
    assert "nope.csv" in msg and "no such file" in msg
    msg = error_of(read_table, tmp_path)
    assert str(tmp_path) in msg and "directory" in msg


def test_load_input_unknown_name_lists_builtins(tmp_path):
    msg = error_of(load_input, str(tmp_path / "data.csv"))
    assert "data.csv" in msg
    for name in BUILTIN_DATASETS:
        assert name in msg
    assert "did you mean 'diabetes'" in error_of(load_input, "diabetis")


def test_empty_file(tmp_path):
    msg = error_of(read_table, write(tmp_path / "e.csv", ""))
    assert "e.csv" in msg and "empty" in msg and "0 bytes" in msg
    msg = error_of(read_table, write(tmp_path / "blank.csv", "\n\n  \n"))
    assert "blank.csv" in msg and "blank" in msg


def test_header_only(tmp_path):
    msg = error_of(read_table, write(tmp_path / "h.csv", "a,b,y\n"))
    assert "h.csv" in msg and "no data rows" in msg and "3 columns" in msg


def test_binary_garbage(tmp_path):
    rng = np.random.default_rng(0)
    msg = error_of(read_table, write(tmp_path / "g.csv", rng.bytes(5000)))
    assert "g.csv" in msg and "binary" in msg and "NUL" in msg
    # undecodable without NUL bytes: named by byte offset and line
    msg = error_of(read_table, write(tmp_path / "latin.csv", "a,b\n1,2\ncaf\xe9,3\n", "latin-1"))
    assert "latin.csv" in msg and "UTF-8" in msg and "byte offset 11" in msg and "line 3" in msg
    df = read_table(tmp_path / "latin.csv", encoding="latin-1")
    assert df["a"].tolist() == ["1", "café"]
    msg = error_of(read_table, write(tmp_path / "book.xlsx", b"PK\x03\x04" + b"x" * 100))
    assert "book.xlsx" in msg and "CSV" in msg


def test_single_column_delimiter(tmp_path):
    f = write(tmp_path / "d.csv", "a,b,y\n1,2,3\n4,5,6\n")
    msg = error_of(read_table, f, sep=";")
    assert "d.csv" in msg and "single column" in msg and "';'" in msg and "','" in msg
    msg = error_of(read_table, write(tmp_path / "sp.csv", "a b y\n1 2 3\n4 5 6\n"))
    assert "sp.csv" in msg and "single column" in msg and "'a b y'" in msg


def test_ragged_rows_name_line(tmp_path):
    lines = ["a,b,y"] + [f"{i},{i + 1},{i + 2}" for i in range(10)]
    lines[7] = "7,8"  # line 8 of the file: 2 fields
    msg = error_of(read_table, write(tmp_path / "r.csv", "\n".join(lines) + "\n"))
    assert "r.csv" in msg and "line 8" in msg and "2 fields" in msg and "has 3" in msg
    # the same with quotes (the csv.reader path) and far beyond the sniffing sample
    lines = ['"a","b","y"'] + [f'"{i}",{i},{i}' for i in range(20000)]
    lines[15000] = '"x",1,2,3'
    msg = error_of(read_table, write(tmp_path / "q.csv", "\n".join(lines) + "\n"))
    assert "q.csv" in msg and "line 15,001" in msg and "4 fields" in msg


@pytest.mark.parametrize("bad_line, quotes_from", [(4322, None), (2000, 3000), (4000, 3000),
                                                   (4000, 0)])
def test_ragged_rows_fast_and_csv_paths_agree(tmp_path, monkeypatch, bad_line, quotes_from):
    monkeypatch.setattr(scanning, "CHUNK_BYTES", 1000)  # many chunks, a carried partial line
    lines = ["a,b,y"] + [f"{i},{i},{i}" for i in range(5000)]
    if quotes_from is not None:  # quotes (and a quoted newline) switch to csv.reader
        lines[quotes_from] = '"x\ny",1,2'
    lines[bad_line - 1] = "1,2,3,4"
    msg = error_of(read_table, write(tmp_path / "f.csv", "\r\n".join(lines) + "\r\n"))
    shift = 1 if quotes_from is not None and quotes_from < bad_line - 1 else 0
    assert f"line {bad_line + shift:,}" in msg and "4 fields" in msg and "'1,2,3,4'" in msg


def test_duplicate_column_names(tmp_path):
    msg = error_of(read_table, write(tmp_path / "data.csv", "id,age,b,c,age\n1,2,3,4,5\n"))
    assert msg == "data.csv: duplicate column name 'age' (columns 2 and 5)" or \
        msg.endswith("duplicate column name 'age' (columns 2 and 5)")


def wide_csv(path, names, n_rows, seed=0):
    """A p >> n table: header ``names`` + ``y``, ``n_rows`` rows of short numbers."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 10, size=(n_rows, len(names) + 1))
    path.write_text(",".join(list(names) + ["y"]) + "\n"
                    + "".join(",".join(map(str, row)) + "\n" for row in x))
    return path


@pytest.mark.parametrize("names", [[f"c{i}" for i in range(50_000)],
                                   [f"feature_{i:06d}" for i in range(10_000)]])
def test_wide_header_is_never_cut(tmp_path, names):
    """A header line longer than the sniffing sample (64 KiB) reads whole: the sample size must
    not apply to the header (it was cut: a false duplicate name, or 9363 header fields)."""
    f = wide_csv(tmp_path / "wide.csv", names, 3)
    assert f.read_text().index("\n") > 64 * 1024
    df = read_table(f)
    assert df.shape == (3, len(names) + 1)
    assert list(df.columns[:2]) == names[:2] and df.columns[-1] == "y"
    assert df.attrs["regulab_source"]["delimiter"] == ","
    # a ragged row is still named against the full header
    f.write_text(f.read_text() + "1,2\n")
    assert f"but the header (line 1) has {len(names) + 1}" in error_of(read_table, f)


def test_max_rows_and_byte_guard(tmp_path):
    f = write(tmp_path / "m.csv", "a,y\n" + "".join(f"{i},{i}\n" for i in range(10)))
    msg = error_of(read_table, f, max_rows=3)
    assert "m.csv" in msg and "--max-rows" in msg and "3" in msg
    assert len(read_table(f, max_rows=10)) == 10
    msg = error_of(read_table, f, max_bytes=10)
    assert "m.csv" in msg and "too large" in msg and "bytes" in msg


def test_byte_guard_from_available_memory(tmp_path, monkeypatch):
    f = write(tmp_path / "big.csv", "a,y\n" + "".join(f"{i},{i}\n" for i in range(200)))
    monkeypatch.setattr(memory, "available_memory", lambda: 4000)
    msg = error_of(read_table, f)
    assert "big.csv" in msg and "memory available" in msg


def test_parquet_nested_and_flat(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.table({"a": [1.0, 2.0, 3.0], "tags": [[1], [2, 3], []], "y": [1.0, 0.0, 2.0]})
    pq.write_table(t, tmp_path / "n.parquet")
    msg = error_of(read_table, tmp_path / "n.parquet")
    assert "n.parquet" in msg and "'tags'" in msg and "nested" in msg
    t = pa.table({"s": pa.array([{"x": 1}, {"x": 2}]), "y": [1.0, 2.0]})
    pq.write_table(t, tmp_path / "s.parquet")
    assert "'s'" in error_of(read_table, tmp_path / "s.parquet")
    flat = pd.DataFrame({"a": [1.5, 2.5, None], "c": ["u", "NA", ""], "y": [1, 2, 3]})
    flat.to_parquet(tmp_path / "f.parquet")
    df = read_table(tmp_path / "f.parquet")
    assert df["c"].isna().tolist() == [False, False, True] and df["c"].iloc[1] == "NA"
    assert error_of(read_table, tmp_path / "f.parquet", max_rows=2).count("f.parquet") == 1


# ----------------------------------------------------------------------------- good files

def test_bom_and_sniffed_delimiters(tmp_path):
    f = write(tmp_path / "bom.csv", "\ufeffid,x,y\n1,2.5,3\n2,3.5,4\n")
    df = read_table(f)
    assert list(df.columns) == ["id", "x", "y"] and df["x"].tolist() == [2.5, 3.5]
    assert df.attrs["regulab_source"]["bom"] is True
    for sep, name in ((";", "semi.csv"), ("\t", "tabs.txt"), ("|", "pipe.csv")):
        f = write(tmp_path / name, f"a{sep}b{sep}y\n1{sep}2{sep}3\n4{sep}5{sep}6\n")
        df = read_table(f)
        assert list(df.columns) == ["a", "b", "y"], sep
        assert df.attrs["regulab_source"]["delimiter"] == sep
    f = write(tmp_path / "x.tsv", "a\tb,c\ty\n1\t2,3\t4\n5\t6,7\t8\n")
    assert list(read_table(f).columns) == ["a", "b,c", "y"]
    f = write(tmp_path / "commas.csv", 'a,"b;c",y\n1,"2;3",4\n5,"6;7",8\n')
    assert list(read_table(f).columns) == ["a", "b;c", "y"]
    f = write(tmp_path / "eu.csv", "a;b;y\n1,5;2;3\n-4,25;5;6\n")
    assert read_table(f)["a"].tolist() == [1.5, -4.25]
    f = write(tmp_path / "u16.csv", "a,y\n1,2\n3,4\n", "utf-16")
    assert read_table(f)["y"].tolist() == [2, 4]


def test_na_literals_are_text_unless_asked(tmp_path):
    f = write(tmp_path / "na.csv", "g,n,y\n1,NA,1\nNA,2,2\n2,N/A,3\n3,,4\n1,null,5\n2,3,6\n")
    df = read_table(f)
    assert df["g"].tolist()[1] == "NA" and df["n"].tolist()[:3] == ["NA", "2", "N/A"]
    assert df["n"].isna().tolist() == [False, False, False, True, False, False]
    prep = prepare(df, "y")
    assert "g=NA" in prep.feature_names and "n=NA" in prep.feature_names
    assert any("--na-values" in line for line in prep.report)
    df2 = read_table(f, na_values=["NA", "N/A", "null"])
    assert df2["n"].dtype.kind == "f" and df2["n"].isna().sum() == 4
    assert pd.api.types.is_numeric_dtype(df2["g"])


def test_input_file_unchanged(tmp_path):
    f = write(tmp_path / "keep.csv", "a,b,y\n1,x,3\n4,z,6\n7,x,9\n")
    os.utime(f, (1_000_000_000, 1_000_000_000))
    before = (f.read_bytes(), f.stat().st_mtime_ns, oct(f.stat().st_mode))
    prepare(read_table(f), "y")
    load_input(str(f))
    assert (f.read_bytes(), f.stat().st_mtime_ns, oct(f.stat().st_mode)) == before


# ----------------------------------------------------------------------------- preparation

def test_target_missing_constant_all_missing(tmp_path):
    df = read_table(write(tmp_path / "t.csv", "age,Income,y\n1,2,5\n2,3,5\n3,4,5\n"))
    msg = error_of(prepare, df, "income")
    assert "t.csv" in msg and "'income'" in msg and "'Income'" in msg
    msg = error_of(prepare, df, "y")
    assert "t.csv" in msg and "'y'" in msg and "constant" in msg and "5" in msg
    df = read_table(write(tmp_path / "m.csv", "a,b,y\n1,2,\n2,3,\n3,5,\n"))
    msg = error_of(prepare, df, "y")
    assert "m.csv" in msg and "'y'" in msg and "all 3 rows missing" in msg


def test_target_not_binary_and_multiclass(tmp_path):
    df = table()
    msg = error_of(prepare, df, "y", task="binary", source_name="data.csv")
    assert "data.csv" in msg and "'y'" in msg and "30" in msg and "2 distinct" in msg
    prep = prepare(df, "color", source_name="data.csv")  # 3+ text labels: multinomial
    assert prep.task == "multiclass" and prep.classes == sorted(set(df["color"]))
    codes = {c: k for k, c in enumerate(prep.classes)}
    assert np.array_equal(prep.y, df["color"].map(codes).to_numpy(float)[prep.rows])
    msg = error_of(prepare, df.assign(two=np.where(df["a"] > 0, "p", "q")), "two",
                   task="multiclass", source_name="data.csv")
    assert "'two'" in msg and "3 or more labels" in msg and "2 (" in msg
    msg = error_of(prepare, df, "color", task="regression", source_name="data.csv")
    assert "'color'" in msg and "numeric" in msg
    df["label"] = np.where(df["a"] > 0, "yes", "no")
    prep = prepare(df.drop(columns="y"), "label")
    assert prep.task == "binary" and prep.classes == ["no", "yes"]
    assert np.array_equal(prep.y, (df["label"] == "yes").to_numpy(float))
    assert any("'no' -> 0" in line for line in prep.report)


def test_no_usable_feature(tmp_path):
    f = write(tmp_path / "nf.csv", "c,e,y\n1,,1\n1,,2\n1,,3\n")
    msg = error_of(prepare, read_table(f), "y")
    assert "nf.csv" in msg and "no usable feature" in msg and "'c'" in msg and "'e'" in msg
    msg = error_of(prepare, table(), "y", features=[], source_name="data.csv")
    assert "no feature column" in msg


def test_high_cardinality_text_refused(tmp_path):
    n = 3000
    rows = "".join(f"user{i},{i % 7},{i % 5}\n" for i in range(n))
    df = read_table(write(tmp_path / "hc.csv", "name,x,y\n" + rows))
    msg = error_of(prepare, df, "y")
    assert "hc.csv" in msg and "'name'" in msg and "3,000 distinct" in msg and "--features" in msg
    prep = prepare(df, "y", features=["x"])
    assert prep.feature_names == ["x"]
    # numbers with an 'NA' token: the message names the token and --na-values
    rows = "".join(f"{i * 1.5 if i % 10 else 'NA'},{i % 5}\n" for i in range(200))
    df = read_table(write(tmp_path / "tok.csv", "bmi,y\n" + rows))
    msg = error_of(prepare, df, "y")
    assert "'bmi'" in msg and "'NA'" in msg and "--na-values NA" in msg


def test_rows_for_cv():
    msg = error_of(check_rows_for_cv, 4, 5, source_name="data.csv")
    assert msg == "data.csv: only 4 rows after preparation, fewer than the 5 CV folds"
    check_rows_for_cv(5, 5)
    msg = error_of(check_rows_for_cv, 10, 5, y=np.array([0] * 7 + [1] * 3), task="binary",
                   classes=["no", "yes"])
    assert "'yes'" in msg and "3 rows" in msg


def test_missing_policies():
    df = table()
    df.loc[[2, 5], "a"] = np.nan
    df.loc[7, "color"] = None
    df.loc[9, "y"] = np.nan
    p = prepare(df, "y", missing="drop", source_name="d.csv")
    assert p.X.shape[0] == 26 and p.dropped_rows == {"target missing": 1,
                                                      "missing feature value": 3}
    assert p.missing_counts == {"a": 2, "color": 1}
    assert 9 not in p.rows and 2 not in p.rows
    p = prepare(df, "y", missing="mean")
    assert p.X.shape[0] == 29 and np.all(np.isfinite(p.X))
    row2 = list(p.rows).index(2)
    assert p.X[row2, 0] == pytest.approx(0.0, abs=1e-12)  # mean-filled -> 0 once standardized
    row7 = list(p.rows).index(7)
    assert np.allclose(p.X[row7, 2:], 0.0, atol=1e-12)
    msg = error_of(prepare, df, "y", missing="error", source_name="d.csv")
    assert "d.csv" in msg and "missing" in msg and ("'y'" in msg or "'a'" in msg)


def test_one_hot_names_and_dropped_columns():
    df = table()
    df["const"] = 3
    df["when"] = pd.Timestamp("2020-01-01")
    p = prepare(df, "y")
    # k levels -> k-1 indicators; the reference is the most frequent level (green: 12 of 30)
    assert p.feature_names == ["a", "b", "color=blue", "color=red"]
    assert p.columns[2].reference == "green" and p.columns[2].levels == ["blue", "green", "red"]
    assert any("'color'" in line and "reference level 'green'" in line for line in p.report)
    assert "constant" in p.dropped_columns["const"] and "date" in p.dropped_columns["when"]
    assert any("'const'" in line and "dropped" in line for line in p.report)
    assert p.X.shape == (30, 4) and p.X.dtype == np.float64
    assert np.allclose(p.X.mean(axis=0), 0) and np.allclose(p.X.std(axis=0), 1)
    p2 = prepare(df, "y", standardize=False)
    assert set(np.unique(p2.X[:, 2:])) == {0.0, 1.0}
    green = (df["color"] == "green").to_numpy()
    assert np.array_equal(p2.X[:, 2:].sum(axis=1), (~green).astype(float))


def test_apply_reproduces_training_x_and_round_trip():
    df = table(40)
    df.loc[3, "a"] = np.nan
    for missing in ("drop", "mean"):
        p = prepare(df, "y", missing=missing)
        applied = p.apply(df)
        assert np.array_equal(applied.X, p.X) and np.array_equal(applied.rows, p.rows)
        assert np.array_equal(applied.y, p.y)
        doc = json.loads(json.dumps(p.to_dict()))
        q = Prepared.from_dict(doc)
        assert np.array_equal(q.apply(df).X, p.X)
        assert q.to_dict() == p.to_dict()


def test_apply_new_data_unseen_level_and_missing_column():
    p = prepare(table(), "y", source_name="train.csv")
    new = pd.DataFrame({"a": [0.0, 1.0], "b": [1.0, 2.0], "color": ["red", "purple"],
                        "extra": [1, 2]})
    out = p.apply(new, source_name="new.csv")
    assert out.y is None and out.X.shape == (2, 4)
    raw_zero = -p.means[2:] / p.scales[2:]
    assert np.allclose(out.X[1, 2:], raw_zero)
    assert any("'purple'" in line and "reference level 'green'" in line for line in out.report)
    p2 = prepare(table().assign(color=["1", "2", "x"] * 10), "y")
    assert p2.columns[2].reference == "1"       # a three-way tie: the first in sorted order
    out2 = p2.apply(table(4).assign(color=[1, 2.0, "x", None]), source_name="new.csv")
    assert np.array_equal(out2.rows, [0, 1, 2])
    assert np.array_equal(out2.X[:, 2:] > 0, np.array([[0, 0], [1, 0], [0, 1]], dtype=bool))
    msg = error_of(p.apply, new.drop(columns="b"), source_name="new.csv")
    assert "new.csv" in msg and "'b'" in msg and "missing" in msg
    bad = new.assign(a=["1.0", "oops"])
    msg = error_of(p.apply, bad, source_name="new.csv")
    assert "'a'" in msg and "'oops'" in msg and "data row 2" in msg


def test_binary_labels_apply_and_json():
    df, target, task = load_builtin("breast_cancer")
    p = prepare(df, target)
    assert task == p.task == "binary" and p.classes == ["benign", "malignant"]
    assert p.class_mapping == {"benign": 0, "malignant": 1}
    q = Prepared.from_dict(json.loads(json.dumps(p.to_dict())))
    out = q.apply(df)
    assert np.array_equal(out.y, p.y) and np.array_equal(out.X, p.X)
    msg = error_of(q.apply, df.assign(diagnosis=["maybe"] + list(df[target][1:])), source_name="n")
    assert "'maybe'" in msg and "data row 1" in msg


def test_original_units_match_unstandardized_ols():
    df, target, _ = load_builtin("diabetes")
    df = df.assign(grp=np.where(np.arange(len(df)) % 3 == 0, "a", np.where(
        np.arange(len(df)) % 3 == 1, "b", "c")))
    p = prepare(df, target)
    # OLS on the standardized design (the one-hot block sums to a constant, so lstsq gives the
    # minimum-norm solution; predictions are what must agree)
    A = np.column_stack([np.ones(len(p.y)), p.X])
    sol = np.linalg.lstsq(A, p.y, rcond=None)[0]
    coef, intercept = p.to_original_units(sol[1:], sol[0])
    raw = prepare(df, target, standardize=False).X
    B = np.column_stack([np.ones(len(p.y)), raw])
    sol_raw = np.linalg.lstsq(B, p.y, rcond=None)[0]
    assert np.allclose(raw @ coef + intercept, B @ sol_raw, rtol=1e-9, atol=1e-7)
    # a full-rank design: the coefficients themselves agree
    p = prepare(df.drop(columns="grp"), target)
    sol = np.linalg.lstsq(np.column_stack([np.ones(len(p.y)), p.X]), p.y, rcond=None)[0]
    coef, intercept = p.to_original_units(sol[1:], sol[0])
    raw = df.drop(columns=["grp", target]).to_numpy(float)
    ref = np.linalg.lstsq(np.column_stack([np.ones(len(p.y)), raw]), p.y, rcond=None)[0]
    assert np.allclose(coef, ref[1:], rtol=1e-8) and intercept == pytest.approx(ref[0], rel=1e-8)
    back, b0 = p.to_standardized_units(coef, intercept)
    assert np.allclose(back, sol[1:]) and b0 == pytest.approx(sol[0])
    path = np.column_stack([sol[1:], 0.5 * sol[1:]])
    c2, i2 = p.to_original_units(path, np.array([sol[0], sol[0]]))
    assert c2.shape == (10, 2) and np.allclose(c2[:, 0], coef) and i2.shape == (2,)


# ----------------------------------------------------------------------------- built-ins

def test_builtin_datasets():
    rows = list_datasets()
    assert {r[0] for r in rows} >= {"diabetes", "breast_cancer", "sparse_synthetic"}
    for name, task, n, p, _ in rows:
        df, target, task2 = load_builtin(name, seed=1)
        prep = prepare(df, target)
        assert task2 == task == prep.task and prep.X.shape == (n, p), name
    truth = true_coefficients("sparse_synthetic", seed=3)
    assert len(truth) == 40 and sum(v != 0 for v in truth.values()) == 6
    assert truth == true_coefficients("sparse_synthetic", seed=3)
    assert truth != true_coefficients("sparse_synthetic", seed=4)
    assert true_coefficients("diabetes") is None
    assert all(v != 0 for v in true_coefficients("dense_synthetic").values())
    a, _, _ = load_builtin("sparse_synthetic", seed=3)
    assert a.equals(load_builtin("sparse_synthetic", seed=3)[0])
    assert "diabetes" in error_of(load_builtin, "nope")
    loaded = load_input("diabetes")
    assert loaded.target == "progression" and loaded.task == "regression"


# ----------------------------------------------------------------------------- output

def test_safe_csv_cell():
    for text in ("=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_csv_cell(text) == "'" + text
    assert safe_csv_cell("plain") == "plain" and safe_csv_cell(-1.5) == "-1.5"
    assert safe_csv_cell(-3) == "-3" and safe_csv_cell(np.float64(0.1)) == "0.1"
    assert safe_csv_cell(float("nan")) == "" and safe_csv_cell(None) == ""


def test_write_csv_safely(tmp_path):
    df = pd.DataFrame({"=feature": ["=HYPERLINK(x)", "ok", None], "coef": [-1.25, 0.0, np.nan],
                       "n": [-1, 2, 3], "label": ["-x", "@y", "+z"]})
    out = write_csv_safely(df, tmp_path / "out.csv")
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["'=feature", "coef", "n", "label"]
    assert rows[1] == ["'=HYPERLINK(x)", "-1.25", "-1", "'-x"]
    assert rows[3] == ["", "", "3", "'+z"]
    back = pd.read_csv(out)
    assert back["coef"].tolist()[:2] == [-1.25, 0.0] and back["n"].tolist() == [-1, 2, 3]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_overflowing_values_refused_in_prepare_and_apply():
    """Finite values whose square overflows float64 are refused like inf, at fit and at apply;
    1e100 (square 1e200) is a number like any other."""
    df = table()
    df.loc[3, "a"] = 1e100
    p = prepare(df, "y")
    assert np.all(np.isfinite(p.X)) and np.all(np.isfinite(p.scales))
    new = table(seed=1)
    new.loc[4, "b"] = -1e200
    msg = error_of(p.apply, new, source_name="new.csv")
    assert msg.startswith("new.csv: column 'b' holds -1e+200 at data row 5;") and "overflow" in msg
    df.loc[3, "a"] = 1e200
    msg = error_of(prepare, df, "y", source_name="d.csv")
    assert msg.startswith("d.csv: column 'a' holds 1e+200 at data row 4;") and "overflow" in msg


def test_counts_of_one_row_are_singular():
    """Messages say '1 row', never '1 rows' (the reviewer found '(1 rows)')."""
    import pandas as pd

    from regulab.data.messages import plural
    from regulab.data.prepare import prepare

    assert plural(1) == "1 row" and plural(0) == "0 rows" and plural(1234) == "1,234 rows"
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, None, 3.0, 5.0]})
    prep = prepare(df, "y")
    text = " ".join(prep.report)
    assert "1 row " in text and "1 rows" not in text
