"""Wall time of a whole `regulab explain` process (start-up, claims, figures, report).

Run by hand:  python benchmarks/explain_time.py [--repeat 5] [--only ID ...]
Prints each run's seconds and the median. Goal (issue 2): well under 15 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    times = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "regulab", "explain", "--out", out]
            for cid in args.only:
                cmd += ["--only", cid]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
        print(f"run {i + 1}: {times[-1]:.2f} s")
    print(f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s "
          f"over {len(times)} runs")


if __name__ == "__main__":
    main()
