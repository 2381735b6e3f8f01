r"""The built-in families' rules, restated for ``allocator verify`` (docs/verification.md).

Each function takes a :class:`allocator.verify.Check` and recomputes one family's
constraints and objective terms from the written plan: ``c.plan`` (candidate sites with
``hosted`` $x$, ``capacity`` $q$ and the site investment), ``c.flows(...)`` (flows.csv) and
the family's own result tables (``funding.csv``, ``imports.csv``). Constraint names and
indices are the model's, so a recorded shortfall (``--soft``) is matched to its row.

The defaults of the built-in families' options and term weights are restated here as well
(``DEFAULT_OPTIONS``, ``DEFAULT_WEIGHTS``); a test checks them against the families.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from allocator.verify.check import Check

DEFAULT_OPTIONS: dict[str, dict[str, object]] = {
    # strengthen: valid inequalities only (the same feasible plans), nothing to check
    "capacity": {"strengthen": True},
    "chain_coordination": {"nearest": 3, "same_group": True, "cost_per_unit_km": 0.0,
                           "border_surcharge": 0.25, "strengthen": False},
    "markets": {"cost_per_unit_km": 0.0, "nearest_sites": 0, "strengthen": True},
    "talent": {},
    "funding": {"national_fund": 0.0, "slow_return_reserved_share": 0.0},
    "supply": {},
    "duplication": {},
    "duplication_neighbors": {"distance_km": 150.0, "same_group": True},
    "policy": {"max_industries": 0},
    "resilience": {},
    "pilot_bases": {"reach_km": 300.0},
}
DEFAULT_WEIGHTS: dict[str, float] = {"investment": 1.0, "coordination": 1.0, "transport": 1.0,
                                     "input_cost": 1.0,
                                     "site_excess": 1.0, "overcapacity": 1.0,
                                     "neighbor_pairs": 1.0, "pilot_bases": 1.0}


def _sum_by(values: pd.Series, keys: list[pd.Series] | pd.Series) -> pd.Series:
    return values.groupby(keys, sort=False).sum()


def _national_capacity(c: Check) -> pd.Series:
    """$Q_i = \\sum_r q_{ir}$ for every industry (0 without sites)."""
    q = c.capacity.groupby(level="industry", sort=False).sum()
    return q.reindex(c.data.industries.index, fill_value=0.0)


def _downstream_use(c: Check, q_total: pd.Series) -> pd.Series:
    """$\\sum_{(i,d) \\in L} a_{id} Q_d$ per industry i."""
    chain = c.data.chain
    use = pd.Series(0.0, index=c.data.industries.index)
    if len(chain):
        part = chain["ratio"].astype(float).to_numpy() * q_total.reindex(
            chain["downstream"]).to_numpy()
        use = use.add(pd.Series(part).groupby(chain["upstream"].to_numpy()).sum(),
                      fill_value=0.0)
    return use


def _contributed(c: Check, resource: str) -> pd.Series:
    """What other families use of ``resource`` (uses.csv), summed per key: (region, item)
    for talent, region for funding. Each contributing family's rules check its own rows."""
    uses = c.results.get("uses")
    if uses is None or not len(uses):
        return pd.Series(dtype=float)
    rows = uses[uses["resource"] == resource]
    if resource == "funding":
        return _sum_by(rows["amount"].astype(float), rows["region"])
    return _sum_by(rows["amount"].astype(float), [rows["region"], rows["item"].astype(str)])


