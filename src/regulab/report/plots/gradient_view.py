"""Figures of the gradient-view claim: trajectories, and the push each penalty adds."""

from __future__ import annotations

import numpy as np

from regulab.report.plots.style import ACCENT, L1_COLOR, L2_COLOR, new_figure


def _caption(m: dict) -> str:
    """What the trajectories show, from the metrics (true whichever way the runs went)."""
    def ran(key, text):
        return (f"{text.split(':')[0]}: diverged" if m[f"{key}_diverged"] else text)

    c = m["subgradient_sign_changes_in_tail"]
    k = m["ista_iterations_to_zero"]
    ista = (f"ISTA: exactly 0.0 from iteration {k} on" if k is not None and m["ista_stays_zero"]
            else f"ISTA: {m['ista_exact_zeros']} exact zeros, ends at w = {m['ista_final_w']:.3g}")
    return "; ".join([
        ran("subgradient", f"Subgradient descent: {m['subgradient_exact_zeros']} exact zeros, "
            f"{c} sign change{'s' if c != 1 else ''} in the last {m['tail']} iterations"),
        ran("ista", ista),
        ran("l2", f"L2 gradient descent: ends at w = {m['l2_final_w']:.4g} (w_L2 = "
            f"{m['l2_closed_form']:.4g}), {m['l2_exact_zeros']} exact zeros")]) + "."


def _label(text: str, m: dict, key: str) -> str:
    return f"{text}: diverged" if m[f"{key}_diverged"] else text


def plot_gradient_view(result) -> dict:
    d, m = result.data, result.metrics
    series = [
        (_label("subgradient (constant step)", m, "subgradient"), d["subgradient"], L1_COLOR),
        (_label("subgradient (step/√k)", m, "subgradient_sqrt"), d["subgradient_sqrt"],
         "#6fa0e8"),
        (_label("ISTA (prox of L1)", m, "ista"), d["ista"], ACCENT),
        (_label("gradient descent, L2", m, "l2"), d["l2"], L2_COLOR),
    ]
    figs = {}
    fig, (ax1, ax2) = new_figure(11.0, 4.2, ncols=2)
    # a diverging run would flatten the others: keep the window of the start and the minimizers
    # (and of step*lam, the size of the oscillations) and leave out what lies beyond it
    span = 1.5 * max(abs(m["w0"]), abs(m["w_hat"]), abs(m["l2_closed_form"]),
                     m["step"] * m["lam"])
    for label, w, color in series:
        ax1.plot(np.arange(len(w)), np.where(np.abs(w) <= span, w, np.nan), color=color,
                 lw=1.5, label=label)
    ax1.axhline(0.0, color="k", lw=0.8)
    lo = max(min(float(np.min(w)) for _, w, _ in series), -span)
    hi = min(max(float(np.max(w)) for _, w, _ in series), span)
    ax1.set_ylim(lo - 0.05 * (hi - lo) - 1e-12, hi + 0.05 * (hi - lo) + 1e-12)
    ax1.set(xlabel="iteration k", ylabel="w_k",
            title=f"Iterates, lam = {m['lam']:g}, step = {m['step']:g}")
    ax1.legend(fontsize=8)

    floor = 1e-12
    top = max(3.0, 3.0 * max(float(np.max(np.abs(w))) for _, w, _ in series))
    for label, w, color in series:
        a = np.abs(w)
        k = np.arange(len(w))
        ax2.semilogy(k, np.where(a == 0.0, np.nan, a), color=color, lw=1.2, label=label)
        zeros = np.flatnonzero(a == 0.0)
        if zeros.size:
            ax2.plot(k[zeros], np.full(zeros.size, floor), color=color, lw=5, alpha=0.8,
                     solid_capstyle="butt", label=f"{label}: exactly 0.0")
    ax2.axhline(floor, color="k", lw=0.6, ls=":")
    ax2.set_ylim(floor / 3, top)
    ax2.set(xlabel="iteration k", ylabel="|w_k|   (bar on the floor: w_k == 0.0)",
            title="Distance to 0 on a log scale")
    ax2.legend(fontsize=7, loc="center left", bbox_to_anchor=(0.02, 0.42))
    figs["gradient_view_trajectories"] = (fig, _caption(m))

    fig, ax = new_figure()
    ax.plot(d["w_axis"], d["l1_push"], color=L1_COLOR, lw=2, label="L1: d/dw lam|w| = lam·sign(w)")
    ax.plot(d["w_axis"], d["l2_push"], color=L2_COLOR, lw=2, label="L2: d/dw lam·w² = 2·lam·w")
    ax.plot([0, 0], [-m["lam"], m["lam"]], color=L1_COLOR, lw=5, alpha=0.3,
            label="L1 subdifferential at 0: [-lam, lam]")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="w", ylabel="gradient added by the penalty",
           title=f"The push towards 0 (lam = {m['lam']:g})")
    ax.legend(fontsize=8)
    figs["gradient_view_push"] = (
        fig, f"At lam = {m['lam']:g}: L1's push is lam·sign(w), the same size at every w except "
        "0; L2's is 2·lam·w, shrinking in proportion to w and 0 at 0." if m["lam"] > 0 else
        "At lam = 0 neither penalty adds a push: both gradients are 0 at every w.")
    return figs
