"""Warm starts: a planner's plan or the greedy heuristic, completed by an LP on the fixed
hosting, handed to HiGHS as its first incumbent.

The tiny instance: NEV demand 10, minimum scale 4, fixed cost 5; A has capex 1 and 6
engineers, B capex 2 and 10 engineers; one engineer per unit.

* Greedy, cost per unit of the demand each site would serve now: A can serve 6 (talent):
  (5 + 6) / 6 = 1.83; B can serve 10: (5 + 20) / 10 = 2.5. A first (6), then 4 more: B at
  (5 + 8) / 4 = 3.25. Plan A 6 + B 4 = 11 + 13 = 24.
* Optimum: B alone costs 25; A alone cannot (6 < 10); A + B with A at its talent limit:
  5 + 6 + 5 + 2 * 4 = 24. So the heuristic's plan is optimal here.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from support import capacity, hosted

import allocator
from allocator.core.errors import InputError
from allocator.core.tables import HeuristicLimits
from allocator.engine.highs import compile_model
from allocator.engine.warmstart import downstream_first, greedy_hosting, read_plan, start_from_plan

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,2
"""
TABLES = {
    "industries": NEV,
    "sites": "industry,region,unit_capex\nnev,B,2",
    "talent_supply": "region,talent_class,supply\nA,eng,6\nB,eng,10",
    "talent_need": "industry,talent_class,need\nnev,eng,1",
}


#: A and B are neighbours (111 km): no penalty for both hosting, so that the optimum is unique
NO_PAIRS = "[objective]\nneighbor_pairs = 0\n"


def build(tiny):
    return allocator.build_model(allocator.load_instance(tiny(NO_PAIRS, **TABLES)))


def test_greedy_by_cost_per_unit_within_talent(tiny):
    g = greedy_hosting(build(tiny))
    assert g.cap == pytest.approx({("nev", "A"): 6.0, ("nev", "B"): 4.0})


def _water(b: pyo.Block, ctx: allocator.Context) -> None:
    b.water_within_supply = pyo.Constraint(
        list(ctx.sites.index), rule=lambda _, i, r: ctx.capacity[i, r] <= WATER[r])


#: water per region; NEV uses one per unit of capacity
WATER = {"A": 3.0, "B": 100.0}
#: a researcher's family that tells the greedy its limit as data, nothing else
WATER_FAMILY = allocator.Family(
    name="water", summary="Capacity within each region's water.", build=_water,
    heuristic_limits=lambda inst, options, sites: HeuristicLimits(
        regional={(r, "water"): v for r, v in WATER.items()},
        regional_use={s: [("water", 1.0)] for s in sites.index}))


def test_a_researchers_family_gives_the_greedy_its_limits_as_data(tiny):
    # With water, A can add at most 3 < its minimum scale 4: the greedy leaves it and hosts
    # B alone at 10 (5 + 20 = 25, the optimum: A cannot host at all). Without the family's
    # heuristic_limits the greedy would open A at 6 (its talent), a hosting no plan has.
    inst = allocator.load_instance(tiny(NO_PAIRS, **TABLES), extra_families=[WATER_FAMILY])
    built = allocator.build_model(inst)
    assert greedy_hosting(built).cap == pytest.approx({("nev", "B"): 10.0})
    r = allocator.solve(built, allocator.SolverOptions(mip_gap=0))
    assert r.objective == pytest.approx(25) and hosted(r) == {("nev", "B")}


def test_heuristic_start_is_the_first_incumbent(tiny):
    r = allocator.solve(build(tiny), allocator.SolverOptions(mip_gap=0))
    start = r.summary["start"]
    assert start["heuristic"]["used"] and start["heuristic"]["objective"] == pytest.approx(24)
    assert start["given"] == "heuristic" and start["accepted_by_highs"] is True
    first = r.summary["first_incumbent"]
    assert first["source"] == "heuristic" and first["objective"] == pytest.approx(24)
    assert r.objective == pytest.approx(24)
    assert capacity(r) == pytest.approx({("nev", "A"): 6.0, ("nev", "B"): 4.0})


def test_no_heuristic_is_recorded(tiny):
    r = allocator.solve(build(tiny), allocator.SolverOptions(mip_gap=0, heuristic=False))
    assert r.summary["start"]["heuristic"] == {"used": False, "message": "off (--no-heuristic)"}
    assert r.summary["start"]["given"] is None
    assert r.objective == pytest.approx(24)


