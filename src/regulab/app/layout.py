"""Layout of the lab: a header, five tabs (one per view, each with its own URL) and the page's
style sheet (inline, so the app needs no asset files and loads nothing from the network)."""

from __future__ import annotations

import math

#: every slider: range, step and default; callbacks clamp what they receive to these ranges
SLIDERS = {
    "ow-lam": {"min": 0.0, "max": 2.0, "step": 0.01, "value": 0.5},
    "ow-w": {"min": -1.0, "max": 1.0, "step": 0.05, "value": 0.5},
    "ow-spread": {"min": 0.2, "max": 2.0, "step": 0.05, "value": 1.0},
    "gd-lam": {"min": 0.0, "max": 1.5, "step": 0.01, "value": 0.5},
    "gd-step": {"min": 0.01, "max": 1.0, "step": 0.01, "value": 0.1},
    "geo-b1": {"min": -2.0, "max": 2.0, "step": 0.05, "value": 1.6},
    "geo-b2": {"min": -2.0, "max": 2.0, "step": 0.05, "value": 0.6},
    "geo-rho": {"min": -0.9, "max": 0.9, "step": 0.05, "value": 0.5},
    "geo-t": {"min": 0.05, "max": 2.5, "step": 0.05, "value": 0.8},
    "nn-lam": {"min": 0.0, "max": 5.0, "step": 0.1, "value": 1.0},
}

VIEWS = [
    {"id": "one-weight", "label": "One weight", "path": "/"},
    {"id": "gradient", "label": "Gradient descent", "path": "/gradient-descent"},
    {"id": "geometry", "label": "Geometry", "path": "/geometry"},
    {"id": "data", "label": "Your data", "path": "/your-data"},
    {"id": "neural-net", "label": "Neural net", "path": "/neural-net"},
]

#: iterations of the gradient-descent animation (the page opens on the finished run)
GD_ITERATIONS = 200

BUILTIN_CHOICES = ["diabetes", "breast_cancer", "sparse_synthetic", "dense_synthetic"]


def clamp(slider: str, value) -> float:
    """A slider's value as a float inside its range, on its step grid (a typed-in value may be
    anything)."""
    spec = SLIDERS[slider]
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = spec["value"]
    if not math.isfinite(v):
        v = spec["value"]
    v = min(max(v, spec["min"]), spec["max"])
    steps = round((v - spec["min"]) / spec["step"])
    return round(spec["min"] + steps * spec["step"], 10)


