"""View "Neural net": Nielsen's digits MLP trained here, live, one epoch at a time (needs torch).

lam is Nielsen's; on regulab's scale (:mod:`regulab.core.conventions`, ``n`` training images)::

    L1: C0 + (lam / n) * sum |w|          L2: C0 + (lam / (2n)) * sum w**2

Training runs in a background thread per browser session (:class:`regulab.app.state.NNRun`);
the page's timer only reads its latest snapshot. Without torch the view is a one-line note.
"""

from __future__ import annotations

from regulab.app import figures as F
from regulab.app.state import NN, nielsen_convention
from regulab.app.widgets import card, clamp, graph, register_sliders, slider

ID, LABEL, PATH = "neural-net", "Neural net", "/neural-net"

SLIDERS = {"nn-lam": {"min": 0.0, "max": 5.0, "step": 0.1, "value": 1.0}}

#: training methods (not penalty kinds: two ways to train with L1), in the page's order
NN_PENALTIES = {"l1-prox": "L1, proximal step (exact zeros)",
                "l1-sub": "L1, subgradient in the loss", "l2": "L2 (weight decay)",
                "none": "no penalty"}
DEFAULT_KIND = "l1-prox"


def _kind(kind) -> str:
    """A training kind sent by the browser; anything unknown is the default."""
    return kind if isinstance(kind, str) and kind in NN_PENALTIES else DEFAULT_KIND


# ----------------------------------------------------------------------------- pure result

def nn_n_train() -> int:
    """Training images of the run (the neural-net claim's split)."""
    from regulab.report.claims.neural_net import DEFAULTS

    return int(DEFAULTS["n_train"])


def nn_scale(kind: str, lam: float, n: int) -> tuple[float, float]:
    """``(l1, l2)`` on regulab's scale of Nielsen's lam for ``n`` training samples, by
    :mod:`regulab.core.conventions` (the conversion :class:`regulab.nn.NNPenalty` trains with;
    no torch needed): ``(lam/n, 0)`` for either L1 kind, ``(0, lam/(2n))`` for L2."""
    from regulab.core.conventions import get_convention

    conv = nielsen_convention(kind)
    if conv is None:
        return 0.0, 0.0
    s = get_convention(conv).to_regulab({"lam": float(lam)}, n)
    return float(s.l1), float(s.l2)


# ----------------------------------------------------------------------------- update

def nn_readout(run, snap: dict) -> tuple:
    """``(epoch, l1, l2, exactly 0, below tol, accuracy, note)`` of a run's snapshot."""
    l1, l2 = nn_scale(run.kind, run.lam, run.n)
    sp, h = snap["sparsity"], snap["history"]
    if run.error:
        note = f"training stopped: {run.error}"
    elif run.epoch >= NN["max_epochs"]:
        note = f"stopped after {NN['max_epochs']} epochs (Reset to start again)"
    elif run.idle and not run.running:
        note = ("paused: this page stopped asking for news (another view or tab); "
                "Resume training goes on from here")
    elif run.changes:
        note = (f"setting changed at epoch {', '.join(map(str, run.changes[-3:]))}: training "
                f"went on from the current weights")
    else:
        note = "the setting can change while it trains: the weights are kept"
    return (str(snap["epoch"]), F.num(l1, ".4g"), F.num(l2, ".4g"),
            f"{sp['fraction_zero']:.1%} ({sp['exact_zeros']} of {sp['n']})",
            f"{sp['fraction_below_tol']:.1%}", f"{h['accuracy'][-1]:.1%}", note)


def nn_button(run) -> str:
    if run.running:
        return "Pause"
    return "Start training" if run.epoch == 0 or run.finished else "Resume training"


def update_nn(state, sid: str, trigger, kind, lam):
    """Start/pause (the button), reset, a new setting or a timer tick (just read the latest
    snapshot). Returns ``(status, outputs)``: status ``"idle"`` (nothing trained, torch not
    loaded) or ``"ok"``; outputs are ``(running, button label, readout, histogram, history)``,
    all read from the server's state, so a lost response corrects itself at the next tick."""
    lam = clamp(SLIDERS["nn-lam"], lam)
    kind = _kind(kind)
    if trigger in (None, "nn-timer") and state.nn.get(sid, create=False) is None:
        return "idle", None  # first paint: do not load torch before anyone asks for it
    run = state.nn.reset(sid) if trigger == "nn-reset" else state.nn.get(sid)
    run.poll()
    run.set(kind, lam)
    if trigger == "nn-run":
        run.pause() if run.running else run.start()
    snap = run.snapshot()
    return "ok", (run.running, nn_button(run), nn_readout(run, snap), F.nn_histogram(snap),
                  F.nn_history(snap))


