r"""Funding: in every region, the fixed setup costs of new hosts plus the capex of new
capacity are within the region's own budget plus what it receives from an optional national
guidance fund.

$$
\begin{aligned}
&\text{funding\_within\_budget:} && \sum_{i:(i,r)\in S} \mathrm{inv}_{ir} + \sum_f u^f_r
  - \text{fund\_general}_r - \text{fund\_reserved}_r \ \le\ B_r && \forall r \\
&\text{funding\_general\_total:} && \sum_r \text{fund\_general}_r \le (1-\rho)\, F \\
&\text{funding\_reserved\_total:} && \sum_r \text{fund\_reserved}_r \le \rho\, F \\
&\text{funding\_reserved\_for\_slow\_return:} && \text{fund\_reserved}_r \le
  \sum_{i \in I^{slow}:(i,r)\in S} \mathrm{inv}_{ir} && \forall r
\end{aligned}
$$

$B_r$ is ``regions.csv funding_budget``, $F$ the option ``national_fund`` and $\rho$ the
option ``slow_return_reserved_share``: the share of the fund kept for slow-return industries
($I^{slow}$, ``industries.csv slow_return``, e.g. new materials, quantum). The fund variables
exist only when $F > 0$ (and the reserved ones only when $\rho > 0$). $u^f_r$ is money that
another family $f$ spends in the region (``ctx.add_use("funding", region, expr)``: the setup
cost of an open pilot base), paid from the budget and the general fund; none in the default
formulation. The rows are built in the ``close`` phase, after every family's uses.
Investment is counted once, in the ``investment`` term of the capacity family; the fund
only finances it.

Pre-solve checks (before any solve; a failure proves that no plan exists): the cheapest way
to build every industry's least capacity $L_i$ (existing capacity free; must-host sites pay
their setup and minimum scale; then the sites in order of their cost per unit, a greenfield
unit costing $c_{ir} + F_{ir}/\overline{Q}_{ir}$, the LP relaxation of the fixed charge)
costs at most $\sum_r B_r + F$; and in each region the must-host sites alone,
$\sum_{i \in S^{must}_r} (F_{ir} + c_{ir} m_i)$, cost at most $B_r + F$.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, LimitSource, Option, Symbol
from allocator.core.presolve import CheckFailure, exceeds, least_investment, number, rows_text
from allocator.core.tables import HeuristicLimits

if TYPE_CHECKING:
    from allocator.engine.build import Context
    from allocator.input.data import Instance


def site_bounds(inst: Instance, options: dict[str, Any], sites: pd.DataFrame) -> pd.DataFrame:
    """Most capacity a site can reach with all of its region's budget and the whole national
    fund: F_ir + c_ir q_ir <= B_r + F on a new site, c_ir (q_ir - e_ir) <= B_r + F on a
    brownfield one (see :mod:`allocator.engine.prune`)."""
    fund = float(options["national_fund"])
    budget = inst.region["funding_budget"].astype(float)
    df = sites.reset_index()
    money = df["region"].map(budget).to_numpy(float) + fund
    fixed, capex = df["fixed_cost"].to_numpy(float), df["unit_capex"].to_numpy(float)
    brown = df["brownfield"].to_numpy(bool)
    spare = money - np.where(brown, 0.0, fixed)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(capex > 0, spare / capex, np.where(spare >= 0, np.inf, -1.0))
    bound = np.where(brown, df["existing"].to_numpy(float), 0.0) + per
    out = pd.DataFrame({"industry": df["industry"], "region": df["region"], "bound": bound})
    binds = bound < df["capacity_max"].to_numpy(float)
    out, money, brown, fixed, capex = (a[binds] for a in (out, money, brown, fixed, capex))
    out["reason"] = [
        f"funding: budget {b:g}" + (f" plus the national fund {fund:g}" if fund else "")
        + ("" if br else f", fixed setup cost {f:g}") + f", capex {c:g} per unit"
        for b, br, f, c in zip(money - fund, brown, fixed, capex, strict=True)]
    return out


def build(b: pyo.Block, ctx: Context) -> None:
    """Nothing in the build phase: the rows wait for the uses of other families (close)."""


def close(b: pyo.Block, ctx: Context) -> None:
    sites = ctx.sites
    inv = ctx.site_investment
    budget = ctx.instance.region["funding_budget"].astype(float)
    by_region: dict[str, list[tuple[str, str]]] = {}
    for s in sites.index:
        by_region.setdefault(s[1], []).append(s)
    others = ctx.uses("funding")  # region -> what other families spend there
    regions = [r for r in ctx.instance.region_ids if r in by_region or r in others]
    fund = float(ctx.options["national_fund"])
    share = float(ctx.options["slow_return_reserved_share"])
    slow = set(ctx.instance.industry.index[
        ctx.instance.industry["slow_return"].astype("boolean").fillna(False).to_numpy()])
    reserved_regions = [r for r in regions
                        if any(s[0] in slow for s in by_region.get(r, ()))]
    b.fund_general = pyo.Var(regions if fund > 0 else [], within=pyo.NonNegativeReals)
    b.fund_reserved = pyo.Var(reserved_regions if fund > 0 and share > 0 else [],
                              within=pyo.NonNegativeReals)

    def received(r: str) -> Any:
        # Pyomo's indexed components have no .get()
        general = b.fund_general[r] if r in b.fund_general else 0  # noqa: SIM401
        reserved = b.fund_reserved[r] if r in b.fund_reserved else 0  # noqa: SIM401
        return general + reserved

    b.funding_within_budget = pyo.Constraint(
        regions,
        rule=lambda _, r: pyo.quicksum(inv[s] for s in by_region.get(r, ()))
        + others.get(r, 0) - received(r) <= float(budget[r]),
    )
    b.funding_general_total = pyo.Constraint(
        rule=lambda _: pyo.quicksum(b.fund_general.values()) <= (1 - share) * fund
        if fund > 0 else pyo.Constraint.Skip
    )
    b.funding_reserved_total = pyo.Constraint(
        rule=lambda _: pyo.quicksum(b.fund_reserved.values()) <= share * fund
        if len(b.fund_reserved) else pyo.Constraint.Skip
    )
    b.funding_reserved_for_slow_return = pyo.Constraint(
        list(b.fund_reserved.keys()),
        rule=lambda _, r: b.fund_reserved[r]
        <= pyo.quicksum(inv[s] for s in by_region[r] if s[0] in slow),
    )


def received(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    """funding.csv: what each region receives from the national fund (general, reserved),
    from which allocator verify rechecks the budgets, the fund's totals and the reserved
    share."""
    regions = [r for r in ctx.instance.region_ids if r in b.funding_within_budget]
    got = {name: [float(pyo.value(var[r]) or 0.0) if r in var else 0.0 for r in regions]
           for name, var in (("fund_general", b.fund_general),
                             ("fund_reserved", b.fund_reserved))}
    budget = ctx.instance.region["funding_budget"].astype(float)
    return {"funding": pd.DataFrame({
        "region": regions, "budget": [float(budget[r]) for r in regions],
        "investment": [pyo.value(b.funding_within_budget[r].body) + got["fund_general"][k]
                       + got["fund_reserved"][k] for k, r in enumerate(regions)], **got})}


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    budget = ctx.instance.region["funding_budget"].astype(float)
    regions = [r for r in ctx.instance.region_ids if r in b.funding_within_budget]
    used, available = [], []
    for r in regions:
        con = b.funding_within_budget[r]
        fund = sum(pyo.value(v[r]) or 0.0 for v in (b.fund_general, b.fund_reserved) if r in v)
        used.append(pyo.value(con.body) + fund)
        available.append(float(budget[r]) + fund)
    rows = pd.DataFrame({
        "family": "funding", "region": regions, "resource": "funding", "used": used,
        "available": available, "unit": ctx.instance.money,
        "constraint": [b.funding_within_budget[r].name for r in regions],
    })
    # the national guidance fund, general and reserved share: its shadow price is what one
    # more unit of the fund would save
    fund = float(ctx.options["national_fund"])
    share = float(ctx.options["slow_return_reserved_share"])
    national = [(con, var, resource, limit) for con, var, resource, limit in (
        (b.funding_general_total, b.fund_general, "national_fund", (1 - share) * fund),
        (b.funding_reserved_total, b.fund_reserved, "national_fund:reserved", share * fund),
    ) if len(con)]
    extra = pd.DataFrame({
        "family": "funding", "region": "(national)",
        "resource": [resource for _, _, resource, _ in national],
        "used": [sum(pyo.value(v) or 0.0 for v in var.values()) for _, var, _, _ in national],
        "available": [limit for _, _, _, limit in national],
        "unit": ctx.instance.money,
        "constraint": [con.name for con, _, _, _ in national],
    })
    return {"resources": pd.concat([rows, extra], ignore_index=True)}


def limit_source(b: pyo.Block, ctx: Context, constraint: str, index: Any) -> LimitSource:
    """A region's budget is its regions.csv row; the fund totals are instance.toml settings."""
    money = ctx.instance.money
    if constraint == "funding_within_budget":
        region = ctx.instance.region
        return LimitSource(ctx.instance.file_of("regions"), (int(region.at[index, "row"]),),
                           "funding_budget", f"{index}, own budget (national fund on top)",
                           float(region.at[index, "funding_budget"]), money)
    fund = float(ctx.options["national_fund"])
    share = float(ctx.options["slow_return_reserved_share"])
    reserved = constraint == "funding_reserved_total"
    return LimitSource(
        "instance.toml", (), "[funding] national_fund",
        "national guidance fund, " + ("share reserved for slow-return industries" if reserved
                                      else "unreserved share"),
        share * fund if reserved else (1 - share) * fund, money)


