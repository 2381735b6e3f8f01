r"""Duplication: the heart of the mission. Two of its three measures live here, each a
weighted objective term reported on its own line (the third, neighbouring regions hosting the
same industry, is the family ``duplication_neighbors``).

$$
\begin{aligned}
&\text{duplication\_site\_excess\_definition:} && \text{site\_excess}_i \ \ge
  \sum_{r:(i,r)\in S} x_{ir} - H_i,\quad \text{site\_excess}_i \ge 0 && \forall i \in I \\
&\text{term site\_excess:} && \sum_i \text{site\_excess}_i \\
&\text{term overcapacity:} && \sum_i \mathrm{surplus}_i
\end{aligned}
$$

$H_i$ is ``industries.csv target_hosts``: the number of host regions the country needs.
Host regions beyond it are duplicated low-end capacity; capacity beyond national demand
(final plus intermediate) is overcapacity: the core expression
$\mathrm{surplus}_i = Q_i - D_i - \sum_{(i,d)\in L} a_{id} Q_d$ (``capacity_surplus``), which
the capacity family keeps non-negative, so it needs no variable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, Symbol, Term

if TYPE_CHECKING:
    from allocator.engine.build import Context


def build(b: pyo.Block, ctx: Context) -> None:
    inst = ctx.instance
    x = ctx.hosts
    regions_of: dict[str, list[str]] = {}
    for i, r in ctx.sites.index:
        regions_of.setdefault(i, []).append(r)
    industries = inst.industry_ids
    target = inst.industry["target_hosts"].astype(int)
    b.site_excess = pyo.Var(industries, within=pyo.NonNegativeReals)
    b.duplication_site_excess_definition = pyo.Constraint(
        industries, rule=lambda _, i: b.site_excess[i]
        >= pyo.quicksum(x[i, r] for r in regions_of.get(i, ())) - int(target[i]))
    ctx.add_term("site_excess", pyo.quicksum(b.site_excess.values()))
    ctx.add_term("overcapacity", pyo.quicksum(ctx.capacity_surplus.values()))


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    inst = ctx.instance
    rows = pd.DataFrame({
        "industry": inst.industry_ids,
        "target_hosts": inst.industry["target_hosts"].astype(int).to_numpy(),
        "site_excess": [pyo.value(b.site_excess[i]) for i in inst.industry_ids],
        "overcapacity": [pyo.value(ctx.capacity_surplus[i]) for i in inst.industry_ids],
    })
    return {"duplication": rows}


FAMILY = Family(
    name="duplication",
    summary="Penalize host regions beyond each industry's target and capacity beyond demand.",
    math=__doc__ or "",
    build=build,
    report_rows=report,
    terms=(
        Term("site_excess", "host regions beyond each industry's target", "money per region"),
        Term("overcapacity", "capacity beyond final plus intermediate demand",
             "money per unit of capacity"),
    ),
    symbols=(
        Symbol("industries.csv:target_hosts", "parameter", "H_i", "industries", "regions",
               "host regions the country needs"),
        Symbol("site_excess", "variable", r"\text{site\_excess}_i \ge 0", "industries",
               "regions", "host regions beyond the target"),
        Symbol("duplication_site_excess_definition", "constraint", "", "industries", "regions",
               "excess is at least hosts minus target",
               r"\text{site\_excess}_i \ge \sum_r x_{ir} - H_i"),
    ),
)
