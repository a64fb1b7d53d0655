"""Claim sparsity: seed 001's "L1 gives many exact zeros and a few large weights; L2 gives small,
non-zero weights", made an experiment on drawn sparse truths and on real data.

Both penalties are fitted on whole regularization paths and compared at each one's own CV
``lam_1se`` (glmnet's one-standard-error rule), a lam a user would pick.

**Drawn problems** (``n_draws`` of them, drawn from ``np.random.default_rng([seed, 1, i])``, so no
single constant decides the outcome): ``p = 50`` features ``X ~ N(0, Sigma)``,
``Sigma_ij = rho**|i-j|``; ``n`` uniform in [100, 400] (2p to 8p rows); ``k`` true non-zeros
uniform in [2, 10] (4 % to 20 % of the features: "many features are irrelevant", as the seed puts
L1's use case) with random signs and magnitudes in [1, 2]; ``rho`` uniform in [0, 0.7] (from
independent to strongly correlated neighbours); signal-to-noise ratio ``var(Xw) / sigma**2``
log-uniform in [1, 10] (R^2 of the truth from 0.5 to 0.91). The data come from
:func:`regulab.data.simulate.make_truth`. ``DEFAULTS["truth"] = "dense"`` draws every coefficient
non-zero instead: the falsifying setting, where the sparsity predictions should fail.

**Diabetes** (scikit-learn's, 442 x 10, columns standardized): what L1 and L2 do on real data.

Predictions (thresholds fixed from the seed's words before any run; means over draws carry their
standard error):

* "many weights exactly zero": L1 at lam_1se sets at least half of the weights exactly 0
  (mean over draws; and on diabetes);
* "a few weights remain large": the largest 20 % of L1's weights carry at least 90 % of its
  L1 norm (mean over draws; and on diabetes), and more than L2's largest 20 % carry of L2's
  (mean paired difference > 0; and on diabetes);
* "feature selection": L1 at lam_1se keeps the true features (mean recall >= 0.9) and at most as
  many false ones as true ones (mean precision >= 0.5; draws where L1 kept nothing have no
  precision and are left out of that mean);
* "weights approach but rarely = 0": no L2 coefficient is exactly 0.0 at any lam of any L2 path.

Verifications (definitions and code checks, never evidence): every L1 coefficient is exactly 0 at
lam_max (that is how lam_max is defined); every path point is certified by its relative duality
gap, recomputed here from the returned ``(w, b)`` with
:func:`regulab.core.certificates.duality_gap_squared`; the L1 fit at lam_1se equals scikit-learn's
``Lasso(alpha = lam / 2)`` and the L2 fit equals ``Ridge(alpha = n lam)``.

Grids: the L1 grid is glmnet's (``lam_max`` down to ``1e-3 lam_max``). A pure L2 path has no
``lam_max``; it uses regulab's ridge grid (:mod:`regulab.selection.path`: ``100 d_max`` down to
``l2_eps * 100 d_max``), so the ridge curves run from nearly 0 to nearly least squares. The drawn
problems use ``draw_n_lams`` lams and ``draw_folds`` folds to keep the draws cheap.
"""

from __future__ import annotations

import math

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
from regulab.report.claims.draws import (
    draw_problem,
    finite,
    fmt2,
    mean_pct,
    mean_se_or_none,
    pct,
    span,
)
from regulab.selection.cv import cross_validate_path
from regulab.selection.path import lam_grid, regularization_path

ID = "sparsity"
TITLE = "Sparsity: L1 zeros out most weights, L2 keeps every weight small but non-zero"
SOURCE = "seed 001 (Q&A note, 'Key Differences' table: Sparsity and Weights rows)"
STATEMENT = ("L1 regularization gives many weights that are exactly 0 and a few large ones (a "
             "sparse model that selects features); L2 regularization gives small weights, none "
             "of them exactly 0.")

