"""Evaluate a given plan: fix hosting (and capacity where given) to it, solve the rest.

Planners arrive with the regions' own plans ("every province wants NEVs"). A plan file
(``PLAN.csv``) lists the (industry, region) pairs that host, optionally with their capacity:

========== ======== =================================================================
column     required meaning
========== ======== =================================================================
industry   yes      industry id (industries.csv)
region     yes      region id (regions.csv); the pair must be a candidate site
hosted     no       true (default) or false; candidate pairs not listed do not host
capacity   no       capacity at the site; blank: the evaluation chooses it
note       no       free text (where the claim comes from), ignored
========== ======== =================================================================

The plan file is validated like any input (file, row, column, value; exit 2), including a
capacity the site cannot have (above its maximum, below the minimum scale of a new site,
below a kept plant's existing capacity).

The evaluation builds the ordinary model with every family's limits softened (talent,
funding, supply, demand, policy: ``build_model(soft=...)``), fixes the plan's decisions
and lets HiGHS choose the rest (flows, shipments, imports, fund, capacities left blank) at
the least shortfall first (penalty ``--penalty`` per unit, default 1e6), then the least
cost. What the plan breaks comes back as amounts (``shortfalls.csv``); rules that are
bounds rather than limits (an existing plant closed although the instance keeps them, a
must-host pair left out) are relaxed for the evaluation and reported too. Either makes the
plan infeasible: it says so, and exits 4.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from allocator.analysis.pipeline import solve
from allocator.core.errors import InputError, Problem
from allocator.core.schema import ColumnSpec, TableSpec
from allocator.core.tables import CAPACITY, WRITTEN_TOLERANCE
from allocator.engine.build import BuiltModel, build_model
from allocator.engine.highs import SolverOptions
from allocator.engine.results import Result, record_verdict
from allocator.input.data import Instance
from allocator.input.validation import Reader, ordered, suggest

PLAN = TableSpec(
    "plan",
    "A given plan: the (industry, region) pairs that host, optionally with capacity.",
    (
        ColumnSpec("industry", "id", "industry id", references="industries"),
        ColumnSpec("region", "id", "region id", references="regions"),
        ColumnSpec("hosted", "bool", "the region hosts the industry (blank: true)",
                   required=False, nullable=True, default=True),
        ColumnSpec(CAPACITY, "float", "capacity at the site (blank: chosen by the "
                   "evaluation)", unit=CAPACITY, required=False, nullable=True, ge=0),
        ColumnSpec("note", "str", "free text, ignored", required=False, nullable=True),
    ),
    key=("industry", "region"),
)


@dataclass
class Evaluation:
    """A plan's evaluation: the result (tables as for a solve, plus ``shortfalls``) and
    what the plan breaks."""

    result: Result
    plan_file: Path
    #: rules the plan breaks that are bounds, not limits: family, rule, industry, region
    broken: list[dict[str, str]] = field(default_factory=list)

    @property
    def shortfalls(self) -> pd.DataFrame:
        return self.result.tables.get("shortfalls", pd.DataFrame(
            columns=["family", "constraint", "index", "sense", "amount"]))

    @property
    def feasible(self) -> bool:
        return not self.broken and not len(self.shortfalls)


def read_plan(instance: Instance, path: str | Path) -> pd.DataFrame:
    """The plan file, validated against the instance; raises :class:`InputError` with every
    problem (file, row, column, value). Returns one row per listed pair: industry, region,
    hosted (bool), capacity (NaN: free), row."""
    path = Path(path)
    reader = Reader(path.parent)  # the instance reader's CSV parsing and messages
    file = path.name
    if not path.is_file():
        raise InputError([Problem(str(path), "plan file does not exist")])
    raw = reader._read_csv(path, file)
    df = reader._parse(raw, PLAN, file) if raw is not None else None
    if df is None:
        raise InputError(ordered(reader.problems))
    sites = instance.sites
    listed_only = instance.settings["sites"]["candidates"] == "listed"
    keep = instance.settings["sites"]["brownfield"] == "keep"
    ids = {"industry": set(instance.industry_ids), "region": set(instance.region_ids)}
    for row, rec in df.iterrows():
        bad = False
        for col, table in (("industry", "industries"), ("region", "regions")):
            value = rec[col]
            if value is not None and value not in ids[col]:
                reader.add(file, f"unknown {table} id{suggest(value, ids[col])}",
                           row=int(row), column=col, value=value)
                bad = True
        if bad or rec["industry"] is None or rec["region"] is None:
            continue
        pair = (rec["industry"], rec["region"])
        hosted = True if pd.isna(rec["hosted"]) else bool(rec["hosted"])
        cap = rec[CAPACITY]
        if pair not in sites.index:
            why = ("not listed in sites.csv, and instance.toml sets [sites] candidates = "
                   "\"listed\"" if listed_only else "sites.csv forbids it (allowed = false)")
            if hosted:
                reader.add(file, f"{pair[1]} may not host {pair[0]}: the pair is not a "
                           f"candidate site: {why}", row=int(row), column="region",
                           value=pair[1])
            continue
        site = sites.loc[pair]
        if pd.isna(cap):
            continue
        if not hosted and cap > 0:
            reader.add(file, "capacity on a row with hosted = false: a site that does not "
                       "host has no capacity", row=int(row), column=CAPACITY, value=cap)
        elif hosted and cap > site["capacity_max"] * (1 + WRITTEN_TOLERANCE):
            reader.add(file, f"above the site's maximum capacity {site['capacity_max']:g} "
                       "(sites.csv max_capacity, else industries.csv capacity_max)",
                       row=int(row), column=CAPACITY, value=cap)
        elif hosted and not site["brownfield"] and cap < site["min_scale"] * (
                1 - WRITTEN_TOLERANCE):
            reader.add(file, f"below the minimum efficient scale {site['min_scale']:g} of a "
                       "new site (industries.csv min_scale)", row=int(row),
                       column=CAPACITY, value=cap)
        elif hosted and site["brownfield"] and keep and cap < site["existing"] * (
                1 - WRITTEN_TOLERANCE):
            reader.add(file, f"below the existing capacity {site['existing']:g}, which the "
                       "instance keeps ([sites] brownfield = \"keep\")", row=int(row),
                       column=CAPACITY, value=cap)
    if reader.problems:
        raise InputError(ordered(reader.problems))
    out = df.assign(row=df.index)
    out["hosted"] = out["hosted"].fillna(True).astype(bool)
    out[CAPACITY] = out[CAPACITY].astype(float)
    return out.reset_index(drop=True)


def fix_plan(built: BuiltModel, plan: pd.DataFrame) -> list[dict[str, str]]:
    """Fix hosts (and capacity where given) to ``plan``; candidate sites not in the plan do
    not host. A bound the plan breaks (a kept plant closed, a must-host pair left out) is
    relaxed so that the plan can be costed, and returned. A plan that hosts a pair the model
    left out (``built.pruned``: it can never host) cannot be fixed: ValueError (``evaluate``
    builds without pruning, so there every candidate pair is in the model)."""
    m, inst = built.model, built.instance
    sites = built.sites
    keep = inst.settings["sites"]["brownfield"] == "keep"
    given = plan.set_index(["industry", "region"])
    hosted_pairs = given.index[given["hosted"].astype(bool).to_numpy()]
    outside = [s for s in hosted_pairs if s not in sites.index]
    if outside:
        raise ValueError(f"the plan hosts pairs the model left out as never able to host: "
                         f"{outside[:5]} (see BuiltModel.pruned; build with prune=False)")
    # the family that makes the must-host pairs host, if one is built
    must_host = next((f.name for f in built.families if f.enforces_must_host), None)
    broken = []
    for site in sites.index:
        hosted = bool(given.at[site, "hosted"]) if site in given.index else False
        cap = float(given.at[site, CAPACITY]) if site in given.index else float("nan")
        x, q = m.hosts[site], m.capacity[site]
        if not hosted:
            if sites.at[site, "brownfield"] and keep:
                existing = sites.at[site, "existing"]
                broken.append({"family": "(engine)", "rule": "existing plant kept",
                               "industry": site[0], "region": site[1],
                               "detail": f"closes the existing plant (capacity {existing:g}), "
                                         "but the instance keeps existing plants"})
                q.setlb(0)
            if x.lb and x.lb > 0:
                if sites.at[site, "must_host"] and must_host is not None:
                    broken.append({"family": must_host, "rule": "must_host",
                                   "industry": site[0], "region": site[1],
                                   "detail": "leaves out a pair that must host (sites.csv "
                                             "must_host)"})
                x.setlb(0)
            x.fix(0)
            q.fix(0)
        else:
            x.fix(1)
            if cap == cap:  # given
                q.fix(cap)
    return broken


def evaluate(instance: Instance, plan_path: str | Path, options: SolverOptions | None = None,
             *, penalty: float | None = None) -> Evaluation:
    """Evaluate the plan file at ``plan_path`` on ``instance`` (see the module docstring)."""
    plan = read_plan(instance, plan_path)
    soft = [f.name for f in instance.active_families if f.limits]
    # no pruning: the plan may host any pair the input allows, and what it breaks is reported
    # as a shortfall of the limit, not hidden by leaving the pair out
    built = build_model(instance, soft=soft, soft_penalty=penalty, prune=False)
    broken = fix_plan(built, plan)
    result = solve(built, options)
    path = Path(plan_path).resolve()
    ev = Evaluation(result, path, broken)
    result.summary["plan"] = {
        "file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "pairs": int(plan["hosted"].sum()), "feasible": ev.feasible,
        "shortfall_rows": len(ev.shortfalls), "broken": broken,
    }
    record_verdict(result, len(broken))
    return ev


def constraint_docs(built: BuiltModel) -> dict[tuple[str, str], tuple[str, str]]:
    """(unit, meaning) of every family constraint, from the families' symbols."""
    money = built.instance.money
    docs = {}
    for fam in built.families:
        for s in fam.symbols:
            if s.kind == "constraint":
                docs[(fam.name, s.name)] = (money if s.unit == "money" else s.unit, s.doc)
    return docs


