"""What ``regulab path`` prints and writes per lam, shared by the single-response and the
multinomial routes (:mod:`.path`, :mod:`.multinomial_path`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def print_entry_order(con, doc, label: str) -> None:
    """The order in which features enter the path, and those never non-zero on the grid."""
    order = [e["feature"] for e in doc["entry"] if e["index"] is not None]
    never = [e["feature"] for e in doc["entry"] if e["index"] is None]
    con.print(f"{label}: {', '.join(order[:20])}{', ...' if len(order) > 20 else ''}"
              + (f"; never non-zero on the grid: {', '.join(never)}" if never else ""),
              highlight=False, soft_wrap=True)


def print_files(con, doc) -> None:
    """Where ``path.csv`` and the report went, or how to get them."""
    if doc["csv"]:
        con.print(f"path.csv: {doc['csv']}", highlight=False, soft_wrap=True)
        con.print(f"report: {Path(doc['report']).resolve()}", highlight=False, soft_wrap=True)
    else:
        con.print("figures and path.csv: --out DIR", highlight=False)


def lam_frame(doc) -> pd.DataFrame:
    """The per-lam columns of ``path.csv``: lam, log_lam, nnz, cv_mean, cv_se, train_error."""
    return pd.DataFrame({"lam": np.asarray(doc["lams"]), "log_lam": np.asarray(doc["log_lams"]),
                         "nnz": np.asarray(doc["nnz"]), "cv_mean": np.asarray(doc["cv_mean"]),
                         "cv_se": np.asarray(doc["cv_se"]),
                         "train_error": np.asarray(doc["train_error"])})
