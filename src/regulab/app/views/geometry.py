"""View "Geometry": two correlated features, the L1 diamond and the L2 circle.

For the geometry claim's seeded least-squares problem with ``H = X^T X / n`` and least-squares
weights ``beta_hat`` (:func:`regulab.core.geometry.make_2d_problem`), the exact optima of::

    min_w (w - beta_hat)^T H (w - beta_hat)   s.t.  |w1| + |w2| <= t       (L1)
                                              s.t.  w1**2 + w2**2 <= t**2  (L2)

(:func:`regulab.core.geometry.l1_constrained`, :func:`~regulab.core.geometry.l2_constrained`),
their Lagrange multipliers lam, and the loss's contour lines.
"""

from __future__ import annotations

import functools

import numpy as np

from regulab.app import figures as F
from regulab.app.figures import L1_COLOR, L2_COLOR, ZERO_COLOR
from regulab.app.widgets import (
    as_patch,
    card,
    clamp,
    figure_parts,
    graph,
    register_sliders,
    slider,
)

ID, LABEL, PATH = "geometry", "Geometry", "/geometry"

SLIDERS = {
    "geo-b1": {"min": -2.0, "max": 2.0, "step": 0.05, "value": 1.6},
    "geo-b2": {"min": -2.0, "max": 2.0, "step": 0.05, "value": 0.6},
    "geo-rho": {"min": -0.9, "max": 0.9, "step": 0.05, "value": 0.5},
    "geo-t": {"min": 0.05, "max": 2.5, "step": 0.05, "value": 0.8},
}

KEYS = {
    "geo-fig": [("loss contours", "#aaaaaa", "solid"), ("L1 diamond", L1_COLOR, "area"),
                ("L2 circle", L2_COLOR, "area"), ("contour at the L1 optimum", L1_COLOR, "dash"),
                ("contour at the L2 optimum", L2_COLOR, "dash"),
                ("unregularized optimum β̂", "#222", "✕"),
                ("L1 optimum (green: a coordinate is exactly 0)", ZERO_COLOR, "◆"),
                ("L2 optimum", L2_COLOR, "■")],
}


def _geo_defaults():
    from regulab.report.claims.geometry import DEFAULTS

    return {"n": DEFAULTS["n"], "noise": DEFAULTS["noise"], "seed": 0}


GEO = _geo_defaults()


# ----------------------------------------------------------------------------- pure result

@functools.lru_cache(maxsize=512)
def geometry_problem(b1: float, b2: float, rho: float):
    """``(H, beta_hat)`` of the claim's seeded 2-feature least-squares problem."""
    from regulab.core.geometry import make_2d_problem

    _, _, H, b = make_2d_problem(np.random.default_rng(GEO["seed"]), (b1, b2), rho, GEO["n"],
                                 GEO["noise"])
    return H, b


def _polylines(gen, level) -> tuple[list, list]:
    """The contour lines of one level as x and y lists, lines separated by None (plotly)."""
    xs, ys = [], []
    for chunk in gen.lines(level)[0]:
        if chunk is None:
            continue
        pts = np.round(chunk, 4)
        finite = np.isfinite(pts[:, 0])
        xs += [float(v) if f else None for v, f in zip(pts[:, 0], finite)] + [None]
        ys += [float(v) if f else None for v, f in zip(pts[:, 1], finite)] + [None]
    return xs, ys


def _contours(H, b, lim: float, losses) -> dict:
    """Ten grey contour levels over the window ``[-lim, lim]^2`` and the contour through each
    optimum (``losses``: the loss at the L1 and the L2 optimum), traced by contourpy on a grid
    of :func:`regulab.core.geometry.quad_loss`."""
    from contourpy import contour_generator

    from regulab.core.geometry import quad_loss

    xs = np.linspace(-1.3 * lim, 1.3 * lim, 81)      # beyond the window: contours fill it
    G1, G2 = np.meshgrid(xs, xs)
    Z = quad_loss(np.stack([G1, G2], axis=-1), H, b)
    inside = np.abs(xs) <= lim
    zmax = float(np.percentile(Z[np.ix_(inside, inside)], 75)) or 1.0
    gen = contour_generator(xs, xs, Z, line_type="ChunkCombinedNan")
    grey_x, grey_y = [], []
    for level in np.linspace(zmax / 10, zmax, 10):
        x, y = _polylines(gen, level)
        grey_x += x
        grey_y += y
    l1, l2 = (_polylines(gen, loss) if loss > 0 else ([], []) for loss in losses)
    return {"levels": (grey_x, grey_y), "l1": l1, "l2": l2}


