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


#: in a fresh process: record every function numba compiles (name, argument types), then run
#: the CLI; the list is written to the file named by the first argument
RECORD = """
import json, sys
from numba.core import event

seen = []

class Record(event.Listener):
    def on_start(self, ev):
        d = ev.data["dispatcher"]
        seen.append([d.py_func.__module__ + "." + d.py_func.__qualname__, str(ev.data["args"])])

    def on_end(self, ev):
        pass

event.register("numba:compile", Record())
from regulab.cli import main
try:
    main(sys.argv[2:])
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
finally:
    with open(sys.argv[1], "w") as f:
        json.dump(seen, f)
"""


def _fit_recording(cache_dir: Path, record: Path) -> tuple[subprocess.CompletedProcess, list]:
    # everything compiled in this one process (no compile-ahead helper: tests/test_compile_ahead)
    r = subprocess.run([sys.executable, "-c", RECORD, str(record), "fit", "diabetes"],
                       capture_output=True, text=True, timeout=SLOW,
                       env=_env(NUMBA_CACHE_DIR=str(cache_dir), COLUMNS="200",
                                REGULAB_COMPILE_AHEAD="0"))
    return r, json.loads(record.read_text()) if record.exists() else []


def test_first_run_says_it_compiles_once_and_the_second_run_is_silent(tmp_path):
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    first, compiled = _fit_recording(cache, tmp_path / "first.json")
    assert first.returncode == 0, first.stderr
    assert first.stderr.count(COMPILE_NOTICE) == 1, first.stderr
    assert any(cache.rglob("*.nbi")), "the compiled kernels were not cached"
    # only what a dense float64 squared-loss path needs: one specialization per kernel, no
    # residual re-certification at the default tol, no error-message formatting (an array
    # slice copy in a kernel compiles numba's shape-error f-string, seconds of string code)
    names = [name for name, _ in compiled]
    ours = [name for name in names if name.startswith("regulab.")]
    assert "regulab.solvers._path_kernels.gram_path" in ours, ours
    assert len(ours) == len(set(ours)), [n for n in ours if ours.count(n) > 1]
    assert "regulab.solvers._cd_kernels._residual_gap" not in ours
    assert not any("raise_with_shape_context" in n or ".unicode." in n for n in names), names
    assert not any("float32" in args for _, args in compiled)
    second, recompiled = _fit_recording(cache, tmp_path / "second.json")
    assert second.returncode == 0, second.stderr
    assert COMPILE_NOTICE not in second.stderr
    assert recompiled == []
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


def test_the_cache_goes_to_a_fingerprinted_folder_in_the_user_cache_folder(clean_cache_env):
    kernels = clean_cache_env / "pkg" / "regulab" / "solvers"
    kernels.mkdir(parents=True)
    (kernels / "_k.py").write_text("x = 1\n")
    folder = jit.configure_cache(kernels)
    assert folder == jit.user_cache_dir() / (jit.PREFIX + jit.kernel_fingerprint(kernels))
    assert folder.is_dir() and os.environ[jit.CACHE_ENV] == str(folder)
    if sys.platform.startswith("linux"):
        assert folder.parent == clean_cache_env / "user-cache" / "regulab" / "numba"
    # a worker process inherits the variable: the same folder, not a subfolder of it
    assert jit.configure_cache(kernels) == folder
    # a kernel source edited: another folder beside it
    (kernels / "_k.py").write_text("x = 2\n")
    moved = jit.configure_cache(kernels)
    assert moved != folder and moved.parent == folder.parent


def test_the_users_setting_is_the_base_and_an_unwritable_user_cache_falls_back(
        clean_cache_env, monkeypatch):
    kernels = clean_cache_env / "pkg" / "regulab" / "solvers"
    mine = clean_cache_env / "mine"
    monkeypatch.setenv(jit.CACHE_ENV, str(mine))
    folder = jit.configure_cache(kernels)
    assert folder.parent == mine and folder.name.startswith(jit.PREFIX)
    assert os.environ[jit.CACHE_ENV] == str(folder)
    # no setting and a user cache folder that cannot be written: the kernels' __pycache__
    monkeypatch.delenv(jit.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(_unwritable(clean_cache_env)))
    monkeypatch.setenv("HOME", str(_unwritable(clean_cache_env)))
    monkeypatch.setenv("LOCALAPPDATA", str(_unwritable(clean_cache_env)))
    assert jit.configure_cache(kernels).parent == kernels / "__pycache__"
    # nowhere to write: numba's defaults are left alone
    monkeypatch.delenv(jit.CACHE_ENV)
    assert jit.configure_cache(_unwritable(clean_cache_env)) is None
    assert jit.CACHE_ENV not in os.environ


