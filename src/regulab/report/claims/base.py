"""What a claim is: an experiment that measures one statement of the seeds and gives a verdict."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Callable

from regulab.core.validation import check_nonneg, check_positive


@dataclass(frozen=True)
class ExplainConfig:
    """Settings shared by every claim of one ``regulab explain`` run.

    ``seed`` drives every random draw (same seed, same numbers). ``lam`` and ``step``, when
    given, replace the default penalty strength and step size of the one-weight claims.
    """

    seed: int = 0
    lam: float | None = None
    step: float | None = None

    def __post_init__(self):
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if self.lam is not None:
            check_nonneg(self.lam, "lam")
        if self.step is not None:
            check_positive(self.step, "step")


@dataclass
class Table:
    """A small table for the report: a caption, column names and rows of already-formatted cells."""

    caption: str
    columns: list[str]
    rows: list[list]

    def as_dict(self) -> dict:
        return {"caption": self.caption, "columns": self.columns, "rows": self.rows}


@dataclass
class ClaimResult:
    """What one claim measured.

    ``metrics`` are the numbers (JSON-ready scalars and short lists); ``holds`` is computed from
    them; ``verdict`` says in one or two sentences what was measured, quoting the numbers;
    ``nuance`` says where the simple story is not the whole truth. ``data`` carries the arrays the
    figures are drawn from and is not written to ``results.json``.
    """

    id: str
    title: str
    source: str
    statement: str
    holds: bool
    verdict: str
    metrics: dict
    nuance: str = ""
    checks: dict = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    figure_captions: dict = field(default_factory=dict)
    skipped: str | None = None


@dataclass(frozen=True)
class Claim:
    """A registered claim: how to run it and how to draw it.

    ``run(config) -> ClaimResult`` computes; ``plot(result) -> {name: (figure, caption)}`` draws
    matplotlib figures from the result only. ``requires`` names optional modules (e.g. ``torch``);
    when one is missing the claim is skipped with ``install_hint``.
    """

    id: str
    title: str
    source: str
    statement: str
    run: Callable
    plot: Callable
    requires: tuple[str, ...] = ()
    install_hint: str = ""

    def missing(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def skipped_result(self) -> ClaimResult:
        reason = f"skipped: needs {', '.join(self.missing())}. {self.install_hint}".strip()
        return ClaimResult(id=self.id, title=self.title, source=self.source,
                           statement=self.statement, holds=False, verdict=reason, metrics={},
                           skipped=reason)


def verdict_from(checks: dict[str, bool]) -> bool:
    """A claim holds when every one of its named checks passed."""
    return bool(checks) and all(bool(v) for v in checks.values())
