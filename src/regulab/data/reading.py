"""Reading users' tables (CSV, TSV, Parquet) with every problem reported as one line.

:func:`read_table` returns a :class:`pandas.DataFrame` or raises :class:`DataError`, whose message
is a single line naming the file and the line, column or value at fault. What it does, in order:

1. **Refuses up front** a missing path, a directory, an empty (0-byte) file and a file too big for
   the memory guard (:func:`regulab.data.checks.byte_limit`).
2. **Finds the format** from the content (Parquet's ``PAR1`` signature) or the extension
   (``.parquet``, ``.pq``); everything else is delimited text.
3. **Text** (:mod:`regulab.data.delimited`): encoding, binary content, delimiter and decimal mark
   from the first bytes (:mod:`regulab.data.sniffing`); one streaming pass over the **whole** file
   checks the field count of every record and counts the rows for ``max_rows`` before anything is
   loaded (:mod:`regulab.data.scanning`). Only the empty field is missing unless ``na_values``
   says more.
4. **Parquet** (:mod:`regulab.data.parquet`): flat columns only; the guards use the metadata.

:func:`load_input` takes a file or a built-in dataset's name. The input file is only ever opened
for reading.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from regulab.data.checks import (
    check_byte_size,
    check_max_rows_option,
    check_na_values,
    stat_input,
)
from regulab.data.delimited import read_delimited
from regulab.data.errors import DataError
from regulab.data.parquet import PARQUET_EXTENSIONS, PARQUET_MAGIC, read_parquet
from regulab.data.sniffing import SAMPLE_BYTES, extend_head

DEFAULT_MAX_ROWS = 5_000_000


def read_table(path, *, sep: str | None = None, encoding: str | None = None,
               na_values=None, max_rows: int | None = DEFAULT_MAX_ROWS,
               max_bytes: int | None = None, decimal: str | None = None,
               min_columns: int = 2) -> pd.DataFrame:
    """Read a CSV/TSV or Parquet file into a DataFrame, refusing bad input with :class:`DataError`.

    ``sep``: the delimiter (``"\\t"``, ``"tab"`` accepted), else sniffed. ``encoding``: default UTF-8
    with or without BOM. ``na_values``: extra strings read as missing (only the empty field is
    missing by default). ``max_rows``: refuse files with more data rows (None: no limit).
    ``max_bytes``: refuse larger files (default :func:`regulab.data.checks.byte_limit`, from the
    available memory; 0 or None-with-unknown-memory: no limit). ``decimal``: decimal mark of a
    text file (default ``'.'``; ``','`` is detected for ``;``-separated files whose numbers all
    use a comma). ``min_columns``: fewer columns is an error (2 by default: a target and a
    feature).

    The frame's ``attrs["regulab_source"]`` records what was found (format, delimiter and how it
    was chosen, encoding, rows, columns).
    """
    name = str(path)
    path = Path(path)
    extra_na = check_na_values(na_values)
    check_max_rows_option(max_rows)
    st = stat_input(path, missing="no such file", kind="a data file")
    ext = "".join(path.suffixes[-1:]).lower()
    try:
        with open(path, "rb") as fh:  # read-only, always
            head = fh.read(SAMPLE_BYTES)
            if not head.startswith(PARQUET_MAGIC) and ext not in PARQUET_EXTENSIONS:
                check_byte_size(st.st_size, max_bytes, name, "file")
                # the sample holds whole lines: its size must not cut a wide header
                head = extend_head(fh, head)
    except OSError as exc:
        raise DataError(f"{name}: cannot be read ({exc.strerror or exc})") from None

    if head.startswith(PARQUET_MAGIC) or ext in PARQUET_EXTENSIONS:
        if not head.startswith(PARQUET_MAGIC):
            raise DataError(f"{name}: not a Parquet file (it does not start with 'PAR1')")
        return read_parquet(path, name, st.st_size, extra_na, max_rows, max_bytes, min_columns)
    return read_delimited(path, name, head, st.st_size, ext, sep, encoding, extra_na, max_rows,
                          decimal, min_columns)


class LoadedTable:
    """What :func:`load_input` found: the frame, a name for messages and, for a built-in
    dataset, its target column, task and true coefficients (None where unknown)."""

    __slots__ = ("frame", "name", "target", "task", "builtin", "true_coef")

    def __init__(self, frame, name, target=None, task=None, builtin=None, true_coef=None):
        self.frame = frame
        self.name = name
        self.target = target
        self.task = task
        self.builtin = builtin
        self.true_coef = true_coef

    def __repr__(self):
        return (f"LoadedTable(name={self.name!r}, shape={self.frame.shape}, target={self.target!r}, "
                f"task={self.task!r}, builtin={self.builtin!r})")


def load_input(source, *, sep=None, encoding=None, na_values=None,
               max_rows: int | None = DEFAULT_MAX_ROWS, max_bytes=None, seed: int = 0,
               min_columns: int = 2) -> LoadedTable:
    """A file path or a built-in dataset name (a path that exists wins over a built-in name)."""
    from regulab.data.datasets import BUILTIN_DATASETS, load_builtin, true_coefficients

    name = str(source)
    if not Path(name).exists() and name in BUILTIN_DATASETS:
        df, target, task = load_builtin(name, seed=seed)
        return LoadedTable(df, name, target, task, name, true_coefficients(name, seed=seed))
    if not Path(name).exists():
        builtins = ", ".join(BUILTIN_DATASETS)
        near = difflib.get_close_matches(name, list(BUILTIN_DATASETS), n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise DataError(f"{name}: no such file, and not a built-in dataset{hint}; built-in "
                        f"datasets: {builtins}")
    df = read_table(name, sep=sep, encoding=encoding, na_values=na_values, max_rows=max_rows,
                    max_bytes=max_bytes, min_columns=min_columns)
    return LoadedTable(df, name)