def geometry_result(b1: float, b2: float, rho: float, t: float) -> dict:
    """Exact L1- and L2-constrained optima (:mod:`regulab.core.geometry`) and the loss's contour
    lines.

    Keys: ``w_l1``, ``w_l2`` (the optima), ``lam_l1``, ``lam_l2`` (their multipliers, 0 when the
    budget does not bind), ``loss_l1``, ``loss_l2``, ``zero_l1``, ``zero_l2`` (names of the
    coordinates exactly 0), ``beta_hat``, ``H``, ``corr``, ``limit`` (the window) and
    ``contours``.
    """
    from regulab.core.geometry import l1_constrained, l2_constrained, quad_loss

    H, b = geometry_problem(b1, b2, rho)
    w1, lam1 = l1_constrained(H, b, t)
    w2, lam2 = l2_constrained(H, b, t)
    lim = float(max(abs(b[0]), abs(b[1]), t) * 1.15 + 0.35)
    loss1, loss2 = float(quad_loss(w1, H, b)), float(quad_loss(w2, H, b))
    names = ["w₁", "w₂"]
    return {
        "t": t, "beta_hat": b.tolist(), "H": H.tolist(), "corr": float(H[0, 1]),
        "w_l1": w1.tolist(), "w_l2": w2.tolist(), "lam_l1": lam1, "lam_l2": lam2,
        "loss_l1": loss1, "loss_l2": loss2,
        "zero_l1": [names[j] for j in range(2) if w1[j] == 0.0],
        "zero_l2": [names[j] for j in range(2) if w2[j] == 0.0],
        "limit": lim, "contours": _contours(H, b, lim, (loss1, loss2)),
    }


# ----------------------------------------------------------------------------- update

def _pair(w) -> str:
    return "(" + ", ".join(F.fmt_w(v) for v in w) + ")"


def _zero_text(zeros, inside) -> str:
    if inside:
        return "budget not binding: the unregularized optimum lies inside"
    if zeros:
        return " and ".join(zeros) + " exactly 0"
    return "no coordinate is 0"


def corr_hint(corr) -> str:
    """The correlation slider's hint: the correlation the seeded data really have (None: not
    computed yet)."""
    return f"measured on the data: {'-' if corr is None else F.num(corr, '.3f')}"


def update_geometry(b1, b2, rho, t):
    """``(w_L1, its zero text, its zero class, w_L2, its zero text, its zero class, lam_L1,
    lam_L2, correlation, figure, correlation hint)``; the classes are ``"zero"`` or ``""``."""
    b1, b2 = clamp(SLIDERS["geo-b1"], b1), clamp(SLIDERS["geo-b2"], b2)
    rho, t = clamp(SLIDERS["geo-rho"], rho), clamp(SLIDERS["geo-t"], t)
    r = geometry_result(b1, b2, rho, t)
    in1, in2 = r["lam_l1"] == 0.0, r["lam_l2"] == 0.0
    return (_pair(r["w_l1"]), _zero_text(r["zero_l1"], in1),
            "zero" if r["zero_l1"] and not in1 else "",
            _pair(r["w_l2"]), _zero_text(r["zero_l2"], in2),
            "zero" if r["zero_l2"] and not in2 else "",
            F.num(r["lam_l1"]), F.num(r["lam_l2"]), F.num(r["corr"], ".3f"),
            F.geometry(r), corr_hint(r["corr"]))


