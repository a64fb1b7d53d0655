"""View "Gradient descent": the one-weight problem solved step by step, animated.

Three recorded runs of :mod:`regulab.solvers` from ``w0 = 1`` (the gradient-view claim's data and
start) on::

    MSE(w) + lam |w|    subgradient descent, or proximal gradient (ISTA)
    MSE(w) + lam w**2   gradient descent

against the closed-form minimizers of :mod:`regulab.core.onedim`. The animation's counter runs in
the browser (:func:`gd_clock_js`), so a click and a timer tick can never overtake each other.
"""

from __future__ import annotations

import functools

import numpy as np

from regulab.app import figures as F
from regulab.app.figures import ACCENT, LOSS_COLOR, ZERO_COLOR
from regulab.app.views.one_weight import one_weight_data, penalty_curve
from regulab.app.widgets import (
    as_patch,
    card,
    clamp,
    figure_parts,
    graph,
    index,
    register_sliders,
    slider,
)

ID, LABEL, PATH = "gradient", "Gradient descent", "/gradient-descent"

SLIDERS = {
    "gd-lam": {"min": 0.0, "max": 1.5, "step": 0.01, "value": 0.5},
    "gd-step": {"min": 0.01, "max": 1.0, "step": 0.01, "value": 0.1},
}

#: iterations of the animation (the page opens on the finished run)
GD_ITERATIONS = 200

GD_METHODS = {
    "subgradient": "Subgradient descent on MSE + λ|w|",
    "ista": "Proximal gradient (ISTA) on MSE + λ|w|",
    "l2": "Gradient descent on MSE + λw²",
}

#: the figures' keys: the colours are the ones :mod:`regulab.app.figures` draws with (every
#: method's iterates in one grey; green only where w_k is exactly 0)
KEYS = {
    "gd-fig-loss": [("objective", LOSS_COLOR, "solid"),
                    ("path of w₀…w_k", F.GD_PATH_COLOR, "solid"),
                    ("latest 30 iterates", F.GD_PATH_COLOR, "●"),
                    ("minimum (closed form)", ACCENT, "★"),
                    ("current iterate (green: exactly 0)", ZERO_COLOR, "●")],
    "gd-fig-iter": [("w_k", F.GD_PATH_COLOR, "solid"), ("w_k exactly 0", ZERO_COLOR, "solid"),
                    ("closed form", ACCENT, "dash")],
}


def _gd_setup() -> dict:
    from regulab.report.claims.gradient_view import DEFAULTS

    return {"n": DEFAULTS["n"], "w_true": DEFAULTS["w_true"], "w0": DEFAULTS["w0"],
            "n_iter": GD_ITERATIONS, "tail": DEFAULTS["tail"]}


GD = _gd_setup()


# ----------------------------------------------------------------------------- pure result

def _solve(method: str, lam: float, step: float):
    """``(data, penalty, closed-form minimizer, trace or error text)`` of one run."""
    from regulab.core.onedim import w_l1, w_l2
    from regulab.core.penalties import L1, L2
    from regulab.solvers import gradient_descent, ista, subgradient_descent

    data = one_weight_data(GD["w_true"], 1.0)
    penalty = L2(lam) if method == "l2" else L1(lam)
    solver = {"subgradient": subgradient_descent, "ista": ista, "l2": gradient_descent}[method]
    target = (w_l2 if method == "l2" else w_l1)(data.a, data.w_hat, lam)
    try:
        res = solver(data.X, data.y, penalty=penalty, step=step, max_iter=GD["n_iter"], tol=0.0,
                     w0=[GD["w0"]])
    except FloatingPointError as exc:
        return data, penalty, target, str(exc)
    return data, penalty, target, res.trace


