"""How allocator scales from 31 x 10 to 337 cities x 40 industries, measured side by side.

    python benchmarks/scale.py                 # the table, the curve, docs/performance.md
    python benchmarks/scale.py --quick         # one repeat, two sizes, no docs (a smoke test)
    python benchmarks/scale.py --ablation      # also: each strengthening on and off

For every size (``allocator generate --seed 7`` instances, written to a work folder) and every
repeat, a fresh Python process loads, validates, builds and solves the instance through
allocator's public API, exactly as the command line does, and reports: variables (binary,
continuous), constraints, the time to load and validate, to build the Pyomo model, to hand it
to HiGHS (standard-form compile + passModel), to the first incumbent and to a 1% gap (read
from HiGHS callbacks, on HiGHS's clock), the total, the peak memory of the process (resident
set, so HiGHS included), the objective and the bound. The median of the repeats is reported.

The same instance is also built by ``benchmarks/reference.py``, a direct numpy -> passModel
builder of the same model that shares no code with allocator; the ratio of allocator's
build + handoff to the reference's build (which includes reading its CSV files) + handoff is
the cost of the modelling layer. On 31x10 and 100x20 both models are solved and must reach
the same optimum (their [bound, objective] intervals overlap).

Targets: sizes up to 100x20 are solved to optimality (relative gap 1e-4), larger ones to the
1% a national plan needs; each run has a time limit (see ``TARGETS``). The scaling curve
(time and memory against the number of candidate pairs, with fitted power laws) is written
next to docs/performance.md, and the tables between its markers, so that the document holds
the numbers this script printed.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "performance-scaling.png"
SEED = 7
#: (regions, industries) -> (relative gap, time limit in seconds)
TARGETS: dict[tuple[int, int], tuple[float, float]] = {
    (31, 10): (1e-4, 120.0),
    (60, 15): (1e-4, 120.0),
    (100, 20): (1e-4, 120.0),
    (180, 30): (1e-2, 120.0),
    (337, 40): (1e-2, 180.0),
}
CHECKED = ((31, 10), (100, 20))  # sizes where allocator and the reference must agree
#: ablation variants, in the order the strengthening was added (each adds to the previous);
#: "+capacity cuts" is allocator's default, "+chain cuts" the opt-in chain strengthening
VARIANTS = {
    "textbook": "no pruning, no valid inequalities (build_model(strengthen=False))",
    "+prune": "derived site limits, pairs that can never host left out",
    "+ship link": "markets_ship_within_host (the strong linking main already had)",
    "+capacity cuts": "capacity_cover_by_hosts, capacity_fewest_hosts (the default)",
    "+chain cuts": "chain_coordination_supplier_within_reach, _flow_within_host (opt-in)",
    "no first plan": "the default model, HiGHS alone (--no-heuristic)",
    "greedy first plan": "the default model, the greedy of issue 4 only (no relaxation-guided "
                         "MIP)",
    "relaxation MIP first plan": "the default model, the first plan of the MIP restricted to "
                                 "the relaxation's support (no dive, no improvement MIP)",
    "dive without improvement": "the default model, the dive on the relaxation and its restricted "
                            "MIP, without the improvement MIP around the plan",
}
#: ablation variants that change the first-plan heuristic, not the model
HEURISTIC_VARIANTS = ("no first plan", "greedy first plan", "relaxation MIP first plan",
                      "dive without improvement")
DEFAULT_VARIANT = "+capacity cuts"


# ---------------------------------------------------------------------------- child runs
def _child_allocator(folder: str, gap: float, limit: float, threads: int | None,
                     variant: str, highs: dict[str, str]) -> dict:
    t0 = time.perf_counter()
    import allocator
    from allocator.engine.deadline import Deadline

    solve_mod = importlib.import_module("allocator.engine.highs")
    t_import = time.perf_counter() - t0
    marks: dict[str, float] = {}
    original = solve_mod.run_highs
    t1 = time.perf_counter()

    def check(event: object) -> None:
        out = event.data_out  # type: ignore[attr-defined]
        p, d = out.mip_primal_bound, out.mip_dual_bound
        known = abs(p) < 1e30 and abs(d) < 1e30
        if known and "gap1" not in marks and abs(p - d) / max(abs(p), 1e-9) <= 0.01:
            marks["gap1"] = out.running_time
            marks["gap1_e2e"] = time.perf_counter() - t1

    def first(event: object) -> None:
        marks.setdefault("first", event.data_out.running_time)  # type: ignore[attr-defined]
        marks.setdefault("first_e2e", time.perf_counter() - t1)
        check(event)

    # only solve_model calls run_highs through the module (the heuristic's and the shadow
    # prices' solves import it by name): this is the main search
    def run(h: object) -> object:
        for key, value in highs.items():
            kind = type(h.getOptionValue(key)[1])  # type: ignore[attr-defined]
            h.setOptionValue(key, value.lower() in ("1", "true", "on") if kind is bool  # type: ignore[attr-defined]
                             else kind(value))
        h.cbMipImprovingSolution.subscribe(first)  # type: ignore[attr-defined]
        h.cbMipInterrupt.subscribe(check)  # type: ignore[attr-defined]
        return original(h)

    solve_mod.run_highs = run
    warm = importlib.import_module("allocator.engine.warmstart")
    if variant == "greedy first plan":
        warm.start_from_relaxation = lambda *a, **k: (None, {"used": False,
                                                             "message": "off (ablation)"})
    elif variant in ("relaxation MIP first plan", "dive without improvement"):
        warm.start_from_relaxation = functools.partial(
            warm.start_from_relaxation, dive=variant == "dive without improvement", improve=False)
    t1 = time.perf_counter()
    deadline = Deadline(limit, started=t1)  # as the command line: load to results
    inst = allocator.load_instance(folder)
    t2 = time.perf_counter()
    built = _build_variant(allocator, inst, variant)
    t3 = time.perf_counter()
    result = allocator.solve(built, allocator.SolverOptions(
        time_limit=limit, mip_gap=gap, threads=threads,
        heuristic=variant != "no first plan"), deadline=deadline)
    t5 = time.perf_counter()
    allocator.write_results(result, Path(os.environ.get("TMPDIR", "/tmp"))
                            / f"allocator-scale-out-{os.getpid()}", force=True)
    t4 = time.perf_counter()
    out = result.outcome
    secs = out.seconds
    if "gap1" not in marks and out.gap is not None and out.gap <= 0.01:
        marks["gap1"] = secs.get("solve", 0.0)
        marks["gap1_e2e"] = t5 - t1
    # the heuristic's plan was in hand before the main search started (and before the
    # improvement MIP): the first plan as the pipeline records it, from loading on
    made = result.summary.get("first_incumbent") or {}
    if made.get("source") in ("heuristic", "plan") and "seconds_from_compile" in made:
        marks["first_e2e"] = (t3 - t1) + float(made["seconds_from_compile"])
    shadow = result.summary.get("shadow_prices") or {}
    heuristic = (result.summary.get("start") or {}).get("heuristic") or {}
    return {
        "import": t_import, "load": t2 - t1, "build": t3 - t2,
        "handoff": secs.get("handoff", 0.0), "solve": secs.get("solve", 0.0),
        "start": secs.get("start", 0.0), "shadow": float(shadow.get("seconds") or 0.0),
        "shadow_status": shadow.get("status", "-"),
        "heuristic": heuristic.get("how", "greedy") if heuristic.get("used") else "none",
        "results": (t4 - t3) - secs.get("handoff", 0.0) - secs.get("solve", 0.0)
        - secs.get("start", 0.0),
        "total": t4 - t1, "first": marks.get("first"), "gap1": marks.get("gap1"),
        "first_e2e": marks.get("first_e2e"), "gap1_e2e": marks.get("gap1_e2e"),
        "limit": limit,
        "status": out.status, "objective": out.objective, "bound": out.bound, "gap": out.gap,
        "binary": out.size.get("binary"), "continuous": out.size.get("continuous"),
        "constraints": out.size.get("constraints"), "nonzeros": out.size.get("nonzeros"),
        "candidates": len(inst.sites), "pruned": len(built.pruned),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def _build_variant(allocator: object, inst: object, variant: str) -> object:
    """The model of an ablation variant (``VARIANTS``); "default" is allocator's default."""
    build = allocator.build_model  # type: ignore[attr-defined]
    if variant == "default" or variant in HEURISTIC_VARIANTS:
        return build(inst)
    if variant == "textbook":
        return build(inst, strengthen=False)
    order = list(VARIANTS)
    on = set(order[1: order.index(variant) + 1])
    opts = inst.family_options  # type: ignore[attr-defined]
    for family, step in (("markets", "+ship link"), ("capacity", "+capacity cuts"),
                         ("chain_coordination", "+chain cuts")):
        if family in opts and "strengthen" in opts[family]:
            opts[family]["strengthen"] = step in on
    return build(inst, prune="+prune" in on)


