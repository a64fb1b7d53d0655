"""Claim calibration: Harrell's case for shrinkage, measured on drawn problems.

Seed 001 (Harrell): shrinkage pre-shrinks coefficients so that the calibration slope on new data
is 1 (least squares' is below 1 there), and coefficients highlighted for being large are biased,
which shrinkage reduces. Three experiments:

1. *Drawn regression problems* (``n_draws`` dense truths, :func:`regulab.data.simulate.make_truth`).
   Each draw takes its own setting from ``np.random.default_rng([seed, 1])``: rows ``n`` uniform
   in 40-150, features ``p = round(r * n)`` with ``r`` uniform in 1/15-0.6 (from Harrell's rule
   of thumb of 15 rows per feature, where least squares barely overfits, to strong overfitting),
   signal-to-noise ratio log-uniform in 0.5-4. ``DEFAULTS["n"]`` / ``DEFAULTS["p"]`` fix n / p
   instead (n = 1000, p = 5: least squares hardly overfits, and shrinkage has nothing to correct).
   Least squares, ridge, lasso and elastic net (lam by 5-fold CV) are scored by the calibration
   slope on 2000 new rows, mean +/- SE over the draws.
2. *Diabetes* (n = 442, p = 10): Harrell's bootstrap validation (``rms::validate``: the whole
   procedure, lam choice included, repeated on each resample) gives the optimism-corrected slope.
3. *The winner's curse*: ``curse_sims`` simulations with equal true effects, each drawing its own
   setting from ``np.random.default_rng([seed, 2])`` (rows 30-120, features 10-40, effect
   0.1-0.5 noise SDs); the feature a reader would highlight is each fit's largest estimate, and
   its bias is that estimate minus its true value, mean +/- SE over the simulations.

* predictions (count toward the verdict; comparisons of methods use the paired rule of
  :mod:`regulab.report.claims.draws`: better by more than 2 SE):
  - least squares' slope on new data is below 1 by more than 2 SE (drawn problems);
  - for ridge, lasso and elastic net, each counted separately: |slope - 1| on new data is below
    least squares' (a method that over-shrinks to a slope far above 1 fails its own prediction);
  - diabetes: least squares' optimism-corrected slope is below 1 by more than 2 SE;
  - the winner's curse: least squares' highlighted estimate is biased upwards (more than 2 SE);
    for each of ridge, lasso and elastic net, the ABSOLUTE bias is below least squares' (so
    shrinking the highlighted estimate past its true value does not count as a cure);
* verifications (checks of the code, not evidence): least squares' calibration slope on its own
  training data is 1 (a theorem); :func:`calibration_slope` equals numpy's fitted line slope.
"""

from __future__ import annotations

import numpy as np

from regulab.core.execution import run_tasks, task_seeds
from regulab.core.penalties import penalty_rho
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
from regulab.report.claims.draws import (
    WIN_SE,
    beats,
    fixed_or_range,
    gap_words,
    in_se,
    mean_se,
    pm,
)
from regulab.selection.calibration import calibration_slope, optimism_corrected_slope
from regulab.selection.cv import fit_cv

ID = "calibration"
TITLE = "Calibration: shrinkage makes the slope on new data 1, and tames the winner's curse"
SOURCE = "seed 001 (Shrinkage, after Harrell: calibration slope, selection bias)"
STATEMENT = ("Shrinkage pre-shrinks regression coefficients so that the calibration slope on new "
             "data is 1 (least squares' is below 1 on new data); and coefficients highlighted for "
             "being large are biased, which shrinkage reduces.")

#: the shrinkage methods (names of the one penalty vocabulary), compared with least squares
SHRINKERS = ("l2", "l1", "elasticnet")
#: every fit of the report, least squares first
FITS = ("ols",) + SHRINKERS
NAMES = {"ols": "least squares", "l2": "ridge", "l1": "lasso", "elasticnet": "elastic net"}
#: ``n`` / ``p`` (and ``curse_n`` / ``curse_p``) None: drawn from the ranges below
DEFAULTS = {"n": None, "p": None, "n_test": 2000, "n_draws": 12, "n_lams": 30, "cv": 5,
            "n_boot": 40, "curse_sims": 80, "curse_n": None, "curse_p": None, "curse_lams": 15}
RANGES = {"n": (40, 150), "p_over_n": (1 / 15, 0.6), "snr": (0.5, 4.0)}
CURSE_RANGES = {"n": (30, 120), "p": (10, 40), "effect": (0.1, 0.5)}


