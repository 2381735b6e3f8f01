r"""Supply of key inputs (lithium, lithography tools, ...): domestic supply plus imports
cover what hosted capacity needs; imports stay within the national cap; an optional floor on
the domestic share of the national need (the localization goal).

A *tradable* input (``inputs.csv tradable``, default true) moves freely inside the country:
one national pool. A non-tradable one (power, local processing) is used where it is supplied,
and imports can be brought to any region.

$$
\begin{aligned}
&\text{supply\_covers\_need\_national:} && \sum_{(i,r)\in S} \nu_{ik} q_{ir}
  \le \sum_r U_{rk} + \text{imports}_k && \forall k \in K^{trade} \\
&\text{supply\_covers\_need\_regional:} && \sum_{i:(i,r)\in S} \nu_{ik} q_{ir}
  \le U_{rk} + \text{imports\_regional}_{kr} && \forall k \notin K^{trade}, r \\
&\text{supply\_imports\_within\_cap:} && \sum_r \text{imports\_regional}_{kr} \le C_k
  && \forall k \notin K^{trade} \\
&\text{supply\_domestic\_share\_met:} && \text{imports}_k \le (1 - s_k)
  \sum_{(i,r)\in S} \nu_{ik} q_{ir} && \forall k,\ s_k > 0 \\
&\text{term input\_cost:} && \sum_{k:\ \pi_k > 0} \pi_k \sum_{(i,r)\in S} \nu_{ik} q_{ir}
\end{aligned}
$$

with $0 \le \text{imports}_k \le C_k$ as a bound. $\nu_{ik}$ is ``input_need.csv need``,
$U_{rk}$ ``input_supply.csv supply`` (0 where absent), $C_k$ ``inputs.csv import_cap`` (no
bound where blank), $s_k$ ``inputs.csv domestic_share_min``. For non-tradable inputs the
domestic-share row uses $\sum_r \text{imports\_regional}_{kr}$. $\pi_k$ is
``inputs.csv price`` (blank: the input is not costed, and the term is empty).

A second-stage family (``stage = 2``): $q_{ir}$ above is ``ctx.activity``, the capacity in a
deterministic run and a scenario's production with supply-shock scenarios, whose import caps
and prices are the scenario's (``shocks.csv`` kinds import_cap, input_price).

Pre-solve checks (before any solve; a failure proves that no plan exists): with $L_i$ the
least national capacity of industry $i$ in any plan, each input's least need
$\underline{\nu}_k = \sum_i \nu_{ik} L_i$ fits domestic supply plus the import cap,
$\underline{\nu}_k \le \sum_r U_{rk} + C_k$ (when imports are capped), and the
domestic-share floor fits domestic supply, $s_k \underline{\nu}_k \le \sum_r U_{rk}$
(imports carry at most $1 - s_k$ of the need).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, LimitSource, Symbol, Term, rows_where
from allocator.core.presolve import CheckFailure, exceeds, number, rows_text
from allocator.core.schema import ColumnSpec
from allocator.core.tables import HeuristicLimits, tightest

if TYPE_CHECKING:
    from allocator.engine.build import Context
    from allocator.input.data import Instance


def uses(ctx: Context) -> pd.DataFrame:
    """Input use coefficients: industry, region, input, need (per unit of capacity)."""
    need = ctx.instance.table("input_need")
    sites = ctx.sites.reset_index()[["industry", "region"]]
    df = sites.merge(need, on="industry")
    return df.loc[df["need"] > 0, ["industry", "region", "input", "need"]]


def _inputs(ctx: Context) -> pd.DataFrame:
    return _inputs_of(ctx.instance)


def _inputs_of(inst: Instance) -> pd.DataFrame:
    df = inst.table("inputs").set_index("id")
    df["tradable"] = df["tradable"].astype("boolean").fillna(True).astype(bool)
    df["domestic_share_min"] = df["domestic_share_min"].astype(float).fillna(0.0)
    return df


def unit_of(inputs: pd.DataFrame, k: str) -> str:
    """The unit input ``k`` is counted in: its inputs.csv ``unit``, else "input units"."""
    unit = inputs.at[k, "unit"] if "unit" in inputs.columns else None
    return unit if isinstance(unit, str) and unit.strip() else "input units"


def site_bounds(inst: Instance, options: dict[str, Any], sites: pd.DataFrame) -> pd.DataFrame:
    """Most capacity a site can reach with all the supply it can draw on plus every import
    allowed: (sum_r U_rk + C_k) / nu_ik for a tradable input, (U_rk + C_k) / nu_ik for a
    non-tradable one; no bound where the import cap is blank (see :mod:`allocator.engine.prune`)."""
    inputs = _inputs_of(inst)
    need = inst.table("input_need")
    df = sites.reset_index()[["industry", "region"]].merge(need, on="industry")
    df = df[df["need"] > 0]
    cap = df["input"].map(inputs["import_cap"].astype(float)).to_numpy(float)
    trade = df["input"].map(inputs["tradable"]).to_numpy(bool)
    sup = inst.table("input_supply")
    national = sup.groupby("input")["supply"].sum()
    local = pd.Series(sup["supply"].to_numpy(float),
                      index=pd.MultiIndex.from_arrays([sup["region"], sup["input"]]))
    here = local.reindex(pd.MultiIndex.from_arrays([df["region"], df["input"]]))
    domestic = np.where(trade, df["input"].map(national).fillna(0.0).to_numpy(float),
                        here.fillna(0.0).to_numpy(float))
    df = df.assign(bound=(domestic + cap) / df["need"].to_numpy(float), domestic=domestic,
                   cap=cap)
    limit = sites["capacity_max"].reindex(
        pd.MultiIndex.from_arrays([df["industry"], df["region"]])).to_numpy()
    binds = ~np.isnan(cap) & (df["bound"].to_numpy() < limit)
    df = df[binds]
    df["reason"] = [
        f"key input {k}: {'national' if t else 'regional'} supply {d:g} plus import cap "
        f"{c:g}, {n:g} per unit of capacity"
        for k, t, d, c, n in zip(df["input"], trade[binds], df["domestic"], df["cap"],
                                 df["need"], strict=True)]
    return tightest(df)


def build(b: pyo.Block, ctx: Context) -> None:
    df = uses(ctx)
    inputs = _inputs(ctx)
    sup = ctx.instance.table("input_supply")
    domestic = sup.groupby(["region", "input"])["supply"].sum().to_dict()
    national = sup.groupby("input")["supply"].sum().to_dict()
    q = ctx.activity  # capacity; a scenario's production with supply-shock scenarios
    by_input: dict[str, list[tuple[float, tuple[str, str]]]] = {}
    by_region: dict[tuple[str, str], list[tuple[float, tuple[str, str]]]] = {}
    for i, r, k, c in zip(df["industry"], df["region"], df["input"], df["need"], strict=True):
        by_input.setdefault(k, []).append((float(c), (i, r)))
        by_region.setdefault((k, r), []).append((float(c), (i, r)))
    needed = [k for k in inputs.index if k in by_input]
    trade = [k for k in needed if inputs.at[k, "tradable"]]
    local = [k for k in needed if not inputs.at[k, "tradable"]]
    cap = inputs["import_cap"].astype(float)

    def bound(k: str) -> tuple[float, float | None]:
        return (0.0, None if pd.isna(cap[k]) else float(cap[k]))

    b.imports = pyo.Var(trade, within=pyo.NonNegativeReals, bounds=lambda _, k: bound(k))
    local_keys = [(k, r) for (k, r) in by_region if k in set(local)]
    b.imports_regional = pyo.Var(local_keys, within=pyo.NonNegativeReals)

    def need(k: str) -> Any:
        return pyo.quicksum(c * q[s] for c, s in by_input[k])

    b.supply_covers_need_national = pyo.Constraint(
        trade, rule=lambda _, k: need(k) <= national.get(k, 0.0) + b.imports[k])
    b.supply_covers_need_regional = pyo.Constraint(
        local_keys, rule=lambda _, k, r: pyo.quicksum(c * q[s] for c, s in by_region[k, r])
        <= domestic.get((r, k), 0.0) + b.imports_regional[k, r])
    capped = [k for k in local if not pd.isna(cap[k])]
    b.supply_imports_within_cap = pyo.Constraint(
        capped, rule=lambda _, k: pyo.quicksum(
            b.imports_regional[k, r] for (kk, r) in local_keys if kk == k) <= float(cap[k]))

    def imported(k: str) -> Any:
        if k in b.imports:
            return b.imports[k]
        return pyo.quicksum(b.imports_regional[k, r] for (kk, r) in local_keys if kk == k)

    floors = [k for k in needed if inputs.at[k, "domestic_share_min"] > 0]
    b.supply_domestic_share_met = pyo.Constraint(
        floors, rule=lambda _, k: imported(k)
        <= (1 - float(inputs.at[k, "domestic_share_min"])) * need(k))
    price = inputs["price"].astype(float)
    priced = [k for k in needed if not pd.isna(price[k]) and price[k] != 0]
    if priced:
        ctx.add_term("input_cost", pyo.quicksum(float(price[k]) * need(k) for k in priced))


def imported(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    """imports.csv: every import variable (tradable inputs nationally, the others by the
    region they are brought to), from which allocator verify rechecks the supply rows."""
    rows = [{"input": k, "region": "(national)", "amount": pyo.value(v) or 0.0}
            for k, v in b.imports.items()]
    rows += [{"input": k, "region": r, "amount": pyo.value(v) or 0.0}
             for (k, r), v in b.imports_regional.items()]
    return {"imports": pd.DataFrame(rows, columns=["input", "region", "amount"])}


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    df = uses(ctx)
    inputs = _inputs(ctx)
    df["used"] = [c * (pyo.value(ctx.activity[i, r]) or 0.0)
                  for i, r, c in zip(df["industry"], df["region"], df["need"], strict=True)]
    sup = ctx.instance.table("input_supply")
    domestic = sup.groupby(["region", "input"])["supply"].sum().to_dict()
    rows = []
    for (r, k), used in df.groupby(["region", "input"], sort=False)["used"].sum().items():
        trade = bool(inputs.at[k, "tradable"])
        if trade:  # no regional limit: the national supply and imports cover every region
            rows.append({"family": "supply", "region": r, "resource": f"input:{k}",
                         "used": used, "available": float("nan"), "unit": unit_of(inputs, k),
                         "constraint": "", "sense": "",
                         "note": f"tradable: no regional limit, drawn from the national "
                                 f"supply and imports (row (national) input:{k}); supply "
                                 f"in this region {domestic.get((r, k), 0.0):g}"})
            continue
        imp = pyo.value(b.imports_regional[k, r])
        rows.append({"family": "supply", "region": r, "resource": f"input:{k}", "used": used,
                     "available": domestic.get((r, k), 0.0) + (imp or 0.0),
                     "unit": unit_of(inputs, k),
                     "constraint": b.supply_covers_need_regional[k, r].name,
                     "note": f"supply {domestic.get((r, k), 0.0):g} plus {imp or 0.0:g} "
                             "imported to the region"})
    for k in b.imports:
        used = float(df.loc[df["input"] == k, "used"].sum())
        rows.append({"family": "supply", "region": "(national)", "resource": f"input:{k}",
                     "used": used,
                     "available": float(sup.loc[sup["input"] == k, "supply"].sum())
                     + (pyo.value(b.imports[k]) or 0.0),
                     "unit": unit_of(inputs, k),
                     "constraint": b.supply_covers_need_national[k].name})
    for k in inputs.index:
        imp = [pyo.value(v) or 0.0 for key, v in b.imports_regional.items() if key[0] == k]
        if k in b.imports:
            imp = [pyo.value(b.imports[k]) or 0.0]
        if imp:
            cap = inputs.at[k, "import_cap"]
            # the cap is a row for non-tradable inputs, the bound of imports[k] otherwise
            limit = "" if pd.isna(cap) else (
                b.imports[k].name if k in b.imports else b.supply_imports_within_cap[k].name)
            rows.append({"family": "supply", "region": "(national)",
                         "resource": f"imports:{k}", "used": sum(imp),
                         "available": float("inf") if pd.isna(cap) else float(cap),
                         "unit": unit_of(inputs, k), "constraint": limit})
    return {"resources": pd.DataFrame(rows)}


def limit_source(b: pyo.Block, ctx: Context, constraint: str, index: Any) -> LimitSource:
    """Supply rows are input_supply.csv rows; the import cap and the domestic-share floor are
    the input's inputs.csv row."""
    inst = ctx.instance
    inputs = _inputs(ctx)
    sup = inst.table("input_supply")
    k = index[0] if isinstance(index, tuple) else index
    name = f"{k} ({inputs.at[k, 'name']})" if "name" in inputs.columns else str(k)
    inputs_row = rows_where(inst.table("inputs"), id=k)
    if constraint == "supply_covers_need_national":
        rows = rows_where(sup, input=k)
        cap = inputs.at[k, "import_cap"]
        extra = "" if pd.isna(cap) else f", imports up to {float(cap):g} on top"
        return LimitSource(inst.file_of("input_supply"), rows, "supply",
                           f"{name}, national supply{extra}",
                           float(sup.loc[sup["input"] == k, "supply"].sum()), unit_of(inputs, k),
                           "" if rows else "no supply row: domestic supply 0")
    if constraint == "supply_covers_need_regional":
        r = index[1]
        rows = rows_where(sup, region=r, input=k)
        return LimitSource(inst.file_of("input_supply"), rows, "supply", f"{name} in {r}",
                           float(sup.loc[rows_where(sup, region=r, input=k), "supply"].sum())
                           if rows else 0.0, unit_of(inputs, k),
                           "" if rows else "no row for this region: supply 0")
    if constraint in ("supply_imports_within_cap", "imports"):  # a row, or the bound of imports[k]
        return LimitSource(inst.file_of("inputs"), inputs_row, "import_cap",
                           f"{name}, imports", float(inputs.at[k, "import_cap"]),
                           unit_of(inputs, k))
    share = float(inputs.at[k, "domestic_share_min"])
    return LimitSource(inst.file_of("inputs"), inputs_row, "domestic_share_min",
                       f"{name}, imports beyond what the {share:.0%} domestic-share floor "
                       "allows", None, unit_of(inputs, k))


