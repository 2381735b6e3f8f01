"""``allocator convert``: an instance folder as one workbook and back, the same settings
(comments kept) and the same tables, row for row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import openpyxl
import pandas as pd

from allocator.core.errors import InputError, Problem
from allocator.core.outfolder import (
    FileContent,
    check_files,
    check_folder,
    write_files,
    write_folder,
)
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
    text_stays_text,
    toml_to_rows,
)


def folder_to_workbook(folder: str | Path, book: str | Path, *, force: bool = False,
                       allow_families: bool = False,
                       extra_families: Iterable[str | Path] = (),
                       without: Iterable[str] = ()) -> RawInstance:
    """Write the valid instance folder ``folder`` as the workbook ``book`` (see the module
    docstring), and the family files it names beside the workbook. Raises
    :class:`InputError` when the folder is not a valid instance (read with
    ``extra_families`` and ``without`` as :func:`read_instance` reads it; its family files run
    only with ``allow_families``), :class:`allocator.core.outfolder.OutputRefusedError` when
    ``book`` is a file allocator did not write (unless ``force``)."""
    folder, book = Path(folder), Path(book)
    check_files([book], force=force, reading=[folder])  # before reading
    raw = read_instance(folder, extra_families=extra_families, without=without,
                        allow_families=allow_families)
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
    text_stays_text(ws)
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
        text_stays_text(ws)
        style_sheet(ws)
    files: dict[Path, FileContent] = {book: wb.save}
    files.update(_family_copies(raw, folder, book.resolve().parent))
    write_files(files, force=force, reading=[folder])
    return raw


def workbook_to_folder(book: str | Path, folder: str | Path, *, force: bool = False,
                       allow_families: bool = False,
                       extra_families: Iterable[str | Path] = (),
                       without: Iterable[str] = ()) -> RawInstance:
    """Write the valid instance workbook ``book`` as the instance folder ``folder``: one CSV per
    sheet (at the path [tables] gives, else ``<table>.csv``) and ``instance.toml``, and the
    family files it names. Written only where allocator may write
    (:mod:`allocator.core.outfolder`); the family files run only with ``allow_families`` or when
    given in ``extra_families`` (which join the formulation the sheets are read with)."""
    book, folder = Path(book), Path(folder)
    check_folder(folder, force=force, reading=[book])  # before reading
    reader = WorkbookReader(book)
    reader.allow_families = allow_families
    raw = reader.run(list(extra_families), list(without))
    paths = raw.settings.get("tables", {})

    def write(tmp: Path) -> None:
        (tmp / TOML).write_text(rows_to_toml(reader.setting_rows), encoding="utf-8")
        for name, text in raw.text.items():
            target = tmp / paths.get(name, raw.schema[name].file)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_csv_text(text), encoding="utf-8")
        for target, data in _family_copies(raw, book.resolve().parent, tmp).items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    write_folder(folder, write, force=force, reading=[book])
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


def _family_copies(raw: RawInstance, source: Path, target: Path) -> dict[Path, bytes]:
    """Family files named in [families] extra travel with the instance: the copies to write
    into ``target`` (none for a file already there with the same bytes). A different file of
    the same name there is never replaced."""
    copies: dict[Path, bytes] = {}
    for rel in raw.settings.get("families", {}).get("extra", []):
        src, dst = (source / rel).resolve(), target / rel
        if src == dst.resolve():
            continue
        data = src.read_bytes()
        if dst.exists():
            if dst.read_bytes() != data:
                raise InputError([Problem(str(dst), "a different family file of this name is "
                                          f"already there; the instance needs {src}")])
            continue
        copies[dst] = data
    return copies