def test_plan_with_hosting_only_is_completed(tiny, tmp_path):
    # B alone: 10 units at B, 5 + 20 = 25; HiGHS then finds 24.
    plan = tmp_path / "plan.csv"
    plan.write_text("industry,region\nnev,B\n")
    r = allocator.solve(build(tiny), allocator.SolverOptions(
        mip_gap=0, heuristic=False, start_file=str(plan)))
    p = r.summary["start"]["plan"]
    assert p["used"] and p["how"] == "hosting fixed" and p["objective"] == pytest.approx(25)
    assert r.summary["first_incumbent"]["source"] == "plan"
    assert r.objective == pytest.approx(24)


def test_previous_allocation_fixes_hosting_and_capacities(tiny, tmp_path):
    built = build(tiny)
    first = allocator.solve(built, allocator.SolverOptions(mip_gap=0))
    allocator.write_results(first, tmp_path / "out")
    again = build(tiny)
    x, report = start_from_plan(again, compile_model(again.model),
                                tmp_path / "out" / "allocation.csv", allocator.SolverOptions())
    assert x is not None
    assert report["how"] == "hosting and capacities fixed"
    assert report["objective"] == pytest.approx(24)


def test_infeasible_plan_is_repaired(tiny, tmp_path):
    # A alone cannot build 10 (6 engineers): fixed hosting is infeasible; keeping A and
    # letting a short MIP add hosts finds A + B = 24.
    plan = tmp_path / "plan.csv"
    plan.write_text("industry,region,hosted,capacity\nnev,A,1,10\n")
    built = build(tiny)
    x, report = start_from_plan(built, compile_model(built.model), plan,
                                allocator.SolverOptions())
    assert x is not None and report["how"].startswith("repaired")
    assert report["objective"] == pytest.approx(24)
    # the talent limit is already in A's site maximum (allocator.engine.prune: 6 engineers, 6 units)
    assert ("hosting and capacities fixed: capacity 10 of nev in A outside [0, 6]"
            in report["message"])


def test_bad_plan_names_file_row_column(tiny, tmp_path):
    plan = tmp_path / "plan.csv"
    plan.write_text("industry,region,hosted,capacity\nnev,A,yes,x\nnev,Z,1,\nnev,A,1,\n")
    with pytest.raises(InputError) as err:
        read_plan(plan, build(tiny))
    text = str(err.value)
    assert "plan.csv, row 2, column 'capacity': value 'x': expected a number >= 0" in text
    assert "plan.csv, row 3, column 'industry': value 'nev,Z': unknown industry or region" in text
    assert "plan.csv, row 4, column 'region': value 'A': listed twice" in text
    missing = tmp_path / "bad.csv"
    missing.write_text("industry,hosted\nnev,1\n")
    with pytest.raises(InputError, match="column 'region' is missing"):
        read_plan(missing, build(tiny))


def test_chain_upstream_is_placed_where_downstream_needs_it(tiny):
    # cell feeds nev (1 per unit); the chain's arcs: each region to itself and its nearest
    # (both here). Greedy: nev at A (cheaper), then cell delivers 10 to A from the cheaper
    # cell site. The completed plan is feasible: HiGHS accepts it.
    industries = NEV + "cell,Cell,0,0,1,1,1\n"
    folder = tiny(NO_PAIRS, industries=industries, chain="upstream,downstream,ratio\ncell,nev,1")
    r = allocator.solve(allocator.build_model(allocator.load_instance(folder)),
                        allocator.SolverOptions(mip_gap=0))
    assert r.summary["start"]["heuristic"]["used"]
    assert r.summary["start"]["accepted_by_highs"] is True
    assert ("cell", "A") in hosted(r) or ("cell", "B") in hosted(r)


def test_downstream_first_order():
    import pandas as pd

    chain = pd.DataFrame({"upstream": ["a", "b"], "downstream": ["b", "c"]})
    assert downstream_first(["a", "b", "c", "d"], chain) == ["c", "b", "a", "d"]
    assert downstream_first(["a", "b", "c", "d"], chain, {"d": 0.0, "c": 1.0}) == [
        "d", "c", "b", "a"]
