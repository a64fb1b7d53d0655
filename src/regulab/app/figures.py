"""Plotly figures of the lab, drawn from regulab's results (no maths here, only drawing).

Every builder returns a plain plotly figure *dict* (``{"data": [...], "layout": {...}}``): dcc.Graph
takes it as is, and skipping plotly's Python-side validation keeps a slider move well inside the
100 ms budget (``tests/test_app.py`` validates each builder's output with ``plotly.graph_objects``).

Text that comes from a user (column names of an uploaded table) goes through :func:`label`:
plotly renders a small subset of HTML in labels, so names are shortened and HTML-escaped, and
plotly shows the escaped text literally (``<script>`` appears as the characters ``<script>``).
"""

from __future__ import annotations

import html

import numpy as np

from regulab.report.plots.style import (
    ACCENT,
    KIND_COLORS,
    L1_COLOR,
    L2_COLOR,
    LOSS_COLOR,
)

ZERO_COLOR = "#2e8b57"      # "exactly 0" highlights
GRID_COLOR = "#e6e6e6"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


def label(text, limit: int = 48) -> str:
    """A user-supplied name made safe for a plotly label: shortened, then HTML-escaped."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return html.escape(text, quote=False)  # plotly decodes &lt; &gt; &amp; (not &quot;)


def rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _list(a):
    return np.asarray(a, dtype=float).tolist()


def base_layout(title: str, xtitle: str, ytitle: str, *, height: int = 380, legend=True,
                uirevision=None, **extra) -> dict:
    axis = {"gridcolor": GRID_COLOR, "zeroline": False, "linecolor": "#999", "ticks": "outside",
            "tickcolor": "#999", "automargin": True}
    layout = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        "font": {"family": FONT, "size": 12, "color": "#222"},
        "paper_bgcolor": "white", "plot_bgcolor": "white",
        "margin": {"l": 60, "r": 20, "t": 48, "b": 50},
        "height": height,
        "xaxis": dict(axis, title={"text": xtitle}),
        "yaxis": dict(axis, title={"text": ytitle}),
        "showlegend": bool(legend),
        "legend": {"bgcolor": "rgba(255,255,255,0.85)", "bordercolor": "#ddd", "borderwidth": 1,
                   "font": {"size": 11}},
        "hovermode": "closest",
    }
    if uirevision is not None:
        layout["uirevision"] = uirevision
    layout.update(extra)
    return layout


def _vline(x, color="#222", dash="dot", width=1.2, yref="paper"):
    return {"type": "line", "xref": "x", "yref": yref, "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": {"color": color, "width": width, "dash": dash}}


def _hline(y, color="#222", dash="solid", width=1.0):
    return {"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": y, "y1": y,
            "line": {"color": color, "width": width, "dash": dash}}


def num(x: float, spec: str = ".4f") -> str:
    """``x`` formatted by ``spec``, never as a negative zero: a value that rounds to zero shows
    no sign (``-0.00001`` with ``.4f`` is ``0.0000``, not ``-0.0000``). Every number the app
    shows as text goes through here."""
    text = format(x, spec)
    mantissa = text.split("e")[0].split("E")[0]
    if text.startswith("-") and not any(c in "123456789" for c in mantissa):
        text = text[1:]
    return text


def fmt_w(w: float, digits: int = 4) -> str:
    """A weight for display: exact zeros say so."""
    return "0 (exactly)" if w == 0.0 else num(w, f".{digits}f")


def _r(a, decimals: int = 5):
    """Rounded for the wire (a slider move must stay small and fast to draw); ``+ 0.0`` turns
    the negative zeros that rounding leaves into zeros (plotly would print them as -0)."""
    return (np.round(np.asarray(a, dtype=float), decimals) + 0.0).tolist()


def _line(x, y, color, width=2.0, dash="solid", name=""):
    return {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": name,
            "line": {"color": color, "width": width, "dash": dash}, "hoverinfo": "x+y+name"}


def _dot(x, y, color, symbol="circle", size=12, name=""):
    return {"type": "scatter", "mode": "markers", "x": [x], "y": [y], "name": name,
            "marker": {"color": color, "size": size, "symbol": symbol,
                       "line": {"color": "white", "width": 1.5}}, "hoverinfo": "x+y+name"}


def _lean(title, xtitle, ytitle, uirevision, height=400):
    """The first three views' figures: no plotly legend and no annotations (their keys are
    HTML beside the graph: each view's ``KEYS``), so that redrawing after a slider
    move stays cheap."""
    layout = base_layout(title, xtitle, ytitle, height=height, legend=False,
                         uirevision=uirevision)
    layout["margin"] = {"l": 56, "r": 14, "t": 40, "b": 46}
    return layout


# ----------------------------------------------------------------------------- one weight

#: the loss figure's y axis ends at the first of these steps (times a power of ten) above the
#: curves, so that most lam moves keep the axis and plotly redraws only the traces (an axis
#: that followed the curves exactly would be redrawn, ticks and all, on every move)
NICE_STEPS = (1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0)


def nice_ceil(x: float) -> float:
    """The smallest ``m * 10**e >= x`` with ``m`` in :data:`NICE_STEPS` (``x`` itself when not
    positive). Written so that ``assets/one_weight.js`` gets the same float: powers of ten
    as exact integers or one division by one."""
    if not x > 0:
        return x
    e = int(np.floor(np.log10(x)))
    base = 10.0 ** e if e >= 0 else 1.0 / 10.0 ** -e
    if base > x:                       # log10 rounded up at a power of ten
        e -= 1
        base = 10.0 ** e if e >= 0 else 1.0 / 10.0 ** -e
    return next(m * base for m in NICE_STEPS if m * base >= x)


def one_weight_losses(r: dict) -> dict:
    """MSE, the two penalties and the two regularized losses over w, with the closed-form minima.

    ``r`` is :func:`regulab.app.views.one_weight.one_weight_result`'s output."""
    grid = _r(r["grid"])
    w1, w2 = r["w_l1"], r["w_l2"]
    data = [
        _line(grid, _r(r["mse"]), LOSS_COLOR, 1.5, "dash", "MSE"),
        _line(grid, _r(r["pen_l1"]), L1_COLOR, 1, "dot", "λ|w|"),
        _line(grid, _r(r["pen_l2"]), L2_COLOR, 1, "dot", "λw²"),
        _line(grid, _r(r["reg_l1"]), L1_COLOR, 2.5, name="MSE + λ|w|"),
        _line(grid, _r(r["reg_l2"]), L2_COLOR, 2.5, name="MSE + λw²"),
        _dot(w1, r["reg_l1_at_min"], ZERO_COLOR if w1 == 0.0 else L1_COLOR, "diamond", 15,
             "L1 minimum"),
        _dot(w2, r["reg_l2_at_min"], L2_COLOR, "square", 12, "L2 minimum"),
    ]
    top = nice_ceil(max(r["reg_l1"][0], r["reg_l1"][-1], r["reg_l2"][0], r["reg_l2"][-1]))
    layout = _lean("Losses over w", "w", "loss", "ow-losses")
    layout["xaxis"]["range"] = [grid[0], grid[-1]]
    layout["yaxis"]["range"] = [-0.03 * top, top * 1.02]
    layout["shapes"] = [_vline(0.0, "#222", "solid", 1)]
    return {"data": data, "layout": layout}


