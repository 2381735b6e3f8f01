r"""Supply-shock scenarios: the deterministic equivalent of a two-stage stochastic program.

With ``shocks.csv`` (:mod:`allocator.input.scenarios`) hosting and capacity are decided once,
before the shock is known (first stage: the core decisions and every family with
``stage = 1``: capacity, talent, funding, policy, duplication, ...), and production, flows,
shipments, imports and unmet demand are decided in each scenario $s \in \Sigma$ with
probability $\rho_s$ (second stage: every family with ``stage = 2``: chain_coordination,
markets, supply). The engine builds each second-stage family once per scenario on the block
``model.scenario[s].family[name]``, with a context whose ``instance`` is the scenario's data
(import caps and prices scaled) and whose ``activity`` is the scenario's production; families
never loop over scenarios. For each scenario $s$:

$$
\begin{aligned}
&\text{production}_{irs} \ge 0 && (i,r) \in S \\
&\text{production\_within\_available:} && \text{production}_{irs} \le \alpha_{rs}\, q_{ir}
  && \forall (i,r) \in S \\
&\text{site\_output\_within\_production:} && \sum_f \mathrm{out}^f_{irs} \le
  \text{production}_{irs} && \forall (i,r) \text{ with outflows} \\
&\text{unmet}_{iws} \in [0, D_{iw}] && \text{each final-demand row } w \text{ of } i \\
&\text{production\_covers\_demand:} && \sum_r \text{production}_{irs} + \sum_w
  \text{unmet}_{iws} \ \ge\ D_i + \sum_{(i,d)\in L} a_{id} \sum_r \text{production}_{drs}
  && \forall i \in I \\
&\text{scenario\_cost:} && c_s = \sum_{t \in \mathcal{T}_2} w_t\, \mathrm{term}_{ts}
  + \pi \sum_{i,w} \text{unmet}_{iws}
\end{aligned}
$$

$\alpha_{rs}$ is the availability of region $r$ in scenario $s$ (``shocks.csv`` kind
``availability``, else 1), $\pi$ the unmet penalty (``[scenarios] unmet_penalty``, money per
unit of capacity). The final-demand rows $w$ of industry $i$ are the rows of the constraints a
second-stage family declares as ``demand`` (``markets_demand_met[i, m]``: the slack enters
that row, $\sum_o \text{ship}_{ioms} + \text{unmet}_{ims} \ge D_{im}$), else one national row
``(national)`` with $D_{iw} = D_i$. Capacity still covers the requirement in the first stage
(``capacity_covers_requirement``): the shock is what makes production fall short.

Objective (``[scenarios] risk``): the first-stage terms plus the expected second-stage cost,
or its conditional value at risk at level $\beta$ (``cvar_alpha``):

$$
\begin{aligned}
&\text{expected:} && \min z = \sum_{t \in \mathcal{T}_1} w_t\, \mathrm{term}_t
  + \sum_s \rho_s c_s \\
&\text{cvar:} && \min z = \sum_{t \in \mathcal{T}_1} w_t\, \mathrm{term}_t
  + \text{cvar\_threshold} + \frac{1}{1-\beta} \sum_s \rho_s\, \text{cvar\_excess}_s \\
&\text{cvar\_excess\_above\_threshold:} && \text{cvar\_excess}_s \ge c_s -
  \text{cvar\_threshold}, \quad \text{cvar\_excess}_s \ge 0 && \forall s
\end{aligned}
$$

The objective table reports each second-stage term as its expectation
$\sum_s \rho_s \mathrm{term}_{ts}$, the engine term ``unmet`` (weight $\pi$) as the expected
unmet demand, and under CVaR the term ``cvar_premium`` = CVaR minus the expected second-stage
cost, so that $z = \sum_t w_t\, \mathrm{term}_t$ holds either way. Valid inequalities of the
second-stage families are left out in scenarios (``strengthen`` off): derived for a model in
which capacity always runs, some do not hold when a site may stand idle.

Value of information (:func:`stochastic_value`): RP is the optimum of this model, EV that of
the expected-value problem (one scenario with every factor at its mean), EEV the cost of EV's
first stage in this model, WS the expected optimum with perfect information (each scenario
alone); $\mathrm{VSS} = \mathrm{EEV} - \mathrm{RP} \ge 0$ and
$\mathrm{EVPI} = \mathrm{RP} - \mathrm{WS} \ge 0$.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, Symbol, Term
from allocator.core.tables import CAPACITY, clean
from allocator.engine.context import Context, FormulationError, Registry
from allocator.input.scenarios import Scenario, scenario_instance

if TYPE_CHECKING:
    from allocator.engine.build import BuiltModel
    from allocator.input.data import Instance

NATIONAL = "(national)"

UNMET = Term("unmet", "final demand not met in a supply-shock scenario (expected over the "
             "scenarios)", CAPACITY)
CVAR_PREMIUM = Term("cvar_premium", "risk = 'cvar': CVaR of the second-stage cost minus its "
                    "expectation", "money")

#: the engine's components of a stochastic model, documented like a family's symbols
SCENARIO_SYMBOLS: tuple[Symbol, ...] = (
    Symbol("shocks.csv:probability", "parameter", r"\rho_s", "scenarios", "",
           "probability of scenario s"),
    Symbol("shocks.csv:availability", "parameter", r"\alpha_{rs} \in [0, 1]",
           "(region, scenario)", "", "share of a region's capacity that can run (0: offline; "
           "no row: 1)"),
    Symbol("[scenarios] unmet_penalty", "parameter", r"\pi", "", "money/capacity",
           "penalty per unit of final demand not met"),
    Symbol("scenarios", "set", r"\Sigma", "", "", "supply-shock scenarios (shocks.csv)"),
    Symbol("scenario", "block", "", "scenarios", "", "one block per scenario: its "
           "second-stage families on model.scenario[s].family[name] and the components below"),
    Symbol("families", "set", "", "", "", "names of the second-stage families built in the "
           "scenario (on model.scenario[s])"),
    Symbol("family", "block", "", "families", "", "one block per second-stage family: "
           "model.scenario[s].family['markets'].markets_demand_met"),
    Symbol("production", "variable", r"\text{production}_{irs} \ge 0", "sites", CAPACITY,
           "what runs at the site in scenario s (ctx.activity of the second-stage families)"),
    Symbol("production_within_available", "constraint", "", "sites", CAPACITY,
           "production within the available share of capacity",
           r"\text{production}_{irs} \le \alpha_{rs} q_{ir}"),
    Symbol("site_output_within_production", "constraint", "", "sites with outflows",
           CAPACITY, "what the second-stage families ship out of a site is at most its "
           "production", r"\sum_f \mathrm{out}^f_{irs} \le \text{production}_{irs}"),
    Symbol("unmet", "variable", r"\text{unmet}_{iws} \in [0, D_{iw}]",
           "(industry, market or (national))", CAPACITY, "final demand not met"),
    Symbol("production_covers_demand", "constraint", "", "industries", CAPACITY,
           "production plus unmet demand covers final demand plus downstream use",
           r"\sum_r \text{production}_{irs} + \sum_w \text{unmet}_{iws} \ge D_i + \sum_d "
           r"a_{id} \sum_r \text{production}_{drs}"),
    Symbol("scenario_terms", "set", r"\mathcal{T}_2", "", "", "second-stage terms and unmet"),
    Symbol("scenario_term", "expression", r"\mathrm{term}_{ts}", "scenario_terms", "money",
           "each second-stage term in scenario s, before weighting"),
    Symbol("scenario_cost", "expression", "c_s", "", "money", "weighted second-stage cost",
           r"c_s = \sum_{t} w_t \mathrm{term}_{ts} + \pi \sum \text{unmet}_{iws}"),
    Symbol("cvar_threshold", "variable", r"\eta", "", "money",
           "risk = 'cvar': the value-at-risk threshold"),
    Symbol("cvar_excess", "variable", r"\text{excess}_s \ge 0", "scenarios", "money",
           "risk = 'cvar': second-stage cost above the threshold"),
    Symbol("cvar_excess_above_threshold", "constraint", "", "scenarios", "money",
           "excess is at least the cost above the threshold", r"\text{excess}_s \ge c_s - \eta"),
)


def build_scenarios(model: pyo.ConcreteModel, instance: Instance, second: list[Family],
                    scenarios: list[Scenario], registry: Registry, sites: pd.DataFrame,
                    state: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Build the second stage on ``model.scenario[s]`` and feed the root registry's terms with
    their expectations (see the module docstring). ``sites`` are the model's candidate sites,
    ``state`` each family's own data (``ctx.state``). Returns the weights of the terms the
    engine adds: ``unmet`` and, with CVaR, ``cvar_premium``."""
    settings = instance.settings["scenarios"]
    added: dict[str, float] = {}
    weights = dict(instance.weights)
    penalty = float(settings["unmet_penalty"])
    names = [s.name for s in scenarios]
    model.scenarios = pyo.Set(initialize=names, ordered=True)
    model.scenario = pyo.Block(model.scenarios)
    stage2_terms = [t.name for f in second for t in f.terms]
    for fam in second:
        for term in fam.terms:
            registry.term_specs[term.name] = (term, fam.name)
    registry.term_specs[UNMET.name] = (UNMET, "(engine)")
    weights[UNMET.name] = added[UNMET.name] = penalty
    for sc in scenarios:
        _build_scenario(model, sc, instance, second, registry, sites, state, weights,
                        stage2_terms)
    prob = {s.name: s.probability for s in scenarios}
    for t in [*stage2_terms, UNMET.name]:
        registry.terms[t].append(pyo.quicksum(
            prob[s] * model.scenario[s].scenario_term[t] for s in names if prob[s]))
    if settings["risk"] == "cvar":
        beta = float(settings["cvar_alpha"])
        model.cvar_threshold = pyo.Var(within=pyo.Reals)
        model.cvar_excess = pyo.Var(model.scenarios, within=pyo.NonNegativeReals)
        model.cvar_excess_above_threshold = pyo.Constraint(
            model.scenarios, rule=lambda m, s: m.cvar_excess[s]
            >= m.scenario[s].scenario_cost - m.cvar_threshold)
        expected = pyo.quicksum(prob[s] * model.scenario[s].scenario_cost for s in names)
        cvar = model.cvar_threshold + (1.0 / (1.0 - beta)) * pyo.quicksum(
            prob[s] * model.cvar_excess[s] for s in names)
        registry.term_specs[CVAR_PREMIUM.name] = (CVAR_PREMIUM, "(engine)")
        added[CVAR_PREMIUM.name] = 1.0
        registry.terms[CVAR_PREMIUM.name].append(cvar - expected)
    return added


