"""``allocator compare A B``: two results folders side by side, term by term and pair by pair.

Typical use: A is a plan's evaluation (``allocator evaluate``), B the optimum (``allocator
solve``): the per-term difference B - A is what the optimization saves, and the pairs that
change say where. Reads only the written tables (objective.csv, allocation.csv,
summary.json); no Pyomo, no solver.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.core.errors import InputError, Problem
from allocator.core.tables import CAPACITY

#: capacities closer than this (relative) count as unchanged
CAPACITY_TOLERANCE = 1e-6


@dataclass
class Results:
    """The parts of a results folder that a comparison reads."""

    path: Path
    summary: dict[str, Any]
    objective: pd.DataFrame
    allocation: pd.DataFrame

    @property
    def label(self) -> str:
        plan = self.summary.get("plan")
        if plan:
            verdict = "feasible" if plan.get("feasible") else "INFEASIBLE"
            return f"{self.path} (evaluation of {Path(plan['file']).name}: {verdict} plan)"
        return f"{self.path} (solve: {self.summary.get('status')})"


@dataclass
class Comparison:
    a: Results
    b: Results
    terms: pd.DataFrame  # term, weight, a, b, difference (weighted, b - a)
    changes: pd.DataFrame  # industry, region, hosted_a, hosted_b, capacity_a, capacity_b, change
    notes: list[str] = field(default_factory=list)


def read(folder: str | Path) -> Results:
    """Read a results folder; :class:`InputError` (exit 2) when it is not one."""
    path = Path(folder)
    missing = [f for f in ("summary.json", "objective.csv", "allocation.csv")
               if not (path / f).is_file()]
    if missing:
        raise InputError([Problem(str(path), "not a results folder with a plan (missing "
                                  + ", ".join(missing) + ")")])
    summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    return Results(path, summary, pd.read_csv(path / "objective.csv"),
                   pd.read_csv(path / "allocation.csv"))


def compare(a: str | Path, b: str | Path) -> Comparison:
    """Compare results folder ``a`` with ``b``: per term (weighted) and per (industry,
    region) pair that hosts in only one of them or whose capacity differs."""
    ra, rb = read(a), read(b)
    for r, folder in ((ra, a), (rb, b)):
        if r.summary.get("periods"):
            raise InputError([Problem(str(folder), "a plan over time (summary.json has "
                                      "periods): allocator compare works on one-shot plans "
                                      "and is not available for it yet")])
    notes = []
    if ra.summary["instance"]["sha256"] != rb.summary["instance"]["sha256"]:
        notes.append("the two results come from different instances (SHA-256 differ): the "
                     "comparison is of the numbers as written")
    ta = ra.objective.set_index("term")
    tb = rb.objective.set_index("term")
    names = list(dict.fromkeys([*ta.index, *tb.index]))
    rows = []
    for term in names:
        wa = float(ta.at[term, "weighted"]) if term in ta.index else 0.0
        wb = float(tb.at[term, "weighted"]) if term in tb.index else 0.0
        weight_a = ta.at[term, "weight"] if term in ta.index else None
        weight_b = tb.at[term, "weight"] if term in tb.index else None
        if weight_a is not None and weight_b is not None and weight_a != weight_b:
            notes.append(f"term {term} has weight {weight_a:g} in A and {weight_b:g} in B")
        rows.append({"term": term, "weight": weight_b if weight_b is not None else weight_a,
                     "a": wa, "b": wb, "difference": wb - wa})
    terms = pd.DataFrame(rows, columns=["term", "weight", "a", "b", "difference"])
    key = ["industry", "region"]
    both = ra.allocation[[*key, "hosted", CAPACITY]].merge(
        rb.allocation[[*key, "hosted", CAPACITY]], on=key, how="outer",
        suffixes=("_a", "_b"), sort=False)
    both[["hosted_a", "hosted_b"]] = both[["hosted_a", "hosted_b"]].fillna(0).astype(int)
    both[["capacity_a", "capacity_b"]] = both[["capacity_a", "capacity_b"]].fillna(0.0)
    scale = both[["capacity_a", "capacity_b"]].abs().max(axis=1).clip(lower=1.0)
    moved = (both["capacity_a"] - both["capacity_b"]).abs() > CAPACITY_TOLERANCE * scale
    both["change"] = ""
    both.loc[moved, "change"] = CAPACITY
    both.loc[(both["hosted_a"] == 1) & (both["hosted_b"] == 0), "change"] = "A only"
    both.loc[(both["hosted_a"] == 0) & (both["hosted_b"] == 1), "change"] = "B only"
    changes = both[both["change"] != ""].reset_index(drop=True)
    return Comparison(ra, rb, terms, changes, notes)


def render(c: Comparison) -> str:
    """What ``allocator compare`` prints."""
    money = c.b.summary.get("units", {}).get("money", "money")
    obj_a = c.terms["a"].sum()
    obj_b = c.terms["b"].sum()
    lines = [f"A: {c.a.label}", f"B: {c.b.label}"]
    lines += [f"note: {n}" for n in c.notes]
    lines.append("")
    lines.append(f"Objective by term (weighted, {money}); difference = B - A:")
    lines.append(f"{'term':<16}{'weight':>10}{'A':>18}{'B':>18}{'B - A':>18}")
    for row in c.terms.itertuples(index=False):
        lines.append(f"{row.term:<16}{row.weight:>10g}{row.a:>18,.2f}{row.b:>18,.2f}"
                     f"{row.difference:>18,.2f}")
    lines.append(f"{'total':<16}{'':>10}{obj_a:>18,.2f}{obj_b:>18,.2f}{obj_b - obj_a:>18,.2f}")
    costs = c.terms[c.terms["term"] != "shortfall"]
    if len(costs) != len(c.terms):
        ca, cb = costs["a"].sum(), costs["b"].sum()
        lines.append(f"{'without shortfall':<26}{ca:>18,.2f}{cb:>18,.2f}{cb - ca:>18,.2f}")
    ch = c.changes
    lines.append("")
    if not len(ch):
        lines.append("No (industry, region) pair changes: the same regions host the same "
                     "capacity.")
        return "\n".join(lines)
    hosts_a = c.a.allocation.groupby("industry", sort=False)["hosted"].sum()
    hosts_b = c.b.allocation.groupby("industry", sort=False)["hosted"].sum()
    lines.append(f"Pairs that change: {int((ch['change'] == 'A only').sum())} host only in A, "
                 f"{int((ch['change'] == 'B only').sum())} only in B, "
                 f"{int((ch['change'] == CAPACITY).sum())} change capacity.")
    lines.append(f"{'industry':<16}{'hosts A':>8}{'hosts B':>8}  changes (region: capacity A "
                 "-> B)")
    for industry, g in ch.groupby("industry", sort=False):
        parts = []
        for label in ("A only", "B only", CAPACITY):
            sel = g[g["change"] == label]
            if len(sel):
                pairs = ", ".join(f"{r}: {a:g} -> {b:g}" for r, a, b in zip(
                    sel["region"], sel["capacity_a"], sel["capacity_b"], strict=True))
                parts.append(f"{label}: {pairs}")
        lines.append(f"{industry!s:<16}{int(hosts_a.get(industry, 0)):>8}"
                     f"{int(hosts_b.get(industry, 0)):>8}  " + "; ".join(parts))
    return "\n".join(lines)
