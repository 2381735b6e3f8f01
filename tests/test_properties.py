"""Properties that must hold on every instance, checked on random small ones (hypothesis).

Instances: 2-6 regions, 1-4 industries, candidate sites listed at random (some with
existing plants or must-host), and a random subset of the optional families switched on
(chain coordination, markets, talent, funding with a national fund, supply with tradable or
regional inputs, duplication, neighbouring pairs, policy limits). Many are infeasible; the
properties say what must hold either way.

* The MIP optimum equals the best of all hosting patterns, each solved as an LP with the
  hosts fixed (enumerated on instances with at most 10 candidate sites, <= 2^10 patterns):
  never worse than any of them, and infeasible exactly when all of them are.
* ``allocator verify`` accepts every plan the solver writes.
* Adding a constraint never lowers the optimum: switching on a family that only constrains
  (talent, funding, supply, policy), or forbidding a hosted site.
* Scaling every money figure by 10 scales the objective by 10, and the optimal plan of one
  is optimal for the other (compared through objective values, so alternative optima
  do not matter).

Deterministic: ``derandomize=True`` and no example database, so every run tries the same
examples.
"""

from __future__ import annotations

import itertools
import math
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import highspy
import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyomo.common.errors import InfeasibleConstraintException
from support import verified

import allocator
from allocator.analysis.evaluate import fix_plan
from allocator.engine.highs import SolverOptions, compile_model, make_highs, run_highs

EXACT = SolverOptions(mip_gap=0.0)
SETTINGS = settings(derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
OPTIONAL = ("chain_coordination", "markets", "talent", "funding", "supply", "duplication",
            "duplication_neighbors", "policy")
#: families that only constrain (no objective term): switching one on never lowers z
CONSTRAINING = ("talent", "funding", "supply", "policy")


@dataclass
class Spec:
    """A random instance as data, so that it can be written twice (e.g. scaled)."""

    regions: list[dict[str, object]]
    industries: list[dict[str, object]]
    sites: list[dict[str, object]]
    on: set[str]
    chain: list[tuple[str, str, float]] = field(default_factory=list)
    markets: list[tuple[str, str, float]] = field(default_factory=list)
    talent_supply: list[tuple[str, float]] = field(default_factory=list)
    talent_need: dict[str, float] = field(default_factory=dict)
    national_fund: float = 0.0
    reserved_share: float = 0.0
    input: dict[str, object] = field(default_factory=dict)
    input_need: dict[str, float] = field(default_factory=dict)
    input_supply: list[tuple[str, float]] = field(default_factory=list)
    money: float = 1.0  # every money figure is multiplied by this

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True)
        m = self.money
        without = [f for f in OPTIONAL if f not in self.on]
        toml = ['name = "random"', '[sites]', 'candidates = "listed"', "[families]",
                f"without = {without!r}".replace("'", '"'),
                "[objective]",  # terms counted in money per unit: their weights are money
                f"site_excess = {5 * m}", f"overcapacity = {0.5 * m}",
                f"neighbor_pairs = {2 * m}",
                "[funding]", f"national_fund = {self.national_fund * m}",
                f"slow_return_reserved_share = {self.reserved_share}",
                "[chain_coordination]", "nearest = 1"]
        (folder / "instance.toml").write_text("\n".join(toml) + "\n")
        rows = ["id,name,group,latitude,longitude,funding_budget,max_industries,"
                "min_industries"]
        rows += [f"{r['id']},{r['id']},{r['group']},{r['lat']},{r['lon']},"
                 f"{r['budget'] * m},{_blank(r['max'])},{_blank(r['min'])}"
                 for r in self.regions]
        _csv(folder / "regions.csv", rows)
        rows = ["id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max,"
                "coordination_cost,transport_cost,slow_return"]
        located = {i for i, _, _ in self.markets}
        rows += [f"{i['id']},{i['id']},{'' if i['id'] in located else i['demand']},"
                 f"{i['min_scale']},{i['capex'] * m},{i['fixed'] * m},{i['target']},"
                 f"{_blank(i['cap'])},{i['coord'] * m},{i['transport'] * m},{i['slow']}"
                 for i in self.industries]
        _csv(folder / "industries.csv", rows)
        rows = ["industry,region,existing_capacity,must_host"]
        rows += [f"{s['industry']},{s['region']},{_blank(s['existing'])},{s['must']}"
                 for s in self.sites]
        _csv(folder / "sites.csv", rows)
        _csv(folder / "talent_supply.csv", ["region,talent_class,supply"]
             + [f"{r},eng,{v}" for r, v in self.talent_supply])
        _csv(folder / "talent_need.csv", ["industry,talent_class,need"]
             + [f"{i},eng,{v}" for i, v in self.talent_need.items()])
        if self.chain:
            _csv(folder / "chain.csv", ["upstream,downstream,ratio"]
                 + [f"{u},{d},{a}" for u, d, a in self.chain])
        if self.markets:
            _csv(folder / "markets.csv", ["industry,region,demand"]
                 + [f"{i},{r},{d}" for i, r, d in self.markets])
        if self.input:
            k = self.input
            _csv(folder / "inputs.csv", ["id,name,import_cap,domestic_share_min,tradable",
                                         f"k,key input,{_blank(k['cap'])},{k['share']},"
                                         f"{k['tradable']}"])
            _csv(folder / "input_need.csv", ["industry,input,need"]
                 + [f"{i},k,{v}" for i, v in self.input_need.items()])
            _csv(folder / "input_supply.csv", ["region,input,supply"]
                 + [f"{r},k,{v}" for r, v in self.input_supply])
        return folder

    @property
    def candidates(self) -> int:
        return len(self.sites)


