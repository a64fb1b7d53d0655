"""Checks of the data layer that refuse up front, each with a one-line :class:`DataError`: input
files, sizes against the memory available, row counts, duplicate names, rows for CV folds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from regulab.core import memory
from regulab.data.errors import DataError
from regulab.data.messages import show, show_bytes, show_row

#: a data step (reading a file, building the design) may use at most this share of the memory
#: available (:func:`regulab.core.memory.available_memory`, cgroup limits included)
MEMORY_FRACTION = 0.5
#: Peak memory of pandas while parsing, per byte of input (measured about 1.7 for numeric CSV;
#: text columns cost more), so a file may use at most ``MEMORY_FRACTION / READ_FACTOR`` of the
#: available memory: on a 24 GiB machine with ~20 GiB available, about 2.5 GiB of CSV.
READ_FACTOR = 4
#: float64 designs held at once while one is built: the design, its row subset (missing='drop')
#: and the temporaries of encoding
DESIGN_COPIES = 3
#: The largest magnitude of a number in a table. Beyond it a value is refused up front, like inf:
#: the fit squares and sums the values (means, standard deviations, X'X, the loss), and 1e200
#: is finite but its square is not in float64. 1e150 squared is 1e300, so sums of squares over
#: up to 1e8 rows stay below float64's largest number (1.8e308).
MAX_ABS_VALUE = 1e150


def check_magnitude(vals: np.ndarray, what: str, src: str, positions=None, hint: str = "") -> None:
    """DataError naming the first value of ``vals`` (float64, NaN = missing) that is infinite or
    beyond ``±MAX_ABS_VALUE``, and its row (``positions[i]`` when given, else ``i``). ``what``:
    ``"column 'x'"`` or ``"target 'y'"``; ``hint`` ends the message."""
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(np.abs(vals) > MAX_ABS_VALUE)
    if not bad.size:
        return
    i = bad[0]
    row = show_row(i if positions is None else positions[i])
    why = ("infinite values are not usable" if np.isinf(vals[i]) else
           f"values beyond ±{MAX_ABS_VALUE:.0e} overflow float64 once squared or summed; rescale "
           f"it")
    raise DataError(f"{src}: {what} holds {vals[i]:.6g} at {row}; {why}{hint}")


def stat_input(path, *, missing: str, kind: str, empty_note: str = ""):
    """``os.stat`` of an input file, or a one-line :class:`DataError`: missing, unreadable, a
    directory (``is a directory, not KIND``), or empty (``empty file (0 bytes)EMPTY_NOTE``)."""
    name = str(path)
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DataError(f"{name}: {missing}") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if path.is_dir():
        raise DataError(f"{name}: is a directory, not {kind}")
    if st.st_size == 0:
        raise DataError(f"{name}: empty file (0 bytes){empty_note}")
    return st


def check_na_values(na_values) -> list[str]:
    """``na_values`` as a list of strings (one string alone is a list of one); ValueError else."""
    if na_values is None:
        return []
    if isinstance(na_values, str):
        na_values = [na_values]
    out = []
    for v in na_values:
        if not isinstance(v, str):
            raise ValueError(f"na_values must be strings, got {v!r}")
        out.append(v)
    return out


def check_max_rows_option(max_rows) -> None:
    """ValueError unless ``max_rows`` is None or a whole number >= 1."""
    if max_rows is not None and (isinstance(max_rows, bool) or int(max_rows) != max_rows
                                 or max_rows < 1):
        raise ValueError(f"max_rows must be a whole number >= 1, got {max_rows!r}")


def byte_limit(available: int | None = None) -> int | None:
    """The largest input (bytes) read by default: ``available * MEMORY_FRACTION / READ_FACTOR``
    (``available`` default: :func:`regulab.core.memory.available_memory`; unknown: None)."""
    avail = memory.available_memory() if available is None else available
    return None if avail is None else int(avail * MEMORY_FRACTION / READ_FACTOR)


def check_byte_size(nbytes: int, max_bytes: int | None, name: str, what: str) -> None:
    """Refuse ``nbytes`` of input above ``max_bytes`` (None: :func:`byte_limit`; 0: no limit)."""
    avail = memory.available_memory() if max_bytes is None else None
    limit = byte_limit(avail) if max_bytes is None else (max_bytes or None)
    if limit is not None and nbytes > limit:
        why = (f"the limit is {show_bytes(limit)} (1/{int(READ_FACTOR / MEMORY_FRACTION)} of the "
               f"{show_bytes(avail)} of memory available)" if max_bytes is None and avail
               else f"the limit is {show_bytes(limit)}")
        raise DataError(f"{name}: the {what} is {show_bytes(nbytes)}, too large to read safely: "
                        f"{why}; use a sample of the rows")


def check_max_rows(n_rows: int, max_rows: int | None, name: str, more: bool = False) -> None:
    """Refuse ``n_rows`` data rows above ``max_rows`` (``more``: counting stopped past it)."""
    if max_rows is not None and n_rows > max_rows:
        count = f"more than {max_rows:,}" if more else f"{n_rows:,}"
        raise DataError(f"{name}: {count} data rows, over the --max-rows limit of {max_rows:,}; "
                        f"use a sample of the rows or raise --max-rows")


def check_unique_names(names, name: str, *, allow_empty: bool = False) -> None:
    """Refuse a repeated column name (``allow_empty``: several empty names are allowed)."""
    seen: dict = {}
    for i, col in enumerate(names, start=1):
        if col in seen and not (allow_empty and col == ""):
            raise DataError(f"{name}: duplicate column name {show(col)} (columns {seen[col]} "
                            f"and {i})")
        seen.setdefault(col, i)


def check_design_memory(n_rows: int, width: int, name: str) -> None:
    """Refuse an ``n_rows x width`` float64 design when :data:`DESIGN_COPIES` of it would take
    more than :data:`MEMORY_FRACTION` of the memory available."""
    need = DESIGN_COPIES * memory.x_bytes(n_rows, width)
    try:
        memory.check_memory(need, fraction=MEMORY_FRACTION)
    except memory.InsufficientMemoryError as exc:
        raise DataError(f"{name}: the {n_rows:,} x {width} design matrix would need about "
                        f"{show_bytes(exc.need)} of memory, more than half of the "
                        f"{show_bytes(exc.available)} available; use fewer rows or columns") \
            from None


def check_rows_for_cv(n_rows: int, folds: int, *, y=None, task: str | None = None,
                      classes=None, source_name: str | None = None) -> None:
    """Refuse fewer rows than CV folds (and, for a binary task with ``y``, a class with fewer rows
    than folds, which stratified folds cannot spread)."""
    if isinstance(folds, bool) or int(folds) != folds or folds < 2:
        raise ValueError(f"the number of CV folds must be a whole number >= 2, got {folds!r}")
    where = f"{source_name}: " if source_name else ""
    if n_rows < folds:
        raise DataError(f"{where}only {n_rows} row{'s' if n_rows != 1 else ''} after preparation, "
                        f"fewer than the {folds} CV folds")
    if task == "binary" and y is not None:
        y = np.asarray(y)
        for k in (0, 1):
            count = int(np.sum(y == k))
            if count < folds:
                label = show(classes[k]) if classes is not None else str(k)
                raise DataError(f"{where}class {label} of the target has only {count} "
                                f"row{'s' if count != 1 else ''}, fewer than the {folds} CV folds")
