"""Result tables of a solved model, the summary record, and writing them safely.

Tables (each a DataFrame, written as CSV):

* ``allocation``: industry, region, hosted, capacity, existing, new: one row per candidate
  site (``hosted`` 0/1);
* ``flows``: every positive flow of every family (chain coordination, market shipments), with
  its distance, border crossing, unit cost and cost;
* ``regions``: long form, per region and resource (talent class, funding, key input, policy
  limit, demand): each limit as the planner wrote it (in words, its sense "at most" or "at
  least", its input file and row), used against the limit's value, the room left or how far
  the plan breaks it, and ``model_rows``, the keys of the model rows behind it
  (:func:`allocator.engine.limits.limit_table`); ``shadow_price``, ``shadow_price_unit`` and
  ``shadow_price_meaning`` (added by :mod:`allocator.analysis.shadow`) say what one more unit
  of the limit saves (at most) or costs (at least);
* ``objective``: term, family, unit, weight, value (unweighted) and weighted value;
* ``industries``: per industry: candidate regions, host regions against target, capacity
  against requirement, the unit of capacity;
* ``geography``: each region's name, group, latitude and longitude (for reports and maps).
  against requirement;
* ``pruned`` (when any): candidate pairs left out of the model because they can never host,
  with the family whose limit forbids it and why (:mod:`allocator.engine.prune`).
* ``uses`` (when a family contributes to another family's limit, :meth:`Context.add_use`):
  family, resource, region, item (the talent class; blank for money), amount: what each
  family uses inside the limits the talent and funding families own (a pilot base's
  researchers and setup cost), so that ``allocator verify`` can count it.

``summary.json`` records status, objective, best bound, gap, times, the HiGHS version, the
options, the SHA-256 of every instance file and of every family file that ran
(``family_files``). ``results.xlsx`` holds every table, one sheet each, and the summary
(:func:`allocator.output.workbook.write_results_workbook`). A results folder is written by
:func:`allocator.output.folder.write_results`: beside the target and swapped into place, so
it is never left half-written, and only over a folder allocator wrote
(:mod:`allocator.core.outfolder`).
"""

from __future__ import annotations

import platform
import re
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocator.core.tables import CAPACITY, FLOW_COLUMNS, RESOURCE_COLUMNS, clean
from allocator.engine.build import BuiltModel
from allocator.engine.highs import SolveOutcome, SolverOptions
from allocator.engine.limits import limit_table, shortfall_table
from allocator.engine.stochastic import scenario_tables, stochastic_summary
from allocator.input.data import Instance

TABLE_FILES = ("allocation", "flows", "regions", "objective", "industries")


@dataclass
class Result:
    """A solved (or attempted) instance: tables, summary, and the model behind them."""

    built: BuiltModel
    outcome: SolveOutcome
    options: SolverOptions
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    #: why there is no plan (:class:`allocator.analysis.explain.Explanation`), after an
    #: infeasible solve
    explanation: Any = None

    @property
    def status(self) -> str:
        return self.outcome.status

    @property
    def objective(self) -> float | None:
        return self.outcome.objective

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code


def allocator_version() -> str:
    try:
        return metadata.version("allocator")
    except metadata.PackageNotFoundError:  # running from a checkout without install
        return "unknown"


def collect(built: BuiltModel, outcome: SolveOutcome, options: SolverOptions,
            explanation: Any = None) -> Result:
    """Read every table off the solved model (only the summary when there is no plan); with
    an ``explanation`` of infeasibility, its ranked relaxations become ``relaxations.csv``
    and it is recorded in the summary."""
    result = Result(built, outcome, options, explanation=explanation)
    if outcome.has_solution:
        result.tables = _tables(built)
    result.summary = _summary(result)
    if built.scenarios and "scenarios" in result.tables:
        result.summary["stochastic"] = stochastic_summary(built, result.tables)
    if explanation is not None:
        result.summary["explanation"] = explanation.to_dict()
        if len(explanation.relaxations):
            result.tables["relaxations"] = explanation.relaxations
    record_verdict(result)
    return result


#: ``summary.json`` status of a plan that breaks limits (``--soft``, ``allocator evaluate``)
BREAKS_LIMITS = "breaks_limits"


