"""What the talent_attraction family shows a planner: where, when and how many people are
hired from elsewhere and what it costs (the results' ``talent_attraction.csv``, the family's
``report_rows``; over periods, every period's rows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.core.family import ReportParts
from allocator.output.parts import Section, Table, fmt

if TYPE_CHECKING:
    from allocator.output.page import ReportData


def section(data: ReportData) -> Section | None:
    """The hires: region, class, period (over time), people hired, people who work, cost."""
    hires = (data.periods or data.results.tables).get("talent_attraction")
    if hires is None or hires.empty:
        return None
    hired = hires[hires["attracted"] > 1e-9]
    sec = Section("talent_attraction", "Talent hired from elsewhere")
    regions = hired["region"].nunique()
    sec.blocks.append(
        f"{fmt(float(hired['attracted'].sum()))} people hired into {regions} "
        f"region{'s' if regions != 1 else ''} for {fmt(float(hired['cost'].sum()))} "
        f"{data.money}: a region hires where "
        "its own supply of a class falls short; a share of each period's hires works at "
        "once, the rest from the next period on, and all regions draw on one national pool.")
    timed = "period" in hired.columns
    cols = [*(["period"] if timed else []), "region", "talent_class", "attracted", "usable",
            "cost"]
    sec.blocks.append(Table("Hires", cols, [
        [data.region_name(str(v)) if c == "region" else fmt(v) if isinstance(v, float)
         else str(v) for c, v in zip(cols, row, strict=True)]
        for row in hired[cols].itertuples(index=False)],
        numeric=[c in ("attracted", "usable", "cost") for c in cols]))
    return sec


REPORT = ReportParts(section=section, after="resources")
