"""Shapes of the rows families hand back to the engine, and helpers to make them.

A family's ``site_bounds`` hook returns rows of :data:`BOUND_COLUMNS` (the engine prunes
with them, :mod:`allocator.engine.prune`); its ``report_rows`` hook returns rows of the shared
result tables ``flows`` (:data:`FLOW_COLUMNS`, made with :func:`flow_table`) and
``resources`` (:data:`RESOURCE_COLUMNS`); its ``heuristic_limits`` hook a
:class:`HeuristicLimits`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: the shared decision $q_{ir}$ by name: the core variable ``model.capacity``, the column of
#: ``allocation.csv``, of a plan file and of ``scenario_production.csv``, the ``[units]``
#: setting and the unit name of every capacity figure (each industry's ``capacity_unit``,
#: else ``[units] capacity``). The family ``capacity`` shares the word, not the meaning: the
#: engine reaches a family only through its hooks.
CAPACITY = "capacity"
#: the ``[units]`` setting of talent (talent supply and need, pilot bases' researchers):
#: a unit of the instance, like ``[units] capacity``; the family ``talent`` shares the word
TALENT_UNIT = "talent"

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


Site = tuple[str, str]


@dataclass
class HeuristicLimits:
    """A family's limits as data for the construction heuristic
    (:mod:`allocator.engine.warmstart`), which keeps what is left of each while it opens
    sites and never needs to know which family gave it. Every part is optional.

    * ``regional`` / ``regional_use``: a resource of each region that every unit of
      capacity at a site uses (talent by class): ``regional[(region, key)]`` is what is
      available, ``regional_use[(industry, region)]`` the ``(key, use per unit)`` pairs;
    * ``budget``, ``fund``, ``reserved``, ``reserved_for``: money for the setup cost of a new
      host and the capex of new capacity, paid from the region's ``budget`` first, then from
      the part ``reserved`` of a national fund (for the industries in ``reserved_for`` only),
      then from the rest of the ``fund``;
    * ``max_hosts`` / ``min_hosts``: at most / at least this many hosted industries per
      region (for the floor the greedy hosts the cheapest industries at minimum scale);
    * ``pool`` / ``regional_pool`` / ``imports`` / ``pool_use``: a resource each unit of
      capacity uses (key inputs), from one national pool ``pool[key]``, or from its region's
      ``regional_pool[(key, region)]`` and then from ``imports[key]``, shared by all regions;
      ``pool_use[industry]`` lists the ``(key, "national" | "regional", use per unit)``;
    * ``to_hosts`` / ``to_markets``: ``(flow variable, constraint)`` on the family's block of
      flows that carry an industry's output to the hosts of its downstream industries (the
      value chain) or to final demand located in regions: the variable is indexed
      (industry, origin, destination), the constraint's rows (industry, ..., destination)
      are what each destination must receive; ``located_demand`` (columns industry, region,
      demand) is the final demand that the flows to markets meet.
    """

    regional: dict[tuple[str, Hashable], float] = field(default_factory=dict)
    regional_use: dict[Site, list[tuple[Hashable, float]]] = field(default_factory=dict)
    budget: dict[str, float] | None = None
    fund: float = 0.0
    reserved: float = 0.0
    reserved_for: frozenset[str] = frozenset()
    max_hosts: dict[str, float] = field(default_factory=dict)
    min_hosts: dict[str, int] = field(default_factory=dict)
    pool: dict[Hashable, float] = field(default_factory=dict)
    regional_pool: dict[tuple[Hashable, str], float] = field(default_factory=dict)
    pool_use: dict[str, list[tuple[Hashable, str, float]]] = field(default_factory=dict)
    imports: dict[Hashable, float] = field(default_factory=dict)
    to_hosts: tuple[str, str] | None = None
    to_markets: tuple[str, str] | None = None
    located_demand: pd.DataFrame | None = None
