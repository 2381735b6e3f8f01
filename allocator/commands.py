"""Commands of the ``allocator`` command line that live outside ``cli.py``: importing
benchmark files, verifying results, evaluating a given plan, comparing two results folders.

Each command is a thin layer over its module (``allocator.orlib``, ``allocator.verify``,
``allocator.evaluate``, ``allocator.compare``), imported when the command runs so that
``allocator verify`` never loads Pyomo or HiGHS. ``cli.py`` registers :data:`COMMANDS` and
wraps every callback in its exit-code guard (bad input: exit 2, ...); a callback returns its
exit code.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group(name="import")
def import_group() -> None:
    """Convert files of other formats into instance folders."""


@import_group.command(name="orlib-cap")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Instance folder to create (must not exist, or be empty). "
                                  "Default: none, required.")
@click.option("--capacity", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="N", help="Capacity of every warehouse, for capa/capb/capc (whose "
                                "capacity fields hold the word 'capacity'). Default: none "
                                "(the file's own capacities).")
def import_orlib_cap(file: Path, output: Path, capacity: float | None) -> int:
    """Convert an OR-Library capacitated warehouse location FILE (cap41 ... cap134, capa,
    capb, capc; Beasley 1988) into an instance folder that `allocator solve` solves.

    Warehouses become candidate regions (fixed cost, maximum capacity), customers market
    regions (demand), and the cost of serving all of customer j's demand from warehouse i
    the unit cost c_ij / d_j of the arc i -> j. Exit 2 when the file is malformed (the line
    is named).
    """
    from allocator.orlib import read_cap, write_instance

    problem = read_cap(file, capacity)
    folder = write_instance(problem, output)
    click.echo(f"{problem.name}: {problem.warehouses} warehouses (candidate regions), "
               f"{problem.customers} customers (markets) written to {folder}")
    return 0


#: registered by cli.py (each callback wrapped in its exit-code guard)
COMMANDS: tuple[click.Command, ...] = (import_group,)
