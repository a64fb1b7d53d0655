"""Figures of the neural-net claim: weight histograms, sparsity against lam, saturation over the
epochs, test accuracy, the inertia experiment and Adam + L2 against AdamW."""

from __future__ import annotations

import numpy as np

from regulab.report.plots.style import (
    ACCENT,
    EN_COLOR,
    L1_COLOR,
    L2_COLOR,
    LOSS_COLOR,
    new_figure,
)

#: the variants of experiment 1, in display order: key -> label
VARIANTS = {
    "none": "SGD, no penalty",
    "l1_subgradient": "SGD + L1 (subgradient)",
    "l1_prox": "SGD + L1 (prox step)",
    "l2": "SGD + L2",
    "adam": "Adam, no decay",
    "adam_l2": "Adam + L2 (coupled)",
    "adamw": "AdamW (decoupled)",
}

#: one colour and line style per variant (SGD solid, Adam dashed)
_STYLE = {
    "none": (LOSS_COLOR, "-"),
    "l1_subgradient": (L1_COLOR, "-"),
    "l1_prox": (ACCENT, ":"),
    "l2": (L2_COLOR, "-"),
    "adam": ("#999999", "--"),
    "adam_l2": ("#e07a74", "--"),
    "adamw": (EN_COLOR, "--"),
}
_SGD = ("none", "l1_subgradient", "l1_prox", "l2")


def _label(key: str) -> str:
    return VARIANTS[key]


def plot_neural_net(result) -> dict:
    """``{name: (figure, caption)}`` for the neural-net claim."""
    d, m = result.data, result.metrics
    return {"neural_net_weights": _weights_figure(d, m),
            "neural_net_sparsity": _sparsity_figure(m),
            "neural_net_saturation": _saturation_figure(d, m),
            "neural_net_accuracy": _accuracy_figure(d, m),
            "neural_net_inertia": _inertia_figure(m),
            "neural_net_adam_vs_adamw": _adam_figure(m)}


def _weights_figure(d, m):
    """Weight histograms: values (log counts) and magnitudes on a log axis with exact zeros."""
    v, tol = m["variants"], m["tol"]
    fig, (ax1, ax2) = new_figure(11.5, 4.4, ncols=2)
    top = max(float(np.max(np.abs(d["weights"][k]))) for k in _SGD)
    edges = np.linspace(-top, top, 82)
    for k in _SGD:
        color, _ = _STYLE[k]
        counts, _ = np.histogram(d["weights"][k], bins=edges)
        ax1.stairs(np.where(counts > 0, counts, np.nan), edges, color=color,
                   lw=1.2 if k == "l1_prox" else 1.8, ls="--" if k == "l1_prox" else "-",
                   label=_label(k))
    ax1.set_yscale("log")
    ax1.set(xlabel="weight w", ylabel="count (log scale)",
            title=f"All weights, {m['n_seeds']} seeds pooled")
    ax1.legend(fontsize=8)
    lo = -8.0
    log_edges = np.linspace(lo, np.log10(top) + 0.05, 60)
    zero_x = lo - 1.6
    peak = 1
    for i, k in enumerate(_SGD):
        color, _ = _STYLE[k]
        w = np.abs(d["weights"][k])
        nonzero = w[w > 0]
        counts, _ = np.histogram(np.log10(np.maximum(nonzero, 10**lo)), bins=log_edges)
        ax2.stairs(np.where(counts > 0, counts, np.nan), log_edges, color=color, lw=1.6,
                   label=_label(k))
        zeros = int(np.sum(w == 0))
        peak = max(peak, zeros, int(counts.max()))
        if zeros:
            ax2.bar(zero_x, zeros, width=0.8, color=color, alpha=0.85)
            ax2.annotate(f"{zeros} weights\n= 0.0", (zero_x, zeros), xytext=(0, 4),
                         textcoords="offset points", fontsize=8, color=color, ha="center",
                         va="bottom")
    ax2.set_yscale("log")
    ax2.set_ylim(0.7, peak * 8)
    ax2.axvline(np.log10(tol), color="k", ls=":", lw=1)
    ax2.text(np.log10(tol), peak * 6, f" {tol:g}", fontsize=8, va="top")
    ax2.axvline(np.log10(m["lr"] * m["l1"]), color=L1_COLOR, ls="--", lw=0.8)
    ax2.text(np.log10(m["lr"] * m["l1"]), peak * 2.5, "lr·l1 ", fontsize=8, color=L1_COLOR,
             va="top", ha="right")
    ax2.axvspan(zero_x + 0.6, lo - 0.1, color="0.93", lw=0)
    ticks = list(range(int(lo), int(np.ceil(np.log10(top))) + 1, 2))
    ax2.set_xticks([zero_x] + ticks, ["0.0"] + [f"1e{t}" for t in ticks])
    ax2.set(xlabel="|w| (log scale; left bar: stored exactly as 0.0)", ylabel="count (log scale)",
            title="Near zero vs exactly zero")
    return (
        fig, f"Weights after training (Nielsen lam = {m['lam_nielsen_l1']:g}). Subgradient L1 "
        f"piles weights up around lr·l1 = {m['lr'] * m['l1']:.1e} and stores "
        f"{v['l1_subgradient']['exact_zeros']} as exactly 0.0; the prox step stores "
        f"{v['l1_prox']['exact_zeros']}; L2 narrows the whole distribution (RMS "
        f"{v['none']['rms_weight']:.2f} -> {v['l2']['rms_weight']:.2f}) and stores "
        f"{v['l2']['exact_zeros']} as exactly 0.0.")


