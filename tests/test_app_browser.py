"""regulab app in a real browser: Debian's chromium driven by Playwright, against the real server
on a free loopback port.

For each view: it loads with no console error, and moving a slider (with the keyboard) changes
the read-out to the value the library computes here. The data view also takes an uploaded CSV
(its feature names appear on the chart, a ``<script>`` header is shown as text and never runs)
and refuses an oversized one with a message. Every slider shows its value as a number at every
width, a typed value out of range is clamped and the read-outs follow it; the geometry plot
stays square and filled; the λ slider's marks never overlap. A screenshot of each view is saved
under the test's tmp dir; with ``REGULAB_UPDATE_SCREENSHOT=1`` the one-weight view's also goes
to ``docs/images/app-one-weight.png`` (the README shows it).

Every wait is on a condition (``expect``, ``wait_for_function``), never a fixed sleep, with a
generous deadline: on a machine with a load of 8-10, plotly's first chart, the first fit of a
dataset and torch's first epoch each took over 15 s.

Skipped, with the reason, when dash, Playwright's Python package or /usr/bin/chromium is missing.
Playwright never downloads a browser here.
"""

import importlib.util
import itertools
import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
CAP = 64 * 1024           # the upload cap of the server under test
HAS_TORCH = importlib.util.find_spec("torch") is not None
DOCS_SHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "app-one-weight.png"

pytest.importorskip("dash", reason="the app extra is not installed: pip install 'regulab[app]'")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="Playwright's Python package is not installed "
                                      "(pip install playwright; no browser download needed)")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"no chromium at {CHROMIUM} (Debian: apt-get install chromium)",
                allow_module_level=True)

#: every wait's deadline: a loaded machine (load 8-10 on 2 cores) took over 15 s to draw plotly's
#: first chart; a condition met early ends the wait early, so a generous deadline costs nothing
TIMEOUT = 90_000
#: the deadline of what runs the library at length: a dataset's first fit, torch's first epochs
SLOW = 180_000
expect = sync_api.expect
expect.set_options(timeout=TIMEOUT)   # ctx.set_default_timeout does not reach expect()
#: the page's callbacks have all answered (Dash marks a component waiting for one)
SETTLED = "() => !document.querySelector('[data-dash-is-loading=\"true\"]')"


#: the app the module's server serves (its state, for the tests that look inside)
SERVED = {}


@pytest.fixture(scope="module")
def base_url():
    from regulab.app.server import create_app, make_server

    app = create_app(max_upload_bytes=CAP)
    SERVED["app"] = app
    srv = make_server("127.0.0.1", 0, app.server)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.port}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        ctx.set_default_timeout(TIMEOUT)
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture()
def page(browser):
    pg = browser.new_page()
    errors = []
    pg.on("console", lambda m: errors.append(f"console {m.type}: {m.text}")
          if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    pg.errors = errors
    try:
        yield pg
    finally:
        pg.close()


def open_view(page, base_url, path, ready, timeout=TIMEOUT):
    page.goto(base_url + path)
    expect(page.locator(ready)).not_to_have_text("-", timeout=timeout)
    expect(page.locator(ready)).not_to_have_text("", timeout=timeout)


def press(page, slider_id, *keys) -> float:
    """Focus a slider's thumb, press keys, return its new value (aria-valuenow) once its number
    box shows it too (the data view's slider has the lam there as a read-out instead)."""
    thumb = page.locator(f"#{slider_id} [role=slider]")
    thumb.focus()
    for key in keys:
        page.keyboard.press(key)
    value = thumb.get_attribute("aria-valuenow")
    if page.locator(f"#{slider_id}-box").count():
        expect(page.locator(f"#{slider_id}-box")).to_have_value(re.compile(
            rf"^{re.escape(fmt_js(float(value)))}$"))
    return float(value)


def drag(page, slider_id, fractions, steps) -> float:
    """Drag a slider's thumb with the pointer from the middle of the track through
    ``fractions`` of its width (``steps`` pointer moves each), release, wait for the page to
    settle; return the slider's new value (aria-valuenow)."""
    box = page.locator(f"#{slider_id}").bounding_box()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + box["height"] / 2)
    page.mouse.down()
    for f in fractions:
        page.mouse.move(box["x"] + f * box["width"], box["y"] + box["height"] / 2, steps=steps)
    page.mouse.up()
    page.wait_for_function(SETTLED)
    return float(page.locator(f"#{slider_id} [role=slider]").get_attribute("aria-valuenow"))


def fmt_js(x: float) -> str:
    """A number as JavaScript writes it (what a number box shows): ``1`` for 1.0."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def type_into(page, slider_id, text):
    """Type ``text`` into a slider's number box and press Enter (the box sends on Enter)."""
    box = page.locator(f"#{slider_id}-box")
    box.fill(text)
    box.press("Enter")


def no_errors(page):
    assert page.errors == [], page.errors


def shot(page, tmp_path, name):
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000


def test_one_weight(page, base_url, tmp_path):
    from regulab.core.onedim import lam_threshold, make_one_weight_data, w_l1, w_l2

    open_view(page, base_url, "/", "#ow-w-l2")
    expect(page.locator("#ow-fig-loss .main-svg").first).to_be_visible()
    expect(page.locator("#ow-w-l1")).to_have_text("0 (exactly)")      # lam = 0.5 > lam*
    if os.environ.get("REGULAB_UPDATE_SCREENSHOT") == "1":
        expect(page.locator("#ow-fig-lam .main-svg").first).to_be_visible()
        page.wait_for_function(SETTLED)
        DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_SHOT), clip={"x": 0, "y": 0, "width": 1400,
                                                   "height": 800})
    d = make_one_weight_data(100, 0.5, 1.0, 0.0, 0)
    lam = press(page, "ow-lam", "Home", "PageUp", "PageUp", "PageUp")
    assert 0 < lam < lam_threshold(d.a, d.w_hat)
    expect(page.locator("#ow-w-l2")).to_have_text(f"{w_l2(d.a, d.w_hat, lam):.4f}")
    expect(page.locator("#ow-w-l1")).to_have_text(f"{w_l1(d.a, d.w_hat, lam):.4f}")
    expect(page.locator("#ow-lam-star")).to_have_text(f"{lam_threshold(d.a, d.w_hat):.4f}")
    lam = press(page, "ow-lam", "PageUp")                                   # past lam*: snap
    assert lam > lam_threshold(d.a, d.w_hat)
    expect(page.locator("#ow-w-l1")).to_have_text("0 (exactly)")
    expect(page.locator("#ow-w-l2")).to_have_text(f"{w_l2(d.a, d.w_hat, lam):.4f}")
    expect(page.locator("#ow-status")).to_contain_text("snapped to exactly 0")
    w_true = press(page, "ow-w", "End")                                     # true w = 1
    d = make_one_weight_data(100, w_true, 1.0, 0.0, 0)
    expect(page.locator("#ow-lam-star")).to_have_text(f"{lam_threshold(d.a, d.w_hat):.4f}")
    expect(page.locator("#ow-w-l1")).to_have_text(f"{w_l1(d.a, d.w_hat, lam):.4f}")
    shot(page, tmp_path, "one-weight")
    no_errors(page)


