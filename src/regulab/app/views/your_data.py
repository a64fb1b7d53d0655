"""View "Your data": the coefficient path and its cross-validation curve on a table.

For a built-in dataset or an uploaded table (:mod:`regulab.app.uploads`), a target and a penalty
kind of :data:`regulab.core.penalties.KINDS`, the path of::

    EmpLoss(w, b) + lam * (rho * sum_j |w_j| + (1 - rho) * sum_j w_j**2)

over the CLI's lam grid, cross-validated (:func:`regulab.selection.cv.fit_cv`, 5 folds, standardized
features), is computed once per (table, target, penalty, family, grouped) and cached in the
:class:`~regulab.app.state.LabState`, when the view is first opened (not at page load); the lam
slider then moves along it: the browser draws each move from the figures it holds
(``assets/your_data.js``, a client-side callback that changes the parts :func:`lam_parts`
lists, to :func:`lam_move_updates`' values) and the server answers the read-outs only. The
family (:data:`FAMILIES`; ``auto`` is the rule of
:func:`regulab.data.target.target_task`, shown with the CLI's family line) picks EmpLoss: mean
squared error, log-loss or Poisson negative log-likelihood; "grouped categoricals" replaces the
L1 part by the group lasso's ``sum_g sqrt(|g|) ||w_g||_2`` over the source columns
(``Prepared.groups``), so a categorical column is kept or dropped whole.
"""

from __future__ import annotations

import time

import numpy as np

from regulab.app import figures as F
from regulab.app.uploads import (
    UploadRefused,
    cap_text,
    display_name,
    over_cap,
    upload_gate_js,
)
from regulab.app.widgets import card, figure_parts, graph, index
from regulab.core.penalties import KINDS, penalty_label, penalty_rho

ID, LABEL, PATH = "data", "Your data", "/your-data"
SLIDERS: dict = {}                   # the lam slider moves along the path: positions, not values

#: what the page says while a path and its CV are computed
FITTING = ("computing the path (100 λ) and its 5-fold cross-validation, once per dataset, "
           "target and penalty…")

MAX_FEATURES = 200
N_LAMS = 100
FOLDS = 5
BUILTIN_CHOICES = ["diabetes", "breast_cancer", "sparse_synthetic", "dense_synthetic"]


def penalty_name(kind: str) -> str:
    """A penalty kind as the page names it, with the L1 share the view fits it with."""
    return penalty_label(kind, penalty_rho(kind))


# ----------------------------------------------------------------------------- pure result

#: the families the view offers; ``auto`` is the rule of :func:`regulab.data.target.target_task`
FAMILIES = ("auto", "gaussian", "binomial", "poisson")
GROUPED_OPTION = {"label": " grouped categoricals (kept or dropped whole)", "value": "grouped"}


def grouped_block(groups, penalty: str, loss: str) -> str:
    """Why the "grouped categoricals" box is off ("" when it can be ticked): it needs a
    categorical column with 2+ indicators, an L1 part (not L2) and not the Poisson family (its
    solver has no groups), as ``regulab path --grouped`` does."""
    if penalty_rho(penalty) == 0.0:
        return "grouped needs an L1 part: choose L1 or elastic net"
    if loss == "poisson":
        return "the poisson family's solver has no groups"
    if not any(groups.count(g) >= 2 for g in set(groups)):
        return "no categorical column with 2 or more indicators"
    return ""