CSS = """
:root { --l1: #1f5fbf; --l2: #c8312b; --zero: #2e8b57; --ink: #1d2330; --muted: #5b6270;
        --line: #e3e6ec; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
.header { background: #1d2330; color: #fff; padding: 14px 24px; display: flex;
          align-items: baseline; gap: 18px; flex-wrap: wrap; }
.header h1 { font-size: 20px; margin: 0; font-weight: 650; letter-spacing: .2px; }
.header .tagline { color: #c9cfdb; font-size: 14px; }
.page { padding: 0 24px 24px; max-width: 1500px; margin: 0 auto; }
.tabs-bar { margin: 14px 0 0; }
.view { padding-top: 14px; }
.intro { color: var(--muted); margin: 0 0 12px; font-size: 14px; max-width: 1100px;
         line-height: 1.45; }
.grid { display: grid; grid-template-columns: 320px 1fr; gap: 16px; align-items: start; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px; }
.controls .control { margin-bottom: 16px; }
.control > label { display: block; font-size: 13px; font-weight: 600; margin-bottom: 4px; }
.control .dash-options-list-option, .control input[type=radio] + label { font-size: 14px; }
.control .hint { font-size: 12px; color: var(--muted); margin-top: 2px; }
.figs { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.figs.one { grid-template-columns: 1fr; }
.figs .panel { padding: 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
         gap: 10px; margin-bottom: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px;
        padding: 10px 12px; }
.card .name { font-size: 12px; color: var(--muted); font-weight: 600; }
.card .value { font-size: 22px; font-weight: 650; margin-top: 2px;
               font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.card .value.small { font-size: 17px; }
.card .note { font-size: 12px; color: var(--muted); margin-top: 2px; }
.card .note.zero { color: var(--zero); font-weight: 650; }
.card.l1 { border-top: 4px solid var(--l1); }
.card.l2 { border-top: 4px solid var(--l2); }
.card.star { border-top: 4px solid var(--zero); }
.card.plain { border-top: 4px solid #999; }
.status { padding: 9px 12px; border-radius: 8px; background: #eef2f8; color: var(--ink);
          margin-bottom: 12px; font-size: 14px; border-left: 5px solid var(--l1); }
.status-zero { background: #e6f4ec; border-left-color: var(--zero); font-weight: 600; }
.details { font-size: 12px; color: var(--muted); margin-top: 10px; }
.buttons { display: flex; gap: 8px; margin: 6px 0 14px; flex-wrap: wrap; }
button.btn { border: 1px solid #c5cad3; background: #fff; border-radius: 7px; padding: 7px 14px;
             font-size: 14px; cursor: pointer; font-weight: 600; color: var(--ink); }
button.btn:hover { background: #f0f2f5; }
button.btn.primary { background: #1d2330; color: #fff; border-color: #1d2330; }
.upload { border: 2px dashed #b9c0cc; border-radius: 10px; padding: 14px; text-align: center;
          cursor: pointer; font-size: 13px; color: var(--muted); background: #fafbfc; }
.msg { font-size: 13px; margin: 8px 0; padding: 7px 10px; border-radius: 7px; }
.msg:empty { display: none; }
.msg-ok { background: #e6f4ec; color: #1e5e3b; }
.msg-error { background: #fdecea; color: #8a1c12; font-weight: 600; }
.wide { grid-column: 1 / -1; }
.key { display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 2px 10px 8px; font-size: 12px;
       color: #333; }
.key-item { display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; }
.key .sw { display: inline-block; width: 22px; height: 0; }
.key .sw.area { height: 10px; opacity: .25; border: 0; }
.key .glyph { font-size: 14px; line-height: 1; width: 14px; text-align: center; }
@media (max-width: 1100px) { .grid, .figs { grid-template-columns: 1fr; } }
"""

INDEX = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
        <style>""" + CSS + """</style>
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def _slider(sid: str, label: str, hint: str = "", marks=None):
    from dash import dcc, html

    spec = SLIDERS[sid]
    return html.Div(className="control", children=[
        html.Label(label, htmlFor=sid),
        dcc.Slider(id=sid, min=spec["min"], max=spec["max"], step=spec["step"],
                   value=spec["value"], marks=marks, updatemode="drag"),
        html.Div(hint, className="hint") if hint else None,
    ])


def _card(kind: str, name: str, value_id: str, note_id: str | None = None, note: str = "",
          small: bool = False):
    from dash import html

    return html.Div(className=f"card {kind}", children=[
        html.Div(name, className="name"),
        html.Div("-", id=value_id, className="value small" if small else "value"),
        html.Div(note, id=note_id, className="note") if note_id else
        html.Div(note, className="note"),
    ])


#: plotly's modebar without its cloud button (it would upload the chart to a plotly server)
GRAPH_CONFIG = {"displaylogo": False, "responsive": False, "showSendToCloud": False,
                "showEditInChartStudio": False, "plotlyServerURL": "",
                "modeBarButtonsToRemove": ["sendChartToCloud", "sendDataToCloud",
                                           "editInChartStudio"],
                "toImageButtonOptions": {"filename": "regulab"}}


L1, L2, ZERO, GREY, ACCENT = "#1f5fbf", "#c8312b", "#2e8b57", "#555555", "#e08a00"

