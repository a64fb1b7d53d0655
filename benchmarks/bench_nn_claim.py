"""Wall time of the neural-net claim in its default configuration, part by part.

Run by hand:  python benchmarks/bench_nn_claim.py [--repeat 3] [--seed 0]

Prints, per run, the seconds spent importing torch, in each part of the claim (the batched SGD
ensemble, evaluation, the Adam/AdamW ensemble, the tiny Adam problem), drawing and saving the
figures (PNG + SVG, as `regulab explain` does), and the total; then the median total. Also prints
the process CPU time, which on a busy machine is the better estimate of the wall time on an idle
one (torch runs single-threaded inside the claim). Goal (issue 5): under 60 s on a 2-core CPU,
aim for 20-30 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    w0, c0 = time.perf_counter(), time.process_time()
    import torch  # noqa: F401  (timed: the first import is part of a real run)

    import_s, import_cpu = time.perf_counter() - w0, time.process_time() - c0
    print(f"import torch: {import_s:.2f} s (cpu {import_cpu:.2f} s)")

    from regulab.report.claims import neural_net
    from regulab.report.claims.base import ExplainConfig
    from regulab.report.plots.neural_net import plot_neural_net
    from regulab.report.writer import save_figure

    totals = []
    for i in range(args.repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = neural_net.run(ExplainConfig(seed=args.seed))
        run_s, run_cpu = time.perf_counter() - w0, time.process_time() - c0
        w1, c1 = time.perf_counter(), time.process_time()
        with tempfile.TemporaryDirectory() as out:
            (Path(out) / "figures").mkdir()
            for name, (fig, _) in plot_neural_net(result).items():
                save_figure(fig, Path(out), name)
        plot_s, plot_cpu = time.perf_counter() - w1, time.process_time() - c1
        total = run_s + plot_s + (import_s if i == 0 else 0.0)
        totals.append(total)
        parts = ", ".join(f"{k[:-2]} {v:.2f} s" for k, v in result.data["timings"].items())
        print(f"run {i + 1}: claim {run_s:.2f} s (cpu {run_cpu:.2f} s; {parts}); figures "
              f"{plot_s:.2f} s (cpu {plot_cpu:.2f} s); total {total:.2f} s"
              + (" incl. import" if i == 0 else "") + f"; holds={result.holds}")
    print(f"median total {statistics.median(totals):.2f} s, max {max(totals):.2f} s over "
          f"{len(totals)} runs (device: {result.metrics['device']})")


if __name__ == "__main__":
    main()
