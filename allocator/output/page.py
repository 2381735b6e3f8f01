"""The data of the planner's report: the results folder a report reads
(:class:`ResultsFolder`, :class:`ReportData`, with what the families add to it), a section
function's type (:data:`SectionFn`) and charts as PNG (:func:`png`). The blocks a section is
made of are in :mod:`allocator.output.parts`."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, renders offline

import matplotlib.pyplot as plt
import pandas as pd

from allocator.core.errors import InputError, Problem
from allocator.core.family import Family, ReportParts
from allocator.input.data import load_instance
from allocator.output.mapping import PALETTE
from allocator.output.parts import Block, Section, at_period, family_parts

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
    #: what the families of the run add to the report, in their build order
    parts: list[ReportParts] = field(default_factory=list)
    #: a multi-period plan's tables with every period's rows (``period`` column); the
    #: results' own tables are then the last period's view. Empty for a one-shot plan.
    periods: dict[str, pd.DataFrame] = field(default_factory=dict)

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

    def family_blocks(self, section: str) -> list[Block]:
        """The blocks the families add to the shared section with id ``section``."""
        return [block for part in self.parts if section in part.blocks
                for block in part.blocks[section](self)]

    def family_kpis(self) -> list[tuple[str, str]]:
        """The key figures the families add to the headline."""
        return [kpi for part in self.parts if part.kpis is not None for kpi in part.kpis(self)]

    def map_flows(self, flows: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``flows`` the families want drawn on the map."""
        chosen = [part.map_flows(flows) for part in self.parts if part.map_flows is not None]
        return pd.concat(chosen) if chosen else flows.iloc[:0]


def load_report_data(results: str | Path, against: str | Path | None = None,
                     instance: str | Path | None = None,
                     families: Iterable[Family] = (), *,
                     read: dict[str, Any] | None = None) -> ReportData:
    """Read the results folder (and the comparison one), find names and coordinates (from
    the instance when the folder has none, read with ``read``: keyword arguments of
    ``load_instance``; its family files run only with ``allow_families`` there) and what the
    families add (``families``: researchers' families, see :func:`family_parts`)."""
    res = read_results(results)
    every: dict[str, pd.DataFrame] = {}
    if res.summary.get("periods"):  # the one-shot sections show the last period
        every = res.tables
        res = ResultsFolder(res.folder, res.summary,
                            at_period(every, str(res.summary["periods"][-1]["id"])))
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
    # colour-blind-safe (the map's scheme); the map itself styles only what it shows
    palette = {i: PALETTE[k % len(PALETTE)] for k, i in enumerate(ids)}
    return ReportData(res, geography, industries, money, other, warnings, palette,
                      family_parts(res.summary, families), every)


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


#: a section of the report: a function of the data, None when its data are absent
SectionFn = Callable[[ReportData], Section | None]


def png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight",
                metadata={"Software": None})  # no version stamp: same input, same bytes
    plt.close(fig)
    return buf.getvalue()


