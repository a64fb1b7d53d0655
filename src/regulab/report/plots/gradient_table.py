"""Figure of the gradient-table claim: |gradient| against |w| on log axes, measured and analytic."""

from __future__ import annotations

import numpy as np

from regulab.report.plots.style import L1_COLOR, L2_COLOR, new_figure


def plot_gradient_table(result) -> dict:
    d, m = result.data, result.metrics
    aw = np.abs(d["w"])
    fig, ax = new_figure(6.4, 4.4)
    ax.loglog(aw, np.abs(d["an_l1"]), color=L1_COLOR, lw=2, label="L1 analytic: lam")
    ax.loglog(aw, np.abs(d["an_l2"]), color=L2_COLOR, lw=2, label="L2 analytic: 2·lam·|w|")
    pick = np.linspace(0, aw.size - 1, 40).astype(int)
    ax.loglog(aw[pick], np.abs(d["fd_l1"][pick]), "o", mfc="none", color=L1_COLOR,
              label="L1 finite differences")
    ax.loglog(aw[pick], np.abs(d["fd_l2"][pick]), "s", mfc="none", color=L2_COLOR,
              label="L2 finite differences")
    ax.set(xlabel="|w|", ylabel="|gradient of the penalty|",
           title=f"Gradient size against weight size (lam = {m['lam']:g})")
    ax.legend(fontsize=8)
    return {"gradient_table_loglog": (
        fig, "L1's gradient is flat (the same lam at |w| = 1e-4 and at 10); L2's falls in "
        "proportion to |w|. Markers: finite differences of the penalty values.")}
