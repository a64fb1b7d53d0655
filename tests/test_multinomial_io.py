"""The multinomial model (3+ classes) saved, applied and drawn: ``regulab fit --save / --out``,
``regulab predict`` and ``regulab path``.

Oracles, all computed here: the softmax of the saved original-units coefficients on the raw
columns (indicators built by hand from the level names), the optimality (KKT) conditions of the
objective at the printed path coefficients, the null-model gradient for lam_max, the 1se rule by
hand, and the library's path and CV on a design standardized here. A model file written by the
previous regulab (binary, before multiclass files existed) is kept in ``tests/data`` and must
still load and predict as its own coefficients say.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax

from cli_runner import run_cli

LABELS = ("ant", "bee", "cat")
DATA = Path(__file__).parent / "data"


def _table(seed, n=150, p=4):
    """Numeric columns on various scales and a categorical one; labels drawn from a softmax
    model of a few columns."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3.0, p) + rng.normal(0, 2, p)
    shade = rng.choice(["dark", "light", "pale"], n)
    W = np.zeros((p + 1, len(LABELS)))
    W[:2] = rng.normal(0, 1.5, (2, len(LABELS)))
    W[p] = rng.normal(0, 1.0, len(LABELS))
    D = np.column_stack([(X - X.mean(0)) / X.std(0), shade == "dark"])
    P = softmax(D @ W, axis=1)
    codes = np.array([rng.choice(len(LABELS), p=pi) for pi in P])
    codes[: len(LABELS) * 5] = np.repeat(np.arange(len(LABELS)), 5)  # every class in every fold
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["shade"] = shade
    df["kind"] = np.asarray(LABELS, dtype=object)[codes]
    return df


def _raw_design(df, names):
    """The raw design of ``names`` by hand: a numeric column as is, ``col=level`` as the 0/1
    indicator of that level (an unseen level is 0 in every indicator)."""
    cols = []
    for name in names:
        if "=" in name:
            col, level = name.split("=", 1)
            cols.append((df[col].astype(str) == level).to_numpy(float))
        else:
            cols.append(df[name].to_numpy(float))
    return np.column_stack(cols)


def _standardized(df, names):
    R = _raw_design(df, names)
    return (R - R.mean(0)) / R.std(0)


def _codes(df, classes):
    return np.searchsorted(classes, df["kind"].astype(str).to_numpy())


def _kkt(X, codes, W, b, lam, rho, grouped):
    """Largest violation of the optimality conditions of
    ``mean_i -log softmax(x_i W + b)[c_i] + lam (rho L1(W) + (1 - rho) ||W||_F^2)``, relative to
    the null model's largest loss gradient."""
    n, K = X.shape[0], W.shape[1]
    Y = np.eye(K)[codes]
    R = softmax(X @ W + b, axis=1) - Y
    G = X.T @ R / n + 2 * lam * (1 - rho) * W
    l1 = lam * rho
    if grouped:
        nw, ng = np.linalg.norm(W, axis=1), np.linalg.norm(G, axis=1)
        safe = np.where(nw > 0, nw, 1.0)[:, None]
        viol = np.where(nw == 0, np.maximum(ng - l1, 0), np.linalg.norm(G + l1 * W / safe, axis=1))
    else:
        viol = np.where(W == 0, np.maximum(np.abs(G) - l1, 0), np.abs(G + l1 * np.sign(W)))
    G0 = X.T @ (Y.mean(0) - Y) / n
    scale = np.linalg.norm(G0, axis=1).max() if grouped else np.abs(G0).max()
    return max(viol.max(), np.abs(R.mean(0)).max()) / scale


# ----------------------------------------------------------------------------- fit --save, predict

FIT_VARIANTS = {"l1": [], "grouped": ["--grouped-classes"],
                "elasticnet": ["--penalty", "elasticnet", "--l1-ratio", "0.5"]}