def _child_reference(folder: str, gap: float, limit: float, threads: int | None,
                     solve: bool) -> dict:
    sys.path.insert(0, str(HERE))
    t0 = time.perf_counter()
    reference = importlib.import_module("reference")
    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    ref = reference.build(folder)
    t2 = time.perf_counter()
    saved = os.dup(1)  # HiGHS prints a banner on fd 1 when the first Highs() is made
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            h = reference.to_highs(ref, time_limit=limit, mip_gap=gap, threads=threads)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    t3 = time.perf_counter()
    row = {"import": t_import, "build": t2 - t1, "handoff": t3 - t2,
           "columns": ref.num_col, "rows": ref.num_row, "nonzeros": int(ref.matrix.nnz),
           "pruned": ref.pruned, "objective": None, "bound": None, "status": "built"}
    if solve:
        h.run()
        info = h.getInfo()
        row.update(status=h.modelStatusToString(h.getModelStatus()),
                   objective=float(info.objective_function_value),
                   bound=float(info.mip_dual_bound), solve=time.perf_counter() - t3)
    row["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return row


# ---------------------------------------------------------------------------- parent
def _run_child(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import highspy
    import pyomo

    h = highspy.Highs
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "python": platform.python_version(), "platform": platform.platform(),
            "pyomo": pyomo.version.version,
            "highs": f"{h().versionMajor()}.{h().versionMinor()}.{h().versionPatch()}"}


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _fmt(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def _size(s: tuple[int, int] | str) -> str:
    """A case's label: RxN for a generated size, the folder's name for an instance."""
    return Path(s).name if isinstance(s, str) else f"{s[0]}x{s[1]}"


def short_limit_run(folder: Path, case: str, limit: float, work: Path) -> dict:
    """``allocator solve FOLDER --time-limit LIMIT`` as a planner runs it: wall clock of the
    whole process, exit code, whether a plan was written, its gap."""
    out = work / f"short-{case}"
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "allocator.cli", "solve", str(folder),
                           "--time-limit", f"{limit:g}", "-o", str(out), "--quiet"],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    summary = {}
    if (out / "summary.json").exists():
        summary = json.loads((out / "summary.json").read_text())
    return {"case": case, "limit": limit, "wall": wall, "code": done.returncode,
            "plan": bool(summary.get("has_plan")), "gap": summary.get("gap")}


def fit(xs: list[float], ys: list[float | None]) -> tuple[float, float] | None:
    """Least-squares power law y = a x^b on the points where y is known: (a, b)."""
    import numpy as np

    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None and y > 0]
    if len(pts) < 2:
        return None
    b, loga = np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]), 1)
    return math.exp(loga), float(b)


