"""Building blocks the views share: sliders (and the clamping of what the browser sends back),
read-out cards, graphs with their HTML keys. Dash is imported inside the builders only, so the
clamping helpers work without it.

A slider's *spec* is a dict ``{"min", "max", "step", "value"}``; every view keeps the specs of its
own sliders in a module-level ``SLIDERS`` table keyed by the slider's id.
"""

from __future__ import annotations

import math


def clamp(spec: dict, value) -> float:
    """A slider's value as a float inside its range ``spec``, on its step grid (a typed-in or
    forged value may be anything: a non-number or a non-finite one gives the default)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = spec["value"]
    if not math.isfinite(v):
        v = spec["value"]
    v = min(max(v, spec["min"]), spec["max"])
    steps = round((v - spec["min"]) / spec["step"])
    return round(spec["min"] + steps * spec["step"], 10)


def index(k, n: int) -> int:
    """A position sent by the browser, as an int in ``[0, n - 1]``."""
    try:
        k = int(k or 0)
    except (TypeError, ValueError, OverflowError):
        k = 0
    return min(max(k, 0), n - 1)


#: plotly's modebar without its cloud button (it would upload the chart to a plotly server)
GRAPH_CONFIG = {"displaylogo": False, "responsive": False, "showSendToCloud": False,
                "showEditInChartStudio": False, "plotlyServerURL": "",
                "modeBarButtonsToRemove": ["sendChartToCloud", "sendDataToCloud",
                                           "editInChartStudio"],
                "toImageButtonOptions": {"filename": "regulab"}}


def slider(sid: str, spec: dict, label: str, hint: str = "", marks=None):
    """A labelled slider over ``spec``'s range that updates while dragged."""
    from dash import dcc, html

    return html.Div(className="control", children=[
        html.Label(label, htmlFor=sid),
        dcc.Slider(id=sid, min=spec["min"], max=spec["max"], step=spec["step"],
                   value=spec["value"], marks=marks, updatemode="drag"),
        html.Div(hint, className="hint") if hint else None,
    ])


def card(kind: str, name: str, value_id: str, note_id: str | None = None, note: str = "",
         small: bool = False):
    """A read-out card: a name, a value (id ``value_id``) and a note (id ``note_id`` if any)."""
    from dash import html

    return html.Div(className=f"card {kind}", children=[
        html.Div(name, className="name"),
        html.Div("-", id=value_id, className="value small" if small else "value"),
        html.Div(note, id=note_id, className="note") if note_id else
        html.Div(note, className="note"),
    ])


def _key(items):
    """A figure's key in HTML: ``(label, color, kind)`` items, kind a line style (solid, dash,
    dot), ``"area"`` or a marker glyph."""
    from dash import html

    spans = []
    for text, color, kind in items:
        if kind in ("solid", "dash", "dot"):
            style = {"solid": "solid", "dash": "dashed", "dot": "dotted"}[kind]
            swatch = html.Span(className="sw", style={"borderTop": f"3px {style} {color}"})
        elif kind == "area":
            swatch = html.Span(className="sw area", style={"background": color})
        else:
            swatch = html.Span(kind, className="glyph", style={"color": color})
        spans.append(html.Span([swatch, text], className="key-item"))
    return html.Div(spans, className="key") if spans else None


def graph(gid: str, key=()):
    """An empty graph in a panel, with its HTML key below it (``key``: see :func:`_key`; the
    first three views' figures draw no plotly legend, so that redrawing stays cheap)."""
    from dash import dcc, html

    return html.Div(className="panel", children=[dcc.Graph(
        id=gid, config=GRAPH_CONFIG,
        figure={"data": [], "layout": {"height": 380}}), _key(key)])
