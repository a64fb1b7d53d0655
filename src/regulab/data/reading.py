"""Reading users' tables (CSV, TSV, Parquet) with every problem reported as one line.

:func:`read_table` returns a :class:`pandas.DataFrame` or raises :class:`DataError`, whose message
is a single line naming the file and the line, column or value at fault. What it does, in order:

1. **Refuses up front** a missing path, a directory, an empty (0-byte) file, a file too big for the
   memory guard (see :func:`byte_limit`) and, for CSV, binary content (NUL bytes, control
   characters, ZIP/gzip/Excel signatures).
2. **Finds the format** from the content (Parquet's ``PAR1`` signature) or the extension
   (``.parquet``, ``.pq``); everything else is delimited text.
3. **Text**: UTF-8 with or without a byte-order mark unless ``encoding`` says otherwise (a UTF-16
   byte-order mark is honoured too). The delimiter is ``sep`` when given, ``tab`` for ``.tsv`` and
   ``.tab`` files, else sniffed (:class:`csv.Sniffer` restricted to ``, ; tab |``, checked against
   the field counts of the first lines). Then one streaming pass over the **whole** file checks
   that every record has the header's number of fields (pandas would silently pad a short row
   with missing values, and use an extra first field as an index), counts the rows for
   ``max_rows`` before anything is loaded, and the raw header is checked for duplicate names
   (pandas would rename ``age`` to ``age.1``).
4. **Missing values**: only the empty field is missing. ``NA``, ``N/A``, ``null`` and friends are
   text unless listed in ``na_values`` (pandas' own default list is turned off).
5. **Parquet** through pyarrow: nested columns (struct, list, map, union) are refused by name, the
   row count and decoded size come from the file's metadata, so the guards act before reading.

The input file is only ever opened for reading.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from regulab.data.errors import DataError

DEFAULT_MAX_ROWS = 5_000_000
#: Peak memory of pandas while parsing, per byte of input (measured about 1.7 for numeric CSV;
#: text columns cost more), so a file may use at most ``MEMORY_FRACTION / READ_FACTOR`` of the
#: available memory: on a 24 GiB machine with ~20 GiB available, about 2.5 GiB of CSV.
READ_FACTOR = 4
MEMORY_FRACTION = 0.5
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 4 * 1024 * 1024
DELIMITERS = (",", "\t", ";", "|")
PARQUET_EXTENSIONS = (".parquet", ".pq", ".parq")
EXCEL_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
_DELIM_NAMES = {",": "','", "\t": "tab", ";": "';'", "|": "'|'"}
_SEP_ALIASES = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|",
                "\\|": "|"}


# ----------------------------------------------------------------------------- message helpers

def show(value, limit: int = 40) -> str:
    """``repr`` of a value for a one-line message, shortened to about ``limit`` characters."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 4] + "...'" if text[:1] in "'\"" else text[: limit - 3] + "..."
    return text


