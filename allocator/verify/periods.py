r"""``allocator verify`` for a multi-period plan (``periods.csv``): every period's rows, the
rows that link the periods, and the objective over the periods.

Restated from docs/formulation.md ("Planning periods"), not from the engine's code. For
each period $p$ the period's data are the instance's with ``*_by_period.csv`` and the
``section.option`` columns of periods.csv applied (the input's reading of them,
:func:`allocator.input.periods.period_tables`: data, not math), the industries' blank
``capacity_max`` the largest requirement $G_i$ over the periods. The written rows of the
period (``period`` column) are then checked like a one-shot plan: the engine's rules and
every family's, with the site's investment $\mathrm{inv}_{irk}$ being what period $k$
spends:

* $\mathrm{inv}_{irk} = \sum_{p: s_i(p) = k} F_{ir}(x_{irp} - x_{ir,p-1}) +
  c_{ir}(q_{irp} - q_{ir,p-1})$ on a new site, $c_{ir}(n_{irp} - n_{ir,p-1})$ with
  $n = \max(q - e, 0)$ on a brownfield one; $s_i(p)$ the last period whose first year is at
  most $y_p - \ell_i$;
* hosting kept and capacity never shrinking: $x_{ir,p-1} \le x_{irp}$,
  $q_{ir,p-1} \le q_{irp}$;
* where no period can pay ($s_i(p)$ undefined): nothing new,
  $q_{irp} \le q_{ir,p-1}$ (first period: $e_{ir}$), $x_{irp} \le x_{ir,p-1}$ (first:
  $[e_{ir} > 0]$);
* each term $\mathrm{term}_t = \sum_p \delta_p \mathrm{term}_{tp}$,
  $\delta_p$ = ``discount_factor``, else $(1+r_p)^{-(y_p - y_1)}$; each period's terms
  also against ``period_objective.csv``.

A violation's index starts with its period (``2029-2031: nev,hefei``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from allocator.input.periods import Period, period_tables
from allocator.verify import rules
from allocator.verify.check import ENGINE, OBJECTIVE_TOLERANCE, Check, Report, Rule, Run
from allocator.verify.data import InstanceData, ResultsData


@dataclass
class Hooks:
    """What the checker's entry point lends this module: how it makes a plan and the flows
    from written tables, a family's options and rules, and how its rules are named."""

    plan: Callable[[InstanceData, pd.DataFrame, Report], pd.DataFrame]
    flows: Callable[[ResultsData], pd.DataFrame]
    options: Callable[[str], dict[str, Any]]
    rules: dict[str, Rule | None]
    how: Callable[[dict[str, Any]], str]


def restated_periods(df: pd.DataFrame) -> list[Period]:
    """The periods of periods.csv with their discount factors, restated."""
    start = int(df["first_year"].iloc[0])
    out = []
    for _, rec in df.iterrows():
        year = int(rec["first_year"])
        given = rec.get("discount_factor")
        rate = rec.get("discount_rate")
        factor = (float(given) if pd.notna(given)
                  else (1.0 + (0.0 if pd.isna(rate) else float(rate))) ** (start - year))
        out.append(Period(str(rec["id"]), year, int(rec["years"]), factor))
    return out


def views(data: InstanceData, periods: list[Period]) -> list[InstanceData]:
    """Each period's data (see the module docstring)."""
    raw = [InstanceData(data.path, data.settings, period_tables(data.tables, periods, p),
                        data.files, data.hashes, data.columns) for p in periods]
    most = pd.concat([v.requirement for v in raw], axis=1).max(axis=1)
    out = []
    for v in raw:
        ind = v.tables["industries"].copy()
        fill = ind["id"].map(most).astype(float)
        blank = ind["capacity_max"].isna() & (fill > 0)
        ind.loc[blank, "capacity_max"] = fill[blank]
        out.append(InstanceData(data.path, data.settings, {**v.tables, "industries": ind},
                                data.files, data.hashes, data.columns))
    return out


def _of_period(res: ResultsData, period: str) -> ResultsData:
    tables = {}
    for name, df in res.tables.items():
        if name == "period_objective":
            tables["objective"] = df[df["period"].astype(str) == period].drop(
                columns=["period"])
        elif name != "objective" and "period" in df.columns:
            tables[name] = df[df["period"].astype(str) == period].drop(
                columns=["period"]).reset_index(drop=True)
    return ResultsData(res.path, res.summary, tables)


def _option_overrides(periods_csv: pd.DataFrame, period: str) -> dict[str, dict[str, float]]:
    rec = periods_csv.loc[periods_csv["id"].astype(str) == period].iloc[0]
    out: dict[str, dict[str, float]] = {}
    for col in [c for c in periods_csv.columns if "." in c]:
        value = pd.to_numeric(pd.Series([rec[col]]), errors="coerce").iloc[0]
        if pd.notna(value):
            section, option = col.split(".", 1)
            out.setdefault(section, {})[option] = float(value)
    return out


