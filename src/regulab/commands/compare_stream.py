"""``regulab compare --stream``: the comparison from streamed statistics (data bigger than memory).

One statistics pass (:func:`regulab.commands.streamed.stream_statistics`) serves the three
penalties: each penalty's path and K-fold CV are solved from the same fold moments
(:func:`regulab.commands.streamed.solve_streamed`; the Gram route for the squared loss, L2
included (``rho = 0``: the coordinate descent with ``l1 = 0``), IRLS passes for a binary
target). What is measured, and how it differs from the in-memory ``compare``:

* **lam, CV error ± SE, features kept**: as in memory, on the hash folds of the streamed route;
* **stability of the kept set**: bootstrap resamples need the rows, so the stand-in measured
  from the statistics is the mean pairwise Jaccard index of the kept sets of the K fold models
  at the chosen lam (**stability over the K CV training sets**; each training set shares
  ``(K - 2) / (K - 1)`` of its rows with another, so this is a milder perturbation than a
  bootstrap); ``--n-boot`` is refused;
* **calibration slope out of fold**: exact from each fold's own moments for the squared loss
  (:func:`regulab.selection.streamed.oof_squared_slope`); for a binary (count) target the
  logistic (Poisson) slope is a two-parameter GLM fit on the held-out log-odds (log-means): no
  fixed set of sums determines it, so it is fitted by Newton's method, each step one more pass
  over the rows for the three penalties together
  (:func:`regulab.selection.streamed.glm_slopes`, at most :data:`SLOPE_PASSES` passes, counted
  in the document's ``stream.calibration_passes``);
* **relaxed lasso** (squared loss): exact from the statistics
  (:func:`regulab.selection.streamed.relaxed_from_moments`: the refit on a support is a solve
  on the support's block of the fold moments; ``(gamma, lam)`` by CV on the same folds); its
  stability and calibration as the penalties'. Binary target: the unpenalized logistic refits
  of the distinct supports of every path share Newton passes over the rows, one more pass
  scores every blend (:mod:`regulab.selection.streamed_relaxed`); left out, with the reason in
  one line, when their per-row cost exceeds
  :data:`~regulab.selection.streamed_relaxed.BUDGET_RATIO` IRLS passes' worth. Count target:
  left out (:data:`RELAXED_WHY`).
"""

from __future__ import annotations

import math

import numpy as np

from regulab.commands import streamed
from regulab.commands.common import (
    ERROR_NAME,
    OptionError,
    check_choice,
    check_int,
    column_verdicts,
    preparation_doc,
    source_doc,
)
from regulab.selection.streamed_relaxed import RefitBudgetError

STABILITY_METHOD = ("stability over the K CV training sets: mean pairwise Jaccard index of the "
                    "kept sets of the {K} fold models at the chosen lam (bootstrap resamples "
                    "need the rows, which --stream does not hold)")
CALIBRATION_STREAMED = {
    "squared": ("out-of-fold predictions of the CV at the chosen lam: least-squares slope of y "
                "on the prediction, exact from each fold's streamed moments"),
    "logistic": ("out-of-fold predictions of the CV at the chosen lam: logistic regression of "
                 "y on the predicted log-odds, by Newton's method with one pass over the rows "
                 "per step (the three penalties together)"),
    "poisson": ("out-of-fold predictions of the CV at the chosen lam: Poisson regression of "
                "y on the predicted log-means (the offset included), by Newton's method with "
                "one pass over the rows per step (the three penalties together)"),
}
#: the most passes the streamed logistic / Poisson calibration slopes may take (all penalties)
SLOPE_PASSES = 50
RELAXED_WHY = {   # the binary row's refits are passes too (unless over their budget)
    "poisson": ("left out with --stream for a count target: the unpenalized Poisson refit of "
                "every support would need its own IRLS passes over the rows"),
}


def check_options(*, n_boot, batch_rows, out, opts, extras) -> int:
    """The one-line refusals of ``compare --stream``; returns ``--batch-rows``."""
    if n_boot is not None:
        raise OptionError("--n-boot is not available with --stream: bootstrap resamples need "
                          "the rows; stability is measured over the K CV training sets")
    return streamed.check_stream_options(batch_rows, out=out, opts=opts, extras=extras)


def fold_stability(fit) -> float:
    """Mean pairwise Jaccard index of the fold models' kept sets at the chosen lam."""
    from regulab.report.claims.when_to_use import jaccard_stability

    k = fit.index
    sets = [set(np.flatnonzero(c[:, k] != 0.0).tolist()) for c in fit.cv.fold_coefs]
    return jaccard_stability(sets)


