"""Derived site limits (allocator.engine.prune): pairs that can never host are left out and
reported, site maxima are tightened, must-host and kept brownfield pairs are never dropped
silently."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import capacity, hosted, solve

import allocator

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""
NEED = """
industry,talent_class,need
nev,engineers,1
"""
#: B has 3 engineers: at 1 per unit it can reach 3 < the minimum scale 4, so it never hosts
SUPPLY = """
region,talent_class,supply
A,engineers,100
B,engineers,3
"""
A_DEARER = """
industry,region,unit_capex
nev,A,2
"""


def test_a_region_whose_talent_cannot_reach_the_minimum_scale_is_left_out(tiny):
    # Without talent B would win (5 + 10 = 15, A costs 5 + 20). B can reach 3 < 4 (minimum
    # scale), so it is left out of S and A hosts alone: 5 + 2 * 10 = 25.
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED, sites=A_DEARER)
    r = solve(folder, ["capacity", "talent"])
    assert r.objective == pytest.approx(25.0)
    assert hosted(r) == {("nev", "A")}
    pruned = r.built.pruned
    assert list(zip(pruned["industry"], pruned["region"], pruned["family"], strict=True)) == [
        ("nev", "B", "talent")]
    assert "engineers" in pruned["reason"].iloc[0] and pruned["bound"].iloc[0] == 3.0
    assert ("nev", "B") not in r.built.model.hosts  # not in the model at all
    alloc = r.tables["allocation"].set_index(["industry", "region"])
    assert alloc.at[("nev", "B"), "hosted"] == 0  # still one row per candidate
    assert list(r.tables["pruned"]["region"]) == ["B"]
    assert r.summary["pruned_sites"] == 1


def test_a_start_plan_hosting_a_left_out_pair_names_its_row(tiny, tmp_path):
    # B can never host nev (3 engineers < minimum scale 4): a --start plan that hosts it
    # cannot be completed, and says so by file, row, column and value (exit 2).
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED, sites=A_DEARER)
    plan = tmp_path / "plan.csv"
    plan.write_text("industry,region,hosted\nnev,A,1\nnev,B,1\n")
    done = subprocess.run([sys.executable, "-m", "allocator", "solve", str(folder),
                           "--start", str(plan)], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "plan.csv, row 3, column 'region': value 'B'" in done.stderr
    assert "can never host" in done.stderr and "talent" in done.stderr


def test_the_same_optimum_without_pruning(tiny):
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED, sites=A_DEARER)
    inst = allocator.load_instance(folder)
    built = allocator.build_model(inst, ["capacity", "talent"], prune=False)
    assert ("nev", "B") in built.model.hosts and len(built.pruned) == 0
    r = allocator.solve(built, allocator.SolverOptions(mip_gap=0.0))
    assert r.objective == pytest.approx(25.0)


def test_the_site_maximum_is_tightened_by_talent(tiny):
    # A has 6 engineers: capacity at most 6 there, whatever the industry's default maximum
    # (its requirement, 10). The big-M of capacity_within_max is 6 too.
    folder = tiny(industries=NEV, talent_need=NEED, talent_supply="""
        region,talent_class,supply
        A,engineers,6
        B,engineers,100
    """)
    built = allocator.build_model(allocator.load_instance(folder), ["capacity", "talent"])
    assert built.model.capacity["nev", "A"].ub == pytest.approx(6.0)
    assert built.model.capacity["nev", "B"].ub == pytest.approx(10.0)
    row = built.model.family["capacity"].capacity_within_max["nev", "A"]
    coef = {v.name: c for v, c in zip(*_linear(row.body), strict=True)}
    assert coef["hosts[nev,A]"] == pytest.approx(-6.0)
    # the optimum: A cannot carry the 10 units alone; B alone costs 5 + 10 = 15
    r = allocator.solve(built, allocator.SolverOptions(mip_gap=0.0))
    assert r.objective == pytest.approx(15.0)


def _linear(expr):
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(expr)
    return repn.linear_vars, repn.linear_coefs


def test_softened_talent_prunes_nothing(tiny):
    # --soft talent: B may exceed its talent (penalized), so it stays a candidate; with the
    # default penalty 1e6 per person it still does not host: optimum 25 as before.
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED, sites=A_DEARER)
    inst = allocator.load_instance(folder)
    built = allocator.build_model(inst, ["capacity", "talent"], soft=["talent"])
    assert len(built.pruned) == 0 and ("nev", "B") in built.model.hosts
    r = allocator.solve(built, allocator.SolverOptions(mip_gap=0.0))
    assert r.objective == pytest.approx(25.0)


def test_a_must_host_pair_beyond_its_talent_stays_an_explained_infeasibility(tiny):
    # B must host nev (min scale 4) but its 3 engineers allow at most 3 units: pruning must
    # not hide this in a bound (or turn it into an input error); the model stays infeasible
    # and the answer is the ordinary one: exit 4, the talent row of B named by explain.
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED, sites="""
        industry,region,must_host
        nev,B,true
    """)
    built = allocator.build_model(allocator.load_instance(folder))
    assert ("nev", "B") in built.model.hosts and len(built.pruned) == 0
    assert built.sites.at[("nev", "B"), "limited_by"] == ""  # its maximum is not tightened
    done = subprocess.run([sys.executable, "-m", "allocator", "solve", str(folder)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "talent_supply.csv row 3 (B, engineers)" in done.stdout + done.stderr


def test_kept_existing_capacity_beyond_the_talent_is_infeasible_not_pruned(tiny):
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED, sites="""
        industry,region,existing_capacity
        nev,B,5
    """)
    built = allocator.build_model(allocator.load_instance(folder))
    assert built.model.capacity["nev", "B"].lb == pytest.approx(5)
    r = allocator.solve(built, allocator.SolverOptions(mip_gap=0.0))
    assert r.status == "infeasible"
    assert any("talent_supply.csv row 3 (B, engineers)" in m
               for m in r.explanation.relaxations["message"])


def test_a_downstream_site_without_a_supplier_in_reach_is_left_out(tiny):
    # Three regions 1 degree apart in a row, groups g1, g2, g3; arcs only to oneself
    # (nearest = 0, no same-group arcs). chips can be made only in A (forbidden in B, C),
    # so cars can be made only in A too: B and C are left out by the value chain.
    # Cars 10 (min scale 4, capex 1, fixed 5), chips 1 per car (fixed 1, capex 1):
    # A makes both: cars 5 + 10, chips 1 + 10: 26.
    folder = tiny(
        toml="[chain_coordination]\nnearest = 0\nsame_group = false\n",
        regions="""
            id,name,group,latitude,longitude,funding_budget
            A,Alpha,g1,0,0,1000
            B,Beta,g2,0,1,1000
            C,Gamma,g3,0,2,1000
        """,
        industries="""
            id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
            chips,Chips,0,1,1,1,1
            cars,Cars,10,4,1,5,1
        """,
        chain="upstream,downstream,ratio\nchips,cars,1\n",
        sites="industry,region,allowed\nchips,B,false\nchips,C,false\n")
    r = solve(folder, ["capacity", "chain_coordination"])
    assert r.objective == pytest.approx(26.0)
    assert hosted(r) == {("chips", "A"), ("cars", "A")}
    pruned = r.built.pruned
    left_out = set(zip(pruned["industry"], pruned["region"], strict=True))
    assert left_out == {("cars", "B"), ("cars", "C")}
    assert set(pruned["family"]) == {"chain_coordination"}
    assert all("chips" in reason for reason in pruned["reason"])


def test_a_budget_below_the_fixed_cost_leaves_the_region_out(tiny):
    # B's budget 4 < fixed cost 5: B cannot open a new plant; A hosts: 5 + 2 * 10 = 25.
    folder = tiny(industries=NEV, sites=A_DEARER, regions="""
        id,name,group,latitude,longitude,funding_budget
        A,Alpha,g1,0,0,1000
        B,Beta,g2,0,1,4
    """)
    r = solve(folder, ["capacity", "funding"])
    assert r.objective == pytest.approx(25.0)
    assert list(r.built.pruned["family"]) == ["funding"]
    assert capacity(r) == pytest.approx({("nev", "A"): 10.0})


def test_an_industry_left_without_any_site_is_infeasible_and_named(tiny):
    # Nobody has engineers: every nev site is left out, demand 10 cannot be met. The answer is
    # "infeasible" (exit 4) naming talent, not a crash.
    folder = tiny(industries=NEV, talent_need=NEED,
                  talent_supply="region,talent_class,supply\nA,engineers,1\n")
    r = solve(folder, ["capacity", "talent"])
    assert r.status == "infeasible" and r.exit_code == 4
    assert "talent" in r.outcome.message