def test_the_fingerprint_follows_every_kernel_source_and_nothing_else(tmp_path):
    (tmp_path / "_a.py").write_text("a = 1\n")
    (tmp_path / "_b.py").write_text("b = 1\n")
    (tmp_path / "other.py").write_text("c = 1\n")
    base = jit.kernel_fingerprint(tmp_path)
    assert len(base) == 16 and base == jit.kernel_fingerprint(tmp_path)
    (tmp_path / "other.py").write_text("c = 2\n")
    assert jit.kernel_fingerprint(tmp_path) == base
    seen = {base}
    for name, text in [("_a.py", "a = 2\n"), ("_b.py", "b = 2\n"), ("_c.py", "")]:
        (tmp_path / name).write_text(text)
        fp = jit.kernel_fingerprint(tmp_path)
        assert fp not in seen, name
        seen.add(fp)


def test_every_numba_function_of_regulab_is_in_a_fingerprinted_kernel_module():
    import re

    pkg = SRC / "regulab"
    imports = re.compile(r"^\s*(from numba\b|import numba\b)", re.M)
    users = sorted(p for p in pkg.rglob("*.py") if imports.search(p.read_text())
                   and p != pkg / "solvers" / "jit.py")
    assert users, "no kernel module found"
    kernels = set(jit.KERNEL_DIR.glob(jit.KERNEL_GLOB))
    assert all(p.resolve() in kernels for p in users), [p for p in users
                                                         if p.resolve() not in kernels]


def test_no_kernel_copies_an_array_by_slice_assignment():
    """``a[:] = b`` in a kernel makes numba compile a shape-mismatch message (f-strings over
    integers, about 8 s of compile per site); kernels copy with a loop. ``a[:] = 0.0`` is fine."""
    import ast

    found = []
    for path in sorted(jit.KERNEL_DIR.glob(jit.KERNEL_GLOB)):
        kernels = [f for f in ast.parse(path.read_text()).body if isinstance(f, ast.FunctionDef)
                   and any("njit" in ast.unparse(d) for d in f.decorator_list)]
        assert kernels or path.name == "__init__.py", f"no kernel in {path.name}"
        for node in (n for f in kernels for n in ast.walk(f)):
            if isinstance(node, ast.Assign) and not isinstance(
                    node.value, (ast.Constant, ast.UnaryOp)):
                for target in node.targets:
                    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Slice):
                        found.append(f"{path.name}:{node.lineno}")
    assert found == []


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
        print("FOLDER", folder.parent)
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


#: two kernel modules, the second compiling the first's function into its own machine code
INNER = "from numba import njit\n\n@njit(cache=True)\ndef inner():\n    return {}\n"
OUTER = ("from numba import njit\nfrom _rl_inner import inner\n\n@njit(cache=True)\n"
         "def outer():\n    return inner()\n")


@pytest.mark.parametrize("fingerprinted", [True, False])
def test_editing_a_called_kernel_file_recompiles_its_callers(tmp_path, fingerprinted):
    """numba's cache checks only each function's own file: after ``_rl_inner.py`` is edited,
    ``outer`` (in an unchanged file) would load its stale machine code. With the fingerprinted
    folder of :func:`jit.configure_cache` it is compiled afresh (the unfingerprinted run shows
    that the scenario does go stale without it)."""
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    (kernels / "_rl_outer.py").write_text(OUTER)
    script = f"""
        import os, sys
        from pathlib import Path
        from regulab.solvers import jit
        if {fingerprinted!r}:
            jit.configure_cache(Path({str(kernels)!r}))
        else:
            os.environ[jit.CACHE_ENV] = {str(tmp_path / 'plain')!r}
        sys.path.insert(0, {str(kernels)!r})
        import _rl_outer
        print("VALUE", _rl_outer.outer())
    """
    clean = {k: v for k, v in _env(XDG_CACHE_HOME=str(tmp_path / "xdg")).items()
             if k != jit.CACHE_ENV}
    values = []
    for value in (1, 2):
        (kernels / "_rl_inner.py").write_text(INNER.format(value))
        r = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                           text=True, timeout=SLOW, env=clean)
        assert r.returncode == 0, r.stderr
        values.append(r.stdout.split("VALUE")[-1].strip())
    assert values == (["1", "2"] if fingerprinted else ["1", "1"])


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