def compute_path_view(df, name, default_target, target, penalty, key=None, family="auto",
                      grouped=False) -> dict:
    """Prepare the table, cross-validate the path (:func:`regulab.selection.cv.fit_cv`,
    ``FOLDS`` folds, the CLI's grid of ``N_LAMS`` lams) and keep what the figures need, in order
    of increasing lam: ``lams``, ``coefs`` (one list per feature), ``nnz``, ``cv_mean``,
    ``cv_se``, the positions ``idx_min`` and ``idx_1se`` of lam_min and lam_1se, and the
    table's description. ``family`` (:data:`FAMILIES`) picks the loss as ``--family`` does;
    ``grouped`` makes the L1 part the group lasso over the source columns (``Prepared.groups``)
    when :func:`grouped_block` allows it, else it is ignored and ``grouped_hint`` says why."""
    from regulab.core.losses import ERROR_NAME, LOSS_OF_TASK
    from regulab.data.errors import DataError
    from regulab.data.prepare import check_rows_for_cv, prepare
    from regulab.selection.cv import fit_cv
    from regulab.data.target import FAMILY_OF_TASK, TASK_OF_FAMILY
    from regulab.selection.path import lam_grid

    if family not in FAMILIES:
        raise DataError(f"family must be one of {', '.join(FAMILIES)}, not {family!r}")
    task = "auto" if family == "auto" else TASK_OF_FAMILY[family]
    prep = prepare(df, target, task=task, missing="drop", standardize=True, source_name=name)
    p = prep.X.shape[1]
    if p > MAX_FEATURES:
        raise DataError(f"{name}: {p} features after preparation; the app draws at most "
                        f"{MAX_FEATURES} (use `regulab path` on the command line)")
    check_rows_for_cv(prep.X.shape[0], FOLDS, y=prep.y, task=prep.task, classes=prep.classes,
                      source_name=name)
    if prep.task not in LOSS_OF_TASK:  # multiclass: the view draws one coefficient per feature
        raise DataError(f"{name}: target {target!r} has {len(prep.classes)} labels; this view "
                        f"fits a number, a count or two classes (use `regulab fit --family "
                        f"multinomial` on the command line)")
    loss = LOSS_OF_TASK[prep.task]
    rho = penalty_rho(penalty)
    all_groups = list(prep.groups)
    block = grouped_block(all_groups, penalty, loss)
    groups = all_groups if grouped and not block else None
    grid = lam_grid(prep.X, prep.y, loss=loss, l1_ratio=rho, n_lams=N_LAMS, groups=groups)
    t0 = time.perf_counter()
    res = fit_cv(prep.X, prep.y, loss=loss, l1_ratio=rho, rule="1se", lams=grid, cv=FOLDS,
                 seed=0, groups=groups)
    why = next((x for x in prep.report if x.startswith("target ")), "")
    cv, path = res.cv, res.path
    order = np.argsort(cv.lams)               # increasing lam, for the slider and the log axis
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return {
        "key": "|".join(map(str, key or (name, target, penalty, family, grouped))),
        "name": name, "family": FAMILY_OF_TASK[prep.task],
        # the CLI's family line (commands.common.family_line, no offset column here)
        "family_line": f"family: {FAMILY_OF_TASK[prep.task]} ({why})",
        "groups": groups, "grouped_hint": block,
        "target": target, "penalty": penalty, "penalty_name": penalty_label(penalty, rho),
        "task": prep.task, "loss": loss, "error_name": ERROR_NAME[loss], "folds": FOLDS,
        "names": list(prep.feature_names), "n_rows": int(prep.X.shape[0]), "p": int(p),
        "lams": cv.lams[order].tolist(), "coefs": path.coefs[:, order].tolist(),
        "nnz": path.nnz[order].tolist(),
        "cv_mean": cv.mean_error[order].tolist(), "cv_se": cv.se_error[order].tolist(),
        "idx_min": int(rank[cv.idx_min]), "idx_1se": int(rank[cv.idx_1se]),
        "seconds": time.perf_counter() - t0, "notes": list(prep.report),
    }


def path_view(state, key: str, target: str, penalty: str, family: str = "auto",
              grouped: bool = False) -> dict:
    """:func:`compute_path_view` of one (table, target, penalty, family, grouped), computed once
    per server and cached in ``state``."""
    pkey = (key, target, penalty, family, bool(grouped))
    return state.once(pkey, lambda: compute_path_view(*state.table(key), target, penalty,
                                                      key=pkey, family=family,
                                                      grouped=bool(grouped)))


def group_verdicts(v: dict, k: int) -> str:
    """``'region kept, sex dropped'``: each categorical column (2+ indicators) of a grouped
    path, kept (some indicator non-zero) or dropped whole at position k; "" when not grouped."""
    groups = v.get("groups")
    if not groups:
        return ""
    out = []
    for g in dict.fromkeys(groups):
        idx = [i for i, x in enumerate(groups) if x == g]
        if len(idx) >= 2:
            kept = any(v["coefs"][i][k] != 0.0 for i in idx)
            out.append(f"{g} {'kept' if kept else 'dropped'}")
    return ", ".join(out)


# ----------------------------------------------------------------------------- update