DEFAULTS = {
    "n_lams": 100,          # lams per diabetes path (glmnet's default)
    "l2_eps": 1e-6,         # L2 grid: 100 d_max down to 1e-4 d_max (near least squares)
    "cv_folds": 10,
    "tol": 1e-7,            # relative duality gap every path point must reach
    # the drawn problems (see the module docstring)
    "truth": "sparse",      # "dense": every coefficient non-zero (the falsifying setting)
    "n_draws": 5, "draw_n_lams": 40, "draw_folds": 5,
    "synth_p": 50, "draw_n": (100, 400), "draw_k": (2, 10), "draw_rho": (0.0, 0.7),
    "draw_snr": (1.0, 10.0),
    # thresholds, from the seed's words (fixed before any measurement)
    "small_rel": 1e-3,      # "near 0": |w| < small_rel * max|w| (reported, not predicted)
    "top_frac": 0.2,        # "a few": the largest 20 % of the weights ...
    "min_top_share": 0.9,   # ... carry at least 90 % of the L1 norm ("large")
    "min_zero_share": 0.5,  # "many weights exactly zero": at least half
    "min_recall": 0.9, "min_precision": 0.5,   # "feature selection"
}


# ---------------------------------------------------------------- data

def load_diabetes_standardized():
    """scikit-learn's diabetes data: ``X`` standardized (mean 0, unit variance), ``y`` as is."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    X = np.asarray(d.data, dtype=float)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, np.asarray(d.target, dtype=float), [str(f) for f in d.feature_names]


# ---------------------------------------------------------------- measurements

def null_loss(y) -> float:
    """MSE of the intercept-only model: the scale of the relative duality gap."""
    y = np.asarray(y, dtype=float)
    return float(np.mean((y - y.mean()) ** 2)) or 1.0


def relative_gaps(X, y, path) -> np.ndarray:
    """Relative duality gap of every point of ``path``, recomputed from its ``(w, b)``."""
    scale = null_loss(y)
    return np.array([duality_gap_squared(X, y, path.coefs[:, k], path.intercepts[k],
                                         *path.l1_l2(k)) / scale
                     for k in range(path.lams.size)])


def precision_recall(coefs, support) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall of the set ``coefs != 0``, per column (precision NaN when empty)."""
    sel = np.asarray(coefs) != 0.0
    if sel.ndim == 1:
        sel = sel[:, None]
    tp = sel[support].sum(axis=0)
    n_sel = sel.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(n_sel > 0, tp / np.maximum(n_sel, 1), np.nan)
    return precision, tp / len(support)


def top_share(w, frac: float) -> float:
    """Share of ``sum|w|`` carried by the ``ceil(frac * p)`` largest ``|w_j|``."""
    a = np.sort(np.abs(np.asarray(w, dtype=float)))[::-1]
    total = a.sum()
    return float(a[:math.ceil(frac * a.size)].sum() / total) if total > 0 else float("nan")


def gini(w) -> float:
    """Gini coefficient of ``|w|``: 0 when all equal, ``1 - 1/p`` when one carries everything."""
    a = np.sort(np.abs(np.asarray(w, dtype=float)))
    p, total = a.size, a.sum()
    if total == 0:
        return float("nan")
    return float((2.0 * np.sum(np.arange(1, p + 1) * a) / (p * total)) - (p + 1.0) / p)


def weight_profile(w, small_rel: float, top_frac: float) -> dict:
    """The shape of one coefficient vector, as the seed describes it."""
    w = np.asarray(w, dtype=float)
    a = np.abs(w)
    wmax = float(a.max())
    nz = a[a > 0]
    return {"p": int(w.size), "exact_zeros": int(np.sum(w == 0.0)),
            "frac_exact_zero": float(np.mean(w == 0.0)),
            "frac_below_small": float(np.mean(a < small_rel * wmax)),
            "top_share": top_share(w, top_frac), "gini": gini(w), "max_abs": wmax,
            "min_abs_nonzero": float(nz.min()) if nz.size else float("nan"),
            "median_abs": float(np.median(a))}


def l2_grid(X, y, n_lams: int, eps: float) -> np.ndarray:
    """regulab's ridge grid (:func:`regulab.selection.path.lam_grid` with ``l1_ratio = 0``) down ``eps``."""
    return lam_grid(X, y, l1_ratio=0.0, n_lams=n_lams, eps=eps)


