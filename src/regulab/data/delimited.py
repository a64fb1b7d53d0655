"""A delimited text file (CSV, TSV, ...) into a DataFrame, every problem one :class:`DataError`.

The format comes from the first bytes (:mod:`regulab.data.sniffing`), one streaming pass checks
every record and counts the rows (:mod:`regulab.data.scanning`), then pandas reads the file with
only the empty field missing (``NA``, ``N/A``, ``null`` and friends are text unless listed in
``na_values``; pandas' own default list is turned off) and the raw header checked for duplicate
names (pandas would rename ``age`` to ``age.1``).
"""

from __future__ import annotations

import pandas as pd

from regulab.data.checks import check_unique_names
from regulab.data.errors import DataError
from regulab.data.messages import show, show_bytes
from regulab.data.scanning import locate_decode_error, scan
from regulab.data.sniffing import (
    DELIM_NAMES,
    TSV_EXTENSIONS,
    check_binary,
    choose_delimiter,
    detect_decimal,
    given_delimiter,
    header_end_line,
    records,
    resolve_encoding,
    sample_text,
)

EXCEL_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")


def read_delimited(path, name, head, size, ext, sep, encoding, extra_na, max_rows, decimal,
                   min_columns) -> pd.DataFrame:
    """Read the text file ``path`` (``head``: its first bytes, ``size`` bytes in all) with the
    options of :func:`regulab.data.reading.read_table`."""
    if ext in EXCEL_EXTENSIONS:
        raise DataError(f"{name}: spreadsheet files are not read; save the sheet as CSV")
    codec, label, bom = resolve_encoding(encoding, head, name)
    check_binary(head, codec, name)
    text, whole = sample_text(path, head, size, codec, label, name)
    if not text.strip():
        raise DataError(f"{name}: no header line (the file holds only blank lines)")
    if sep is not None:
        delim, how = given_delimiter(sep, name), "--sep"
    else:
        delim = choose_delimiter(text, whole, ext)
        how = "extension" if (delim == "\t" and ext in TSV_EXTENSIONS) else "sniffed"
    header_line, header, header_end, desc = _header(text, whole, ext, delim, how, min_columns,
                                                    name)
    delim = delim or ","
    n_rows = scan(path, codec, delim, name, len(header), header_line, header_end, desc, max_rows)
    if n_rows == 0:
        raise DataError(f"{name}: a header ({len(header)} columns) but no data rows")
    if decimal is None:
        decimal = detect_decimal(text, delim)
    df = _parse(path, name, size, delim, codec, label, extra_na, decimal)
    if df.shape[1] != len(header):  # pragma: no cover - the scan makes this impossible
        raise DataError(f"{name}: expected {len(header)} columns, pandas read {df.shape[1]}")
    df.attrs["regulab_source"] = {
        "path": name, "format": "tsv" if delim == "\t" else "csv", "delimiter": delim,
        "delimiter_from": how, "encoding": label, "bom": bool(bom), "decimal": decimal,
        "na_values": [""] + extra_na, "rows": int(df.shape[0]), "columns": int(df.shape[1])}
    return df


def _header(text, whole, ext, delim, how, min_columns, name):
    """(line of the header, its fields, the line it ends on, the delimiter's name), or DataError
    for an unparsable header, a single column or a duplicate name."""
    recs = records(text, delim or ",")
    if not recs:
        raise DataError(f"{name}: the header line cannot be parsed (an unbalanced '\"'?)")
    header_line, header = recs[0]
    header_end = header_end_line(text, delim or ",")
    desc = DELIM_NAMES.get(delim, show(delim)) if delim else "none"
    if len(header) < max(min_columns, 1) or (delim is None and min_columns > 1):
        head_line = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
        if how == "--sep":
            other = choose_delimiter(text, whole, ext)
            hint = (f"; the file seems to use {DELIM_NAMES[other]}" if other and other != delim
                    else "")
            raise DataError(f"{name}: --sep {desc} gives a single column (header line "
                            f"{show(head_line, 60)}){hint}")
        raise DataError(f"{name}: found a single column: no ',', ';', tab or '|' separates the "
                        f"header line {show(head_line, 60)}; pass --sep")
    # a byte-order mark left on the first name is not part of it; empty names may repeat
    # (pandas names them 'Unnamed: i')
    names = [col.lstrip("\ufeff") if i == 0 else col for i, col in enumerate(header)]
    check_unique_names(names, name, allow_empty=True)
    return header_line, header, header_end, desc


def _parse(path, name, size, delim, codec, label, extra_na, decimal) -> pd.DataFrame:
    """pandas' C parser on a file already checked; its errors as one-line DataErrors."""
    try:
        return pd.read_csv(path, sep=delim, encoding=codec, quotechar='"', keep_default_na=False,
                           na_values=[""] + extra_na, skip_blank_lines=True, low_memory=False,
                           engine="c", encoding_errors="strict", decimal=decimal,
                           thousands=None)
    except UnicodeDecodeError:
        err = locate_decode_error(path, codec, label, name)
        raise (err or DataError(f"{name}: cannot be decoded as {label}")) from None
    except MemoryError:
        raise DataError(f"{name}: ran out of memory while reading ({show_bytes(size)}); use a "
                        f"sample of the rows") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        raise DataError(f"{name}: cannot be parsed: {msg}") from None