@pytest.mark.parametrize("variant", sorted(FIT_VARIANTS))
@pytest.mark.parametrize("seed", range(2))
def test_saved_model_predicts_the_softmax_of_its_coefficients(tmp_path, capsys, seed, variant):
    df = _table(seed)
    data, model, pred = tmp_path / "d.csv", tmp_path / "m.json", tmp_path / "p.csv"
    df.to_csv(data, index=False)
    code, out, err = run_cli(["fit", data, "--target", "kind", "--n-lams", "10", "--cv", "3",
                              "--seed", seed, "--save", model, "--json",
                              *FIT_VARIANTS[variant]], capsys)
    assert code == 0, err
    fit_doc, saved = json.loads(out), json.loads(model.read_text())
    assert fit_doc["model_file"] == str(model)
    assert (saved["task"], saved["family"], saved["loss"]) == ("multiclass", "multinomial",
                                                               "multinomial")
    assert saved["classes"] == list(LABELS) and saved["lam"] == fit_doc["lam"]
    assert saved["grouped_classes"] == (variant == "grouped")
    assert saved["penalty"] == fit_doc["penalty"] and saved["l1_ratio"] == fit_doc["l1_ratio"]
    names = saved["feature_names"]
    assert names == [f["name"] for f in fit_doc["features"]]
    for k, c in enumerate(LABELS):  # the file holds the fit's coefficients, class by class
        assert saved["coef"][k] == [f["coef"][c] for f in fit_doc["features"]]
        assert saved["coef_standardized"][k] == [f["coef_standardized"][c]
                                                 for f in fit_doc["features"]]
        assert saved["intercept"][k] == fit_doc["intercept"][c]
    # the saved standardized coefficients solve the objective on the design standardized here
    W, b = np.array(saved["coef_standardized"]).T, np.array(saved["intercept_standardized"])
    X = _standardized(df, names)
    assert _kkt(X, _codes(df, list(LABELS)), W, b, saved["lam"], saved["l1_ratio"],
                variant == "grouped") <= 1e-5
    # predict on new rows, one with a level unseen in training and without the target
    new = df.drop(columns="kind").sample(25, random_state=seed).reset_index(drop=True)
    new.loc[3, "shade"] = "violet"
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False)
    code, out, err = run_cli(["predict", model, new_path, "--out", pred], capsys)
    assert code == 0, err
    assert "'violet'" in out and "unseen" in out
    got = pd.read_csv(pred)
    assert list(got.columns) == ["row", "prediction",
                                 *(f"probability:{c}" for c in LABELS)]
    Z = _raw_design(new, names) @ np.array(saved["coef"]).T + np.array(saved["intercept"])
    P = softmax(Z, axis=1)
    assert np.allclose(got[[f"probability:{c}" for c in LABELS]].to_numpy(), P, rtol=1e-10,
                       atol=1e-12)
    assert got["prediction"].tolist() == [LABELS[k] for k in np.argmax(P, axis=1)]