@functools.lru_cache(maxsize=256)
def gd_result(method: str, lam: float, step: float) -> dict:
    """One recorded run of the chosen solver (the claim's data, start and step), its objective
    over w and the closed-form minimizer ``target``. ``error`` is set when the solver diverged
    (then ``w`` and the curves are absent)."""
    from regulab.core.onedim import mse_curve, symmetric_grid

    if method not in GD_METHODS:
        raise ValueError(f"unknown method {method!r}")
    data, penalty, target, trace = _solve(method, lam, step)
    out = {"method": method, "method_name": GD_METHODS[method], "lam": lam, "step": step,
           "target": target, "objective_name": f"MSE + {F.num(lam, '.2f')}·" + (
               "w²" if method == "l2" else "|w|"),
           "error": trace if isinstance(trace, str) else None}
    if out["error"]:
        return out
    w = trace.w[:, 0]
    obj = np.asarray(trace.objective)
    if np.max(np.abs(w)) > 1e3:  # finite, but running away: as good as diverged
        out["error"] = (f"the iterates grow without bound (|w| = {np.max(np.abs(w)):.3g} by "
                        f"iteration {len(w) - 1}): step {step:g} is too large for λ = {lam:g}")
        return out
    lo = min(-0.6, float(w.min()) - 0.1)
    hi = max(1.2, float(w.max()) + 0.1)
    grid = symmetric_grid(lo, hi, (hi - lo) / 200.0)
    curve = mse_curve(data, grid) + penalty_curve(penalty, grid)
    target_obj = float(mse_curve(data, [target])[0] + penalty.value(np.array([target])))
    span = float(w.max() - min(w.min(), 0.0, target)) or 1.0
    out.update({
        "w": w.tolist(), "objective": obj.tolist(), "grid": grid.tolist(),
        "curve": curve.tolist(), "target_objective": target_obj,
        "curve_range": [float(curve.min()) - 0.05 * float(np.ptp(curve) or 1.0),
                        float(min(curve.max(), max(obj.max(), curve.min() + 0.6)) * 1.05)],
        "w_range": [min(w.min(), 0.0, target) - 0.08 * span,
                    max(w.max(), 0.0, target) + 0.08 * span],
    })
    return out


# ----------------------------------------------------------------------------- update

def gd_readout(r: dict, k: int) -> tuple:
    """``(iteration, w_k, exactly-0 text, target label, target, note)`` at iteration k."""
    w = r["w"]
    wk = w[k]
    label = "w_L2 (closed form)" if r["method"] == "l2" else "w_L1 (closed form)"
    zero = "yes, exactly 0.0" if wk == 0.0 else "no"
    sign_changes = sum(1 for i in range(1, k + 1) if (w[i - 1] > 0) != (w[i] > 0)
                       or (w[i] == 0) != (w[i - 1] == 0))
    if r["method"] == "ista":
        first = next((i for i in range(k + 1) if w[i] == 0.0), None)
        note = (f"soft-thresholding set w to exactly 0.0 at iteration {first}; it stays there"
                if first is not None else "no exact zero yet" if r["target"] == 0.0 else
                "λ < λ*: the minimizer is not 0, ISTA converges to it")
    elif r["method"] == "subgradient":
        exact = sum(1 for i in range(k + 1) if w[i] == 0.0)
        note = (f"{sign_changes} crossings of 0 so far, exactly 0 at {exact} of {k + 1} iterates: "
                f"the constant push ±λ overshoots" if r["target"] == 0.0 else
                f"{sign_changes} crossings of 0 so far; λ < λ*, the minimizer is not 0")
    else:
        note = f"|w_k − w_L2| = {F.num(abs(wk - r['target']), '.3g')}: geometric approach, never 0"
    return (f"{k} / {len(w) - 1}", F.fmt_w(wk, 6), zero, label, F.fmt_w(r["target"]), note)