def ols(X, y):
    """Least squares with an intercept: ``(coef, intercept)``."""
    Xc, yc = X - X.mean(0), y - y.mean()
    w = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    return w, float(y.mean() - X.mean(0) @ w)


def _ols_predictor(X, y):
    w, b = ols(X, y)
    return lambda Z: Z @ w + b


def _cv_predictor(rho, n_lams, cv, seed):
    def fit(X, y):
        f = fit_cv(X, y, l1_ratio=rho, n_lams=n_lams, cv=cv, seed=seed)
        return lambda Z: Z @ f.coef + f.intercept
    return fit


def draw_settings(seed: int, p: dict) -> list[dict]:
    """The ``n_draws`` regression problems: n, p and SNR drawn from :data:`RANGES` (``p['n']``
    / ``p['p']`` fix them when not None), each with its own data seed."""
    rng = np.random.default_rng([seed, 1])
    seeds = task_seeds(seed, p["n_draws"])
    out = []
    for s in seeds:
        n = int(rng.integers(RANGES["n"][0], RANGES["n"][1] + 1))
        ratio = float(rng.uniform(*RANGES["p_over_n"]))
        snr = float(np.exp(rng.uniform(*np.log(RANGES["snr"]))))
        n = n if p["n"] is None else int(p["n"])
        n_feat = max(2, int(round(ratio * n))) if p["p"] is None else int(p["p"])
        out.append({"n": n, "p": n_feat, "snr": snr, "seed": s})
    return out


def _slope_task(p: dict, task) -> dict:
    """One drawn problem: every fit's calibration slope on new rows (and, for the first draw,
    the slopes along the ridge and lasso paths and a calibration plot's points)."""
    s, first = task
    train, test = make_truth("dense", n=s["n"], p=s["p"], n_test=p["n_test"], snr=s["snr"],
                             seed=s["seed"])
    w, b = ols(train.X, train.y)
    preds = {"ols": test.X @ w + b}
    out = {"train_slope": calibration_slope(train.y, train.X @ w + b), "lam": {}}
    fits = {}
    for kind in SHRINKERS:
        f = fit_cv(train.X, train.y, l1_ratio=penalty_rho(kind), n_lams=p["n_lams"], cv=p["cv"],
                   seed=s["seed"])
        fits[kind], out["lam"][kind] = f, f.lam
        preds[kind] = test.X @ f.coef + f.intercept
    out["slope"] = {k: calibration_slope(test.y, v) for k, v in preds.items()}
    if first:
        out["polyfit_gap"] = abs(out["slope"]["ols"] - np.polyfit(preds["ols"], test.y, 1)[0])
        out["curves"] = {}
        for kind in ("l2", "l1"):
            path = fits[kind].path
            z = test.X @ path.coefs + path.intercepts
            out["curves"][kind] = {"lams": path.lams, "lam_cv": fits[kind].lam,
                                   "slopes": np.array([calibration_slope(test.y, z[:, k])
                                                       for k in range(path.lams.size)])}
        out["scatter"] = {"y": test.y[:400], "ols": preds["ols"][:400],
                          "l2": preds["l2"][:400]}
    return out


def _curse_task(p: dict, seed: int) -> dict:
    """One winner's-curse simulation with its own drawn setting: the highlighted (largest)
    estimate of each fit minus its true value."""
    rng = np.random.default_rng([seed, 2])
    n = int(rng.integers(CURSE_RANGES["n"][0], CURSE_RANGES["n"][1] + 1)) \
        if p["curse_n"] is None else int(p["curse_n"])
    # least squares needs rows to spare: a drawn p stays at most n - 10
    n_feat = min(int(rng.integers(CURSE_RANGES["p"][0], CURSE_RANGES["p"][1] + 1)), n - 10) \
        if p["curse_p"] is None else int(p["curse_p"])
    effect = float(rng.uniform(*CURSE_RANGES["effect"]))
    X = rng.standard_normal((n, n_feat))
    y = X @ np.full(n_feat, effect) + rng.standard_normal(n)
    coefs = {"ols": ols(X, y)[0]}
    for kind in SHRINKERS:
        coefs[kind] = fit_cv(X, y, l1_ratio=penalty_rho(kind), n_lams=p["curse_lams"], cv=5,
                             seed=seed).coef
    # the feature a reader would highlight: THIS fit's largest estimate (all true effects equal)
    out = {k: float(c.max() - effect) for k, c in coefs.items()}
    out["setting"] = (n, n_feat, effect)
    return out


