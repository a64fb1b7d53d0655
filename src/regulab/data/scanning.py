"""Streaming passes over a whole delimited text file, before pandas reads it.

:func:`scan` checks that every record has the header's number of fields (pandas would silently
pad a short row with missing values, and use an extra first field as an index) and counts the data
rows for ``max_rows``; :func:`locate_decode_error` names the byte offset and line of the first
byte the encoding cannot decode. Both read the file in chunks of :data:`CHUNK_BYTES`, read-only.
"""

from __future__ import annotations

import codecs
import csv
import io

import numpy as np

from regulab.data.checks import check_max_rows
from regulab.data.errors import DataError
from regulab.data.messages import show

CHUNK_BYTES = 4 * 1024 * 1024


def ascii_fast(codec: str) -> bool:
    """Whether delimiter, quote and newline bytes can be counted on the raw bytes."""
    if codec in ("utf-8", "utf-8-sig", "ascii"):
        return True
    return codec.startswith(("latin", "iso8859", "cp125", "cp437", "cp850", "mac-", "koi8"))


def locate_decode_error(path, codec, label, name):
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
                    check_max_rows(rows, max_rows, name, more=True)
        except csv.Error as exc:
            line = line0 + reader.line_num
            if "field larger than field limit" in str(exc):
                raise DataError(f"{name}: a quoted field starting near line {line0 + last + 1:,} "
                                f"runs on past line {line:,} (an unbalanced '\"'?)") from None
            raise DataError(f"{name}: line {line:,}: cannot be parsed ({exc})") from None
        except UnicodeDecodeError:
            err = locate_decode_error(path, codec, codec, name)
            raise (err or DataError(f"{name}: cannot be decoded as {codec}")) from None
    finally:
        fh.close()
    return rows


def _count_chunk(chunk, sep_b, line0, header_end):
    """Per line of a chunk of whole lines: (line numbers, field counts, is a data line, starts,
    lengths without the line end), vectorized on the raw bytes."""
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
    return line_no, fields, data_line, starts, length


def scan(path, codec, delim, name, header_n, header_line, header_end, delim_desc, max_rows):
    """Field counts of every record and the number of data rows, in one pass over the file.

    Fast path on the raw bytes (a count of delimiters per line, vectorized) while no quote has
    been seen; from the first chunk with a quote on, csv.reader takes over at a line boundary.
    """
    if not ascii_fast(codec):
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
                past_header = line0 >= header_end
                return _scan_slow(path, codec, delim, name, header_n, header_line, delim_desc,
                                  max_rows, offset=offset if past_header else 0,
                                  line0=line0 if past_header else 0,
                                  rows=rows if past_header else 0)
            line_no, fields, data_line, starts, length = _count_chunk(chunk, sep_b, line0,
                                                                      header_end)
            bad = np.flatnonzero(data_line & (fields != header_n))
            if bad.size:
                i = bad[0]
                content = chunk[starts[i]:starts[i] + length[i]].decode(codec, errors="replace")
                _ragged(name, int(line_no[i]), int(fields[i]), header_n, header_line, delim_desc,
                        content)
            rows += int(data_line.sum())
            if max_rows is not None and rows > max_rows:
                check_max_rows(rows, max_rows, name, more=True)
            line0 += len(line_no)
            offset += len(chunk)
            if not data:
                break
    return rows
