r"""Economies of scale: the capex of a plant falls per unit as the plant grows, piecewise
linear in its size, as in the classic industrial investment-planning models, so that "one
large plant or three small ones" is decided by cost rather than assumed.

For an industry $i$ with rows in ``scale_capex.csv``, the segments $k = 1..K_i$ of plant size
end at $s_{ik}$ (``up_to``; the last has no end: $s_{iK} = \overline{Q}_{ir}$) and cost
$c_{ik}$ per unit within them (``unit_capex``, falling with $k$). The capacity of each of its
sites is filled segment by segment:

$$
\begin{aligned}
&\text{scale\_fill\_total:} && q_{ir} = \sum_k \text{scale\_fill}_{irk}, \quad
  0 \le \text{scale\_fill}_{irk} \le \ell_{irk} = s_{ik} - s_{i,k-1} \\
&\text{scale\_segment\_full:} && \text{scale\_fill}_{irk} \ge
  \ell_{irk}\, \text{scale\_full}_{irk} && k < K_i \\
&\text{scale\_segment\_order:} && \text{scale\_fill}_{ir,k+1} \le \ell_{ir,k+1}\,
  \text{scale\_full}_{irk} && k < K_i \\
&C_{ir}(q) = \sum_k c_{ik}\, \text{scale\_fill}_{irk} \\
&\text{term scale\_capex:} && \sum_{(i,r)} \big(C_{ir}(q_{ir}) - C_{ir}(e_{ir})\big)
\end{aligned}
$$

$\text{scale\_full}_{irk} \in \{0,1\}$: segment $k$ is full, so the next may fill (without
it, the cheaper large-plant segments would fill first). $e_{ir}$ is the existing capacity
(brownfield: the plant's size counts, its own capex is sunk). The capex is paid from the
region's budget (``ctx.add_use("funding", r, ...)``). Such an industry's ``unit_capex`` in
``industries.csv`` and ``sites.csv`` must be 0 (it would be counted twice); its fixed setup
cost stays in the core's investment.

Over planning periods the segments of a site only fill further
(``scale_fill_kept``: $\text{scale\_fill}^{p-1}_{irk} \le \text{scale\_fill}^p_{irk}$), and a
period pays what it adds, $C_{ir}(q^p) - C_{ir}(q^{p-1})$ ($q^0 = e$), in the period the
capacity runs (an industry with scale capex and ``build_years`` is refused for now).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import pyomo.environ as pyo

from allocator.core.errors import Problem
from allocator.core.family import Family, Symbol, Term
from allocator.core.schema import ColumnSpec, TableSpec

if TYPE_CHECKING:
    from allocator.engine.build import Context

TABLE = TableSpec(
    "scale_capex",
    "Capex by plant size (scale_economies family): for an industry, one row per segment of "
    "plant size with its capex per unit; the last segment (up_to blank) has no end.",
    (
        ColumnSpec("industry", "id", "industry", references="industries"),
        ColumnSpec("up_to", "float", "plant size where the segment ends (blank: the last, "
                   "no end)", unit="capacity", nullable=True, gt=0),
        ColumnSpec("unit_capex", "float", "capex per unit of capacity within the segment",
                   unit="money/capacity", ge=0),
    ),
    key=("industry", "up_to"),
)


def segments(table: pd.DataFrame) -> dict[str, list[tuple[float, float]]]:
    """Per industry: its segments in order, each (end of the segment, capex per unit); the
    last ends at infinity."""
    out: dict[str, list[tuple[float, float]]] = {}
    for i, rows in table.groupby("industry", sort=False):
        ends = rows["up_to"].astype(float).fillna(float("inf"))
        order = ends.sort_values(kind="stable").index
        out[str(i)] = [(float(ends[k]), float(rows.at[k, "unit_capex"])) for k in order]
    return out


def cost(parts: list[tuple[float, float]], size: float) -> float:
    """$C(q)$: capex of a plant of ``size`` under the segments ``parts``."""
    total, start = 0.0, 0.0
    for end, capex in parts:
        total += capex * max(0.0, min(size, end) - start)
        start = end
    return total


def build(b: pyo.Block, ctx: Context) -> None:
    parts = segments(ctx.instance.table(TABLE.name))
    sites = ctx.sites
    q = ctx.capacity
    chosen = [s for s in sites.index if s[0] in parts]
    cap = sites["capacity_max"].to_dict()
    keys, length = [], {}
    for i, r in chosen:
        start = 0.0
        for k, (end, _) in enumerate(parts[i]):
            top = min(end, cap[i, r])
            if top > start or k == 0:
                keys.append((i, r, k))
                length[i, r, k] = max(top - start, 0.0)
            start = end
    last = {}
    for i, r, k in keys:
        last[i, r] = max(last.get((i, r), -1), k)
    inner = [(i, r, k) for i, r, k in keys if k < last[i, r]]
    b.scale_fill = pyo.Var(keys, within=pyo.NonNegativeReals,
                           bounds=lambda _, i, r, k: (0.0, length[i, r, k]))
    b.scale_full = pyo.Var(inner, within=pyo.Binary)
    b.scale_fill_total = pyo.Constraint(chosen, rule=lambda b, i, r: q[i, r] == pyo.quicksum(
        b.scale_fill[i, r, k] for k in range(last[i, r] + 1)))
    b.scale_segment_full = pyo.Constraint(inner, rule=lambda b, i, r, k: b.scale_fill[i, r, k]
                                          >= length[i, r, k] * b.scale_full[i, r, k])
    b.scale_segment_order = pyo.Constraint(
        inner, rule=lambda b, i, r, k: b.scale_fill[i, r, k + 1]
        <= length[i, r, k + 1] * b.scale_full[i, r, k])
    before = ctx.previous
    b.scale_fill_kept = pyo.Constraint(
        [key for key in keys if before is not None and key in before.scale_fill],
        rule=lambda b, i, r, k: before.scale_fill[i, r, k] <= b.scale_fill[i, r, k])
    existing = sites["existing"].to_dict()

    def capex(i: str, r: str) -> Any:
        now = pyo.quicksum(parts[i][k][1] * b.scale_fill[i, r, k] for k in range(last[i, r] + 1))
        if before is not None and (i, r, 0) in before.scale_fill:
            return now - pyo.quicksum(parts[i][k][1] * before.scale_fill[i, r, k]
                                      for k in range(last[i, r] + 1))
        return now - cost(parts[i], float(existing[i, r]))

    spent = {s: capex(*s) for s in chosen}
    by_region: dict[str, list[Any]] = {}
    for (_, r), expr in spent.items():
        by_region.setdefault(r, []).append(expr)
    for r, exprs in by_region.items():
        ctx.add_use("funding", r, pyo.quicksum(exprs))
    ctx.add_term("scale_capex", pyo.quicksum(spent.values()))


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    """Each site's plant size, the segments it fills and its capex (``scale_capex.csv`` of
    the results)."""
    parts = segments(ctx.instance.table(TABLE.name))
    rows = []
    for i, r in [s for s in ctx.sites.index if s[0] in parts]:
        size = float(pyo.value(ctx.capacity[i, r]) or 0.0)
        if size <= 1e-9:
            continue
        capex = cost(parts[i], size)
        rows.append({"industry": i, "region": r, "capacity": size, "capex": capex,
                     "capex_per_unit": capex / size})
    return {"scale_capex": pd.DataFrame(rows, columns=["industry", "region", "capacity",
                                                       "capex", "capex_per_unit"])}


def input_rules(tables: dict[str, pd.DataFrame], settings: dict[str, Any]) -> list[Problem]:
    """An industry with scale capex has no linear capex of its own (it would be counted
    twice), one last segment without an end, capex per unit not rising with size, and no
    build time with periods (not supported yet)."""
    table = tables.get(TABLE.name)
    ind = tables.get("industries")
    if table is None or ind is None:
        return []
    files = settings.get("tables", {})
    file = files.get(TABLE.name, TABLE.file)
    problems = []
    parts = set(table["industry"].dropna())
    for row in ind.index[ind["id"].isin(parts).to_numpy()]:
        if float(ind.at[row, "unit_capex"]) != 0:
            problems.append(Problem(files.get("industries", "industries.csv"),
                                    f"{ind.at[row, 'id']} has its capex by plant size in "
                                    f"{file}: set unit_capex to 0 here (it would be counted "
                                    "twice)", row=int(row), column="unit_capex",
                                    value=float(ind.at[row, "unit_capex"])))
        lead = ind.at[row, "build_years"] if "build_years" in ind.columns else None
        if "periods" in tables and pd.notna(lead) and float(lead) > 0:
            problems.append(Problem(files.get("industries", "industries.csv"),
                                    f"{ind.at[row, 'id']} has capex by plant size ({file}) "
                                    "and a build time: not supported together yet",
                                    row=int(row), column="build_years", value=lead))
    sites = tables.get("sites")
    if sites is not None:
        given = sites["unit_capex"].notna() & sites["industry"].isin(parts)
        for row in sites.index[given.to_numpy()]:
            if float(sites.at[row, "unit_capex"]) != 0:
                problems.append(Problem(files.get("sites", "sites.csv"), "this industry has "
                                        f"its capex by plant size in {file}: leave unit_capex "
                                        "blank or 0", row=int(row), column="unit_capex",
                                        value=float(sites.at[row, "unit_capex"])))
    for i, rows in table.groupby("industry", sort=False):
        open_ended = rows.index[rows["up_to"].isna().to_numpy()]
        if len(open_ended) != 1:
            problems.append(Problem(file, f"{i}: exactly one segment has up_to blank (the "
                                    f"last, without an end); found {len(open_ended)}",
                                    row=int(rows.index[-1]), column="up_to"))
            continue
        ordered = rows.assign(end=rows["up_to"].astype(float).fillna(float("inf")))
        ordered = ordered.sort_values("end", kind="stable")
        capex = ordered["unit_capex"].astype(float)
        for (_, prev), (row, now) in zip(capex.items(), list(capex.items())[1:],
                                         strict=False):
            if now > prev:
                problems.append(Problem(file, f"{i}: capex per unit rises with plant size "
                                        f"({prev:g} before, {now:g} here); economies of scale "
                                        "fall (give a linear unit_capex otherwise)",
                                        row=int(row), column="unit_capex", value=now))
    return problems


FAMILY = Family(
    name="scale_economies",
    summary="Capex per unit falls with plant size, piecewise linear (scale_capex.csv); "
            "paid from the region's budget.",
    math=__doc__ or "",
    build=build,
    requires=(TABLE.name,),
    tables=(TABLE,),
    input_rules=input_rules,
    report_rows=report,
    terms=(Term("scale_capex", "capex of new capacity by plant size (economies of scale)",
                "money"),),
    symbols=(
        Symbol("scale_capex.csv:up_to", "parameter", "s_{ik}", "(industry, segment)",
               "capacity", "plant size where segment k ends"),
        Symbol("scale_capex.csv:unit_capex", "parameter", "c_{ik}", "(industry, segment)",
               "money/capacity", "capex per unit within segment k"),
        Symbol("scale_fill", "variable", r"\text{scale\_fill}_{irk} \in [0, \ell_{irk}]",
               "(site, segment)", "capacity", "capacity of the plant within segment k"),
        Symbol("scale_full", "variable", r"\text{scale\_full}_{irk} \in \{0,1\}",
               "(site, segment but the last)", "", "segment k is full"),
        Symbol("scale_fill_total", "constraint", "", "sites of industries with scale capex",
               "capacity", "the segments add up to the capacity",
               r"q_{ir} = \sum_k \text{scale\_fill}_{irk}"),
        Symbol("scale_segment_full", "constraint", "", "(site, segment but the last)",
               "capacity", "a segment marked full is full",
               r"\text{scale\_fill}_{irk} \ge \ell_{irk} \text{scale\_full}_{irk}"),
        Symbol("scale_segment_order", "constraint", "", "(site, segment but the last)",
               "capacity", "the next segment fills only after this one",
               r"\text{scale\_fill}_{ir,k+1} \le \ell_{ir,k+1} \text{scale\_full}_{irk}"),
        Symbol("scale_fill_kept", "constraint", "", "(site, segment), periods after the first",
               "capacity", "over periods: a segment only fills further",
               r"\text{scale\_fill}^{p-1}_{irk} \le \text{scale\_fill}^p_{irk}"),
    ),
)
