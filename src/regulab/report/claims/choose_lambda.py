"""Claim choose-lambda: seed 001's "Cost = EmpLoss + lam * Complexity: lam trades fit for
simplicity", made an experiment with the L1 path on diabetes (columns standardized) and on drawn
sparse problems where least squares can overfit.

What is *measured as a prediction* (it could come out otherwise):

* **The CV curve is a U** (K-fold, folds drawn from the seed): its mean error at lam_max and at
  the smallest lam of the grid both lie more than ``u_se = 1`` standard error (the 1-SE rule's own
  unit) above its minimum: simplicity costs at one end, fit to noise at the other. On diabetes,
  and in every drawn problem (count of draws where an end does not rise).
* **lam_1se gives a simpler model**: fewer non-zeros at lam_1se than at lam_min (diabetes; every
  draw).
* **The choice pays on new data**: on ``n_test`` fresh rows from the same law (not the CV folds),
  the fits at lam_min and at lam_1se have a lower test MSE than the better of the path's two ends
  (the null model at lam_max, the nearly unpenalized fit at the smallest lam): mean relative gain
  ``1 - MSE(lam) / min(MSE(lam_max), MSE(smallest lam))`` over the draws > 0.

The drawn problems (``n_draws``, from ``np.random.default_rng([seed, 11, i])``): ``p = 50`` features
with neighbour correlation ``rho`` uniform in [0, 0.7]; ``n`` uniform between ``0.5 p`` and ``2 p``
(where least squares can overfit, the setting in which "trading fit for simplicity" has a price on
both sides); ``k`` true non-zeros uniform in [2, 10]; SNR log-uniform in [1, 10]. The falsifying
setting is n >> p with a high SNR (``draw_n_over_p = (20, 20)``, ``draw_snr = (50, 50)``): there
least squares does not overfit, the CV curve is flat at small lam, and the U predictions fail.

What is *verified* (theorems and checks of the code, never evidence): training error never falls
and ``sum|w|`` never rises as lam grows (within the slack the duality gaps allow, see
:func:`monotone_slack`); the frontier of (Complexity, EmpLoss) pairs has slope between ``-lam_k``
and ``-lam_{k+1}`` between neighbouring lams (lam is the price of one unit of ``sum|w|``); every
coefficient is 0 at lam_max; lam_1se >= lam_min (by construction); the 1-SE rule recomputed with
plain numpy from the fold errors; scikit-learn's ``LassoCV`` on the same folds with
``alpha = lam / 2`` gives the same CV curve and the same lam_min and lam_1se; every path point is
certified by its duality gap.
"""

from __future__ import annotations

import numpy as np

from regulab.core.certificates import duality_gap_squared
from regulab.data.simulate import make_truth
from regulab.report.claims.base import (
    ExplainConfig,
    Measured,
    Prediction,
    Table,
    Verification,
    headline,
    missed_text,
)
from regulab.report.claims.draws import draw_problem, mean_se_or_none, span
from regulab.report.claims.sparsity import load_diabetes_standardized, null_loss
from regulab.selection.cv import cross_validate_path, make_folds
from regulab.selection.path import regularization_path

ID = "choose-lambda"
TITLE = "Choosing lam: it trades training fit for simplicity, cross-validation picks it"
SOURCE = "seed 001 (Q&A note: Cost = EmpLoss + lam * Complexity, and how to choose lam)"
STATEMENT = ("The regularized cost is Cost = EmpLoss + lam*Complexity: a larger lam buys a "
             "simpler model (smaller, fewer weights) at the price of a worse fit to the training "
             "data, so lam is chosen on held-out data, e.g. by cross-validation.")

#: glmnet's 100 lams and 10 folds on diabetes; the drawn problems (see the module docstring) use
#: ``draw_n_lams`` lams and ``draw_folds`` folds to keep the draws cheap.
DEFAULTS = {"n_lams": 100, "cv_folds": 10, "tol": 1e-7,
            "slope_min_dc": 1e-3,   # frontier pairs whose sum|w| differs by < 1e-3 max are skipped
            "n_draws": 4, "draw_n_lams": 40, "draw_folds": 5, "synth_p": 50,
            "draw_n_over_p": (0.5, 2.0),
            "draw_k": (2, 10), "draw_rho": (0.0, 0.7), "draw_snr": (1.0, 10.0),
            "n_test": 2000,
            "u_se": 1.0}            # "rises": more than this many SE above the CV minimum


