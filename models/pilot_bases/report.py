"""What the pilot_bases family shows a planner: a report section listing the bases that
open (where, for which field, whom they serve) and the same in the summary printed after a
solve, both read from the results' ``pilot_bases.csv`` (the family's ``report_rows``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from allocator.core.family import ReportParts
from allocator.output.parts import Section, Table, fmt

if TYPE_CHECKING:
    from allocator.output.page import ReportData


def section(data: ReportData) -> Section | None:
    """Pilot bases: which open, where, for which field, whom they serve; the bases that
    stay shut are counted."""
    bases = data.results.table("pilot_bases")
    if bases.empty:
        return None
    sec = Section("pilot_bases", "Pilot bases")
    shown = bases[bases["opened"] == 1]
    sec.blocks.append(f"{len(shown)} of {len(bases)} candidate bases open. A "
                      "research-intensive industry is hosted only near an open base of its "
                      "field; a base's researchers and setup cost count in its region's "
                      "talent and funding limits.")
    cols = ["base", "region", "field", "fixed_cost", "talent_class", "talent_need", "serves"]
    sec.blocks.append(Table("Open bases", cols, [
        [data.region_name(str(v)) if c == "region" else
         ("" if pd.isna(v) else fmt(v) if isinstance(v, float) else str(v))
         for c, v in zip(cols, row, strict=True)]
        for row in shown[cols].itertuples(index=False)]))
    return sec


def summary_lines(tables: dict[str, pd.DataFrame]) -> list[str]:
    """The open bases and whom each serves."""
    bases = tables.get("pilot_bases")
    if bases is None or not len(bases):
        return []
    shown = bases[bases["opened"] == 1]
    return [f"Pilot bases: {len(shown)} of {len(bases)} open (pilot_bases.csv):",
            *(f"  {b.base} ({b.region}, {b.field}) serves {b.serves or 'no host'}"
              for b in shown.itertuples(index=False))]


REPORT = ReportParts(section=section, after="resources", summary_lines=summary_lines)