# --------------------------------------------------------------------------- engine
def engine(c: Check) -> None:
    """Core rules: the decisions' domains and bounds, and what leaves a site.

    * $x_{ir} \\in \\{0, 1\\}$; $0 \\le q_{ir} \\le \\overline{Q}_{ir}$;
    * with ``[sites] brownfield = "keep"`` an existing plant stays: $x_{ir} = 1$,
      $q_{ir} \\ge e_{ir}$;
    * a flow leaves only a candidate site of its industry, is $\\ge 0$, and everything that
      leaves a site (all families' flows) is at most its capacity.
    """
    plan = c.plan
    x, q = plan["hosted"], plan["capacity"]
    not_binary = ~x.isin([0.0, 1.0])
    c.count(len(plan))
    for idx in plan.index[not_binary.to_numpy()]:
        c.violation("hosts", idx, abs(x[idx] - round(x[idx])), "hosted must be 0 or 1")
    c.at_least("capacity bounds", q, 0.0, "capacity")
    c.at_most("capacity bounds", q, plan["capacity_max"], "capacity")
    if c.data.setting("sites", "brownfield") == "keep":
        kept = plan[plan["brownfield"]]
        c.at_least("existing plant kept (hosts)", kept["hosted"], 1.0)
        c.at_least("existing plant kept (capacity)", kept["capacity"], kept["existing"],
                   "capacity")
    flows = c.flows()
    c.at_least("flow >= 0", flows["amount"].set_axis(
        list(zip(flows["industry"], flows["from"], flows["to"], strict=True))), 0.0)
    origin = pd.MultiIndex.from_arrays([flows["industry"], flows["from"]])
    bad = ~origin.isin(plan.index)
    c.count(len(flows))
    for row in flows[bad].itertuples(index=False):
        c.violation("flow origin", (row.industry, row[2]), row.amount,
                    f"{row.family} ships {row.industry} from {row[2]}, which may not host it")
    out = _sum_by(flows["amount"], [flows["industry"], flows["from"]])
    out = out[out.index.isin(plan.index)]
    c.at_most("site_output_within_capacity", out, q.reindex(out.index), "capacity")


# --------------------------------------------------------------------------- capacity
def term_bounds(c: Check, bounds: dict[str, float]) -> None:
    """$\\mathrm{term}_t \\le \\varepsilon_t$ for every bounded term (``summary.json``
    ``term_bounds``: a frontier point, a sweep case's ``bound``), on the term as the
    families' rules recomputed it (before weighting). A bounded term that no rule
    recomputed is a violation: the bound could not be checked."""
    for term, limit in bounds.items():
        recomputed = c.recomputed(term)
        if recomputed is None:
            c.violation(f"objective_term_bounds[{term}]", term, float("nan"),
                        "the term has a bound but no rule recomputed it")
            continue
        c.at_most(f"objective_term_bounds[{term}]", recomputed, float(limit))


def capacity(c: Check) -> None:
    """$q \\le \\overline{Q} x$; $q \\ge m x$ on greenfield sites with $m > 0$;
    $Q_i \\ge D_i + \\sum_d a_{id} Q_d$; term investment $= \\sum \\mathrm{inv}_{ir}$."""
    plan = c.plan
    x, q = plan["hosted"], plan["capacity"]
    c.at_most("capacity_within_max", q, plan["capacity_max"] * x, "capacity")
    green = plan[~plan["brownfield"] & (plan["min_scale"] > 0)]
    c.at_least("capacity_above_min_scale", green["capacity"],
               green["min_scale"] * green["hosted"], "capacity")
    q_total = _national_capacity(c)
    need = c.data.final_demand + _downstream_use(c, q_total)
    c.at_least("capacity_covers_requirement", q_total, need, "capacity")
    c.term("investment", plan["investment"].sum())