def both_paths(X, y, p: dict, *, n_lams: int, folds: int, seed: int, names=None) -> dict:
    """L1 and L2 paths with their CV (each penalty on its own grid), on the same folds."""
    tol = float(p["tol"])
    cv1 = cross_validate_path(X, y, l1_ratio=1.0, n_lams=n_lams, cv=folds, seed=seed, tol=tol)
    cv2 = cross_validate_path(X, y, l1_ratio=0.0, lams=l2_grid(X, y, n_lams, p["l2_eps"]),
                              cv=folds, seed=seed, tol=tol)
    l1 = regularization_path(X, y, l1_ratio=1.0, lams=cv1.lams, tol=tol, feature_names=names)
    l2 = regularization_path(X, y, l1_ratio=0.0, lams=cv2.lams, tol=tol, feature_names=names)
    w1, w2 = l1.coefs[:, cv1.idx_1se], l2.coefs[:, cv2.idx_1se]
    prof1 = weight_profile(w1, p["small_rel"], p["top_frac"])
    prof2 = weight_profile(w2, p["small_rel"], p["top_frac"])
    return {"cv1": cv1, "cv2": cv2, "l1": l1, "l2": l2, "w1": w1, "w2": w2,
            "prof1": prof1, "prof2": prof2,
            "gap_l1": float(relative_gaps(X, y, l1).max()),
            "gap_l2": float(relative_gaps(X, y, l2).max()),
            "l2_exact_zeros": int(np.sum(l2.coefs == 0.0)),
            "l2_min_abs": float(np.abs(l2.coefs).min()),
            "l1_all_zero_at_top": bool(np.all(l1.coefs[:, 0] == 0.0)
                                       and np.count_nonzero(l1.coefs[:, 1]) >= 1)}


def measure_draw(config: ExplainConfig, i: int, p: dict) -> tuple[dict, dict]:
    """One drawn problem: its settings and scores (metrics), and its fits (arrays)."""
    s = draw_problem([config.seed, 1, i], n=p["draw_n"], k=p["draw_k"], rho=p["draw_rho"],
                     snr=p["draw_snr"])
    truth, _ = make_truth(p["truth"], n=s["n"], p=int(p["synth_p"]), k=min(s["k"], p["synth_p"]),
                          rho=s["rho"], snr=s["snr"], seed=[config.seed, 2, i])
    fold_seed = int(np.random.default_rng([config.seed, 3, i]).integers(2**31))
    fit = both_paths(truth.X, truth.y, p, n_lams=int(p["draw_n_lams"]),
                     folds=int(p["draw_folds"]), seed=fold_seed,
                     names=[f"x{j}" for j in range(truth.X.shape[1])])
    support = truth.support
    prec, rec = precision_recall(fit["l1"].coefs, support)
    i0, i1 = fit["cv1"].idx_min, fit["cv1"].idx_1se
    p1, p2 = fit["prof1"], fit["prof2"]
    row = {**s, "k": int(support.size), "noise_sd": float(truth.noise_sd),
           "nnz_at_1se": int(fit["l1"].nnz[i1]), "nnz_at_min": int(fit["l1"].nnz[i0]),
           "zero_share": p1["frac_exact_zero"], "recall": float(rec[i1]),
           "precision": finite(prec[i1]), "top_share_l1": finite(p1["top_share"]),
           "top_share_l2": finite(p2["top_share"]),
           "top_share_diff": finite(p1["top_share"] - p2["top_share"]),
           "l2_exact_zeros_on_path": fit["l2_exact_zeros"], "l2_min_abs_on_path": fit["l2_min_abs"],
           "l2_below_small_share": p2["frac_below_small"],
           "max_relative_gap": max(fit["gap_l1"], fit["gap_l2"])}
    return row, {**fit, "truth": truth, "precision": prec, "recall": rec}


