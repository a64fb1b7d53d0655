"""``regulab fit``: one penalized model on the user's table, every feature accounted for.

The table shows, for every feature of the prepared design, its coefficient in original units
(per unit of the raw column; per 0/1 of an indicator) and on the standardized scale the penalty
saw, whether it is kept or exactly 0, and with ``--stability`` how often complementary-pairs
half-samples keep it at the chosen lam (and the largest such frequency over the grid, the
stability-selection score). lam is chosen by K-fold CV (rule ``1se`` by default) or given with
``--lam`` (its CV error is then measured at that lam with ``--cv`` folds, default 5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from regulab.commands.common import (
    DEFAULT_FOLDS,
    ERROR_NAME,
    Bars,
    DataOptions,
    OptionError,
    check_choice,
    check_grouped,
    check_family_extras,
    check_grouped_box,
    column_verdicts,
    check_float,
    check_folds,
    check_int,
    check_output_dir,
    check_output_file,
    console,
    print_family_and_steps,
    emit_json,
    fit_at_lam,
    fit_with_cv,
    fmt,
    grid_for,
    input_path,
    load,
    penalty_label,
    penalty_ratio,
    pm,
    preparation_doc,
    split_list,
    source_doc,
    training_error,
    truth_summary,
    verdict_line,
)
from regulab.commands.conventions import conventions_section
from regulab.selection.cv import RULES

STABILITY_THRESHOLD = 0.6


def run(source, opts: DataOptions, *, penalty="l1", l1_ratio=None, lam=None, folds=None,
        rule=None, n_lams=100, stability=False, n_pairs=50, save=None, as_json=False,
        out=None, unpenalized=None, penalty_factor=None, nonnegative=False,
        adaptive=False, grouped=False, stream=False, batch_rows=None,
        grouped_classes=False) -> dict:
    """Fit, then print the table (or the JSON document); ``--save`` and ``--out`` write files.

    ``unpenalized``, ``penalty_factor`` (a CSV file), ``nonnegative``, ``adaptive``: per-feature
    penalties and bounds (:mod:`regulab.commands.factors`); ``grouped``: categorical columns
    penalized as groups (group lasso). ``stream`` (or a file too big for memory): the streamed
    route (:mod:`.streamed`). A target with 3 or more classes is fitted by
    :mod:`.multinomial` (``grouped_classes``: a feature kept or dropped for all classes)."""
    from regulab.commands import multinomial, streamed
    from regulab.commands.factors import box_options
    from regulab.data.model_io import save_model

    rho, lam, rule, n_lams, n_pairs = _check_options(penalty, l1_ratio, lam, rule, n_lams,
                                                     n_pairs, stability)
    grouped = check_grouped(grouped, rho)
    if grouped and stability:
        raise OptionError("--stability counts features one by one; it cannot go with --grouped")
    inputs = [input_path(source)]
    check_output_file(save, "--save", inputs)
    check_output_dir(out, inputs, ["index.html", "results.json"])
    if opts.family not in ("auto", "multinomial"):
        multinomial.check_grouped_classes(grouped_classes, opts.family, rho)
    if opts.family == "multinomial" or grouped_classes:
        multinomial.check_options(**{"--stream": stream})
    if streamed.should_stream(source, stream):
        extras = {"--unpenalized": unpenalized, "--penalty-factor": penalty_factor,
                  "--nonnegative": nonnegative, "--adaptive": adaptive, "--grouped": grouped}
        batch_rows = streamed.check_stream_options(batch_rows, lam=lam, stability=stability,
                                                   out=out, opts=opts, extras=extras)
        return _run_streamed(source, opts, penalty=penalty, rho=rho, rule=rule,
                             folds=check_int(DEFAULT_FOLDS if folds is None else folds,
                                             "--cv", 2),
                             n_lams=n_lams, batch_rows=batch_rows, save=save,
                             as_json=as_json)
    loaded = load(source, opts, multiclass=True)
    multinomial.check_grouped_classes(grouped_classes, loaded.family, rho)
    if loaded.family == "multinomial":
        multinomial.check_options(**{
            "--stability": stability, "--unpenalized": unpenalized,
            "--penalty-factor": penalty_factor, "--nonnegative": nonnegative,
            "--adaptive": adaptive, "--grouped": grouped})
        return multinomial.run(loaded, penalty=penalty, rho=rho, lam=lam,
                               folds=check_folds(loaded, DEFAULT_FOLDS if folds is None else folds),
                               rule=rule, n_lams=n_lams, seed=opts.seed,
                               grouped_classes=grouped_classes, as_json=as_json, save=save,
                               out=out)
    check_family_extras(loaded.loss, grouped, unpenalized, penalty_factor, nonnegative,
                        adaptive)
    if stability and loaded.offset is not None:
        raise OptionError("--stability refits on half-samples without the exposure/offset "
                          "column; leave out --stability or --exposure/--offset")
    folds = check_folds(loaded, DEFAULT_FOLDS if folds is None else folds)
    box = box_options(loaded.prep, unpenalized=split_list(unpenalized),
                      factor_file=penalty_factor, nonnegative=nonnegative, adaptive=adaptive,
                      loss=loaded.loss, seed=opts.seed)
    check_grouped_box(grouped, box)
    fit, stab = _fit(loaded, penalty=penalty, rho=rho, lam=lam, folds=folds, rule=rule,
                     n_lams=n_lams, stability=stability, n_pairs=n_pairs, seed=opts.seed,
                     box=box, groups=loaded.prep.groups if grouped else None)
    model = _model(loaded, fit, penalty)
    doc = _document(loaded, fit, model, stab, penalty)
    if save is not None:
        save_model(model, save)
        doc["model_file"] = str(save)
    if out is not None:
        doc["report"] = str(Path(out) / "index.html")
        _write_report(out, doc, loaded, fit)
    if as_json:
        emit_json(doc)
    else:
        _print(doc, loaded, fit)
    return doc


def _run_streamed(source, opts, *, penalty, rho, rule, folds, n_lams, batch_rows, save=None,
                  as_json=False) -> dict:
    """``regulab fit --stream``: the same document as the in-memory fit, plus ``stream`` (passes,
    rows per second, partitions, batch size, workers); see :mod:`.streamed`."""
    from regulab.commands import streamed
    from regulab.data.model_io import save_model

    loaded, fit, sf = streamed.fit_of(source, opts, rho=rho, rule=rule, folds=folds,
                                      n_lams=n_lams, batch_rows=batch_rows)
    model = _model(loaded, fit, penalty)
    doc = _document(loaded, fit, model, None, penalty)
    doc["stream"] = streamed.stream_doc(sf)
    if save is not None:
        save_model(model, save)
        doc["model_file"] = str(save)
    if as_json:
        emit_json(doc)
    else:
        _print(doc, loaded, fit)
        streamed.print_stream_line(doc["stream"])
    return doc


def _check_options(penalty, l1_ratio, lam, rule, n_lams, n_pairs, stability):
    """The options checked before the data are read: ``(rho, lam, rule, n_lams, n_pairs)``."""
    rho = penalty_ratio(penalty, l1_ratio)
    if lam is not None:
        lam = check_float(lam, "--lam", 0.0)
        if rule is not None:
            raise OptionError("--rule chooses lam by cross-validation; it cannot go with --lam")
    rule = check_choice(rule or "1se", RULES, "--rule")
    n_lams = check_int(n_lams, "--n-lams", 3)
    n_pairs = check_int(n_pairs, "--n-pairs", 1)
    if stability and rho == 0.0:
        raise OptionError("--stability measures how often features are selected: it needs an L1 "
                          "part (--penalty l1 or elasticnet); L2 keeps every feature")
    return rho, lam, rule, n_lams, n_pairs


def _fit(loaded, *, penalty, rho, lam, folds, rule, n_lams, stability, n_pairs, seed, box,
         groups=None):
    """The fit (lam by CV, or the given lam with its CV error) and, with ``--stability``, the
    selection frequencies; progress bars on a terminal."""
    X, y, loss, o = loaded.prep.X, loaded.prep.y, loaded.loss, loaded.offset
    with Bars() as bars:
        cb = bars.callback(f"{folds}-fold CV ({penalty})", folds)
        if lam is None:
            fit = fit_with_cv(X, y, loss=loss, rho=rho, folds=folds, rule=rule, n_lams=n_lams,
                              seed=seed, on_fold=cb, box=box, groups=groups, offset=o)
        else:
            fit = fit_at_lam(X, y, loss=loss, rho=rho, lam=lam, folds=folds, seed=seed,
                             on_fold=cb, box=box, groups=groups, offset=o)
        stab = None
        if stability:
            stab = _stability(X, y, loss, rho, fit, n_lams, n_pairs, seed,
                              bars.callback("stability (half-sample pairs)", n_pairs))
    return fit, stab


def _model(loaded, fit, penalty):
    """The model file's content: the fit and the preparation that produced its design."""
    from regulab.data.model_io import Model

    return Model(prep=loaded.prep, coef_std=fit.coef, intercept_std=fit.intercept, lam=fit.lam,
                 penalty=penalty, l1_ratio=fit.rho, lam_choice=fit.lam_choice(),
                 n_train=int(loaded.prep.X.shape[0]), source=loaded.name)


