"""``regulab convert``: one regularization setting in every tool's convention (``regulab
conventions`` lists them).

regulab's objective is ``mean loss + lam * (l1_ratio * sum|w_j| + (1 - l1_ratio) * sum w_j**2)``
(README, "The objective, and other tools' lambdas"); :mod:`regulab.core.conventions` holds each
tool's objective and the conversions.
"""

from __future__ import annotations

from regulab.commands.output import console
from regulab.core.conventions.setting import LOSS_WORDS


def _setting_text(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else f"{value}"


def sd_of_target(data, target) -> float:
    """``sd(y)`` (1/n variance, as glmnet) of the numeric target ``target`` of the table ``data``,
    read and prepared as ``regulab fit`` does (rows with a missing value left out)."""
    import numpy as np

    from regulab.commands.common import DataOptions, OptionError, load

    if target is None:
        raise OptionError("--data needs --target: the column whose sd(y) glmnet scales by")
    loaded = load(data, DataOptions(target=target))
    if loaded.prep.task != "regression":
        raise OptionError(f"--target {target!r} is not numeric ({loaded.prep.task}): sd(y) "
                          f"matters for glmnet's gaussian family only")
    return float(np.std(loaded.prep.y))


def run(src: str, params: dict, *, to=None, n_samples=None, loss=None, as_json=False,
        sd_y=None, data=None, target=None) -> None:
    """Print ``params`` (given in convention ``src``; None values are not given) on regulab's
    scale and in each convention of ``to`` (default: all), or why a tool cannot express it.
    ``sd_y`` (or ``data`` and ``target``, to compute it) is glmnet gaussian's sd(y)."""
    from rich.table import Table

    from regulab.commands.common import OptionError
    from regulab.core.conventions import convert, get_convention
    from regulab.core.conventions.convention import check_sd_y

    params = {k: v for k, v in params.items() if v is not None}
    if data is not None:
        if sd_y is not None:
            raise OptionError("give sd(y) once: --sd-y or --data with --target, not both")
        sd_y = sd_of_target(data, target)
    elif target is not None:
        raise OptionError("--target names a column of --data FILE; give the file too")
    try:
        sd_y = check_sd_y(sd_y)
    except ValueError:
        raise OptionError(f"--sd-y must be a number > 0, got {sd_y!r}") from None
    source = get_convention(src)
    setting = source.to_regulab(params, n_samples, loss, sd_y=sd_y)
    rows = convert(src, params, n_samples=n_samples, to=to, loss=loss, sd_y=sd_y)
    if as_json:
        _print_json(src, params, n_samples, setting, rows, sd_y)
        return
    given_txt = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in params.items())
    console().print(f"[bold]{source.tool}[/] with {given_txt}"
                    + (f" (n = {n_samples})" if n_samples else "")
                    + (f" (sd(y) = {sd_y:.6g})" if sd_y is not None else "")
                    + f"\n  objective: {source.objective}"
                    + f"\n  on regulab's scale: {LOSS_WORDS[setting.loss]} + {setting.l1:.6g}·Σ|w|"
                    + f" + {setting.l2:.6g}·Σw² (l1_ratio = {setting.l1_ratio:.6g})",
                    highlight=False)
    table = Table(show_lines=True)
    table.add_column("to")
    table.add_column("setting")
    table.add_column("objective / why not", overflow="fold")
    for r in rows:
        if r.params is not None:
            cell = ", ".join(f"{k}={_setting_text(v)}" for k, v in r.params.items())
            table.add_row(r.name, f"[green]{cell or '(no penalty)'}[/]", r.objective)
        else:
            table.add_row(r.name, "[dim]-[/]", f"[dim]{r.reason}[/]")
    console().print(table)


def _print_json(src, params, n_samples, setting, rows, sd_y=None) -> None:
    import json

    doc = {"from": src, "params": params, "n_samples": n_samples, "sd_y": sd_y,
           "regulab": {"l1": setting.l1, "l2": setting.l2, "loss": setting.loss},
           "to": [{"id": r.name, "tool": r.tool, "params": r.params, "reason": r.reason,
                   "objective": r.objective, "note": r.note} for r in rows]}
    console().print_json(json.dumps(doc))

