"""Compile ahead: on the first run after an install, a helper process compiles the longest
kernel while the command imports, reads its data and compiles the rest (issue 13).

A first ``regulab fit`` on a small dense table spends most of its compile time in one chain:
``_path_kernels.gram_path`` with the coordinate descent, the Anderson solve and the duality
gap it calls (docs/benchmarks.md, "First run after an install"). numba compiles one function
at a time per process (a global compiler lock), so a thread would not overlap it with the
command's own Python work; a second process does, on a second core. It compiles the kernel
for the very argument types of the command's later call (:func:`gram_path_arguments`, checked
against the real call by ``tests/test_compile_ahead.py``) into the same cache folder; the
command, just before its first call of the kernel, waits for the helper (:func:`wait_for`) and
then loads the machine code from the cache instead of compiling it. The command starts the
helper as soon as it knows its command, before typer parses the line (:func:`regulab.cli.main`),
and at once compiles the Anderson solve the chain calls (:func:`compile_here`: cached before
the helper gets to it, which then loads it), then imports, reads and compiles the rest. The
helper ends without the interpreter's teardown (``os._exit``: its cache files are complete when
its compiles return), which the command would otherwise wait for. The machine code is the code
the command would have compiled itself: same source, types, numba and LLVM (the tests compare
the disassembled object code).

When a helper starts (:func:`start`): only if the kernel cache folder is regulab's
fingerprinted folder (:func:`regulab.solvers.jit.configure_cache`; never numba's default
folder, e.g. a read-only install) and holds neither the path kernel nor the column statistics
kernels (the first run after an install or an upgrade, or after a first command that failed
before reading its data: :func:`is_first_run`, a cheap look for index files, without importing
numba; any other route compiles the column statistics, so it starts no helper twice), the
process may use at least two cores and one of them is idle (on a machine whose cores are all
busy the helper's own start-up, about a second of CPU, would cost more than the overlap gains;
``REGULAB_COMPILE_AHEAD=1`` starts it anyway, ``0`` never). The helper is
silent (its standard streams go to the null device); whatever happens to it (it fails, it is
killed, another ``regulab`` process compiles the same kernel at the same time: numba writes
each cache file under a temporary name and renames it), the command's results are those it
would compute alone: at worst it compiles the kernel itself. :func:`ahead` stops (terminates
and reaps) a helper still running when the command ends, failed or not.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator

from regulab.solvers import jit

#: ``0``: compile everything in the command's own process; ``1``: start a helper even when
#: no core is idle; unset: decide by the load (:func:`core_free`)
SWITCH = "REGULAB_COMPILE_AHEAD"
#: the kernels a helper compiles, by name (each also names the :func:`wait_for` key)
KERNELS = ("gram_path",)
#: the helper's command line after the interpreter (the kernel folder is appended: a helper of
#: another regulab tree compiles nothing)
HELPER = ["-m", "regulab.solvers.ahead"]
#: seconds the command waits for a helper before stopping it and compiling itself (a helper
#: takes about 5 s on an idle machine; this bounds a hung one)
WAIT_LIMIT = 600.0

_lock = threading.Lock()
#: helper processes still running, by kernel name
_pending: dict[str, subprocess.Popen] = {}


def usable_cores() -> int:
    """Cores this process may run on (its affinity where the system says, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


#: numba index files that end a first run: the helper's kernel, and the column statistics that
#: every fit on a table compiles once its data are read (a command that failed before that, or a
#: route without the path kernel, leaves the one or the other)
FIRST_RUN_OVER = ("_path_kernels.gram_path-*.nbi", "_design_kernels.column_stats_*-*.nbi")


def is_first_run(folder: Path) -> bool:
    """Whether ``folder`` (at any depth) holds none of the index files :data:`FIRST_RUN_OVER`."""
    return not any(next(Path(folder).rglob(pattern), None) for pattern in FIRST_RUN_OVER)


def _cache_folder() -> Path | None:
    """regulab's fingerprinted kernel cache folder in use, or None (numba's defaults)."""
    folder = os.environ.get(jit.CACHE_ENV)
    if not folder or not Path(folder).name.startswith(jit.PREFIX):
        return None
    return Path(folder)


def core_free() -> bool:
    """Whether a core is idle: the 1-minute load average below the usable cores (True where
    the system gives no load average)."""
    try:
        return os.getloadavg()[0] < usable_cores()
    except (AttributeError, OSError):
        return True


def should_start() -> bool:
    """Whether a helper may start now (module docstring: first run, own cache, two cores and,
    unless ``REGULAB_COMPILE_AHEAD=1``, one of them idle)."""
    setting = os.environ.get(SWITCH, "").strip()
    if setting == "0" or not sys.executable:
        return False
    folder = _cache_folder()
    if folder is None or usable_cores() < 2 or (setting != "1" and not core_free()):
        return False
    try:
        return is_first_run(folder)
    except OSError:
        return False


def start() -> bool:
    """Start one silent helper that compiles :data:`KERNELS` into the cache, if
    :func:`should_start`; True when it started, or when one this process started still runs
    (:func:`regulab.cli.main` starts it as soon as the command is known, the command's
    :func:`ahead` block finds it)."""
    with _lock:
        if _pending:
            return True
    if not should_start():
        return False
    command = [sys.executable, *HELPER, str(jit.KERNEL_DIR)]
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console window
    try:
        helper = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, creationflags=flags)
    except OSError:
        return False
    with _lock:
        for name in KERNELS:
            _pending[name] = helper
    return True


