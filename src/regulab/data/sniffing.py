"""What a delimited text file is, from its first bytes: encoding, binary content, delimiter,
decimal mark and header.

The encoding is UTF-8 with or without a byte-order mark unless told otherwise (a UTF-16
byte-order mark is honoured too). Binary content (NUL bytes, control characters, ZIP/gzip/Excel
signatures) is refused. The delimiter is sniffed among ``, tab ; |`` (:class:`csv.Sniffer`
restricted to them, checked against the field counts of the first lines); ``tab`` for ``.tsv`` and
``.tab`` files. A ``;``-separated file whose numbers all use a decimal comma reads ``,`` as the
decimal mark.

The sample is the first :data:`SAMPLE_BYTES` bytes, **extended to hold the first**
:data:`SAMPLE_LINES` **line ends**: the sample size never cuts the header line, however wide the
table (a 50,000-column header is several hundred KiB), and the delimiter is checked on whole lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

from regulab.data.errors import DataError
from regulab.data.messages import show
from regulab.data.scanning import locate_decode_error

SAMPLE_BYTES = 64 * 1024
SAMPLE_LINES = 3  # the header and two records: enough to check a delimiter on whole lines
DELIMITERS = (",", "\t", ";", "|")
DELIM_NAMES = {",": "','", "\t": "tab", ";": "';'", "|": "'|'"}
SEP_ALIASES = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "\\|": "|"}
TSV_EXTENSIONS = (".tsv", ".tab")


def resolve_encoding(encoding, head, name):
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


def check_binary(head, codec, name):
    """Refuse archives, Office files, gzip and NUL bytes (naming UTF-16 without a BOM)."""
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


def extend_head(fh, head: bytes) -> bytes:
    """``head`` (the first bytes read from ``fh``) extended, in growing reads, until it holds
    :data:`SAMPLE_LINES` line ends or the whole file. The caller has checked the file size
    against the memory guard, so reading up to the whole file is safe."""
    chunks = [head]
    step = max(len(head), SAMPLE_BYTES)
    ends = max(head.count(b"\n"), head.count(b"\r"))
    while ends < SAMPLE_LINES:
        more = fh.read(step)
        if not more:
            break
        chunks.append(more)
        ends += max(more.count(b"\n"), more.count(b"\r"))
        step *= 2
    return b"".join(chunks)


def sample_text(path, head, size, codec, label, name):
    """Decode the head of the file; return (text cut at a line end, whether it is the whole file)."""
    whole = size <= len(head)
    dec = codecs.getincrementaldecoder(codec)(errors="strict")
    try:
        text = dec.decode(head, final=whole)
    except UnicodeDecodeError:
        err = locate_decode_error(path, codec, label, name)
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


def records(text: str, delim: str):
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


def header_end_line(text, delim):
    """Physical line on which the header record ends (leading blank lines included)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"')
    try:
        for row in reader:
            if row:
                return reader.line_num
    except csv.Error:
        pass
    return 1


def choose_delimiter(text: str, whole: bool, ext: str):
    """Sniff the delimiter among , tab ; | and check it; None when no candidate splits the header."""
    stats = {}
    for d in DELIMITERS:
        recs = records(text, d)
        if not whole and len(recs) > 2:
            recs = recs[:-1]  # the last record of a cut sample may be cut too
        if not recs:
            # csv could not split a line on ``d`` (e.g. a wide line read as one field longer
            # than csv's field limit): ``d`` does not split the header
            stats[d] = (1, False)
            continue
        counts = [len(r) for _, r in recs]
        stats[d] = (counts[0], all(c == counts[0] for c in counts))
    if ext in TSV_EXTENSIONS and stats["\t"][0] > 1:
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


def given_delimiter(sep: str, name: str) -> str:
    """``--sep`` as one character (``tab``, ``\\t``, ``comma``, ... accepted); DataError else."""
    sep = SEP_ALIASES.get(sep.lower(), sep) if len(sep) > 1 else sep
    if len(sep) != 1 or sep in "\r\n\"":
        raise DataError(f"{name}: --sep must be one character (or 'tab'), got {show(sep)}")
    return sep


def detect_decimal(text, delim):
    """',' for a ';'-separated sample whose decimal numbers all use a comma, else '.'."""
    if delim != ";":
        return "."
    comma = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
    dot = re.compile(r"^\s*[+-]?\d*\.\d+\s*$")
    recs = records(text, ";")[1:200]
    n_comma = sum(1 for _, r in recs for v in r if comma.match(v))
    n_dot = sum(1 for _, r in recs for v in r if dot.match(v))
    return "," if n_comma > 0 and n_dot == 0 else "."