def _diabetes(config: ExplainConfig, p: dict) -> tuple[dict, dict]:
    """Both paths on diabetes, and what they show."""
    X, y, names = load_diabetes_standardized()
    f = both_paths(X, y, p, n_lams=int(p["n_lams"]), folds=int(p["cv_folds"]), seed=config.seed,
                   names=names)
    dl1, dl2, cv1, cv2 = f["l1"], f["l2"], f["cv1"], f["cv2"]
    corr = np.corrcoef(X, rowvar=False)
    np.fill_diagonal(corr, 0.0)
    a, b = np.unravel_index(np.argmax(np.abs(corr)), corr.shape)
    m = {
        "n": int(X.shape[0]), "p": int(X.shape[1]),
        "l1_lam_max": float(dl1.lams[0]), "l1_lam_min_grid": float(dl1.lams[-1]),
        "l2_lam_max_grid": float(dl2.lams[0]), "l2_lam_min_grid": float(dl2.lams[-1]),
        "l1_nnz_min": int(dl1.nnz.min()), "l1_nnz_max": int(dl1.nnz.max()),
        "l1_frac_lams_with_exact_zero": float(np.mean(dl1.nnz < X.shape[1])),
        "l1_entry_order": _entry_order(dl1, names), "l1_sign_changes": sign_changes(dl1, names),
        "most_correlated_pair": [names[min(a, b)], names[max(a, b)], float(corr[a, b])],
        "l2_nnz_min": int(dl2.nnz.min()), "l2_exact_zeros_on_path": f["l2_exact_zeros"],
        "l2_min_abs_on_path": f["l2_min_abs"],
        "l1_lam_1se": cv1.lam_1se, "l2_lam_1se": cv2.lam_1se, "l1_lam_min": cv1.lam_min,
        "l1_nnz_at_1se": int(dl1.nnz[cv1.idx_1se]), "l1_nnz_at_min": int(dl1.nnz[cv1.idx_min]),
        "l1_kept_at_1se": [names[j] for j in np.flatnonzero(f["w1"])],
        "l1_at_1se": _jsonable_profile(f["prof1"]), "l2_at_1se": _jsonable_profile(f["prof2"]),
        "top_share_diff": finite(f["prof1"]["top_share"] - f["prof2"]["top_share"]),
    }
    return m, {**f, "X": X, "y": y, "names": names}


def _jsonable_profile(prof: dict) -> dict:
    return {k: (finite(v) if isinstance(v, float) else v) for k, v in prof.items()}


def _sklearn_check(X, y, w1, lam1, w2, lam2) -> dict:
    """Largest coefficient differences from scikit-learn: ``Lasso(alpha = lam / 2)`` for L1 and
    ``Ridge(alpha = n lam)`` for L2 (regulab's mean squared error vs their (1/2n) RSS and RSS)."""
    from sklearn.linear_model import Lasso, Ridge

    n = X.shape[0]
    sk1 = Lasso(alpha=lam1 / 2.0, tol=1e-12, max_iter=1_000_000).fit(X, y).coef_
    sk2 = Ridge(alpha=n * lam2).fit(X, y).coef_
    return {"l1_max_abs_diff": float(np.abs(sk1 - w1).max()), "l1_scale": float(np.abs(w1).max()),
            "l2_max_abs_diff": float(np.abs(sk2 - w2).max()), "l2_scale": float(np.abs(w2).max())}


# ---------------------------------------------------------------- the experiment

