"""regulab.data.model_io: a model saved and loaded predicts exactly as before; every tampered or
ill-formed field is refused with one line naming the file and the field; format and version are
checked. The oracles are hand computations on the raw columns, not the module's own output."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest

from regulab import __version__
from regulab.data import model_io
from regulab.data.datasets import load_builtin
from regulab.data.errors import DataError
from regulab.data.model_io import Model, load_model, model_from_dict, save_model
from regulab.data.prepare import prepare


@pytest.fixture(scope="module")
def regression():
    """A lasso fit on diabetes (all columns numeric, so the raw design is the table itself)."""
    from regulab.selection.path import regularization_path

    df, target, _ = load_builtin("diabetes")
    prep = prepare(df, target, source_name="diabetes.csv")
    lam = 2.0
    path = regularization_path(prep.X, prep.y, l1_ratio=1.0, lams=[lam])
    model = Model(prep=prep, coef_std=path.coefs[:, 0].copy(),
                  intercept_std=float(path.intercepts[0]), lam=lam, penalty="l1", l1_ratio=1.0,
                  lam_choice={"how": "given", "lam": lam}, n_train=len(prep.y),
                  source="diabetes.csv")
    return df, target, model


@pytest.fixture(scope="module")
def binary():
    """A binary model with a categorical column and text labels; coefficients chosen by hand."""
    rng = np.random.default_rng(0)
    n = 80
    df = pd.DataFrame({"x": rng.standard_normal(n), "color": rng.choice(["red", "blue"], n),
                       "label": rng.choice(["no", "yes"], n)})
    prep = prepare(df, "label", source_name="b.csv")
    assert prep.feature_names == ["x", "color=red"]   # blue (42 of 80) is the reference
    model = Model(prep=prep, coef_std=np.array([0.8, -0.3]), intercept_std=0.1, lam=0.05,
                  penalty="elasticnet", l1_ratio=0.5, n_train=n)
    return df, model


def saved_doc(model, tmp_path, name="m.json"):
    path = save_model(model, tmp_path / name)
    return path, json.loads(path.read_text())


# ----------------------------------------------------------------------------- round trip

def test_round_trip_predicts_identically_and_as_the_raw_formula(regression, tmp_path):
    df, target, model = regression
    path, doc = saved_doc(model, tmp_path)
    loaded = load_model(path)
    new = df.drop(columns=target).iloc[::7]
    before = model.predict_prepared(model.prep.apply(new).X)["linear"]
    after = loaded.predict_prepared(loaded.prep.apply(new).X)["linear"]
    assert np.array_equal(before, after)                        # bit for bit
    # oracle: the saved original-unit coefficients on the raw columns, by hand
    raw = new[doc["feature_names"]].to_numpy(float)
    by_hand = raw @ np.array(doc["coef"]) + doc["intercept"]
    assert np.allclose(after, by_hand, rtol=1e-10, atol=1e-8)
    # and the standardized ones on (x - mean) / scale computed here
    train = df[doc["feature_names"]]                            # every row was used
    mean, sd = train.mean().to_numpy(), train.std(ddof=0).to_numpy()
    z = ((raw - mean) / sd) @ np.array(doc["coef_standardized"]) + doc["intercept_standardized"]
    assert np.allclose(after, z, rtol=1e-10, atol=1e-8)
    assert np.array_equal(loaded.coef_std, model.coef_std)
    assert loaded.lam == model.lam and loaded.penalty == "l1" and loaded.l1_ratio == 1.0
    assert loaded.feature_names == model.feature_names and loaded.source == "diabetes.csv"


def test_round_trip_binary_labels_and_probabilities(binary, tmp_path):
    df, model = binary
    path, doc = saved_doc(model, tmp_path)
    loaded = load_model(path)
    X = loaded.prep.apply(df).X
    out, ref = loaded.predict_prepared(X), model.predict_prepared(model.prep.apply(df).X)
    assert np.array_equal(out["linear"], ref["linear"])
    x, red = df["x"].to_numpy(), (df["color"] == "red").to_numpy(float)
    z = np.array(doc["intercept"]) + doc["coef"][0] * x + doc["coef"][1] * red
    assert np.allclose(out["linear"], z, rtol=1e-12, atol=1e-12)
    assert np.allclose(out["probability"], 1 / (1 + np.exp(-z)), rtol=1e-12)
    assert out["label"].tolist() == ["yes" if v > 0 else "no" for v in z]
    assert doc["classes"] == ["no", "yes"] and doc["loss"] == "logistic"


def test_saved_document_fields(regression, binary, tmp_path):
    _, _, model = regression
    path, doc = saved_doc(model, tmp_path)
    assert doc["format"] == "regulab-model" and doc["version"] == 1
    assert doc["regulab_version"] == __version__
    assert (doc["task"], doc["loss"], doc["target"]) == ("regression", "squared", "progression")
    assert doc["l1"] == 2.0 and doc["l2"] == 0.0
    assert doc["kept"] == [n for n, c in zip(doc["feature_names"], doc["coef_standardized"])
                           if c != 0.0]
    # regulab's lam is twice scikit-learn's Lasso alpha (the README's example: 0.2 <-> 0.1)
    assert doc["conventions"]["equivalents"]["sklearn-lasso"] == {"alpha": 1.0}
    assert "lam = 2.0" in doc["conventions"]["objective"]
    assert doc["preparation"]["format"] == "regulab-preparation"
    assert b"pickle" not in path.read_bytes()
    _, model_b = binary
    _, doc_b = saved_doc(model_b, tmp_path, "b.json")
    assert doc_b["l1"] == pytest.approx(0.025) and doc_b["l2"] == pytest.approx(0.025)
    assert "t_i = 2*y_i - 1" in doc_b["conventions"]["objective"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]      # atomic write


def test_save_is_valid_strict_json(regression, tmp_path):
    _, _, model = regression
    path, _ = saved_doc(model, tmp_path)
    json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in the file"))


# ----------------------------------------------------------------------------- refusals

def refused(path) -> str:
    with pytest.raises(DataError) as info:
        load_model(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{path}: "), msg
    return msg


def write_doc(tmp_path, doc, name="t.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def tampered(doc, key, value):
    out = json.loads(json.dumps(doc))
    if value is KeyError:
        out.pop(key)
    else:
        out[key] = value
    return out


@pytest.mark.parametrize("key, value, fault", [
    ("format", "sklearn-model", "'format' is 'sklearn-model', expected 'regulab-model'"),
    ("format", KeyError, "'format' is None"),
    ("version", 2, f"version 2; this regulab ({__version__}) reads version 1"),
    ("version", "1", "version '1'"),
    ("version", KeyError, "version None"),
    ("task", KeyError, "no 'task'"),
    ("penalty", KeyError, "no 'penalty'"),
    ("lam", KeyError, "no 'lam'"),
    ("l1_ratio", KeyError, "no 'l1_ratio'"),
    ("feature_names", KeyError, "no 'feature_names'"),
    ("coef_standardized", KeyError, "no 'coef_standardized'"),
    ("intercept_standardized", KeyError, "no 'intercept_standardized'"),
    ("preparation", KeyError, "no 'preparation'"),
    ("task", "multiclass", "task 'multiclass'"),
    ("task", "binary", "task 'binary' but the preparation's task is 'regression'"),
    ("penalty", "l0", "penalty 'l0', expected one of l1, l2, elasticnet"),
    ("lam", -1.0, "'lam' must lie in [0, inf), got -1.0"),
    ("lam", "2", "'lam' must be a finite real number, got '2'"),
    ("lam", True, "'lam' must be a finite real number, got True"),
    ("lam", None, "'lam' must be a finite real number, got None"),
    ("l1_ratio", 1.5, "'l1_ratio' must lie in [0, 1], got 1.5"),
    ("intercept_standardized", "0", "'intercept_standardized' must be a finite real number, got '0'"),
    ("coef_standardized", [0.0], "'coef_standardized' must be a list of 10 numbers"),
    ("coef_standardized", ["0"] * 10, "'coef_standardized' must be a list of 10 numbers"),
    ("coef_standardized", [True] * 10, "'coef_standardized' must be a list of 10 numbers"),
    ("coef_standardized", {"age": 1.0}, "'coef_standardized' must be a list of 10 numbers"),
    ("feature_names", ["age"], "'feature_names' do not match the preparation's features"),
    ("feature_names", "age", "'feature_names' do not match the preparation's features"),
    ("lam_choice", [1, 2], "'lam_choice' is not an object"),
    ("preparation", [], "'preparation' is not an object"),
])
def test_tampered_field_is_refused(regression, tmp_path, key, value, fault):
    _, _, model = regression
    _, doc = saved_doc(model, tmp_path)
    msg = refused(write_doc(tmp_path, tampered(doc, key, value)))
    assert "not a valid regulab model file" in msg and fault in msg, msg


def test_non_finite_numbers_are_refused(regression, tmp_path):
    _, _, model = regression
    _, doc = saved_doc(model, tmp_path)
    text = json.dumps(doc)
    # NaN / Infinity literals are not JSON; 1e999 is JSON but overflows to inf
    msg = refused(write_doc(tmp_path, text.replace('"lam": 2.0', '"lam": NaN')))
    assert "NaN is not a JSON number" in msg
    msg = refused(write_doc(tmp_path, text.replace('"lam": 2.0', '"lam": Infinity')))
    assert "Infinity is not a JSON number" in msg
    msg = refused(write_doc(tmp_path, text.replace('"intercept_standardized": ',
                                                   '"intercept_standardized": 1e999, "x": ')))
    assert "'intercept_standardized' must be a finite real number, got inf" in msg
    coef = json.dumps(doc["coef_standardized"])                 # its first value -> 1e999
    msg = refused(write_doc(tmp_path, text.replace(coef, "[1e999," + coef[coef.index(",") + 1:])))
    assert "'coef_standardized' holds a value that is not finite" in msg


@pytest.mark.parametrize("key, value, fault", [
    ("format", "other", "('format' is 'other', expected 'regulab-preparation'))"),
    ("version", 9, "(version 9; this regulab reads versions 1 and 2))"),
    ("means", KeyError, "(no 'means'))"),
    ("task", "ordinal", "(task 'ordinal'))"),
    ("missing", "impute", "(missing 'impute'))"),
    ("scales", [0.0] * 10, "(means/scales must be finite and scales > 0))"),
    ("scales", [1.0] * 9, "(feature names, means and scales do not match the columns))"),
    ("means", ["a"] * 10, "(means/scales are not numbers))"),
    ("columns", [{"name": "age", "kind": "text"}], "(column entry {'name': 'age', 'kind'"),
    ("columns", [{"name": "c", "kind": "categorical", "levels": []}],
     "(column 'c' has no levels))"),
    ("columns", [{"name": "age", "kind": "numeric", "fill": [1.0, 2.0]}],
     "(column 'age' has 2 fill values))"),
])
def test_tampered_preparation_is_refused(regression, tmp_path, key, value, fault):
    _, _, model = regression
    _, doc = saved_doc(model, tmp_path)
    doc["preparation"] = tampered(doc["preparation"], key, value)
    msg = refused(write_doc(tmp_path, doc))
    assert msg.startswith(f"{tmp_path / 't.json'}: not a valid regulab model file (preparation: "
                          f"not a regulab preparation ("), msg
    assert fault in msg, msg


@pytest.mark.parametrize("key, value", [("columns", 5), ("means", {"a": 1}), ("report", 7)])
def test_wrong_types_in_the_preparation_are_said_in_words(regression, tmp_path, key, value):
    _, _, model = regression
    _, doc = saved_doc(model, tmp_path)
    doc["preparation"][key] = value
    msg = refused(write_doc(tmp_path, doc))
    assert "not a valid regulab model file (preparation: " in msg, msg
    assert "object is not" not in msg and "Error" not in msg, msg


def test_binary_preparation_needs_two_classes(binary, tmp_path):
    _, model = binary
    _, doc = saved_doc(model, tmp_path)
    doc["preparation"]["classes"] = ["yes"]
    msg = refused(write_doc(tmp_path, doc))
    assert msg.endswith("(preparation: not a regulab preparation (a binary task needs two "
                        "classes))")


def test_files_that_are_no_model(tmp_path, regression):
    msg = refused(tmp_path / "absent.json")
    assert msg.endswith("no such model file")
    msg = refused(tmp_path)
    assert msg.endswith("is a directory, not a model file")
    msg = refused(write_doc(tmp_path, "", "empty.json"))
    assert msg.endswith("empty file (0 bytes), not a regulab model")
    msg = refused(write_doc(tmp_path, '{"format": "regulab-model", ', "cut.json"))
    assert "not a regulab model file (invalid JSON at line 1, column 29" in msg
    msg = refused(write_doc(tmp_path, "[1, 2]", "list.json"))
    assert "(expected a JSON object, found list)" in msg
    binary_file = tmp_path / "bin.json"
    binary_file.write_bytes(b'{"a": "\xff\xfe"}')
    assert "binary content, not UTF-8 JSON text at byte 7" in refused(binary_file)
    deep = write_doc(tmp_path, "[" * 100_000 + "]" * 100_000, "deep.json")
    assert "not a regulab model file" in refused(deep)


def test_oversized_file_is_refused_before_parsing(regression, tmp_path, monkeypatch):
    _, _, model = regression
    path, _ = saved_doc(model, tmp_path)
    size = path.stat().st_size
    monkeypatch.setattr(model_io, "MAX_MODEL_BYTES", size - 1)
    assert refused(path).endswith(f"{size:,} bytes, too large for a regulab model file")
    monkeypatch.setattr(model_io, "MAX_MODEL_BYTES", size)
    assert load_model(path).lam == 2.0


def test_bom_is_accepted_and_model_from_dict_names_the_source(regression, tmp_path):
    _, _, model = regression
    path, doc = saved_doc(model, tmp_path)
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert np.array_equal(load_model(bom).coef_std, model.coef_std)
    with pytest.raises(DataError, match=r"^from-api: not a valid regulab model file \(no 'lam'\)$"):
        model_from_dict(tampered(doc, "lam", KeyError), source_name="from-api")
    assert math.isclose(model_from_dict(doc).lam, 2.0)