def test_predict_reports_log_loss_and_accuracy_and_refuses_a_missing_column(tmp_path, capsys):
    df = _table(7)
    data, model = tmp_path / "d.csv", tmp_path / "m.json"
    df.to_csv(data, index=False)
    code, _, err = run_cli(["fit", data, "--target", "kind", "--lam", "0.02", "--cv", "3",
                            "--save", model], capsys)
    assert code == 0, err
    code, out, err = run_cli(["predict", model, data, "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    saved = json.loads(model.read_text())
    Z = _raw_design(df, saved["feature_names"]) @ np.array(saved["coef"]).T \
        + np.array(saved["intercept"])
    codes = _codes(df, list(LABELS))
    logp = Z[np.arange(len(df)), codes] - np.log(np.exp(Z).sum(1))
    assert doc["metrics"]["log_loss"] == pytest.approx(-logp.mean(), rel=1e-10)
    assert doc["metrics"]["accuracy"] == pytest.approx(np.mean(Z.argmax(1) == codes))
    assert doc["probability_of"] == list(LABELS)
    assert [r["actual"] for r in doc["predictions"]] == df["kind"].tolist()
    # a row with a missing value (--missing drop at fit time): left out, its cells empty
    holed = df.copy()
    holed.loc[4, "x0"] = np.nan
    holed.to_csv(tmp_path / "holed.csv", index=False)
    code, out, err = run_cli(["predict", model, tmp_path / "holed.csv", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["left_out_rows"] == [5] and doc["metrics"]["rows"] == len(df) - 1
    assert all(doc["predictions"][4][k] is None for k in
               ["prediction", *(f"probability:{c}" for c in LABELS)])
    # a column the model needs, missing: one line naming it
    df.drop(columns="x1").to_csv(tmp_path / "lack.csv", index=False)
    code, out, err = run_cli(["predict", model, tmp_path / "lack.csv"], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert "'x1'" in err and "missing" in err


# ----------------------------------------------------------------------------- the file itself

@pytest.fixture()
def hand_model():
    """A multinomial model with coefficients chosen by hand on a prepared table."""
    from regulab.data.model_io import Model
    from regulab.data.prepare import prepare

    df = _table(3, n=60)
    prep = prepare(df, "kind", source_name="t.csv")
    assert prep.task == "multiclass"
    rng = np.random.default_rng(3)
    W = rng.normal(0, 1, (prep.n_features, 3))
    W[1] = 0.0
    return df, Model(prep=prep, coef_std=W, intercept_std=np.array([0.2, -0.1, 0.05]),
                     lam=0.04, penalty="l1", l1_ratio=1.0, n_train=60, grouped_classes=True)


def test_round_trip_is_exact_and_a_hand_edit_is_refused(hand_model, tmp_path):
    from regulab.data.errors import DataError
    from regulab.data.model_io import load_model, save_model

    df, model = hand_model
    path = save_model(model, tmp_path / "m.json")
    loaded = load_model(path)
    assert np.array_equal(loaded.coef_std, model.coef_std)
    assert np.array_equal(loaded.intercept_std, model.intercept_std)
    assert loaded.grouped_classes and loaded.prep.classes == list(LABELS)
    assert loaded.to_dict() == model.to_dict()
    a = model.predict_prepared(model.prep.apply(df).X)
    b = loaded.predict_prepared(loaded.prep.apply(df).X)
    assert np.array_equal(a["probabilities"], b["probabilities"])
    assert np.allclose(b["probabilities"].sum(1), 1.0, rtol=1e-14)
    doc = json.loads(path.read_text())
    assert doc["kept"] == [n for j, n in enumerate(doc["feature_names"]) if j != 1]
    assert "softmax" in doc["conventions"]["objective"]
    assert "||W_j.||_2" in doc["conventions"]["objective"]
    doc["coef"][2][0] += 0.5  # one class's original-units copy edited by hand
    (tmp_path / "e.json").write_text(json.dumps(doc))
    with pytest.raises(DataError) as info:
        load_model(tmp_path / "e.json")
    msg = str(info.value)
    assert "\n" not in msg and "for class 'cat'" in msg and "must agree" in msg, msg
    doc = json.loads(path.read_text())
    doc["coef_standardized"] = doc["coef_standardized"][:2]
    (tmp_path / "s.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match="a list of 3 lists"):
        load_model(tmp_path / "s.json")


def test_a_model_file_of_the_previous_regulab_still_loads(tmp_path, capsys):
    """tests/data/old_binary_model.json was written by regulab 0.1.0 before multiclass files
    (``regulab fit old_model_rows.csv --target ripe --lam 0.02 --cv 3 --save ...``)."""
    old = json.loads((DATA / "old_binary_model.json").read_text())
    assert "family" not in old and "grouped_classes" not in old
    code, out, err = run_cli(["predict", DATA / "old_binary_model.json",
                              DATA / "old_model_rows.csv", "--json"], capsys)
    assert code == 0, err
    rows = pd.read_csv(DATA / "old_model_rows.csv")
    z = _raw_design(rows, old["feature_names"]) @ np.array(old["coef"]) + old["intercept"]
    got = np.array([r["probability"] for r in json.loads(out)["predictions"]])
    assert np.allclose(got, 1 / (1 + np.exp(-z)), rtol=1e-10)


# ----------------------------------------------------------------------------- fit --out

def test_fit_report_has_a_panel_per_class_and_the_coefficients(tmp_path, capsys):
    df = _table(4)
    data, rep = tmp_path / "d.csv", tmp_path / "rep"
    df.to_csv(data, index=False)
    code, out, err = run_cli(["fit", data, "--target", "kind", "--n-lams", "8", "--cv", "3",
                              "--out", rep], capsys)
    assert code == 0, err
    assert (rep / "figures" / "fit_path_cv.png").stat().st_size > 10_000
    results = json.loads((rep / "results.json").read_text())
    html = (rep / "index.html").read_text()
    assert results["classes"] == list(LABELS) and "One panel per class" in html
    assert all(f">{c}<" in html for c in LABELS)  # a column per class in the table
    kept = [f for f in results["features"] if f["kept"]]
    assert kept and all(f">{f['name']}<" in html for f in kept)
    assert results["conventions"]["objective"].startswith("minimize over W, b")
    assert "report:" in out


# ----------------------------------------------------------------------------- path

PATH_VARIANTS = {"l1": (1.0, False, []), "grouped": (1.0, True, ["--grouped-classes"]),
                 "elasticnet": (0.4, False, ["--penalty", "elasticnet", "--l1-ratio", "0.4"])}


@pytest.mark.parametrize("variant", sorted(PATH_VARIANTS))
@pytest.mark.parametrize("seed", range(2))
def test_path_json_is_the_library_path_and_solves_the_objective(tmp_path, capsys, seed,
                                                                 variant):
    from regulab.selection.multinomial import cross_validate_multinomial, multinomial_path

    rho, grouped, args = PATH_VARIANTS[variant]
    df = _table(seed + 10)
    data, rep = tmp_path / "d.csv", tmp_path / "rep"
    df.to_csv(data, index=False)
    code, out, err = run_cli(["path", data, "--target", "kind", "--n-lams", "10", "--cv", "3",
                              "--seed", seed, "--json", "--out", rep, *args], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["classes"] == list(LABELS) and doc["family"]["family"] == "multinomial"
    assert doc["grouped_classes"] == grouped
    names = list(doc["coefs"])
    X, codes = _standardized(df, names), _codes(df, list(LABELS))
    lams = np.array(doc["lams"])
    C = np.array([[doc["coefs"][n][c] for c in LABELS] for n in names])   # [p, K, m]
    B = np.array([doc["intercepts"][c] for c in LABELS])                  # [K, m]
    # lam_max by hand: the null model's loss gradient, everything 0 at the top of the grid
    Y = np.eye(3)[codes]
    G0 = X.T @ (Y.mean(0) - Y) / len(df)
    top = (np.linalg.norm(G0, axis=1).max() if grouped else np.abs(G0).max()) / rho
    assert lams[0] == pytest.approx(top, rel=1e-9) and not np.any(C[:, :, 0])
    assert np.all(np.diff(lams) < 0)
    # KKT at lam_min, lam_1se and the smallest lam, from the printed numbers
    for i in {doc["idx_min"], doc["idx_1se"], lams.size - 1}:
        assert _kkt(X, codes, C[:, :, i], B[:, i], lams[i], rho, grouped) <= 1e-5, i
    # the library on the design standardized here: the same path and CV curve
    ref = multinomial_path(X, codes, grouped=grouped, l1_ratio=rho, lams=lams)
    assert np.allclose(ref.coefs, C, rtol=1e-6, atol=1e-8)
    cv = cross_validate_multinomial(X, codes, grouped=grouped, l1_ratio=rho, lams=lams, cv=3,
                                    seed=seed)
    assert np.allclose(cv.mean_error, doc["cv_mean"], rtol=1e-6)
    assert np.allclose(cv.se_error, doc["cv_se"], rtol=1e-5, atol=1e-9)
    # lam_min and lam_1se by hand from the printed curve
    mean, se = np.array(doc["cv_mean"]), np.array(doc["cv_se"])
    i0 = int(np.argmin(mean))
    assert doc["lam_min"] == lams[i0]
    assert doc["lam_1se"] == lams[np.flatnonzero(mean <= mean[i0] + se[i0])[0]]
    assert doc["nnz"] == np.count_nonzero(np.any(C != 0, axis=1), axis=0).tolist()
    for k, c in enumerate(LABELS):
        assert doc["nnz_per_class"][c] == np.count_nonzero(C[:, k, :], axis=0).tolist()
    # training error: the mean log-loss of the printed coefficients on all rows
    Z = np.einsum("ij,jkl->ikl", X, C) + B[None]
    logp = Z[np.arange(len(df)), codes, :] - np.log(np.exp(Z).sum(1))
    assert np.allclose(doc["train_error"], -logp.mean(0), rtol=1e-9)
    # the files: a figure, path.csv with a column per class and feature, the report
    assert (rep / "figures" / "path.png").stat().st_size > 10_000
    csv = pd.read_csv(rep / "path.csv")
    assert np.allclose(csv["lam"], lams, rtol=1e-15)
    for k, c in enumerate(LABELS):
        for j, n in enumerate(names):
            assert np.array_equal(csv[f"{c}:{n}"].to_numpy(), C[j, k])
    assert json.loads((rep / "results.json").read_text())["lam_1se"] == doc["lam_1se"]


def test_path_text_output(tmp_path, capsys):
    df = _table(5)
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    code, out, err = run_cli(["path", data, "--target", "kind", "--n-lams", "8", "--cv", "3"],
                             capsys)
    assert code == 0, err
    assert "3 classes: ant, bee, cat" in out and "family: multinomial" in out
    assert "lam_min" in out and "lam_1se" in out and "order of entry" in out


@pytest.mark.parametrize("args, words", [
    (["--unpenalized", "x0"], ["--unpenalized", "multinomial"]),
    (["--nonnegative"], ["--nonnegative", "multinomial"]),
    (["--grouped"], ["--grouped", "--grouped-classes"]),
    (["--stream"], ["--stream", "multinomial"]),
    (["--family", "multinomial", "--stream"], ["--stream", "multinomial"]),
    (["--grouped-classes", "--penalty", "l2"], ["--grouped-classes", "l1"]),
    (["--grouped-classes", "--target", "two"], ["--grouped-classes", "binomial"]),
    (["--grouped-classes", "--family", "gaussian", "--target", "x0"],
     ["--grouped-classes", "gaussian"]),
])
def test_path_refuses_in_one_line(tmp_path, capsys, args, words):
    df = _table(6)
    df["two"] = np.where(df["x0"] > df["x0"].median(), "yes", "no")
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    base = ["path", data] + ([] if "--target" in args else ["--target", "kind"])
    code, out, err = run_cli(base + args, capsys)
    assert code == 2 and out == "", err
    assert len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err


# ----------------------------------------------------------------------------- lam in glmnet's terms

@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("seed", range(2))
def test_the_glmnet_setting_in_the_file_solves_the_same_problem(tmp_path, seed, grouped):
    """The file's ``glmnet-multinomial`` lambda and alpha, given to Fortran glmnet's multinomial
    (standardize off, on the design standardized here), give the saved coefficients."""
    pytest.importorskip("glmnet._glmnet", reason="python-glmnet is not installed")
    from test_multinomial import _glmnet

    from regulab.data.model_io import Model, save_model
    from regulab.data.prepare import prepare
    from regulab.selection.multinomial import multinomial_lam_max, multinomial_path

    df = _table(seed + 20)
    prep = prepare(df, "kind", source_name="t.csv")
    codes = np.asarray(prep.y).astype(int)
    rho = 0.5  # an L2 part: the optimum is unique, so coefficients compare
    lam = 0.1 * multinomial_lam_max(prep.X, codes, grouped=grouped, l1_ratio=rho)
    path = multinomial_path(prep.X, codes, grouped=grouped, l1_ratio=rho, lams=[lam], tol=1e-10)
    model = Model(prep=prep, coef_std=path.coefs[:, :, 0], intercept_std=path.intercepts[:, 0],
                  lam=lam, penalty="elasticnet", l1_ratio=rho, n_train=len(df),
                  grouped_classes=grouped)
    doc = json.loads(save_model(model, tmp_path / "m.json").read_text())
    g = doc["conventions"]["equivalents"]["glmnet-multinomial"]
    assert g["family"] == "multinomial"
    assert g["type.multinomial"] == ("grouped" if grouped else "ungrouped")
    X = _standardized(df, doc["feature_names"])
    Wg, bg = _glmnet(X, _codes(df, list(LABELS)), 3, g["lambda"], g["alpha"], grouped)
    W = np.array(doc["coef_standardized"]).T
    np.testing.assert_allclose(W, Wg, atol=5e-5)
    sk = doc["conventions"]["equivalents"]["sklearn-logistic-multinomial"]
    assert ("not_representable" in sk) == grouped


def test_fit_report_at_a_given_lam_marks_it_on_the_paths(tmp_path, capsys):
    df = _table(8)
    data, rep = tmp_path / "d.csv", tmp_path / "rep"
    df.to_csv(data, index=False)
    code, out, err = run_cli(["fit", data, "--target", "kind", "--lam", "0.03", "--cv", "3",
                              "--out", rep, "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["report"] == str(rep / "index.html")
    assert (rep / "figures" / "fit_path.png").stat().st_size > 10_000
    assert "the given lam 0.03 is marked" in (rep / "index.html").read_text()
