r"""Markets: where ``markets.csv`` locates an industry's final demand, shipments from
producing sites meet each region's demand at a transport cost per unit and km.

For industry $i$ with market regions $M_i$ (demand $D_{im} > 0$), a shipment exists from
every candidate site to every market (or, with ``nearest_sites = k``, from the $k$ candidate
sites nearest to each market, plus the explicit arcs of ``arcs.csv``):

$$
\begin{aligned}
&\text{ship}_{iom} \ge 0 && (i,o) \in S,\ m \in M_i \\
&\text{markets\_demand\_met:} && \sum_{o} \text{ship}_{iom} \ge D_{im} && \forall i, m \in M_i \\
&\text{markets\_ship\_within\_host:} && \text{ship}_{iom} \le D_{im}\, x_{io}
  && \text{(valid inequality, option strengthen)} \\
&\text{site output:} && \mathrm{out}_{io} \mathrel{+}= \sum_m \text{ship}_{iom} \\
&\text{term transport:} && \sum \text{ship}_{iom}\, k_{iom}, \quad
  k_{iom} = \tau_i\, \delta_{om}
\end{aligned}
$$

$\tau_i$ is ``industries.csv transport_cost`` (else the option ``cost_per_unit_km``),
$\delta_{om}$ the great-circle distance or ``arcs.csv distance_km``; ``arcs.csv unit_cost``,
where given, replaces $k_{iom}$. ``markets_ship_within_host`` adds nothing to the set of
plans (a site that does not host has no capacity to ship from) but tightens the LP
relaxation, the classic strong formulation of capacitated facility location.

A second-stage family (``stage = 2``, ``demand = markets_demand_met``): with supply-shock
scenarios it is built once per scenario, what a site ships is capped by that scenario's
production, and each demand row gets the engine's unmet-demand slack,
$\sum_o \text{ship}_{iom} + \text{unmet}_{im} \ge D_{im}$ (see the engine's supply-shock
section below).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, LimitSource, Option, Symbol, Term, rows_where
from allocator.core.tables import HeuristicLimits, flow_table

if TYPE_CHECKING:
    from allocator.engine.build import Context
    from allocator.input.data import Instance


def ship_arcs(ctx: Context) -> pd.DataFrame:
    """Index of ``ship``: industry, from, to (market), demand, distance_km, unit_cost."""
    inst, opts = ctx.instance, ctx.options
    markets = inst.table("markets")
    markets = markets.loc[markets["demand"] > 0, ["industry", "region", "demand"]]
    markets = markets.rename(columns={"region": "to"})
    sites = ctx.sites.reset_index()[["industry", "region"]].rename(columns={"region": "from"})
    pairs = sites.merge(markets, on="industry")
    net = inst.network
    pairs = net.describe(pairs)
    k = opts["nearest_sites"]
    if k > 0:
        rank = pairs.groupby(["industry", "to"])["distance_km"].rank(method="first")
        explicit = pairs["unit_cost"].notna() | _is_explicit(pairs, net.explicit)
        pairs = pairs[(rank <= k) | explicit]
    tau = inst.industry["transport_cost"].astype(float).fillna(opts["cost_per_unit_km"])
    per_km = pairs["industry"].map(tau).to_numpy() * pairs["distance_km"].to_numpy()
    pairs = pairs.assign(unit_cost=pairs["unit_cost"].fillna(
        pd.Series(per_km, index=pairs.index)))
    return pairs.sort_values(["industry", "to", "from"], kind="stable").reset_index(drop=True)


def _is_explicit(pairs: pd.DataFrame, explicit: pd.DataFrame) -> np.ndarray:
    if explicit.empty:
        return np.zeros(len(pairs), dtype=bool)
    key = pd.MultiIndex.from_frame(explicit[["from", "to"]])
    return pd.MultiIndex.from_frame(pairs[["from", "to"]]).isin(key)


def build(b: pyo.Block, ctx: Context) -> None:
    arcs = ctx.state["arcs"] = ship_arcs(ctx)
    keys = list(zip(arcs["industry"], arcs["from"], arcs["to"], strict=True))
    b.ship = pyo.Var(keys, within=pyo.NonNegativeReals, dense=False)
    markets = ctx.instance.table("markets")
    markets = markets[markets["demand"] > 0]
    into: dict[tuple[str, str], list[tuple[str, str, str]]] = {
        (i, m): [] for i, m in zip(markets["industry"], markets["region"], strict=True)
    }
    out: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for key in keys:
        into[key[0], key[2]].append(key)
        out.setdefault((key[0], key[1]), []).append(key)
    d_im = dict(zip(zip(markets["industry"], markets["region"], strict=True),
                    markets["demand"], strict=True))

    # a market no candidate site can ship to keeps its row (0 >= D: infeasible, or a
    # shortfall of D when softened) instead of collapsing to the Python value False
    b._nothing = pyo.Expression(expr=0.0)

    def met(_: pyo.Block, i: str, m: str) -> Any:
        if not into[i, m]:
            return b._nothing >= d_im[i, m]
        return pyo.quicksum(b.ship[k] for k in into[i, m]) >= d_im[i, m]

    b.markets_demand_met = pyo.Constraint(list(into), rule=met)
    x = ctx.hosts
    strong = keys if ctx.options["strengthen"] else []
    b.markets_ship_within_host = pyo.Constraint(
        strong, rule=lambda _, i, o, m: b.ship[i, o, m] <= d_im[i, m] * x[i, o]
    )
    for site, ks in out.items():
        ctx.add_site_output(site, pyo.quicksum(b.ship[k] for k in ks))
    cost = dict(zip(keys, arcs["unit_cost"], strict=True))
    ctx.add_term("transport", pyo.quicksum(cost[k] * b.ship[k] for k in keys if cost[k]))


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    arcs = ctx.state["arcs"]
    amount = [pyo.value(b.ship[k])
              for k in zip(arcs["industry"], arcs["from"], arcs["to"], strict=True)]
    flows = flow_table("markets", "transport", arcs, "industry", amount)
    # each market's demand as a limit (a floor: used = delivered, available = demand), so
    # that its shadow price (what one more unit of demand costs) has a row in regions.csv; a
    # market's demand is also part of the industry's national demand D_i, the right-hand
    # side of the row defining the surplus: one more unit moves both rows
    con = b.markets_demand_met
    keys = list(con)
    national = ctx.surplus_definition
    delivered = arcs.assign(amount=amount).groupby(["industry", "to"])["amount"].sum()
    rows = pd.DataFrame({
        "family": "markets", "region": [m for _, m in keys],
        "resource": [f"demand:{i}" for i, _ in keys],
        "used": [float(delivered.get((i, m), 0.0)) for i, m in keys],
        "available": [float(con[k].lower) for k in keys],
        "unit": [ctx.instance.capacity_unit(i) for i, _ in keys],
        "constraint": [con[k].name for k in keys],
        "price_rows": [f"{con[k].name} + {national[k[0]].name}" for k in keys],
        "sense": "at least",
    })
    return {"flows": flows, "resources": rows}


def limit_source(b: pyo.Block, ctx: Context, constraint: str, index: Any) -> LimitSource:
    """markets_demand_met[i, m] is the markets.csv row of industry i in region m."""
    i, m = index
    markets = ctx.instance.table("markets")
    rows = rows_where(markets, industry=i, region=m)
    demand = float(markets.loc[list(rows), "demand"].sum())
    return LimitSource(ctx.instance.file_of("markets"), rows, "demand", f"{i} in {m}", demand,
                       ctx.instance.capacity_unit(i), needs="demand", has="can be supplied")


def heuristic_limits(inst: Instance, options: dict[str, Any], sites: pd.DataFrame
                     ) -> HeuristicLimits:
    """For the construction heuristic: ``ship`` carries output to the markets, each market's
    demand $D_{im}$ (``markets_demand_met``) is what it must receive."""
    return HeuristicLimits(to_markets=("ship", "markets_demand_met"),
                           located_demand=inst.table("markets"))


FAMILY = Family(
    name="markets",
    summary="Shipments from producing sites meet each region's final demand at a transport "
            "cost per unit and km.",
    math=__doc__ or "",
    build=build,
    valid_inequalities=("markets_ship_within_host",),
    limits=("markets_demand_met",),
    limit_source=limit_source,
    report_rows=report,
    heuristic_limits=heuristic_limits,
    relax_last=True,
    requires=("markets",),
    stage=2,
    demand=("markets_demand_met",),
    options=(
        Option("cost_per_unit_km", float, 0.0, "transport cost per unit shipped per km, "
               "where industries.csv gives no transport_cost", unit="money/(capacity*km)",
               ge=0),
        Option("nearest_sites", int, 0, "ship to each market only from its k nearest "
               "candidate sites (0: from every candidate site); a restriction, not a "
               "relaxation", ge=0),
        Option("strengthen", bool, True, "add the valid inequality ship <= demand * hosts"),
    ),
    terms=(Term("transport", "cost of shipping output to the markets", "money"),),
    symbols=(
        Symbol("markets.csv:demand", "parameter", "D_{im}", "(industry, region)", "capacity",
               "final demand of industry i in region m"),
        Symbol("industries.csv:transport_cost", "parameter", r"\tau_i", "industries",
               "money/(capacity*km)", "transport cost per unit and km"),
        Symbol("ship", "variable", r"\text{ship}_{iom} \ge 0", "(industry, from, market)",
               "capacity", "output of industry i shipped from site o to market m"),
        Symbol("markets_demand_met", "constraint", "", "(industry, market)", "capacity",
               "each market's demand is met", r"\sum_o \text{ship}_{iom} \ge D_{im}"),
        Symbol("markets_ship_within_host", "constraint", "", "(industry, from, market)",
               "capacity", "only a hosting site ships (valid inequality)",
               r"\text{ship}_{iom} \le D_{im} x_{io}"),
    ),
)
