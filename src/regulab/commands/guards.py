"""Output-path guards, run before any data is read: no file a command writes (``--save``,
``--out``) may replace an input, and every one can be written (so that a long fit never ends
on an unwritable path)."""

from __future__ import annotations

import os
from pathlib import Path

from regulab.data.errors import DataError


class OutputPathError(OSError):
    """An output path that cannot be written (exit status 1, like any failed write): one line
    naming the path as the user typed it."""


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


def _writable_folder(folder: Path, shown: str, flag: str) -> None:
    """:class:`OutputPathError` naming ``shown`` (the path as typed) unless ``folder`` is a
    writable folder."""
    why = None
    if not folder.exists():
        why = f"the folder {str(folder)!r} does not exist"
    elif not folder.is_dir():
        why = f"{str(folder)!r} is not a folder"
    elif not os.access(folder, os.W_OK | os.X_OK):
        why = f"permission denied in the folder {str(folder)!r}"
    if why:
        raise OutputPathError(f"cannot write {flag} {shown}: {why}")


def check_output_file(path, flag: str, inputs=(), what: str = "the input file") -> None:
    """Before any work: ``path`` (``--save``, predict's ``--out``) can be written as a file, in
    an existing writable folder (:class:`OutputPathError` otherwise), and is neither a folder nor
    one of ``inputs`` (DataError); both name the path as the user typed it."""
    if path is None:
        return
    path = Path(path)
    guard_outputs(inputs, [path], flag, what)
    if path.is_dir():
        example = path / ("model.json" if flag == "--save" else "predictions.csv")
        raise DataError(f"{path}: {flag} is a folder; give a file name such as "
                        f"{str(example)!r}")
    _writable_folder(path.parent, str(path), flag)


def check_output_dir(out_dir, inputs, files) -> None:
    """Before any work: ``--out DIR`` is not an input file (nor any file written in it), is a
    folder if it exists, and can be created otherwise (its nearest existing parent is a
    writable folder)."""
    if out_dir is None:
        return
    out_dir = Path(out_dir)
    guard_out_dir(inputs, out_dir, files)
    if out_dir.exists():
        if not out_dir.is_dir():
            raise OutputPathError(f"cannot write --out {out_dir}: it is a file, and --out is "
                                  f"a folder for the report")
        _writable_folder(out_dir, str(out_dir), "--out")
        return
    parent = out_dir.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    _writable_folder(parent, str(out_dir), "--out")