def check(data: InstanceData, res: ResultsData, report: Report,
          active: list[dict[str, Any]], hooks: Hooks) -> Run:
    """Check every period (see the module docstring); returns a run whose ``terms`` are the
    terms over the periods, for the objective check."""
    periods = restated_periods(data.tables["periods"])
    seen = views(data, periods)
    runs = []
    for p, view in zip(periods, seen, strict=True):
        sub = _of_period(res, p.id)
        run = Run(view, sub, report)
        run.plan = hooks.plan(view, sub.table("allocation", ["industry", "region", "hosted",
                                                             "capacity"]), report)
        run.flows = hooks.flows(sub)
        run.previous = runs[-1].results.tables if runs else None
        run.period = (p.id, p.first_year)
        run.periods = [(q.id, q.first_year) for q in periods]
        runs.append(run)
    paid = _paid_in(data, periods)
    _spending(runs, paid)
    total = Run(data, res, report, plan=runs[-1].plan)  # links: the rows read the runs
    _linking(Check(total, ENGINE, {}), runs, periods, paid)
    sums: dict[str, tuple[str, float]] = {}
    for p, run in zip(periods, runs, strict=True):
        before = len(report.violations)
        rules.engine(Check(run, ENGINE, {}))
        overrides = _option_overrides(data.tables["periods"], p.id)
        for fam in active:
            name = fam["name"]
            rule = hooks.rules.get(name)
            if rule is None:
                if name not in report.unchecked:
                    report.unchecked[name] = "no rules: its constraints and terms were not " \
                                             "recomputed"
                continue
            options = {**hooks.options(name), **overrides.get(name, {})}
            rule(Check(run, name, options))
            report.checked[name] = f"{hooks.how(fam)}, in every period"
        report.violations[before:] = [replace(v, index=f"{p.id}: {v.index}")
                                      for v in report.violations[before:]]
        _period_terms(run, p, report)
        for term, (family, value) in run.terms.items():
            old = sums.get(term, (family, 0.0))[1]
            sums[term] = (family, old + p.discount * value)
        for family, n in run.rows.items():
            total.rows[family] = total.rows.get(family, 0) + n
    report.checked[ENGINE] = "core rules (allocator/verify/rules.py) in every period, and " \
                             "the periods' links (allocator/verify/periods.py)"
    total.terms = sums
    return total


def _paid_in(data: InstanceData, periods: list[Period]) -> list[dict[str, int | None]]:
    """$s_i(p)$ per period and industry (None: undefined)."""
    lead = data.industries["build_years"].astype(float).fillna(0.0)
    out = []
    for p in periods:
        row: dict[str, int | None] = {}
        for i, ell in lead.items():
            ks = [k for k, q in enumerate(periods) if q.first_year <= p.first_year - ell]
            row[str(i)] = max(ks) if ks else None
        out.append(row)
    return out


def _spending(runs: list[Run], paid: list[dict[str, int | None]]) -> None:
    """Replace each period's plan ``investment`` by what the period spends."""
    spent = [pd.Series(0.0, index=r.plan.index) for r in runs]
    for p, run in enumerate(runs):
        plan = run.plan
        before = runs[p - 1].plan if p else None
        x_prev = before["hosted"] if before is not None else 0.0
        q_prev = before["capacity"] if before is not None else 0.0
        new = np.maximum(plan["capacity"] - plan["existing"], 0.0)
        new_prev = (np.maximum(before["capacity"] - before["existing"], 0.0)
                    if before is not None else 0.0)
        added = pd.Series(np.where(
            plan["brownfield"], plan["unit_capex"] * (new - new_prev),
            plan["fixed_cost"] * (plan["hosted"] - x_prev)
            + plan["unit_capex"] * (plan["capacity"] - q_prev)), index=plan.index)
        industry = plan.index.get_level_values("industry")
        for k in range(len(runs)):
            mask = np.array([paid[p].get(i) == k for i in industry])
            if mask.any():
                spent[k] = spent[k].add(added.where(mask, 0.0), fill_value=0.0)
    for run, money in zip(runs, spent, strict=True):
        run.plan = run.plan.assign(investment=money.reindex(run.plan.index).fillna(0.0))


def _linking(c: Check, runs: list[Run], periods: list[Period],
             paid: list[dict[str, int | None]]) -> None:
    """Hosting kept, capacity never shrinking, nothing new before the horizon allows it."""
    violations = runs[0].report.violations
    for k, (p, run) in enumerate(zip(periods, runs, strict=True)):
        before_rows = len(violations)
        plan = run.plan
        if k:
            before = runs[k - 1].plan.reindex(plan.index)
            x0, q0 = before["hosted"], before["capacity"]
            c.at_least("period_hosts_kept", plan["hosted"], x0)
            c.at_least("period_capacity_kept", plan["capacity"], q0, "capacity")
        else:
            x0 = (plan["existing"] > 0).astype(float)
            q0 = plan["existing"]
        early = np.array([paid[k].get(i) is None
                          for i in plan.index.get_level_values("industry")])
        if early.any():
            c.at_most("period_hosts_before_horizon", plan["hosted"][early], x0[early])
            c.at_most("period_capacity_before_horizon", plan["capacity"][early], q0[early],
                      "capacity")
        violations[before_rows:] = [replace(v, index=f"{p.id}: {v.index}")
                                    for v in violations[before_rows:]]


def _period_terms(run: Run, period: Period, report: Report) -> None:
    """Each recomputed term of the period against period_objective.csv."""
    written = run.results.table("objective", ["term", "value"])
    for term, (family, value) in run.terms.items():
        row = written[written["term"] == term]
        if not len(row):
            report.problems.append(f"term {term} ({family}) of period {period.id} is "
                                   "recomputed but period_objective.csv lacks it")
            continue
        w = float(row["value"].iloc[0])
        if abs(w - value) > OBJECTIVE_TOLERANCE * max(1.0, abs(w)):
            report.problems.append(f"term {term} ({family}) in period {period.id}: "
                                   f"period_objective.csv says {w:,.6f}, the plan's numbers "
                                   f"give {value:,.6f}")