def calibration(st, fit) -> float | None:
    """The out-of-fold calibration slope from the statistics (squared loss), else None."""
    if st.loss != "squared":
        return None
    k = fit.index
    return _slope(st, [c[:, k] for c in fit.cv.fold_coefs], fit.cv.fold_intercepts[:, k])


def glm_calibration(st, fits: dict, extra=None) -> tuple[dict, dict]:
    """The logistic / Poisson out-of-fold calibration slopes of every fit in ``fits`` (their
    K fold models at the chosen lam), fitted together by passes over the rows
    (:func:`regulab.selection.streamed.glm_slopes`): ``({name: slope or None}, info)``. A
    logistic slope of flat predictions is None, as in memory. ``extra``: more
    ``{name: (W [p, K], B [K])}`` fold models (the relaxed row's), fitted in the same passes."""
    from regulab.data.stream_pass import slope_pass
    from regulab.selection.streamed import glm_slopes, oof_spread

    def one_pass(models):
        return slope_pass(st.source, st.scan, st.folds, st.seed, st.prep.means, st.prep.scales,
                          models, st.client, st.log)

    models = {m: (f.cv.fold_coefs[:, :, f.index].T.copy(),
                  f.cv.fold_intercepts[:, f.index].copy()) for m, f in fits.items()}
    models.update(extra or {})
    names = list(models)
    if st.loss == "logistic":   # flat out-of-fold log-odds: no slope (in memory: var <= 1e-300)
        models = {m: wb for m, wb in models.items() if oof_spread(st.tests, *wb) > 1e-300}
    slopes, info = glm_slopes(one_pass, list(models.values()), st.loss, max_passes=SLOPE_PASSES)
    got = {m: (c if math.isfinite(c) else None) for m, c in zip(models, slopes)}
    return {m: got.get(m) for m in names}, info


def _slope(st, fold_coefs, fold_intercepts) -> float | None:
    from regulab.selection.streamed import oof_squared_slope

    slope = oof_squared_slope(st.tests, fold_coefs, fold_intercepts)
    return float(slope) if math.isfinite(slope) else None


def relaxed(st, sf_l1, rule, folds) -> dict | None:
    """The relaxed lasso row from the statistics and the L1 fit ``sf_l1`` (squared loss; None
    for a binary target), with the keys of the in-memory compare's row."""
    from regulab.report.claims.when_to_use import jaccard_stability
    from regulab.selection.streamed import relaxed_from_moments

    how = "exact from the streamed fold moments"
    if st.loss == "logistic":
        try:
            res, fold_coefs, fold_ints, info = _relaxed_logistic(st, sf_l1, rule)
        except RefitBudgetError as exc:
            return str(exc)
        how = (f"the {info['refits']} logistic refits fitted together by Newton passes over "
               f"the rows ({info['passes']} passes; {info['separable']} separable, refitted "
               f"with the ridge lam_min as in memory)")
        slope = None   # filled in with the penalties' (same passes)
    elif st.loss == "squared":
        res, fold_coefs, fold_ints = relaxed_from_moments(st.total, st.training, st.tests,
                                                          (sf_l1.path, sf_l1.cv), rule=rule)
        slope = _slope(st, fold_coefs, fold_ints)
    else:
        return RELAXED_WHY[st.loss]
    sets = [set(np.flatnonzero(c).tolist()) for c in fold_coefs]
    return {"label": f"relaxed lasso (gamma = {res.gamma:g})", "gamma": res.gamma,
            "gammas": [float(g) for g in res.gammas], "lam": res.lam, "rule": rule,
            "cv_error": res.cv_error, "cv_se": res.cv_se, "n_kept": res.n_kept,
            "stability": jaccard_stability(sets), "bootstrap_resamples": None,
            "calibration_slope": slope, "fold_models": (fold_coefs.T.copy(), fold_ints),
            "coef": res.coef, "intercept_standardized": res.intercept,
            "why": (f"glmnet's relax=TRUE: gamma * lasso + (1 - gamma) * unpenalized refit on "
                    f"the lasso's support, (gamma, lam) by {folds}-fold CV (rule {rule}) over "
                    f"gamma in {{{', '.join(f'{g:g}' for g in res.gammas)}}} and the L1 grid, "
                    f"same folds, {how}; stability over the K CV training sets; not part of "
                    f"the recommendation")}


def _relaxed_logistic(st, sf_l1, rule):
    """:func:`regulab.selection.streamed_relaxed.relaxed_logistic` with the passes of ``st``."""
    from regulab.data.stream_refit import blend_loss_pass, refit_pass
    from regulab.selection.streamed_relaxed import relaxed_logistic

    args = (st.source, st.scan, st.folds, st.seed, st.prep.means, st.prep.scales)

    def refit(jobs):
        return refit_pass(*args, jobs, st.client, st.log)

    def blend_loss(C, B):
        return blend_loss_pass(*args, C, B, st.client, st.log)

    return relaxed_logistic(refit, blend_loss, (sf_l1.path, sf_l1.cv), rule=rule)


