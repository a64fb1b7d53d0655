"""Figures of the one-weight claim: seed 000's four pictures and the threshold picture."""

from __future__ import annotations

from regulab.report.plots.style import L1_COLOR, L2_COLOR, LOSS_COLOR, new_figure


def plot_one_weight(result) -> dict:
    """``{name: (figure, caption)}`` for the one-weight claim."""
    d, m = result.data, result.metrics
    lam = m["lam"]
    figs = {}

    fig, ax = new_figure()
    ax.plot(d["grid"], d["mse"], color=LOSS_COLOR, lw=2, label="MSE(w)")
    ax.axvline(m["w_true"], color="k", ls=":", lw=1)
    ax.plot([m["mse_argmin_grid"]], [m["mse_min"]], "o", color="k",
            label=f"minimum at w = {m['mse_argmin_grid']:g}")
    ax.set(xlabel="w", ylabel="mean squared error", title="Data loss of y = w·x")
    ax.legend()
    figs["one_weight_mse"] = (fig, f"MSE over a grid of w: 0 at the true w = {m['w_true']:g}.")

    fig, ax = new_figure()
    ax.plot(d["grid"], abs(d["grid"]), color=L1_COLOR, lw=2, label="L1: |w|")
    ax.plot(d["grid"], d["grid"] ** 2, color=L2_COLOR, lw=2, label="L2: w²")
    ax.set(xlabel="w", ylabel="penalty", title="The two penalties")
    ax.legend()
    figs["one_weight_penalties"] = (
        fig, "|w| grows linearly from 0 with a corner at 0; w² is flat at 0 and curves up.")

    fig, ax = new_figure()
    ax.plot(d["grid"], d["mse"], color=LOSS_COLOR, lw=1, ls="--", label="MSE")
    ax.plot(d["grid"], d["reg_l1"], color=L1_COLOR, lw=2, label=f"MSE + {lam:g}·|w|")
    ax.plot(d["grid"], d["reg_l2"], color=L2_COLOR, lw=2, label=f"MSE + {lam:g}·w²")
    y1 = d["reg_l1"].min()
    y2 = d["reg_l2"].min()
    ax.plot([m["w_l1_grid"]], [y1], "o", ms=9, color=L1_COLOR,
            label=f"L1 minimum: w = {m['w_l1_grid']:g}")
    ax.plot([m["w_l2_grid"]], [y2], "s", ms=8, color=L2_COLOR,
            label=f"L2 minimum: w = {m['w_l2_grid']:.3f}")
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set(xlabel="w", ylabel="regularized loss", title=f"Regularized losses, lam = {lam:g}")
    ax.legend(fontsize=8)
    figs["one_weight_regularized"] = (
        fig, f"For the same lam = {lam:g}, the L1 curve is lowest at w = {m['w_l1_grid']:g}; "
        f"the L2 curve at w = {m['w_l2_grid']:.3f}.")

    fig, ax = new_figure()
    ax.plot(d["lams"], d["sweep_l1"], color=L1_COLOR, lw=2, label="w_L1(lam)")
    ax.plot(d["lams"], d["sweep_l2"], color=L2_COLOR, lw=2, label="w_L2(lam)")
    ax.axvline(m["lam_threshold"], color="k", ls="--", lw=1,
               label=f"lam* = 2·mean(x²)·|ŵ| = {m['lam_threshold']:.3f}")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.axvline(lam, color="#888", ls=":", lw=1, label=f"chosen lam = {lam:g}")
    ax.set(xlabel="lam", ylabel="minimizing w", title="Where each minimizer goes as lam grows")
    ax.legend(fontsize=8)
    figs["one_weight_threshold"] = (
        fig, f"L1's minimizer falls linearly and is exactly 0 for every lam ≥ lam* = "
        f"{m['lam_threshold']:.3f}; L2's decays like ŵ·a/(a+lam) and never reaches 0.")
    return figs