def _build_scenario(model: pyo.ConcreteModel, sc: Scenario, instance: Instance,
                    second: list[Family], registry: Registry, sites: pd.DataFrame,
                    state: dict[str, dict[str, Any]], weights: dict[str, float],
                    stage2_terms: list[str]) -> None:
    """The second stage of one scenario on ``model.scenario[sc.name]``."""
    keys = list(sites.index)
    demand = instance.final_demand
    chain = instance.chain
    downstream: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for u, d, a in zip(chain["upstream"], chain["downstream"], chain["ratio"], strict=True):
        downstream[u].append((d, float(a)))
    regions_of: dict[str, list[str]] = defaultdict(list)
    for i, r in keys:
        regions_of[i].append(r)
    blk = model.scenario[sc.name]
    view = scenario_instance(instance, sc)
    avail = {r: sc.factor("availability", r) for r in instance.region_ids}
    blk.production = pyo.Var(keys, within=pyo.NonNegativeReals, dense=False)
    q = model.capacity
    blk.production_within_available = pyo.Constraint(
        keys, rule=lambda b, i, r: b.production[i, r] <= avail[r] * q[i, r])
    local = Registry()
    local.term_specs = registry.term_specs
    blk.families = pyo.Set(initialize=[f.name for f in second], ordered=True)
    blk.family = pyo.Block(blk.families)
    for fam in second:
        own = state.setdefault(fam.name, {}).setdefault(sc.name, {})  # per scenario
        fam.build(blk.family[fam.name], Context(model, view, fam, local, sites=sites,
                                                state=own, strengthen=False,
                                                activity=blk.production, scenario=sc.name))
    # unmet demand: a slack in each final-demand row, else one national row
    unmet_keys: list[tuple[str, str]] = []
    upper: dict[tuple[str, str], float] = {}
    rows: list[tuple[Any, tuple[str, str]]] = []
    for fam in second:
        for name in fam.demand:
            comp = blk.family[fam.name].component(name)
            if comp is None:
                raise FormulationError(f"family {fam.name} declares demand rows '{name}' "
                                       "but builds no such constraint")
            for index, con in comp.items():
                key = (index[0], str(index[1]) if len(index) > 1 else NATIONAL)
                unmet_keys.append(key)
                upper[key] = float(con.lower)
                rows.append((con, key))
    located = {i for i, _ in unmet_keys}
    for i in instance.industry_ids:
        if i not in located and float(demand[i]) > 0:
            unmet_keys.append((i, NATIONAL))
            upper[i, NATIONAL] = float(demand[i])
    blk.unmet = pyo.Var(unmet_keys, within=pyo.NonNegativeReals,
                        bounds=lambda _, i, w: (0.0, upper[i, w]))
    for con, key in rows:
        con.set_value((con.lower, con.body + blk.unmet[key], con.upper))
    unmet_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in unmet_keys:
        unmet_of[key[0]].append(key)

    def covers(b: pyo.Block, i: str) -> Any:
        made = pyo.quicksum(b.production[i, r] for r in regions_of[i])
        short = pyo.quicksum(b.unmet[k] for k in unmet_of[i])
        used = pyo.quicksum(a * b.production[d, r] for d, a in downstream[i]
                            for r in regions_of[d])
        if not regions_of[i] and not unmet_of[i]:
            return pyo.Constraint.Skip  # nothing to decide (validation: no demand)
        return made + short >= float(demand[i]) + used

    blk.production_covers_demand = pyo.Constraint(instance.industry_ids, rule=covers)
    outputs = local.outputs
    blk.site_output_within_production = pyo.Constraint(
        [s for s in keys if s in outputs],
        rule=lambda b, i, r: pyo.quicksum(outputs[i, r]) <= b.production[i, r])
    unknown = set(local.terms) - set(stage2_terms)
    if unknown:
        raise FormulationError(f"scenario terms without a declaration: {sorted(unknown)}")
    blk.scenario_terms = pyo.Set(initialize=[*stage2_terms, UNMET.name], ordered=True)
    blk.scenario_term = pyo.Expression(
        blk.scenario_terms, rule=lambda b, t: pyo.quicksum(b.unmet.values())
        if t == UNMET.name else pyo.quicksum(local.terms.get(t, [])))
    blk.scenario_cost = pyo.Expression(expr=pyo.quicksum(
        weights.get(t, 1.0) * blk.scenario_term[t] for t in blk.scenario_terms
        if weights.get(t, 1.0) != 0))


