"""Timeline of a first ``regulab fit`` after an install: the command and its compile-ahead helper.

Run by hand:  python benchmarks/firstrun_timeline.py [--repeat 3] [--ahead 1|0] [-- fit ARGS]
              python benchmarks/firstrun_timeline.py --before OLD/src --repeat 5 --quiet

Not a test. Runs ``regulab fit diabetes.csv --target target`` (or the command given after
``--``) in a fresh process with an empty ``NUMBA_CACHE_DIR`` and stamps what is on a first
run's path: when the process started, when the helper starts (``ahead.start``), the compile of
the Anderson solve (``ahead.compile_here``), reading and preparing the data, every top-level
numba compile, the wait for the helper (``ahead.wait_for``) and the end; in the helper
(``regulab.solvers.ahead``, started through a wrapper that stamps it): when its process
started, its imports and its compiles. Every stamp is wall time (``time.time()``, comparable
across processes) and the process's CPU seconds (``explain_timeline.stamp``). The stamps wrap
functions and listen to numba's compile event; the command computes what it computes without
them.

The summary estimates the idle-machine wall time of the first run from CPU seconds alone
(a loaded machine stretches wall time, CPU seconds far less): the command's CPU until it waits
for the helper, against the command's CPU when the helper started plus the helper's own CPU
until the command reaped it (they run side by side on two idle cores), whichever is longer,
plus the command's CPU after the wait (the command's own exit is left out: the same in a warm
run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))

#: numba's compile event, stamped for regulab's kernels (a kernel's callees indented inside it)
LISTENER = r"""
def _listen(stamp):
    from numba.core import event

    depth = []

    class Stamps(event.Listener):
        def on_start(self, ev):
            d = ev.data["dispatcher"]
            if d.py_func.__module__.startswith("regulab"):
                stamp("  " * len(depth) + "compile " + d.py_func.__name__ + " start")
            depth.append(ev)

        def on_end(self, ev):
            depth.pop()
            d = ev.data["dispatcher"]
            if d.py_func.__module__.startswith("regulab"):
                stamp("  " * len(depth) + "compile " + d.py_func.__name__ + " end")

    event.register("numba:compile", Stamps())
"""

#: the helper, wrapped: stamps, then the helper's module run as ``python -m`` runs it (its own
#: way of ending included)
HELPER = LISTENER + r"""
import runpy, sys
sys.path.insert(0, {here!r})
from explain_timeline import stamp, _started
stamp("helper process started", t_override=_started(), cpu_override=0.0)
stamp("helper running")
_listen(stamp)
stamp("helper imported numba")
sys.argv = ["regulab.solvers.ahead", *sys.argv[1:]]
try:
    runpy.run_module("regulab.solvers.ahead", run_name="__main__", alter_sys=True)
finally:
    stamp("helper returned (the interpreter's teardown follows)")
"""

#: the command, wrapped
CHILD = LISTENER + r"""
import sys
sys.path.insert(0, {here!r})
from explain_timeline import stamp, _started, _wrap
stamp("main process started", t_override=_started(), cpu_override=0.0)
stamp("timeline running")
from regulab.solvers import ahead
ahead.HELPER = ["-c", {helper!r}]
inner_start = ahead.start

listening = []

def start():
    stamp("ahead.start called")
    started = inner_start()
    stamp("helper started" if started else "no helper")
    if not listening:  # numba is imported here in the command too (by compile_here)
        listening.append(_listen(stamp))
    return started

ahead.start = start
_wrap(ahead, "compile_here", "compile_here")
inner_wait = ahead.wait_for

def wait_for(name):
    import resource
    stamp("wait_for start")
    try:
        return inner_wait(name)
    finally:
        # the helper is reaped by now: its CPU seconds, its teardown included
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        stamp("wait_for end", children=kids.ru_utime + kids.ru_stime)

ahead.wait_for = wait_for
import importlib

def later(module, name, label):
    # wrap when the command imports the module (importing it here would move its imports)
    finder_done = []

    class Finder:
        def find_spec(self, fullname, path, target=None):
            if fullname != module or finder_done:
                return None
            finder_done.append(True)
            spec = importlib.util.find_spec(fullname)
            loader = spec.loader
            inner_exec = loader.exec_module

            def exec_module(mod):
                inner_exec(mod)
                _wrap(mod, name, label)

            loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Finder())

import importlib.util
later("regulab.data.reading", "load_input", "read")
later("regulab.data.prepare", "prepare", "prepare")
from regulab.cli import main
stamp("cli imported")
try:
    main(sys.argv[1:])  # its SystemExit ends this process with the command's exit code
finally:
    stamp("command end")