# ----------------------------------------------------------------- chain coordination
def chain_coordination(c: Check) -> None:
    """Flows of upstream goods u on the sparse arcs $A_u$ cover each region's downstream
    use; term coordination $= \\sum \\text{flow} \\cdot k_{uot}$.

    A flow (u, o, t) exists when (u, o) is a candidate site, t may host a downstream
    industry of u, and o -> t is an arc of $A_u$: o = t, same group (option same_group), t
    among the $k_u$ nearest regions of o or o among those of t (great circle, ties in file
    order; $k_u$ = industries.csv chain_nearest, else the option nearest), or an arcs.csv
    arc. Unit cost: arcs.csv unit_cost, else $\\kappa_u \\delta_{ot} (1 + \\sigma [g(o)
    \\ne g(t)])$.
    """
    data, opts, plan = c.data, c.options, c.plan
    chain = data.chain
    flows = c.flows("chain_coordination")
    sites = plan.index.to_frame(index=False)
    uses = chain.merge(sites, left_on="downstream", right_on="industry")
    uses["use"] = uses["ratio"].astype(float).to_numpy() * plan["capacity"].reindex(
        pd.MultiIndex.from_frame(uses[["downstream", "region"]])).to_numpy()
    need = _sum_by(uses["use"], [uses["upstream"], uses["region"]])
    # which arcs exist
    ind = data.industries
    reach = ind["chain_nearest"].astype(float).fillna(float(opts["nearest"])) if (
        "chain_nearest" in ind.columns) else pd.Series(float(opts["nearest"]), index=ind.index)
    group = data.regions["group"]
    explicit = set(data.explicit_arcs.index) if len(data.explicit_arcs) else set()
    nearest_by_k: dict[int, dict[str, set[str]]] = {}
    c.count(len(flows))
    for row in flows.itertuples(index=False):
        u, o, t = row.industry, row[2], row[3]
        why = ""
        if (u, o) not in plan.index:
            why = f"{o} may not host {u}"
        elif (u, t) not in need.index:
            why = f"{t} may host no downstream industry of {u}"
        else:
            k = int(reach.get(u, opts["nearest"]))
            near = nearest_by_k.setdefault(k, data.nearest(k))
            if not (o == t or (opts["same_group"] and group[o] == group[t])
                    or t in near[o] or o in near[t] or (o, t) in explicit):
                why = f"{o} -> {t} is not an arc of {u} (not the same region or group, not " \
                      f"among the {k} nearest, not in arcs.csv)"
        if why:
            c.violation("flow", (u, o, t), row.amount, why, "capacity")
    received = _sum_by(flows["amount"], [flows["industry"], flows["to"]])
    c.at_least("chain_coordination_inflow", received.reindex(need.index, fill_value=0.0),
               need, "capacity")
    kappa = ind["coordination_cost"].astype(float).fillna(float(opts["cost_per_unit_km"]))
    km = data.arc_distance(flows["from"], flows["to"])
    border = group.reindex(flows["from"]).to_numpy() != group.reindex(flows["to"]).to_numpy()
    per_km = flows["industry"].map(kappa).to_numpy(float) * km * np.where(
        border, 1.0 + float(opts["border_surcharge"]), 1.0)
    given = data.arc_unit_cost(flows["from"], flows["to"])
    unit = np.where(np.isnan(given), per_km, given)
    c.term("coordination", float((flows["amount"].to_numpy(float) * unit).sum()))


