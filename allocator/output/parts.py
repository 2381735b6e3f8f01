"""What a page of the planner's report is made of, without drawing anything: the blocks of
a section (:class:`Section` holding paragraphs, :class:`Kpis`, :class:`Table` and
:class:`Figure`), numbers for people (:func:`fmt`, :func:`short`), and what the families add
(:class:`~allocator.core.family.ReportParts`): a built-in family's ``REPORT`` in its
``models/<family>/report.py``, found by name, or a researcher's ``Family.report_parts``.

Light on purpose (no matplotlib): the summary printed after every solve collects the
families' lines through here, and a family's ``report.py`` builds its blocks from here.
"""

from __future__ import annotations

import base64
import importlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocator.core.family import Family, ReportParts


@dataclass
class Figure:
    """A chart: PNG bytes, embedded in the page and written next to it as
    ``<report>-<name>.png``."""

    name: str
    title: str
    png: bytes
    caption: str = ""

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Table:
    """A table of the page; ``rows`` hold display text (escaped by the template)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    numeric: list[bool] = field(default_factory=list)  # right-align these columns


@dataclass
class Kpis:
    """Key figures shown as cards: (value, what it is)."""

    items: list[tuple[str, str]]


#: what a section holds: a paragraph (plain text), key figures, a table or a figure
Block = str | Figure | Table | Kpis


@dataclass
class Section:
    """One section of the report: paragraphs (plain text), figures and tables, in order."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)



# ---------------------------------------------------------------------- formatting
def fmt(value: Any, digits: int = 2) -> str:
    """A number for people: thousands separated, fixed decimals; blank for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(v):
        return "no limit" if v > 0 else "-inf"
    return f"{v:,.{digits}f}"


def short(value: float) -> str:
    """A compact number for chart labels (3 significant digits)."""
    if value == 0:
        return "0"
    return f"{value:.3g}" if abs(value) < 1e4 else f"{value:,.0f}"


#: ``source`` of a built-in family (summary.json ``families``)
BUILTIN = "allocator.models"


def builtin_parts(name: str) -> ReportParts | None:
    """``REPORT`` of the built-in family ``name`` (its ``models/<name>/report.py``, imported
    as ``allocator.models.<name>.report``), or None when it has none."""
    module = f"{BUILTIN}.{name}.report"
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:  # no such file; an import inside it still fails
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise
    parts = getattr(found, "REPORT", None)
    return parts if isinstance(parts, ReportParts) else None


def parts_of(family: Family) -> ReportParts | None:
    """What ``family`` adds to the report: its ``report_parts``, else, for a built-in
    family (one not loaded from a file), its ``report.py``."""
    if family.report_parts is not None:
        return family.report_parts
    return None if family.source else builtin_parts(family.name)


def family_parts(summary: dict[str, Any], families: Iterable[Family] = ()) -> list[ReportParts]:
    """What the active families of summary.json add to the report, in their order: a
    built-in family's ``report.py``, found by name; a researcher's family's
    ``report_parts``, when the family is among ``families`` (the report runs no family file
    by itself)."""
    given = {f.name: f for f in families}
    out = []
    for entry in summary.get("families", []):
        if not entry.get("active"):
            continue
        name = entry.get("name", "")
        if entry.get("source", BUILTIN) == BUILTIN:
            parts = builtin_parts(name)
        else:
            parts = given[name].report_parts if name in given else None
        if parts is not None:
            out.append(parts)
    return out
