"""The planner's commands: ``allocator report`` and ``allocator convert``."""

from __future__ import annotations

from pathlib import Path

import click

from allocator.cli.common import (
    allow_families_option,
    family_options,
    force_option,
    guard,
    read_options,
    table_option,
)


@click.command()
@click.argument("results", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="The HTML file to write; each chart is also written next "
              "to it as <name>-<chart>.png. Default: RESULTS/report.html.")
@click.option("--against", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, metavar="DIR", help="Another results folder (a planner's plan "
              "evaluated with allocator evaluate, or another solve) to compare with, term "
              "by term. Default: no comparison.")
@click.option("--instance", type=click.Path(exists=True, path_type=Path), default=None,
              help="Instance folder or workbook to take region names and coordinates from "
              "(checked against the SHA-256 recorded in summary.json). Default: the "
              "results folder's geography.csv, else the instance path it records.")
@click.option("--family", "family_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE.py",
              help="A researcher's family file the results were solved with (repeatable): "
                   "its report parts (its section, lines, key figures) are added, and it "
                   "joins the families where the instance is read. Default: none; the "
                   "built-in families' parts are always added, and no family file is run "
                   "unless named here.")
@click.option("--without", "without", multiple=True, metavar="NAME",
              help="Switch a family off by name where the instance is read (repeatable), "
                   "as the solve did. Default: none.")
@table_option
@force_option
@allow_families_option
@guard
def report(results: Path, output: Path | None, against: Path | None,
           instance: Path | None, family_files: tuple[Path, ...], without: tuple[str, ...],
           tables: dict[str, str], force: bool, allow_families: bool) -> int:
    """Write a self-contained HTML report of the results folder RESULTS (what `allocator
    solve -o RESULTS` wrote): headline, map, capacity heatmap, duplication, scarce
    resources with shadow prices, each family's own sections, and how to reproduce. It
    opens offline and can be forwarded as one file. Exit 2 when RESULTS is not a results
    folder or a --family file cannot be loaded.

    --family, --without and --table apply where the instance is read (--instance, or a
    results folder without geography.csv): as the solve read it.

    On a sweep folder (allocator sweep, allocator frontier): the cases, the frontier and the
    plans that change along it, each lever's cost as a curve, the objective by term of each
    case, and the hosting that holds in every case against what flips."""
    from allocator.core.errors import InputError, Problem
    from allocator.input.families import FamilyLoadError, load_family_file
    from allocator.output.report import write_report
    from allocator.output.report_sweep import is_sweep, write_sweep_report

    if is_sweep(results):
        if against is not None or instance is not None or family_files:
            raise click.BadParameter("a sweep's report compares its own cases; --against, "
                                     "--instance and --family are for a results folder (e.g. "
                                     f"a case's: {results}/cases/NAME)", param_hint="--against")
        page, charts = write_sweep_report(results, output, force=force)
        click.echo(f"Report written to {page} ({len(charts)} charts as PNG next to it)")
        return 0
    families, problems = [], []
    for path in family_files:
        try:
            families.append(load_family_file(path))
        except FamilyLoadError as exc:
            problems.append(Problem("--family", str(exc), value=str(path)))
    if problems:
        raise InputError(problems)
    read = read_options((), without, tables, None, allow_families)
    read["extra_families"] = families
    page, charts = write_report(results, output, against=against, instance=instance,
                                families=families, force=force, read=read)
    click.echo(f"Report written to {page} ({len(charts)} charts as PNG next to it)")
    return 0

@click.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--to", "to", type=click.Choice(["xlsx", "dir"]), required=True,
              help="xlsx: write the instance folder SOURCE as one workbook (a sheet per "
              "table and a sheet 'settings'); dir: write the workbook SOURCE as an "
              "instance folder. Default: none, it is required.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Where to write. Default: beside SOURCE, FOLDER -> FOLDER.xlsx and "
              "BOOK.xlsx -> BOOK/.")
@force_option
@family_options
@guard
def convert(source: Path, to: str, output: Path | None, force: bool,
            without: tuple[str, ...], family_files: tuple[Path, ...],
            allow_families: bool) -> int:
    """Convert an instance between a folder of CSV files and one Excel workbook.

    SOURCE is validated first (every problem reported, exit 2), with the families of
    --family and without those of --without, as a solve would read it. The copy holds the
    same settings (comments kept) and the same tables, row for row: it solves the same.
    (--table and --set change one run, not the instance: a copy has no use for them.)
    """
    from allocator.input.convert import folder_to_workbook, workbook_to_folder

    is_book = source.is_file() and source.suffix.lower() == ".xlsx"
    if to == "xlsx" and not source.is_dir():
        raise click.BadParameter("--to xlsx needs an instance folder", param_hint="SOURCE")
    if to == "dir" and not is_book:
        raise click.BadParameter("--to dir needs an .xlsx workbook", param_hint="SOURCE")
    if output is None:
        output = (source.with_name(source.name + ".xlsx") if to == "xlsx"
                  else source.with_suffix(""))
    if to == "xlsx" and output.suffix.lower() != ".xlsx":
        raise click.BadParameter("the workbook's name must end in .xlsx",
                                 param_hint="--output")
    read = {"extra_families": family_files, "without": without,
            "allow_families": allow_families}
    if to == "xlsx":
        folder_to_workbook(source, output, force=force, **read)
    else:
        workbook_to_folder(source, output, force=force, **read)
    click.echo(f"Instance written to {output}")
    return 0


COMMANDS: tuple[click.Command, ...] = (report, convert)
