"""View "One weight": the seed's problem ``y = w x`` with one weight, live.

The minimizers are the closed forms of :mod:`regulab.core.onedim` for ``a = mean(x**2)`` and the
least-squares weight ``w_hat``::

    argmin_w  MSE(w) + lam |w|   =  sign(w_hat) max(|w_hat| - lam / (2a), 0)
    argmin_w  MSE(w) + lam w**2  =  w_hat a / (a + lam)

and the L1 one is exactly 0 from ``lam* = 2 a |w_hat|`` on. The server computes what does not
depend on lam (:func:`one_weight_base`, once per true w and spread); a lam move is redrawn in the
browser by ``assets/one_weight.js`` with the same closed forms (:func:`update_one_weight` is its
reference, compared with it in ``tests/test_app_browser.py``). The script draws a lam move
straight on the live plotly graphs as soon as the slider's thumb shows the new value (its
``aria-valuenow``: a key, the pointer or the number box moved it), ahead of Dash's callback,
which then finds the move drawn and leaves the figures' props as they are (no Dash or React
work for them); the drawing goes through plotly's transition path, which redraws the traces
that moved and not the axes; the loss plot's y axis ends on a few steps per power of ten
(:func:`regulab.app.figures.nice_ceil`) so that most moves keep it. A new true w or spread, or
coming back to the tab, sends the whole figures through Dash.
"""

from __future__ import annotations

import functools

import numpy as np

from regulab.app import figures as F
from regulab.app.figures import L1_COLOR, L2_COLOR, LOSS_COLOR, ZERO_COLOR
from regulab.app.widgets import (
    card,
    clamp,
    graph,
    register_sliders,
    slider,
    step_decimals,
)

ID, LABEL, PATH = "one-weight", "One weight", "/"

SLIDERS = {
    "ow-lam": {"min": 0.0, "max": 2.0, "step": 0.01, "value": 0.5},
    "ow-w": {"min": -1.0, "max": 1.0, "step": 0.05, "value": 0.5},
    "ow-spread": {"min": 0.2, "max": 2.0, "step": 0.05, "value": 1.0},
}

#: the seed's samples: n of them, noise-free, seeded; lam swept up to the slider's end
ONE_WEIGHT = {"n": 100, "noise": 0.0, "seed": 0, "lam_top": SLIDERS["ow-lam"]["max"]}

KEYS = {
    "ow-fig-loss": [("MSE", LOSS_COLOR, "dash"), ("λ|w|", L1_COLOR, "dot"),
                    ("λw²", L2_COLOR, "dot"), ("MSE + λ|w|", L1_COLOR, "solid"),
                    ("MSE + λw²", L2_COLOR, "solid"),
                    ("L1 minimum (green: exactly 0)", ZERO_COLOR, "◆"),
                    ("L2 minimum", L2_COLOR, "■")],
    "ow-fig-lam": [("w_L1(λ)", L1_COLOR, "solid"), ("w_L2(λ)", L2_COLOR, "solid"),
                   ("this λ", "#777", "dot"), ("λ ≥ λ*: L1 exactly 0", ZERO_COLOR, "area"),
                   ("w_L1 at λ", ZERO_COLOR, "◆"), ("w_L2 at λ", L2_COLOR, "■")],
}


# ----------------------------------------------------------------------------- pure result

@functools.lru_cache(maxsize=512)
def one_weight_data(w_true: float, spread: float):
    """The seed's samples ``y = w_true * x``, ``x ~ U(-spread, spread)`` (seeded, noise-free)."""
    from regulab.core.onedim import make_one_weight_data

    return make_one_weight_data(ONE_WEIGHT["n"], w_true, spread, ONE_WEIGHT["noise"],
                                ONE_WEIGHT["seed"])


def penalty_curve(penalty, grid) -> np.ndarray:
    """``penalty.value`` at every point of a 1-D grid (the library's definition, point by point)."""
    return np.array([penalty.value(np.array([w])) for w in grid])


def _w_grid(w_hat: float) -> np.ndarray:
    from regulab.core.onedim import symmetric_grid

    half = 0.5 * max(1.0, abs(w_hat))
    lo, hi = min(0.0, w_hat) - half, max(0.0, w_hat) + half
    return symmetric_grid(lo, hi, (hi - lo) / 200.0)


@functools.lru_cache(maxsize=256)
def _one_weight_curves(w_true: float, spread: float):
    """What does not depend on lam: the w grid, MSE on it, and both minimizers along lam."""
    from regulab.core.onedim import mse_curve, w_l1, w_l2

    data = one_weight_data(w_true, spread)
    grid = _w_grid(data.w_hat)
    lams = np.linspace(0.0, ONE_WEIGHT["lam_top"], 201)
    return (grid, mse_curve(data, grid), lams, w_l1(data.a, data.w_hat, lams),
            w_l2(data.a, data.w_hat, lams))


