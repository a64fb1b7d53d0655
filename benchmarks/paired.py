"""Paired timing of one table row (benchmarks/table.py): regulab and one peer alternately.

    python benchmarks/paired.py sparse-many scikit-learn 1e-7 --pairs 2

Not a test. On a shared machine the load changes during a table run, and the tool timed later
in a row meets a different load than the first; alternating the two tools, each pair within
a minute or two, and printing the ratio of every pair shows how much of a ratio is load. Each
answer is certified here by the row's formula (table.py's ``worst_gap`` / ``worst_kkt``); the
peer runs at the tolerance given (the one that met the row's target in a table run).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import table as T  # noqa: E402  (sets one BLAS/OpenMP thread before numpy is imported)

from threadpoolctl import threadpool_limits  # noqa: E402

from regulab.selection.path import lam_grid  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("row", choices=list(T.CASES))
    parser.add_argument("peer")
    parser.add_argument("peer_tol", type=float)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--cpu", action="store_true",
                        help="time CPU seconds of this process (time.process_time; every tool "
                             "runs on one thread) instead of wall seconds: on a loaded machine "
                             "the share of a core each tool got varies, its CPU time less so")
    args = parser.parse_args()
    case = T.CASES[args.row]
    X, y = T.prepare(*case.make(), case.kind)
    loss = "logistic" if case.kind == "logistic" else "squared"
    lams = lam_grid(X, y, loss=loss, n_lams=case.n_lams, fit_intercept=False)
    tools = T.lasso_tools() if loss == "squared" else T.logistic_tools()
    check = T.worst_kkt if loss == "logistic" else T.worst_gap
    runs = [("regulab", tools["regulab"], case.target), (args.peer, tools[args.peer],
                                                         args.peer_tol)]
    with threadpool_limits(limits=1):
        for name, fn, tol in runs:  # warm-up (numba)
            fn(X[:50], y[:50], lams[:2], tol)
        for k in range(args.pairs):
            secs = {}
            for name, fn, tol in (runs if k % 2 == 0 else runs[::-1]):
                clock = time.process_time if args.cpu else time.perf_counter
                t0 = clock()
                coefs = fn(X, y, lams, tol)
                secs[name] = clock() - t0
                print(f"  pair {k}: {name:>12} {secs[name]:8.2f} s  worst certificate "
                      f"{check(X, y, coefs, lams):.1e}  load {os.getloadavg()[0]:.1f}",
                      flush=True)
            print(f"pair {k}: regulab / {args.peer} = {secs['regulab'] / secs[args.peer]:.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