# --------------------------------------------------------------------------- markets
def markets(c: Check) -> None:
    """Shipments meet each market's demand: $\\sum_o \\text{ship}_{iom} \\ge D_{im}$
    ($D_{im} > 0$); with strengthen, $\\text{ship}_{iom} \\le D_{im} x_{io}$; term transport
    $= \\sum \\text{ship} \\cdot k_{iom}$, $k$ = arcs.csv unit_cost, else $\\tau_i
    \\delta_{om}$.

    A shipment exists from a candidate site of i to a market of i; with nearest_sites = k
    only from the k candidate sites nearest to the market (ties in file order) or along an
    arcs.csv arc.
    """
    data, opts, plan = c.data, c.options, c.plan
    markets = data.table("markets")
    markets = markets[markets["demand"].astype(float) > 0]
    demand = markets.set_index(["industry", "region"])["demand"].astype(float)
    ships = c.flows("markets")
    k = int(opts["nearest_sites"])
    explicit = set(data.explicit_arcs.index) if len(data.explicit_arcs) else set()
    c.count(len(ships))
    for row in ships.itertuples(index=False):
        i, o, m = row.industry, row[2], row[3]
        why = ""
        if (i, o) not in plan.index:
            why = f"{o} may not host {i}"
        elif (i, m) not in demand.index:
            why = f"{m} is not a market of {i} (no positive demand in markets.csv)"
        elif k > 0 and (o, m) not in explicit:
            cands = [r for (ii, r) in plan.index if ii == i]
            dist = data.arc_distance(pd.Series(cands), pd.Series([m] * len(cands)))
            nearest = [cands[n] for n in np.argsort(dist, kind="stable")[:k]]
            if o not in nearest:
                why = f"{o} is not among the {k} candidate sites nearest to {m}"
        if why:
            c.violation("ship", (i, o, m), row.amount, why, "capacity")
    into = _sum_by(ships["amount"], [ships["industry"], ships["to"]])
    c.at_least("markets_demand_met", into.reindex(demand.index, fill_value=0.0), demand,
               "capacity")
    if opts["strengthen"] and len(ships):
        key = list(zip(ships["industry"], ships["from"], ships["to"], strict=True))
        d = demand.reindex(pd.MultiIndex.from_arrays([ships["industry"], ships["to"]]))
        x = plan["hosted"].reindex(pd.MultiIndex.from_arrays([ships["industry"],
                                                              ships["from"]]))
        c.at_most("markets_ship_within_host", ships["amount"].set_axis(key),
                  pd.Series(d.to_numpy() * x.to_numpy(), index=key), "capacity")
    tau = data.industries["transport_cost"].astype(float).fillna(
        float(opts["cost_per_unit_km"]))
    km = data.arc_distance(ships["from"], ships["to"])
    given = data.arc_unit_cost(ships["from"], ships["to"])
    unit = np.where(np.isnan(given), ships["industry"].map(tau).to_numpy(float) * km, given)
    c.term("transport", float((ships["amount"].to_numpy(float) * unit).sum()))


# --------------------------------------------------------------------------- talent
def talent(c: Check) -> None:
    """$\\sum_i n_{it} \\varphi_{ir} q_{ir} + \\sum_f u^f_{rt} \\le P_{rt}$ for every (region,
    class) where some candidate site needs that class or another family uses it ($P$ = 0
    without a talent_supply.csv row; $u^f$ from uses.csv, checked by its family)."""
    plan = c.plan.reset_index()
    need = c.data.table("talent_need")
    df = plan.merge(need, on="industry")
    df["per_unit"] = df["need"].astype(float) * df["talent_factor"]
    df = df[df["per_unit"] > 0]
    used = _sum_by(df["per_unit"] * df["capacity"], [df["region"], df["talent_class"]])
    others = _contributed(c, "talent")  # pilot bases' researchers, from uses.csv
    if len(others):
        others.index = others.index.set_names(["region", "talent_class"])
        used = others if not len(used) else used.add(others, fill_value=0.0)
    supply = c.data.table("talent_supply").set_index(["region", "talent_class"])["supply"]
    c.at_most("talent_within_supply", used,
              supply.astype(float).reindex(used.index, fill_value=0.0), "people")


