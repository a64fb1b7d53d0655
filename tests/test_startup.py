"""Start-up and first run: what `regulab --help` imports, the compile notice of the first run,
numba's cache folder for a read-only install, and explain's worker processes (same numbers).

No timing is asserted here (benchmarks/bench_startup.py measures); these tests check behaviour.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from regulab.commands.output import COMPILE_NOTICE
from regulab.solvers import jit

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("numpy", "pandas", "sklearn", "scipy", "matplotlib", "torch", "dash", "numba", "jinja2")
#: a subprocess that compiles kernels on a loaded machine can take minutes
SLOW = 1800


def _env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _python(code: str, timeout: float = 300, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=_env(**env))


# ------------------------------------------------------------------------------- imports

@pytest.mark.parametrize("args", [["--version"], ["--help"], ["fit", "--help"],
                                  ["explain", "--help"]])
def test_help_and_version_import_no_heavy_library(args):
    r = _python(f"""
        import sys
        from regulab.cli import main
        try:
            main({args!r})
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
        print("LOADED", sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})))
    """)
    assert r.returncode == 0, r.stderr
    assert "LOADED []" in r.stdout, r.stdout[-500:]


def test_version_is_read_lazily_and_is_the_installed_one():
    r = _python("""
        import sys, regulab
        assert "importlib.metadata" not in sys.modules  # read only when asked
        from importlib.metadata import version
        print(regulab.__version__ == version("regulab"))
    """)
    assert r.returncode == 0 and r.stdout.strip() == "True", r.stderr


# ------------------------------------------------------------------------------- compile notice

def _fit(cache_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "regulab", "fit", "diabetes"],
                          capture_output=True, text=True, timeout=SLOW,
                          env=_env(NUMBA_CACHE_DIR=str(cache_dir), COLUMNS="200"))


def test_first_run_says_it_compiles_once_and_the_second_run_is_silent(tmp_path):
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    first = _fit(cache)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count(COMPILE_NOTICE) == 1, first.stderr
    assert any(cache.rglob("*.nbi")), "the compiled kernels were not cached"
    second = _fit(cache)
    assert second.returncode == 0, second.stderr
    assert COMPILE_NOTICE not in second.stderr
    assert first.stdout == second.stdout  # same fit, whether compiled or loaded


def test_notify_compile_fires_once_per_block_and_only_on_a_compile():
    from numba import njit

    said = []

    @njit
    def add(a, b):
        return a + b

    @njit
    def mul(a, b):
        return a * b

    with jit.notify_compile(lambda: said.append(1)):
        add(1, 2)        # compiles: said once
        mul(1.0, 2.0)    # compiles again: not said again
        add(3, 4)        # already compiled: nothing
    assert said == [1]
    add(1.5, 2.5)        # a compile outside the block: not said
    assert said == [1]
    with jit.notify_compile(lambda: said.append(2)):
        add(5, 6)        # loaded, no compile: nothing
    assert said == [1]


# ------------------------------------------------------------------------------- cache folder

@pytest.fixture
def clean_cache_env(monkeypatch, tmp_path):
    """No NUMBA_CACHE_DIR, the user cache folder under tmp_path; numba's config restored."""
    monkeypatch.delenv(jit.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "user-cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = sys.modules.get("numba.core.config")
    if config is not None:
        monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)
    return tmp_path


def _unwritable(tmp_path: Path) -> Path:
    """A folder nothing can be created in, even as root: its would-be parent is a file."""
    blocker = tmp_path / "site-packages-file"
    blocker.write_text("not a folder")
    return blocker / "regulab" / "solvers"


def test_read_only_install_caches_in_the_user_cache_folder(clean_cache_env):
    folder = jit.configure_cache(_unwritable(clean_cache_env))
    assert folder == jit.user_cache_dir() and folder.is_dir()
    assert os.environ[jit.CACHE_ENV] == str(folder)
    if sys.platform.startswith("linux"):
        assert folder == clean_cache_env / "user-cache" / "regulab" / "numba"


def test_a_writable_install_and_the_users_setting_are_left_alone(clean_cache_env, monkeypatch):
    writable = clean_cache_env / "pkg" / "regulab" / "solvers"
    assert jit.configure_cache(writable) is None and jit.CACHE_ENV not in os.environ
    assert (writable / "__pycache__").is_dir()
    monkeypatch.setenv(jit.CACHE_ENV, str(clean_cache_env / "mine"))
    assert jit.configure_cache(_unwritable(clean_cache_env)) is None
    assert os.environ[jit.CACHE_ENV] == str(clean_cache_env / "mine")


def test_a_read_only_install_still_caches_compiled_code(tmp_path):
    """In a fresh process: a kernel module in a folder that cannot be written, regulab's cache
    setting, then a compile: the machine code lands in the user cache folder and a second
    process loads it instead of compiling."""
    pkg = tmp_path / "ro"
    pkg.mkdir()
    (pkg / "kern.py").write_text("from numba import njit\n\n@njit(cache=True)\n"
                                 "def twice(x):\n    return 2 * x\n")
    script = f"""
        import sys
        from pathlib import Path
        from regulab.solvers import jit
        folder = jit.configure_cache(Path({str(tmp_path / 'file')!r}) / "solvers")
        print("FOLDER", folder)
        sys.path.insert(0, {str(pkg)!r})
        said = []
        with jit.notify_compile(lambda: said.append(1)):
            import kern
            assert kern.twice(21) == 42
        print("COMPILED", bool(said))
    """
    (tmp_path / "file").write_text("a file, so that nothing can be created below it")
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    clean = {k: v for k, v in _env(**env).items() if k != jit.CACHE_ENV}
    runs = [subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                           text=True, timeout=SLOW, env=clean) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
        assert f"FOLDER {tmp_path / 'xdg' / 'regulab' / 'numba'}" in r.stdout
    assert "COMPILED True" in runs[0].stdout and "COMPILED False" in runs[1].stdout
    assert any((tmp_path / "xdg" / "regulab" / "numba").rglob("*.nbi"))