def test_gradient_descent(page, base_url, tmp_path):
    from regulab.core.onedim import make_one_weight_data, w_l2
    from regulab.core.penalties import L2
    from regulab.solvers import gradient_descent

    open_view(page, base_url, "/gradient-descent", "#gd-target")
    expect(page.locator("#gd-note")).to_contain_text("exactly 0.0 at iteration 26")
    page.locator("#gd-method input[value=l2]").check()
    lam = press(page, "gd-lam", "Home", "PageUp", "PageUp", "PageUp", "ArrowRight")
    d = make_one_weight_data(100, 0.5, 1.0, 0.0, 0)
    expect(page.locator("#gd-target")).to_have_text(f"{w_l2(d.a, d.w_hat, lam):.4f}")
    page.click("#gd-reset")
    expect(page.locator("#gd-iter")).to_have_text("0 / 200")
    page.click("#gd-next")
    page.click("#gd-next")
    expect(page.locator("#gd-iter")).to_have_text("2 / 200")
    ref = gradient_descent(d.X, d.y, penalty=L2(lam), step=0.1, max_iter=200, tol=0.0,
                           w0=[1.0]).trace.w[:, 0]
    expect(page.locator("#gd-w")).to_have_text(f"{ref[2]:.6f}")
    page.click("#gd-play")                                                  # animate
    page.wait_for_function("() => parseInt(document.querySelector('#gd-iter').innerText) >= 6")
    page.click("#gd-play")                                                  # pause
    expect(page.locator("#gd-play")).to_have_text("Play")
    shot(page, tmp_path, "gradient-descent")
    no_errors(page)


def test_geometry(page, base_url, tmp_path):
    from regulab.app.figures import fmt_w
    from regulab.app.views.geometry import geometry_result
    from regulab.core.geometry import l1_constrained, l2_constrained, make_2d_problem

    open_view(page, base_url, "/geometry", "#geo-w-l1")
    t = press(page, "geo-t", "Home", "PageUp")
    _, _, H, b = make_2d_problem(np.random.default_rng(0), (1.6, 0.6), 0.5, 100, 0.5)
    w1, _ = l1_constrained(H, b, t)
    w2, _ = l2_constrained(H, b, t)
    expect(page.locator("#geo-w-l1")).to_have_text("(" + ", ".join(fmt_w(v) for v in w1) + ")")
    expect(page.locator("#geo-w-l2")).to_have_text("(" + ", ".join(fmt_w(v) for v in w2) + ")")
    assert w1[1] == 0.0
    expect(page.locator("#geo-zero-l1")).to_have_text("w₂ exactly 0")
    expect(page.locator("#geo-zero-l2")).to_have_text("no coordinate is 0")
    # beta-hat moves (a smaller window, then a larger one): the plot stays square, shows the
    # window computed for it, and the contours fill it; -0 is never shown
    for keys, b1 in ((["Home"], -2.0), (["PageUp"] * 4, 0.0)):
        assert press(page, "geo-b1", *keys) == b1
        _, _, H, b = make_2d_problem(np.random.default_rng(0), (b1, 0.6), 0.5, 100, 0.5)
        lim = geometry_result(b1, 0.6, 0.5, t)["limit"]       # the window it computes
        w1, _ = l1_constrained(H, b, t)
        expect(page.locator("#geo-w-l1")).to_have_text(
            "(" + ", ".join(fmt_w(v) for v in w1) + ")")
        page.wait_for_function(SETTLED)
        page.wait_for_function(                     # the figure drawn is this beta-hat's
            """(b) => { const g = document.querySelector('#geo-fig .js-plotly-plot');
                const dot = (g.data || []).find(t => t.name === 'unregularized optimum');
                return dot && Math.abs(dot.x[0] - b[0]) < 1e-9 && Math.abs(dot.y[0] - b[1]) < 1e-9
                    && g._fullLayout.xaxis._length > 0; }""", arg=[float(b[0]), float(b[1])])
        geo = page.evaluate(GEO_LAYOUT)
        assert geo["x_px"] == pytest.approx(geo["y_px"], abs=1), geo           # square
        assert geo["x_range"] == pytest.approx([-lim, lim]) == geo["y_range"], geo
        assert geo["reach"] > lim, geo              # the contours run past the window's edge
    for sel in ("#geo-w-l1", "#geo-w-l2", "#geo-lam-l1", "#geo-lam-l2", "#geo-corr"):
        assert not re.search(r"-0\.0+(?!\d*[1-9])", page.inner_text(sel)), sel
    expect(page.locator("#geo-rho-hint")).to_have_text(re.compile(r"^measured on the data: "))
    shot(page, tmp_path, "geometry")
    no_errors(page)


#: the geometry plot as drawn: its axes' ranges and lengths in px, and how far the grey
#: contour lines reach (the largest |coordinate| of their points)
GEO_LAYOUT = """() => { const g = document.querySelector('#geo-fig .js-plotly-plot');
    const L = g._fullLayout, c = g.data[0];
    const pts = c.x.concat(c.y).filter(v => v !== null).map(Math.abs);
    return {x_range: L.xaxis.range, y_range: L.yaxis.range, x_px: L.xaxis._length,
            y_px: L.yaxis._length, reach: Math.max(...pts)}; }"""


#: each view's path, a read-out that is filled once it is drawn, and its sliders
SLIDER_VIEWS = [("/", "#ow-lam-star", ["ow-lam", "ow-w", "ow-spread"]),
                ("/gradient-descent", "#gd-target", ["gd-lam", "gd-step"]),
                ("/geometry", "#geo-w-l1", ["geo-b1", "geo-b2", "geo-rho", "geo-t"])]


