"""The HTML reports of the multinomial (3+ classes) routes of ``regulab fit --out`` and
``regulab path --out``: per-class coefficient paths (:mod:`regulab.report.plots.classes`) beside
the CV curve, the per-class coefficient table, the preparation and the objective.
"""

from __future__ import annotations

import numpy as np

from regulab.commands.common import fmt, penalty_label, pm
from regulab.commands.conventions import conventions_section

#: lams of the path drawn around a given ``--lam`` (no CV grid to draw)
GIVEN_LAM_GRID = 50


def training_error(X, codes, path) -> np.ndarray:
    """The mean multinomial log-loss on the rows fitted, per lam of ``path``
    (a :class:`regulab.selection.multinomial.MultinomialPath`)."""
    from regulab.selection.multinomial import held_out_multinomial

    Z = np.einsum("ij,jkl->ikl", np.asarray(X, dtype=float), path.coefs)
    return held_out_multinomial("log_loss", codes, Z + path.intercepts[None, :, :])


def headline(doc) -> str:
    """The first line of the terminal output (and the report's finding)."""
    prep = doc["preparation"]
    return (f"{doc['source']['name']}: target {prep['target']!r} "
            f"({len(doc['classes'])} classes: {', '.join(doc['classes'])}), "
            f"{prep['rows']:,} rows x {prep['features']} features; "
            f"{penalty_label(doc['penalty'], doc['l1_ratio'])} at lam = {fmt(doc['lam'])} "
            f"keeps {doc['n_kept']} of {doc['n_features']}"
            f"{' (grouped across classes)' if doc['grouped_classes'] else ''}; CV "
            f"{doc['scoring']} {pm(doc['cv_error'], doc['cv_se'])}")


def coefficient_rows(doc, *, kept_only=True) -> list[list[str]]:
    """The per-class coefficient table (original units): a row per feature (the kept ones, or
    all), then the intercepts."""
    rows = [[f["name"], *(fmt(f["coef"][c]) for c in doc["classes"])]
            for f in doc["features"] if f["kept"] or not kept_only]
    return rows + [["(intercept)", *(fmt(doc["intercept"][c]) for c in doc["classes"])]]


def class_figure(fit, names, classes, *, train_error, folds, title):
    """Per-class paths with lam_min and lam_1se marked, and the CV curve (a CV over a grid)."""
    from regulab.commands.figures import cv_dict, cv_marks
    from regulab.report.plots.classes import class_paths_figure

    return class_paths_figure(fit.cv.lams, fit.path.coefs, names, classes, marks=cv_marks(fit),
                              cv=cv_dict(fit, train_error), folds=folds, title=title)


def _given_lam_figure(loaded, fit, doc, title):
    """lam given with --lam: the path over the default grid with that lam added and marked."""
    from regulab.report.plots.classes import class_paths_figure
    from regulab.selection.multinomial import multinomial_lam_grid, multinomial_path

    prep = loaded.prep
    codes = np.asarray(prep.y).astype(int)
    grouped, rho = doc["grouped_classes"], doc["l1_ratio"]
    grid = multinomial_lam_grid(prep.X, codes, grouped=grouped, l1_ratio=rho,
                                n_lams=GIVEN_LAM_GRID, n_classes=len(prep.classes))
    marks = None
    if fit.lam > 0:  # lam = 0 has no place on a log axis
        grid = np.unique(np.append(grid, fit.lam))[::-1]
        marks = {f"--lam {fit.lam:.3g}": (fit.lam, "#e08a00", "-")}
    path = multinomial_path(prep.X, codes, grouped=grouped, l1_ratio=rho, lams=grid,
                            n_classes=len(prep.classes))
    return class_paths_figure(grid, path.coefs, prep.feature_names, doc["classes"],
                              marks=marks, title=title)


def write_fit_report(out, doc, loaded, fit) -> str:
    """``regulab fit --out DIR`` on 3+ classes: index.html and results.json; the report path."""
    from regulab.report.claims.base import Table
    from regulab.report.writer import Section, prepare_out_dir, write_analysis_report

    out = prepare_out_dir(out)
    doc["report"] = str(out / "index.html")
    prep = loaded.prep
    label = penalty_label(doc["penalty"], doc["l1_ratio"])
    title = f"{label} on {loaded.name}"
    choice = doc["lam_choice"]
    result = Section("result", "Result", finding=headline(doc),
                     paragraphs=[f"How lam was chosen: {choice['why']}."])
    if doc["model_file"]:
        result.paragraphs.append(f"Model saved as plain JSON: {doc['model_file']}.")
    classes = doc["classes"]
    if choice["how"] == "cv":
        terr = training_error(prep.X, np.asarray(prep.y).astype(int), fit.path)
        result.add_figure(
            class_figure(fit, prep.feature_names, classes, train_error=terr,
                         folds=choice["folds"], title=title), out, "fit_path_cv",
            f"One panel per class: the {label} coefficient path of that class's column of W "
            f"(standardized features), x = log(lam) decreasing to the right, top axis = "
            f"non-zero coefficients of the class; lam_min and lam_1se marked. Last panel: "
            f"{choice['folds']}-fold CV {doc['scoring']} (mean ± 1 SE) and training error per "
            f"lam. The fit uses lam_{choice['rule']} = {fmt(doc['lam'])}.")
    else:
        result.add_figure(_given_lam_figure(loaded, fit, doc, title), out, "fit_path",
                          f"One panel per class: the {label} coefficient path (standardized "
                          f"features); the given lam {fmt(doc['lam'])} is marked.")
    dropped = [f["name"] for f in doc["features"] if not f["kept"]]
    coefs = Section("coefficients", "Coefficients per class",
                    tables=[Table(caption="Every feature, one column per class (original units: "
                                          "per unit of the raw column, per 0/1 of an indicator)",
                                  columns=["feature", *classes],
                                  rows=coefficient_rows(doc, kept_only=False))],
                    paragraphs=[f"A feature is kept when some class's coefficient is non-zero; "
                                f"exactly 0 in every class: {', '.join(dropped) or 'none'}."])
    sections = [result, coefs,
                Section("preparation", "Data and preparation", items=doc["preparation"]["steps"]),
                conventions_section(doc, prep.X.shape[0])]
    write_analysis_report(out, title=f"regulab fit: {loaded.name}",
                          subtitle=f"{label} multinomial model of {prep.target!r} "
                                   f"({len(classes)} classes).", sections=sections, document=doc)
    return doc["report"]


def cv_finding(doc) -> str:
    """lam_min and lam_1se with their CV errors and features kept (a path document)."""
    i0, i1 = doc["idx_min"], doc["idx_1se"]
    return (f"lam_min = {fmt(doc['lam_min'])} (CV error {pm(doc['cv_mean'][i0], doc['cv_se'][i0])}"
            f", {int(doc['nnz'][i0])} features kept), lam_1se = {fmt(doc['lam_1se'])} (CV error "
            f"{pm(doc['cv_mean'][i1], doc['cv_se'][i1])}, {int(doc['nnz'][i1])} features kept).")
