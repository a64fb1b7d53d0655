"""``regulab fit`` on a target with 3 or more classes: the multinomial model, its JSON document
checked against the optimality (KKT) conditions of the objective computed here, and the options
it cannot honour refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import softmax

from cli_runner import run_cli
from softmax_tables import LABELS, classes_csv


def _relative_kkt(doc, df, grouped):
    """Largest violation of the optimality conditions of
    ``mean_i -log softmax(x_i W + b)[c_i] + lam (rho L1(W) + (1 - rho) ||W||_F^2)`` at the
    printed standardized coefficients, relative to the null model's largest loss gradient."""
    classes = doc["classes"]
    names = [f["name"] for f in doc["features"]]
    X = df[names].to_numpy(float)
    X = (X - X.mean(0)) / X.std(0)
    codes = np.searchsorted(classes, df["kind"].astype(str).to_numpy())
    Y = np.eye(len(classes))[codes]
    W = np.array([[f["coef_standardized"][c] for c in classes] for f in doc["features"]])
    b = np.array([doc["intercept_standardized"][c] for c in classes])
    n = X.shape[0]
    lam, rho = doc["lam"], doc["l1_ratio"]
    G = X.T @ (softmax(X @ W + b, axis=1) - Y) / n + 2 * lam * (1 - rho) * W
    g_b = (softmax(X @ W + b, axis=1) - Y).mean(0)
    l1 = lam * rho
    if grouped:
        nw, ng = np.linalg.norm(W, axis=1), np.linalg.norm(G, axis=1)
        safe = np.where(nw > 0, nw, 1.0)[:, None]
        viol = np.where(nw == 0, np.maximum(ng - l1, 0),
                        np.linalg.norm(G + l1 * W / safe, axis=1))
    else:
        viol = np.where(W == 0, np.maximum(np.abs(G) - l1, 0), np.abs(G + l1 * np.sign(W)))
    P0 = Y.mean(0)
    G0 = X.T @ (P0 - Y) / n
    scale = np.linalg.norm(G0, axis=1).max() if grouped else np.abs(G0).max()
    return max(viol.max(), np.abs(g_b).max()) / scale


VARIANTS = {"l1": [], "elasticnet": ["--penalty", "elasticnet", "--l1-ratio", "0.4"],
            "l2": ["--penalty", "l2"], "grouped": ["--grouped-classes"]}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("seed", range(3))
def test_fit_json_solves_the_multinomial_objective(tmp_path, capsys, seed, variant):
    path, df = classes_csv(tmp_path, seed)
    code, out, err = run_cli(["fit", str(path), "--target", "kind", "--n-lams", "12",
                              "--seed", str(seed), "--json", *VARIANTS[variant]], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["family"]["family"] == "multinomial" and doc["classes"] == list(LABELS)
    assert _relative_kkt(doc, df, variant == "grouped") <= 1e-5
    assert doc["lam_1se"] >= doc["lam_min"]
    assert doc["lam"] == doc["lam_1se"] and doc["lam_choice"]["rule"] == "1se"
    assert len(doc["cv"]["lams"]) == len(doc["cv"]["mean_error"]) == 12
    i = int(np.argmin(doc["cv"]["mean_error"]))
    assert doc["lam_min"] == doc["cv"]["lams"][i]
    sd = df[[f["name"] for f in doc["features"]]].std(ddof=0).to_numpy()
    for f, s in zip(doc["features"], sd):
        for c in LABELS:  # original units: per unit of the raw column
            assert f["coef"][c] == pytest.approx(f["coef_standardized"][c] / s, rel=1e-9,
                                                 abs=1e-12)
        assert f["kept"] == any(v != 0 for v in f["coef_standardized"].values())
        if variant == "grouped":  # a feature kept or dropped for every class at once
            nz = [v != 0 for v in f["coef_standardized"].values()]
            assert all(nz) or not any(nz)
    assert doc["n_kept"] == sum(f["kept"] for f in doc["features"])


@pytest.mark.parametrize("seed", range(2))
def test_fit_at_a_given_lam_with_integer_labels(tmp_path, capsys, seed):
    path, df = classes_csv(tmp_path, seed, labels=("0", "1", "2"))
    code, out, err = run_cli(["fit", str(path), "--target", "kind", "--family", "multinomial",
                              "--lam", "0.03", "--cv", "3", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["lam"] == 0.03 and doc["lam_choice"]["how"] == "given"
    assert np.isfinite(doc["cv_error"]) and doc["cv_error"] > 0
    df["kind"] = df["kind"].astype(str)
    assert _relative_kkt(doc, df, False) <= 1e-5


def test_text_output_names_the_classes(tmp_path, capsys):
    path, _ = classes_csv(tmp_path, 0)
    code, out, err = run_cli(["fit", str(path), "--target", "kind", "--n-lams", "10",
                              "--rule", "min"], capsys)
    assert code == 0, err
    assert "family: multinomial" in out and "3 classes: ant, bee, cat" in out
    assert "mean multinomial log-loss" in out and "lam_min" in out and "rule min" in out
    header = next(line for line in out.splitlines() if "feature" in line)
    assert all(c in header for c in LABELS)


@pytest.mark.parametrize("args, words", [
    (["--stability"], ["--stability", "multinomial"]),
    (["--unpenalized", "x0"], ["--unpenalized", "multinomial"]),
    (["--penalty-factor", "{tmp}/classes.csv"], ["--penalty-factor", "multinomial"]),
    (["--nonnegative"], ["--nonnegative", "multinomial"]),
    (["--adaptive"], ["--adaptive", "multinomial"]),
    (["--grouped"], ["--grouped", "--grouped-classes"]),
    (["--family", "multinomial", "--stream"], ["--stream", "multinomial"]),
    (["--stream"], ["--stream", "multinomial"]),  # family auto: found by the streamed scan
    (["--grouped-classes", "--penalty", "l2"], ["--grouped-classes", "l1"]),
    (["--grouped-classes", "--family", "binomial", "--target", "two"],
     ["--grouped-classes", "binomial"]),
    (["--grouped-classes", "--target", "x0"], ["--grouped-classes", "gaussian"]),
    (["--family", "multinomial", "--target", "two"], ["multinomial", "3 or more labels"]),
])
def test_fit_refuses_in_one_line(tmp_path, capsys, args, words):
    path, df = classes_csv(tmp_path, 0)
    df["two"] = np.where(df["x0"] > df["x0"].median(), "yes", "no")
    df.to_csv(path, index=False)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    base = ["fit", str(path)] + ([] if "--target" in args else ["--target", "kind"])
    code, out, err = run_cli(base + args, capsys)
    assert code == 2 and out == "", err
    assert len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err


def test_a_class_with_fewer_rows_than_folds_is_refused(tmp_path, capsys):
    path, df = classes_csv(tmp_path, 2)
    df.loc[:2, "kind"] = "dog"  # 3 rows of a fourth class
    df.to_csv(path, index=False)
    code, out, err = run_cli(["fit", str(path), "--target", "kind", "--cv", "4"], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert "'dog'" in err and "3 rows" in err and "4 CV folds" in err
    code, out, err = run_cli(["fit", str(path), "--target", "kind", "--cv", "3",
                              "--n-lams", "5", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["classes"] == ["ant", "bee", "cat", "dog"]