@pytest.mark.parametrize("width", [1400, 900])
def test_every_slider_shows_its_value_and_a_typed_value_is_clamped(page, base_url, width):
    """Over ~1100 px Dash hid its number box in the 320 px panel (no slider's value appeared as
    a number); under it, typing 99 moved the box to the maximum while the read-outs stayed."""
    from regulab.app.figures import fmt_w
    from regulab.core.geometry import l1_constrained, make_2d_problem
    from regulab.core.onedim import lam_threshold, make_one_weight_data

    page.set_viewport_size({"width": width, "height": 1000})
    views = SLIDER_VIEWS + ([("/neural-net", "#nn-l1", ["nn-lam"])] if HAS_TORCH else [])
    for path, ready, sliders in views:
        open_view(page, base_url, path, ready)
        for sid in sliders:
            box = page.locator(f"#{sid}-box")
            expect(box).to_be_visible()
            value = page.locator(f"#{sid} [role=slider]").get_attribute("aria-valuenow")
            expect(box).to_have_value(fmt_js(float(value)))
            assert box.bounding_box()["width"] >= 40, sid
    # typed values out of range: the slider and the box go to the bound, the read-outs follow
    open_view(page, base_url, "/", "#ow-lam-star")
    type_into(page, "ow-w", "99")
    expect(page.locator("#ow-w [role=slider]")).to_have_attribute("aria-valuenow", "1")
    expect(page.locator("#ow-w-box")).to_have_value("1")
    d = make_one_weight_data(100, 1.0, 1.0, 0.0, 0)
    expect(page.locator("#ow-lam-star")).to_have_text(f"{lam_threshold(d.a, d.w_hat):.4f}")
    type_into(page, "ow-spread", "-7")
    expect(page.locator("#ow-spread-box")).to_have_value("0.2")
    d = make_one_weight_data(100, 1.0, 0.2, 0.0, 0)
    expect(page.locator("#ow-lam-star")).to_have_text(f"{lam_threshold(d.a, d.w_hat):.4f}")
    type_into(page, "ow-lam", "0.333")                       # in range: onto the step grid
    expect(page.locator("#ow-lam-box")).to_have_value("0.33")
    expect(page.locator("#ow-lam [role=slider]")).to_have_attribute("aria-valuenow", "0.33")
    type_into(page, "ow-lam", "")                            # emptied: the slider's value again
    expect(page.locator("#ow-lam-box")).to_have_value("0.33")
    open_view(page, base_url, "/geometry", "#geo-w-l1")
    type_into(page, "geo-t", "99")
    expect(page.locator("#geo-t-box")).to_have_value("2.5")
    _, _, H, b = make_2d_problem(np.random.default_rng(0), (1.6, 0.6), 0.5, 100, 0.5)
    w1, _ = l1_constrained(H, b, 2.5)
    expect(page.locator("#geo-w-l1")).to_have_text("(" + ", ".join(fmt_w(v) for v in w1) + ")")
    open_view(page, base_url, "/your-data", "#data-kept", timeout=SLOW)
    expect(page.locator("#data-lam-shown")).to_be_visible()
    expect(page.locator("#data-lam-shown")).to_have_text(
        "λ = " + page.inner_text("#data-lam-value"))
    no_errors(page)


def mark_boxes(page):
    """The λ slider's marks as drawn: ``[(text, left, right)]`` in px, left to right."""
    marks = []
    for m in page.locator("#data-lam .dash-slider-mark").all():
        box = m.bounding_box()
        marks.append((m.inner_text(), box["x"], box["x"] + box["width"]))
    return sorted(marks, key=lambda m: m[1])


def test_lam_marks_never_overlap(page, base_url):
    """"m1se" and "0.0035min": the CV choices' marks on each other or on an end's number
    (breast_cancer with L2: lam_min is the 10th of 100 lams)."""
    open_view(page, base_url, "/your-data", "#data-kept", timeout=SLOW)
    page.click("#data-source")
    page.get_by_role("option", name="breast_cancer").click()
    expect(page.locator("#data-status")).to_contain_text("breast_cancer", timeout=SLOW)
    for kind, name in (("l2", "L2"), ("elasticnet", "elastic net"), ("l1", "L1")):
        page.locator(f"#data-penalty input[value={kind}]").check()
        expect(page.locator("#data-status")).to_contain_text(name, timeout=SLOW)
        page.wait_for_function(SETTLED)
        marks = mark_boxes(page)
        texts = " ".join(m[0] for m in marks)
        assert "min" in texts and "1se" in texts, marks
        for a, b in itertools.pairwise(marks):
            assert a[2] <= b[1], (kind, marks)
    no_errors(page)