def scenario_context(built: BuiltModel, scenario: Scenario, family: Family) -> Context:
    """A read-only context of a second-stage family in one scenario (for reports)."""
    blk = built.model.scenario[scenario.name]
    own = built.state.setdefault(family.name, {}).setdefault(scenario.name, {})
    return Context(built.model, scenario_instance(built.instance, scenario), family,
                   sites=built.sites, state=own, strengthen=False, activity=blk.production,
                   scenario=scenario.name, contributed=built.uses)


def scenario_tables(built: BuiltModel) -> dict[str, pd.DataFrame]:
    """Per-scenario result tables of a solved stochastic model (each with a ``scenario``
    column): ``scenario_production`` (capacity, availability, production), ``scenario_flows``
    and ``scenario_imports`` (the second-stage families' reports), ``scenario_unmet``,
    ``scenario_costs`` (each second-stage term, weighted) and ``scenarios`` (probability,
    shocks, second-stage cost, total cost with the first stage, unmet demand)."""
    m = built.model
    second = [f for f in built.families if f not in built.first_stage]
    first_cost = _first_stage_cost(built)
    prod, flows, imports, unmet, costs, summary = [], [], [], [], [], []
    keys = list(built.sites.index)
    for sc in built.scenarios:
        blk = m.scenario[sc.name]
        p = [pyo.value(blk.production[k]) or 0.0 for k in keys]
        q = [pyo.value(m.capacity[k]) or 0.0 for k in keys]
        prod.append(pd.DataFrame({
            "scenario": sc.name, "industry": [i for i, _ in keys],
            "region": [r for _, r in keys], CAPACITY: clean(q),
            "availability": [sc.factor("availability", r) for _, r in keys],
            "production": clean(p)}))
        for fam in second:
            if fam.report_rows is None:
                continue
            ctx = scenario_context(built, sc, fam)
            for name, df in fam.report_rows(blk.family[fam.name], ctx).items():
                if name == "flows":
                    flows.append(df.assign(scenario=sc.name))
                elif name == "imports":
                    imports.append(df.assign(scenario=sc.name))
        for (i, w), v in blk.unmet.items():
            unmet.append({"scenario": sc.name, "industry": i, "market": w,
                          "demand": float(blk.unmet[i, w].ub), "unmet": pyo.value(v) or 0.0})
        for t in blk.scenario_terms:
            value = float(pyo.value(blk.scenario_term[t]))
            w = built.weights.get(t, 1.0)
            costs.append({"scenario": sc.name, "term": t, "weight": w, "value": value,
                          "weighted": w * value})
        cost = float(pyo.value(blk.scenario_cost))
        summary.append({"scenario": sc.name, "probability": sc.probability,
                        "shocks": sc.describe(), "second_stage_cost": cost,
                        "total_cost": first_cost + cost,
                        "unmet": float(sum(pyo.value(v) or 0.0
                                           for v in blk.unmet.values()))})
    out = {
        "scenarios": pd.DataFrame(summary),
        "scenario_production": pd.concat(prod, ignore_index=True),
        "scenario_unmet": pd.DataFrame(unmet, columns=["scenario", "industry", "market",
                                                       "demand", "unmet"]),
        "scenario_costs": pd.DataFrame(costs, columns=["scenario", "term", "weight", "value",
                                                       "weighted"]),
    }
    if flows:
        out["scenario_flows"] = _front(pd.concat(flows, ignore_index=True))
    if imports:
        out["scenario_imports"] = _front(pd.concat(imports, ignore_index=True))
    for name in ("scenario_unmet", "scenario_costs", "scenarios"):
        for col in ("unmet", "value", "weighted", "second_stage_cost", "total_cost"):
            if col in out[name].columns:
                out[name][col] = clean(out[name][col])
    return out


