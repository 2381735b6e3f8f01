"""scale_economies: capex per unit falling with plant size, piecewise linear. Hand-checked
optima; every plan is verified."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from allocator.models.scale_economies.model import FAMILY
from support import capacity, hosted, solve, term

import allocator
from allocator.core.errors import InputError

#: 12 units of demand; capex comes from scale_capex.csv (unit_capex 0); B's setup is 6
NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,12,0,0,5,2
"""
#: the first 4 units of a plant cost 3 each, every unit beyond 1: C(q) = 3 min(q, 4) +
#: max(q - 4, 0)
SCALE = """
industry,up_to,unit_capex
nev,4,3
nev,,1
"""
FAMILIES = ["capacity", "scale_economies"]


def test_one_large_plant_beats_two_small_ones(tiny):
    # One plant of 12 in A: 5 + C(12) = 5 + 12 + 8 = 25. Two of 6: 5 + 6 + 2 * C(6) =
    # 11 + 28 = 39 (with a linear capex they would differ only by the second setup).
    folder = tiny(industries=NEV, scale_capex=SCALE, sites="industry,region,fixed_cost\nnev,B,6")
    r = solve(folder, FAMILIES)
    assert r.objective == pytest.approx(25)
    assert capacity(r) == pytest.approx({("nev", "A"): 12})
    assert term(r, "scale_capex") == pytest.approx(20)
    assert term(r, "investment") == pytest.approx(5)
    t = r.tables["scale_capex"].set_index("region")
    assert t.at["A", "capex_per_unit"] == pytest.approx(20 / 12)


def test_an_existing_plant_grows_at_its_marginal_capex(tiny):
    # A has a plant of 4 (its capex sunk, no setup). Growing it to 12 costs C(12) - C(4) =
    # 20 - 12 = 8; a new plant of 8 in B costs 6 + C(8) = 6 + 16 = 22. Objective 8.
    folder = tiny(industries=NEV, scale_capex=SCALE, sites="""
        industry,region,existing_capacity,fixed_cost
        nev,A,4,
        nev,B,,6
    """)
    r = solve(folder, FAMILIES)
    assert r.objective == pytest.approx(8)
    assert hosted(r) == {("nev", "A")}
    assert capacity(r) == pytest.approx({("nev", "A"): 12})


def test_over_periods_a_plant_pays_each_segment_once(tiny):
    # Demand 4 in p1, 12 in p2 (10% a year, delta_2 = 1.1^-3), only A. Growing: 5 + C(4) =
    # 17 in p1, C(12) - C(4) = 8 in p2: 17 + 8 * delta_2 = 23.010518. At once: 25.
    folder = tiny(industries=NEV.replace("nev,NEV,12", "nev,NEV,4"), scale_capex=SCALE,
                  sites="industry,region,allowed\nnev,B,false", periods="""
        id,first_year,years,discount_rate
        p1,2026,3,0.1
        p2,2029,3,0.1
    """, industries_by_period="id,period,demand\nnev,p2,12")
    r = solve(folder, FAMILIES)
    d2 = 1.1 ** -3
    assert r.objective == pytest.approx(17 + 8 * d2)
    a = r.tables["allocation"].set_index(["period", "region"])
    assert a.at[("p1", "A"), "capacity"] == pytest.approx(4)
    assert a.at[("p2", "A"), "capacity"] == pytest.approx(12)
    assert term(r, "scale_capex") == pytest.approx(12 + 8 * d2)


def test_bad_scale_data_is_named(tiny):
    folder = tiny(industries=NEV.replace(",0,5,2", ",2,5,2"), scale_capex="""
        industry,up_to,unit_capex
        nev,4,1
        nev,,3
    """)
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder)
    found = {(p.file, p.row, p.column) for p in info.value.problems}
    assert ("industries.csv", 2, "unit_capex") in found  # counted twice otherwise
    assert ("scale_capex.csv", 3, "unit_capex") in found  # rises with size


def test_the_block_holds_exactly_the_documented_components(tiny):
    inst = allocator.load_instance(tiny(industries=NEV, scale_capex=SCALE))
    built = allocator.build_model(inst, FAMILIES)
    names = {c.local_name for c in built.block("scale_economies").component_objects(
        descend_into=False)}
    kinds = {"variable": pyo.Var, "constraint": pyo.Constraint}
    assert names == {s.name for s in FAMILY.symbols if s.kind in kinds}
