r"""Policy: must-host pairs, a focus limit (at most $N_r$ industries per region) and an
equity floor (at least $M_r$ industries where asked).

$$
\begin{aligned}
&\text{bound:} && x_{ir} = 1 && \forall (i,r) \in S^{must} \\
&\text{policy\_focus\_limit:} && \sum_{i:(i,r)\in S} x_{ir} \le N_r
  && \forall r \text{ with a limit} \\
&\text{policy\_equity\_floor:} && \sum_{i:(i,r)\in S} x_{ir} \ge M_r
  && \forall r \text{ with a floor}
\end{aligned}
$$

$S^{must}$ are the ``sites.csv`` rows with ``must_host = true`` (a lower bound of 1 on the
variable, not a constraint). $N_r$ is ``regions.csv max_industries`` (blank: the option
``max_industries``, none when that is 0), $M_r$ ``regions.csv min_industries``. Forbidden
pairs (``allowed = false``) are not candidates at all: they are left out of $S$ by the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, LimitSource, Option, Symbol

if TYPE_CHECKING:
    from allocator.engine.build import Context


def build(b: pyo.Block, ctx: Context) -> None:
    x = ctx.hosts
    sites = ctx.sites
    for s in sites.index[sites["must_host"].to_numpy()]:
        x[s].setlb(1)
    by_region: dict[str, list[tuple[str, str]]] = {}
    for s in sites.index:
        by_region.setdefault(s[1], []).append(s)
    region = ctx.instance.region
    default = ctx.options["max_industries"]
    limit = region["max_industries"].astype("Float64")
    if default > 0:
        limit = limit.fillna(default)
    limit = limit.dropna()
    floor = region["min_industries"].astype("Float64").dropna()
    floor = floor[floor > 0]
    b.policy_focus_limit = pyo.Constraint(
        [r for r in limit.index if r in by_region],
        rule=lambda _, r: pyo.quicksum(x[s] for s in by_region[r]) <= float(limit[r]))
    # a region that may host nothing keeps its floor row (0 >= M: infeasible, or a
    # shortfall of M when softened) instead of collapsing to the Python value False
    b._nothing = pyo.Expression(expr=0.0)
    b.policy_equity_floor = pyo.Constraint(
        list(floor.index),
        rule=lambda _, r: (pyo.quicksum(x[s] for s in by_region[r]) if r in by_region
                           else b._nothing) >= float(floor[r]))


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    rows = []
    for con, kind in ((b.policy_focus_limit, "max_industries"),
                      (b.policy_equity_floor, "min_industries")):
        for r in con:
            bound = con[r].upper if kind == "max_industries" else con[r].lower
            rows.append({"family": "policy", "region": r, "resource": kind,
                         "used": pyo.value(con[r].body), "available": pyo.value(bound),
                         "unit": "industries", "constraint": con[r].name,
                         "sense": "at most" if kind == "max_industries" else "at least"})
    return {"resources": pd.DataFrame(rows)}


def limit_source(b: pyo.Block, ctx: Context, constraint: str, index: Any) -> LimitSource:
    """Focus limits and equity floors are a region's regions.csv row (a blank focus limit is
    the option max_industries of instance.toml)."""
    region = ctx.instance.region
    row = (int(region.at[index, "row"]),)
    if constraint == "policy_equity_floor":
        return LimitSource(ctx.instance.file_of("regions"), row, "min_industries",
                           f"{index}, least industries hosted",
                           float(region.at[index, "min_industries"]), "industries",
                           needs="asks for", has="can host")
    given = region.at[index, "max_industries"]
    if pd.isna(given):
        return LimitSource("instance.toml", (), "[policy] max_industries",
                           f"{index}, most industries hosted (blank in regions.csv row "
                           f"{row[0]})", float(ctx.options["max_industries"]), "industries")
    return LimitSource(ctx.instance.file_of("regions"), row, "max_industries",
                       f"{index}, most industries hosted", float(given), "industries")


FAMILY = Family(
    name="policy",
    summary="Must-host pairs, at most N industries per region (focus), at least M where "
            "asked (equity).",
    math=__doc__ or "",
    build=build,
    limits=("policy_focus_limit", "policy_equity_floor"),
    limit_source=limit_source,
    report=report,
    options=(
        Option("max_industries", int, 0, "focus limit for regions whose max_industries is "
               "blank (0: no limit)", ge=0),
    ),
    symbols=(
        Symbol("sites.csv:must_host", "parameter", "S^{must}", "sites", "",
               "pairs that must host"),
        Symbol("regions.csv:max_industries", "parameter", "N_r", "regions", "industries",
               "focus limit"),
        Symbol("regions.csv:min_industries", "parameter", "M_r", "regions", "industries",
               "equity floor"),
        Symbol("policy_focus_limit", "constraint", "", "regions with a limit", "industries",
               "at most N_r hosted industries", r"\sum_i x_{ir} \le N_r"),
        Symbol("policy_equity_floor", "constraint", "", "regions with a floor", "industries",
               "at least M_r hosted industries", r"\sum_i x_{ir} \ge M_r"),
    ),
)
