r"""What a family's pre-solve checks hand back, and the arithmetic and wording they share.

A family's ``presolve_checks(instance, options, least)`` hook (see
:mod:`allocator.core.family`) compares what the whole demand needs *at least* with what the
input makes available *at most* under the family's limits; each failure is a
:class:`CheckFailure`, one sentence with the numbers and the input rows, and proves that no
plan exists. ``least`` is $L_i$, the least national capacity of each industry in any plan
(:attr:`allocator.input.data.Instance.least_capacity`). The engine runs the hooks before
any solve (:mod:`allocator.analysis.checks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from allocator.input.data import Instance

#: relative tolerance: a check fails only when the need exceeds the availability by more
TOLERANCE = 1e-6


@dataclass(frozen=True)
class CheckFailure:
    """One failed necessary condition: the family whose limit it proves impossible, the
    check's name within the family, and the sentence for the planner."""

    family: str
    check: str
    message: str

    def __str__(self) -> str:
        return self.message


def exceeds(need: float, available: float) -> bool:
    """``need`` is above ``available`` by more than :data:`TOLERANCE` (relative)."""
    return need > available + TOLERANCE * max(1.0, abs(available))


def number(x: float) -> str:
    """A number for a sentence: 11,200 / 41.2 / 0.05."""
    if x != x:  # NaN
        return "?"
    if abs(x) >= 1:
        return f"{x:,.2f}".rstrip("0").rstrip(".")
    return f"{x:.3g}"


def rows_text(file: str, rows: Sequence[int], column: str = "") -> str:
    """``talent_supply.csv row 14``, ``input_supply.csv rows 3, 4, 9``, or the column."""
    if not rows:
        return f"{file}, {column}" if column else file
    shown = ", ".join(str(r) for r in rows[:6])
    more = f", ... ({len(rows)} rows)" if len(rows) > 6 else ""
    return f"{file} row{'s' if len(rows) > 1 else ''} {shown}{more}"


def least_investment(inst: Instance, least: pd.Series) -> tuple[float, pd.Series]:
    r"""The cheapest investment that builds every industry's least capacity $L_i$, and the
    must-host investment per region.

    Existing capacity is free; must-host greenfield sites pay their setup and minimum scale
    $F_{ir} + c_{ir} m_i$; what is left of $L_i$ is built at the sites in order of their cost
    per unit, a greenfield unit costing $c_{ir} + F_{ir}/\overline{Q}_{ir}$ (the LP relaxation
    of the fixed charge of ``site_investment``). No plan invests less."""
    sites = inst.sites
    greenfield = ~sites["brownfield"]
    must = sites["must_host"] & greenfield
    must_cost = (sites["fixed_cost"] + sites["unit_capex"] * sites["min_scale"]).where(must, 0.0)
    total = 0.0
    for i in inst.industry_ids:
        if i not in sites.index.get_level_values(0):
            continue
        s = sites.xs(i, level=0)
        gf, mh = greenfield.xs(i, level=0), must.xs(i, level=0)
        free = float(s["existing"].sum())  # existing capacity needs no investment
        forced = float(s["min_scale"].where(mh, 0.0).sum())
        total += float(must_cost.xs(i, level=0).sum())
        left = max(0.0, float(least[i]) - free - forced)
        if left <= 0:
            continue
        room = (s["capacity_max"] - s["existing"] - s["min_scale"].where(mh, 0.0)).clip(lower=0)
        per_unit = s["unit_capex"] + (s["fixed_cost"] / s["capacity_max"]).where(gf & ~mh, 0.0)
        order = np.argsort(per_unit.to_numpy(float), kind="stable")
        for k in order:
            take = min(left, float(room.iloc[k]))
            total += take * float(per_unit.iloc[k])
            left -= take
            if left <= 0:
                break
    by_region = must_cost.groupby(level=1).sum()
    return total, by_region
