"""The compile-ahead helper of a first run (:mod:`regulab.solvers.ahead`): it compiles the path
kernel for the types of the command's own call, the command then loads it instead of compiling
it, with the same results; it starts only on an empty cache, and whatever happens to it (it
fails, the command fails, a second command runs at once) the command's output and exit code are
those of a run without it. No timing is asserted (benchmarks/bench_startup.py measures).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from regulab.commands.output import COMPILE_NOTICE
from regulab.solvers import ahead, jit

SRC = Path(__file__).resolve().parents[1] / "src"
#: a subprocess that compiles kernels on a loaded machine can take minutes
SLOW = 1800
#: the path kernel and the kernels it calls
CHAIN = ("regulab.solvers._path_kernels.gram_path", "regulab.solvers._cd_kernels.cd_squared_gram",
         "regulab.solvers._cd_kernels.anderson_weights", "regulab.solvers._cd_kernels._gram_gap")
#: compiled by the command itself at once when a helper starts (ahead.compile_here)
HERE = "regulab.solvers._cd_kernels.anderson_weights"

#: in a fresh process: record every function numba compiles here, whether a helper started and
#: how it ended; argv: the record file, the helper's command line as JSON ("" = the real one),
#: then the CLI arguments
RECORD = """
import json, sys
from numba.core import event
import regulab.solvers.ahead as A

seen, helpers = [], []

class Record(event.Listener):
    def on_start(self, ev):
        d = ev.data["dispatcher"]
        seen.append(d.py_func.__module__ + "." + d.py_func.__qualname__)

    def on_end(self, ev):
        pass

event.register("numba:compile", Record())
if sys.argv[2]:
    A.HELPER = json.loads(sys.argv[2])
Popen = A.subprocess.Popen

def recorded(*args, **kwargs):
    helpers.append(Popen(*args, **kwargs))
    return helpers[-1]

A.subprocess.Popen = recorded
from regulab.cli import main
code = 0
try:
    main(sys.argv[3:])
except SystemExit as exc:
    code = exc.code or 0
finally:
    with open(sys.argv[1], "w") as f:
        json.dump({"compiled": seen, "code": code,
                   "helpers": [[h.args, h.returncode] for h in helpers]}, f)
sys.exit(code)
"""


def _env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env[ahead.SWITCH] = "1"  # a helper whatever the machine's load (tested apart below)
    env.update(extra)
    return env


def _run(cache: Path, record: Path, args: list[str], helper=None, **env):
    r = subprocess.run([sys.executable, "-c", RECORD, str(record),
                        json.dumps(helper) if helper else "", *args],
                       capture_output=True, text=True, timeout=SLOW,
                       env=_env(NUMBA_CACHE_DIR=str(cache), COLUMNS="200", **env))
    return r, json.loads(record.read_text())


FIT = ["fit", "diabetes"]


@pytest.fixture(scope="module")
def first_runs(tmp_path_factory):
    """Two first runs of `regulab fit diabetes` (with the helper, and without it), then a warm
    run on the helper's cache."""
    tmp = tmp_path_factory.mktemp("ahead")
    runs = {"ahead": _run(tmp / "a", tmp / "a.json", FIT),
            "alone": _run(tmp / "b", tmp / "b.json", FIT, **{ahead.SWITCH: "0"})}
    runs["warm"] = _run(tmp / "a", tmp / "w.json", FIT)
    runs["caches"] = (tmp / "a", tmp / "b")
    return runs


def test_the_helper_compiles_the_path_kernel_and_the_command_loads_it(first_runs):
    r, rec = first_runs["ahead"]
    assert r.returncode == 0, r.stderr
    assert len(rec["helpers"]) == 1 and rec["helpers"][0][1] == 0  # ran to its end, reaped
    assert not (set(CHAIN) - {HERE}) & set(rec["compiled"]), rec["compiled"]
    assert rec["compiled"].count(HERE) == 1
    assert "regulab.solvers._design_kernels.column_stats_dense" in rec["compiled"]
    assert r.stderr.count(COMPILE_NOTICE) == 1, r.stderr
    alone, rec_alone = first_runs["alone"]
    assert alone.returncode == 0 and rec_alone["helpers"] == [], alone.stderr
    assert set(CHAIN) <= set(rec_alone["compiled"])
    assert alone.stderr.count(COMPILE_NOTICE) == 1
    assert r.stdout == alone.stdout