def _feature_docs(names, coef, fit, stab, truth) -> list[dict]:
    """One entry per feature: coefficient in original and standardized units, kept or not, its
    penalty factor (1 unless set), stability frequencies and true coefficient where measured or
    known."""
    features = []
    factors = (fit.box or {}).get("penalty_factor")
    for j, name in enumerate(names):
        row = {"name": name, "coef": float(coef[j]), "coef_standardized": float(fit.coef[j]),
               "kept": bool(fit.coef[j] != 0.0),
               "penalty_factor": 1.0 if factors is None else (
                   None if np.isinf(factors[j]) else float(factors[j]))}
        if stab is not None:
            row["stability_frequency"] = float(stab["frequency"][j])
            row["stability_max_frequency"] = float(stab["max_frequency"][j])
        if truth is not None:
            row["true_coef"] = truth[name]
            row["truly_nonzero"] = truth[name] != 0.0
        features.append(row)
    return features


def _document(loaded, fit, model, stab, penalty) -> dict:
    """The ``--json`` document (also ``results.json`` of ``--out``)."""
    from regulab import __version__
    from regulab.commands.factors import describe
    from regulab.data.model_io import convention_equivalents, objective_text

    prep, loss, rho = loaded.prep, loaded.loss, fit.rho
    X, names = prep.X, prep.feature_names
    coef, intercept = model.original_units()
    truth = loaded.truth()
    return {
        "command": "fit", "regulab_version": __version__, "source": source_doc(loaded),
        "preparation": preparation_doc(prep), "task": prep.task, "loss": loss,
        "family": loaded.family_doc(), "penalty": penalty, "l1_ratio": rho, "lam": fit.lam, "lam_choice": fit.lam_choice(),
        "cv_error": fit.cv_error, "cv_se": fit.cv_se, "scoring": ERROR_NAME[loss],
        "intercept": intercept, "intercept_standardized": fit.intercept,
        "n_features": len(names), "n_kept": fit.n_kept, "grouped": fit.groups is not None,
        "columns": column_verdicts(prep, fit.coef),
        "features": _feature_docs(names, coef, fit, stab, truth),
        "truth": truth_summary(truth, names, fit.coef),
        "per_feature_penalty": describe(fit.box, names),
        "stability": None if stab is None else {k: v for k, v in stab.items()
                                               if k not in ("frequency", "max_frequency")},
        "conventions": {"objective": objective_text(loss, fit.lam, rho),
                        "equivalents": convention_equivalents(
                            loss, fit.lam, rho, X.shape[0],
                            sd_y=(float(np.std(prep.y)) if loss == "squared" and prep.y is not None
                                  else None))},  # streamed: no rows, no sd(y)
        "warnings": [w for w in [fit.at_edge()] if w], "model_file": None, "report": None,
    }