def test_your_data(page, base_url, tmp_path):
    from regulab.commands.common import grid_for
    from regulab.data.datasets import load_builtin
    from regulab.data.prepare import prepare
    from regulab.selection.cv import fit_cv

    open_view(page, base_url, "/your-data", "#data-kept", timeout=SLOW)
    df, target, _ = load_builtin("diabetes")
    prep = prepare(df, target)
    res = fit_cv(prep.X, prep.y, loss="squared", l1_ratio=1.0, rule="1se",
                 lams=grid_for(prep.X, prep.y, "squared", 1.0, 100), cv=5, seed=0)
    press(page, "data-lam", "Home")                                         # smallest lam
    k = int(np.argmin(res.cv.lams))
    expect(page.locator("#data-kept")).to_have_text(f"{res.path.nnz[k]} of 10")
    expect(page.locator("#data-lam-value")).to_have_text(f"{res.cv.lams[k]:.4g}")
    press(page, "data-lam", "End")                                          # lam_max: all 0
    expect(page.locator("#data-kept")).to_have_text("0 of 10")
    expect(page.locator("#data-zeros")).to_have_text("10")

    evil = "<script>window.__pwned=1</script>"
    img = '<img src=x onerror="window.__pwned=2">'
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 4))
    y = 2 * X[:, 0] - X[:, 2] + 0.3 * rng.standard_normal(80)
    header = ["alpha_feature", "beta & gamma", evil, img, "target"]
    lines = [",".join('"' + h.replace('"', '""') + '"' for h in header)]
    lines += [",".join(f"{v:.5f}" for v in (*row, t)) for row, t in zip(X, y)]
    csv = tmp_path / "mine.csv"
    csv.write_text("\n".join(lines) + "\n")
    page.set_input_files("#data-upload input[type=file]", str(csv))
    expect(page.locator("#data-upload-msg")).to_contain_text("read mine.csv: 80 rows")
    coef = page.locator("#data-fig-coef")
    expect(coef).to_contain_text("alpha_feature", timeout=SLOW)
    expect(coef).to_contain_text("beta & gamma")
    expect(coef).to_contain_text(evil)                      # the characters, shown as text
    expect(coef).to_contain_text(img)
    expect(page.locator("#data-fig-path")).to_contain_text("<script>window.__pwned")  # legend
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#data-fig-coef script, #data-fig-coef img").count() == 0
    assert page.locator("[data-title='Share chart...']").count() == 0     # no cloud upload

    big = tmp_path / "big.csv"
    big.write_text("a,b\n" + "1.0,2.0\n" * (CAP // 8 + 500))
    assert big.stat().st_size > CAP
    page.set_input_files("#data-upload input[type=file]", str(big))
    msg = page.locator("#data-upload-msg")
    expect(msg).to_contain_text("refused")
    expect(msg).to_contain_text("limit of uploads")
    expect(coef).to_contain_text("alpha_feature")           # the last good table stays
    shot(page, tmp_path, "your-data")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    no_errors(page)


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed: the neural-net view is off")
def test_neural_net(page, base_url, tmp_path):
    open_view(page, base_url, "/neural-net", "#nn-l1")
    lam = press(page, "nn-lam", "ArrowRight")
    expect(page.locator("#nn-l1")).to_have_text(f"{lam / 1200:.4g}",       # Nielsen: lam/n
                                                timeout=SLOW)               # torch loads here
    page.click("#nn-run")
    epoch = "() => parseInt(document.querySelector('#nn-epoch').innerText)"
    page.wait_for_function(f"{epoch} >= 2", timeout=SLOW)
    before = int(page.inner_text("#nn-epoch"))
    lam = press(page, "nn-lam", "ArrowRight", "ArrowRight")
    expect(page.locator("#nn-l1")).to_have_text(f"{lam / 1200:.4g}")
    assert int(page.inner_text("#nn-epoch")) >= before                     # not reset
    page.wait_for_function(f"{epoch} >= {before + 2}", timeout=SLOW)       # still training
    expect(page.locator("#nn-note")).to_contain_text("changed at epoch")
    assert re.match(r"\d+(\.\d)?% \(\d+ of \d+\)", page.inner_text("#nn-zero"))
    page.click("#nn-run")                                                   # pause
    shot(page, tmp_path, "neural-net")
    no_errors(page)


# ----------------------------------------------------------------------------- what travels

def close_to(got, want, where="fig"):
    """``got`` (from the page) equals ``want`` (Python's) wherever ``want`` has a value:
    strings and flags exactly, numbers to 1e-12 (the browser sums the 100 squared residuals
    in another order than numpy)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), where
        for key, value in want.items():
            close_to(got.get(key), value, f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            close_to(g, w, f"{where}[{i}]")
    elif isinstance(want, float) or (isinstance(want, int) and not isinstance(want, bool)):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-14), (where, got, want)
    else:
        assert got == want, (where, got, want)


#: callback requests the page has sent so far, with the bytes of each answer
CALLBACKS = """() => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('_dash-update-component')).map(e => e.encodedBodySize)"""


@pytest.mark.parametrize("seed", range(3))
def test_one_weight_in_the_browser_is_the_python_closed_form(page, base_url, seed):
    """The lam slider never leaves the browser (assets/one_weight.js): at random settings its
    read-outs are Python's text for text, its figures Python's number for number."""
    from regulab.app.views import one_weight as ow

    open_view(page, base_url, "/", "#ow-lam-star")
    rng = np.random.default_rng(seed)
    specs = ow.SLIDERS
    for _ in range(8):
        lam, w, s = (float(sp["min"] + sp["step"] * rng.integers(
            0, round((sp["max"] - sp["min"]) / sp["step"]) + 1)) for sp in
            (specs["ow-lam"], specs["ow-w"], specs["ow-spread"]))
        got = page.evaluate("([lam, base]) => window.dash_clientside.regulab.oneWeight(lam, "
                            "base)", [lam, ow.one_weight_base(w, s)])
        want = ow.update_one_weight(lam, w, s)
        assert got[:8] == list(want[:8]), (lam, w, s)
        close_to(got[8], want[8], "loss")
        close_to(got[9], want[9], "lam")
    # moved in the page: no request, and what is drawn is the closed form at the slider's lam
    page.wait_for_function(SETTLED)
    sent = len(page.evaluate(CALLBACKS))
    lam = press(page, "ow-lam", "Home", *["ArrowRight"] * int(rng.integers(1, 60)))
    d = make_one_weight_data_default()
    from regulab.core.onedim import w_l1, w_l2

    expect(page.locator("#ow-w-l2")).to_have_text(f"{w_l2(d.a, d.w_hat, lam):.4f}")
    drawn = page.evaluate("""() => { const g = document.querySelector('#ow-fig-lam .js-plotly-plot');
        return [g.data[3].x[0], g.data[3].y[0], g.data[4].y[0]]; }""")
    assert drawn == pytest.approx([lam, w_l1(d.a, d.w_hat, lam), w_l2(d.a, d.w_hat, lam)],
                                  rel=1e-12, abs=1e-15)
    assert len(page.evaluate(CALLBACKS)) == sent
    no_errors(page)


def make_one_weight_data_default():
    from regulab.app.views import one_weight as ow
    from regulab.core.onedim import make_one_weight_data

    return make_one_weight_data(100, ow.SLIDERS["ow-w"]["value"],
                                ow.SLIDERS["ow-spread"]["value"], 0.0, 0)


#: each data-view figure as the page holds it (what plotly draws)
DATA_FIGURES = """() => Object.fromEntries(['data-fig-path', 'data-fig-cv', 'data-fig-coef']
    .map(id => { const g = document.querySelector('#' + id + ' .js-plotly-plot');
                 return [id, {data: g.data, layout: g.layout}]; }))"""


#: on the path and CV plots, the line "this λ" and every marker trace are drawn at x = lam
#: (within half a pixel of where the graph's axis puts lam)
LAM_DRAWN = r"""(lam) => ['data-fig-path', 'data-fig-cv'].every(id => {
    const g = document.querySelector('#' + id + ' .js-plotly-plot');
    const xa = g._fullLayout.xaxis, want = xa.l2p(xa.d2l(lam));
    const drawn = g.querySelectorAll('.scatterlayer .trace');
    const near = (v) => Math.abs(v - want) < 0.5;
    const checks = g._fullData.map((t, i) => {
        if (t.name === 'this λ') {
            const line = drawn[i] && drawn[i].querySelector('.js-line');
            const m = line && /^M([-\d.e]+),/.exec(line.getAttribute('d'));
            return !!m && near(+m[1]);
        }
        if (t.mode !== 'markers') return true;
        return [...drawn[i].querySelectorAll('.point')].every(p => {
            const m = /translate\(([-\d.e]+),/.exec(p.getAttribute('transform'));
            return !!m && near(+m[1]); });
    });
    return checks.every(Boolean) && g._fullData.some(t => t.name === 'this λ'); })"""


#: on the coefficient plot, each feature's dot is drawn at its coefficient (within half a pixel
#: of where the x axis puts it, on its own row), ringed green exactly when it is 0, and its
#: stem runs from 0 to it on that row
COEF_DRAWN = r"""([coefs, green]) => {
    const g = document.querySelector('#data-fig-coef .js-plotly-plot');
    const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis, names = g._fullData[1].y;
    const near = (a, b) => Math.abs(a - b) < 0.5;
    const traces = g.querySelectorAll('.scatterlayer .trace');
    const points = [...traces[1].querySelectorAll('.point')];
    const rgb = (hex) => 'rgb(' + [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16))
        .join(', ') + ')';
    const dots = points.length === coefs.length && points.every((p, j) => {
        const m = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(p.getAttribute('transform'));
        return !!m && near(+m[1], xa.l2p(coefs[j])) && near(+m[2], ya.l2p(ya.d2l(names[j])))
            && (p.style.stroke === rgb(green)) === (coefs[j] === 0);
    });
    // plotly draws each stem (a segment between gaps) as a path of its own
    const d = [...traces[0].querySelectorAll('.js-line')].map(l => l.getAttribute('d')).join('');
    const ends = [...d.matchAll(/M([-\d.e]+),([-\d.e]+)(?:L([-\d.e]+),([-\d.e]+))?/g)];
    const stems = coefs.every((c, j) => {
        const y = ya.l2p(ya.d2l(names[j]));
        const s = ends.find(e => near(+e[2], y));
        return !!s && near(+s[1], xa.l2p(0)) && near(+(s[3] === undefined ? s[1] : s[3]),
                                                     xa.l2p(c));
    });
    return dots && stems; }"""


def test_your_data_lam_moves_send_read_outs_and_draw_the_full_figures(page, base_url):
    """A lam move asks the server for the read-outs only (a few hundred bytes), and the
    figures drawn (by assets/your_data.js) are the ones Python draws from scratch there."""
    from regulab.app import figures as F
    from regulab.app.views import your_data as yd

    open_view(page, base_url, "/your-data", "#data-kept", timeout=SLOW)
    page.wait_for_function(SETTLED)
    rng = np.random.default_rng(0)
    state = SERVED["app"].regulab_state
    v = yd.path_view(state, "diabetes", "progression", "l1")
    def check(k, sent):
        expect(page.locator("#data-lam-value")).to_have_text(f"{v['lams'][k]:.4g}")
        page.wait_for_function(SETTLED)
        want_coef = [c[k] for c in v["coefs"]]
        page.wait_for_function("""(want) => { const g = document.querySelector(
            '#data-fig-coef .js-plotly-plot'); const x = g.data[1].x;
            return want.every((c, j) => Math.abs(x[j] - c) <= 1e-9 * (1 + Math.abs(c))); }""",
                               arg=want_coef)
        drawn = page.evaluate(DATA_FIGURES)
        want = yd.update_data_figures(v, k)[1:]
        for gid, fig in zip(("data-fig-path", "data-fig-cv", "data-fig-coef"), want):
            close_to(drawn[gid]["data"], fig["data"], gid)
            close_to(drawn[gid]["layout"]["shapes"], fig["layout"]["shapes"], gid)
            close_to(drawn[gid]["layout"]["title"], fig["layout"]["title"], gid)
        # drawn there, not only held: the line at lam and the markers on the path and CV plots,
        # each coefficient's dot and stem at the solver's value, exact zeros ringed green
        page.wait_for_function(LAM_DRAWN, arg=v["lams"][k])
        page.wait_for_function(COEF_DRAWN, arg=[want_coef, F.ZERO_COLOR])
        sizes = page.evaluate(CALLBACKS)[sent:]
        # the read-outs only: the figures are drawn in the browser (whole ones: over 50 KB)
        assert sizes and max(sizes) < 1_000, sizes

    for i in range(4):
        if i == 2:   # another tab and back: the graphs are mounted again from their props
            page.click("#tab-one-weight")
            expect(page.locator("#ow-lam-star")).not_to_have_text("-")
            page.click("#tab-data")
            page.wait_for_selector("#data-fig-coef .js-plotly-plot .main-svg")
            page.wait_for_function(SETTLED)
        sent = len(page.evaluate(CALLBACKS))
        k = int(press(page, "data-lam", *["ArrowLeft", "ArrowRight"][i % 2:][:1]
                      * int(rng.integers(1, 30))))
        check(k, sent)
    sent = len(page.evaluate(CALLBACKS))
    dragged = int(drag(page, "data-lam", (0.7, 0.2, 0.35), 4))   # many moves, drawn as it goes
    assert dragged != k, (dragged, k)
    check(dragged, sent)
    no_errors(page)


@pytest.mark.parametrize("seed", range(3))
def test_your_data_moves_in_the_browser_are_the_python_figures(page, base_url, seed):
    """assets/your_data.js draws a lam move from the figures the page holds: from Python's
    figures at one position it gives Python's figures at another, value for value (random
    tables, every penalty kind, random positions), and it leaves figures of another path
    alone."""
    import base64

    import pandas as pd

    from regulab.app.state import LabState
    from regulab.app.views import your_data as yd
    from regulab.core.penalties import KINDS

    open_view(page, base_url, "/your-data", "#data-kept", timeout=SLOW)
    rng = np.random.default_rng(seed)
    for kind in KINDS:
        n, p = int(rng.integers(40, 90)), int(rng.integers(2, 9))
        X = rng.standard_normal((n, p))
        y = X @ (rng.standard_normal(p) * (rng.random(p) < 0.5)) + rng.standard_normal(n)
        df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)]).assign(y=y)
        state = LabState()
        key = state.add_upload("data:text/csv;base64," + base64.b64encode(
            df.to_csv(index=False).encode()).decode(), "t.csv")[0]
        store = yd.update_fit(state, key, "y", kind)[0]
        v = yd.path_view(state, key, "y", kind)
        for k0, k1 in rng.integers(0, len(v["lams"]), size=(4, 2)):
            start = yd.update_data_figures(v, int(k0))[1:]
            got = page.evaluate("([k, view, figs]) => window.dash_clientside.regulab"
                                ".yourDataView(k, view, ...figs)", [int(k1), store, start])
            want = yd.update_data_figures(v, int(k1))[1:]
            assert got == list(want), (kind, k0, k1)
        # figures of another path: not touched (the server sends whole figures then)
        other = dict(store, figure_key=store["figure_key"] + "|another")
        left = page.evaluate("([view, figs]) => window.dash_clientside.regulab.yourDataView("
                             "3, view, ...figs).every(f => f === window.dash_clientside"
                             ".no_update)", [other, start])
        assert left
    no_errors(page)


#: per figure of the data view, for the move counted in ``window.__move``: its SVG changes
#: (a MutationObserver's records) and its plotly events (``transitioned``: react's cheap path,
#: traces only; ``afterplot``: a whole drawing, or a relayout)
COUNT_REDRAWS = """(ids) => {
    window.__move = 0; window.__changes = {}; window.__events = {};
    const add = (table, key, n) => { table[key] = (table[key] || 0) + n; };
    for (const id of ids) {
        const gd = document.querySelector('#' + id + ' .js-plotly-plot');
        new MutationObserver((records) => add(window.__changes, window.__move + ' ' + id,
            records.length)).observe(gd, {attributes: true, childList: true, subtree: true,
                                           characterData: true});
        for (const ev of ['transitioned', 'afterplot']) {
            gd.on('plotly_' + ev, () => add(window.__events, window.__move + ' ' + id + ' ' + ev,
                                           1));
        }
    }
}"""
DATA_GRAPHS = ("data-fig-path", "data-fig-cv", "data-fig-coef")


def test_your_data_moves_right_after_a_load_redraw_only_what_moves(page, base_url):
    """The first moves after a page load take plotly's cheap route, as later ones do: each
    figure's traces move (``plotly_transitioned``) and its SVG changes a small fraction of what
    drawing the figure whole changes (measured here on the same page: a new penalty's figures).
    The moves start as soon as the page has settled, where the benchmark saw an extra
    ``plotly_afterplot`` on one of the first moves: dcc.Graph's deferred resize (a relayout to
    the same size, 100 ms after the first figures grew their panels), which redraws nothing."""
    open_view(page, base_url, "/your-data", "#data-kept", timeout=SLOW)
    page.wait_for_function(SETTLED)
    page.evaluate(COUNT_REDRAWS, list(DATA_GRAPHS))
    thumb = page.locator("#data-lam [role=slider]")
    moves = 5
    for i in range(1, moves + 1):
        page.evaluate(f"() => {{ window.__move = {i}; }}")
        thumb.focus()
        page.keyboard.press("ArrowRight")
        try:
            page.wait_for_function("""([i, ids]) => ids.every((id) =>
                window.__events[i + ' ' + id + ' transitioned'] >= 1)""", arg=[i, DATA_GRAPHS])
        except sync_api.TimeoutError:
            raise AssertionError(f"move {i} did not take react's transition path on every "
                                 f"figure: {page.evaluate('() => window.__events')}") from None
        page.wait_for_function(SETTLED)
    page.evaluate("() => { window.__move = 'whole'; }")
    choose(page, "data-penalty", "l2", "L2")     # another path: whole figures from the server
    page.wait_for_function("""(ids) => ids.every((id) =>
        window.__events['whole ' + id + ' afterplot'] >= 1)""", arg=list(DATA_GRAPHS))
    page.wait_for_function(SETTLED)
    changes = page.evaluate("() => window.__changes")
    for gid in DATA_GRAPHS:
        whole = changes.get(f"whole {gid}", 0)
        assert whole >= 60, (gid, changes)       # a whole figure: axes, ticks, every trace
        for i in range(1, moves + 1):
            assert changes.get(f"{i} {gid}", 0) <= whole / 10, (gid, i, changes)
    no_errors(page)


def test_page_load_fits_nothing_until_the_data_view_opens(page, monkeypatch):
    import regulab.selection.cv as cv
    from regulab.app.server import create_app, make_server

    fits = []
    original = cv.fit_cv
    monkeypatch.setattr(cv, "fit_cv", lambda *a, **k: fits.append(1) or original(*a, **k))
    app = create_app()
    srv = make_server("127.0.0.1", 0, app.server)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{srv.port}"
        for path, ready in (("/", "#ow-lam-star"), ("/geometry", "#geo-w-l1")):
            open_view(page, url, path, ready)
            page.wait_for_function(SETTLED)
        assert fits == [] and not app.regulab_state.paths
        page.click("#tab-data")
        expect(page.locator("#data-kept")).not_to_have_text("-", timeout=SLOW)
        assert len(fits) == 1
        k = press(page, "data-lam", "Home", "ArrowRight")
        page.click("#tab-one-weight")
        expect(page.locator("#ow-lam-star")).not_to_have_text("-")
        page.click("#tab-data")                  # back: same path, same position, no refit
        page.wait_for_function(SETTLED)
        expect(page.locator("#data-lam [role=slider]")).to_have_attribute(
            "aria-valuenow", str(int(k)))
        assert len(fits) == 1
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)
    no_errors(page)


# ----------------------------------------------------------------------------- family, grouped

def counts_table(seed: int):
    """A count target ``visits`` (Poisson, log link) driven by ``x1`` and a categorical column
    ``region`` of three levels (two indicators after preparation), plus a noise feature."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = 150
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
    region = rng.choice(["north", "south", "east"], n)
    effect = pd.Series(region).map({"north": 0.0, "south": 0.9, "east": -0.7}).to_numpy()
    visits = rng.poisson(np.exp(0.4 + 0.5 * x1 + effect))
    return pd.DataFrame({"x1": x1.round(4), "x2": x2.round(4), "region": region,
                         "visits": visits})


