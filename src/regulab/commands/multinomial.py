"""``regulab fit`` on a target with 3 or more classes: the multinomial (softmax) model.

The fit is :func:`regulab.selection.multinomial.fit_multinomial_cv` on the prepared
(standardized) design, which minimizes::

    mean_i (-log softmax(x_i W + b)[c_i]) + lam * (rho * L1(W) + (1 - rho) * ||W||_F**2)

with ``W`` of shape ``(p, K)`` (one column per class), unpenalized intercepts ``b``, and
``L1(W) = sum_jk |W_jk|``, or with ``--grouped-classes`` ``sum_j ||W_j.||_2`` (glmnet's
``type.multinomial = "grouped"``: a feature kept or dropped for all classes at once). lam is
chosen by K-fold CV (folds stratified by class; held-out mean multinomial log-loss) with the
``min`` or ``1se`` rule, or given with ``--lam`` (its CV error then measured at that lam).

``--save`` writes the model file (:mod:`regulab.data.model_io`: one coefficient list per class,
for ``regulab predict``); ``--out`` the HTML report (per-class coefficient paths beside the CV
curve, the coefficient table per class). The options whose machinery carries one coefficient per
feature (stability, per-feature factors and bounds, categorical groups, streaming) are refused in
one line each (:func:`check_options`).
"""

from __future__ import annotations

import numpy as np

from regulab.commands.common import (
    Bars,
    DataError,
    OptionError,
    console,
    emit_json,
    fmt,
    pm,
    preparation_doc,
    print_family_and_steps,
    source_doc,
)

#: the held-out error of the multinomial CV, as printed
SCORING = "mean multinomial log-loss"


def check_grouped_classes(grouped_classes: bool, family: str, rho: float) -> None:
    """``--grouped-classes`` is for the multinomial family and needs an L1 part."""
    if not grouped_classes:
        return
    if family != "multinomial":
        raise OptionError(f"--grouped-classes keeps or drops a feature for all classes of a "
                          f"multinomial model; the family here is {family}")
    if rho == 0.0:
        raise OptionError("--grouped-classes makes the L1 part a group penalty across classes: "
                          "it needs --penalty l1 or elasticnet, not l2")


def check_options(**given) -> None:
    """Refuse, in one line, the first option the multinomial route cannot honour
    (``given`` maps each flag to its value; a false value is not given)."""
    why = {"--stability": "selection frequencies are counted for one coefficient per feature",
           "--unpenalized": "the multinomial solver has no per-feature factors",
           "--penalty-factor": "the multinomial solver has no per-feature factors",
           "--nonnegative": "the multinomial solver has no bounds",
           "--adaptive": "the multinomial solver has no per-feature factors",
           "--grouped": "categorical groups are not fitted across classes (use "
                        "--grouped-classes to keep or drop a feature for all classes)",
           "--stream": "the streamed route fits one coefficient per feature"}
    for flag, value in given.items():
        if value:
            raise OptionError(f"{flag} is not available for the multinomial family (3 or more "
                              f"classes): {why[flag]}; leave it out")


def family_doc(loaded) -> dict:
    """The family line of the documents: multinomial, and why (the target's line)."""
    why = next((x for x in loaded.prep.report if x.startswith("target ")), "")
    return {"family": "multinomial", "loss": "multinomial", "why": why, "offset": None}


def check_class_rows(loaded, folds: int) -> None:
    """Every class needs at least ``folds`` rows, so that stratified folds spread it and every
    training fold holds it (the intercepts need every class); DataError in one line."""
    from regulab.data.messages import plural, show

    prep = loaded.prep
    counts = np.bincount(np.asarray(prep.y).astype(int), minlength=len(prep.classes))
    k = int(np.argmin(counts))
    if counts[k] < folds:
        raise DataError(f"{loaded.name}: class {show(prep.classes[k])} of the target has only "
                        f"{plural(int(counts[k]))}, fewer than the "
                        f"{folds} CV folds (family multinomial; merge rare labels or use "
                        f"fewer --cv folds)")