def test_a_claim_goes_in_parts_only_where_that_ends_the_run_sooner():
    from regulab.report.claims import REGISTRY
    from regulab.report.claims.base import Claim
    from regulab.report.explain import _finish_time, _worth_splitting

    # longest first, each to the worker free first: 3|3, 5|5, 7|5 (not the best split, 6|6)
    assert _finish_time([2, 3, 2, 3, 2], 2) == 7.0
    assert _finish_time([4.0], 3) == 4.0 and _finish_time([], 2) == 0.0

    def claim(cid, cost, parts=None):
        return Claim(id=cid, title="t", source="s", statement="st", run=None, plot=None,
                     cost_s=cost, parts=parts or {})

    big = claim("big", 9.0, {"a": 5.0, "b": 5.0})  # parts cost 1 more in all (their imports)
    for other, workers, split in [(8.0, 2, False), (2.0, 2, True), (8.0, 3, True),
                                  (8.0, 1, False)]:
        jobs = [(big, 0), (claim("other", other), 0)]
        assert _worth_splitting(jobs, workers) == ({"big"} if split else set()), (other, workers)
    # the registry's costs: on the 2-core reference machine neural-net's second import of
    # torch would cost more than the balance gains; with 4 workers its parts end sooner
    every = [(c, 0) for c in REGISTRY.values()]
    assert _worth_splitting(every, 2) == set()
    assert _worth_splitting(every, 4) == {"neural-net"}
    assert _worth_splitting([(REGISTRY["neural-net"], 0)], 2) == {"neural-net"}


def test_run_tasks_can_keep_this_process_blas_threads():
    from regulab.core.execution import pool_threads, run_tasks

    ours = pool_threads()
    pinned = run_tasks(_blas_threads, [0, 1], n_jobs=2, backend="loky")
    kept = run_tasks(_blas_threads, [0, 1], n_jobs=2, backend="loky", one_thread=False)
    assert pinned == [1, 1]
    assert kept == [ours, ours]


def test_forkserver_workers_keep_this_process_blas_threads():
    from regulab.core.execution import pool_threads, run_tasks

    ours = pool_threads()
    pinned = run_tasks(_blas_threads_pid, [0, 1, 2], n_jobs=2, backend="forkserver")
    kept = run_tasks(_blas_threads_pid, [0, 1, 2], n_jobs=2, backend="forkserver",
                     one_thread=False)
    assert [t for t, _ in pinned] == [1, 1, 1] and [t for t, _ in kept] == [ours] * 3
    assert os.getpid() not in {pid for _, pid in pinned + kept}  # other processes ran them


FORKED = """
import os, sys
from regulab.core.execution import run_tasks, start_forkserver

assert start_forkserver([{preload!r}])
import helper  # this folder, on sys.path of the server and its workers

out = run_tasks(helper.seen, [{preload!r}, "zipapp", "pid"], n_jobs=2, backend="forkserver",
                one_thread=False)
print("RESULT", out, os.getpid())
"""
HELPER = """
import os, sys

def seen(name):
    # at the task's start: was the module imported already (by the server, before the fork)?
    if name == "pid":
        return os.getpid()
    return name in sys.modules
"""


