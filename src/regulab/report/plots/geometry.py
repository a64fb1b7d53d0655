"""Figures of the geometry claim: the ESL Fig. 3.11-style picture and the Monte Carlo bars."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Circle, Polygon

from regulab.report.plots.style import L1_COLOR, L2_COLOR, LOSS_COLOR, new_figure


def _fmt_w(w) -> str:
    return "(" + ", ".join("0.0" if v == 0.0 else f"{v:.3f}" for v in w) + ")"


def plot_geometry(result) -> dict:
    """``{name: (figure, caption)}`` for the geometry claim."""
    d, m = result.data, result.metrics
    t = m["budget_t"]
    b = np.asarray(m["beta_hat"])
    w1 = np.asarray(m["w_l1_constrained"])
    w2 = np.asarray(m["w_l2_constrained"])
    figs = {}

    # (a) the picture
    fig, ax = new_figure(6.8, 5.6)
    ax.grid(False)
    xs, ys, Z = d["grid_x"], d["grid_y"], d["loss"]
    lv1, lv2 = m["loss_at_w_l1"], m["loss_at_w_l2"]
    levels = np.geomspace(0.04, Z.max(), 14)
    levels = levels[(np.abs(levels - lv1) > 0.08 * lv1) & (np.abs(levels - lv2) > 0.08 * lv2)]
    ax.contour(xs, ys, Z, levels=levels, colors=LOSS_COLOR, linewidths=0.6, alpha=0.55)
    ax.contour(xs, ys, Z, levels=[lv2], colors=L2_COLOR, linewidths=1.6, linestyles="--")
    ax.contour(xs, ys, Z, levels=[lv1], colors=L1_COLOR, linewidths=1.6, linestyles="--")
    ax.add_patch(Polygon([(t, 0), (0, t), (-t, 0), (0, -t)], closed=True, fc=L1_COLOR,
                         alpha=0.18, ec=L1_COLOR, lw=2))
    ax.add_patch(Circle((0, 0), t, fc=L2_COLOR, alpha=0.12, ec=L2_COLOR, lw=2))
    ax.axhline(0, color="#999999", lw=0.8, zorder=1)
    ax.axvline(0, color="#999999", lw=0.8, zorder=1)
    p1, p2 = d["path_l1"], d["path_l2"]
    ax.plot(np.r_[0, p1[:, 0], b[0]], np.r_[0, p1[:, 1], b[1]], color=L1_COLOR, lw=1.8,
            ls=":", zorder=4, label="L1 optimum as the budget t grows")
    ax.plot(np.r_[0, p2[:, 0], b[0]], np.r_[0, p2[:, 1], b[1]], color=L2_COLOR, lw=1.8,
            ls=":", zorder=4, label="L2 optimum as the budget t grows")
    ax.plot(*b, "k*", ms=13, zorder=5, label=f"least squares β̂ = {_fmt_w(b)}")
    zero = ", ".join(m["l1_zero_coordinates"]) or "none"
    ax.plot(*w1, "o", ms=10, color=L1_COLOR, mec="white", mew=1.5, zorder=6,
            label=f"L1 optimum {_fmt_w(w1)}: {zero} = 0 exactly")
    ax.plot(*w2, "s", ms=9, color=L2_COLOR, mec="white", mew=1.5, zorder=6,
            label=f"L2 optimum {_fmt_w(w2)}: none 0")
    ax.annotate(_fmt_w(w1), w1, xytext=(8, -18), textcoords="offset points", color=L1_COLOR,
                fontsize=9, fontweight="bold")
    ax.annotate(_fmt_w(w2), w2, xytext=(-88, 8), textcoords="offset points", color=L2_COLOR,
                fontsize=9, fontweight="bold")
    ax.annotate("β̂", b, xytext=(7, 5), textcoords="offset points", fontsize=11)
    ax.set_aspect("equal")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set(xlabel="w1", ylabel="w2",
           title=f"Loss contours, |w1|+|w2| ≤ {t:g} (diamond) and w1²+w2² ≤ {t:g}² (circle)")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=7.5, loc="lower right", framealpha=0.95)
    figs["geometry_contours"] = (
        fig, f"Grey: level sets of the loss (w - β̂)ᵀH(w - β̂) (feature correlation "
        f"{m['feature_correlation']:.2f}); dashed: the level set that first touches each region. "
        f"It touches the diamond at its corner {_fmt_w(w1)} ({zero} exactly 0; lam = "
        f"{m['lam_equivalent_l1']:.3f}) and the circle at {_fmt_w(w2)} (lam = "
        f"{m['lam_equivalent_l2']:.3f}). Dotted: the optima for every budget - L1 stays on the "
        f"w1 axis up to t = {m['l1_on_axis_for_budgets_up_to']:.3f}, L2 leaves the axes at once.")

    # (b) the Monte Carlo
    fig, (ax1, ax2) = new_figure(12.0, 4.6, ncols=2)
    ps = [str(p) for p in m["mc_p"]]
    x = np.arange(len(ps))
    width = 0.38
    l1 = [m["l1_fraction_with_zero"][p] for p in ps]
    l2 = [m["l2_fraction_with_zero"][p] for p in ps]
    bars1 = ax1.bar(x - width / 2, l1, width, color=L1_COLOR, label="L1")
    bars2 = ax1.bar(x + width / 2, l2, width, color=L2_COLOR, label="L2 (same ‖w‖₂)")
    for bar, p in zip(bars1, ps):
        ax1.annotate(f"{100 * m['l1_fraction_with_zero'][p]:.1f}% of trials\n"
                     f"{100 * m['l1_mean_zero_coords'][p]:.0f}% of weights",
                     (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                     xytext=(0, 3), textcoords="offset points", ha="center", fontsize=8)
    for bar, p in zip(bars2, ps):
        ax1.annotate(f"{100 * m['l2_fraction_with_zero'][p]:.0f}%",
                     (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                     xytext=(0, 3), textcoords="offset points", ha="center", fontsize=8,
                     color=L2_COLOR)
    ax1.set_xticks(x, [f"p = {p}\n({m['mc_trials'][p]} trials)" for p in ps])
    ax1.set_ylim(0, 1.22)
    ax1.set_yticks(np.linspace(0, 1, 6))
    ax1.set(ylabel="share of trials with a weight exactly 0.0",
            title=f"Random quadratic losses, lam = {m['lam_fraction']:g}·lam_max")
    ax1.legend(fontsize=8, loc="upper left")

    fr = d["fractions"]
    markers = ["o", "s", "^", "D", "v"]
    shades = ["#93b5ea", "#4f86d6", L1_COLOR, "#0d2f66", "#000000"]
    for k, p in enumerate(ps):
        ax2.plot(fr, [d["sweep_l1_any"][str(f)][p] for f in fr], marker=markers[k % 5],
                 color=shades[k % 5], lw=1.8, label=f"L1, p = {p}: trials with a 0")
        ax2.plot(fr, [d["sweep_l1_mean"][str(f)][p] for f in fr], marker=markers[k % 5],
                 color=shades[k % 5], lw=1.1, ls="--", mfc="white",
                 label=f"L1, p = {p}: weights that are 0")
    l2_all = [max(d["sweep_l2_any"][str(f)][p] for p in ps) for f in fr]
    ax2.plot(fr, l2_all, color=L2_COLOR, lw=2.5, marker="x", label="L2, every p")
    ax2.set_ylim(-0.04, 1.04)
    ax2.set(xlabel="lam / lam_max   (lam_max = ‖2Hβ̂‖∞: all-zero L1 solution)",
            ylabel="share", title="Exact zeros as lam grows")
    ax2.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
    figs["geometry_monte_carlo"] = (
        fig, "Over random quadratic losses (random correlated designs, β̂ ~ N(0, I)), the L1 "
        "solution has coordinates that are exactly 0.0 in most trials - more as lam or p "
        "grows - while the ridge solution of the same Euclidean length never does (0 exact "
        f"zeros in {m['mc_solves_per_penalty']:,} solutions).")
    return figs
