"""The parts of the planner's report: the results folder a report reads
(:class:`ResultsFolder`, :class:`ReportData`), and the blocks a section is made of
(:class:`Section` holding text, :class:`Kpis`, :class:`Table` and :class:`Figure`)."""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, renders offline

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex

from allocator.core.errors import InputError, Problem
from allocator.input.data import load_instance

DPI = 110


# ---------------------------------------------------------------------- data
@dataclass
class ResultsFolder:
    """A results folder as the report reads it: ``summary.json`` and every CSV table."""

    folder: Path
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())

    @property
    def label(self) -> str:
        return self.folder.name

    @property
    def has_plan(self) -> bool:
        return bool(self.summary.get("has_plan")) and "allocation" in self.tables


def read_results(folder: str | Path) -> ResultsFolder:
    """Read a results folder; :class:`InputError` when it is not one."""
    folder = Path(folder)
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise InputError([Problem(str(folder), "not a results folder: summary.json is missing "
                                  "(write one with allocator solve INSTANCE -o FOLDER)")])
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError([Problem(str(summary_path), f"not valid JSON: {exc}")]) from exc
    tables = {}
    for path in sorted(folder.glob("*.csv")):
        try:
            tables[path.stem] = pd.read_csv(path, keep_default_na=True)
        except pd.errors.EmptyDataError:
            tables[path.stem] = pd.DataFrame()
    return ResultsFolder(folder, summary, tables)


@dataclass
class ReportData:
    """Everything a section may use."""

    results: ResultsFolder
    geography: pd.DataFrame  # region (index), name, group, latitude, longitude
    industries: pd.DataFrame  # industry (index), name, capacity_unit, ...
    money: str
    against: ResultsFolder | None = None
    warnings: list[str] = field(default_factory=list)
    palette: dict[str, str] = field(default_factory=dict)  # industry -> colour

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return self.results.tables

    @property
    def summary(self) -> dict[str, Any]:
        return self.results.summary

    def region_name(self, region: str) -> str:
        if region in self.geography.index:
            return str(self.geography.at[region, "name"])
        return str(region)

    def industry_name(self, industry: str) -> str:
        if industry in self.industries.index:
            return str(self.industries.at[industry, "name"])
        return str(industry)


def load_report_data(results: str | Path, against: str | Path | None = None,
                     instance: str | Path | None = None, *,
                     read: dict[str, Any] | None = None) -> ReportData:
    """Read the results folder (and the comparison one), find names and coordinates
    (``read``: keyword arguments of ``load_instance`` where the instance is read)."""
    res = read_results(results)
    warnings: list[str] = []
    geography = res.table("geography")
    if geography.empty or instance is not None:
        geography = _geography_from_instance(res, instance, warnings, read or {})
    if not geography.empty:
        geography = geography.set_index("region")
    industries = res.table("industries")
    if not industries.empty:
        industries = industries.set_index("industry")
        if "capacity_unit" not in industries.columns:
            industries["capacity_unit"] = res.summary.get("units", {}).get("capacity", "")
    other = read_results(against) if against is not None else None
    if other is not None:
        mine = res.summary.get("instance", {}).get("sha256")
        theirs = other.summary.get("instance", {}).get("sha256")
        if mine and theirs and mine != theirs:
            warnings.append(f"The comparison folder {other.folder} was computed on a different "
                            f"instance (SHA-256 {theirs[:12]}..., this plan {mine[:12]}...): "
                            "the comparison may not be like for like.")
    money = str(res.summary.get("units", {}).get("money", "money"))
    ids = list(industries.index) if not industries.empty else []
    cmap = plt.get_cmap("tab20")
    palette = {i: to_hex(cmap(k % 20)) for k, i in enumerate(ids)}
    return ReportData(res, geography, industries, money, other, warnings, palette)


def _geography_from_instance(res: ResultsFolder, instance: str | Path | None,
                             warnings: list[str], read: dict[str, Any]) -> pd.DataFrame:
    """Names and coordinates from the instance (for results folders without geography.csv),
    checking that it is the instance the results were computed on."""
    recorded = res.summary.get("instance", {})
    path = Path(instance) if instance is not None else Path(recorded.get("path", ""))
    if not str(path) or not path.exists():
        warnings.append("No region coordinates: the results folder has no geography.csv and "
                        f"the instance ({path}) is not there; give it with --instance PATH to "
                        "draw the map.")
        return pd.DataFrame()
    inst = load_instance(path, **read)
    if recorded.get("sha256") and inst.digest != recorded["sha256"]:
        warnings.append(f"The instance at {path} is not the one these results were computed "
                        f"on (SHA-256 {inst.digest[:12]}..., recorded "
                        f"{recorded['sha256'][:12]}...): names and coordinates may not match.")
    return inst.tables["regions"][["id", "name", "group", "latitude", "longitude"]].rename(
        columns={"id": "region"})


# ---------------------------------------------------------------------- page model
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


@dataclass
class Section:
    """One section of the report: paragraphs (plain text), figures and tables, in order."""

    id: str
    title: str
    blocks: list[str | Figure | Table | Kpis] = field(default_factory=list)


SectionFn = Callable[[ReportData], Section | None]


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


def png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight",
                metadata={"Software": None})  # no version stamp: same input, same bytes
    plt.close(fig)
    return buf.getvalue()