# --------------------------------------------------------------------------- funding
def funding(c: Check) -> None:
    """Per region: $\\sum_i \\mathrm{inv}_{ir} + \\sum_f u^f_r - \\text{fund}_r \\le B_r$
    ($u^f_r$: other families' spending, from uses.csv); the fund paid
    out: general $\\le (1-\\rho) F$, reserved $\\le \\rho F$; reserved money only for
    slow-return investment of the region. Fund received comes from funding.csv; it exists
    only when $F > 0$ (reserved only when $\\rho > 0$, in regions with slow-return sites)."""
    data, opts, plan = c.data, c.options, c.plan
    fund_total = float(opts["national_fund"])
    share = float(opts["slow_return_reserved_share"])
    others = _contributed(c, "funding")  # pilot bases' setup, from uses.csv
    regions = [r for r in data.regions.index
               if r in set(plan.index.get_level_values(1)) or r in others.index]
    table = c.results.get("funding")
    if table is None:
        table = pd.DataFrame(columns=["region", "fund_general", "fund_reserved"])
        if fund_total > 0:
            c.violation("funding.csv", None, 0.0, "the results lack funding.csv (the fund "
                        "each region receives), so the budgets cannot be checked")
    table = table.set_index("region")
    general = table["fund_general"].astype(float).reindex(regions, fill_value=0.0)
    reserved = table["fund_reserved"].astype(float).reindex(regions, fill_value=0.0)
    slow_ids = set(data.industries.index[
        data.industries["slow_return"].astype("boolean").fillna(False).to_numpy()])
    slow_site = plan.index.get_level_values(0).isin(slow_ids)
    slow_regions = set(plan.index.get_level_values(1)[slow_site])
    may_reserve = pd.Series([fund_total > 0 and share > 0 and r in slow_regions
                             for r in regions], index=regions, dtype=bool)
    c.at_least("fund_general >= 0", general, 0.0, data.money)
    c.at_least("fund_reserved >= 0", reserved, 0.0, data.money)
    c.at_most("fund_general exists only with a national fund", general,
              float("inf") if fund_total > 0 else 0.0, data.money)
    c.at_most("fund_reserved exists only for slow-return sites with a reserved share",
              reserved, may_reserve.map({True: float("inf"), False: 0.0}), data.money)
    inv = _sum_by(plan["investment"], plan.index.get_level_values(1)).reindex(
        regions, fill_value=0.0).add(others.reindex(regions, fill_value=0.0))
    budget = data.regions["funding_budget"].astype(float).reindex(regions)
    c.at_most("funding_within_budget", inv - general - reserved, budget, data.money)
    if fund_total > 0:
        c.at_most("funding_general_total", general.sum(), (1 - share) * fund_total,
                  data.money)
    if may_reserve.any():
        c.at_most("funding_reserved_total", reserved.sum(), share * fund_total, data.money)
        slow_inv = _sum_by(plan["investment"][slow_site],
                           plan.index.get_level_values(1)[slow_site])
        rows = may_reserve[may_reserve].index
        c.at_most("funding_reserved_for_slow_return", reserved.reindex(rows),
                  slow_inv.reindex(rows, fill_value=0.0), data.money)