def _front(df: pd.DataFrame) -> pd.DataFrame:
    return df[["scenario", *[c for c in df.columns if c != "scenario"]]]


def _first_stage_cost(built: BuiltModel) -> float:
    """The weighted first-stage terms (investment, duplication, ...)."""
    m = built.model
    first = {f.name for f in built.first_stage}
    return float(sum(built.weights[t] * pyo.value(m.objective_terms[t])
                     for t, (_, fam) in built.terms.items() if fam in first))


def stochastic_summary(built: BuiltModel, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Expected against worst case, for summary.json and the terminal."""
    sc = tables["scenarios"]
    settings = built.instance.settings["scenarios"]
    worst = sc.loc[sc["total_cost"].idxmax()]
    best = sc.loc[sc["total_cost"].idxmin()]
    expected = float((sc["probability"] * sc["total_cost"]).sum())
    return {
        "risk": settings["risk"], "cvar_alpha": settings["cvar_alpha"],
        "second_stage": [f.name for f in built.families if f not in built.first_stage],
        "unmet_penalty": settings["unmet_penalty"],
        "scenarios": [{"name": s.name, "probability": s.probability, "shocks": s.describe()}
                      for s in built.scenarios],
        "first_stage_cost": _first_stage_cost(built),
        "expected_total_cost": expected,
        "expected_unmet": float((sc["probability"] * sc["unmet"]).sum()),
        "worst_case": {"scenario": str(worst["scenario"]),
                       "total_cost": float(worst["total_cost"]),
                       "unmet": float(worst["unmet"])},
        "best_case": {"scenario": str(best["scenario"]),
                      "total_cost": float(best["total_cost"])},
    }


def fix_first_stage(built: BuiltModel, source: BuiltModel) -> list[tuple[Any, Any, Any]]:
    """Hold hosts and capacity of ``built`` at the solved values of ``source`` (same sites)
    by setting both bounds (not ``fix``: a fixed row would be checked exactly, before HiGHS's
    tolerances, and solver noise would make it infeasible). Returns the original bounds, for
    :func:`release_first_stage`."""
    m, src = built.model, source.model
    saved: list[tuple[Any, Any, Any]] = []
    for key, var in m.hosts.items():
        saved.append((var, *var.bounds))
        value = float(round(pyo.value(src.hosts[key])))
        var.setlb(value)
        var.setub(value)
    for key, var in m.capacity.items():
        saved.append((var, *var.bounds))
        lb, ub = var.bounds
        value = float(pyo.value(src.capacity[key]))
        value = min(max(value, lb if lb is not None else value), ub if ub is not None
                    else value)
        var.setlb(value)
        var.setub(value)
    return saved


def release_first_stage(saved: list[tuple[Any, Any, Any]]) -> None:
    """Restore the bounds :func:`fix_first_stage` changed."""
    for var, lb, ub in saved:
        var.setlb(lb)
        var.setub(ub)
