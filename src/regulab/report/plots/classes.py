"""Figures of a multinomial (softmax) model: one coefficient-path panel per class, and the CV curve.

Pure functions: arrays in, a matplotlib figure out. The panels follow the binary path figure of
:mod:`regulab.report.plots.paths` (x = log(lam) decreasing to the right, the number of non-zero
coefficients on the top axis, lam_min and lam_1se marked); a feature has the same colour in every
panel, and the panels share one y range so that the classes' coefficients compare at a glance.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from regulab.report.plots.paths import (
    add_nnz_axis,
    cv_curve,
    draw_path,
    feature_colors,
    label_line_ends,
    mark_lams,
)

#: panels per row of the figure
PANELS_PER_ROW = 3
#: at most this many curves are labelled at the right edge of each panel
MAX_LABELS = 8


def _grid(n_panels: int):
    """A constrained-layout figure with ``n_panels`` axes, :data:`PANELS_PER_ROW` to a row (the
    unused cells of the last row removed)."""
    ncols = min(PANELS_PER_ROW, n_panels)
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(5.6 * ncols, 4.4 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax in axes[n_panels:]:
        ax.remove()
    for ax in axes[:n_panels]:
        ax.grid(True, alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, list(axes[:n_panels])


def _short(name: str, limit: int = 20) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def class_paths_figure(lams, coefs, names, classes, *, marks=None, cv=None, folds=None,
                       ylabel="mean multinomial log-loss", title=""):
    """Per-class coefficient paths, and (``cv`` given) the CV curve in the last panel.

    ``coefs`` is ``[n_features, n_classes, n_lams]`` on the standardized scale; ``marks``
    ``{label: (lam, color, linestyle)}`` as :func:`regulab.report.plots.paths.mark_lams`;
    ``cv`` the dict of :func:`regulab.report.plots.paths.cv_curve` (``lams``, ``cv_mean``,
    ``cv_se``, ``train_error``, ``nnz``, ``idx_min``, ``idx_1se``)."""
    coefs = np.asarray(coefs, dtype=float)
    p, K, _ = coefs.shape
    fig, axes = _grid(K + (cv is not None))
    colors = feature_colors(p)
    lo, hi = float(min(coefs.min(), 0.0)), float(max(coefs.max(), 0.0))
    pad = 0.06 * (hi - lo or 1.0)
    for k, ax in enumerate(axes[:K]):
        W = coefs[:, k, :]
        draw_path(ax, lams, W, names=None, colors=colors, label_ends=False,
                  lw=1.3 if p <= 20 else 1.0)
        ax.set_ylim(lo - pad, hi + pad)
        end = W[:, -1]
        show = [j for j in np.argsort(-np.abs(end))[:MAX_LABELS] if end[j] != 0.0]
        if show:
            label_line_ends(ax, end[show], [_short(names[j]) for j in show],
                            [colors[j] for j in show])
        add_nnz_axis(ax, lams, np.count_nonzero(W, axis=0), n_ticks=7,
                     label=f"non-zero coefficients of class {classes[k]}")
        if marks:
            mark_lams(ax, marks)
            if k == 0:
                ax.legend(fontsize=8, loc="upper left")
        ax.set_ylabel("coefficient (standardized features)")
        ax.set_title(f"class {_short(str(classes[k]), 30)}: {title}", fontsize=10, loc="left")
    if cv is not None:
        cv_curve(axes[K], cv, folds, f"{folds}-fold CV curve: {title}", ylabel=ylabel,
                 counted=("kept", "features kept (non-zero in some class)"))
    return fig
