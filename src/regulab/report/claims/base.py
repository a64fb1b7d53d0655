"""What a claim is: an experiment that measures one statement of the seeds and gives a verdict.

A claim module names its experiment and provides four functions, in this order of data flow::

    measure(config)                        -> Measured(metrics, data, tables)
    predict(metrics, config)               -> [Prediction, ...]      # could have come out otherwise
    verify(metrics)                        -> [Verification, ...]    # identities: checks of the code
    words(metrics, predictions, outcome)   -> (verdict sentence, nuance)

:func:`run_claim` composes them. Only predictions count toward the verdict; a prediction whose
condition does not hold at this setting (``applies=False``) is shown and not counted.
Verifications (a gradient formula against its finite difference, a theorem such as "OLS's
training slope is 1") are shown as checks of the code, never as evidence. The verdict has three
values, from the counted predictions alone (:func:`outcome_of`): **holds** (all held),
**holds in part** (some), **does not hold** (none). A claim that raises is reported as
**error** with the reason, and the other claims still run (:mod:`regulab.report.explain`).
"""

from __future__ import annotations

import importlib.util
import math
import operator
from dataclasses import dataclass, field
from typing import Callable, Mapping

from regulab.core.validation import check_nonneg, check_positive

HOLDS, PART, FAILS = "holds", "holds in part", "does not hold"
NOT_TESTED, ERROR, SKIPPED = "not tested", "error", "skipped"
#: every outcome a claim can have, in the order the report counts them
OUTCOMES = (HOLDS, PART, FAILS, NOT_TESTED, ERROR, SKIPPED)

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


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


@dataclass(frozen=True)
class Prediction:
    """A measured value against a threshold, stated before the measurement could say otherwise.

    ``held`` is ``value <op> threshold``; ``margin`` is the signed distance to the threshold in
    the direction that holds (positive: held with room; negative: missed by that much; 0 on the
    edge). ``applies`` is False when the prediction's condition is not met at this setting (for
    example "L1 is exactly 0" below lam*): then it is shown with ``note`` and not counted. ``se``
    is the standard error of ``value`` where ``value`` is a mean over draws.
    """

    name: str
    text: str
    value: float
    op: str
    threshold: float
    unit: str = ""
    applies: bool = True
    note: str = ""
    se: float | None = None

    def __post_init__(self):
        if self.op not in _OPS:
            raise ValueError(f"op must be one of {', '.join(_OPS)}, got {self.op!r}")

    @property
    def held(self) -> bool:
        v, t = float(self.value), float(self.threshold)
        return bool(not math.isnan(v) and _OPS[self.op](v, t))

    @property
    def margin(self) -> float:
        v, t = float(self.value), float(self.threshold)
        return v - t if self.op in (">", ">=") else t - v

    @property
    def margin_in_se(self) -> float | None:
        """The margin in standard errors (None without an SE)."""
        if self.se is None or not self.se > 0:
            return None
        return self.margin / float(self.se)

    def as_dict(self) -> dict:
        return {"name": self.name, "text": self.text, "value": self.value, "op": self.op,
                "threshold": self.threshold, "unit": self.unit, "margin": self.margin,
                "se": self.se, "margin_in_se": self.margin_in_se, "held": self.held,
                "applies": self.applies, "note": self.note}


@dataclass(frozen=True)
class Verification:
    """A check of the code (an identity or a theorem): shown, labelled, never evidence."""

    name: str
    text: str
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "text": self.text, "passed": bool(self.passed),
                "detail": self.detail}


def outcome_of(predictions) -> str:
    """holds / holds in part / does not hold, from the predictions that apply ("not tested"
    when none applies)."""
    counted = [p for p in predictions if p.applies]
    if not counted:
        return NOT_TESTED
    held = sum(p.held for p in counted)
    return HOLDS if held == len(counted) else FAILS if held == 0 else PART


def tally(predictions) -> str:
    """``'3 of 4 predictions held (tightest margin: ...)'``, for sentences."""
    counted = [p for p in predictions if p.applies]
    if not counted:
        return "no prediction applies at this setting"
    held = sum(p.held for p in counted)
    tight = min(counted, key=lambda p: p.margin)
    unit = f" {tight.unit}" if tight.unit else ""
    return (f"{held} of {len(counted)} prediction{'s' if len(counted) != 1 else ''} held; "
            f"tightest margin {tight.margin:+.3g}{unit} ({tight.name})")


def headline(outcome: str, predictions, holds: str = "As the seed says.",
             subject: str = "the seed", fails: str | None = None,
             part: str | None = None) -> str:
    """The verdict's first sentence for each outcome: ``holds`` when all held; otherwise what
    contradicted ``subject`` or held only in part, with :func:`tally`. ``fails`` and ``part``
    replace those two sentences by a claim's own, ``{tally}`` standing for the tally."""
    if outcome == HOLDS:
        return holds
    if outcome == FAILS:
        return (fails or "The measurements contradict {subject}: {tally}.").format(
            subject=subject, tally=tally(predictions))
    return (part or "{Subject}'s statement holds only in part: {tally}.").format(
        Subject=f"{subject[0].upper()}{subject[1:]}", tally=tally(predictions))


