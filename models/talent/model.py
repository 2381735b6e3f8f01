r"""Talent: in every region and talent class, the talent that all hosted capacity needs is
within the region's supply.

$$
\text{talent\_within\_supply:}\quad
\sum_{i:(i,r)\in S} n_{it}\, \varphi_{ir}\, q_{ir} \ +\ \sum_{f} u^{f}_{rt} \ \le\ P_{rt}
\qquad \forall (r, t) \text{ with some } n_{it}\varphi_{ir} > 0 \text{ or some } u^f_{rt}
$$

$n_{it}$ is ``talent_need.csv need`` (people per unit of capacity), $\varphi_{ir}$ the site's
``talent_need_factor`` (default 1), $P_{rt}$ ``talent_supply.csv supply`` (0 where the file
has no row for the region and class). $u^f_{rt}$ is talent that another family $f$ uses in
the region (``ctx.add_use("talent", (region, class), expr)``: the researchers of an open
pilot base); none in the default formulation. The rows are built in the ``close`` phase,
after every family has declared its uses.

Pre-solve check (before any solve; a failure proves that no plan exists): with $L_i$ the
least national capacity of industry $i$ in any plan, each talent class $t$ holds nationally
even if every industry ran at its least talent-hungry site,
$\sum_i L_i\, n_{it} \min_r \varphi_{ir} \le \sum_r P_{rt}$.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, LimitSource, Symbol, rows_where
from allocator.core.presolve import CheckFailure, exceeds, number, rows_text
from allocator.core.tables import HeuristicLimits, tightest

if TYPE_CHECKING:
    from allocator.engine.build import Context
    from allocator.input.data import Instance


def uses(ctx: Context) -> pd.DataFrame:
    """Talent use coefficients: industry, region, talent_class, per_unit (n_it * phi_ir)."""
    need = ctx.instance.table("talent_need")
    sites = ctx.sites.reset_index()[["industry", "region", "talent_factor"]]
    df = sites.merge(need, on="industry")
    df["per_unit"] = df["need"] * df["talent_factor"]
    return df.loc[df["per_unit"] > 0, ["industry", "region", "talent_class", "per_unit"]]


def supply(ctx: Context) -> dict[tuple[str, str], float]:
    s = ctx.instance.table("talent_supply")
    return dict(zip(zip(s["region"], s["talent_class"], strict=True), s["supply"], strict=True))


def site_bounds(inst: Instance, options: dict[str, Any], sites: pd.DataFrame) -> pd.DataFrame:
    """Most capacity a site can reach with all of its region's talent,
    q_ir <= min_t P_rt / (n_it phi_ir) (see :mod:`allocator.engine.prune`)."""
    need = inst.table("talent_need")
    df = sites.reset_index()[["industry", "region", "talent_factor"]].merge(need, on="industry")
    df["per_unit"] = df["need"].astype(float) * df["talent_factor"]
    df = df[df["per_unit"] > 0]
    s = inst.table("talent_supply")
    available = pd.Series(s["supply"].to_numpy(float),
                          index=pd.MultiIndex.from_arrays([s["region"], s["talent_class"]]))
    supply_ = available.reindex(pd.MultiIndex.from_arrays([df["region"], df["talent_class"]]))
    df["supply"] = supply_.fillna(0.0).to_numpy()
    df["bound"] = df["supply"] / df["per_unit"]
    df = df[df["bound"].to_numpy() < sites["capacity_max"].reindex(
        pd.MultiIndex.from_arrays([df["industry"], df["region"]])).to_numpy()]  # binds only
    df["reason"] = [f"talent class {t}: supply {p:g} in the region, {n:g} per unit of capacity"
                    for t, p, n in zip(df["talent_class"], df["supply"], df["per_unit"],
                                       strict=True)]
    return tightest(df)


def build(b: pyo.Block, ctx: Context) -> None:
    """Nothing in the build phase: the rows wait for the uses of other families (close)."""


def close(b: pyo.Block, ctx: Context) -> None:
    df = uses(ctx)
    available = supply(ctx)
    q = ctx.capacity
    terms: dict[tuple[str, str], list[tuple[float, tuple[str, str]]]] = {}
    for i, r, t, c in zip(df["industry"], df["region"], df["talent_class"], df["per_unit"],
                          strict=True):
        terms.setdefault((r, t), []).append((float(c), (i, r)))

    others = ctx.uses("talent")  # (region, class) -> what other families use

    def within(_: pyo.Block, r: str, t: str) -> Any:
        own = pyo.quicksum(c * q[s] for c, s in terms.get((r, t), ()))
        if (r, t) in others:
            own = own + others[r, t]
        return own <= available.get((r, t), 0.0)

    b.talent_within_supply = pyo.Constraint(
        list(terms) + [k for k in others if k not in terms], rule=within)


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    df = uses(ctx)
    df["used"] = [c * (pyo.value(ctx.capacity[i, r]) or 0.0)
                  for i, r, c in zip(df["industry"], df["region"], df["per_unit"], strict=True)]
    used = df.groupby(["region", "talent_class"], sort=False)["used"].sum()
    others = {k: float(pyo.value(e)) for k, e in ctx.uses("talent").items()}
    if others:  # talent other families use (pilot bases), in the same rows
        keys = pd.MultiIndex.from_tuples(list(others), names=["region", "talent_class"])
        used = used.add(pd.Series(list(others.values()), index=keys), fill_value=0.0)
        used = used.reindex([k for k in b.talent_within_supply if k in used.index])
    available = supply(ctx)
    rows = pd.DataFrame({
        "family": "talent",
        "region": [r for r, _ in used.index],
        "resource": [f"talent:{t}" for _, t in used.index],
        "used": used.to_numpy(),
        "available": [available.get(k, 0.0) for k in used.index],
        "unit": ctx.instance.talent_unit,
        "constraint": [b.talent_within_supply[r, t].name for r, t in used.index],
    })
    return {"resources": rows}


def limit_source(b: pyo.Block, ctx: Context, constraint: str, index: Any) -> LimitSource:
    """talent_within_supply[r, t] is the row of talent_supply.csv for (r, t) (or none: 0)."""
    r, t = index
    table = ctx.instance.table("talent_supply")
    rows = rows_where(table, region=r, talent_class=t)
    return LimitSource(ctx.instance.file_of("talent_supply"), rows, "supply", f"{r}, {t}",
                       supply(ctx).get((r, t), 0.0), ctx.instance.talent_unit,
                       "" if rows else "no row for this region and class: supply 0")


def presolve_checks(inst: Instance, options: dict[str, Any], least: pd.Series
                    ) -> list[CheckFailure]:
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
            out.append(CheckFailure("talent", "national_supply", (
                f"talent class {t}: meeting all demand needs at least {number(total)} "
                f"{inst.talent_unit} "
                f"({rows_text(inst.file_of('talent_need'), used_rows)} times each industry's "
                f"least capacity), but the whole country has {number(available)} "
                f"({rows_text(inst.file_of('talent_supply'), rows)})")))
    return out


def heuristic_limits(inst: Instance, options: dict[str, Any], sites: pd.DataFrame
                     ) -> HeuristicLimits:
    """Talent per region and class, and what each unit of capacity at a site uses of it
    ($n_{it}\varphi_{ir}$), for the construction heuristic."""
    sup = inst.table("talent_supply")
    regional = {(r, t): float(v) for r, t, v in zip(
        sup["region"], sup["talent_class"], sup["supply"], strict=True)}
    need = inst.table("talent_need")
    by_ind: dict[str, list[tuple[str, float]]] = {}
    for i, t, n in zip(need["industry"], need["talent_class"], need["need"], strict=True):
        if n > 0:
            by_ind.setdefault(i, []).append((t, float(n)))
    use: dict[tuple[str, str], list[tuple[Any, float]]] = {}
    for (i, r), phi in sites["talent_factor"].items():
        use[i, r] = [(t, n * float(phi)) for t, n in by_ind.get(i, []) if n * phi > 0]
    return HeuristicLimits(regional=regional, regional_use=use)


FAMILY = Family(
    name="talent",
    summary="Talent needed by hosted capacity stays within each region's supply, per class.",
    math=__doc__ or "",
    build=build,
    close=close,
    collects=("talent",),
    limits=("talent_within_supply",),
    limit_source=limit_source,
    report_rows=report,
    site_bounds=site_bounds,
    presolve_checks=presolve_checks,
    heuristic_limits=heuristic_limits,
    requires=("talent_supply", "talent_need"),
    symbols=(
        Symbol("talent_need.csv:need", "parameter", "n_{it}", "(industry, talent_class)",
               "people/capacity", "talent needed per unit of capacity"),
        Symbol("sites.csv:talent_need_factor", "parameter", r"\varphi_{ir}", "sites", "",
               "site multiplier of the talent need"),
        Symbol("talent_supply.csv:supply", "parameter", "P_{rt}", "(region, talent_class)",
               "people", "talent available"),
        Symbol("talent_within_supply", "constraint", "", "(region, talent_class)", "people",
               "talent used by hosted capacity (and by other families) is within supply",
               r"\sum_i n_{it}\varphi_{ir} q_{ir} + \sum_f u^f_{rt} \le P_{rt}"),
    ),
)
