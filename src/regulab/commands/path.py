"""``regulab path``: the coefficient path and the CV curve over the lam grid.

Terminal: a summary of the path at a dozen lams (plus lam_min and lam_1se), with the features
that enter (become non-zero) between one shown lam and the next. ``--out DIR``: the path and
CV-curve figures (PNG + SVG, glmnet style), ``path.csv`` (one row per lam: ``lam``, ``log_lam``,
``nnz``, ``cv_mean``, ``cv_se``, ``train_error``, then one column per feature with its
coefficient on the standardized scale; the header comes from the user's column names and is
escaped for spreadsheets), ``results.json`` and ``index.html``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regulab.commands.common import (
    ERROR_NAME,
    Bars,
    DataOptions,
    check_family_extras,
    check_folds,
    check_grouped,
    check_grouped_box,
    check_int,
    check_output_dir,
    column_verdicts,
    console,
    emit_json,
    family_line,
    fit_with_cv,
    fmt,
    input_path,
    load,
    penalty_label,
    penalty_ratio,
    pm,
    preparation_doc,
    shown_lams,
    source_doc,
    split_list,
    training_error,
    verdict_line,
)
from regulab.commands.output import print_table
from regulab.commands.path_output import (
    finish_report,
    lam_frame,
    print_entry_order,
    print_files,
    start_report,
)

FIXED_COLUMNS = ("lam", "log_lam", "nnz", "cv_mean", "cv_se", "train_error")


def run(source, opts: DataOptions, *, penalty="l1", l1_ratio=None, n_lams=100, folds=5,
        as_json=False, out=None, unpenalized=None, penalty_factor=None, nonnegative=False,
        adaptive=False, grouped=False, stream=False, batch_rows=None,
        grouped_classes=False) -> dict:
    """The path and CV curve; ``unpenalized``, ``penalty_factor``, ``nonnegative``,
    ``adaptive``, ``grouped`` as in ``regulab fit`` (:mod:`regulab.commands.factors`).
    ``stream`` (or a file too big for memory): from streamed statistics (:mod:`.streamed`), the
    same document plus ``stream``. A target with 3 or more classes: the multinomial paths
    (:mod:`.multinomial_path`; ``grouped_classes`` as in ``regulab fit``)."""
    from regulab import __version__
    from regulab.commands import multinomial, streamed
    from regulab.commands.factors import box_options, describe

    rho = penalty_ratio(penalty, l1_ratio)
    grouped = check_grouped(grouped, rho)
    n_lams = check_int(n_lams, "--n-lams", 3)
    check_output_dir(out, [input_path(source)], ["index.html", "results.json", "path.csv"])
    if opts.family not in ("auto", "multinomial"):
        multinomial.check_grouped_classes(grouped_classes, opts.family, rho)
    if opts.family == "multinomial" or grouped_classes:
        multinomial.check_options(**{"--stream": stream})
    stream_info, box = None, {}
    if streamed.should_stream(source, stream):
        extras = {"--unpenalized": unpenalized, "--penalty-factor": penalty_factor,
                  "--nonnegative": nonnegative, "--adaptive": adaptive, "--grouped": grouped}
        batch_rows = streamed.check_stream_options(batch_rows, out=out, opts=opts,
                                                   extras=extras)
        loaded, fit, terr, stream_info = streamed.path_inputs(
            source, opts, rho=rho, folds=check_int(folds, "--cv", 2), n_lams=n_lams,
            batch_rows=batch_rows)
        folds = fit.folds
    else:
        loaded = load(source, opts, multiclass=True)
        multinomial.check_grouped_classes(grouped_classes, loaded.family, rho)
        if loaded.family == "multinomial":
            return _multinomial(loaded, opts, penalty=penalty, rho=rho, folds=folds,
                                n_lams=n_lams, as_json=as_json, out=out, grouped=grouped,
                                unpenalized=unpenalized, penalty_factor=penalty_factor,
                                nonnegative=nonnegative, adaptive=adaptive,
                                grouped_classes=grouped_classes)
        check_family_extras(loaded.loss, grouped, unpenalized, penalty_factor, nonnegative,
                            adaptive)
        folds = check_folds(loaded, folds)
        X, y, loss = loaded.prep.X, loaded.prep.y, loaded.loss
        box = box_options(loaded.prep, unpenalized=split_list(unpenalized),
                          factor_file=penalty_factor, nonnegative=nonnegative,
                          adaptive=adaptive, loss=loss, seed=opts.seed)
        check_grouped_box(grouped, box)
        with Bars() as bars:
            fit = fit_with_cv(X, y, loss=loss, rho=rho, folds=folds, rule="1se", n_lams=n_lams,
                              seed=opts.seed, on_fold=bars.callback(f"{folds}-fold CV", folds),
                              box=box, groups=loaded.prep.groups if grouped else None,
                              offset=loaded.offset)
        terr = training_error(X, y, loss, fit.path.coefs, fit.path.intercepts, loaded.offset)
    prep = loaded.prep
    names, loss = prep.feature_names, loaded.loss
    cv, path = fit.cv, fit.path
    nnz = path.nnz
    entry = _entries(cv.lams, path.coefs, names)
    shown = shown_lams(cv)
    doc = {
        "command": "path", "regulab_version": __version__, "source": source_doc(loaded),
        "preparation": preparation_doc(prep), "task": prep.task, "loss": loss,
        "family": loaded.family_doc(), "penalty": penalty, "l1_ratio": rho, "scoring": ERROR_NAME[loss], "folds": folds,
        "seed": opts.seed, "n_lams": int(cv.lams.size),
        "lam_min": cv.lam_min, "lam_1se": cv.lam_1se, "idx_min": int(cv.idx_min),
        "idx_1se": int(cv.idx_1se),
        "coefficients_scale": "standardized features",
        "lams": cv.lams, "log_lams": np.log(cv.lams), "nnz": nnz, "cv_mean": cv.mean_error,
        "cv_se": cv.se_error, "train_error": terr,
        "coefs": {n: path.coefs[j] for j, n in enumerate(names)},
        "entry": entry, "shown": shown, "per_feature_penalty": describe(box, names),
        "grouped": grouped,
        "columns_1se": column_verdicts(prep, path.coefs[:, cv.idx_1se]),
        "column_entry": _column_entries(prep, cv.lams, path.coefs),
        "warnings": [w for w in [fit.at_edge()] if w], "csv": None, "report": None,
    }
    if stream_info is not None:
        doc["stream"] = stream_info
    if out is not None:
        _write(out, doc, loaded, fit, terr)
    if as_json:
        emit_json(doc)
    else:
        _print(doc)
        if stream_info is not None:
            streamed.print_stream_line(stream_info)
    return doc


def _multinomial(loaded, opts, *, penalty, rho, folds, n_lams, as_json, out, grouped,
                 unpenalized, penalty_factor, nonnegative, adaptive, grouped_classes) -> dict:
    """3 or more classes: the options the multinomial solver cannot honour refused in one line,
    then :func:`regulab.commands.multinomial_path.run`."""
    from regulab.commands import multinomial, multinomial_path

    multinomial.check_options(**{"--unpenalized": unpenalized, "--penalty-factor": penalty_factor,
                                 "--nonnegative": nonnegative, "--adaptive": adaptive,
                                 "--grouped": grouped})
    return multinomial_path.run(loaded, penalty=penalty, rho=rho, folds=check_folds(loaded, folds),
                                n_lams=n_lams, seed=opts.seed, grouped_classes=grouped_classes,
                                as_json=as_json, out=out)


def _column_entries(prep, lams, coefs) -> list[dict]:
    """Per categorical column: the largest lam of the grid where the column is kept (some
    indicator non-zero; under --grouped all of them), None if never."""
    out = []
    for k, v in enumerate(column_verdicts(prep, coefs[:, 0])):
        kept = [i for i in range(lams.size) if column_verdicts(prep, coefs[:, i])[k]["kept"]]
        out.append({"column": v["column"], "indicators": v["indicators"],
                    "lam": float(lams[kept[0]]) if kept else None})
    return out


def _entries(lams, coefs, names) -> list[dict]:
    """For each feature, the largest lam of the grid where it is non-zero, in order of entry."""
    out = []
    for j, n in enumerate(names):
        nz = np.flatnonzero(coefs[j] != 0.0)
        out.append({"feature": n, "index": int(nz[0]) if nz.size else None,
                    "lam": float(lams[nz[0]]) if nz.size else None})
    out.sort(key=lambda e: (e["index"] is None, e["index"] if e["index"] is not None else 0))
    for k, e in enumerate(out, start=1):
        e["order"] = k if e["index"] is not None else None
    return out


def summary_rows(doc) -> list[list[str]]:
    rows = []
    prev = -1
    entered = {}
    for e in doc["entry"]:
        if e["index"] is not None:
            entered.setdefault(e["index"], []).append(e["feature"])
    for i in doc["shown"]:
        new = [f for k in range(prev + 1, i + 1) for f in entered.get(k, [])]
        prev = i
        mark = " ".join(m for m, j in (("min", doc["idx_min"]), ("1se", doc["idx_1se"])) if j == i)
        if len(new) == len(doc["coefs"]) and len(new) > 4:
            text = f"all {len(new)}"
        else:
            text = ", ".join(new[:4]) + (f", ... (+{len(new) - 4})" if len(new) > 4 else "")
        rows.append([fmt(doc["lams"][i]), fmt(doc["log_lams"][i]), str(int(doc["nnz"][i])),
                     pm(doc["cv_mean"][i], doc["cv_se"][i]), fmt(doc["train_error"][i]), mark,
                     text])
    return rows


SUMMARY_COLUMNS = ["lam", "log(lam)", "nnz", "CV error ± SE", "train error", "rule", "entered"]


def _print(doc) -> None:
    con = console()
    prep = doc["preparation"]
    con.print(f"[bold]regulab path[/] {doc['source']['name']}: target {prep['target']!r} "
              f"({prep['task']}), {prep['rows']:,} rows x {prep['features']} features; "
              f"{penalty_label(doc['penalty'], doc['l1_ratio'])}, {doc['n_lams']} lams, "
              f"{doc['folds']}-fold CV ({doc['scoring']})", highlight=False, soft_wrap=True)
    con.print(family_line(doc), highlight=False, soft_wrap=True, markup=False)
    for w in doc["warnings"]:
        con.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    print_table(con, "the path at some lams (decreasing: weaker penalty downwards)",
                SUMMARY_COLUMNS, summary_rows(doc), left=range(5, len(SUMMARY_COLUMNS)))
    print_entry_order(con, doc, "order of entry")
    if doc["grouped"] and doc["columns_1se"]:
        con.print(f"categorical columns at lam_1se (--grouped: indicators kept or dropped "
                  f"together): {verdict_line(doc['columns_1se'])}; entering the path at lam = "
                  + ", ".join(f"{e['column']} {fmt(e['lam']) if e['lam'] else 'never'}"
                              for e in doc["column_entry"]), highlight=False, soft_wrap=True)
    print_files(con, doc)


def path_frame(doc) -> pd.DataFrame:
    frame = lam_frame(doc)
    for name, values in doc["coefs"].items():
        col = name if name not in FIXED_COLUMNS and name not in frame.columns else f"coef:{name}"
        frame[col] = np.asarray(values)
    return frame


def _write(out, doc, loaded, fit, terr) -> None:
    from regulab.commands.figures import cv_figure, cv_marks, path_figure
    from regulab.report.claims.base import Table
    from regulab.report.writer import Section

    out = start_report(out, doc, path_frame)
    label = penalty_label(doc["penalty"], doc["l1_ratio"])
    names = loaded.prep.feature_names
    truth = loaded.truth()
    cv = fit.cv
    fig, _ = path_figure(cv.lams, fit.path.coefs, names, truth=truth, marks=cv_marks(fit),
                         title=f"{label} on {loaded.name}")
    main = Section("path", "Coefficient path",
                   finding=(f"{label} on {loaded.name}: {doc['n_lams']} lams from "
                            f"{fmt(cv.lams[0])} down to {fmt(cv.lams[-1])}; "
                            f"{int(doc['nnz'][0])} to {int(doc['nnz'][-1])} non-zero "
                            f"coefficients of {len(names)}."),
                   warnings=list(doc["warnings"]))
    if doc["grouped"] and doc["columns_1se"]:
        main.paragraphs.append("Categorical columns at lam_1se (--grouped, group lasso: a "
                               "column's indicators are kept or dropped together): "
                               f"{verdict_line(doc['columns_1se'])}.")
    main.add_figure(fig, out, "path",
                    f"The {label} coefficient path (standardized features), x = log(lam) "
                    f"decreasing to the right, top axis = number of non-zero coefficients; "
                    f"lam_min and lam_1se of {doc['folds']}-fold CV marked"
                    + ("; truly non-zero features coloured, the others grey" if truth and
                       sum(v != 0 for v in truth.values()) < len(names) else "") + ".")
    curve = Section("cv", "Cross-validation curve",
                    finding=(f"lam_min = {fmt(cv.lam_min)} (CV error "
                             f"{pm(cv.mean_error[cv.idx_min], cv.se_error[cv.idx_min])}, "
                             f"{int(doc['nnz'][cv.idx_min])} non-zero), lam_1se = "
                             f"{fmt(cv.lam_1se)} (CV error "
                             f"{pm(cv.mean_error[cv.idx_1se], cv.se_error[cv.idx_1se])}, "
                             f"{int(doc['nnz'][cv.idx_1se])} non-zero)."))
    curve.add_figure(cv_figure(fit, train_error=terr, title=f"{label} on {loaded.name}"), out,
                     "cv_curve",
                     f"{doc['folds']}-fold CV {doc['scoring']} (mean ± 1 SE) and training error "
                     f"on all rows, per lam; lam_1se is the largest lam within one SE of the "
                     f"minimum.")
    finish_report(out, doc, loaded, [main, curve],
                  subtitle=f"{label} path of {loaded.prep.target!r}.",
                  one_column="one column per feature",
                  table=Table(caption="lams decreasing downwards; 'entered' = features that "
                                      "became non-zero since the previous row",
                              columns=SUMMARY_COLUMNS, rows=summary_rows(doc)))