def update_gd_figures(k, method, lam, step):
    """Outputs of the gradient-descent view at iteration k: ``(readout, loss figure, iterations
    figure)``."""
    lam = clamp(SLIDERS["gd-lam"], lam)
    step = clamp(SLIDERS["gd-step"], step)
    r = gd_result(method if isinstance(method, str) and method in GD_METHODS else "ista", lam,
                  step)
    if r["error"]:
        msg = f"diverged: {r['error']}"
        fig = F.empty(GD_METHODS[r["method"]], "step too large: the iterates diverge",
                      height=400)
        return (("-", "-", "-", "w (closed form)", F.fmt_w(r["target"]), msg), fig, fig)
    k = index(k, len(r["w"]))
    return gd_readout(r, k), F.gd_loss(r, k), F.gd_iterations(r, k)


#: where the figures of :func:`update_gd_figures` depend on the iteration k (loss figure,
#: iterations figure): an animation tick sends these parts only (a Dash patch)
K_PARTS = ([("data", 1, "x"), ("data", 1, "y"), ("data", 2, "x"), ("data", 2, "y"),
            ("data", 4, "x"), ("data", 4, "y"), ("data", 4, "marker", "color"),
            ("data", 4, "name")],
           [("data", 1, "x"), ("data", 1, "y"), ("data", 2, "x"), ("data", 2, "y"),
            ("data", 2, "mode")])


def gd_tick_updates(k, method, lam, step):
    """:func:`update_gd_figures` at iteration k, each figure as its :data:`K_PARTS`
    assignments (see :func:`regulab.app.widgets.figure_parts`); None when the run diverged
    (its figures do not depend on k)."""
    readout, *figs = update_gd_figures(k, method, lam, step)
    if readout[0] == "-":
        return None
    return (readout, *(figure_parts(fig, parts) for fig, parts in zip(figs, K_PARTS)))


def gd_next_k(trigger, k, playing):
    """The animation's iteration counter: ``(k, timer disabled, play-button label)``.

    The app runs the same logic in the browser (:func:`gd_clock_js`), so that a click and a timer
    tick can never overtake each other on the network; this is its reference."""
    n = GD["n_iter"]
    k = int(k or 0)
    if trigger == "gd-reset":
        return 0, True, "Play"
    if trigger == "gd-play":
        if playing:
            return k, True, "Play"
        return (0 if k >= n else k), False, "Pause"
    if trigger == "gd-next":
        return min(k + 1, n), True, "Play"
    if trigger == "gd-timer":
        k = min(k + 1, n)
        return k, k >= n, ("Play" if k >= n else "Pause")
    return k, not playing, ("Pause" if playing else "Play")


def gd_clock_js(n_iter: int) -> str:
    """:func:`gd_next_k` as a client-side callback (no round trip, clicks and ticks in order)."""
    return f"""
function(ticks, play, next, reset, k, disabled) {{
    var dc = window.dash_clientside, n = {int(n_iter)}, playing = !disabled;
    // a click and a tick can arrive in one batch: the click wins (reset, play, step, tick)
    var ids = (dc.callback_context.triggered || []).map(function(t) {{
        return (t.prop_id || "").split(".")[0]; }});
    var id = ["gd-reset", "gd-play", "gd-next", "gd-timer"].find(function(x) {{
        return ids.indexOf(x) >= 0; }});
    k = k || 0;
    if (id === "gd-reset") {{ return [0, true, "Play"]; }}
    if (id === "gd-play") {{
        if (playing) {{ return [k, true, "Play"]; }}
        return [k >= n ? 0 : k, false, "Pause"];
    }}
    if (id === "gd-next") {{ return [Math.min(k + 1, n), true, "Play"]; }}
    if (id === "gd-timer") {{
        if (!playing) {{ return [dc.no_update, dc.no_update, dc.no_update]; }}
        k = Math.min(k + 1, n);
        return [k, k >= n, k >= n ? "Play" : "Pause"];
    }}
    return [dc.no_update, dc.no_update, dc.no_update];
}}
"""


# ----------------------------------------------------------------------------- layout and wiring