#: HTML keys of the first three views' figures (plotly draws no legend there: cheaper redraws)
#: as (label, color, kind): kind is a line style (solid, dash, dot), "area" or a marker glyph
KEYS = {
    "ow-fig-loss": [("MSE", GREY, "dash"), ("λ|w|", L1, "dot"), ("λw²", L2, "dot"),
                    ("MSE + λ|w|", L1, "solid"), ("MSE + λw²", L2, "solid"),
                    ("L1 minimum (green: exactly 0)", ZERO, "◆"), ("L2 minimum", L2, "■")],
    "ow-fig-lam": [("w_L1(λ)", L1, "solid"), ("w_L2(λ)", L2, "solid"), ("this λ", "#777", "dot"),
                   ("λ ≥ λ*: L1 exactly 0", ZERO, "area"), ("w_L1 at λ", ZERO, "◆"),
                   ("w_L2 at λ", L2, "■")],
    "gd-fig-loss": [("objective", GREY, "solid"), ("path of w₀…w_k", "#888", "solid"),
                    ("latest 30 iterates", "#888", "●"),
                    ("minimum (closed form)", ACCENT, "★"),
                    ("current iterate (green: exactly 0)", ZERO, "●")],
    "gd-fig-iter": [("w_k", "#888", "solid"), ("w_k exactly 0", ZERO, "solid"),
                    ("closed form", ACCENT, "dash")],
    "geo-fig": [("loss contours", "#aaaaaa", "solid"), ("L1 diamond", L1, "area"),
                ("L2 circle", L2, "area"), ("contour at the L1 optimum", L1, "dash"),
                ("contour at the L2 optimum", L2, "dash"),
                ("unregularized optimum β̂", "#222", "✕"),
                ("L1 optimum (green: a coordinate is exactly 0)", ZERO, "◆"),
                ("L2 optimum", L2, "■")],
}


def _key(gid: str):
    from dash import html

    items = []
    for text, color, kind in KEYS.get(gid, []):
        if kind in ("solid", "dash", "dot"):
            style = {"solid": "solid", "dash": "dashed", "dot": "dotted"}[kind]
            swatch = html.Span(className="sw", style={"borderTop": f"3px {style} {color}"})
        elif kind == "area":
            swatch = html.Span(className="sw area", style={"background": color})
        else:
            swatch = html.Span(kind, className="glyph", style={"color": color})
        items.append(html.Span([swatch, text], className="key-item"))
    return html.Div(items, className="key") if items else None


def _graph(gid: str):
    from dash import dcc, html

    return html.Div(className="panel", children=[dcc.Graph(
        id=gid, config=GRAPH_CONFIG,
        figure={"data": [], "layout": {"height": 380}}), _key(gid)])


def one_weight_view():
    from dash import html

    return html.Div(className="view", children=[
        html.P(className="intro", children=(
            "The seed's problem y = w·x with one weight. Move λ: the L1 minimizer falls in a "
            "straight line and lands on exactly 0 at λ* = 2·mean(x²)·|ŵ|, then stays there; the "
            "L2 minimizer ŵ·a/(a+λ) only shrinks. Every number is a closed form of "
            "regulab.core.onedim.")),
        html.Div(className="grid", children=[
            html.Div(className="panel controls", children=[
                _slider("ow-lam", "λ (penalty strength)", marks={0: "0", 0.5: "0.5", 1: "1",
                                                                  1.5: "1.5", 2: "2"}),
                _slider("ow-w", "true w", "y = w·x, no noise", marks={-1: "-1", 0: "0",
                                                                      0.5: "0.5", 1: "1"}),
                _slider("ow-spread", "spread of x", "x ~ Uniform(-s, s), 100 samples",
                        marks={0.2: "0.2", 1: "1", 2: "2"}),
                html.Div(id="ow-details", className="details"),
            ]),
            html.Div(children=[
                html.Div(id="ow-status", className="status"),
                html.Div(className="cards", children=[
                    _card("l1", "w_L1 = sign(ŵ)·max(|ŵ| − λ/(2a), 0)", "ow-w-l1", "ow-w-l1-note"),
                    _card("l2", "w_L2 = ŵ·a/(a + λ)", "ow-w-l2", "ow-w-l2-note"),
                    _card("star", "λ* = 2·a·|ŵ| (L1 snaps to 0)", "ow-lam-star",
                          note="a = mean(x²)"),
                ]),
                html.Div(className="figs", children=[_graph("ow-fig-loss"),
                                                     _graph("ow-fig-lam")]),
            ]),
        ]),
    ])


