"""``regulab claims``: the claims ``regulab explain`` checks (:data:`regulab.report.claims.REGISTRY`)."""

from __future__ import annotations

from regulab.commands.output import console


def run() -> None:
    """Print one row per claim: id, title, source."""
    from rich.table import Table

    from regulab.report.claims import REGISTRY

    table = Table(title="claims")
    for col in ("id", "title", "source"):
        table.add_column(col)
    for c in REGISTRY.values():
        table.add_row(c.id, c.title, c.source)
    console().print(table)
