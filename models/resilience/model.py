r"""Resilience of critical links: enough host regions, no region with too large a share, and
N-1 cover: if any one host region is lost, the others still hold a share of what the country
needs. Only industries with ``critical = true`` in ``industries.csv`` may carry the rules; a
blank parameter switches that rule off for the industry.

$$
\begin{aligned}
&\text{resilience\_min\_hosts:} && \sum_{r:(i,r)\in S} x_{ir} \ \ge\ h_i
  && \forall i \in I^{crit},\ h_i \text{ given} \\
&\text{resilience\_max\_share:} && q_{ir} \ \le\ \beta_i\, Q_i
  && \forall (i,r) \in S,\ i \in I^{crit},\ \beta_i < 1 \\
&\text{resilience\_n1\_cover:} && Q_i - q_{ir} \ \ge\ \gamma_i \Big(D_i
  + \sum_{(i,d)\in L} a_{id}\, Q_d\Big)
  && \forall (i,r) \in S,\ i \in I^{crit},\ \gamma_i > 0
\end{aligned}
$$

$h_i$ is ``industries.csv min_hosts``, $\beta_i$ ``max_share`` (share of national capacity
$Q_i = \sum_r q_{ir}$), $\gamma_i$ ``n1_cover``. N-1 is one row per candidate site, no
scenario enumeration: losing region $r$ leaves $Q_i - q_{ir}$, and that must cover
$\gamma_i$ of the industry's whole requirement, final demand $D_i$ *plus* what its downstream
industries use at the capacities of the plan ($Q_i - \mathrm{surplus}_i$, the right-hand side
of ``capacity_covers_requirement``). A critical link is critical because the chain behind it
stops when it fails: for chip fabs most of the requirement is the wafers that AI computing
and NEVs use, so covering final demand alone would protect almost nothing. On a site that
does not host, $q_{ir} = 0$ and the row holds whenever capacity covers the requirement.

Pruning (``allocator.engine.prune``) only leaves out sites that can never host under another
family's limits; resilience adds rows and never loosens one, so what is pruned stays
unhostable here, and ``min_hosts`` counts the sites that remain (the pre-solve check
compares it with the candidates of the input; ``allocator explain`` names the row).

Pre-solve checks (before any solve; a failure proves that no plan exists), for each critical
industry with $L_i$ its least national capacity in any plan: $h_i$ is at most the number of
its candidate sites; with $\beta_i$, $\sum_r \min(\overline{Q}_{ir}, \beta_i L_i) \ge L_i$
(no capacity $Q_i \ge L_i$ fits the share cap otherwise: $\sum_r \min(\overline{Q}_{ir},
\beta_i Q) - Q$ is concave and 0 at 0, so once negative at $L_i$ it stays negative); with
$\gamma_i$, the site maxima without the largest one hold $\gamma_i L_i$.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocator.core.errors import Problem
from allocator.core.family import Family, LimitSource, Symbol
from allocator.core.presolve import CheckFailure, exceeds, number, rows_text
from allocator.core.schema import ColumnSpec

if TYPE_CHECKING:
    from allocator.engine.build import Context
    from allocator.input.data import Instance

#: the industries.csv columns of this family, in the order of its math
PARAMETERS = ("min_hosts", "max_share", "n1_cover")


def parameters(industry: pd.DataFrame) -> pd.DataFrame:
    """Per critical industry with some rule: min_hosts, max_share, n1_cover (NaN: off).
    ``industry`` is industries.csv indexed by id."""
    crit = industry["critical"].astype("boolean").fillna(False).to_numpy(bool)
    df = industry.loc[crit, list(PARAMETERS)].astype(float)
    return df[df.notna().any(axis=1)]


def input_rules(tables: dict[str, pd.DataFrame], settings: dict[str, Any]) -> list[Problem]:
    """The rules apply to critical industries only: a parameter on a row that is not
    critical is a mistake (a planner who meant it would lose it silently otherwise)."""
    ind = tables.get("industries")
    if ind is None:
        return []
    file = settings.get("tables", {}).get("industries", "industries.csv")
    crit = ind["critical"].astype("boolean").fillna(False)
    problems = []
    for col in PARAMETERS:
        given = ind[col].notna() & ~crit
        for row in ind.index[given.to_numpy(bool)]:
            value = ind.at[row, col]
            problems.append(Problem(
                file, f"{col} is given but the industry is not critical (critical is blank or "
                f"false): set critical = true for the resilience rules to apply, or leave "
                f"{col} blank", row=int(row), column=col,
                value=float(value) if col != "min_hosts" else int(value)))
    return problems


def _regions_of(ctx: Context) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i, r in ctx.sites.index:
        out.setdefault(i, []).append(r)
    return out


def build(b: pyo.Block, ctx: Context) -> None:
    inst = ctx.instance
    x, q = ctx.hosts, ctx.capacity
    total, surplus = ctx.capacity_total, ctx.capacity_surplus
    par = parameters(inst.industry)
    regions_of = _regions_of(ctx)
    b._nothing = pyo.Expression(expr=0.0)  # an industry without candidate sites keeps its row

    def hosts(i: str) -> Any:
        return pyo.quicksum(x[i, r] for r in regions_of[i]) if i in regions_of else b._nothing

    least = par["min_hosts"].dropna()
    b.resilience_min_hosts = pyo.Constraint(
        list(least.index), rule=lambda _, i: hosts(i) >= float(least[i]))
    share = par["max_share"].dropna()
    share = share[share < 1]
    b.resilience_max_share = pyo.Constraint(
        [(i, r) for i in share.index for r in regions_of.get(i, ())],
        rule=lambda _, i, r: q[i, r] <= float(share[i]) * total[i])
    cover = par["n1_cover"].dropna()
    cover = cover[cover > 0]
    # D_i + sum_d a_id Q_d = Q_i - surplus_i: the requirement at the plan's capacities
    b.resilience_n1_cover = pyo.Constraint(
        [(i, r) for i in cover.index for r in regions_of.get(i, ())],
        rule=lambda _, i, r: total[i] - q[i, r] >= float(cover[i]) * (total[i] - surplus[i]))


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    """Rows of ``resources``: per industry with min_hosts, the hosts against it (a floor);
    per hosting site, its capacity against the most max_share allows, and what the other
    regions hold if it is lost against what N-1 asks (a floor)."""
    inst = ctx.instance
    rows = []
    con = b.resilience_min_hosts
    for i in con:
        rows.append({"region": "(national)", "resource": f"min_hosts:{i}",
                     "used": pyo.value(con[i].body), "available": float(con[i].lower),
                     "unit": "regions", "constraint": con[i].name, "sense": "at least"})
    x, q, total, surplus = ctx.hosts, ctx.capacity, ctx.capacity_total, ctx.capacity_surplus
    par = parameters(inst.industry)
    for (i, r), row in b.resilience_max_share.items():
        if round(pyo.value(x[i, r])) == 1:
            rows.append({"region": r, "resource": f"max_share:{i}", "used": pyo.value(q[i, r]),
                         "available": float(par.at[i, "max_share"]) * pyo.value(total[i]),
                         "unit": inst.capacity_unit(i), "constraint": row.name,
                         "sense": "at most"})
    for (i, r), row in b.resilience_n1_cover.items():
        if round(pyo.value(x[i, r])) == 1:
            need = pyo.value(total[i]) - pyo.value(surplus[i])
            rows.append({"region": r, "resource": f"n1_cover:{i}",
                         "used": pyo.value(total[i]) - pyo.value(q[i, r]),
                         "available": float(par.at[i, "n1_cover"]) * need,
                         "unit": inst.capacity_unit(i), "constraint": row.name,
                         "sense": "at least"})
    df = pd.DataFrame(rows, columns=["region", "resource", "used", "available", "unit",
                                     "constraint", "sense"])
    return {"resources": df.assign(family="resilience")}


def limit_source(b: pyo.Block, ctx: Context, constraint: str, index: Any) -> LimitSource:
    """Each row is its industry's industries.csv row, column min_hosts, max_share or
    n1_cover."""
    inst = ctx.instance
    i = index if constraint == "resilience_min_hosts" else index[0]
    row = (int(inst.industry.at[i, "row"]),)
    file = inst.file_of("industries")
    if constraint == "resilience_min_hosts":
        return LimitSource(file, row, "min_hosts", f"{i}, host regions (critical link)",
                           float(inst.industry.at[i, "min_hosts"]), "regions",
                           needs="asks for", has="can host")
    r, unit = index[1], inst.capacity_unit(i)
    if constraint == "resilience_max_share":
        share = float(inst.industry.at[i, "max_share"])
        return LimitSource(file, row, "max_share",
                           f"{i} in {r}: at most {share:.0%} of national capacity", None,
                           unit, "the amount is capacity above the share")
    cover = float(inst.industry.at[i, "n1_cover"])
    return LimitSource(file, row, "n1_cover",
                       f"{i} without {r}: the other regions hold {cover:.0%} of the "
                       "requirement", None, unit,
                       "the amount is the capacity missing elsewhere if the region is lost")


def _column(name: str, kind: str, doc: str, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, kind, doc, required=False, nullable=True, **kw)


def presolve_checks(inst: Instance, options: dict[str, Any], least: pd.Series
                    ) -> list[CheckFailure]:
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
            out.append(CheckFailure("resilience", "min_hosts", (
                f"{where}: min_hosts asks for at least {int(row['min_hosts'])} host regions, "
                f"but only {n} may host it (sites.csv allowed, [sites] candidates)")))
        share = row["max_share"]
        if not pd.isna(share) and need > 0:
            most = float(np.minimum(maxima, float(share) * need).sum())
            if exceeds(need, most):
                out.append(CheckFailure("resilience", "max_share", (
                    f"{where}: max_share {float(share):.0%} lets each of its {n} candidate "
                    f"sites hold at most {float(share):.0%} of national capacity; with the site "
                    f"maxima that is at most {number(most)} of the least capacity "
                    f"{number(need)} {inst.capacity_unit(i)} it needs")))
        cover = row["n1_cover"]
        if not pd.isna(cover) and float(cover) > 0 and need > 0:
            rest = float(maxima.sum() - maxima.max()) if n else 0.0
            if exceeds(float(cover) * need, rest):
                out.append(CheckFailure("resilience", "n1_cover", (
                    f"{where}: n1_cover asks the other regions to hold {float(cover):.0%} of "
                    f"at least {number(need)} {inst.capacity_unit(i)} "
                    f"({number(float(cover) * need)}) when the largest site is lost, but "
                    f"the other candidate sites can build at most {number(rest)} (site "
                    "maxima: sites.csv max_capacity, industries.csv capacity_max)")))
    return out


FAMILY = Family(
    name="resilience",
    summary="Critical links: at least h host regions, no region above a share of national "
            "capacity, N-1 cover of the requirement when one host is lost.",
    math=__doc__ or "",
    build=build,
    input_rules=input_rules,
    presolve_checks=presolve_checks,
    limits=("resilience_min_hosts", "resilience_max_share", "resilience_n1_cover"),
    limit_source=limit_source,
    report_rows=report,
    columns={"industries": (
        _column("min_hosts", "int", "resilience (critical industries only): at least this "
                "many host regions (blank: no minimum)", unit="regions", ge=1),
        _column("max_share", "float", "resilience (critical industries only): no region "
                "holds more than this share of national capacity (blank: no cap)", gt=0, le=1),
        _column("n1_cover", "float", "resilience (critical industries only): if any one host "
                "region is lost, the others hold at least this share of the requirement "
                "(final demand plus downstream use; blank: no N-1 rule)", ge=0, le=1),
    )},
    symbols=(
        Symbol("industries.csv:critical", "parameter", r"I^{crit}", "industries", "",
               "critical links of a value chain"),
        Symbol("industries.csv:min_hosts", "parameter", "h_i", "critical industries",
               "regions", "least number of host regions"),
        Symbol("industries.csv:max_share", "parameter", r"\beta_i", "critical industries",
               "", "largest share of national capacity in one region"),
        Symbol("industries.csv:n1_cover", "parameter", r"\gamma_i", "critical industries", "",
               "share of the requirement the other regions hold when one host is lost"),
        Symbol("resilience_min_hosts", "constraint", "", "critical industries with h_i",
               "regions", "at least h_i host regions", r"\sum_r x_{ir} \ge h_i"),
        Symbol("resilience_max_share", "constraint", "", "sites of critical industries with "
               r"\beta_i < 1", "capacity", "no region above the share of national capacity",
               r"q_{ir} \le \beta_i Q_i"),
        Symbol("resilience_n1_cover", "constraint", "", "sites of critical industries with "
               r"\gamma_i > 0", "capacity", "N-1: without region r the others cover the "
               "share of the requirement",
               r"Q_i - q_{ir} \ge \gamma_i (D_i + \sum_d a_{id} Q_d)"),
    ),
)
