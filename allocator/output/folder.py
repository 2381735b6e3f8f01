"""A results folder: every result table as CSV, ``summary.json`` and ``results.xlsx``,
written to a temporary folder beside the target and renamed into place, so it is never left
half written."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from allocator.engine.results import Result
from allocator.output.numbers import tidy_tables
from allocator.output.workbook import write_results_workbook


def write_results(result: Result, folder: str | Path) -> Path:
    """Write every table and ``summary.json`` to ``folder`` atomically (temporary folder,
    then rename). An existing folder is replaced only once the new one is complete. Numbers
    are written to 6 decimals (:mod:`allocator.output.numbers`)."""
    target = Path(folder).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # as a plain mkdir would (mkdtemp makes it private)
    tables = tidy_tables(result.tables)
    try:
        for name, df in tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
        with open(tmp / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(result.summary, fh, indent=2, default=_json_default)
            fh.write("\n")
        write_results_workbook(tables, result.summary, tmp / "results.xlsx")
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)
