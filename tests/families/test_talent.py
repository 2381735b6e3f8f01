"""talent: capacity's talent need within each region's supply, per class."""

import pytest
from support import capacity, hosted, solve

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""
SUPPLY = """
region,talent_class,supply
A,engineers,8
B,engineers,100
"""
NEED = """
industry,talent_class,need
nev,engineers,1
nev,technicians,0
"""
B_DEARER = """
industry,region,unit_capex
nev,B,2
"""


def test_without_talent_the_cheapest_region_takes_everything(tiny):
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED, sites=B_DEARER)
    r = solve(folder, ["capacity"])
    assert r.objective == pytest.approx(15.0)  # A alone: 5 + 10
    assert hosted(r) == {("nev", "A")}


def test_talent_limit_splits_capacity(tiny):
    # A has 8 engineers, 1 per unit -> A <= 8. B alone: 5 + 2*10 = 25.
    # A + B: 10 + capA + 2 capB, capB >= 4 (min scale) -> A = 6, B = 4: 24.
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED, sites=B_DEARER)
    r = solve(folder, ["capacity", "talent"])
    assert r.objective == pytest.approx(24.0)
    assert capacity(r) == pytest.approx({("nev", "A"): 6.0, ("nev", "B"): 4.0})
    regions = r.tables["regions"].set_index(["region", "resource"])
    assert regions.at[("A", "talent:engineers"), "used"] == pytest.approx(6.0)
    assert regions.at[("A", "talent:engineers"), "limit_value"] == pytest.approx(8.0)


def test_site_factor_scales_the_need(tiny):
    # Factor 0.5 in A: 10 units need 5 engineers <= 8, so A alone again: 15.
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED, sites="""
        industry,region,unit_capex,talent_need_factor
        nev,A,,0.5
        nev,B,2,
    """)
    r = solve(folder, ["capacity", "talent"])
    assert r.objective == pytest.approx(15.0)
    assert hosted(r) == {("nev", "A")}


def test_a_class_absent_from_the_supply_file_means_none(tiny):
    # A has no row for engineers: no capacity there. B alone: 25.
    folder = tiny(industries=NEV, talent_need=NEED, sites=B_DEARER, talent_supply="""
        region,talent_class,supply
        B,engineers,100
    """)
    r = solve(folder, ["capacity", "talent"])
    assert r.objective == pytest.approx(25.0)
    assert hosted(r) == {("nev", "B")}