def presolve_checks(inst: Instance, options: dict[str, Any], least: pd.Series
                    ) -> list[CheckFailure]:
    """The cheapest way to meet demand fits the budgets plus the national fund; each region's
    must-host sites fit its own budget plus the fund."""
    fund = float(options["national_fund"])
    budget = inst.region["funding_budget"].astype(float)
    money = inst.money
    cost, must = least_investment(inst, least)
    out = []
    available = float(budget.sum()) + fund
    fund_text = f"; instance.toml [funding] national_fund {number(fund)}" if fund else ""
    if exceeds(cost, available):
        out.append(CheckFailure("funding", "least_investment", (
            f"funding: meeting all demand costs at least {number(cost)} {money} even at the "
            f"cheapest sites (industries.csv and sites.csv fixed_cost, unit_capex), but the "
            f"regions' budgets plus the national fund total {number(available)} "
            f"({rows_text(inst.file_of('regions'), [int(r) for r in inst.region['row']])}, "
            f"column funding_budget{fund_text})")))
    for r, c in must.items():
        if exceeds(float(c), float(budget[r]) + fund):
            sites = inst.sites
            at = ((sites.index.get_level_values(1) == r) & sites["must_host"].to_numpy()
                  & ~sites["brownfield"].to_numpy())
            rows = [int(x) for x in sites.loc[at, "row"] if x]
            out.append(CheckFailure("funding", "must_host_budget", (
                f"{rows_text(inst.file_of('regions'), (int(inst.region.at[r, 'row']),))} "
                f"({r}): its must-host sites alone cost {number(c)} {money} "
                f"({rows_text(inst.file_of('sites'), rows)}), but its budget is "
                f"{number(budget[r])}{' plus the national fund ' + number(fund) if fund else ''}"
            )))
    return out


