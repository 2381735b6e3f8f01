"""Shadow prices: the LP with hosting fixed, its duals as "each extra unit available saves X"
(a limit of what may be used) or "each extra unit required costs X" (a requirement).

Every expected price below is worked out by hand in the comments and, where cheap, checked
again by a finite difference: raise the limit a little, solve again, compare the objectives.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pyomo.environ as pyo
import pytest
from support import capacity, solve

from allocator.analysis.shadow import resolve_with_hosting_fixed, shadow_prices

# Two regions, one industry of national demand 10, no fixed cost, no minimum scale; capex 1
# in A and 3 in B: A builds as much as its limit allows and B covers the rest.
NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_unit
nev,NEV,10,0,1,0,2,k cars
"""
B_DEARER = """
industry,region,unit_capex
nev,B,3
"""


def price(result, region: str, resource: str) -> float:
    reg = result.tables["regions"].set_index(["region", "resource"])
    return float(reg.at[(region, resource), "shadow_price"])


def unit(result, region: str, resource: str) -> str:
    reg = result.tables["regions"].set_index(["region", "resource"])
    return str(reg.at[(region, resource), "shadow_price_unit"])


def talent_instance(tiny, supply_a: float):
    return tiny(industries=NEV, sites=B_DEARER, talent_supply=f"""
        region,talent_class,supply
        A,engineers,{supply_a}
        B,engineers,100
    """, talent_need="""
        industry,talent_class,need
        nev,engineers,0.5
    """)


def test_talent_price_is_the_cost_difference_times_units_per_person(tiny):
    # A has 3 engineers at 0.5 per unit: A <= 6, B = 4; cost 6*1 + 4*3 = 18.
    # One more engineer in A lets A build 2 more units instead of B: saves 2 * (3 - 1) = 4.
    # B's engineers are slack (2 used of 100): 0. One more unit of demand is built in B: it
    # costs 3 (a requirement's price is what one more unit costs).
    r = solve(talent_instance(tiny, 3), ["capacity", "talent"])
    assert r.objective == pytest.approx(18.0)
    assert capacity(r) == pytest.approx({("nev", "A"): 6.0, ("nev", "B"): 4.0})
    assert price(r, "A", "talent:engineers") == pytest.approx(4.0)
    assert price(r, "B", "talent:engineers") == pytest.approx(0.0)
    assert price(r, "(national)", "demand:nev") == pytest.approx(3.0)
    reg = r.tables["regions"].set_index(["region", "resource"])
    assert reg.at[("A", "talent:engineers"), "shadow_price_meaning"] == (
        "each extra unit available (people) saves 4 money")
    assert reg.at[("(national)", "demand:nev"), "shadow_price_meaning"] == (
        "each extra unit required (k cars) costs 3 money")
    assert unit(r, "A", "talent:engineers") == "money per people"
    assert unit(r, "(national)", "demand:nev") == "money per k cars"
    assert r.summary["shadow_prices"]["status"] == "optimal"
    assert r.summary["shadow_prices"]["lp_objective"] == pytest.approx(18.0)
    # finite difference: 0.25 more engineers save 0.25 * 4 = 1
    more = solve(talent_instance(tiny, 3.25), ["capacity", "talent"])
    assert r.objective - more.objective == pytest.approx(0.25 * 4.0)


def test_funding_and_national_fund_prices(tiny):
    # A's budget 6 plus the whole national fund 2: A invests 8 (capacity 8), B builds 2.
    # Cost 8 + 2*3 = 14. One more unit of money in A, or in the fund, moves one unit of
    # capacity from B (3) to A (1): saves 2 each. B's budget (6 of 100) is slack: 0.
    folder = tiny("[funding]\nnational_fund = 2\n", industries=NEV, sites=B_DEARER,
                  regions="""
        id,name,group,latitude,longitude,funding_budget
        A,Alpha,g1,0,0,6
        B,Beta,g2,0,1,100
    """)
    r = solve(folder, ["capacity", "funding"])
    assert r.objective == pytest.approx(14.0)
    assert capacity(r) == pytest.approx({("nev", "A"): 8.0, ("nev", "B"): 2.0})
    assert price(r, "A", "funding") == pytest.approx(2.0)
    assert price(r, "B", "funding") == pytest.approx(0.0)
    assert price(r, "(national)", "national_fund") == pytest.approx(2.0)
    assert unit(r, "A", "funding") == "money per money"


def test_regional_input_and_import_cap_prices(tiny):
    # Green power is not tradable: A has 4 plus imports (cap 2 in all): A <= 6, B = 4.
    # Cost 6 + 12 = 18. One more unit of power in A, or of the import cap, moves one unit of
    # capacity from B to A: saves 2 each. B's power (4 of 100) is slack: 0.
    folder = tiny(industries=NEV, sites=B_DEARER, inputs="""
        id,name,import_cap,domestic_share_min,tradable
        power,Green power,2,0,false
    """, input_need="""
        industry,input,need
        nev,power,1
    """, input_supply="""
        region,input,supply
        A,power,4
        B,power,100
    """)
    r = solve(folder, ["capacity", "supply"])
    assert r.objective == pytest.approx(18.0)
    assert price(r, "A", "input:power") == pytest.approx(2.0)
    assert price(r, "B", "input:power") == pytest.approx(0.0)
    assert price(r, "(national)", "imports:power") == pytest.approx(2.0)


