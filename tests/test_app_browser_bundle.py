"""The plotly.js the lab ships and serves: the basic partial bundle under
``src/regulab/app/assets/vendor/`` (scatter, bar, pie; 1.2 MB instead of the 4.8 MB full bundle).

Without a browser: it is plotly.js at the version Dash would serve (the ``plotly`` package's), it
carries its MIT license, the wheel includes it (pyproject's package data), and the page loads it
as one of the app's own scripts, before Dash's renderer, so that dcc.Graph finds
``window.Plotly`` and never fetches the full bundle. Every trace type of every figure the app
builds is collected by calling the views' own update functions (each figure builder of
:mod:`regulab.app.figures` is checked to have been called).

In Chromium (same set-up as ``test_app_browser.py``, whose fixtures it uses): the page requests
the vendored file and not ``plotly.min.js``, ``Plotly.version`` is Dash's plotly.js version, and
every collected trace type is registered in that bundle's ``Plotly``.
"""

import ast
import glob
import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import regulab.app as app_pkg
from regulab.app import figures as F

APP_DIR = Path(app_pkg.__file__).resolve().parent
BUNDLE = APP_DIR / "assets" / "vendor" / "plotly-basic.min.js"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
HAS_TORCH = importlib.util.find_spec("torch") is not None

pytest.importorskip("dash", reason="the app extra is not installed: pip install 'regulab[app]'")

from regulab.app import plotly_bundle  # noqa: E402

#: the bundle is served only at the installed plotly's plotly.js version (else Dash's full one:
#: ``test_other_plotly_version_falls_back_to_dashs_bundle``)
served = pytest.mark.skipif(
    not plotly_bundle.use_bundle(),
    reason="the installed plotly's plotly.js differs from the vendored bundle's version: the app "
           "serves Dash's full bundle (replace assets/vendor/plotly-basic.min.js)")


def dash_plotlyjs_version() -> str:
    """The plotly.js version Dash serves (its ``_setup_plotlyjs`` reads the same function)."""
    from plotly.offline import get_plotlyjs_version

    return get_plotlyjs_version()


def bundle_header_version() -> str:
    head = BUNDLE.read_text(encoding="utf-8")[:400]
    m = re.search(r"plotly\.js \(basic - minified\) v(\d+\.\d+\.\d+)", head)
    assert m, f"not a plotly.js basic bundle header: {head[:120]!r}"
    return m.group(1)


@served
def test_vendored_bundle_is_dashs_plotly_version_with_its_license():
    assert bundle_header_version() == dash_plotlyjs_version()
    assert BUNDLE.read_text(encoding="utf-8").rstrip().endswith("window.Plotly = Plotly;\n"
                                                              "return Plotly;\n}));")
    lic = (BUNDLE.parent / "LICENSE.txt").read_text(encoding="utf-8")
    assert lic.startswith("MIT License") and "Plotly" in lic
    # the full bundle is 4x larger: this is the partial one
    full = Path(dash_plotlyjs_file())
    assert BUNDLE.stat().st_size < full.stat().st_size / 3


def dash_plotlyjs_file() -> str:
    import plotly

    return str(Path(plotly.__file__).parent / "package_data" / "plotly.min.js")


def test_bundle_version_is_read_from_its_banner():
    assert plotly_bundle.bundle_version() == bundle_header_version()
    assert plotly_bundle.bundle_version(BUNDLE.parent / "LICENSE.txt") is None


def test_other_plotly_version_falls_back_to_dashs_bundle(monkeypatch):
    from regulab.app.server import create_app

    other = "0.0.1" if plotly_bundle.installed_version() != "0.0.1" else "0.0.2"
    monkeypatch.setattr(plotly_bundle, "installed_version", lambda: other)
    client = create_app(nn=False).server.test_client()
    page = client.get("/", headers={"Host": "127.0.0.1"})
    srcs = re.findall(r'<script[^>]*src="([^"]+)"', page.get_data(as_text=True))
    assert not any("plotly-basic" in s for s in srcs), srcs
    # (dcc.Graph then fetches Dash's own plotly.min.js on its first draw, as before the bundle)
    assert any(s.startswith("/assets/one_weight.js") for s in srcs), srcs


def test_wheel_package_data_includes_the_bundle_and_its_license():
    tomllib = pytest.importorskip("tomllib", reason="Python < 3.11")
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    globs = data["tool"]["setuptools"]["package-data"]["regulab.app"]
    matched = {Path(p).resolve() for g in globs for p in glob.glob(str(APP_DIR / g))}
    assert {BUNDLE, BUNDLE.parent / "LICENSE.txt",
            APP_DIR / "assets" / "one_weight.js"} <= matched


