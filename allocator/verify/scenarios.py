r"""``allocator verify`` for a stochastic plan (supply-shock scenarios, shocks.csv): every
scenario is checked, in plain pandas.

The first stage (hosts, capacity, the first-stage families) is checked once, as for a
deterministic plan. For each scenario $s$ the scenario's data is restated from shocks.csv
(import caps and prices scaled, availability per region) and:

* $0 \le \text{production}_{irs} \le \alpha_{rs} q_{ir}$ (scenario_production.csv, against
  the capacity of allocation.csv and the availability recomputed from shocks.csv);
* $0 \le \text{unmet}_{iws} \le D_{iw}$ (scenario_unmet.csv) and
  $\sum_r \text{production}_{irs} + \sum_w \text{unmet}_{iws} \ge D_i + \sum_d a_{id}
  \sum_r \text{production}_{drs}$;
* the second-stage families' own rules (``models/<family>/verify.py``), run with the scenario's
  production in place of capacity, its flows (scenario_flows.csv), imports
  (scenario_imports.csv) and data, each market's demand less its unmet demand, and without
  the valid inequalities (the model leaves them out in scenarios); what leaves a site is at
  most its production;
* the terms: each second-stage term and ``unmet`` is the probability-weighted sum of its
  scenario values; under ``risk = "cvar"`` the term ``cvar_premium`` is
  $\min_\eta \{\eta + \frac{1}{1-\beta} \sum_s \rho_s (c_s - \eta)^+\} - \sum_s \rho_s c_s$
  (the minimum is at one of the $c_s$).

Violations name the scenario: ``a_offline: production_within_available``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from allocator.core.schema import TABLES
from allocator.input.periods import with_period_tables
from allocator.verify.check import Check, Rule, Run
from allocator.verify.data import read_table, sha256

if TYPE_CHECKING:
    from allocator.verify.data import InstanceData

ENGINE = "(engine)"
NATIONAL = "(national)"


def load_named_tables(data: InstanceData, summary: dict[str, Any]) -> None:
    """Read the tables from the files the solve read them from (summary.json ``tables``),
    where they differ from the folder's own (``--table NAME=PATH``)."""
    specs = with_period_tables(TABLES)  # with <table>_by_period.csv
    for name, rel in (summary.get("instance", {}).get("tables") or {}).items():
        spec = specs.get(name)
        kinds = data.columns.get(name) if spec is not None else data.declared.get(name)
        if (spec is None and kinds is None) or data.files.get(name) == rel or not (
                data.path / rel).is_file():
            continue
        data.tables[name] = read_table(data.path / rel, spec, kinds)
        if name in data.files:  # the folder's own file was not what the solve read
            data.hashes.pop(data.files[name], None)
        data.files[name] = rel
        data.hashes[rel] = sha256(data.path / rel)
    for name in ("regions", "industries", "chain"):  # restated data derived from tables
        data.__dict__.pop(name, None)
    data.__dict__.pop("final_demand", None)


def scenarios(data: InstanceData) -> list[tuple[str, float, dict[tuple[str, str], float]]]:
    """(name, probability, {(kind, target): factor}) in file order."""
    shocks = data.table("shocks")
    out: dict[str, tuple[float, dict[tuple[str, str], float]]] = {}
    for sc, p, kind, target, f in zip(shocks["scenario"], shocks["probability"],
                                      shocks["kind"], shocks["target"], shocks["factor"],
                                      strict=True):
        _, factors = out.setdefault(str(sc), (float(p), {}))
        if isinstance(kind, str) and kind:
            factors[(kind, str(target))] = float(f)
    return [(name, p, f) for name, (p, f) in out.items()]