def presolve_checks(inst: Instance, options: dict[str, Any], least: pd.Series
                    ) -> list[CheckFailure]:
    """Each input's least need within domestic supply plus the import cap; the
    domestic-share floor within domestic supply."""
    inputs = inst.table("inputs")
    need = inst.table("input_need")
    supply = inst.table("input_supply")
    out = []
    for row, k, cap, share in zip(inputs.index, inputs["id"], inputs["import_cap"],
                                  inputs["domestic_share_min"], strict=True):
        users = need[need["input"] == k]
        total = float(sum(float(n) * float(least[i])
                          for i, n in zip(users["industry"], users["need"], strict=True)
                          if i in least.index))
        if total <= 0:
            continue
        domestic = float(supply.loc[supply["input"] == k, "supply"].sum())
        need_rows = rows_text(inst.file_of("input_need"), [int(x) for x in users.index])
        supply_rows = rows_text(inst.file_of("input_supply"), rows_where(supply, input=k))
        inputs_row = rows_text(inst.file_of("inputs"), (int(row),))
        if not pd.isna(cap) and exceeds(total, domestic + float(cap)):
            out.append(CheckFailure("supply", "import_cap", (
                f"input {k}: meeting all demand needs at least {number(total)} input units "
                f"({need_rows}), but domestic supply {number(domestic)} ({supply_rows}) plus "
                f"the import cap {number(float(cap))} ({inputs_row}) give "
                f"{number(domestic + float(cap))}")))
        if not pd.isna(share) and float(share) > 0 and exceeds(float(share) * total, domestic):
            out.append(CheckFailure("supply", "domestic_share", (
                f"{inputs_row} (input {k}): the domestic-share floor {float(share):.0%} of at "
                f"least {number(total)} input units needs {number(float(share) * total)} from "
                f"domestic supply ({need_rows}), but domestic supply is {number(domestic)} "
                f"({supply_rows})")))
    return out