def _blank(v: object) -> str:
    return "" if v is None else str(v)


def _csv(path: Path, rows: list[str]) -> None:
    path.write_text("\n".join(rows) + "\n")


@st.composite
def specs(draw: st.DrawFn, max_sites: int = 24) -> Spec:
    n_r = draw(st.integers(2, 6))
    n_i = draw(st.integers(1, 4))
    regions = [{"id": f"R{k}", "group": f"g{draw(st.integers(0, 1))}",
                "lat": draw(st.integers(0, 2)), "lon": k, "budget": draw(st.integers(0, 80)),
                "max": None, "min": None} for k in range(n_r)]
    industries = []
    for k in range(n_i):
        scale = draw(st.integers(0, 3))
        industries.append({
            "id": f"I{k}", "demand": draw(st.integers(1, 8)), "min_scale": scale,
            "capex": draw(st.integers(0, 4)), "fixed": draw(st.integers(0, 20)),
            "target": draw(st.integers(0, 2)),
            "cap": draw(st.one_of(st.none(), st.integers(max(scale, 2), 10))),
            "coord": draw(st.sampled_from([0, 0.01, 0.03])),
            "transport": draw(st.sampled_from([0, 0.01, 0.02])),
            "slow": draw(st.booleans())})
    pairs = [(i["id"], r["id"]) for i in industries for r in regions]
    count = draw(st.integers(1, min(max_sites, len(pairs))))
    chosen = sorted(draw(st.permutations(pairs))[:count], key=pairs.index)
    sites = []
    for i, r in chosen:
        ind = next(x for x in industries if x["id"] == i)
        existing = draw(st.one_of(st.none(), st.integers(1, 4)))
        if existing is not None and ind["cap"] is not None:
            existing = min(existing, ind["cap"])
        sites.append({"industry": i, "region": r, "existing": existing,
                      "must": draw(st.booleans()) and draw(st.booleans())})
    on = {f for f in OPTIONAL if draw(st.booleans())}
    spec = Spec(regions, industries, sites, on)
    ids = [i["id"] for i in industries]
    rids = [r["id"] for r in regions]
    if "chain_coordination" in on and n_i > 1:
        spec.chain = [(ids[u], ids[d], draw(st.sampled_from([0.5, 1.0])))
                      for u in range(n_i) for d in range(u + 1, n_i) if draw(st.booleans())]
    if not spec.chain:
        on.discard("chain_coordination")
    if "markets" in on:
        where = draw(st.lists(st.sampled_from(rids), min_size=1, max_size=3, unique=True))
        spec.markets = [(ids[0], r, draw(st.integers(1, 4))) for r in where]
    if "talent" in on:
        spec.talent_supply = [(r, draw(st.integers(0, 40))) for r in rids]
        spec.talent_need = {i: draw(st.sampled_from([0.5, 1.0, 2.0])) for i in ids
                            if draw(st.booleans())}
    if "funding" in on:
        spec.national_fund = draw(st.sampled_from([0, 10, 40]))
        spec.reserved_share = draw(st.sampled_from([0.0, 0.5]))
    if "supply" in on:
        spec.input = {"cap": draw(st.one_of(st.none(), st.integers(0, 10))),
                      "share": draw(st.sampled_from([0, 0.3])),
                      "tradable": draw(st.booleans())}
        spec.input_need = {i: draw(st.sampled_from([0.5, 1.0])) for i in ids
                           if draw(st.booleans())} or {ids[0]: 1.0}
        spec.input_supply = [(r, draw(st.integers(0, 15))) for r in rids if draw(st.booleans())]
    if "policy" in on:
        for r in regions:
            if draw(st.booleans()):
                r["max"] = draw(st.integers(1, n_i))
            if draw(st.booleans()):
                r["min"] = draw(st.integers(0, 1 if r["max"] is None else min(1, r["max"])))
    return spec


def solve(spec: Spec, folder: Path, **kw: object) -> allocator.Result:
    built = allocator.build_model(allocator.load_instance(spec.write(folder)), **kw)
    return allocator.solve(built, EXACT)


