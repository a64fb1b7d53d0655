"""``regulab datasets``: the built-in datasets, usable wherever a FILE is expected."""

from __future__ import annotations

from regulab.commands.common import console, emit_json


def run(*, as_json: bool = False) -> dict:
    from regulab.data.datasets import BUILTIN_DATASETS

    rows = [{"name": d.name, "task": d.task, "rows": d.n, "features": d.p, "target": d.target,
             "known_truth": d.synthetic, "description": d.description}
            for d in BUILTIN_DATASETS.values()]
    doc = {"command": "datasets", "datasets": rows}
    if as_json:
        emit_json(doc)
        return doc
    from rich.table import Table

    table = Table(title="built-in datasets (regulab fit NAME, regulab compare NAME, ...)",
                  title_justify="left")
    for col, just in (("name", "left"), ("task", "left"), ("rows", "right"),
                      ("features", "right"), ("target", "left"), ("truth", "left"),
                      ("description", "left")):
        if col == "description":
            table.add_column(col, justify=just, overflow="fold", ratio=1, min_width=20)
        else:
            table.add_column(col, justify=just, no_wrap=True)
    for r in rows:
        table.add_row(r["name"], r["task"], str(r["rows"]), str(r["features"]), r["target"],
                      "known" if r["known_truth"] else "-", r["description"])
    console().print(table)
    console().print("Synthetic sets depend on --seed; their true coefficients are shown by "
                    "`regulab fit` and `regulab compare`.", highlight=False)
    return doc