def _stability(X, y, loss, rho, fit, n_lams, n_pairs, seed, cb) -> dict:
    """Complementary-pairs selection frequencies over the part of the grid from lam_max down to
    the chosen lam (below it every feature is eventually selected, which says nothing): the
    frequency at the chosen lam, and the largest frequency over that range (the
    stability-selection score, whose false-selection bound then uses the q of that range)."""
    from regulab.selection.stability import stability_selection

    grid = fit.cv.lams if fit.how == "cv" else grid_for(X, y, loss, rho, n_lams, fit.box)
    lams = np.append(grid[grid > fit.lam], fit.lam)
    res = stability_selection(X, y, loss=loss, l1_ratio=rho, lams=lams, n_pairs=n_pairs,
                              threshold=STABILITY_THRESHOLD, seed=seed, on_pair=cb,
                              **(fit.box or {}))
    return {"frequency": res.frequencies[:, -1], "max_frequency": res.max_frequency,
            "n_pairs": n_pairs, "half_samples": 2 * n_pairs, "threshold": STABILITY_THRESHOLD,
            "lam_range": [float(lams[0]), float(lams[-1])],
            "selected": [int(j) for j in res.selected], "q": res.q,
            "false_selection_bound": res.false_selection_bound}


# ----------------------------------------------------------------------------- terminal

