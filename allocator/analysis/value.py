r"""The value of the stochastic solution and of perfect information for an instance with
supply-shock scenarios (``shocks.csv``, :mod:`allocator.engine.stochastic`).

Four solves of the same instance (Birge and Louveaux, *Introduction to Stochastic
Programming*, ch. 4):

* RP, the recourse problem: the stochastic model, the plan chosen knowing only the
  probabilities;
* EV, the expected-value problem: one scenario whose factors are the means
  $\bar f = \sum_s \rho_s f_s$ (:func:`allocator.input.scenarios.expected_scenario`);
* EEV, the expected result of using EV's plan: the stochastic model with EV's first stage
  (hosts, capacity) fixed, each scenario's production, flows and unmet demand re-optimized;
  its plan is then RP's first incumbent (a MIP start), so that RP is never worse than EEV
  even when RP stops at its time limit;
* WS, wait-and-see: each scenario solved alone, as if it were known in advance, weighted by
  its probability.

$\mathrm{VSS} = \mathrm{EEV} - \mathrm{RP}$ is what planning for the shocks saves over
planning for the average; $\mathrm{EVPI} = \mathrm{RP} - \mathrm{WS}$ is what knowing the
shock in advance would be worth. Both are at least 0 when every solve is optimal; with a gap
they are estimates, and each solve's status and gap is reported with them. The values are for
the expected cost (``risk = 'expected'``) whatever the instance's ``[scenarios] risk``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pyomo.environ as pyo

from allocator.analysis.pipeline import solve_stochastic
from allocator.core.errors import OptionError
from allocator.engine.build import build_model
from allocator.engine.highs import SolverOptions
from allocator.engine.stochastic import fix_first_stage, release_first_stage
from allocator.input.periods import one_snapshot
from allocator.input.scenarios import expected_scenario, scenarios_of

if TYPE_CHECKING:
    from allocator.input.data import Instance


@dataclass
class Solve:
    """One of the four solves: its objective (the expected total cost), bound, gap, status."""

    name: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    hosts: int = 0  # host sites of the plan


@dataclass
class StochasticValue:
    rp: float | None
    ev: float | None
    eev: float | None
    ws: float | None
    solves: list[Solve] = field(default_factory=list)
    #: the stochastic plan (RP's result), to be written as a results folder
    rp_result: Any = None

    @property
    def vss(self) -> float | None:
        return None if self.eev is None or self.rp is None else self.eev - self.rp

    @property
    def evpi(self) -> float | None:
        return None if self.rp is None or self.ws is None else self.rp - self.ws

    def to_dict(self) -> dict[str, Any]:
        return {"RP": self.rp, "EV": self.ev, "EEV": self.eev, "WS": self.ws,
                "VSS": self.vss, "EVPI": self.evpi,
                "solves": [asdict(s) for s in self.solves]}


def _expected_risk(instance: Instance) -> Instance:
    settings = {**instance.settings,
                "scenarios": {**instance.settings["scenarios"], "risk": "expected"}}
    return replace(instance, settings=settings)


def stochastic_value(instance: Instance, options: Any, families: list[str] | None = None
                     ) -> StochasticValue:
    """RP, EV, EEV, WS (see the module docstring) with the solver ``options`` for each solve;
    ``rp_result`` of the answer is RP's result (the stochastic plan, per scenario)."""
    one_snapshot(instance.tables, instance.files, "allocator stochastic-value")
    scenarios = scenarios_of(instance)
    if not scenarios:
        raise OptionError("the instance has no supply-shock scenarios: give shocks.csv (in "
                          "the folder, [tables], or --table shocks=PATH)")
    inst = _expected_risk(instance)
    opts = (options or SolverOptions()).resolved(inst.settings["solver"])
    out = StochasticValue(None, None, None, None)

    def record(name: str, built: Any, result: Any, t0: float) -> None:
        o = result.outcome
        hosts = (round(sum(pyo.value(v) for v in built.model.hosts.values()))
                 if o.has_solution else 0)
        out.solves.append(Solve(name, o.status, o.objective, o.bound, o.gap,
                                time.perf_counter() - t0, hosts))

    def run(name: str, scen: list[Any]) -> tuple[Any, Any]:
        t0 = time.perf_counter()
        built = build_model(inst, families, scenarios=scen)
        result = solve_stochastic(built, opts)
        record(name, built, result, t0)
        return built, result

    ev_built, ev = run("EV", [expected_scenario(scenarios)])
    out.ev = ev.objective
    t0 = time.perf_counter()
    rp_built = build_model(inst, families, scenarios=scenarios)
    warm = False
    if ev.outcome.has_solution:
        saved = fix_first_stage(rp_built, ev_built)
        eev = solve_stochastic(rp_built, opts)
        record("EEV", rp_built, eev, t0)
        out.eev = eev.objective
        release_first_stage(saved)
        warm = eev.outcome.has_solution  # EEV's plan is a plan of RP: its first incumbent
        t0 = time.perf_counter()
    rp = solve_stochastic(rp_built, opts, start=warm)
    record("RP", rp_built, rp, t0)
    out.rp = rp.objective
    out.rp_result = rp
    ws: float | None = 0.0
    for sc in scenarios:
        _, alone = run(f"WS:{sc.name}", [replace(sc, probability=1.0)])
        if alone.objective is None or ws is None:
            ws = None
            continue
        ws += sc.probability * alone.objective
    out.ws = ws
    return out


def render(value: StochasticValue, money: str) -> str:
    lines = [f"{'solve':<22}{'status':<14}{'objective':>16}{'bound':>16}{'gap':>9}"
             f"{'hosts':>7}{'seconds':>9}"]
    for s in value.solves:
        obj = "-" if s.objective is None else f"{s.objective:,.2f}"
        bnd = "-" if s.bound is None else f"{s.bound:,.2f}"
        gap = "-" if s.gap is None else f"{s.gap:.2%}"
        lines.append(f"{s.name:<22}{s.status:<14}{obj:>16}{bnd:>16}{gap:>9}{s.hosts:>7}"
                     f"{s.seconds:>9.1f}")
    lines.append("")

    def show(x: float | None) -> str:
        return "-" if x is None else f"{x:,.2f} {money}"

    for label, x in (("RP  (stochastic optimum)", value.rp),
                     ("EV  (expected-value problem)", value.ev),
                     ("EEV (EV's plan facing the scenarios)", value.eev),
                     ("WS  (wait-and-see, perfect information)", value.ws),
                     ("VSS = EEV - RP", value.vss), ("EVPI = RP - WS", value.evpi)):
        lines.append(f"{label:<42}{show(x):>24}")
    if any(s.status != "optimal" for s in value.solves):
        lines.append("Not every solve is optimal: VSS and EVPI are estimates (see the gaps).")
    return "\n".join(lines)
