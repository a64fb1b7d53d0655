"""A Parquet file into a DataFrame through pyarrow, every problem one :class:`DataError`.

Nested columns (struct, list, map, union) and raw bytes are refused by name; decimals are read as
float64. The row count and the decoded size come from the file's metadata, so the guards act
before anything is read. As for text, only the empty string (and ``na_values``) is missing.
"""

from __future__ import annotations

import pandas as pd

from regulab.data.checks import check_byte_size, check_max_rows, check_unique_names
from regulab.data.errors import DataError
from regulab.data.messages import show, show_list

PARQUET_EXTENSIONS = (".parquet", ".pq", ".parq")
PARQUET_MAGIC = b"PAR1"


def _nested(t) -> bool:
    import pyarrow as pa

    checks = [pa.types.is_struct, pa.types.is_list, pa.types.is_large_list, pa.types.is_map,
              pa.types.is_fixed_size_list, pa.types.is_union]
    for extra in ("is_list_view", "is_large_list_view"):
        if hasattr(pa.types, extra):
            checks.append(getattr(pa.types, extra))
    if pa.types.is_dictionary(t):
        return _nested(t.value_type)
    return any(check(t) for check in checks)


def read_parquet(path, name, size, extra_na, max_rows, max_bytes, min_columns) -> pd.DataFrame:
    """Read the Parquet file ``path`` (``size`` bytes) with the options of
    :func:`regulab.data.reading.read_table`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        raise DataError(f"{name}: not a readable Parquet file ({msg})") from None
    with pf:
        casts = _check_schema(pf.schema_arrow, name, min_columns)
        meta = pf.metadata
        if meta.num_rows == 0:
            raise DataError(f"{name}: {len(pf.schema_arrow.names)} columns but no data rows")
        check_max_rows(meta.num_rows, max_rows, name)
        decoded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        check_byte_size(max(size, decoded), max_bytes, name, "decoded table")
        df = _read_frame(pf, casts, name)
    na = [""] + extra_na
    _empty_text_to_missing(df, na)
    df.attrs["regulab_source"] = {
        "path": name, "format": "parquet", "delimiter": None, "delimiter_from": None,
        "encoding": None, "bom": False, "decimal": None, "na_values": na,
        "rows": int(df.shape[0]), "columns": int(df.shape[1])}
    return df


def _check_schema(schema, name, min_columns) -> dict:
    """Refuse duplicate names, nested and binary columns and too few columns; return the casts
    to apply (decimal -> float64)."""
    import pyarrow as pa

    names = list(schema.names)
    check_unique_names(names, name)
    casts = {}
    for field in schema:
        if _nested(field.type):
            raise DataError(f"{name}: column {show(field.name)} is nested ({field.type}); only flat "
                            f"columns are read: flatten it or leave it out of the file")
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type) or \
                pa.types.is_fixed_size_binary(field.type):
            raise DataError(f"{name}: column {show(field.name)} holds raw bytes ({field.type}); "
                            f"only numbers, text, booleans and dates are read")
        if pa.types.is_decimal(field.type):
            casts[field.name] = pa.float64()
    if len(names) < min_columns:
        raise DataError(f"{name}: only {len(names)} column{'s' if len(names) != 1 else ''} "
                        f"({show_list(names)}); a target and at least one feature are needed")
    return casts


def _read_frame(pf, casts, name) -> pd.DataFrame:
    """The whole table as a DataFrame with a RangeIndex, ``casts`` applied."""
    import pyarrow as pa

    try:
        table = pf.read()
        for col, typ in casts.items():
            idx = table.schema.get_field_index(col)
            table = table.set_column(idx, col, table.column(col).cast(typ))
        df = table.to_pandas()
    except MemoryError:
        raise DataError(f"{name}: ran out of memory while reading; use a sample of the rows") \
            from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        raise DataError(f"{name}: cannot be read as Parquet ({msg})") from None
    return df.reset_index(drop=True) if not isinstance(df.index, pd.RangeIndex) else df


def _empty_text_to_missing(df: pd.DataFrame, na) -> None:
    """In text columns, the strings ``na`` become missing (None), in place."""
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object or isinstance(
                s.dtype, pd.CategoricalDtype):
            mask = s.isin(na)
            if mask.any():
                if isinstance(s.dtype, pd.CategoricalDtype):
                    s = s.astype(object)
                df[col] = s.where(~mask, None)
