"""``regulab predict``: a saved model applied to a table, one prediction per input row.

The preparation stored in the model (columns, category levels, fill values, means, scales) is
applied as it was fitted: a column the model needs and the table lacks is a one-line error naming
it; rows left out for a missing value (``--missing drop`` at fit time) get an empty prediction
and are reported. A regression gives the predicted value; a binary task the probability of the
class coded 1 and the predicted label (probability > 0.5). When the table has the target column,
the error on it is reported too. ``--out PRED.csv`` is written atomically, with spreadsheet-safe
cells, and never over the input file or the model file.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from regulab.commands.common import (
    check_int,
    check_output_file,
    console,
    emit_json,
    fmt,
    input_path,
)
from regulab.data.reading import DEFAULT_MAX_ROWS, load_input

PREVIEW_ROWS = 20


def run(model_path, source, *, out=None, sep=None, encoding=None, na_values=None,
        max_rows=DEFAULT_MAX_ROWS, as_json=False) -> dict:
    from regulab.data.csv_output import write_csv_safely
    from regulab.data.model_io import load_model

    if max_rows is not None:
        check_int(max_rows, "--max-rows", 1)
    check_output_file(out, "--out", [input_path(source)])
    check_output_file(out, "--out", [Path(model_path)], "the model file")
    model = load_model(model_path)
    table = load_input(source, sep=sep, encoding=encoding, na_values=na_values,
                       max_rows=max_rows, min_columns=1)
    prep = model.prep
    applied = prep.apply(table.frame, source_name=table.name)
    pred = model.predict_prepared(applied.X)
    n = len(table.frame)
    rows = applied.rows
    left_out = np.setdiff1d(np.arange(n), rows)

    frame = pd.DataFrame({"row": np.arange(1, n + 1)})
    if model.task in ("regression", "count"):
        values = np.full(n, np.nan)
        values[rows] = pred["linear"] if model.task == "regression" else pred["mean"]
        frame["prediction"] = values
    elif model.task == "multiclass":
        _class_columns(frame, prep.classes, rows, pred)
    else:
        prob = np.full(n, np.nan)
        prob[rows] = pred["probability"]
        labels = np.full(n, None, dtype=object)
        labels[rows] = pred["label"]
        frame["probability"] = prob
        frame["prediction"] = labels
    metrics = None
    if applied.y is not None:
        actual = table.frame[_column(table.frame, prep.target)]
        frame["actual"] = actual.to_numpy(dtype=object)
        metrics = _metrics(model, applied.y, pred)

    doc = {
        "command": "predict", "model": str(model_path), "source": table.name,
        "task": model.task, "target": prep.target,
        "classes": prep.to_dict()["classes"],
        "probability_of": (prep.to_dict()["classes"][1] if model.task == "binary" else
                           prep.to_dict()["classes"] if model.task == "multiclass" else None),
        "n_rows": n, "n_predicted": int(rows.size),
        "left_out_rows": [int(i) + 1 for i in left_out],
        "notes": list(applied.report), "metrics": metrics, "out": None,
        "predictions": _records(frame, model.task),
    }
    if out is not None:
        write_csv_safely(frame, out)
        doc["out"] = str(out)
    if as_json:
        emit_json(doc)
    else:
        _print(doc, frame)
    return doc


def probability_column(label) -> str:
    """The predictions' column of one class's probability (multiclass)."""
    return f"probability:{label}"


def _class_columns(frame, classes, rows, pred) -> None:
    """``prediction`` (the most probable class) and one probability column per class; empty
    for the rows left out."""
    n = len(frame)
    labels = np.full(n, None, dtype=object)
    labels[rows] = pred["label"]
    frame["prediction"] = labels
    for k, c in enumerate(classes):
        prob = np.full(n, np.nan)
        prob[rows] = pred["probabilities"][:, k]
        frame[probability_column(c)] = prob


def _column(df, name):
    for c in df.columns:
        if str(c) == name:
            return c
    raise KeyError(name)  # pragma: no cover - apply() found it


def _metrics(model, y, pred) -> dict | None:
    ok = ~np.isnan(y)
    if not ok.any():
        return None
    y = y[ok]
    if model.task == "regression":
        r = y - pred["linear"][ok]
        return {"rows": int(ok.sum()), "mse": float(np.mean(r**2)),
                "mae": float(np.mean(np.abs(r)))}
    if model.task == "count":
        from regulab.core.losses import poisson_deviance

        mu = pred["mean"][ok]
        return {"rows": int(ok.sum()), "deviance": float(np.mean(poisson_deviance(y, mu))),
                "mae": float(np.mean(np.abs(y - mu)))}
    if model.task == "multiclass":
        from scipy.special import log_softmax

        codes = y.astype(int)
        logp = log_softmax(pred["linear"][ok], axis=1)[np.arange(codes.size), codes]
        return {"rows": int(ok.sum()), "log_loss": float(np.mean(-logp)),
                "accuracy": float(np.mean(np.argmax(pred["linear"][ok], axis=1) == codes))}
    z = pred["linear"][ok]
    t = 2.0 * y - 1.0
    return {"rows": int(ok.sum()), "log_loss": float(np.mean(np.logaddexp(0.0, -t * z))),
            "accuracy": float(np.mean((z > 0) == (y == 1)))}


def _records(frame, task) -> list[dict]:
    out = []
    cols = list(frame.columns)
    for vals in zip(*(frame[c].tolist() for c in cols)):
        rec = {}
        for c, v in zip(cols, vals):
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif isinstance(v, np.generic):
                v = v.item()
            rec[c] = v
        out.append(rec)
    return out


def _print(doc, frame) -> None:
    from rich.table import Table

    con = console()
    con.print(f"[bold]regulab predict[/] {doc['source']} with {doc['model']}: "
              f"{doc['n_predicted']:,} of {doc['n_rows']:,} rows predicted ({doc['task']}"
              + (f", probability of {doc['target']} = {doc['probability_of']!r}"
                 if doc["task"] == "binary" else "")
              + (f", the most probable of {len(doc['classes'])} classes and each class's "
                 f"probability" if doc["task"] == "multiclass" else "") + ")",
              highlight=False, soft_wrap=True)
    for line in doc["notes"]:
        con.print(f"  - {line}", highlight=False, soft_wrap=True, markup=False)
    if doc["left_out_rows"]:
        lo = doc["left_out_rows"]
        con.print(f"[yellow]left out:[/] {len(lo):,} rows with a missing feature value (data rows "
                  f"{', '.join(map(str, lo[:10]))}{', ...' if len(lo) > 10 else ''}): their "
                  f"prediction is empty", highlight=False, soft_wrap=True)
    m = doc["metrics"]
    if m:
        text = (f"MSE {fmt(m['mse'])}, MAE {fmt(m['mae'])}" if "mse" in m else
                f"mean Poisson deviance {fmt(m['deviance'])}, MAE {fmt(m['mae'])} (per unit "
                f"exposure)" if "deviance" in m else
                f"log-loss {fmt(m['log_loss'])}, accuracy {fmt(m['accuracy'])}")
        con.print(f"on the {m['rows']:,} rows with a target: {text}", highlight=False)
    table = Table(title=f"predictions (first {min(PREVIEW_ROWS, len(frame))} of {len(frame):,} "
                        f"rows)", title_justify="left")
    cols = list(frame.columns)
    for c in cols:
        table.add_column(c, justify="left" if c == "prediction" and doc["task"] in (
            "binary", "multiclass") else "right", overflow="fold")
    for rec in doc["predictions"][:PREVIEW_ROWS]:
        table.add_row(*[_cell(rec[c]) for c in cols])
    con.print(table)
    if doc["out"]:
        con.print(f"predictions written: {doc['out']}", highlight=False, soft_wrap=True)
    elif len(frame) > PREVIEW_ROWS:
        con.print("every row: --out PRED.csv or --json", highlight=False)


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return fmt(v)
    return str(v)
