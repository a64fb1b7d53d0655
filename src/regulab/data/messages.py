"""Pieces of the data layer's one-line messages: values, lists, sizes, row numbers, close names."""

from __future__ import annotations

import difflib

import numpy as np

from regulab.core.memory import format_bytes


def show(value, limit: int = 40) -> str:
    """``repr`` of a value for a one-line message, shortened to about ``limit`` characters."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 4] + "...'" if text[:1] in "'\"" else text[: limit - 3] + "..."
    return text


def show_list(values, limit: int = 6) -> str:
    """The first ``limit`` values shown by :func:`show`, then how many there are in all."""
    values = list(values)
    shown = ", ".join(show(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def plural(n: int, word: str = "row") -> str:
    """``'1 row'``, ``'1,234 rows'``: a count and its noun, singular for one."""
    n = int(n)
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def show_bytes(nbytes: float) -> str:
    """A size in a message: ``400 bytes``, ``1.5 KiB``, ... ``2.0 TiB``."""
    return format_bytes(nbytes, 1, units=("bytes", "KiB", "MiB", "GiB", "TiB"))


def show_row(i) -> str:
    """Position ``i`` (0-based) of a table as the user counts it: ``data row i+1``."""
    return f"data row {int(i) + 1:,}"


def na_hint(tokens) -> str:
    """The ``--na-values`` argument that reads ``tokens`` as missing."""
    return ",".join(tokens) if all(t and "," not in t and " " not in t for t in tokens) else \
        " ".join(repr(t) for t in tokens)


def close_matches(name: str, candidates) -> list[str]:
    """Column names close to ``name`` (case-insensitive equality first, then difflib)."""
    candidates = [str(c) for c in candidates]
    same_case = [c for c in candidates if c.lower() == str(name).lower() and c != name]
    fuzzy = difflib.get_close_matches(str(name), candidates, n=3, cutoff=0.6)
    return list(dict.fromkeys(same_case + fuzzy))[:3]


def table_name(df, given: str | None) -> str:
    """The name of a table in messages: ``given``, else the file it was read from, else 'data'."""
    if given:
        return str(given)
    src = getattr(df, "attrs", {}).get("regulab_source", {})
    return str(src.get("path") or "data")