def one_weight_minimizers(r: dict) -> dict:
    """w_L1(lam) and w_L2(lam) against lam, lam* marked, the current lam's minimizers marked."""
    lams, lam, lam_star = _r(r["lams"]), r["lam"], r["lam_star"]
    top = lams[-1]
    lo = min(0.0, min(r["sweep_l1"]), min(r["sweep_l2"]))
    hi = max(0.0, max(r["sweep_l1"]), max(r["sweep_l2"]))
    pad = 0.08 * (hi - lo or 1.0)
    data = [
        _line(lams, _r(r["sweep_l1"]), L1_COLOR, 2.5, name="w_L1(λ)"),
        _line(lams, _r(r["sweep_l2"]), L2_COLOR, 2.5, name="w_L2(λ)"),
        _line([lam, lam], [lo - pad, hi + pad], "#777", 1.2, "dot", "this λ"),
        _dot(lam, r["w_l1"], ZERO_COLOR if r["w_l1"] == 0.0 else L1_COLOR, "diamond", 14,
             "w_L1"),
        _dot(lam, r["w_l2"], L2_COLOR, "square", 11, "w_L2"),
    ]
    shapes = [_hline(0.0)]
    if lam_star < top:
        shapes += [{"type": "rect", "xref": "x", "yref": "paper", "x0": lam_star, "x1": top,
                    "y0": 0, "y1": 1, "fillcolor": rgba(ZERO_COLOR, 0.09),
                    "line": {"width": 0}, "layer": "below"},
                   _vline(lam_star, ZERO_COLOR, "dash", 1.5)]
    layout = _lean("Minimizers as λ grows (green: L1 exactly 0)", "λ", "minimizing w",
                   "ow-lams")
    layout["xaxis"]["range"] = [0, top]
    layout["yaxis"]["range"] = [lo - pad, hi + pad]
    layout["shapes"] = shapes
    return {"data": data, "layout": layout}


