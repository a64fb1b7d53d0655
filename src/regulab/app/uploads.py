"""Uploads of the lab: the size cap (in the browser and again here), decoding and reading.

An upload reaches the server as a ``data:...;base64,...`` URL. Its size is checked before it is
decoded, it is parsed as data only (:func:`regulab.data.reading.read_table`, in a private
temporary directory under a fixed name) and the client's file name is only ever shown as text.
Its shape is checked as soon as it is read (:func:`check_shape`), before anything is prepared or
fitted, and refused in one line that speaks of the app (not of the command line's options).
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile

#: the default cap on one upload (``regulab app`` serves with it)
MAX_UPLOAD_BYTES = 5 * 2**20
#: rows read from one upload at most
UPLOAD_MAX_ROWS = 200_000
#: the extensions an upload may have, and the fixed file suffix each one is read as
_SUFFIXES = {"csv": ".csv", "txt": ".csv", "tsv": ".tsv", "tab": ".tsv", "parquet": ".parquet",
             "pq": ".parquet", "parq": ".parquet"}


class UploadRefused(ValueError):
    """An upload the app will not read (too large, not a file); the message is for the user."""


def size_text(n: float) -> str:
    """A size in bytes for a message: ``'1.5 MiB'``, ``'12.0 KiB'``."""
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.1f} KiB"


def cap_text(max_bytes: int) -> str:
    """The cap as the page states it: ``'5 MiB'``, ``'64 KiB'``."""
    return f"{max_bytes / 2**20:g} MiB" if max_bytes >= 2**20 else f"{max_bytes / 1024:g} KiB"


def over_cap(name: str, size: float, max_bytes: int) -> str:
    """The one-line refusal of an upload over the cap."""
    return f"{name} is {size_text(size)}, over the {size_text(max_bytes)} limit of uploads: refused"


def display_name(filename) -> str:
    """The client's file name as *text* for messages (never used to build a path)."""
    name = str(filename or "upload").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(c if c.isprintable() else "?" for c in name) or "upload"
    return name if len(name) <= 80 else name[:77] + "..."


def decode_upload(contents: str, filename, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """The bytes of a ``data:...;base64,...`` upload, refusing anything over ``max_bytes``
    *before* decoding it."""
    if not isinstance(contents, str) or not contents.startswith("data:"):
        raise UploadRefused("not a file upload")
    head, sep, b64 = contents.partition(",")
    if not sep or ";base64" not in head:
        raise UploadRefused("not a base64 file upload")
    approx = (len(b64) * 3) // 4
    if approx - 2 > max_bytes:
        raise UploadRefused(over_cap(display_name(filename), approx, max_bytes))
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused(f"{display_name(filename)}: the upload is not valid base64") from None
    if len(raw) > max_bytes:
        raise UploadRefused(over_cap(display_name(filename), len(raw), max_bytes))
    if not raw:
        raise UploadRefused(f"{display_name(filename)} is empty (0 bytes)")
    return raw


def read_upload(raw: bytes, filename, max_bytes: int = MAX_UPLOAD_BYTES,
                max_columns: int | None = None):
    """Parse uploaded bytes with :func:`regulab.data.reading.read_table`, then
    :func:`check_shape` (``max_columns``: the most columns the app takes, None: any).

    ``read_table`` reads paths, so the bytes go to a fixed name (``upload.csv``, ``.tsv`` or
    ``.parquet``, chosen from a whitelist of extensions) in a private temporary directory that
    is removed at once; the client's file name only ever appears as text in messages.
    """
    from regulab.data.errors import DataError
    from regulab.data.reading import read_table

    name = display_name(filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    suffix = _SUFFIXES.get(ext, ".csv")
    with tempfile.TemporaryDirectory(prefix="regulab-upload-") as tmp:
        path = os.path.join(tmp, "upload" + suffix)
        with open(path, "xb") as fh:
            fh.write(raw)
        try:
            # one column and too many rows are the app's to refuse (check_shape): read_table's
            # messages for them name the command line's --sep and --max-rows
            df = read_table(path, max_rows=None, max_bytes=max_bytes, min_columns=1)
        except DataError as exc:
            raise DataError(str(exc).replace(path, name)) from None
    df.attrs["regulab_source"] = dict(df.attrs.get("regulab_source", {}), path=name)
    check_shape(df, name, max_columns)
    return df


def check_shape(df, name: str, max_columns: int | None = None) -> None:
    """Refuse, with :class:`UploadRefused` and one line, a table the app cannot use: a single
    column (no delimiter found), more than :data:`UPLOAD_MAX_ROWS` rows or more than
    ``max_columns`` columns."""
    from regulab.data.messages import show

    rows, cols = df.shape
    if cols < 2:
        source = df.attrs.get("regulab_source", {})
        if source.get("format") in ("csv", "tsv"):
            found = (f"no ',', ';', tab or '|' separates the names in its header line "
                     f"{show(str(df.columns[0]), 50)}")
            todo = ("save it with commas, semicolons or tabs between the columns and upload it "
                    "again")
        else:
            found, todo = "the file holds one column", "add the features and upload it again"
        raise UploadRefused(f"{name} was read as a single column ({found}); the app needs a "
                            f"target and at least one feature: {todo}")
    if rows > UPLOAD_MAX_ROWS:
        raise UploadRefused(f"{name} has {rows:,} rows; the app reads at most "
                            f"{UPLOAD_MAX_ROWS:,}: upload a sample of the rows")
    if max_columns is not None and cols > max_columns:
        raise UploadRefused(f"{name} has {cols:,} columns; the app draws at most "
                            f"{max_columns - 1} features and the target: refused before "
                            f"preparing it (use `regulab path` on the command line)")


def upload_gate_js(max_bytes: int) -> str:
    """Client-side gate: an upload over the cap is refused in the browser, so its bytes are
    never sent; only its size and name reach the server (which checks again anyway)."""
    return f"""
function(contents, filename) {{
    if (!contents) {{ return window.dash_clientside.no_update; }}
    var comma = contents.indexOf(",");
    var size = Math.floor((contents.length - comma - 1) * 3 / 4);
    if (size > {int(max_bytes)} + 2) {{
        return {{"refused": true, "size": size, "filename": filename, "t": Date.now()}};
    }}
    return {{"contents": contents, "filename": filename, "t": Date.now()}};
}}
"""
