"""OR-Library capacitated warehouse location (capa, capb, capc) solved by allocator.

    python benchmarks/orlib.py [--time-limit 600] [--variant V] [--only capb] [--out FILE]

Each of the twelve problems (three files, four capacities each; format and optima in
``shared/benchmarks/orlib/README.md``) is converted to an ordinary instance folder, then
loaded, built and solved by allocator in a fresh process, to the default relative gap 1e-4.
The objective is checked against the published optimum.

The conversion (a minimal one, kept here so that the benchmark does not depend on the
importer of ``allocator import orlib-cap``): one industry, ``service``; warehouse ``w<i>``
is a candidate site with ``max_capacity`` s_i and ``fixed_cost`` f_i (``[sites] candidates
= "listed"``); customer ``c<j>`` is a market with demand d_j; ``arcs.csv`` gives the cost of
serving one unit of j from i, c_ij / d_j (the file gives the cost of all of j's demand).
Capex is 0, and the families that the problem does not have are switched off
(duplication, duplication_neighbors). The multi-source model of the README is then exactly
allocator's: capacity only where hosted, shipments meet every market, what leaves a site is
at most its capacity, with the strong linking ship <= d_j x_i of the markets family.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: (file, capacity) -> proven optimum (README.md of shared/benchmarks/orlib)
OPTIMA = {
    ("capa", 8000): 19240822.449, ("capa", 10000): 18438046.543,
    ("capa", 12000): 17765201.949, ("capa", 14000): 17160439.012,
    ("capb", 5000): 13656379.578, ("capb", 6000): 13361927.449,
    ("capb", 7000): 13198556.434, ("capb", 8000): 13082516.496,
    ("capc", 5000): 11646596.974, ("capc", 5750): 11570340.289,
    ("capc", 6500): 11518743.744, ("capc", 7250): 11505767.394,
}


def shared_folder() -> Path | None:
    """``shared/benchmarks/orlib``: beside the checkout, else /work/shared."""
    for root in (HERE.parent.parent / "shared", Path("/work/shared")):
        folder = root / "benchmarks" / "orlib" / "cap"
        if folder.is_dir():
            return folder
    return None


def convert(source: Path, capacity: float, folder: Path) -> Path:
    """Write the problem ``source`` (capa/capb/capc) with every warehouse's capacity set to
    ``capacity`` as an allocator instance folder."""
    tokens = source.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    pos = 2
    fixed = []
    for _ in range(m):
        cap_token, f = tokens[pos], float(tokens[pos + 1])
        if cap_token != "capacity":
            raise ValueError(f"{source}: expected the word 'capacity', found {cap_token}")
        fixed.append(f)
        pos += 2
    demand, cost = [], []
    for _ in range(n):
        demand.append(float(tokens[pos]))
        cost.append([float(t) for t in tokens[pos + 1: pos + 1 + m]])
        pos += 1 + m
    if pos != len(tokens):
        raise ValueError(f"{source}: {len(tokens) - pos} tokens left over")
    folder.mkdir(parents=True, exist_ok=True)
    w = [f"w{i + 1}" for i in range(m)]
    c = [f"c{j + 1}" for j in range(n)]
    served = [j for j in range(n) if demand[j] > 0]
    (folder / "instance.toml").write_text(
        f'name = "{source.stem}-{capacity:g}"\n'
        f'description = "OR-Library {source.stem}, every capacity {capacity:g}"\n'
        '[sites]\ncandidates = "listed"\n'
        '[families]\nwithout = ["duplication", "duplication_neighbors"]\n', encoding="utf-8")
    lines = ["id,name,group,latitude,longitude,funding_budget"]
    lines += [f"{r},{r},all,0,0,1e15" for r in w + c]
    (folder / "regions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "industries.csv").write_text(
        "id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts\n"
        f"service,Service,,0,0,0,{m}\n", encoding="utf-8")
    lines = ["industry,region,max_capacity,fixed_cost"]
    lines += [f"service,{w[i]},{capacity:g},{fixed[i]!r}" for i in range(m)]
    (folder / "sites.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["industry,region,demand"] + [f"service,{c[j]},{demand[j]!r}" for j in served]
    (folder / "markets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["from,to,unit_cost"]
    lines += [f"{w[i]},{c[j]},{cost[j][i] / demand[j]!r}" for j in served for i in range(m)]
    (folder / "arcs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "talent_supply.csv").write_text("region,talent_class,supply\n", encoding="utf-8")
    (folder / "talent_need.csv").write_text("industry,talent_class,need\n", encoding="utf-8")
    return folder


#: formulations compared: allocator's default; without its capacity cuts (the strong
#: linking ship <= d_j x_i only, the formulation the README's reference times used); and the
#: weak textbook one (no strong linking either: build_model(strengthen=False))
VARIANTS = ("default", "no-cover", "textbook")


def solve_one(folder: Path, time_limit: float, variant: str) -> dict:
    """Load, build, solve (this process); the numbers the table reports."""
    t0 = time.perf_counter()
    import allocator
    from allocator.solve import SolverOptions

    inst = allocator.load_instance(folder)
    t1 = time.perf_counter()
    if variant == "no-cover":
        inst.family_options["capacity"]["strengthen"] = False
    built = allocator.build_model(inst, strengthen=variant != "textbook")
    t2 = time.perf_counter()
    result = allocator.solve(built, SolverOptions(time_limit=time_limit, mip_gap=1e-4))
    out = result.outcome
    return {"status": out.status, "objective": out.objective, "bound": out.bound,
            "gap": out.gap, "load": t1 - t0, "build": t2 - t1,
            "handoff": out.seconds.get("handoff"), "solve": out.seconds.get("solve"),
            "total": time.perf_counter() - t0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--variant", choices=VARIANTS, default="default",
                        help="formulation (see VARIANTS); default: %(default)s")
    parser.add_argument("--only", default="", help="comma-separated: capa, capb, capc, "
                        "capb-8000, ...")
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    parser.add_argument("--docs", action="store_true", help="also write the table into "
                        "docs/performance.md (between its orlib.py markers)")
    parser.add_argument("--one", nargs=3, metavar=("FOLDER", "TIME_LIMIT", "PLAIN"),
                        help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.one:
        row = solve_one(Path(args.one[0]), float(args.one[1]), args.one[2])
        print(json.dumps(row))
        return 0
    source = shared_folder()
    if source is None:
        print("OR-Library files not found (shared/benchmarks/orlib beside the checkout, or "
              "/work/shared)", file=sys.stderr)
        return 2
    wanted = [w for w in args.only.split(",") if w]
    before = _loadavg()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / "allocator-orlib"
    rows = []
    print(f"{'problem':<12}{'status':>10}{'objective':>16}{'optimum':>16}{'load':>7}"
          f"{'build':>7}{'handoff':>8}{'solve':>8}{'total':>8}")
    for (name, cap), optimum in OPTIMA.items():
        key = f"{name}-{cap}"
        if wanted and name not in wanted and key not in wanted:
            continue
        folder = convert(source / f"{name}.txt", cap, work / key)
        done = subprocess.run([sys.executable, __file__, "--one", str(folder),
                               str(args.time_limit), args.variant],
                              capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row.update(problem=key, optimum=optimum, variant=args.variant)
        rows.append(row)
        obj = row["objective"]
        print(f"{key:<12}{row['status']:>10}{obj if obj is None else round(obj, 3):>16}"
              f"{optimum:>16}{row['load']:>7.1f}{row['build']:>7.1f}{row['handoff']:>8.1f}"
              f"{row['solve']:>8.1f}{row['total']:>8.1f}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    if args.docs:
        write_doc(rows, args.variant, args.time_limit, before, _loadavg())
    return 0


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def write_doc(rows: list[dict], variant: str, limit: float, before: str, after: str) -> None:
    """The table, between ``<!-- BEGIN orlib.py VARIANT -->`` and its END marker."""
    lines = [f"Formulation `{variant}`, time limit {limit:g} s, relative gap 1e-4; load "
             f"average before {before}, after {after}.\n",
             "| problem | status | objective | optimum | load | build | handoff | solve | "
             "total |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        obj = "-" if r["objective"] is None else f"{r['objective']:,.3f}"
        lines.append(f"| {r['problem']} | {r['status']} | {obj} | {r['optimum']:,.3f} | "
                     f"{r['load']:.1f} | {r['build']:.1f} | {r['handoff']:.1f} | "
                     f"{r['solve']:.1f} | {r['total']:.1f} |")
    doc_path = HERE.parent / "docs" / "performance.md"
    doc = doc_path.read_text(encoding="utf-8") if doc_path.exists() else ""
    begin, end = f"<!-- BEGIN orlib.py {variant} -->", f"<!-- END orlib.py {variant} -->"
    if begin not in doc:
        doc += f"\n{begin}\n{end}\n"
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc_path.write_text(f"{head}{begin}\n" + "\n".join(lines) + f"\n{end}{tail}",
                        encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
