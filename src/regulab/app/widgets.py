"""Building blocks the views share: sliders (and the clamping of what the browser sends back),
read-out cards, graphs with their HTML keys. Dash is imported inside the builders only, so the
clamping helpers work without it.

A slider's *spec* is a dict ``{"min", "max", "step", "value"}``; every view keeps the specs of its
own sliders in a module-level ``SLIDERS`` table keyed by the slider's id.

Every slider shows its value as a number, at every width: :func:`slider` puts a number box
(id ``<slider id>-box``) beside its label, in place of Dash's own box (which Dash hides in a
narrow container, and whose clamping of a typed value never reaches the callbacks while the
slider updates as it is dragged). :func:`register_sliders` keeps box and slider in step in the
browser: a typed value is clamped onto the slider's range and step grid (:func:`clamp_js`, the
twin of :func:`clamp`), the slider moves there, so the read-outs follow the clamped value.
"""

from __future__ import annotations

import math
from decimal import Decimal


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
    return round(spec["min"] + steps * spec["step"], 10) + 0.0   # + 0.0: never -0.0


def box_id(sid: str) -> str:
    """The id of a slider's number box."""
    return f"{sid}-box"


def step_decimals(spec: dict) -> int:
    """Decimals of a slider's step (0.05: 2): a value on its grid is written with that many."""
    return max(0, -Decimal(repr(float(spec["step"]))).normalize().as_tuple().exponent)


def clamp_js(spec: dict) -> str:
    """:func:`clamp` in JavaScript, for ``spec``: ``function(x)`` -> the clamped number, or null
    for an empty or non-numeric entry (then the box shows the slider's value again)."""
    decimals = step_decimals(spec)
    return f"""function(x) {{
        if (x === null || x === undefined || x === "") {{ return null; }}
        x = Number(x);
        if (!isFinite(x)) {{ return null; }}
        var lo = {spec["min"]!r}, hi = {spec["max"]!r}, step = {spec["step"]!r};
        x = Math.min(Math.max(x, lo), hi);
        var v = Number((lo + Math.round((x - lo) / step) * step).toFixed({decimals}));
        return Math.min(Math.max(v, lo), hi) + 0;
    }}"""


def slider_sync_js(sid: str, spec: dict) -> str:
    """The client-side callback that keeps a slider and its number box in step: a typed value
    moves the slider to its clamped value (and the box shows that value); a slider move shows
    the slider's value in the box."""
    return f"""
function(value, typed) {{
    var dc = window.dash_clientside, clamp = {clamp_js(spec)};
    var ids = (dc.callback_context.triggered || []).map(function(t) {{ return t.prop_id; }});
    if (ids.indexOf({box_id(sid) + ".value"!r}) >= 0) {{
        var v = clamp(typed);
        if (v === null) {{ return [dc.no_update, value]; }}
        return [v === value ? dc.no_update : v, v];
    }}
    return [dc.no_update, value];
}}
"""


def register_sliders(app, sliders: dict) -> None:
    """Wire every slider of a view's ``SLIDERS`` table to its number box (see
    :func:`slider_sync_js`; it runs in the browser: no round trip)."""
    from dash import Input, Output

    for sid, spec in sliders.items():
        app.clientside_callback(slider_sync_js(sid, spec),
                                Output(sid, "value"), Output(box_id(sid), "value"),
                                Input(sid, "value"), Input(box_id(sid), "value"),
                                prevent_initial_call=True)


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
    """A labelled slider over ``spec``'s range that updates while dragged, with its value in a
    number box beside the label (a value can be typed there) and a hint below it (id
    ``<slider id>-hint``, so that a callback may fill it)."""
    from dash import dcc, html

    return html.Div(className="control", children=[
        html.Div(className="control-head", children=[
            html.Label(label, htmlFor=box_id(sid)),
            dcc.Input(id=box_id(sid), type="number", value=spec["value"], debounce=True,
                      className="num", inputMode="decimal", autoComplete="off"),
        ]),
        dcc.Slider(id=sid, min=spec["min"], max=spec["max"], step=spec["step"],
                   value=spec["value"], marks=marks, updatemode="drag",
                   allow_direct_input=False),
        html.Div(hint, id=f"{sid}-hint", className="hint") if hint else None,
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


def graph(gid: str, key=(), square: bool = False):
    """An empty graph in a panel, with its HTML key below it (``key``: see :func:`_key`; the
    first three views' figures draw no plotly legend, so that redrawing stays cheap).
    ``square``: the figure has a fixed size (centred in the panel)."""
    from dash import dcc, html

    return html.Div(className="panel square" if square else "panel", children=[dcc.Graph(
        id=gid, config=GRAPH_CONFIG,
        figure={"data": [], "layout": {"height": 380}}), _key(key)])


# ----------------------------------------------------------------------------- sending less

def figure_parts(fig: dict, parts) -> list:
    """``[(where, value)]``: the value of ``fig`` at each path of ``parts`` (a path is a tuple of
    keys and list indices into the figure dict, such as ``("data", 3, "x")``)."""
    out = []
    for where in parts:
        value = fig
        for key in where:
            value = value[key]
        out.append((where, value))
    return out


def as_patch(assignments):
    """A Dash ``Patch`` making the ``(where, value)`` assignments of :func:`figure_parts` in
    the browser's copy of a figure: a move that changes a few parts of a figure sends those
    parts, not the figure."""
    from dash import Patch

    patch = Patch()
    for where, value in assignments:
        target = patch
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = value
    return patch