def data_readout(v: dict, k: int) -> tuple:
    """``(lam, kept, exact zeros, CV error, rule text)`` at slider position k."""
    n = F.num
    coef = [c[k] for c in v["coefs"]]
    zeros = sum(1 for c in coef if c == 0.0)
    kept = len(coef) - zeros
    i0, i1 = v["idx_min"], v["idx_1se"]
    rule = (f"λ_min = {n(v['lams'][i0], '.4g')} (CV error {n(v['cv_mean'][i0], '.4g')}), "
            f"λ_1se = {n(v['lams'][i1], '.4g')} (CV error {n(v['cv_mean'][i1], '.4g')})")
    verdicts = group_verdicts(v, k)
    if verdicts:
        rule += f"; grouped categoricals at λ: {verdicts}"
    return (n(v["lams"][k], ".4g"), f"{kept} of {len(coef)}", str(zeros),
            f"{n(v['cv_mean'][k], '.4g')} ± {n(v['cv_se'][k], '.2g')}", rule)


def update_data_figures(v: dict, k) -> tuple:
    """``(readout, path figure, CV figure, coefficients figure)`` at slider position k."""
    k = index(k, len(v["lams"]))
    return (data_readout(v, k), F.data_path(v, k), F.data_cv(v, k), F.data_coefficients(v, k))


def lam_parts(v: dict) -> tuple:
    """Where each figure of :func:`update_data_figures` depends on the slider position, as
    paths into the figure dict (path, CV, coefficients figure, in that order): a move of λ
    along the same path changes those parts and nothing else (``tests/test_app.py`` checks
    it at random positions)."""
    marker = len(v["names"])                 # data_path: one trace per feature, the marker,
    path = [("data", marker, "x"), ("data", marker, "y"), ("data", marker, "marker", "color"),
            ("data", marker + 1, "x")]      # the line at lam (a trace: see figures.OVERLAY_AXIS)
    cv = [("data", 3, "x"), ("data", 3, "y"), ("data", 4, "x")]   # figures.data_cv's marker, line
    coef = [("data", 0, "x"), ("data", 1, "x"), ("data", 1, "marker", "color"),
            ("data", 1, "marker", "line", "color")]    # the lollipops (figures.data_coefficients)
    return path, cv, coef


def lam_move_updates(v: dict, k) -> tuple:
    """``(readout, path, CV, coefficients)`` at slider position k, each figure as the list of
    ``(where, value)`` assignments that turn that figure, drawn for the same path at any other
    position, into :func:`update_data_figures`' figure at k (values taken from those very
    figures). The reference of ``assets/your_data.js``, which makes these assignments in the
    browser (``tests/test_app_browser.py`` compares the two)."""
    readout, *figs = update_data_figures(v, k)
    return (readout, *(figure_parts(fig, parts) for fig, parts in zip(figs, lam_parts(v))))


#: the narrowest the λ slider's track gets (the 320 px control panel) and the width of one
#: character of its marks (12 px type), in px: what :func:`lam_marks` spaces the labels by
MARK_TRACK_PX, MARK_CHAR_PX, MARK_GAP_PX = 280.0, 7.5, 8.0


def lam_text(lam: float) -> str:
    """A lam for a slider mark: two significant digits, without an exponent between 1e-4 and
    1e5 (``'400'``, not ``'4e+02'``)."""
    x = float(f"{lam:.2g}")
    if x == 0 or not 1e-4 <= abs(x) < 1e5:
        return F.num(x, ".1e")
    return np.format_float_positional(x, trim="-")


def lam_marks(v: dict) -> dict:
    """Slider marks that never overlap: the CV choices ``min`` and ``1se`` and the lams at both
    ends, placed in that order of priority. A label is centred on its position and takes
    ``MARK_CHAR_PX`` per character on a track of ``MARK_TRACK_PX``; one that would overlap a
    label already placed is left out, except that ``min`` and ``1se`` too close to be told
    apart (or equal) become one label ``min·1se`` half-way between them."""
    n = len(v["lams"])
    px = MARK_TRACK_PX / max(n - 1, 1)

    def half(text):
        return len(text) * MARK_CHAR_PX / 2

    def fits(pos, text, placed):
        return all(abs(pos - p) * px >= half(text) + half(t) + MARK_GAP_PX for p, t in placed)

    i0, i1 = v["idx_min"], v["idx_1se"]
    if fits(i1, "1se", [(i0, "min")]):
        placed = [(i1, "1se"), (i0, "min")]
    else:                                   # too close to tell apart on the track
        placed = [((i0 + i1) / 2, "min·1se")]
    for pos in (0, n - 1):
        text = lam_text(v["lams"][pos])
        if fits(pos, text, placed):
            placed.append((pos, text))
    return {(int(p) if float(p).is_integer() else float(p)): t for p, t in placed}