def heuristic_limits(inst: Instance, options: dict[str, Any], sites: pd.DataFrame
                     ) -> HeuristicLimits:
    """What the construction heuristic may use of each key input: a tradable input from one
    national pool (domestic supply plus the import cap, and at most domestic supply over the
    domestic share $s_k$); a non-tradable one from its region's supply, then from imports
    up to the national cap."""
    inputs = inst.table("inputs").set_index("id")
    sup = inst.table("input_supply")
    need = inst.table("input_need")
    pool: dict[Any, float] = {}
    regional: dict[tuple[Any, str], float] = {}
    imports: dict[Any, float] = {}
    for k, row in inputs.iterrows():
        tradable = row["tradable"]
        tradable = True if pd.isna(tradable) else bool(tradable)
        cap = row["import_cap"]
        share = 0.0 if pd.isna(row["domestic_share_min"]) else float(row["domestic_share_min"])
        domestic = sup[sup["input"] == k]
        if tradable:
            total = float(domestic["supply"].sum())
            avail = total + (np.inf if pd.isna(cap) else float(cap))
            if share > 0:
                avail = min(avail, total / share)
            pool[k] = avail
        else:
            for r, v in zip(domestic["region"], domestic["supply"], strict=True):
                regional[k, r] = regional.get((k, r), 0.0) + float(v)
            imports[k] = np.inf if pd.isna(cap) else float(cap)
    use: dict[str, list[tuple[Any, str, float]]] = {}
    for i, k, n in zip(need["industry"], need["input"], need["need"], strict=True):
        if n > 0 and k in inputs.index:
            tradable = inputs.at[k, "tradable"]
            tradable = True if pd.isna(tradable) else bool(tradable)
            use.setdefault(i, []).append((k, "national" if tradable else "regional", float(n)))
    return HeuristicLimits(pool=pool, regional_pool=regional, imports=imports, pool_use=use)