# --------------------------------------------------------------------------- supply
def supply(c: Check) -> None:
    """Key inputs: tradable inputs from one national pool, $\\sum \\nu_{ik} q_{ir} \\le
    \\sum_r U_{rk} + \\text{imports}_k$ with $0 \\le \\text{imports}_k \\le C_k$;
    non-tradable inputs per region, $\\sum_i \\nu_{ik} q_{ir} \\le U_{rk} +
    \\text{imports}_{kr}$ with $\\sum_r \\text{imports}_{kr} \\le C_k$; where $s_k > 0$,
    imports $\\le (1 - s_k)$ national need; term input_cost
    $= \\sum_k \\pi_k \\sum \\nu_{ik} q_{ir}$. Imports come from imports.csv; they exist only
    for inputs some candidate site needs (non-tradable: in the regions of those sites)."""
    data, plan = c.data, c.plan
    inputs = data.table("inputs").set_index("id")
    tradable = inputs["tradable"].astype("boolean").fillna(True).astype(bool)
    share = inputs["domestic_share_min"].astype(float).fillna(0.0)
    cap = inputs["import_cap"].astype(float)
    df = plan.reset_index().merge(data.table("input_need"), on="industry")
    df = df[df["need"].astype(float) > 0]
    df["used"] = df["need"].astype(float) * df["capacity"]
    national_need = _sum_by(df["used"], df["input"])
    regional_need = _sum_by(df["used"], [df["input"], df["region"]])
    supply_rows = data.table("input_supply")
    domestic = supply_rows.groupby(["input", "region"])["supply"].sum().astype(float)
    domestic_total = supply_rows.groupby("input")["supply"].sum().astype(float)
    table = c.results.get("imports")
    if table is None:
        table = pd.DataFrame(columns=["input", "region", "amount"])
        if len(national_need):
            c.violation("imports.csv", None, 0.0, "the results lack imports.csv, so the "
                        "supply rows cannot be checked")
    imports = table.set_index(["input", "region"])["amount"].astype(float)
    needed = [k for k in inputs.index if k in national_need.index]
    trade = [k for k in needed if tradable[k]]
    local = [k for k in needed if not tradable[k]]
    local_keys = [key for key in regional_need.index if key[0] in set(local)]
    exists = {(k, "(national)") for k in trade} | set(local_keys)
    c.at_least("imports >= 0", imports, 0.0, "input units")
    stray = imports[[key not in exists for key in imports.index]]
    c.at_most("imports exist only where an input is needed", stray, 0.0, "input units")
    national_imports = imports.reindex([(k, "(national)") for k in trade], fill_value=0.0)
    national_imports.index = trade
    c.at_most("supply_covers_need_national", national_need.reindex(trade),
              domestic_total.reindex(trade, fill_value=0.0) + national_imports, "input units")
    capped_trade = [k for k in trade if not np.isnan(cap[k])]
    c.at_most("imports bound", national_imports.reindex(capped_trade),
              cap.reindex(capped_trade), "input units")
    regional_imports = imports.reindex(local_keys, fill_value=0.0)
    c.at_most("supply_covers_need_regional",
              regional_need.reindex(local_keys),
              domestic.reindex(local_keys, fill_value=0.0) + regional_imports, "input units")
    local_total = regional_imports.groupby(level=0).sum().reindex(local, fill_value=0.0)
    capped_local = [k for k in local if not np.isnan(cap[k])]
    c.at_most("supply_imports_within_cap", local_total.reindex(capped_local),
              cap.reindex(capped_local), "input units")
    imported = pd.concat([national_imports, local_total])
    floors = [k for k in needed if share[k] > 0]
    c.at_most("supply_domestic_share_met", imported.reindex(floors),
              (1 - share.reindex(floors)) * national_need.reindex(floors), "input units")
    # term input_cost: the price of every unit used (inputs.csv price; blank: not costed)
    price = (inputs["price"].astype(float) if "price" in inputs.columns
             else pd.Series(np.nan, index=inputs.index)).fillna(0.0)
    c.term("input_cost", float((national_need * price.reindex(national_need.index,
                                                               fill_value=0.0)).sum()))


# --------------------------------------------------------------------------- duplication
def duplication(c: Check) -> None:
    """Terms: site_excess $= \\sum_i \\max(0, \\sum_r x_{ir} - H_i)$; overcapacity $=
    \\sum_i (Q_i - D_i - \\sum_d a_{id} Q_d)$."""
    data = c.data
    hosts = c.hosts.groupby(level="industry", sort=False).sum().reindex(
        data.industries.index, fill_value=0.0)
    target = data.industries["target_hosts"].astype(float)
    c.term("site_excess", float(np.maximum(hosts - target, 0.0).sum()))
    q_total = _national_capacity(c)
    surplus = q_total - data.final_demand - _downstream_use(c, q_total)
    c.term("overcapacity", float(surplus.sum()))


def duplication_neighbors(c: Check) -> None:
    """Term neighbor_pairs $= \\sum_i \\sum_{(a,b) \\in N} x_{ia} x_{ib}$: unordered pairs
    of regions in the same group (option same_group) or at most distance_km apart (great
    circle), both candidates for i."""
    data, opts = c.data, c.options
    ids = list(data.regions.index)
    km = data.distance_matrix.to_numpy()
    close = km <= float(opts["distance_km"])
    if opts["same_group"]:
        g = data.regions["group"].to_numpy()
        close |= g[:, None] == g[None, :]
    a, b = np.nonzero(np.triu(close, k=1))
    pairs = 0.0
    x = c.hosts
    for industry in data.industries.index:
        hosted = {r for (i, r), v in x.items() if i == industry and v > 0.5}
        pairs += sum(1 for p, q in zip(a, b, strict=True)
                     if ids[p] in hosted and ids[q] in hosted)
    c.term("neighbor_pairs", pairs)


