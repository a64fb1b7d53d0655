"""Slider-to-figure latency, page load and bytes per move of ``regulab app``, in a real browser.

This script starts the real server on a free loopback port and drives Debian's chromium (through
Playwright; no browser download) through the lab:

* **slider -> figures redrawn**: in each view it moves one slider with the keyboard, one step at
  a time, alternating right and left, and records inside the page the time from the ``keydown``
  to the moment *every* figure of the view has been redrawn (plotly's ``plotly_afterplot``) --
  the whole round trip where there is one (Dash's request, the callback, the response) plus
  plotly's drawing. Moves are spaced out so each is measured on its own: the next key is pressed
  once the previous move is drawn and no callback is pending (waits on conditions, never fixed
  sleeps). Per view it also counts the bytes of callback responses per move and, on the server,
  the time each callback took (a Flask hook around ``_dash-update-component``), and splits
  the latency into the wait for the last callback answer and the browser's drawing after it,
  and reads the CPU time the page's main thread spent per move (Chrome's ``ThreadTime``
  metric): unlike the latency, it barely depends on what else the machine is running.
* **slider -> figures painted**: the same moves, timed from the ``keydown`` to the first
  animation frame after the last change the move made to any figure's SVG (a
  ``MutationObserver`` on each figure; a frame's callbacks run just before it is painted): when
  the move's final picture reaches the screen. It differs from the plotly events where those
  come late (plotly's transition path emits ``plotly_transitioned`` from a ``setTimeout``
  queued behind the page's other work, after the frame that painted the traces) or early (a
  whole redraw's ``plotly_afterplot`` comes before the next frame paints it).
* **page load to interactive**: a fresh server each time (nothing computed yet), then the time
  from navigation start until the home page's figures are drawn and no callback is pending
  (``performance.now()`` in the page; ``--loads`` of them), plus how many path fits (calls of
  :func:`regulab.selection.cv.fit_cv`) the load caused.

Run::

    python benchmarks/bench_app_latency.py [--moves 60] [--loads 5] [--views "one weight,your data"]
        [--plotly full] [--json]

``--plotly FILE`` serves another plotly.js build in place of the one the page loads (the app's
vendored partial bundle, ``assets/vendor/plotly-basic.min.js``, or, in a tree without it, Dash's
``plotly.min.js``; the browser asks for the same URL): e.g. ``--plotly full`` (the full
``plotly.min.js`` of the installed ``plotly`` package) measures what the partial bundle changed,
in the same tree and run conditions.

Exit status 1 when a view's p95 (either measure) is above its budget (``--budget`` ms for One
weight, twice that for the others; default 50) or the median page load above ``--load-budget``
(default 1500 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections import defaultdict

import numpy as np

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: view, path, the slider moved, the graphs it redraws, the read-out that shows it is ready,
#: its budget as a multiple of --budget
CASES = [
    ("one weight", "/", "ow-lam", ["ow-fig-loss", "ow-fig-lam"], "#ow-lam-star", 1),
    ("gradient descent", "/gradient-descent", "gd-lam", ["gd-fig-loss", "gd-fig-iter"],
     "#gd-target", 2),
    ("geometry", "/geometry", "geo-t", ["geo-fig"], "#geo-w-l1", 2),
    ("your data", "/your-data", "data-lam", ["data-fig-path", "data-fig-cv", "data-fig-coef"],
     "#data-kept", 2),
]

INSTALL = """(graphs) => {
    window.__bench = {t0: null, done: {}, lat: [], wire: [], painted: [], mut: {}, frames: []};
    const b = window.__bench;
    document.addEventListener('keydown', () => {
        b.t0 = performance.now(); b.done = {}; b.mut = {}; b.frames = []; b.k0 = b.t0;
    }, true);
    // every animation frame's time (a frame's callbacks run just before it is painted)
    const frame = () => { b.frames.push(performance.now()); requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    for (const id of graphs) {
        const gd = document.querySelector('#' + id + ' .js-plotly-plot');
        // the last change this move made to the figure's SVG
        new MutationObserver(() => { b.mut[id] = performance.now(); }).observe(
            gd, {attributes: true, childList: true, subtree: true, characterData: true});
        // a whole redraw ends with plotly_afterplot; react's transition path (traces only,
        // used where the axes stay as they are) with plotly_transitioned
        const drawn = () => {
            if (b.t0 === null) return;
            b.done[id] = performance.now();
            if (graphs.every((g) => b.done[g] !== undefined)) {
                // the last callback answer of this move: the rest of the time is the browser's
                const answers = performance.getEntriesByType('resource').filter((e) =>
                    e.name.includes('_dash-update-component') && e.startTime >= b.t0);
                b.wire.push(answers.length ?
                    Math.max(...answers.map((e) => e.responseEnd)) - b.t0 : 0);
                b.lat.push(Math.max(...graphs.map((g) => b.done[g])) - b.t0);
                b.t0 = null;
            }
        };
        gd.on('plotly_afterplot', drawn);
        gd.on('plotly_transitioned', drawn);
    }
}"""

#: once a move has settled and a frame has passed since: the move's time to the screen, ms
#: from the keydown to the first animation frame after the last change any figure's SVG got
#: (the frame that paints the move's final picture); null when no figure changed
PAINTED = """() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => {
    const b = window.__bench, last = Math.max(...Object.values(b.mut));
    const frame = b.frames.find((f) => f >= last);
    const ms = Object.keys(b.mut).length && frame !== undefined ? frame - b.k0 : null;
    if (ms !== null) b.painted.push(ms);
    done(ms);
})))"""

#: the page's callbacks have all answered (Dash marks a component waiting for one)
SETTLED = "() => !document.querySelector('[data-dash-is-loading=\"true\"]')"
#: deadline of every wait, ms (generous: a loaded machine is slow, a met condition ends it)
TIMEOUT = 180_000


class ServerClock:
    """Server-side time and response bytes of every callback request, by its output."""

    def __init__(self):
        self.ms = defaultdict(list)
        self.bytes = 0
        self.lock = threading.Lock()

    def install(self, server):
        import flask

        @server.before_request
        def _t0():
            flask.g.bench_t0 = time.perf_counter()

        @server.after_request
        def _t1(response):
            req = flask.request
            if req.method == "POST" and req.path.endswith("_dash-update-component"):
                body = req.get_json(silent=True) or {}
                name = str(body.get("output", "?")).strip(".").split(".")[0]
                with self.lock:
                    self.ms[name].append(1e3 * (time.perf_counter() - flask.g.bench_t0))
                    self.bytes += len(response.get_data())
            return response

    def reset(self):
        with self.lock:
            self.ms.clear()
            self.bytes = 0


def serve(clock: ServerClock | None = None):
    from regulab.app.server import create_app, make_server

    app = create_app()
    if clock is not None:
        clock.install(app.server)
    srv = make_server("127.0.0.1", 0, app.server)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def count_fits():
    """Count calls of fit_cv (where the app's data view looks it up) from here on."""
    import regulab.selection.cv as cv

    calls = []
    original = cv.fit_cv

    def counted(*a, **k):
        calls.append(1)
        return original(*a, **k)

    cv.fit_cv = counted
    return calls


def move(page, key):
    """Press ``key`` on the focused slider and wait until every figure is redrawn and nothing
    is pending."""
    n = page.evaluate("() => window.__bench.lat.length")
    page.keyboard.press(key)
    page.wait_for_function(f"() => window.__bench.lat.length > {n}", timeout=TIMEOUT)
    page.wait_for_function(SETTLED, timeout=TIMEOUT)
    page.evaluate(PAINTED)


def main_thread_cpu(cdp) -> float:
    """CPU ms the page's main thread has used so far (Chrome's ``ThreadTime`` metric): what a
    move costs the browser, whatever else the machine runs."""
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return 1e3 * next(m["value"] for m in metrics if m["name"] == "ThreadTime")


def measure(page, cdp, base, clock, case, moves):
    name, path, slider, graphs, ready, _ = case
    page.goto(base + path)
    page.wait_for_function(f"() => {{ const e = document.querySelector('{ready}');"
                           f" return e && e.innerText !== '-' && e.innerText !== ''; }}",
                           timeout=TIMEOUT)
    for g in graphs:
        page.wait_for_selector(f"#{g} .js-plotly-plot .main-svg", timeout=TIMEOUT)
    page.wait_for_function(SETTLED, timeout=TIMEOUT)    # the first callbacks have answered
    page.evaluate(INSTALL, graphs)
    thumb = page.locator(f"#{slider} [role=slider]")
    thumb.focus()
    for _ in range(3):                         # warm-up moves, not counted
        move(page, "ArrowRight")
    page.evaluate("() => { window.__bench.lat = []; window.__bench.wire = [];"
                  " window.__bench.painted = [];"
                  " performance.setResourceTimingBufferSize(100000); }")
    clock.reset()
    cpu0 = main_thread_cpu(cdp)
    for i in range(moves):
        move(page, "ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft")
    cpu = (main_thread_cpu(cdp) - cpu0) / moves
    lat = np.array(page.evaluate("() => window.__bench.lat"))
    wire = np.array(page.evaluate("() => window.__bench.wire"))
    painted = np.array(page.evaluate("() => window.__bench.painted"))
    server = {k: {"calls": len(v), "p50_ms": float(np.percentile(v, 50)),
                  "p95_ms": float(np.percentile(v, 95))} for k, v in clock.ms.items()}
    return {"slider": slider, "moves": int(lat.size), "p50_ms": float(np.percentile(lat, 50)),
            "p95_ms": float(np.percentile(lat, 95)), "max_ms": float(lat.max()),
            "answered_p50_ms": float(np.percentile(wire, 50)), "browser_cpu_ms": cpu,
            "drawing_p50_ms": float(np.percentile(lat - wire, 50)),
            "painted_moves": int(painted.size),
            "painted_p50_ms": float(np.percentile(painted, 50)) if painted.size else None,
            "painted_p95_ms": float(np.percentile(painted, 95)) if painted.size else None,
            "bytes_per_move": clock.bytes / max(lat.size, 1), "server": server}


#: where a page gets plotly.js: the app's vendored bundle, else (a tree without it) Dash's
PLOTLY_URLS = ("**/assets/vendor/plotly-basic.min.js*", "**/plotly/package_data/plotly.min.js*")


def swap_plotly(page, build: bytes | None) -> None:
    """Serve ``build`` (another plotly.js file) wherever the page asks for plotly.js: to measure
    what another build changes."""
    if build is not None:
        for url in PLOTLY_URLS:
            page.route(url, lambda route: route.fulfill(
                status=200, body=build, content_type="application/javascript"))


def read_build(name: str | None) -> bytes | None:
    """The plotly.js file ``--plotly`` names (``full``: the installed plotly package's)."""
    if name is None:
        return None
    if name == "full":
        import plotly

        name = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
    with open(name, "rb") as f:
        return f.read()


def page_load(ctx, loads: int, build: bytes | None = None) -> dict:
    """Fresh server, fresh page: ms from navigation start to the home view drawn and settled."""
    case = CASES[0]
    times, fits, cpus = [], [], []
    for _ in range(loads):
        calls = count_fits()
        srv = serve()
        try:
            page = ctx.new_page()
            swap_plotly(page, build)
            cdp = ctx.new_cdp_session(page)
            cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
            cpu0 = main_thread_cpu(cdp)
            page.goto(f"http://127.0.0.1:{srv.port}{case[1]}")
            for g in case[3]:
                page.wait_for_selector(f"#{g} .js-plotly-plot .main-svg", timeout=TIMEOUT)
            page.wait_for_function(f"() => document.querySelector('{case[4]}').innerText"
                                   " !== '-'", timeout=TIMEOUT)
            page.wait_for_function(SETTLED, timeout=TIMEOUT)
            times.append(page.evaluate("() => performance.now()"))
            cpus.append(main_thread_cpu(cdp) - cpu0)
            page.close()
        finally:
            srv.shutdown()
            srv.server_close()
        fits.append(len(calls))
    t = np.array(times)
    return {"loads": loads, "median_ms": float(np.median(t)), "max_ms": float(t.max()),
            "first_ms": float(t[0]), "fits_per_load": fits,
            "browser_cpu_median_ms": float(np.median(cpus))}


def _pair(a, b) -> str:
    return "-" if a is None else f"{a:.1f}/{b:.1f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moves", type=int, default=60, help="slider moves per view")
    ap.add_argument("--loads", type=int, default=5, help="page loads, each on a fresh server")
    ap.add_argument("--budget", type=float, default=50.0,
                    help="p95 budget of One weight in ms (the other views: twice this)")
    ap.add_argument("--load-budget", type=float, default=1500.0, help="page load budget, ms")
    ap.add_argument("--views", default=",".join(c[0] for c in CASES),
                    help="the views to measure, comma-separated (default: all)")
    ap.add_argument("--plotly", default=None, metavar="FILE",
                    help="serve this plotly.js build instead of the one the page loads "
                         "('full': the plotly package's full plotly.min.js)")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"no chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    results, load = {}, None
    clock = ServerClock()
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        ctx = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1400, "height": 1000})
        build = read_build(args.plotly)
        load = page_load(ctx, args.loads, build) if args.loads else None
        srv = serve(clock)
        try:
            page = ctx.new_page()
            swap_plotly(page, build)
            cdp = ctx.new_cdp_session(page)
            cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
            base = f"http://127.0.0.1:{srv.port}"
            for case in [c for c in CASES if c[0] in args.views.split(",")]:
                results[case[0]] = measure(page, cdp, base, clock, case, args.moves)
                results[case[0]]["budget_ms"] = args.budget * case[5]
        finally:
            srv.shutdown()
            srv.server_close()
        ctx.close()
    doc = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
           "load_average": os.getloadavg(), "plotly": args.plotly or "as the app serves it",
           "page_load": load, "views": results}
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(f"regulab app in chromium ({doc['machine']}, load average "
              f"{doc['load_average'][0]:.1f}; plotly.js {doc['plotly']})")
        if load:
            print(f"page load to interactive (fresh server, home view): median "
                  f"{load['median_ms']:.0f} ms, max {load['max_ms']:.0f} ms over "
                  f"{load['loads']} (main thread CPU {load['browser_cpu_median_ms']:.0f} ms); "
                  f"path fits per load {load['fits_per_load']}")
        print(f"{'view':<18}{'slider':<10}{'moves':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
              f"{'painted p50/p95':>17}{'budget':>8}{'answer':>8}{'draw':>7}{'cpu':>6}"
              f"{'bytes/move':>12}  server ms per callback (p50/p95)")
        for name, r in results.items():
            srv_ms = ", ".join(f"{k} {v['p50_ms']:.1f}/{v['p95_ms']:.1f}"
                               for k, v in r["server"].items()) or "none (client-side)"
            print(f"{name:<18}{r['slider']:<10}{r['moves']:>6}{r['p50_ms']:>9.1f}"
                  f"{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}"
                  f"{_pair(r['painted_p50_ms'], r['painted_p95_ms']):>17}{r['budget_ms']:>8.0f}"
                  f"{r['answered_p50_ms']:>8.1f}{r['drawing_p50_ms']:>7.1f}"
                  f"{r['browser_cpu_ms']:>6.1f}"
                  f"{r['bytes_per_move']:>12.0f}  {srv_ms}")
        print("p50/p95/max: ms from the key to every figure's plotly event (afterplot or "
              "transitioned); painted: ms from the key to the frame that paints the move's last "
              "SVG change; answer: p50 ms from the key to the last callback answer (0: no "
              "request); draw: p50 ms from there to every figure's event; cpu: mean CPU ms of "
              "the page's main thread per move")
    over = [f"{n} ({what})" for n, r in results.items()
            for what, p95 in (("plotly events", r["p95_ms"]), ("painted", r["painted_p95_ms"]))
            if p95 is not None and p95 > r["budget_ms"]]
    if load and load["median_ms"] > args.load_budget:
        over.append("page load")
    if over:
        print(f"over budget: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    sys.exit(code)