FAMILY = Family(
    name="supply",
    summary="Domestic supply plus imports cover key-input needs; imports within the national "
            "cap; optional domestic-share floor.",
    math=__doc__ or "",
    build=build,
    limits=("supply_covers_need_national", "supply_covers_need_regional",
            "supply_imports_within_cap", "supply_domestic_share_met"),
    report_rows=lambda b, ctx: {**report(b, ctx), **imported(b, ctx)},
    limit_source=limit_source,
    site_bounds=site_bounds,
    presolve_checks=presolve_checks,
    heuristic_limits=heuristic_limits,
    requires=("inputs", "input_need"),
    stage=2,
    terms=(Term("input_cost", "price of the key inputs used (inputs.csv price; 0 where "
                "blank)", "money"),),
    columns={"inputs": (
        ColumnSpec("unit", "str", "the unit the input is counted in (supply, need, import "
                   "cap), for the results and messages (blank: \"input units\")",
                   required=False, nullable=True),
        ColumnSpec("price", "float", "supply: price of one unit of the input, paid on every "
                   "unit used (term input_cost; blank: not costed)", unit="money/input unit",
                   required=False, nullable=True, ge=0),
    )},
    symbols=(
        Symbol("inputs.csv:price", "parameter", r"\pi_k", "inputs", "money/input unit",
               "price of the input (blank: 0)"),
        Symbol("input_need.csv:need", "parameter", r"\nu_{ik}", "(industry, input)",
               "input units/capacity", "input needed per unit of capacity"),
        Symbol("input_supply.csv:supply", "parameter", "U_{rk}", "(region, input)",
               "input units", "domestic supply"),
        Symbol("inputs.csv:import_cap", "parameter", "C_k", "inputs", "input units",
               "national import cap"),
        Symbol("inputs.csv:domestic_share_min", "parameter", "s_k", "inputs", "",
               "least domestic share of the national need"),
        Symbol("imports", "variable", r"0 \le \text{imports}_k \le C_k", "tradable inputs",
               "input units", "imports of a tradable input"),
        Symbol("imports_regional", "variable", r"\text{imports\_regional}_{kr} \ge 0",
               "(non-tradable input, region)", "input units",
               "imports of a non-tradable input brought to region r"),
        Symbol("supply_covers_need_national", "constraint", "", "tradable inputs",
               "input units", "national need within domestic supply plus imports",
               r"\sum \nu_{ik} q_{ir} \le \sum_r U_{rk} + \text{imports}_k"),
        Symbol("supply_covers_need_regional", "constraint", "", "(non-tradable input, region)",
               "input units", "regional need within regional supply plus imports",
               r"\sum_i \nu_{ik} q_{ir} \le U_{rk} + \text{imports\_regional}_{kr}"),
        Symbol("supply_imports_within_cap", "constraint", "", "non-tradable inputs",
               "input units", "imports within the national cap",
               r"\sum_r \text{imports\_regional}_{kr} \le C_k"),
        Symbol("supply_domestic_share_met", "constraint", "", "inputs with s_k > 0",
               "input units", "domestic share of the national need at least s_k",
               r"\text{imports}_k \le (1-s_k) \sum \nu_{ik} q_{ir}"),
    ),
)
