"""What ``regulab path`` prints and writes per lam, shared by the single-response and the
multinomial routes (:mod:`.path`, :mod:`.multinomial_path`): the console lines, the per-lam
columns of ``path.csv``, and the opening and closing of the ``--out`` report."""

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


def start_report(out, doc, path_frame) -> Path:
    """Prepare the ``--out`` folder, write ``path.csv`` (``path_frame(doc)``) there and note
    both files in ``doc``; return the folder."""
    from regulab.data.csv_output import write_csv_safely
    from regulab.report.writer import prepare_out_dir

    out = prepare_out_dir(out)
    write_csv_safely(path_frame(doc), out / "path.csv")
    doc["csv"] = str(out / "path.csv")
    doc["report"] = str(out / "index.html")
    return out


def finish_report(out, doc, loaded, sections, *, subtitle: str, one_column: str,
                  table) -> None:
    """Write ``index.html``: ``sections``, then the path at some lams (``table``, a
    :class:`~regulab.report.claims.base.Table`; ``one_column`` says how path.csv names the
    coefficient columns) and the data preparation."""
    from regulab.report.writer import Section, write_analysis_report

    lams = Section("table", "The path at some lams",
                   paragraphs=["Every lam is in path.csv (one row per lam; coefficients on the "
                               f"standardized scale, {one_column})."],
                   tables=[table])
    prep = Section("preparation", "Data and preparation", items=doc["preparation"]["steps"])
    write_analysis_report(out, title=f"regulab path: {loaded.name}", subtitle=subtitle,
                          sections=[*sections, lams, prep], document=doc,
                          files=[("path.csv", "path.csv")])