def idle_outputs(kind, lam) -> tuple:
    """The callback's outputs before anything is trained (the scale of lam already shown)."""
    l1, l2 = nn_scale(_kind(kind), clamp(SLIDERS["nn-lam"], lam), nn_n_train())
    msg = "press Start training: the digits MLP (64-30-10) trains here, live"
    return (True, "Start training", "0", F.num(l1, ".4g"), F.num(l2, ".4g"), "-", "-", "-", msg,
            F.empty("Weights", "not trained yet"), F.empty("Training so far", ""))


# ----------------------------------------------------------------------------- layout and wiring

def _controls(session_id: str):
    from dash import dcc, html

    return html.Div(className="panel controls", children=[
        html.Div(className="control", children=[
            html.Label("penalty", htmlFor="nn-penalty"),
            dcc.RadioItems(id="nn-penalty", value=DEFAULT_KIND, options=[
                {"label": text, "value": kind} for kind, text in NN_PENALTIES.items()]),
        ]),
        slider("nn-lam", SLIDERS["nn-lam"], "λ (Nielsen's scale)",
               marks={0: "0", 1: "1", 2: "2", 5: "5"}),
        html.Div(className="buttons", children=[
            html.Button("Start training", id="nn-run", className="btn primary", n_clicks=0),
            html.Button("Reset", id="nn-reset", className="btn", n_clicks=0),
        ]),
        dcc.Interval(id="nn-timer", interval=400, disabled=True, n_intervals=0),
        dcc.Store(id="nn-session", data=session_id),
    ])


def layout(state, session_id: str):
    from dash import html

    if not state.nn_enabled:
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
            _controls(session_id),
            html.Div(children=[
                html.Div(className="cards", children=[
                    card("plain", "epoch", "nn-epoch"),
                    card("l1", "l1 on regulab's scale (λ/n)", "nn-l1", small=True),
                    card("l2", "l2 on regulab's scale (λ/2n)", "nn-l2", small=True),
                    card("star", "weights exactly 0", "nn-zero", small=True),
                    card("plain", "|w| < 0.001", "nn-below"),
                    card("plain", "test accuracy", "nn-acc"),
                ]),
                html.Div(id="nn-note", className="status"),
                html.Div(className="figs", children=[graph("nn-fig-hist"),
                                                     graph("nn-fig-history")]),
            ]),
        ]),
    ])


def register(app, state) -> None:
    from dash import Input, Output, State, ctx
    from dash.exceptions import PreventUpdate

    if not state.nn_enabled:
        return
    register_sliders(app, SLIDERS)

    @app.callback(
        Output("nn-timer", "disabled"), Output("nn-run", "children"),
        Output("nn-epoch", "children"), Output("nn-l1", "children"), Output("nn-l2", "children"),
        Output("nn-zero", "children"), Output("nn-below", "children"),
        Output("nn-acc", "children"), Output("nn-note", "children"),
        Output("nn-fig-hist", "figure"), Output("nn-fig-history", "figure"),
        Input("nn-run", "n_clicks"), Input("nn-reset", "n_clicks"),
        Input("nn-timer", "n_intervals"), Input("nn-penalty", "value"), Input("nn-lam", "value"),
        State("nn-session", "data"), State("nn-epoch", "children"))
    def _nn(_run, _reset, _ticks, kind, lam, sid, shown):
        if lam is None:
            raise PreventUpdate
        trigger = ctx.triggered_id
        try:
            status, out = update_nn(state, sid, trigger, kind, lam)
        except ValueError:
            raise PreventUpdate from None
        if status == "idle":
            return idle_outputs(kind, lam)
        running, label, readout, f1, f2 = out
        if trigger == "nn-timer" and running and readout[0] == shown:
            raise PreventUpdate                    # no new epoch since the last tick
        return (not running, label, *readout, f1, f2)
