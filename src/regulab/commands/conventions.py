"""``regulab conventions``: the tools whose settings ``regulab convert`` translates, each with its
objective and parameters (from :data:`regulab.core.conventions.CONVENTIONS`)."""

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