def one_se_rule_numpy(lams, fold_errors) -> dict:
    """glmnet's rule from the fold errors alone, in plain numpy (independent of regulab.selection.cv)."""
    lams = np.asarray(lams, dtype=float)
    fe = np.asarray(fold_errors, dtype=float)
    k = fe.shape[0]
    mean = fe.sum(axis=0) / k
    se = np.sqrt(((fe - mean) ** 2).sum(axis=0) / (k - 1)) / np.sqrt(k)
    i_min = int(np.argmin(mean))
    within = mean <= mean[i_min] + se[i_min]
    lam_1se = float(lams[within].max())
    return {"mean": mean, "se": se, "idx_min": i_min,
            "idx_1se": int(np.flatnonzero(lams == lam_1se)[0]), "lam_min": float(lams[i_min]),
            "lam_1se": lam_1se}


def monotone_slack(lams, gaps_abs) -> tuple[np.ndarray, np.ndarray]:
    """How far training error and ``sum|w|`` may *appear* to break monotonicity between
    neighbouring path points solved only to absolute duality gaps ``g``.

    For lam_a > lam_b (points a, b), with ``D = C_b - C_a`` and ``dE = E_a - E_b``, optimality up
    to the gaps gives ``lam_b D - g_b <= dE <= lam_a D + g_a``, hence
    ``D >= -(g_a + g_b) / (lam_a - lam_b)`` and
    ``dE >= -lam_b (g_a + g_b) / (lam_a - lam_b) - g_b``.
    Returns the two slacks per neighbouring pair (exact solutions: both 0).
    """
    lams = np.asarray(lams, dtype=float)
    g = np.asarray(gaps_abs, dtype=float)
    la, lb, ga, gb = lams[:-1], lams[1:], g[:-1], g[1:]
    slack_c = (ga + gb) / (la - lb)
    slack_e = lb * slack_c + gb
    return slack_e, slack_c


