"""The what-if commands: ``allocator sweep`` and ``allocator frontier`` (on Dask)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from allocator.cli.common import INSTANCE, family_options, guard, table_option


def run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every case's solve and of the cluster, shared by sweep and frontier."""
    for option in reversed([
        click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
                     required=True, help="The sweep's folder: one results folder per case "
                     "in cases/, sweep.csv, sweep.parquet and sweep.json. A folder that "
                     "holds an earlier run of the same sweep is resumed (cases already "
                     "solved with the same input are kept); any other non-empty folder is "
                     "refused. Required."),
        click.option("--time-limit", type=click.FloatRange(min=0), default=None,
                     metavar="SECONDS", help="Wall-clock limit of each case (build, first "
                     "plan, search, tables). Default: the instance's [solver] time_limit, "
                     "else none."),
        click.option("--gap", type=click.FloatRange(0, 1), default=None, metavar="FRACTION",
                     help="Relative MIP gap of each case. Default: the instance's [solver] "
                     "mip_gap, else 0.0001. A case's own \"solver.mip_gap\" wins."),
        click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Threads of each solve."),
        click.option("--seed", type=click.IntRange(min=0), default=None,
                     help="HiGHS random seed. Default: the instance's [solver] seed, else 0."),
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Worker processes of the local cluster, each solving one case at "
                     "a time. Default: the cores divided by --threads (never more solver "
                     "threads than cores), at most the cases to solve."),
        click.option("--scheduler", default=None, metavar="tcp://HOST:8786",
                     help="Run on a running Dask scheduler and its workers (`dask "
                     "scheduler`, `dask worker ADDRESS --nthreads 1`) instead of a local "
                     "cluster. Default: a local cluster, started and stopped here."),
        click.option("--no-heuristic", is_flag=True, default=False,
                     help="Skip the greedy first plan of each solve. Default: on."),
    ]):
        fn = option(fn)
    return fn


def _options(time_limit: float | None, gap: float | None, threads: int, seed: int | None,
             no_heuristic: bool, workers: int | None, scheduler: str | None) -> tuple[Any, Any]:
    from allocator.output.sweep import ClusterOptions, SweepOptions

    if workers is not None and scheduler is not None:
        raise click.BadParameter("--workers is for the local cluster; a scheduler has its own "
                                 "workers", param_hint="--workers")
    return (SweepOptions(time_limit=time_limit, mip_gap=gap, threads=threads, seed=seed,
                         heuristic=not no_heuristic),
            ClusterOptions(workers=workers, scheduler=scheduler, threads=threads))


def _report(outcome: Any) -> int:
    """The cases as they ended, where everything is, the exit code."""
    rows = outcome.table
    click.echo("")
    width = max([len(str(c)) for c in rows["case"]] + [4])
    click.echo(f"{'case':<{width}}  {'status':<19} {'objective':>16}")
    for r in rows.to_dict("records"):
        obj = r.get("objective")
        shown = "" if obj is None or obj != obj else f"{obj:,.2f}"
        status = r["status"] + (" (kept)" if any(o.kept and o.case.name == r["case"]
                                                 for o in outcome.outcomes) else "")
        click.echo(f"{r['case']:<{width}}  {status:<19} {shown:>16}")
    for r in rows.to_dict("records"):
        if r.get("error"):
            click.echo(f"case '{r['case']}': {r['error']}", err=True)
    for note in outcome.notes:
        click.echo(note)
    if outcome.interrupted:
        click.echo("Interrupted: the finished cases are kept; run the same command again to "
                   "solve the rest.", err=True)
    click.echo(f"\nSweep written to {outcome.folder} (sweep.csv, sweep.parquet, a results "
               f"folder per case in cases/); `allocator report {outcome.folder}` draws it.")
    return outcome.exit_code


@click.command()
@INSTANCE
@click.argument("sweep_file", metavar="SWEEP.toml",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@run_options
@family_options
@table_option
@guard
def sweep(instance: Path, sweep_file: Path, output: Path, time_limit: float | None,
          gap: float | None, threads: int, seed: int | None, workers: int | None,
          scheduler: str | None, no_heuristic: bool, without: tuple[str, ...],
          family_files: tuple[Path, ...], allow_families: bool, tables: dict[str, str]) -> int:
    """Solve every case of SWEEP.toml (a grid and a list of what-ifs, each a set of
    overrides of INSTANCE: settings and weights, tables from other files, scaled or set
    columns, families off or on, bounds on objective terms; docs/sweeps.md) on Dask.

    Every case is checked before any is solved (every problem at once, each named by its
    case). Each case writes an ordinary results folder; sweep.csv and sweep.parquet hold one
    row per case (overrides, status, objective by term, gap, seconds, hosts per industry).
    A progress line on stderr shows cases done, running and failed and the time left.

    Exit 0 every case optimal (or within the gap), 4 a case is infeasible, 1 a case failed,
    3 Ctrl-C or a case stopped at its time limit (finished cases are kept), 2 bad input.
    """
    from allocator.input.sweep import load_cases, read_sweep
    from allocator.output.sweep import Sweep, run_sweep

    options, cluster = _options(time_limit, gap, threads, seed, no_heuristic, workers,
                                scheduler)
    spec = read_sweep(sweep_file)
    base, instances = load_cases(instance, spec.cases, sweep_file.name,
                                 extra_families=family_files, without=without, tables=tables,
                                 allow_families=allow_families)
    click.echo(f"{base.name}: {len(spec.cases)} case{'s' if len(spec.cases) != 1 else ''} "
               f"of {sweep_file}, all valid.")
    info = {"sweep_file": str(sweep_file.resolve()), "description": spec.description,
            "axes": spec.axes}
    outcome = run_sweep(Sweep(output, base, spec.cases, "sweep", info), instances, options,
                        cluster)
    return _report(outcome)


@click.command()
@INSTANCE
@click.option("--between", required=True, metavar="A,B",
              help="Two objective terms: A, then B, the one held at most epsilon (e.g. "
              "site_excess,coordination: the duplication it takes to cut coordination). "
              "Required.")
@click.option("--points", type=click.IntRange(min=2), default=9, show_default=True,
              help="Points of the frontier, from the optimum (no bound on B) to the least B "
              "any plan reaches.")
@run_options
@family_options
@table_option
@guard
def frontier(instance: Path, between: str, points: int, output: Path,
             time_limit: float | None, gap: float | None, threads: int, seed: int | None,
             workers: int | None, scheduler: str | None, no_heuristic: bool,
             without: tuple[str, ...], family_files: tuple[Path, ...], allow_families: bool,
             tables: dict[str, str]) -> int:
    """The trade-off frontier of two objective terms of INSTANCE by the epsilon-constraint
    method: each point the least-cost plan with term B at most epsilon, epsilon evenly from
    B at the optimum down to the least B (solved first, as an anchor). Each point is a case
    of a sweep (same folder, resuming and cluster as `allocator sweep`); `allocator report
    FOLDER` draws the frontier and the plans that change along it.

    Exit codes as `allocator sweep`.
    """
    from allocator.input.data import load_instance
    from allocator.input.sweep import load_cases
    from allocator.output.frontier import FrontierSpec, run_frontier

    terms = [t.strip() for t in between.split(",") if t.strip()]
    if len(terms) != 2:
        raise click.BadParameter("expected two objective terms, A,B (e.g. "
                                 "site_excess,coordination)", param_hint="--between")
    options, cluster = _options(time_limit, gap, threads, seed, no_heuristic, workers,
                                scheduler)
    kwargs: dict[str, Any] = {"extra_families": family_files, "without": without,
                              "tables": tables, "allow_families": allow_families}
    base = load_instance(instance, **kwargs)
    spec = FrontierSpec((terms[0], terms[1]), points)
    click.echo(f"{base.name}: frontier of {terms[0]} against {terms[1]} in {points} points.")
    outcome = run_frontier(output, base, spec,
                           lambda cases: load_cases(instance, cases, "--between", **kwargs)[1],
                           options, cluster)
    return _report(outcome)


COMMANDS: tuple[click.Command, ...] = (sweep, frontier)