def handle_upload(state, payload: dict, options: list):
    """``(options, value, message, message class)`` after an upload (or its refusal); None when
    there is nothing to do. ``options`` / ``value`` are None when they stay as they are."""
    from regulab.data.errors import DataError

    if not isinstance(payload, dict) or not payload:
        return None
    options = [o for o in options if isinstance(o, dict)] if isinstance(options, list) else []
    name = display_name(payload.get("filename"))
    if payload.get("refused"):
        size = float(payload.get("size") or 0)
        return None, None, over_cap(name, size, state.max_upload_bytes), "msg msg-error"
    try:
        # the shape is checked as soon as the table is read: a 10,000-column table is refused
        # at once, not after minutes of preparing it
        key, name, rows, cols = state.add_upload(payload.get("contents"), name,
                                                 max_columns=MAX_FEATURES + 1)
    except (UploadRefused, DataError) as exc:
        return None, None, f"upload refused: {exc}", "msg msg-error"
    options = [o for o in options if o.get("value") != key]
    options.append({"label": f"{name} (uploaded)", "value": key})
    return (options, key, f"read {name}: {rows:,} rows × {cols} columns", "msg msg-ok")


def target_choices(state, key: str):
    """``(options, default target)`` of a table."""
    df, _, target = state.table(key)
    cols = [str(c) for c in df.columns]
    return [{"label": c, "value": c} for c in cols], (target if target in cols else cols[-1])


def update_fit(state, key, target, penalty, family="auto", grouped=False):
    """After a new table, target or penalty: ``(view store, slider max, slider value, slider
    marks, status, status class)``, None for a request that names no table and target of this
    server. When the fit failed (its message says why) the store and the marks are None (the
    old path's marks are cleared) and the slider's max and value None (left as they are)."""
    from regulab.data.errors import DataError

    if not all(isinstance(v, str) and v for v in (key, target, penalty)) or \
            penalty not in KINDS or family not in FAMILIES:
        return None
    try:
        df = state.table(key)[0]
    except (KeyError, TypeError):
        return None
    if target not in [str(c) for c in df.columns]:
        return None
    try:
        v = path_view(state, key, target, penalty, family, bool(grouped))
    except (DataError, ValueError) as exc:
        return None, None, None, None, f"cannot fit: {exc}", "msg msg-error"
    except Exception as exc:  # noqa: BLE001 - a message in the page, not a broken page
        return (None, None, None, None, f"cannot fit: {type(exc).__name__}: {exc}",
                "msg msg-error")
    msg = (f"{v['name']}: {v['n_rows']:,} rows, {v['p']} features, {v['task']} "
           f"({v['error_name']}), {v['penalty_name']}; path of {len(v['lams'])} λ and "
           f"{v['folds']}-fold CV computed once ({v['seconds']:.2f} s) and cached. "
           f"{v['family_line']}" + ("; grouped categoricals" if v["groups"] else ""))
    # figure_key and colors: what assets/your_data.js needs to draw a lam move of this path
    return ({"key": [key, target, penalty, family, bool(grouped)],
             "grouped_hint": v["grouped_hint"], "figure_key": v["key"],
             "colors": {"kind": F.data_color(v), "zero": F.ZERO_COLOR}},
            len(v["lams"]) - 1, v["idx_1se"],
            lam_marks(v), msg, "msg msg-ok")


# ----------------------------------------------------------------------------- layout and wiring

