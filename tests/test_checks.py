"""Pre-solve checks: plain arithmetic, one sentence with the numbers and rows per failure;
each failure proves infeasibility, so solve skips HiGHS and explains (exit 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

import allocator
from allocator.analysis.checks import least_capacity, least_investment, run_checks

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def failures(folder: Path, soft: tuple[str, ...] = ()) -> list[str]:
    inst = allocator.load_instance(folder)
    return [f.message for f in run_checks(inst, [f.name for f in inst.active_families], soft)]


def test_bundled_instance_passes_every_check():
    root = Path(__file__).resolve().parent.parent
    assert failures(root / "instances" / "china-sei") == []


def test_least_capacity_follows_the_chain_and_kept_capacity(tiny):
    # cell -> nev at 2 cells per NEV: L_nev = 10, L_cell = 5 + 2 * 10 = 25; kept existing
    # capacity 30 of cell in A raises L_cell to 30.
    industries = NEV + "cell,Cell,5,1,1,1,1\n"
    chain = "upstream,downstream,ratio\ncell,nev,2"
    inst = allocator.load_instance(tiny(industries=industries, chain=chain))
    assert least_capacity(inst).to_dict() == {"nev": 10.0, "cell": 25.0}
    kept = tiny(industries=industries, chain=chain,
                sites="industry,region,existing_capacity\ncell,A,30")
    assert least_capacity(allocator.load_instance(kept))["cell"] == 30.0


def test_least_investment_is_the_lp_bound_of_the_fixed_charge(tiny):
    # Site maximum 10 (the requirement): a unit costs 1 + 5/10 = 1.5 anywhere: 15 for 10.
    # With B cheaper (capex 0.5 -> 1.0 per unit): 10.
    inst = allocator.load_instance(tiny(industries=NEV))
    assert least_investment(inst, least_capacity(inst))[0] == pytest.approx(15.0)
    inst = allocator.load_instance(tiny(industries=NEV,
                                        sites="industry,region,unit_capex\nnev,B,0.5"))
    assert least_investment(inst, least_capacity(inst))[0] == pytest.approx(10.0)


def test_talent_class_short_nationally(tiny):
    # 10 units need 10 engineers (1 per unit); A 3 + B 4 = 7.
    folder = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng,3\nB,eng,4",
                  talent_need="industry,talent_class,need\nnev,eng,1")
    assert failures(folder) == [
        "talent class eng: meeting all demand needs at least 10 people (talent_need.csv row 2 "
        "times each industry's least capacity), but the whole country has 7 "
        "(talent_supply.csv rows 2, 3)"]
    assert failures(folder, soft=("talent",)) == []  # a softened limit proves nothing


def test_must_host_beyond_the_focus_limit(tiny):
    industries = NEV + "bat,Battery,10,4,1,5,1\n"
    regions = """
        id,name,group,latitude,longitude,funding_budget,max_industries
        A,Alpha,g1,0,0,1000,1
        B,Beta,g2,0,1,1000,
    """
    sites = "industry,region,must_host\nnev,A,true\nbat,A,true"
    assert failures(tiny(industries=industries, regions=regions, sites=sites)) == [
        "regions.csv row 2 (A): at most 1 industries, but 2 must be hosted there (must_host "
        "or kept existing capacity: sites.csv rows 2, 3)"]


def test_must_host_sites_beyond_the_region_budget(tiny):
    # A must host NEV: setup 5 + minimum scale 4 at 1 = 9 > budget 8 (no national fund).
    regions = """
        id,name,group,latitude,longitude,funding_budget
        A,Alpha,g1,0,0,8
        B,Beta,g2,0,1,1000
    """
    found = failures(tiny(industries=NEV, regions=regions,
                          sites="industry,region,must_host\nnev,A,true"))
    assert found == ["regions.csv row 2 (A): its must-host sites alone cost 9 money "
                     "(sites.csv row 2), but its budget is 8"]


def test_import_cap_and_domestic_share(tiny):
    # Need 10; domestic 3 (row 2); imports capped at 2: 5 < 10. Floor 50%: 5 from domestic.
    folder = tiny(industries=NEV,
                  inputs="id,name,import_cap,domestic_share_min,tradable\n"
                         "lithium,Lithium,2,0.5,true",
                  input_need="industry,input,need\nnev,lithium,1",
                  input_supply="region,input,supply\nA,lithium,3")
    assert failures(folder) == [
        "input lithium: meeting all demand needs at least 10 input units (input_need.csv row "
        "2), but domestic supply 3 (input_supply.csv row 2) plus the import cap 2 "
        "(inputs.csv row 2) give 5",
        "inputs.csv row 2 (input lithium): the domestic-share floor 50% of at least 10 input "
        "units needs 5 from domestic supply (input_need.csv row 2), but domestic supply is 3 "
        "(input_supply.csv row 2)",
    ]


def test_solve_skips_highs_when_a_check_fails(tiny):
    folder = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng,3\nB,eng,4",
                  talent_need="industry,talent_class,need\nnev,eng,1")
    r = allocator.solve(allocator.build_model(allocator.load_instance(folder)))
    assert r.status == "infeasible" and r.outcome.termination == "pre-solve checks"
    assert r.exit_code == 4
    assert r.summary["explanation"]["checks"][0]["family"] == "talent"
    # softened, the check proves nothing and the instance solves: 10 units need 10 people,
    # 7 exist, so the shortfalls total 3 (both regions host, each within 1e6 per person)
    soft = allocator.build_model(allocator.load_instance(folder), soft=["talent"])
    r = allocator.solve(soft)
    assert r.status == "optimal"
    assert r.tables["shortfalls"]["amount"].sum() == pytest.approx(3.0)
