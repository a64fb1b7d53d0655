"""``regulab conventions``: the tools whose settings ``regulab convert`` translates, each with its
objective and parameters (from :data:`regulab.core.conventions.CONVENTIONS`); and the report
section "What lam means" that ``fit --out`` writes (both routes, one and several responses)."""

from __future__ import annotations

from regulab.commands.output import console


def run() -> None:
    """Print one row per convention: id, tool, parameters, objective."""
    from rich.table import Table

    from regulab.core.conventions import CONVENTIONS

    table = Table(show_lines=True)
    for col in ("id", "tool", "parameters", "objective", "mixing (regulab l1_ratio = rho)"):
        table.add_column(col, overflow="fold")
    for c in CONVENTIONS.values():
        params = ", ".join(c.params) + (" (needs --n-samples)" if c.needs_n else "") \
            + (" (elastic net needs --sd-y)" if c.needs_sd_y else "")
        table.add_row(c.name, c.tool, params, c.objective, c.mixing or "-")
    console().print(table)


def conventions_section(doc, n_rows: int):
    """The objective at the chosen lam, and the same penalty in other tools' parameters
    (``doc['conventions']``: ``objective`` and ``equivalents``, tool -> parameters)."""
    from regulab.commands.common import fmt
    from regulab.report.claims.base import Table
    from regulab.report.writer import Section

    eq = doc["conventions"]["equivalents"]
    return Section(
        "conventions", "What lam means",
        paragraphs=[doc["conventions"]["objective"] + "."],
        tables=[Table(caption=f"The same penalty in other tools' parameters (n = {n_rows} rows, "
                              f"the same standardized features)",
                      columns=["tool", "parameters"],
                      rows=[[k, ", ".join(f"{a}={fmt(b, 6) if isinstance(b, float) else b}"
                                          for a, b in v.items())] for k, v in eq.items()])])