# --------------------------------------------------------------------------- policy
def policy(c: Check) -> None:
    """must_host pairs host ($x = 1$); $\\sum_i x_{ir} \\le N_r$ where a focus limit applies
    (regions.csv max_industries, else the option when > 0; regions with candidate sites);
    $\\sum_i x_{ir} \\ge M_r$ where min_industries > 0."""
    data, plan = c.data, c.plan
    must = plan[plan["must_host"]]
    c.at_least("must_host", must["hosted"], 1.0)
    count = c.hosts.groupby(level="region", sort=False).sum()
    regions = data.regions
    limit = regions["max_industries"].astype(float)
    if float(c.options["max_industries"]) > 0:
        limit = limit.fillna(float(c.options["max_industries"]))
    limit = limit.dropna()
    limit = limit[limit.index.isin(count.index)]
    c.at_most("policy_focus_limit", count.reindex(limit.index), limit, "industries")
    floor = regions["min_industries"].astype(float).dropna()
    floor = floor[floor > 0]
    c.at_least("policy_equity_floor", count.reindex(floor.index, fill_value=0.0), floor,
               "industries")


# --------------------------------------------------------------------------- resilience
def resilience(c: Check) -> None:
    """Critical industries (critical = true) only, each rule where its column is given:
    $\\sum_r x_{ir} \\ge h_i$ (min_hosts); $q_{ir} \\le \\beta_i Q_i$ on every candidate
    site when $\\beta_i < 1$ (max_share); N-1 with $\\gamma_i > 0$ (n1_cover): for every
    candidate site, $Q_i - q_{ir} \\ge \\gamma_i (D_i + \\sum_d a_{id} Q_d)$, the others
    cover the share of final demand plus downstream use when region r is lost."""
    data, plan = c.data, c.plan
    ind = data.industries
    critical = ind["critical"].astype("boolean").fillna(False).astype(bool)

    def given(column: str) -> pd.Series:
        if column not in ind.columns:
            return pd.Series(dtype=float)
        values = ind[column].astype(float)
        return values[critical & values.notna()]

    q_total = _national_capacity(c)
    need = data.final_demand + _downstream_use(c, q_total)
    hosts = c.hosts.groupby(level="industry", sort=False).sum().reindex(ind.index,
                                                                        fill_value=0.0)
    least = given("min_hosts")
    c.at_least("resilience_min_hosts", hosts.reindex(least.index), least, "regions")
    industry = plan.index.get_level_values("industry")
    share = given("max_share")
    share = share[share < 1]
    at = plan[industry.isin(share.index)]
    of = at.index.get_level_values("industry")
    c.at_most("resilience_max_share", at["capacity"],
              pd.Series(share.reindex(of).to_numpy() * q_total.reindex(of).to_numpy(),
                        index=at.index), "capacity")
    cover = given("n1_cover")
    cover = cover[cover > 0]
    at = plan[industry.isin(cover.index)]
    of = at.index.get_level_values("industry")
    c.at_least("resilience_n1_cover",
               pd.Series(q_total.reindex(of).to_numpy() - at["capacity"].to_numpy(),
                         index=at.index),
               pd.Series(cover.reindex(of).to_numpy() * need.reindex(of).to_numpy(),
                         index=at.index), "capacity")


