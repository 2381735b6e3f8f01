"""A results folder: every result table as CSV, ``summary.json`` and ``results.xlsx``,
written under the rule of :mod:`allocator.core.outfolder`: beside the target and swapped into
place, so it is never left half written, and only over a folder allocator wrote."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from allocator.core.outfolder import write_folder
from allocator.engine.results import Result
from allocator.output.numbers import tidy_tables
from allocator.output.workbook import write_results_workbook


class ResultTables(Protocol):
    """What a results folder holds: the tables and ``summary.json``'s content. A
    :class:`~allocator.engine.results.Result` is one; so is a sweep case's
    :class:`~allocator.analysis.case.CaseResult`, handed back by the worker that solved it."""

    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]


def write_results(result: ResultTables, folder: str | Path, *, force: bool = False,
                  reading: Iterable[str | Path] = ()) -> Path:
    """Write every table, ``summary.json`` and ``results.xlsx`` to ``folder``: a folder
    allocator wrote is replaced atomically (the new one written beside it, then swapped in);
    any other non-empty folder is refused unless ``force``, and even then only allocator's
    files are written (:mod:`allocator.core.outfolder`). A folder holding the instance (of a
    :class:`Result`, or named in ``reading``) is refused. Numbers are written to 6 decimals
    (:mod:`allocator.output.numbers`)."""
    tables = tidy_tables(result.tables)
    read = list(reading)
    if isinstance(result, Result):
        read.append(result.built.instance.path)

    def write(tmp: Path) -> None:
        for name, df in tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
        with open(tmp / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(result.summary, fh, indent=2, default=_json_default)
            fh.write("\n")
        write_results_workbook(tables, result.summary, tmp / "results.xlsx")

    return write_folder(folder, write, force=force, reading=read)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)
