"""A result's bits do not depend on what numba compiled into the kernel cache before.

numba compiles a function whose decorator does not set ``fastmath`` with the flags of the
caller it is first compiled for (numba issue #7168; the flag is "inherited" when a jitted
caller types the call), and caches that machine code under a key that holds the argument types
only: a helper first compiled as the callee of a ``fastmath`` kernel is loaded with those
flags by every later caller, in this process and in every later one on the same cache folder.
So every regulab kernel states its own flags (docs/benchmarks.md, "Eleventh round: same bits
whatever the cache"). Checked here: every kernel sets ``fastmath`` in its decorator, and a
dense L1 path (the Gram coordinate descent) gives the same bytes in a fresh cache folder and in one where the weighted CD's
Anderson step (a ``fastmath`` caller of the Anderson solve that the dense path calls too) was
compiled first, in another process.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from regulab.solvers import jit

SRC = Path(__file__).resolve().parents[1] / "src"
#: a subprocess that compiles kernels on a loaded machine can take minutes
SLOW = 1800


def _kernels():
    """``(module name, function name, dispatcher)`` of every numba function of regulab."""
    from numba.core.registry import CPUDispatcher

    found = []
    for path in sorted(jit.KERNEL_DIR.glob(jit.KERNEL_GLOB)):
        if path.name == "__init__.py":
            continue
        module = importlib.import_module(f"regulab.solvers.{path.stem}")
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == module.__name__:
                found.append((path.stem, name, obj))
    return found


def test_every_kernel_sets_its_own_fastmath_flags():
    """A kernel without ``fastmath`` in its decorator would take its first caller's flags
    (IEEE from one caller, ``reassoc``/``contract`` from another) and keep them in the cache.
    A kernel inlined by numba (``inline="always"``) is compiled as part of each caller, with
    that caller's flags, and is exempt."""
    kernels = _kernels()
    assert len(kernels) > 50, "kernels not found"
    missing = [f"{m}.{n}" for m, n, d in kernels
               if "fastmath" not in d.targetoptions and d.targetoptions.get("inline") != "always"]
    assert missing == []


#: the weighted CD's Anderson step compiled alone (types of the sparse weighted route's call):
#: its callees are compiled as its own, into the cache folder
STEP = """
import numpy as np
from regulab.solvers import _cd_kernels as K
n, m = 4, 2
data = np.ones(n * m); idx = np.zeros(1, dtype=np.uint32)
hist = np.zeros((3, m)); cw = np.empty(2)
K._anderson_step(data, idx, idx, n, False, np.full(n, 1.0 / n), True, 1.0 / n, np.zeros(m),
                 np.arange(m), np.zeros(m), np.zeros(n), 0.0, 1.0, 0.0, hist, cw, np.empty(m),
                 np.empty(n))
"""
#: a least-squares problem with correlated features (Toeplitz, 0.8**|i - j|): its centered Gram
#: matrix ``G``, ``rhs = X_c^T y_c / n`` and ``null = y_c^T y_c / n``
PROBLEM = """
import numpy as np
rng = np.random.default_rng(0)
n, p = 400, 12
C = 0.8 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
X = rng.standard_normal((n, p)) @ np.linalg.cholesky(C).T
y = X @ np.linspace(-2.0, 2.0, p) + rng.standard_normal(n)
Xc, yc = X - X.mean(0), y - y.mean()
G, rhs, null = Xc.T @ Xc / n, Xc.T @ yc / n, yc @ yc / n
top = 2 * np.abs(rhs).max()
"""
#: an L1 path of it by the Gram coordinate descent (the kernel of ``gram_path``, with its
#: Anderson solve), warm-started down 19 lams
PATH = PROBLEM + """
import sys
from regulab.solvers import _cd_kernels as K
wv, out = np.zeros(p), []
for lam in top * np.geomspace(1, 1e-3, 20)[1:]:
    K.cd_squared_gram(G, rhs, wv, null, lam, 0.0, 1e-12 * null, 100_000, 5)
    out.append(wv.copy())
np.save(sys.argv[1], np.array(out))
"""


def _start(code: str, cache: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=SLOW)
    assert proc.returncode == 0, err[-3000:]


def test_a_path_has_the_same_bits_whatever_was_compiled_into_the_cache_before(tmp_path):
    fresh, used = tmp_path / "fresh", tmp_path / "used"
    # the fresh folder's path and the other folder's history run side by side
    first = [_start(PATH, fresh, str(tmp_path / "fresh.npy")), _start(STEP, used)]
    for proc in first:
        _finish(proc)
    _finish(_start(PATH, used, str(tmp_path / "used.npy")))
    a, b = np.load(tmp_path / "fresh.npy"), np.load(tmp_path / "used.npy")
    assert a.shape == b.shape == (19, 12)
    # the probe solved its problems (KKT at the last lam, from the data here): not a vacuous
    # comparison
    ns: dict = {}
    exec(PROBLEM, ns)
    G, rhs, top = ns["G"], ns["rhs"], ns["top"]
    lam, w = top * 1e-3, a[-1]
    g = 2 * (rhs - G @ w)  # minus the gradient of the smooth part
    on = w != 0
    assert on.sum() >= 6
    assert np.all(np.abs(g[~on]) <= lam * (1 + 1e-6))
    assert np.allclose(g[on], lam * np.sign(w[on]), rtol=0, atol=1e-6 * top)
    assert a.tobytes() == b.tobytes(), np.max(np.abs(a - b))
