"""Writers of the report: figures (PNG + SVG), ``results.json`` and a self-contained ``index.html``.

Every file is written atomically (a temporary file in the same folder, then ``os.replace``), so an
interrupted run never leaves a half-written report. Figures carry no timestamps, so the same seed
gives byte-identical files.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from regulab import __version__
from regulab.core.io import atomic_write, jsonable

RESULTS_SCHEMA = 1


class ReportError(OSError):
    """The report cannot be written where asked (the message names the path and why)."""


def prepare_out_dir(out_dir) -> Path:
    """Create ``out_dir/figures`` and check it is writable; raise :class:`ReportError` if not."""
    out = Path(out_dir)
    try:
        (out / "figures").mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".regulab-probe-", delete=True)
        probe.close()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ReportError(f"cannot write the report to {str(out)!r}: {reason}") from None
    return out


def save_figure(fig, out: Path, name: str) -> list[str]:
    """Save ``fig`` as ``figures/NAME.png`` and ``.svg``; return both paths relative to ``out``."""
    import io

    import matplotlib

    paths = []
    for ext, kw in (("png", {"dpi": 110, "metadata": {"Software": None}}),
                    ("svg", {"metadata": {"Date": None, "Creator": None}})):
        buf = io.BytesIO()
        with matplotlib.rc_context({"svg.hashsalt": "regulab"}):  # stable ids in the SVG
            fig.savefig(buf, format=ext, **kw)
        rel = f"figures/{name}.{ext}"
        atomic_write(out / rel, buf.getvalue())
        paths.append(rel)
    return paths


def _claim_entry(r) -> dict:
    entry = {"id": r.id, "title": r.title, "source": r.source, "statement": r.statement,
             "outcome": r.outcome, "holds": bool(r.holds), "verdict": r.verdict,
             "nuance": r.nuance, "checks": r.checks,
             "predictions": [p.as_dict() for p in r.predictions],
             "verifications": [v.as_dict() for v in r.verifications],
             "metrics": r.metrics, "figures": r.figures,
             "tables": [t.as_dict() for t in r.tables]}
    if r.robustness:
        entry["robustness"] = r.robustness
    if r.error:
        entry["error"] = r.error
    if r.skipped:
        entry["skipped"] = r.skipped
    return entry


def summary(results, seeds) -> dict:
    """Counts of outcomes, and per claim how many predictions held and the tightest margin."""
    ran = [r for r in results if not r.skipped]
    per_claim = {}
    for r in ran:
        counted = [p for p in r.predictions if p.applies]
        tight = min(counted, key=lambda p: p.margin) if counted else None
        per_claim[r.id] = {
            "outcome": r.outcome, "predictions": len(counted),
            "held": sum(p.held for p in counted),
            "tightest": None if tight is None else {"name": tight.name, "margin": tight.margin},
            "verifications_passed": sum(v.passed for v in r.verifications),
            "verifications": len(r.verifications)}
        if r.robustness:
            per_claim[r.id]["seed_outcomes"] = r.robustness["outcomes"]
    return {"claims": len(results), "ran": len(ran),
            "hold": sum(r.outcome == "holds" for r in ran),
            "outcomes": {o: sum(r.outcome == o for r in results)
                         for o in dict.fromkeys(r.outcome for r in results)},
            "seeds": list(seeds), "per_claim": per_claim,
            "skipped": [r.id for r in results if r.skipped]}


def results_document(results, config, seeds=None) -> dict:
    """The ``results.json`` document (schema: see README, 'results.json')."""
    seeds = list(seeds) if seeds else [config.seed]
    return jsonable({
        "regulab_version": __version__, "schema": RESULTS_SCHEMA, "seed": config.seed,
        "seeds": seeds, "config": asdict(config),
        "claims": [_claim_entry(r) for r in results],
        "summary": summary(results, seeds),
    })


def write_results_json(results, out: Path, config, seeds=None) -> Path:
    doc = results_document(results, config, seeds)
    text = json.dumps(doc, indent=2, allow_nan=False) + "\n"
    atomic_write(out / "results.json", text.encode("utf-8"))
    return out / "results.json"


def seeds_text(seeds) -> str:
    """``[0, 1, 2, 3]`` -> ``'0-3'``; ``[0, 5]`` -> ``'0, 5'``."""
    seeds = list(seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _fmt(value):
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def write_html(results, out: Path, config, seeds=None) -> Path:
    env = Environment(loader=PackageLoader("regulab.report", "templates"),
                      autoescape=select_autoescape(["html"]))
    env.filters["fmt"] = _fmt
    template = env.get_template("report.html")
    ran = [r for r in results if not r.skipped]
    seeds = list(seeds) if seeds else [config.seed]
    html = template.render(results=results, config=config, version=__version__,
                           n_hold=sum(r.outcome == "holds" for r in ran), n_ran=len(ran),
                           skipped=[r for r in results if r.skipped], seeds=seeds,
                           summary=summary(results, seeds), seeds_text=seeds_text(seeds))
    atomic_write(out / "index.html", html.encode("utf-8"))
    return out / "index.html"


# ----------------------------------------------------------------------------- user-data reports

@dataclass
class Section:
    """One section of a user-data report (``regulab fit``, ``path``, ``compare``): measured
    results without a holds/fails verdict. Text is escaped by the template."""

    id: str
    title: str
    finding: str = ""                                   # the main result, boxed
    paragraphs: list = field(default_factory=list)
    items: list = field(default_factory=list)           # a bullet list (e.g. preparation steps)
    warnings: list = field(default_factory=list)
    tables: list = field(default_factory=list)          # regulab.report.claims.base.Table
    figures: list = field(default_factory=list)         # paths relative to the report folder
    figure_captions: dict = field(default_factory=dict)

    def add_figure(self, fig, out: Path, name: str, caption: str) -> None:
        """Save ``fig`` (PNG + SVG) under ``out/figures`` and show it in this section."""
        self.figures.extend(save_figure(fig, out, name))
        self.figure_captions[name] = caption


def write_analysis_report(out: Path, *, title: str, subtitle: str, sections, document: dict,
                          files=()) -> Path:
    """Write ``results.json`` (``document``) and ``index.html`` (the ``sections``) into ``out``
    (already prepared by :func:`prepare_out_dir`, figures already saved). ``files``: extra
    ``(relative href, text)`` links for the header (e.g. a CSV written beside the report)."""
    text = json.dumps(jsonable(document), indent=2, allow_nan=False) + "\n"
    atomic_write(out / "results.json", text.encode("utf-8"))
    env = Environment(loader=PackageLoader("regulab.report", "templates"),
                      autoescape=select_autoescape(["html"]))
    template = env.get_template("analysis.html")
    html = template.render(title=title, subtitle=subtitle, sections=list(sections),
                           version=__version__, files=list(files))
    atomic_write(out / "index.html", html.encode("utf-8"))
    return out / "index.html"
