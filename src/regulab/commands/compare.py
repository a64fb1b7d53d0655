"""``regulab compare``: L1, L2 and elastic net (l1_ratio 0.5) side by side, and which to use
(a target with 3 or more classes: the multinomial rows of :mod:`.compare_multinomial`);
with the relaxed lasso (glmnet's ``relax = TRUE``, :mod:`regulab.selection.relaxed`) measured
the same way beside them (``"relaxed"`` in the JSON; not part of the recommendation).

For each penalty, on the same prepared data and the same CV folds:

* **lam** by K-fold CV over the penalty's grid (:func:`regulab.selection.path.lam_grid`), rule ``1se`` by
  default, as in ``regulab fit`` and glmnet (the largest lam within one SE of the best;
  ``--rule min`` for the lam of smallest CV error);
* **CV error ± SE** at that lam (mean squared error, or mean log-loss for a binary target);
* **features kept**: coefficients not exactly 0 in the fit on all rows;
* **stability of the kept set**: the penalty refitted at its chosen lam on ``--n-boot``
  bootstrap resamples of the rows (the same resamples for every penalty), and the mean pairwise
  Jaccard index of the kept sets (:func:`regulab.report.claims.when_to_use.jaccard_stability`; 1 = the
  same features every time; L2 keeps every feature, so its index is 1 trivially);
* **held-out calibration slope**, from the **out-of-fold predictions of the CV** at the chosen
  lam (every row predicted by the fold model that did not see it): the least-squares slope of y
  on the prediction (regression) or the logistic slope of y on the predicted log-odds (binary);
  1 is ideal, below 1 the predictions are too extreme, above 1 too timid.

The recommendation is :func:`regulab.selection.recommend.recommend` on these measurements (the rules are in
``docs/recommendation.md``); every reason it gives quotes the numbers measured here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from regulab.commands.common import (
    ERROR_NAME,
    Bars,
    DataOptions,
    calibration_slope_oof,
    check_choice,
    check_grouped,
    check_family_extras,
    check_grouped_box,
    column_verdicts,
    check_folds,
    check_int,
    check_output_dir,
    console,
    emit_json,
    fit_with_cv,
    fmt,
    input_path,
    load,
    pm,
    preparation_doc,
    print_family_and_steps,
    source_doc,
    split_list,
    training_error,
    truth_summary,
    verdict_line,
)
from regulab.commands.compare_methods import LABELS, METHODS, SHORT, SHORT_LABELS
from regulab.commands.output import print_table
from regulab.selection.cv import RULES

# the penalties compared (METHODS, sparsest first, each at its L1 share) live in compare_methods,
# shared with the streamed route
RELAXED_SHORT = "relaxed L1"
ADAPTIVE_SHORT = "adaptive L1"
DEFAULT_N_BOOT = 30
CALIBRATION_METHOD = ("out-of-fold predictions of the CV at the chosen lam: slope of y on the "
                      "prediction (least squares; logistic on the log-odds for a binary target; "
                      "Poisson on the log-mean for a count)")


def bootstrap_kept_sets(X, y, *, loss, rho, lam, seeds, on_done=None, box=None,
                        groups=None, offset=None) -> list[set]:
    """Kept set (indices of non-zero coefficients) of the fit at ``lam`` on each bootstrap
    resample ``rng(seed).integers(0, n, n)`` (the Poisson ``offset`` resampled with the rows);
    resamples with a single class (or, for counts, only zeros) are skipped."""
    from regulab.core.execution import run_tasks
    from regulab.selection.path import regularization_path

    n = X.shape[0]

    def one(seed):
        idx = np.random.default_rng(seed).integers(0, n, n)
        if loss == "logistic" and np.unique(y[idx]).size < 2:
            return None
        if loss == "poisson" and not np.any(y[idx] > 0):
            return None
        options = {} if offset is None else {"offset": offset[idx]}
        path = regularization_path(X[idx], y[idx], loss=loss, l1_ratio=rho, lams=[lam],
                                   groups=groups, **(box or {}), **options)
        return set(np.flatnonzero(path.coefs[:, 0] != 0.0).tolist())

    return [s for s in run_tasks(one, seeds, on_done=on_done) if s is not None]


def run(source, opts: DataOptions, *, folds=5, rule="1se", n_boot=None, n_lams=100,
        as_json=False, out=None, unpenalized=None, penalty_factor=None,
        nonnegative=False, grouped=False, stream=False, batch_rows=None,
        adaptive=False) -> dict:
    """Compare; ``unpenalized``, ``penalty_factor``, ``nonnegative`` (as in ``regulab fit``)
    apply to every penalty (the relaxed lasso is then left out: its refit has no factors);
    ``grouped``: categorical columns as groups wherever there is an L1 part; ``n_boot``
    (default 30) bootstrap resamples. ``stream`` (or a file too big for memory): from streamed
    statistics (:mod:`.compare_stream`), the same document plus ``stream``. ``adaptive``: a row
    for the adaptive lasso (:func:`_adaptive`) beside the others, outside the recommendation."""
    from regulab import __version__
    from regulab.commands.factors import box_options, describe
    from regulab.core.execution import task_seeds
    from regulab.report.claims.when_to_use import jaccard_stability
    from regulab.selection.recommend import MethodSummary, recommend

    from regulab.commands import streamed

    if streamed.should_stream(source, stream):
        return _run_streamed(source, opts, folds=folds, rule=rule, n_boot=n_boot,
                             n_lams=n_lams, as_json=as_json, out=out, batch_rows=batch_rows,
                             extras={"--unpenalized": unpenalized,
                                     "--penalty-factor": penalty_factor,
                                     "--nonnegative": nonnegative, "--grouped": grouped,
                                     "--adaptive": adaptive})
    rule = check_choice(rule, RULES, "--rule")
    n_boot_given = n_boot
    n_boot = check_int(DEFAULT_N_BOOT if n_boot is None else n_boot, "--n-boot", 2)
    n_lams = check_int(n_lams, "--n-lams", 3)
    grouped = check_grouped(grouped, 1.0)
    check_output_dir(out, [input_path(source)], ["index.html", "results.json"])
    loaded = load(source, opts, multiclass=True)
    if loaded.prep.task == "multiclass":  # 3 or more classes: the multinomial compare
        from regulab.commands import compare_multinomial

        compare_multinomial.check_options(**{
            "--n-boot": n_boot_given, "--out": out, "--unpenalized": unpenalized,
            "--penalty-factor": penalty_factor, "--nonnegative": nonnegative,
            "--grouped": grouped, "--stream": stream, "--adaptive": adaptive})
        return compare_multinomial.run(loaded, folds=check_folds(loaded, folds), rule=rule,
                                       n_lams=n_lams, seed=opts.seed, as_json=as_json)
    check_family_extras(loaded.loss, grouped, unpenalized, penalty_factor, nonnegative, adaptive)
    check_grouped_box(grouped, adaptive)
    folds = check_folds(loaded, folds)
    prep = loaded.prep
    X, y, names, loss = prep.X, prep.y, prep.feature_names, loaded.loss
    p = len(names)
    box = box_options(prep, unpenalized=split_list(unpenalized), factor_file=penalty_factor,
                      nonnegative=nonnegative, loss=loss, seed=opts.seed)
    check_grouped_box(grouped, box)
    seeds = task_seeds(opts.seed, n_boot)
    fits, stab, slopes, boots = {}, {}, {}, {}
    with Bars() as bars:
        for m, rho in METHODS.items():
            groups = prep.groups if grouped and rho > 0 else None
            fits[m] = fit_with_cv(X, y, loss=loss, rho=rho, folds=folds, rule=rule,
                                  n_lams=n_lams, seed=opts.seed,
                                  on_fold=bars.callback(f"{SHORT[m]}: {folds}-fold CV", folds),
                                  box=box, groups=groups, offset=loaded.offset)
            slopes[m] = calibration_slope_oof(X, y, fits[m])
            sets = bootstrap_kept_sets(X, y, loss=loss, rho=rho, lam=fits[m].lam, seeds=seeds,
                                       on_done=bars.callback(f"{SHORT[m]}: {n_boot} bootstrap "
                                                             f"resamples", n_boot),
                                       box=box, groups=groups, offset=loaded.offset)
            boots[m] = len(sets)
            stab[m] = jaccard_stability(sets) if len(sets) >= 2 else None
        relaxed = None if (box or loss == "poisson") else _relaxed(
            X, y, loss=loss, folds=folds, rule=rule, seed=opts.seed, lams=fits["l1"].cv.lams,
            seeds=seeds, bars=bars, n_boot=n_boot)
        adaptive_box = adaptive and box_options(
            prep, unpenalized=split_list(unpenalized), factor_file=penalty_factor,
            nonnegative=nonnegative, adaptive=True, loss=loss, seed=opts.seed)
        adaptive_row = None if not adaptive else _adaptive(
            loaded, folds=folds, rule=rule, n_lams=n_lams, seed=opts.seed, seeds=seeds,
            bars=bars, n_boot=n_boot, box=adaptive_box)
    summaries = {m: MethodSummary(cv_error=fits[m].cv_error, cv_se=fits[m].cv_se,
                                  n_kept=fits[m].n_kept, n_features=p, stability=stab[m],
                                  calibration_slope=slopes[m]) for m in METHODS}
    rec = recommend(summaries)
    truth = loaded.truth()
    if truth is not None:  # on the standardized scale of the coefficients compared here
        truth_std = {n: truth[n] * float(prep.scales[j]) for j, n in enumerate(names)}
    warnings = []
    for m, f in fits.items():
        w = f.at_edge()
        if w:
            warnings.append(f"{LABELS[m]}: {w}")
    methods = {}
    for m, f in fits.items():
        cv = f.cv
        methods[m] = {
            "label": LABELS[m], "l1_ratio": METHODS[m], "lam": f.lam, "rule": rule,
            "lam_min": cv.lam_min, "lam_1se": cv.lam_1se,
            "cv_error": f.cv_error, "cv_se": f.cv_se, "n_kept": f.n_kept, "n_features": p,
            "stability": stab[m], "bootstrap_resamples": boots[m],
            "calibration_slope": slopes[m],
            "kept": [n for n, c in zip(names, f.coef) if c != 0.0],
            "grouped": f.groups is not None, "columns": column_verdicts(prep, f.coef),
            "coef_standardized": {n: float(c) for n, c in zip(names, f.coef)},
            "intercept_standardized": f.intercept,
            "truth": truth_summary(truth, names, f.coef),
        }
    doc = {
        "command": "compare", "regulab_version": __version__, "source": source_doc(loaded),
        "preparation": preparation_doc(prep), "task": prep.task, "loss": loss,
        "family": loaded.family_doc(), "scoring": ERROR_NAME[loss], "folds": folds,
        "rule": rule, "n_boot": n_boot,
        "seed": opts.seed, "n_lams": n_lams, "methods": methods, "grouped": grouped,
        "per_feature_penalty": describe(box, names),
        "relaxed": None if relaxed is None else {
            **{k: v for k, v in relaxed.items() if k != "coef"},
            "kept": [n for n, c in zip(names, relaxed["coef"]) if c != 0.0],
            "coef_standardized": {n: float(c) for n, c in zip(names, relaxed["coef"])},
            "truth": truth_summary(truth, names, relaxed["coef"]),
            "n_features": p},
        "adaptive": None if adaptive_row is None else {
            **{k: v for k, v in adaptive_row.items() if k != "coef"},
            "kept": [n for n, c in zip(names, adaptive_row["coef"]) if c != 0.0],
            "coef_standardized": {n: float(c) for n, c in zip(names, adaptive_row["coef"])},
            "truth": truth_summary(truth, names, adaptive_row["coef"]), "n_features": p},
        "recommendation": {**rec.as_dict(), "label": LABELS[rec.penalty]},
        "stability_method": (f"mean pairwise Jaccard index of the kept sets over {n_boot} "
                             f"bootstrap resamples, each penalty refitted at its chosen lam"),
        "calibration_method": CALIBRATION_METHOD,
        "truth": None if truth is None else {
            "true_nonzero": [n for n in names if truth[n] != 0.0],
            "true_coef": truth, "true_coef_standardized": truth_std},
        "warnings": warnings, "report": None,
    }
    if out is not None:
        doc["report"] = str(Path(out) / "index.html")
        _write(out, doc, loaded, fits)
    if as_json:
        emit_json(doc)
    else:
        _print(doc)
    return doc


def _run_streamed(source, opts, *, folds, rule, n_boot, n_lams, as_json, out, batch_rows,
                  extras) -> dict:
    """``regulab compare --stream`` (:mod:`.compare_stream`), printed as the in-memory one."""
    from regulab.commands import compare_stream, streamed

    batch_rows = compare_stream.check_options(n_boot=n_boot, batch_rows=batch_rows, out=out,
                                              opts=opts, extras=extras)
    doc = compare_stream.run(source, opts, folds=folds, rule=rule, n_lams=n_lams,
                             batch_rows=batch_rows)
    if as_json:
        emit_json(doc)
    else:
        _print(doc)
        streamed.print_stream_line(doc["stream"])
    return doc


# ----------------------------------------------------------------------------- tables

METHOD_COLUMNS = ["penalty", "lam", "CV error ± SE", "kept", "Jaccard", "calib. slope"]


def method_rows(doc) -> list[list[str]]:
    rows = []
    for m, d in doc["methods"].items():
        rows.append([SHORT_LABELS[m], fmt(d["lam"]), pm(d["cv_error"], d["cv_se"]),
                     f"{d['n_kept']} of {d['n_features']}", fmt(d["stability"], 3),
                     fmt(d["calibration_slope"], 3)])
    r = doc.get("relaxed")
    if r:
        rows.append([f"{RELAXED_SHORT} (gamma {r['gamma']:g})", fmt(r["lam"]),
                     pm(r["cv_error"], r["cv_se"]), f"{r['n_kept']} of {r['n_features']}",
                     fmt(r["stability"], 3), fmt(r["calibration_slope"], 3)])
    a = doc.get("adaptive")
    if a:
        rows.append([ADAPTIVE_SHORT, fmt(a["lam"]), pm(a["cv_error"], a["cv_se"]),
                     f"{a['n_kept']} of {a['n_features']}", fmt(a["stability"], 3),
                     fmt(a["calibration_slope"], 3)])
    return rows


def _relaxed_why(doc) -> str:
    """How the relaxed lasso row was measured, or why there is none."""
    if doc.get("relaxed"):
        return doc["relaxed"]["why"]
    if doc.get("relaxed_left_out"):
        return doc["relaxed_left_out"]
    if doc.get("loss") == "poisson":
        return "left out: the relaxed lasso's refit is for the squared and logistic losses"
    return ("left out: per-feature factors or bounds were given, and the relaxed lasso's "
            "unpenalized refit has none")


def _relaxed(X, y, *, loss, folds, rule, seed, lams, seeds, bars, n_boot) -> dict:
    """The relaxed lasso (:mod:`regulab.selection.relaxed`) on the L1 grid and the same folds:
    ``(gamma, lam)`` by CV with ``rule``, its out-of-fold calibration slope, and the stability
    of its kept set (the lasso's support at its lam) over the same bootstrap resamples."""
    import math

    from regulab.selection.calibration import calibration_slope, logistic_calibration_slope
    from regulab.selection.relaxed import cv_relaxed

    res = cv_relaxed(X, y, loss=loss, lams=lams, cv=folds, seed=seed, rule=rule,
                     on_fold=bars.callback(f"{RELAXED_SHORT}: {folds}-fold CV", folds))
    slope = (calibration_slope(y, res.oof) if loss == "squared"
             else logistic_calibration_slope(y, res.oof))
    sets = bootstrap_kept_sets(X, y, loss=loss, rho=1.0, lam=res.lam, seeds=seeds,
                               on_done=bars.callback(f"{RELAXED_SHORT}: {n_boot} bootstrap "
                                                     f"resamples", n_boot))
    from regulab.report.claims.when_to_use import jaccard_stability

    return {"label": f"relaxed lasso (gamma = {res.gamma:g})", "gamma": res.gamma,
            "gammas": [float(g) for g in res.gammas], "lam": res.lam, "rule": rule,
            "cv_error": res.cv_error, "cv_se": res.cv_se, "n_kept": res.n_kept,
            "stability": jaccard_stability(sets) if len(sets) >= 2 else None,
            "bootstrap_resamples": len(sets),
            "calibration_slope": float(slope) if math.isfinite(slope) else None,
            "coef": res.coef, "intercept_standardized": res.intercept,
            "why": (f"glmnet's relax=TRUE: gamma * lasso + (1 - gamma) * unpenalized refit on "
                    f"the lasso's support, (gamma, lam) by {folds}-fold CV (rule {rule}) over "
                    f"gamma in {{{', '.join(f'{g:g}' for g in res.gammas)}}} and the L1 grid, "
                    f"same folds; not part of the recommendation")}


def _adaptive(loaded, *, folds, rule, n_lams, seed, seeds, bars, n_boot, box) -> dict:
    """The adaptive lasso (:mod:`regulab.selection.adaptive`, as ``regulab fit --adaptive``: L1
    with factors ``1 / |w_ridge_j|``, the ridge fit's lam by 5-fold CV, times any user factors)
    measured as the other rows: lam by CV on the same folds, its out-of-fold calibration slope,
    and its kept set's stability over the same bootstrap resamples (the factors held fixed)."""
    from regulab.commands.factors import describe
    from regulab.report.claims.when_to_use import jaccard_stability

    prep = loaded.prep
    X, y, loss = prep.X, prep.y, loaded.loss
    fit = fit_with_cv(X, y, loss=loss, rho=1.0, folds=folds, rule=rule, n_lams=n_lams,
                      seed=seed, box=box,
                      on_fold=bars.callback(f"{ADAPTIVE_SHORT}: {folds}-fold CV", folds))
    sets = bootstrap_kept_sets(X, y, loss=loss, rho=1.0, lam=fit.lam, seeds=seeds, box=box,
                               on_done=bars.callback(f"{ADAPTIVE_SHORT}: {n_boot} bootstrap "
                                                     f"resamples", n_boot))
    cv = fit.cv
    return {"label": "adaptive lasso (Zou 2006)", "lam": fit.lam, "rule": rule,
            "lam_min": cv.lam_min, "lam_1se": cv.lam_1se, "cv_error": fit.cv_error,
            "cv_se": fit.cv_se, "n_kept": fit.n_kept,
            "stability": jaccard_stability(sets) if len(sets) >= 2 else None,
            "bootstrap_resamples": len(sets),
            "calibration_slope": calibration_slope_oof(X, y, fit),
            "coef": fit.coef, "intercept_standardized": fit.intercept,
            "penalty_factors": describe(box, prep.feature_names)["factors"],
            "why": (f"L1 with factors 1/|w_ridge_j| (the ridge fit's lam by 5-fold CV; Zou "
                    f"2006), lam by {folds}-fold CV (rule {rule}) on the same folds; not part "
                    f"of the recommendation")}


def feature_columns(doc) -> list[str]:
    return (["feature"] + [SHORT[m] for m in doc["methods"]]
            + (["relaxed"] if doc.get("relaxed") else [])
            + (["adaptive"] if doc.get("adaptive") else [])
            + (["true w (std)"] if doc["truth"] else []))


def feature_rows(doc) -> list[list[str]]:
    names = list(next(iter(doc["methods"].values()))["coef_standardized"])
    rows = []
    for n in names:
        row = [n] + [fmt(d["coef_standardized"][n]) for d in doc["methods"].values()]
        if doc.get("relaxed"):
            row.append(fmt(doc["relaxed"]["coef_standardized"][n]))
        if doc.get("adaptive"):
            row.append(fmt(doc["adaptive"]["coef_standardized"][n]))
        if doc["truth"]:
            row.append(fmt(doc["truth"]["true_coef_standardized"][n]))
        rows.append(row)
    return rows


def _print(doc) -> None:
    con = console()
    prep = doc["preparation"]
    con.print(f"[bold]regulab compare[/] {doc['source']['name']}: target {prep['target']!r} "
              f"({prep['task']}), {prep['rows']:,} rows x {prep['features']} features; lam by "
              f"{doc['folds']}-fold CV (rule {doc['rule']}), CV {doc['scoring']}",
              highlight=False, soft_wrap=True)
    print_family_and_steps(con, doc)
    stab = (f"over {doc['n_boot']} bootstrap resamples" if doc["n_boot"] is not None
            else f"over the {doc['folds']} CV training sets")
    print_table(con, f"same CV folds; Jaccard stability of the kept set {stab}; calibration "
                     f"slope out of fold", METHOD_COLUMNS, method_rows(doc))
    if doc["grouped"]:
        for d in doc["methods"].values():
            if d["grouped"] and d["columns"]:
                con.print(f"{d['label']} (--grouped): {verdict_line(d['columns'])}",
                          highlight=False, soft_wrap=True)
    con.print(f"{RELAXED_SHORT}: {_relaxed_why(doc)}", highlight=False, soft_wrap=True,
              style="dim")
    if doc.get("adaptive"):
        con.print(f"{ADAPTIVE_SHORT}: {doc['adaptive']['why']}", highlight=False,
                  soft_wrap=True, style="dim")
    rec = doc["recommendation"]
    con.print(f"[bold green]recommendation: {rec['label']}[/]", highlight=False)
    for r in rec["reasons"]:
        con.print(f"  - {r}", highlight=False, soft_wrap=True, markup=False)
    for w in rec["warnings"] + doc["warnings"]:
        con.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    print_table(con, "standardized coefficients at each penalty's lam (0 = exactly zero)",
                feature_columns(doc), feature_rows(doc))
    if doc["truth"]:
        parts = []
        for m, d in doc["methods"].items():
            t = d["truth"]
            parts.append(f"{SHORT[m]} keeps {t['kept_and_true']} of {t['n_true_nonzero']} true "
                         f"and {len(t['false_kept'])} truly-zero")
        con.print(f"[bold]truth[/] ({doc['source']['builtin']}): {'; '.join(parts)}",
                  highlight=False, soft_wrap=True)
    con.print(f"calibration: {doc['calibration_method']}", highlight=False, soft_wrap=True,
              style="dim")
    if doc["report"]:
        con.print(f"report: {Path(doc['report']).resolve()}", highlight=False, soft_wrap=True)


# ----------------------------------------------------------------------------- report

def _write(out, doc, loaded, fits) -> None:
    from regulab.commands.figures import compare_coef_figure, compare_cv_figure
    from regulab.report.claims.base import Table
    from regulab.report.writer import Section, prepare_out_dir, write_analysis_report

    out = prepare_out_dir(out)
    prep = loaded.prep
    X, y = prep.X, prep.y
    names = prep.feature_names
    rec = doc["recommendation"]
    result = Section("recommendation", f"Recommendation: {rec['label']}",
                     finding=f"On {loaded.name}, use {rec['label']}: " + "; ".join(rec["reasons"])
                     + ".",
                     paragraphs=["The rules (docs/recommendation.md): accuracy first (a penalty "
                                 "whose CV error exceeds the best by more than the best's SE is "
                                 "out); among the rest prefer fewer features; an L1 selection "
                                 "counts only if stable (Jaccard >= 0.7), else elastic net; a "
                                 "sparse method keeping more than 90% of the features brings no "
                                 "selection, so L2; calibration is reported, not decisive."],
                     warnings=list(rec["warnings"]) + list(doc["warnings"]),
                     tables=[Table(caption=f"Measured on the same {doc['folds']} CV folds "
                                           f"(rule {doc['rule']}); stability over "
                                           f"{doc['n_boot']} bootstrap resamples; calibration "
                                           f"from the out-of-fold predictions",
                                   columns=METHOD_COLUMNS, rows=method_rows(doc))])
    terr = {m: training_error(X, y, f.loss, f.path.coefs, f.path.intercepts, f.offset)
            for m, f in fits.items()}
    curves = Section("cv", "Cross-validation curves")
    curves.add_figure(compare_cv_figure(fits, terr, LABELS), out, "compare_cv",
                      f"{doc['folds']}-fold CV {doc['scoring']} (mean ± 1 SE) per lam for each "
                      f"penalty, same folds, same y axis; lam_min and lam_1se marked; top axis = "
                      f"number of non-zero coefficients.")
    coefs = {m: f.coef for m, f in fits.items()}
    truth = doc["truth"]["true_coef_standardized"] if doc["truth"] else None
    coef_sec = Section("coefficients", "What each penalty keeps",
                       tables=[Table(caption="Standardized coefficients at each penalty's chosen "
                                             "lam (0 = exactly zero)"
                                             + ("; true coefficients times the feature's sd "
                                                "(the standardized scale)" if truth else ""),
                                     columns=feature_columns(doc), rows=feature_rows(doc))])
    coef_sec.add_figure(compare_coef_figure(coefs, names, LABELS, truth=truth), out,
                        "compare_coefficients",
                        "Standardized coefficients of each penalty at its chosen lam"
                        + (" (the 40 largest features)" if len(names) > 40 else "")
                        + "; a hollow marker is an exact zero" + (
                            "; black bars: the true coefficients" if truth else "") + ".")
    if doc["grouped"]:
        coef_sec.paragraphs = [f"{d['label']} (--grouped, group lasso): "
                               f"{verdict_line(d['columns'])}." for d in doc["methods"].values()
                               if d["grouped"] and d["columns"]]
    if doc["truth"]:
        coef_sec.items = [f"{LABELS[m]}: keeps {d['truth']['kept_and_true']} of the "
                          f"{d['truth']['n_true_nonzero']} truly non-zero features and "
                          f"{len(d['truth']['false_kept'])} truly-zero ones"
                          for m, d in doc["methods"].items()]
    method = Section("method", "How it was measured",
                     items=[f"lam: {doc['folds']}-fold CV (rule {doc['rule']}) over "
                            f"{doc['n_lams']} lams per penalty, the same folds for all",
                            f"stability: {doc['stability_method']}",
                            f"calibration: {doc['calibration_method']}",
                            f"{RELAXED_SHORT}: {_relaxed_why(doc)}"])
    prep_sec = Section("preparation", "Data and preparation", items=doc["preparation"]["steps"])
    write_analysis_report(out, title=f"regulab compare: {loaded.name}",
                          subtitle=f"L1, elastic net and L2 on {prep.target!r}.",
                          sections=[result, curves, coef_sec, method, prep_sec], document=doc)
