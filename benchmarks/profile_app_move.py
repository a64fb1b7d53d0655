"""Where the browser's time goes on a slider move of ``regulab app``: a CPU profile and a count of
what each move rewrites in the figures' SVG.

The real server on a loopback port, Debian's chromium through Playwright (as
``bench_app_latency.py``, whose view table and waits it uses). On one view it makes a few warm-up
moves, then ``--moves`` measured ones (each drawn and settled before the next), with

* Chromium's sampling CPU profiler on (``Profiler.start`` through CDP): the milliseconds per move
  spent by script (plotly.js, Dash's renderer, React, ...) and inside plotly's main stages
  (``Plotly.react``, ``supplyDefaults``, ``doCalcdata``, the cartesian ``plot``, the axes'
  ``draw``), inclusive of what they call. Under load the profiler's samples include time the
  thread waited for a CPU, so compare the shares, not the milliseconds, between machines;
* a ``MutationObserver`` on every figure: the SVG attribute and child-list changes per move, by
  figure and by plotly group (a trace's ``g.trace``, an axis's ticks): a deterministic count of
  what plotly redrew.

Run::

    python benchmarks/profile_app_move.py "your data" [--moves 20]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_app_latency as bench  # noqa: E402

#: plotly.js stages whose inclusive time is reported: by the name the minified bundle keeps (a
#: method's property name), or, for Plotly.react (a renamed function), by its source text
STAGES = {"Plotly.react": "addFrames(", "supplyDefaults": ".supplyDefaults",
          "doCalcdata": ".doCalcdata", "cartesian plot (traces)": "Na.plot",
          "axes drawn": ".drawOne"}

OBSERVE = """(ids) => {
    window.__mut = {};
    for (const id of ids) {
        const gd = document.querySelector('#' + id + ' .js-plotly-plot');
        new MutationObserver((records) => {
            for (const m of records) {
                const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
                const t = el && el.closest('g.trace'), g = el && el.closest('g[class]');
                const cd = t && t.__data__ && t.__data__[0];
                const group = t ? 'trace ' + (cd && cd.trace ? cd.trace.index : '?') :
                    g ? g.getAttribute('class') : '?';
                const key = id + ' | ' + group;
                window.__mut[key] = (window.__mut[key] || 0) + 1;
            }
        }).observe(gd, {attributes: true, childList: true, subtree: true, characterData: true});
    }
}"""


def profile(view: str, moves: int) -> dict:
    import tempfile

    from playwright.sync_api import sync_playwright

    name, path, slider, graphs, ready, _ = next(c for c in bench.CASES if c[0] == view)
    srv = bench.serve(bench.ServerClock())
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as prof:
            ctx = pw.chromium.launch_persistent_context(
                prof, executable_path=bench.CHROMIUM, headless=True, args=bench.ARGS,
                viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            cdp = ctx.new_cdp_session(page)
            cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
            page.goto(f"http://127.0.0.1:{srv.port}{path}")
            page.wait_for_function(f"() => {{ const e = document.querySelector('{ready}');"
                                   " return e && e.innerText !== '-' && e.innerText !== ''; }",
                                   timeout=bench.TIMEOUT)
            for g in graphs:
                page.wait_for_selector(f"#{g} .js-plotly-plot .main-svg", timeout=bench.TIMEOUT)
            page.wait_for_function(bench.SETTLED, timeout=bench.TIMEOUT)
            page.evaluate(bench.INSTALL, graphs)
            page.locator(f"#{slider} [role=slider]").focus()
            for _ in range(3):
                bench.move(page, "ArrowRight")
            page.evaluate(OBSERVE, graphs)
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 250})
            cdp.send("Profiler.start")
            cpu0 = bench.main_thread_cpu(cdp)
            for i in range(moves):
                bench.move(page, "ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft")
            cpu = (bench.main_thread_cpu(cdp) - cpu0) / moves
            prof_data = cdp.send("Profiler.stop")["profile"]
            mutations = page.evaluate("() => window.__mut")
            bundle = {}
            for src in page.evaluate("() => [...document.scripts].map((s) => s.src)"):
                if "plotly" in src:
                    bundle[src.split("?")[0].split("/")[-1]] = page.evaluate(
                        "(u) => fetch(u).then((r) => r.text())", src)
            ctx.close()
    finally:
        srv.shutdown()
        srv.server_close()
    return {"cpu": cpu, "profile": prof_data, "mutations": mutations, "bundle": bundle}


def stage_of(frame, lines: dict) -> str | None:
    """The STAGES name of a plotly.js call frame (its name, or the bundle's text where it
    starts)."""
    script = lines.get(frame["url"].split("?")[0].split("/")[-1])
    if script is None:
        return None
    name = frame["functionName"]
    for k in ("supplyDefaults", "doCalcdata", "axes drawn"):
        if name.endswith(STAGES[k]):
            return k
    if name.endswith(".plot") and script is not None:
        here = script[frame["lineNumber"]][frame["columnNumber"]:frame["columnNumber"] + 120]
        if "_subplots.cartesian" in here:
            return "cartesian plot (traces)"
    if 0 <= frame["lineNumber"] < len(script):
        here = script[frame["lineNumber"]][frame["columnNumber"]:frame["columnNumber"] + 120]
        if STAGES["Plotly.react"] in here and "_fullData" in here:
            return "Plotly.react"
    return None


def summarize(res: dict, moves: int) -> None:
    p = res["profile"]
    nodes = {n["id"]: n for n in p["nodes"]}
    parent = {c: n["id"] for n in p["nodes"] for c in n.get("children", [])}
    spent = collections.Counter()
    for sample, dt in zip(p["samples"], p["timeDeltas"]):
        spent[sample] += dt
    by_script, stages = collections.Counter(), collections.Counter()
    stage_cache = {}
    lines = {k: v.split("\n") for k, v in res["bundle"].items()}
    for nid, us in spent.items():
        frame = nodes[nid]["callFrame"]
        script = frame["url"].split("?")[0].split("/")[-1] or frame["functionName"]
        by_script[script] += us
        seen, x = set(), nid
        while x is not None:
            if x not in stage_cache:
                stage_cache[x] = stage_of(nodes[x]["callFrame"], lines)
            s = stage_cache[x]
            if s and s not in seen:
                stages[s] += us
                seen.add(s)
            x = parent.get(x)
    per = 1e3 * moves
    print(f"main-thread CPU per move (ThreadTime): {res['cpu']:.1f} ms")
    print("profile, ms per move by script (self time; '(program)': the browser's own work):")
    for k, v in by_script.most_common(8):
        print(f"  {v / per:8.1f}  {k}")
    print("plotly.js stages, ms per move (inclusive):")
    for k in STAGES:
        print(f"  {stages[k] / per:8.1f}  {k}")
    print("SVG changes per move, by figure | group (trace N: plotly's trace index):")
    for k, v in sorted(res["mutations"].items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {v / moves:8.1f}  {k}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("view", choices=[c[0] for c in bench.CASES])
    ap.add_argument("--moves", type=int, default=20)
    args = ap.parse_args(argv)
    if not os.path.exists(bench.CHROMIUM):
        print(f"no chromium at {bench.CHROMIUM}", file=sys.stderr)
        return 2
    print(f"{args.view}: {args.moves} moves, load average {os.getloadavg()[0]:.1f}")
    summarize(profile(args.view, args.moves), args.moves)
    return 0


if __name__ == "__main__":
    sys.exit(main())
