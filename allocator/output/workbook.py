"""``results.xlsx``: every result table as a sheet, and the summary, for planners who read
results in Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from allocator.input.workbook import style_sheet, text_stays_text
from allocator.output.numbers import excel_format


# ---------------------------------------------------------------------- results
def write_results_workbook(tables: dict[str, pd.DataFrame], summary: dict[str, Any],
                           path: str | Path) -> None:
    """Every result table as a sheet of ``path`` (results.xlsx), plus a ``summary`` sheet:
    the flattened ``summary.json`` (one key per row). Number cells get a number format
    (:func:`allocator.output.numbers.excel_format`): per column in the tables, per cell in
    the summary."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet("summary")
    ws.append(["key", "value"])
    for key, value in _flatten(summary):
        ws.append([key, value])
        ws.cell(ws.max_row, 2).number_format = excel_format([value])
    text_stays_text(ws)
    style_sheet(ws)
    for name, df in tables.items():
        ws = wb.create_sheet(name[:31])
        ws.append([str(c) for c in df.columns])
        for values in df.itertuples(index=False):
            ws.append([_result_cell(v) for v in values])
        for j in range(1, len(df.columns) + 1):
            cells = [row[0] for row in ws.iter_rows(min_row=2, min_col=j, max_col=j)]
            fmt = excel_format(c.value for c in cells)
            for c in cells:
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    c.number_format = fmt
        text_stays_text(ws)
        style_sheet(ws)
    wb.save(path)


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out.extend(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list)) for v in value):
            return [(prefix, ", ".join(map(str, value)))]
        return [item for i, v in enumerate(value) for item in _flatten(v, f"{prefix}[{i}]")]
    return [(prefix, _result_cell(value))]


def _result_cell(value: Any) -> Any:
    """Numbers as numbers (NaN blank, infinity as text), everything else as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        if value != value:
            return None
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, int):
        return value
    return str(value)