def run(loaded, *, penalty, rho, lam, folds, rule, n_lams, seed, grouped_classes=False,
        as_json=False, save=None, out=None) -> dict:
    """Fit the multinomial model (lam by CV, or the given lam with its CV error) and print the
    per-class coefficient table, or the JSON document; ``save``: the model file, ``out``: the
    HTML report folder (both checked by the caller before the data were read)."""
    from regulab.data.model_io import save_model

    check_class_rows(loaded, folds)
    fit = fit_model(loaded, rho=rho, lam=lam, folds=folds, rule=rule, n_lams=n_lams, seed=seed,
               grouped=grouped_classes, penalty=penalty)
    doc = _document(loaded, fit, penalty=penalty, rho=rho, lam=lam, folds=folds, rule=rule,
                    seed=seed, grouped=grouped_classes)
    if save is not None:
        save_model(_model(loaded, fit, doc), save)
        doc["model_file"] = str(save)
    if out is not None:
        from regulab.commands.multinomial_report import write_fit_report

        doc["report"] = write_fit_report(out, doc, loaded, fit)
    if as_json:
        emit_json(doc)
    else:
        _print(doc)
    return doc


def fit_model(loaded, *, rho, lam, folds, rule, n_lams, seed, grouped, penalty):
    """:class:`regulab.selection.multinomial.MultinomialCVFit` on all the prepared rows; with a
    given lam, the grid is that lam alone (its CV error measured, the rule moot)."""
    from regulab.selection.multinomial import fit_multinomial_cv

    prep = loaded.prep
    codes = np.asarray(prep.y).astype(int)
    with Bars() as bars:
        cb = bars.callback(f"{folds}-fold CV ({penalty}, multinomial)", folds)
        return fit_multinomial_cv(prep.X, codes, prep.classes, grouped=grouped, l1_ratio=rho,
                                  folds=folds, rule=rule, n_lams=n_lams, seed=seed,
                                  lams=None if lam is None else [lam], on_fold=cb)


def _model(loaded, fit, doc):
    """The model file's content (:class:`regulab.data.model_io.Model`, one coefficient column
    per class)."""
    from regulab.data.model_io import Model

    return Model(prep=loaded.prep, coef_std=fit.coef, intercept_std=fit.intercept, lam=fit.lam,
                 penalty=doc["penalty"], l1_ratio=doc["l1_ratio"], lam_choice=doc["lam_choice"],
                 n_train=int(loaded.prep.X.shape[0]), source=loaded.name,
                 grouped_classes=doc["grouped_classes"])


def _lam_choice(fit, *, lam, folds, rule, seed) -> dict:
    """How lam was chosen, with the CV errors at lam_min and lam_1se (CV over a grid)."""
    cv, i = fit.cv, fit.index
    d = {"how": "given" if lam is not None else "cv", "lam": fit.lam, "folds": folds,
         "seed": seed, "scoring": SCORING, "cv_error": float(cv.mean_error[i]),
         "cv_se": float(cv.se_error[i])}
    if lam is not None:
        d["why"] = (f"lam {fmt(fit.lam)} given with --lam; its {folds}-fold CV {SCORING} is "
                    f"{pm(d['cv_error'], d['cv_se'])}")
        return d
    nnz = fit.path.nnz
    i0, i1 = cv.idx_min, cv.idx_1se
    d.update({"rule": rule, "n_lams": int(cv.lams.size), "lam_min": cv.lam_min,
              "lam_1se": cv.lam_1se, "cv_error_min": float(cv.mean_error[i0]),
              "cv_se_min": float(cv.se_error[i0]), "cv_error_1se": float(cv.mean_error[i1]),
              "cv_se_1se": float(cv.se_error[i1]), "n_kept_min": int(nnz[i0]),
              "n_kept_1se": int(nnz[i1])})
    d["why"] = (f"{folds}-fold CV over {cv.lams.size} lams: lam_min = {fmt(cv.lam_min)} "
                f"(CV {SCORING} {pm(cv.mean_error[i0], cv.se_error[i0])}, {int(nnz[i0])} "
                f"kept), lam_1se = {fmt(cv.lam_1se)} (CV {SCORING} "
                f"{pm(cv.mean_error[i1], cv.se_error[i1])}, {int(nnz[i1])} kept); rule {rule}")
    return d


