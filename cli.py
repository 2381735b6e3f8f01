"""The ``allocator`` command: a thin layer over the Python API (``import allocator``).

Exit codes: 0 optimal or within the gap; 1 internal error; 2 bad input or options; 3 time
limit or Ctrl-C (the best plan found is still written); 4 infeasible (allocator evaluate: the
plan breaks limits); 5 verification failed (allocator verify); 130 Ctrl-C outside the solve
(nothing written). Every command, exit code and message class: docs/cli.md.
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

from allocator.cli_options import allow_families_option, force_option
from allocator.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, InputError
from allocator.generate import generate_command
from allocator.outfolder import OutputRefusedError, check_files, check_folder, record_files
from allocator.value import stochastic_value_command, table_option

INSTANCE = click.argument("instance", type=click.Path(path_type=Path))


def _guard(fn: Callable[..., int | None]) -> Callable[..., None]:
    """Turn every outcome into its exit code; bad input is reported all at once."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            code = fn(*args, **kwargs) or 0
        except OutputRefusedError as exc:  # before InputError, of which it is a kind
            click.echo(str(exc), err=True)
            click.echo("Nothing was written.", err=True)
            code = EXIT_BAD_INPUT
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
    3 time limit or Ctrl-C (the best plan found is still written), 4 infeasible (explained
    by input row; evaluate: the plan breaks limits), 5 verification failed (verify: a
    violated constraint, an objective that disagrees, or a family it could not check).
    See docs/cli.md.
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
    return allow_families_option(fn)


@main.command()
@INSTANCE
@_family_options
@table_option
@_guard
def validate(instance: Path, without: tuple[str, ...], family_files: tuple[Path, ...],
             allow_families: bool, tables: dict[str, str]) -> int:
    """Check every file of INSTANCE (a folder) and report every problem at once.

    Each problem names the file, the row (as a spreadsheet shows it), the column, the bad
    value and what is expected. Exit 0 when the instance is valid, 2 otherwise.
    """
    from allocator.data import load_instance

    inst = load_instance(instance, extra_families=family_files, without=without,
                         tables=tables, allow_families=allow_families)
    sites = inst.sites
    click.echo(f"{inst.name}: valid. {len(inst.region_ids)} regions, "
               f"{len(inst.industry_ids)} industries, {len(sites)} candidate sites.")
    for status in inst.families:
        mark = "on " if status.active else "off"
        click.echo(f"  [{mark}] {status.family.name}"
                   + (f"  ({status.reason})" if status.reason else ""))
    if inst.has("shocks"):
        from allocator.scenarios import scenarios_of

        click.echo(f"Supply-shock scenarios ({inst.file_of('shocks')}): the solve is a "
                   "two-stage stochastic program")
        for sc in scenarios_of(inst):
            click.echo(f"  {sc.name} (p = {sc.probability:g}): {sc.describe()}")
    return 0


@main.command()
@INSTANCE
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the result tables and summary.json, written "
                                 "beside it and swapped in when complete; a folder allocator "
                                 "did not write is refused (see --force). Default: no files, "
                                 "terminal summary only.")
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
              help="Make the limits of these families (comma-separated or repeated: talent, "
                   "funding, supply, policy, capacity, markets, chain_coordination, "
                   "resilience, pilot_bases) penalized "
                   "slacks: the best plan, and every shortfall it needs (shortfalls.csv). "
                   "Default: all limits hard.")
@click.option("--soft-penalty", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="MONEY", help="Objective penalty per unit of shortfall (each in its "
              "limit's unit). Default: 1e6.")