def record_verdict(result: Result, rules: int = 0) -> None:
    """Whether the plan keeps every limit, in ``result.summary``: ``limits_broken`` (the
    rows of ``shortfalls`` plus ``rules``, the rules an evaluated plan breaks that are
    bounds), ``verdict`` in words, and for a plan that breaks any, ``status`` =
    ``"breaks_limits"`` with the search's own status kept in ``solve_status``: a plan that
    breaks limits is never reported as "optimal"."""
    s = result.summary
    if not result.outcome.has_solution:
        return
    short = result.tables.get("shortfalls")
    broken = (0 if short is None else len(short)) + rules
    s["solve_status"] = result.outcome.status
    s["status"] = BREAKS_LIMITS if broken else result.outcome.status
    s["limits_broken"] = broken
    s["verdict"] = (f"the plan breaks {broken} limit{'s' if broken != 1 else ''} of the "
                    "instance (shortfalls.csv): it cannot be carried out as it is"
                    if broken else "the plan keeps every limit of the instance")



def _tables(built: BuiltModel) -> dict[str, pd.DataFrame]:
    m, inst = built.model, built.instance
    sites = inst.sites  # every candidate of the input; pairs left out (pruned) host nothing
    built_sites = m.hosts.index_set()
    hosted = np.array([round(pyo.value(m.hosts[s])) if s in built_sites else 0
                       for s in sites.index], dtype=int)
    cap = clean([pyo.value(m.capacity[s]) if s in built_sites else 0.0
                  for s in sites.index])
    existing = sites["existing"].to_numpy()
    allocation = pd.DataFrame({
        "industry": sites.index.get_level_values(0),
        "region": sites.index.get_level_values(1),
        "hosted": hosted,
        CAPACITY: cap,
        "existing": existing,
        "new": clean(np.maximum(cap - existing, 0.0)),
    })
    shared: dict[str, list[pd.DataFrame]] = {}
    # second-stage families report per scenario (allocator.engine.stochastic)
    for fam in built.first_stage:
        if fam.report_rows is None:
            continue
        ctx = built.context(fam)  # read-only: reports read the solved block
        for name, df in fam.report_rows(built.block(fam.name), ctx).items():
            shared.setdefault(name, []).append(df)
    flows = _concat(shared.pop("flows", []), FLOW_COLUMNS)
    resources = limit_table(built, _concat(shared.pop("resources", []), RESOURCE_COLUMNS))
    for col in ("used", "limit_value", "room_left", "broken_by"):
        resources[col] = clean(resources[col])
    if len(flows):
        flows["amount"] = clean(flows["amount"])
        flows["cost"] = clean(flows["cost"])
    tables = {
        "allocation": allocation,
        "flows": flows,
        "regions": resources,
        "objective": _objective_table(built),
        "industries": _industry_table(built, allocation),
    }
    tables["geography"] = _geography_table(inst)
    if len(built.soft_rows):
        tables["shortfalls"] = shortfall_table(built)
    if len(built.pruned):
        tables["pruned"] = built.pruned.copy()
    if built.uses:
        tables["uses"] = _uses_table(built)
    for name, parts in shared.items():
        tables[name] = pd.concat(parts, ignore_index=True)
    if built.scenarios:
        tables.update(scenario_tables(built))
    return tables


def _uses_table(built: BuiltModel) -> pd.DataFrame:
    """One row per (family, resource, key) of the contributed uses, with its solved
    amount; a key is a region or a (region, item) pair."""
    rows = []
    for resource, keys in built.uses.items():
        for key, parts in keys.items():
            region, item = (key[0], ",".join(map(str, key[1:]))) if isinstance(key, tuple) \
                else (key, "")
            by_family: dict[str, float] = {}
            for family, expr in parts:
                by_family[family] = by_family.get(family, 0.0) + float(pyo.value(expr))
            rows += [{"family": f, "resource": resource, "region": region, "item": item,
                      "amount": a} for f, a in by_family.items()]
    df = pd.DataFrame(rows, columns=["family", "resource", "region", "item", "amount"])
    df["amount"] = clean(df["amount"])
    return df



def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=columns)
    df = pd.concat(parts, ignore_index=True)
    return df.reindex(columns=columns)


def _geography_table(inst: Instance) -> pd.DataFrame:
    """Names, groups and coordinates of the regions: what a report needs to draw the plan,
    carried into the results so that a results folder is readable without its instance."""
    cols = ["id", "name", "group", "latitude", "longitude"]
    return inst.tables["regions"][cols].rename(columns={"id": "region"}).reset_index(drop=True)


