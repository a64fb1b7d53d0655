"""The memory a regularization path needs, and a guard refusing up front a fit that would not fit.

Bytes, with ``b`` bytes per value of X (4 for float32, 8 for float64), ``i = 4`` bytes per sparse
index (int32; 8 once ``nnz >= 2**31``), ``nnz = density * n * p``, ``L = n_lams`` and
``m = min(p, 3000, 1e8 / (8 n))`` the capacity of the solver's active-set Gram cache::

    X       = n p b                                     dense
            = nnz (b + i) + (p + 1) i                   sparse (CSC or CSR)
    design  = X when the solver must convert it (dense: not Fortran-ordered or not float32/64;
              sparse: not CSC), else 0
            + nnz (b + i) + (n + 1) i                   sparse X, squared loss: the CSR copy
                                                        of the incremental gradient
    solver  = 8 (10 n + 20 p)                           working vectors (always float64)
            + 16 m**2   (+ 8 n m for dense X)           Gram + Cholesky cache (an L1 part)
            + 8 (3 n p + n k + k p + 4 k**2)            dense pure ridge (closed form by SVD),
                                                        k = min(n, p), instead of the cache
    output  = 8 p L + 40 L                              coefficients [p, L] and per-lam numbers
    path    = design + solver + output                  beyond X itself

The Gram cache is allocated lazily and filled only for the features that enter the working set,
so the estimate is an upper bound there (measurements in ``docs/scaling.md``). float32 X halves
the values of X (not the indices, nor the float64 solver vectors or output).

A resampling workload (CV folds, stability half-samples) holds, per worker process, one copy of
X (shipped once) plus, per running task, the subsample ``X[rows]`` (``fraction * n`` rows) and
a path on it; the main process holds X and the results kept (CV keeps every fold's
coefficients, ``8 p L`` each; stability reduces on the fly and keeps one ``8 p L`` matrix). Each
Python process with regulab loaded starts at about :data:`PROCESS_BASELINE` bytes.

**Available memory** (:func:`available_memory`) is the system's (psutil, else ``MemAvailable`` of
``/proc/meminfo``, else ``os.sysconf``) capped by what the cgroup still allows, ``limit - usage``
(v2 ``memory.max`` / ``memory.current``, v1 ``memory.limit_in_bytes`` / ``memory.usage_in_bytes``),
so a container's limit is honoured. :func:`check_memory` is the one guard: it refuses ``need``
bytes above ``fraction * available``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from regulab.core.validation import issparse

#: resident memory of a worker process with numpy, scipy, numba and regulab loaded, with room for
#: transient copies and allocator slack (measured: ~200 MiB for a Dask worker after its first
#: task, peaks of 250-310 MiB per worker on the sparse benchmark case)
PROCESS_BASELINE = 250 * 2**20
#: the active-set Gram cache (regulab.solvers._active_set): at most this many columns / bytes
GRAM_MAX_COLS = 3000
GRAM_MAX_A_BYTES = 100e6


def gram_capacity(n: int, p: int) -> int:
    """Columns the active-set Gram cache (``regulab.solvers._active_set.GramCache``) holds for a
    design of ``n`` rows and ``p`` features: the largest support the active-set method can
    factor."""
    return int(max(0, min(p, GRAM_MAX_COLS, GRAM_MAX_A_BYTES // (8 * max(n, 1)))))
#: working vectors of a solve, in float64 values per row and per feature
VECTORS_PER_ROW = 10
VECTORS_PER_FEATURE = 20
#: where the system's and the cgroup's numbers are read (module attributes, so tests can point
#: them at fake files)
MEMINFO = "/proc/meminfo"
CGROUP_FILES = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),               # v2
                ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                 "/sys/fs/cgroup/memory/memory.usage_in_bytes"))                              # v1
#: a cgroup v1 "limit" at or above this is the kernel's way of saying "no limit"
CGROUP_NO_LIMIT = 2**60


class InsufficientMemoryError(ValueError):
    """A fit would need more memory than is available (refused before it starts).

    ``need`` and ``available`` (bytes) are kept so a caller can word its own message."""

    def __init__(self, message: str, need: float | None = None, available: int | None = None):
        super().__init__(message)
        self.need = need
        self.available = available


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes: ``x`` the design matrix itself, and what a path needs beyond it."""

    x: int
    design: int
    solver: int
    output: int
    what: str = "a path"

    @property
    def total(self) -> int:
        """What the path needs beyond X (X is already in memory when the fit starts)."""
        return self.design + self.solver + self.output

    @property
    def with_x(self) -> int:
        return self.x + self.total

    def __str__(self) -> str:
        return (f"{self.what}: {format_bytes(self.total)} beyond X ({format_bytes(self.x)}): "
                f"design {format_bytes(self.design)}, solver {format_bytes(self.solver)}, "
                f"output {format_bytes(self.output)}")