# ----------------------------------------------------------------------------- gradient descent

#: the iterates of every method (the view's key says so): not a penalty's colour, not the
#: objective's grey, and never green, which is kept for exact zeros
GD_PATH_COLOR = "#9b3fb5"


def gd_loss(r: dict, k: int) -> dict:
    """The objective over w, the iterates w_0..w_k on it, and the minimizer (closed form)."""
    color = GD_PATH_COLOR
    w, obj = r["w"][: k + 1], r["objective"][: k + 1]
    last = max(0, k + 1 - 30)            # markers on the latest 30 iterates only: cheap to draw
    recent = _line(_r(w[last:]), _r(obj[last:]), rgba(color, 0.6), 1, name="iterates")
    recent.update({"mode": "markers", "marker": {"color": rgba(color, 0.6), "size": 6}})
    data = [
        _line(_r(r["grid"]), _r(r["curve"]), LOSS_COLOR, 2, name=r["objective_name"]),
        _line(_r(w), _r(obj), rgba(color, 0.5), 1, name="path"),
        recent,
        _dot(r["target"], r["target_objective"], ACCENT, "star", 16, "minimum (closed form)"),
        _dot(w[-1], obj[-1], ZERO_COLOR if w[-1] == 0.0 else color, "circle", 14, f"w_{k}"),
    ]
    layout = _lean("Iterates on the objective", "w", "objective", "gd-loss")
    layout["xaxis"]["range"] = [r["grid"][0], r["grid"][-1]]
    layout["yaxis"]["range"] = r["curve_range"]
    layout["shapes"] = [_vline(0.0, "#222", "solid", 1)]
    return {"data": data, "layout": layout}


def gd_iterations(r: dict, k: int) -> dict:
    """w against iteration up to k, with 0 and the closed-form minimizer as reference lines."""
    w = r["w"][: k + 1]
    path = _line(list(range(k + 1)), _r(w, 7), GD_PATH_COLOR, 2, name="w_k")
    # exact zeros: a thick green line along 0 wherever w_k == 0.0 (one path, not k markers)
    zero = _line(list(range(k + 1)), [0.0 if v == 0.0 else None for v in w], ZERO_COLOR, 6,
                 name="exactly 0")
    zero["mode"] = "lines+markers" if sum(v == 0.0 for v in w) == 1 else "lines"
    zero["marker"] = {"size": 8, "color": ZERO_COLOR}
    n_iter = len(r["w"]) - 1
    data = [_line([-1, n_iter + 1], [r["target"]] * 2, ACCENT, 1.5, "dash", "closed form"),
            path, zero]
    layout = _lean("w against iteration", "iteration k", "w_k", "gd-iter")
    layout["xaxis"]["range"] = [-1, n_iter + 1]
    layout["yaxis"]["range"] = r["w_range"]
    layout["shapes"] = [_hline(0.0, "#222")]
    return {"data": data, "layout": layout}


# ----------------------------------------------------------------------------- geometry

#: the geometry figure's size and margins: its plot area is a square (l + r == t + b), so equal
#: ranges on both axes draw circles round. plotly's own ``scaleanchor`` is not used: on an
#: update to a smaller window it widened the x range instead of narrowing the plot, so the
#: figure lost its square and the contours stopped short of the window.
GEO_SIZE = 560
GEO_MARGIN = {"l": 62, "r": 24, "t": 40, "b": 46}


