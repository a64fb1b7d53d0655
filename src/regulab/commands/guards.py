"""Output-path guards: no file a command writes (``--save``, ``--out``) may replace an input."""

from __future__ import annotations

import os
from pathlib import Path

from regulab.data.errors import DataError


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (also through links); False when unsure."""
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
        return Path(a).exists() and Path(b).exists() and os.path.samefile(a, b)
    except OSError:
        return False


def guard_outputs(inputs, outputs, flag: str, what: str = "the input file") -> None:
    """Refuse (DataError) any output path that is one of the input files."""
    for out in outputs:
        for inp in inputs:
            if inp is not None and out is not None and same_file(out, inp):
                raise DataError(f"{out}: {flag} would overwrite {what} {str(inp)!r}; "
                                f"choose another path")


def guard_out_dir(inputs, out_dir, files) -> None:
    """``--out DIR``: DIR itself and every file written in it must not be an input file."""
    if out_dir is None:
        return
    out_dir = Path(out_dir)
    for inp in inputs:
        if inp is not None and same_file(out_dir, inp):
            raise DataError(f"{out_dir}: --out names the input file {str(inp)!r}; --out is a "
                            f"folder for the report")
    guard_outputs(inputs, [out_dir / f for f in files], "--out")