def measure(config: ExplainConfig) -> Measured:
    """Diabetes and the drawn problems; see the module docstring."""
    p = dict(DEFAULTS)
    dia, dfit = _diabetes(config, p)
    draws = [measure_draw(config, i, p) for i in range(int(p["n_draws"]))]
    rows = [r for r, _ in draws]
    row0, fit0 = draws[0]
    X0, y0 = fit0["truth"].X, fit0["truth"].y
    cv1, cv2, sl1, sl2 = fit0["cv1"], fit0["cv2"], fit0["l1"], fit0["l2"]
    i_min, i_1se = cv1.idx_min, cv1.idx_1se
    prec, rec, support = fit0["precision"], fit0["recall"], fit0["truth"].support
    over = {key: mean_se_or_none([r[key] for r in rows])
            for key in ("zero_share", "recall", "precision", "top_share_l1", "top_share_l2",
                        "top_share_diff", "nnz_at_1se", "nnz_at_min", "k", "n", "snr", "rho",
                        "l2_below_small_share")}
    metrics = {
        "n_lams": int(p["n_lams"]), "tol": float(p["tol"]), "cv_folds": int(p["cv_folds"]),
        "truth": p["truth"], "n_draws": len(rows), "draw_n_lams": int(p["draw_n_lams"]),
        "draw_folds": int(p["draw_folds"]), "top_frac": float(p["top_frac"]),
        "ranges": {k: list(p[f"draw_{k}"]) for k in ("n", "k", "rho", "snr")},
        "thresholds": {k: float(p[k]) for k in ("min_zero_share", "min_top_share", "min_recall",
                                                "min_precision")},
        "diabetes": dia,
        "synthetic": {  # the first draw, shown in the figures
            "n": row0["n"], "p": int(X0.shape[1]), "k_true": row0["k"], "rho": row0["rho"],
            "snr": row0["snr"], "noise_sd": row0["noise_sd"],
            "true_support": [int(j) for j in support],
            "l1_frac_lams_with_exact_zero": float(np.mean(sl1.nnz < X0.shape[1])),
            "l2_exact_zeros_on_path": row0["l2_exact_zeros_on_path"],
            "l2_min_abs_on_path": row0["l2_min_abs_on_path"],
            "l1_lam_min": cv1.lam_min, "l1_lam_1se": cv1.lam_1se,
            "l2_lam_min": cv2.lam_min, "l2_lam_1se": cv2.lam_1se,
            "l1_nnz_at_min": int(sl1.nnz[i_min]), "l1_nnz_at_1se": int(sl1.nnz[i_1se]),
            "precision_at_min": finite(prec[i_min]), "recall_at_min": float(rec[i_min]),
            "precision_at_1se": finite(prec[i_1se]), "recall_at_1se": float(rec[i_1se]),
            "lams_with_exact_support": int(np.sum((prec == 1.0) & (rec == 1.0))),
            "selected_at_1se": [int(j) for j in np.flatnonzero(fit0["w1"])],
        },
        "draws": rows,
        "over_draws": {k: {"mean": m, "se": s} for k, (m, s) in over.items()},
        "l1_at_1se": _jsonable_profile(fit0["prof1"]), "l2_at_1se": _jsonable_profile(fit0["prof2"]),
        "l1_at_min": _jsonable_profile(weight_profile(sl1.coefs[:, i_min], p["small_rel"],
                                                      p["top_frac"])),
        "l2_at_min": _jsonable_profile(weight_profile(sl2.coefs[:, cv2.idx_min], p["small_rel"],
                                                      p["top_frac"])),
        "l2_exact_zeros_total": dia["l2_exact_zeros_on_path"]
        + sum(r["l2_exact_zeros_on_path"] for r in rows),
        "l2_coefficients_total": int(dfit["l2"].coefs.size)
        + sum(f["l2"].coefs.size for _, f in draws),
        "l2_min_abs_anywhere": min([dia["l2_min_abs_on_path"]]
                                   + [r["l2_min_abs_on_path"] for r in rows]),
        "l1_all_zero_at_lam_max": bool(dfit["l1_all_zero_at_top"]
                                       and all(f["l1_all_zero_at_top"] for _, f in draws)),
        "max_relative_gap": {"diabetes_l1": dfit["gap_l1"], "diabetes_l2": dfit["gap_l2"],
                             "draws": max(r["max_relative_gap"] for r in rows)},
        "sklearn": _sklearn_check(X0, y0, fit0["w1"], cv1.lam_1se, fit0["w2"], cv2.lam_1se),
    }
    data = {
        "names_diabetes": dfit["names"],
        "diabetes_l1": _path_data(dfit["l1"]), "diabetes_l2": _path_data(dfit["l2"]),
        "synthetic_l1": _path_data(sl1), "synthetic_l2": _path_data(sl2),
        "support": support, "w_true": fit0["truth"].w, "precision": prec, "recall": rec,
        "idx_min": i_min, "idx_1se": i_1se, "l2_idx_1se": cv2.idx_1se,
        "w_l1_1se": fit0["w1"], "w_l2_1se": fit0["w2"],
    }
    return Measured(metrics, data, _tables(metrics, dfit, fit0))


def _val(x) -> float:
    return float("nan") if x is None else float(x)