def _diabetes(p: dict, seed: int) -> dict:
    """Harrell's bootstrap validation of every fit on scikit-learn's diabetes data."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    fitters = {"ols": _ols_predictor}
    fitters.update({k: _cv_predictor(penalty_rho(k), 20, 5, seed) for k in SHRINKERS})
    out = {}
    for name, fit in fitters.items():
        r = optimism_corrected_slope(fit, X, y, n_boot=p["n_boot"], seed=seed)
        _, se = mean_se(r["per_resample_optimism"])
        out[name] = {"apparent": r["apparent"], "optimism": r["optimism"],
                     "corrected": r["corrected"], "corrected_se": se}
    return out


def measure(config: ExplainConfig) -> Measured:
    """Run the three experiments (the draws and simulations through the execution layer)."""
    p = dict(DEFAULTS)
    settings = draw_settings(config.seed, p)
    draws = run_tasks(_slope_task, [(s, i == 0) for i, s in enumerate(settings)], data=p)
    slopes = {k: [float(d["slope"][k]) for d in draws] for k in FITS}
    dist = {k: [abs(v - 1.0) for v in slopes[k]] for k in FITS}
    harrell = _diabetes(p, config.seed)
    sims = run_tasks(_curse_task, task_seeds(config.seed + 7, p["curse_sims"]), data=p)
    bias = {k: [sim[k] for sim in sims] for k in FITS}
    curse_set = np.array([sim["setting"] for sim in sims])

    def ms(d):
        pairs = {k: mean_se(v) for k, v in d.items()}
        return {k: v[0] for k, v in pairs.items()}, {k: v[1] for k, v in pairs.items()}

    (slope_mean, slope_se), (dist_mean, dist_se) = ms(slopes), ms(dist)
    bias_mean, bias_se = ms(bias)
    ridge = draws[0]["curves"]["l2"]["slopes"]
    metrics = {
        "n_draws": len(settings), "n_fixed": p["n"], "p_fixed": p["p"], "n_test": p["n_test"],
        "cv": p["cv"], "settings": settings,
        "n_range": [min(s["n"] for s in settings), max(s["n"] for s in settings)],
        "p_range": [min(s["p"] for s in settings), max(s["p"] for s in settings)],
        "snr_range": [min(s["snr"] for s in settings), max(s["snr"] for s in settings)],
        "ols_slope_train": [float(d["train_slope"]) for d in draws],
        "polyfit_gap": float(draws[0]["polyfit_gap"]),
        "slope_test": slopes, "slope_test_mean": slope_mean, "slope_test_se": slope_se,
        "slope_distance": dist, "slope_distance_mean": dist_mean, "slope_distance_se": dist_se,
        "undefined_slopes": {k: int(np.sum(~np.isfinite(v))) for k, v in slopes.items()},
        "ridge_slope_at_largest_lam": float(ridge[0]),
        "ridge_slope_at_smallest_lam": float(ridge[-1]),
        "diabetes_n_boot": p["n_boot"], "diabetes_slope": harrell,
        "winners_curse_sims": len(sims),
        "winners_curse_n_range": [int(curse_set[:, 0].min()), int(curse_set[:, 0].max())],
        "winners_curse_features": [int(curse_set[:, 1].min()), int(curse_set[:, 1].max())],
        "winners_curse_true_effect": [float(curse_set[:, 2].min()),
                                      float(curse_set[:, 2].max())],
        "winners_curse_bias": bias, "winners_curse_mean_bias": bias_mean,
        "winners_curse_bias_se": bias_se,
    }
    data = {"curves": draws[0]["curves"], "ols_slope_test": slopes["ols"][0],
            "scatter": draws[0]["scatter"], "slopes": {k: np.asarray(v) for k, v in slopes.items()},
            "bias": {k: np.asarray(v) for k, v in bias.items()}, "names": dict(NAMES)}
    return Measured(metrics, data, _tables(metrics))


def _tables(m: dict) -> list[Table]:
    h = m["diabetes_slope"]
    slope_rows = [[NAMES[k] + ("" if k == "ols" else ", lam by CV"),
                   pm(m["slope_test_mean"][k], m["slope_test_se"][k]),
                   pm(m["slope_distance_mean"][k], m["slope_distance_se"][k]),
                   f"{h[k]['apparent']:.3f}", pm(h[k]["corrected"], h[k]["corrected_se"])]
                  for k in FITS]
    curse_rows = [[NAMES[k], pm(m["winners_curse_mean_bias"][k], m["winners_curse_bias_se"][k]),
                   f"{abs(m['winners_curse_mean_bias'][k]):.3f}"] for k in FITS]
    return [
        Table(caption=f"Calibration slope (1 is ideal): drawn problems (mean +- SE over "
                      f"{m['n_draws']} draws) and diabetes ({m['diabetes_n_boot']} bootstraps)",
              columns=["fit", "slope on new rows", "|slope - 1|", "diabetes apparent",
                       "diabetes corrected"], rows=slope_rows),
        Table(caption=f"Winner's curse: highlighted (largest) estimate minus its true value "
                      f"(mean +- SE over {m['winners_curse_sims']} simulations)",
              columns=["fit", "bias", "|bias|"], rows=curse_rows)]


def _below(name: str, text: str, mean: float, se: float, bound: float) -> Prediction:
    """``mean`` is below ``bound`` by more than WIN_SE standard errors."""
    return Prediction(name, text, mean, "<", bound - WIN_SE * se, se=se)


def predict(m: dict, config: ExplainConfig) -> list[Prediction]:
    """Harrell's statements as predictions on the draws, diabetes and the simulations."""
    out = [_below("ols_slope_new_data_below_1", "Least squares' calibration slope on new data "
                  "is below 1 by more than 2 SE", m["slope_test_mean"]["ols"],
                  m["slope_test_se"]["ols"], 1.0)]
    d = m["slope_distance"]
    out += [beats(f"{k}_slope_closer_to_1_than_ols", f"{NAMES[k].capitalize()} (lam by CV) "
                  "brings the slope on new data closer to 1 than least squares (|slope - 1| "
                  "lower by more than 2 SE)", d[k], d["ols"]) for k in SHRINKERS]
    h = m["diabetes_slope"]["ols"]
    out.append(_below("diabetes_ols_corrected_slope_below_1", "Diabetes: least squares' "
                      "optimism-corrected slope is below 1 by more than 2 SE", h["corrected"],
                      h["corrected_se"], 1.0))
    b, b_mean = m["winners_curse_bias"], m["winners_curse_mean_bias"]
    out.append(Prediction("winners_curse_ols_biased_up", "Winner's curse: least squares' "
                          "highlighted estimate is biased upwards by more than 2 SE", b_mean["ols"],
                          ">", WIN_SE * m["winners_curse_bias_se"]["ols"],
                          se=m["winners_curse_bias_se"]["ols"]))
    # |mean bias| as a mean of sign-aligned per-simulation errors, so the comparison is paired
    sign = {k: 1.0 if b_mean[k] >= 0 else -1.0 for k in FITS}
    out += [beats(f"winners_curse_{k}_smaller_than_ols", f"Winner's curse: {NAMES[k]}'s absolute "
                  "bias is below least squares' by more than 2 SE",
                  sign[k] * np.asarray(b[k]), sign["ols"] * np.asarray(b["ols"]))
            for k in SHRINKERS]
    return out