def show_list(values, limit: int = 6) -> str:
    values = list(values)
    shown = ", ".join(show(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def close_matches(name: str, candidates) -> list[str]:
    """Column names close to ``name`` (case-insensitive equality first, then difflib)."""
    candidates = [str(c) for c in candidates]
    same_case = [c for c in candidates if c.lower() == str(name).lower() and c != name]
    fuzzy = difflib.get_close_matches(str(name), candidates, n=3, cutoff=0.6)
    return list(dict.fromkeys(same_case + fuzzy))[:3]


def _size(nbytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:.0f} {unit}" if unit == "bytes" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} TiB"  # pragma: no cover


# ----------------------------------------------------------------------------- memory guard

def available_memory() -> int | None:
    """Bytes of memory available now: psutil if installed, else ``MemAvailable`` of
    ``/proc/meminfo`` (Linux), else ``os.sysconf``; None if none of them answers."""
    try:
        import psutil  # optional
        return int(psutil.virtual_memory().available)
    except Exception:
        pass
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES")
        page = os.sysconf("SC_PAGE_SIZE")
        if pages > 0 and page > 0:
            return int(pages * page)
    except (ValueError, OSError, AttributeError):
        pass
    return None


def byte_limit() -> int | None:
    """The largest input (bytes) read by default: ``available * MEMORY_FRACTION / READ_FACTOR``."""
    avail = available_memory()
    return None if avail is None else int(avail * MEMORY_FRACTION / READ_FACTOR)


def check_memory(nbytes: float, what: str, source: str, factor: float = 1.0) -> None:
    """Refuse when ``nbytes * factor`` exceeds ``MEMORY_FRACTION`` of the available memory."""
    avail = available_memory()
    if avail is None:
        return
    need = nbytes * factor
    if need > avail * MEMORY_FRACTION:
        raise DataError(f"{source}: {what} would need about {_size(need)} of memory, more than half "
                        f"of the {_size(avail)} available; use fewer rows or columns")


# ----------------------------------------------------------------------------- reading

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


def read_table(path, *, sep: str | None = None, encoding: str | None = None,
               na_values=None, max_rows: int | None = DEFAULT_MAX_ROWS,
               max_bytes: int | None = None, decimal: str | None = None,
               min_columns: int = 2) -> pd.DataFrame:
    """Read a CSV/TSV or Parquet file into a DataFrame, refusing bad input with :class:`DataError`.

    ``sep``: the delimiter (``"\\t"``, ``"tab"`` accepted), else sniffed. ``encoding``: default UTF-8
    with or without BOM. ``na_values``: extra strings read as missing (only the empty field is
    missing by default). ``max_rows``: refuse files with more data rows (None: no limit).
    ``max_bytes``: refuse larger files (default :func:`byte_limit`, from the available memory;
    0 or None-with-unknown-memory: no limit). ``decimal``: decimal mark of a text file (default
    ``'.'``; ``','`` is detected for ``;``-separated files whose numbers all use a comma).
    ``min_columns``: fewer columns is an error (2 by default: a target and a feature).

    The frame's ``attrs["regulab_source"]`` records what was found (format, delimiter and how it
    was chosen, encoding, rows, columns).
    """
    name = str(path)
    path = Path(path)
    extra_na = _check_na_values(na_values, name)
    if max_rows is not None and (isinstance(max_rows, bool) or int(max_rows) != max_rows
                                 or max_rows < 1):
        raise ValueError(f"max_rows must be a whole number >= 1, got {max_rows!r}")
    st = stat_input(path, missing="no such file", kind="a data file")
    try:
        with open(path, "rb") as fh:  # read-only, always
            head = fh.read(SAMPLE_BYTES)
    except OSError as exc:
        raise DataError(f"{name}: cannot be read ({exc.strerror or exc})") from None

    ext = "".join(path.suffixes[-1:]).lower()
    if head.startswith(b"PAR1") or ext in PARQUET_EXTENSIONS:
        if not head.startswith(b"PAR1"):
            raise DataError(f"{name}: not a Parquet file (it does not start with 'PAR1')")
        df = _read_parquet(path, name, st.st_size, extra_na, max_rows, max_bytes, min_columns)
    else:
        _check_byte_size(st.st_size, max_bytes, name, "file")
        df = _read_text(path, name, head, st.st_size, ext, sep, encoding, extra_na, max_rows,
                        decimal, min_columns)
    return df


def _check_na_values(na_values, name):
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


def _check_byte_size(nbytes, max_bytes, name, what):
    limit = byte_limit() if max_bytes is None else (max_bytes or None)
    if limit is not None and nbytes > limit:
        avail = available_memory()
        why = (f"the limit is {_size(limit)} (1/{int(READ_FACTOR / MEMORY_FRACTION)} of the "
               f"{_size(avail)} of memory available)" if max_bytes is None and avail
               else f"the limit is {_size(limit)}")
        raise DataError(f"{name}: the {what} is {_size(nbytes)}, too large to read safely: {why}; "
                        f"use a sample of the rows")


def _check_rows(n_rows, max_rows, name, more=False):
    if max_rows is not None and n_rows > max_rows:
        raise DataError(f"{name}: {'more than ' if more else ''}{max_rows if more else n_rows:,} "
                        f"data rows, over the --max-rows limit of {max_rows:,}; use a sample of the "
                        f"rows or raise --max-rows")


# ----------------------------------------------------------------------------- delimited text

def _resolve_encoding(encoding, head, name):
    """(codec to decode with, label for messages, whether a BOM was found)."""
    if encoding is None:
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", "UTF-8", True
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(
                codecs.BOM_UTF32_LE):
            return "utf-16", "UTF-16", True
        return "utf-8-sig", "UTF-8", False
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise DataError(f"{name}: unknown encoding {show(encoding)} (--encoding)") from None
    if info.name in ("utf-8", "utf-8-sig"):
        return "utf-8-sig", "UTF-8", head.startswith(codecs.BOM_UTF8)
    return info.name, info.name, False


def _ascii_fast(codec: str) -> bool:
    """Whether delimiter, quote and newline bytes can be counted on the raw bytes."""
    if codec in ("utf-8", "utf-8-sig", "ascii"):
        return True
    return codec.startswith(("latin", "iso8859", "cp125", "cp437", "cp850", "mac-", "koi8"))


def _locate_decode_error(path, codec, label, name):
    """A DataError naming the byte offset and line of the first undecodable byte (or None)."""
    dec = codecs.getincrementaldecoder(codec)(errors="strict")
    offset = 0
    lines = 1
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK_BYTES)
            pending = len(dec.getstate()[0])
            try:
                dec.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                start = max(exc.start - pending, 0)
                where = offset + start
                line = lines + chunk[:start].count(b"\n")
                bad = bytes(exc.object[exc.start:exc.end][:4])
                hint = ("; pass --encoding (e.g. latin-1 or cp1252)" if label == "UTF-8"
                        else "; check --encoding")
                return DataError(f"{name}: not valid {label} at byte offset {where:,} (line {line:,}): "
                                 f"{bad!r}{hint}")
            if not chunk:
                return None
            lines += chunk.count(b"\n")
            offset += len(chunk)


def _check_binary(head, codec, name):
    if head.startswith(b"PK\x03\x04"):
        raise DataError(f"{name}: a ZIP archive (an Excel .xlsx workbook?), not CSV/TSV text; "
                        f"save the sheet as CSV")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(f"{name}: an old Excel/Office file, not CSV/TSV text; save the sheet as CSV")
    if head.startswith(b"\x1f\x8b"):
        raise DataError(f"{name}: gzip-compressed; decompress it first")
    if codec.startswith(("utf-16", "utf-32")):
        return
    nul = head.find(b"\x00")
    if nul >= 0:
        even, odd = head[0::2], head[1::2]
        utf16 = len(head) >= 4 and max(even.count(0) / len(even), odd.count(0) / len(odd)) > 0.8
        hint = " (UTF-16 text without a byte-order mark? pass --encoding utf-16)" if utf16 else ""
        raise DataError(f"{name}: binary content (a NUL byte at offset {nul:,}), not CSV/TSV "
                        f"text{hint}")


def _sample_text(path, head, size, codec, label, name):
    """Decode the head of the file; return (text cut at a line end, whether it is the whole file)."""
    whole = size <= len(head)
    dec = codecs.getincrementaldecoder(codec)(errors="strict")
    try:
        text = dec.decode(head, final=whole)
    except UnicodeDecodeError:
        err = _locate_decode_error(path, codec, label, name)
        raise (err or DataError(f"{name}: not valid {label}")) from None
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or ch == "\x7f")
    if text and controls > max(2, 0.01 * len(text)):
        raise DataError(f"{name}: binary content ({controls} control characters in the first "
                        f"{len(text):,}), not CSV/TSV text")
    if not whole:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut > 0:
            text = text[: cut + 1]
    return text, whole


