"""Commands of the ``allocator`` command line: importing
benchmark files, verifying results, evaluating a given plan, comparing two results folders.

Each command is a thin layer over its module (``allocator.tools.orlib``,
``allocator.verify``, ``allocator.analysis.evaluate``, ``allocator.analysis.compare``),
imported when the command runs so that ``allocator verify`` never loads Pyomo or HiGHS (the
one kind of import inside a function this package allows: a heavy dependency a command may
not need). A callback returns its exit code; :func:`allocator.cli.common.guard` turns it and
every error into the process's exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from allocator.cli.common import (
    allow_families_option,
    command_line,
    force_option,
    guard,
    instance_options,
    read_options,
)


@click.group(name="import")
def import_group() -> None:
    """Convert files of other formats into instance folders."""


@import_group.command(name="orlib-cap")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Instance folder to write (new, empty, or one allocator "
                                  "wrote; see --force). Default: none, required.")
@click.option("--capacity", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="N", help="Capacity of every warehouse, for capa/capb/capc (whose "
                                "capacity fields hold the word 'capacity'). Default: none "
                                "(the file's own capacities).")
@force_option
@guard
def import_orlib_cap(file: Path, output: Path, capacity: float | None, force: bool) -> int:
    """Convert an OR-Library capacitated warehouse location FILE (cap41 ... cap134, capa,
    capb, capc; Beasley 1988) into an instance folder that `allocator solve` solves.

    Warehouses become candidate regions (fixed cost, maximum capacity), customers market
    regions (demand), and the cost of serving all of customer j's demand from warehouse i
    the unit cost c_ij / d_j of the arc i -> j. Exit 2 when the file is malformed (the line
    is named).
    """
    from allocator.tools.orlib import read_cap, write_instance

    problem = read_cap(file, capacity)
    folder = write_instance(problem, output, force=force, reading=[file])
    click.echo(f"{problem.name}: {problem.warehouses} warehouses (candidate regions), "
               f"{problem.customers} customers (markets) written to {folder}")
    return 0


@click.command()
@click.argument("instance", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("results", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--family", "family_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE.py",
              help="A researcher's family file whose verify_rules to use (repeatable). "
                   "Default: the file each family was loaded from, as recorded in "
                   "summary.json, if allowed.")
@allow_families_option
@guard
def verify(instance: Path, results: Path, family_files: tuple[Path, ...],
           allow_families: bool) -> int:
    """Check the plan in RESULTS (a folder written by solve or evaluate) against INSTANCE,
    independently of the model: without Pyomo or HiGHS, every constraint of every active
    family and every objective term is recomputed from the written tables with pandas.

    Prints each violated constraint (family, constraint, index, amount) and whether the
    recomputed objective equals summary.json's (relative tolerance 1e-6). Exit 0 when the
    plan is feasible and the objective agrees; 5 otherwise (also when an active family has
    no rules); 2 when a folder cannot be read.
    """
    from allocator.core.errors import EXIT_VERIFY_FAILED, InputError, Problem
    from allocator.verify import ReadError
    from allocator.verify import verify as run

    try:
        report = run(instance, results, family_files, allow_families=allow_families)
    except ReadError as exc:
        raise InputError([Problem(str(results), str(exc))]) from exc
    click.echo(report.render())
    return 0 if report.ok else EXIT_VERIFY_FAILED


@click.command()
@click.argument("instance", type=click.Path(path_type=Path))
@click.argument("plan", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the evaluation's result tables (with "
                                 "shortfalls.csv) and summary.json; a folder allocator did not "
                                 "write is refused (see --force). Default: none.")
@click.option("--optimum", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="A results folder of `allocator solve` on the same instance: "
                                 "also print the gap to it, term by term (as allocator "
                                 "compare). Default: none.")
@click.option("--penalty", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Penalty per unit of shortfall of a limit. Default: 1e6.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Wall-clock limit of the solve, in seconds. Default: the instance's "
                   "[solver] time_limit, else none.")
@instance_options
@force_option
@guard
def evaluate(instance: Path, plan: Path, output: Path | None, optimum: Path | None,
             penalty: float | None, time_limit: float | None, without: tuple[str, ...],
             family_files: tuple[Path, ...], tables: dict[str, str],
             overrides: dict[str, Any], force: bool, allow_families: bool) -> int:
    """Evaluate a given PLAN (CSV: industry, region, [hosted], [capacity], [note]) on
    INSTANCE: hosting (and capacity where given) is fixed to the plan, the rest (flows,
    shipments, imports, fund, capacities left blank) is solved.

    Prints the plan's cost by term and what it breaks (talent, funding, supply, demand and
    policy shortfalls as amounts). Exit 0 when the plan is feasible, 4 when it breaks a
    limit (it is infeasible), 2 when the plan file is bad (file, row, column, value).
    """
    from allocator.analysis.evaluate import evaluate as run
    from allocator.analysis.evaluate import render
    from allocator.core.errors import EXIT_INFEASIBLE
    from allocator.core.outfolder import check_folder
    from allocator.engine.highs import SolverOptions
    from allocator.input.data import load_instance
    from allocator.output.folder import write_results

    if output is not None:  # refused before the solve, not after it
        check_folder(output, force=force, reading=[instance])
    inst = load_instance(instance, **read_options(family_files, without, tables, overrides,
                                                  allow_families))
    ev = run(inst, plan, SolverOptions(time_limit=time_limit), penalty=penalty)
    click.echo(render(ev))
    written = None
    if output is not None and ev.result.outcome.has_solution:
        ev.result.summary["command"] = command_line()
        written = write_results(ev.result, output, force=force)
        click.echo(f"\nResults written to {written}")
    if optimum is not None and written is not None:
        from allocator.analysis.compare import compare as diff
        from allocator.analysis.compare import render as show

        click.echo("\nGap to the optimum (A: this plan, B: the optimum):")
        click.echo(show(diff(written, optimum)))
    elif optimum is not None:
        click.echo("\n--optimum needs -o (the comparison reads the written tables).")
    if not ev.result.outcome.has_solution:
        return ev.result.exit_code or 1
    return 0 if ev.feasible else EXIT_INFEASIBLE


@click.command()
@click.argument("results_a", type=click.Path(path_type=Path))
@click.argument("results_b", type=click.Path(path_type=Path))
@guard
def compare(results_a: Path, results_b: Path) -> int:
    """Compare two results folders: the objective term by term (weighted, B - A) and the
    (industry, region) pairs that change (hosted in one only, or a different capacity).

    Typical: A the evaluation of a plan, B the optimum. Exit 0; 2 when a folder is not a
    results folder with a plan.
    """
    from allocator.analysis.compare import compare as diff
    from allocator.analysis.compare import render

    click.echo(render(diff(results_a, results_b)))
    return 0


COMMANDS: tuple[click.Command, ...] = (import_group, verify, evaluate, compare)