def verify(m: dict) -> list[Verification]:
    """Theorems and identities (checks of the code, not evidence)."""
    gap = max(abs(s - 1.0) for s in m["ols_slope_train"])
    return [
        Verification("ols_slope_on_training_data_is_1", "least squares' calibration slope on its "
                     "own training data is 1 (a theorem)", gap < 1e-9,
                     f"max |slope - 1| = {gap:.1e} over {m['n_draws']} draws"),
        Verification("slope_is_fitted_line_slope", "calibration_slope equals numpy's polyfit "
                     "slope", m["polyfit_gap"] < 1e-9, f"gap {m['polyfit_gap']:.1e}"),
    ]


def _below_words(pred: Prediction, what: str) -> str:
    """``'least squares' slope is below 1 by 0.31 +- 0.04 (7.8 SE)'`` or why it is not."""
    gap, se = 1.0 - pred.value, pred.se
    if not np.isfinite(gap):
        return f"{what} is not measurable"
    if gap <= 0:
        return f"{what} is not below 1: it is {pm(pred.value, se)}"
    return (f"{what} is below 1 by {pm(gap, se)} ({in_se(gap, se)}: "
            f"{'more' if pred.held else 'not more'} than {WIN_SE:g} SE)")


def _curse_words(m: dict, by: dict) -> str:
    b, se = m["winners_curse_mean_bias"], m["winners_curse_bias_se"]
    up = by["winners_curse_ols_biased_up"]
    ols_txt = (f"least squares' highlighted estimate is off by {pm(b['ols'], se['ols'])} "
               f"({in_se(b['ols'], se['ols'])}: "
               f"{'biased upwards' if up.held else 'not biased upwards'} by the 2-SE rule)")
    parts = [gap_words(by[f"winners_curse_{k}_smaller_than_ols"],
                       f"{NAMES[k]}'s |bias| (bias {pm(b[k], se[k])})", "least squares'")
             for k in SHRINKERS]
    return (f"Winner's curse ({m['winners_curse_sims']} simulations, "
            f"{m['winners_curse_features'][0]}-{m['winners_curse_features'][1]} equal effects of "
            f"{m['winners_curse_true_effect'][0]:.2f}-{m['winners_curse_true_effect'][1]:.2f} noise "
            f"SDs, {m['winners_curse_n_range'][0]}-{m['winners_curse_n_range'][1]} rows): "
            f"{ols_txt}; " + "; ".join(parts) + ".")