def format_bytes(nbytes: float, digits: int = 2, *,
                 units: tuple[str, ...] = ("B", "KiB", "MiB", "GiB")) -> str:
    """``nbytes`` in the largest of ``units`` (``units[k]`` is ``1024**k`` bytes) it reaches, with
    ``digits`` decimals; below 1024, a whole number of ``units[0]``."""
    for k in range(len(units) - 1, 0, -1):
        if abs(nbytes) >= 1024**k:
            return f"{nbytes / 1024**k:.{digits}f} {units[k]}"
    return f"{int(nbytes)} {units[0]}"


def _itemsize(dtype) -> int:
    dt = np.dtype(dtype)
    return 4 if dt == np.float32 else 8


def _check_dims(n, p, density, n_lams):
    for name, v in (("n", n), ("p", p), ("n_lams", n_lams)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if not (isinstance(density, (int, float, np.floating)) and 0 < density <= 1):
        raise ValueError(f"density must be in (0, 1], got {density!r}")


def x_bytes(n: int, p: int, *, density: float = 1.0, dtype=np.float64,
            sparse: bool | None = None) -> int:
    """Bytes of X: dense ``n p b``; sparse ``nnz (b + i) + (p + 1) i``."""
    b = _itemsize(dtype)
    if sparse is None:
        sparse = density < 1.0
    if not sparse:
        return int(n) * int(p) * b
    nnz = int(math.ceil(float(density) * n * p))
    i = 4 if max(nnz, n, p) < 2**31 else 8
    return nnz * (b + i) + (int(p) + 1) * i


def csr_bytes(n: int, p: int, *, density: float, dtype=np.float64) -> int:
    """Bytes of the CSR copy of a sparse X that the squared loss keeps
    (:meth:`regulab.solvers.design.Design.csr_arrays`): ``nnz (b + i) + (n + 1) i``."""
    return x_bytes(p, n, density=density, dtype=dtype, sparse=True)


def path_memory(n: int, p: int, *, density: float = 1.0, dtype=np.float64, n_lams: int = 100,
                l1_ratio: float = 1.0, loss: str = "squared", sparse: bool | None = None,
                convert: bool = False) -> MemoryEstimate:
    """Memory of :func:`regulab.selection.path.regularization_path` on an ``n x p`` X (module docstring).

    ``sparse`` defaults to ``density < 1``; ``convert``: the solver must copy X (dense X not in
    Fortran order, sparse X not CSC).
    """
    _check_dims(n, p, density, n_lams)
    if sparse is None:
        sparse = density < 1.0
    n, p, L = int(n), int(p), int(n_lams)
    x = x_bytes(n, p, density=density, dtype=dtype, sparse=sparse)
    design = (x if convert else 0) + (csr_bytes(n, p, density=density, dtype=dtype)
                                      if sparse and loss == "squared" else 0)
    solver = 8 * (VECTORS_PER_ROW * n + VECTORS_PER_FEATURE * p)
    if float(l1_ratio) == 0.0 and not sparse and loss == "squared":
        k = min(n, p)
        solver += 8 * (3 * n * p + n * k + k * p + 4 * k * k)
    elif float(l1_ratio) > 0.0:
        m = gram_capacity(n, p)
        solver += 16 * m * m + (0 if sparse else 8 * n * m)
    output = 8 * p * L + 40 * L
    shape = f"{n} x {p} {'sparse, density %g' % density if sparse else 'dense'}"
    return MemoryEstimate(x, design, solver, output,
                          f"a path on X ({shape}, {np.dtype(dtype).name}, {L} lams)")


def path_memory_for(X, *, n_lams: int = 100, l1_ratio: float = 1.0,
                    loss: str = "squared") -> MemoryEstimate:
    """:func:`path_memory` for an actual X (its format, dtype and non-zeros)."""
    n, p = X.shape
    if issparse(X):
        density = X.nnz / max(1, n * p) or 1.0 / max(1, n * p)
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        convert = X.format != "csc" or X.dtype not in (np.float32, np.float64)
        est = path_memory(n, p, density=min(1.0, density), dtype=dtype, n_lams=n_lams,
                          l1_ratio=l1_ratio, loss=loss, sparse=True, convert=convert)
        actual = X.data.nbytes + sum(getattr(X, a).nbytes for a in ("indices", "indptr")
                                     if hasattr(X, a))
        csr = est.design - (est.x if convert else 0)
        return MemoryEstimate(actual, (actual if convert else 0) + csr, est.solver, est.output,
                              est.what)
    X = np.asarray(X)
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    convert = not (X.flags.f_contiguous and X.dtype in (np.float32, np.float64))
    return path_memory(n, p, dtype=dtype, n_lams=n_lams, l1_ratio=l1_ratio, loss=loss,
                       sparse=False, convert=convert)


def resample_memory(n: int, p: int, *, density: float = 1.0, dtype=np.float64,
                    n_lams: int = 30, fraction: float = 0.5, tasks_per_worker: int = 1,
                    results_held: int = 1, sparse: bool | None = None,
                    csc: bool = True) -> tuple[int, int]:
    """``(per_worker, main)`` bytes of a resampling workload (CV: ``fraction = (K-1)/K`` and
    ``results_held = K * n_repeats``; stability: ``fraction = 1/2``, ``results_held = 1``).

    Per worker process: baseline + X + ``tasks_per_worker`` x (subsample of ``fraction * n``
    rows + a path on it + its uint8 ``p L`` result); main: baseline + X + the results held.
    """
    _check_dims(n, p, density, n_lams)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    m = max(1, int(round(fraction * n)))
    x = x_bytes(n, p, density=density, dtype=dtype, sparse=sparse)
    sub = path_memory(m, p, density=density, dtype=dtype, n_lams=n_lams, sparse=sparse,
                      convert=not csc and (sparse if sparse is not None else density < 1))
    task = sub.x + sub.total + p * int(n_lams)
    per_worker = PROCESS_BASELINE + x + int(tasks_per_worker) * task
    main = PROCESS_BASELINE + x + int(results_held) * 8 * p * int(n_lams)
    return per_worker, main


def system_available() -> int | None:
    """Bytes the system has available now: ``MemAvailable`` of :data:`MEMINFO` (Linux), else
    psutil if installed, else ``os.sysconf``; None if none of them answers."""
    # the kernel's line first: it is the very number psutil reports on Linux, without
    # psutil's import (9 ms of every `regulab fit`)
    try:
        with open(MEMINFO, "rb") as fh:
            for line in fh:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil  # optional

        return int(psutil.virtual_memory().available)
    except Exception:  # psutil missing (or failing): the system's page counts
        pass
    try:
        pages, page = os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        if pages > 0 and page > 0:
            return int(pages * page)
    except (ValueError, OSError, AttributeError):
        pass
    return None


def cgroup_left() -> int | None:
    """Bytes the cgroup still allows, ``limit - usage``, the smallest over :data:`CGROUP_FILES`;
    None without a limit (``max``, a v1 limit >= :data:`CGROUP_NO_LIMIT`, no or unreadable
    files)."""
    left = None
    for limit_file, usage_file in CGROUP_FILES:
        try:
            with open(limit_file) as fh:
                raw = fh.read().strip()
            if raw == "max" or not raw.isdigit() or int(raw) >= CGROUP_NO_LIMIT:
                continue
            with open(usage_file) as fh:
                here = int(raw) - int(fh.read().strip())
        except (OSError, ValueError):
            continue
        left = here if left is None else min(left, here)
    return left


def available_memory() -> int | None:
    """Bytes this process can still allocate: :func:`system_available` capped by
    :func:`cgroup_left` when there is a limit; None when it cannot be told."""
    avail, left = system_available(), cgroup_left()
    if left is not None:
        avail = left if avail is None else min(avail, left)
    return None if avail is None else max(0, avail)


def check_memory(need: float, *, available: int | None = None, fraction: float = 1.0,
                 what: str = "this fit",
                 hint: str = "use float32 X, fewer lams, or a machine with more memory") -> None:
    """Raise :class:`InsufficientMemoryError` (one line, with the number needed; ``need`` and
    ``available`` as attributes) when ``need > fraction * available`` bytes (``available``
    default: :func:`available_memory`; unknown: no check)."""
    if available is None:
        available = available_memory()
    if available is None or need <= available * fraction:
        return
    share = "" if fraction == 1.0 else f" ({fraction:.0%} of it usable)"
    raise InsufficientMemoryError(f"not enough memory: {what} needs about "
                                  f"{format_bytes(need)}, {format_bytes(available)} available"
                                  f"{share}; {hint}", need=need, available=available)


def guard_path(X, *, n_lams: int = 100, l1_ratio: float = 1.0, loss: str = "squared",
               available: int | None = None) -> MemoryEstimate:
    """Refuse up front (:class:`InsufficientMemoryError`) a path on ``X`` that would not fit in
    the memory available; return the estimate otherwise."""
    est = path_memory_for(X, n_lams=n_lams, l1_ratio=l1_ratio, loss=loss)
    check_memory(est.total, available=available, what=est.what)
    return est


def guard_resamples(X, *, n_lams: int = 30, fraction: float = 0.5, n_workers: int = 1,
                    results_held: int = 1, available: int | None = None) -> int:
    """Refuse up front a resampling workload run on THIS machine with ``n_workers`` local
    processes (``n_workers=1``: in this process) that would not fit; return the bytes needed
    beyond what this process already holds. (On a Dask cluster each worker checks nothing:
    size the workers with :func:`resample_memory`.)"""
    n, p = X.shape
    is_sparse = issparse(X)
    density = (X.nnz / max(1, n * p)) if is_sparse else 1.0
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    per_worker, main = resample_memory(
        n, p, density=max(density, 1.0 / max(1, n * p)), dtype=dtype, n_lams=n_lams,
        fraction=fraction, results_held=results_held, sparse=is_sparse,
        csc=(not is_sparse) or X.format == "csc")
    x = x_bytes(n, p, density=density, dtype=dtype, sparse=is_sparse) if density > 0 else 0
    held = main - PROCESS_BASELINE - x  # results, in this process
    if int(n_workers) <= 1:
        need = held + (per_worker - PROCESS_BASELINE - x)
    else:
        need = held + int(n_workers) * per_worker
    kind = f"{'sparse' if is_sparse else 'dense'} {n} x {p}"
    check_memory(need, available=available,
                 what=f"resampling {kind} X ({np.dtype(dtype).name}, {n_lams} lams) on "
                      f"{max(1, int(n_workers))} process(es)",
                 hint="use float32 X, fewer lams, fewer local workers or a Dask cluster")
    return need


# ---------------------------------------------------------------------------------------------
# streamed fits: the p x p work
# ---------------------------------------------------------------------------------------------
#: (p+1) x (p+1) float64 matrices a streamed fit holds per fold set: the K fold moments and the
#: all-rows merge, the K training merges, their standardized copies and the pass's accumulators
GRAM_COPIES = 4
#: float64 values per row and column of a batch in flight (the decoded Arrow batch, the pandas
#: frame, the encoded rows, their per-fold centred and weighted copies)
BATCH_COPIES = 8


def gram_memory(p: int, n_folds: int = 10, batch_rows: int = 50_000) -> int:
    """Bytes of a streamed fit's ``p x p`` work (:mod:`regulab.data.stream_pass`): with
    ``q = p + 1`` and ``K`` folds, ``8 (GRAM_COPIES (K + 1) q**2 + BATCH_COPIES batch_rows q)``,
    the ``K + 1`` Gram matrices (folds and total, each kept in :data:`GRAM_COPIES` forms) and one
    batch of rows in flight. It does not grow with the number of rows."""
    _check_dims(1, p, 1.0, 1)
    q, K = int(p) + 1, int(n_folds)
    return 8 * (GRAM_COPIES * (K + 1) * q * q + BATCH_COPIES * int(batch_rows) * q)


def largest_gram_p(available: int, n_folds: int = 10, batch_rows: int = 50_000) -> int:
    """The largest ``p`` whose :func:`gram_memory` fits in ``available`` bytes (0 if none)."""
    a = GRAM_COPIES * (int(n_folds) + 1)
    b = BATCH_COPIES * int(batch_rows)
    q = max(1, int((-b + math.sqrt(b * b + 4.0 * a * available / 8.0)) / (2.0 * a)))
    while q >= 1 and gram_memory(q, n_folds, batch_rows) > available:
        q -= 1
    if q < 1:
        return 0
    while gram_memory(q + 1, n_folds, batch_rows) <= available:
        q += 1
    return q


def guard_gram(p: int, *, n_folds: int = 10, batch_rows: int = 50_000,
               available: int | None = None) -> int:
    """Refuse up front, in one line, a streamed fit whose ``p x p`` work does not fit, naming
    the largest ``p`` that does and the other routes; return the bytes needed."""
    need = gram_memory(p, n_folds, batch_rows)
    if available is None:
        available = available_memory()
    if available is None or need <= available:
        return need
    top = largest_gram_p(available, n_folds, batch_rows)
    raise InsufficientMemoryError(
        f"not enough memory: the streamed Gram statistics of p = {p:,} features with "
        f"{n_folds} folds need about {format_bytes(need)}, {format_bytes(available)} available; "
        f"at most p = {top:,} fits: leave out features, or use the in-memory route (without "
        f"--stream) or a sparse design, whose work grows with the non-zeros, not with p**2",
        need=need, available=available)
