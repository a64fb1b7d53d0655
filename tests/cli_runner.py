"""Running the ``regulab`` command line inside a test: one definition for every CLI test file
(``from cli_runner import run_cli``; pytest puts ``tests/`` on the import path)."""

from __future__ import annotations

import pytest


def run_cli(args, capsys):
    """``(exit code, stdout, stderr)`` of ``regulab ARGS`` run in this process; ``args`` may
    hold paths and numbers (each passed as ``str``)."""
    from regulab.cli import main

    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err
