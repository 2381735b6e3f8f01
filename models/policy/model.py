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

Pre-solve checks (before any solve; a failure proves that no plan exists): in each region
the sites that must host, must-host and kept brownfield ($S^b_{keep}$) alike, fit the focus
limit, $|\{i : (i,r) \in S^{must} \cup S^b_{keep}\}| \le N_r$; and the equity floor asks
for no more industries than may be hosted there, $M_r \le |\{i : (i,r) \in S\}|$.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, LimitSource, Option, Symbol
from allocator.core.presolve import CheckFailure, number, rows_text
from allocator.core.tables import HeuristicLimits

if TYPE_CHECKING:
    from allocator.engine.build import Context
    from allocator.input.data import Instance


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


def _focus_limits(inst: Instance, options: dict[str, Any]) -> pd.Series:
    """$N_r$: regions.csv max_industries, blank filled with the option (none when it is 0)."""
    default = int(options["max_industries"])
    limit = inst.region["max_industries"].astype("Float64")
    return limit.fillna(default) if default > 0 else limit


def presolve_checks(inst: Instance, options: dict[str, Any], least: pd.Series
                    ) -> list[CheckFailure]:
    """Must-host (and kept brownfield) sites within each focus limit; equity floors within
    the number of candidate sites."""
    sites = inst.sites
    keep = inst.settings["sites"]["brownfield"] == "keep"
    forced = sites["must_host"] | (sites["brownfield"] & keep)
    region = inst.region
    limit = _focus_limits(inst, options)
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
            out.append(CheckFailure("policy", "focus_limit", (
                f"{where} ({r}): at most {number(float(lim))} industries, but {n_forced} must "
                f"be hosted there (must_host or kept existing capacity: "
                f"{rows_text(inst.file_of('sites'), listed)})")))
        floor = region.at[r, "min_industries"] if "min_industries" in region.columns else None
        candidates = int((sites.index.get_level_values(1) == r).sum())
        if floor is not None and not pd.isna(floor) and float(floor) > candidates:
            out.append(CheckFailure("policy", "equity_floor", (
                f"{rows_text(regions_file, (int(region.at[r, 'row']),))} ({r}): at least "
                f"{number(float(floor))} industries asked (min_industries), but only "
                f"{candidates} may be hosted there (sites.csv allowed, [sites] candidates)")))
    return out


def heuristic_limits(inst: Instance, options: dict[str, Any], sites: pd.DataFrame
                     ) -> HeuristicLimits:
    """The focus limit $N_r$ and the equity floor $M_r$ of each region that has one, for the
    construction heuristic."""
    limit = _focus_limits(inst, options)
    floors = inst.region["min_industries"].astype("Float64").dropna()
    return HeuristicLimits(max_hosts={r: float(v) for r, v in limit.dropna().items()},
                           min_hosts={r: int(n) for r, n in floors.items()})


FAMILY = Family(
    name="policy",
    summary="Must-host pairs, at most N industries per region (focus), at least M where "
            "asked (equity).",
    math=__doc__ or "",
    build=build,
    limits=("policy_focus_limit", "policy_equity_floor"),
    limit_source=limit_source,
    report_rows=report,
    presolve_checks=presolve_checks,
    heuristic_limits=heuristic_limits,
    enforces_must_host=True,
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
