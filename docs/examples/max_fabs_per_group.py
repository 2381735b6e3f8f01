r"""At most two chip fabs per province group (a researcher's family; see docs/extending.md).

Chip fabrication is the archetype of duplicated capacity: 89 cities plan chip parks. This
rule caps the number of fab hosts in each administrative group (province):

$$
\text{max\_fabs\_per\_group\_limit:}\quad
\sum_{r \in R_g:\ (i, r) \in S} x_{ir} \ \le\ N \qquad \forall g,\ i = \text{industry}
$$

$R_g$ are the regions of group $g$, $N$ the option ``limit`` (default 2) and the capped
industry the option ``industry`` (default ``ic_fab``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyomo.environ as pyo

from allocator import Context, Family, Option, Symbol

if TYPE_CHECKING:
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
