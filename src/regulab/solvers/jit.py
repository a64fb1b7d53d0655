"""Two outside concerns of the compiled kernels: where numba caches them, and saying when they
compile.

The kernels (``_design_kernels``, ``_cd_kernels``, ``_pn_kernels``, ``_active_set``) are numba
functions with ``cache=True`` and no signature list: each is compiled on first call, for the
argument types of that call only, and the machine code is cached on disk, so a later process
loads it instead of compiling (the first run after an install pays the compile once).

* :func:`configure_cache`: numba writes its cache next to the kernels' source (``__pycache__``).
  When that folder is not writable (a system-wide or read-only install) and the user has not
  set ``NUMBA_CACHE_DIR``, regulab points numba at :func:`user_cache_dir` instead, so the compile
  is still paid once, not on every run. Called when :mod:`regulab.solvers` is imported, before
  any kernel module imports numba.
* :func:`notify_compile`: within the block, call a function once when numba starts compiling
  (a cache miss), so that a command can say why the first run is slow instead of sitting silent.
  It listens to numba's ``numba:compile`` event, which fires only when code is really compiled,
  never when it is loaded from the cache.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

#: the folder of the kernel modules, where numba's in-tree cache (``__pycache__``) lives
KERNEL_DIR = Path(__file__).resolve().parent
#: numba's environment variable for its cache folder (read when numba is imported)
CACHE_ENV = "NUMBA_CACHE_DIR"


def user_cache_dir() -> Path:
    """regulab's folder for numba's cache in the user's cache folder: ``$XDG_CACHE_HOME`` (or
    ``~/.cache``) ``/regulab/numba`` on Linux, ``~/Library/Caches/regulab/numba`` on macOS,
    ``%LOCALAPPDATA%\\regulab\\numba`` on Windows."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "regulab" / "numba"


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (created if missing), as numba's in-tree
    cache needs."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def configure_cache(kernel_dir: Path | None = None) -> Path | None:
    """Send numba's cache to :func:`user_cache_dir` when ``kernel_dir/__pycache__`` is not
    writable and ``NUMBA_CACHE_DIR`` is not set; return that folder, or None when nothing was
    changed (the user's setting, or the in-tree cache, is used).

    Sets the variable for numba to read when it is imported; if numba is already imported (by
    the caller's own code), its configuration is updated too, so the kernels loaded afterwards
    use the folder.
    """
    if os.environ.get(CACHE_ENV):
        return None
    kernel_dir = KERNEL_DIR if kernel_dir is None else Path(kernel_dir)
    if _writable(kernel_dir / "__pycache__"):
        return None
    folder = user_cache_dir()
    if not _writable(folder):
        return None  # nowhere to write: numba compiles in memory on each run, as it would anyway
    os.environ[CACHE_ENV] = str(folder)
    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.CACHE_DIR = str(folder)
    return folder


@contextlib.contextmanager
def notify_compile(say: Callable[[], None]) -> Iterator[None]:
    """Within the block, call ``say()`` once, when numba first starts compiling a function (a
    kernel whose cached machine code is missing or stale); never when kernels load from the
    cache. Imports numba."""
    from numba.core import event

    class _Once(event.Listener):
        fired = False

        def on_start(self, ev):
            if not self.fired:
                self.fired = True
                say()

        def on_end(self, ev):
            pass

    listener = _Once()
    event.register("numba:compile", listener)
    try:
        yield
    finally:
        event.unregister("numba:compile", listener)