@served
def test_page_loads_the_bundle_before_the_renderer_and_not_the_full_one():
    from regulab.app.server import create_app

    client = create_app(nn=False).server.test_client()
    page = client.get("/", headers={"Host": "127.0.0.1"})
    srcs = re.findall(r'<script[^>]*src="([^"]+)"', page.get_data(as_text=True))
    ours = [i for i, s in enumerate(srcs) if s.startswith("/assets/vendor/plotly-basic.min.js")]
    renderer = [i for i, s in enumerate(srcs) if "dash-renderer" in s]
    assert len(ours) == 1 and len(renderer) == 1 and ours[0] < renderer[0], srcs
    assert not any("plotly.min.js" in s for s in srcs), srcs
    served = client.get(srcs[ours[0]], headers={"Host": "127.0.0.1"})
    assert served.status_code == 200 and served.data == BUNDLE.read_bytes()
    # one of the app's own scripts: the CSP (script-src 'self', no inline) stays as it is
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]


# ----------------------------------------------------------------------------- trace types

def figure_builders() -> set[str]:
    """The functions of :mod:`regulab.app.figures` that return a figure (a dict literal with
    ``data`` and ``layout`` keys), read from its source."""
    tree = ast.parse(Path(F.__file__).read_text(encoding="utf-8"))
    found = set()
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
                keys = {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
                if {"data", "layout"} <= keys:
                    found.add(fn.name)
    return found


def _figures_in(obj):
    if isinstance(obj, dict):
        if "data" in obj and "layout" in obj:
            yield obj
        else:
            for v in obj.values():
                yield from _figures_in(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _figures_in(v)


def _table(rng, n=120, p=5) -> pd.DataFrame:
    X = rng.standard_normal((n, p))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = X @ np.r_[1.5, -1.0, np.zeros(p - 2)] + 0.5 * rng.standard_normal(n)
    return df


def app_figures(monkeypatch) -> tuple[list[dict], set[str]]:
    """Every figure the views build, through their own update functions, at settings that take
    each branch with a figure of its own (a diverging gradient descent draws ``empty``), and the
    names of the figure builders that ran."""
    from regulab.app.views import geometry as geo
    from regulab.app.views import gradient as gd
    from regulab.app.views import neural_net as nn
    from regulab.app.views import one_weight as ow
    from regulab.app.views import your_data as yd

    called = set()
    for name in figure_builders():
        def wrapped(*a, _f=getattr(F, name), _n=name, **k):
            called.add(_n)
            return _f(*a, **k)
        monkeypatch.setattr(F, name, wrapped)
    out = [ow.update_one_weight(0.5, 0.5, 1.0), ow.one_weight_base(0.5, 1.0),
           gd.update_gd_figures(5, "ista", 0.5, 0.1), gd.update_gd_figures(5, "l2", 1.5, 1.0),
           geo.update_geometry(1.6, 0.6, 0.5, 0.8), nn.idle_outputs("l1-prox", 1.0)]
    v = yd.compute_path_view(_table(np.random.default_rng(0)), "t", "y", "y", "l1")
    out += [yd.update_data_figures(v, v["idx_1se"]), yd.update_data_figures(v, 0)]
    if HAS_TORCH:
        from regulab.app.state import NNRun

        snap = NNRun().snapshot()
        out += [F.nn_histogram(dict(snap, exact_zeros=3)), F.nn_history(snap)]
    figs = list(_figures_in(out))
    return figs, called


def trace_types(figs) -> set[str]:
    return {t.get("type", "scatter") for fig in figs for t in fig["data"]}


def test_every_figure_builder_is_collected(monkeypatch):
    figs, called = app_figures(monkeypatch)
    builders = figure_builders()
    assert {"one_weight_losses", "data_coefficients", "empty", "geometry"} <= builders
    expected = builders if HAS_TORCH else builders - {"nn_histogram", "nn_history"}
    assert called == expected
    assert {"scatter", "bar"} <= trace_types(figs)


# ----------------------------------------------------------------------------- in the browser

HAS_BROWSER = (importlib.util.find_spec("playwright") is not None
               and os.path.exists("/usr/bin/chromium"))
if HAS_BROWSER:  # test_app_browser.py's server, browser and page fixtures
    from test_app_browser import TIMEOUT, base_url, browser, no_errors, open_view, page  # noqa: F401

#: plotly's trace registry in the page (public API: the plot schema)
REGISTERED = "() => Object.keys(window.Plotly.PlotSchema.get().traces).sort()"


@served
@pytest.mark.skipif(not HAS_BROWSER, reason="Playwright or /usr/bin/chromium is missing")
def test_page_draws_with_the_vendored_bundle(page, base_url, monkeypatch):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    open_view(page, base_url, "/", "#ow-w-l2")
    page.wait_for_function("() => document.querySelectorAll('#ow-fig-lam .main-svg').length > 0",
                           timeout=TIMEOUT)
    assert any("/assets/vendor/plotly-basic.min.js" in u for u in requested), requested
    assert not any("plotly.min.js" in u for u in requested), requested
    assert page.evaluate("() => window.Plotly.version") == dash_plotlyjs_version()
    registered = page.evaluate(REGISTERED)
    figs, _ = app_figures(monkeypatch)
    used = trace_types(figs)
    assert used <= set(registered), (used, registered)
    # the basic bundle, not a larger one that happens to be loaded
    assert set(registered) == {"bar", "pie", "scatter"}
    no_errors(page)