def _controls():
    from dash import dcc, html

    return html.Div(className="panel controls", children=[
        html.Div(className="control", children=[
            html.Label("method", htmlFor="gd-method"),
            dcc.RadioItems(id="gd-method", value="ista", options=[
                {"label": "subgradient descent (L1)", "value": "subgradient"},
                {"label": "proximal gradient, ISTA (L1)", "value": "ista"},
                {"label": "gradient descent (L2)", "value": "l2"}]),
        ]),
        slider("gd-lam", SLIDERS["gd-lam"], "λ (penalty strength)",
               marks={0: "0", 0.5: "0.5", 1: "1", 1.5: "1.5"}),
        slider("gd-step", SLIDERS["gd-step"], "step size", "the claim uses 0.1; near 1/L = "
               "1/(2·mean(x²)) one step solves the quadratic part",
               marks={0.01: "0.01", 0.5: "0.5", 1: "1"}),
        html.Div(className="buttons", children=[
            html.Button("Play", id="gd-play", className="btn primary", n_clicks=0),
            html.Button("Step", id="gd-next", className="btn", n_clicks=0),
            html.Button("Reset", id="gd-reset", className="btn", n_clicks=0),
        ]),
        dcc.Interval(id="gd-timer", interval=100, disabled=True, n_intervals=0),
        dcc.Store(id="gd-k", data=GD_ITERATIONS),
    ])


def layout(state, session_id: str):
    from dash import html

    return html.Div(className="view", children=[
        html.P(className="intro", children=(
            "The same one-weight data, solved step by step from w₀ = 1. Subgradient descent "
            "adds a push of constant size λ and overshoots 0 again and again; the proximal step "
            "(ISTA) soft-thresholds and lands on exactly 0.0; L2's push 2λw fades near 0, so "
            "gradient descent approaches w_L2 geometrically. Play, pause or step.")),
        html.Div(className="grid", children=[
            _controls(),
            html.Div(children=[
                html.Div(className="cards", children=[
                    card("plain", "iteration", "gd-iter"),
                    card("l1", "w_k", "gd-w"),
                    card("star", "w_k exactly 0?", "gd-zero"),
                    html.Div(className="card l2", children=[
                        html.Div("w (closed form)", id="gd-target-label", className="name"),
                        html.Div("-", id="gd-target", className="value"),
                        html.Div("the minimizer the iterates should reach", className="note")]),
                ]),
                html.Div(id="gd-note", className="status"),
                html.Div(className="figs", children=[
                    graph("gd-fig-loss", KEYS["gd-fig-loss"]),
                    graph("gd-fig-iter", KEYS["gd-fig-iter"])]),
            ]),
        ]),
    ])


def register(app, state) -> None:
    from dash import Input, Output, State, ctx
    from dash.exceptions import PreventUpdate

    register_sliders(app, SLIDERS)
    app.clientside_callback(
        gd_clock_js(GD["n_iter"]),
        Output("gd-k", "data"), Output("gd-timer", "disabled"), Output("gd-play", "children"),
        Input("gd-timer", "n_intervals"), Input("gd-play", "n_clicks"),
        Input("gd-next", "n_clicks"), Input("gd-reset", "n_clicks"),
        State("gd-k", "data"), State("gd-timer", "disabled"), prevent_initial_call=True)

    @app.callback(
        Output("gd-iter", "children"), Output("gd-w", "children"),
        Output("gd-zero", "children"), Output("gd-target-label", "children"),
        Output("gd-target", "children"), Output("gd-note", "children"),
        Output("gd-fig-loss", "figure"), Output("gd-fig-iter", "figure"),
        Input("gd-k", "data"), Input("gd-method", "value"), Input("gd-lam", "value"),
        Input("gd-step", "value"))
    def _gd(k, method, lam, step):
        if lam is None or step is None:
            raise PreventUpdate
        # a tick of the animation (or Step) moves along the same run: send what moves only
        tick = (gd_tick_updates(k, method, lam, step)
                if set(ctx.triggered_prop_ids) == {"gd-k.data"} else None)
        if tick is not None:
            readout, *figs = tick
            return (*readout, *(as_patch(f) for f in figs))
        readout, f1, f2 = update_gd_figures(k, method, lam, step)
        return (*readout, f1, f2)