def _sparsity_figure(m):
    """Share of weights exactly 0 and below the tolerance against lam, subgradient vs prox."""
    tol = m["tol"]
    s = m["sparsity_sweep"]
    fig, ax = new_figure(6.8, 4.3)
    lams = np.asarray(s["lams_nielsen"])
    pct = lambda key: 100 * np.asarray(s[key])  # noqa: E731
    ax.plot(lams, pct("l1_prox_fraction_zero"), "o-", color=ACCENT, lw=2,
            label="prox L1: exactly 0")
    ax.plot(lams, pct("l1_prox_fraction_below_tol"), "o:", color=ACCENT, lw=1.2,
            label=f"prox L1: |w| < {tol:g}")
    ax.plot(lams, pct("l1_subgradient_fraction_below_tol"), "s-", color=L1_COLOR, lw=2,
            label=f"subgradient L1: |w| < {tol:g}")
    ax.plot(lams, pct("l1_subgradient_fraction_zero"), "s--", color=L1_COLOR, lw=1.2,
            label="subgradient L1: exactly 0")
    cross = tol / (m["lr"] * m["l1"]) * m["lam_nielsen_l1"]  # lam at which lr*l1 = tol
    if lams.min() <= cross <= lams.max():
        ax.axvline(cross, color="k", ls=":", lw=1)
        ax.text(cross, ax.get_ylim()[1] * 0.98, f" lr·l1 = {tol:g}", fontsize=8, va="top")
    ax.set_xscale("log")
    ax.set_xticks(lams, [f"{x:g}" for x in lams])
    ax.minorticks_off()
    ax.set(xlabel=f"Nielsen's lam  (l1 = lam/n, n = {m['n_train']})", ylabel="% of weights",
           title="L1: exact zeros need the prox step")
    ax.legend(fontsize=8)
    sub_zero = 100 * max(s["l1_subgradient_fraction_zero"])
    prox_zero = 100 * min(s["l1_prox_fraction_zero"])
    return (
        fig, "Fraction of weights exactly 0 and below the tolerance, against lam. Subgradient L1 "
        f"stores at most {sub_zero:.2f} % of the weights as exactly 0 at any lam, the prox step "
        f"at least {prox_zero:.1f} %; the subgradient's near-zeros hover at about lr·l1, so once "
        f"lr·l1 passes {tol:g} they stop counting as 'below {tol:g}'.")


def _saturation_figure(d, m):
    """Saturated hidden units over the epochs, per variant."""
    fig, ax = new_figure(6.8, 4.3)
    for k, curve in d["saturation"].items():
        color, ls = _STYLE[k]
        ax.plot(np.arange(len(curve)), 100 * np.asarray(curve), color=color, ls=ls,
                lw=2.4 if ls == ":" else 1.8, label=_label(k))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set(xlabel="epoch", ylabel="% saturated (|z| > 4, sigmoid' < 7 % of max)",
           title="Saturated hidden units on the training images")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    sat = {k: 100 * np.asarray(c) for k, c in d["saturation"].items()}
    return (
        fig, f"Share of (image, hidden unit) pairs with |pre-activation| > 4, mean over "
        f"{m['n_seeds']} seeds. From {sat['none'][0]:.0f} % at the N(0, 1) start, it ends at "
        f"{sat['none'][-1]:.1f} % without penalty, {sat['l2'][-1]:.1f} % with L2 and "
        f"{sat['l1_subgradient'][-1]:.1f} % with subgradient L1.")


