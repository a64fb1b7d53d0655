"""Do a result's bits depend on what numba compiled into its kernel cache before?

Each *history* runs some regulab work in fresh processes, one after another, in a fresh
``NUMBA_CACHE_DIR`` folder; then one more process (the *probes*) computes a fixed set of
results in the same folder and saves their coefficients. Every history's probes are compared
byte for byte with those of the empty history (a fresh folder, nothing before), so a history
that changes a last bit anywhere is reported with the probe and the largest difference.

    python benchmarks/cache_bits.py                  # every history, this tree's code
    python benchmarks/cache_bits.py --src /tmp/r0/src --only sparse-weighted
    python benchmarks/cache_bits.py --list

The steps a history can run (``STEPS``): a 3-lam weighted sparse L1 path (the case of
docs/benchmarks.md, "After stop 24's merges"), a dense weighted elastic net, a logistic path,
a path with factors and bounds, a sparse unweighted L1 path, the Anderson solve compiled
alone (as the compile-ahead helper's caller does), ``regulab fit diabetes`` with and without
the compile-ahead helper. A history named ``...+inproc`` runs its steps in the probes' own
process, before them (an order within one process). The probes: a diabetes L1 path
(``n_lams=50, tol=1e-8``), a weighted elastic net on it, an L1-logistic path on
breast_cancer, and the weighted sparse path.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: set-up shared by the steps and the probes
PRELUDE = """
import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_diabetes
from regulab.selection.path import regularization_path

X, y = load_diabetes(return_X_y=True)
sw = np.linspace(0.5, 2.0, len(y))

def breast():
    Xb, yb = load_breast_cancer(return_X_y=True)
    return (Xb - Xb.mean(0)) / Xb.std(0), yb

def sparse_problem(n=300, p=400, seed=0):
    rng = np.random.default_rng(seed)
    Xs = sp.random(n, p, density=0.05, format="csc", random_state=seed)
    w = np.zeros(p)
    w[:10] = rng.standard_normal(10)
    ys = Xs @ w + 0.1 * rng.standard_normal(n)
    return Xs, ys, rng.uniform(0.5, 2.0, n)
"""

#: name -> code of one step (runs after PRELUDE)
STEPS = {
    "sparse-weighted": """
Xs, ys, s = sparse_problem()
regularization_path(Xs, ys, n_lams=3, sample_weight=s)
""",
    "sparse": """
Xs, ys, s = sparse_problem()
regularization_path(Xs, ys, n_lams=3)
""",
    "dense-weighted-enet": """
regularization_path(X, y, l1_ratio=0.5, sample_weight=sw, n_lams=5)
""",
    "logistic": """
Xb, yb = breast()
regularization_path(Xb, yb, loss="logistic", n_lams=5)
""",
    "box": """
regularization_path(X, y, penalty_factor=np.linspace(0.5, 2, X.shape[1]),
                    upper=np.full(X.shape[1], 300.0), n_lams=5)
""",
    "anderson-alone": """
from regulab.solvers import ahead
ahead.compile_here()
""",
    "dense-l1": """