def headline(doc) -> str:
    prep = doc["preparation"]
    return (f"{doc['source']['name']}: target {prep['target']!r} ({prep['task']}), "
            f"{prep['rows']:,} rows x {prep['features']} features; "
            f"{penalty_label(doc['penalty'], doc['l1_ratio'])} at lam = {fmt(doc['lam'])} keeps "
            f"{doc['n_kept']} of {doc['n_features']}; CV {doc['scoring']} "
            f"{pm(doc['cv_error'], doc['cv_se'])}")


def _print(doc, loaded, fit) -> None:
    con = console()
    con.print(f"[bold]regulab fit[/] {headline(doc)}", highlight=False, soft_wrap=True)
    print_family_and_steps(con, doc, heading=True)
    con.print(f"[bold]lam[/] {doc['lam_choice']['why']}", highlight=False, soft_wrap=True)
    if doc["grouped"] and doc["columns"]:
        con.print(f"[bold]categorical columns[/] (--grouped: each column's indicators kept or "
                  f"dropped together): {verdict_line(doc['columns'])}", highlight=False,
                  soft_wrap=True)
    for w in doc["warnings"]:
        con.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    table = feature_table(doc)
    con.print(table)
    con.print(f"intercept {fmt(doc['intercept'])} (original units), "
              f"{fmt(doc['intercept_standardized'])} (standardized)", highlight=False)
    t = doc["truth"]
    if t:
        con.print(f"[bold]truth[/] ({loaded.table.builtin}): {t['n_true_nonzero']} truly non-zero "
                  f"({', '.join(t['true_nonzero'][:12])}{', ...' if t['n_true_nonzero'] > 12 else ''});"
                  f" kept {t['kept_and_true']} of them (recall {fmt(t['recall'])}), precision "
                  f"{fmt(t['precision'])}; missed: {', '.join(t['missed']) or 'none'}; kept but "
                  f"truly 0: {len(t['false_kept'])}", highlight=False, soft_wrap=True)
    s = doc["stability"]
    if s:
        con.print(f"[bold]stability[/] {s['half_samples']} half-samples ({s['n_pairs']} "
                  f"complementary pairs): 'freq' = share keeping the feature at the chosen lam; "
                  f"'max freq' >= {s['threshold']:g} at some lam from lam_max down to it = stable "
                  f"({len(s['selected'])} features; expected false selections <= "
                  f"{fmt(s['false_selection_bound'])})", highlight=False, soft_wrap=True)
    if doc["model_file"]:
        con.print(f"model saved: {doc['model_file']}", highlight=False, soft_wrap=True)
    if doc["report"]:
        con.print(f"report: {Path(doc['report']).resolve()}", highlight=False, soft_wrap=True)