def predict(m: dict, config: ExplainConfig) -> list[Prediction]:
    """The seed's words as thresholds on the measured weights (see the module docstring)."""
    p, o, d = m["thresholds"], m["over_draws"], m["diabetes"]
    top = f"top {100 * m['top_frac']:.0f} %"
    nd = f"{m['n_draws']} drawn {m['truth']} truths"

    def mean(name, key, text, op, thr):
        return Prediction(name, f"{text} (mean over {nd})", _val(o[key]["mean"]), op, thr,
                          se=o[key]["se"])
    return [
        mean("l1_many_exact_zeros", "zero_share", "L1 at lam_1se sets at least "
             f"{100 * p['min_zero_share']:.0f} % of the weights exactly 0", ">=",
             p["min_zero_share"]),
        mean("l1_few_large", "top_share_l1", f"L1 at lam_1se: its {top} of weights carry at "
             f"least {100 * p['min_top_share']:.0f} % of its L1 norm", ">=", p["min_top_share"]),
        mean("l1_more_concentrated_than_l2", "top_share_diff", f"L1's {top} share exceeds L2's, "
             "each at its lam_1se", ">", 0.0),
        mean("l1_recall", "recall", "L1 at lam_1se keeps the true features: recall at least "
             f"{p['min_recall']:g}", ">=", p["min_recall"]),
        mean("l1_precision", "precision", "L1 at lam_1se keeps at most as many false features as "
             f"true ones: precision at least {p['min_precision']:g}", ">=", p["min_precision"]),
        Prediction("l2_never_exactly_zero", "no L2 coefficient is exactly 0 at any lam of any L2 "
                   f"path (diabetes and the {nd}; count of exact zeros)",
                   m["l2_exact_zeros_total"], "<=", 0, unit="coefficients"),
        Prediction("diabetes_l1_many_exact_zeros", f"on diabetes, L1 at lam_1se sets at least "
                   f"{100 * p['min_zero_share']:.0f} % of the weights exactly 0",
                   d["l1_at_1se"]["frac_exact_zero"], ">=", p["min_zero_share"]),
        Prediction("diabetes_l1_few_large", f"on diabetes, L1's {top} of weights at lam_1se "
                   f"carry at least {100 * p['min_top_share']:.0f} % of its L1 norm",
                   _val(d["l1_at_1se"]["top_share"]), ">=", p["min_top_share"]),
        Prediction("diabetes_l1_more_concentrated_than_l2", f"on diabetes, L1's {top} share "
                   "exceeds L2's, each at its lam_1se", _val(d["top_share_diff"]), ">", 0.0),
    ]


def verify(m: dict) -> list[Verification]:
    """Definitions and checks of the code (not evidence)."""
    tol, gaps, sk = m["tol"], m["max_relative_gap"], m["sklearn"]
    return [
        Verification("l1_all_zero_at_lam_max", "every L1 path is all exactly 0 at lam_max and "
                     "has a non-zero at the next lam (the definition of lam_max)",
                     m["l1_all_zero_at_lam_max"], "diabetes and every draw"),
        Verification("kkt_certified", f"every path point's relative duality gap, recomputed from "
                     f"(w, b), is <= tol = {tol:g}", max(gaps.values()) <= tol,
                     f"largest {max(gaps.values()):.1e}"),
        Verification("l1_matches_sklearn_lasso", "the first draw's L1 fit at lam_1se equals "
                     "scikit-learn Lasso(alpha = lam / 2) to 1e-4 max|w|",
                     sk["l1_max_abs_diff"] <= 1e-4 * max(sk["l1_scale"], 1.0),
                     f"largest difference {sk['l1_max_abs_diff']:.1e}"),
        Verification("l2_matches_sklearn_ridge", "the first draw's L2 fit at lam_1se equals "
                     "scikit-learn Ridge(alpha = n lam) to 1e-6 max|w|",
                     sk["l2_max_abs_diff"] <= 1e-6 * max(sk["l2_scale"], 1.0),
                     f"largest difference {sk['l2_max_abs_diff']:.1e}"),
    ]