def expected_family_line(df, family: str) -> str:
    """The CLI's family line for ``visits`` under ``family``, from the library's preparation."""
    from regulab.data.prepare import prepare
    from regulab.data.target import FAMILY_OF_TASK, TASK_OF_FAMILY

    task = "auto" if family == "auto" else TASK_OF_FAMILY[family]
    prep = prepare(df, "visits", task=task)
    why = next(x for x in prep.report if x.startswith("target "))
    return f"family: {FAMILY_OF_TASK[prep.task]} ({why})"


#: the coefficient figure's feature names: [names drawn non-zero, names drawn at exactly 0]
COEF_SPLIT = """() => { const g = document.querySelector('#data-fig-coef .js-plotly-plot');
    const dots = g.data[1];
    return [dots.y.filter((n, j) => dots.x[j] !== 0), dots.y.filter((n, j) => dots.x[j] === 0)];
}"""

GROUPED_BOX = "#data-grouped input[type=checkbox]"


def choose(page, control, value, status_text):
    """Tick a radio button of the data view and wait until the status says the fit is done."""
    page.locator(f"#{control} input[value={value}]").check()
    expect(page.locator("#data-status")).to_contain_text(status_text, timeout=SLOW * 2)
    page.wait_for_function(SETTLED, timeout=SLOW)