MARKET_REGIONS = """
id,name,group,latitude,longitude,funding_budget
A,Alpha,g1,0,0,1000
B,Beta,g2,0,1,1000
"""


def test_a_market_demand_price_is_production_plus_transport(tiny):
    # Only A may host (capex 1, at most 20); markets A 6 and B 4; shipping A -> B costs 0.1
    # per unit and km over 111.195 km = 11.1195 per unit. Cost 10 + 4 * 11.1195 = 54.478.
    # One more unit of demand in B: one more unit built in A (1) and shipped (11.1195):
    # costs 12.1195; in A: 1. The market row and the national demand D (the right-hand
    # side of the row defining the surplus) move together; the price is what both add.
    folder = tiny(regions=MARKET_REGIONS, industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,transport_cost,capacity_max
        pv,PV,,0,1,0,1,0.1,20
    """, markets="""
        industry,region,demand
        pv,A,6
        pv,B,4
    """, sites="""
        industry,region,allowed
        pv,B,false
    """)
    r = solve(folder, ["capacity", "markets"])
    ship = 0.1 * 6371.0088 * math.pi / 180
    assert r.objective == pytest.approx(10 + 4 * ship)
    assert price(r, "B", "demand:pv") == pytest.approx(1 + ship)
    assert price(r, "A", "demand:pv") == pytest.approx(1.0)
    national = r.tables["regions"].set_index(["region", "resource"]).loc[
        ("(national)", "demand:pv")]
    assert math.isnan(national["shadow_price"]), "priced on the market rows"


def test_focus_limits_have_no_price_once_hosting_is_fixed(tiny):
    # The focus limit involves only hosting decisions: a constant once they are fixed.
    folder = talent_instance(tiny, 3)
    (folder / "regions.csv").write_text(
        "id,name,group,latitude,longitude,funding_budget,max_industries\n"
        "A,Alpha,g1,0,0,1000,1\nB,Beta,g2,0,1,1000,1\n", encoding="utf-8")
    r = solve(folder, ["capacity", "talent", "policy"])
    assert math.isnan(price(r, "A", "max_industries"))
    assert unit(r, "A", "max_industries") == ""
    assert price(r, "A", "talent:engineers") == pytest.approx(4.0)


def test_the_resolve_leaves_the_model_as_it_was():
    # min x + 3y + 5b, x + y >= 10, x <= 6 (a bound), y <= 10 b, b binary.
    # MIP: b = 1, x = 6, y = 4: 23. LP with b fixed: the bound of x saves 3 - 1 = 2 per unit
    # (reduced cost -2); the demand row (dual 3) is priced by its size, 3; y <= 10 b is
    # slack: 0.
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 6))
    m.y = pyo.Var(bounds=(0, None))
    m.b = pyo.Var(within=pyo.Binary)
    m.demand = pyo.Constraint(expr=m.x + m.y >= 10)
    m.link = pyo.Constraint(expr=m.y <= 10 * m.b)
    m.obj = pyo.Objective(expr=m.x + 3 * m.y + 5 * m.b)
    m.x.set_value(6)
    m.y.set_value(4)
    m.b.set_value(1)
    duals = resolve_with_hosting_fixed(SimpleNamespace(model=m))
    assert duals.status == "optimal" and duals.objective == pytest.approx(23.0)
    import pandas as pd

    prices = shadow_prices(pd.Series(["demand", "x", "link", "missing", ""]), duals)
    assert list(prices[:3]) == pytest.approx([3.0, 2.0, 0.0])
    assert prices[3:].isna().all()
    assert not m.b.fixed and m.b.value == 1 and m.x.value == 6


def test_a_requirement_the_hosting_cannot_meet_has_no_price_and_says_so(tiny):
    # Only A may host, at most 10 (capacity_max), and the demand is 10: one more unit of
    # demand cannot be built with this hosting. The dual of the demand row (1, the capex) is
    # no price of it: the row says the extra unit cannot be met.
    folder = tiny(industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
        nev,NEV,10,0,1,0,1,10
    """, sites="""
        industry,region,allowed
        nev,B,false
    """)
    r = solve(folder, ["capacity"])
    assert r.objective == pytest.approx(10.0)
    reg = r.tables["regions"].set_index(["region", "resource"])
    row = reg.loc[("(national)", "demand:nev")]
    assert math.isnan(row["shadow_price"])
    assert row["shadow_price_meaning"] == ("each extra unit required cannot be met with this "
                                           "plan's hosting")
