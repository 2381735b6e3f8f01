"""``allocator verify``: an independent check of a written plan, without Pyomo or HiGHS.

It re-reads the instance folder and the results folder and recomputes, with plain pandas,
every constraint of every active family and every objective term from the written numbers
(``allocation.csv``, ``flows.csv``, ``funding.csv``, ``imports.csv``, ``shortfalls.csv``),
then compares the objective it gets with the one in ``summary.json``. The rules are a
second statement of the formulation (docs/verification.md): they are written from the
documented definitions, not from the model code, so a mistake in one shows up as a
disagreement with the other.

* The engine's own rules (domains, bounds, what leaves a site) are in
  :mod:`allocator.verify.rules`.
* A built-in family's rules are in its folder, ``models/<family>/verify.py``, found by name
  (``allocator.models.<family>.verify``) and collected from its ``VERIFY``
  (:class:`FamilyRules`: the rules, and the option defaults, term weights and input columns
  restated).
* A researcher's family brings its own rules as ``Family(verify_rules=...)``: a function
  that gets a :class:`Check` and calls :meth:`Check.at_most`, :meth:`Check.at_least`,
  :meth:`Check.term`. A family with neither is reported as *not checked*, and the
  verification fails: a plan is never called verified when part of it was not looked at.

Tolerances: a constraint row is violated when it is off by more than
``FEASIBILITY_TOLERANCE * (1 + max(|lhs|, |rhs|))`` (HiGHS accepts rows off by up to 1e-6
in its own scaled terms); the objective and each term agree when the recomputed and the
written values differ by at most ``OBJECTIVE_TOLERANCE`` relative (the same 1e-6: far below
any difference a planner would act on) plus, for a term, half a written step
(``WRITTEN_TOLERANCE``, the tables are written to 6 decimals) per number of the plan read:
a term near zero recomputed from rounded capacities has no relative tolerance to absorb the
rounding.

This module (and everything it imports) must not import Pyomo or HiGHS; a test checks it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.core.errors import InputError
from allocator.core.tables import WRITTEN_TOLERANCE
from allocator.core.trust import not_allowed, same_file
from allocator.input.families import FamilyLoadError, load_family_file
from allocator.input.set_values import apply_set, set_text
from allocator.verify import rules, scenarios
from allocator.verify.check import (
    ENGINE,
    FEASIBILITY_TOLERANCE,
    OBJECTIVE_TOLERANCE,
    Check,
    FamilyRules,
    Report,
    Run,
    Violation,
)
from allocator.verify.data import (
    InstanceData,
    ReadError,
    ResultsData,
    apply_overrides,
    read_instance,
    read_results,
)
from allocator.verify.scenarios import load_named_tables

__all__ = ["Check", "FamilyRules", "ReadError", "Report", "Violation", "builtin_rules", "verify"]

#: ``source`` of a built-in family in summary.json
BUILTIN = "allocator.models"


def verify(instance: str | Path, results: str | Path,
           family_files: Iterable[str | Path] = (), *, allow_families: bool = False) -> Report:
    """Check the results folder ``results`` against the instance folder ``instance``.

    ``family_files``: researchers' family files whose ``verify_rules`` to use, by family
    name (default: the file each active family was loaded from, as recorded in summary.json,
    if ``allow_families``: a file named by a results folder or an instance is code, and runs
    only when allowed, :mod:`allocator.core.trust`). Raises :class:`ReadError` when a folder
    cannot be read at all, :class:`InputError` naming each family file not allowed.
    """
    res = read_results(results)
    summary = res.summary
    report = Report(Path(instance).resolve(), res.path,
                    objective_written=summary.get("objective"))
    listed = summary.get("families", [])
    active = [f for f in listed if f.get("active")]
    family_files = list(family_files)
    known = _family_rules(listed, family_files, report, allow_families,
                          res.path / "summary.json")
    columns: dict[str, dict[str, str]] = {}
    tables: dict[str, dict[str, str]] = {}
    for fam in known.values():
        for table, kinds in fam.columns.items():
            columns.setdefault(table, {}).update(kinds)
        tables.update(fam.tables)
    data = read_instance(instance, columns, tables, allow_families=allow_families,
                         family_files=family_files)
    report.instance = data.path
    given = summary.get("options", {}).get("set") or {}
    if given:  # the settings the solve was given for its run (--set), over instance.toml
        try:
            data.settings = apply_set(data.settings, given)
        except ValueError as exc:
            report.problems.append(f"summary.json options.set: {exc}")
        report.notes.append("checked with the settings the run changed on its command line: "
                            + " ".join(f"--set {set_text(k, v)}" for k, v in given.items()))
    load_named_tables(data, summary)  # tables read from other files (--table NAME=PATH)
    report.notes.extend(apply_overrides(data, summary))  # a sweep case's what-if
    stochastic = summary.get("stochastic")
    second = set((stochastic or {}).get("second_stage", []))
    _compare_files(data, summary, report)
    if not summary.get("has_plan") or "allocation" not in res.tables:
        report.problems.append(f"the results hold no plan (status {summary.get('status')})")
        return report
    run = Run(data, res, report)
    run.plan = _plan(data, res.table("allocation"), report)
    run.flows = _flows(res)
    run.recorded = _recorded(res)
    engine = Check(run, ENGINE, {})
    rules.engine(engine)
    report.checked[ENGINE] = "core rules (allocator/verify/rules.py)"
    toml = data.settings
    names = {f["name"] for f in active}
    for family in sorted(set(run.flows["family"]) - names):
        report.problems.append(f"flows.csv has flows of the family {family}, which is not "
                               "active in summary.json")
    for fam in active:
        name = fam["name"]
        options = _options(name, summary, toml, report, known.get(name))
        rule = known[name].rules if name in known else None
        how = ("built-in rules" if _is_builtin(fam) else
               f"its own verify_rules ({fam.get('source')})")
        if name in second:  # checked in every scenario, below
            report.checked[name] = f"{how}, in every scenario"
            continue
        if rule is not None:
            rule(Check(run, name, options))
            report.checked[name] = how
        elif name not in report.unchecked:
            report.unchecked[name] = (
                "no rules: the family defines no verify_rules" if name in known or not
                _is_builtin(fam) else f"no rules: allocator.models.{name}.verify does not "
                "exist") + "; its constraints and terms were not recomputed"
    if stochastic:
        scenarios.check(run, [f for f in active if f["name"] in second],
                        lambda name: _options(name, summary, toml, report, known.get(name)),
                        {name: fam.rules for name, fam in known.items()})
    if summary.get("term_bounds"):
        rules.term_bounds(Check(run, ENGINE, {}), summary["term_bounds"])
    _shortfalls(run)
    _objective(run, active, toml, known)
    report.rows = run.rows
    return report


def _is_builtin(entry: dict[str, Any]) -> bool:
    """Whether a family of summary.json is a built-in one (not loaded from a file)."""
    return entry.get("source", BUILTIN) == BUILTIN


def builtin_rules(name: str) -> FamilyRules | None:
    """``VERIFY`` of the built-in family ``name`` (its ``models/<name>/verify.py``, imported
    as ``allocator.models.<name>.verify``), or None when it has none."""
    module = f"{BUILTIN}.{name}.verify"
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:  # no such file; an import inside it still fails
        if exc.name is not None and (module + ".").startswith(exc.name + "."):
            return None
        raise
    stated = getattr(found, "VERIFY", None)
    return stated if isinstance(stated, FamilyRules) else None


def _family_rules(listed: list[dict[str, Any]], files: Iterable[str | Path], report: Report,
                  allow: bool, summary: Path) -> dict[str, FamilyRules]:
    """What the checker knows of each family of summary.json: a built-in family's
    ``VERIFY`` (found by name), a researcher's family's ``verify_rules``, tables and columns
    (loaded from its file). A file recorded in summary.json runs only with ``allow`` or when
    it is one of ``files``."""
    known = {}
    for f in listed:
        if _is_builtin(f) and (found := builtin_rules(f["name"])) is not None:
            known[f["name"]] = found
    given = list(files)
    active = [f for f in listed if f.get("active")]
    outside = [f for f in active if not _is_builtin(f)]
    if not outside and not given:
        return known
    refused = [not_allowed(str(summary), "families[].source", f["name"], Path(f["source"]))
               for f in outside
               if not allow and not any(same_file(f["source"], g) for g in given)]
    if refused:
        raise InputError(refused)
    loaded = {}
    recorded = {f["source"]: f.get("sha256") for f in outside}
    sources = [f["source"] for f in outside]
    for path in [*sources, *(g for g in given if not any(same_file(g, s) for s in sources))]:
        try:
            fam = load_family_file(path)
        except FamilyLoadError as exc:
            report.notes.append(f"could not load {path}: {exc}")
            continue
        if recorded.get(path) and fam.source_sha256 != recorded[path]:
            report.notes.append(f"the family file {path} changed since the run (SHA-256 now "
                                f"{fam.source_sha256}, recorded {recorded[path]}); its "
                                "check is the file as it is now")
        loaded[fam.name] = fam
    for f in active:
        fam = loaded.get(f["name"])
        if fam is None:
            if f in outside:
                report.unchecked[f["name"]] = f"its file {f['source']} could not be loaded"
            continue
        known[fam.name] = FamilyRules(
            rules=fam.verify_rules,
            columns={table: {c.name: c.kind for c in specs}
                     for table, specs in fam.columns.items()},
            tables={t.name: {c.name: c.kind for c in t.columns} for t in fam.tables})
    return known


def _compare_files(data: InstanceData, summary: dict[str, Any], report: Report) -> None:
    solved = summary.get("instance", {}).get("files", {})
    changed = sorted(f for f in set(solved) | set(data.hashes)
                     if solved.get(f) != data.hashes.get(f))
    if changed:
        report.notes.append("the instance differs from the one that was solved (SHA-256 of "
                            + ", ".join(changed) + "); checking against the files as they "
                            "are now")


def _plan(data: InstanceData, allocation: pd.DataFrame, report: Report) -> pd.DataFrame:
    """Candidate sites (restated) joined with the written allocation; a written row for a
    pair that is not a candidate, or a candidate without a row, is a violation."""
    sites = data.sites
    alloc = allocation.set_index(["industry", "region"])
    extra = alloc.index.difference(sites.index)
    missing = sites.index.difference(alloc.index)
    for i, r in extra:
        hosted, cap = alloc.at[(i, r), "hosted"], alloc.at[(i, r), "capacity"]
        report.violations.append(Violation(
            ENGINE, "sites", f"{i},{r}", float(max(hosted, cap)), "",
            "allocation.csv has a row for a pair that may not host (not a candidate site)"))
    for i, r in missing:
        report.violations.append(Violation(ENGINE, "sites", f"{i},{r}", 0.0, "",
                                           "a candidate site has no row in allocation.csv"))
    plan = sites.join(alloc[["hosted", "capacity"]], how="left")
    plan["hosted"] = plan["hosted"].fillna(0).astype(float)
    plan["capacity"] = plan["capacity"].fillna(0.0).astype(float)
    # inv: F x + c q on new sites; c max(q - e, 0) on brownfield sites (their setup is paid)
    new = np.maximum(plan["capacity"] - plan["existing"], 0.0)
    plan["investment"] = np.where(
        plan["brownfield"], plan["unit_capex"] * new,
        plan["fixed_cost"] * plan["hosted"] + plan["unit_capex"] * plan["capacity"])
    return plan


def _flows(res: ResultsData) -> pd.DataFrame:
    cols = ["family", "industry", "from", "to", "amount"]
    flows = res.table("flows", cols)
    if not len(flows):
        return pd.DataFrame(columns=cols).astype({"amount": float})
    out = flows[cols].copy()
    out["amount"] = out["amount"].astype(float)
    return out


def _recorded(res: ResultsData) -> dict[tuple[str, str, str], float]:
    short = res.table("shortfalls", ["family", "constraint", "index", "sense", "amount"])
    out: dict[tuple[str, str, str], float] = {}
    for f, c, i, a in zip(short["family"], short["constraint"], short["index"].astype(str),
                          short["amount"].astype(float), strict=True):
        out[(f, c, i)] = out.get((f, c, i), 0.0) + a
    return out


def _options(name: str, summary: dict[str, Any], toml: dict[str, Any], report: Report,
             known: FamilyRules | None) -> dict[str, Any]:
    """The family's options: instance.toml's value where given, else the default (the
    checker's own copy for built-in families, else what the solve recorded). A recorded
    value that disagrees is a problem: the solve read the instance differently."""
    recorded = summary.get("options", {}).get("families", {}).get(name, {})
    given = toml.get(name, {}) if isinstance(toml.get(name), dict) else {}
    defaults = known.options if known is not None and known.options is not None else recorded
    options = {**defaults, **given}
    for key, value in options.items():
        if key in recorded and recorded[key] != value:
            report.problems.append(f"option [{name}] {key}: the instance says {value!r}, the "
                                   f"solve recorded {recorded[key]!r}")
    return options


def _shortfalls(run: Run) -> None:
    """Shortfalls recorded for rows no rule checked: they cannot be accounted for."""
    rows = []
    for key, amount in run.recorded.items():
        if key in run.matched:
            rows.append({"family": key[0], "constraint": key[1], "index": key[2],
                         "needed": run.matched[key], "recorded": amount})
        elif amount > FEASIBILITY_TOLERANCE:
            run.report.problems.append(
                f"shortfalls.csv records {amount:g} for {key[0]}.{key[1]}[{key[2]}], a row no "
                "rule checked")
    run.report.shortfalls = pd.DataFrame(rows, columns=["family", "constraint", "index",
                                                        "needed", "recorded"])


def _objective(run: Run, active: list[dict[str, Any]], toml: dict[str, Any],
               known: dict[str, FamilyRules]) -> None:
    """Every written term against its recomputed value; the weighted sum against
    summary.json. The shortfall term is what the softened rows need (sum of their excess)."""
    report, summary = run.report, run.results.summary
    written = run.results.table("objective", ["term", "family", "weight", "value"])
    # the plan is read as written, each number rounded to WRITTEN_DECIMALS: a term recomputed
    # from n rounded numbers may differ by up to n half-steps (a term near zero, such as the
    # overcapacity of capacities that just meet demand, has no relative tolerance to absorb it)
    read = sum(len(run.results.table(name)) for name in ("allocation", "flows"))
    rounding = 0.5 * WRITTEN_TOLERANCE * read
    if summary.get("soft"):
        run.terms["shortfall"] = (ENGINE, float(sum(run.matched.values())))
    given = toml.get("objective", {}) if isinstance(toml.get("objective"), dict) else {}
    recorded_weights = summary.get("weights", {})
    defaults = {term: w for fam in known.values() for term, w in fam.weights.items()}
    rows = []
    total = 0.0
    complete = True
    names = list(dict.fromkeys([*written["term"], *run.terms]))
    for term in names:
        w_row = written[written["term"] == term]
        value = float(w_row["value"].iloc[0]) if len(w_row) else np.nan
        weight = float(given.get(term, defaults.get(term, recorded_weights.get(term, 1.0))))
        if term in recorded_weights and float(recorded_weights[term]) != weight:
            report.problems.append(f"weight of {term}: the instance says {weight:g}, the "
                                   f"solve used {recorded_weights[term]:g}")
        family, recomputed = run.terms.get(term, ("", np.nan))
        agrees = bool(np.isfinite(recomputed) and np.isfinite(value) and abs(
            recomputed - value) <= OBJECTIVE_TOLERANCE * max(1.0, abs(value)) + rounding)
        if not np.isfinite(recomputed):
            complete = False
            owner = w_row["family"].iloc[0] if len(w_row) else "?"
            if owner not in report.unchecked:
                report.problems.append(f"term {term} (family {owner}) was not recomputed")
        elif not len(w_row):
            report.problems.append(f"term {term} is recomputed but objective.csv lacks it")
        elif weight:
            total += weight * recomputed
        rows.append({"term": term, "weight": weight, "written": value,
                     "recomputed": recomputed, "agrees": agrees})
        if not agrees and np.isfinite(recomputed) and np.isfinite(value):
            report.problems.append(f"term {term} ({family}): objective.csv says {value:,.6f}, "
                                   f"the plan's numbers give {recomputed:,.6f}")
    report.terms = pd.DataFrame(rows, columns=["term", "weight", "written", "recomputed",
                                               "agrees"])
    report.objective_recomputed = total if complete else None