def measure_path(X, y, names, *, seed: int, n_lams: int, folds: int, tol: float,
                 slope_min_dc: float) -> tuple[dict, dict]:
    """Every number of the claim on one data set (L1 path, its CV, certificates):
    ``(metrics, arrays)``."""
    cv = cross_validate_path(X, y, l1_ratio=1.0, n_lams=n_lams, cv=folds, seed=seed, tol=tol)
    path = regularization_path(X, y, l1_ratio=1.0, lams=cv.lams, tol=tol, feature_names=names)
    lams = path.lams
    resid = y[:, None] - X @ path.coefs - path.intercepts[None, :]
    train = np.mean(resid**2, axis=0)                  # EmpLoss at every lam
    complexity = np.abs(path.coefs).sum(axis=0)        # sum |w| at every lam
    nnz = path.nnz
    gaps_abs = np.array([duality_gap_squared(X, y, path.coefs[:, k], path.intercepts[k],
                                             lams[k], 0.0) for k in range(lams.size)])
    rel_gap = gaps_abs / null_loss(y)

    # monotone in lam (lams decrease along the path)
    d_train = train[:-1] - train[1:]                   # E(lam_a) - E(lam_b), lam_a > lam_b
    d_comp = complexity[1:] - complexity[:-1]          # C(lam_b) - C(lam_a)
    slack_e, slack_c = monotone_slack(lams, gaps_abs)

    # the price of complexity: slope of the (C, E) frontier between neighbours, against lam
    use = d_comp > slope_min_dc * max(complexity.max(), 1e-300)
    slope = d_train[use] / d_comp[use]                 # -dE/dC > 0
    lam_a, lam_b = lams[:-1][use], lams[1:][use]
    ratio = slope / np.sqrt(lam_a * lam_b)
    in_bracket = (slope >= lam_b * (1 - 1e-3)) & (slope <= lam_a * (1 + 1e-3))

    # 1se rule, recomputed independently from the fold errors
    ind = one_se_rule_numpy(cv.lams, cv.fold_errors)
    rule_matches = (ind["idx_min"] == cv.idx_min and ind["idx_1se"] == cv.idx_1se
                    and np.allclose(ind["mean"], cv.mean_error, rtol=1e-12, atol=0)
                    and np.allclose(ind["se"], cv.se_error, rtol=1e-10, atol=0))
    i0, i1 = cv.idx_min, cv.idx_1se
    mean, se = cv.mean_error, cv.se_error
    at = {name: {"lam": float(lams[i]), "train_mse": float(train[i]), "cv_mse": float(mean[i]),
                 "cv_se": float(se[i]), "complexity_l1": float(complexity[i]),
                 "nnz": int(nnz[i]), "penalty_term": float(lams[i] * complexity[i]),
                 "cost": float(train[i] + lams[i] * complexity[i]),
                 "features": [names[j] for j in np.flatnonzero(path.coefs[:, i])]}
          for name, i in (("lam_max", 0), ("lam_1se", i1), ("lam_min", i0),
                          ("smallest_lam", lams.size - 1))}
    r = float(lams[0] / lams[1]) if lams.size > 1 else 1.0
    metrics = {
        "n": int(X.shape[0]), "p": int(X.shape[1]),
        "lam_max": float(lams[0]), "lam_grid_min": float(lams[-1]),
        "lam_min": cv.lam_min, "lam_1se": cv.lam_1se, "idx_min": int(i0), "idx_1se": int(i1),
        "nnz_at_min": int(nnz[i0]), "nnz_at_1se": int(nnz[i1]), "nnz_at_lam_max": int(nnz[0]),
        "cv_error_at_min": float(mean[i0]), "cv_se_at_min": float(se[i0]),
        "cv_error_at_1se": float(mean[i1]), "cv_threshold": float(mean[i0] + se[i0]),
        "cv_excess_at_lam_max_in_se": _in_se(mean[0] - mean[i0], se[i0]),
        "cv_excess_at_smallest_lam_in_se": _in_se(mean[-1] - mean[i0], se[i0]),
        "recomputed_lam_min": ind["lam_min"], "recomputed_lam_1se": ind["lam_1se"],
        "one_se_rule_recomputed_matches": bool(rule_matches),
        "train_error_at_lam_max": float(train[0]), "train_error_at_smallest_lam": float(train[-1]),
        "train_error_reversals_raw": int(np.sum(d_train < 0)),
        "train_error_largest_reversal": float(max(0.0, -d_train.min())),
        "train_error_breaks_beyond_slack": int(np.sum(d_train < -slack_e)),
        "complexity_reversals_raw": int(np.sum(d_comp < 0)),
        "complexity_breaks_beyond_slack": int(np.sum(d_comp < -slack_c)),
        "frontier_pairs": int(use.sum()), "frontier_outside_bracket": int(np.sum(~in_bracket)),
        "frontier_slope_ratio_min": float(ratio.min()) if ratio.size else None,
        "frontier_slope_ratio_max": float(ratio.max()) if ratio.size else None,
        "frontier_ratio_bracket": [1.0 / np.sqrt(r), np.sqrt(r)],
        "max_relative_gap": float(rel_gap.max()),
        "at": at,
    }
    data = {"lams": lams, "cv_mean": mean, "cv_se": se, "train_error": train,
            "complexity": complexity, "nnz": nnz, "idx_min": int(i0), "idx_1se": int(i1),
            "coefs": path.coefs, "intercepts": path.intercepts, "names": names,
            "fold_errors": cv.fold_errors}
    return metrics, data


def _in_se(diff: float, se: float) -> float:
    """``diff`` in units of ``se`` (0 when both are 0: a flat curve; a huge number for se = 0)."""
    if se > 0:
        return float(diff / se)
    return 0.0 if diff == 0 else float(np.sign(diff)) * 1e300


