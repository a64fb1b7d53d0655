"""CPU seconds of one L1 path under three choices of the active-set Newton route, in one
process (the same problem, alternately): ``old`` takes Newton whenever CD stalled (the rule
before the twelfth round, capacity aside), ``never`` declines it, ``rule`` asks
:func:`regulab.solvers.exact.newton.newton_pays`. Not a test.

    python benchmarks/newton_route.py toeplitz 100 old,never,rule 1
    python benchmarks/newton_route.py weighted/wide 20 old,never,rule 2

Prints per path the CPU seconds (``time.process_time``, one thread), the worst relative gap
and whether every lam converged (the solver's certificate), how many times CD stalled (tries),
how often Newton was taken, and the estimated Newton work over one CD epoch of the stalled
pass (``newton_work / epoch_work``, the quantity the rule compares with ``NEWTON_EPOCHS``).
Problems: table.py's ``toeplitz``, sparse_routes.py's ``ROUTE/SHAPE`` rows, and the ones below
(``ar9``, ``ar9w``: dense AR(1) 0.9, 200 x 2000, without / with weights; ``wide-dense``: dense
AR(1) 0.6, 2000 x 6000; ``spDD``: weighted or plain sparse X with 30-400 entries a column).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import sparse_routes as SR  # noqa: E402
import table as T  # noqa: E402  (sets one BLAS/OpenMP thread before numpy is imported)

import numpy as np  # noqa: E402
import regulab.solvers.exact.newton as NW  # noqa: E402
import regulab.solvers.exact.squared_cd as SQ  # noqa: E402
from regulab.selection.path import regularization_path  # noqa: E402
from regulab.solvers.design import as_design  # noqa: E402

RULE = NW.newton_pays


def spy(mode, calls):
    """``newton_pays`` for ``mode``, recording ``(k_start, k_end, work / epoch, taken)``."""
    def pays(P, start, k, ws, spent=0):
        ratio = NW.newton_work(P, start, k) / NW.epoch_work(P, ws)
        taken = {"old": True, "never": False, "rule": RULE(P, start, k, ws, spent)}[mode]
        calls.append((int(np.count_nonzero(start)), k, ratio, taken, k / P.rank_bound))
        return taken
    return pays


def weights(n):
    return {"sample_weight": np.random.default_rng(3).uniform(0.5, 2.0, n)}


def problem(name):
    """``(X, y, kwargs)`` of one row (module docstring)."""
    if name == "toeplitz":
        return (*T.toeplitz(1000, 5000), {})
    if name == "wide-dense":
        return (*T.toeplitz(2000, 6000, rho=0.6), {})
    if name in ("ar9", "ar9w"):
        return (*T.toeplitz(200, 2000, rho=0.9), weights(200) if name == "ar9w" else {})
    sparse_rows = {"sp01": (3000, 20000, 300, 0.01, True), "sp05": (2000, 10000, 100, 0.05, True),
                   "sp10": (1000, 5000, 250, 0.1, False), "sp20": (1000, 5000, 250, 0.2, True),
                   "sp40": (1000, 5000, 250, 0.4, True)}
    if name in sparse_rows:
        n, p, k, density, weighted = sparse_rows[name]
        return (*T.sparse_case(n, p, k, 3.0, density=density), weights(n) if weighted else {})
    route, shape = name.split("/")
    return SR.problem(route, shape)


def main():
    name, n_lams, modes = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    X, y, kw = problem(name)
    small = {k: (v[:100] if k == "sample_weight" else v) for k, v in kw.items()}
    regularization_path(X[:100], y[:100], n_lams=3, tol=1e-6, **small)  # kernels loaded
    for _ in range(reps):
        for mode in modes:
            calls = []
            SQ.newton_pays = spy(mode, calls)
            as_design(X).clear_caches()  # no active set kept from the last mode's path
            t0 = time.process_time()
            res = regularization_path(X, y, n_lams=n_lams, tol=1e-6, **kw)
            secs = time.process_time() - t0
            ratios = [c[2] for c in calls]
            span = f"{min(ratios):.3g}-{max(ratios):.3g}" if ratios else "-"
            fill = [c[4] for c in calls]
            span += f", k/rank {min(fill):.2f}-{max(fill):.2f}" if fill else ""
            print(f"{name} {n_lams} {mode:6s} {secs:.3f} s CPU, worst gap {max(res.gaps):.2g}, "
                  f"certified {bool(np.all(res.converged))}, tries {len(calls)}, taken "
                  f"{sum(c[3] for c in calls)}, work/epoch {span}, load {os.getloadavg()[0]:.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