def geometry(r: dict) -> dict:
    """Loss contours around the unregularized optimum, the L1 diamond and the L2 circle of
    budget t, and the two constrained optima with the contour each one touches, on a square
    plot over the window ``[-limit, limit]^2``.

    The contour lines come as polylines (``r["contours"]``, traced by contourpy on the
    library's loss over a grid), so the browser draws lines instead of contouring a grid."""
    t, b = r["t"], r["beta_hat"]
    w1, w2 = r["w_l1"], r["w_l2"]
    phi = np.linspace(0, 2 * np.pi, 121)
    lim = r["limit"]
    c = r["contours"]
    data = [
        _line(c["levels"][0], c["levels"][1], "#b9b9b9", 1, name="loss contours"),
        {"type": "scatter", "mode": "lines", "x": [t, 0, -t, 0, t], "y": [0, t, 0, -t, 0],
         "fill": "toself", "fillcolor": rgba(L1_COLOR, 0.15),
         "line": {"color": L1_COLOR, "width": 2}, "name": "L1 diamond"},
        {"type": "scatter", "mode": "lines", "x": _r(t * np.cos(phi), 4),
         "y": _r(t * np.sin(phi), 4), "fill": "toself", "fillcolor": rgba(L2_COLOR, 0.10),
         "line": {"color": L2_COLOR, "width": 2}, "name": "L2 circle"},
        _line(c["l1"][0], c["l1"][1], L1_COLOR, 2, "dash", "contour at the L1 optimum"),
        _line(c["l2"][0], c["l2"][1], L2_COLOR, 2, "dash", "contour at the L2 optimum"),
        _dot(b[0], b[1], "#222", "x", 13, "unregularized optimum"),
        _dot(w1[0], w1[1], ZERO_COLOR if r["zero_l1"] else L1_COLOR, "diamond", 16,
             "L1 optimum"),
        _dot(w2[0], w2[1], L2_COLOR, "square", 12, "L2 optimum"),
    ]
    for trace in data[:5]:
        trace["hoverinfo"] = "skip"
    # a new window resets a zoom (uirevision), so the window drawn is always the one computed
    layout = _lean("Loss contours, the L1 diamond and the L2 circle", "w₁", "w₂",
                   f"geo:{lim:.6g}", height=GEO_SIZE)
    layout.update({"width": GEO_SIZE, "autosize": False, "margin": dict(GEO_MARGIN)})
    for axis in ("xaxis", "yaxis"):
        layout[axis].update({"range": [-lim, lim], "zeroline": True, "zerolinecolor": "#444",
                             "automargin": False})
    return {"data": data, "layout": layout}


# ----------------------------------------------------------------------------- your data

#: a hidden y axis over the plot, 0 at its bottom and 1 at its top: the chosen lam's vertical
#: line is a trace on it, not a layout shape, so a lam move changes traces only
OVERLAY_AXIS = {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True}
#: plotly's react redraws the traces that changed and leaves the axes as they are (its
#: transition path, with no animation) when only traces move: on these figures a lam move
SWAP = {"duration": 0}


def _vtrace(x, color="#333", dash="dash", width=1.5, name="this λ") -> dict:
    """A vertical line at ``x`` over the plot's whole height (on :data:`OVERLAY_AXIS`)."""
    return {"type": "scatter", "mode": "lines", "x": [x, x], "y": [0, 1], "yaxis": "y2",
            "name": name, "showlegend": False, "hoverinfo": "skip",
            "line": {"color": color, "width": width, "dash": dash}}


def data_color(v: dict) -> str:
    """The colour of a data path's penalty kind (the L1 colour for a kind without one)."""
    return KIND_COLORS.get(v["penalty"], L1_COLOR)


def data_path(v: dict, k: int) -> dict:
    """Coefficient paths over lam (log axis) with the selected lam and its coefficients marked."""
    lams, coefs, names = v["lams"], v["coefs"], v["names"]
    color = data_color(v)
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf"]
    data = []
    show_legend = len(names) <= 12
    for j, name in enumerate(names):
        data.append({"type": "scatter", "mode": "lines", "x": lams, "y": coefs[j],
                     "name": label(name, 28), "line": {"width": 1.6,
                                                       "color": palette[j % len(palette)]},
                     "hovertemplate": "%{text}<br>λ = %{x:.4g}<br>coef = %{y:.4g}<extra></extra>",
                     "text": [label(name)] * len(lams), "showlegend": show_legend})
    at = [c[k] for c in coefs]
    data.append({"type": "scatter", "mode": "markers", "x": [lams[k]] * len(names), "y": at,
                 "name": "at the chosen λ", "showlegend": False, "text": [label(n) for n in names],
                 "hovertemplate": "%{text}: %{y:.4g}<extra></extra>",
                 "marker": {"size": 8, "color": [ZERO_COLOR if c == 0.0 else color for c in at],
                            "line": {"color": "white", "width": 1}}})
    data.append(_vtrace(lams[k]))
    layout = base_layout(f"Coefficient path ({v['penalty_name']})", "λ (log scale)",
                         "coefficient (standardized features)", uirevision=v["key"], height=400,
                         shapes=[_hline(0.0, "#888")], legend=show_legend,
                         yaxis2=dict(OVERLAY_AXIS), transition=dict(SWAP))
    layout["xaxis"]["type"] = "log"
    layout["legend"].update({"font": {"size": 10}})
    return {"data": data, "layout": layout}


