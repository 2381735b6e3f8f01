"""The ``allocator`` command: a thin layer over the Python API (``import allocator``).

Exit codes: 0 optimal or within the gap; 1 internal error; 2 bad input or options; 3 time
limit (the best plan found is still written); 4 infeasible.
"""

from __future__ import annotations

import sys
import textwrap
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from allocator.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, InputError
from allocator.generate import generate_command

INSTANCE = click.argument("instance", type=click.Path(path_type=Path))


def _guard(fn: Callable[..., int | None]) -> Callable[..., None]:
    """Turn every outcome into its exit code; bad input is reported all at once."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            code = fn(*args, **kwargs) or 0
        except InputError as exc:
            click.echo(str(exc), err=True)
            click.echo("Nothing was solved. Fix the input and run again.", err=True)
            code = EXIT_BAD_INPUT
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except BrokenPipeError:  # output piped into `head` and closed: not an error
            sys.stderr.close()
            code = 0
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            code = 130
        except Exception:  # an internal error: show it, ask for a report
            click.echo(traceback.format_exc(), err=True)
            click.echo("allocator hit an internal error (above). Please report it with the "
                       "instance folder.", err=True)
            code = EXIT_INTERNAL
        sys.exit(code)

    return run


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="allocator")
def main() -> None:
    """Decide which region hosts which strategic emerging industry, and how much capacity,
    minimizing duplication and cross-region coordination cost under talent, funding and
    supply limits.

    Exit codes: 0 optimal (or within the gap), 1 internal error, 2 bad input or options,
    3 time limit (the best plan found is still written), 4 infeasible.
    """


def _family_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--without", "without", multiple=True, metavar="NAME",
                      help="Switch a family off by name (repeatable). Default: none; the "
                           "instance's [families] without also applies.")(fn)
    fn = click.option("--family", "family_files", multiple=True,
                      type=click.Path(exists=True, dir_okay=False, path_type=Path),
                      metavar="FILE.py",
                      help="Add a family from a Python file defining FAMILY (repeatable); a "
                           "family with the name of an existing one replaces it. Default: "
                           "none.")(fn)
    return fn


@main.command()
@INSTANCE
@_family_options
@_guard
def validate(instance: Path, without: tuple[str, ...], family_files: tuple[Path, ...]) -> int:
    """Check every file of INSTANCE (a folder) and report every problem at once.

    Each problem names the file, the row (as a spreadsheet shows it), the column, the bad
    value and what is expected. Exit 0 when the instance is valid, 2 otherwise.
    """
    from allocator.data import load_instance

    inst = load_instance(instance, extra_families=family_files, without=without)
    sites = inst.sites
    click.echo(f"{inst.name}: valid. {len(inst.region_ids)} regions, "
               f"{len(inst.industry_ids)} industries, {len(sites)} candidate sites.")
    for status in inst.families:
        mark = "on " if status.active else "off"
        click.echo(f"  [{mark}] {status.family.name}"
                   + (f"  ({status.reason})" if status.reason else ""))
    return 0


@main.command()
@INSTANCE
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the result tables and summary.json; replaced "
                                 "atomically when complete. Default: no files, terminal "
                                 "summary only.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Wall-clock limit of the MIP solve, in seconds. Default: the instance's "
                   "[solver] time_limit, else none.")
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
@_family_options
@_guard
def solve(instance: Path, output: Path | None, time_limit: float | None, gap: float | None,
          threads: int | None, seed: int | None, log_file: Path | None, verbose: bool,
          without: tuple[str, ...], family_files: tuple[Path, ...]) -> int:
    """Solve INSTANCE (a folder) with HiGHS and print a summary; with -o, write the result
    tables (allocation, flows, regions, objective, industries) and summary.json.

    Exit 0 optimal (or within the gap), 3 time limit (best plan still written), 4
    infeasible (the conflicting families are named), 2 bad input.
    """
    import allocator

    inst = allocator.load_instance(instance, extra_families=family_files, without=without)
    options = allocator.SolverOptions(time_limit=time_limit, mip_gap=gap, threads=threads,
                                      seed=seed, log_file=str(log_file) if log_file else None,
                                      verbose=verbose)
    built = allocator.build_model(inst)
    result = allocator.solve(built, options)
    click.echo(render_summary(result))
    if output is not None and (result.outcome.has_solution or result.status != "error"):
        path = result.write(output)
        click.echo(f"\nResults written to {path}")
    return result.exit_code


@main.command()
@click.argument("instance", required=False, type=click.Path(path_type=Path))
@click.option("--math", "math_of", metavar="NAME", default=None,
              help="Print the mathematics and symbol table of one family. Default: list all.")
@_family_options
@_guard
def families(instance: Path | None, math_of: str | None, without: tuple[str, ...],
             family_files: tuple[Path, ...]) -> int:
    """List the formulation families, what each does and whether it is on.

    With INSTANCE, on/off is for that instance (a family whose tables are absent is off).
    """
    from allocator.data import load_instance
    from allocator.docs import family_markdown
    from allocator.family import compose, default_families, load_family_file

    if instance is not None:
        inst = load_instance(instance, extra_families=family_files, without=without)
        statuses = [(s.family, s.active, s.reason) for s in inst.families]
    else:
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


def render_summary(result: Any) -> str:
    """The short human summary printed after a solve."""
    s = result.summary
    inst = result.built.instance
    money = inst.money
    lines = []
    gap = s["gap"]
    gap_text = f", gap {gap:.2%}" if gap is not None else ""
    secs = sum(v for k, v in s["seconds"].items() if k in ("build", "handoff", "solve"))
    lines.append(f"{inst.name}: {s['status']}{gap_text} in {secs:.1f} s ({s['termination']})")
    if s["message"]:
        lines.append(s["message"])
    if not result.outcome.has_solution:
        if s["best_bound"] is not None:
            lines.append(f"No plan found; best bound {s['best_bound']:,.2f} {money}.")
        return "\n".join(lines)
    lines.append(f"Objective {s['objective']:,.2f} {money}"
                 + (f" (best bound {s['best_bound']:,.2f})" if s["best_bound"] is not None
                    else ""))
    obj = result.tables["objective"]
    lines.append("")
    lines.append(f"{'term':<16}{'weight':>10}{'value':>16}{'weighted':>16}")
    for row in obj.itertuples(index=False):
        lines.append(f"{row.term:<16}{row.weight:>10g}{row.value:>16,.2f}{row.weighted:>16,.2f}")
    ind = result.tables["industries"]
    lines.append("")
    lines.append("Host regions per industry against the national target (candidates: regions "
                 "allowed to host; left out: candidates that get none):")
    lines.append(f"{'industry':<16}{'candidates':>11}{'hosts':>6}{'target':>7}{'left out':>9}"
                 "  host regions")
    for row in ind.itertuples(index=False):
        lines.append(f"{row.industry!s:<16}{row.candidates:>11}{row.hosts:>6}"
                     f"{row.target_hosts:>7}{row.candidates - row.hosts:>9}  "
                     f"{row.host_regions}")
    return "\n".join(lines)


main.add_command(generate_command)

if __name__ == "__main__":
    main()
