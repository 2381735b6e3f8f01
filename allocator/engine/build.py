r"""Build the Pyomo model: the core decisions, one block per active family, the objective.

The engine owns the shared decisions and closes the shared accumulators:

* `sites` $S \subseteq I \times R$: the (industry, region) pairs that may host: the input's
  candidates less the pairs that can never host, whose site maximum $\overline{Q}_{ir}$ is
  tightened by the limits the families imply (talent, funding, key inputs, value-chain
  reach: `allocator.engine.prune`; the pairs left out are listed in `pruned.csv`);
* `hosts[i, r]` $x_{ir} \in \{0, 1\}$ and `capacity[i, r]` $q_{ir}$ with bounds
  $[\underline{q}_{ir}, \overline{Q}_{ir}]$ ($\underline{q}_{ir} = e_{ir}$ on kept brownfield
  sites, else 0);
* `capacity_new[i, r]` $n_{ir} \ge q_{ir} - e_{ir}$ on brownfield sites $S^b$;
* `site_investment[i, r]`: $F_{ir} x_{ir} + c_{ir} q_{ir}$ on new sites, $c_{ir} n_{ir}$ on
  brownfield sites (their setup is paid);
* `capacity_total[i]` $Q_i = \sum_r q_{ir}$ and `capacity_surplus[i]`
  $Q_i - D_i - \sum_{(i,d) \in L} a_{id} Q_d$: national capacity beyond final demand $D_i$
  plus what downstream industries use (chain ratio $a_{id}$), a variable defined by the row
  `capacity_surplus_definition[i]`, the one row whose right-hand side is $D_i$: one more unit
  of demand moves that row alone, so its dual is the price of demand (with the fixed hosting
  of a plan, :mod:`allocator.analysis.shadow`), whatever the families do with the surplus;
* `site_output_within_capacity[i, r]`: what all families ship out of a site is at most its
  capacity, $\sum_f \mathrm{out}^f_{ir} \le q_{ir}$;
* `objective`: $\min z = \sum_t w_t\, \mathrm{term}_t$ over the terms the families add;
* contributed resource use: a family may add its use of a resource whose limit another
  family owns (``ctx.add_use("talent", (region, talent_class), expr)``); after every
  family's ``build``, each family's optional ``close`` runs, and the owner builds its limit
  rows with ``ctx.uses("talent")`` included. Without contributions the model is the same;
* `shortfall[k]` $s_k \ge 0$: with softened limits (`--soft talent,funding`), each row of a
  family's `limits` gets a slack ($\text{body} - s_k \le \text{ub}$ or
  $\text{body} + s_k \ge \text{lb}$), penalized in the term `shortfall` (weight: the penalty,
  default $10^6$ per unit);
* `objective_term_bounds[t]`: an objective term at most a given limit,
  $\mathrm{term}_t \le \varepsilon_t$ for the terms bounded (`build_model(term_bounds=...)`,
  a sweep case's `bound`): the epsilon-constraint of `allocator frontier`. None by default.

Families see the core only through :class:`Context`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, Symbol, Term
from allocator.core.tables import CAPACITY
from allocator.engine.context import Context, FormulationError, Registry
from allocator.engine.prune import PRUNED_COLUMNS, derive_sites, no_pruning
from allocator.engine.stochastic import build_scenarios
from allocator.input.data import Instance
from allocator.input.scenarios import scenarios_of

#: core components, documented like a family's symbols
CORE_SYMBOLS: tuple[Symbol, ...] = (
    Symbol("sites", "set", r"S \subseteq I \times R", "", "",
           "candidate sites: industry x region pairs allowed to host"),
    Symbol("brownfield_sites", "set", r"S^{b} \subseteq S", "", "",
           "sites with existing capacity"),
    Symbol("hosts", "variable", r"x_{ir} \in \{0,1\}", "sites", "",
           "1 when region r hosts industry i; fixed to 1 on brownfield sites when "
           "sites.brownfield = 'keep'"),
    Symbol(CAPACITY, "variable", r"q_{ir}", "sites", CAPACITY,
           r"capacity at the site, bounded by $[\underline{q}_{ir}, \overline{Q}_{ir}]$: "
           r"the existing capacity $e_{ir}$ (when kept) and the site maximum"),
    Symbol("capacity_new", "variable", r"n_{ir} \ge 0", "brownfield_sites", CAPACITY,
           "new capacity built on top of existing capacity"),
    Symbol("capacity_new_definition", "constraint", "", "brownfield_sites", CAPACITY,
           "new capacity is what exceeds the existing capacity",
           r"n_{ir} \ge q_{ir} - e_{ir}"),
    Symbol("site_investment", "expression", r"\mathrm{inv}_{ir}", "sites", "money",
           "fixed setup cost of a new host plus capex of its new capacity (greenfield sites: "
           "all capacity is new)",
           r"F_{ir} x_{ir} + c_{ir} q_{ir} \ (ir \notin S^b); \quad c_{ir} n_{ir} \ (ir \in S^b)"),
    Symbol("industries", "set", "I", "", "", "industries (industries.csv)"),
    Symbol("capacity_total", "expression", r"Q_i", "industries", CAPACITY,
           "national capacity of an industry", r"Q_i = \sum_{r:(i,r)\in S} q_{ir}"),
    Symbol("capacity_surplus", "variable", r"\mathrm{surplus}_i", "industries", CAPACITY,
           "national capacity beyond final demand plus downstream use"),
    Symbol("capacity_surplus_definition", "constraint", "", "industries", CAPACITY,
           "the surplus is national capacity less final demand and downstream use (the one "
           "row whose right-hand side is the final demand D_i)",
           r"Q_i - \sum_{(i,d)\in L} a_{id} Q_d - \mathrm{surplus}_i = D_i"),
    Symbol("site_output_within_capacity", "constraint", "", "sites with outflows", CAPACITY,
           "what all families ship out of a site (to downstream industries, to markets) is at "
           "most its capacity", r"\sum_{f} \mathrm{out}^{f}_{ir} \le q_{ir}"),
    Symbol("families", "set", "", "", "", "names of the families built"),
    Symbol("family", "block", "", "families", "", "one block per family holding its "
           "components: model.family['talent'].talent_within_supply"),
    Symbol("terms", "set", "\\mathcal{T}", "", "", "objective terms of the active families"),
    Symbol("shortfall", "variable", r"s_k \ge 0", "softened limit rows", "unit of the limit",
           "elastic slack of a softened limit row (build_model(soft=...), --soft): how much the "
           "limit is exceeded; penalized in the term shortfall",
           r"\text{body} - s_k \le \text{ub}, \quad \text{body} + s_k \ge \text{lb}"),
    Symbol("objective_terms", "expression", r"\mathrm{term}_t", "terms", "money",
           "each objective term, before weighting"),
    Symbol("objective", "objective", "z", "", "money", "the weighted sum of the terms",
           r"\min z = \sum_{t \in \mathcal{T}} w_t \, \mathrm{term}_t"),
    Symbol("bounded_terms", "set", r"\mathcal{T}^{\varepsilon} \subseteq \mathcal{T}", "",
           "", "objective terms given an upper limit (build_model(term_bounds=...), a sweep "
           "case's bound, allocator frontier); empty by default"),
    Symbol("objective_term_bounds", "constraint", "", "bounded_terms", "unit of the term",
           r"a term, before weighting, at most its limit $\varepsilon_t$: the "
           "epsilon-constraint method of a Pareto frontier",
           r"\mathrm{term}_t \le \varepsilon_t"),
)


@dataclass
class BuiltModel:
    """A Pyomo model with what is needed to solve it and read it back."""

    model: pyo.ConcreteModel
    instance: Instance
    families: list[Family]
    terms: dict[str, tuple[Term, str]]  # term name -> (spec, family name)
    seconds: float
    #: one row per slack of a softened limit: family, constraint, index, sense, slack (the
    #: index into ``model.shortfall``); empty unless built with ``soft=``
    soft_rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["family", "constraint", "index", "sense", "slack"]))
    #: objective weight of every term (the instance's, plus the shortfall penalty)
    weights: dict[str, float] = field(default_factory=dict)
    #: candidate pairs left out because they can never host: industry, region, family,
    #: reason, bound, min_scale (:mod:`allocator.engine.prune`)
    pruned: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PRUNED_COLUMNS))
    #: uses contributed to other families' limits (:meth:`Context.add_use`): resource ->
    #: key -> [(family, expr)]; empty when no family contributes
    uses: dict[str, dict[Any, list[tuple[str, Any]]]] = field(default_factory=dict)
    #: supply-shock scenarios (:class:`allocator.input.scenarios.Scenario`) of a stochastic
    #: model; empty for a deterministic one
    scenarios: list[Any] = field(default_factory=list)
    #: the candidate sites of the model, $S$: the instance's less the pairs left out
    #: (``pruned``), with ``capacity_max`` tightened (what ``Context.sites`` returns)
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: each family's own data from its build (``ctx.state``), by family name
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: objective terms with an upper limit (``objective_term_bounds``): term -> limit
    term_bounds: dict[str, float] = field(default_factory=dict)

    def context(self, family: Family, *, instance: Instance | None = None,
                activity: Any = None, scenario: str | None = None) -> Context:
        """A read-only context of ``family`` for reading the solved model (its report)."""
        return Context(self.model, instance or self.instance, family, sites=self.sites,
                       state=self.state.setdefault(family.name, {}), strengthen=False,
                       activity=activity, scenario=scenario, contributed=self.uses)

    def block(self, family: str) -> pyo.Block:
        """The block of a family: ``model.family[name]`` (a second-stage family of a
        stochastic model has one per scenario: ``model.scenario[s].family[name]``)."""
        return self.model.family[family]

    @property
    def first_stage(self) -> list[Family]:
        """The families built once on ``model.family`` (all of them without scenarios)."""
        return [f for f in self.families if f.name in self.model.families]



SHORTFALL = Term("shortfall", "amount by which softened limits are exceeded (each in its own "
                 "unit: talent, money, capacity, input units)", "money per unit of shortfall",
                 default_weight=1e6)


def build_model(
    instance: Instance,
    families: Iterable[str] | None = None,
    *,
    soft: Iterable[str] = (),
    soft_penalty: float | None = None,
    prune: bool | None = None,
    strengthen: bool = True,
    scenarios: list[Any] | None = None,
    term_bounds: dict[str, float] | None = None,
) -> BuiltModel:
    """Build the model for ``instance`` with its active families (or only those named in
    ``families``; ``capacity`` is always included).

    ``soft`` names families whose limits (their ``Family.limits`` constraints) become elastic:
    each row gets a non-negative slack, and the slacks are penalized in the core term
    ``shortfall`` with weight ``soft_penalty`` (default 1e6 per unit). The plan is then "the
    best plan, and what it would take": ``BuiltModel.soft_rows`` says which slack belongs to
    which family, constraint and index.

    ``prune`` (default: the instance's ``[sites] prune``, true) tightens every site's maximum
    with the limits the (not softened) families imply and leaves out the pairs that can never
    host; they are listed in ``BuiltModel.pruned`` (:mod:`allocator.engine.prune`).
    ``strengthen=False`` builds the plain formulation: every family's option ``strengthen``
    (its valid inequalities) is off, and so is pruning unless ``prune=True``. The optimum is
    the same; only the time to reach it differs.

    ``scenarios`` (default: those of the instance's ``shocks.csv``, none without it; ``[]``:
    deterministic; also the default with ``soft``) makes the model the deterministic
    equivalent of the two-stage stochastic
    program: first-stage families once, second-stage families (``Family.stage = 2``) once per
    scenario on ``model.scenario[s]`` (:mod:`allocator.engine.stochastic`). Without scenarios the
    model is the deterministic one, component for component.

    ``term_bounds`` (term -> limit) adds ``objective_term_bounds``: each named objective term,
    before weighting, at most its limit (the epsilon-constraint method: minimize the
    objective with one term bounded). A term no built family contributes raises
    ``KeyError``.
    """
    start = time.perf_counter()
    chosen = _choose(instance, families)
    if scenarios is None:
        # softened limits (evaluate, explain) are a question about the deterministic model
        scenarios = [] if soft else scenarios_of(instance)
    staged = bool(scenarios)
    first = [f for f in chosen if not (staged and f.stage == 2)]
    soft = list(soft)
    if staged and soft:
        raise KeyError("--soft cannot be combined with supply-shock scenarios (shocks.csv): "
                       "unmet demand is already penalized in each scenario")
    softenable = {f.name: f for f in chosen if f.limits}
    for name in soft:
        if name not in softenable:
            known = ", ".join(sorted(softenable)) or "(none)"
            raise KeyError(f"family '{name}' has no limits that can be softened here; "
                           f"families with limits: {known}")
    model = pyo.ConcreteModel(name=instance.name)
    if prune is None:
        prune = bool(instance.settings["sites"]["prune"]) and strengthen
    if prune:
        # with scenarios, a second-stage family limits production, not capacity: only the
        # first-stage families' limits bound the site maxima (a shock cannot then make the
        # pruned model infeasible, and pruning never removes a site a scenario could use)
        derived = derive_sites(instance, [f for f in first if f.name not in soft],
                               must_host=any(f.enforces_must_host for f in chosen))
    else:
        derived = no_pruning(instance)
    _build_core(model, instance, derived.sites)
    registry = Registry()
    model.families = pyo.Set(initialize=[f.name for f in first], ordered=True)
    model.family = pyo.Block(model.families)
    contexts = {}
    state: dict[str, dict[str, Any]] = {f.name: {} for f in chosen}
    for fam in first:
        for term in fam.terms:
            registry.term_specs[term.name] = (term, fam.name)
        ctx = contexts[fam.name] = Context(model, instance, fam, registry,
                                           sites=derived.sites, state=state[fam.name],
                                           soft=fam.name in soft, strengthen=strengthen)
        fam.build(model.family[fam.name], ctx)
    registry.closing = True
    for fam in first:
        if fam.close is not None:
            fam.close(model.family[fam.name], contexts[fam.name])
    _check_uses(registry, chosen, instance)
    uses = {r: dict(k) for r, k in registry.uses.items() if k}  # for reports
    rows = _soften(model, [softenable[n] for n in soft], registry)
    weights = dict(instance.weights)
    if staged:
        weights.update(build_scenarios(model, instance, [f for f in chosen if f not in first],
                                       scenarios, registry, derived.sites, state))
    if soft:
        registry.term_specs[SHORTFALL.name] = (SHORTFALL, "(engine)")
        weights[SHORTFALL.name] = SHORTFALL.default_weight if soft_penalty is None else float(
            soft_penalty)
    bounds = dict(term_bounds or {})
    unknown = sorted(set(bounds) - set(registry.term_specs))
    if unknown:
        raise KeyError(f"objective term {', '.join(unknown)} cannot be bounded: no family "
                       "built here contributes it; terms: " + ", ".join(registry.term_specs))
    _close_core(model, weights, registry, bounds)
    return BuiltModel(model, instance, chosen, registry.term_specs,
                      time.perf_counter() - start, rows, weights, derived.pruned,
                      uses, list(scenarios), derived.sites, state, bounds)


def _check_uses(registry: Registry, chosen: list[Family], instance: Instance) -> None:
    """A contribution to a resource that no built family collected is dropped only when the
    owner is a known family switched off (``--without talent``: no talent limit to count
    against); a resource no family owns is a bug in the contributing family."""
    known = [*instance.known_families.values(), *(s.family for s in instance.families)]
    owned = {r for f in known for r in f.collects}
    for resource, keys in registry.uses.items():
        if resource in registry.collected or not keys:
            continue
        if resource not in owned:
            who = sorted({f for parts in keys.values() for f, _ in parts})
            raise FormulationError(f"family {', '.join(who)} uses resource '{resource}', "
                                   "which no family collects (Family.collects)")


def _soften(m: pyo.ConcreteModel, families: list[Family], registry: Registry
            ) -> pd.DataFrame:
    """Give every row of the named limits a penalized slack (see :func:`build_model`).

    A row ``body <= ub`` becomes ``body - s <= ub``; ``body >= lb`` becomes ``body + s >= lb``;
    an equality or a range gets one slack per side."""
    rows: list[tuple[str, str, object, str]] = []
    cons: list[tuple[Any, int | None, int | None]] = []  # (constraint, upper slack, lower)
    for fam in families:
        block = m.family[fam.name]
        for name in fam.limits:
            comp = block.component(name)
            if comp is None:
                raise FormulationError(f"family {fam.name} declares limit '{name}' but "
                                       "builds no such constraint")
            for index, con in comp.items():
                up = low = None
                if con.upper is not None:
                    up = len(rows)
                    rows.append((fam.name, name, index, "above upper limit"))
                if con.lower is not None:
                    low = len(rows)
                    rows.append((fam.name, name, index, "below lower limit"))
                cons.append((con, up, low))
    m.shortfall = pyo.Var(range(len(rows)), within=pyo.NonNegativeReals)
    for con, up, low in cons:
        body = con.body
        if up is not None:
            body = body - m.shortfall[up]
        if low is not None:
            body = body + m.shortfall[low]
        con.set_value((con.lower, body, con.upper))
    if rows:
        registry.terms[SHORTFALL.name].append(pyo.quicksum(m.shortfall.values()))
    return pd.DataFrame(rows, columns=["family", "constraint", "index", "sense"]).assign(
        slack=range(len(rows)))


def _choose(instance: Instance, names: Iterable[str] | None) -> list[Family]:
    active = instance.active_families
    if names is None:
        return active
    wanted = set(names) | {f.name for f in active if not f.optional}
    known = {s.family.name: s for s in instance.families}
    for name in wanted:
        if name not in known:
            raise KeyError(f"unknown family '{name}'")
        if not known[name].active:
            raise KeyError(f"family '{name}' is {known[name].reason}")
    return [f for f in active if f.name in wanted]


def _build_core(m: pyo.ConcreteModel, instance: Instance, sites: pd.DataFrame) -> None:
    keep = instance.settings["sites"]["brownfield"] == "keep"
    m.sites = pyo.Set(dimen=2, initialize=list(sites.index), ordered=True)
    brown = sites.index[sites["brownfield"].to_numpy()]
    m.brownfield_sites = pyo.Set(dimen=2, initialize=list(brown), ordered=True)

    kept = sites["brownfield"].to_numpy() & keep
    host_lb = dict(zip(sites.index, kept.astype(int), strict=True))
    m.hosts = pyo.Var(m.sites, within=pyo.Binary, bounds=lambda _, i, r: (host_lb[i, r], 1))

    cap_lb = dict(zip(sites.index, (sites["existing"] * kept).to_numpy(), strict=True))
    cap_ub = sites["capacity_max"].to_dict()
    m.capacity = pyo.Var(m.sites, within=pyo.NonNegativeReals,
                         bounds=lambda _, i, r: (cap_lb[i, r], cap_ub[i, r]))
    m.capacity_new = pyo.Var(m.brownfield_sites, within=pyo.NonNegativeReals,
                             bounds=lambda _, i, r: (0, cap_ub[i, r]))
    existing = sites["existing"].to_dict()
    m.capacity_new_definition = pyo.Constraint(
        m.brownfield_sites,
        rule=lambda m, i, r: m.capacity_new[i, r] >= m.capacity[i, r] - existing[i, r],
    )
    fixed, capex = sites["fixed_cost"].to_dict(), sites["unit_capex"].to_dict()
    is_brown = sites["brownfield"].to_dict()

    def investment(m: pyo.ConcreteModel, i: str, r: str) -> Any:
        if is_brown[i, r]:
            return capex[i, r] * m.capacity_new[i, r]
        return fixed[i, r] * m.hosts[i, r] + capex[i, r] * m.capacity[i, r]

    m.site_investment = pyo.Expression(m.sites, rule=investment)

    regions_of: dict[str, list[str]] = {i: [] for i in instance.industry_ids}
    for i, r in sites.index:
        regions_of[i].append(r)
    m.industries = pyo.Set(initialize=instance.industry_ids, ordered=True)
    m.capacity_total = pyo.Expression(
        m.industries, rule=lambda m, i: pyo.quicksum(m.capacity[i, r] for r in regions_of[i]))
    chain = instance.chain
    demand = instance.final_demand
    downstream = {i: list(zip(g["downstream"], g["ratio"], strict=True))
                  for i, g in chain.groupby("upstream", sort=False)}
    m.capacity_surplus = pyo.Var(m.industries)
    m.capacity_surplus_definition = pyo.Constraint(
        m.industries,
        rule=lambda m, i: m.capacity_total[i]
        - pyo.quicksum(float(a) * m.capacity_total[d] for d, a in downstream.get(i, ()))
        - m.capacity_surplus[i] == float(demand[i]))


def _close_core(m: pyo.ConcreteModel, weights: dict[str, float], registry: Registry,
                bounds: dict[str, float]) -> None:
    outputs = registry.outputs
    m.site_output_within_capacity = pyo.Constraint(
        [s for s in m.sites if s in outputs],
        rule=lambda m, i, r: pyo.quicksum(outputs[i, r]) <= m.capacity[i, r],
    )
    names = list(registry.term_specs)
    m.terms = pyo.Set(initialize=names, ordered=True)
    m.objective_terms = pyo.Expression(
        m.terms, rule=lambda m, t: pyo.quicksum(registry.terms.get(t, []))
    )
    m.objective = pyo.Objective(
        expr=pyo.quicksum(weights[t] * m.objective_terms[t] for t in names if weights[t] != 0),
        sense=pyo.minimize,
    )
    m.bounded_terms = pyo.Set(initialize=[t for t in names if t in bounds], ordered=True)

    def bounded(m: pyo.ConcreteModel, t: str) -> Any:
        if not registry.terms.get(t):  # nothing adds to the term here: it is 0
            return pyo.Constraint.Skip if bounds[t] >= 0 else pyo.Constraint.Infeasible
        return m.objective_terms[t] <= float(bounds[t])

    m.objective_term_bounds = pyo.Constraint(m.bounded_terms, rule=bounded)