def test_forkserver_workers_start_with_the_preloaded_modules(tmp_path):
    # in a fresh process: the server is started once per process, with its first preload list
    (tmp_path / "helper.py").write_text(HELPER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path))
    r = subprocess.run([sys.executable, "-c", FORKED.format(preload="wave")],
                       capture_output=True, text=True, timeout=SLOW, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got = r.stdout.split("RESULT", 1)[1].split()
    # the preloaded module is there before the task, a module nobody imported is not
    assert got[0] == "[True," and got[1] == "False,"
    assert got[2].rstrip("]") != got[3]  # the task ran in another process


def test_forkserver_workers_stop_at_once_when_a_task_fails(tmp_path):
    # as with loky: a failed task (or Ctrl-C, or a caller that stops) ends the run now, not
    # after the tasks still running in the other workers
    import time

    import psutil

    from regulab.core.execution import run_tasks

    pid_file = tmp_path / "sleeper.pid"
    t0 = time.monotonic()
    with pytest.raises(ArithmeticError, match="task failed"):
        run_tasks(_fail_or_sleep, [("fail", str(pid_file)), ("sleep", str(pid_file))],
                  n_jobs=2, backend="forkserver")
    assert time.monotonic() - t0 < 0.5 * SLEEPER_S  # not after the sleeping task's end
    sleeper = int(pid_file.read_text())
    deadline = time.monotonic() + 60
    while psutil.pid_exists(sleeper) and psutil.Process(sleeper).status() != "zombie" \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not psutil.pid_exists(sleeper) or psutil.Process(sleeper).status() == "zombie"


SLEEPER_S = 600


def _fail_or_sleep(task):
    import time

    kind, pid_file = task
    if kind == "sleep":
        Path(pid_file).write_text(str(os.getpid()))
        time.sleep(SLEEPER_S)
        return "slept"
    deadline = time.monotonic() + 120  # fail once the other task is surely running
    while not Path(pid_file).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    raise ArithmeticError("task failed")


def _blas_threads_pid(_task):
    return _blas_threads(_task), os.getpid()


def _blas_threads(_task):
    from regulab.core.execution import pool_threads

    return pool_threads()


@pytest.mark.parametrize("only, seeds, started", [
    (None, None, True), (["one-weight", "geometry"], None, True), (["one-weight"], "0-2", True),
    (["one-weight"], None, False)])
def test_explain_starts_the_workers_server_only_where_claims_run_in_workers(
        monkeypatch, only, seeds, started):
    from regulab import cli
    from regulab.core import execution

    calls = []
    monkeypatch.setattr(execution, "start_forkserver", lambda preload=(): calls.append(preload))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    cli._start_claim_workers(only, seeds)
    assert calls == ([list(cli.CLAIM_WORKER_PRELOAD)] if started else [])
    assert "regulab.report.explain" in cli.CLAIM_WORKER_PRELOAD
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # one core: everything runs in this process
    cli._start_claim_workers(only, seeds)
    assert len(calls) == int(started)


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


#: what a dense squared-loss ``regulab fit`` (no ``--jobs``) has no use for: scikit-learn,
#: scipy.sparse (no sparse X), scipy.special (no logistic link), joblib (the CV runs here)
NOT_FOR_A_DENSE_FIT = ("sklearn", "scipy.sparse", "scipy.special", "joblib")


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
        print("LOADED", [m for m in {NOT_FOR_A_DENSE_FIT!r} if m in sys.modules])
    """, timeout=SLOW)
    assert r.returncode == 0, r.stderr
    assert "LOADED []" in r.stdout, r.stdout[-500:]
    assert json.loads(r.stdout[:r.stdout.rindex("LOADED")])["n_kept"] >= 2


# ------------------------------------------------------------------------------- small-X checks

@pytest.mark.parametrize("seed", range(5))
def test_a_small_dense_x_is_checked_by_numpy_as_the_kernel_would(seed):
    from regulab.solvers import _design_kernels as K
    from regulab.solvers import design

    draw = np.random.default_rng(seed)
    for _ in range(20):
        n, p = int(draw.integers(1, 60)), int(draw.integers(1, 30))
        X = draw.standard_normal((n, p)).astype(draw.choice([np.float32, np.float64]))
        for _ in range(int(draw.integers(0, 4))):
            X[draw.integers(n), draw.integers(p)] = draw.choice([np.nan, np.inf, -np.inf])
        assert X.size <= design._NUMPY_CHECK
        Xf = np.asfortranarray(X)
        want = K.first_nonfinite(Xf.ravel(order="F"), design._INT_DUMMY, design._INT_DUMMY, n,
                                 p, False)
        if want < 0:
            assert design._build(X).p == p
        else:
            with pytest.raises(ValueError, match=f"NaN or infinite value in column {want}$"):
                design._build(X)
