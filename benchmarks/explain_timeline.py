"""Timeline of one whole `regulab explain` run: the main process and every worker.

Run by hand:  python benchmarks/explain_timeline.py [--out DIR] [--only ID ...]

Not a test. Runs the real command (``regulab.cli.main``) in this process with stamps around
what it does: when the process started, when the workers are asked for (``iter_tasks``), each
result's arrival, writing results.json and index.html, the exit. In each worker (joblib's loky
processes; this module is imported there, through ``PYTHONPATH``): when the process started,
when each claim's task began (what was imported before it), the neural-net claim's stages
(data, each ensemble's training, evaluation, the tiny problem) and drawing the figures. Every
stamp is wall time (``time.time()``, comparable across processes) and the process's CPU
seconds; the table is printed relative to the main process's start, with the load average.
The stamps wrap functions only; the claims compute what they compute without them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

_LOG = "REGULAB_TIMELINE_LOG"


def stamp(what: str, **extra) -> None:
    """Append one stamp (this process's pid, wall time, CPU seconds) to the log file."""
    path = os.environ.get(_LOG)
    if not path:
        return
    row = {"pid": os.getpid(), "t": time.time(), "cpu": time.process_time(), "what": what,
           **extra}
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")


def _started() -> float:
    """When this process started, in ``time.time()`` seconds (to the clock tick: /proc's start
    time counts ticks since boot; psutil's ``create_time`` rounds the boot time to a second)."""
    with open(f"/proc/{os.getpid()}/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.time() - since_boot + ticks / os.sysconf("SC_CLK_TCK")


def _wrap(module, name: str, label: str) -> None:
    """Stamp before and after ``module.name`` (called through the module attribute)."""
    inner = getattr(module, name)
    if getattr(inner, "_timeline", False):
        return

    def wrapped(*args, **kwargs):
        stamp(f"{label} start")
        try:
            return inner(*args, **kwargs)
        finally:
            stamp(f"{label} end")

    wrapped._timeline = True
    setattr(module, name, wrapped)


_WORKER_READY = False


def traced_measure_and_draw(task):
    """In a worker: ``report.explain._measure_and_draw(task)`` with stamps around its stages."""
    global _WORKER_READY
    import regulab.report.explain as E

    if not _WORKER_READY:
        _WORKER_READY = True
        stamp("worker process started", t_override=_started(), cpu_override=0.0)
        from regulab.report.claims import neural_net_runs as R

        for name in ("digits_split", "train_ensemble", "evaluate", "adam_vs_adamw"):
            _wrap(R, name, f"nn {name}")
        _wrap(E, "_draw", "draw")
    loaded = [m for m in ("torch", "sklearn", "matplotlib", "scipy", "numba") if m in sys.modules]
    stamp(f"task {task[0]}{'/' + task[4] if task[4] else ''} start", loaded=loaded)
    try:
        # the worker's module is unpatched: its own function is the original
        return getattr(E, "_ORIGINAL", E._measure_and_draw)(task)
    finally:
        stamp(f"task {task[0]} end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="report folder (default: a temporary one)")
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    fd, log = tempfile.mkstemp(prefix="explain-timeline-", suffix=".jsonl")
    os.close(fd)
    os.environ[_LOG] = log
    # the workers import this module by name (the task function is pickled by reference)
    os.environ["PYTHONPATH"] = os.pathsep.join([here] + [p for p in [
        os.environ.get("PYTHONPATH")] if p])
    sys.path.insert(0, here)
    import explain_timeline as H  # this file as a module (not __main__): picklable by name

    H.stamp("main process started", t_override=_started(), cpu_override=0.0)
    H.stamp("timeline script running")
    load0 = os.getloadavg()
    from regulab import cli

    # as `regulab explain` does before importing the claims (where this version has it)
    getattr(cli, "_start_claim_workers", lambda only, seeds: None)(args.only or None, None)
    H.stamp("claim workers' server started (if any)")
    import regulab.report.explain as E
    import regulab.report.writer  # noqa: F401  (imported by explain anyway)

    H.stamp("cli and report.explain imported")
    E._ORIGINAL = E._measure_and_draw
    E._measure_and_draw = H.traced_measure_and_draw
    inner_iter = E.iter_tasks

    def iter_tasks(*a, **kw):
        H.stamp("iter_tasks called (pool start, tasks submitted)")
        for k, r in enumerate(inner_iter(*a, **kw)):
            H.stamp(f"result {k} back")
            yield r

    E.iter_tasks = iter_tasks
    for name in ("write_results_json", "write_html"):
        H._wrap(E, name, name)
    out = args.out or tempfile.mkdtemp(prefix="explain-timeline-out-")
    argv = ["explain", "--out", out] + [x for i in args.only for x in ("--only", i)]
    try:
        cli.main(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    H.stamp("cli.main returned")
    _print(log, load0)
    _print_cpu(log)


def _print_cpu(log: str) -> None:
    """CPU seconds (user + system) of every process of the run: this one, the workers (their
    last stamp, or their total where they are still alive: loky keeps its workers), and the
    helpers still alive (a fork server and what it preloaded)."""
    import psutil

    rows = [json.loads(line) for line in open(log)]
    last = {}
    for r in rows:
        last[r["pid"]] = max(last.get(r["pid"], 0.0), r.get("cpu_override", r["cpu"]))
    me = psutil.Process()
    total = {"main": sum(me.cpu_times()[:2])}
    alive = {c.pid: c for c in me.children(recursive=True)}
    for pid, cpu in last.items():
        if pid != me.pid:
            c = alive.pop(pid, None)
            total[f"worker {pid}"] = sum(c.cpu_times()[:2]) if c else cpu
    for pid, c in alive.items():
        try:
            what = " ".join(c.cmdline())[-60:]
            total[f"other {pid} ({what})"] = sum(c.cpu_times()[:2])
        except psutil.Error:
            pass
    for name, cpu in total.items():
        print(f"cpu {cpu:6.2f} s  {name}")
    print(f"cpu {sum(total.values()):6.2f} s  all processes")


def _print(log: str, load0) -> None:
    rows = [json.loads(line) for line in open(log)]
    for r in rows:
        r["t"] = r.pop("t_override", r["t"])
        r["cpu"] = r.pop("cpu_override", r["cpu"])
    t0 = min(r["t"] for r in rows if r["what"] == "main process started")
    main_pid = next(r["pid"] for r in rows if r["what"] == "main process started")
    names = {main_pid: "main"}
    for r in sorted(rows, key=lambda r: r["t"]):
        names.setdefault(r["pid"], f"worker{len(names)}")
    print(f"load average at start {load0[0]:.2f}, at end {os.getloadavg()[0]:.2f}")
    print(f"{'wall s':>7} {'cpu s':>6}  process  event")
    for r in sorted(rows, key=lambda r: r["t"]):
        extra = f"  (loaded: {', '.join(r['loaded']) or 'none'})" if "loaded" in r else ""
        print(f"{r['t'] - t0:7.2f} {r['cpu']:6.2f}  {names[r['pid']]:<8} {r['what']}{extra}")


if __name__ == "__main__":
    main()
