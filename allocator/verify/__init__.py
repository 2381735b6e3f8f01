"""``allocator verify``: an independent check of a written plan, without Pyomo or HiGHS.

It re-reads the instance folder and the results folder and recomputes, with plain pandas,
every constraint of every active family and every objective term from the written numbers
(``allocation.csv``, ``flows.csv``, ``funding.csv``, ``imports.csv``, ``shortfalls.csv``),
then compares the objective it gets with the one in ``summary.json``. The rules are a
second statement of the formulation (docs/verification.md): they are written from the
documented definitions, not from the model code, so a mistake in one shows up as a
disagreement with the other.

* Built-in families: their rules are in :mod:`allocator.verify.rules`.
* A researcher's family brings its own rules as ``Family(check=...)``: a function that gets
  a :class:`Check` and calls :meth:`Check.at_most`, :meth:`Check.at_least`,
  :meth:`Check.term`. A family with neither is reported as *not checked*, and the
  verification fails: a plan is never called verified when part of it was not looked at.

Tolerances: a constraint row is violated when it is off by more than
``FEASIBILITY_TOLERANCE * (1 + max(|lhs|, |rhs|))`` (HiGHS accepts rows off by up to 1e-6
in its own scaled terms, and the tables are written to 1e-9); the objective agrees when the
recomputed and the written values differ by at most ``OBJECTIVE_TOLERANCE`` relative (the
same 1e-6: far below any difference a planner would act on, far above the rounding of the
written numbers).

This module (and everything it imports) must not import Pyomo or HiGHS; a test checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.errors import InputError
from allocator.trust import not_allowed, same_file
from allocator.verify.data import (
    InstanceData,
    ReadError,
    ResultsData,
    index_text,
    read_instance,
    read_results,
)

FEASIBILITY_TOLERANCE = 1e-6
OBJECTIVE_TOLERANCE = 1e-6
ENGINE = "(engine)"

__all__ = ["Check", "ReadError", "Report", "Violation", "verify"]


@dataclass(frozen=True)
class Violation:
    """One constraint row the written plan breaks."""

    family: str
    constraint: str
    index: str
    amount: float
    unit: str
    detail: str


@dataclass
class Report:
    """What verify found. ``ok``: no violation, every active family checked, every term
    recomputed, and the objective agrees with summary.json."""

    instance: Path
    results: Path
    violations: list[Violation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: dict[str, str] = field(default_factory=dict)  # family -> by what rules
    unchecked: dict[str, str] = field(default_factory=dict)  # family -> why not
    rows: dict[str, int] = field(default_factory=dict)  # family -> constraint rows checked
    terms: pd.DataFrame = field(default_factory=pd.DataFrame)
    shortfalls: pd.DataFrame = field(default_factory=pd.DataFrame)
    objective_written: float | None = None
    objective_recomputed: float | None = None

    @property
    def objective_agrees(self) -> bool:
        a, b = self.objective_written, self.objective_recomputed
        if a is None or b is None:
            return False
        return abs(a - b) <= OBJECTIVE_TOLERANCE * max(1.0, abs(a), abs(b))

    @property
    def ok(self) -> bool:
        return (not self.violations and not self.problems and not self.unchecked
                and self.objective_agrees)

    def render(self) -> str:
        """The report printed by ``allocator verify``."""
        lines = [f"verify: {self.results}", f"  against the instance {self.instance}"]
        lines += [f"  note: {n}" for n in self.notes]
        for fam, how in self.checked.items():
            lines.append(f"  checked   {fam:<22} {self.rows.get(fam, 0):>7,} rows  ({how})")
        for fam, why in self.unchecked.items():
            lines.append(f"  NOT CHECKED {fam}: {why}")
        if len(self.shortfalls):
            lines.append("")
            lines.append("Softened limits: the shortfalls recorded in shortfalls.csv cover these "
                         "excesses:")
            for row in self.shortfalls.itertuples(index=False):
                lines.append(f"  {row.family}.{row.constraint}[{row.index}]: off by "
                             f"{row.needed:,.6g}, shortfall recorded {row.recorded:,.6g}")
        if len(self.terms):
            lines.append("")
            lines.append(f"{'term':<16}{'weight':>10}{'written':>18}{'recomputed':>18}  agrees")
            for row in self.terms.itertuples(index=False):
                rec = "-" if pd.isna(row.recomputed) else f"{row.recomputed:,.6f}"
                wrt = "-" if pd.isna(row.written) else f"{row.written:,.6f}"
                lines.append(f"{row.term:<16}{row.weight:>10g}{wrt:>18}{rec:>18}  "
                             f"{'yes' if row.agrees else 'NO'}")
        lines.append("")
        if self.objective_recomputed is not None and self.objective_written is not None:
            diff = abs(self.objective_written - self.objective_recomputed) / max(
                1.0, abs(self.objective_written))
            verdict = "agrees" if self.objective_agrees else "DISAGREES"
            lines.append(f"Objective: summary.json {self.objective_written:,.6f}, recomputed "
                         f"{self.objective_recomputed:,.6f} (relative difference {diff:.1e}, "
                         f"tolerance {OBJECTIVE_TOLERANCE:g}): {verdict}")
        elif self.objective_written is not None:
            lines.append(f"Objective: summary.json {self.objective_written:,.6f}; not "
                         "recomputed (see above)")
        if self.violations:
            lines.append("")
            lines.append(f"{len(self.violations)} violated constraint row"
                         f"{'s' if len(self.violations) != 1 else ''}:")
            for v in self.violations[:200]:
                unit = f" {v.unit}" if v.unit else ""
                lines.append(f"  {v.family}.{v.constraint}[{v.index}]: off by "
                             f"{v.amount:,.6g}{unit} ({v.detail})")
            if len(self.violations) > 200:
                lines.append(f"  ... and {len(self.violations) - 200} more")
        for p in self.problems:
            lines.append(f"  problem: {p}")
        lines.append("")
        if self.ok:
            total = sum(self.rows.values())
            if len(self.shortfalls):
                lines.append(f"Verified: the results are consistent: all {total:,} constraint "
                             f"rows of {len(self.checked)} checked families hold, "
                             f"{len(self.shortfalls)} of them only with the shortfalls "
                             "recorded in shortfalls.csv (so the plan itself breaks those "
                             "limits), and the objective agrees.")
            else:
                lines.append(f"Verified: the plan meets all {total:,} constraint rows of "
                             f"{len(self.checked)} checked families and its objective "
                             "agrees.")
        else:
            lines.append("NOT VERIFIED: " + "; ".join(self._reasons()) + ".")
        return "\n".join(lines)

    def _reasons(self) -> list[str]:
        out = []
        if self.violations:
            out.append(f"{len(self.violations)} violated constraint rows")
        if self.unchecked:
            out.append("families not checked: " + ", ".join(self.unchecked))
        if not self.objective_agrees:
            out.append("the objective does not agree" if self.objective_recomputed is not None
                       else "the objective could not be recomputed")
        if self.problems:
            out.append(f"{len(self.problems)} problems reading or matching the results")
        return out


class Check:
    """What a family's rules see and report to: the instance as the checker read it
    (``data``), the result tables (``results``), the family's ``options``, and the plan:
    ``plan`` (one row per candidate site, indexed by (industry, region), with the resolved
    site parameters and the written ``hosted``, ``capacity`` and ``investment``), ``hosts``
    and ``capacity`` (its columns, as Series).

    Report with :meth:`at_most` / :meth:`at_least` (one constraint, many rows, vectorized)
    and :meth:`term` (an objective term's recomputed value). A row's index is what the
    model indexes the constraint by (a region id, an (industry, region) tuple; ``None`` for
    a single row).
    """

    def __init__(self, run: _Run, family: str, options: dict[str, Any]) -> None:
        self.family = family
        self.options = options
        self.data: InstanceData = run.data
        self.results: dict[str, pd.DataFrame] = run.results.tables
        self.plan: pd.DataFrame = run.plan
        self.hosts: pd.Series = run.plan["hosted"]
        self.capacity: pd.Series = run.plan["capacity"]
        self._run = run

    def flows(self, family: str | None = None) -> pd.DataFrame:
        """Rows of flows.csv (of one family): industry, from, to, amount."""
        flows = self._run.flows
        return flows if family is None else flows[flows["family"] == family]

    def at_most(self, constraint: str, lhs: Any, rhs: Any, unit: str = "") -> None:
        """Each row: lhs <= rhs (within the tolerance, plus any recorded shortfall)."""
        self._rows(constraint, lhs, rhs, "<=", unit)

    def at_least(self, constraint: str, lhs: Any, rhs: Any, unit: str = "") -> None:
        """Each row: lhs >= rhs."""
        self._rows(constraint, lhs, rhs, ">=", unit)

    def term(self, name: str, value: float) -> None:
        """The recomputed value (before weighting) of the objective term ``name``."""
        self._run.terms[name] = (self.family, float(value))

    def violation(self, constraint: str, index: Any, amount: float, detail: str,
                  unit: str = "") -> None:
        """A violation found by a rule that is not a plain row (e.g. a flow on an arc the
        formulation does not have)."""
        self._run.rows[self.family] = self._run.rows.get(self.family, 0)
        self._run.report.violations.append(Violation(self.family, constraint,
                                                     index_text(index), float(amount), unit,
                                                     detail))

    def count(self, rows: int) -> None:
        """Add rows checked by a rule that reports through :meth:`violation`."""
        self._run.rows[self.family] = self._run.rows.get(self.family, 0) + int(rows)

    def _rows(self, constraint: str, lhs: Any, rhs: Any, sense: str, unit: str) -> None:
        if not isinstance(lhs, pd.Series):
            lhs = pd.Series([float(lhs)], index=pd.Index([None], dtype=object))
        lhs = lhs.astype(float)
        if isinstance(rhs, pd.Series):
            rhs = rhs.reindex(lhs.index).astype(float)
        else:
            rhs = pd.Series(float(rhs), index=lhs.index)
        excess = (lhs - rhs) if sense == "<=" else (rhs - lhs)
        tol = FEASIBILITY_TOLERANCE * (1 + np.maximum(lhs.abs(), rhs.abs()))
        self.count(len(lhs))
        recorded = self._run.recorded
        for idx, ex, t, left, right in zip(lhs.index, excess.to_numpy(), tol.to_numpy(),
                                           lhs.to_numpy(), rhs.to_numpy(), strict=True):
            key = (self.family, constraint, index_text(idx))
            allowed = recorded.get(key)
            if allowed is not None:
                self._run.matched[key] = max(float(ex), 0.0)
                if ex - allowed > t:
                    self.violation(constraint, idx, ex - allowed,
                                   f"{left:,.6g} {sense} {right:,.6g} fails even with the "
                                   f"recorded shortfall {allowed:,.6g}", unit)
            elif ex > t or np.isnan(ex):
                self.violation(constraint, idx, ex, f"{left:,.6g} {sense} {right:,.6g} fails",
                               unit)


#: a family's rules: a function of a Check
Rule = Callable[[Check], None]


@dataclass
class _Run:
    data: InstanceData
    results: ResultsData
    report: Report
    plan: pd.DataFrame = field(default_factory=pd.DataFrame)
    flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    recorded: dict[tuple[str, str, str], float] = field(default_factory=dict)
    matched: dict[tuple[str, str, str], float] = field(default_factory=dict)
    terms: dict[str, tuple[str, float]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def verify(instance: str | Path, results: str | Path,
           family_files: Iterable[str | Path] = (), *, allow_families: bool = False) -> Report:
    """Check the results folder ``results`` against the instance folder ``instance``.

    ``family_files``: researchers' family files whose ``check`` to use, by family name
    (default: the file each active family was loaded from, as recorded in summary.json, if
    ``allow_families``: a file named by a results folder or an instance is code, and runs
    only when allowed, :mod:`allocator.trust`). Raises :class:`ReadError` when a folder
    cannot be read at all, :class:`InputError` naming each family file not allowed.
    """
    from allocator.verify import rules

    res = read_results(results)
    summary = res.summary
    report = Report(Path(instance).resolve(), res.path,
                    objective_written=summary.get("objective"))
    active = [f for f in summary.get("families", []) if f.get("active")]
    family_files = list(family_files)
    hooks, extra_tables = _family_hooks(active, family_files, report, allow_families,
                                        res.path / "summary.json")
    data = read_instance(instance, extra_tables, allow_families=allow_families,
                         family_files=family_files)
    report.instance = data.path
    from allocator.verify.scenarios import load_named_tables

    load_named_tables(data, summary)  # tables read from other files (--table NAME=PATH)
    stochastic = summary.get("stochastic")
    second = set((stochastic or {}).get("second_stage", []))
    _compare_files(data, summary, report)
    if not summary.get("has_plan") or "allocation" not in res.tables:
        report.problems.append(f"the results hold no plan (status {summary.get('status')})")
        return report
    run = _Run(data, res, report)
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
        builtin = fam.get("source", "allocator.models") == "allocator.models"
        options = _options(name, summary, toml, report, builtin)
        if name in second:  # checked in every scenario, below
            report.checked[name] = "built-in rules, in every scenario"
            continue
        if name in hooks:
            hooks[name](Check(run, name, options))
            report.checked[name] = f"its own check ({fam.get('source')})"
        elif builtin and name in rules.RULES:
            rules.RULES[name](Check(run, name, options))
            report.checked[name] = "built-in rules"
        elif name not in report.unchecked:
            report.unchecked[name] = ("no rules: the family defines no check= and is not a "
                                      "built-in family; its constraints and terms were not "
                                      "recomputed")
    if stochastic:
        from allocator.verify import scenarios

        scenarios.check(run, [f for f in active if f["name"] in second],
                        lambda name: _options(name, summary, toml, report, True))
    _shortfalls(run)
    _objective(run, active, toml)
    report.rows = run.rows
    return report


def _family_hooks(active: list[dict[str, Any]], files: Iterable[str | Path], report: Report,
                  allow: bool, summary: Path) -> tuple[dict[str, Rule], tuple[Any, ...]]:
    """The ``check`` of each researcher family that is active (loaded from its file). A file
    recorded in summary.json runs only with ``allow`` or when it is one of ``files``."""
    given = list(files)
    outside = [f for f in active if f.get("source", "allocator.models") != "allocator.models"]
    if not outside and not given:
        return {}, ()
    refused = [not_allowed(str(summary), "families[].source", f["name"], Path(f["source"]))
               for f in outside
               if not allow and not any(same_file(f["source"], g) for g in given)]
    if refused:
        raise InputError(refused)
    from allocator.family import FamilyLoadError, load_family_file

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
    hooks: dict[str, Rule] = {}
    tables: list[Any] = []
    for f in active:
        fam = loaded.get(f["name"])
        if fam is None:
            if f in outside:
                report.unchecked[f["name"]] = f"its file {f['source']} could not be loaded"
            continue
        tables.extend(fam.tables)
        if fam.check is not None:
            hooks[fam.name] = fam.check
    return hooks, tuple(tables)


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
             builtin: bool) -> dict[str, Any]:
    """The family's options: instance.toml's value where given, else the default (the
    checker's own copy for built-in families, else what the solve recorded). A recorded
    value that disagrees is a problem: the solve read the instance differently."""
    from allocator.verify.rules import DEFAULT_OPTIONS

    recorded = summary.get("options", {}).get("families", {}).get(name, {})
    given = toml.get(name, {}) if isinstance(toml.get(name), dict) else {}
    defaults = DEFAULT_OPTIONS.get(name, recorded) if builtin else recorded
    options = {**defaults, **given}
    for key, value in options.items():
        if key in recorded and recorded[key] != value:
            report.problems.append(f"option [{name}] {key}: the instance says {value!r}, the "
                                   f"solve recorded {recorded[key]!r}")
    return options


def _shortfalls(run: _Run) -> None:
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


def _objective(run: _Run, active: list[dict[str, Any]], toml: dict[str, Any]) -> None:
    """Every written term against its recomputed value; the weighted sum against
    summary.json. The shortfall term is what the softened rows need (sum of their excess)."""
    from allocator.verify.rules import DEFAULT_WEIGHTS

    report, summary = run.report, run.results.summary
    written = run.results.table("objective", ["term", "family", "weight", "value"])
    if summary.get("soft"):
        run.terms["shortfall"] = (ENGINE, float(sum(run.matched.values())))
    given = toml.get("objective", {}) if isinstance(toml.get("objective"), dict) else {}
    recorded_weights = summary.get("weights", {})
    rows = []
    total = 0.0
    complete = True
    names = list(dict.fromkeys([*written["term"], *run.terms]))
    for term in names:
        w_row = written[written["term"] == term]
        value = float(w_row["value"].iloc[0]) if len(w_row) else np.nan
        weight = float(given.get(term, DEFAULT_WEIGHTS.get(term,
                                                           recorded_weights.get(term, 1.0))))
        if term in recorded_weights and float(recorded_weights[term]) != weight:
            report.problems.append(f"weight of {term}: the instance says {weight:g}, the "
                                   f"solve used {recorded_weights[term]:g}")
        family, recomputed = run.terms.get(term, ("", np.nan))
        agrees = bool(np.isfinite(recomputed) and np.isfinite(value) and abs(
            recomputed - value) <= OBJECTIVE_TOLERANCE * max(1.0, abs(value)))
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