def test_a_warm_cache_starts_no_helper_and_compiles_nothing(first_runs):
    r, rec = first_runs["warm"]
    assert r.returncode == 0, r.stderr
    assert rec["helpers"] == [] and rec["compiled"] == []
    assert COMPILE_NOTICE not in r.stderr
    assert r.stdout == first_runs["ahead"][0].stdout


def _instructions(nbc: Path) -> str:
    """The disassembled machine code of a cached numba function, symbol names left out (they
    carry numba's per-process counters)."""
    import pickle

    obj = pickle.loads(nbc.read_bytes())[0][2][0]  # (name, 'object', (object code, bitcode))
    path = nbc.with_suffix(".o")
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"regulab-{os.getpid()}-{path.name}"
    tmp.write_bytes(obj)
    try:
        out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(tmp)],
                             capture_output=True, text=True, check=True).stdout
    finally:
        tmp.unlink()
    return "\n".join(re.sub(r"<[^>]*>", "<>", line) for line in out.splitlines()[2:])


@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs binutils' objdump")
def test_the_helpers_machine_code_is_the_commands_own(first_runs):
    ahead_cache, alone_cache = first_runs["caches"]
    for name in ("_path_kernels.gram_path", "_cd_kernels.cd_squared_gram",
                 "_cd_kernels.anderson_weights"):
        (a,), (b,) = (list(c.rglob(f"{name}-*.nbc")) for c in (ahead_cache, alone_cache))
        code = _instructions(a)
        assert code.count("\n") > 100 and code == _instructions(b), name


def test_a_failing_helper_changes_nothing(tmp_path, first_runs):
    r, rec = _run(tmp_path / "c", tmp_path / "r.json", FIT, helper=["-c", "raise SystemExit(3)"])
    assert r.returncode == 0, r.stderr
    assert rec["helpers"][0][1] == 3
    assert set(CHAIN) <= set(rec["compiled"])  # the command compiled it itself
    assert r.stdout == first_runs["alone"][0].stdout


def test_a_failed_command_stops_its_helper(tmp_path):
    bad = FIT + ["--target", "no-such-column"]
    r, rec = _run(tmp_path / "c", tmp_path / "r.json", bad,
                  helper=["-c", "import time; time.sleep(600)"])
    alone, _ = _run(tmp_path / "d", tmp_path / "s.json", bad, **{ahead.SWITCH: "0"})
    assert r.returncode == alone.returncode != 0
    assert r.stdout == alone.stdout and r.stderr.strip().splitlines()[-1:] == \
        alone.stderr.strip().splitlines()[-1:]
    (args, code), = rec["helpers"]
    assert code is not None and code < 0  # terminated and reaped, not left behind


@pytest.mark.parametrize("args", [FIT + ["--no-such-option"], FIT + ["--help"]])
def test_a_refused_command_line_or_a_help_leaves_no_helper(tmp_path, args):
    """The helper starts as soon as the command is known, before typer parses the line: a line
    typer refuses stops it (terminated and reaped); a command's help starts none."""
    r, rec = _run(tmp_path / "c", tmp_path / "r.json", args,
                  helper=["-c", "import time; time.sleep(600)"])
    alone, _ = _run(tmp_path / "d", tmp_path / "s.json", args, **{ahead.SWITCH: "0"})
    assert r.returncode == alone.returncode and r.stdout == alone.stdout
    if "--help" in args:
        assert r.returncode == 0 and rec["helpers"] == []
    else:
        assert r.returncode == 2
        (_, code), = rec["helpers"]
        assert code is not None and code < 0  # terminated and reaped, not left behind


def test_two_first_runs_at_once_share_the_cache(tmp_path, first_runs):
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "shared"), COLUMNS="200")  # both with a helper
    procs = [subprocess.Popen([sys.executable, "-m", "regulab", *FIT], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=SLOW) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out == first_runs["alone"][0].stdout


@pytest.mark.parametrize("seed", range(5))
def test_the_helper_compiles_for_the_types_of_the_real_call(seed, monkeypatch):
    """The arguments the helper compiles for have the numba types of the call made by
    ``exact.gram_path.gram_path`` at the default tol, for any dense X (order, dtype, size),
    weights or none, with or without an intercept."""
    from numba import typeof

    from regulab.solvers import _path_kernels as PK
    from regulab.solvers.exact.gram_path import gram_path

    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(3, 60)), int(rng.integers(1, 40))
    X = rng.standard_normal((n, p))
    X = [X, np.asfortranarray(X), np.round(3 * X).astype(np.int64)][seed % 3]
    y = rng.standard_normal(n)
    weights = rng.uniform(0.5, 2.0, n) if seed % 2 else None
    calls = []
    monkeypatch.setattr(PK, "gram_path", lambda *args: calls.append(args))
    gram_path(X, y, np.geomspace(1.0, 0.01, 5), float(rng.uniform(0.1, 1.0)),
              sample_weight=weights, fit_intercept=bool(seed % 4 != 3))
    (args,) = calls
    assert tuple(map(typeof, args)) == tuple(map(typeof, ahead.gram_path_arguments()))


