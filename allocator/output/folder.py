"""A results folder: every result table as CSV, ``summary.json`` and ``results.xlsx``,
written under the rule of :mod:`allocator.core.outfolder`: beside the target and swapped into
place, so it is never left half written, and only over a folder allocator wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from allocator.core.outfolder import write_folder
from allocator.engine.results import Result
from allocator.output.numbers import tidy_tables
from allocator.output.workbook import write_results_workbook


def write_results(result: Result, folder: str | Path, *, force: bool = False) -> Path:
    """Write every table, ``summary.json`` and ``results.xlsx`` to ``folder``: a folder
    allocator wrote is replaced atomically (the new one written beside it, then swapped in);
    any other non-empty folder is refused unless ``force``, and even then only allocator's
    files are written (:mod:`allocator.core.outfolder`). A folder holding the instance is
    refused. Numbers are written to 6 decimals (:mod:`allocator.output.numbers`)."""
    tables = tidy_tables(result.tables)

    def write(tmp: Path) -> None:
        for name, df in tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
        with open(tmp / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(result.summary, fh, indent=2, default=_json_default)
            fh.write("\n")
        write_results_workbook(tables, result.summary, tmp / "results.xlsx")

    return write_folder(folder, write, force=force, reading=[result.built.instance.path])


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)
