"""``regulab compare`` on a target with 3 or more classes: the multinomial (softmax) model under
L1, elastic net (l1_ratio 0.5) and L2, and L1 grouped across classes (glmnet's
``type.multinomial = "grouped"``), side by side, and which to use.

Each row is :func:`regulab.selection.multinomial.fit_multinomial_cv` on the prepared
(standardized) design and the same stratified folds, minimizing::

    mean_i (-log softmax(x_i W + b)[c_i]) + lam * (rho * L1(W) + (1 - rho) * ||W||_F**2)

with ``L1(W) = sum_jk |W_jk|`` (L1, elastic net) or ``sum_j ||W_j.||_2`` (grouped L1: a feature
kept or dropped for all classes at once), ``W`` of shape ``(p, K)`` and unpenalized intercepts.
For each row:

* **lam** by K-fold CV (rule ``1se`` by default, ``--rule min``), with ``lam_min`` and
  ``lam_1se``;
* **CV deviance ± SE** at that lam: the held-out multinomial deviance per row, twice the mean
  multinomial log-loss the CV minimizes (the same lams are chosen on either scale);
* **features kept**: a coefficient not exactly 0 in some class, in the fit on all rows, and the
  count per class;
* **stability**: the mean pairwise Jaccard index of the kept sets of the K fits on the CV
  training sets at the chosen lam (as ``compare --stream``; no bootstrap refits);
* **held-out accuracy**: the share of rows whose class is the argmax of the out-of-fold
  linear predictors at the chosen lam (every row scored by the fold model that did not see it).

The recommendation is :func:`regulab.selection.recommend.recommend` on the L1, elastic-net and L2
rows, as in the binary compare (no calibration slope: it is a single-slope measure of a binary
or continuous prediction); the grouped row is measured beside them, outside the rules.
"""

from __future__ import annotations

import numpy as np

from regulab.commands.common import (
    Bars,
    OptionError,
    console,
    emit_json,
    fmt,
    pm,
    preparation_doc,
    print_family_and_steps,
    source_doc,
)
from regulab.commands.compare_methods import LABELS, METHODS, SHORT_LABELS
from regulab.commands.output import print_table

#: the grouped row: its key in the JSON, label and short name
GROUPED = "l1_grouped"
GROUPED_LABEL = "L1 grouped across classes"
GROUPED_SHORT = "L1 grouped"
SCORING = "multinomial deviance (2 x mean log-loss)"

#: why each option ``regulab compare`` takes cannot be honoured for 3 or more classes
REFUSED = {
    "--n-boot": "stability is measured over the K CV training sets (no bootstrap refits)",
    "--out": "the HTML report draws one coefficient per feature",
    "--unpenalized": "the multinomial solver has no per-feature factors",
    "--penalty-factor": "the multinomial solver has no per-feature factors",
    "--nonnegative": "the multinomial solver has no bounds",
    "--adaptive": "the multinomial solver has no per-feature factors",
    "--grouped": "categorical groups are not fitted across classes (the grouped row keeps or "
                 "drops each feature for all classes)",
    "--stream": "the streamed route fits one coefficient per feature",
}


def check_options(**given) -> None:
    """Refuse, in one line, the first option (``--flag``: value) the multinomial compare cannot
    honour; a false or None value is not given."""
    for flag, value in given.items():
        if value is not None and value is not False:
            raise OptionError(f"{flag} is not available with compare on 3 or more classes "
                              f"(family multinomial): {REFUSED[flag]}; leave it out")


def rows() -> dict[str, tuple[str, float, bool]]:
    """``key -> (label, rho, grouped)``: the penalties of the binary compare, then grouped L1."""
    out = {m: (LABELS[m], rho, False) for m, rho in METHODS.items()}
    out[GROUPED] = (GROUPED_LABEL, 1.0, True)
    return out


def run(loaded, *, folds, rule, n_lams, seed, as_json=False) -> dict:
    """Compare the rows of :func:`rows` on the multiclass target of ``loaded`` (options already
    checked); print the table or the JSON document."""
    from regulab.commands.multinomial import check_class_rows
    from regulab.selection.multinomial import fit_multinomial_cv

    check_class_rows(loaded, folds)
    prep = loaded.prep
    codes = np.asarray(prep.y).astype(int)
    fits = {}
    with Bars() as bars:
        for key, (label, rho, grouped) in rows().items():
            cb = bars.callback(f"{label}: {folds}-fold CV (multinomial)", folds)
            fits[key] = fit_multinomial_cv(prep.X, codes, prep.classes, grouped=grouped,
                                           l1_ratio=rho, folds=folds, rule=rule, n_lams=n_lams,
                                           seed=seed, on_fold=cb)
    methods = {key: measure(prep, codes, fits[key], label=rows()[key][0], rho=rows()[key][1],
                            grouped=rows()[key][2], folds=folds, seed=seed, rule=rule)
               for key in fits}
    doc = _document(loaded, methods, folds=folds, rule=rule, n_lams=n_lams, seed=seed)
    if as_json:
        emit_json(doc)
    else:
        _print(doc)
    return doc


