r"""Pilot (scale-up) bases: a research-intensive industry may be hosted in a region only if an
open pilot base of its field lies within its reach (or in the same group). Opening a base
costs its setup and uses research talent and money inside the talent and funding families'
own limits.

$$
\begin{aligned}
&\text{pilot\_bases\_access:} && x_{ir} \ \le \sum_{b \in B_{ir}} \text{opens}_b
  && \forall (i,r) \in S,\ i \in I^{res} \\
&\text{uses talent:} && u^{pilot}_{rt} = \sum_{b:\ r_b = r,\ t_b = t} \nu_b\, \text{opens}_b
  && \text{(in talent\_within\_supply)} \\
&\text{uses funding:} && u^{pilot}_r = \sum_{b:\ r_b = r} F^{pilot}_b\, \text{opens}_b
  && \text{(in funding\_within\_budget)} \\
&\text{term pilot\_bases:} && \sum_b F^{pilot}_b\, \text{opens}_b
\end{aligned}
$$

$I^{res}$ are the industries with a ``research_field`` in ``industries.csv``;
$B_{ir}$ the candidate bases (``pilot_bases.csv``) of that field whose region $r_b$ is in the
same group as $r$ or at most $\rho_i$ km away (great circle; $\rho_i$ is
``pilot_reach_km``, blank: the option ``reach_km``). $\text{opens}_b \in \{0, 1\}$ exists
only for bases whose field some research-intensive industry needs. A site with no base in
reach cannot host: $B_{ir} = \emptyset$ gives $x_{ir} \le 0$, and pruning
(``allocator.engine.prune``) leaves such sites out (the rule applies to existing plants too: a kept
plant or a must-host pair without any base in reach is left in the model, which is then
infeasible, and ``allocator explain`` names its access row). The access
rows are the family's limits: ``--soft pilot_bases`` (and ``allocator evaluate`` of a given
plan) turns each into a penalized shortfall, a host without an open base in reach, named by
the ``pilot_bases.csv`` rows of the bases that could serve it.

Over planning periods (``periods.csv``) a base stays open once opened and its setup is
paid once, in the period it opens; its researchers work in every period it is open:

$$
\begin{aligned}
&\text{pilot\_bases\_kept:} && \text{opens}^{p-1}_b \le \text{opens}^p_b && p > 1 \\
&\text{term pilot\_bases, uses funding:} && F^{pilot}_b\,(\text{opens}^p_b -
  \text{opens}^{p-1}_b) \quad (\text{opens}^0_b = 0) \\
&\text{pilot\_bases\_access (lab to factory):} && x^p_{ir} \le \sum_{b \in B_{ir}}
  \text{opens}^{j_i(p)}_b && i \text{ in conversion.csv},\ y_p - y_1 < Y_i,\ e_{ir} = 0
\end{aligned}
$$

For an industry with a ``conversion.csv`` row, a base opened in period $j$ counts from the
first year of period $j+1$, once it has been open $Y^{pilot}_i$ years (``pilot_years``):
$j_i(p)$ is the last period with $y_{j+1} + Y^{pilot}_i \le y_p$ (none: the right-hand side
is 0, nothing new can host). After $Y_i$ years from the first year of the plan (``years``,
the seed case about 8) its lab results become factories without a base, and the row is
dropped; existing plants ($e_{ir} > 0$) are exempt. An industry without a row counts the
bases open in the same period, as a one-shot plan does.

A base needs $\nu_b$ people of one ordinary talent class $t_b$ (``talent_need``,
``talent_class``) in its region, so it competes with industries for the same people, and
its fixed cost $F^{pilot}_b$ (``fixed_cost``) is paid from the region's budget (and the
national fund). This family does not build those rows: it declares the uses through the
core (``ctx.add_use``), and the talent and funding families count them in their own limits
(their ``close`` phase). Without those families the base uses nothing but its cost.

Pre-solve check (before any solve; a failure proves that no plan exists): with $L_i$ the
least national capacity of industry $i$ in any plan, the candidate sites of each
research-intensive industry with a base of its field in reach can build it,
$L_i \le \sum_{r:\ B_{ir} \ne \emptyset} \overline{Q}_{ir}$.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocator.core.errors import Problem
from allocator.core.family import Family, LimitSource, Option, Symbol, Term, rows_where
from allocator.core.presolve import CheckFailure, exceeds, number, rows_text
from allocator.core.schema import ColumnSpec, TableSpec

if TYPE_CHECKING:
    from allocator.engine.build import Context
    from allocator.input.data import Instance

CONVERSION = TableSpec(
    "conversion",
    "With periods.csv: how long a research-intensive industry takes from lab to factory "
    "(pilot_bases family). An industry without a row needs a base open in the same period, "
    "as in a one-shot plan.",
    (
        ColumnSpec("industry", "id", "research-intensive industry", references="industries"),
        ColumnSpec("years", "float", "years from the first year of the plan after which its "
                   "lab results become factories without a pilot base (blank: never)",
                   unit="years", nullable=True, ge=0),
        ColumnSpec("pilot_years", "float", "years a pilot base of its field must have been "
                   "open; a base counts from the first year of the period after it opens "
                   "(blank: 0)", unit="years", required=False, nullable=True, ge=0),
    ),
    key=("industry",),
    needs=("pilot_bases",),
)

TABLE = TableSpec(
    "pilot_bases",
    "Candidate pilot (scale-up) bases: where a base could open, for which research field, "
    "at what setup cost, and the research talent it needs there (pilot_bases family).",
    (
        ColumnSpec("id", "id", "identifier (text, unique in the table)"),
        ColumnSpec("region", "id", "region where the base would open", references="regions"),
        ColumnSpec("field", "str", "research field it serves (industries.csv research_field)"),
        ColumnSpec("fixed_cost", "float", "setup cost of opening the base, paid from the "
                   "region's budget (funding)", unit="money", ge=0),
        ColumnSpec("talent_class", "str", "talent class its researchers belong to (an "
                   "ordinary class of talent_supply.csv; blank: needs no talent)",
                   required=False, nullable=True),
        ColumnSpec("talent_need", "float", "researchers it needs in its region (blank: 0)",
                   unit="people", required=False, nullable=True, ge=0),
    ),
    key=("id",),
)


def research(inst: Instance, options: dict[str, Any]) -> pd.DataFrame:
    """Research-intensive industries: field and reach in km (blank reach: the option)."""
    ind = inst.industry
    field = ind["research_field"]
    given = field.notna().to_numpy(bool)
    reach = ind["pilot_reach_km"].astype(float).fillna(float(options["reach_km"]))
    return pd.DataFrame({"field": field[given], "reach_km": reach[given]})


def bases(inst: Instance) -> pd.DataFrame:
    """pilot_bases.csv indexed by id, with the file row in ``row`` and blanks resolved."""
    df = inst.table("pilot_bases").copy()
    df["row"] = df.index
    df["talent_need"] = df["talent_need"].astype(float).fillna(0.0)
    return df.set_index("id")


def access(inst: Instance, options: dict[str, Any], sites: pd.MultiIndex) -> pd.DataFrame:
    """Each site of a research-intensive industry with the bases in reach: columns
    industry, region, base (one row per pair; a site with none has base = None)."""
    res = research(inst, options)
    table = bases(inst)
    net = inst.network
    rows = []
    for i, r in sites:
        if i not in res.index:
            continue
        field, reach = res.at[i, "field"], float(res.at[i, "reach_km"])
        same = table[table["field"] == field]
        if not len(same):
            rows.append((i, r, None))
            continue
        a = int(net.position[r])
        b = net.position.reindex(same["region"]).to_numpy()
        near = (net.km[a, b] <= reach) | (net.group.reindex(same["region"]).to_numpy()
                                          == net.group[r])
        ids = list(same.index[near])
        rows += [(i, r, base) for base in ids] or [(i, r, None)]
    return pd.DataFrame(rows, columns=["industry", "region", "base"])


def site_bounds(inst: Instance, options: dict[str, Any], sites: pd.DataFrame) -> pd.DataFrame:
    """A research-intensive site with no base of its field in reach can never host: bound 0
    (see :mod:`allocator.engine.prune`); not an industry whose lab results become
    factories without a base after some years (conversion.csv ``years``)."""
    reach = access(inst, options, sites.index)
    lost = reach[reach["base"].isna()]
    if inst.has(CONVERSION.name):  # over periods, these may host without a base one day
        conv = inst.table(CONVERSION.name)
        lost = lost[~lost["industry"].isin(set(conv.loc[conv["years"].notna(), "industry"]))]
    res = research(inst, options)
    return pd.DataFrame({
        "industry": lost["industry"], "region": lost["region"], "bound": 0.0,
        "reason": [f"pilot bases: no base of field {res.at[i, 'field']} within "
                   f"{res.at[i, 'reach_km']:g} km or the same group (pilot_bases.csv)"
                   for i in lost["industry"]]}, columns=["industry", "region", "bound", "reason"])


def build(b: pyo.Block, ctx: Context) -> None:
    inst = ctx.instance
    x = ctx.hosts
    table = bases(inst)
    res = research(inst, ctx.options)
    wanted = table[table["field"].isin(set(res["field"]))]
    b.opens = pyo.Var(list(wanted.index), within=pyo.Binary)
    before = ctx.previous  # this family's block in the previous period (None: none)
    b.pilot_bases_kept = pyo.Constraint(
        [k for k in wanted.index if before is not None and k in before.opens],
        rule=lambda _, k: before.opens[k] <= b.opens[k])
    # the blocks whose bases count for hosting now, per industry (see the docstring)
    counted = _counted(ctx, b, res.index)
    reach = access(inst, ctx.options, ctx.sites.index)
    within: dict[tuple[str, str], list[str]] = {}
    for i, r, base in reach.itertuples(index=False):
        within.setdefault((i, r), [])
        if isinstance(base, str):  # a site with no base in reach has base None/NaN
            within[i, r].append(base)
    brown = ctx.sites["brownfield"]
    rows = [s for s in within if counted.get(s[0], b) is not _CONVERTED
            and not (s[0] in counted and bool(brown.get(s, False)))]
    b._nothing = pyo.Expression(expr=0.0)  # a site with no base in reach: x <= 0

    def reached(_: pyo.Block, i: str, r: str) -> Any:
        source = counted.get(i, b)
        ids = [k for k in within[i, r] if source is not None and k in source.opens]
        return x[i, r] <= (pyo.quicksum(source.opens[k] for k in ids) if ids else b._nothing)

    b.pilot_bases_access = pyo.Constraint(rows, rule=reached)
    for k, row in wanted.iterrows():
        opened = b.opens[k] - (before.opens[k] if before is not None and k in before.opens
                               else 0)  # paid once, in the period it opens
        if row["talent_need"] > 0 and isinstance(row["talent_class"], str):
            ctx.add_use("talent", (row["region"], row["talent_class"]),
                        float(row["talent_need"]) * b.opens[k])
        if row["fixed_cost"] > 0:
            ctx.add_use("funding", row["region"], float(row["fixed_cost"]) * opened)
    ctx.add_term("pilot_bases", pyo.quicksum(
        float(wanted.at[k, "fixed_cost"]) * (b.opens[k] - (
            before.opens[k] if before is not None and k in before.opens else 0))
        for k in wanted.index))
    if ctx.period is not None:  # for the report: when each base first opened
        ctx.state["history"] = [(p.id, blk) for p, blk in ctx.earlier] + [(ctx.period.id, b)]


#: an industry whose lab results have become factories without a base (no access row)
_CONVERTED = object()


def _counted(ctx: Context, b: pyo.Block, industries: pd.Index) -> dict[str, Any]:
    """With periods and a ``conversion.csv`` row for industry i: the block of the period
    whose open bases count for hosting i now, None when no period does, ``_CONVERTED``
    when the lab results have become factories without a base. Industries without a row
    (and every industry in a one-shot plan) count the bases open now (absent from the
    dict)."""
    period = ctx.period
    if period is None or not ctx.instance.has(CONVERSION.name):
        return {}
    conv = ctx.instance.table(CONVERSION.name).set_index("industry")
    history = [*ctx.earlier, (period, b)]
    start = history[0][0].first_year
    out: dict[str, Any] = {}
    for i in industries:
        if i not in conv.index:
            continue
        years, pilot = conv.at[i, "years"], conv.at[i, "pilot_years"]
        if pd.notna(years) and period.first_year - start >= float(years):
            out[i] = _CONVERTED
            continue
        wait = 0.0 if pd.isna(pilot) else float(pilot)
        # a base opened in period j counts from the next period's first year on, once it
        # has been open `wait` years: y_{j+1} + wait <= y_p
        ok = [blk for j, (_, blk) in enumerate(history[:-1])
              if history[j + 1][0].first_year + wait <= period.first_year]
        out[i] = ok[-1] if ok else None
    return out


def served(b: pyo.Block, ctx: Context) -> pd.DataFrame:
    """pilot_bases.csv of the results: every candidate base of a needed field, whether it
    opens, and the hosted research sites within its reach (whom it serves)."""
    inst = ctx.instance
    table = bases(inst)
    reach = access(inst, ctx.options, ctx.sites.index).dropna(subset=["base"])
    x = ctx.hosts
    hosted = reach[[round(pyo.value(x[i, r])) == 1 for i, r in
                    zip(reach["industry"], reach["region"], strict=True)]]
    rows = []
    history = ctx.state.get("history", [])
    for k in b.opens:
        opened = round(pyo.value(b.opens[k]))
        mine = hosted[hosted["base"] == k] if opened else hosted.iloc[:0]
        since = next((p for p, blk in history if round(pyo.value(blk.opens[k])) == 1), "")
        rows.append({
            "base": k, "region": table.at[k, "region"], "field": table.at[k, "field"],
            "opened": opened, "opened_since": since,
            "fixed_cost": float(table.at[k, "fixed_cost"]),
            "talent_class": table.at[k, "talent_class"] or "",
            "talent_need": float(table.at[k, "talent_need"]),
            "serves": " ".join(f"{i}@{r}" for i, r in zip(mine["industry"], mine["region"],
                                                          strict=True)),
        })
    return pd.DataFrame(rows, columns=["base", "region", "field", "opened", "opened_since",
                                       "fixed_cost", "talent_class", "talent_need", "serves"])


def report(b: pyo.Block, ctx: Context) -> dict[str, pd.DataFrame]:
    return {"pilot_bases": served(b, ctx)}


def limit_source(b: pyo.Block, ctx: Context, constraint: str, index: Any) -> LimitSource:
    """pilot_bases_access[i, r] is the pilot_bases.csv rows of the bases of i's field in
    reach of r (none: the industry's research_field row). A shortfall is a host without an
    open base in reach (``allocator evaluate`` of a plan that ignores the rule, ``--soft
    pilot_bases``)."""
    inst = ctx.instance
    i, r = index
    res = research(inst, ctx.options)
    field, reach = res.at[i, "field"], float(res.at[i, "reach_km"])
    near = access(inst, ctx.options, pd.MultiIndex.from_tuples([(i, r)]))
    ids = [k for k in near["base"] if isinstance(k, str)]
    what = (f"{i} hosted in {r}: an open {field} base within {reach:g} km or the same "
            "group")
    if not ids:
        return LimitSource(inst.file_of("industries"), (int(inst.industry.at[i, "row"]),),
                           "research_field", what, None, "hosts",
                           "no candidate base of the field in reach (pilot_bases.csv)")
    table = bases(inst)
    return LimitSource(inst.file_of("pilot_bases"),
                       tuple(int(table.at[k, "row"]) for k in ids), "field", what, None,
                       "hosts")


def input_rules(tables: dict[str, pd.DataFrame], settings: dict[str, Any]) -> list[Problem]:
    """research_field without a pilot_bases.csv would be ignored silently; a base that needs
    talent must say which class (and a class without an amount needs none: also asked)."""
    ind, table = tables.get("industries"), tables.get("pilot_bases")
    files = settings.get("tables", {})
    problems = []
    if ind is not None and table is None:
        for row in ind.index[ind["research_field"].notna().to_numpy(bool)]:
            problems.append(Problem(
                files.get("industries", "industries.csv"),
                "research_field is given but the instance has no pilot_bases.csv: add the "
                "candidate bases, or leave research_field blank", row=int(row),
                column="research_field", value=ind.at[row, "research_field"]))
    if table is not None:
        file = files.get("pilot_bases", "pilot_bases.csv")
        need = table["talent_need"].astype(float).fillna(0.0)
        for row in table.index[(need > 0).to_numpy() & table["talent_class"].isna().to_numpy()]:
            problems.append(Problem(file, "talent_need is given but talent_class is blank: "
                                    "say which talent class the researchers are", row=int(row),
                                    column="talent_class"))
    return problems


def presolve_checks(inst: Instance, options: dict[str, Any], least: pd.Series
                    ) -> list[CheckFailure]:
    """Research-intensive industries: the candidate sites with a base of the field in reach
    can build the least capacity."""
    res = research(inst, options)
    if not len(res):
        return []
    sites = inst.sites
    reach = access(inst, options, sites.index[sites.index.get_level_values(0).isin(res.index)])
    in_reach = reach[np.array([isinstance(b, str) for b in reach["base"]], dtype=bool)]
    near = pd.MultiIndex.from_frame(in_reach[["industry", "region"]].drop_duplicates())
    out = []
    for i in res.index:
        need = float(least[i])
        mine = near[near.get_level_values(0) == i]
        most = float(sites["capacity_max"].reindex(mine).sum()) if len(mine) else 0.0
        if need > 0 and exceeds(need, most):
            field, km = res.at[i, "field"], float(res.at[i, "reach_km"])
            rows = rows_where(inst.table("pilot_bases"), field=field)
            out.append(CheckFailure("pilot_bases", "base_in_reach", (
                f"{rows_text(inst.file_of('industries'), (int(inst.industry.at[i, 'row']),))} "
                f"({i}): needs at least {number(need)} {inst.capacity_unit(i)}, but only "
                f"{len(mine)} candidate site{'s' if len(mine) != 1 else ''} lie within "
                f"{km:g} km (or the same group) of a {field} pilot base "
                f"({rows_text(inst.file_of('pilot_bases'), rows, 'field')}), able to build "
                f"{number(most)} together")))
    return out


FAMILY = Family(
    name="pilot_bases",
    summary="Research-intensive industries only near an open pilot base of their field; a "
            "base costs its setup and uses research talent and money (talent, funding).",
    math=__doc__ or "",
    build=build,
    requires=("pilot_bases",),
    tables=(TABLE, CONVERSION),
    columns={"industries": (
        ColumnSpec("research_field", "str", "pilot_bases: research field of a "
                   "research-intensive industry; it may be hosted only near an open pilot base "
                   "of this field (blank: not research-intensive)", required=False,
                   nullable=True),
        ColumnSpec("pilot_reach_km", "float", "pilot_bases: how far a host may be from its "
                   "pilot base (blank: the option reach_km; the same group always counts)",
                   unit="km", required=False, nullable=True, ge=0),
    )},
    report_rows=report,
    input_rules=input_rules,
    site_bounds=site_bounds,
    presolve_checks=presolve_checks,
    limits=("pilot_bases_access",),
    limit_source=limit_source,
    options=(
        Option("reach_km", float, 300.0, "reach of a pilot base where industries.csv "
               "pilot_reach_km is blank", unit="km", ge=0),
    ),
    terms=(Term("pilot_bases", "setup cost of the pilot bases opened", "money"),),
    symbols=(
        Symbol("industries.csv:research_field", "parameter", "I^{res}", "industries", "",
               "research-intensive industries and their field"),
        Symbol("industries.csv:pilot_reach_km", "parameter", r"\rho_i", "industries", "km",
               "reach of a pilot base (blank: option reach_km)"),
        Symbol("pilot_bases.csv", "parameter", r"B_{ir}", "sites of I^{res}", "",
               "bases of the industry's field within reach of r or in its group"),
        Symbol("pilot_bases.csv:fixed_cost", "parameter", r"F^{pilot}_b", "bases", "money",
               "setup cost of a base"),
        Symbol("pilot_bases.csv:talent_need", "parameter", r"\nu_b", "bases", "people",
               "researchers of class t_b a base needs in its region"),
        Symbol("opens", "variable", r"\text{opens}_b \in \{0,1\}", "bases of a needed field",
               "", "1 when the base opens"),
        Symbol("conversion.csv:years", "parameter", "Y_i", "industries in conversion.csv",
               "years", "with periods: years after which lab results become factories "
               "without a base"),
        Symbol("conversion.csv:pilot_years", "parameter", r"Y^{pilot}_i",
               "industries in conversion.csv", "years", "with periods: years a base must "
               "have been open (counted from the period after it opens)"),
        Symbol("pilot_bases_kept", "constraint", "", "bases (periods after the first)", "",
               "with periods: an open base stays open",
               r"\text{opens}^{p-1}_b \le \text{opens}^p_b"),
        Symbol("pilot_bases_access", "constraint", "", "sites of research-intensive "
               "industries", "hosts", "a host needs an open base of its field in reach",
               r"x_{ir} \le \sum_{b \in B_{ir}} \text{opens}_b"),
    ),
)
