"""The incremental gradient of :mod:`regulab.solvers.exact.gradient_bound`: its cost per call and
its rounding drift along a path.

    python benchmarks/incremental_grad.py cost sparse-few
    python benchmarks/incremental_grad.py drift sparse-few [--intercept]
    python benchmarks/incremental_grad.py tiles sparse-few [--tiles 2 4 13] [--reps 11]

Not a test. ``cost``: one call of ``_design_kernels.centered_grad_update`` with a random share
of the rows changed (0.1 / 0.3 / 0.6 / 0.9 of them), against one full pass
(``xt_dot_sparse``), median wall time of 10 calls, the caches flushed (a 64 MB array written)
before each. ``drift``: the table row's path with the chain of incremental updates left
unbounded (``MAX_CHAIN`` huge, every update allowed); at each update, the largest entry-wise
difference from the direct product relative to ``max_j |g_j|``, by chain length. ``tiles``:
the path's calls of ``centered_grad_update`` captured (the table row's path, as
``path_split.py`` runs it) and replayed, thread CPU of all of them per repeat, against a
column-tiled scatter (docs/benchmarks.md, "Twelfth round: a tiled scatter"): the columns cut into
T tiles of ``ceil(p / T)``, the changed rows scattered tile by tile, each ``d_j`` summed in row
order as before (the same bits, checked), from either the CSR copy with each row's split points
(``split``) or a tile-major copy of it (``major``: the entries of tile 0 of every row, then tile
1, ...); ``cut``: row by row in the kernel's order, each row's loop cut at its split points (the
loops' own cost). Prints the build time and memory of each layout and, per kernel, the median and
minimum time and the per-repeat ratio to the kernel in use.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import table as T  # noqa: E402  (sets one BLAS/OpenMP thread before numpy is imported)

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

import regulab.solvers.exact.gradient_bound as GB  # noqa: E402
from regulab.selection.path import lam_grid, regularization_path  # noqa: E402
from regulab.solvers import _design_kernels as DK  # noqa: E402
from regulab.solvers.design import as_design  # noqa: E402


def cost(X):
    D = as_design(X)
    n, p = D.n, D.p
    rdata, rcols, rptr = D.csr_arrays()
    s, xbar, active = np.full(n, 1.0 / n), np.zeros(p), np.ones(p, dtype=bool)
    rng = np.random.default_rng(0)
    q0 = rng.standard_normal(n)
    nnz = int(D.indptr[-1])
    junk = np.ones(8 << 20)
    for share in (0.1, 0.3, 0.6, 0.9):
        q = q0.copy()
        rows = rng.choice(n, int(share * n), replace=False)
        q[rows] += 1e-3
        sq = s * q
        inc, full = [], []
        for _ in range(10):
            junk += 1.0
            g = np.zeros(p)
            t0 = time.perf_counter()
            DK.centered_grad_update(rdata, rcols, rptr, q, q0, s, xbar, active, nnz, g, g)
            inc.append(time.perf_counter() - t0)
            junk += 1.0
            t0 = time.perf_counter()
            DK.xt_dot_sparse(D.data, D.indices, D.indptr, p, sq)
            full.append(time.perf_counter() - t0)
        entries = np.diff(rptr)[rows].sum() / nnz
        print(f"rows {share:.1f} (stored entries {entries:.2f}): incremental "
              f"{np.median(inc) * 1e3:.2f} ms, full pass {np.median(full) * 1e3:.2f} ms, "
              f"load {os.getloadavg()[0]:.1f}")


def drift(X, y, fit_intercept):
    GB.MAX_CHAIN, GB.INCREMENTAL = 10**9, 1.0
    seen = []
    update = GB.GradientBound._incremental

    def checked(self, r, q):
        g = update(self, r, q)
        if g is not None:
            direct = self.P.masked_grad(r)
            seen.append((self.ref.chain, np.abs(g - direct).max() / np.abs(direct).max()))
        return g

    GB.GradientBound._incremental = checked
    lams = lam_grid(X, y, n_lams=100, fit_intercept=fit_intercept)
    regularization_path(X, y, lams=lams, fit_intercept=fit_intercept, tol=1e-6)
    chain, err = np.array(seen).T
    for upto in sorted({k for k in (4, 8, 16, 32, 64) if k < chain.max()} | {int(chain.max())}):
        print(f"chains <= {upto}: worst relative difference {err[chain <= upto].max():.1e}")
    print(f"{len(seen)} updates, longest chain {int(chain.max())}")


def row_tiles(rcols, rptr, p, T):
    """``(row of each stored entry, its tile)`` for tiles of ``ceil(p / T)`` columns."""
    rows = np.repeat(np.arange(rptr.size - 1), np.diff(rptr.astype(np.int64)))
    return rows, rcols.astype(np.int64) // -(-p // T)


def split_points(rcols, rptr, p, T):
    """``(n, T + 1)``: row i's entries of tile b are ``[out[i, b], out[i, b + 1])``."""
    n = rptr.size - 1
    rows, tile = row_tiles(rcols, rptr, p, T)
    out = np.empty((n, T + 1), dtype=np.int64)
    out[:, 0] = rptr[:-1]
    np.cumsum(np.bincount(rows * T + tile, minlength=n * T).reshape(n, T), axis=1,
              out=out[:, 1:])
    out[:, 1:] += out[:, :1]
    return out.astype(rptr.dtype)


