"""Claim when-to-use: seed 001's practical advice, put to the test on data with a known truth.

"L1 is preferred when you believe many features are irrelevant; L2 when all features are
potentially useful." Three regimes (:mod:`regulab.data.simulate`), several seeds each: a *sparse* truth
(5 strong features of 60), a *dense* truth (60 small effects) and correlated *groups* (the truth is
a block of 5 features correlated at 0.9). In each, L1, L2 and elastic net (rho = 0.5) are fitted
with lam chosen by 5-fold CV and scored on a large test set from the same law, as the excess test
error over the noise variance (0 is perfect). In the groups regime, bootstrap resamples measure how
often each member of the true block is kept by L1 vs elastic net, and how stable the kept set is
(mean pairwise Jaccard index of the kept block members, and of the whole kept set).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from regulab.core.execution import run_tasks, task_seeds
from regulab.data.simulate import REGIMES, make_truth
from regulab.report.claims.base import ClaimResult, ExplainConfig, Table, verdict_from
from regulab.selection.cv import fit_cv
from regulab.selection.path import regularization_path

ID = "when-to-use"
TITLE = "When to use which: L1 for a few strong features, L2 for many small ones"
SOURCE = "seed 001 (Practical Implications: when L1 is preferred, when L2 is preferred)"
STATEMENT = ("L1 is preferred when many features are irrelevant (you want feature selection); L2 "
             "when all features are potentially useful. With groups of correlated features, which "
             "one L1 keeps is unstable, and elastic net is steadier.")

METHODS = {"l1": 1.0, "elasticnet": 0.5, "l2": 0.0}
DEFAULTS = {"n": 100, "p": 60, "n_test": 2000, "n_seeds": 5, "n_lams": 40, "cv": 5,
            "n_boot": 30}


def jaccard_stability(kept: list[set]) -> float:
    """Mean pairwise Jaccard index |A & B| / |A | B| of the kept sets (1 = always the same set)."""
    pairs = list(combinations(kept, 2))
    if not pairs:
        return 1.0
    vals = [len(a & b) / len(a | b) if a | b else 1.0 for a, b in pairs]
    return float(np.mean(vals))


def _excess_error(fit, test) -> float:
    pred = test.X @ fit.coef + fit.intercept
    return float(np.mean((test.y - pred) ** 2) / test.noise_sd**2 - 1.0)


def _regime_task(task) -> dict:
    """Fit L1, elastic net and L2 (lam by CV) on one seeded draw of one regime; score on its test
    set. Returns ``{method: (excess test error, features kept, lam)}``."""
    regime, seed, p = task
    train, test = make_truth(regime, n=p["n"], p=p["p"], n_test=p["n_test"], seed=seed)
    out = {}
    for m, rho in METHODS.items():
        fit = fit_cv(train.X, train.y, l1_ratio=rho, n_lams=p["n_lams"], cv=p["cv"], seed=seed,
                     rule="min")
        out[m] = (_excess_error(fit, test), fit.n_kept, fit.lam)
    return out


def run(config: ExplainConfig) -> ClaimResult:
    p = dict(DEFAULTS)
    seeds = task_seeds(config.seed, p["n_seeds"])
    errors = {r: {m: [] for m in METHODS} for r in REGIMES}
    kept = {r: {m: [] for m in METHODS} for r in REGIMES}
    # one task per (regime, seed), through the execution layer (a Dask cluster when active)
    tasks = [(regime, s, p) for regime in REGIMES for s in seeds]
    results = run_tasks(_regime_task, tasks)
    lam_groups = {}
    for (regime, s, _), res in zip(tasks, results):
        for m, (err, n_kept, lam) in res.items():
            errors[regime][m].append(err)
            kept[regime][m].append(n_kept)
            if regime == "groups" and s == seeds[0]:
                lam_groups[m] = lam
    train, _ = make_truth("groups", n=p["n"], p=p["p"], n_test=p["n_test"], seed=seeds[0])

    # bootstrap selection frequencies in the groups regime (first seed), at each method's CV lam
    block = np.flatnonzero(train.w)
    freq, stab, block_stab = {}, {}, {}
    n = train.X.shape[0]
    for m in ("l1", "elasticnet"):
        lam = lam_groups[m]
        sets, block_sets, counts = [], [], np.zeros(train.X.shape[1])
        for s in task_seeds(config.seed + 1, p["n_boot"]):
            idx = np.random.default_rng(s).integers(0, n, n)
            path = regularization_path(train.X[idx], train.y[idx], l1_ratio=METHODS[m],
                                       lams=[lam])
            sel = path.coefs[:, 0] != 0.0
            counts += sel
            sets.append(set(np.flatnonzero(sel)))
            block_sets.append(set(np.flatnonzero(sel[block])))
        freq[m] = counts / p["n_boot"]
        stab[m] = jaccard_stability(sets)
        block_stab[m] = jaccard_stability(block_sets)

    mean = {r: {m: float(np.mean(v)) for m, v in d.items()} for r, d in errors.items()}
    sd = {r: {m: float(np.std(v, ddof=1)) for m, v in d.items()} for r, d in errors.items()}
    wins = {r: {m: int(sum(errors[r][m][i] < errors[r]["l2" if m != "l2" else "l1"][i]
                           for i in range(len(seeds)))) for m in METHODS} for r in REGIMES}
    checks = {
        "sparse_truth_l1_or_en_beats_l2": min(mean["sparse"]["l1"], mean["sparse"]["elasticnet"])
        < mean["sparse"]["l2"],
        "dense_truth_l2_beats_l1": mean["dense"]["l2"] < mean["dense"]["l1"],
        "groups_en_block_selection_steadier": block_stab["elasticnet"] > block_stab["l1"],
        "groups_en_keeps_whole_block_more_often": float(freq["elasticnet"][block].min())
        > float(freq["l1"][block].min()),
    }
    metrics = {
        "n_train": p["n"], "n_features": p["p"], "n_test": p["n_test"], "n_seeds": len(seeds),
        "excess_test_error_mean": mean, "excess_test_error_sd": sd,
        "seeds_won_against_other": wins,
        "mean_features_kept": {r: {m: float(np.mean(v)) for m, v in d.items()}
                               for r, d in kept.items()},
        "groups_block": block.tolist(),
        "groups_block_selection_frequency": {m: freq[m][block].tolist() for m in freq},
        "groups_outside_block_mean_frequency": {
            m: float(np.delete(freq[m], block).mean()) for m in freq},
        "groups_kept_set_jaccard": stab,
        "groups_block_jaccard": block_stab,
        "groups_lams": {m: lam_groups[m] for m in ("l1", "elasticnet")},
    }

    def f(r, m):
        return f"{mean[r][m]:.3f} +- {sd[r][m]:.3f}"

    verdict = (
        f"Excess test error (test MSE / noise variance - 1, mean +- sd over {len(seeds)} seeds, "
        f"lam by 5-fold CV). Sparse truth: L1 {f('sparse', 'l1')}, elastic net "
        f"{f('sparse', 'elasticnet')}, L2 {f('sparse', 'l2')}. Dense truth: L1 {f('dense', 'l1')}, "
        f"elastic net {f('dense', 'elasticnet')}, L2 {f('dense', 'l2')}. Correlated block of "
        f"{block.size}: over {p['n_boot']} bootstrap resamples L1 kept each block member "
        f"{_span(freq['l1'][block])} of the time (which members: Jaccard {block_stab['l1']:.2f} "
        f"between resamples), elastic net {_span(freq['elasticnet'][block])} (Jaccard "
        f"{block_stab['elasticnet']:.2f}).")
    nuance = (
        "The advice is about the truth, which real data do not reveal: the regimes here are known "
        "by construction. On your own data, `regulab compare` measures the same quantities (CV "
        "error, features kept, stability across resamples) and recommends from them. In the groups "
        f"regime the test errors are close (L1 {f('groups', 'l1')}, elastic net "
        f"{f('groups', 'elasticnet')}, L2 {f('groups', 'l2')}): the difference is in which "
        "features you would report, not in accuracy. Over ALL features the kept sets are about "
        f"as unstable for both (Jaccard L1 {stab['l1']:.2f}, elastic net "
        f"{stab['elasticnet']:.2f}): at the CV-optimal lam both also keep varying noise features.")
    rows = [[r] + [f(r, m) for m in METHODS] + [
        " / ".join(f"{np.mean(kept[r][m]):.0f}" for m in METHODS)] for r in REGIMES]
    tables = [Table(caption="Excess test error by regime (mean +- sd over seeds) and mean features "
                            "kept (L1 / EN / L2)",
                    columns=["truth", "L1", "elastic net", "L2", "features kept"], rows=rows)]
    data = {"errors": errors, "freq": freq, "block": block, "group_size": block.size}
    return ClaimResult(id=ID, title=TITLE, source=SOURCE, statement=STATEMENT,
                       holds=verdict_from(checks), verdict=verdict, metrics=metrics,
                       nuance=nuance, checks=checks, tables=tables, data=data)


def _span(values) -> str:
    values = np.asarray(values)
    return f"{values.min():.0%}-{values.max():.0%}"