def heuristic_limits(inst: Instance, options: dict[str, Any], sites: pd.DataFrame
                     ) -> HeuristicLimits:
    """Each region's budget, the national fund's general part and its part reserved for
    slow-return industries, for the construction heuristic."""
    fund = float(options["national_fund"])
    share = float(options["slow_return_reserved_share"])
    slow = inst.industry["slow_return"].astype("boolean").fillna(False)
    return HeuristicLimits(budget=inst.region["funding_budget"].astype(float).to_dict(),
                           fund=(1 - share) * fund, reserved=share * fund,
                           reserved_for=frozenset(slow.index[slow.to_numpy(dtype=bool)]))


FAMILY = Family(
    name="funding",
    summary="Fixed setup cost plus capex of new capacity within each region's budget plus "
            "what it receives from the national guidance fund.",
    math=__doc__ or "",
    build=build,
    close=close,
    collects=("funding",),
    spending=True,
    limits=("funding_within_budget", "funding_general_total", "funding_reserved_total"),
    report_rows=lambda b, ctx: {**report(b, ctx), **received(b, ctx)},
    limit_source=limit_source,
    site_bounds=site_bounds,
    presolve_checks=presolve_checks,
    heuristic_limits=heuristic_limits,
    options=(
        Option("national_fund", float, 0.0, "national guidance fund F that regions may draw "
               "on", unit="money", ge=0),
        Option("slow_return_reserved_share", float, 0.0, "share rho of the fund reserved for "
               "slow-return industries", ge=0, le=1),
    ),
    symbols=(
        Symbol("regions.csv:funding_budget", "parameter", "B_r", "regions", "money",
               "the region's own budget"),
        Symbol("national_fund", "parameter", "F", "", "money", "national guidance fund"),
        Symbol("slow_return_reserved_share", "parameter", r"\rho", "", "",
               "share of the fund reserved for slow-return industries"),
        Symbol("fund_general", "variable", r"\text{fund\_general}_r \ge 0", "regions", "money",
               "national fund received, any industry"),
        Symbol("fund_reserved", "variable", r"\text{fund\_reserved}_r \ge 0",
               "regions with slow-return sites", "money",
               "national fund received from the reserved share"),
        Symbol("funding_within_budget", "constraint", "", "regions", "money",
               "investment (and other families' spending) within own budget plus fund "
               "received", r"\sum_i \mathrm{inv}_{ir} + \sum_f u^f_r - \text{fund}_r \le B_r"),
        Symbol("funding_general_total", "constraint", "", "", "money",
               "unreserved fund paid out", r"\sum_r \text{fund\_general}_r \le (1-\rho)F"),
        Symbol("funding_reserved_total", "constraint", "", "", "money",
               "reserved fund paid out", r"\sum_r \text{fund\_reserved}_r \le \rho F"),
        Symbol("funding_reserved_for_slow_return", "constraint", "",
               "regions with slow-return sites", "money",
               "reserved fund pays only slow-return investment",
               r"\text{fund\_reserved}_r \le \sum_{i\in I^{slow}} \mathrm{inv}_{ir}"),
    ),
)
