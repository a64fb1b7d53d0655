"""One look for every static figure: colours for L1 / L2 and a figure factory free of pyplot state."""

from __future__ import annotations

from matplotlib.figure import Figure

#: L1 blue and L2 red, as in seed 000's figures; data loss in grey
L1_COLOR = "#1f5fbf"
L2_COLOR = "#c8312b"
EN_COLOR = "#7b3fa0"
LOSS_COLOR = "#555555"
ACCENT = "#e08a00"
#: the colour of each penalty kind (keys: regulab.core.penalties.KINDS), for every figure and the app
KIND_COLORS = {"l1": L1_COLOR, "elasticnet": EN_COLOR, "l2": L2_COLOR}


def new_figure(width: float = 6.4, height: float = 4.0, ncols: int = 1):
    """A figure with ``ncols`` axes, made without pyplot (safe in threads, no global state)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols)
    for ax in (axes if ncols > 1 else [axes]):
        ax.grid(True, alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes
