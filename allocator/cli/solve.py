"""The engine's commands: ``validate``, ``solve``, ``explain`` and ``families``."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from allocator.cli.common import (
    INSTANCE,
    command_line,
    force_option,
    guard,
    instance_options,
    names,
    read_options,
)


@click.command()
@INSTANCE
@instance_options
@guard
def validate(instance: Path, without: tuple[str, ...], family_files: tuple[Path, ...],
             allow_families: bool, tables: dict[str, str], overrides: dict[str, Any]) -> int:
    """Check every file of INSTANCE (a folder) and report every problem at once.

    Each problem names the file, the row (as a spreadsheet shows it), the column, the bad
    value and what is expected. Exit 0 when the instance is valid, 2 otherwise.
    """
    from allocator.input.data import load_instance

    inst = load_instance(instance, **read_options(family_files, without, tables, overrides,
                                                  allow_families))
    sites = inst.sites
    click.echo(f"{inst.name}: valid. {len(inst.region_ids)} regions, "
               f"{len(inst.industry_ids)} industries, {len(sites)} candidate sites.")
    for status in inst.every_family:
        mark = "on " if status.active else "off"
        click.echo(f"  [{mark}] {status.family.name}"
                   + (f"  ({status.reason})" if status.reason else ""))
    if inst.has("shocks"):
        from allocator.input.scenarios import scenarios_of

        click.echo(f"Supply-shock scenarios ({inst.file_of('shocks')}): the solve is a "
                   "two-stage stochastic program")
        for sc in scenarios_of(inst):
            click.echo(f"  {sc.name} (p = {sc.probability:g}): {sc.describe()}")
    return 0


@click.command()
@INSTANCE
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the result tables and summary.json, written "
                                 "beside it and swapped in when complete; a folder allocator "
                                 "did not write is refused (see --force). Default: no files, "
                                 "terminal summary only.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Wall-clock limit of the whole command, in seconds: loading, building, "
                   "the first plan, the search, the shadow prices and writing. Default: the "
                   "instance's [solver] time_limit, else none.")
@click.option("--gap", type=click.FloatRange(0, 1), default=None, metavar="FRACTION",
              help="Relative MIP gap at which a plan counts as optimal (0.005 = 0.5%). "
                   "Default: the instance's [solver] mip_gap, else 0.0001.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads HiGHS may use. Default: the instance's [solver] threads, else "
                   "HiGHS decides.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="HiGHS random seed. Default: the instance's [solver] seed, else 0.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the full HiGHS log to this file. Default: no log.")
@click.option("--verbose", is_flag=True, default=False,
              help="Stream the HiGHS log to the terminal. Default: off.")
@click.option("--start", "start_file", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
              default=None, metavar="PLAN.csv",
              help="A plan to start from (a previous allocation.csv, or columns industry, "
                   "region[, hosted, capacity]): completed to a feasible plan and given to "
                   "HiGHS as its first incumbent. Default: none.")
@click.option("--no-heuristic", is_flag=True, default=False,
              help="Skip the greedy first plan (cheapest cost per unit of demand within the "
                   "talent, funding, supply and focus limits). Default: on.")
@click.option("--quiet", is_flag=True, default=False,
              help="No live progress line (elapsed, incumbent, bound, gap) on stderr. "
                   "Default: shown during solves longer than a second.")
@click.option("--soft", "soft", multiple=True, metavar="FAMILIES",
              help="Make the limits of these families (comma-separated or repeated; any "
                   "family that declares limits: see allocator families --math NAME) "
                   "penalized slacks: the best plan, and every shortfall it needs "
                   "(shortfalls.csv). Default: all limits hard.")
@click.option("--soft-penalty", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="MONEY", help="Objective penalty per unit of shortfall (each in its "
              "limit's unit). Default: 1e6.")
@instance_options
@force_option
@guard
def solve(instance: Path, output: Path | None, time_limit: float | None, gap: float | None,
          threads: int | None, seed: int | None, log_file: Path | None, verbose: bool,
          start_file: Path | None, no_heuristic: bool, quiet: bool,
          soft: tuple[str, ...], soft_penalty: float | None,
          without: tuple[str, ...], family_files: tuple[Path, ...], allow_families: bool,
          tables: dict[str, str], overrides: dict[str, Any], force: bool) -> int:
    """Solve INSTANCE (a folder) with HiGHS and print a summary; with -o, write the result
    tables (allocation, flows, regions, objective, industries; shortfalls with --soft,
    relaxations when infeasible) and summary.json.

    Pre-solve checks run first; a failure proves there is no plan. Ctrl-C stops HiGHS
    cleanly and the best plan found so far is written.

    Exit 0 optimal (or within the gap), 3 time limit or Ctrl-C (best plan still written),
    4 infeasible (the smallest relaxation, by input row), 2 bad input, 1 internal error.
    See docs/cli.md.
    """
    from allocator.analysis.pipeline import solve as solve_built
    from allocator.core.outfolder import check_files, check_folder, record_files
    from allocator.engine.build import build_model
    from allocator.engine.deadline import Deadline, process_started
    from allocator.engine.highs import SolverOptions
    from allocator.input.data import load_instance
    from allocator.output.folder import write_results
    from allocator.output.terminal import render_summary

    # --time-limit is the budget of the whole command, from the start of the process (the
    # interpreter and the imports count too): load, build, first plan, search, shadow
    # prices, writing (allocator.engine.deadline)
    deadline = Deadline(time_limit, started=process_started())
    if output is not None:  # refused before the solve, not after it
        check_folder(output, force=force, reading=[instance])
    if log_file is not None:
        if output is not None and output.resolve() in log_file.resolve().parents:
            raise click.BadParameter("the log would be inside the results folder, which is "
                                     "replaced as a whole: write it beside the folder, e.g. "
                                     "--log run.log", param_hint="--log")
        check_files([log_file], force=force, reading=[instance])
    inst = load_instance(instance, **read_options(family_files, without, tables, overrides,
                                                  allow_families))
    options = SolverOptions(time_limit=time_limit, mip_gap=gap, threads=threads,
                                      seed=seed, log_file=str(log_file) if log_file else None,
                                      verbose=verbose, progress=not (quiet or verbose),
                                      heuristic=not no_heuristic,
                                      start_file=str(start_file) if start_file else None)
    if soft and inst.has("periods"):
        raise click.BadParameter("cannot be combined with planning periods (periods.csv) yet",
                                 param_hint="--soft")
    if soft and inst.has("shocks"):
        raise click.BadParameter("cannot be combined with supply-shock scenarios (shocks.csv): "
                                 "unmet demand is already penalized in each scenario",
                                 param_hint="--soft")
    try:
        built = build_model(inst, soft=names(soft), soft_penalty=soft_penalty)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--soft") from exc
    result = solve_built(built, options, deadline=deadline)
    if log_file is not None:
        record_files([log_file])
    click.echo(render_summary(result))
    if output is not None and (result.outcome.has_solution or result.status != "error"):
        result.summary["command"] = command_line()
        path = write_results(result, output, force=force)
        click.echo(f"\nResults written to {path}")
    return result.exit_code


@click.command()
@INSTANCE
@click.option("--relax", "relax", multiple=True, metavar="FAMILIES",
              help="Relax only the limits of these families (comma-separated or repeated). "
                   "Default: every family that declares limits.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Time limit of each stage of the elastic model. "
              "Default: the instance's [solver] time_limit, else 60.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads HiGHS may use. Default: the instance's [solver] threads, else "
                   "HiGHS decides.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="HiGHS random seed. Default: the instance's [solver] seed, else 0.")
@click.option("--no-iis", is_flag=True, default=False,
              help="Skip the second view (the IIS of the LP relaxation). Default: shown.")
@click.option("--quiet", is_flag=True, default=False,
              help="No progress on stderr (each stage as it starts, with the time elapsed, "
                   "and a solve's progress line after a second). Default: shown.")
@instance_options
@guard
def explain(instance: Path, relax: tuple[str, ...], time_limit: float | None,
            threads: int | None, seed: int | None, no_iis: bool, quiet: bool,
            without: tuple[str, ...],
            family_files: tuple[Path, ...], allow_families: bool, tables: dict[str, str],
            overrides: dict[str, Any]) -> int:
    """Explain why INSTANCE has no plan, in the planner's terms: the pre-solve checks that
    fail, then the smallest set of limits to relax (fewest limits, demand last, then least
    amount), each named by its input file row, with its unit, and the least amount of each
    that is proven ("at least X, proven") or a plain note that it is not; then HiGHS's IIS
    of the LP relaxation as a second view. Progress goes to stderr (--quiet: none).

    Exit 0 when the instance is feasible (nothing to explain), 4 when it is infeasible, 3
    when no relaxation was found within the time limit, 2 bad input.
    """
    from allocator.analysis.explain import explain as explain_instance
    from allocator.core.errors import EXIT_INFEASIBLE, EXIT_TIME_LIMIT
    from allocator.engine.highs import SolverOptions
    from allocator.input.data import load_instance

    inst = load_instance(instance, **read_options(family_files, without, tables, overrides,
                                                  allow_families))
    options = SolverOptions(time_limit=time_limit, threads=threads, seed=seed)
    known = [f.name for f in inst.active_families if f.limits]
    for name in names(relax):
        if name not in known:
            raise click.BadParameter(f"family '{name}' has no limits to relax here; families "
                                     f"with limits: {', '.join(known)}", param_hint="--relax")
    result = explain_instance(inst, relax=names(relax) or None, options=options,
                              iis=not no_iis, progress=None if quiet else sys.stderr)
    click.echo(f"{inst.name}: " + "\n".join(result.lines()))
    return {"feasible": 0, "unknown": EXIT_TIME_LIMIT}.get(result.status, EXIT_INFEASIBLE)


@click.command()
@click.argument("instance", required=False, type=click.Path(path_type=Path))
@click.option("--math", "math_of", metavar="NAME", default=None,
              help="Print the mathematics and symbol table of one family. Default: list all.")
@instance_options
@guard
def families(instance: Path | None, math_of: str | None, without: tuple[str, ...],
             family_files: tuple[Path, ...], allow_families: bool, tables: dict[str, str],
             overrides: dict[str, Any]) -> int:
    """List the formulation families, what each does and whether it is on.

    With INSTANCE, on/off is for that instance (a family whose tables are absent is off);
    --table and --set apply only then.
    """
    from allocator.input.data import load_instance
    from allocator.input.families import compose, default_families, load_family_file
    from allocator.tools.docs import family_markdown

    if instance is not None:
        inst = load_instance(instance, **read_options(family_files, without, tables,
                                                      overrides, allow_families))
        statuses = [(s.family, s.active, s.reason) for s in inst.every_family]
    else:
        if tables or overrides:
            raise click.BadParameter("--table and --set need an INSTANCE to apply to",
                                     param_hint="INSTANCE")
        fams = compose(default_families(), [load_family_file(f) for f in family_files],
                       without)
        statuses = [(f, True, "") for f in fams]
    if math_of:
        for fam, _, _ in statuses:
            if fam.name == math_of:
                click.echo(family_markdown(fam))
                return 0
        raise click.BadParameter(f"unknown family '{math_of}'", param_hint="--math")
    width = max(len(f.name) for f, _, _ in statuses)
    for fam, active, reason in statuses:
        mark = "on " if active else "off"
        summary = textwrap.shorten(fam.summary, 90)
        click.echo(f"[{mark}] {fam.name:<{width}}  {summary}" + (f"  ({reason})" if reason
                                                                   else ""))
    click.echo("\nThe mathematics of each: allocator families --math NAME "
               "(all of it: docs/formulation.md).")
    return 0


COMMANDS: tuple[click.Command, ...] = (validate, solve, explain, families)
