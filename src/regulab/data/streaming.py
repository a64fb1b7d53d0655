"""Reading a table too big for memory: bounded batches, partitions, and folds by row hash.

A :class:`StreamSource` is a Parquet file, a folder of Parquet files (sorted by name) or a
CSV/TSV file. Its **partitions** are the Parquet row groups (file order, then row-group order;
a CSV file is one partition) and each partition is read in batches of at most ``batch_rows``
rows (``pyarrow.parquet.ParquetFile.iter_batches``; ``pandas.read_csv(chunksize=)``), so no more
than ``batch_rows`` rows are ever decoded at once. Every row has a **global position** (its
0-based row number in the whole source), known from the Parquet metadata before anything is
read, so partitions can be read anywhere (Dask workers) and still agree on positions.

**Folds** are a seeded hash of the global position (:func:`hash_folds`): splitmix64's finalizer
applied to ``seed_mix + (position + 1) * 0x9E3779B97F4A7C15`` (mod 2**64), reduced mod K. The
assignment depends on nothing but ``(seed, position, K)``: not on the batch size, the
partitioning, the number of workers, nor on which rows the preparation drops. Folds are
therefore not exactly equal in size (multinomial counts: about ``n/K +- sqrt(n/K)``).

Text values: as in :mod:`regulab.data.parquet` and :mod:`regulab.data.delimited`, only the empty
string (and ``na_values``) is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from regulab.data.errors import DataError
from regulab.data.parquet import (
    PARQUET_EXTENSIONS,
    PARQUET_MAGIC,
    _empty_text_to_missing,
)

#: rows decoded at once unless told otherwise (50 float64 columns: 20 MB)
DEFAULT_BATCH_ROWS = 50_000

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer on uint64 (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def hash_folds(positions, n_folds: int, seed: int = 0) -> np.ndarray:
    """Fold (``0..n_folds-1``, int64) of every global row position (module docstring)."""
    pos = np.asarray(positions, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        key = _mix(np.array([np.uint64(int(seed) % 2**64)], dtype=np.uint64) + _GOLDEN)[0]
        z = _mix(key + (pos + np.uint64(1)) * _GOLDEN)
    return (z % np.uint64(int(n_folds))).astype(np.int64)


@dataclass(frozen=True)
class Partition:
    """Rows ``offset .. offset + n_rows - 1`` of the source: one Parquet row group (``group``)
    of ``file``, or one block of a CSV file (``group`` its index, ``byte_range`` its bytes,
    whole lines), or a whole CSV file (``group = -1``)."""

    file: str
    group: int
    offset: int
    n_rows: int
    byte_range: tuple | None = None


#: bytes of a CSV block (one partition, one Dask task) unless told otherwise
DEFAULT_CSV_BLOCK = 32 * 2**20
_SCAN_CHUNK = 8 * 2**20
_BLOCK_CACHE: dict = {}


def csv_blocks(path: str, block: int) -> list[tuple[int, int, int]]:
    """``(start, end, rows)`` of each block of a CSV file: whole lines, starting after the
    header, cut at the first line end past every ``block`` bytes; ``rows`` counted from the
    line ends in one cheap pass over the bytes (no parsing). ``[]`` when line ends do not count
    rows: a quote character anywhere in the data (a quoted field may hold a line break) or a
    blank line (the parser skips it); such a file is read as one partition."""
    key = (path, block) + tuple(Path(path).stat()[i] for i in (6, 8))   # size, mtime
    if key in _BLOCK_CACHE:
        return _BLOCK_CACHE[key]
    out, rows, prev = [], 0, b"\n"   # the header's line end
    with open(path, "rb") as fh:
        start = pos = len(fh.readline())
        cut = start + block
        while chunk := fh.read(_SCAN_CHUNK):
            if b'"' in chunk or b"\n\n" in prev[-1:] + chunk or b"\n\r\n" in prev[-2:] + chunk:
                _BLOCK_CACHE[key] = []
                return []
            i = 0
            while cut < pos + len(chunk):
                j = chunk.find(b"\n", max(cut - pos, i))
                if j < 0:
                    break
                rows += chunk.count(b"\n", i, j + 1)
                out.append((start, pos + j + 1, rows))
                start, rows, i = pos + j + 1, 0, j + 1
                cut = start + block
            rows += chunk.count(b"\n", i)
            pos += len(chunk)
            prev = chunk
    if prev and not prev.endswith(b"\n"):
        rows += 1                         # a last line without its line end
    if pos > start:
        out.append((start, pos, rows))
    _BLOCK_CACHE[key] = out
    return out


@dataclass(frozen=True)
class StreamSource:
    """A Parquet file or folder, or a CSV/TSV file, read in batches (module docstring)."""

    path: str
    batch_rows: int = DEFAULT_BATCH_ROWS
    sep: str | None = None
    na_values: tuple = ()
    csv_block: int = DEFAULT_CSV_BLOCK

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def files(self) -> list[str]:
        p = Path(self.path)
        if p.is_dir():
            files = sorted(str(f) for f in p.iterdir()
                           if f.is_file() and f.suffix.lower() in PARQUET_EXTENSIONS)
            if not files:
                raise DataError(f"{self.name}: a folder without Parquet files "
                                f"({', '.join(PARQUET_EXTENSIONS)})")
            return files
        if not p.is_file():
            raise DataError(f"{self.name}: no such file or folder")
        return [str(p)]

    @property
    def is_parquet(self) -> bool:
        f = self.files[0]
        with open(f, "rb") as fh:
            head = fh.read(4)
        return head == PARQUET_MAGIC or Path(f).suffix.lower() in PARQUET_EXTENSIONS

    def partitions(self) -> list[Partition]:
        """Every partition in order, with its global row offset (from the metadata for
        Parquet; a CSV file is counted by one pass over its lines)."""
        if not self.is_parquet:
            f = self.files[0]
            blocks = csv_blocks(f, int(self.csv_block))
            if not blocks:
                return [Partition(f, -1, 0, sum(len(c) for c in self._csv_chunks(None)))]
            parts, offset = [], 0
            for g, (a, b, rows) in enumerate(blocks):
                parts.append(Partition(f, g, offset, rows, (a, b)))
                offset += rows
            return parts
        import pyarrow.parquet as pq

        parts, offset = [], 0
        for f in self.files:
            meta = pq.ParquetFile(f).metadata
            for g in range(meta.num_row_groups):
                rows = meta.row_group(g).num_rows
                parts.append(Partition(f, g, offset, rows))
                offset += rows
        return parts

    def columns(self) -> list[str]:
        if self.is_parquet:
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(self.files[0]).schema_arrow.names)
        return [str(c) for c in next(self._csv_chunks(None, nrows=1)).columns]

    def nbytes(self) -> int:
        """Bytes of the source on disk."""
        return sum(Path(f).stat().st_size for f in self.files)

    # -- batches -----------------------------------------------------------------------------
    def frames(self, part: Partition, columns=None) -> Iterator[tuple[int, pd.DataFrame]]:
        """``(global position of the first row, DataFrame)`` for the batches of ``part``."""
        if part.group < 0 or part.byte_range is not None:
            offset = part.offset
            for df in self._csv_chunks(columns, byte_range=part.byte_range):
                yield offset, df
                offset += len(df)
            if part.byte_range is not None and offset != part.offset + part.n_rows:
                raise DataError(f"{self.name}: bytes {part.byte_range[0]:,}-"
                                f"{part.byte_range[1]:,} hold {offset - part.offset:,} rows, "
                                f"not the {part.n_rows:,} lines counted")
            return
        import pyarrow.parquet as pq

        na = [""] + list(self.na_values)
        offset = part.offset
        with pq.ParquetFile(part.file) as pf:
            for rb in pf.iter_batches(batch_size=self.batch_rows, row_groups=[part.group],
                                      columns=columns):
                df = rb.to_pandas()
                _empty_text_to_missing(df, na)
                yield offset, df
                offset += len(df)

    def all_frames(self, columns=None) -> Iterator[tuple[int, pd.DataFrame]]:
        for part in self.partitions():
            yield from self.frames(part, columns)

    def _csv_chunks(self, columns, nrows=None, byte_range=None):
        """The CSV's rows in chunks of ``batch_rows`` (``byte_range``: only those bytes, whole
        lines, read after the header line)."""
        sep = self.sep
        if sep is None:
            sep = "\t" if Path(self.files[0]).suffix.lower() in (".tsv", ".tab") else ","
        source = self.files[0]
        if byte_range is not None:   # one block in memory: its bytes, behind the header
            import io

            with open(source, "rb") as fh:
                head = fh.readline()
                fh.seek(byte_range[0])
                source = io.BytesIO(head + fh.read(byte_range[1] - byte_range[0]))
        try:
            reader = pd.read_csv(source, sep=sep, usecols=columns,
                                 chunksize=None if nrows else self.batch_rows, nrows=nrows,
                                 keep_default_na=False, na_values=[""] + list(self.na_values))
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise DataError(f"{self.name}: cannot be read as CSV ({' '.join(str(exc).split())})") \
                from None
        if nrows:
            yield reader
            return
        with reader:
            yield from reader


def run_partitions(fn, source: "StreamSource", args: tuple, client=None) -> Iterator:
    """``fn(source, part, *args)`` for every partition of ``source``, yielded in partition order,
    on ``client`` when given.

    A generator, so that the caller merges each result as it comes and the memory of a pass does
    not grow with the number of partitions: in this process one partition is computed at a time;
    on a cluster every task is submitted at once and each result is fetched, then its future
    released (the worker drops it), in partition order."""
    parts = source.partitions()
    if client is None:
        for part in parts:
            yield fn(source, part, *args)
        return
    futures = [client.submit(fn, source, part, *args, pure=False, retries=3) for part in parts]
    try:
        for i in range(len(futures)):
            res = futures[i].result()
            futures[i] = None      # the last reference: the scheduler releases the result
            yield res
    finally:
        for f in futures:   # a caller that stops early (an error) cancels what is left
            if f is not None:
                f.cancel()
