"""Start-up and first-run times of the ``regulab`` command, whole processes (never a timed test).

Run by hand:  python benchmarks/bench_startup.py [--repeat 5] [--skip-first-run]

Prints, each as the median of ``--repeat`` runs (wall seconds, and CPU seconds of the process
and its children, user + system, which a loaded machine inflates far less than wall time):

* ``regulab --version`` and ``regulab --help`` (goal: under 0.5 s);
* ``regulab fit diabetes.csv --target target`` against a bare script that reads the same CSV
  with pandas, standardizes with scikit-learn's ``StandardScaler`` and fits ``LassoCV(cv=5)``,
  run in pairs (one of each, alternately) so that both see the same machine (goal: <= 1.2x);
* the first ``regulab fit`` with an empty numba cache (the kernels compile) against a warm one
  (goal: at most 3 s slower), each first run in a fresh ``NUMBA_CACHE_DIR``.

With ``--warm OLD/src`` the warm ``regulab fit`` of this tree and of the source tree ``OLD/src``
and the bare script run in turn, ``--repeat`` rounds, the order alternating, with each
round's ratios (this tree / old, this tree / bare, old / bare). Both trees should hold .pyc
files (``python -m compileall``), as an install does: a tree without them compiles its
modules from source in every process under ``PYTHONDONTWRITEBYTECODE=1`` (about 0.08 s more).

With ``--before OLD/src`` only the first run is measured, for this tree and for the regulab
source tree ``OLD/src`` (e.g. ``git archive <commit> src | tar -x -C OLD``) in alternation, cold
then warm, so that both see the same machine. With ``--ahead`` likewise, this tree with the
first run's compile-ahead helper (``REGULAB_COMPILE_AHEAD=1``) and without it (``0``); without
either option the first run is the user's: a helper starts only when a core is idle. CPU
seconds include the helper's (a reaped child of the command).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = """
import sys
import pandas as pd
from sklearn.linear_model import LassoCV
from sklearn.preprocessing import StandardScaler
df = pd.read_csv(sys.argv[1])
y = df.pop("target").to_numpy(float)
X = StandardScaler().fit_transform(df.to_numpy(float))
m = LassoCV(cv=5).fit(X, y)
print("alpha", m.alpha_, "kept", int((m.coef_ != 0).sum()))
"""


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def median_of(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def show(label: str, runs: list[tuple[float, float]]) -> tuple[float, float]:
    wall, cpu = median_of(runs)
    print(f"{label:44s} wall {wall:6.2f} s   cpu {cpu:6.2f} s   (median of {len(runs)})",
          flush=True)
    return wall, cpu


def before_after(old_src: Path, csv: Path, repeat: int) -> None:
    """Cold and warm ``regulab fit`` of this tree and of ``old_src``, alternately."""
    here = Path(__file__).resolve().parents[1] / "src"
    paired({"before": {"PYTHONPATH": str(Path(old_src).resolve())},
            "after": {"PYTHONPATH": str(here)}}, csv, repeat)


def paired(variants: dict[str, dict], csv: Path, repeat: int) -> None:
    """Cold and warm ``regulab fit`` of each variant (environment settings), alternately."""
    fit = [sys.executable, "-m", "regulab", "fit", str(csv), "--target", "target"]
    runs = {(k, kind): [] for k in variants for kind in ("cold", "warm")}
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: dict(os.environ, **extra, NUMBA_CACHE_DIR=f"{tmp}/{k}")
               for k, extra in variants.items()}
        for k in variants:
            timed(fit, env=env[k])  # fills the warm cache
        for _ in range(repeat):
            for k in variants:
                with tempfile.TemporaryDirectory() as cache:
                    runs[(k, "cold")].append(timed(fit, env=dict(env[k], NUMBA_CACHE_DIR=cache)))
                runs[(k, "warm")].append(timed(fit, env=env[k]))
    for k in variants:
        wc, cc = show(f"{k}: first regulab fit (empty cache)", runs[(k, "cold")])
        ww, cw = show(f"{k}: warm regulab fit", runs[(k, "warm")])
        print(f"{k + ': first run minus warm run':44s} wall {wc - ww:+6.2f} s   "
              f"cpu {cc - cw:+6.2f} s")


def warm_rounds(old_src: Path, csv: Path, bare: Path, repeat: int) -> None:
    """Warm ``regulab fit`` of this tree and of ``old_src`` and the bare script, in turn."""
    here = Path(__file__).resolve().parents[1] / "src"
    fit = [sys.executable, "-m", "regulab", "fit", str(csv), "--target", "target"]
    cmds = {"this tree": (fit, dict(os.environ, PYTHONPATH=str(here))),
            "old tree": (fit, dict(os.environ, PYTHONPATH=str(Path(old_src).resolve()))),
            "bare script": ([sys.executable, str(bare), str(csv)], dict(os.environ))}
    for cmd, env in cmds.values():
        timed(cmd, env=env)  # kernels compiled and cached, files in the page cache
    runs = {k: [] for k in cmds}
    for i in range(repeat):
        for k in (list(cmds) if i % 2 == 0 else list(cmds)[::-1]):
            runs[k].append(timed(*cmds[k]))
    for k, r in runs.items():
        show(k, r)
    for a, b in (("this tree", "old tree"), ("this tree", "bare script"),
                 ("old tree", "bare script")):
        for j, what in enumerate(("wall", "cpu")):
            ratios = [x[j] / y[j] for x, y in zip(runs[a], runs[b])]
            print(f"{a} / {b}, {what}: median {statistics.median(ratios):.2f}  ("
                  + ", ".join(f"{v:.2f}" for v in ratios) + ")")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-first-run", action="store_true",
                        help="skip the first-run (compile) measurement, which takes minutes")
    parser.add_argument("--before", type=Path, metavar="OLD_SRC",
                        help="compare the first run with the regulab source tree OLD_SRC")
    parser.add_argument("--warm", type=Path, metavar="OLD_SRC",
                        help="warm fits of this tree, of the regulab source tree OLD_SRC and "
                        "the bare script, in turn, with each round's ratios")
    parser.add_argument("--ahead", action="store_true",
                        help="compare the first run with and without the compile-ahead helper "
                        "(REGULAB_COMPILE_AHEAD=1 / 0, whatever the load)")
    args = parser.parse_args()
    regulab = [sys.executable, "-m", "regulab"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.1f}")
    if args.warm is not None:
        with tempfile.TemporaryDirectory() as tmp:
            from sklearn.datasets import load_diabetes

            csv = Path(tmp) / "diabetes.csv"
            load_diabetes(as_frame=True, scaled=False).frame.to_csv(csv, index=False)
            bare = Path(tmp) / "bare_lassocv.py"
            bare.write_text(BARE)
            warm_rounds(args.warm, csv, bare, args.repeat)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"load average at the end {load:.1f}")
        return
    if args.before is not None or args.ahead:
        with tempfile.TemporaryDirectory() as tmp:
            from sklearn.datasets import load_diabetes

            csv = Path(tmp) / "diabetes.csv"
            load_diabetes(as_frame=True, scaled=False).frame.to_csv(csv, index=False)
            if args.before is not None:
                before_after(args.before, csv, max(1, min(args.repeat, 3)))
            else:
                paired({"helper": {"REGULAB_COMPILE_AHEAD": "1"},
                        "no helper": {"REGULAB_COMPILE_AHEAD": "0"}}, csv, args.repeat)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"load average at the end {load:.1f}")
        return

    for flag in ("--version", "--help"):
        show(f"regulab {flag}", [timed(regulab + [flag]) for _ in range(args.repeat)])

    with tempfile.TemporaryDirectory() as tmp:
        from sklearn.datasets import load_diabetes

        csv = Path(tmp) / "diabetes.csv"
        load_diabetes(as_frame=True, scaled=False).frame.to_csv(csv, index=False)
        bare = Path(tmp) / "bare_lassocv.py"
        bare.write_text(BARE)
        fit = regulab + ["fit", str(csv), "--target", "target"]
        timed(fit)  # the kernels compile (once) before any measured run
        ours, theirs = [], []
        for _ in range(args.repeat):  # paired: one of each, alternately
            ours.append(timed(fit))
            theirs.append(timed([sys.executable, str(bare), str(csv)]))
        w1, c1 = show("regulab fit diabetes.csv --target target", ours)
        w2, c2 = show("pandas + StandardScaler + LassoCV(cv=5)", theirs)
        print(f"{'ratio regulab / bare script':44s} wall {w1 / w2:6.2f} x   cpu {c1 / c2:6.2f} x")

        if not args.skip_first_run:
            first = []
            for _ in range(max(1, min(args.repeat, 3))):
                with tempfile.TemporaryDirectory() as cache:
                    first.append(timed(fit, env=dict(os.environ, NUMBA_CACHE_DIR=cache)))
            wf, cf = show("first regulab fit (empty numba cache)", first)
            print(f"{'first run minus warm run':44s} wall {wf - w1:+6.2f} s   cpu {cf - c1:+6.2f} s")


if __name__ == "__main__":
    main()
