"""The report of a preparation: one line per step, in the order the steps ran, with the counts
behind it (rows dropped and why, columns dropped and why, missing values per column)."""

from __future__ import annotations

from dataclasses import dataclass, field

from regulab.data.messages import show


@dataclass
class PrepReport:
    """What :func:`regulab.data.prepare.prepare` did, step by step."""

    lines: list[str] = field(default_factory=list)
    dropped_rows: dict[str, int] = field(default_factory=dict)
    dropped_columns: dict[str, str] = field(default_factory=dict)
    missing_counts: dict[str, int] = field(default_factory=dict)

    @property
    def after_drop(self) -> str:
        """Words to add to "constant" when dropping rows with missing values made it so."""
        return (" once rows with missing values were dropped"
                if self.dropped_rows.get("missing feature value") else "")

    def note(self, line: str) -> None:
        self.lines.append(line)

    def drop_rows(self, why: str, count: int, line: str) -> None:
        """``count`` rows left out for ``why`` (a key of ``dropped_rows``), told by ``line``."""
        self.dropped_rows[why] = int(count)
        self.lines.append(line)

    def drop_column(self, name: str, why: str) -> None:
        """Column ``name`` left out; listed with the others by :meth:`list_dropped_columns`."""
        self.dropped_columns[name] = why

    def list_dropped_columns(self) -> None:
        for name, why in self.dropped_columns.items():
            self.lines.append(f"column {show(name)}: dropped: {why}")

    def standardization(self, p: int, standardize: bool) -> None:
        self.lines.append(f"standardized the {p} columns of X to mean 0 and standard deviation 1 "
                          f"(population sd); coefficients are reported in both scales"
                          if standardize else "no standardization: X is used in original units")

    def result(self, n_rows: int, n_in: int, p: int, n_columns: int) -> None:
        self.lines.append(f"result: {n_rows:,} rows (of {n_in:,}) x {p} features from "
                          f"{n_columns} columns")