def test_a_helper_starts_only_on_an_empty_own_cache_with_two_cores(tmp_path, monkeypatch):
    own = tmp_path / (jit.PREFIX + "0123456789abcdef")
    own.mkdir()
    monkeypatch.setattr(ahead, "usable_cores", lambda: 2)
    monkeypatch.setattr(ahead, "core_free", lambda: True)
    monkeypatch.delenv(ahead.SWITCH, raising=False)
    monkeypatch.setenv(jit.CACHE_ENV, str(own))
    assert ahead.should_start()
    monkeypatch.setenv(ahead.SWITCH, "0")
    assert not ahead.should_start()
    monkeypatch.delenv(ahead.SWITCH)
    monkeypatch.setattr(ahead, "core_free", lambda: False)  # every core busy
    assert not ahead.should_start()
    monkeypatch.setenv(ahead.SWITCH, "1")  # ... unless asked for
    assert ahead.should_start()
    monkeypatch.delenv(ahead.SWITCH)
    monkeypatch.setattr(ahead, "core_free", lambda: True)
    monkeypatch.setattr(ahead, "usable_cores", lambda: 1)
    assert not ahead.should_start()
    monkeypatch.setattr(ahead, "usable_cores", lambda: 2)
    # numba's own folder (regulab could write none: a read-only install) or the user's
    monkeypatch.setenv(jit.CACHE_ENV, str(tmp_path))
    assert not ahead.should_start()
    monkeypatch.delenv(jit.CACHE_ENV)
    assert not ahead.should_start()
    monkeypatch.setenv(jit.CACHE_ENV, str(own))
    kernels = own / "solvers_x"
    kernels.mkdir()
    # what a first command that failed before reading its data leaves: still a first run
    (kernels / "_cd_kernels.anderson_weights-99.py311.nbi").write_bytes(b"")
    (kernels / "_cd_kernels._dual_terms-60.py311.nbi").write_bytes(b"")
    assert ahead.should_start()
    for done in ("_design_kernels.column_stats_sparse-152.py311.nbi",  # another route ran
                 "_path_kernels.gram_path-47.py311.nbi"):  # a helper finished
        (kernels / done).write_bytes(b"")
        assert not ahead.should_start()
        (kernels / done).unlink()


def test_a_core_is_free_below_one_runnable_process_per_core(monkeypatch):
    monkeypatch.setattr(ahead, "usable_cores", lambda: 2)
    for load, free in ((0.3, True), (1.9, True), (2.0, False), (7.5, False)):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert ahead.core_free() is free


def test_wait_for_returns_at_once_without_a_helper_and_reaps_one():
    ahead.wait_for("gram_path")  # nothing pending: no wait, no error
    helper = subprocess.Popen([sys.executable, "-c", "pass"])
    ahead._pending["gram_path"] = helper
    ahead.wait_for("gram_path")
    assert helper.returncode == 0 and "gram_path" not in ahead._pending


def test_the_anderson_solve_compiled_here_is_the_one_the_helper_loads(tmp_path):
    """In a fresh process on an empty cache: :func:`ahead.compile_here`, then the helper's own
    compile; the path kernel's callee is typed with the signature compiled here, so it is not
    compiled again (a second process would load it from the cache)."""
    script = """
        from numba.core import event
        from regulab.solvers import ahead
        seen = []

        class Record(event.Listener):
            def on_start(self, ev):
                seen.append(ev.data["dispatcher"].py_func.__qualname__)

            def on_end(self, ev):
                pass

        event.register("numba:compile", Record())
        ahead.compile_here()
        ahead.compile_kernels()
        print("COMPILED", seen.count("anderson_weights"), seen.count("cd_squared_gram"))
    """
    import textwrap

    r = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                       text=True, timeout=SLOW, env=_env(NUMBA_CACHE_DIR=str(tmp_path / "c")))
    assert r.returncode == 0, r.stderr
    assert "COMPILED 1 1" in r.stdout, r.stdout