def words(m: dict, predictions: list[Prediction], outcome: str) -> tuple[str, str]:
    """The verdict and nuance, from the numbers, for whichever outcome came out."""
    by = {p.name: p for p in predictions}
    sm, sse = m["slope_test_mean"], m["slope_test_se"]
    n_txt, p_txt = fixed_or_range(m, "n"), fixed_or_range(m, "p")
    head = headline(outcome, predictions, holds="As Harrell says, on every count:",
                    fails="The measurements contradict the statement ({tally}):",
                    part="The statement holds only in part ({tally}):")
    slopes = ", ".join(f"{NAMES[k]} {pm(sm[k], sse[k])}" for k in FITS)
    closer = "; ".join(gap_words(by[f"{k}_slope_closer_to_1_than_ols"],
                                 f"{NAMES[k]}'s |slope - 1| ({m['slope_distance_mean'][k]:.3f})",
                                 f"least squares' ({m['slope_distance_mean']['ols']:.3f})")
                       for k in SHRINKERS)
    undefined = {k: v for k, v in m["undefined_slopes"].items() if v}
    undef_txt = ("" if not undefined else " Left out (the fit predicted a constant, so its slope "
                 "is undefined): " + ", ".join(f"{NAMES[k]} in {v} draw{'s' * (v != 1)}"
                                              for k, v in undefined.items()) + ".")
    ols_below = _below_words(by["ols_slope_new_data_below_1"], "least squares' slope")
    diabetes_below = _below_words(by["diabetes_ols_corrected_slope_below_1"], "least squares'")
    h = m["diabetes_slope"]
    diabetes = ", ".join(f"{NAMES[k]} {pm(h[k]['corrected'], h[k]['corrected_se'])}" for k in FITS)
    verdict = (
        f"{head} over {m['n_draws']} drawn problems ({n_txt}, {p_txt}, SNR "
        f"{m['snr_range'][0]:.1f}-{m['snr_range'][1]:.1f}, dense truth; lam by {m['cv']}-fold CV) "
        f"the calibration slope on new data (mean +- SE) is {slopes}; "
        f"{ols_below}; {closer}."
        f"{undef_txt} Diabetes, optimism-corrected by {m['diabetes_n_boot']} bootstraps: "
        f"{diabetes}; "
        f"{diabetes_below}. "
        f"{_curse_words(m, by)}")
    verdict += missed_text(predictions)
    ols_slopes = np.asarray(m["slope_test"]["ols"], dtype=float)
    nuance = (
        "A slope near 1 is a property of the lam, not of the penalty: along the ridge path of "
        f"the first draw the slope on new data runs from {m['ridge_slope_at_smallest_lam']:.2f} "
        f"at the smallest lam to {m['ridge_slope_at_largest_lam']:.2f} at the largest. What "
        "shrinkage can correct is least squares' overfitting, which grows with p/n and falls "
        f"with the SNR: across the draws its slope ranged {np.nanmin(ols_slopes):.2f}-"
        f"{np.nanmax(ols_slopes):.2f}; on diabetes (n = 442, p = 10) its optimism is "
        f"{h['ols']['optimism']:.3f}. {_worst_draws(m)} The winner's curse is judged by the "
        "absolute bias: pulling the highlighted estimate below its true value is a bias too.")
    return verdict, nuance


def _worst_draws(m: dict) -> str:
    """Each shrinkage method's draw farthest from slope 1, with its setting."""
    parts = []
    for k in SHRINKERS:
        dist = np.asarray(m["slope_distance"][k], dtype=float)
        if not np.isfinite(dist).any():
            continue
        i = int(np.nanargmax(dist))
        s = m["settings"][i]
        parts.append(f"{NAMES[k]} {m['slope_test'][k][i]:.2f} (n = {s['n']}, p = {s['p']}, "
                     f"SNR {s['snr']:.1f})")
    if not parts:
        return ""
    return ("The draw farthest from 1 for each method (above 1: over-shrunk, below 1: "
            "under-shrunk): " + "; ".join(parts) + ".")
