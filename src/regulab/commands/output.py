"""What the user-data commands print: the two consoles, progress bars on standard error, numbers
as the tables show them, and the ``--json`` document."""

from __future__ import annotations

import contextlib
import json
import math
import sys

import numpy as np
from rich.console import Console

from regulab.commands import console as _consoles

# ----------------------------------------------------------------------------- consoles


def console() -> Console:
    """The standard-output console of every command (and of :mod:`regulab.cli`)."""
    return _consoles.console


def err_console() -> Console:
    """The standard-error console: progress bars, warnings and errors."""
    return _consoles.err_console


def print_table(con: Console, title: str, columns, rows, left=(0,)) -> None:
    """Print a table titled ``title`` (left-aligned): ``columns``, then ``rows`` of formatted
    cells; the columns at the indices in ``left`` are left-justified, the others right, long
    cells folded."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i in left else "right", overflow="fold")
    for row in rows:
        table.add_row(*row)
    con.print(table)


# ----------------------------------------------------------------------------- numbers

def fmt(value, digits: int = 4) -> str:
    """A number as printed in the tables (``digits`` significant digits); '-' for None/NaN."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    v = float(value)
    if not math.isfinite(v):
        return "-"
    if v == 0.0:
        return "0"
    return f"{v:.{digits}g}"


def pm(mean, se) -> str:
    """``mean ± se``, both as :func:`fmt` prints them."""
    return f"{fmt(mean)} ± {fmt(se)}"


def emit_json(doc: dict) -> None:
    """Print one JSON document on standard output (NaN/inf as null)."""
    from regulab.core.io import jsonable

    sys.stdout.write(json.dumps(jsonable(doc), indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


# ----------------------------------------------------------------------------- progress

class Bars:
    """Rich progress bars on standard error, shown only on a terminal (never in pipes or
    captured output), removed when done."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and err_console().is_terminal
        self.progress = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn(),
                                     console=err_console(), transient=True)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False

    def callback(self, description: str, total: int):
        """A callback ``f(k)`` that advances a new bar of ``total`` steps (None without bars)."""
        if self.progress is None:
            return None
        task = self.progress.add_task(description, total=total)
        return lambda k: self.progress.advance(task)


# ----------------------------------------------------------------------------- first run

#: said once, on standard error, when a command has to compile the solver kernels (the first
#: run after an install; the seconds are measured in docs/benchmarks.md: about 3 s with the
#: compile-ahead helper on two idle cores, 6 s in one process)
COMPILE_NOTICE = "compiling the solver kernels once (about 3-6 s; later runs load them) ..."


@contextlib.contextmanager
def compile_notice():
    """Within the block, say :data:`COMPILE_NOTICE` once on standard error if the kernels
    compile (nothing when every kernel loads from its cache). On the first run after an
    install a helper process compiles the longest kernel meanwhile
    (:mod:`regulab.solvers.ahead`): the notice is said when it starts."""
    from regulab.solvers import ahead
    from regulab.solvers.jit import notify_compile

    said = []

    def say():
        if not said:
            said.append(True)
            err_console().print(f"[dim]{COMPILE_NOTICE}[/]", highlight=False, soft_wrap=True)

    with ahead.ahead(on_start=say), notify_compile(say):
        yield