def test_your_data_family_control_and_grouped_categoricals(page, base_url, tmp_path):
    """Issue 15: the family control (auto / gaussian / binomial / poisson) and the "grouped
    categoricals" box, on an uploaded table with a count target and a categorical column."""
    from regulab.data.prepare import prepare

    df = counts_table(0)
    csv = tmp_path / "visits.csv"
    df.to_csv(csv, index=False)
    names = prepare(df, "visits").feature_names
    groups = prepare(df, "visits").groups
    region = [n for n, g in zip(names, groups) if g == "region"]
    assert len(region) == 2, (names, groups)

    open_view(page, base_url, "/your-data", "#data-kept", timeout=SLOW)
    page.set_input_files("#data-upload input[type=file]", str(csv))
    expect(page.locator("#data-upload-msg")).to_contain_text("read visits.csv: 150 rows")
    # auto on a count target: poisson, said with the CLI's family line; no groups for poisson
    status = page.locator("#data-status")
    expect(status).to_contain_text(expected_family_line(df, "auto"), timeout=SLOW * 2)
    assert expected_family_line(df, "auto").startswith("family: poisson (")
    page.wait_for_function(SETTLED, timeout=SLOW)
    expect(page.locator(GROUPED_BOX)).to_be_disabled()
    expect(page.locator("#data-grouped-hint")).to_have_text(
        "the poisson family's solver has no groups")

    # gaussian on the same target: the family line and the CV error change; the box opens
    choose(page, "data-family", "gaussian", expected_family_line(df, "gaussian"))
    expect(status).not_to_contain_text("family: poisson")
    expect(status).to_contain_text("mean squared error")
    expect(page.locator(GROUPED_BOX)).to_be_enabled()
    expect(page.locator("#data-grouped-hint")).to_have_text("")

    # grouped: region is kept or dropped whole, and the read-out says which
    page.locator(GROUPED_BOX).check()
    expect(status).to_contain_text("grouped categoricals", timeout=SLOW * 2)
    page.wait_for_function(SETTLED, timeout=SLOW)
    for key, verdict in (("End", "region dropped"), ("Home", "region kept")):
        press(page, "data-lam", key)
        expect(page.locator("#data-rule")).to_contain_text(
            f"grouped categoricals at λ: {verdict}")
        page.wait_for_function(SETTLED)
        page.wait_for_function(
            f"([names, kept]) => {{ const split = ({COEF_SPLIT})();"
            " return names.every(n => split[kept ? 0 : 1].includes(n)); }",
            arg=[region, verdict.endswith("kept")])
        nonzero, zero = page.evaluate(COEF_SPLIT)
        inside = [n in (nonzero if verdict.endswith("kept") else zero) for n in region]
        assert all(inside), (verdict, nonzero, zero)         # both indicators, together

    # L2 has no L1 part: the box is off, with the reason
    choose(page, "data-penalty", "l2", "L2")
    expect(page.locator(GROUPED_BOX)).to_be_disabled()
    expect(page.locator("#data-grouped-hint")).to_have_text(
        "grouped needs an L1 part: choose L1 or elastic net")
    expect(page.locator("#data-rule")).not_to_contain_text("grouped categoricals")

    # a family that does not fit the target: one line saying why
    page.locator("#data-family input[value=binomial]").check()
    expect(status).to_contain_text("cannot fit:", timeout=SLOW)
    expect(status).to_contain_text("family binomial")
    expect(status).to_contain_text("needs a target with 2 distinct values")
    assert "\n" not in page.inner_text("#data-status").strip()
    expect(status).to_have_class(re.compile(r"\bmsg-error\b"))

    # poisson chosen by hand on the count target: the family line says poisson again
    choose(page, "data-family", "poisson", expected_family_line(df, "poisson"))
    expect(status).to_contain_text("Poisson deviance")
    no_errors(page)