def gradient_view():
    from dash import dcc, html

    return html.Div(className="view", children=[
        html.P(className="intro", children=(
            "The same one-weight data, solved step by step from w₀ = 1. Subgradient descent "
            "adds a push of constant size λ and overshoots 0 again and again; the proximal step "
            "(ISTA) soft-thresholds and lands on exactly 0.0; L2's push 2λw fades near 0, so "
            "gradient descent approaches w_L2 geometrically. Play, pause or step.")),
        html.Div(className="grid", children=[
            html.Div(className="panel controls", children=[
                html.Div(className="control", children=[
                    html.Label("method", htmlFor="gd-method"),
                    dcc.RadioItems(id="gd-method", value="ista", options=[
                        {"label": "subgradient descent (L1)", "value": "subgradient"},
                        {"label": "proximal gradient, ISTA (L1)", "value": "ista"},
                        {"label": "gradient descent (L2)", "value": "l2"}]),
                ]),
                _slider("gd-lam", "λ (penalty strength)", marks={0: "0", 0.5: "0.5", 1: "1",
                                                                  1.5: "1.5"}),
                _slider("gd-step", "step size", "the claim uses 0.1; near 1/L = 1/(2·mean(x²)) "
                        "one step solves the quadratic part",
                        marks={0.01: "0.01", 0.5: "0.5", 1: "1"}),
                html.Div(className="buttons", children=[
                    html.Button("Play", id="gd-play", className="btn primary", n_clicks=0),
                    html.Button("Step", id="gd-next", className="btn", n_clicks=0),
                    html.Button("Reset", id="gd-reset", className="btn", n_clicks=0),
                ]),
                dcc.Interval(id="gd-timer", interval=100, disabled=True, n_intervals=0),
                dcc.Store(id="gd-k", data=GD_ITERATIONS),
            ]),
            html.Div(children=[
                html.Div(className="cards", children=[
                    _card("plain", "iteration", "gd-iter"),
                    _card("l1", "w_k", "gd-w"),
                    _card("star", "w_k exactly 0?", "gd-zero"),
                    html.Div(className="card l2", children=[
                        html.Div("w (closed form)", id="gd-target-label", className="name"),
                        html.Div("-", id="gd-target", className="value"),
                        html.Div("the minimizer the iterates should reach", className="note")]),
                ]),
                html.Div(id="gd-note", className="status"),
                html.Div(className="figs", children=[_graph("gd-fig-loss"),
                                                     _graph("gd-fig-iter")]),
            ]),
        ]),
    ])