@_family_options
@table_option
@force_option
@_guard
def solve(instance: Path, output: Path | None, time_limit: float | None, gap: float | None,
          threads: int | None, seed: int | None, log_file: Path | None, verbose: bool,
          start_file: Path | None, no_heuristic: bool, quiet: bool,
          soft: tuple[str, ...], soft_penalty: float | None,
          without: tuple[str, ...], family_files: tuple[Path, ...], allow_families: bool,
          tables: dict[str, str], force: bool) -> int:
    """Solve INSTANCE (a folder) with HiGHS and print a summary; with -o, write the result
    tables (allocation, flows, regions, objective, industries; shortfalls with --soft,
    relaxations when infeasible) and summary.json.

    Pre-solve checks run first; a failure proves there is no plan. Ctrl-C stops HiGHS
    cleanly and the best plan found so far is written.

    Exit 0 optimal (or within the gap), 3 time limit or Ctrl-C (best plan still written),
    4 infeasible (the smallest relaxation, by input row), 2 bad input, 1 internal error.
    See docs/cli.md.
    """
    import allocator

    if output is not None:  # refused before the solve, not after it
        check_folder(output, force=force, reading=[instance])
    if log_file is not None:
        if output is not None and output.resolve() in log_file.resolve().parents:
            raise click.BadParameter("the log would be inside the results folder, which is "
                                     "replaced as a whole: write it beside the folder, e.g. "
                                     "--log run.log", param_hint="--log")
        check_files([log_file], force=force, reading=[instance])
    inst = allocator.load_instance(instance, extra_families=family_files, without=without,
                                   tables=tables, allow_families=allow_families)
    options = allocator.SolverOptions(time_limit=time_limit, mip_gap=gap, threads=threads,
                                      seed=seed, log_file=str(log_file) if log_file else None,
                                      verbose=verbose, progress=not (quiet or verbose),
                                      heuristic=not no_heuristic,
                                      start_file=str(start_file) if start_file else None)
    if soft and inst.has("shocks"):
        raise click.BadParameter("cannot be combined with supply-shock scenarios (shocks.csv): "
                                 "unmet demand is already penalized in each scenario",
                                 param_hint="--soft")
    try:
        built = allocator.build_model(inst, soft=_names(soft), soft_penalty=soft_penalty)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--soft") from exc
    result = allocator.solve(built, options)
    if log_file is not None:
        record_files([log_file])
    click.echo(render_summary(result))
    if output is not None and (result.outcome.has_solution or result.status != "error"):
        path = result.write(output, force=force)
        click.echo(f"\nResults written to {path}")
    return result.exit_code


def _names(values: tuple[str, ...]) -> list[str]:
    """``("talent,funding", "supply")`` -> ``["talent", "funding", "supply"]``."""
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


@main.command()
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
@_family_options
@_guard
def explain(instance: Path, relax: tuple[str, ...], time_limit: float | None,
            threads: int | None, seed: int | None, no_iis: bool, without: tuple[str, ...],
            family_files: tuple[Path, ...], allow_families: bool) -> int:
    """Explain why INSTANCE has no plan, in the planner's terms: the pre-solve checks that
    fail, then the smallest set of limits to relax (fewest limits, demand last, then least
    amount), each named by its input file row, with its unit; then HiGHS's IIS of the LP
    relaxation as a second view.

    Exit 0 when the instance is feasible (nothing to explain), 4 when it is infeasible, 3
    when no relaxation was found within the time limit, 2 bad input.
    """
    import allocator
    from allocator.errors import EXIT_INFEASIBLE, EXIT_TIME_LIMIT
    from allocator.explain import explain as explain_instance

    inst = allocator.load_instance(instance, extra_families=family_files, without=without,
                                   allow_families=allow_families)
    options = allocator.SolverOptions(time_limit=time_limit, threads=threads, seed=seed)
    known = [f.name for f in inst.active_families if f.limits]
    for name in _names(relax):
        if name not in known:
            raise click.BadParameter(f"family '{name}' has no limits to relax here; families "
                                     f"with limits: {', '.join(known)}", param_hint="--relax")
    result = explain_instance(inst, relax=_names(relax) or None, options=options,
                              iis=not no_iis)
    click.echo(f"{inst.name}: " + "\n".join(result.lines()))
    return {"feasible": 0, "unknown": EXIT_TIME_LIMIT}.get(result.status, EXIT_INFEASIBLE)


@main.command()
@click.argument("instance", required=False, type=click.Path(path_type=Path))
@click.option("--math", "math_of", metavar="NAME", default=None,
              help="Print the mathematics and symbol table of one family. Default: list all.")
