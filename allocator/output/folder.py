"""A results folder: every result table as CSV, ``summary.json`` and ``results.xlsx``,
written to a temporary folder beside the target and renamed into place, so it is never left
half written."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from allocator.output.workbook import write_results_workbook


class ResultTables(Protocol):
    """What a results folder holds: the tables and ``summary.json``'s content. A
    :class:`~allocator.engine.results.Result` is one; so is a sweep case's
    :class:`~allocator.analysis.case.CaseResult`, handed back by the worker that solved it."""

    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]


def write_results(result: ResultTables, folder: str | Path) -> Path:
    """Write every table and ``summary.json`` to ``folder`` atomically (temporary folder,
    then rename). An existing folder is replaced only once the new one is complete."""
    target = Path(folder).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, df in result.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
        with open(tmp / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(result.summary, fh, indent=2, default=_json_default)
            fh.write("\n")
        write_results_workbook(result.tables, result.summary, tmp / "results.xlsx")
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


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)