def tile_major(rdata, rcols, rptr, p, T):
    """The CSR copy reordered by (tile, row): row i's entries of tile b are
    ``[ptr[b n + i], ptr[b n + i + 1])``; within one, columns increase as before."""
    n = rptr.size - 1
    rows, tile = row_tiles(rcols, rptr, p, T)
    key = tile * n + rows
    order = np.argsort(key, kind="stable")
    ptr = np.zeros(n * T + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=n * T), out=ptr[1:])
    return rdata[order], rcols[order], ptr.astype(rptr.dtype)


@njit(cache=False, fastmath=False)
def changed_rows(rptr, q, q0):
    """The rows with ``q_i != q0_i`` in increasing order (a plain loop: ~0.6 ms more than the
    kernel's masks over sparse-few's 61 calls, "Eleventh round: sparse-few's kernels")."""
    rows = np.empty(q.size, dtype=np.int64)
    m = 0
    for i in range(q.size):
        if q[i] != q0[i]:
            rows[m] = i
            m += 1
    return rows[:m]


@njit(cache=False, fastmath=False)
def scatter_tile(tdata, tcols, starts, stops, v, d):
    """``d[tcols[t]] += tdata[t] v[k]`` over ``[starts[k], stops[k])`` for each k in order."""
    m = v.size
    for k in range(m):
        if k + DK.ROWS_AHEAD < m:
            DK.prefetch_span(tdata, tcols, starts[k + DK.ROWS_AHEAD], stops[k + DK.ROWS_AHEAD])
        vk = v[k]
        for t in range(starts[k], stops[k]):
            d[tcols[t]] += tdata[t] * vk


@njit(cache=False, fastmath=False)
def tiled_update(tdata, tcols, tptr, rsplit, q, q0, s, xbar, active, g0, g, cut):
    """``centered_grad_update``'s result (no limit; ``g`` apart from ``g0``), the scatter tile
    by tile: with ``rsplit`` of shape ``(n, T + 1)`` (:func:`split_points`, ``tptr`` then the
    CSR ``indptr``) or, when ``rsplit`` has no rows, from a tile-major copy
    (:func:`tile_major`). ``cut``: row by row as the kernel in use (the same reads and
    targets in the same order), each row's loop cut at its split points: the cost of the
    loops alone."""
    n = q.size
    p = g.size
    major = rsplit.shape[0] == 0
    nt = (tptr.size - 1) // n if major else rsplit.shape[1] - 1
    rows = changed_rows(tptr, q, q0)  # a tile-major tptr starts with tile 0's rows
    m = rows.size
    d = np.zeros(p)
    v = np.empty(m)
    tot = 0.0
    for k in range(m):
        i = rows[k]
        v[k] = s[i] * (q[i] - q0[i])
        tot += v[k]
    if cut:
        for k in range(m):
            if k + DK.ROWS_AHEAD < m:
                j = rows[k + DK.ROWS_AHEAD]
                DK.prefetch_span(tdata, tcols, tptr[j], tptr[j + 1])
            i = rows[k]
            vk = v[k]
            for b in range(nt):
                for t in range(rsplit[i, b], rsplit[i, b + 1]):
                    d[tcols[t]] += tdata[t] * vk
        nt = 0
    starts = np.empty(m, dtype=np.int64)
    stops = np.empty(m, dtype=np.int64)
    for b in range(nt):
        for k in range(m):
            if major:
                starts[k] = tptr[b * n + rows[k]]
                stops[k] = tptr[b * n + rows[k] + 1]
            else:
                starts[k] = rsplit[rows[k], b]
                stops[k] = rsplit[rows[k], b + 1]
        scatter_tile(tdata, tcols, starts, stops, v, d)
    for j in range(p):
        g[j] = g0[j] + (d[j] - xbar[j] * tot) if active[j] else 0.0