def missed_text(predictions) -> str:
    """``' Missed: <text> (measured <value> ± <se>); ...'`` for the counted predictions that
    failed, or ``''``."""
    out = []
    for p in predictions:
        if p.applies and not p.held:
            se = f" ± {p.se:.2g}" if p.se is not None and math.isfinite(p.se) else ""
            val = "undefined" if math.isnan(float(p.value)) else f"{float(p.value):.3g}"
            out.append(f"{p.text} (measured {val}{se}{' ' + p.unit if p.unit else ''})")
    return (" Missed: " + "; ".join(out) + ".") if out else ""


@dataclass
class Table:
    """A small table for the report: a caption, column names and rows of already-formatted cells."""

    caption: str
    columns: list[str]
    rows: list[list]

    def as_dict(self) -> dict:
        return {"caption": self.caption, "columns": self.columns, "rows": self.rows}


@dataclass
class Measured:
    """What :func:`measure` returns: JSON-ready ``metrics``, figure ``data`` (arrays; not written
    to results.json) and report ``tables``."""

    metrics: dict
    data: dict = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)


@dataclass
class ClaimResult:
    """What one claim measured, and its verdict.

    ``outcome`` is one of :data:`OUTCOMES`; ``holds`` is ``outcome == 'holds'`` (kept for
    readers of results.json); ``checks`` maps each counted prediction to whether it held.
    ``verdict`` says in words what was measured, quoting the numbers, for the outcome that came
    out; ``nuance`` says where the simple story is not the whole truth. ``robustness`` summarizes
    a run over several seeds (:mod:`regulab.report.explain`).
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
    outcome: str = ""
    predictions: list[Prediction] = field(default_factory=list)
    verifications: list[Verification] = field(default_factory=list)
    error: str | None = None
    robustness: dict | None = None

    def __post_init__(self):
        if not self.outcome:  # a result built from checks alone (user code, old claims)
            self.outcome = (SKIPPED if self.skipped else HOLDS if self.holds else
                            FAILS if self.checks else NOT_TESTED)


def run_claim(module, config: ExplainConfig, parts: dict | None = None) -> ClaimResult:
    """Run a claim module's experiment: measure -> predictions -> verdict -> words.

    ``parts``: for a module with ``PARTS``, the results of ``module.measure_part`` for each
    part (run elsewhere, e.g. in worker processes), which ``module.measure`` assembles.
    """
    measured = module.measure(config) if parts is None else module.measure(config, parts)
    predictions = list(module.predict(measured.metrics, config))
    verifications = list(module.verify(measured.metrics)) if hasattr(module, "verify") else []
    outcome = outcome_of(predictions)
    verdict, nuance = module.words(measured.metrics, predictions, outcome)
    return ClaimResult(
        id=module.ID, title=module.TITLE, source=module.SOURCE, statement=module.STATEMENT,
        holds=outcome == HOLDS, verdict=verdict, nuance=nuance, metrics=measured.metrics,
        checks={p.name: p.held for p in predictions if p.applies}, tables=measured.tables,
        data=measured.data, outcome=outcome, predictions=predictions,
        verifications=verifications)


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
    #: rough seconds of one run on one core: ``regulab explain`` hands out the longest first
    cost_s: float = 1.0
    #: independent parts of the experiment and their rough seconds (empty: one piece);
    #: ``measure_part(part, config)`` runs one, ``run(config, parts={part: result})`` assembles
    parts: Mapping[str, float] = field(default_factory=dict)
    measure_part: Callable | None = None

    def missing(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def skipped_result(self) -> ClaimResult:
        reason = f"skipped: needs {', '.join(self.missing())}. {self.install_hint}".strip()
        return ClaimResult(id=self.id, title=self.title, source=self.source,
                           statement=self.statement, holds=False, verdict=reason, metrics={},
                           skipped=reason, outcome=SKIPPED)

    def error_result(self, exc: BaseException, phase: str = "measuring") -> ClaimResult:
        """The result of a claim whose experiment raised: the reason in one line."""
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        return ClaimResult(id=self.id, title=self.title, source=self.source,
                           statement=self.statement, holds=False, metrics={},
                           verdict=f"The experiment could not be completed ({phase}): {reason}",
                           outcome=ERROR, error=reason)


def verdict_from(checks: dict[str, bool]) -> bool:
    """A claim holds when every one of its named checks passed."""
    return bool(checks) and all(bool(v) for v in checks.values())