def data_cv(v: dict, k: int) -> dict:
    """The CV curve (mean over folds, its SE as a band), lam_min and lam_1se, and the selected
    lam."""
    lams = v["lams"]
    color = data_color(v)
    mean, se = v["cv_mean"], v["cv_se"]
    # the SE as a band (two paths): error bars or markers at the 100 lams would be 100-300 SVG
    # elements that plotly's transition path sets again on every lam move
    band = {"type": "scatter", "mode": "lines", "x": lams, "line": {"width": 0, "color": color},
            "hoverinfo": "skip"}
    data = [
        dict(band, y=[m - s for m, s in zip(mean, se)], name="CV error - SE", showlegend=False),
        dict(band, y=[m + s for m, s in zip(mean, se)], name="± SE", fill="tonexty",
             fillcolor=rgba(color, 0.18)),
        {"type": "scatter", "mode": "lines", "x": lams, "y": mean, "name": "CV error",
         "line": {"color": color, "width": 1.5}},
        {"type": "scatter", "mode": "markers", "x": [lams[k]], "y": [mean[k]],
         "name": "chosen λ", "marker": {"size": 13, "color": ACCENT, "symbol": "circle",
                                         "line": {"color": "#333", "width": 1}}},
    ]
    i0, i1 = v["idx_min"], v["idx_1se"]
    data.append(_vtrace(lams[k]))
    shapes = [_vline(lams[i0], "#555", "dot"), _vline(lams[i1], "#555", "dash")]
    annotations = [
        # annotations on a log axis take log10 positions (shapes take data values)
        {"x": float(np.log10(lams[i0])), "y": 1, "xref": "x", "yref": "paper", "text": "min",
         "showarrow": False, "yanchor": "bottom", "xanchor": "right", "font": {"size": 11}},
        {"x": float(np.log10(lams[i1])), "y": 1, "xref": "x", "yref": "paper", "text": "1se",
         "showarrow": False, "yanchor": "bottom", "xanchor": "left", "font": {"size": 11}},
    ]
    layout = base_layout(f"{v['folds']}-fold CV: {v['error_name']}", "λ (log scale)",
                         v["error_name"], uirevision=v["key"], height=400, shapes=shapes,
                         annotations=annotations, yaxis2=dict(OVERLAY_AXIS),
                         transition=dict(SWAP))
    layout["xaxis"]["type"] = "log"
    layout["legend"].update({"x": 0.01, "y": 0.99, "xanchor": "left", "yanchor": "top"})
    return {"data": data, "layout": layout}


#: the coefficient figure's title: its key too (the figure has no plotly legend: a legend whose
#: counts followed lam would make plotly redraw the whole figure whenever a coefficient reaches
#: or leaves 0)
COEF_TITLE = (f"Coefficients at the chosen λ: ● non-zero, "
              f"<span style='color:{ZERO_COLOR}'>○ exactly 0</span>")


def coef_range(v: dict) -> float:
    """Half the coefficient figure's x range: the largest |coefficient| over the whole path,
    plus a tenth for the dots (1 when every coefficient is 0). The range stays put as lam
    moves, so plotly redraws the coefficients and never the axis."""
    m = max((abs(c) for row in v["coefs"] for c in row), default=0.0)
    return 1.1 * m if m > 0 else 1.0


def data_coefficients(v: dict, k: int) -> dict:
    """Every coefficient at the selected lam as a lollipop (a stem from 0 and a dot), on an x
    range that holds the whole path (:func:`coef_range`); exact zeros drawn as a green ring.

    A lam move changes only the stems' and dots' x and the dots' two colours: plotly's animatable
    attributes, so react takes its transition path and redraws these two traces alone (no axis,
    no text: no per-point labels, no lam in the title; :func:`regulab.app.views.your_data.
    lam_parts` lists what moves)."""
    names = v["names"]
    coef = [float(c[k]) for c in v["coefs"]]
    color = data_color(v)
    shown = [label(n, 40) for n in names]
    stem_x, stem_y = [], []
    for name, c in zip(shown, coef):
        stem_x += [0.0, c, None]
        stem_y += [name, name, None]
    zero = [c == 0.0 for c in coef]
    data = [
        {"type": "scatter", "mode": "lines", "x": stem_x, "y": stem_y, "name": "stems",
         "line": {"color": color, "width": 3}, "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "mode": "markers", "x": coef, "y": shown, "name": "coefficient",
         "showlegend": False, "hovertemplate": "%{y}: %{x:.4g}<extra></extra>",
         "marker": {"size": 11, "symbol": "circle",
                    "color": ["white" if z else color for z in zero],
                    "line": {"width": 2, "color": [ZERO_COLOR if z else color for z in zero]}}},
    ]
    height = max(300, 70 + 19 * len(names))
    top = coef_range(v)
    layout = base_layout(COEF_TITLE, "coefficient (standardized features)", "",
                         uirevision=v["key"], height=height, legend=False,
                         transition=dict(SWAP))
    layout["yaxis"].update({"categoryorder": "array", "categoryarray": shown[::-1],
                            "type": "category", "tickfont": {"size": 11}})
    layout["xaxis"]["range"] = [-top, top]
    layout["shapes"] = [_vline(0.0, "#444", "solid", 1)]
    return {"data": data, "layout": layout}