def test_one_weight_redraw_shows_the_closed_form_after_a_move(page, base_url):
    """After λ moves, what plotly holds for both figures is the closed form at that λ, computed
    here from the samples: the minimizers' markers, their losses and the "this λ" line."""
    from regulab.app.views import one_weight as ow

    open_view(page, base_url, "/", "#ow-lam-star")
    page.wait_for_function(SETTLED)
    d = make_one_weight_data_default()
    x, y = np.asarray(d.x, dtype=float).ravel(), np.asarray(d.y, dtype=float).ravel()
    a, w_hat = float(np.mean(x * x)), float(np.mean(x * y) / np.mean(x * x))
    rng = np.random.default_rng(7)
    spec = ow.SLIDERS["ow-lam"]
    below = int((2 * a * abs(w_hat) - spec["min"]) / spec["step"])  # last step under lam*
    for side in (0, 1, 0):                     # under lam* (L1 not 0), over it (exactly 0), under
        steps = int(rng.integers(1, below + 1) if side == 0 else
                    rng.integers(below + 2, round((spec["max"] - spec["min"]) / spec["step"])))
        lam = press(page, "ow-lam", "Home", *["ArrowRight"] * steps)
        assert lam == pytest.approx(steps * ow.SLIDERS["ow-lam"]["step"])
        w1 = float(np.sign(w_hat) * max(abs(w_hat) - lam / (2 * a), 0.0))
        w2 = w_hat * a / (a + lam)
        assert (w1 == 0.0) == bool(side), (lam, w1)
        expect(page.locator("#ow-w-l2")).to_have_text(f"{w2:.4f}")
        got = page.wait_for_function(DRAWN_ONE_WEIGHT, arg=lam).json_value()
        mse = [float(np.mean((y - w * x) ** 2)) for w in (w1, w2)]
        assert got["this"] == pytest.approx([lam, lam], rel=1e-12)
        assert got["l1_at_lam"] == pytest.approx([lam, w1], rel=1e-12, abs=1e-15)
        assert got["l2_at_lam"] == pytest.approx([lam, w2], rel=1e-12, abs=1e-15)
        assert got["l1_min"] == pytest.approx([w1, mse[0] + lam * abs(w1)], rel=1e-9, abs=1e-15)
        assert got["l2_min"] == pytest.approx([w2, mse[1] + lam * w2 * w2], rel=1e-9, abs=1e-15)
        # and drawn there: each marker's SVG position is plotly's pixel for the closed form,
        # the L1 marker green exactly when w_L1 is 0
        want = {"ow-fig-lam": {"w_L1": [lam, w1], "w_L2": [lam, w2]},
                "ow-fig-loss": {"L1 minimum": [w1, mse[0] + lam * abs(w1)],
                                "L2 minimum": [w2, mse[1] + lam * w2 * w2]}}
        page.wait_for_function(MARKERS_AT, arg=want)
        fill = page.evaluate(L1_FILL)
        assert fill == ("rgb(46, 139, 87)" if w1 == 0.0 else "rgb(31, 95, 191)"), (lam, fill)
    # another tab and back: the graphs are mounted again, and drawn at the slider's lam
    page.click("#tab-geometry")
    expect(page.locator("#geo-w-l1")).not_to_have_text("-")
    page.click("#tab-one-weight")
    expect(page.locator("#ow-w-l2")).to_have_text(f"{w2:.4f}")
    page.wait_for_function(MARKERS_AT, arg=want)
    no_errors(page)


#: every named marker of ``want`` ({graph id: {trace name: [x, y]}}) is drawn within half a
#: pixel of where the graph's axes put [x, y]
MARKERS_AT = r"""(want) => Object.entries(want).every(([id, traces]) => {
    const g = document.querySelector('#' + id + ' .js-plotly-plot');
    const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
    const drawn = g.querySelectorAll('.scatterlayer .trace');
    return Object.entries(traces).every(([name, [x, y]]) => {
        const i = g._fullData.findIndex(t => t.name === name);
        const pt = i >= 0 && drawn[i] && drawn[i].querySelector('.point');
        const m = pt && /translate\(([-\d.e]+),\s*([-\d.e]+)\)/.exec(pt.getAttribute('transform'));
        return m && Math.abs(+m[1] - xa.l2p(x)) < 0.5 && Math.abs(+m[2] - ya.l2p(y)) < 0.5;
    }); })"""

