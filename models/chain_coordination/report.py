"""What the chain_coordination family shows a planner: its flows between regions (of an
upstream industry's good to the regions that use it) are the lines on the report's map;
read from the results' ``flows.csv`` (the family's ``report_rows``)."""

from __future__ import annotations

import pandas as pd

from allocator.core.family import ReportParts


def map_flows(flows: pd.DataFrame) -> pd.DataFrame:
    """The value-chain flows of flows.csv (this family's rows)."""
    return flows[flows["family"] == "chain_coordination"]


REPORT = ReportParts(map_flows=map_flows)
