"""Reading an instance: a folder of CSV files and ``instance.toml``, or one ``.xlsx``
workbook; both go through the same checks (:mod:`allocator.input.validation`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from allocator.core.family import Family
from allocator.input.overrides import Overrides
from allocator.input.validation import RawInstance, Reader
from allocator.input.workbook import WorkbookReader


def read_instance(
    path: str | Path,
    *,
    extra_families: Iterable[str | Path | Family] = (),
    without: Iterable[str] = (),
    tables: dict[str, str] | None = None,
    allow_families: bool = False,
    set_values: Mapping[str, Any] | None = None,
    overrides: Overrides | None = None,
) -> RawInstance:
    """Read and validate the instance folder (or ``.xlsx`` workbook) at ``path``.

    ``extra_families`` (files or :class:`Family` objects) join or replace families by name,
    after those listed in ``instance.toml``; ``without`` switches families off by name.
    The family files ``instance.toml`` names in ``[families] extra`` are code: they run only
    with ``allow_families`` or when the same file is in ``extra_families``; otherwise
    :class:`InputError` names each with its SHA-256 (:mod:`allocator.core.trust`).
    ``tables`` (``--table NAME=PATH``) names the file of a table, inside the folder, over
    the instance's ``[tables]`` (e.g. ``{"shocks": "scenarios/shocks.csv"}``).
    ``set_values`` (``--set``, :mod:`allocator.input.set_values`) change settings of
    ``instance.toml`` for this run: ``{"solver.mip_gap": 0.01}``, checked like the file.
    ``overrides`` (a sweep case) are applied in memory as the instance is read, before any
    rule is checked (:mod:`allocator.input.overrides`; check them first with
    :meth:`Overrides.check`).
    Raises :class:`InputError` with every problem found.
    """
    path = Path(path)
    if path.suffix.lower() == ".xlsx" and not path.is_dir():
        reader: Reader = WorkbookReader(path)  # the same checks, cells from sheets
    else:
        reader = Reader(path)
    reader.table_paths = dict(tables or {})
    reader.allow_families = allow_families
    reader.set_values = dict(set_values or {})
    if overrides is not None:
        reader.overrides = overrides
    return reader.run(list(extra_families), list(without))
