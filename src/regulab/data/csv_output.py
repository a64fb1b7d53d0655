"""Tables written as CSV safely: text cells a spreadsheet would run as a formula are escaped."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_csv_cell(value) -> str:
    """Text of one CSV cell; a string starting with ``= + - @``, tab or CR gets a leading ``'``
    (OWASP CSV injection) so a spreadsheet shows it instead of running it. Numbers (including
    negative ones) are written as numbers: floats with the shortest repr that reads back exactly;
    NaN and None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return ""
        return repr(value)
    if value is pd.NA or value is pd.NaT:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _column_cells(s: pd.Series) -> list[str]:
    """The cells of one column; whole columns of booleans, integers and floats in one go."""
    if pd.api.types.is_bool_dtype(s.dtype) and not s.isna().any():
        return ["True" if v else "False" for v in s.to_numpy()]
    if pd.api.types.is_integer_dtype(s.dtype) and not s.isna().any():
        return [str(int(v)) for v in s.to_numpy()]
    if pd.api.types.is_float_dtype(s.dtype):
        return [safe_csv_cell(v) for v in s.to_numpy(dtype=float, na_value=np.nan)]
    return [safe_csv_cell(v) if not _is_missing(v) else "" for v in s.tolist()]


def write_csv_safely(df: pd.DataFrame, path, *, sep: str = ",") -> Path:
    """Write ``df`` (no index) as CSV with escaped text cells and header, atomically."""
    from regulab.core.io import atomic_write

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, quotechar='"', lineterminator="\n")
    writer.writerow([safe_csv_cell(str(c)) for c in df.columns])
    columns = [_column_cells(df[col]) for col in df.columns]
    if columns:
        writer.writerows(zip(*columns))
    path = Path(path)
    atomic_write(path, buf.getvalue().encode("utf-8"))
    return path


def _is_missing(v) -> bool:
    try:
        return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))
    except TypeError:  # pragma: no cover
        return False
