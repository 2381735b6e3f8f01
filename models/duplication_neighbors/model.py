r"""Neighbouring duplication (homogeneous competition): pairs of neighbouring regions that
host the same industry, penalized per pair.

Neighbours $N$ are unordered region pairs in the same group (option ``same_group``) or at
most ``distance_km`` apart. For each industry, only pairs where both regions may host get a
variable (sparse pairs), linearizing $x_{ia} x_{ib}$ with one continuous variable:

$$
\begin{aligned}
&\text{both\_host}_{iab} \ge 0 && (a,b)\in N,\ (i,a),(i,b) \in S \\
&\text{duplication\_neighbors\_pair:} && \text{both\_host}_{iab} \ge x_{ia} + x_{ib} - 1 \\
&\text{term neighbor\_pairs:} && \sum \text{both\_host}_{iab}
\end{aligned}
$$

With a positive weight the minimization drives $\text{both\_host}$ down to
$\max(0, x_{ia} + x_{ib} - 1)$, which equals $x_{ia} x_{ib}$ for binary $x$.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, Option, Symbol, Term

if TYPE_CHECKING:
    from allocator.engine.build import Context


def pairs(ctx: Context) -> pd.DataFrame:
    """industry, a, b, distance_km for neighbouring pairs where both may host."""
    net = ctx.instance.network
    near = net.neighbour_pairs(ctx.options["distance_km"], ctx.options["same_group"])
    sites = ctx.sites.reset_index()[["industry", "region"]]
    df = near.merge(sites.rename(columns={"region": "a"}), on="a")
    df = df.merge(sites.rename(columns={"region": "b"}), on=["industry", "b"])
    return df[["industry", "a", "b", "distance_km"]].sort_values(
        ["industry", "a", "b"], kind="stable").reset_index(drop=True)


def build(b: pyo.Block, ctx: Context) -> None:
    df = ctx.state["pairs"] = pairs(ctx)
    keys = list(zip(df["industry"], df["a"], df["b"], strict=True))
    x = ctx.hosts
    b.both_host = pyo.Var(keys, within=pyo.NonNegativeReals, bounds=(0, 1))
    b.duplication_neighbors_pair = pyo.Constraint(
        keys, rule=lambda _, i, a, c: b.both_host[i, a, c] >= x[i, a] + x[i, c] - 1)
    ctx.add_term("neighbor_pairs", pyo.quicksum(b.both_host.values()))


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    df = ctx.state["pairs"].copy()
    x = ctx.hosts
    both = [round(pyo.value(x[i, a])) * round(pyo.value(x[i, c]))
            for i, a, c in zip(df["industry"], df["a"], df["b"], strict=True)]
    return {"neighbor_pairs": df.loc[[bool(v) for v in both]]}


FAMILY = Family(
    name="duplication_neighbors",
    summary="Penalize pairs of neighbouring regions (same group or close) hosting the same "
            "industry.",
    math=__doc__ or "",
    build=build,
    report_rows=report,
    options=(
        Option("distance_km", float, 150.0, "regions at most this far apart are neighbours",
               unit="km", ge=0),
        Option("same_group", bool, True, "regions of the same group are neighbours"),
    ),
    terms=(Term("neighbor_pairs", "neighbouring region pairs hosting the same industry",
                "money per pair"),),
    symbols=(
        Symbol("neighbours", "set", "N", "", "", "unordered neighbouring region pairs"),
        Symbol("both_host", "variable", r"\text{both\_host}_{iab} \in [0,1]",
               "(industry, a, b)", "", "1 when both neighbours host industry i"),
        Symbol("duplication_neighbors_pair", "constraint", "", "(industry, a, b)", "",
               "linearization of x_ia * x_ib", r"\text{both\_host}_{iab} \ge x_{ia}+x_{ib}-1"),
    ),
)
