"""The floor plan: the layer contract of pyproject.toml holds (no upward import, no import loop,
no private module used from outside its package), and the old flat import paths still work."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("importlinter", reason="import-linter is in the dev extra")


def _lint(cwd: Path, env=None) -> subprocess.CompletedProcess:
    """``lint-imports`` on the package that ``regulab`` resolves to (PYTHONPATH first)."""
    exe = Path(sys.executable).parent / "lint-imports"
    exe = str(exe) if exe.exists() else shutil.which("lint-imports")
    return subprocess.run([exe, "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


def test_import_contract_is_kept():
    res = _lint(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


@pytest.mark.parametrize("importer, imported", [
    ("core/trace.py", "regulab.cli"),                       # upward across layers
    ("data/datasets.py", "regulab.data.reading"),           # a loop inside the data package
    ("report/plots/style.py", "regulab.report.claims"),     # upward inside the report layer
    ("selection/cv.py", "regulab.data.prepare"),            # siblings must stay independent
])
def test_import_contract_catches_a_violation(tmp_path, importer, imported):
    """The contract can fail: a copy of the package with one bad import breaks it."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "regulab", src / "regulab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(src / "regulab" / importer, "a") as fh:
        fh.write(f"\nimport {imported}  # noqa\n")
    res = _lint(tmp_path, env={"PYTHONPATH": str(src), "PATH": ""})
    assert res.returncode != 0, res.stdout
    assert "BROKEN" in res.stdout


OLD_PATHS = ["losses", "penalties", "certificates", "onedim", "conventions", "execution", "memory",
             "path", "cv", "stability", "calibration", "recommend", "datasets", "prepare",
             "model_io", "claims", "explain"]


@pytest.mark.parametrize("old", OLD_PATHS)
def test_old_import_paths_are_the_same_modules(old):
    from regulab._aliases import OLD_TO_NEW

    mod = importlib.import_module(f"regulab.{old}")
    assert mod is importlib.import_module(OLD_TO_NEW[f"regulab.{old}"])
    assert mod.__spec__.name == OLD_TO_NEW[f"regulab.{old}"]


def test_readme_api_still_imports():
    from regulab.certificates import duality_gap_squared
    from regulab.claims.base import ClaimResult

    from regulab import L1, L2  # noqa: F401
    from regulab.core.certificates import duality_gap_squared as gap2
    from regulab.report.claims.base import ClaimResult as CR2
    from regulab.solvers import ista, subgradient_descent  # noqa: F401
    from regulab.solvers.exact import solve  # noqa: F401

    assert duality_gap_squared is gap2 and ClaimResult is CR2
