"""``regulab explain``: run the claims, draw their figures, write the report."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # never open a window; the report is files

from regulab.report.claims import ClaimResult, ExplainConfig, select  # noqa: E402
from regulab.report.writer import (  # noqa: E402
    prepare_out_dir,
    save_figure,
    write_html,
    write_results_json,
)


def explain(out_dir: str | Path = "regulab-report", only=None, config: ExplainConfig | None = None,
            on_step: Callable[[str, str], None] | None = None) -> list[ClaimResult]:
    """Run the selected claims (all by default) and write ``index.html``, ``results.json`` and
    ``figures/`` into ``out_dir``. ``on_step(claim_id, phase)`` is called as work proceeds
    (phases ``'run'``, ``'plot'``, ``'done'``), for progress bars. Returns the results."""
    config = config or ExplainConfig()
    claims = select(only)
    out = prepare_out_dir(out_dir)
    results = []
    for claim in claims:
        if claim.missing():
            result = claim.skipped_result()
        else:
            if on_step:
                on_step(claim.id, "run")
            result = claim.run(config)
            if on_step:
                on_step(claim.id, "plot")
            for name, (fig, caption) in claim.plot(result).items():
                result.figures.extend(save_figure(fig, out, name))
                result.figure_captions[name] = caption
        results.append(result)
        if on_step:
            on_step(claim.id, "done")
    write_results_json(results, out, config)
    write_html(results, out, config)
    return results
