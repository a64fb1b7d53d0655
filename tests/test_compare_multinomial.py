"""``regulab compare`` on a target with 3 or more classes: every number of the JSON document
recomputed here from the library's multinomial path on the same stratified folds (rebuilt with
scikit-learn), the grouped row keeping each feature for all classes or none, the
recommendation from the documented rules, and the options it cannot honour refused in one line."""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pytest
from scipy.special import log_softmax

from cli_runner import run_cli
from softmax_tables import LABELS, classes_csv


def _jaccard(sets):
    pairs = list(combinations(sets, 2))
    return float(np.mean([len(a & b) / len(a | b) if a | b else 1.0 for a, b in pairs]))


@pytest.mark.parametrize("seed", range(3))
def test_compare_multinomial_numbers_equal_the_library_on_the_same_folds(tmp_path, capsys, seed):
    from sklearn.model_selection import StratifiedKFold

    from regulab.selection.multinomial import multinomial_path
    from regulab.selection.recommend import MethodSummary, recommend

    path, df = classes_csv(tmp_path, seed, n=None, name=f"classes{seed}.csv")
    rule = ("min", "1se")[seed % 2]
    folds = 3
    code, out, err = run_cli(["compare", path, "--target", "kind", "--n-lams", 12, "--cv", folds,
                              "--rule", rule, "--seed", seed, "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["loss"] == "multinomial" and doc["classes"] == list(LABELS)
    assert list(doc["methods"]) == ["l1", "elasticnet", "l2", "l1_grouped"]
    names = [f"x{j}" for j in range(df.shape[1] - 1)]
    X = df[names].to_numpy(float)
    X = (X - X.mean(0)) / X.std(0)
    codes = np.searchsorted(LABELS, df["kind"].to_numpy(str))
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, codes))
    for key, (rho, grouped) in {"l1": (1.0, False), "elasticnet": (0.5, False),
                                "l2": (0.0, False), "l1_grouped": (1.0, True)}.items():
        d = doc["methods"][key]
        assert d["l1_ratio"] == rho and d["grouped_classes"] == grouped
        full = multinomial_path(X, codes, grouped=grouped, l1_ratio=rho, n_lams=12)
        lams = full.lams
        dev, acc, kept_sets = [], [], []
        for train, test in splits:
            fp = multinomial_path(X[train], codes[train], grouped=grouped, l1_ratio=rho,
                                  lams=lams, n_classes=3)
            Z = np.einsum("np,pkl->nkl", X[test], fp.coefs) + fp.intercepts[None]
            dev.append(-2 * log_softmax(Z, axis=1)[np.arange(len(test)), codes[test]].mean(0))
            acc.append((np.argmax(Z, axis=1) == codes[test][:, None]))
            kept_sets.append([set(np.flatnonzero(np.any(fp.coefs[:, :, k] != 0, axis=1)))
                              for k in range(lams.size)])
        dev = np.array(dev)
        mean, se = dev.mean(0), dev.std(0, ddof=1) / np.sqrt(folds)
        i0 = int(np.argmin(mean))
        i1 = int(np.flatnonzero(mean <= mean[i0] + se[i0])[0])
        k = i0 if rule == "min" else i1
        assert d["lam"] == pytest.approx(lams[k], rel=1e-12)
        assert d["lam_min"] == pytest.approx(lams[i0], rel=1e-12)
        assert d["lam_1se"] == pytest.approx(lams[i1], rel=1e-12)
        assert d["cv_deviance"] == pytest.approx(mean[k], rel=1e-6)
        assert d["cv_deviance_se"] == pytest.approx(se[k], rel=1e-5, abs=1e-9)
        correct = np.zeros(len(codes))
        for (train, test), a in zip(splits, acc):
            correct[test] = a[:, k]
        assert d["accuracy"] == pytest.approx(correct.mean(), abs=1e-12)
        assert d["stability"] == pytest.approx(_jaccard([s[k] for s in kept_sets]), abs=1e-12)
        W = np.array([[d["coef_standardized"][n][c] for c in LABELS] for n in names])
        np.testing.assert_allclose(W, full.coefs[:, :, k], atol=1e-5)
        assert d["n_kept"] == int(np.count_nonzero(np.any(W != 0, axis=1)))
        assert d["n_kept_per_class"] == {c: int(np.count_nonzero(W[:, i]))
                                         for i, c in enumerate(LABELS)}
        if grouped:  # each feature kept for all classes or for none
            assert all(np.all(row != 0) or np.all(row == 0) for row in W)
    summaries = {m: MethodSummary(doc["methods"][m]["cv_deviance"],
                                  doc["methods"][m]["cv_deviance_se"],
                                  doc["methods"][m]["n_kept"], doc["methods"][m]["n_features"],
                                  doc["methods"][m]["stability"])
                 for m in ("l1", "elasticnet", "l2")}
    assert doc["recommendation"]["penalty"] == recommend(summaries).penalty

    code, out, _ = run_cli(["compare", path, "--target", "kind", "--n-lams", 6, "--cv", folds,
                            "--seed", seed], capsys)
    assert code == 0 and "L1 grouped" in out and "recommendation:" in out


@pytest.mark.parametrize("extra,flag", [
    (["--n-boot", "5"], "--n-boot"), (["--out", "REPORT"], "--out"),
    (["--unpenalized", "x0"], "--unpenalized"), (["--nonnegative"], "--nonnegative"),
    (["--grouped"], "--grouped"), (["--stream"], "--stream"),
    (["--adaptive"], "--adaptive")])
def test_compare_multinomial_refuses_options_in_one_line(tmp_path, capsys, extra, flag):
    path, _ = classes_csv(tmp_path, 0, n=None, name="classes0.csv")
    extra = [str(tmp_path / "rep") if e == "REPORT" else e for e in extra]
    code, out, err = run_cli(["compare", path, "--target", "kind", "--n-lams", 5, "--cv", 3]
                             + extra, capsys)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and flag in err and "Traceback" not in err
    assert "3 or more classes" in err