def _document(loaded, fit, *, penalty, rho, lam, folds, rule, seed, grouped) -> dict:
    """The ``--json`` document: the binary fit's keys where they make sense, coefficients per
    class (``coef`` and ``coef_standardized`` map each class to its coefficient)."""
    from regulab import __version__
    from regulab.data.model_io import convention_equivalents, objective_text

    prep = loaded.prep
    classes = [str(c) for c in prep.classes]
    coef, intercept = prep.to_original_units(fit.coef, fit.intercept)
    choice = _lam_choice(fit, lam=lam, folds=folds, rule=rule, seed=seed)
    cv = fit.cv
    return {
        "command": "fit", "regulab_version": __version__, "source": source_doc(loaded),
        "preparation": preparation_doc(prep), "task": prep.task, "loss": "multinomial",
        "family": family_doc(loaded),
        "classes": classes, "penalty": penalty, "l1_ratio": rho, "lam": fit.lam,
        "lam_choice": choice, "lam_min": choice.get("lam_min"), "lam_1se": choice.get("lam_1se"),
        "cv_error": choice["cv_error"], "cv_se": choice["cv_se"], "scoring": SCORING,
        "intercept": dict(zip(classes, map(float, intercept))),
        "intercept_standardized": dict(zip(classes, map(float, fit.intercept))),
        "n_features": prep.n_features, "n_kept": fit.n_kept, "grouped_classes": bool(grouped),
        "features": [{"name": name, "kept": bool(np.any(fit.coef[j] != 0.0)),
                      "coef": dict(zip(classes, map(float, coef[j]))),
                      "coef_standardized": dict(zip(classes, map(float, fit.coef[j])))}
                     for j, name in enumerate(prep.feature_names)],
        "cv": {"lams": cv.lams.tolist(), "mean_error": cv.mean_error.tolist(),
               "se_error": cv.se_error.tolist(),
               "n_kept": fit.path.nnz.tolist()},
        "converged": bool(np.all(fit.path.converged)),
        "conventions": {"objective": objective_text("multinomial", fit.lam, rho, grouped),
                        "equivalents": convention_equivalents("multinomial", fit.lam, rho,
                                                              prep.X.shape[0],
                                                              grouped=grouped)},
        "model_file": None, "report": None,
    }


def _print(doc) -> None:
    from rich.table import Table

    from regulab.commands.multinomial_report import coefficient_rows, headline

    con = console()
    con.print(f"[bold]regulab fit[/] {headline(doc)}", highlight=False, soft_wrap=True)
    print_family_and_steps(con, doc, heading=True)
    con.print(f"[bold]lam[/] {doc['lam_choice']['why']}", highlight=False, soft_wrap=True)
    if not doc["converged"]:
        con.print("[yellow]warning:[/] the solver did not converge at every lam of the grid",
                  highlight=False)
    table = Table(title="coefficients per class (original units)", title_justify="left")
    table.add_column("feature")
    for c in doc["classes"]:
        table.add_column(c, justify="right")
    for row in coefficient_rows(doc):
        table.add_row(*row)
    con.print(table)
    dropped = [f["name"] for f in doc["features"] if not f["kept"]]
    con.print(f"kept: a coefficient non-zero in some class; exactly 0 in every class: "
              f"{', '.join(dropped) or 'none'}", highlight=False,
              soft_wrap=True, markup=False)
    if doc["model_file"]:
        con.print(f"model saved: {doc['model_file']}", highlight=False, soft_wrap=True)
    if doc["report"]:
        from pathlib import Path

        con.print(f"report: {Path(doc['report']).resolve()}", highlight=False, soft_wrap=True)
