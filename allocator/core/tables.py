"""Shapes of the rows families hand back to the engine, and helpers to make them.

A family's ``site_bounds`` hook returns rows of :data:`BOUND_COLUMNS` (the engine prunes
with them, :mod:`allocator.engine.prune`); its ``report`` hook returns rows of the shared
result tables ``flows`` (:data:`FLOW_COLUMNS`, made with :func:`flow_table`) and
``resources`` (:data:`RESOURCE_COLUMNS`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: a site's bound under one family's limits: ``site_bounds`` rows
BOUND_COLUMNS = ["industry", "region", "bound", "reason"]
#: one positive flow of a family: rows of ``flows.csv``
FLOW_COLUMNS = ["family", "industry", "from", "to", "amount", "distance_km",
                "crosses_border", "unit_cost", "cost", "term"]
#: one limited resource of a family: rows of the ``resources`` part of ``regions.csv``.
#: ``constraint`` names the model row whose right-hand side is the limit (its Pyomo name; a
#: variable for a limit given as its upper bound), and so where the limit comes from (the
#: family's ``limit_source``); optional: ``sense`` "at most" (the default: ``available`` is
#: what may be used), "at least" (a floor: ``available`` is what is required) or "" (no
#: limit, the row informs: ``available`` blank); ``price_rows`` the rows one more unit of
#: the limit moves, joined by `` + `` (default: ``constraint``; blank: no price of its own);
#: ``note`` what a planner should know about the row. The engine turns these rows into the
#: planner's table (:func:`allocator.engine.limits.limit_table`).
RESOURCE_COLUMNS = ["family", "region", "resource", "used", "available", "slack", "unit",
                    "constraint", "sense", "price_rows", "note"]


def tightest(frame: pd.DataFrame) -> pd.DataFrame:
    """Helper for ``site_bounds`` hooks: the row with the smallest bound of each site."""
    if not len(frame):
        return pd.DataFrame(columns=BOUND_COLUMNS)
    frame = frame.sort_values(["industry", "region", "bound"], kind="stable")
    return frame.drop_duplicates(["industry", "region"])[BOUND_COLUMNS]


def flow_table(family: str, term: str, arcs: pd.DataFrame, industry: str,
               amount: list[float]) -> pd.DataFrame:
    """Rows of the shared ``flows`` table for the positive flows of a family.

    ``arcs`` has columns from, to, distance_km, crosses_border, unit_cost and the column
    named by ``industry``; ``amount`` is the solved flow on each row.
    """
    df = arcs.assign(amount=amount)
    used = df[df["amount"] > 0]
    return pd.DataFrame({
        "family": family, "industry": used[industry], "from": used["from"], "to": used["to"],
        "amount": used["amount"], "distance_km": used["distance_km"],
        "crosses_border": used["crosses_border"], "unit_cost": used["unit_cost"],
        "cost": used["amount"] * used["unit_cost"], "term": term,
    }, columns=FLOW_COLUMNS)


#: decimal places of every number written to a results folder (allocator.output.numbers):
#: a value read back from one (a plan, ``--start``) is within 10**-WRITTEN_DECIMALS of the
#: solver's, so whoever reads it accepts that much
WRITTEN_DECIMALS = 6
WRITTEN_TOLERANCE = 10.0 ** -WRITTEN_DECIMALS


def clean(values: np.ndarray | pd.Series | list[float], decimals: int = 9) -> np.ndarray:
    """Solver noise off the written numbers: rounded to 1e-9 (28.000000000000007 -> 28.0),
    far below every tolerance of the model and of the checks."""
    arr = np.round(np.asarray(values, dtype=float), decimals)
    return arr + 0.0  # turns -0.0 into 0.0
