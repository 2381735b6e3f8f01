"""What a sweep costs: the speed-up of N local workers over one, and the overhead per case
against a plain ``allocator solve``, on the bundled instance.

    python benchmarks/sweep.py                          # 4 cases, 1 and 2 workers, gap 1e-4
    python benchmarks/sweep.py --cases 6 --workers 1 2 --gap 0.01

The cases are the bundled instance with different ``site_excess`` weights (a grid of
``--cases`` values: every case a real solve of the full instance). Everything runs as a
planner runs it, through the command line in fresh processes:

* ``plain``: ``allocator solve INSTANCE -o FOLDER --quiet`` once per case, one after the
  other: the wall clock of each command (start-up, reading, building, solving, writing);
* ``sweep, N workers``: ``allocator sweep INSTANCE SWEEP.toml -o FOLDER --workers N`` into
  a new folder: the wall clock of the command (checking every case, starting and stopping
  the local cluster, the cases, the table), and the cases' own seconds on their workers
  (build, first plan, search, tables: ``sweep.csv`` ``seconds``).

Reported: each run's wall clock; the speed-up of N workers over one (the 1-worker sweep's
wall clock over the N-worker one's); the overhead per case of the 1-worker sweep over the
plain solves ((sweep wall - sum of plain walls) / cases: what checking every case up front,
the cluster and shipping the data cost per case, less the interpreter start-up each plain
solve pays); and the load average before and after, since on a shared machine every number
moves with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
INSTANCE = ROOT / "instances" / "china-sei"


def run(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                          text=True)
    return time.perf_counter() - start, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=4, help="cases of the sweep (default 4)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="local workers to measure (default: 1 2)")
    parser.add_argument("--gap", type=float, default=1e-4, help="MIP gap (default 1e-4)")
    parser.add_argument("--instance", type=Path, default=INSTANCE)
    args = parser.parse_args()
    weights = [50.0 + 25.0 * k for k in range(args.cases)]
    load_before = os.getloadavg()
    print(f"{args.instance.name}: {args.cases} cases (site_excess {weights}), gap {args.gap}, "
          f"{os.cpu_count()} cores, load average before {load_before[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sweep = work / "sweep.toml"
        sweep.write_text(f'[grid]\n"objective.site_excess" = {weights}\n', encoding="utf-8")
        plain = []
        for w in weights:
            inst = work / f"inst-{w:g}"
            # the plain solve of the same case: the instance with that weight in its file
            subprocess.run(["cp", "-r", str(args.instance), str(inst)], check=True)
            toml = inst / "instance.toml"
            text = toml.read_text(encoding="utf-8")
            if "site_excess = 100.0" not in text:
                print(f"{toml} has no 'site_excess = 100.0' line to change")
                return 2
            toml.write_text(text.replace("site_excess = 100.0", f"site_excess = {w}"),
                            encoding="utf-8")
            seconds, done = run(["solve", str(inst), "-o", str(work / f"plain-{w:g}"),
                                 "--quiet", "--gap", str(args.gap), "--threads", "1"])
            if done.returncode != 0:
                print(done.stderr[-2000:])
                return 1
            plain.append(seconds)
            print(f"plain solve, site_excess {w:g}: {seconds:.1f} s", flush=True)
        walls: dict[int, float] = {}
        for n in args.workers:
            out = work / f"sweep-{n}"
            seconds, done = run(["sweep", str(args.instance), str(sweep), "-o", str(out),
                                 "--workers", str(n), "--gap", str(args.gap)])
            if done.returncode != 0:
                print(done.stderr[-2000:])
                return 1
            table = pd.read_csv(out / "sweep.csv")
            walls[n] = seconds
            print(f"sweep, {n} worker{'s' if n != 1 else ''}: {seconds:.1f} s wall; cases on "
                  f"their workers {table['seconds'].sum():.1f} s in all (median "
                  f"{statistics.median(table['seconds']):.1f} s)", flush=True)
    load_after = os.getloadavg()
    print()
    print(f"plain solves: {sum(plain):.1f} s for {args.cases} cases "
          f"({statistics.median(plain):.1f} s median)")
    one = walls.get(1)
    for n, wall in walls.items():
        line = f"sweep, {n} worker{'s' if n != 1 else ''}: {wall:.1f} s"
        if one is not None and n != 1:
            line += f", speed-up over 1 worker {one / wall:.2f}x"
        print(line)
    if one is not None:
        print(f"overhead per case, 1-worker sweep against plain solves: "
              f"{(one - sum(plain)) / args.cases:+.1f} s")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
