"""Figures of the geometry claim: the ESL Fig. 3.11-style picture and the Monte Carlo bars."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Circle, Polygon

from regulab.report.plots.style import L1_COLOR, L2_COLOR, LOSS_COLOR, new_figure


def _fmt_w(w) -> str:
    return "(" + ", ".join("0.0" if v == 0.0 else f"{v:.3g}" for v in w) + ")"


def _contour_caption(m: dict) -> str:
    w1, w2 = m["w_l1_constrained"], m["w_l2_constrained"]
    zero = " and ".join(m["l1_zero_coordinates"])
    touch1 = (f"at its corner {_fmt_w(w1)} ({zero} exactly 0)" if zero else
              f"on an edge at {_fmt_w(w1)} (both weights non-zero)")
    touch2 = (f"the circle at {_fmt_w(w2)} (lam = {m['lam_equivalent_l2']:.3f})"
              if m["circle_binds"] else
              "nothing on the circle: it does not bind (t >= ||β̂||₂), so the L2 optimum is β̂")
    knot = m["l1_on_axis_for_budgets_up_to"]
    path = (f"L1 is on an axis for budgets up to t = {knot:.3f}" if knot > 0 else
            "L1 is on no axis for any budget")
    l2 = ("L2 never is" if m["l2_on_axis_budget_fraction"] == 0 else
          f"L2 is for {100 * m['l2_on_axis_budget_fraction']:.0f}% of them")
    return (f"The first of {m['n_draws_2d']} drawn problems. Grey: level sets of the loss "
            f"(w - β̂)ᵀH(w - β̂) (feature correlation {m['feature_correlation']:.2f}); dashed: "
            "the "
            f"level set that first touches each region. It touches the diamond {touch1}, lam = "
            f"{m['lam_equivalent_l1']:.3f}, and {touch2}. Dotted: the optima for every budget - "
            f"{path}; {l2}. Over all drawn problems the L1 optimum was on an axis in "
            f"{100 * m['draws_l1_on_axis_share']:.1f}%, the L2 optimum in "
            f"{100 * m['draws_l2_on_axis_share']:.1f}%.")


def _contours(m: dict, d: dict):
    t = m["budget_t"]
    b = np.asarray(m["beta_hat"])
    w1 = np.asarray(m["w_l1_constrained"])
    w2 = np.asarray(m["w_l2_constrained"])
    fig, ax = new_figure(6.8, 5.6)
    ax.grid(False)
    xs, ys, Z = d["grid_x"], d["grid_y"], d["loss"]
    lv1, lv2 = m["loss_at_w_l1"], m["loss_at_w_l2"]
    levels = np.geomspace(max(Z.max() * 1e-3, 1e-12), Z.max(), 14)
    for lv in (lv1, lv2):
        if lv > 0:
            levels = levels[np.abs(levels - lv) > 0.08 * lv]
    ax.contour(xs, ys, Z, levels=levels, colors=LOSS_COLOR, linewidths=0.6, alpha=0.55)
    for lv, color in ((lv2, L2_COLOR), (lv1, L1_COLOR)):
        if Z.min() < lv < Z.max():
            ax.contour(xs, ys, Z, levels=[lv], colors=color, linewidths=1.6, linestyles="--")
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
    zero = " and ".join(m["l1_zero_coordinates"])
    ax.plot(*w1, "o", ms=10, color=L1_COLOR, mec="white", mew=1.5, zorder=6,
            label=f"L1 optimum {_fmt_w(w1)}: " + (f"{zero} = 0 exactly" if zero
                                                   else "both non-zero"))
    ax.plot(*w2, "s", ms=9, color=L2_COLOR, mec="white", mew=1.5, zorder=6,
            label=f"L2 optimum {_fmt_w(w2)}: " + (" and ".join(m["l2_zero_coordinates"])
                                                   + " = 0" if m["l2_zero_coordinates"]
                                                   else "both non-zero"))
    ax.annotate("β̂", b, xytext=(7, 5), textcoords="offset points", fontsize=11)
    ax.set_aspect("equal")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set(xlabel="w1", ylabel="w2",
           title=f"Loss contours, |w1|+|w2| ≤ {t:.3g} (diamond) and w1²+w2² ≤ {t:.3g}² "
           "(circle)")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=7.5, loc="lower right", framealpha=0.95)
    if t < 0.15 * (xs[-1] - xs[0]):
        _zoom(ax, m, w1, w2, t)
    return fig


def _zoom(ax, m, w1, w2, t):
    """A small budget is a dot at the full scale: show the diamond and the circle enlarged."""
    ins = ax.inset_axes([0.03, 0.62, 0.34, 0.34])
    ins.add_patch(Polygon([(t, 0), (0, t), (-t, 0), (0, -t)], closed=True, fc=L1_COLOR,
                          alpha=0.18, ec=L1_COLOR, lw=1.5))
    ins.add_patch(Circle((0, 0), t, fc=L2_COLOR, alpha=0.12, ec=L2_COLOR, lw=1.5))
    ins.plot(*w1, "o", ms=7, color=L1_COLOR, mec="white")
    ins.plot(*w2, "s", ms=6, color=L2_COLOR, mec="white")
    ins.axhline(0, color="#999999", lw=0.6)
    ins.axvline(0, color="#999999", lw=0.6)
    ins.set_xlim(-1.3 * t, 1.3 * t)
    ins.set_ylim(-1.3 * t, 1.3 * t)
    ins.set_aspect("equal")
    ins.set_xticks([])
    ins.set_yticks([])
    ins.set_title(f"enlarged: t = {t:.3g}", fontsize=7)


def _monte_carlo(m: dict, d: dict):
    fig, (ax1, ax2) = new_figure(12.0, 4.6, ncols=2)
    ps = [str(p) for p in m["mc_p"]]
    x = np.arange(len(ps))
    width = 0.38
    l1 = [m["l1_fraction_with_zero"][p] for p in ps]
    l2 = [m["l2_fraction_with_zero"][p] for p in ps]
    bars1 = ax1.bar(x - width / 2, l1, width, color=L1_COLOR, label="L1",
                    yerr=[m["l1_fraction_with_zero_se"][p] for p in ps], capsize=3)
    bars2 = ax1.bar(x + width / 2, l2, width, color=L2_COLOR, label="L2 (same ‖w‖₂)",
                    yerr=[m["l2_fraction_with_zero_se"][p] for p in ps], capsize=3)
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
    ax1.axhline(0.5, color="k", lw=0.8, ls=":", label="half of the trials")
    ax1.set_xticks(x, [f"p = {p}\n({m['mc_trials'][p]} trials)" for p in ps])
    ax1.set_ylim(0, 1.22)
    ax1.set_yticks(np.linspace(0, 1, 6))
    ax1.set(ylabel="share of trials with a weight exactly 0.0 (± SE)",
            title=f"Random quadratic losses, lam = {m['lam_fraction']:g}·lam_max")
    ax1.legend(fontsize=8, loc="upper left")

    fr = [f for f in d["fractions"] if 0 < f < 1]
    markers = ["o", "s", "^", "D", "v"]
    shades = ["#93b5ea", "#4f86d6", L1_COLOR, "#0d2f66", "#000000"]
    for k, p in enumerate(ps):
        ax2.plot(fr, [d["sweep_l1_any"][str(f)][p] for f in fr], marker=markers[k % 5],
                 color=shades[k % 5], lw=1.8, label=f"L1, p = {p}: trials with a 0")
        ax2.plot(fr, [d["sweep_l1_mean"][str(f)][p] for f in fr], marker=markers[k % 5],
                 color=shades[k % 5], lw=1.1, ls="--", mfc="white",
                 label=f"L1, p = {p}: weights that are 0")
    l2_all = [max(d["sweep_l2_any"][str(f)][p] for p in ps) for f in fr]
    ax2.plot(fr, l2_all, color=L2_COLOR, lw=2.5, marker="x", label="L2, largest over p")
    ax2.set_ylim(-0.04, 1.04)
    ax2.set(xlabel="lam / lam_max   (lam_max = ‖2Hβ̂‖∞: all-zero L1 solution)",
            ylabel="share", title="Exact zeros as lam grows")
    ax2.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
    shares = ", ".join(f"{100 * m['l1_fraction_with_zero'][p]:.1f}% (p = {p})" for p in ps)
    l2s = ", ".join(f"{100 * m['l2_fraction_with_zero'][p]:.1f}%" for p in ps)
    caption = (f"Over random quadratic losses (random correlated designs, β̂ ~ N(0, I)) at lam = "
               f"{m['lam_fraction']:g}·lam_max, the L1 solution had a coordinate exactly 0.0 in "
               f"{shares} of the trials; the ridge solution of the same Euclidean length in "
               f"{l2s} ({m['mc_l2_exact_zero_coordinates_total']:,} exact zeros in "
               f"{m['mc_solves_per_penalty']:,} ridge solutions over all lam fractions).")
    return fig, caption


def plot_geometry(result) -> dict:
    """``{name: (figure, caption)}`` for the geometry claim."""
    d, m = result.data, result.metrics
    return {"geometry_contours": (_contours(m, d), _contour_caption(m)),
            "geometry_monte_carlo": _monte_carlo(m, d)}