def geometry_view():
    from dash import html

    return html.Div(className="view", children=[
        html.P(className="intro", children=(
            "Two correlated features. The least-squares loss has elliptical contours around the "
            "unregularized optimum β̂; the constrained optimum is where the smallest contour "
            "touches the L1 diamond or the L2 circle of budget t. The diamond's corners lie on "
            "the axes, where a coordinate is exactly 0; the circle has none. Optima are exact "
            "(regulab.report.claims.geometry: active-set KKT for L1, root-finding for L2).")),
        html.Div(className="grid", children=[
            html.Div(className="panel controls", children=[
                _slider("geo-b1", "β̂₁ (unregularized optimum)", marks={-2: "-2", 0: "0",
                                                                          2: "2"}),
                _slider("geo-b2", "β̂₂", marks={-2: "-2", 0: "0", 2: "2"}),
                _slider("geo-rho", "correlation of the two features", "measured value below",
                        marks={-0.9: "-0.9", 0: "0", 0.9: "0.9"}),
                _slider("geo-t", "budget t", "|w₁|+|w₂| ≤ t and w₁²+w₂² ≤ t²",
                        marks={0.05: "0.05", 1: "1", 2: "2"}),
            ]),
            html.Div(children=[
                html.Div(className="cards", children=[
                    _card("l1", "L1-constrained optimum (w₁, w₂)", "geo-w-l1", "geo-zero-l1",
                          small=True),
                    _card("l2", "L2-constrained optimum (w₁, w₂)", "geo-w-l2", "geo-zero-l2",
                          small=True),
                    _card("plain", "equivalent penalty λ: L1", "geo-lam-l1",
                          note="the Lagrangian λ of the budget"),
                    _card("plain", "equivalent penalty λ: L2", "geo-lam-l2"),
                    _card("plain", "feature correlation (measured)", "geo-corr"),
                ]),
                html.Div(className="figs one", children=[_graph("geo-fig")]),
            ]),
        ]),
    ])


def data_view(max_upload_bytes: int):
    from dash import dcc, html

    cap = (f"{max_upload_bytes / 2**20:g} MiB" if max_upload_bytes >= 2**20 else
           f"{max_upload_bytes / 1024:g} KiB")
    return html.Div(className="view", children=[
        html.P(className="intro", children=(
            "A built-in dataset or your own table (CSV, TSV or Parquet, read in memory, at most "
            f"{cap}). The whole coefficient path and its cross-validation curve are "
            "computed once per dataset, target and penalty (regulab.selection.cv.fit_cv, 5 folds) and "
            "cached; the λ slider then moves along them. Features are standardized.")),
        html.Div(className="grid", children=[
            html.Div(className="panel controls", children=[
                html.Div(className="control", children=[
                    html.Label("dataset", htmlFor="data-source"),
                    dcc.Dropdown(id="data-source", value="diabetes", clearable=False,
                                 options=[{"label": n, "value": n} for n in BUILTIN_CHOICES]),
                ]),
                html.Div(className="control", children=[
                    dcc.Upload(id="data-upload", className="upload", multiple=False,
                               children=html.Div(["Drop a table here or ", html.B("choose a file"),
                                                  f" (CSV/TSV/Parquet, ≤ {cap})"])),
                    html.Div(id="data-upload-msg", className="msg"),
                    dcc.Store(id="data-upload-payload"),
                ]),
                html.Div(className="control", children=[
                    html.Label("target (column to predict)", htmlFor="data-target"),
                    dcc.Dropdown(id="data-target", clearable=False),
                ]),
                html.Div(className="control", children=[
                    html.Label("penalty", htmlFor="data-penalty"),
                    dcc.RadioItems(id="data-penalty", value="l1", options=[
                        {"label": "L1 (lasso)", "value": "l1"},
                        {"label": "L2 (ridge)", "value": "l2"},
                        {"label": "elastic net (0.5)", "value": "elasticnet"}]),
                ]),
                html.Div(className="control", children=[
                    html.Label("λ along the path (left: small λ)", htmlFor="data-lam"),
                    dcc.Slider(id="data-lam", min=0, max=99, step=1, value=50, marks=None,
                               updatemode="drag"),
                ]),
            ]),
            html.Div(children=[
                dcc.Loading(type="dot", children=html.Div(id="data-status", className="msg")),
                dcc.Store(id="data-view"),
                html.Div(className="cards", children=[
                    _card("plain", "λ", "data-lam-value"),
                    _card("l1", "features kept", "data-kept"),
                    _card("star", "coefficients exactly 0", "data-zeros"),
                    _card("l2", "CV error at λ (± SE)", "data-cv"),
                ]),
                html.Div(id="data-rule", className="details"),
                html.Div(className="figs", children=[
                    _graph("data-fig-path"), _graph("data-fig-cv"),
                    html.Div(className="wide", children=_graph("data-fig-coef"))]),
            ]),
        ]),
    ])


