"""The registry of claims, in report order. Each claim module gives ``run``; each plot module
gives the figures. A new claim is one ``Claim(...)`` line here."""

from __future__ import annotations

from functools import partial

from regulab.report.claims import (
    calibration,
    choose_lambda,
    geometry,
    gradient_table,
    gradient_view,
    neural_net,
    one_weight,
    sparsity,
    when_to_use,
)
from regulab.report.claims.base import (
    Claim,
    ClaimResult,
    ExplainConfig,
    Table,
    run_claim,
)
from regulab.report.plots.choice import plot_calibration, plot_when_to_use
from regulab.report.plots.geometry import plot_geometry
from regulab.report.plots.gradient_table import plot_gradient_table
from regulab.report.plots.gradient_view import plot_gradient_view
from regulab.report.plots.neural_net import plot_neural_net
from regulab.report.plots.one_weight import plot_one_weight
from regulab.report.plots.paths import plot_choose_lambda, plot_sparsity


def _claim(module, plot, **kw) -> Claim:
    # a claim module is an experiment (measure, predict, verify, words) composed by run_claim
    run = partial(run_claim, module) if hasattr(module, "measure") else module.run
    # a module with PARTS can be measured in pieces (e.g. in different worker processes)
    parts = dict(getattr(module, "PARTS", {}))
    return Claim(id=module.ID, title=module.TITLE, source=module.SOURCE,
                 statement=module.STATEMENT, run=run, plot=plot, parts=parts,
                 measure_part=getattr(module, "measure_part", None) if parts else None, **kw)


# cost_s: seconds of one run on one core of the 2-core reference machine (docs/benchmarks.md),
# used only to hand out the longest claims first
REGISTRY: dict[str, Claim] = {c.id: c for c in [
    _claim(one_weight, plot_one_weight, cost_s=0.2),
    _claim(gradient_view, plot_gradient_view, cost_s=0.5),
    _claim(gradient_table, plot_gradient_table, cost_s=0.5),
    _claim(geometry, plot_geometry, cost_s=3.0),
    _claim(sparsity, plot_sparsity, cost_s=4.5),
    _claim(choose_lambda, plot_choose_lambda, cost_s=2.0),
    _claim(when_to_use, plot_when_to_use, cost_s=5.0),
    _claim(neural_net, plot_neural_net, requires=("torch",),
           install_hint="Install the extra: pip install 'regulab[nn]'", cost_s=15.0),
    _claim(calibration, plot_calibration, cost_s=12.0),
]}
#: the claims as registered at import: the ones a fresh worker process builds identically
BUILTIN: dict[str, Claim] = dict(REGISTRY)


def select(ids=None) -> list[Claim]:
    """The claims named by ``ids`` (all when empty), in registry order; unknown ids raise."""
    if not ids:
        return list(REGISTRY.values())
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown claim id {', '.join(map(repr, unknown))}; valid ids: "
                       f"{', '.join(REGISTRY)}")
    return [c for c in REGISTRY.values() if c.id in set(ids)]


__all__ = ["BUILTIN", "REGISTRY", "select", "Claim", "ClaimResult", "ExplainConfig", "Table", "run_claim"]
