"""Figures of the when-to-use and calibration claims."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from regulab.core.penalties import KINDS
from regulab.report.plots.style import (
    KIND_COLORS,
    LOSS_COLOR,
    new_figure,
)


def plot_when_to_use(result) -> dict:
    d, m = result.data, result.metrics
    regimes = list(d["errors"])
    methods = [k for k in KIND_COLORS if k in d["errors"][regimes[0]]]
    mean, se = m["excess_test_error_mean"], m["excess_test_error_se"]
    fig, ax = new_figure(7.5, 4.2)
    width = 0.26
    x = np.arange(len(regimes))
    for i, meth in enumerate(methods):
        vals = [np.asarray(d["errors"][r][meth]) for r in regimes]
        ax.bar(x + (i - 1) * width, [mean[r][meth] for r in regimes], width, color=KIND_COLORS[meth],
               alpha=0.85, label=KINDS[meth].short, yerr=[se[r][meth] for r in regimes], capsize=3)
        for j, v in enumerate(vals):
            ax.plot(np.full(v.size, x[j] + (i - 1) * width), v, "o", ms=3, color="k", alpha=0.6)
    ax.set_xticks(x, [f"{r} truth" for r in regimes])
    ax.set(ylabel="excess test error  (test MSE / noise variance - 1)",
           title=f"Which penalty wins where ({m['n_draws']} drawn truths each, lam by CV)")
    ax.legend()
    best = {r: min(methods, key=lambda k: mean[r][k]) for r in regimes}
    figs = {"when_to_use_errors": (
        fig, "Bars: mean excess test error over the drawn truths, with +-1 SE; dots: each draw. "
        "Lower is better. Lowest mean: " + ", ".join(f"{KINDS[best[r]].short} ({r} truth)"
                                                   for r in regimes) + ".")}

    fig, (ax, ax2) = new_figure(9.0, 3.2, ncols=2)
    block = d["block"]
    mat = np.vstack([d["freq"]["l1"][block], d["freq"]["elasticnet"][block]])
    im = ax.imshow(mat, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_yticks([0, 1], [KINDS["l1"].short, KINDS["elasticnet"].short])
    ax.set_xticks(range(block.size), [f"x{j}" for j in block])
    for (i, j), v in np.ndenumerate(mat):
        ax.text(j, i, f"{v:.0%}", ha="center", va="center",
                color="white" if v < 0.6 else "black")
    ax.set(xlabel="features of the correlated true block (first draw)",
           title="How often each block member is kept")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="selection frequency")
    jac = d["block_jaccard"]
    stab, stab_se = m["groups_block_jaccard"], m["groups_block_jaccard_se"]
    for i, meth in enumerate(("l1", "elasticnet")):
        ax2.plot(np.full(jac[meth].size, i), jac[meth], "o", color=KIND_COLORS[meth], alpha=0.6)
        ax2.errorbar([i + 0.15], [stab[meth]], yerr=[stab_se[meth]], fmt="s", color="k",
                     capsize=4)
    ax2.set_xticks([0, 1], [KINDS["l1"].short, KINDS["elasticnet"].short])
    ax2.set_xlim(-0.5, 1.5)
    ax2.set(ylabel="block Jaccard between resamples", title="Stability of the block, per draw")
    figs["when_to_use_group_selection"] = (
        fig, (f"Left: selection frequency of each member of the first draw's correlated block over "
        f"{m['n_boot']} bootstrap resamples. Right: the block's Jaccard index between resamples, "
        f"one dot per draw (square: mean +-1 SE): L1 {stab['l1']:.2f} +- {stab_se['l1']:.2f}, "
        f"elastic net {stab['elasticnet']:.2f} +- {stab_se['elasticnet']:.2f} (1: the same "
        "members every time)."))
    return figs


def _fit_colors(names) -> dict:
    return {k: LOSS_COLOR if k == "ols" else KIND_COLORS[k] for k in names}


def plot_calibration(result) -> dict:
    d, m = result.data, result.metrics
    names = d["names"]
    colors = _fit_colors(names)
    return {"calibration_slope_vs_lam": _slope_path_figure(d, m, names, colors),
            "calibration_plot": _calibration_plot_figure(d, names, colors),
            "calibration_slopes_by_draw": _slopes_figure(d, m, names, colors),
            "calibration_winners_curse": _curse_figure(d, m, names, colors)}


def _slope_path_figure(d, m, names, colors):
    fig, ax = new_figure(7.0, 4.2)
    for kind in ("l2", "l1"):
        c = d["curves"][kind]
        ax.semilogx(c["lams"], c["slopes"], color=colors[kind], lw=2,
                    label=f"{names[kind]}: held-out slope")
        k = int(np.argmin(np.abs(c["lams"] - c["lam_cv"])))
        ax.plot([c["lam_cv"]], [c["slopes"][k]], "o", color=colors[kind], ms=8,
                label=f"{names[kind]} at lam by CV: {c['slopes'][k]:.2f}")
    ax.axhline(d["ols_slope_test"], color=LOSS_COLOR, ls="--",
               label=f"least squares: {d['ols_slope_test']:.2f}")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylim(0.25, 8.0)
    ax.set_yticks([0.25, 0.5, 1, 2, 4, 8], ["0.25", "0.5", "1", "2", "4", "8"])
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="lam (log scale)", ylabel="calibration slope on new data (log scale)",
           title="Slope on new data along the path (first draw; < 1: too little shrinkage)")
    ax.legend(fontsize=8)
    s0 = m["settings"][0]
    return (fig, (f"Held-out calibration slope along the {names['l2']} and {names['l1']} paths of "
                 f"the first draw (n = {s0['n']}, p = {s0['p']}, SNR {s0['snr']:.1f}); the dashed "
                 "line is least squares, whose slope is 1 only on its own training data."))


def _calibration_plot_figure(d, names, colors):
    fig, ax = new_figure(6.4, 4.4)
    sc = d["scatter"]
    fitted = {}
    for kind in ("ols", "l2"):
        pred = sc[kind]
        ax.plot(pred, sc["y"], ".", ms=3, alpha=0.4, color=colors[kind])
        b = np.polyfit(pred, sc["y"], 1)
        fitted[kind] = b[0]
        xs = np.linspace(pred.min(), pred.max(), 2)
        label = names[kind] + ("" if kind == "ols" else " (lam by CV)")
        ax.plot(xs, np.polyval(b, xs), color=colors[kind], lw=2, label=f"{label}: slope {b[0]:.2f}")
    lim = [min(sc["y"].min(), sc["ols"].min()), max(sc["y"].max(), sc["ols"].max())]
    ax.plot(lim, lim, "k:", lw=1, label="ideal: slope 1")
    ax.set(xlabel="prediction on new data", ylabel="observed y",
           title="Calibration plot on new data (first draw)")
    ax.legend(fontsize=8)
    return (fig, (f"New rows of the first draw against the predictions: the fitted line's slope "
                 f"is {fitted['ols']:.2f} for {names['ols']} and {fitted['l2']:.2f} for "
                 f"{names['l2']} (1 is ideal; below 1: predictions too spread out, above 1: too "
                 "timid)."))


def _slopes_figure(d, m, names, colors):
    fig, ax = new_figure(6.8, 4.0)
    sm, sse = m["slope_test_mean"], m["slope_test_se"]
    for i, kind in enumerate(names):
        v = np.asarray(d["slopes"][kind], dtype=float)
        ax.plot(np.full(v.size, i), v, "o", color=colors[kind], alpha=0.6)
        ax.errorbar([i + 0.2], [sm[kind]], yerr=[sse[kind]], fmt="s", color="k", capsize=4)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(range(len(names)), [names[k] for k in names])
    ax.set(ylabel="calibration slope on new data",
           title=f"Slope on new data over {m['n_draws']} drawn problems")
    return (fig, "One dot per drawn problem (square: mean +-1 SE): " + ", ".join(
        f"{names[k]} {sm[k]:.2f} +- {sse[k]:.2f}" for k in names) + "; 1 is ideal.")


def _curse_figure(d, m, names, colors):
    fig, ax = new_figure(6.4, 4.0)
    bins = np.linspace(min(v.min() for v in d["bias"].values()),
                       max(v.max() for v in d["bias"].values()), 30)
    bm, bse = m["winners_curse_mean_bias"], m["winners_curse_bias_se"]
    for kind in names:
        ax.hist(d["bias"][kind], bins=bins, histtype="step", lw=2, color=colors[kind],
                label=f"{names[kind]}: mean {bm[kind]:+.3f} +- {bse[kind]:.3f}")
    ax.axvline(0, color="k", lw=0.8)
    ax.set(xlabel="highlighted (largest) estimate - its true value",
           ylabel="simulations", title="The winner's curse")
    ax.legend(fontsize=8)
    nf = m["winners_curse_features"]
    return (fig, (f"{m['winners_curse_sims']} simulations with {nf[0]}-{nf[1]} equal true "
                 "effects: the error of each fit's largest estimate (0: unbiased; mean +- SE in "
                 "the legend)."))
