"""``regulab path`` on a target with 3 or more classes: the multinomial coefficient paths per class
and the CV curve.

Each lam of the grid (:func:`regulab.selection.multinomial.multinomial_lam_grid`, warm-started
from the largest) solves::

    mean_i (-log softmax(x_i W + b)[c_i]) + lam * (rho * L1(W) + (1 - rho) * ||W||_F**2)

on the standardized design, ``L1(W) = sum_jk |W_jk|`` or, with ``--grouped-classes``,
``sum_j ||W_j.||_2``. The CV curve is the held-out mean multinomial log-loss of K-fold CV (folds
stratified by class) with lam_min and lam_1se, as ``regulab fit`` chooses lam.

Terminal: the path at a dozen lams (features kept, non-zero coefficients per class, CV error,
training error, the features that enter). ``--json``: every lam, coefficients as
``coefs[feature][class]`` (one value per lam, standardized scale), ``intercepts[class]``.
``--out DIR``: the figure (one panel per class, the CV curve), ``path.csv`` (one row per lam:
``lam``, ``log_lam``, ``nnz``, ``cv_mean``, ``cv_se``, ``train_error``, then one column
``<class>:<feature>`` per class and feature), ``results.json`` and ``index.html``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regulab.commands.common import (
    console,
    emit_json,
    family_line,
    fmt,
    penalty_label,
    pm,
    preparation_doc,
    shown_lams,
    source_doc,
)
from regulab.commands.multinomial import SCORING, family_doc
from regulab.commands.output import print_table
from regulab.commands.path_output import (
    finish_report,
    lam_frame,
    print_entry_order,
    print_files,
    start_report,
)


def run(loaded, *, penalty, rho, folds, n_lams, seed, grouped_classes=False, as_json=False,
        out=None) -> dict:
    """The per-class paths and the CV curve (``folds`` checked by the caller); print the summary
    or the JSON document, ``out``: the report folder (checked before the data were read)."""
    from regulab.commands.multinomial import check_class_rows, fit_model
    from regulab.commands.multinomial_report import training_error

    check_class_rows(loaded, folds)
    fit = fit_model(loaded, rho=rho, lam=None, folds=folds, rule="1se", n_lams=n_lams, seed=seed,
               grouped=grouped_classes, penalty=penalty)
    prep = loaded.prep
    terr = training_error(prep.X, np.asarray(prep.y).astype(int), fit.path)
    doc = document(loaded, fit, terr, penalty=penalty, rho=rho, folds=folds, seed=seed,
                   grouped=grouped_classes)
    if out is not None:
        _write(out, doc, loaded, fit, terr)
    if as_json:
        emit_json(doc)
    else:
        _print(doc)
    return doc


def entries(lams, coefs, names) -> list[dict]:
    """For each feature, the largest lam of the grid where some class's coefficient is non-zero
    (``coefs`` ``[p, n_lams]`` of one class, or ``[p, K, n_lams]``), in order of entry."""
    nonzero = coefs != 0.0 if coefs.ndim == 2 else np.any(coefs != 0.0, axis=1)
    out = []
    for j, n in enumerate(names):
        nz = np.flatnonzero(nonzero[j])
        out.append({"feature": n, "index": int(nz[0]) if nz.size else None,
                    "lam": float(lams[nz[0]]) if nz.size else None})
    out.sort(key=lambda e: (e["index"] is None, e["index"] if e["index"] is not None else 0))
    for k, e in enumerate(out, start=1):
        e["order"] = k if e["index"] is not None else None
    return out


def document(loaded, fit, terr, *, penalty, rho, folds, seed, grouped) -> dict:
    """The ``--json`` document (also ``results.json``)."""
    from regulab import __version__

    prep = loaded.prep
    names, classes = prep.feature_names, [str(c) for c in prep.classes]
    cv, path = fit.cv, fit.path
    C = path.coefs
    warnings = [] if np.all(path.converged) else [
        "the solver did not converge at every lam of the grid"]
    return {
        "command": "path", "regulab_version": __version__, "source": source_doc(loaded),
        "preparation": preparation_doc(prep), "task": prep.task, "loss": "multinomial",
        "family": family_doc(loaded), "classes": classes, "penalty": penalty,
        "l1_ratio": rho, "grouped_classes": bool(grouped), "scoring": SCORING, "folds": folds,
        "seed": seed, "n_lams": int(cv.lams.size), "lam_min": cv.lam_min,
        "lam_1se": cv.lam_1se, "idx_min": int(cv.idx_min), "idx_1se": int(cv.idx_1se),
        "coefficients_scale": "standardized features",
        "lams": cv.lams, "log_lams": np.log(cv.lams), "nnz": path.nnz,
        "nnz_per_class": {c: np.count_nonzero(C[:, k, :], axis=0) for k, c in enumerate(classes)},
        "cv_mean": cv.mean_error, "cv_se": cv.se_error, "train_error": terr,
        "coefs": {n: {c: C[j, k, :] for k, c in enumerate(classes)} for j, n in enumerate(names)},
        "intercepts": {c: path.intercepts[k] for k, c in enumerate(classes)},
        "kkt": path.gaps, "converged": path.converged,
        "entry": entries(cv.lams, C, names),
        "entry_per_class": {c: entries(cv.lams, C[:, k, :], names)
                            for k, c in enumerate(classes)},
        "shown": shown_lams(cv), "warnings": warnings, "csv": None, "report": None,
    }


SUMMARY_COLUMNS = ["lam", "log(lam)", "kept", "per class", "CV error ± SE",
                   "train error", "rule", "entered"]


def summary_rows(doc) -> list[list[str]]:
    """The path at the shown lams: features kept, non-zero coefficients per class (in the order
    of the classes), the CV and training errors, and the features that entered since the
    previous row."""
    entered = {}
    for e in doc["entry"]:
        if e["index"] is not None:
            entered.setdefault(e["index"], []).append(e["feature"])
    rows, prev = [], -1
    for i in doc["shown"]:
        new = [f for k in range(prev + 1, i + 1) for f in entered.get(k, [])]
        prev = i
        mark = " ".join(m for m, j in (("min", doc["idx_min"]), ("1se", doc["idx_1se"])) if j == i)
        text = ", ".join(new[:4]) + (f", ... (+{len(new) - 4})" if len(new) > 4 else "")
        per_class = "/".join(str(int(doc["nnz_per_class"][c][i])) for c in doc["classes"])
        rows.append([fmt(doc["lams"][i]), fmt(doc["log_lams"][i]), str(int(doc["nnz"][i])),
                     per_class, pm(doc["cv_mean"][i], doc["cv_se"][i]),
                     fmt(doc["train_error"][i]), mark, text])
    return rows


def headline(doc) -> str:
    prep = doc["preparation"]
    return (f"{doc['source']['name']}: target {prep['target']!r} ({len(doc['classes'])} classes: "
            f"{', '.join(doc['classes'])}), {prep['rows']:,} rows x {prep['features']} "
            f"features; {penalty_label(doc['penalty'], doc['l1_ratio'])}"
            f"{' grouped across classes' if doc['grouped_classes'] else ''}, {doc['n_lams']} "
            f"lams, {doc['folds']}-fold CV ({doc['scoring']})")


def _print(doc) -> None:
    from regulab.commands.multinomial_report import cv_finding

    con = console()
    con.print(f"[bold]regulab path[/] {headline(doc)}", highlight=False, soft_wrap=True)
    con.print(family_line(doc), highlight=False, soft_wrap=True, markup=False)
    for w in doc["warnings"]:
        con.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    con.print(f"[bold]CV[/] {cv_finding(doc)}", highlight=False, soft_wrap=True)
    print_table(con, f"the path at some lams (decreasing: weaker penalty downwards); non-zero "
                     f"per class: {' / '.join(doc['classes'])}",
                SUMMARY_COLUMNS, summary_rows(doc), left=range(6, len(SUMMARY_COLUMNS)))
    print_entry_order(con, doc, "order of entry (some class non-zero)")
    print_files(con, doc)


def path_frame(doc) -> pd.DataFrame:
    """``path.csv``: one row per lam, then a column ``<class>:<feature>`` per class and feature
    (standardized scale)."""
    frame = lam_frame(doc)
    columns = {f"{c}:{name}": np.asarray(values[c])
               for c in doc["classes"] for name, values in doc["coefs"].items()}
    return pd.concat([frame, pd.DataFrame(columns)], axis=1)


def _write(out, doc, loaded, fit, terr) -> None:
    from regulab.commands.multinomial_report import class_figure, cv_finding
    from regulab.report.claims.base import Table
    from regulab.report.writer import Section

    out = start_report(out, doc, path_frame)
    label = penalty_label(doc["penalty"], doc["l1_ratio"])
    names = loaded.prep.feature_names
    lams = doc["lams"]
    main = Section("path", "Coefficient paths per class",
                   finding=(f"{label} on {loaded.name}: {doc['n_lams']} lams from "
                            f"{fmt(lams[0])} down to {fmt(lams[-1])}; {int(doc['nnz'][0])} to "
                            f"{int(doc['nnz'][-1])} of {len(names)} features kept (non-zero "
                            f"in some class). {cv_finding(doc)}"),
                   warnings=list(doc["warnings"]))
    main.add_figure(class_figure(fit, names, doc["classes"], train_error=terr,
                                 folds=doc["folds"], title=f"{label} on {loaded.name}"),
                    out, "path",
                    f"One panel per class: the {label} path of that class's coefficients "
                    f"(standardized features), x = log(lam) decreasing to the right, top axis = "
                    f"the class's non-zero coefficients; lam_min and lam_1se marked. Last "
                    f"panel: {doc['folds']}-fold CV {doc['scoring']} (mean ± 1 SE) and training "
                    f"error on all rows; lam_1se is the largest lam within one SE of the "
                    f"minimum.")
    finish_report(out, doc, loaded, [main],
                  subtitle=f"{label} multinomial path of {loaded.prep.target!r} "
                           f"({len(doc['classes'])} classes).",
                  one_column="one column <class>:<feature>",
                  table=Table(caption="lams decreasing downwards; 'kept' = features non-zero "
                                      "in some class; 'non-zero per class' in the order "
                                      + " / ".join(doc["classes"]) + "; 'entered' = "
                                      "features kept since the previous row",
                              columns=SUMMARY_COLUMNS, rows=summary_rows(doc)))
