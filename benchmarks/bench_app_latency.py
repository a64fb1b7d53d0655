"""Slider-to-figure latency of ``regulab app``, measured in a real browser.

The issue asks that, in the first three views (one weight, gradient descent, geometry), moving a
slider updates the figures within 100 ms (p95). This script starts the real server on a free
loopback port, opens each view in Debian's chromium (driven by Playwright; no browser download)
and moves one slider with the keyboard, one step at a time, alternating right and left. For each
move it records, inside the page, the time from the ``keydown`` event to the moment *every*
figure of the view has been redrawn (plotly's ``plotly_afterplot`` event) -- the whole round trip:
Dash's request, the callback (library maths + figure building), the response, and plotly's
drawing. Moves are spaced out so each is measured on its own: the next key is pressed once the
previous move is drawn and no callback is pending (waits on conditions, never fixed sleeps).

Run::

    python benchmarks/bench_app_latency.py [--moves 60] [--json]

Exit status 1 when a view's p95 is above ``--budget`` milliseconds (default 100).
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

import numpy as np

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: view path, the slider moved, the graphs it redraws
CASES = [
    ("one weight", "/", "ow-lam", ["ow-fig-loss", "ow-fig-lam"]),
    ("gradient descent", "/gradient-descent", "gd-lam", ["gd-fig-loss", "gd-fig-iter"]),
    ("geometry", "/geometry", "geo-t", ["geo-fig"]),
]

INSTALL = """(graphs) => {
    window.__bench = {t0: null, done: {}, lat: []};
    const b = window.__bench;
    document.addEventListener('keydown', () => { b.t0 = performance.now(); b.done = {}; }, true);
    for (const id of graphs) {
        const gd = document.querySelector('#' + id + ' .js-plotly-plot');
        gd.on('plotly_afterplot', () => {
            if (b.t0 === null) return;
            b.done[id] = performance.now();
            if (graphs.every((g) => b.done[g] !== undefined)) {
                b.lat.push(Math.max(...graphs.map((g) => b.done[g])) - b.t0);
                b.t0 = null;
            }
        });
    }
}"""


def serve():
    from regulab.app.server import create_app, make_server

    srv = make_server("127.0.0.1", 0, create_app().server)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


#: the page's callbacks have all answered (Dash marks a component waiting for one)
SETTLED = "() => !document.querySelector('[data-dash-is-loading=\"true\"]')"
#: deadline of every wait, ms (generous: a loaded machine is slow, a met condition ends it)
TIMEOUT = 90_000


def move(page, key):
    """Press ``key`` on the focused slider and wait until every figure is redrawn and nothing
    is pending."""
    n = page.evaluate("() => window.__bench.lat.length")
    page.keyboard.press(key)
    page.wait_for_function(f"() => window.__bench.lat.length > {n}", timeout=TIMEOUT)
    page.wait_for_function(SETTLED, timeout=TIMEOUT)


def measure(page, base, path, slider, graphs, moves):
    page.goto(base + path)
    for g in graphs:
        page.wait_for_selector(f"#{g} .js-plotly-plot .main-svg", timeout=TIMEOUT)
    page.wait_for_function(SETTLED, timeout=TIMEOUT)    # the first callbacks have answered
    page.evaluate(INSTALL, graphs)
    thumb = page.locator(f"#{slider} [role=slider]")
    thumb.focus()
    for _ in range(3):                         # warm-up moves, not counted
        move(page, "ArrowRight")
    page.evaluate("() => { window.__bench.lat = []; }")
    for i in range(moves):
        move(page, "ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft")
    return np.array(page.evaluate("() => window.__bench.lat"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moves", type=int, default=60, help="slider moves per view")
    ap.add_argument("--budget", type=float, default=100.0, help="p95 budget in ms")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"no chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    srv = serve()
    base = f"http://127.0.0.1:{srv.port}"
    results = {}
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS,
                viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            for name, path, slider, graphs in CASES:
                lat = measure(page, base, path, slider, graphs, args.moves)
                results[name] = {"slider": slider, "moves": int(lat.size),
                                 "p50_ms": float(np.percentile(lat, 50)),
                                 "p95_ms": float(np.percentile(lat, 95)),
                                 "max_ms": float(lat.max())}
            ctx.close()
    finally:
        srv.shutdown()
        srv.server_close()
    doc = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
           "budget_ms": args.budget, "views": results}
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(f"regulab app: slider -> figures redrawn, in the browser ({doc['machine']})")
        print(f"{'view':<18}{'slider':<9}{'moves':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        for name, r in results.items():
            print(f"{name:<18}{r['slider']:<9}{r['moves']:>6}{r['p50_ms']:>9.1f}"
                  f"{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}")
    over = [n for n, r in results.items() if r["p95_ms"] > args.budget]
    if over:
        print(f"p95 over {args.budget:g} ms: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    sys.exit(code)