class ScenarioCheck:
    """A :class:`allocator.verify.Check` whose violations name the scenario."""

    @staticmethod
    def make(run: Run, family: str, options: dict[str, Any], scenario: str) -> Check:
        class _Named(Check):
            def violation(self, constraint: str, index: Any, amount: float, detail: str,
                          unit: str = "") -> None:
                super().violation(f"{scenario}: {constraint}", index, amount, detail, unit)

        return _Named(run, family, options)


def _scaled(data: InstanceData, factors: dict[tuple[str, str], float],
            unmet: pd.Series) -> InstanceData:
    """The scenario's data: import caps and prices scaled; each market's demand less its
    unmet demand (so the markets rule checks ship + unmet >= demand)."""
    tables = dict(data.tables)
    if "inputs" in tables:
        inputs = tables["inputs"].copy()
        if "price" not in inputs.columns:
            inputs["price"] = np.nan
        for (kind, k), f in factors.items():
            column = {"import_cap": "import_cap", "input_price": "price"}.get(kind)
            if column:
                hit = inputs["id"] == k
                inputs.loc[hit, column] = inputs.loc[hit, column].astype(float) * f
        tables["inputs"] = inputs
    if "markets" in tables and len(unmet):
        markets = tables["markets"].copy()
        key = pd.MultiIndex.from_arrays([markets["industry"], markets["region"]])
        markets["demand"] = markets["demand"].astype(float) - unmet.reindex(
            key, fill_value=0.0).to_numpy()
        tables["markets"] = markets
    return replace(data, tables=tables)