def empty(title: str, message: str, height: int = 380) -> dict:
    """A placeholder figure with a centred message."""
    layout = base_layout(title, "", "", height=height, legend=False)
    layout["xaxis"].update({"visible": False})
    layout["yaxis"].update({"visible": False})
    layout["annotations"] = [{"text": message, "x": 0.5, "y": 0.5, "xref": "paper",
                              "yref": "paper", "showarrow": False, "font": {"size": 14,
                                                                            "color": "#666"}}]
    return {"data": [], "layout": layout}


# ----------------------------------------------------------------------------- neural net

def nn_histogram(s: dict) -> dict:
    """Histogram of the network's weights (both layers stacked), exact zeros counted apart."""
    edges = s["edges"]
    centers = _r((edges[:-1] + edges[1:]) / 2, 9)
    width = float(edges[1] - edges[0])
    colors = {0: "#4c72b0", 1: "#dd8452"}
    data = []
    for i, (name, counts) in enumerate(s["hist"].items()):
        data.append({"type": "bar", "x": centers, "y": _list(counts), "width": width,
                     "name": f"layer {name}", "marker": {"color": colors.get(i, "#888")},
                     "hovertemplate": "w ≈ %{x:.3f}: %{y} weights<extra></extra>"})
    if s["exact_zeros"]:  # a thick segment inside the centre bin: how many of them are exact 0s
        data.append({"type": "scatter", "mode": "lines+markers", "x": [0.0, 0.0],
                     "y": [1, s["exact_zeros"]], "name": f"exactly 0: {s['exact_zeros']}",
                     "line": {"color": ZERO_COLOR, "width": 5},
                     "marker": {"size": [0, 9], "color": ZERO_COLOR},
                     "hovertemplate": "exactly 0: %{y} weights<extra></extra>"})
    layout = base_layout(f"Weights after epoch {s['epoch']}", "weight", "count (log scale)",
                         uirevision="nn-hist", height=380, barmode="stack")
    layout["yaxis"]["type"] = "log"
    layout["legend"].update({"x": 0.99, "y": 0.99, "xanchor": "right", "yanchor": "top"})
    return {"data": data, "layout": layout}


def nn_history(s: dict) -> dict:
    """Test accuracy and the share of weights exactly 0 / below tol, epoch by epoch."""
    h = s["history"]
    ep = h["epoch"]
    data = [
        {"type": "scatter", "mode": "lines+markers", "x": ep, "y": h["accuracy"],
         "name": "test accuracy", "line": {"color": "#333", "width": 2}, "marker": {"size": 4}},
        {"type": "scatter", "mode": "lines+markers", "x": ep, "y": h["fraction_zero"],
         "name": "weights exactly 0", "line": {"color": ZERO_COLOR, "width": 2},
         "marker": {"size": 4}},
        {"type": "scatter", "mode": "lines", "x": ep, "y": h["fraction_below_tol"],
         "name": f"weights |w| < {s['tol']:g}", "line": {"color": ACCENT, "width": 2,
                                                          "dash": "dash"}},
    ]
    shapes = [_vline(e, "#888", "dot") for e in s["changes"]]
    layout = base_layout("Training so far (dotted: a setting changed)", "epoch", "fraction",
                         uirevision="nn-history", height=380, shapes=shapes)
    layout["yaxis"]["range"] = [0, 1.02]
    layout["xaxis"]["range"] = [0, max(10, (ep[-1] if ep else 0) + 1)]
    layout["legend"].update({"x": 0.99, "y": 0.5, "xanchor": "right", "yanchor": "middle"})
    return {"data": data, "layout": layout}