def nn_view(enabled: bool, session_id: str):
    from dash import dcc, html

    if not enabled:
        return html.Div(className="view", children=[html.Div(className="status", children=(
            "The neural-net view needs PyTorch: pip install 'regulab[nn]' (or torch), then "
            "restart regulab app."))])
    return html.Div(className="view", children=[
        html.P(className="intro", children=(
            "Nielsen's sigmoid MLP (64-30-10, N(0, 1) weights, SGD, batch 10, lr 0.5) on "
            "scikit-learn's digits, 1200 training images, trained here one epoch at a time. λ is "
            "Nielsen's: (λ/n)·Σ|w| for L1, (λ/2n)·Σw² for L2. Change λ or the penalty while it "
            "trains: the weights are kept, training goes on. The proximal L1 step gives exact "
            "zeros; the subgradient only near-zeros.")),
        html.Div(className="grid", children=[
            html.Div(className="panel controls", children=[
                html.Div(className="control", children=[
                    html.Label("penalty", htmlFor="nn-penalty"),
                    dcc.RadioItems(id="nn-penalty", value="l1-prox", options=[
                        {"label": "L1, proximal step (exact zeros)", "value": "l1-prox"},
                        {"label": "L1, subgradient in the loss", "value": "l1-sub"},
                        {"label": "L2 (weight decay)", "value": "l2"},
                        {"label": "no penalty", "value": "none"}]),
                ]),
                _slider("nn-lam", "λ (Nielsen's scale)", marks={0: "0", 1: "1", 2: "2",
                                                                 5: "5"}),
                html.Div(className="buttons", children=[
                    html.Button("Start training", id="nn-run", className="btn primary",
                                n_clicks=0),
                    html.Button("Reset", id="nn-reset", className="btn", n_clicks=0),
                ]),
                dcc.Interval(id="nn-timer", interval=400, disabled=True, n_intervals=0),
                dcc.Store(id="nn-session", data=session_id),
            ]),
            html.Div(children=[
                html.Div(className="cards", children=[
                    _card("plain", "epoch", "nn-epoch"),
                    _card("l1", "l1 on regulab's scale (λ/n)", "nn-l1", small=True),
                    _card("l2", "l2 on regulab's scale (λ/2n)", "nn-l2", small=True),
                    _card("star", "weights exactly 0", "nn-zero", small=True),
                    _card("plain", "|w| < 0.001", "nn-below"),
                    _card("plain", "test accuracy", "nn-acc"),
                ]),
                html.Div(id="nn-note", className="status"),
                html.Div(className="figs", children=[_graph("nn-fig-hist"),
                                                     _graph("nn-fig-history")]),
            ]),
        ]),
    ])


def build_layout(*, nn_enabled: bool, max_upload_bytes: int, session_id: str):
    """The page: header, tabs and every view (a fresh session id for each page load)."""
    from dash import dcc, html

    bodies = {"one-weight": one_weight_view(), "gradient": gradient_view(),
              "geometry": geometry_view(), "data": data_view(max_upload_bytes),
              "neural-net": nn_view(nn_enabled, session_id)}
    return html.Div(children=[
        dcc.Location(id="url", refresh=False),
        html.Div(className="header", children=[
            html.H1("regulab lab"),
            html.Span("why L1 gives exact zeros while L2 only shrinks: move a slider and watch",
                      className="tagline"),
        ]),
        html.Div(className="page", children=[
            dcc.Tabs(id="tabs", value="one-weight", className="tabs-bar", children=[
                dcc.Tab(label=v["label"], value=v["id"], id=f"tab-{v['id']}",
                        children=bodies[v["id"]]) for v in VIEWS]),
        ]),
    ])
