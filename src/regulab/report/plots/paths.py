"""Figures of the sparsity and choose-lambda claims: glmnet-style paths and the CV curve.

Every figure here puts ``log(lam)`` (natural log, as glmnet) on the x axis, **decreasing to the
right**: the penalty weakens and the model grows from left to right, so the curves fan out towards
the right edge, where they are labelled. A top axis gives the number of non-zero coefficients at
the ticked lams.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps

from regulab.report.plots.style import (
    ACCENT,
    L1_COLOR,
    L2_COLOR,
    LOSS_COLOR,
    new_figure,
)

LAM_LABEL = "log(lam)   (decreasing to the right: weaker penalty →)"
MIN_COLOR = "#2a9d4b"
SE_COLOR = ACCENT
FRESH_COLOR = "#2a7f8f"


# ---------------------------------------------------------------- shared helpers

def lam_x(lams) -> np.ndarray:
    """The x coordinate of every lam: its natural log (lam = 0 would be -inf; never on a grid)."""
    return np.log(np.asarray(lams, dtype=float))


def setup_lam_axis(ax, lams) -> None:
    """x = log(lam), larger lams on the left; the curves end at the right edge (their labels)."""
    x = lam_x(lams)
    pad = 0.02 * (x.max() - x.min() or 1.0)
    ax.set_xlim(x.max() + pad, x.min())
    ax.set_xlabel(LAM_LABEL)


def add_nnz_axis(ax, lams, nnz, n_ticks: int = 9, label: str = "non-zero coefficients"):
    """A top axis showing ``nnz`` at ``n_ticks`` lams spread evenly over the grid."""
    lams = np.asarray(lams, dtype=float)
    idx = np.unique(np.linspace(0, lams.size - 1, min(n_ticks, lams.size)).round().astype(int))
    top = ax.secondary_xaxis("top")
    top.set_xticks(lam_x(lams[idx]), labels=[str(int(nnz[i])) for i in idx])
    top.set_xlabel(label, fontsize=9)
    top.tick_params(labelsize=8)
    return top


def spread_positions(y, min_gap: float, lo: float, hi: float) -> np.ndarray:
    """Label heights near ``y`` with at least ``min_gap`` between neighbours, inside [lo, hi]
    as far as the number of labels allows (order of ``y`` is kept)."""
    y = np.asarray(y, dtype=float)
    order = np.argsort(y)
    pos = y[order].copy()
    n = pos.size
    if n == 0:
        return pos
    for _ in range(50):
        for i in range(1, n):                    # push up
            pos[i] = max(pos[i], pos[i - 1] + min_gap)
        if pos[-1] > hi:                         # too high: push down from the top
            pos[-1] = hi
            for i in range(n - 2, -1, -1):
                pos[i] = min(pos[i], pos[i + 1] - min_gap)
        if pos[0] < lo:
            pos += min(lo - pos[0], max(0.0, hi - pos[-1]))
        # pull each label back towards its curve where its neighbours leave room
        moved = False
        for i in range(n):
            target = y[order][i]
            lower = pos[i - 1] + min_gap if i > 0 else -np.inf
            upper = pos[i + 1] - min_gap if i < n - 1 else np.inf
            new = min(max(target, lower), upper)
            if abs(new - pos[i]) > 1e-12 and lower <= upper:
                pos[i], moved = new, True
        if not moved:
            break
    out = np.empty(n)
    out[order] = pos
    return out


def label_line_ends(ax, y_end, names, colors, fontsize: float = 8,
                    min_gap_frac: float = 0.055) -> None:
    """Write ``names`` just right of the axes at the height of each curve's right end, spread
    so the labels do not overlap, each joined to its curve by a thin line."""
    y_end = np.asarray(y_end, dtype=float)
    lo, hi = ax.get_ylim()
    pos = spread_positions(y_end, min_gap_frac * (hi - lo), lo, hi)
    trans = ax.get_yaxis_transform()  # x in axes fraction, y in data
    for y0, yl, name, c in zip(y_end, pos, names, colors):
        ax.annotate(name, xy=(1.0, y0), xycoords=trans, xytext=(1.03, yl), textcoords=trans,
                    fontsize=fontsize, color=c, va="center", ha="left", annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "color": c, "lw": 0.6, "shrinkA": 0,
                                "shrinkB": 1})


def feature_colors(n: int) -> list:
    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def draw_path(ax, lams, coefs, names=None, colors=None, *, label_ends=True, lw=1.4, **kw):
    """Coefficient curves (one per row of ``coefs``) against log(lam), labelled at the right."""
    x = lam_x(lams)
    p = coefs.shape[0]
    colors = colors or feature_colors(p)
    for j in range(p):
        ax.plot(x, coefs[j], color=colors[j], lw=lw, **kw)
    ax.axhline(0.0, color="k", lw=0.6)
    setup_lam_axis(ax, lams)
    if label_ends and names is not None:
        label_line_ends(ax, coefs[:, -1], names, colors)


def mark_lams(ax, lams_marks: dict) -> None:
    """Vertical lines at named lams: ``{label: (lam, color, linestyle)}``."""
    for label, (lam, color, ls) in lams_marks.items():
        ax.axvline(np.log(lam), color=color, ls=ls, lw=1.2, label=label)


# ---------------------------------------------------------------- sparsity

def plot_sparsity(result) -> dict:
    """``{name: (figure, caption)}`` for the sparsity claim."""
    d, m = result.data, result.metrics
    return {"sparsity_paths_diabetes": _diabetes_paths_figure(d, m),
            "sparsity_support_recovery": _support_figure(d, m),
            "sparsity_histograms": _histograms_figure(d, m),
            "sparsity_draws": draws_figure(m)}


def _diabetes_paths_figure(d: dict, m: dict):
    """glmnet-style paths on diabetes, L1 | L2."""
    names = d["names_diabetes"]
    fig, (a1, a2) = new_figure(13.0, 5.0, ncols=2)
    for ax, key, pen, color in ((a1, "diabetes_l1", "L1 (lasso)", L1_COLOR),
                                (a2, "diabetes_l2", "L2 (ridge)", L2_COLOR)):
        pd = d[key]
        draw_path(ax, pd["lams"], pd["coefs"], names)
        add_nnz_axis(ax, pd["lams"], pd["nnz"])
        ax.set_ylabel("coefficient (standardized features)")
        ax.set_title(f"{pen} path on diabetes", color=color, fontsize=11, loc="left")
    dm = m["diabetes"]
    l2_zeros = dm["l2_exact_zeros_on_path"]
    l2_txt = (f"all {dm['p']} non-zero at every lam (smallest |w| on the path "
              f"{dm['l2_min_abs_on_path']:.1e})" if l2_zeros == 0 else
              f"{l2_zeros} exact zeros on the path")
    return (
        fig, (f"Coefficient paths on diabetes (standardized), x = log(lam) decreasing to the right, "
        f"top axis = number of non-zero coefficients. L1: all {dm['p']} exactly 0 at lam_max = "
        f"{dm['l1_lam_max']:.4g}, then features enter ({', '.join(dm['l1_entry_order'][:3])} "
        f"first). L2: {l2_txt}."))


def _support_figure(d: dict, m: dict):
    """The L1 path of the first drawn problem and its support recovery."""
    s = m["synthetic"]
    pl = d["synthetic_l1"]
    support = np.asarray(d["support"])
    p = pl["coefs"].shape[0]
    is_true = np.zeros(p, dtype=bool)
    is_true[support] = True
    fig, (a1, a2) = new_figure(13.0, 4.8, ncols=2)
    x = lam_x(pl["lams"])
    for j in np.flatnonzero(~is_true):
        a1.plot(x, pl["coefs"][j], color="#9a9a9a", lw=0.8, alpha=0.8)
    tcolors = feature_colors(10)[: len(support)]
    for c, j in zip(tcolors, support):
        a1.plot(x, pl["coefs"][j], color=c, lw=2.0)
    a1.plot([], [], color="#9a9a9a", lw=0.8, label=f"{p - len(support)} irrelevant features")
    a1.axhline(0.0, color="k", lw=0.6)
    setup_lam_axis(a1, pl["lams"])
    marks = {f"CV lam_min (nnz {s['l1_nnz_at_min']})": (s["l1_lam_min"], MIN_COLOR, "--"),
             f"CV lam_1se (nnz {s['l1_nnz_at_1se']})": (s["l1_lam_1se"], SE_COLOR, "-")}
    mark_lams(a1, marks)
    label_line_ends(a1, pl["coefs"][support, -1], [f"x{j} (true)" for j in support],
                    tcolors)
    add_nnz_axis(a1, pl["lams"], pl["nnz"])
    a1.set(ylabel="L1 coefficient")
    a1.set_title(f"L1 path, first drawn problem (n = {s['n']}, p = {s['p']}, "
                 f"{s['k_true']} true)", fontsize=11, loc="left")
    a1.legend(fontsize=8, loc="upper left")

    a2.plot(x, d["recall"], color=L1_COLOR, lw=2, label="recall (true features kept)")
    a2.plot(x, d["precision"], color=L2_COLOR, lw=2,
            label="precision (kept features that are true)")
    mark_lams(a2, marks)
    setup_lam_axis(a2, pl["lams"])
    add_nnz_axis(a2, pl["lams"], pl["nnz"])
    a2.set_ylim(-0.03, 1.05)
    a2.set(ylabel="share")
    a2.set_title("Support recovery of L1 along the path", fontsize=11, loc="left")
    for i, (lbl, col) in ((d["idx_min"], ("min", MIN_COLOR)), (d["idx_1se"], ("1se", SE_COLOR))):
        prec_i = d["precision"][i]   # NaN where L1 kept nothing: annotate at the recall instead
        a2.annotate(f"{lbl}: P = {_f2(prec_i)}, R = {d['recall'][i]:.2f}",
                    xy=(x[i], prec_i if np.isfinite(prec_i) else d["recall"][i]), xytext=(6, 8),
                    textcoords="offset points", fontsize=8, color=col)
    # "best": matplotlib keeps the legend off the lines and the two annotations (each draw puts
    # the precision curve, and so the annotations, elsewhere; "center right" covered them)
    a2.legend(fontsize=8, loc="best")
    return (
        fig, (f"Left: the L1 path of the first drawn problem, true features coloured, "
        f"{p - len(support)} irrelevant ones grey. Right: precision and recall of the selected "
        f"set along the path. At lam_1se L1 keeps {s['l1_nnz_at_1se']} features: recall "
        f"{s['recall_at_1se']:.2f}, precision {_f2(s['precision_at_1se'])}; at lam_min "
        f"{s['l1_nnz_at_min']} features, precision {_f2(s['precision_at_min'])}."))


def _histograms_figure(d: dict, m: dict):
    """|w| on a log axis, with exact zeros in their own bar."""
    s = m["synthetic"]
    fig, axes = new_figure(12.0, 4.3, ncols=2)
    w1, w2 = np.asarray(d["w_l1_1se"]), np.asarray(d["w_l2_1se"])
    nz = np.concatenate([np.abs(w1[w1 != 0]), np.abs(w2[w2 != 0])])
    lo = np.floor(np.log10(nz.min())) if nz.size else -3.0
    hi = np.ceil(np.log10(nz.max())) if nz.size else 1.0
    edges = np.linspace(lo, hi, int(4 * (hi - lo)) + 1)
    zero_x = lo - 1.0
    ymax = max(np.sum(w1 == 0), np.sum(w2 == 0), 1) * 2.5
    for ax, w, name, color, lam, prof in (
            (axes[0], w1, "L1", L1_COLOR, s["l1_lam_1se"], m["l1_at_1se"]),
            (axes[1], w2, "L2", L2_COLOR, s["l2_lam_1se"], m["l2_at_1se"])):
        a = np.abs(w[w != 0])
        ax.hist(np.log10(a), bins=edges, color=color, alpha=0.85, label="|w| > 0")
        n0 = int(np.sum(w == 0))
        ax.bar([zero_x], [n0], width=0.45, color="k", alpha=0.8, label="w exactly 0")
        ax.annotate(f"{n0} of {w.size}\nexactly 0", xy=(zero_x, max(n0, 1)),
                    xytext=(0, 4), textcoords="offset points", ha="center", fontsize=9)
        ax.axvline(np.log10(prof["max_abs"] * 1e-3), color="#777", ls=":", lw=1,
                   label="1e-3 · max|w|")
        ax.set_yscale("log")
        ax.set_ylim(0.7, ymax)
        ticks = list(range(int(lo), int(hi) + 1))
        ax.set_xticks([zero_x] + ticks, labels=["0"] + [f"1e{t}" for t in ticks])
        ax.set_xlim(zero_x - 0.6, hi + 0.2)
        ax.set(xlabel="|w|  (log scale; the bar at left counts exact zeros)",
               ylabel="number of coefficients (log)")
        ax.set_title(f"{name} at its lam_1se = {lam:.3g}: {100 * prof['frac_exact_zero']:.0f} % "
                     f"exactly 0, top 20 % carry {100 * prof['top_share']:.0f} % of Σ|w|",
                     fontsize=10, loc="left", color=color)
        ax.legend(fontsize=8, loc="upper center")
    p1, p2 = m["l1_at_1se"], m["l2_at_1se"]
    return (
        fig, (f"The {s['p']} coefficients of the first drawn problem at each penalty's CV lam_1se. "
        f"L1: {p1['exact_zeros']} exact zeros, its top 20 % carry {_pct(p1['top_share'])} of "
        f"Σ|w|; L2: {p2['exact_zeros']} exact zeros, top 20 % {_pct(p2['top_share'])}, the "
        f"smallest |w| {_e1(p2['min_abs_nonzero'])}."))


def _f2(x) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{x:.2f}"


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.0f} %"


def _e1(x) -> str:
    return "-" if x is None else f"{x:.1e}"


def draws_figure(m: dict):
    """Every drawn problem's measures against the claim's thresholds, with mean ± SE."""
    rows, o, P = m["draws"], m["over_draws"], m["thresholds"]
    cols = [("zero_share", "L1: share\nexactly 0", P["min_zero_share"], L1_COLOR),
            ("top_share_l1", "L1: top 20 %\nshare of Σ|w|", P["min_top_share"], L1_COLOR),
            ("top_share_l2", "L2: top 20 %\nshare of Σ|w|", None, L2_COLOR),
            ("recall", "L1: recall", P["min_recall"], L1_COLOR),
            ("precision", "L1: precision", P["min_precision"], L1_COLOR)]
    fig, ax = new_figure(8.5, 4.2)
    jitter = np.linspace(-0.12, 0.12, max(len(rows), 1))
    for c, (key, _, thr, color) in enumerate(cols):
        vals = np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=float)
        ax.plot(c + jitter[:vals.size], vals, "o", color=color, alpha=0.55, ms=5)
        mu, se = o[key]["mean"], o[key]["se"]
        if mu is not None:
            ax.errorbar([c + 0.25], [mu], yerr=[se or 0.0], fmt="D", color="k", ms=5, capsize=3)
        if thr is not None:
            ax.plot([c - 0.3, c + 0.35], [thr, thr], color=ACCENT, lw=2)
    ax.plot([], [], color=ACCENT, lw=2, label="threshold (from the seed's words)")
    ax.errorbar([], [], yerr=[], fmt="D", color="k", label="mean ± SE over draws")
    ax.set_xticks(range(len(cols)), labels=[c[1] for c in cols], fontsize=8)
    ax.set_ylim(-0.03, 1.05)
    ax.set(ylabel="share")
    ax.set_title(f"{m['n_draws']} drawn {m['truth']} truths: L1 and L2 at their CV lam_1se",
                 fontsize=11, loc="left")
    ax.legend(fontsize=8, loc="lower left")
    return fig, (f"One dot per drawn problem (n, number of true features, correlation and SNR "
                 f"drawn from the seed), each penalty at its own CV lam_1se; black: mean ± SE; "
                 f"orange: the prediction's threshold. Mean share exactly 0: "
                 f"{_pct(o['zero_share']['mean'])}; recall {_pct(o['recall']['mean'])}, "
                 f"precision {_pct(o['precision']['mean'])}.")


# ---------------------------------------------------------------- choose-lambda

def cv_curve(ax, d: dict, folds: int, title: str, ylabel: str = "mean squared error",
             counted: tuple = ("non-zeros", "non-zero coefficients")) -> None:
    """glmnet's CV plot on ``ax``: mean CV error ± 1 SE, training error, lam_min and lam_1se.

    ``d`` holds ``lams``, ``cv_mean``, ``cv_se``, ``train_error``, ``nnz``, ``idx_min`` and
    ``idx_1se``; ``ylabel`` names the error (e.g. ``"mean log-loss"`` for a classifier);
    ``counted`` what ``nnz`` counts, in the legend and on the top axis (a multinomial model
    counts features kept in some class)."""
    lams = d["lams"]
    x = lam_x(lams)
    i0, i1 = d["idx_min"], d["idx_1se"]
    ax.errorbar(x, d["cv_mean"], yerr=d["cv_se"], fmt="o", ms=3, color=L2_COLOR,
                ecolor="#e3a09d", elinewidth=1, capsize=1.5,
                label=f"{folds}-fold CV error (mean ± 1 SE)")
    ax.plot(x, d["train_error"], color=LOSS_COLOR, lw=2, label="training error (all data)")
    ax.axhline(d["cv_mean"][i0] + d["cv_se"][i0], color="#999", ls=":", lw=1,
               label="min CV error + 1 SE")
    mark_lams(ax, {
        f"lam_min = {lams[i0]:.3g} ({d['nnz'][i0]} {counted[0]})": (lams[i0], MIN_COLOR, "--"),
        f"lam_1se = {lams[i1]:.3g} ({d['nnz'][i1]} {counted[0]})": (lams[i1], SE_COLOR, "-")})
    setup_lam_axis(ax, lams)
    add_nnz_axis(ax, lams, d["nnz"], label=counted[1])
    ax.set(ylabel=ylabel)
    ax.set_title(title, fontsize=11, loc="left")
    # "best": off the markers and lines wherever the curve leaves room (a fixed "upper right"
    # covered the CV means where the error rises toward small lam, as on the drawn problems)
    ax.legend(fontsize=8, loc="best")


def plot_choose_lambda(result) -> dict:
    """``{name: (figure, caption)}`` for the choose-lambda claim."""
    m = result.metrics
    folds = m["cv_folds"]
    dd, ds = result.data["diabetes"], result.data["synthetic"]
    md, ms = m["diabetes"], m["synthetic"]
    figs = {}

    fig, (a1, a2) = new_figure(14.0, 5.2, ncols=2)
    cv_curve(a1, dd, folds, f"L1 on diabetes (n = {md['n']}, p = {md['p']})")
    cv_curve(a2, ds, m["draw_folds"], f"L1 on the first drawn problem (n = {ms['n']}, p = {ms['p']}, "
             f"{ms['k_true']} true)")
    if "test_mse" in ds:   # the same fits scored on fresh rows from the same law
        a2.plot(lam_x(ds["lams"]), ds["test_mse"], color=FRESH_COLOR, lw=2,
                label=f"test error on {ms['n_test']} fresh rows")
        a2.legend(fontsize=8, loc="best")  # as in cv_curve
    figs["choose_lambda_cv_curve"] = (
        fig, (f"glmnet-style CV curves, x = log(lam) decreasing to the right, top axis = number of "
        f"non-zeros. Training error falls as lam decreases; the CV error at lam_max and at the "
        f"smallest lam lies {md['cv_excess_at_lam_max_in_se']:.1f} and "
        f"{md['cv_excess_at_smallest_lam_in_se']:.2f} SE above its minimum on diabetes, "
        f"{ms['cv_excess_at_lam_max_in_se']:.1f} and {ms['cv_excess_at_smallest_lam_in_se']:.2f} "
        f"SE in the first drawn problem. lam_1se is the largest lam whose CV error is within one "
        f"SE of the minimum: diabetes {md['lam_1se']:.3g} ({md['nnz_at_1se']} non-zeros) vs "
        f"lam_min {md['lam_min']:.3g} ({md['nnz_at_min']}); drawn problem {ms['lam_1se']:.3g} "
        f"({ms['nnz_at_1se']}) vs {ms['lam_min']:.3g} ({ms['nnz_at_min']})."))

    # the trade-off itself: EmpLoss against Complexity, one point per lam, slope -lam
    d = dd
    lams, x = d["lams"], lam_x(d["lams"])
    i0, i1 = d["idx_min"], d["idx_1se"]
    fig, ax = new_figure(7.5, 4.8)
    c, e = d["complexity"], d["train_error"]
    ax.plot(c, e, color="#bbb", lw=1, zorder=2)
    sc = ax.scatter(c, e, c=x, cmap="viridis", s=14, zorder=3)
    fig.colorbar(sc, ax=ax, label="log(lam)")
    for i, col, name in ((i0, MIN_COLOR, "lam_min"), (i1, SE_COLOR, "lam_1se")):
        span = 0.25 * (c.max() - c.min())
        cc = np.array([c[i] - span, c[i] + span])
        ax.plot(cc, e[i] - lams[i] * (cc - c[i]), color=col, lw=1.5,
                label=f"slope −lam at {name} = {lams[i]:.3g}")
        ax.plot([c[i]], [e[i]], "o", color=col, ms=7, zorder=4)
    ax.set_ylim(e.min() - 0.05 * (e.max() - e.min()), e.max() + 0.05 * (e.max() - e.min()))
    ax.set(xlabel="Complexity = Σ|w|  (standardized features)",
           ylabel="EmpLoss = training MSE")
    ax.set_title("Diabetes: what lam buys (one dot per lam)", fontsize=11, loc="left")
    ax.legend(fontsize=8)
    figs["choose_lambda_tradeoff"] = (
        fig, (f"Each dot is the L1 solution at one lam on diabetes: its training MSE against its "
        f"Σ|w|. Minimizing EmpLoss + lam·Complexity picks the point where the frontier's slope "
        f"is −lam (measured slope/−lam between neighbouring lams: "
        f"{_f3(md['frontier_slope_ratio_min'])} to {_f3(md['frontier_slope_ratio_max'])})."))
    return figs


def _f3(x) -> str:
    return "-" if x is None else f"{x:.3f}"