regularization_path(X, y, n_lams=5)
""",
}
#: steps that are whole command lines (``python -m regulab ...``), with extra environment
COMMANDS = {
    "fit-ahead": (["fit", "diabetes"], {"REGULAB_COMPILE_AHEAD": "1"}),
    "fit-no-ahead": (["fit", "diabetes"], {"REGULAB_COMPILE_AHEAD": "0"}),
}

#: the probes' results, by name, saved with np.savez
PROBES = """
Xs, ys, s = sparse_problem()
Xb, yb = breast()
out = {
    "diabetes-l1": regularization_path(X, y, n_lams=50, tol=1e-8).coefs,
    "diabetes-enet-w": regularization_path(X, y, l1_ratio=0.5, sample_weight=sw, n_lams=50,
                                           tol=1e-8).coefs,
    "logistic": regularization_path(Xb, yb, loss="logistic", n_lams=30, tol=1e-8).coefs,
    "sparse-weighted": regularization_path(Xs, ys, n_lams=20, sample_weight=s, tol=1e-8).coefs,
}
np.savez(OUT, **out)
"""

#: name -> the steps, in order (each a separate process unless the name ends in ``+inproc``)
HISTORIES = {
    "fresh": [],
    "sparse-weighted": ["sparse-weighted"],
    "sparse-weighted+inproc": ["sparse-weighted"],
    "sparse": ["sparse"],
    "dense-weighted-enet": ["dense-weighted-enet"],
    "logistic": ["logistic"],
    "box": ["box"],
    "anderson-alone": ["anderson-alone"],
    "fit-ahead": ["fit-ahead"],
    "fit-no-ahead": ["fit-no-ahead"],
    "dense-then-sparse": ["dense-l1", "sparse-weighted"],
    "sparse-then-logistic": ["sparse-weighted", "logistic"],
}


def _env(src: str, cache: Path, extra: dict | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=src, NUMBA_CACHE_DIR=str(cache))
    env.update(extra or {})
    return env


def _run(args: list[str], env: dict) -> float:
    """Run one process; its wall seconds. Raises on failure (with its stderr)."""
    t0 = time.perf_counter()
    r = subprocess.run(args, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{args[1:3]} failed:\n{r.stderr[-3000:]}")
    return time.perf_counter() - t0


def run_history(name: str, src: str, folder: Path) -> tuple[dict, float]:
    """Run history ``name`` in the fresh cache folder ``folder``; the probes' results and the
    wall seconds of all its processes."""
    steps = HISTORIES[name]
    inproc = name.endswith("+inproc")
    out = folder / "probes.npz"
    env = _env(src, folder / "cache")
    seconds = 0.0
    if not inproc:
        for step in steps:
            if step in COMMANDS:
                line, extra = COMMANDS[step]
                seconds += _run([sys.executable, "-m", "regulab", *line], _env(src, folder / "cache", extra))
            else:
                seconds += _run([sys.executable, "-c", PRELUDE + STEPS[step]], env)
    before = "".join(STEPS[s] for s in steps) if inproc else ""
    code = PRELUDE + f"OUT = {str(out)!r}\n" + before + PROBES
    seconds += _run([sys.executable, "-c", code], env)
    with np.load(out) as z:
        return {k: z[k] for k in z.files}, seconds


def compare(base: dict, other: dict) -> dict:
    """Per probe: None when byte-identical, else the largest absolute difference."""
    res = {}
    for key, a in base.items():
        b = other[key]
        same = a.shape == b.shape and a.tobytes() == b.tobytes()
        res[key] = None if same else float(np.max(np.abs(a - b))) if a.shape == b.shape else np.inf
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"),
                    help="the regulab source folder to import (default: this tree's)")
    ap.add_argument("--only", nargs="*", default=None, help="histories to run (and 'fresh')")
    ap.add_argument("--list", action="store_true", help="list the histories and exit")
    ap.add_argument("--keep", default=None, help="folder for the cache folders (kept)")
    args = ap.parse_args(argv)
    if args.list:
        for name, steps in HISTORIES.items():
            print(f"{name}: {', '.join(steps) or '(nothing)'}")
        return 0
    names = list(HISTORIES) if args.only is None else ["fresh", *[n for n in args.only if n != "fresh"]]
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cache_bits-"))
    print(f"src {args.src}; folders under {root}; load {os.getloadavg()[0]:.2f}", flush=True)
    results = {}
    differing = 0
    for name in names:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        results[name], secs = run_history(name, args.src, folder)
        if name == "fresh":
            print(f"{name:24s} ({secs:5.1f} s) the reference", flush=True)
            continue
        diff = compare(results["fresh"], results[name])
        bad = {k: v for k, v in diff.items() if v is not None}
        differing += bool(bad)
        verdict = "same bits" if not bad else "DIFFERS: " + ", ".join(
            f"{k} {v:.2g}" for k, v in bad.items())
        print(f"{name:24s} ({secs:5.1f} s) {verdict}", flush=True)
    print(f"{differing} of {len(names) - 1} histories differ from a fresh folder")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
