"""CPU seconds of regulab's certified path on one row of benchmarks/table.py, for paired runs of
two checkouts (old and new code alternately, each in a fresh process):

    for k in 1 2 3; do
      PYTHONPATH=/work/main/src python benchmarks/path_cpu.py sparse-many
      PYTHONPATH=$PWD/src python benchmarks/path_cpu.py sparse-many
    done

Not a test. Prints the code's location (which checkout ran), the CPU seconds of the path
(``time.process_time``, one thread), the worst certificate by the row's formula and the load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import table as T  # noqa: E402  (sets one BLAS/OpenMP thread before numpy is imported)

import regulab  # noqa: E402
from regulab.selection.path import lam_grid  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("row", choices=[k for k, c in T.CASES.items() if c.kind == "lasso"])
    args = parser.parse_args()
    case = T.CASES[args.row]
    X, y = T.prepare(*case.make(), case.kind)
    lams = lam_grid(X, y, loss="squared", n_lams=case.n_lams, fit_intercept=False)
    fn = T.lasso_tools()["regulab"]
    fn(X[:50], y[:50], lams[:2], case.target)  # numba's cached kernels loaded
    t0 = time.process_time()
    coefs = fn(X, y, lams, case.target)
    secs = time.process_time() - t0
    print(f"{os.path.dirname(regulab.__file__)}: {args.row} {secs:.3f} s CPU, worst certificate "
          f"{T.worst_gap(X, y, coefs, lams):.1e}, load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
