r"""Capacity only where hosted, between minimum efficient scale and the site maximum, and
enough of it nationally for final demand plus what downstream industries use.

$$
\begin{aligned}
&\text{capacity\_within\_max:} && q_{ir} \le \overline{Q}_{ir}\, x_{ir}
  && \forall (i,r) \in S \\
&\text{capacity\_above\_min\_scale:} && q_{ir} \ge m_i\, x_{ir}
  && \forall (i,r) \in S \setminus S^b,\ m_i > 0 \\
&\text{capacity\_covers\_requirement:} && \mathrm{surplus}_i = Q_i - D_i
  - \sum_{(i,d) \in L} a_{id}\, Q_d \ \ge\ 0 && \forall i \in I \\
&\text{term investment:} && \sum_{(i,r)\in S} \mathrm{inv}_{ir}
\end{aligned}
$$

Valid inequalities (option ``strengthen``, on by default; left out when the family's limits
are softened). Every plan has $Q_i \ge G_i$ (by induction down the acyclic chain, since
$Q_d \ge G_d$ and $D_i \ge 0$) and $q_{ir} \le \overline{Q}_{ir} x_{ir}$, so the site maxima of
the hosts cover the requirement, and at least $\lceil G_i / \max_r \overline{Q}_{ir}\rceil$
regions host:

$$
\begin{aligned}
&\text{capacity\_cover\_by\_hosts:} && \sum_{r:(i,r)\in S} \overline{Q}_{ir}\, x_{ir}
  \ \ge\ G_i && \forall i \in I,\ G_i > 0 \\
&\text{capacity\_fewest\_hosts:} && \sum_{r:(i,r)\in S} x_{ir} \ \ge\
  \big\lceil G_i / \textstyle\max_{r} \overline{Q}_{ir} \big\rceil
  && \forall i \in I,\ G_i > 0
\end{aligned}
$$

Neither removes a plan; both are knapsack rows on the binaries alone, from which HiGHS
derives cover cuts that the mixed rows above do not give it. Where the rounded ratio exceeds
the $n_i$ candidate sites of $i$, the row asks for $n_i + 1$ hosts instead: no plan, as with
the ratio itself, without rounding a number too large to round.

The site maximum $\overline{Q}_{ir}$ is ``sites.csv max_capacity``, else the industry's
``capacity_max``, else its national requirement $G_i$ (final demand plus the requirement of
its downstream industries at their own $G$), and never below $m_i$ or the existing capacity.
Brownfield sites ($e_{ir} > 0$) are exempt from the minimum scale: the plant exists. Capacity
is used at its full rate, so the chain's intermediate demand is counted on capacity.

Pre-solve check (before any solve; a failure proves that no plan exists): with $L_i$ the
least national capacity of industry $i$ in any plan (final demand plus what downstream
industries use at their own least capacity, and at least the existing capacity kept), the
candidate sites can build it, $L_i \le \sum_{r:(i,r)\in S} \overline{Q}_{ir}$.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, LimitSource, Option, Symbol, Term, rows_where
from allocator.core.presolve import CheckFailure, exceeds, number, rows_text

if TYPE_CHECKING:
    from allocator.engine.build import Context
    from allocator.input.data import Instance


def build(b: pyo.Block, ctx: Context) -> None:
    sites = ctx.sites
    x, q = ctx.hosts, ctx.capacity
    cap_max = sites["capacity_max"].to_dict()
    b.capacity_within_max = pyo.Constraint(
        list(sites.index), rule=lambda _, i, r: q[i, r] <= cap_max[i, r] * x[i, r]
    )
    scaled = sites[(~sites["brownfield"]) & (sites["min_scale"] > 0)]
    min_scale = scaled["min_scale"].to_dict()
    b.capacity_above_min_scale = pyo.Constraint(
        list(scaled.index), rule=lambda _, i, r: q[i, r] >= min_scale[i, r] * x[i, r]
    )
    b.capacity_covers_requirement = pyo.Constraint(
        ctx.instance.industry_ids, rule=lambda _, i: ctx.capacity_surplus[i] >= 0)
    ctx.add_term("investment", pyo.quicksum(ctx.site_investment[s] for s in sites.index))
    strong = ctx.options["strengthen"] and not ctx.soft
    req = ctx.instance.requirement
    regions_of: dict[str, list[str]] = {}
    for i, r in sites.index:
        regions_of.setdefault(i, []).append(r)
    covered = [i for i in ctx.instance.industry_ids if strong and req[i] > 0 and i in regions_of]
    b.capacity_cover_by_hosts = pyo.Constraint(
        covered, rule=lambda _, i: pyo.quicksum(cap_max[i, r] * x[i, r] for r in regions_of[i])
        >= float(req[i]))

    def fewest(_: pyo.Block, i: str) -> Any:
        largest = max(cap_max[i, r] for r in regions_of[i])
        # a hair below the ratio, so that rounding noise never asks for one host too many
        ratio = float(req[i]) / largest - 1e-6 if largest > 0 else 0.0
        n = len(regions_of[i])
        # more hosts than candidate sites (a ratio of 1e301 cannot even be rounded): n + 1
        least = n + 1 if ratio > n else math.ceil(ratio)
        return pyo.quicksum(x[i, r] for r in regions_of[i]) >= least

    b.capacity_fewest_hosts = pyo.Constraint(covered, rule=fewest)


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    """National final demand as a limit (a floor: used = capacity left for final demand after
    downstream use, available = final demand), so that its shadow price (what one more unit
    of national demand costs) has a row in regions.csv."""
    inst = ctx.instance
    ids = inst.industry_ids
    demand = inst.final_demand
    con = b.capacity_covers_requirement
    located = set(inst.table("markets")["industry"]) if "markets" in ctx.model.families else set()
    return {"resources": pd.DataFrame({
        "family": "capacity", "region": "(national)",
        "resource": [f"demand:{i}" for i in ids],
        "used": [pyo.value(ctx.capacity_surplus[i]) + float(demand[i]) for i in ids],
        "available": [float(demand[i]) for i in ids],
        "unit": [inst.capacity_unit(i) for i in ids],
        "constraint": [con[i].name for i in ids],
        "sense": "at least",
        # one more unit of demand moves the row defining the surplus (its right-hand side
        # is D_i); where markets.csv locates the demand, the national demand is their sum:
        # the markets family's rows carry the price (each market moves it too)
        "price_rows": ["" if i in located else ctx.surplus_definition[i].name for i in ids],
        "note": ["priced on each market's row (markets.csv): one more unit of demand is "
                 "in one market" if i in located else "" for i in ids],
    })}
def limit_source(b: pyo.Block, ctx: Context, constraint: str, index: Any) -> LimitSource:
    """capacity_covers_requirement[i] is industry i's demand: its industries.csv row, or its
    markets.csv rows where the demand is located there."""
    inst = ctx.instance
    demand = float(inst.final_demand[index])
    downstream = inst.chain.loc[inst.chain["upstream"] == index, "downstream"].tolist()
    located = inst.has("markets") and bool(rows_where(inst.table("markets"), industry=index))
    source, column = ("markets", "demand") if located else ("industries", "demand")
    rows = (rows_where(inst.table("markets"), industry=index) if located
            else (int(inst.industry.at[index, "row"]),))
    note = ("capacity is capped by the site maxima (sites.csv max_capacity, industries.csv "
            "capacity_max)")
    if downstream:
        return LimitSource(inst.file_of(source), rows, column,
                           f"{index}, national capacity against final demand {demand:g} plus "
                           f"what {', '.join(downstream)} use", None,
                           inst.capacity_unit(index), note)
    return LimitSource(inst.file_of(source), rows, column, f"{index}, national capacity",
                       demand, inst.capacity_unit(index), note, needs="demand", has="can build")


def _demand_where(inst: Instance, industry: str) -> str:
    """The input rows of an industry's final demand: its markets.csv rows, else its
    industries.csv row."""
    if inst.has("markets"):
        rows = rows_where(inst.table("markets"), industry=industry)
        if rows:
            return rows_text(inst.file_of("markets"), rows)
    return rows_text(inst.file_of("industries"), (int(inst.industry.at[industry, "row"]),))


def presolve_checks(inst: Instance, options: dict[str, Any], least: pd.Series
                    ) -> list[CheckFailure]:
    """The candidate sites of each industry can build its least capacity $L_i$."""
    most = inst.sites["capacity_max"].groupby(level=0).sum().reindex(inst.industry_ids,
                                                                     fill_value=0.0)
    out = []
    for i in inst.industry_ids:
        if exceeds(float(least[i]), float(most[i])):
            n = int((inst.sites.index.get_level_values(0) == i).sum())
            unit = inst.capacity_unit(i)
            out.append(CheckFailure("capacity", "site_maxima", (
                f"{_demand_where(inst, i)} ({i}): needs at least {number(least[i])} {unit} "
                f"(final demand {number(inst.final_demand[i])} plus what downstream industries "
                f"use), but its {n} candidate site{'s' if n != 1 else ''} can build at most "
                f"{number(most[i])} together (site maxima: sites.csv max_capacity, "
                f"industries.csv capacity_max; forbidden pairs: sites.csv allowed)")))
    return out


FAMILY = Family(
    name="capacity",
    summary="Capacity only where hosted, within [minimum scale, site max]; national "
            "capacity covers final plus intermediate demand.",
    math=__doc__ or "",
    build=build,
    valid_inequalities=("capacity_cover_by_hosts", "capacity_fewest_hosts"),
    limits=("capacity_covers_requirement",),
    report_rows=report,
    limit_source=limit_source,
    presolve_checks=presolve_checks,
    relax_last=True,
    site_maximum_rows=("capacity_within_max",),
    optional=False,
    options=(
        Option("strengthen", bool, True, "add the valid inequalities capacity_cover_by_hosts "
               "and capacity_fewest_hosts (same optimum; see docs/performance.md for the "
               "measured effect)"),
    ),
    terms=(Term("investment", "fixed setup costs of new hosts plus capex of new capacity",
                "money"),),
    symbols=(
        Symbol("industries.csv:demand / markets.csv", "parameter", "D_i", "industries",
               "capacity", "national final demand (the sum of markets.csv rows where given)"),
        Symbol("chain.csv:ratio", "parameter", "a_{ud}", "chain links L", "capacity/capacity",
               "units of upstream u per unit of downstream d"),
        Symbol("industries.csv:min_scale", "parameter", "m_i", "industries", "capacity",
               "minimum efficient scale of a new host"),
        Symbol("sites.csv:max_capacity", "parameter", r"\overline{Q}_{ir}", "sites",
               "capacity", "site maximum (defaults: industries.csv capacity_max, then G_i)"),
        Symbol("sites.csv:existing_capacity", "parameter", "e_{ir}", "sites", "capacity",
               "existing capacity (brownfield)"),
        Symbol("sites.csv:fixed_cost / industries.csv:fixed_cost", "parameter", "F_{ir}",
               "sites", "money", "fixed setup cost of a new host"),
        Symbol("sites.csv:unit_capex / industries.csv:unit_capex", "parameter", "c_{ir}",
               "sites", "money/capacity", "capex per unit of new capacity"),
        Symbol("capacity_within_max", "constraint", "", "sites", "capacity",
               "capacity only where hosted, at most the site maximum",
               r"q_{ir} \le \overline{Q}_{ir} x_{ir}"),
        Symbol("capacity_above_min_scale", "constraint", "", "greenfield sites with m_i > 0",
               "capacity", "a new host builds at least the minimum efficient scale",
               r"q_{ir} \ge m_i x_{ir}"),
        Symbol("capacity_covers_requirement", "constraint", "", "industries", "capacity",
               "national capacity covers final demand plus downstream use",
               r"Q_i \ge D_i + \sum_{(i,d)\in L} a_{id} Q_d"),
        Symbol("instance.requirement", "parameter", "G_i", "industries", "capacity",
               "national requirement: final demand plus downstream requirement, "
               "D_i + sum_d a_id G_d"),
        Symbol("capacity_cover_by_hosts", "constraint", "", "industries with G_i > 0",
               "capacity", "valid inequality: the site maxima of the hosts cover the "
               "requirement", r"\sum_r \overline{Q}_{ir} x_{ir} \ge G_i"),
        Symbol("capacity_fewest_hosts", "constraint", "", "industries with G_i > 0", "",
               "valid inequality: at least as many hosts as the largest sites need",
               r"\sum_r x_{ir} \ge \lceil G_i / \max_r \overline{Q}_{ir} \rceil"),
    ),
)