def tiles(X, y, row, counts, reps):
    D = as_design(X)
    rdata, rcols, rptr = D.csr_arrays()
    calls = []
    kernel = DK.centered_grad_update

    def capture(rd, rc, rp, q, q0, s, xbar, active, limit, g0, g):
        out = kernel(rd, rc, rp, q, q0, s, xbar, active, limit, g0, g)
        calls.append((q.copy(), q0.copy(), s, xbar, active, limit, g0.copy(), out,
                      g.copy() if out >= 0 else None))
        return out

    case = T.CASES[row]
    lams = lam_grid(X, y, loss="squared",
                    n_lams=case.n_lams, fit_intercept=False)
    DK.centered_grad_update = capture
    try:
        regularization_path(X, y, lams=lams,
                            fit_intercept=False, tol=case.target, max_iter=100_000)
    finally:
        DK.centered_grad_update = kernel
    done = [c for c in calls if c[7] >= 0]
    p = D.p
    print(f"{row}: {len(calls)} calls ({len(calls) - len(done)} refused), "
          f"{sum(c[7] for c in done):,} stored entries scattered")

    def current(c):
        q, q0, s, xbar, active, limit, g0 = c[:7]
        g = np.empty(p)
        kernel(rdata, rcols, rptr, q, q0, s, xbar, active, limit, g0, g)
        return g

    variants = {"in use": current}
    none = np.zeros((0, 2), dtype=rptr.dtype)
    for Tn in counts:
        t0 = time.process_time()
        rsplit = split_points(rcols, rptr, p, Tn)
        t1 = time.process_time()
        major = tile_major(rdata, rcols, rptr, p, Tn)
        t2 = time.process_time()
        print(f"T = {Tn}: split points {(t1 - t0) * 1e3:.1f} ms, {rsplit.nbytes / 1e6:.2f} MB; "
              f"tile-major copy {(t2 - t1) * 1e3:.1f} ms, "
              f"{sum(a.nbytes for a in major) / 1e6:.2f} MB (the CSR copy "
              f"{(rdata.nbytes + rcols.nbytes + rptr.nbytes) / 1e6:.2f} MB)")

        def by_split(c, rsplit=rsplit, cut=False):
            g = np.empty(p)
            tiled_update(rdata, rcols, rptr, rsplit, *c[:5], c[6], g, cut)
            return g

        def by_major(c, major=major):
            g = np.empty(p)
            tiled_update(*major, none, *c[:5], c[6], g, False)
            return g

        def by_cut(c, rsplit=rsplit):
            return by_split(c, rsplit, True)

        variants[f"split T={Tn}"] = by_split
        variants[f"major T={Tn}"] = by_major
        variants[f"cut T={Tn}"] = by_cut
    for name, f in variants.items():  # compiled, and the same bits as the captured output
        for c in done:
            if not np.array_equal(f(c), c[8]):
                raise AssertionError(f"{name}: not the bits of centered_grad_update")
    spent = {name: [] for name in variants}
    for _ in range(reps):
        for name, f in variants.items():
            t0 = time.thread_time()
            for c in done:
                f(c)
            spent[name].append((time.thread_time() - t0) * 1e3)
    base = np.array(spent["in use"])
    for name, v in spent.items():
        r = np.array(v) / base
        print(f"{name:12s} median {np.median(v):7.2f} ms, min {np.min(v):7.2f} ms; ratio median "
              f"{np.median(r):.2f} ({r.min():.2f}-{r.max():.2f}), load {os.getloadavg()[0]:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["cost", "drift", "tiles"])
    parser.add_argument("row", choices=[k for k in T.CASES if "sparse" in k])
    parser.add_argument("--intercept", action="store_true")
    parser.add_argument("--tiles", type=int, nargs="+", default=[2, 4, 13])
    parser.add_argument("--reps", type=int, default=11)
    args = parser.parse_args()
    X, y = T.prepare(*T.CASES[args.row].make(), "lasso")
    if args.what == "tiles":
        tiles(X, y, args.row, args.tiles, args.reps)
    else:
        cost(X) if args.what == "cost" else drift(X, y, args.intercept)


if __name__ == "__main__":
    main()