# ------------------------------------------------------------------------------- explain workers

QUICK = ["one-weight", "gradient-table"]


def test_explain_in_workers_writes_what_one_process_writes(tmp_path):
    from regulab.report.claims import ExplainConfig
    from regulab.report.explain import explain

    cfg = ExplainConfig(seed=3)
    explain(tmp_path / "one", only=QUICK, config=cfg, n_jobs=1)
    timings = {}
    explain(tmp_path / "two", only=QUICK, config=cfg, n_jobs=2, timings=timings)
    a = (tmp_path / "one" / "results.json").read_bytes()
    b = (tmp_path / "two" / "results.json").read_bytes()
    assert a == b
    assert [c["id"] for c in json.loads(a)["claims"]] == QUICK
    figs = sorted(p.name for p in (tmp_path / "one" / "figures").iterdir())
    assert figs and figs == sorted(p.name for p in (tmp_path / "two" / "figures").iterdir())
    for name in figs:
        assert (tmp_path / "one" / "figures" / name).read_bytes() == \
            (tmp_path / "two" / "figures" / name).read_bytes(), name
    assert set(timings) == set(QUICK) and all(t > 0 for t in timings.values())


def test_claims_registered_at_run_time_run_here_beside_the_workers(tmp_path, monkeypatch):
    from regulab.report import claims as claims_mod
    from regulab.report.claims.base import Claim
    from regulab.report.explain import explain

    here = []

    def local_run(config):
        here.append(os.getpid())
        raise ArithmeticError("measured here")

    fake = Claim(id="local", title="t", source="s", statement="st", run=local_run,
                 plot=lambda r: {})
    monkeypatch.setitem(claims_mod.REGISTRY, "local", fake)
    steps = []
    results = explain(tmp_path, only=QUICK + ["local"], n_jobs=2,
                      on_step=lambda cid, phase: steps.append((cid, phase)))
    assert [r.id for r in results] == QUICK + ["local"]
    assert here == [os.getpid()] and results[2].outcome == "error"
    assert "measured here" in results[2].error
    assert all(r.outcome != "error" for r in results[:2])
    for cid in QUICK + ["local"]:
        assert (cid, "run") in steps and (cid, "done") in steps
        assert steps.index((cid, "run")) < steps.index((cid, "done"))


def test_run_tasks_can_keep_this_process_blas_threads():
    from regulab.core.execution import pool_threads, run_tasks

    ours = pool_threads()
    pinned = run_tasks(_blas_threads, [0, 1], n_jobs=2, backend="loky")
    kept = run_tasks(_blas_threads, [0, 1], n_jobs=2, backend="loky", one_thread=False)
    assert pinned == [1, 1]
    assert kept == [ours, ours]


def _blas_threads(_task):
    from regulab.core.execution import pool_threads

    return pool_threads()


# ------------------------------------------------------------------------------- folds without sklearn

@pytest.mark.parametrize("seed", range(5))
def test_repeated_kfold_gives_scikit_learns_folds(seed):
    from sklearn.model_selection import RepeatedKFold

    from regulab.selection.cv import repeated_kfold

    draw = np.random.default_rng(seed)
    for _ in range(10):
        n = int(draw.integers(2, 400))
        k = int(draw.integers(2, min(n, 12) + 1))
        repeats = int(draw.integers(1, 4))
        fold_seed = int(draw.integers(0, 2**31 - 1))
        ours = repeated_kfold(n, k, repeats, fold_seed)
        theirs = list(RepeatedKFold(n_splits=k, n_repeats=repeats, random_state=fold_seed)
                      .split(np.zeros((n, 1))))
        assert len(ours) == len(theirs) == k * repeats
        for (tr, te), (tr2, te2) in zip(ours, theirs):
            assert tr.dtype == tr2.dtype and te.dtype == te2.dtype
            assert np.array_equal(tr, tr2) and np.array_equal(te, te2)


def test_a_regression_fit_on_a_csv_does_not_import_scikit_learn(tmp_path):
    draw = np.random.default_rng(0)
    X = draw.standard_normal((60, 4))
    csv = tmp_path / "data.csv"
    rows = ["a,b,c,d,y"] + [",".join(f"{v:.6f}" for v in row) + f",{row[0] - row[2]:.6f}"
                            for row in X]
    csv.write_text("\n".join(rows) + "\n")
    r = _python(f"""
        import sys
        from regulab.cli import main
        try:
            main(["fit", {str(csv)!r}, "--target", "y", "--json"])
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
        print("SKLEARN", "sklearn" in sys.modules)
    """, timeout=SLOW)
    assert r.returncode == 0, r.stderr
    assert "SKLEARN False" in r.stdout
