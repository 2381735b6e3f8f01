r"""Chain coordination: upstream output flows to the regions that host its downstream
industries, and every unit moved pays a coordination cost that grows with distance and jumps
when the flow crosses an administrative border (a Beijing-design / Tianjin-fab chip firm
reported about 25% higher collaboration cost).

Flows run on a sparse arc set $A_u$: each region to itself, to regions of its group, to its
$k_u$ nearest regions (both directions), plus the explicit arcs of ``arcs.csv``. $k_u$ is
``industries.csv chain_nearest`` of the upstream industry (light, valuable goods such as chips
travel far), else the option ``nearest``. A flow of good
$u$ on arc $(o, t)$ exists only where $o$ may host $u$ and $t$ may host a downstream
industry of $u$:

$$
\begin{aligned}
&\text{flow}_{uot} \ge 0 && (u,o) \in S,\ (o,t) \in A_u,\ \exists d: (u,d)\in L, (d,t) \in S \\
&\text{chain\_coordination\_inflow:} && \sum_{o} \text{flow}_{uot} \ \ge
  \sum_{d:(u,d)\in L,\ (d,t)\in S} a_{ud}\, q_{dt} && \forall u, t \\
&\text{site output:} && \mathrm{out}_{uo} \mathrel{+}= \sum_t \text{flow}_{uot}
  && \forall (u,o) \in S \\
&\text{term coordination:} && \sum \text{flow}_{uot}\; k_{uot}, \quad
  k_{uot} = \kappa_u\, \delta_{ot}\, (1 + \sigma\, [g(o) \ne g(t)])
\end{aligned}
$$

$\kappa_u$ is the coordination cost per unit and km (``industries.csv coordination_cost``,
else the option ``cost_per_unit_km``), $\delta_{ot}$ the great-circle distance (or
``arcs.csv distance_km``), $\sigma$ the ``border_surcharge``, $g(\cdot)$ the group. Where
``arcs.csv`` gives ``unit_cost``, $k_{uot}$ is that cost. A downstream site with no arc from
any possible upstream site cannot produce: coordination keeps chains close together (such
sites are left out of $S$, see ``allocator.engine.prune``).

Valid inequalities (option ``strengthen``, **off** by default: measured, they made HiGHS
slower on the generated instances, the second by doubling the rows, see
``docs/performance.md``; left out when the family's limits are softened). With
$A_u(t) = \{o : \text{flow}_{uot} \text{ exists}\}$ and
$N_{ut} = \sum_{d:(u,d)\in L,\,(d,t)\in S} a_{ud}\,\overline{Q}_{dt}$, the most good $u$
that region $t$ can ever use:

$$
\begin{aligned}
&\text{chain\_coordination\_supplier\_within\_reach:} && \sum_{o \in A_u(t)} x_{uo}
  \ \ge\ x_{dt} && \forall (u,d) \in L,\ (d,t) \in S,\ q_{dt} > 0 \text{ when hosted} \\
&\text{chain\_coordination\_flow\_within\_host:} && \text{flow}_{uot} \ \le\
  \min(\overline{Q}_{uo}, N_{ut})\, x_{uo} && \forall (u,o,t)
\end{aligned}
$$

The first holds in every plan: a downstream site that hosts produces at least its minimum
scale $m_d > 0$ (or keeps its existing capacity), needs $a_{ud} q_{dt} > 0$ of good $u$,
and only a hosting $u$-site within reach can send it. It is written for sites with
$m_d > 0$ or kept existing capacity. The second keeps every optimum: a plan that moves more
than $N_{ut}$ into $t$ can move less at no extra cost (arc costs are non-negative and less
output only loosens the sites' capacity rows), and a site that does not host has no output.
It is the chain's counterpart of ``markets_ship_within_host``, the strong linking of
facility location.

A second-stage family (``stage = 2``): $q_{dt}$ in the inflow row is ``ctx.activity``, the
capacity in a deterministic run and a scenario's production with supply-shock scenarios
(where the valid inequalities are left out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, LimitSource, Option, Symbol, Term
from allocator.core.schema import ColumnSpec
from allocator.core.tables import HeuristicLimits, flow_table

if TYPE_CHECKING:
    from allocator.engine.build import Context
    from allocator.input.data import Instance


def flow_arcs(ctx: Context) -> pd.DataFrame:
    """Index of ``flow``: columns good (upstream u), from, to, unit_cost, distance_km,
    crosses_border; one row per variable."""
    return arcs_between(ctx.instance, ctx.options, ctx.sites)


def arcs_between(inst: Instance, opts: dict[str, Any], candidate: pd.DataFrame
                 ) -> pd.DataFrame:
    """The flow arcs among the ``candidate`` sites (see :func:`flow_arcs`)."""
    net = inst.network
    sites = candidate.reset_index()[["industry", "region"]]
    chain = inst.chain[["upstream", "downstream"]]
    # destinations t of good u: regions that may host some downstream industry of u
    dest = chain.merge(sites, left_on="downstream", right_on="industry")[["upstream", "region"]]
    dest = dest.drop_duplicates().rename(columns={"upstream": "good", "region": "to"})
    origin = sites[sites["industry"].isin(chain["upstream"])]
    origin = origin.rename(columns={"industry": "good", "region": "from"})
    # each good moves on the network of its own reach (industries.csv chain_nearest)
    reach = inst.industry["chain_nearest"].astype("Float64").fillna(opts["nearest"])
    origin = origin.assign(reach=origin["good"].map(reach).astype(int).to_numpy())
    parts = []
    for k, group in origin.groupby("reach", sort=True):
        arcs = net.arcs(int(k), opts["same_group"])
        parts.append(group.drop(columns="reach").merge(arcs, on="from"))
    pairs = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["good", "from", "to", "distance_km", "unit_cost", "crosses_border"])
    pairs = pairs.merge(dest, on=["good", "to"])
    kappa = inst.industry["coordination_cost"].astype(float).fillna(opts["cost_per_unit_km"])
    per_km = pairs["good"].map(kappa).to_numpy(float) * pairs["distance_km"].to_numpy(float)
    surcharge = np.where(pairs["crosses_border"].astype(bool), 1.0 + opts["border_surcharge"],
                         1.0)
    pairs["unit_cost"] = pairs["unit_cost"].astype(float).fillna(
        pd.Series(per_km * surcharge, index=pairs.index))
    return pairs.sort_values(["good", "from", "to"], kind="stable").reset_index(drop=True)


def site_bounds(inst: Instance, options: dict[str, Any], sites: pd.DataFrame) -> pd.DataFrame:
    """A downstream site that no candidate site of one of its upstream industries can reach
    gets no inflow of that good, so it cannot produce: bound 0 (see
    :mod:`allocator.engine.prune`)."""
    arcs = arcs_between(inst, options, sites)
    uses = inst.chain.merge(sites.reset_index()[["industry", "region"]],
                            left_on="downstream", right_on="industry")
    reached = pd.MultiIndex.from_arrays([arcs["good"], arcs["to"]])
    cut = ~pd.MultiIndex.from_arrays([uses["upstream"], uses["region"]]).isin(reached)
    lost = uses[cut]
    reach = inst.industry["chain_nearest"].astype("Float64").fillna(options["nearest"])
    return pd.DataFrame({
        "industry": lost["downstream"].to_numpy(), "region": lost["region"].to_numpy(),
        "bound": 0.0,
        "reason": [f"value chain: no candidate site of its supplier {u} within reach of the "
                   f"region ({int(reach[u])} nearest regions"
                   + (", same group" if options["same_group"] else "") + ", arcs.csv)"
                   for u in lost["upstream"]]}, columns=["industry", "region", "bound", "reason"])


def build(b: pyo.Block, ctx: Context) -> None:
    arcs = ctx.state["arcs"] = flow_arcs(ctx)
    keys = list(zip(arcs["good"], arcs["from"], arcs["to"], strict=True))
    b.flow = pyo.Var(keys, within=pyo.NonNegativeReals, dense=False)
    q = ctx.activity  # capacity; a scenario's production with supply-shock scenarios
    sites = ctx.sites
    inflow_arcs: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    outflow_arcs: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for k in keys:
        inflow_arcs.setdefault((k[0], k[2]), []).append(k)
        outflow_arcs.setdefault((k[0], k[1]), []).append(k)
    uses = ctx.instance.chain.merge(sites.reset_index()[["industry", "region"]],
                                    left_on="downstream", right_on="industry")
    need: dict[tuple[str, str], list[tuple[float, tuple[str, str]]]] = {}
    for u, d, r, a in zip(uses["upstream"], uses["downstream"], uses["region"], uses["ratio"],
                          strict=True):
        need.setdefault((u, r), []).append((float(a), (d, r)))

    def inflow(_: pyo.Block, u: str, t: str) -> Any:
        used = pyo.quicksum(a * q[s] for a, s in need[u, t])
        return pyo.quicksum(b.flow[k] for k in inflow_arcs.get((u, t), ())) >= used

    b.chain_coordination_inflow = pyo.Constraint(list(need), rule=inflow)
    strong = ctx.options["strengthen"] and not ctx.soft
    x = ctx.hosts
    cap_max = sites["capacity_max"].to_dict()
    keep = ctx.instance.settings["sites"]["brownfield"] == "keep"
    produces = sites.index[(sites["min_scale"] > 0).to_numpy()
                           | (sites["brownfield"].to_numpy() & keep)]
    must_produce = set(produces) if strong else set()
    reach_rows = [(u, d, r) for u, d, r in zip(uses["upstream"], uses["downstream"],
                                                uses["region"], strict=True)
                  if (d, r) in must_produce]
    b.chain_coordination_supplier_within_reach = pyo.Constraint(
        reach_rows, rule=lambda _, u, d, t: pyo.quicksum(
            x[u, k[1]] for k in inflow_arcs.get((u, t), ())) >= x[d, t])
    usable = {key: sum(a * cap_max[s] for a, s in used) for key, used in need.items()}
    b.chain_coordination_flow_within_host = pyo.Constraint(
        keys if strong else [], rule=lambda _, u, o, t: b.flow[u, o, t]
        <= min(cap_max[u, o], usable[u, t]) * x[u, o])
    for site, ks in outflow_arcs.items():
        ctx.add_site_output(site, pyo.quicksum(b.flow[k] for k in ks))
    cost = dict(zip(keys, arcs["unit_cost"], strict=True))
    ctx.add_term("coordination", pyo.quicksum(cost[k] * b.flow[k] for k in keys if cost[k]))


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    arcs = ctx.state["arcs"]
    amount = [pyo.value(b.flow[k])
              for k in zip(arcs["good"], arcs["from"], arcs["to"], strict=True)]
    return {"flows": flow_table("chain_coordination", "coordination", arcs, "good", amount)}


def limit_source(b: pyo.Block, ctx: Context, constraint: str, index: Any) -> LimitSource:
    """chain_coordination_inflow[u, t] is the chain.csv rows from u to the downstream
    industries that may be hosted in t."""
    u, t = index
    chain = ctx.instance.chain
    local = {i for i, r in ctx.sites.index if r == t}
    links = chain[(chain["upstream"] == u) & chain["downstream"].isin(local)]
    return LimitSource(
        ctx.instance.file_of("chain"), tuple(int(r) for r in links["row"]), "ratio",
        f"{u} delivered to {t} for {', '.join(links['downstream'])}", None,
        ctx.instance.capacity_unit(u),
        "only hosts of the upstream industry within reach ship to t (reach: the option "
        "nearest, industries.csv chain_nearest, arcs.csv)")


def heuristic_limits(inst: Instance, options: dict[str, Any], sites: pd.DataFrame
                     ) -> HeuristicLimits:
    """For the construction heuristic: ``flow`` carries upstream output to the downstream
    hosts, and ``chain_coordination_inflow`` is what each region must receive."""
    return HeuristicLimits(to_hosts=("flow", "chain_coordination_inflow"))


FAMILY = Family(
    name="chain_coordination",
    summary="Upstream output flows on sparse arcs to downstream hosts; cost grows with "
            "distance and with crossing a group border.",
    math=__doc__ or "",
    build=build,
    valid_inequalities=("chain_coordination_supplier_within_reach",
                        "chain_coordination_flow_within_host"),
    limits=("chain_coordination_inflow",),
    limit_source=limit_source,
    report_rows=report,
    site_bounds=site_bounds,
    heuristic_limits=heuristic_limits,
    relax_last=True,
    requires=("chain",),
    stage=2,
    columns={"industries": (
        ColumnSpec("chain_nearest", "int", "chain_coordination: arcs from a region to its k "
                   "nearest regions for this industry's output (blank: the family's option "
                   "nearest)", unit="regions", required=False, nullable=True, ge=0),
    )},
    options=(
        Option("strengthen", bool, False, "add the valid inequalities "
               "chain_coordination_supplier_within_reach and "
               "chain_coordination_flow_within_host (same optimum; measured slower on the "
               "generated instances, see docs/performance.md)"),
        Option("nearest", int, 3, "arcs to each region's k nearest regions (both directions)",
               ge=0),
        Option("same_group", bool, True, "arcs between all regions of the same group"),
        Option("cost_per_unit_km", float, 0.0, "coordination cost per unit moved per km, "
               "where industries.csv gives no coordination_cost", unit="money/(capacity*km)",
               ge=0),
        Option("border_surcharge", float, 0.25, "extra share of the cost when a flow leaves "
               "its group (0.25: +25%)", ge=0),
    ),
    terms=(Term("coordination", "cost of moving upstream output to downstream hosts",
                "money"),),
    symbols=(
        Symbol("arcs", "set", "A_u", "", "", "sparse arcs of good u: self, same group, k_u "
               "nearest, arcs.csv"),
        Symbol("industries.csv:chain_nearest", "parameter", "k_u", "industries", "regions",
               "reach of good u (blank: option nearest)"),
        Symbol("industries.csv:coordination_cost", "parameter", r"\kappa_u", "industries",
               "money/(capacity*km)", "coordination cost per unit and km"),
        Symbol("border_surcharge", "parameter", r"\sigma", "", "", "border surcharge"),
        Symbol("flow", "variable", r"\text{flow}_{uot} \ge 0", "(good, from, to)", "capacity",
               "upstream output u moved from o to t"),
        Symbol("chain_coordination_inflow", "constraint", "", "(good, region)", "capacity",
               "what arrives covers what the region's downstream capacity uses",
               r"\sum_o \text{flow}_{uot} \ge \sum_{d} a_{ud} q_{dt}"),
        Symbol("chain_coordination_supplier_within_reach", "constraint", "",
               "(link, downstream site) with m_d > 0 or kept existing capacity", "",
               "valid inequality: a hosting downstream site has a hosting supplier within "
               "reach", r"\sum_{o \in A_u(t)} x_{uo} \ge x_{dt}"),
        Symbol("chain_coordination_flow_within_host", "constraint", "", "(good, from, to)",
               "capacity", "valid inequality: only a hosting site sends, at most what it can "
               "make and the destination can use",
               r"\text{flow}_{uot} \le \min(\overline{Q}_{uo}, N_{ut}) x_{uo}"),
    ),
)
