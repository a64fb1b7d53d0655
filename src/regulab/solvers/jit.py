"""Two outside concerns of the compiled kernels: where numba caches them, and saying when they
compile.

The kernels (the modules ``regulab/solvers/_*.py``) are numba functions with ``cache=True`` and
no signature list: each is compiled on first call, for the argument types of that call only,
and the machine code is cached on disk, so a later process loads it instead of compiling (the
first run after an install pays the compile once).

Every kernel sets ``fastmath`` in its decorator (``False`` for IEEE arithmetic; checked by
``tests/test_cache_bits.py``): numba compiles a function whose decorator leaves it out with
the flags of the caller it is first compiled for (numba issue #7168), and its cache keys the
machine code by argument types only, so a helper first compiled under a ``fastmath`` caller
kept those flags for every later caller, in every later process on the same cache, and a
result's last bits followed the order in which routes had first run (docs/benchmarks.md,
"Eleventh round: same bits whatever the cache").

* :func:`configure_cache`: where numba caches. numba's ``cache=True`` checks only the source
  file of each function, so a kernel that calls a kernel of another file (``gram_path`` in
  ``_path_kernels`` calls ``cd_squared_gram`` of ``_cd_kernels``, which it compiles into its own
  machine code) would keep stale code after that other file is edited. regulab therefore points
  ``NUMBA_CACHE_DIR`` at a subfolder named by a fingerprint of every kernel source
  (:func:`kernel_fingerprint`): any edit, or another regulab version, gets a fresh cache. The
  subfolder is made in the user's ``NUMBA_CACHE_DIR`` if set, else in :func:`user_cache_dir`
  (else, when that cannot be written, in the kernels' own ``__pycache__``). Called when
  :mod:`regulab.solvers` is imported, before any kernel module imports numba; it sets the
  variable for the whole process (numba has one cache folder per process), so numba functions
  of the caller's own code compiled afterwards are cached in the same subfolder.
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

#: the folder of the kernel modules (numba's in-tree cache, ``__pycache__``, is the last resort)
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


#: kernel modules (every numba function of regulab lives in one): their sources make the
#: fingerprint
KERNEL_GLOB = "_*.py"
#: prefix of the fingerprinted cache subfolder
PREFIX = "regulab-kernels-"


def kernel_fingerprint(kernel_dir: Path | None = None) -> str:
    """16 hex digits of a SHA-256 over the names and bytes of the kernel modules
    (``kernel_dir/_*.py``): it changes whenever any kernel source does, so a kernel compiled
    with another file's former code is never loaded (numba's own index already checks each
    function's file and numba's version). An unreadable source hashes as its name only."""
    import hashlib

    kernel_dir = KERNEL_DIR if kernel_dir is None else Path(kernel_dir)
    digest = hashlib.sha256()
    for path in sorted(kernel_dir.glob(KERNEL_GLOB)):
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def configure_cache(kernel_dir: Path | None = None) -> Path | None:
    """Point ``NUMBA_CACHE_DIR`` at ``<base>/regulab-kernels-<fingerprint>`` and return it (None
    when no folder can be written: numba's defaults are left alone).

    ``<base>`` is the user's ``NUMBA_CACHE_DIR`` when set (a folder this function set, as
    inherited by a worker process, is recognized and kept), else :func:`user_cache_dir`, else
    ``kernel_dir/__pycache__``. Sets the variable for numba to read when it is imported; if numba
    is already imported (by the caller's own code), its configuration is updated too, so the
    kernels loaded afterwards use the folder.
    """
    kernel_dir = KERNEL_DIR if kernel_dir is None else Path(kernel_dir)
    name = PREFIX + kernel_fingerprint(kernel_dir)
    current = os.environ.get(CACHE_ENV)
    if current:
        current = Path(current)
        bases = [current.parent if current.name.startswith(PREFIX) else current]
    else:
        bases = [user_cache_dir(), kernel_dir / "__pycache__"]
    folder = next((b / name for b in bases if _writable(b / name)), None)
    if folder is None:
        return None  # nowhere to write: numba compiles in memory, as it would anyway
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