def _records(text: str, delim: str):
    """(line where the record starts, fields) for every non-blank record of ``text``."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"')
    out = []
    last = 0
    try:
        for row in reader:
            if row:
                out.append((last + 1, row))
            last = reader.line_num
    except csv.Error:
        pass
    return out


def _choose_delimiter(text: str, whole: bool, ext: str):
    """Sniff the delimiter among , tab ; | and check it; None when no candidate splits the header."""
    stats = {}
    for d in DELIMITERS:
        recs = _records(text, d)
        if not whole and len(recs) > 2:
            recs = recs[:-1]  # the last record of a cut sample may be cut too
        if not recs:
            return None
        counts = [len(r) for _, r in recs]
        stats[d] = (counts[0], all(c == counts[0] for c in counts))
    if ext in (".tsv", ".tab") and stats["\t"][0] > 1:
        return "\t"
    lines = text.splitlines(keepends=True)
    try:
        sniffed = csv.Sniffer().sniff("".join(lines[:50]), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in stats and stats[sniffed][0] > 1 and stats[sniffed][1]:
        return sniffed
    consistent = [d for d in DELIMITERS if stats[d][1] and stats[d][0] > 1]
    if consistent:
        return max(consistent, key=lambda d: stats[d][0])
    # no consistent candidate: the one that splits the header most; the full scan then names the
    # first ragged line
    best = max(DELIMITERS, key=lambda d: stats[d][0])
    return best if stats[best][0] > 1 else None


def _ragged(name, line, got, header_n, header_line, delim_desc, content="", end_line=None):
    hint = ""
    if end_line is not None and end_line > line and got < header_n:
        hint = (f" (a quoted field runs from line {line:,} to line {end_line:,}: an unbalanced "
                f"'\"'?)")
    elif got == header_n + 1:
        hint = " (a row-name column without a header, or an unquoted delimiter inside a value?)"
    raise DataError(f"{name}: line {line:,} has {got} field{'s' if got != 1 else ''} "
                    f"({show(content, 50)}) but the header (line {header_line}) has {header_n}, "
                    f"with delimiter {delim_desc}{hint}")


def _scan_slow(path, codec, delim, name, header_n, header_line, delim_desc, max_rows,
               offset=0, line0=0, rows=0):
    """csv.reader over the file from ``offset`` (a line start outside quotes): check field counts."""
    fh = open(path, "rb")
    try:
        fh.seek(offset)
        text = io.TextIOWrapper(fh, encoding=codec, errors="strict", newline="")
        reader = csv.reader(text, delimiter=delim, quotechar='"')
        last = 0
        seen_header = offset > 0
        try:
            for row in reader:
                start = line0 + last + 1
                last = reader.line_num
                if not row:
                    continue
                if not seen_header:
                    seen_header = True
                    continue
                if len(row) != header_n:
                    _ragged(name, start, len(row), header_n, header_line, delim_desc,
                            delim.join(row), line0 + last)
                rows += 1
                if max_rows is not None and rows > max_rows:
                    _check_rows(rows, max_rows, name, more=True)
        except csv.Error as exc:
            line = line0 + reader.line_num
            if "field larger than field limit" in str(exc):
                raise DataError(f"{name}: a quoted field starting near line {line0 + last + 1:,} "
                                f"runs on past line {line:,} (an unbalanced '\"'?)") from None
            raise DataError(f"{name}: line {line:,}: cannot be parsed ({exc})") from None
        except UnicodeDecodeError:
            err = _locate_decode_error(path, codec, codec, name)
            raise (err or DataError(f"{name}: cannot be decoded as {codec}")) from None
    finally:
        fh.close()
    return rows


def _scan(path, codec, delim, name, header_n, header_line, header_end, delim_desc, max_rows):
    """Field counts of every record and the number of data rows, in one pass over the file.

    Fast path on the raw bytes (a count of delimiters per line, vectorized) while no quote has
    been seen; from the first chunk with a quote on, csv.reader takes over at a line boundary.
    """
    if not _ascii_fast(codec):
        return _scan_slow(path, codec, delim, name, header_n, header_line, delim_desc, max_rows)
    sep_b = ord(delim)
    rows = 0
    line0 = 0          # lines completely processed before the current chunk
    offset = 0         # byte offset of the current chunk
    carry = b""
    with open(path, "rb") as fh:
        while True:
            data = fh.read(CHUNK_BYTES)
            buf = carry + data
            if data:
                end = buf.rfind(b"\n")
                if end < 0:
                    carry = buf
                    continue
                chunk, carry = buf[: end + 1], buf[end + 1:]
            else:
                chunk, carry = buf, b""
                if not chunk:
                    break
            if b'"' in chunk or (b"\r" in chunk and chunk.count(b"\r") != chunk.count(b"\r\n")):
                return _scan_slow(path, codec, delim, name, header_n, header_line, delim_desc,
                                  max_rows, offset=offset if line0 >= header_end else 0,
                                  line0=line0 if line0 >= header_end else 0,
                                  rows=rows if line0 >= header_end else 0)
            a = np.frombuffer(chunk, dtype=np.uint8)
            ends = np.flatnonzero(a == 10)
            if not chunk.endswith(b"\n"):
                ends = np.append(ends, len(a))
            starts = np.concatenate(([0], ends[:-1] + 1))
            delims = np.flatnonzero(a == sep_b)
            fields = np.searchsorted(delims, ends) - np.searchsorted(delims, starts) + 1
            length = ends - starts
            has_cr = np.zeros(len(ends), dtype=bool)
            nz = length > 0
            has_cr[nz] = a[ends[nz] - 1] == 13
            length = length - has_cr
            line_no = line0 + np.arange(1, len(ends) + 1)
            data_line = (length > 0) & (line_no > header_end)
            bad = np.flatnonzero(data_line & (fields != header_n))
            if bad.size:
                i = bad[0]
                content = chunk[starts[i]:starts[i] + length[i]].decode(codec, errors="replace")
                _ragged(name, int(line_no[i]), int(fields[i]), header_n, header_line, delim_desc,
                        content)
            rows += int(data_line.sum())
            if max_rows is not None and rows > max_rows:
                _check_rows(rows, max_rows, name, more=True)
            line0 += len(ends)
            offset += len(chunk)
            if not data:
                break
    return rows


def _detect_decimal(text, delim):
    if delim != ";":
        return "."
    comma = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
    dot = re.compile(r"^\s*[+-]?\d*\.\d+\s*$")
    recs = _records(text, ";")[1:200]
    n_comma = sum(1 for _, r in recs for v in r if comma.match(v))
    n_dot = sum(1 for _, r in recs for v in r if dot.match(v))
    return "," if n_comma > 0 and n_dot == 0 else "."


def _read_text(path, name, head, size, ext, sep, encoding, extra_na, max_rows, decimal,
               min_columns):
    if ext in EXCEL_EXTENSIONS:
        raise DataError(f"{name}: spreadsheet files are not read; save the sheet as CSV")
    codec, label, bom = _resolve_encoding(encoding, head, name)
    _check_binary(head, codec, name)
    text, whole = _sample_text(path, head, size, codec, label, name)
    if not text.strip():
        raise DataError(f"{name}: no header line (the file holds only blank lines)")

    if sep is not None:
        sep = _SEP_ALIASES.get(sep.lower(), sep) if len(sep) > 1 else sep
        if len(sep) != 1 or sep in "\r\n\"":
            raise DataError(f"{name}: --sep must be one character (or 'tab'), got {show(sep)}")
        delim, how = sep, "--sep"
    else:
        delim = _choose_delimiter(text, whole, ext)
        how = "extension" if (delim == "\t" and ext in (".tsv", ".tab")) else "sniffed"

    recs = _records(text, delim or ",")
    if not recs:
        raise DataError(f"{name}: the header line cannot be parsed (an unbalanced '\"'?)")
    header_line, header = recs[0]
    header_end = _header_end_line(text, delim or ",")
    desc = _DELIM_NAMES.get(delim, show(delim)) if delim else "none"
    if len(header) < max(min_columns, 1) or (delim is None and min_columns > 1):
        head_line = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
        if how == "--sep":
            other = _choose_delimiter(text, whole, ext)
            hint = (f"; the file seems to use {_DELIM_NAMES[other]}" if other and other != delim
                    else "")
            raise DataError(f"{name}: --sep {desc} gives a single column (header line "
                            f"{show(head_line, 60)}){hint}")
        raise DataError(f"{name}: found a single column: no ',', ';', tab or '|' separates the "
                        f"header line {show(head_line, 60)}; pass --sep")
    delim = delim or ","
    seen = {}
    for i, col in enumerate(header, start=1):
        col_name = col.lstrip("\ufeff") if i == 1 else col
        if col_name in seen and col_name != "":
            raise DataError(f"{name}: duplicate column name {show(col_name)} (columns "
                            f"{seen[col_name]} and {i})")
        seen.setdefault(col_name, i)

    n_rows = _scan(path, codec, delim, name, len(header), header_line, header_end, desc, max_rows)
    if n_rows == 0:
        raise DataError(f"{name}: a header ({len(header)} columns) but no data rows")
    if decimal is None:
        decimal = _detect_decimal(text, delim)

    try:
        df = pd.read_csv(path, sep=delim, encoding=codec, quotechar='"', keep_default_na=False,
                         na_values=[""] + extra_na, skip_blank_lines=True, low_memory=False,
                         engine="c", encoding_errors="strict", decimal=decimal,
                         thousands=None)
    except UnicodeDecodeError:
        err = _locate_decode_error(path, codec, label, name)
        raise (err or DataError(f"{name}: cannot be decoded as {label}")) from None
    except MemoryError:
        raise DataError(f"{name}: ran out of memory while reading ({_size(size)}); use a sample "
                        f"of the rows") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        raise DataError(f"{name}: cannot be parsed: {msg}") from None
    if df.shape[1] != len(header):  # pragma: no cover - the scan makes this impossible
        raise DataError(f"{name}: expected {len(header)} columns, pandas read {df.shape[1]}")
    df.attrs["regulab_source"] = {
        "path": name, "format": "tsv" if delim == "\t" else "csv", "delimiter": delim,
        "delimiter_from": how, "encoding": label, "bom": bool(bom), "decimal": decimal,
        "na_values": [""] + extra_na, "rows": int(df.shape[0]), "columns": int(df.shape[1])}
    return df


def _header_end_line(text, delim):
    """Physical line on which the header record ends (leading blank lines included)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"')
    try:
        for row in reader:
            if row:
                return reader.line_num
    except csv.Error:
        pass
    return 1