def window_key(b1, b2, rho, t) -> list:
    """What the grey contour lines depend on: beta-hat, the correlation and the window (which
    follows t only when t is the widest of the three); the same key, the same grey lines."""
    b1, b2 = clamp(SLIDERS["geo-b1"], b1), clamp(SLIDERS["geo-b2"], b2)
    rho, t = clamp(SLIDERS["geo-rho"], rho), clamp(SLIDERS["geo-t"], t)
    return [b1, b2, rho, geometry_result(b1, b2, rho, t)["limit"]]


#: the figure's parts a budget move changes when the window stays (every trace but the grey
#: contour lines, three quarters of the figure's bytes)
T_PARTS = [("data", i) for i in range(1, 8)]


# ----------------------------------------------------------------------------- layout and wiring

def layout(state, session_id: str):
    from dash import dcc, html

    return html.Div(className="view", children=[
        html.P(className="intro", children=(
            "Two correlated features. The least-squares loss has elliptical contours around the "
            "unregularized optimum β̂; the constrained optimum is where the smallest contour "
            "touches the L1 diamond or the L2 circle of budget t. The diamond's corners lie on "
            "the axes, where a coordinate is exactly 0; the circle has none. Optima are exact "
            "(regulab.core.geometry: active-set KKT for L1, root-finding for L2).")),
        html.Div(className="grid", children=[
            html.Div(className="panel controls", children=[
                slider("geo-b1", SLIDERS["geo-b1"], "β̂₁ (unregularized optimum)",
                       marks={-2: "-2", 0: "0", 2: "2"}),
                slider("geo-b2", SLIDERS["geo-b2"], "β̂₂", marks={-2: "-2", 0: "0", 2: "2"}),
                slider("geo-rho", SLIDERS["geo-rho"], "correlation of the two features",
                       corr_hint(None),
                       marks={-0.9: "-0.9", 0: "0", 0.9: "0.9"}),
                slider("geo-t", SLIDERS["geo-t"], "budget t", "|w₁|+|w₂| ≤ t and w₁²+w₂² ≤ t²",
                       marks={0.05: "0.05", 1: "1", 2: "2"}),
            ]),
            html.Div(children=[
                html.Div(className="cards", children=[
                    card("l1", "L1-constrained optimum (w₁, w₂)", "geo-w-l1", "geo-zero-l1",
                         small=True),
                    card("l2", "L2-constrained optimum (w₁, w₂)", "geo-w-l2", "geo-zero-l2",
                         small=True),
                    card("plain", "equivalent penalty λ: L1", "geo-lam-l1",
                         note="the Lagrangian λ of the budget"),
                    card("plain", "equivalent penalty λ: L2", "geo-lam-l2"),
                    card("plain", "feature correlation (measured)", "geo-corr"),
                ]),
                html.Div(className="figs one", children=[
                    graph("geo-fig", KEYS["geo-fig"], square=True)]),
                dcc.Store(id="geo-drawn"),            # window_key of the figure drawn
            ]),
        ]),
    ])


def register(app, state) -> None:
    from dash import Input, Output, State, no_update
    from dash.exceptions import PreventUpdate

    register_sliders(app, SLIDERS)

    @app.callback(
        Output("geo-w-l1", "children"), Output("geo-zero-l1", "children"),
        Output("geo-zero-l1", "className"),
        Output("geo-w-l2", "children"), Output("geo-zero-l2", "children"),
        Output("geo-zero-l2", "className"),
        Output("geo-lam-l1", "children"), Output("geo-lam-l2", "children"),
        Output("geo-corr", "children"), Output("geo-fig", "figure"),
        Output("geo-rho-hint", "children"), Output("geo-drawn", "data"),
        Input("geo-b1", "value"), Input("geo-b2", "value"), Input("geo-rho", "value"),
        Input("geo-t", "value"), State("geo-drawn", "data"))
    def _geometry(b1, b2, rho, t, drawn):
        if None in (b1, b2, rho, t):
            raise PreventUpdate
        out = list(update_geometry(b1, b2, rho, t))
        out[2] = "note " + out[2]
        out[5] = "note " + out[5]
        key = window_key(b1, b2, rho, t)
        if drawn == key:               # same grey contour lines: send the rest only
            return (*out[:9], as_patch(figure_parts(out[9], T_PARTS)), out[10], no_update)
        return (*out, key)
