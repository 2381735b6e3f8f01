"""What a rule of ``allocator verify`` works with: :class:`Check` (the plan and the
instance data as pandas tables, quantities several families' rules share, and the methods
that record a violation), the :class:`Report` it fills, the tolerances, and
:class:`FamilyRules`: what the checker knows of one family (its rules and the data it
declares), which a built-in family's ``verify.py`` states as ``VERIFY``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.verify.data import (
    InstanceData,
    ResultsData,
    index_text,
)

FEASIBILITY_TOLERANCE = 1e-6
OBJECTIVE_TOLERANCE = 1e-6
ENGINE = "(engine)"


def sum_by(values: pd.Series, keys: list[pd.Series] | pd.Series) -> pd.Series:
    """``values`` summed per key (one Series, or several for a MultiIndex), in the order
    the keys first appear."""
    return values.groupby(keys, sort=False).sum()


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

    def __init__(self, run: Run, family: str, options: dict[str, Any]) -> None:
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

    def recomputed(self, name: str) -> float | None:
        """The value of the objective term ``name`` as a rule recomputed it (before
        weighting); None when no rule did."""
        found = self._run.terms.get(name)
        return None if found is None else found[1]

    def violation(self, constraint: str, index: Any, amount: float, detail: str,
                  unit: str = "") -> None:
        """A violation found by a rule that is not a plain row (e.g. a flow on an arc the
        formulation does not have)."""
        self._run.rows[self.family] = self._run.rows.get(self.family, 0)
        self._run.report.violations.append(Violation(self.family, constraint,
                                                     index_text(index), float(amount), unit,
                                                     detail))

    def national_capacity(self) -> pd.Series:
        r"""$Q_i = \sum_r q_{ir}$ for every industry (0 without sites)."""
        q = self.capacity.groupby(level="industry", sort=False).sum()
        return q.reindex(self.data.industries.index, fill_value=0.0)

    def downstream_use(self, q_total: pd.Series) -> pd.Series:
        r"""$\sum_{(i,d) \in L} a_{id} Q_d$ per industry i, for national capacities
        ``q_total`` ($Q_d$)."""
        chain = self.data.chain
        use = pd.Series(0.0, index=self.data.industries.index)
        if len(chain):
            part = chain["ratio"].astype(float).to_numpy() * q_total.reindex(
                chain["downstream"]).to_numpy()
            use = use.add(pd.Series(part).groupby(chain["upstream"].to_numpy()).sum(),
                          fill_value=0.0)
        return use

    def contributed(self, resource: str, per_item: bool = True) -> pd.Series:
        """What families use of ``resource`` inside another family's limits (uses.csv),
        summed per (region, item), or per region when ``per_item`` is false. Each
        contributing family's rules check its own rows; the owner adds them to its limits."""
        uses = self.results.get("uses")
        if uses is None or not len(uses):
            return pd.Series(dtype=float)
        rows = uses[uses["resource"] == resource]
        if not per_item:
            return sum_by(rows["amount"].astype(float), rows["region"])
        return sum_by(rows["amount"].astype(float),
                      [rows["region"], rows["item"].astype(str)])

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


@dataclass(frozen=True)
class FamilyRules:
    """What the checker knows of one family, stated without its model code.

    A built-in family's ``verify.py`` defines ``VERIFY = FamilyRules(...)``, restating
    from the family's mathematics and declarations (never importing its ``model.py``):

    * ``rules``: its constraints and objective terms recomputed from the written plan
      (None: the checker cannot check it, and says so);
    * ``options``: the defaults of its options, compared with what the solve recorded
      (None: take the recorded ones, as for a researcher's family);
    * ``weights``: the default weight of each objective term it adds;
    * ``columns``: the columns it adds to the built-in tables (table -> column -> kind,
      kinds as in :mod:`allocator.core.schema`), so that they are read typed;
    * ``tables``: the input tables it declares (table -> column -> kind).

    A researcher's family gets one from its ``Family`` (``verify_rules``, ``tables``,
    ``columns``): see :mod:`allocator.verify`.
    """

    rules: Rule | None = None
    options: dict[str, Any] | None = None
    weights: dict[str, float] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    tables: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class Run:
    data: InstanceData
    results: ResultsData
    report: Report
    plan: pd.DataFrame = field(default_factory=pd.DataFrame)
    flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    recorded: dict[tuple[str, str, str], float] = field(default_factory=dict)
    matched: dict[tuple[str, str, str], float] = field(default_factory=dict)
    terms: dict[str, tuple[str, float]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