def _controls(max_upload_bytes: int):
    from dash import dcc, html

    def control(*children):
        return html.Div(className="control", children=list(children))

    return html.Div(className="panel controls", children=[
        control(html.Label("dataset", htmlFor="data-source"),
                dcc.Dropdown(id="data-source", value="diabetes", clearable=False,
                             options=[{"label": n, "value": n} for n in BUILTIN_CHOICES])),
        _upload_box(max_upload_bytes),
        control(html.Label("target (column to predict)", htmlFor="data-target"),
                dcc.Dropdown(id="data-target", clearable=False)),
        control(html.Label("penalty", htmlFor="data-penalty"),
                dcc.RadioItems(id="data-penalty", value="l1", options=[
                    {"label": penalty_name(k), "value": k} for k in KINDS])),
        control(html.Label("family", htmlFor="data-family"),
                dcc.RadioItems(id="data-family", value="auto", inline=True,
                               options=[{"label": f, "value": f} for f in FAMILIES])),
        control(dcc.Checklist(id="data-grouped", value=[], options=[GROUPED_OPTION]),
                html.Div("", id="data-grouped-hint", className="hint")),
        # the slider moves along the path (positions): its value is shown as the λ there
        html.Div(className="control", children=[
            html.Div(className="control-head", children=[
                html.Label("λ along the path", htmlFor="data-lam"),
                html.Span("-", id="data-lam-shown", className="readout")]),
            dcc.Slider(id="data-lam", min=0, max=99, step=1, value=50, marks=None,
                       updatemode="drag", allow_direct_input=False),
            html.Div("left: small λ; min and 1se: the CV choices", className="hint")]),
    ])


def _upload_box(max_upload_bytes: int):
    from dash import dcc, html

    cap = cap_text(max_upload_bytes)
    return html.Div(className="control", children=[
        dcc.Upload(id="data-upload", className="upload", multiple=False,
                   children=html.Div(["Drop a table here or ", html.B("choose a file"),
                                      f" (CSV/TSV/Parquet, ≤ {cap})"])),
        html.Div(id="data-upload-msg", className="msg"),
        dcc.Store(id="data-upload-payload"),
    ])


def layout(state, session_id: str):
    from dash import dcc, html

    return html.Div(className="view", children=[
        html.P(className="intro", children=(
            "A built-in dataset or your own table (CSV, TSV or Parquet, read in memory, at most "
            f"{cap_text(state.max_upload_bytes)}). The whole coefficient path and its "
            "cross-validation curve are computed once per dataset, target and penalty "
            "(regulab.selection.cv.fit_cv, 5 folds) and cached; the λ slider then moves along "
            "them. Features are standardized.")),
        html.Div(className="grid", children=[
            _controls(state.max_upload_bytes),
            html.Div(children=[
                # a first fit takes a while (seconds on a busy machine): say what is going on
                dcc.Loading(target_components={"data-status": "children"},
                            custom_spinner=html.Div(FITTING, className="msg msg-busy"),
                            children=html.Div(id="data-status", className="msg")),
                dcc.Store(id="data-view"),
                # the figure key of the path whose whole figures the server sent last
                dcc.Store(id="data-drawn"),
                html.Div(className="cards", children=[
                    card("plain", "λ", "data-lam-value"),
                    card("l1", "features kept", "data-kept"),
                    card("star", "coefficients exactly 0", "data-zeros"),
                    card("l2", "CV error at λ (± SE)", "data-cv"),
                ]),
                html.Div(id="data-rule", className="details"),
                html.Div(className="figs", children=[
                    graph("data-fig-path"), graph("data-fig-cv"),
                    html.Div(className="wide", children=graph("data-fig-coef"))]),
            ]),
        ]),
    ])


def _register_upload(app, state) -> None:
    from dash import Input, Output, State, ctx, no_update
    from dash.exceptions import PreventUpdate

    app.clientside_callback(upload_gate_js(state.max_upload_bytes),
                            Output("data-upload-payload", "data"),
                            Input("data-upload", "contents"), State("data-upload", "filename"),
                            prevent_initial_call=True)

    @app.callback(
        Output("data-source", "options"), Output("data-source", "value"),
        Output("data-upload-msg", "children"), Output("data-upload-msg", "className"),
        Input("data-upload-payload", "data"), State("data-source", "options"),
        prevent_initial_call=True)
    def _upload(payload, options):
        out = handle_upload(state, payload, options)
        if out is None:
            raise PreventUpdate
        opts, value, msg, cls = out
        return (no_update if opts is None else opts, no_update if value is None else value,
                msg, cls)

    @app.callback(Output("data-target", "options"), Output("data-target", "value"),
                  Input("data-source", "value"), Input("tabs", "value"),
                  State("data-target", "options"))
    def _targets(key, tab, shown):
        # nothing is read before the view is first opened; opening it again changes nothing
        if tab != ID or not isinstance(key, str) or not key or \
                (ctx.triggered_id == "tabs" and shown):
            raise PreventUpdate
        try:
            return target_choices(state, key)
        except (KeyError, TypeError):
            raise PreventUpdate from None


