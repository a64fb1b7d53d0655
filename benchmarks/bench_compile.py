"""What a first run compiles: every numba function compiled by one ``regulab`` command with an
empty numba cache, with its argument types and CPU seconds (never a timed test).

Run by hand:  python benchmarks/bench_compile.py fit diabetes [--top 30]
              python benchmarks/bench_compile.py path diabetes
              python benchmarks/bench_compile.py fit diabetes --before OLD/src --repeat 3

With ``--before OLD/src`` (a regulab source tree, e.g. ``git archive <commit> src | tar -x -C
OLD``) the command runs ``--repeat`` times for each tree in alternation (so both see the same
machine) and the medians of compile CPU, process CPU and the number of compiles are printed.

The command runs in a fresh process whose ``NUMBA_CACHE_DIR`` is a new temporary folder, with
``REGULAB_COMPILE_AHEAD=0`` (every kernel compiles in that process, none in a helper), with
a listener on numba's ``numba:compile`` event (it fires on a real compile, never on a cache
load). A compile nested in another (a kernel calling a kernel, numba's own helpers) is counted
in its caller's inclusive time and not in the caller's own time, so the own times add up to the
compile total. Times are CPU seconds of the compiling thread (a loaded machine inflates them far
less than wall time); the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

#: run in the child: time every compile, run the CLI, dump the rows as JSON to argv[1]
CHILD = r"""
import json, sys, time
from numba.core import event

stack, rows = [], []

class Timer(event.Listener):
    def on_start(self, ev):
        stack.append([time.thread_time(), 0.0])

    def on_end(self, ev):
        start, nested = stack.pop()
        spent = time.thread_time() - start
        if stack:
            stack[-1][1] += spent
        d = ev.data["dispatcher"]
        rows.append({"name": d.py_func.__module__ + "." + d.py_func.__qualname__,
                     "args": str(ev.data["args"]), "depth": len(stack),
                     "inclusive": spent, "own": spent - nested})

event.register("numba:compile", Timer())
from regulab.cli import main
cpu = time.process_time()
try:
    main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open(sys.argv[1], "w") as f:
    json.dump({"rows": rows, "cpu": time.process_time() - cpu, "code": code}, f)
"""

SHORT = {"Array(float64, 1, 'C', False, aligned=True)": "f8[:]",
         "Array(float64, 2, 'C', False, aligned=True)": "f8[:,:]",
         "Array(int32, 1, 'C', False, aligned=True)": "i4[:]",
         "Array(int64, 1, 'C', False, aligned=True)": "i8[:]"}


def run(command: list[str], src: Path | None = None) -> dict:
    """Compile rows, process CPU and exit code of ``regulab <command>`` with an empty cache
    (regulab imported from the source tree ``src`` when given)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        # everything compiled in the one process: the compile-ahead helper of a first run
        # (regulab.solvers.ahead) off (bench_startup.py times the first run with it)
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "cache"),
                   REGULAB_COMPILE_AHEAD="0")
        if src is not None:
            env["PYTHONPATH"] = str(Path(src).resolve())
        subprocess.run([sys.executable, "-c", CHILD, str(out), *command], check=False,
                       capture_output=True, env=env)
        return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="+", help="a regulab command line, e.g. fit diabetes")
    parser.add_argument("--top", type=int, default=40, help="rows shown, largest own time first")
    parser.add_argument("--before", type=Path, metavar="OLD_SRC",
                        help="compare with this regulab source tree, runs in alternation")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tree with --before")
    args = parser.parse_args()
    if args.before is not None:
        compare(args.command, args.before, args.repeat)
        return
    res = run(args.command)
    rows = res["rows"]
    ours = [r for r in rows if r["name"].startswith("regulab.")]
    total = sum(r["own"] for r in rows)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"regulab {' '.join(args.command)} (exit {res['code']}), load average {load:.1f}: "
          f"process CPU {res['cpu']:.2f} s, compile CPU {total:.2f} s in {len(rows)} compiles "
          f"({len(ours)} of regulab kernels, {sum(r['own'] for r in ours):.2f} s own time)")
    print(f"{'own s':>7} {'incl s':>7} depth function (argument types)")
    for r in sorted(rows, key=lambda r: -r["own"])[:args.top]:
        kinds = r["args"]
        for long, short in SHORT.items():
            kinds = kinds.replace(long, short)
        print(f"{r['own']:7.2f} {r['inclusive']:7.2f} {r['depth']:5d} {r['name']} {kinds}")


def compare(command: list[str], before: Path, repeat: int) -> None:
    """Medians of compile CPU, process CPU and compiles, ``before`` and this tree alternating."""
    import statistics

    trees = {"before": before, "after": Path(__file__).resolve().parents[1] / "src"}
    seen: dict[str, list[tuple[float, float, int]]] = {k: [] for k in trees}
    loads = []
    for _ in range(repeat):
        for label, src in trees.items():
            res = run(command, src)
            seen[label].append((sum(r["own"] for r in res["rows"]), res["cpu"], len(res["rows"])))
            loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"))
    print(f"regulab {' '.join(command)}, median of {repeat} (load average {min(loads):.1f} to "
          f"{max(loads):.1f})")
    for label, rows in seen.items():
        comp, cpu, n = (statistics.median(r[i] for r in rows) for i in range(3))
        print(f"{label:>6}: compile CPU {comp:5.2f} s in {n:.0f} compiles, process CPU {cpu:5.2f} s"
              f"   (compile runs: {', '.join(f'{r[0]:.2f}' for r in rows)})")


if __name__ == "__main__":
    main()