def check(run: Run, second: list[dict[str, Any]], options_of: Any,
          rules: dict[str, Rule | None]) -> None:
    """Check every scenario of ``run`` (see the module docstring); ``second`` are the
    second-stage families (summary.json entries), ``options_of(name)`` their options,
    ``rules`` each family's rules (None or absent: it has none)."""
    data, res, report = run.data, run.results, run.report
    stoch = res.summary.get("stochastic") or {}
    scen = scenarios(data)
    if not scen:
        report.problems.append("summary.json records supply-shock scenarios, but the instance "
                               "has no shocks.csv to check them against")
        return
    plan = run.plan
    prod = res.table("scenario_production", ["scenario", "industry", "region", "production"])
    unmet = res.table("scenario_unmet", ["scenario", "industry", "market", "unmet"])
    flows = res.table("scenario_flows", ["scenario", "family", "industry", "from", "to",
                                         "amount"])
    imports = res.table("scenario_imports", ["scenario", "input", "region", "amount"])
    markets = data.table("markets")
    located = set(markets.loc[markets["demand"].astype(float) > 0, "industry"]) if len(
        markets) else set()
    chain = data.chain
    demand = data.final_demand
    weights = dict(res.summary.get("weights", {}))
    penalty = float(data.setting("scenarios", "unmet_penalty"))
    if float(weights.get("unmet", penalty)) != penalty:
        report.problems.append(f"unmet penalty: the instance says {penalty:g}, the solve used "
                               f"{weights.get('unmet')}")
    expected: dict[str, tuple[str, float]] = {}
    costs: list[tuple[float, float]] = []
    for name, p, factors in scen:
        engine = ScenarioCheck.make(run, ENGINE, {}, name)
        rows = prod[prod["scenario"].astype(str) == name]
        made = rows.set_index(["industry", "region"])["production"].astype(float)
        missing = plan.index.difference(made.index)
        for idx in missing[(plan.loc[missing, "capacity"] > 0).to_numpy()]:
            engine.violation("production", idx, float(plan.at[idx, "capacity"]),
                             "scenario_production.csv has no row for this site with capacity")
        made = made.reindex(plan.index, fill_value=0.0)
        avail = pd.Series([factors.get(("availability", r), 1.0)
                           for r in plan.index.get_level_values(1)], index=plan.index)
        engine.at_least("production >= 0", made, 0.0, "capacity")
        engine.at_most("production_within_available", made, avail * plan["capacity"],
                       "capacity")
        u = unmet[unmet["scenario"].astype(str) == name]
        u_by = u.set_index(["industry", "market"])["unmet"].astype(float)
        bound = pd.Series([float(markets.loc[(markets["industry"] == i)
                                             & (markets["region"] == w), "demand"].sum())
                           if w != NATIONAL else float(demand.get(i, 0.0))
                           for i, w in u_by.index], index=u_by.index, dtype=float)
        engine.at_least("unmet >= 0", u_by, 0.0, "capacity")
        engine.at_most("unmet within demand", u_by, bound, "capacity")
        for i, w in u_by.index:
            if (w == NATIONAL) == (i in located):
                engine.violation("unmet", (i, w), float(u_by[i, w]), "unmet demand of a "
                                 + ("located industry must be by market" if i in located
                                    else "national industry must be (national)"))
        total = made.groupby(level="industry").sum().reindex(data.industries.index,
                                                              fill_value=0.0)
        short = u_by.groupby(level=0).sum().reindex(data.industries.index, fill_value=0.0)
        use = pd.Series(0.0, index=data.industries.index)
        if len(chain):
            part = chain["ratio"].astype(float).to_numpy() * total.reindex(
                chain["downstream"]).to_numpy()
            use = use.add(pd.Series(part).groupby(chain["upstream"].to_numpy()).sum(),
                          fill_value=0.0)
        engine.at_least("production_covers_demand", total + short,
                        demand.reindex(data.industries.index, fill_value=0.0) + use,
                        "capacity")
        # the second-stage families, with production in place of capacity
        f_s = flows[flows["scenario"].astype(str) == name].drop(columns="scenario")
        f_s = f_s.assign(amount=f_s["amount"].astype(float))
        tables = dict(res.tables)
        tables["imports"] = imports[imports["scenario"].astype(str) == name].drop(
            columns="scenario")
        plan_s = plan.copy()
        plan_s["capacity"] = made
        run_s = Run(_scaled(data, factors, u_by), replace(res, tables=tables), report,
                     plan_s, f_s, {}, {}, {})
        out = f_s.groupby(["industry", "from"])["amount"].sum()
        out = out[out.index.isin(plan.index)]
        stray = f_s[~pd.MultiIndex.from_arrays([f_s["industry"], f_s["from"]]).isin(
            plan.index)]
        for row in stray.itertuples(index=False):
            engine.violation("flow origin", (row.industry, row[2]), row.amount,
                             f"{row.family} ships {row.industry} from {row[2]}, which may not "
                             "host it")
        engine.at_least("flow >= 0", f_s["amount"], 0.0)
        engine.at_most("site_output_within_production", out, made.reindex(out.index),
                       "capacity")
        for fam in second:
            fname = fam["name"]
            opts = {**options_of(fname), "strengthen": False}
            rule = rules.get(fname)
            if rule is None:
                report.unchecked[fname] = "no rules for a second-stage family in scenarios"
                continue
            rule(ScenarioCheck.make(run_s, fname, opts, name))
        cost = penalty * float(u_by.sum())
        for term, (family, value) in run_s.terms.items():
            acc = expected.get(term, (family, 0.0))[1]
            expected[term] = (family, acc + p * value)
            cost += float(weights.get(term, 1.0)) * value
        acc = expected.get("unmet", (ENGINE, 0.0))[1]
        expected["unmet"] = (ENGINE, acc + p * float(u_by.sum()))
        costs.append((p, cost))
        for key, n in run_s.rows.items():
            run.rows[key] = run.rows.get(key, 0) + n
    run.terms.update(expected)
    if stoch.get("risk") == "cvar":
        beta = float(data.setting("scenarios", "cvar_alpha"))
        mean = sum(p * c for p, c in costs)
        cvar = min(eta + sum(p * max(c - eta, 0.0) for p, c in costs) / (1 - beta)
                   for _, eta in costs)
        run.terms["cvar_premium"] = (ENGINE, cvar - mean)