def _reap(helper: subprocess.Popen, timeout: float | None) -> None:
    """Wait for ``helper`` up to ``timeout`` seconds, then terminate and reap it."""
    try:
        helper.wait(timeout=timeout)
        return
    except subprocess.TimeoutExpired:
        pass
    helper.terminate()
    try:
        helper.wait(timeout=10.0)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()


def wait_for(name: str) -> None:
    """Before the first call of kernel ``name``: wait until a helper compiling it has ended
    (at most :data:`WAIT_LIMIT` s), so that the call loads it from the cache. Returns at once
    when no helper compiles it (every call after the first, every warm run)."""
    if not _pending:  # the common case, without the lock
        return
    with _lock:
        helper = _pending.pop(name, None)
    if helper is not None:
        _reap(helper, WAIT_LIMIT)


def stop() -> None:
    """Terminate and reap every helper still running (the command is over)."""
    with _lock:
        helpers = set(_pending.values())
        _pending.clear()
    for helper in helpers:
        _reap(helper, 0.0)


def compile_here() -> None:
    """Compile here, at once, the Anderson solve the helper's kernel calls (a fifth of the
    helper's compile): done before the command's own imports, it is cached by the time the
    helper types the call, and the helper loads it instead of compiling it (when the helper
    gets there first, both compile the same code and either copy serves). Once per process:
    a second call finds the compiled code in memory and returns at once."""
    import numpy as np

    from regulab.solvers import _cd_kernels as CDK

    kernel = CDK.anderson_weights  # called by cd_squared_gram with (hist[K+1, m], cw[K])
    kernel.compile(tuple(kernel.typeof_pyval(a) for a in (np.empty((2, 1)), np.empty(1))))


@contextlib.contextmanager
def ahead(on_start: Callable[[], None] | None = None) -> Iterator[bool]:
    """Within the block, a helper compiles :data:`KERNELS` if :func:`should_start` (then
    ``on_start()`` is called and this process compiles the Anderson solve:
    :func:`compile_here`); on leaving, a helper still running is stopped. Yields whether one
    started."""
    started = start()
    if started and on_start is not None:
        on_start()
    try:
        if started:
            compile_here()
        yield started
    finally:
        stop()


# ----------------------------------------------------------------------------- the helper

def gram_path_arguments() -> tuple:
    """Arguments of :func:`regulab.solvers._path_kernels.gram_path` with the numba types of its
    call by :func:`regulab.solvers.exact.gram_path.gram_path` at the default ``tol`` (a dense
    float64 design as :func:`regulab.solvers.design.as_design` gives it, ``yc`` None), for a
    2 x 1 problem: the values matter only as types. Built here without scipy (the design
    module imports it), so the helper starts compiling sooner."""
    import numpy as np

    n, p = 2, 1
    data = np.asfortranarray(np.ones((n, p))).ravel(order="F")
    no_index = np.zeros(1, dtype=np.uint32)  # a dense design's indices and indptr
    s = np.full(n, 1.0 / n)
    ws = np.arange(p, dtype=np.int64)
    return (data, no_index, no_index, n, False, s, np.zeros(p), ws, None, np.eye(p),
            np.zeros(p), 1.0, np.ones(1), 1.0, 1e-6, 100, 5, np.zeros((p, 1)), np.empty(1),
            np.zeros(1, dtype=np.int64))


def compile_kernels() -> None:
    """Compile :data:`KERNELS` for the types of their calls (cached: ``cache=True``)."""
    from regulab.solvers import _path_kernels as PK

    # typed as the dispatcher types a call's arguments, then compiled (and cached) as a call
    # would compile it
    kernel = PK.gram_path
    kernel.compile(tuple(kernel.typeof_pyval(a) for a in gram_path_arguments()))


def _main(argv: list[str]) -> int:
    # a helper of another regulab tree (its kernels, its cache folder) compiles nothing
    if len(argv) != 1 or Path(argv[0]).resolve() != jit.KERNEL_DIR:
        return 2
    compile_kernels()
    return 0


if __name__ == "__main__":
    # ends without the interpreter's teardown (0.15-0.4 s of freeing numba's and LLVM's objects,
    # which the command would wait for): each cache file is written and renamed into place
    # before its compile returns, and the standard streams go to the null device
    os._exit(_main(sys.argv[1:]))