# ----------------------------------------------------------------------------- parquet

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


def _read_parquet(path, name, size, extra_na, max_rows, max_bytes, min_columns):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        raise DataError(f"{name}: not a readable Parquet file ({msg})") from None
    with pf:
        return _read_parquet_file(pf, name, size, extra_na, max_rows, max_bytes, min_columns)


def _read_parquet_file(pf, name, size, extra_na, max_rows, max_bytes, min_columns):
    import pyarrow as pa

    schema = pf.schema_arrow
    meta = pf.metadata
    names = list(schema.names)
    seen = {}
    for i, col in enumerate(names, start=1):
        if col in seen:
            raise DataError(f"{name}: duplicate column name {show(col)} (columns {seen[col]} and {i})")
        seen[col] = i
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
    if meta.num_rows == 0:
        raise DataError(f"{name}: {len(names)} columns but no data rows")
    _check_rows(meta.num_rows, max_rows, name)
    decoded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    _check_byte_size(max(size, decoded), max_bytes, name, "decoded table")
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
    df = df.reset_index(drop=True) if not isinstance(df.index, pd.RangeIndex) else df
    na = [""] + extra_na
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object or isinstance(
                s.dtype, pd.CategoricalDtype):
            mask = s.isin(na)
            if mask.any():
                if isinstance(s.dtype, pd.CategoricalDtype):
                    s = s.astype(object)
                df[col] = s.where(~mask, None)
    df.attrs["regulab_source"] = {
        "path": name, "format": "parquet", "delimiter": None, "delimiter_from": None,
        "encoding": None, "bom": False, "decimal": None, "na_values": na,
        "rows": int(df.shape[0]), "columns": int(df.shape[1])}
    return df


# ----------------------------------------------------------------------------- sources

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


# ----------------------------------------------------------------------------- safe CSV output

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


def write_csv_safely(df: pd.DataFrame, path, *, sep: str = ",") -> Path:
    """Write ``df`` (no index) as CSV with escaped text cells and header, atomically."""
    from regulab.core.io import atomic_write

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, quotechar='"', lineterminator="\n")
    writer.writerow([safe_csv_cell(str(c)) for c in df.columns])
    columns = []
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s.dtype) and not s.isna().any():
            columns.append(["True" if v else "False" for v in s.to_numpy()])
        elif pd.api.types.is_integer_dtype(s.dtype) and not s.isna().any():
            columns.append([str(int(v)) for v in s.to_numpy()])
        elif pd.api.types.is_float_dtype(s.dtype):
            columns.append([safe_csv_cell(v) for v in s.to_numpy(dtype=float, na_value=np.nan)])
        else:
            columns.append([safe_csv_cell(v) if not _is_missing(v) else "" for v in s.tolist()])
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
