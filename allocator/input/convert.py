"""``allocator convert``: an instance folder as one workbook and back, the same settings
(comments kept) and the same tables, row for row."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from allocator.core.errors import InputError, Problem
from allocator.input.read import read_instance
from allocator.input.validation import TOML, RawInstance
from allocator.input.workbook import (
    SETTINGS,
    SETTINGS_COLUMNS,
    WorkbookReader,
    rows_to_toml,
    setting_cell,
    style_sheet,
    table_cell,
    toml_to_rows,
)


def folder_to_workbook(folder: str | Path, book: str | Path, *,
                       extra_families: Iterable[str | Path] = (),
                       without: Iterable[str] = ()) -> RawInstance:
    """Write the valid instance folder ``folder`` as the workbook ``book`` (see the module
    docstring). Raises :class:`InputError` when the folder is not a valid instance (read
    with ``extra_families`` and ``without`` as :func:`read_instance` reads it)."""
    folder, book = Path(folder), Path(book)
    raw = read_instance(folder, extra_families=extra_families, without=without)
    rows = toml_to_rows((folder / TOML).read_text(encoding="utf-8-sig"))
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet(SETTINGS)
    ws.append(list(SETTINGS_COLUMNS))
    for row in rows:
        try:
            value = setting_cell(row.value) if row.key else None
        except ValueError as exc:
            key = ".".join(p for p in (row.section, row.key) if p)
            raise InputError([Problem(TOML, str(exc), column=key)]) from None
        ws.append([row.section or None, row.key or None, value, row.comment or None])
        if isinstance(value, float) and value.is_integer():
            ws.cell(ws.max_row, 3).number_format = "0.0"
    style_sheet(ws)
    for name, spec in raw.schema.items():
        text = raw.text.get(name)
        if text is None:
            continue
        kinds = {c.name: c.kind for c in spec.columns}
        ws = wb.create_sheet(name)
        ws.append(list(text.columns))
        for number, values in zip(text.index, text.itertuples(index=False), strict=True):
            for j, (col, cell) in enumerate(zip(text.columns, values, strict=True), start=1):
                ws.cell(row=int(number), column=j, value=table_cell(cell, kinds.get(col, "str")))
        style_sheet(ws)
    _copy_family_files(raw, folder, book.resolve().parent)
    _atomic(book, wb.save)
    return raw


def workbook_to_folder(book: str | Path, folder: str | Path, *,
                       extra_families: Iterable[str | Path] = (),
                       without: Iterable[str] = ()) -> RawInstance:
    """Write the valid instance workbook ``book`` as the instance folder ``folder``: one CSV per
    sheet (at the path [tables] gives, else ``<table>.csv``) and ``instance.toml``."""
    book, folder = Path(book), Path(folder)
    reader = WorkbookReader(book)
    raw = reader.run(list(extra_families), list(without))
    paths = raw.settings.get("tables", {})

    def write(tmp: Path) -> None:
        tmp.mkdir(parents=True)
        (tmp / TOML).write_text(rows_to_toml(reader.setting_rows), encoding="utf-8")
        for name, text in raw.text.items():
            target = tmp / paths.get(name, raw.schema[name].file)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_csv_text(text), encoding="utf-8")
        _copy_family_files(raw, book.resolve().parent, tmp)

    _atomic(folder, write)
    return raw


def _csv_text(text: pd.DataFrame) -> str:
    """CSV with the sheet's row numbers kept (rows left empty in the sheet stay empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(text.columns))
    by_row = dict(zip(text.index, text.itertuples(index=False), strict=True))
    for number in range(2, (max(by_row) + 1) if by_row else 2):
        if number in by_row:
            writer.writerow(list(by_row[number]))
        else:
            out.write("\n")
    return out.getvalue()


def _copy_family_files(raw: RawInstance, source: Path, target: Path) -> None:
    """Family files named in [families] extra travel with the instance."""
    extra = raw.settings.get("families", {}).get("extra", [])
    for rel in extra:
        src, dst = (source / rel).resolve(), target / rel
        if src == dst.resolve():
            continue
        if dst.exists() and dst.read_bytes() != src.read_bytes():
            raise InputError([Problem(str(dst), "a different family file of this name is "
                                      f"already there; the instance needs {src}")])
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def _atomic(target: Path, write: Any) -> None:
    """Write ``target`` (a file or a folder) beside itself, then rename it into place."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    if tmp.is_dir():
        shutil.rmtree(tmp)
    elif tmp.exists():
        tmp.unlink()
    try:
        write(tmp)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        tmp.rename(target)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
        raise