# --------------------------------------------------------------------------- pilot bases
def pilot_bases(c: Check) -> None:
    """Research-intensive industries (industries.csv research_field) host only near an open
    base: $x_{ir} \\le \\sum_{b \\in B_{ir}} \\text{opens}_b$, $B_{ir}$ the bases of the
    field in the same group as r or at most $\\rho_i$ km away (great circle; pilot_reach_km,
    blank: option reach_km). Every base of a needed field has a row in the results'
    pilot_bases.csv with opened 0 or 1. Its uses in uses.csv are exactly
    $\\nu_b \\text{opens}_b$ people of its class in its region and $F^{pilot}_b
    \\text{opens}_b$ money there; term pilot_bases $= \\sum_b F^{pilot}_b \\text{opens}_b$."""
    data, plan = c.data, c.plan
    ind = data.industries
    field = ind["research_field"].dropna()
    reach = ind["pilot_reach_km"].astype(float).fillna(float(c.options["reach_km"]))
    bases = data.table("pilot_bases").set_index("id")
    needed = bases[bases["field"].isin(set(field))]
    written = c.results.get("pilot_bases")
    if written is None:
        written = pd.DataFrame(columns=["base", "opened"])
        if len(needed):
            c.violation("pilot_bases.csv", None, 0.0, "the results lack pilot_bases.csv (which "
                        "bases open), so the access rows cannot be checked")
    opened = written.set_index("base")["opened"].astype(float)
    c.count(len(needed))
    for b in needed.index:
        if b not in opened.index:
            c.violation("opens", b, 1.0, "a base of a needed field has no row in the results")
    for b, v in opened.items():
        if b not in needed.index:
            c.violation("opens", b, abs(v), "a row for a base of no needed field")
        elif v not in (0.0, 1.0):
            c.violation("opens", b, abs(v - round(v)), "opened must be 0 or 1")
    opened = opened.reindex(needed.index, fill_value=0.0)
    group = data.regions["group"]
    sites = plan[plan.index.get_level_values("industry").isin(field.index)]
    access, lhs = {}, {}
    for (i, r), x in sites["hosted"].items():
        mine = needed[needed["field"] == field[i]]
        km = data.great_circle_km([r] * len(mine), list(mine["region"]))
        near = (km <= float(reach[i])) | (group.reindex(mine["region"]).to_numpy() == group[r])
        access[(i, r)] = float(opened.reindex(mine.index[near]).sum())
        lhs[(i, r)] = float(x)
    c.at_most("pilot_bases_access", pd.Series(lhs, dtype=float),
              pd.Series(access, dtype=float), "")
    talent = needed[needed["talent_need"].astype(float).fillna(0.0) > 0]
    expected_talent = _sum_by(talent["talent_need"].astype(float) * opened.reindex(talent.index),
                              [talent["region"], talent["talent_class"].astype(str)])
    expected_money = _sum_by(needed["fixed_cost"].astype(float) * opened, needed["region"])
    uses = c.results.get("uses")
    uses = uses[uses["family"] == "pilot_bases"] if uses is not None else pd.DataFrame(
        columns=["resource", "region", "item", "amount"])
    for resource, expected, keys in (("talent", expected_talent, ["region", "item"]),
                                     ("funding", expected_money, ["region"])):
        rows = uses[uses["resource"] == resource]
        got = _sum_by(rows["amount"].astype(float),
                      [rows[k].astype(str) for k in keys] if len(keys) > 1 else rows["region"])
        index = expected.index.union(got.index)
        got, expected = got.reindex(index, fill_value=0.0), expected.reindex(index,
                                                                             fill_value=0.0)
        unit = "people" if resource == "talent" else data.money
        c.at_most(f"uses {resource}", got, expected, unit)
        c.at_least(f"uses {resource}", got, expected, unit)
    c.term("pilot_bases", float((needed["fixed_cost"].astype(float) * opened).sum()))


RULES = {
    "capacity": capacity,
    "chain_coordination": chain_coordination,
    "markets": markets,
    "talent": talent,
    "funding": funding,
    "supply": supply,
    "duplication": duplication,
    "duplication_neighbors": duplication_neighbors,
    "policy": policy,
    "resilience": resilience,
    "pilot_bases": pilot_bases,
}