def measure(prep, codes, fit, *, label, rho, grouped, folds, seed, rule) -> dict:
    """One row's numbers (module docstring) from its :class:`MultinomialCVFit`."""
    from regulab.report.claims.when_to_use import jaccard_stability
    from regulab.selection.multinomial import fold_kept_sets, out_of_fold_multinomial

    cv, k = fit.cv, fit.index
    Z = out_of_fold_multinomial(prep.X, codes, cv, k, cv=folds, seed=seed)
    classes = [str(c) for c in prep.classes]
    names = prep.feature_names
    kept = np.any(fit.coef != 0.0, axis=1)
    return {
        "label": label, "l1_ratio": rho, "grouped_classes": grouped, "lam": fit.lam,
        "rule": rule, "lam_min": cv.lam_min, "lam_1se": cv.lam_1se,
        "cv_deviance": 2.0 * float(cv.mean_error[k]), "cv_deviance_se": 2.0 * float(cv.se_error[k]),
        "n_kept": fit.n_kept, "n_features": len(names),
        "n_kept_per_class": dict(zip(classes, map(int, np.count_nonzero(fit.coef, axis=0)))),
        "stability": jaccard_stability(fold_kept_sets(cv, k)),
        "accuracy": float(np.mean(np.argmax(Z, axis=1) == codes)),
        "kept": [n for n, on in zip(names, kept) if on],
        "coef_standardized": {n: dict(zip(classes, map(float, fit.coef[j])))
                              for j, n in enumerate(names)},
        "intercept_standardized": dict(zip(classes, map(float, fit.intercept))),
        "converged": bool(np.all(fit.path.converged)),
    }


def _document(loaded, methods, *, folds, rule, n_lams, seed) -> dict:
    from regulab import __version__
    from regulab.selection.recommend import MethodSummary, recommend

    prep = loaded.prep
    summaries = {m: MethodSummary(cv_error=d["cv_deviance"], cv_se=d["cv_deviance_se"],
                                  n_kept=d["n_kept"], n_features=d["n_features"],
                                  stability=d["stability"])
                 for m, d in methods.items() if m in METHODS}
    rec = recommend(summaries)
    why = next((x for x in prep.report if x.startswith("target ")), "")
    warnings = [f"{d['label']}: the solver did not converge at every lam of the grid"
                for d in methods.values() if not d["converged"]]
    return {
        "command": "compare", "regulab_version": __version__, "source": source_doc(loaded),
        "preparation": preparation_doc(prep), "task": prep.task, "loss": "multinomial",
        "family": {"family": "multinomial", "loss": "multinomial", "why": why, "offset": None},
        "classes": [str(c) for c in prep.classes], "scoring": SCORING, "folds": folds,
        "rule": rule, "n_boot": None, "seed": seed, "n_lams": n_lams, "methods": methods,
        "recommendation": {**rec.as_dict(), "label": LABELS[rec.penalty]},
        "stability_method": (f"mean pairwise Jaccard index of the kept sets (a coefficient "
                             f"non-zero in some class) of the {folds} CV training-set fits at "
                             f"each row's chosen lam"),
        "accuracy_method": ("out-of-fold: each row's class is the argmax of the linear "
                            "predictors of the fold model that did not see it, at the chosen lam"),
        "grouped_row": f"{GROUPED_LABEL}: measured beside the others, not part of the "
                       f"recommendation",
        "warnings": warnings, "report": None,
    }


COLUMNS = ["penalty", "lam", "lam_min", "lam_1se", "CV deviance ± SE", "kept",
           "kept per class", "Jaccard", "accuracy"]


def method_rows(doc) -> list[list[str]]:
    out = []
    for m, d in doc["methods"].items():
        short = SHORT_LABELS.get(m, GROUPED_SHORT)
        per = ", ".join(f"{c} {v}" for c, v in d["n_kept_per_class"].items())
        out.append([short, fmt(d["lam"]), fmt(d["lam_min"]), fmt(d["lam_1se"]),
                    pm(d["cv_deviance"], d["cv_deviance_se"]),
                    f"{d['n_kept']} of {d['n_features']}", per, fmt(d["stability"], 3),
                    fmt(d["accuracy"], 3)])
    return out


def _print(doc) -> None:
    con = console()
    prep = doc["preparation"]
    con.print(f"[bold]regulab compare[/] {doc['source']['name']}: target {prep['target']!r} "
              f"({len(doc['classes'])} classes: {', '.join(doc['classes'])}), "
              f"{prep['rows']:,} rows x {prep['features']} features; multinomial, lam by "
              f"{doc['folds']}-fold CV (rule {doc['rule']}), CV {doc['scoring']}",
              highlight=False, soft_wrap=True)
    print_family_and_steps(con, doc)
    print_table(con, f"same CV folds; Jaccard stability over the {doc['folds']} CV training "
                     f"sets; accuracy out of fold", COLUMNS, method_rows(doc))
    con.print(doc["grouped_row"], highlight=False, soft_wrap=True, style="dim")
    rec = doc["recommendation"]
    con.print(f"[bold green]recommendation: {rec['label']}[/]", highlight=False)
    for r in rec["reasons"]:
        con.print(f"  - {r}", highlight=False, soft_wrap=True, markup=False)
    for w in rec["warnings"] + doc["warnings"]:
        con.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    for m, d in doc["methods"].items():
        con.print(f"{SHORT_LABELS.get(m, GROUPED_SHORT)} keeps: {', '.join(d['kept']) or 'none'}",
                  highlight=False, soft_wrap=True, markup=False)
    con.print(f"stability: {doc['stability_method']}; accuracy: {doc['accuracy_method']}",
              highlight=False, soft_wrap=True, style="dim")
