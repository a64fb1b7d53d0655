"""One tool's parameters into every other tool's, through regulab's scale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from regulab.core.conventions.convention import (
    Convention,
    ConversionRow,
    check_n_samples,
    needs_n_message,
)
from regulab.core.conventions.setting import NotRepresentable, Setting
from regulab.core.conventions.tools import CONVENTIONS, get_convention


def convert(
    src: str,
    params: Mapping,
    n_samples: int | None = None,
    to: list[str] | None = None,
    loss: str | None = None,
    sd_y: float | None = None,
) -> list[ConversionRow]:
    """Convert one tool's parameters into every other tool's.

    Parameters
    ----------
    src : str
        Id of the source convention (a key of :data:`CONVENTIONS`).
    params : mapping
        The source tool's parameters, e.g. ``{"alpha": 0.1}``.
    n_samples : int, optional
        Number of training samples; needed by conventions whose objective sums over samples.
    to : list of str, optional
        Target ids; all conventions, in registry order, when None.
    loss : {'squared', 'logistic'}, optional
        Loss scale of an ``any_loss`` source; when None, such a source is read on each target's
        scale.
    sd_y : float, optional
        ``sd(y)`` (1/n variance) of the response, for glmnet's gaussian family, which scales y
        by it; without it an elastic-net row of that family gives the reason instead.

    Returns
    -------
    list of ConversionRow
        One row per target: its parameters, or the reason (not representable, another loss scale,
        ``n_samples`` missing) it has none.
    """
    source = get_convention(src)
    if n_samples is not None:
        n_samples = check_n_samples(n_samples)
    setting = source.to_regulab(params, n_samples, loss, sd_y=sd_y)
    free = source.any_loss and loss is None
    targets = list(CONVENTIONS.values()) if to is None else [get_convention(t) for t in to]
    return [_row(t, replace(setting, loss=t.loss) if free else setting, n_samples, sd_y)
            for t in targets]


def _row(target: Convention, setting: Setting, n_samples: int | None,
         sd_y: float | None = None) -> ConversionRow:
    params, reason = None, None
    if target.needs_n and n_samples is None:
        reason = needs_n_message(target)
    else:
        try:
            params = target.from_regulab(setting, n_samples, sd_y=sd_y)
        except NotRepresentable as exc:
            reason = str(exc)
    return ConversionRow(
        target.name, target.tool, params, reason, target.objective, target.scale_note
    )