def measure_draw(config: ExplainConfig, i: int, p: dict) -> tuple[dict, dict]:
    """One drawn problem: the path and its CV on ``n`` rows, the test error on ``n_test`` fresh
    rows from the same law."""
    n_p = int(p["synth_p"])
    s = draw_problem([config.seed, 11, i], n=tuple(round(n_p * r) for r in p["draw_n_over_p"]),
                     k=p["draw_k"], rho=p["draw_rho"], snr=p["draw_snr"])
    train, test = make_truth("sparse", n=s["n"], p=n_p, n_test=int(p["n_test"]),
                             k=min(s["k"], n_p), rho=s["rho"], snr=s["snr"],
                             seed=[config.seed, 12, i])
    fold_seed = int(np.random.default_rng([config.seed, 13, i]).integers(2**31))
    m, d = measure_path(train.X, train.y, [f"x{j}" for j in range(n_p)], seed=fold_seed,
                        n_lams=int(p["draw_n_lams"]), folds=int(p["draw_folds"]),
                        tol=float(p["tol"]), slope_min_dc=float(p["slope_min_dc"]))
    test_mse = np.mean((test.y[:, None] - test.X @ d["coefs"] - d["intercepts"][None, :]) ** 2,
                       axis=0)
    best_end = min(test_mse[0], test_mse[-1])
    i0, i1 = d["idx_min"], d["idx_1se"]
    m.update(k_true=int(train.support.size), rho=s["rho"], snr=s["snr"],
             noise_var=float(train.noise_sd ** 2), n_test=int(test.y.size),
             test_mse_at_lam_max=float(test_mse[0]),
             test_mse_at_smallest_lam=float(test_mse[-1]),
             test_mse_at_min=float(test_mse[i0]), test_mse_at_1se=float(test_mse[i1]),
             fresh_gain_min=float(1.0 - test_mse[i0] / best_end),
             fresh_gain_1se=float(1.0 - test_mse[i1] / best_end))
    d["test_mse"] = test_mse
    return m, d


def _lassocv_check(X, y, lams, folds: int, seed: int, cv_mean) -> dict:
    """scikit-learn's LassoCV on the same folds, ``alpha = lam / 2`` (its (1/2n) RSS against
    regulab's mean squared error): its CV curve and its lam_min and lam_1se."""
    from sklearn.linear_model import LassoCV

    same, _ = make_folds(folds, X.shape[0], 1, seed, "squared", y)   # cross_validate_path's folds
    sk = LassoCV(alphas=np.asarray(lams) / 2.0, cv=same, tol=1e-8, max_iter=200_000).fit(X, y)
    lams_sk = 2.0 * np.asarray(sk.alphas_)
    rule = one_se_rule_numpy(lams_sk, np.asarray(sk.mse_path_).T)
    return {"lam_min": 2.0 * float(sk.alpha_), "rule_lam_min": rule["lam_min"],
            "lam_1se": rule["lam_1se"],
            "grid_max_rel_diff": float(np.max(np.abs(lams_sk - lams) / lams)),
            "cv_curve_max_rel_diff": float(np.max(np.abs(rule["mean"] - cv_mean) / cv_mean))}


