r"""At most two chip fabs per province group (a researcher's family; see docs/extending.md).

Chip fabrication is the archetype of duplicated capacity: 89 cities plan chip parks. This
rule caps the number of fab hosts in each administrative group (province):

$$
\text{max\_fabs\_per\_group\_limit:}\quad
\sum_{r \in R_g:\ (i, r) \in S} x_{ir} \ \le\ N \qquad \forall g,\ i = \text{industry}
$$

$R_g$ are the regions of group $g$, $N$ the option ``limit`` (default 2) and the capped
industry the option ``industry`` (default ``ic_fab``).

Pre-solve check (before any solve; a failure proves that no plan exists): with $L_i$ the
least national capacity of the industry in any plan, the $N$ largest site maxima of each
group hold it, $L_i \le \sum_g \max_{|T| \le N,\ T \subseteq R_g} \sum_{r \in T}
\overline{Q}_{ir}$: no plan hosts more than $N$ sites of a group, and a site holds at most
its maximum.

Besides its math the file brings what a planner reads of it (the result table
``fabs_per_group.csv``, a report section and a line after a solve) and its rule restated for
``allocator verify``: adding this one file is all it takes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyomo.environ as pyo

from allocator import Context, Family, Option, Symbol
from allocator.core.family import ReportParts
from allocator.core.presolve import CheckFailure, exceeds, number
from allocator.output.parts import Section, Table

if TYPE_CHECKING:
    from allocator import Instance
    from allocator.output.page import ReportData
    from allocator.verify import Check


def build(b: pyo.Block, ctx: Context) -> None:
    industry, limit = ctx.options["industry"], ctx.options["limit"]
    group = ctx.instance.region["group"]
    by_group: dict[str, list[tuple[str, str]]] = {}
    for i, r in ctx.sites.index:
        if i == industry:
            by_group.setdefault(group[r], []).append((i, r))
    b.max_fabs_per_group_limit = pyo.Constraint(
        sorted(g for g, sites in by_group.items() if len(sites) > limit),
        rule=lambda _, g: pyo.quicksum(ctx.hosts[s] for s in by_group[g]) <= limit,
    )


def presolve_checks(inst: Instance, options: dict, least: pd.Series) -> list[CheckFailure]:
    """Before any solve: the N largest site maxima of each group hold the industry's least
    capacity L_i (``least``), or no plan exists."""
    industry, limit = options["industry"], options["limit"]
    sites = inst.sites
    if industry not in sites.index.get_level_values(0):
        return []
    maxima = sites.xs(industry, level=0)["capacity_max"]
    groups = inst.region["group"].reindex(maxima.index).to_numpy()
    most = float(maxima.groupby(groups).apply(lambda m: m.nlargest(limit).sum()).sum())
    if not exceeds(float(least[industry]), most):
        return []
    return [CheckFailure("max_fabs_per_group", "largest_sites", (
        f"{industry}: needs at least {number(least[industry])} {inst.capacity_unit(industry)}, "
        f"but with at most {limit} host region{'s' if limit != 1 else ''} per group (instance.toml "
        f"[max_fabs_per_group] limit) its sites can build at most {number(most)}"))]


def report_rows(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    """fabs_per_group.csv of the results: in every group with a candidate site of the
    industry, how many regions host it, against the limit."""
    industry, limit = ctx.options["industry"], ctx.options["limit"]
    group = ctx.instance.region["group"]
    hosts: dict[str, int] = {}
    for i, r in ctx.sites.index:
        if i == industry:
            hosts[group[r]] = hosts.get(group[r], 0) + round(pyo.value(ctx.hosts[i, r]))
    return {"fabs_per_group": pd.DataFrame(
        [{"group": g, "industry": industry, "hosts": n, "limit": limit}
         for g, n in hosts.items()], columns=["group", "industry", "hosts", "limit"])}


def summary_lines(tables: dict[str, pd.DataFrame]) -> list[str]:
    """After a solve: the hosts per group, against the limit."""
    rows = tables.get("fabs_per_group")
    if rows is None or not len(rows):
        return []
    return ["Fab hosts per province group (fabs_per_group.csv): " + ", ".join(
        f"{r.group} {r.hosts} of at most {r.limit}" for r in rows.itertuples(index=False))]


def section(data: ReportData) -> Section | None:
    """A section of the report, after Duplication: the same, as a table."""
    rows = data.results.table("fabs_per_group")
    if rows.empty:
        return None
    sec = Section("max_fabs_per_group", "Fabs per province group")
    sec.blocks.append(Table("Host regions per group", ["group", "industry", "hosts", "limit"],
                            [[str(r.group), data.industry_name(r.industry), str(r.hosts),
                              str(r.limit)] for r in rows.itertuples(index=False)]))
    return sec


def verify_rules(v: Check) -> None:
    """The same rule restated for `allocator verify`, from the written plan (plain pandas):
    in every group, the hosts of the industry are at most the limit."""
    industry, limit = v.options["industry"], v.options["limit"]
    hosts = v.hosts[v.hosts.index.get_level_values("industry") == industry]
    regions = hosts.index.get_level_values("region")
    per_group = hosts.groupby(v.data.regions["group"].reindex(regions).to_numpy()).sum()
    v.at_most("max_fabs_per_group_limit", per_group, limit, "regions")


FAMILY = Family(
    name="max_fabs_per_group",
    summary="At most N host regions of one industry (chip fabs) per province group.",
    math=__doc__ or "",
    build=build,
    presolve_checks=presolve_checks,
    report_rows=report_rows,
    report_parts=ReportParts(section=section, after="duplication", summary_lines=summary_lines),
    verify_rules=verify_rules,
    options=(
        Option("industry", str, "ic_fab", "the industry to cap"),
        Option("limit", int, 2, "most host regions per group", ge=0),
    ),
    symbols=(
        Symbol("max_fabs_per_group_limit", "constraint", "", "groups", "regions",
               "at most N hosts of the industry per group",
               r"\sum_{r \in R_g} x_{ir} \le N"),
    ),
)