def _objective_table(built: BuiltModel) -> pd.DataFrame:
    m, weights = built.model, built.weights
    rows = []
    for name, (term, family) in built.terms.items():
        value = float(pyo.value(m.objective_terms[name]))
        # a term's unit in the instance's money ([units] money): "CNY 100m per region"
        unit = re.sub(r"\bmoney\b", built.instance.money, term.unit)
        rows.append({"term": name, "family": family, "unit": unit,
                     "weight": weights[name], "value": value,
                     "weighted": weights[name] * value})
    df = pd.DataFrame(rows, columns=["term", "family", "unit", "weight", "value", "weighted"])
    df["value"] = clean(df["value"])
    df["weighted"] = clean(df["weighted"])
    return df


def _industry_table(built: BuiltModel, allocation: pd.DataFrame) -> pd.DataFrame:
    inst = built.instance
    ind = inst.industry
    g = allocation.groupby("industry", sort=False)
    out = pd.DataFrame({
        "industry": inst.industry_ids,
        "name": ind["name"].to_numpy(),
        "candidates": g.size().reindex(inst.industry_ids, fill_value=0).to_numpy(),
        "hosts": g["hosted"].sum().reindex(inst.industry_ids, fill_value=0).to_numpy(),
        "target_hosts": ind["target_hosts"].astype(int).to_numpy(),
        CAPACITY: g[CAPACITY].sum().reindex(inst.industry_ids, fill_value=0).to_numpy(),
        "final_demand": inst.final_demand.reindex(inst.industry_ids).to_numpy(),
        "capacity_unit": [inst.capacity_unit(i) for i in inst.industry_ids],
    })
    hosts = allocation[allocation["hosted"] == 1].groupby("industry", sort=False)["region"]
    out["host_regions"] = [" ".join(hosts.get_group(i)) if i in hosts.groups else ""
                           for i in inst.industry_ids]
    return out


def _summary(result: Result) -> dict[str, Any]:
    built, outcome = result.built, result.outcome
    inst = built.instance
    return {
        "instance": {"name": inst.name, "path": str(inst.path), "sha256": inst.digest,
                     "files": dict(sorted(inst.hashes.items())),
                     # the file each table was read from ([tables], --table NAME=PATH)
                     "tables": {t: f for t, f in inst.files.items() if t != "instance.toml"},
                     # changes made in memory as it was read (allocator.input.overrides)
                     **({"overrides": inst.overrides.to_dict()} if not inst.overrides.empty
                        else {})},
        "status": outcome.status,
        "termination": outcome.termination,
        "objective": outcome.objective,
        "best_bound": outcome.bound,
        "gap": outcome.gap,
        "has_plan": outcome.has_solution,
        "message": outcome.message,
        "first_incumbent": outcome.first_incumbent,
        "start": outcome.start,
        "seconds": {"build": built.seconds, **outcome.seconds},
        "size": outcome.size,
        "pruned_sites": len(built.pruned),
        "families": [{"name": s.family.name, "active": s.active and s.family in built.families,
                      "note": s.reason or ("" if s.family in built.families else "not built"),
                      "source": s.family.source or "allocator.models",
                      **({"sha256": s.family.source_sha256} if s.family.source_sha256
                         else {})}
                     for s in inst.families],
        # the code from outside allocator that ran (family files): path and SHA-256
        "family_files": [{"family": s.family.name, "path": s.family.source,
                          "sha256": s.family.source_sha256}
                         for s in inst.families if s.family.source_sha256],
        "weights": built.weights,
        # objective terms held at most a limit (objective_term_bounds), e.g. by a frontier
        **({"term_bounds": built.term_bounds} if built.term_bounds else {}),
        "soft": sorted(set(built.soft_rows["family"])),
        "options": {"solver": asdict(result.options), "settings": inst.settings,
                    "families": inst.family_options,
                    # instance.toml settings changed for this run (--set SECTION.KEY=VALUE)
                    "set": inst.set_values},
        "units": inst.settings["units"],
        "software": {"allocator": allocator_version(), "solver": outcome.solver,
                     "pyomo": metadata.version("pyomo"), "python": platform.python_version()},
    }