def plot(sizes: list[tuple[int, int]], med: dict, path: Path) -> dict[str, float | None]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [float(med[s]["candidates"]) for s in sizes]
    series = {
        "load + validate": [med[s]["load"] for s in sizes],
        "build": [med[s]["build"] for s in sizes],
        "handoff": [med[s]["handoff"] for s in sizes],
        "reference build + handoff": [med[s]["ref"] for s in sizes],
        "first incumbent": [med[s]["first"] for s in sizes],
        "1% gap": [med[s]["gap1"] for s in sizes],
        "total": [med[s]["total"] for s in sizes],
    }
    growth: dict[str, float | None] = {}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    for name, ys in series.items():
        f = fit(xs, ys)
        growth[name] = f[1] if f else None
        label = f"{name} (~n^{f[1]:.2f})" if f else name
        pts = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        if pts:
            ax1.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=label)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("candidate pairs n = regions x industries")
    ax1.set_ylabel("seconds (median of the repeats)")
    ax1.set_title("time")
    ax1.legend(fontsize=7)
    mem = [med[s]["peak_mib"] for s in sizes]
    f = fit(xs, mem)
    growth["peak memory"] = f[1] if f else None
    ax2.plot(xs, mem, "o-", label=f"peak memory (~n^{f[1]:.2f})" if f else "peak memory")
    ax2.axhline(2048, color="grey", ls="--", lw=0.8, label="2 GiB target")
    ax2.set_xscale("log")
    ax2.set_xlabel("candidate pairs n = regions x industries")
    ax2.set_ylabel("MiB")
    ax2.set_title("peak resident memory of the process")
    ax2.legend(fontsize=7)
    for ax in (ax1, ax2):
        for s, x in zip(sizes, xs, strict=True):
            ax.annotate(_size(s), (x, ax.get_ylim()[0]), fontsize=7, ha="center",
                        va="bottom", color="grey")
    fig.suptitle("allocator: scaling on generated instances (seed 7)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return growth


def tables(sizes: list, med: dict, runs: dict, checks: list[str],
           growth: dict, info: dict, repeats: int, before: str, after: str,
           short: list[dict] | None = None) -> str:
    out = []
    out.append(f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; "
               f"{info['platform']}; Python {info['python']}, Pyomo {info['pyomo']}, "
               f"HiGHS {info['highs']}. Load average (1, 5, 15 min) before: {before}; "
               f"after: {after}. Median of {repeats} repeats, each in a fresh process.\n")
    out.append("Model size and modelling overhead (seconds; overhead is everything outside "
               "HiGHS: load + validate, build, handoff, the result tables, the shadow prices "
               "and writing; the first-plan heuristic is HiGHS work and counted apart):\n")
    out.append("| case | candidate pairs | left out | binary | continuous | constraints | "
               "load+validate | build | handoff | results+shadow+write (shadow) | overhead | "
               "share of total | reference build+handoff | ratio |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in sizes:
        m = med[s]
        overhead = m["load"] + m["build"] + m["handoff"] + m["results"]
        ratio = (m["build"] + m["handoff"]) / m["ref"] if m.get("ref") else None
        out.append(
            f"| {_size(s)} | {m['candidates']:,} | {m['pruned']:,} | {m['binary']:,} | "
            f"{m['continuous']:,} | {m['constraints']:,} | {_fmt(m['load'], 2)} | "
            f"{_fmt(m['build'], 2)} | {_fmt(m['handoff'], 2)} | {_fmt(m['results'], 2)} "
            f"({_fmt(m['shadow'], 2)}) | {_fmt(overhead, 2)} | {overhead / m['total']:.1%} | "
            f"{_fmt(m.get('ref'), 2)} | {_fmt(ratio, 1)}x |")
    out.append("\nSolve (seconds; first plan and 1% gap end to end, from the start of loading, "
               "as a planner waits for them; total is load to written results, imports "
               "excluded, against the time limit, which covers all of it):\n")
    out.append("| case | target gap | time limit | first plan | by | heuristic | 1% gap | total "
               "| within limit +5% | status | final gap | objective | bound | shadow prices "
               "| peak memory |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in sizes:
        m = med[s]
        gap, limit = TARGETS[s]
        statuses = "/".join(sorted({r["status"] for r in runs[s]}))
        final = "-" if m["gap"] is None else f"{m['gap']:.2%}"
        by = "/".join(sorted({r.get("heuristic", "-") for r in runs[s]}))
        within = sum(r["total"] <= 1.05 * limit for r in runs[s])
        shadow = "/".join(sorted({r.get("shadow_status", "-") for r in runs[s]}))
        out.append(
            f"| {_size(s)} | {gap:g} | {limit:g} | {_fmt(m['first_e2e'])} | "
            f"{'heuristic' if by != 'none' else 'HiGHS'} | {_fmt(m['start'])} | "
            f"{_fmt(m['gap1_e2e'])} | {_fmt(m['total'])} | {within} of {len(runs[s])} | "
            f"{statuses} | {final} | {_fmt(m['objective'], 1)} | {_fmt(m['bound'], 1)} | "
            f"{shadow} | {_fmt(m['peak_mib'], 0)} MiB |")
    if short:
        out.append(f"\nThe command with `--time-limit {short[0]['limit']:g}` at every case "
                   "(`allocator solve CASE --time-limit T -o DIR`, one fresh process each, "
                   "wall clock including the interpreter's start and imports):\n")
        out.append("| case | wall seconds | within T + 5% | exit code | plan written | gap |")
        out.append("|---|---|---|---|---|---|")
        for row in short:
            gap_text = "-" if row["gap"] is None else f"{row['gap']:.2%}"
            out.append(f"| {row['case']} | {row['wall']:.2f} | "
                       f"{'yes' if row['wall'] <= 1.05 * row['limit'] else 'no'} | "
                       f"{row['code']} | {'yes' if row['plan'] else 'no'} | {gap_text} |")
    out.append("\nFitted growth over the sizes (power of n = regions x industries): "
               + ", ".join(f"{k} n^{v:.2f}" for k, v in growth.items() if v is not None)
               + ".\n")
    out.append("Same optimum, allocator against the reference builder:\n")
    out.extend(f"- {c}" for c in checks)
    return "\n".join(out) + "\n"


def ablation_table(rows: dict[str, dict[tuple[int, int], dict]], sizes: list) -> str:
    out = ["| variant | what it adds | "
           + " | ".join(f"{_size(s)}: first plan / 1% gap (end to end) / final gap / "
                        "columns x rows" for s in sizes)
           + " |", "|---|---|" + "---|" * len(sizes)]
    for name, doc in VARIANTS.items():
        cells = []
        for s in sizes:
            r = rows[name].get(s)
            if r is None:
                cells.append("-")
                continue
            final = "-" if r["gap"] is None else f"{r['gap']:.2%}"
            cells.append(f"{_fmt(r.get('first_e2e'))} s / {_fmt(r.get('gap1_e2e'))} s / "
                         f"{final} / {r['binary'] + r['continuous']:,} x "
                         f"{r['constraints']:,}")
        out.append(f"| {name} | {doc} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def write_doc(section: str, text: str) -> None:
    """Replace the text between ``<!-- BEGIN section -->`` and ``<!-- END section -->``."""
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    begin, end = f"<!-- BEGIN {section} -->", f"<!-- END {section} -->"
    if begin not in doc:
        doc += f"\n{begin}\n{end}\n"
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    DOC.write_text(f"{head}{begin}\n{text}{end}{tail}", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(_size(s) for s in TARGETS),
                        help="comma-separated RxN sizes (known ones: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="HiGHS threads (default: "
                        "HiGHS decides)")
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp"))
                        / "allocator-scale", help="folder for the generated instances")
    parser.add_argument("--quick", action="store_true", help="1 repeat, 31x10 and 100x20, "
                        "docs untouched")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave "
                        "docs/performance.md and the PNG alone")
    parser.add_argument("--ablation", nargs="?", const="31x10,100x20,337x40", default=None,
                        metavar="SIZES", help="also run each strengthening step on and off "
                        "(one repeat each) at these sizes (default %(const)s)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per run at "
                        "every size, instead of the limits of TARGETS")
    parser.add_argument("--highs", action="append", default=[], metavar="KEY=VALUE",
                        help="a HiGHS option for every allocator run (repeatable)")
    parser.add_argument("--instance", action="append", default=[], metavar="FOLDER",
                        help="an instance folder as an extra case (repeatable), solved to 1%% "
                        "like the national sizes (no reference builder, not in the curve)")
    parser.add_argument("--variants", default=None, metavar="NAMES", help="comma-separated "
                        "ablation variants to run (default: all; the default model always)")
    parser.add_argument("--short-limit", type=float, default=None, metavar="SECONDS",
                        help="also run the command with this --time-limit at every case and "
                        "report wall clock, exit code, plan and gap (e.g. 2)")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, folder, gap, limit, threads, extra = args.child[:6]
        thr = None if threads == "-" else int(threads)
        if kind == "allocator":
            highs = dict(kv.split("=", 1) for kv in args.child[6:])
            row = _child_allocator(folder, float(gap), float(limit), thr, extra, highs)
        else:
            row = _child_reference(folder, float(gap), float(limit), thr, extra == "1")
        print(json.dumps(row))
        return 0

    from allocator.tools.generate import generate

    if args.quick:
        args.repeats, args.sizes, args.no_docs = 1, "31x10,100x20", True
    sizes: list = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",") if s]
    sizes += [str(Path(f).resolve()) for f in args.instance]
    for s in sizes:
        TARGETS.setdefault(s, (1e-2, 180.0))  # type: ignore[arg-type]
    if args.time_limit is not None:
        for s, (gap, _) in list(TARGETS.items()):
            TARGETS[s] = (gap, args.time_limit)
    info = machine()
    before = loadavg()
    print(f"machine: {info}\nload average before: {before}", flush=True)
    threads = "-" if args.threads is None else str(args.threads)
    folders = {}
    for s in sizes:
        folders[s] = (Path(s) if isinstance(s, str)
                      else generate(s[0], s[1], SEED, args.work / f"{_size(s)}-s{SEED}"))
    runs: dict = {}
    med: dict = {}
    checks = []
    for s in sizes:
        gap, limit = TARGETS[s]
        runs[s] = []
        for k in range(args.repeats):
            row = _run_child(["allocator", str(folders[s]), str(gap), str(limit), threads,
                              "default", *args.highs])
            runs[s].append(row)
            print(f"{_size(s)} run {k + 1}: load {row['load']:.2f} build {row['build']:.2f} "
                  f"handoff {row['handoff']:.2f} heuristic {row['start']:.2f} "
                  f"results {row['results']:.2f} (shadow {row['shadow']:.2f}) first "
                  f"{row['first_e2e']} 1% {row['gap1_e2e']} "
                  f"total {row['total']:.1f} {row['status']} gap {row['gap']} "
                  f"peak {row['peak_mib']:.0f} MiB", flush=True)
        m = {key: _median(runs[s], key) for key in runs[s][0]
             if key not in ("status", "heuristic", "shadow_status")}
        m["ref"] = None
        if not isinstance(s, str):
            refs = [_run_child(["reference", str(folders[s]), str(gap), str(limit), threads,
                                "0"]) for _ in range(args.repeats)]
            m["ref"] = statistics.median(r["build"] + r["handoff"] for r in refs)
        med[s] = m
        if s in CHECKED:
            ref = _run_child(["reference", str(folders[s]), str(gap), str(limit), threads,
                              "1"])
            a = runs[s][0]
            if None in (a["bound"], ref["bound"], a["objective"], ref["objective"]):
                checks.append(f"{_size(s)}: no plan or bound on one side, not compared")
                continue
            lo, hi = max(a["bound"], ref["bound"]), min(a["objective"], ref["objective"])
            same = lo <= hi + 1e-6 * abs(hi)
            checks.append(
                f"{_size(s)}: allocator {a['objective']:,.2f} (bound {a['bound']:,.2f}, "
                f"{a['status']}), reference {ref['objective']:,.2f} (bound "
                f"{ref['bound']:,.2f}, {ref['status']}, {ref['solve']:.1f} s): "
                + ("same optimum (the intervals overlap)" if same else "DIFFERENT"))
            print(checks[-1], flush=True)
            if not same:
                print("allocator and the reference disagree: one of them is wrong",
                      file=sys.stderr)
    short = []
    if args.short_limit is not None:
        for s in sizes:
            short.append(short_limit_run(folders[s], _size(s), args.short_limit, args.work))
            r = short[-1]
            print(f"--time-limit {args.short_limit:g} at {r['case']}: {r['wall']:.2f} s, exit "
                  f"{r['code']}, plan {r['plan']}, gap {r['gap']}", flush=True)
    after_main = loadavg()
    generated = [s for s in sizes if not isinstance(s, str)]
    growth = (plot(generated, med, PLOT if not args.no_docs else args.work / "scaling.png")
              if len(generated) > 1 else {})
    text = tables(sizes, med, runs, checks, growth, info, args.repeats, before, after_main,
                  short)
    print("\n" + text)
    abl_text = ""
    if args.ablation:
        abl_sizes = [tuple(int(v) for v in s.split("x")) for s in args.ablation.split(",")]
        rows: dict = {name: {} for name in VARIANTS}
        for s in abl_sizes:
            gap, limit = TARGETS.get(s, (1e-2, 180.0))
            folder = folders.get(s) or generate(s[0], s[1], SEED,
                                                args.work / f"{_size(s)}-s{SEED}")
            for name in VARIANTS:
                if (args.variants and name != DEFAULT_VARIANT
                        and name not in args.variants.split(",")):
                    continue
                variant = "default" if name == DEFAULT_VARIANT else name
                if variant == "default" and s in runs:
                    rows[name][s] = runs[s][0]
                else:
                    rows[name][s] = _run_child(["allocator", str(folder), str(gap),
                                                str(limit), threads, variant, *args.highs])
                r = rows[name][s]
                print(f"ablation {_size(s)} {name}: first {r.get('first_e2e')} 1% "
                      f"{r.get('gap1_e2e')} final {r['gap']} {r['status']}", flush=True)
        abl_text = (f"Load average after: {loadavg()}. One run each, same targets and "
                    "time limits as above.\n\n" + ablation_table(rows, abl_sizes))
        print("\n" + abl_text)
    if not args.no_docs:
        write_doc("scale.py tables", text)
        if abl_text:
            write_doc("scale.py ablation", abl_text)
        print(f"wrote {DOC} and {PLOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