def enumerate_patterns(built: allocator.BuiltModel) -> float | None:
    """The best objective over every hosting pattern, each an LP with the hosts fixed
    (through the column bounds of one HiGHS model); None when every pattern is
    infeasible."""
    try:
        form = compile_model(built.model)
    except InfeasibleConstraintException:  # a row without variables that cannot hold
        return None
    h = make_highs(form, EXACT)
    hosts = [k for k, v in enumerate(form.columns) if v.parent_component() is built.model.hosts]
    lower = [form.col_lower[k] for k in hosts]
    best = None
    for pattern in itertools.product((0.0, 1.0), repeat=len(hosts)):
        if any(p < lb for p, lb in zip(pattern, lower, strict=True)):
            continue  # a kept plant closed or a must-host pair left out: not a plan
        for k, p in zip(hosts, pattern, strict=True):
            h.changeColBounds(k, p, p)
        run_highs(h)
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            z = h.getInfo().objective_function_value
            best = z if best is None else min(best, z)
    return best


@settings(SETTINGS, max_examples=25)
@given(spec=specs(max_sites=10))
def test_the_optimum_is_the_best_hosting_pattern_and_verify_accepts_it(spec):
    with tempfile.TemporaryDirectory() as tmp:
        folder = spec.write(Path(tmp) / "inst")
        built = allocator.build_model(allocator.load_instance(folder))
        result = allocator.solve(built, EXACT)
        best = enumerate_patterns(allocator.build_model(allocator.load_instance(folder)))
        if best is None:
            assert result.status == "infeasible"
            return
        assert result.status == "optimal", result.outcome.message
        tol = 1e-6 * max(1.0, abs(best))
        assert result.objective <= best + tol  # never worse than any pattern
        assert result.objective >= best - tol  # and attained by one of them
        verified(folder, result)


@settings(SETTINGS, max_examples=20)
@given(spec=specs(), data=st.data())
def test_adding_a_constraint_never_lowers_the_optimum(spec, data):
    off = [f for f in CONSTRAINING if f not in spec.on]
    with tempfile.TemporaryDirectory() as tmp:
        base = solve(spec, Path(tmp) / "base")
        if base.status != "optimal":
            return
        verified(Path(tmp) / "base", base)
        hosted = [tuple(s) for s in base.tables["allocation"].query("hosted == 1")[
            ["industry", "region"]].to_numpy()]
        if hosted:  # forbid one hosted site: a new constraint the plan breaks
            site = data.draw(st.sampled_from(hosted))
            inst = allocator.load_instance(Path(tmp) / "base")
            built = allocator.build_model(inst)
            if built.model.hosts[site].lb == 0:
                built.model.forbid = pyo.Constraint(expr=built.model.hosts[site] == 0)
                cut = verified(Path(tmp) / "base", allocator.solve(built, EXACT))
                assert cut.status in ("optimal", "infeasible")
                if cut.status == "optimal":
                    assert cut.objective >= base.objective - 1e-6 * max(1, abs(base.objective))
        if off:
            more = data.draw(st.sampled_from(off))
            spec2 = replace(spec, on=spec.on | {more})
            if more == "talent" and not spec2.talent_need:
                spec2.talent_supply = [(r["id"], 5) for r in spec.regions]
                spec2.talent_need = {spec.industries[0]["id"]: 1.0}
            if more == "supply" and not spec2.input:
                spec2.input = {"cap": 2, "share": 0, "tradable": True}
                spec2.input_need = {spec.industries[0]["id"]: 1.0}
            with_more = verified(Path(tmp) / "more", solve(spec2, Path(tmp) / "more"))
            assert with_more.status in ("optimal", "infeasible")
            if with_more.status == "optimal":
                assert with_more.objective >= base.objective - 1e-6 * max(
                    1, abs(base.objective))


@settings(SETTINGS, max_examples=20)
@given(spec=specs())
def test_scaling_money_by_ten_scales_the_objective_and_keeps_the_plan(spec):
    with tempfile.TemporaryDirectory() as tmp:
        one = solve(spec, Path(tmp) / "one")
        ten_spec = replace(spec, money=10.0)
        ten = solve(ten_spec, Path(tmp) / "ten")
        assert one.status == ten.status
        if one.status != "optimal":
            return
        assert ten.objective == pytest.approx(10 * one.objective, rel=1e-6, abs=1e-6)
        verified(Path(tmp) / "ten", ten)
        # each optimal plan, fixed in the other instance, is optimal there too
        for plan, folder, expected in ((one, Path(tmp) / "ten", ten.objective),
                                       (ten, Path(tmp) / "one", one.objective)):
            built = allocator.build_model(allocator.load_instance(folder))
            fix_plan(built, plan.tables["allocation"].assign(
                hosted=lambda a: a["hosted"].astype(bool)))
            again = verified(folder, allocator.solve(built, EXACT))
            assert again.status == "optimal"
            assert again.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
            assert math.isfinite(again.objective)