def measure(config: ExplainConfig) -> Measured:
    """Diabetes (full data, 10-fold CV) and the drawn problems; see the module docstring."""
    p = dict(DEFAULTS)
    kw = {"n_lams": int(p["n_lams"]), "folds": int(p["cv_folds"]), "tol": float(p["tol"]),
          "slope_min_dc": float(p["slope_min_dc"])}
    X, y, names = load_diabetes_standardized()
    dia, dd = measure_path(X, y, names, seed=config.seed, **kw)
    dia["sklearn_lassocv"] = _lassocv_check(X, y, dd["lams"], kw["folds"], config.seed,
                                            dd["cv_mean"])
    draws = [measure_draw(config, i, p) for i in range(int(p["n_draws"]))]
    rows = [m for m, _ in draws]
    over = {key: mean_se_or_none([r[key] for r in rows]) for key in ("fresh_gain_min", "fresh_gain_1se")}
    u = float(p["u_se"])
    metrics = {
        "n_lams": kw["n_lams"], "cv_folds": kw["folds"], "tol": kw["tol"], "u_se": u,
        "n_draws": len(rows), "draw_n_lams": int(p["draw_n_lams"]),
        "draw_folds": int(p["draw_folds"]),
        "ranges": {"n_over_p": list(p["draw_n_over_p"]), "k": list(p["draw_k"]),
                   "rho": list(p["draw_rho"]), "snr": list(p["draw_snr"])},
        "diabetes": dia, "synthetic": rows[0], "draws": rows,
        "draws_flat_at_lam_max": sum(r["cv_excess_at_lam_max_in_se"] <= u for r in rows),
        "draws_flat_at_smallest_lam": sum(r["cv_excess_at_smallest_lam_in_se"] <= u
                                          for r in rows),
        "draws_not_simpler_at_1se": sum(r["nnz_at_1se"] >= r["nnz_at_min"] for r in rows),
        "over_draws": {k: {"mean": m, "se": s} for k, (m, s) in over.items()},
    }
    tables = [_cost_table("Diabetes", dia["at"]),
              _cost_table("First drawn problem", rows[0]["at"]), _draws_table(rows)]
    return Measured(metrics, {"diabetes": dd, "synthetic": draws[0][1]}, tables)


def predict(m: dict, config: ExplainConfig) -> list[Prediction]:
    """Where lam trades fit for simplicity, CV's curve is a U, lam_1se is simpler, and the
    chosen lams beat both ends of the path on new data (see the module docstring)."""
    u, d, o, nd = m["u_se"], m["diabetes"], m["over_draws"], m["n_draws"]
    draws = f"of {nd} drawn problems"

    def gain(name, key, which):
        v = o[key]
        return Prediction(name, f"on fresh data the fit at {which} beats both ends of the path "
                          f"(mean relative gain in test MSE over the better end, {nd} draws)",
                          float("nan") if v["mean"] is None else v["mean"], ">", 0.0, se=v["se"])
    return [
        Prediction("cv_rises_toward_lam_max", f"the CV error at lam_max is more than {u:g} SE "
                   f"above its minimum (draws where it is not, {draws})",
                   m["draws_flat_at_lam_max"], "<=", 0, unit="draws"),
        Prediction("cv_rises_toward_small_lam", f"the CV error at the smallest lam is more than "
                   f"{u:g} SE above its minimum (draws where it is not, {draws})",
                   m["draws_flat_at_smallest_lam"], "<=", 0, unit="draws"),
        Prediction("fewer_nonzeros_at_1se", f"lam_1se keeps fewer non-zeros than lam_min (draws "
                   f"where it does not, {draws})", m["draws_not_simpler_at_1se"], "<=", 0,
                   unit="draws"),
        gain("fresh_data_min_beats_ends", "fresh_gain_min", "lam_min"),
        gain("fresh_data_1se_beats_ends", "fresh_gain_1se", "lam_1se"),
        Prediction("diabetes_cv_rises_toward_lam_max", f"on diabetes, the CV error at lam_max is "
                   f"more than {u:g} SE above its minimum", d["cv_excess_at_lam_max_in_se"], ">",
                   u, unit="SE"),
        Prediction("diabetes_cv_rises_toward_small_lam", f"on diabetes, the CV error at the "
                   f"smallest lam is more than {u:g} SE above its minimum",
                   d["cv_excess_at_smallest_lam_in_se"], ">", u, unit="SE"),
        Prediction("diabetes_fewer_nonzeros_at_1se", "on diabetes, lam_1se keeps fewer non-zeros "
                   "than lam_min (difference)", d["nnz_at_min"] - d["nnz_at_1se"], ">", 0,
                   unit="features"),
    ]


