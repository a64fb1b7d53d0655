"""Figures of the gradient-table claim: the pushes along the drawn descents (the experiment) and
|gradient| against |w| on log axes, analytic and finite differences (the verification)."""

from __future__ import annotations

import numpy as np

from regulab.report.plots.style import L1_COLOR, L2_COLOR, new_figure

_SHOWN = 30  # descents drawn as thin lines (the means use every draw)


def _descent_figure(d: dict, m: dict):
    lam = m["descent_lam"]
    fig, ax = new_figure(6.4, 4.4)
    scale = lam if lam > 0 else 1.0
    for key, color, label in (("push_l1", L1_COLOR, "L1 step: lam·sign(w)"),
                              ("push_l2", L2_COLOR, "L2 step: 2·lam·w")):
        P = np.clip(np.asarray(d[key], dtype=float) / scale, 0.0, 3.0)   # diverged runs: clipped
        k = np.arange(P.shape[0])
        ax.plot(k, P[:, :_SHOWN], color=color, lw=0.6, alpha=0.35)
        ax.plot(k, np.median(P, axis=1), color=color, lw=2.4, label=f"{label} (median)")
    ax.set_ylim(-0.05, 3.05)
    ax.set(xlabel="descent step k", ylabel="push added by the penalty / lam"
           if lam > 0 else "push added by the penalty (lam = 0)",
           title=f"Pushes along {m['n_draws']} drawn descents (lam = {lam:g}, step "
           f"{m['descent_step']:g})")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=8)
    caption = (f"Thin lines: {_SHOWN} of the {m['n_draws']} descents, each from its w_hat. The L1 "
               f"push at the last step averaged {m['push_fade_l1_mean']:.3g} x its first, the L2 "
               f"push {m['push_fade_l2_mean']:.3g} x"
               + (f"; {m['diverged_l2']} L2 descents diverged (clipped at 3)"
                  if m["diverged_l2"] else "") + ".")
    return fig, caption


def plot_gradient_table(result) -> dict:
    d, m = result.data, result.metrics
    figs = {"gradient_table_descents": _descent_figure(d, m)}
    aw = np.abs(d["w"])
    fig, ax = new_figure(6.4, 4.4)
    if m["lam"] > 0:
        ax.loglog(aw, np.abs(d["an_l1"]), color=L1_COLOR, lw=2, label="L1 analytic: lam")
        ax.loglog(aw, np.abs(d["an_l2"]), color=L2_COLOR, lw=2, label="L2 analytic: 2·lam·|w|")
        pick = np.linspace(0, aw.size - 1, 40).astype(int)
        ax.loglog(aw[pick], np.abs(d["fd_l1"][pick]), "o", mfc="none", color=L1_COLOR,
                  label="L1 finite differences")
        ax.loglog(aw[pick], np.abs(d["fd_l2"][pick]), "s", mfc="none", color=L2_COLOR,
                  label="L2 finite differences")
        caption = ("Verification, not evidence: L1's gradient is flat (the same lam at |w| = "
                   "1e-4 and at 10); L2's falls in proportion to |w|. Markers: finite "
                   "differences of the penalty values.")
    else:
        ax.semilogx(aw, np.abs(d["an_l1"]), color=L1_COLOR, lw=2, label="L1 analytic (0)")
        ax.semilogx(aw, np.abs(d["an_l2"]), color=L2_COLOR, lw=2, ls="--", label="L2 analytic (0)")
        caption = "At lam = 0 both penalties and their gradients are 0 at every w."
    ax.set(xlabel="|w|", ylabel="|gradient of the penalty|",
           title=f"Gradient size against weight size (lam = {m['lam']:g})")
    ax.legend(fontsize=8)
    figs["gradient_table_loglog"] = (fig, caption)
    return figs
