"""Figures of the when-to-use and calibration claims."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from regulab.core.penalties import KINDS
from regulab.report.plots.style import (
    EN_COLOR,
    L1_COLOR,
    L2_COLOR,
    LOSS_COLOR,
    new_figure,
)

#: the colour of each penalty kind, in the order the bars are drawn (names: KINDS' ``short``)
COLORS = {"l1": L1_COLOR, "elasticnet": EN_COLOR, "l2": L2_COLOR}


def plot_when_to_use(result) -> dict:
    d, m = result.data, result.metrics
    regimes = list(d["errors"])
    fig, ax = new_figure(7.5, 4.2)
    width = 0.26
    x = np.arange(len(regimes))
    for i, meth in enumerate(COLORS):
        vals = [np.asarray(d["errors"][r][meth]) for r in regimes]
        means = [v.mean() for v in vals]
        ax.bar(x + (i - 1) * width, means, width, color=COLORS[meth], alpha=0.85,
               label=KINDS[meth].short)
        for j, v in enumerate(vals):
            ax.plot(np.full(v.size, x[j] + (i - 1) * width), v, "o", ms=3, color="k", alpha=0.6)
    ax.set_xticks(x, [f"{r} truth" for r in regimes])
    ax.set(ylabel="excess test error  (test MSE / noise variance - 1)",
           title=f"Which penalty wins where ({m['n_seeds']} seeds, lam by CV)")
    ax.legend()
    figs = {"when_to_use_errors": (
        fig, "Bars: mean excess test error over seeds (dots: each seed). Lower is better: L1 and "
        "elastic net win on the sparse truth, L2 on the dense one.")}

    fig, ax = new_figure(7.0, 3.0)
    block = d["block"]
    mat = np.vstack([d["freq"]["l1"][block], d["freq"]["elasticnet"][block]])
    im = ax.imshow(mat, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_yticks([0, 1], [KINDS["l1"].short, KINDS["elasticnet"].short])
    ax.set_xticks(range(block.size), [f"x{j}" for j in block])
    for (i, j), v in np.ndenumerate(mat):
        ax.text(j, i, f"{v:.0%}", ha="center", va="center",
                color="white" if v < 0.6 else "black")
    ax.set(xlabel="features of the correlated true block",
           title="How often each block member is kept across bootstrap resamples")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="selection frequency")
    stab = m["groups_block_jaccard"]
    figs["when_to_use_group_selection"] = (
        fig, f"L1 keeps a changing subset of the correlated block (Jaccard "
        f"{stab['l1']:.2f}); elastic net keeps the block together (Jaccard "
        f"{stab['elasticnet']:.2f}).")
    return figs


def plot_calibration(result) -> dict:
    d, m = result.data, result.metrics
    figs = {}
    fig, ax = new_figure(7.0, 4.2)
    for name, color in (("ridge", L2_COLOR), ("lasso", L1_COLOR)):
        c = d["curves"][name]
        ax.semilogx(c["lams"], c["slopes"], color=color, lw=2, label=f"{name}: held-out slope")
        k = int(np.argmin(np.abs(c["lams"] - c["lam_cv"])))
        ax.plot([c["lam_cv"]], [c["slopes"][k]], "o", color=color, ms=8,
                label=f"{name} at lam by CV: {c['slopes'][k]:.2f}")
    ax.axhline(d["ols_slope_test"], color=LOSS_COLOR, ls="--",
               label=f"least squares: {d['ols_slope_test']:.2f}")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylim(0.25, 8.0)
    ax.set_yticks([0.25, 0.5, 1, 2, 4, 8], ["0.25", "0.5", "1", "2", "4", "8"])
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="lam (log scale)", ylabel="calibration slope on new data (log scale)",
           title="Too little shrinkage: slope < 1; too much: slope > 1")
    ax.legend(fontsize=8)
    figs["calibration_slope_vs_lam"] = (
        fig, "Held-out calibration slope along the ridge and lasso paths (first seed); the dashed "
        "line is least squares, which is 1 only on its own training data.")

    fig, ax = new_figure(6.4, 4.4)
    sc = d["scatter"]
    for name, color in (("ols", LOSS_COLOR), ("ridge", L2_COLOR)):
        pred = sc[name]
        ax.plot(pred, sc["y"], ".", ms=3, alpha=0.4, color=color)
        b = np.polyfit(pred, sc["y"], 1)
        xs = np.linspace(pred.min(), pred.max(), 2)
        label = "least squares" if name == "ols" else "ridge (lam by CV)"
        ax.plot(xs, np.polyval(b, xs), color=color, lw=2, label=f"{label}: slope {b[0]:.2f}")
    lim = [min(sc["y"].min(), sc["ols"].min()), max(sc["y"].max(), sc["ols"].max())]
    ax.plot(lim, lim, "k:", lw=1, label="ideal: slope 1")
    ax.set(xlabel="prediction on new data", ylabel="observed y",
           title="Calibration plot on new data")
    ax.legend(fontsize=8)
    figs["calibration_plot"] = (
        fig, "Least squares' predictions are too spread out on new data (slope < 1); ridge "
        "pre-shrinks them.")

    fig, ax = new_figure(6.4, 4.0)
    bins = np.linspace(min(v.min() for v in d["bias"].values()),
                       max(v.max() for v in d["bias"].values()), 30)
    for name, color in (("ols", LOSS_COLOR), ("ridge", L2_COLOR), ("lasso", L1_COLOR)):
        v = d["bias"][name]
        ax.hist(v, bins=bins, histtype="step", lw=2, color=color,
                label=f"{name}: mean {v.mean():+.3f}")
    ax.axvline(0, color="k", lw=0.8)
    ax.set(xlabel="estimate of the top-ranked feature - its true value",
           ylabel="simulations", title="The winner's curse")
    ax.legend(fontsize=8)
    figs["calibration_winners_curse"] = (
        fig, f"{m['winners_curse_sims']} simulations with "
        f"{m['winners_curse_features']} equal effects: the feature with the largest estimate is over-estimated; shrinkage "
        "pulls it back.")
    return figs
