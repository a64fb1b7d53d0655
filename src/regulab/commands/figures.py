"""Figures of the user-data commands, built from :mod:`regulab.report.plots.paths` (the glmnet-style
path and CV-curve drawings of the sparsity and choose-lambda claims): only the inputs are
adapted here (user feature names, a truth where known, log-loss for a classifier)."""

from __future__ import annotations

import numpy as np

from regulab.report.plots.paths import (
    MIN_COLOR,
    SE_COLOR,
    add_nnz_axis,
    cv_curve,
    draw_path,
    feature_colors,
    label_line_ends,
    mark_lams,
)
from regulab.report.plots.style import (
    KIND_COLORS,
    new_figure,
)

#: at most this many curves are labelled at the right edge (the largest at the weakest penalty)
MAX_LABELS = 14


def _short(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def cv_dict(fit, train_error) -> dict:
    """The inputs of :func:`regulab.report.plots.paths.cv_curve` from a CV :class:`~.common.Fit`."""
    cv = fit.cv
    return {"lams": cv.lams, "cv_mean": cv.mean_error, "cv_se": cv.se_error,
            "train_error": train_error, "nnz": fit.path.nnz, "idx_min": cv.idx_min,
            "idx_1se": cv.idx_1se}


def draw_feature_path(ax, lams, coefs, names, *, truth=None, chosen=None, marks=None):
    """A coefficient path with user feature names: the curves largest at the weakest penalty
    are labelled (at most :data:`MAX_LABELS`); with a known truth, the truly non-zero features
    are coloured and the others grey."""
    p = coefs.shape[0]
    if truth is not None:
        true_idx = [j for j, n in enumerate(names) if truth.get(n, 0.0) != 0.0]
        palette = feature_colors(max(len(true_idx), 1))
        colors = ["#9a9a9a"] * p
        for c, j in zip(palette, true_idx):
            colors[j] = c
        if len(true_idx) == p:  # a dense truth: every curve is a true feature
            colors = feature_colors(p)
    else:
        true_idx = None
        colors = feature_colors(p)
    draw_path(ax, lams, coefs, names=None, colors=colors, label_ends=False,
              lw=1.3 if p <= 20 else 1.0)
    end = coefs[:, -1]
    order = np.argsort(-np.abs(end))
    show = [j for j in order[:MAX_LABELS] if end[j] != 0.0]
    if true_idx is not None and len(true_idx) < p:
        show = [j for j in order if j in true_idx][:MAX_LABELS]
    labels = [_short(names[j]) + (" (true)" if true_idx is not None and j in true_idx
                                  and len(true_idx) < p else "") for j in show]
    if show:
        label_line_ends(ax, end[show], labels, [colors[j] for j in show])
    nnz = np.count_nonzero(coefs, axis=0)
    add_nnz_axis(ax, lams, nnz)
    if marks:
        mark_lams(ax, marks)
        ax.legend(fontsize=8, loc="upper left")
    ax.set_ylabel("coefficient (standardized features)")
    return [names[j] for j in show]


def cv_marks(fit) -> dict:
    cv, nnz = fit.cv, fit.path.nnz
    marks = {f"lam_min = {cv.lam_min:.3g} ({int(nnz[cv.idx_min])} kept)":
             (cv.lam_min, MIN_COLOR, "--"),
             f"lam_1se = {cv.lam_1se:.3g} ({int(nnz[cv.idx_1se])} kept)":
             (cv.lam_1se, SE_COLOR, "-")}
    return marks


def path_and_cv_figure(fit, names, *, train_error, truth=None, title=""):
    """Two panels: the coefficient path with lam_min and lam_1se marked, and the CV curve."""
    from regulab.commands.common import ERROR_NAME

    fig, (a1, a2) = new_figure(14.0, 5.4, ncols=2)
    labelled = draw_feature_path(a1, fit.cv.lams, fit.path.coefs, names, truth=truth,
                                 marks=cv_marks(fit))
    a1.set_title(f"Coefficient path: {title}", fontsize=11, loc="left")
    cv_curve(a2, cv_dict(fit, train_error), fit.folds, f"{fit.folds}-fold CV curve: {title}",
             ylabel=ERROR_NAME[fit.loss])
    return fig, labelled


def cv_figure(fit, *, train_error, title=""):
    """The CV curve alone (glmnet's plot)."""
    from regulab.commands.common import ERROR_NAME

    fig, ax = new_figure(8.0, 5.0)
    cv_curve(ax, cv_dict(fit, train_error), fit.folds, f"{fit.folds}-fold CV curve: {title}",
             ylabel=ERROR_NAME[fit.loss])
    return fig


def path_figure(lams, coefs, names, *, truth=None, marks=None, title=""):
    fig, ax = new_figure(9.0, 5.4)
    labelled = draw_feature_path(ax, lams, coefs, names, truth=truth, marks=marks)
    ax.set_title(f"Coefficient path: {title}", fontsize=11, loc="left")
    return fig, labelled


def compare_cv_figure(fits: dict, train_errors: dict, labels: dict):
    """One CV curve per penalty, side by side (same y range)."""
    from regulab.commands.common import ERROR_NAME

    keys = list(fits)
    fig, axes = new_figure(6.0 * len(keys), 5.0, ncols=len(keys))
    axes = np.atleast_1d(axes)
    lo = min(float(np.min(f.cv.mean_error - f.cv.se_error)) for f in fits.values())
    lo = min(lo, min(float(np.min(t)) for t in train_errors.values()))
    hi_candidates = [float(np.max(f.cv.mean_error[f.cv.idx_min:] + f.cv.se_error[f.cv.idx_min:]))
                     for f in fits.values()]
    hi = max(max(hi_candidates), max(float(f.cv.mean_error[0]) for f in fits.values()))
    for ax, k in zip(axes, keys):
        f = fits[k]
        cv_curve(ax, cv_dict(f, train_errors[k]), f.folds, labels[k], ylabel=ERROR_NAME[f.loss])
        ax.set_ylim(lo - 0.03 * (hi - lo), hi + 0.05 * (hi - lo))
        ax.set_title(labels[k], fontsize=11, loc="left", color=KIND_COLORS.get(k, "k"))
    return fig


def compare_coef_figure(coefs: dict, names, labels: dict, truth=None, max_features: int = 40):
    """Standardized coefficients of each penalty at its chosen lam: one row per feature (the
    ``max_features`` largest, in input order), one marker per penalty; an exact zero is a hollow
    marker on the zero line; black bars: the true coefficients where known."""
    keys = list(coefs)
    mags = np.max(np.abs(np.vstack([coefs[k] for k in keys])), axis=0)
    order = np.sort(np.argsort(-mags, kind="stable")[:max_features])
    p = order.size
    fig, ax = new_figure(8.5, 1.6 + 0.24 * p)
    ypos = np.arange(p)[::-1].astype(float)
    offsets = np.linspace(-0.22, 0.22, len(keys))
    markers = {"l1": "o", "elasticnet": "s", "l2": "^"}
    if truth is not None:
        t = np.array([truth.get(names[j], 0.0) for j in order])
        tn = t != 0.0
        ax.scatter(t[tn], ypos[tn], marker="|", s=160, color="k", lw=2.0,
                   label="true coefficient (non-zero)", zorder=2)
    for off, k in zip(offsets, keys):
        c = coefs[k][order]
        color = KIND_COLORS.get(k, "k")
        nz = c != 0.0
        ax.scatter(c[nz], ypos[nz] + off, marker=markers.get(k, "o"), s=22, color=color,
                   label=f"{labels[k]} ({int(np.count_nonzero(coefs[k]))} kept)", zorder=3)
        ax.scatter(c[~nz], ypos[~nz] + off, marker=markers.get(k, "o"), s=22,
                   facecolors="none", edgecolors=color, lw=0.9, zorder=3)
    ax.axvline(0.0, color="k", lw=0.6)
    ax.set_yticks(ypos, labels=[_short(names[j], 24) for j in order], fontsize=8)
    ax.set_ylim(-0.8, p - 0.2)
    ax.set_xlabel("coefficient (standardized features)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Coefficients at each penalty's CV lam (hollow = exactly 0)", fontsize=11,
                 loc="left")
    return fig