def verify(m: dict) -> list[Verification]:
    """Theorems and checks of the code on diabetes and every draw (not evidence)."""
    every = [m["diabetes"]] + m["draws"]
    sk = m["diabetes"]["sklearn_lassocv"]

    def count(key):
        return sum(int(r[key]) for r in every)
    return [
        Verification("train_error_monotone", "training error never falls as lam grows (beyond "
                     "the slack the duality gaps allow)", count("train_error_breaks_beyond_slack")
                     == 0, f"{count('train_error_reversals_raw')} raw reversals"),
        Verification("complexity_monotone", "sum|w| never rises as lam grows (same slack)",
                     count("complexity_breaks_beyond_slack") == 0,
                     f"{count('complexity_reversals_raw')} raw reversals"),
        Verification("frontier_slope_is_lam", "the (Complexity, EmpLoss) frontier's slope "
                     "between neighbouring lams lies in [lam_b, lam_a]",
                     count("frontier_outside_bracket") == 0 and all(r["frontier_pairs"] >= 10
                                                                     for r in every),
                     f"{count('frontier_pairs')} pairs"),
        Verification("all_zero_at_lam_max", "every coefficient is 0 at lam_max (its definition)",
                     count("nnz_at_lam_max") == 0),
        Verification("lam_1se_ge_lam_min", "lam_1se >= lam_min (by construction)",
                     all(r["lam_1se"] >= r["lam_min"] for r in every)),
        Verification("one_se_rule_recomputed_matches", "the 1-SE rule recomputed with numpy from "
                     "the fold errors gives the same lams",
                     all(r["one_se_rule_recomputed_matches"] for r in every)),
        Verification("sklearn_lassocv_same_folds", "scikit-learn LassoCV(alphas = lams / 2) on "
                     "diabetes' folds: same CV curve (to 1e-4) and same lam_min and lam_1se",
                     sk["cv_curve_max_rel_diff"] <= 1e-4 and sk["grid_max_rel_diff"] <= 1e-12
                     and np.isclose(sk["lam_min"], m["diabetes"]["lam_min"], rtol=1e-9)
                     and np.isclose(sk["lam_1se"], m["diabetes"]["lam_1se"], rtol=1e-9),
                     f"curve differs by {sk['cv_curve_max_rel_diff']:.1e}; lam_min "
                     f"{sk['lam_min']:.4g}, lam_1se {sk['lam_1se']:.4g}"),
        Verification("kkt_certified", f"every path point's relative duality gap is <= tol = "
                     f"{m['tol']:g}", max(r["max_relative_gap"] for r in every) <= m["tol"],
                     f"largest {max(r['max_relative_gap'] for r in every):.1e}"),
    ]


def _gain_text(stat: dict) -> str:
    """``'12 % ± 3 % below'`` / ``'4 % ± 1 % above'`` the better end, from a mean gain."""
    g, se = stat["mean"], stat["se"]
    if g is None:
        return "undefined against"
    pm = "" if se is None else f" ± {100 * se:.1f} %"
    if g == 0:
        return f"equal{pm} to"
    return f"{100 * abs(g):.1f} %{pm} {'below' if g > 0 else 'above'}"


