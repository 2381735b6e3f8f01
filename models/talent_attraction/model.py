r"""Talent attraction: people of a talent class hired into a region from elsewhere, at a cost
per person (a regional premium: larger for smaller cities, as the data say), at most
$A_{rt}$ per period, out of a national pool of people willing to move that every region
draws on, and arriving with a lag: the share $\sigma$ of a period's hires works in that
period, the rest from the next one on. Hired people stay.

$$
\begin{aligned}
&a_{rt} = \text{talent\_attracted}_{rt} \in [0, A_{rt}]
  && (r,t) \text{ in talent\_attraction.csv} \\
&\text{talent\_usable}_{rt} = \sigma\, a_{rt} + \text{stock}_{rt}, \quad
  \text{stock}_{rt} = \text{talent\_usable}^{p-1}_{rt} + (1-\sigma)\, a^{p-1}_{rt} \\
&\text{talent\_attraction\_within\_pool:} && \sum_{r} a_{rt} \le \Pi_t
  && \forall t \text{ in talent\_pool.csv} \\
&\text{term talent\_attraction:} && \sum_{r,t} c_{rt}\, a_{rt}
\end{aligned}
$$

$p-1$ is the previous planning period (``periods.csv``); in the first period and in a
one-shot plan the stock is 0, so only $\sigma a_{rt}$ works. The usable people add to the
region's supply of the class in the talent family's row
(``ctx.add_supply("talent", (r, t), talent_usable)``, a negative use):
$\sum_i n_{it}\varphi_{ir} q_{ir} + \sum_f u^f_{rt} - \text{talent\_usable}_{rt} \le P_{rt}$.
A person hired into one region leaves the national pool, so no one is counted twice; a
class without a ``talent_pool.csv`` row has no national limit beyond the regions' $A_{rt}$.
Training, the other way talent grows, is exogenous: ``talent_supply.csv supply`` per period
(``talent_supply_by_period.csv``, a value or an annual ``supply_growth``). The hiring cost
counts in the period of hiring (discounted like investment).

With this family on, the talent family's site bounds and pre-solve check (which count only
its own supply) are not used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, Option, Symbol, Term
from allocator.core.schema import ColumnSpec, TableSpec

if TYPE_CHECKING:
    from allocator.engine.build import Context

ATTRACTION = TableSpec(
    "talent_attraction",
    "Talent a region can hire from elsewhere per period: cost per person and the most per "
    "period (talent_attraction family).",
    (
        ColumnSpec("region", "id", "region that hires", references="regions"),
        ColumnSpec("talent_class", "str", "talent class (as in talent_supply.csv)"),
        ColumnSpec("cost", "float", "cost of hiring one person into the region (the "
                   "regional premium over the national average)", unit="money/people",
                   ge=0),
        ColumnSpec("max", "float", "most people the region can hire in a period",
                   unit="people", ge=0, by_period=True),
    ),
    key=("region", "talent_class"),
)

POOL = TableSpec(
    "talent_pool",
    "National pool of people of a class willing to move, per period: what all regions "
    "together may hire (talent_attraction family; no row: no national limit).",
    (
        ColumnSpec("talent_class", "str", "talent class"),
        ColumnSpec("pool", "float", "people that all regions together may hire in a period",
                   unit="people", ge=0, by_period=True),
    ),
    key=("talent_class",),
    needs=("talent_attraction",),
)


def build(b: pyo.Block, ctx: Context) -> None:
    table = ctx.instance.table(ATTRACTION.name)
    keys = list(zip(table["region"], table["talent_class"], strict=True))
    most = dict(zip(keys, table["max"].astype(float), strict=True))
    cost = dict(zip(keys, table["cost"].astype(float), strict=True))
    share = float(ctx.options["usable_share"])
    b.talent_attracted = pyo.Var(keys, within=pyo.NonNegativeReals,
                                 bounds=lambda _, r, t: (0.0, most[r, t]))
    before = ctx.previous

    def usable(b: pyo.Block, r: str, t: str) -> object:
        now = share * b.talent_attracted[r, t]
        if before is None or (r, t) not in before.talent_attracted:
            return now
        return (now + before.talent_usable[r, t]
                + (1.0 - share) * before.talent_attracted[r, t])

    b.talent_usable = pyo.Expression(keys, rule=usable)
    pool = ctx.instance.table(POOL.name)
    limit = dict(zip(pool["talent_class"], pool["pool"].astype(float), strict=True))
    classes = [t for t in dict.fromkeys(t for _, t in keys) if t in limit]
    b.talent_attraction_within_pool = pyo.Constraint(
        classes, rule=lambda b, t: pyo.quicksum(b.talent_attracted[r, s] for r, s in keys
                                                if s == t) <= limit[t])
    for key in keys:
        ctx.add_supply("talent", key, b.talent_usable[key])
    ctx.add_term("talent_attraction",
                 pyo.quicksum(cost[k] * b.talent_attracted[k] for k in keys))


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    """Where and how many people are hired (``talent_attraction.csv`` of the results), and
    the national pools as limits (``regions.csv``)."""
    table = ctx.instance.table(ATTRACTION.name)
    keys = list(zip(table["region"], table["talent_class"], strict=True))
    hired = [float(pyo.value(b.talent_attracted[k])) for k in keys]
    rows = pd.DataFrame({
        "region": [r for r, _ in keys], "talent_class": [t for _, t in keys],
        "attracted": hired, "usable": [float(pyo.value(b.talent_usable[k])) for k in keys],
        "max": table["max"].astype(float).to_numpy(),
        "cost": [c * h for c, h in zip(table["cost"].astype(float), hired, strict=True)],
    })
    pool = ctx.instance.table(POOL.name).set_index("talent_class")["pool"]
    con = b.talent_attraction_within_pool
    limits = pd.DataFrame({
        "family": "talent_attraction", "region": "(national)",
        "resource": [f"talent_pool:{t}" for t in con],
        "used": [float(rows.loc[rows["talent_class"] == t, "attracted"].sum()) for t in con],
        "available": [float(pool[t]) for t in con], "unit": "people",
        "constraint": [con[t].name for t in con],
    })
    return {"talent_attraction": rows, "resources": limits}


FAMILY = Family(
    name="talent_attraction",
    summary="Talent hired into a region from a national pool, at a cost, arriving with a "
            "lag; it adds to the region's talent supply.",
    math=__doc__ or "",
    build=build,
    requires=(ATTRACTION.name,),
    tables=(ATTRACTION, POOL),
    supplies=("talent",),
    report_rows=report,
    options=(
        Option("usable_share", float, 0.5, "share of a period's hires who work in that "
               "period; the rest arrive in the next one", ge=0, le=1),
    ),
    terms=(Term("talent_attraction", "cost of hiring talent from elsewhere", "money"),),
    symbols=(
        Symbol("talent_attraction.csv:max", "parameter", "A_{rt}", "(region, talent_class)",
               "people", "most people the region can hire in a period"),
        Symbol("talent_attraction.csv:cost", "parameter", "c_{rt}", "(region, talent_class)",
               "money/people", "cost of hiring one person into the region"),
        Symbol("talent_pool.csv:pool", "parameter", r"\Pi_t", "talent classes", "people",
               "people all regions together may hire in a period"),
        Symbol("usable_share", "parameter", r"\sigma", "", "", "option: share of a period's "
               "hires who work in that period"),
        Symbol("talent_attracted", "variable", r"a_{rt} \in [0, A_{rt}]",
               "(region, talent_class)", "people", "people hired in the period"),
        Symbol("talent_usable", "expression", r"\text{talent\_usable}_{rt}",
               "(region, talent_class)", "people", "hired people who work in the period "
               "(added to the region's talent supply)",
               r"\sigma a_{rt} + \text{talent\_usable}^{p-1}_{rt} + (1-\sigma) a^{p-1}_{rt}"),
        Symbol("talent_attraction_within_pool", "constraint", "", "talent classes with a pool",
               "people", "all regions together hire at most the national pool",
               r"\sum_r a_{rt} \le \Pi_t"),
    ),
)
