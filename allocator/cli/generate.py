"""``allocator generate``: a synthetic national instance (:mod:`allocator.tools.generate`)."""

from __future__ import annotations

from pathlib import Path

import click

from allocator.cli.common import force_option, guard


@click.command("generate")
@click.option("--regions", type=click.IntRange(min=3), required=True,
              help="Number of regions (cities), e.g. 337.")
@click.option("--industries", type=click.IntRange(min=3), required=True,
              help="Number of industries, e.g. 40.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed: the same seed writes the same files, byte for byte.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder to write the instance to (new, empty, or one "
                                  "allocator wrote; see --force).")
@force_option
@guard
def generate_command(regions: int, industries: int, seed: int, output: Path,
                     force: bool) -> int:
    """Write a synthetic instance with realistic structure (cities in provinces, talent and
    funding in hubs, value chains 3-4 deep, markets, existing plants, must-host and
    forbidden pairs). It is feasible by construction: a planted plan satisfies every rule."""
    from allocator.tools.generate import generate

    path = generate(regions, industries, seed, output, force=force)
    click.echo(f"wrote {path}: {regions} regions, {industries} industries, seed {seed}")
    return 0


COMMANDS: tuple[click.Command, ...] = (generate_command,)
