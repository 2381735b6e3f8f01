"""``allocator stochastic-value``: the value of the stochastic solution and of perfect
information (:mod:`allocator.analysis.value`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from allocator.cli.common import command_line, force_option, guard, instance_options, read_options
from allocator.core.errors import OptionError


@click.command("stochastic-value")
@click.argument("instance", type=click.Path(path_type=Path))
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Wall-clock limit of each of the solves. Default: the instance's [solver] "
                   "time_limit, else none.")
@click.option("--gap", type=click.FloatRange(0, 1), default=None, metavar="FRACTION",
              help="Relative MIP gap of each solve. Default: the instance's [solver] mip_gap.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads HiGHS may use. Default: HiGHS decides.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the numbers and every solve's status and gap as JSON (a file "
                   "allocator did not write is refused, see --force). Default: none.")
@click.option("--rp-output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write the stochastic plan (RP) as a results folder, as solve -o "
                   "would. Default: none.")
@instance_options
@force_option
@guard
def stochastic_value_command(instance: Path, time_limit: float | None, gap: float | None,
                             threads: int | None, output: Path | None,
                             rp_output: Path | None, without: tuple[str, ...],
                             family_files: tuple[Path, ...], tables: dict[str, str],
                             overrides: dict[str, Any], force: bool,
                             allow_families: bool) -> int:
    """Value of the stochastic solution (VSS = EEV - RP) and of perfect information
    (EVPI = RP - WS) for INSTANCE with supply-shock scenarios (shocks.csv, e.g.
    --table shocks=scenarios/shocks.csv). Solves RP, EV, EEV and each scenario alone.

    Exit 0 when every solve is optimal, 3 when one stopped at the time limit, 2 bad input.
    """
    from allocator.analysis.value import render, stochastic_value
    from allocator.core.errors import EXIT_TIME_LIMIT
    from allocator.core.outfolder import check_files, check_folder, write_files
    from allocator.engine.highs import SolverOptions
    from allocator.input.data import load_instance
    from allocator.output.folder import write_results

    if output is not None:  # refused before the solves, not after them
        check_files([output], force=force, reading=[instance])
    if rp_output is not None:
        check_folder(rp_output, force=force, reading=[instance])
    inst = load_instance(instance, **read_options(family_files, without, tables, overrides,
                                                  allow_families))
    options = SolverOptions(time_limit=time_limit, mip_gap=gap, threads=threads)
    try:
        value = stochastic_value(inst, options)
    except OptionError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(render(value, inst.money))
    if rp_output is not None and value.rp_result.outcome.has_solution:
        value.rp_result.summary["command"] = command_line()
        click.echo(f"\nThe stochastic plan (RP) written to "
                   f"{write_results(value.rp_result, rp_output, force=force)}")
    if output is not None:
        text = json.dumps({"instance": inst.name, "sha256": inst.digest, "money": inst.money,
                           "set": inst.set_values, **value.to_dict()}, indent=2) + "\n"
        write_files({output: text.encode("utf-8")}, force=force, reading=[instance])
        click.echo(f"\nWritten to {output}")
    return 0 if all(s.status == "optimal" for s in value.solves) else EXIT_TIME_LIMIT


COMMANDS: tuple[click.Command, ...] = (stochastic_value_command,)