def feature_columns(doc) -> list[str]:
    cols = ["feature", "coef", "std coef", "kept"]
    if doc.get("per_feature_penalty"):
        cols += ["factor"]
    if doc["stability"]:
        cols += ["freq", "max freq"]
    if doc["truth"]:
        cols += ["true w"]
    return cols


def feature_rows(doc) -> list[list[str]]:
    rows = []
    for f in doc["features"]:
        kept = "kept" if f["kept"] else "0 exactly"
        if f.get("penalty_factor") == 0.0:
            kept += " (unpenalized)"
        row = [f["name"], fmt(f["coef"]), fmt(f["coef_standardized"]), kept]
        if doc.get("per_feature_penalty"):
            factor = f.get("penalty_factor")
            row += ["inf (dropped)" if factor is None else fmt(factor, 3)]
        if doc["stability"]:
            row += [fmt(f["stability_frequency"], 3), fmt(f["stability_max_frequency"], 3)]
        if doc["truth"]:
            row += [fmt(f["true_coef"]) + (" *" if f["truly_nonzero"] else "")]
        rows.append(row)
    return rows


def feature_table(doc):
    from rich.table import Table

    title = (f"{doc['n_kept']} of {doc['n_features']} features kept at lam = {fmt(doc['lam'])}"
             + ("; * = truly non-zero" if doc["truth"] else ""))
    table = Table(title=title, title_justify="left")
    for i, c in enumerate(feature_columns(doc)):
        table.add_column(c, justify="left" if i == 0 else "right", overflow="fold")
    for f, row in zip(doc["features"], feature_rows(doc)):
        style = None if f["kept"] else "dim"
        table.add_row(*row, style=style)
    return table


# ----------------------------------------------------------------------------- report

def _write_report(out, doc, loaded, fit) -> None:
    """``--out DIR``: index.html with the path (and CV curve) figure, every coefficient, the
    truth and stability where known, the preparation and lam in other tools' terms."""
    from regulab.report.writer import Section, prepare_out_dir, write_analysis_report

    out = prepare_out_dir(out)
    label = penalty_label(doc["penalty"], doc["l1_ratio"])
    sections = [_result_section(out, doc, loaded, fit, label), _coefficient_section(doc)]
    if doc["truth"]:
        sections.append(_truth_section(doc["truth"], loaded))
    if doc["stability"]:
        sections.append(_stability_section(doc["stability"]))
    sections.append(Section("preparation", "Data and preparation",
                            items=doc["preparation"]["steps"]))
    sections.append(conventions_section(doc, loaded.prep.X.shape[0]))
    if doc["model_file"]:
        sections[0].paragraphs.append(f"Model saved as plain JSON: {doc['model_file']}.")
    write_analysis_report(out, title=f"regulab fit: {loaded.name}",
                          subtitle=f"{label} model of {loaded.prep.target!r}.", sections=sections,
                          document=doc)