def words(m: dict, predictions: list[Prediction], outcome: str) -> tuple[str, str]:
    """The verdict and nuance, from the numbers, for whichever outcome came out."""
    o, d, rows, s = m["over_draws"], m["diabetes"], m["draws"], m["synthetic"]
    top = f"top {100 * m['top_frac']:.0f} %"
    empty = sum(r["precision"] is None for r in rows)
    head = headline(outcome, predictions, holds="As the seed says.")
    drawn = (
        f"Over {m['n_draws']} drawn {m['truth']} truths (p = {s['p']}; n {span(rows, 'n')}, "
        f"{span(rows, 'k')} true features, neighbour correlation {span(rows, 'rho', '{:.2f}')}, "
        f"SNR {span(rows, 'snr', '{:.2g}')}), L1 at its CV lam_1se set "
        f"{mean_pct(o['zero_share'])} of the weights exactly 0 (it kept "
        f"{o['nnz_at_1se']['mean']:.1f} features on average for {o['k']['mean']:.1f} true), with "
        f"recall {mean_pct(o['recall'])} and precision {mean_pct(o['precision'])}"
        + (f" (L1 kept nothing in {empty} draw{'s' if empty != 1 else ''}: no precision)"
           if empty else "")
        + f"; its {top} of weights carried {mean_pct(o['top_share_l1'])} of its L1 norm, "
        f"L2's {top} {mean_pct(o['top_share_l2'])} of L2's.")
    z, total = m["l2_exact_zeros_total"], m["l2_coefficients_total"]
    l2 = (f"L2 had no exact 0 among the {total} coefficients of its paths (smallest |w| "
          f"{m['l2_min_abs_anywhere']:.1e})." if z == 0 else
          f"L2 had {z} exact zeros among the {total} coefficients of its paths.")
    d1, d2 = d["l1_at_1se"], d["l2_at_1se"]
    n_top = math.ceil(m["top_frac"] * d["p"])
    dia = (f"On diabetes ({d['n']} x {d['p']}, standardized) L1 at lam_1se = {d['l1_lam_1se']:.3g} "
           f"kept {d['l1_nnz_at_1se']} of {d['p']} features "
           f"({', '.join(d['l1_kept_at_1se']) or 'none'}) and set {d1['exact_zeros']} exactly 0; "
           f"its largest {n_top} carried {pct(d1['top_share'])} of its L1 norm, against "
           f"{pct(d2['top_share'])} for L2 at its lam_1se, which set {d2['exact_zeros']} "
           "exactly 0.")
    verdict = f"{head} {drawn} {l2} {dia}" + missed_text(predictions)
    flips = d["l1_sign_changes"]
    pair = d["most_correlated_pair"]
    selects = ("L2 alone never selects a feature" if z == 0 else
               "L2 produced exact zeros here, which ridge's closed form makes rare")
    nuance = (
        f"L1's zeros are exact zeros of the solution, not small numbers: the soft-threshold puts "
        f"them there. In the first draw ({s['k_true']} true of {s['p']}), CV's lam_min kept "
        f"{s['l1_nnz_at_min']} features (precision {pct(s['precision_at_min'])}) and lam_1se "
        f"{s['l1_nnz_at_1se']} (precision {pct(s['precision_at_1se'])}); the exact true support "
        f"appeared at {s['lams_with_exact_support']} of the {m['draw_n_lams']} lams. On diabetes, "
        f"where {pair[0]} and {pair[1]} are correlated at r = {pair[2]:.2f}, the last features to "
        f"enter the L1 path are {', '.join(d['l1_entry_order'][-3:])}, and "
        f"{', '.join(flips) or 'none'} change{'s' if len(flips) == 1 else ''} sign along it: which "
        f"features L1 keeps, and their signs, depend on lam and on the correlations. L2 at its "
        f"lam_1se left {mean_pct(o['l2_below_small_share'])} of its weights below 1e-3 max|w| "
        f"(mean over draws): small is not zero, and {selects}.")
    return verdict, nuance


# ---------------------------------------------------------------- tables and helpers