"""


def rows_of(log: str) -> list[dict]:
    rows = [json.loads(line) for line in open(log)]
    for r in rows:
        r["t"] = r.pop("t_override", r["t"])
        r["cpu"] = r.pop("cpu_override", r["cpu"])
    return sorted(rows, key=lambda r: r["t"])


def one_run(command: list[str], ahead: str | None, show: bool, cache: str | None = None) -> dict:
    """One first run with an empty cache (a warm one in the folder ``cache`` when given); its
    stamps' summary (and the table when ``show``)."""
    with tempfile.TemporaryDirectory() as tmp:
        log = str(Path(tmp) / "log.jsonl")
        env = dict(os.environ, NUMBA_CACHE_DIR=cache or str(Path(tmp) / "cache"),
                   REGULAB_TIMELINE_LOG=log)
        if ahead is not None:
            env["REGULAB_COMPILE_AHEAD"] = ahead
        helper = HELPER.format(here=HERE)
        load0 = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run([sys.executable, "-c", CHILD.format(here=HERE, helper=helper),
                               *command], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        t_exit = time.time()
        rows = rows_of(log)
        load1 = os.getloadavg()[0]
    main_pid = next(r["pid"] for r in rows if r["what"] == "main process started")
    t0 = next(r["t"] for r in rows if r["what"] == "main process started")
    if show:
        print(f"load average {load0:.2f} -> {load1:.2f}")
        print(f"{'wall s':>7} {'cpu s':>6}  process  event")
        for r in rows:
            who = "main" if r["pid"] == main_pid else "helper"
            print(f"{r['t'] - t0:7.2f} {r['cpu']:6.2f}  {who:<8} {r['what']}")
    main_rows = [r for r in rows if r["pid"] == main_pid]
    helper_rows = [r for r in rows if r["pid"] != main_pid]
    end = main_rows[-1]
    # the whole process as its parent sees it (exit included), CPU of the command and helper
    out = {"wall": end["t"] - t0, "cpu": end["cpu"], "load": (load0 + load1) / 2,
           "exit_wall": t_exit - t0,
           "all_cpu": sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime",
                                                                          "ru_stime"))}
    def compiled(rows):
        return {r["what"].split()[1] for r in rows if r["what"].strip().startswith("compile ")
                and r["what"].endswith(" start")}

    # a kernel compiled by both processes: the one that got there second wasted its time
    both = compiled(main_rows) & compiled(helper_rows)
    out["both_compiled"] = len(both)
    if both:
        print("compiled by both processes:", ", ".join(sorted(both)))
    waits = [r for r in main_rows if r["what"] == "wait_for start"]
    started = [r for r in main_rows if r["what"] == "helper started"]
    if waits and started and helper_rows:
        w0 = waits[0]
        w1 = next(r for r in main_rows if r["what"] == "wait_for end" and r["t"] >= w0["t"])
        helper_cpu = w1["children"]  # the helper's CPU seconds until it was reaped
        out.update(helper_cpu=helper_cpu, start_cpu=started[0]["cpu"], before_wait=w0["cpu"],
                   after_wait=end["cpu"] - w1["cpu"], waited=w1["t"] - w0["t"])
        out["idle_estimate"] = (max(w0["cpu"], started[0]["cpu"] + helper_cpu)
                                + out["after_wait"])
    return out


def summarize(label: str, runs: list[dict], warm: list[dict]) -> None:
    """Medians (and every run) of the first runs' stamps and of the paired warm runs."""
    print(f"\n{label}")
    for k in ("cpu", "wall", "exit_wall", "all_cpu"):
        values = [r[k] for r in warm]
        print(f"{'warm ' + k:>24}: median {statistics.median(values):6.2f}   runs "
              + ", ".join(f"{v:.2f}" for v in values))
    for k in ("exit_wall", "all_cpu"):
        values = [r[k] - w[k] for r, w in zip(runs, warm)]
        print(f"{'first - warm ' + k:>24}: median {statistics.median(values):+6.2f}   pairs "
              + ", ".join(f"{v:+.2f}" for v in values))
    for k in ("cpu", "wall", "exit_wall", "all_cpu", "start_cpu", "before_wait", "helper_cpu",
              "after_wait", "waited", "idle_estimate", "both_compiled", "load"):
        if all(k in r for r in runs):
            values = [r[k] for r in runs]
            print(f"{k:>24}: median {statistics.median(values):6.2f}   runs "
                  + ", ".join(f"{v:.2f}" for v in values))
    if all("idle_estimate" in r for r in runs):
        values = [r["idle_estimate"] - w["cpu"] for r, w in zip(runs, warm)]
        print(f"{'idle estimate - warm cpu':>24}: median {statistics.median(values):+6.2f}   "
              "pairs " + ", ".join(f"{v:+.2f}" for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--ahead", choices=("0", "1"), default="1",
                        help="REGULAB_COMPILE_AHEAD for the command (default 1: a helper)")
    parser.add_argument("--show-warm", action="store_true", help="also the warm run's stamps")
    parser.add_argument("--quiet", action="store_true", help="no table of stamps")
    parser.add_argument("--before", metavar="OLD_SRC",
                        help="also the regulab source tree OLD_SRC, in alternation")
    parser.add_argument("command", nargs="*", help="after --: a regulab command line")
    args = parser.parse_args()
    here = str(Path(HERE).parent / "src")
    trees = {"this tree": here} if args.before is None else {
        "before": str(Path(args.before).resolve()), "after": here}
    with tempfile.TemporaryDirectory() as tmp:
        command = args.command
        if not command:
            from sklearn.datasets import load_diabetes

            csv = Path(tmp) / "diabetes.csv"
            load_diabetes(as_frame=True, scaled=False).frame.to_csv(csv, index=False)
            command = ["fit", str(csv), "--target", "target"]
        runs = {k: ([], []) for k in trees}
        for label, src in trees.items():
            os.environ["PYTHONPATH"] = src
            one_run(command, args.ahead, show=False, cache=str(Path(tmp) / label))  # warms
        for k in range(args.repeat):  # paired: a first run, then a warm one, tree by tree
            for label, src in trees.items():
                os.environ["PYTHONPATH"] = src
                show = k == 0 and not args.quiet
                runs[label][0].append(one_run(command, args.ahead, show=show))
                runs[label][1].append(one_run(command, args.ahead, show=show and args.show_warm,
                                              cache=str(Path(tmp) / label)))
    for label, (first, warm) in runs.items():
        summarize(label, first, warm)


if __name__ == "__main__":
    main()
