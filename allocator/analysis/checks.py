r"""Cheap pre-solve checks: necessary conditions for a feasible plan, in plain arithmetic.

Each check compares what the whole demand needs *at least* with what the input makes
available *at most*; a failure therefore proves that no plan exists, before any solver runs,
and says so in one sentence with the numbers and the input rows involved.

The least national capacity of each industry is
$L_i = \max\big(D_i + \sum_{(i,d)\in L} a_{id} L_d,\ \sum_{r \in S^b_{keep}} e_{ir}\big)$
(final demand plus what downstream industries use at their own least capacity, and never
below the existing capacity that must be kept), computed from the bottom of the chain up:
``capacity_covers_requirement`` makes $Q_i \ge L_i$ in every plan. The checks:

* **capacity** (demand): $L_i \le \sum_r \overline{Q}_{ir}$: the candidate sites can build it;
* **talent**: for each class $t$, $\sum_i L_i \min_r n_{it}\varphi_{ir} \le \sum_r P_{rt}$;
* **funding**: the cheapest way to build every $L_i$ (existing capacity free; then the sites
  in order of their cost per unit, a greenfield unit costing $c_{ir} + F_{ir}/\overline{Q}_{ir}$,
  the LP relaxation of the fixed charge; must-host sites pay their setup and minimum scale)
  is at most the sum of the budgets plus the national fund; and per region, its must-host
  sites alone fit its budget plus the fund;
* **policy**: per region, must-host and kept brownfield sites are at most the focus limit
  $N_r$; the equity floor $M_r$ is at most the number of candidate sites;
* **resilience** (critical industries): $h_i$ is at most the number of candidate sites;
  with max_share, $\sum_r \min(\overline{Q}_{ir}, \beta_i L_i) \ge L_i$ (no capacity
  $Q_i \ge L_i$ fits the share cap otherwise: $\sum_r \min(\overline{Q}_{ir}, \beta_i Q)
  - Q$ is concave and 0 at 0, so once negative at $L_i$ it stays negative); with N-1, the
  site maxima without the largest one hold $\gamma_i L_i$;
* **pilot bases**: a research-intensive industry can be hosted only near a candidate base
  of its field: the site maxima of those sites hold $L_i$;
* **supply**: for each input $k$ with least need $\underline{\nu}_k = \sum_i \nu_{ik} L_i$:
  $\underline{\nu}_k \le \sum_r U_{rk} + C_k$ (when imports are capped) and
  $s_k \underline{\nu}_k \le \sum_r U_{rk}$ (the domestic-share floor: imports at most
  $(1-s_k)$ of the need, so domestic supply must carry $s_k$ of it).

A check runs only when its family is built and not softened (``--soft``): a softened limit
may be exceeded, so its check proves nothing. What ``solve`` does with a failure: see
:func:`allocator.engine.highs` (it skips the MIP and explains, exit 4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocator.core.family import rows_where
from allocator.engine.limits import number, rows_text
from allocator.input.data import Instance
from allocator.models.pilot_bases.model import FAMILY, access, research
from allocator.models.resilience.model import parameters

#: relative tolerance: a check fails only when the need exceeds the availability by more
TOLERANCE = 1e-6


@dataclass(frozen=True)
class CheckFailure:
    """One failed necessary condition: the family whose limit it proves impossible, and the
    sentence for the planner."""

    family: str
    check: str
    message: str

    def __str__(self) -> str:
        return self.message


def exceeds(need: float, available: float) -> bool:
    return need > available + TOLERANCE * max(1.0, abs(available))


def least_capacity(inst: Instance) -> pd.Series:
    """$L_i$: the least national capacity of each industry in any plan
    (:attr:`allocator.input.data.Instance.least_capacity`)."""
    return inst.least_capacity


def run_checks(inst: Instance, families: Iterable[str], soft: Iterable[str] = ()
               ) -> list[CheckFailure]:
    """Every failed check for the families built (``families``) that are not softened."""
    on = set(families) - set(soft)
    least = least_capacity(inst)
    failures: list[CheckFailure] = []
    if "capacity" in on:
        failures += check_capacity(inst, least)
    if "talent" in on and inst.has("talent_need"):
        failures += check_talent(inst, least)
    if "funding" in on:
        failures += check_funding(inst, least)
    if "policy" in on:
        failures += check_policy(inst)
    if "supply" in on and inst.has("inputs") and inst.has("input_need"):
        failures += check_supply(inst, least)
    if "resilience" in on:
        failures += check_resilience(inst, least)
    if "pilot_bases" in on and inst.has("pilot_bases"):
        failures += check_pilot_bases(inst, least)
    return failures


def _demand_where(inst: Instance, industry: str) -> str:
    if inst.has("markets"):
        rows = rows_where(inst.table("markets"), industry=industry)
        if rows:
            return rows_text(inst.file_of("markets"), rows)
    return rows_text(inst.file_of("industries"), (int(inst.industry.at[industry, "row"]),))


def check_capacity(inst: Instance, least: pd.Series) -> list[CheckFailure]:
    """The candidate sites of each industry can build its least capacity."""
    most = inst.sites["capacity_max"].groupby(level=0).sum().reindex(inst.industry_ids,
                                                                     fill_value=0.0)
    out = []
    for i in inst.industry_ids:
        if exceeds(float(least[i]), float(most[i])):
            n = int((inst.sites.index.get_level_values(0) == i).sum())
            unit = inst.capacity_unit(i)
            out.append(CheckFailure("capacity", "capacity", (
                f"{_demand_where(inst, i)} ({i}): needs at least {number(least[i])} {unit} "
                f"(final demand {number(inst.final_demand[i])} plus what downstream industries "
                f"use), but its {n} candidate site{'s' if n != 1 else ''} can build at most "
                f"{number(most[i])} together (site maxima: sites.csv max_capacity, "
                f"industries.csv capacity_max; forbidden pairs: sites.csv allowed)")))
    return out


def check_talent(inst: Instance, least: pd.Series) -> list[CheckFailure]:
    """For each talent class, the least talent all demand needs against national supply."""
    need = inst.table("talent_need")
    supply = inst.table("talent_supply")
    factor = inst.sites["talent_factor"]
    out = []
    for t, group in need.groupby("talent_class", sort=False):
        total, used_rows = 0.0, []
        for row, i, n in zip(group.index, group["industry"], group["need"], strict=True):
            if n <= 0 or least[i] <= 0:
                continue
            at = factor.xs(i, level=0) if i in factor.index.get_level_values(0) else None
            if at is None or not len(at):
                continue
            total += float(least[i]) * float(n) * float(at.min())
            used_rows.append(int(row))
        available = float(supply.loc[supply["talent_class"] == t, "supply"].sum())
        if used_rows and exceeds(total, available):
            rows = rows_where(supply, talent_class=t)
            out.append(CheckFailure("talent", "talent", (
                f"talent class {t}: meeting all demand needs at least {number(total)} "
                f"{inst.talent_unit} "
                f"({rows_text(inst.file_of('talent_need'), used_rows)} times each industry's "
                f"least capacity), but the whole country has {number(available)} "
                f"({rows_text(inst.file_of('talent_supply'), rows)})")))
    return out


def least_investment(inst: Instance, least: pd.Series) -> tuple[float, pd.Series]:
    """The cheapest investment that builds every industry's least capacity (the LP
    relaxation of the fixed charge, see the module), and the must-host investment per
    region."""
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


def check_funding(inst: Instance, least: pd.Series) -> list[CheckFailure]:
    """The cheapest way to meet demand fits the budgets plus the national fund; each region's
    must-host sites fit its own budget plus the fund."""
    fund = float(inst.options("funding").get("national_fund", 0.0))
    budget = inst.region["funding_budget"].astype(float)
    money = inst.money
    cost, must = least_investment(inst, least)
    out = []
    available = float(budget.sum()) + fund
    fund_text = f"; instance.toml [funding] national_fund {number(fund)}" if fund else ""
    if exceeds(cost, available):
        out.append(CheckFailure("funding", "funding", (
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
            out.append(CheckFailure("funding", "funding", (
                f"{rows_text(inst.file_of('regions'), (int(inst.region.at[r, 'row']),))} "
                f"({r}): its must-host sites alone cost {number(c)} {money} "
                f"({rows_text(inst.file_of('sites'), rows)}), but its budget is "
                f"{number(budget[r])}{' plus the national fund ' + number(fund) if fund else ''}"
            )))
    return out


def check_policy(inst: Instance) -> list[CheckFailure]:
    """Must-host (and kept brownfield) sites within each focus limit; equity floors within
    the number of candidate sites."""
    sites = inst.sites
    keep = inst.settings["sites"]["brownfield"] == "keep"
    forced = sites["must_host"] | (sites["brownfield"] & keep)
    region = inst.region
    default = int(inst.options("policy").get("max_industries", 0))
    limit = region["max_industries"].astype("Float64")
    if default > 0:
        limit = limit.fillna(default)
    out = []
    regions_file = inst.file_of("regions")
    for r in inst.region_ids:
        at = forced[sites.index.get_level_values(1) == r]
        n_forced = int(at.sum())
        lim = limit.get(r)
        if lim is not None and not pd.isna(lim) and n_forced > float(lim):
            listed = [int(x) for x in sites.loc[at[at].index, "row"] if x]
            where = (rows_text(regions_file, (int(region.at[r, "row"]),))
                     if not pd.isna(region.at[r, "max_industries"])
                     else "instance.toml [policy] max_industries")
            out.append(CheckFailure("policy", "policy", (
                f"{where} ({r}): at most {number(float(lim))} industries, but {n_forced} must "
                f"be hosted there (must_host or kept existing capacity: "
                f"{rows_text(inst.file_of('sites'), listed)})")))
        floor = region.at[r, "min_industries"] if "min_industries" in region.columns else None
        candidates = int((sites.index.get_level_values(1) == r).sum())
        if floor is not None and not pd.isna(floor) and float(floor) > candidates:
            out.append(CheckFailure("policy", "policy", (
                f"{rows_text(regions_file, (int(region.at[r, 'row']),))} ({r}): at least "
                f"{number(float(floor))} industries asked (min_industries), but only "
                f"{candidates} may be hosted there (sites.csv allowed, [sites] candidates)")))
    return out


def check_supply(inst: Instance, least: pd.Series) -> list[CheckFailure]:
    """Each input's least need within domestic supply plus the import cap; the
    domestic-share floor within domestic supply."""
    inputs = inst.table("inputs")
    need = inst.table("input_need")
    supply = inst.table("input_supply")
    out = []
    for row, k, cap, share in zip(inputs.index, inputs["id"], inputs["import_cap"],
                                  inputs["domestic_share_min"], strict=True):
        uses = need[need["input"] == k]
        total = float(sum(float(n) * float(least[i])
                          for i, n in zip(uses["industry"], uses["need"], strict=True)
                          if i in least.index))
        if total <= 0:
            continue
        domestic = float(supply.loc[supply["input"] == k, "supply"].sum())
        need_rows = rows_text(inst.file_of("input_need"), [int(x) for x in uses.index])
        supply_rows = rows_text(inst.file_of("input_supply"), rows_where(supply, input=k))
        inputs_row = rows_text(inst.file_of("inputs"), (int(row),))
        if not pd.isna(cap) and exceeds(total, domestic + float(cap)):
            out.append(CheckFailure("supply", "supply", (
                f"input {k}: meeting all demand needs at least {number(total)} input units "
                f"({need_rows}), but domestic supply {number(domestic)} ({supply_rows}) plus "
                f"the import cap {number(float(cap))} ({inputs_row}) give "
                f"{number(domestic + float(cap))}")))
        if not pd.isna(share) and float(share) > 0 and exceeds(float(share) * total, domestic):
            out.append(CheckFailure("supply", "supply", (
                f"{inputs_row} (input {k}): the domestic-share floor {float(share):.0%} of at "
                f"least {number(total)} input units needs {number(float(share) * total)} from "
                f"domestic supply ({need_rows}), but domestic supply is {number(domestic)} "
                f"({supply_rows})")))
    return out


def check_resilience(inst: Instance, least: pd.Series) -> list[CheckFailure]:
    """Critical industries: min_hosts within the candidate sites; max_share and N-1 within
    what the site maxima can hold at the least capacity (see the module)."""
    par = parameters(inst.industry)
    cap_max = inst.sites["capacity_max"]
    file = inst.file_of("industries")
    out = []
    for i, row in par.iterrows():
        where = f"{rows_text(file, (int(inst.industry.at[i, 'row']),))} ({i})"
        maxima = (cap_max.xs(i, level=0).to_numpy(float) if i in cap_max.index.get_level_values(0)
                  else np.zeros(0))
        n, need = len(maxima), float(least[i])
        if not pd.isna(row["min_hosts"]) and int(row["min_hosts"]) > n:
            out.append(CheckFailure("resilience", "resilience", (
                f"{where}: min_hosts asks for at least {int(row['min_hosts'])} host regions, "
                f"but only {n} may host it (sites.csv allowed, [sites] candidates)")))
        share = row["max_share"]
        if not pd.isna(share) and need > 0:
            most = float(np.minimum(maxima, float(share) * need).sum())
            if exceeds(need, most):
                out.append(CheckFailure("resilience", "resilience", (
                    f"{where}: max_share {float(share):.0%} lets each of its {n} candidate "
                    f"sites hold at most {float(share):.0%} of national capacity; with the site "
                    f"maxima that is at most {number(most)} of the least capacity "
                    f"{number(need)} {inst.capacity_unit(i)} it needs")))
        cover = row["n1_cover"]
        if not pd.isna(cover) and float(cover) > 0 and need > 0:
            rest = float(maxima.sum() - maxima.max()) if n else 0.0
            if exceeds(float(cover) * need, rest):
                out.append(CheckFailure("resilience", "resilience", (
                    f"{where}: n1_cover asks the other regions to hold {float(cover):.0%} of "
                    f"at least {number(need)} {inst.capacity_unit(i)} "
                    f"({number(float(cover) * need)}) when the largest site is lost, but "
                    f"the other candidate sites can build at most {number(rest)} (site "
                    "maxima: sites.csv max_capacity, industries.csv capacity_max)")))
    return out


def check_pilot_bases(inst: Instance, least: pd.Series) -> list[CheckFailure]:
    """Research-intensive industries: the candidate sites with a base of the field in reach
    can build the least capacity."""
    options = {**{o.name: o.default for o in FAMILY.options}, **inst.options("pilot_bases")}
    res = research(inst, options)
    if not len(res):
        return []
    sites = inst.sites
    reach = access(inst, options, sites.index[sites.index.get_level_values(0).isin(res.index)])
    served = reach[np.array([isinstance(b, str) for b in reach["base"]], dtype=bool)]
    near = pd.MultiIndex.from_frame(served[["industry", "region"]].drop_duplicates())
    out = []
    for i in res.index:
        need = float(least[i])
        mine = near[near.get_level_values(0) == i]
        most = float(sites["capacity_max"].reindex(mine).sum()) if len(mine) else 0.0
        if need > 0 and exceeds(need, most):
            field, km = res.at[i, "field"], float(res.at[i, "reach_km"])
            rows = rows_where(inst.table("pilot_bases"), field=field)
            out.append(CheckFailure("pilot_bases", "pilot_bases", (
                f"{rows_text(inst.file_of('industries'), (int(inst.industry.at[i, 'row']),))} "
                f"({i}): needs at least {number(need)} {inst.capacity_unit(i)}, but only "
                f"{len(mine)} candidate site{'s' if len(mine) != 1 else ''} lie within "
                f"{km:g} km (or the same group) of a {field} pilot base "
                f"({rows_text(inst.file_of('pilot_bases'), rows, 'field')}), able to build "
                f"{number(most)} together")))
    return out
