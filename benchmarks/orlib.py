"""Reproduce OR-Library's capacitated warehouse location optima with the ordinary pipeline.

Every file is converted by ``allocator import orlib-cap`` (``allocator.tools.orlib``), validated,
built and solved exactly as ``allocator solve`` would; the result is checked by ``allocator
verify``. One row per problem: instance, published optimum, ours, relative difference,
status, seconds (import + validation + build + solve), and whether verify agrees.

    python benchmarks/orlib.py                      # all 37 cap4x-13x, capa/b/c x 4 capacities
    python benchmarks/orlib.py cap41 capc-7250      # some of them
    python benchmarks/orlib.py --time-limit 60 --threads 1 --markdown table.md
    python benchmarks/orlib.py capa capb capc --variant textbook --docs

``--variant`` picks the formulation (the optimum is the same, the time differs):
``default`` is allocator's; ``no-cover`` leaves out the capacity family's valid inequalities
(the strong linking ship <= d_j x_i of the markets family stays); ``textbook`` is the plain
model of ``build_model(strengthen=False)`` (no valid inequalities, no pruning). ``--docs``
writes the table into docs/performance.md between its ``orlib.py VARIANT`` markers.

The data are read from ``../shared/benchmarks/orlib/cap`` beside the checkout, else
``/work/shared/benchmarks/orlib/cap`` (``--data`` overrides).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import allocator
from allocator.tools.orlib import CAPACITIES, import_cap, published_optima

ROOT = Path(__file__).resolve().parent.parent


def default_data() -> Path | None:
    for base in (ROOT.parent / "shared", Path("/work/shared")):
        folder = base / "benchmarks" / "orlib" / "cap"
        if folder.is_dir():
            return folder
    return None


def problems(data: Path) -> list[tuple[str, Path, float | None]]:
    """(name, file, capacity) of every problem: cap41 ... cap134, then capa/b/c-<capacity>."""
    small = sorted((p for p in data.glob("cap[0-9]*.txt")),
                   key=lambda p: int(p.stem[3:]))
    out: list[tuple[str, Path, float | None]] = [(p.stem, p, None) for p in small]
    for stem, caps in CAPACITIES.items():
        out += [(f"{stem}-{c}", data / f"{stem}.txt", float(c)) for c in caps]
    return out


#: formulations compared (see the module docstring)
VARIANTS = ("default", "no-cover", "textbook")


def run(name: str, file: Path, capacity: float | None, optimum: float,
        options: allocator.SolverOptions, work: Path, check: bool,
        variant: str = "default") -> dict[str, object]:
    start = time.perf_counter()
    folder = import_cap(file, work / name, capacity)
    inst = allocator.load_instance(folder)
    if variant == "no-cover":
        inst.family_options["capacity"]["strengthen"] = False
    built = allocator.build_model(inst, strengthen=variant != "textbook")
    result = allocator.solve(built, options)
    seconds = time.perf_counter() - start
    ours = result.objective
    rel = None if ours is None else (ours - optimum) / abs(optimum)
    verified = "-"
    if result.outcome.has_solution:
        out = allocator.write_results(result, work / f"{name}-results")
        if check:
            from allocator.verify import verify

            verified = "yes" if verify(folder, out).ok else "NO"
    bound = result.outcome.bound
    return {"instance": name, "published": optimum, "ours": ours, "rel": rel,
            "status": result.status, "seconds": seconds, "bound": bound,
            "verified": verified}


def fmt(row: dict[str, object]) -> str:
    ours = "-" if row["ours"] is None else f"{row['ours']:,.4f}"
    rel = "-" if row["rel"] is None else f"{row['rel']:.1e}"
    bound = "" if row["bound"] is None or row["status"] == "optimal" else (
        f" (bound {row['bound']:,.1f})")
    return (f"| {row['instance']} | {row['published']:,.3f} | {ours} | {rel} | "
            f"{row['status']}{bound} | {row['seconds']:.1f} | {row['verified']} |")


HEADER = ("| instance | published optimum | ours | relative difference | status | seconds "
          "| verify |\n|---|---:|---:|---:|---|---:|---|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="problem names, or a file's stem for all its "
                        "capacities: cap41 capb capc-7250 (default: all)")
    parser.add_argument("--time-limit", type=float, default=300.0,
                        help="seconds per problem (default 300)")
    parser.add_argument("--threads", type=int, default=None, help="HiGHS threads")
    parser.add_argument("--data", type=Path, default=None, help="folder of the cap files")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the table to this file")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the instance and results folders here (default: a "
                             "temporary folder)")
    parser.add_argument("--no-verify", action="store_true",
                        help="do not run allocator verify on each result")
    parser.add_argument("--variant", choices=VARIANTS, default="default",
                        help="formulation (default: %(default)s)")
    parser.add_argument("--docs", action="store_true",
                        help="also write the table into docs/performance.md")
    args = parser.parse_args(argv)
    data = args.data or default_data()
    if data is None or not data.is_dir():
        print("OR-Library data not found: give --data", file=sys.stderr)
        return 2
    optima = published_optima(data / "capopt.txt")
    todo = [p for p in problems(data)
            if not args.only or p[0] in args.only or p[1].stem in args.only]
    options = allocator.SolverOptions(time_limit=args.time_limit, mip_gap=0.0,
                                      threads=args.threads)
    lines = [HEADER]
    print(HEADER, flush=True)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name, file, capacity in todo:
            row = run(name, file, capacity, optima[name], options, work, not args.no_verify,
                      args.variant)
            if row["rel"] is not None and row["status"] == "optimal":
                worst = max(worst, abs(float(row["rel"])))  # type: ignore[arg-type]
            lines.append(fmt(row))
            print(lines[-1], flush=True)
    print(f"\nlargest relative difference among optimal solves: {worst:.1e}")
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.docs:
        write_doc(lines, args.variant, args.time_limit)
    return 0


def write_doc(lines: list[str], variant: str, limit: float) -> None:
    """The table, between ``<!-- BEGIN orlib.py VARIANT -->`` and its END marker of
    docs/performance.md (the marker writer of scale.py, beside this script)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scale import loadavg
    from scale import write_doc as write_section

    text = [f"Formulation `{variant}`, time limit {limit:g} s, relative gap 0; load average "
            f"at the end {loadavg()}.\n", *lines]
    write_section(f"orlib.py {variant}", "\n".join(text) + "\n")

if __name__ == "__main__":
    sys.exit(main())