@_family_options
@_guard
def families(instance: Path | None, math_of: str | None, without: tuple[str, ...],
             family_files: tuple[Path, ...], allow_families: bool) -> int:
    """List the formulation families, what each does and whether it is on.

    With INSTANCE, on/off is for that instance (a family whose tables are absent is off).
    """
    from allocator.data import load_instance
    from allocator.docs import family_markdown
    from allocator.family import compose, default_families, load_family_file

    if instance is not None:
        inst = load_instance(instance, extra_families=family_files, without=without,
                             allow_families=allow_families)
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


def _register(cmd: click.Command) -> click.Command:
    """Guard a command from its own module (allocator.commands) like the ones above."""
    for sub in getattr(cmd, "commands", {}).values():
        _register(sub)
    if cmd.callback is not None and not isinstance(cmd, click.Group):
        cmd.callback = _guard(cmd.callback)
    return cmd


from allocator.commands import COMMANDS  # noqa: E402  (import, verify, evaluate, compare)

for _command in COMMANDS:
    main.add_command(_register(_command))
main.add_command(_register(stochastic_value_command))


def render_summary(result: Any) -> str:
    """The short human summary printed after a solve."""
    s = result.summary
    inst = result.built.instance
    money = inst.money
    lines = []
    gap = s["gap"]
    gap_text = f", gap {gap:.2%}" if gap is not None else ""
    secs = sum(v for k, v in s["seconds"].items() if k in ("build", "handoff", "start", "solve"))
    lines.append(f"{inst.name}: {s['status']}{gap_text} in {secs:.1f} s ({s['termination']})")
    if s["message"]:
        lines.append(s["message"])
    lines += _start_lines(s, money)
    if result.explanation is not None:
        lines += result.explanation.lines()[1:]
    if not result.outcome.has_solution:
        if s["status"] != "infeasible":
            bound = (f"best bound {s['best_bound']:,.2f} {money}" if s["best_bound"] is not None
                     else "no bound either")
            lines.append(f"No plan found; {bound}.")
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
    bases = result.tables.get("pilot_bases")
    if bases is not None and len(bases):
        shown = bases[bases["opened"] == 1]
        lines.append("")
        lines.append(f"Pilot bases: {len(shown)} of {len(bases)} open (pilot_bases.csv):")
        lines += [f"  {b.base} ({b.region}, {b.field}) serves {b.serves or 'no host'}"
                  for b in shown.itertuples(index=False)]
    if s.get("stochastic"):
        from allocator.stochastic import render_stochastic

        lines.append("")
        lines.append(render_stochastic(s["stochastic"], result.tables, money))
    if s["soft"]:
        short = result.tables.get("shortfalls")
        lines.append("")
        if short is None or not len(short):
            lines.append(f"Softened limits ({', '.join(s['soft'])}): no shortfall, every "
                         "limit holds.")
        else:
            lines.append(f"Shortfalls of the softened limits ({', '.join(s['soft'])}): what "
                         "this plan needs beyond them (shortfalls.csv):")
            lines += [f"  - {m}" for m in short["message"]]
    return "\n".join(lines)


def _start_lines(s: dict[str, Any], money: str) -> list[str]:
    """What the warm start did, and when the first plan appeared."""
    start, first = s.get("start") or {}, s.get("first_incumbent")
    out = []
    plan = start.get("plan")
    if plan and not plan.get("used"):
        out.append(f"Start plan {plan['file']} not used: {plan['message']}")
    elif plan:
        out.append(f"Start plan {plan['file']}: {plan['how']}, objective "
                   f"{plan['objective']:,.2f} {money}.")
    heuristic = start.get("heuristic") or {}
    if heuristic.get("used") and start.get("given") == "heuristic":
        out.append(f"Heuristic first plan: objective {heuristic['objective']:,.2f} {money} "
                   f"in {heuristic['seconds']:.1f} s.")
    if first:
        source = {"highs": "HiGHS's own search", "plan": "the start plan",
                  "heuristic": "the heuristic"}.get(first["source"], first["source"])
        out.append(f"First feasible plan after {first['seconds_from_compile']:.1f} s "
                   f"(from {source}).")
    return out


from allocator.planner_cli import register  # noqa: E402 (report, convert)

register(main, _guard)
main.add_command(_register(generate_command))

if __name__ == "__main__":
    main()
