"""Instructions executed by warm certified paths on one row of benchmarks/table.py, under
valgrind's callgrind (load-independent: a loaded shared machine changes times, not these):

    PYTHONPATH=/old/src python benchmarks/path_instructions.py sparse-few --out /tmp/old.cg
    PYTHONPATH=$PWD/src python benchmarks/path_instructions.py sparse-few --out /tmp/new.cg

Not a test. The row's data and a first path run uninstrumented; then ``--reps`` warm paths
run with callgrind's instrumentation switched on (``callgrind_control``), and the instructions
per path are printed (``callgrind_annotate FILE`` breaks them down by function and object:
numba's compiled kernels show as ``???``). A ``rep movs`` copy counts once per element moved,
so copies weigh more here than in time. About 3 minutes a run (valgrind's slow start).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def child(row, reps, flags):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import table as T

    from regulab.selection.path import lam_grid, regularization_path

    case = T.CASES[row]
    X, y = T.prepare(*case.make(), case.kind)
    lams = lam_grid(X, y, loss="squared", n_lams=case.n_lams, fit_intercept=False)

    def path():
        regularization_path(X, y, lams=lams, fit_intercept=False, tol=case.target,
                            max_iter=100_000)

    path()
    _flag(flags, "ready")
    _wait(flags, "go")
    for _ in range(reps):
        path()
    _flag(flags, "done")
    _wait(flags, "stop")


def _flag(d, name):
    open(os.path.join(d, name), "w").close()


def _wait(d, name):
    while not os.path.exists(os.path.join(d, name)):
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("row")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--out", default="callgrind.path.out")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.row, args.reps, args.child[0])
    with tempfile.TemporaryDirectory() as d:
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={args.out}", sys.executable, os.path.abspath(__file__),
               args.row, "--reps", str(args.reps), "--child", d, "-"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, switch, mark in (("ready", "on", "go"), ("done", "off", "stop")):
            while not os.path.exists(os.path.join(d, name)):
                if proc.poll() is not None:
                    sys.exit(f"valgrind ended early ({proc.returncode})")
                time.sleep(0.5)
            subprocess.run(["callgrind_control", "-i", switch, str(proc.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            _flag(d, mark)
        proc.wait()
    with open(args.out) as f:
        total = next(int(line.split()[1]) for line in f if line.startswith("totals:"))
    print(f"{args.row}: {total / args.reps / 1e6:.1f} million instructions per warm path "
          f"({args.reps} paths, {args.out})")


if __name__ == "__main__":
    main()