def register(app, state) -> None:
    from dash import ClientsideFunction, Input, Output, State, ctx, no_update
    from dash.exceptions import PreventUpdate

    _register_upload(app, state)

    @app.callback(
        Output("data-view", "data"), Output("data-lam", "max"), Output("data-lam", "value"),
        Output("data-lam", "marks"), Output("data-status", "children"),
        Output("data-status", "className"),
        Input("data-source", "value"), Input("data-target", "value"),
        Input("data-penalty", "value"), Input("data-family", "value"),
        Input("data-grouped", "value"), Input("tabs", "value"), State("data-view", "data"))
    def _fit(key, target, penalty, family, grouped, tab, shown):
        # the path and its CV are computed when the view is first opened, not at page load;
        # coming back to the view keeps the path shown and the slider where it was
        grouped = isinstance(grouped, list) and "grouped" in grouped
        family = "auto" if family is None else family       # the control's default
        if tab != ID or (ctx.triggered_id == "tabs" and isinstance(shown, dict)
                         and shown.get("key") == [key, target, penalty, family, grouped]):
            raise PreventUpdate
        out = update_fit(state, key, target, penalty, family, grouped)
        if out is None:
            raise PreventUpdate
        # max and value stay as they are after a failure; marks None clears the old ones
        return (out[0], *(no_update if o is None else o for o in out[1:3]), *out[3:])

    @app.callback(Output("data-grouped", "options"), Output("data-grouped-hint", "children"),
                  Input("data-view", "data"))
    def _grouped_box(view):
        # the box is disabled, with the reason, when the fitted table and penalty rule it out
        hint = view.get("grouped_hint", "") if isinstance(view, dict) else ""
        hint = hint if isinstance(hint, str) else ""
        return [dict(GROUPED_OPTION, disabled=bool(hint))], hint

    @app.callback(
        Output("data-lam-value", "children"), Output("data-lam-shown", "children"),
        Output("data-kept", "children"),
        Output("data-zeros", "children"), Output("data-cv", "children"),
        Output("data-rule", "children"),
        Output("data-fig-path", "figure"), Output("data-fig-cv", "figure"),
        Output("data-fig-coef", "figure"), Output("data-drawn", "data"),
        Input("data-view", "data"), Input("data-lam", "value"), State("data-drawn", "data"))
    def _data(view, k, drawn):
        if not view:
            none = F.empty("", "no path to show")
            return ("-", "-", "-", "-", "-", "", none, none, none, None)
        if k is None:
            raise PreventUpdate
        try:
            v = path_view(state, *view["key"])
        except (KeyError, ValueError, TypeError):
            raise PreventUpdate from None
        if set(ctx.triggered_prop_ids) == {"data-lam.value"} and drawn == v["key"]:
            # the same path at another lam: the browser draws the figures (the client-side
            # callback below); the read-outs are said here
            readout = data_readout(v, index(k, len(v["lams"])))
            figs = [no_update] * 4
        else:
            readout, *figs = update_data_figures(v, k)
            figs.append(v["key"])
        return (readout[0], f"λ = {readout[0]}", *readout[1:], *figs)

    # a lam move along the path drawn: the figures at the new position, computed in the browser
    # from the figures themselves (assets/your_data.js, lam_move_updates' twin), with no round
    # trip; it leaves the figures alone unless they are the store's path
    app.clientside_callback(
        ClientsideFunction(namespace="regulab", function_name="yourDataView"),
        *(Output(g, "figure", allow_duplicate=True)
          for g in ("data-fig-path", "data-fig-cv", "data-fig-coef")),
        Input("data-lam", "value"), State("data-view", "data"),
        *(State(g, "figure") for g in ("data-fig-path", "data-fig-cv", "data-fig-coef")),
        prevent_initial_call=True)
