"""What every command shares: the exit-code guard, the instance argument, the family and
table options, ``--force`` (:mod:`allocator.core.outfolder`: where allocator may write) and
``--allow-families`` (:mod:`allocator.core.trust`: an instance's family files are code, run
only when allowed), and comma-separated name lists."""

from __future__ import annotations

import os
import shlex
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from allocator.core.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, InputError
from allocator.core.outfolder import OutputRefusedError
from allocator.input.set_values import parse_set

INSTANCE = click.argument("instance", type=click.Path(path_type=Path))


def command_line() -> dict[str, str]:
    """The command as typed (``allocator`` and its arguments, quoted for a shell) and the
    folder it was typed in: recorded in ``summary.json`` so that "How to reproduce" in the
    report is a line to copy."""
    return {"line": shlex.join(["allocator", *sys.argv[1:]]), "cwd": os.getcwd()}


def guard(fn: Callable[..., int | None]) -> Callable[..., None]:
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


def family_options(fn: Callable[..., Any]) -> Callable[..., Any]:
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


def force_option(fn: Any) -> Any:
    """``--force``: write into a folder (or over a file) allocator did not write."""
    return click.option(
        "--force", is_flag=True, default=False,
        help="Write into an output folder that holds files allocator did not write, or over "
             "such a file: allocator's own files are written and every other file is kept as "
             "it is. Never the folder you are in, your home or the root folder, or a folder "
             "holding the instance. Default: refuse (exit 2); a folder or file allocator "
             "wrote is replaced without it.")(fn)


def allow_families_option(fn: Any) -> Any:
    """``--allow-families``: run the family files an instance names."""
    return click.option(
        "--allow-families", "allow_families", is_flag=True, default=False,
        help="Run the family files (Python code) that the instance names in [families] "
             "extra (or a results folder's summary.json, for verify). Default: refuse "
             "(exit 2), listing each file with its SHA-256; --family FILE allows that one "
             "file.")(fn)


def _parse_tables(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
                  ) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise click.BadParameter(f"expected NAME=PATH (e.g. shocks=scenarios/shocks.csv), "
                                     f"got {value!r}")
        out[name.strip()] = path.strip()
    return out


def table_option(fn: Any) -> Any:
    """``--table NAME=PATH`` (repeatable): read table NAME from PATH, inside the instance
    folder, over the instance's ``[tables]``; passed to the command as ``tables``."""
    return click.option(
        "--table", "tables", multiple=True, metavar="NAME=PATH", callback=_parse_tables,
        help="Read table NAME from PATH (relative to the instance folder, inside it), over "
             "instance.toml [tables]; repeatable. E.g. --table shocks=scenarios/shocks.csv "
             "solves with supply-shock scenarios. Default: the instance's own files.")(fn)


def _parse_sets(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
                ) -> dict[str, Any]:
    try:
        return parse_set(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def set_option(fn: Any) -> Any:
    """``--set SECTION.KEY=VALUE`` (repeatable): an instance.toml setting or objective
    weight for this run, checked like the file; passed to the command as ``overrides``
    (``{"SECTION.KEY": value}``, :mod:`allocator.input.set_values`)."""
    return click.option(
        "--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
        callback=_parse_sets,
        help="Change one instance.toml setting or objective weight for this run, e.g. "
             "--set objective.investment=2 --set solver.mip_gap=0.01 --set "
             "sites.candidates=listed; repeatable, checked like the file, recorded in "
             "summary.json (options.set). Default: the instance's own settings.")(fn)


def instance_options(fn: Any) -> Any:
    """The options of every command that reads an instance to run it: ``--family``,
    ``--without``, ``--table``, ``--set`` (passed as ``family_files``, ``without``,
    ``tables``, ``overrides``: the keyword arguments of :func:`read_options`)."""
    return family_options(table_option(set_option(fn)))


def read_options(family_files: tuple[Path, ...] = (), without: tuple[str, ...] = (),
                 tables: dict[str, str] | None = None,
                 overrides: dict[str, Any] | None = None,
                 allow_families: bool = False) -> dict[str, Any]:
    """The keyword arguments of ``load_instance`` from the instance options (and
    ``--allow-families``)."""
    return {"extra_families": family_files, "without": without, "tables": tables or {},
            "set_values": overrides or {}, "allow_families": allow_families}


def names(values: tuple[str, ...]) -> list[str]:
    """``("talent,funding", "supply")`` -> ``["talent", "funding", "supply"]``."""
    return [n.strip() for v in values for n in v.split(",") if n.strip()]
