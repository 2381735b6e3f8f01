"""What the duplication_neighbors family shows a planner: how many neighbouring region
pairs still host the same industry (a key figure of the headline), and which, in the report's
Duplication section; read from the results' ``neighbor_pairs.csv`` (the family's
``report_rows``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.core.family import ReportParts
from allocator.output.parts import Block, Table, fmt

if TYPE_CHECKING:
    from allocator.output.page import ReportData


def kpis(data: ReportData) -> list[tuple[str, str]]:
    """The number of neighbour pairs hosting the same industry."""
    if "neighbor_pairs" not in data.tables:
        return []
    pairs = data.results.table("neighbor_pairs")
    return [(str(len(pairs)), "neighbour pairs hosting the same industry")]


def neighbour_pairs(data: ReportData) -> list[Block]:
    """The neighbouring regions that still host the same industry (Duplication section)."""
    if "neighbor_pairs" not in data.tables:
        return []
    pairs = data.results.table("neighbor_pairs")
    if pairs.empty:
        return ["No neighbouring regions host the same industry."]
    return [Table(
        "Neighbouring regions that still host the same industry",
        ["industry", "region", "neighbour", "distance (km)"],
        [[data.industry_name(r.industry), data.region_name(r.a), data.region_name(r.b),
          fmt(r.distance_km, 0)] for r in pairs.itertuples(index=False)],
        "Neighbours: same group (province) or closer than the family's distance; each "
        "pair is penalized in the objective term neighbor_pairs.",
        numeric=[False, False, False, True])]


REPORT = ReportParts(blocks={"duplication": neighbour_pairs}, kpis=kpis)