def run(source, opts, *, folds, rule, n_lams, batch_rows, tol=1e-6) -> dict:
    """Compare the three penalties from one statistics pass (module docstring); the document
    has the in-memory compare's shape plus ``stream`` (printed by the compare command);
    ``tol``: each solution's certificate (relative duality gap or KKT violation)."""
    from regulab import __version__
    from regulab.commands import compare_methods as C
    from regulab.selection.cv import RULES
    from regulab.selection.recommend import MethodSummary, recommend

    rule = check_choice(rule, RULES, "--rule")
    n_lams = check_int(n_lams, "--n-lams", 3)
    folds = check_int(folds, "--cv", 2)
    st = streamed.statistics_of(source, opts, folds=folds, batch_rows=batch_rows)
    prep, names = st.prep, st.prep.feature_names
    p = len(names)
    fits, stab, slopes, sfs = {}, {}, {}, {}
    for m, rho in C.METHODS.items():
        sfs[m] = streamed.solve_streamed(st, rho=rho, n_lams=n_lams, rule=rule, tol=tol)
        fits[m] = streamed.as_fit(sfs[m], rule=rule, folds=folds, seed=opts.seed)
        stab[m] = fold_stability(fits[m])
        slopes[m] = calibration(st, fits[m])
    rel = relaxed(st, sfs["l1"], rule, folds)
    rel_why = rel if isinstance(rel, str) else None
    rel = None if isinstance(rel, str) else rel
    slope_info = None
    if st.loss != "squared":   # the penalties' and the relaxed row's slopes in the same passes
        slopes, slope_info = glm_calibration(
            st, fits, None if rel is None else {"relaxed": rel["fold_models"]})
        if rel is not None:
            rel["calibration_slope"] = slopes.pop("relaxed")
    loaded = streamed.loaded_of(source, prep, opts)
    summaries = {m: MethodSummary(cv_error=f.cv_error, cv_se=f.cv_se, n_kept=f.n_kept,
                                  n_features=p, stability=stab[m],
                                  calibration_slope=slopes[m]) for m, f in fits.items()}
    rec = recommend(summaries)
    methods = {m: {
        "label": C.LABELS[m], "l1_ratio": C.METHODS[m], "lam": f.lam, "rule": rule,
        "lam_min": f.cv.lam_min, "lam_1se": f.cv.lam_1se, "cv_error": f.cv_error,
        "cv_se": f.cv_se, "n_kept": f.n_kept, "n_features": p, "stability": stab[m],
        "bootstrap_resamples": None, "calibration_slope": slopes[m],
        "kept": [n for n, c in zip(names, f.coef) if c != 0.0], "grouped": False,
        "columns": column_verdicts(prep, f.coef),
        "coef_standardized": {n: float(c) for n, c in zip(names, f.coef)},
        "intercept_standardized": f.intercept, "truth": None} for m, f in fits.items()}
    stream_info = streamed.stream_doc(sfs[list(C.METHODS)[-1]])  # the passes of all three
    stream_info["workers"] = streamed.workers_of(st)
    if slope_info is not None:
        stream_info.update({"passes": st.log.passes, "calibration_passes": slope_info["passes"],
                            "calibration_pass_bound": slope_info["pass_bound"]})
    doc = {
        "command": "compare", "regulab_version": __version__, "source": source_doc(loaded),
        "preparation": preparation_doc(loaded.prep), "task": prep.task, "loss": st.loss,
        "family": loaded.family_doc(), "scoring": ERROR_NAME[st.loss], "folds": folds,
        "rule": rule, "n_boot": None, "seed": opts.seed, "n_lams": n_lams, "methods": methods,
        "grouped": False, "per_feature_penalty": None, "adaptive": None,
        "relaxed": None if rel is None else {
            **{k: v for k, v in rel.items() if k not in ("coef", "fold_models")},
            "kept": [n for n, c in zip(names, rel["coef"]) if c != 0.0],
            "coef_standardized": {n: float(c) for n, c in zip(names, rel["coef"])},
            "truth": None, "n_features": p},
        "relaxed_left_out": rel_why,
        "recommendation": {**rec.as_dict(), "label": C.LABELS[rec.penalty]},
        "stability_method": STABILITY_METHOD.format(K=folds),
        "calibration_method": CALIBRATION_STREAMED[st.loss], "truth": None,
        "warnings": [f"{C.LABELS[m]}: {w}" for m, f in fits.items() if (w := f.at_edge())],
        "report": None, "stream": stream_info}
    return doc