def one_weight_result(lam: float, w_true: float, spread: float) -> dict:
    """Closed forms of :mod:`regulab.core.onedim` and the seed's curves at one setting.

    Keys: ``a``, ``w_hat``, ``w_l1``, ``w_l2``, ``lam_star``; over the grid ``grid`` of w:
    ``mse``, ``pen_l1`` (lam|w|), ``pen_l2`` (lam w²), ``reg_l1``, ``reg_l2`` (their sums) and
    the regularized losses at the minimizers; along ``lams``: ``sweep_l1``, ``sweep_l2``.
    """
    from regulab.core.onedim import lam_threshold, mse_curve, w_l1, w_l2
    from regulab.core.penalties import L1, L2

    data = one_weight_data(w_true, spread)
    a, w_hat = data.a, data.w_hat
    grid, mse, lams, sweep1, sweep2 = _one_weight_curves(w_true, spread)
    p1, p2 = L1(lam), L2(lam)
    pen1, pen2 = penalty_curve(p1, grid), penalty_curve(p2, grid)
    w1, w2 = w_l1(a, w_hat, lam), w_l2(a, w_hat, lam)
    mse_at = mse_curve(data, [w1, w2])
    return {
        "lam": lam, "w_true": w_true, "spread": spread, "a": a, "w_hat": w_hat,
        "w_l1": w1, "w_l2": w2, "lam_star": lam_threshold(a, w_hat),
        "grid": grid.tolist(), "mse": mse.tolist(), "pen_l1": pen1.tolist(),
        "pen_l2": pen2.tolist(), "reg_l1": (mse + pen1).tolist(), "reg_l2": (mse + pen2).tolist(),
        "reg_l1_at_min": float(mse_at[0] + p1.value(np.array([w1]))),
        "reg_l2_at_min": float(mse_at[1] + p2.value(np.array([w2]))),
        "lams": lams.tolist(), "sweep_l1": sweep1.tolist(), "sweep_l2": sweep2.tolist(),
    }


# ----------------------------------------------------------------------------- update

def update_one_weight(lam, w_true, spread):
    """Outputs of the one-weight view: read-outs, status line and its class, two figures."""
    lam = clamp(SLIDERS["ow-lam"], lam)
    w_true = clamp(SLIDERS["ow-w"], w_true)
    spread = clamp(SLIDERS["ow-spread"], spread)
    r = one_weight_result(lam, w_true, spread)
    w1, w2, lam_star = r["w_l1"], r["w_l2"], r["lam_star"]
    n = F.num
    t = one_weight_texts(r)
    if w1 == 0.0:
        status = (f"λ = {n(lam, '.2f')} ≥ λ* = {n(lam_star)}: the L1 minimizer has snapped to "
                  f"exactly 0. L2 only shrinks: w_L2 = {n(w2)}.")
        cls = "status status-zero"
        note1 = t["note1_zero"]
    else:
        status = (f"λ = {n(lam, '.2f')} < λ* = {n(lam_star)}: L1 shrinks w by λ/(2·mean(x²)) = "
                  f"{n(abs(r['w_hat']) - abs(w1))}; it reaches exactly 0 at λ*. L2 multiplies it "
                  f"by a factor in (0, 1) and never reaches 0.")
        cls = "status"
        note1 = t["note1"]
    return (F.fmt_w(w1), note1, F.fmt_w(w2), t["note2"], t["lam_star"], t["details"], status,
            cls, F.one_weight_losses(r), F.one_weight_minimizers(r))


def one_weight_texts(r: dict) -> dict:
    """The view's texts that do not depend on lam (the browser gets them with the data)."""
    n = F.num
    return {"note1_zero": "exactly 0: λ ≥ λ*", "note1": f"not 0 until λ* = {n(r['lam_star'])}",
            "note2": "never 0 while ŵ ≠ 0" if r["w_hat"] != 0 else "ŵ = 0: the data say w = 0",
            "lam_star": n(r["lam_star"]),
            "details": f"ŵ = {n(r['w_hat'])}, mean(x²) = {n(r['a'])}, n = {ONE_WEIGHT['n']}"}


# ----------------------------------------------------------------------------- in the browser

#: where the view's figures depend on lam (paths into :func:`update_one_weight`'s figures):
#: the browser redraws these for a lam move (``assets/one_weight.js``); everything else is
#: drawn here, for the data, once
LAM_PARTS = {
    "loss": [("data", i, "y") for i in (1, 2, 3, 4)]
    + [("data", i, part) for i in (5, 6) for part in ("x", "y")]
    + [("data", 5, "marker", "color"), ("layout", "yaxis", "range")],
    "lam": [("data", 2, "x")] + [("data", i, part) for i in (3, 4) for part in ("x", "y")]
    + [("data", 3, "marker", "color")],
}