def _accuracy_figure(d, m):
    """Test accuracy per variant: mean bars and per-seed dots."""
    v = m["variants"]
    fig, ax = new_figure(6.8, 3.8)
    keys = list(v)
    for i, k in enumerate(keys):
        color, _ = _STYLE[k]
        ax.barh(i, 100 * v[k]["test_accuracy"], color=color, alpha=0.85)
        ax.plot(100 * np.asarray(d["accuracy_by_seed"][k]), np.full(m["n_seeds"], i), "k.",
                ms=5)
        right = 100 * max(max(d["accuracy_by_seed"][k]), v[k]["test_accuracy"])
        ax.text(right + 0.3, i, f"{100 * v[k]['test_accuracy']:.1f} %", va="center",
                fontsize=8)
    ax.set_yticks(range(len(keys)), [_label(k) for k in keys])
    ax.invert_yaxis()
    low = min(min(d["accuracy_by_seed"][k]) for k in keys)
    ax.set_xlim(100 * max(0.0, low - 0.05), 102)
    ax.set(xlabel=f"test accuracy, % ({m['n_test']} images; dots: seeds)",
           title="Test accuracy per variant")
    return (
        fig, f"Bars: mean test accuracy over {m['n_seeds']} seeds; dots: each seed. Adam + L2 "
        f"uses the same weight_decay = {m['adam_weight_decay']:g} as AdamW.")


def _adam_figure(m):
    """Adam + L2 against AdamW on the tiny problem: final w / w_hat per parameter."""
    t = m["adam_vs_adamw"]
    fig, ax = new_figure(7.6, 4.2)
    n_p = len(t["w_hat"])
    x = np.arange(n_p)
    width = 0.27
    ax.bar(x - width, t["factor_ridge"], width, color="white", edgecolor=L2_COLOR, hatch="//",
           label="ridge (the L2 solution)")
    ax.bar(x, t["factor_adam_l2"], width, color=L2_COLOR, label="Adam(weight_decay=d)")
    ax.bar(x + width, t["factor_adamw"], width, color=EN_COLOR, label="AdamW(weight_decay=d)")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(x, [f"scale {s:g}\nŵ = {w:g}" for s, w in zip(t["scales"], t["w_hat"])],
                  fontsize=8)
    ax.set_ylim(0, 1.3)
    ax.set(ylabel="final w / unregularized ŵ",
           title=f"Same nominal decay d = {t['decay']:g}, different shrinkage")
    ax.legend(fontsize=8, loc="upper center", ncols=3)
    return (
        fig, "Per parameter of a least-squares problem with orthogonal features of scale "
        f"{min(t['scales']):g} to {max(t['scales']):g}: Adam with coupled L2 ended within "
        f"{t['adam_l2_max_error_vs_ridge']:.1e} of the ridge solution (in w / w_hat); AdamW up to "
        f"{t['adamw_max_difference_vs_ridge']:.2f} away from it.")




def _inertia_figure(m):
    """How far the network moves when 10 training images change: absolute and relative weight
    change and the share of test predictions that change, per member seed and lam."""
    ine = m["inertia"]
    fig, axes = new_figure(14.0, 4.0, ncols=3)
    x = np.arange(len(ine["lams_nielsen"]))
    panels = (("abs_change", "||W' - W||", 1, "How far the weights move"),
              ("rel_change", "||W' - W|| / ||W||  (%)", 100, "... relative to their size"),
              ("prediction_change", "test predictions changed (%)", 100,
               "... and what the network predicts"))
    for ax, (key, ylabel, scale, title) in zip(axes, panels):
        by_seed = np.asarray(ine[f"{key}_by_seed"]) * scale
        for j in range(by_seed.shape[1]):
            ax.plot(x, by_seed[:, j], ".", color=L2_COLOR, alpha=0.5, ms=7)
        ax.plot(x, by_seed.mean(axis=1), "-o", color=L2_COLOR, lw=2, label="mean over seeds")
        ax.set_xticks(x, [f"{lam:g}" for lam in ine["lams_nielsen"]])
        ax.set(xlabel="Nielsen's lam for L2 (0 = no penalty)", ylabel=ylabel, title=title)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    j = ine["lams_nielsen"].index(ine["lam_compared"])

    def trend(key):
        a, b = ine[f"{key}_mean"][0], ine[f"{key}_mean"][j]
        return "less" if b < a else "more" if b > a else "the same"

    caption = (
        f"Retraining after replacing {ine['n_replaced']} of {m['n_train']} training images, same "
        f"initial weights and batch order. With L2 at lam = {ine['lam_compared']:g} the weights "
        f"move {trend('abs_change')} in absolute terms, {trend('rel_change')} relative to their "
        f"size, and {trend('prediction_change').replace('less', 'fewer')} "
        "test predictions change than without penalty (means over member seeds; dots: seeds).")
    return fig, caption