def render(ev: Evaluation) -> str:
    """What ``allocator evaluate`` prints: the verdict, cost by term, what the plan breaks."""
    result = ev.result
    built = result.built
    inst = built.instance
    money = inst.money
    lines = []
    if not result.outcome.has_solution:
        return (f"{ev.plan_file.name} on {inst.name}: the evaluation did not finish "
                f"({result.status}: {result.outcome.message or result.outcome.termination})")
    short = ev.shortfalls
    if ev.feasible:
        lines.append(f"{ev.plan_file.name} on {inst.name}: the plan is FEASIBLE: it meets "
                     "every limit.")
    else:
        n = len(short) + len(ev.broken)
        lines.append(f"{ev.plan_file.name} on {inst.name}: the plan is INFEASIBLE: it breaks "
                     f"{n} limit{'s' if n != 1 else ''} of the instance (amounts below: what "
                     "it would take to meet them).")
    obj = result.tables["objective"]
    cost = obj[obj["term"] != "shortfall"]
    lines.append("")
    lines.append(f"Cost of the plan by term ({money}):")
    lines.append(f"{'term':<16}{'weight':>10}{'value':>16}{'weighted':>16}")
    for row in cost.itertuples(index=False):
        lines.append(f"{row.term:<16}{row.weight:>10g}{row.value:>16,.2f}{row.weighted:>16,.2f}")
    lines.append(f"{'total':<16}{'':>10}{'':>16}{cost['weighted'].sum():>16,.2f}")
    if ev.broken:
        lines.append("")
        lines.append("Rules the plan breaks:")
        for b in ev.broken:
            lines.append(f"  {b['family']}: {b['rule']} ({b['industry']}, {b['region']}): "
                         f"{b['detail']}")
    if len(short):
        docs = constraint_docs(built)
        lines.append("")
        lines.append(f"Limits the plan breaks ({len(short)} rows, shortfalls.csv): the amount "
                     "each row is off by")
        for (fam, con), rows in short.groupby(["family", "constraint"], sort=False):
            _, meaning = docs.get((fam, con), ("", ""))
            # each row in its own unit (an industry's capacity_unit, the talent unit, an
            # input's unit): amounts are summed only where they share one
            units = set(rows["unit"].fillna("").astype(str))
            total = (f", {rows['amount'].sum():,.4g} {units.pop()} in all".rstrip()
                     if len(units) == 1 else "")
            lines.append(f"  {fam}.{con} ({meaning}): {len(rows)} row"
                         f"{'s' if len(rows) != 1 else ''}{total}")
            for row in rows.itertuples(index=False):
                unit = "" if pd.isna(row.unit) else str(row.unit)
                lines.append(f"    [{row.index}] {row.amount:,.4g} {unit}".rstrip())
    return "\n".join(lines)