def one_weight_base(w_true, spread) -> dict:
    """What the browser needs to redraw the view at any lam without asking the server: the
    slider's spec, the samples ``x``, ``y`` (their MSE at the minimizers), ``a``, ``w_hat``,
    ``lam_star``, the w grid and the MSE on it, and both figures drawn here at the slider's
    default lam (their :data:`LAM_PARTS` are redrawn there). Same clamping as
    :func:`update_one_weight`."""
    w_true = clamp(SLIDERS["ow-w"], w_true)
    spread = clamp(SLIDERS["ow-spread"], spread)
    lam = SLIDERS["ow-lam"]["value"]
    data = one_weight_data(w_true, spread)
    r = one_weight_result(lam, w_true, spread)
    spec = dict(SLIDERS["ow-lam"], decimals=step_decimals(SLIDERS["ow-lam"]))
    return {"lam_spec": spec, "x": data.x.tolist(), "y": data.y.tolist(), "a": r["a"],
            "w_hat": r["w_hat"], "lam_star": r["lam_star"], "grid": r["grid"], "mse": r["mse"],
            "texts": one_weight_texts(r), "colors": {"l1": L1_COLOR, "zero": ZERO_COLOR},
            "view": ID,
            "loss": F.one_weight_losses(r), "lam": F.one_weight_minimizers(r)}


# ----------------------------------------------------------------------------- layout and wiring

def layout(state, session_id: str):
    from dash import dcc, html

    return html.Div(className="view", children=[
        html.P(className="intro", children=(
            "The seed's problem y = w·x with one weight. Move λ: the L1 minimizer falls in a "
            "straight line and lands on exactly 0 at λ* = 2·mean(x²)·|ŵ|, then stays there; the "
            "L2 minimizer ŵ·a/(a+λ) only shrinks. Every number is a closed form of "
            "regulab.core.onedim.")),
        html.Div(className="grid", children=[
            html.Div(className="panel controls", children=[
                slider("ow-lam", SLIDERS["ow-lam"], "λ (penalty strength)",
                       marks={0: "0", 0.5: "0.5", 1: "1", 1.5: "1.5", 2: "2"}),
                slider("ow-w", SLIDERS["ow-w"], "true w", "y = w·x, no noise",
                       marks={-1: "-1", 0: "0", 0.5: "0.5", 1: "1"}),
                slider("ow-spread", SLIDERS["ow-spread"], "spread of x",
                       "x ~ Uniform(-s, s), 100 samples", marks={0.2: "0.2", 1: "1", 2: "2"}),
                html.Div(id="ow-details", className="details"),
                # drawn with the page: the first figures need no round trip either
                dcc.Store(id="ow-base", data=one_weight_base(SLIDERS["ow-w"]["value"],
                                                             SLIDERS["ow-spread"]["value"])),
            ]),
            html.Div(children=[
                html.Div(id="ow-status", className="status"),
                html.Div(className="cards", children=[
                    card("l1", "w_L1 = sign(ŵ)·max(|ŵ| − λ/(2a), 0)", "ow-w-l1", "ow-w-l1-note"),
                    card("l2", "w_L2 = ŵ·a/(a + λ)", "ow-w-l2", "ow-w-l2-note"),
                    card("star", "λ* = 2·a·|ŵ| (L1 snaps to 0)", "ow-lam-star",
                         note="a = mean(x²)"),
                ]),
                html.Div(className="figs", children=[
                    graph("ow-fig-loss", KEYS["ow-fig-loss"]),
                    graph("ow-fig-lam", KEYS["ow-fig-lam"])]),
            ]),
        ]),
    ])


def register(app, state) -> None:
    from dash import ClientsideFunction, Input, Output
    from dash.exceptions import PreventUpdate

    register_sliders(app, SLIDERS)

    @app.callback(Output("ow-base", "data"), Input("ow-w", "value"),
                  Input("ow-spread", "value"), prevent_initial_call=True)
    def _one_weight_base(w_true, spread):
        if w_true is None or spread is None:
            raise PreventUpdate
        return one_weight_base(w_true, spread)

    # lam moves never leave the browser: the closed forms are a few lines of JavaScript
    # (assets/one_weight.js, served by the app itself, so the CSP's script-src 'self' allows it)
    app.clientside_callback(
        ClientsideFunction(namespace="regulab", function_name="oneWeightView"),
        Output("ow-w-l1", "children"), Output("ow-w-l1-note", "children"),
        Output("ow-w-l2", "children"), Output("ow-w-l2-note", "children"),
        Output("ow-lam-star", "children"), Output("ow-details", "children"),
        Output("ow-status", "children"), Output("ow-status", "className"),
        Output("ow-fig-loss", "figure"), Output("ow-fig-lam", "figure"),
        Input("ow-lam", "value"), Input("ow-base", "data"), Input("tabs", "value"))
