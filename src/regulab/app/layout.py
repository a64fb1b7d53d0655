"""The page of the lab: a header, one tab per view (each with its own URL) and the page's style
sheet (inline; the app's asset files, ``assets/``, are the One weight view's script and the
vendored plotly.js partial bundle, ``assets/vendor/``, which Dash's graphs then use instead of
the full bundle; all served by the app itself: nothing is loaded from the network).

The views themselves are modules of :mod:`regulab.app.views`; :func:`build_layout` and
:func:`register` take the list of them (see :mod:`regulab.app.server`).
"""

from __future__ import annotations

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
.control-head { display: flex; align-items: center; justify-content: space-between; gap: 8px;
                margin-bottom: 2px; }
.control-head > label { font-size: 13px; font-weight: 600; }
.control-head .num { flex: none; width: 76px; }
.control-head .num input { width: 100%; font: inherit; font-size: 14px; text-align: right;
                           font-variant-numeric: tabular-nums; padding: 2px 6px; height: 26px;
                           -moz-appearance: textfield; appearance: textfield; }
.control-head .num .dash-input-stepper { display: none; }
.control-head .num input::-webkit-inner-spin-button,
.control-head .num input::-webkit-outer-spin-button { -webkit-appearance: none; margin: 0; }
.control-head .readout { font-size: 14px; font-weight: 600; font-variant-numeric: tabular-nums;
                         white-space: nowrap; }
.control .dash-options-list-option, .control input[type=radio] + label { font-size: 14px; }
.control .hint { font-size: 12px; color: var(--muted); margin-top: 2px; }
.figs { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.figs.one { grid-template-columns: 1fr; }
.figs .panel { padding: 6px; }
.panel.square { overflow-x: auto; }
.panel.square .svg-container { margin: 0 auto; }
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
.msg-busy { background: #eef2f8; color: var(--ink); }
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


def build_layout(views, state, session_id: str):
    """The page: header, tabs and every view's body (a fresh session id for each page load)."""
    from dash import dcc, html

    return html.Div(children=[
        dcc.Location(id="url", refresh=False),
        html.Div(className="header", children=[
            html.H1("regulab lab"),
            html.Span("why L1 gives exact zeros while L2 only shrinks: move a slider and watch",
                      className="tagline"),
        ]),
        html.Div(className="page", children=[
            dcc.Tabs(id="tabs", value=views[0].ID, className="tabs-bar", children=[
                dcc.Tab(label=v.LABEL, value=v.ID, id=f"tab-{v.ID}",
                        children=v.layout(state, session_id)) for v in views]),
        ]),
    ])


def route(pathname, tab, triggered_id, views):
    """``(tab, pathname)`` after the URL or the tab changed (None: leave it as it is): a tab click
    moves the URL to the tab's path, a URL picks its tab (an unknown path the first one)."""
    pathname = pathname if isinstance(pathname, str) else "/"
    tab = tab if isinstance(tab, str) else None
    if triggered_id == "tabs":
        path = next((v.PATH for v in views if v.ID == tab), None)
        return None, (path if path and path != pathname else None)
    wanted = (pathname or "/").rstrip("/") or "/"
    view = next((v.ID for v in views if v.PATH == wanted), views[0].ID)
    return (view if view != tab else None), None


def register(app, views) -> None:
    """The page's own callback: tabs and URL kept in step."""
    from dash import Input, Output, ctx, no_update

    @app.callback(Output("tabs", "value"), Output("url", "pathname"),
                  Input("url", "pathname"), Input("tabs", "value"))
    def _route(pathname, tab):
        out = route(pathname, tab, ctx.triggered_id, views)
        return tuple(no_update if o is None else o for o in out)