def words(m: dict, predictions: list[Prediction], outcome: str) -> tuple[str, str]:
    """The verdict and nuance, from the numbers, for whichever outcome came out."""
    d, rows, o, u, nd = m["diabetes"], m["draws"], m["over_draws"], m["u_se"], m["n_draws"]
    at = d["at"]
    head = headline(outcome, predictions, holds="As the seed says.")
    dia = (
        f"L1 on diabetes ({d['n']} x {d['p']}, standardized), {m['n_lams']} lams: training MSE "
        f"{d['train_error_at_smallest_lam']:.1f} at the smallest lam and "
        f"{d['train_error_at_lam_max']:.1f} at lam_max = {d['lam_max']:.4g}, sum|w| "
        f"{at['smallest_lam']['complexity_l1']:.1f} and {at['lam_max']['complexity_l1']:.3g}. "
        f"{m['cv_folds']}-fold CV error: {at['lam_max']['cv_mse']:.1f} at lam_max "
        f"({d['cv_excess_at_lam_max_in_se']:.1f} SE above the minimum), minimum "
        f"{d['cv_error_at_min']:.1f} ± {d['cv_se_at_min']:.1f} at lam_min = {d['lam_min']:.3g} "
        f"({d['nnz_at_min']} non-zeros), {at['smallest_lam']['cv_mse']:.1f} at the smallest lam "
        f"({d['cv_excess_at_smallest_lam_in_se']:.2f} SE above); lam_1se = {d['lam_1se']:.3g} "
        f"keeps {d['nnz_at_1se']} non-zeros ({', '.join(at['lam_1se']['features']) or 'none'}).")
    drawn = (
        f"Over {nd} drawn sparse problems (p = {rows[0]['p']}; n {span(rows, 'n')}, "
        f"{span(rows, 'k_true')} true features, SNR {span(rows, 'snr', '{:.2g}')}): the CV "
        f"error at lam_max was more than {u:g} SE above its minimum in "
        f"{nd - m['draws_flat_at_lam_max']} of {nd} draws, at the smallest lam in "
        f"{nd - m['draws_flat_at_smallest_lam']} of {nd}; lam_1se kept fewer non-zeros than "
        f"lam_min in {nd - m['draws_not_simpler_at_1se']} of {nd}. On {rows[0]['n_test']} fresh "
        f"rows per draw, the test MSE at lam_min was {_gain_text(o['fresh_gain_min'])} the better "
        f"end of the path, at lam_1se {_gain_text(o['fresh_gain_1se'])} it.")
    verdict = f"{head} {dia} {drawn}" + missed_text(predictions)
    e_small = d["cv_excess_at_smallest_lam_in_se"]
    shape = ("an L more than a U: the small-lam side is flat within one SE" if e_small <= u else
             "a U: it rises on both sides")
    d_nnz = d["nnz_at_min"] - d["nnz_at_1se"]
    nuance = (
        f"Training error alone always prefers lam -> 0 (a theorem, checked above); only "
        f"held-out error makes lam a choice. On diabetes (n = {d['n']}, p = {d['p']}) the CV "
        f"curve is {shape} (smallest lam {e_small:.2f} SE above the minimum), and lam_min moves "
        f"with the fold draw (the seed); the 1se rule gives up "
        f"{d['cv_error_at_1se'] - d['cv_error_at_min']:.1f} of CV MSE for {abs(d_nnz)} "
        f"{'fewer' if d_nnz >= 0 else 'more'} features. The U needs a problem where the smallest "
        f"lam overfits; with n >> p and a high SNR the small-lam side is flat.")
    return verdict, nuance


def _cost_table(name: str, at: dict) -> Table:
    return Table(
        caption=f"{name}: the cost at four lams, EmpLoss + lam * Complexity",
        columns=["point", "lam", "non-zeros", "train MSE (EmpLoss)", "sum|w| (Complexity)",
                 "lam * Complexity", "Cost", "CV MSE ± SE"],
        rows=[[pt, f"{v['lam']:.4g}", str(v["nnz"]), f"{v['train_mse']:.4g}",
               f"{v['complexity_l1']:.4g}", f"{v['penalty_term']:.4g}", f"{v['cost']:.4g}",
               f"{v['cv_mse']:.4g} ± {v['cv_se']:.3g}"] for pt, v in at.items()])


def _draws_table(rows) -> Table:
    return Table(
        caption="Each drawn problem: CV curve ends (in SE above the minimum), non-zeros, and test "
                "MSE on fresh data",
        columns=["draw", "n", "p", "true", "SNR", "lam_max end", "smallest-lam end",
                 "nnz min / 1se", "test MSE: lam_max", "smallest lam", "lam_min", "lam_1se"],
        rows=[[str(i), str(r["n"]), str(r["p"]), str(r["k_true"]), f"{r['snr']:.2g}",
               f"{r['cv_excess_at_lam_max_in_se']:.1f}",
               f"{r['cv_excess_at_smallest_lam_in_se']:.1f}",
               f"{r['nnz_at_min']} / {r['nnz_at_1se']}", f"{r['test_mse_at_lam_max']:.3g}",
               f"{r['test_mse_at_smallest_lam']:.3g}", f"{r['test_mse_at_min']:.3g}",
               f"{r['test_mse_at_1se']:.3g}"] for i, r in enumerate(rows)])