#: the drawn fill of the lam figure's w_L1 marker
L1_FILL = """() => { const g = document.querySelector('#ow-fig-lam .js-plotly-plot');
    const i = g._fullData.findIndex(t => t.name === 'w_L1');
    return getComputedStyle(g.querySelectorAll('.scatterlayer .trace')[i]
                            .querySelector('.point')).fill; }"""


#: what plotly holds for One weight's figures, by trace name, once the "this λ" line is at lam
DRAWN_ONE_WEIGHT = """(lam) => {
    const fig = (id) => document.querySelector('#' + id + ' .js-plotly-plot');
    const loss = fig('ow-fig-loss'), lams = fig('ow-fig-lam');
    if (!loss || !lams || !loss.data || !lams.data) return null;
    const at = (g, name) => { const t = g.data.find(t => t.name === name);
                              return t ? [t.x[0], t.y[0]] : null; };
    const line = lams.data.find(t => t.name === 'this λ');
    if (!line || Math.abs(line.x[0] - lam) > 1e-12) return null;
    return {this: line.x, l1_at_lam: at(lams, 'w_L1'), l2_at_lam: at(lams, 'w_L2'),
            l1_min: at(loss, 'L1 minimum'), l2_min: at(loss, 'L2 minimum')}; }"""


#: count, per graph, the Plotly.react calls from here on, and those made while Dash runs the
#: view's callback (oneWeightView): a move drawn ahead of Dash has none of the latter
COUNT_REACTS = """() => {
    const c = window.__reacts = {by: {}, in_dash: 0}, ns = window.dash_clientside.regulab;
    let inDash = false;
    if (!window.__wrapped) {
        const react = Plotly.react, view = ns.oneWeightView;
        Plotly.react = function (gd) {
            const id = gd.parentElement && gd.parentElement.id;
            window.__reacts.by[id] = (window.__reacts.by[id] || 0) + 1;
            if (inDash) window.__reacts.in_dash += 1;
            return react.apply(this, arguments);
        };
        ns.oneWeightView = function () {
            inDash = true;
            try { return view.apply(this, arguments); } finally { inDash = false; }
        };
        window.__wrapped = true;
    }
}"""


def test_one_weight_draws_a_lam_move_once_ahead_of_dash(page, base_url):
    """assets/one_weight.js draws a lam move as the slider's thumb moves (its aria-valuenow),
    whatever moved it: a key, a value typed in its box or the pointer. Each move is drawn once
    per graph, and never again by Dash's callback, which finds it drawn; what is drawn is the
    closed form at the slider's value (marker pixels), and the read-outs say the same."""
    from regulab.core.onedim import w_l1, w_l2

    open_view(page, base_url, "/", "#ow-lam-star")
    page.wait_for_function(SETTLED)
    page.evaluate(COUNT_REACTS)
    d = make_one_weight_data_default()
    x, y = np.asarray(d.x, dtype=float).ravel(), np.asarray(d.y, dtype=float).ravel()
    thumb = page.locator("#ow-lam [role=slider]")
    rng = np.random.default_rng(3)

    def check(lam, moves):
        w1, w2 = w_l1(d.a, d.w_hat, lam), w_l2(d.a, d.w_hat, lam)
        expect(page.locator("#ow-w-l2")).to_have_text(f"{w2:.4f}")
        expect(page.locator("#ow-w-l1")).to_have_text("0 (exactly)" if w1 == 0 else f"{w1:.4f}")
        page.wait_for_function(SETTLED)
        mse = [float(np.mean((y - w * x) ** 2)) for w in (w1, w2)]
        page.wait_for_function(MARKERS_AT, arg={
            "ow-fig-lam": {"w_L1": [lam, w1], "w_L2": [lam, w2]},
            "ow-fig-loss": {"L1 minimum": [w1, mse[0] + lam * abs(w1)],
                            "L2 minimum": [w2, mse[1] + lam * w2 * w2]}})
        counts = page.evaluate("() => window.__reacts")
        assert counts["in_dash"] == 0, counts
        if moves is not None:
            assert counts["by"] == {"ow-fig-loss": moves, "ow-fig-lam": moves}, counts
        page.evaluate("() => { window.__reacts.by = {}; window.__reacts.in_dash = 0; }")

    for _ in range(3):                                        # keys: one draw per move
        steps = int(rng.integers(1, 6))
        thumb.focus()
        before = float(thumb.get_attribute("aria-valuenow"))
        for _ in range(steps):
            page.keyboard.press("ArrowRight")
            page.wait_for_function(SETTLED)
        lam = float(thumb.get_attribute("aria-valuenow"))
        assert lam == pytest.approx(before + 0.01 * steps)
        check(lam, steps)
    typed = round(float(rng.integers(1, 200)) * 0.01, 2)     # a typed value: one draw
    type_into(page, "ow-lam", repr(typed))
    expect(thumb).to_have_attribute("aria-valuenow", fmt_js(typed))
    check(typed, 1)
    lam = drag(page, "ow-lam", (0.4, 0.3, 0.2), 3)           # dragged: drawn as it goes
    check(lam, None)
    page.click("#tab-geometry")                      # the view's slider is mounted again
    expect(page.locator("#geo-w-l1")).not_to_have_text("-")
    page.click("#tab-one-weight")
    expect(page.locator("#ow-w-l2")).to_have_text(f"{w_l2(d.a, d.w_hat, lam):.4f}")
    page.wait_for_function(SETTLED)
    page.evaluate("() => { window.__reacts.by = {}; window.__reacts.in_dash = 0; }")
    thumb.focus()
    page.keyboard.press("ArrowLeft")
    lam = round(lam - 0.01, 2)
    check(lam, 1)
    # a new true w: Dash's graphs draw the new figures over the ones drawn here, and the next
    # move is drawn ahead on those
    from regulab.core.onedim import make_one_weight_data

    w_true = press(page, "ow-w", "End")
    d = make_one_weight_data(100, w_true, 1.0, 0.0, 0)
    x, y = np.asarray(d.x, dtype=float).ravel(), np.asarray(d.y, dtype=float).ravel()
    check(lam, None)
    page.evaluate("() => { window.__reacts.by = {}; window.__reacts.in_dash = 0; }")
    thumb.focus()
    page.keyboard.press("ArrowRight")
    check(round(lam + 0.01, 2), 1)
    no_errors(page)
