"""Which penalty to use, decided from measurements: the rules of ``docs/recommendation.md``.

The input is what `regulab compare` measures for each penalty on the user's data: the CV error and
its standard error at the chosen lam, how many features the fit keeps, how stable the kept set is
across resamples (mean pairwise Jaccard index of the kept sets) and, optionally, the calibration
slope. The output is one penalty and the reasons, each quoting the numbers it rests on.

Rules, in order (seed 001's practical implications, made measurable):

1. **Accuracy first.** A method whose CV error exceeds the best method's by more than the best's
   standard error is out ("clearly worse").
2. **Prefer fewer features when accuracy ties.** Among the methods left, a sparse one (L1 or elastic
   net keeping fewer features than there are) beats L2 - seed 001: "L1 when you want feature
   selection / interpretability".
3. **But only a stable selection counts.** L1 is preferred over elastic net only when its kept set is
   stable (Jaccard >= ``stable_jaccard``, default 0.7); otherwise elastic net, which keeps correlated
   features together, is preferred if it is left.
4. **No selection, no reason to be sparse.** If the sparse methods keep (nearly) every feature
   (more than ``dense_share`` of them, default 0.9), they bring no interpretability: L2 if left.
5. **Calibration is reported, not decisive:** a slope outside [0.8, 1.2] adds a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regulab.core.penalties import KINDS, kind_of, sparsest_first


@dataclass(frozen=True)
class MethodSummary:
    """What was measured for one penalty."""

    cv_error: float
    cv_se: float
    n_kept: int
    n_features: int
    stability: float | None = None      # mean pairwise Jaccard of kept sets across resamples
    calibration_slope: float | None = None


@dataclass
class Recommendation:
    penalty: str
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)   # which rules decided, in order

    def as_dict(self) -> dict:
        return {"penalty": self.penalty, "reasons": self.reasons, "warnings": self.warnings,
                "rules": self.rules}


def recommend(summaries: dict[str, MethodSummary], *, stable_jaccard: float = 0.7,
              dense_share: float = 0.9) -> Recommendation:
    """Apply the rules of the module docstring to ``{'l1': ..., 'l2': ..., 'elasticnet': ...}``
    (keyed by kinds of :data:`regulab.core.penalties.KINDS`)."""
    methods = sparsest_first()
    unknown = set(summaries) - set(methods)
    if unknown or not summaries:
        raise ValueError(f"summaries must be keyed by {', '.join(methods)}; got "
                         f"{', '.join(map(repr, summaries)) or 'nothing'}")
    # the rules' roles: the pure L1 kind, the mixed kind (user-picked share), the pure L2 kind
    l1, en, l2 = kind_of(1.0).name, kind_of(None).name, kind_of(0.0).name
    best = min(summaries, key=lambda m: summaries[m].cv_error)
    b = summaries[best]
    bound = b.cv_error + b.cv_se
    left = [m for m in methods if m in summaries and summaries[m].cv_error <= bound]
    rec = Recommendation(penalty=best)
    rec.reasons.append(
        f"lowest CV error: {_name(best)} {b.cv_error:.4g} +- {b.cv_se:.2g} (SE)")
    for m in methods:
        if m in summaries and m not in left:
            s = summaries[m]
            rec.reasons.append(
                f"{_name(m)} is clearly worse: CV error {s.cv_error:.4g} exceeds "
                f"{b.cv_error:.4g} + {b.cv_se:.2g} (one SE of the best)")
    rec.rules.append("1-accuracy")

    def sparse(m):
        s = summaries[m]
        return s.n_kept < s.n_features

    def stable(m):
        s = summaries[m]
        return s.stability is None or s.stability >= stable_jaccard

    choice = best
    sparse_left = [m for m in (l1, en) if m in left and sparse(m)]
    if sparse_left:
        rec.rules.append("2-prefer-sparse")
        if l1 in sparse_left and stable(l1):
            choice = l1
        elif en in sparse_left:
            choice = en
            if l1 in sparse_left:
                rec.rules.append("3-unstable-l1")
                rec.reasons.append(
                    f"{_name(l1)}'s kept set is unstable across resamples (Jaccard "
                    f"{summaries[l1].stability:.2f} < {stable_jaccard:g}); {_name(en)}'s is "
                    f"{_fmt_stab(summaries[en].stability)}")
        else:
            choice = l1
        s = summaries[choice]
        if s.n_kept > dense_share * s.n_features and l2 in left:
            rec.rules.append("4-no-selection")
            rec.reasons.append(
                f"{_name(choice)} keeps {s.n_kept} of {s.n_features} features (> "
                f"{dense_share:.0%}): no selection to gain, and {_name(l2)} is as accurate")
            choice = l2
        elif choice != best:
            rec.reasons.append(
                f"{_name(choice)} is within one SE of the best ({s.cv_error:.4g}) and keeps "
                f"{s.n_kept} of {s.n_features} features")
        else:
            rec.reasons.append(f"it keeps {s.n_kept} of {s.n_features} features")
        if choice in (l1, en) and s.stability is not None:
            rec.reasons.append(f"{_name(choice)}'s kept set has Jaccard stability "
                               f"{s.stability:.2f} across resamples")
    elif best == l2 or l2 in left:
        choice = l2
        rec.reasons.append("the sparse penalties keep every feature or are clearly worse: "
                           "nothing to select")
    rec.penalty = choice
    slope = summaries[choice].calibration_slope
    if slope is not None and not 0.8 <= slope <= 1.2:
        rec.warnings.append(
            f"calibration slope {slope:.2f} on held-out data (1 is ideal): predictions are "
            f"{'too extreme' if slope < 1 else 'too timid'}")
    return rec


def _name(kind: str) -> str:
    """How the reasons name a kind: ``'L1'``, ``'elastic net'``, ``'L2'``."""
    return KINDS[kind].short


def _fmt_stab(value) -> str:
    return "not measured" if value is None else f"{value:.2f}"
