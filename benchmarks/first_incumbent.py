"""Time to the first incumbent with and without the construction heuristic.

For each instance and each setting, solve with a time limit and report, from summary.json's
``first_incumbent``: wall seconds from the start of compiling (compile + heuristic + HiGHS
until its first feasible plan), HiGHS's own clock, the first objective and its source, and
the final objective and gap. Heavy: run by hand, not in the test suite.

    python benchmarks/first_incumbent.py instances/china-sei /tmp/china-sei-x4 --time-limit 60
"""

from __future__ import annotations

import argparse

import allocator


def run(path: str, heuristic: bool, time_limit: float, threads: int | None) -> dict:
    inst = allocator.load_instance(path)
    built = allocator.build_model(inst)
    result = allocator.solve(built, allocator.SolverOptions(
        time_limit=time_limit, heuristic=heuristic, threads=threads, seed=0))
    s = result.summary
    first = s["first_incumbent"] or {}
    return {"instance": inst.name, "heuristic": heuristic,
            "first_s": first.get("seconds_from_compile"), "first_highs_s":
            first.get("highs_seconds"), "first_objective": first.get("objective"),
            "source": first.get("source"), "heuristic_s": (s["start"].get("heuristic") or {})
            .get("seconds"), "status": s["status"], "objective": s["objective"],
            "gap": s["gap"], "binaries": s["size"].get("binary"),
            "total_s": s["seconds"].get("solve", 0.0) + s["seconds"].get("handoff", 0.0)
            + s["seconds"].get("start", 0.0)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("instances", nargs="+")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    cols = ["instance", "binaries", "heuristic", "first_s", "first_highs_s", "first_objective",
            "source", "heuristic_s", "status", "objective", "gap", "total_s"]
    print(" | ".join(cols))
    for path in args.instances:
        for heuristic in (False, True):
            row = run(path, heuristic, args.time_limit, args.threads)
            print(" | ".join(_fmt(row[c]) for c in cols), flush=True)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 1000 else f"{v:,.1f}"
    return str(v)


if __name__ == "__main__":
    main()
