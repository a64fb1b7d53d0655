"""``regulab convert``: one regularization setting in every tool's convention (``regulab
conventions`` lists them).

regulab's objective is ``mean loss + lam * (l1_ratio * sum|w_j| + (1 - l1_ratio) * sum w_j**2)``
(README, "The objective, and other tools' lambdas"); :mod:`regulab.core.conventions` holds each
tool's objective and the conversions.
"""

from __future__ import annotations

from regulab.commands.output import console
from regulab.core.losses import ERROR_NAME


def _setting_text(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else f"{value}"


def run(src: str, params: dict, *, to=None, n_samples=None, loss=None, as_json=False) -> None:
    """Print ``params`` (given in convention ``src``; None values are not given) on regulab's
    scale and in each convention of ``to`` (default: all), or why a tool cannot express it."""
    from rich.table import Table

    from regulab.core.conventions import convert, get_convention

    params = {k: v for k, v in params.items() if v is not None}
    source = get_convention(src)
    setting = source.to_regulab(params, n_samples, loss)
    rows = convert(src, params, n_samples=n_samples, to=to, loss=loss)
    if as_json:
        _print_json(src, params, n_samples, setting, rows)
        return
    given_txt = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in params.items())
    console().print(f"[bold]{source.tool}[/] with {given_txt}"
                    + (f" (n = {n_samples})" if n_samples else "")
                    + f"\n  objective: {source.objective}"
                    + f"\n  on regulab's scale: {ERROR_NAME[setting.loss]} + {setting.l1:.6g}·Σ|w|"
                    + f" + {setting.l2:.6g}·Σw²", highlight=False)
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


def _print_json(src, params, n_samples, setting, rows) -> None:
    import json

    doc = {"from": src, "params": params, "n_samples": n_samples,
           "regulab": {"l1": setting.l1, "l2": setting.l2, "loss": setting.loss},
           "to": [{"id": r.name, "tool": r.tool, "params": r.params, "reason": r.reason,
                   "objective": r.objective, "note": r.note} for r in rows]}
    console().print_json(json.dumps(doc))