def _result_section(out, doc, loaded, fit, label):
    """The headline, how lam was chosen, and the path figure: with the CV curve beside it when
    lam came from CV, with the given lam marked otherwise."""
    from regulab.commands.figures import path_and_cv_figure, path_figure
    from regulab.report.writer import Section
    from regulab.selection.path import regularization_path

    prep = loaded.prep
    names = prep.feature_names
    truth = loaded.truth()
    result = Section("result", "Result", finding=headline(doc),
                     paragraphs=[f"How lam was chosen: {doc['lam_choice']['why']}."],
                     warnings=list(doc["warnings"]))
    if doc["grouped"] and doc["columns"]:
        result.paragraphs.append("Categorical columns (--grouped, group lasso: a column's "
                                 f"indicators are kept or dropped together): "
                                 f"{verdict_line(doc['columns'])}.")
    if fit.how == "cv":
        terr = training_error(prep.X, prep.y, fit.loss, fit.path.coefs, fit.path.intercepts,
                              fit.offset)
        fig, _ = path_and_cv_figure(fit, names, train_error=terr, truth=truth,
                                    title=f"{label} on {loaded.name}")
        result.add_figure(fig, out, "fit_path_cv",
                          f"Left: the {label} coefficient path (standardized features), x = "
                          f"log(lam) decreasing to the right, top axis = number of non-zero "
                          f"coefficients; lam_min and lam_1se marked"
                          + ("; truly non-zero features coloured, the others grey" if truth
                             and doc["truth"]["n_true_nonzero"] < len(names) else "")
                          + f". Right: {fit.folds}-fold CV error (mean ± 1 SE) and training "
                          f"error per lam. The fit uses lam_{fit.rule} = {fmt(fit.lam)}.")
        return result
    grid = grid_for(prep.X, prep.y, fit.loss, fit.rho, 50, groups=fit.groups, offset=fit.offset)
    marks = None
    if fit.lam > 0:  # lam = 0 has no place on a log axis
        grid = np.unique(np.append(grid, fit.lam))[::-1]
        marks = {f"--lam {fit.lam:.3g}": (fit.lam, "#e08a00", "-")}
    path = regularization_path(prep.X, prep.y, loss=fit.loss, l1_ratio=fit.rho, lams=grid,
                               groups=fit.groups,
                               **({} if fit.offset is None else {"offset": fit.offset}))
    fig, _ = path_figure(grid, path.coefs, names, truth=truth, marks=marks,
                         title=f"{label} on {loaded.name}")
    result.add_figure(fig, out, "fit_path",
                      f"The {label} coefficient path (standardized features); the given lam "
                      f"{fmt(fit.lam)} is marked.")
    return result


def _coefficient_section(doc):
    """Every feature's row of the terminal table, and the intercept."""
    from regulab.report.claims.base import Table
    from regulab.report.writer import Section

    coef_table = Table(caption="Every feature: coefficient in original units, on the "
                               "standardized scale, kept or exactly 0"
                               + ("; stability frequencies" if doc["stability"] else "")
                               + ("; true coefficient (* = truly non-zero)" if doc["truth"]
                                  else ""),
                       columns=feature_columns(doc), rows=feature_rows(doc))
    return Section("coefficients", "Coefficients", tables=[coef_table],
                   paragraphs=[(f"Intercept {fmt(doc['intercept'])} in original units "
                                f"({fmt(doc['intercept_standardized'])} on the standardized "
                                f"scale).")])


def _truth_section(t, loaded):
    """The kept set against the generating coefficients of a synthetic built-in dataset."""
    from regulab.report.writer import Section

    n = len(loaded.prep.feature_names)
    return Section(
        "truth", "Against the known truth",
        finding=(f"{loaded.table.builtin} is generated with {t['n_true_nonzero']} truly "
                 f"non-zero coefficients of {n}: the fit keeps {t['kept_and_true']} "
                 f"of them (recall {fmt(t['recall'])}) and {len(t['false_kept'])} truly-zero "
                 f"features (precision {fmt(t['precision'])})."),
        items=[f"missed: {', '.join(t['missed']) or 'none'}",
               f"kept but truly 0: {', '.join(t['false_kept']) or 'none'}"])


def _stability_section(s):
    """What the selection frequencies are and the bound on false selections."""
    from regulab.report.writer import Section

    return Section(
        "stability", "Stability of the selection",
        paragraphs=[(f"{s['half_samples']} half-samples ({s['n_pairs']} complementary pairs, "
                     f"Meinshausen & Bühlmann; Shah & Samworth): 'freq' is the share of "
                     f"half-samples keeping the feature at the chosen lam, 'max freq' the "
                     f"largest share at any lam from lam_max down to the chosen one. "
                     f"{len(s['selected'])} features reach {s['threshold']:g} (stable); the "
                     f"bound on the expected number of false selections is "
                     f"{fmt(s['false_selection_bound'])}.")])