def _tables(m: dict, dfit: dict, fit0: dict) -> list[Table]:
    s = m["synthetic"]
    prec, rec, sl1 = fit0["precision"], fit0["recall"], fit0["l1"]
    cv1, cv2 = fit0["cv1"], fit0["cv2"]
    prof_rows = [("L1, lam_1se", cv1.lam_1se, m["l1_at_1se"]), ("L2, lam_1se", cv2.lam_1se,
                  m["l2_at_1se"]), ("L1, lam_min", cv1.lam_min, m["l1_at_min"]),
                 ("L2, lam_min", cv2.lam_min, m["l2_at_min"])]
    k_true, (dl1, dl2) = s["k_true"], (dfit["l1"], dfit["l2"])
    ols_d = least_squares(dfit["X"], dfit["y"])
    return [
        Table(caption="Each drawn problem: L1 and L2 at their CV lam_1se",
              columns=["draw", "n", "true features", "rho", "SNR", "L1 kept", "L1 exactly 0",
                       "recall", "precision", f"L1 top {100 * m['top_frac']:.0f} % share",
                       "L2 share", "L2 exact zeros"],
              rows=[[str(i), str(r["n"]), str(r["k"]), f"{r['rho']:.2f}", f"{r['snr']:.2g}",
                     str(r["nnz_at_1se"]), pct(r["zero_share"]), f"{r['recall']:.2f}",
                     fmt2(r["precision"]), pct(r["top_share_l1"]), pct(r["top_share_l2"]),
                     str(r["l2_exact_zeros_on_path"])] for i, r in enumerate(m["draws"])]),
        Table(caption="First draw: the weight vector at each penalty's lam_1se (and lam_min)",
              columns=["fit", "lam", "non-zeros", "exactly 0", "< 1e-3 max|w|",
                       f"top {100 * m['top_frac']:.0f} % share of |w|", "Gini", "max |w|"],
              rows=[[name, f"{lam:.4g}", str(pr["p"] - pr["exact_zeros"]),
                     pct(pr["frac_exact_zero"]), pct(pr["frac_below_small"]),
                     pct(pr["top_share"]), fmt2(pr["gini"]), f"{pr['max_abs']:.3g}"]
                    for name, lam, pr in prof_rows]),
        Table(caption=f"First draw: support recovery of L1 (true features "
                      f"{', '.join(f'x{j}' for j in s['true_support'])})",
              columns=["lam", "rule", "selected", "true positives", "precision", "recall"],
              rows=[[f"{sl1.lams[i]:.4g}", rule, str(int(sl1.nnz[i])),
                     str(round(rec[i] * k_true)), fmt2(finite(prec[i])), f"{rec[i]:.2f}"]
                    for rule, i in [("CV min", cv1.idx_min), ("CV 1se", cv1.idx_1se)]]),
        Table(caption="Diabetes: order in which features enter the L1 path (largest lam first)",
              columns=["feature", "enters at lam", f"L1 at lam = {dl1.lams[-1]:.3g}",
                       f"L2 at lam = {dl2.lams[-1]:.2g}", "least squares"],
              rows=[[f, f"{lam:.4g}", f"{dl1.coefs[j, -1]:.4g}", f"{dl2.coefs[j, -1]:.4g}",
                     f"{ols_d[j]:.4g}"]
                    for f, lam, j in _entry_rows(dl1, dfit["names"])]),
    ]


def _path_data(path) -> dict:
    return {"lams": path.lams, "coefs": path.coefs, "nnz": path.nnz}


def _entry_rows(path, names):
    """(name, lam at which it first becomes non-zero, index), in order of entry."""
    rows = []
    for j, name in enumerate(names):
        nz = np.flatnonzero(path.coefs[j] != 0.0)
        rows.append((name, float(path.lams[nz[0]]) if nz.size else float("nan"), j))
    return sorted(rows, key=lambda r: -r[1] if np.isfinite(r[1]) else np.inf)


def sign_changes(path, names) -> dict:
    """Features whose non-zero L1 coefficient changes sign along the path, with the count."""
    out = {}
    for j, name in enumerate(names):
        sg = np.sign(path.coefs[j])
        sg = sg[sg != 0]
        n = int(np.sum(sg[1:] != sg[:-1]))
        if n:
            out[name] = n
    return out


def least_squares(X, y) -> np.ndarray:
    """Least-squares coefficients with an intercept (the lam -> 0 end of both paths)."""
    Xc = X - X.mean(axis=0)
    return np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]


def _entry_order(path, names) -> list[str]:
    return [r[0] for r in _entry_rows(path, names) if np.isfinite(r[1])]
