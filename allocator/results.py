"""Result tables of a solved model, the summary record, and writing them safely.

Tables (each a DataFrame, written as CSV):

* ``allocation``: industry, region, hosted, capacity, existing, new: one row per candidate
  site (``hosted`` 0/1);
* ``flows``: every positive flow of every family (chain coordination, market shipments), with
  its distance, border crossing, unit cost and cost;
* ``regions``: long form, per region and resource (talent class, funding, key input, policy
  limit, demand): used against available, and the slack; ``constraint`` names the Pyomo
  row(s) whose right-hand side is the limit (joined by `` + `` when one number is the limit of
  several rows; a variable stands for its upper bound); ``shadow_price`` and
  ``shadow_price_unit`` (added by :mod:`allocator.shadow`) say what one more unit of the limit
  would save;
* ``objective``: term, family, unit, weight, value (unweighted) and weighted value;
* ``industries``: per industry: candidate regions, host regions against target, capacity
  against requirement, the unit of capacity;
* ``geography``: each region's name, group, latitude and longitude (for reports and maps).
  against requirement;
* ``pruned`` (when any): candidate pairs left out of the model because they can never host,
  with the family whose limit forbids it and why (:mod:`allocator.prune`).
* ``uses`` (when a family contributes to another family's limit, :meth:`Context.add_use`):
  family, resource, region, item (the talent class; blank for money), amount: what each
  family uses inside the limits the talent and funding families own (a pilot base's
  researchers and setup cost), so that ``allocator verify`` can count it.

``summary.json`` records status, objective, best bound, gap, times, the HiGHS version, the
options, the SHA-256 of every instance file and of every family file that ran
(``family_files``). ``results.xlsx`` holds every table, one sheet
each, and the summary (:func:`allocator.workbook.write_results_workbook`). A results folder is
written to a temporary folder beside the target and swapped into place, so it is never left
half-written; only a folder allocator wrote is replaced (:mod:`allocator.outfolder`).
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocator.build import BuiltModel, Context
from allocator.data import Instance
from allocator.outfolder import write_folder
from allocator.solve import SolveOutcome, SolverOptions

TABLE_FILES = ("allocation", "flows", "regions", "objective", "industries")
_FLOW_COLUMNS = ["family", "industry", "from", "to", "amount", "distance_km",
                 "crosses_border", "unit_cost", "cost", "term"]
_RESOURCE_COLUMNS = ["family", "region", "resource", "used", "available", "slack", "unit",
                     "constraint"]


@dataclass
class Result:
    """A solved (or attempted) instance: tables, summary, and the model behind them."""

    built: BuiltModel
    outcome: SolveOutcome
    options: SolverOptions
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    #: why there is no plan (:class:`allocator.explain.Explanation`), after an infeasible solve
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

    def write(self, folder: str | Path, *, force: bool = False) -> Path:
        """Write the results folder (see :func:`write_results`)."""
        return write_results(self, folder, force=force)


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
        from allocator.stochastic import stochastic_summary

        result.summary["stochastic"] = stochastic_summary(built, result.tables)
    if explanation is not None:
        result.summary["explanation"] = explanation.to_dict()
        if len(explanation.relaxations):
            result.tables["relaxations"] = explanation.relaxations
    return result


def _clean(values: np.ndarray | pd.Series, decimals: int = 9) -> np.ndarray:
    """Solver noise off the written numbers: rounded to 1e-9 (28.000000000000007 -> 28.0),
    far below every tolerance of the model and of the checks."""
    arr = np.round(np.asarray(values, dtype=float), decimals)
    return arr + 0.0  # turns -0.0 into 0.0


def _tables(built: BuiltModel) -> dict[str, pd.DataFrame]:
    m, inst = built.model, built.instance
    sites = inst.sites  # every candidate of the input; pairs left out (pruned) host nothing
    built_sites = m.hosts.index_set()
    hosted = np.array([round(pyo.value(m.hosts[s])) if s in built_sites else 0
                       for s in sites.index], dtype=int)
    cap = _clean([pyo.value(m.capacity[s]) if s in built_sites else 0.0
                  for s in sites.index])
    existing = sites["existing"].to_numpy()
    allocation = pd.DataFrame({
        "industry": sites.index.get_level_values(0),
        "region": sites.index.get_level_values(1),
        "hosted": hosted,
        "capacity": cap,
        "existing": existing,
        "new": _clean(np.maximum(cap - existing, 0.0)),
    })
    shared: dict[str, list[pd.DataFrame]] = {}
    for fam in built.first_stage:  # second-stage families: per scenario (allocator.stochastic)
        if fam.report is None:
            continue
        ctx = Context(m, inst, fam)  # read-only: reports read the solved block
        for name, df in fam.report(built.block(fam.name), ctx).items():
            shared.setdefault(name, []).append(df)
    flows = _concat(shared.pop("flows", []), _FLOW_COLUMNS)
    resources = _concat(shared.pop("resources", []), _RESOURCE_COLUMNS)
    if len(resources):
        resources["slack"] = resources["available"].astype(float) - resources["used"].astype(
            float)
        for col in ("used", "available", "slack"):
            resources[col] = _clean(resources[col])
    if len(flows):
        flows["amount"] = _clean(flows["amount"])
        flows["cost"] = _clean(flows["cost"])
    tables = {
        "allocation": allocation,
        "flows": flows,
        "regions": resources,
        "objective": _objective_table(built),
        "industries": _industry_table(built, allocation),
    }
    tables["geography"] = _geography_table(inst)
    if len(built.soft_rows):
        tables["shortfalls"] = _shortfall_table(built)
    if len(built.pruned):
        tables["pruned"] = built.pruned.copy()
    if built.uses:
        tables["uses"] = _uses_table(built)
    for name, parts in shared.items():
        tables[name] = pd.concat(parts, ignore_index=True)
    if built.scenarios:
        from allocator.stochastic import scenario_tables

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
    df["amount"] = _clean(df["amount"])
    return df


def flow_table(family: str, term: str, arcs: pd.DataFrame, industry: str,
               amount: list[float]) -> pd.DataFrame:
    """Rows of the shared ``flows`` table for the positive flows of a family.

    ``arcs`` has columns from, to, distance_km, crosses_border, unit_cost and the column
    named by ``industry``; ``amount`` is the solved flow on each row.
    """
    df = arcs.assign(amount=amount)
    used = df[df["amount"] > 0]
    return pd.DataFrame({
        "family": family, "industry": used[industry], "from": used["from"], "to": used["to"],
        "amount": used["amount"], "distance_km": used["distance_km"],
        "crosses_border": used["crosses_border"], "unit_cost": used["unit_cost"],
        "cost": used["amount"] * used["unit_cost"], "term": term,
    }, columns=_FLOW_COLUMNS)


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


def _shortfall_table(built: BuiltModel) -> pd.DataFrame:
    """Every positive shortfall, mapped to its input rows (see :mod:`allocator.limits`)."""
    from allocator.limits import shortfall_table

    return shortfall_table(built)


def _objective_table(built: BuiltModel) -> pd.DataFrame:
    m, weights = built.model, built.weights
    rows = []
    for name, (term, family) in built.terms.items():
        value = float(pyo.value(m.objective_terms[name]))
        rows.append({"term": name, "family": family, "unit": term.unit,
                     "weight": weights[name], "value": value,
                     "weighted": weights[name] * value})
    df = pd.DataFrame(rows, columns=["term", "family", "unit", "weight", "value", "weighted"])
    df["value"] = _clean(df["value"])
    df["weighted"] = _clean(df["weighted"])
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
        "capacity": g["capacity"].sum().reindex(inst.industry_ids, fill_value=0).to_numpy(),
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
                     "tables": {t: f for t, f in inst.files.items() if t != "instance.toml"}},
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
        "soft": sorted(set(built.soft_rows["family"])),
        "options": {"solver": asdict(result.options), "settings": inst.settings,
                    "families": inst.family_options},
        "units": inst.settings["units"],
        "software": {"allocator": allocator_version(), "solver": outcome.solver,
                     "pyomo": metadata.version("pyomo"), "python": platform.python_version()},
    }


def write_results(result: Result, folder: str | Path, *, force: bool = False) -> Path:
    """Write every table, ``summary.json`` and ``results.xlsx`` to ``folder`` under the rule
    of :mod:`allocator.outfolder`: a folder allocator wrote is replaced atomically (the new one
    written beside it, then swapped in, so it is never half-written); any other non-empty
    folder is refused unless ``force``, and even then only allocator's files are written."""

    def write(tmp: Path) -> None:
        for name, df in result.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
        with open(tmp / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(result.summary, fh, indent=2, default=_json_default)
            fh.write("\n")
        from allocator.workbook import write_results_workbook

        write_results_workbook(result.tables, result.summary, tmp / "results.xlsx")

    return write_folder(folder, write, force=force, reading=[result.built.instance.path])


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)
