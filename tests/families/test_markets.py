"""markets: located final demand met by shipments at a cost per unit and km.

A and B may host (longitude 0 and 1); C (longitude 2) is a market only. Demand: A 6, C 4.
Fixed cost 50 per host, no capex, transport 0.1 per unit and km, d = 111.195 km per degree.
"""

import pytest
from support import KM_PER_DEGREE, hosted, solve, term

REGIONS = """
id,name,group,latitude,longitude,funding_budget
A,Alpha,g1,0,0,1000
B,Beta,g1,0,1,1000
C,Gamma,g2,0,2,1000
"""
INDUSTRIES = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
pv,PV,,0,0,50,1
"""
MARKETS = """
industry,region,demand
pv,A,6
pv,C,4
"""
SITES = """
industry,region,allowed
pv,C,false
"""


@pytest.mark.parametrize("strengthen", ["true", "false"])
def test_one_host_at_the_big_market(tiny, strengthen):
    # Host A: 50 + 4 * 0.1 * 2d = 138.956.  Host B: 50 + 6*0.1*d + 4*0.1*d = 161.195.
    # Both: 100 + 4*0.1*d = 144.478.  So A alone; the valid inequality changes nothing.
    folder = tiny(f"[markets]\ncost_per_unit_km = 0.1\nstrengthen = {strengthen}\n",
                  regions=REGIONS, industries=INDUSTRIES, markets=MARKETS, sites=SITES)
    r = solve(folder, ["capacity", "markets"])
    assert r.objective == pytest.approx(50 + 4 * 0.1 * 2 * KM_PER_DEGREE, rel=1e-9)
    assert hosted(r) == {("pv", "A")}
    assert term(r, "transport") == pytest.approx(0.8 * KM_PER_DEGREE, rel=1e-9)
    flows = r.tables["flows"].set_index(["from", "to"])
    assert flows.at[("A", "C"), "amount"] == pytest.approx(4.0)
    assert flows.at[("A", "A"), "amount"] == pytest.approx(6.0)


def test_capacity_limit_forces_shipping_from_a_second_site(tiny):
    # A holds at most 7 < 10: B must host too (fixed 100 in all). Transport per unit: A->A 0,
    # A->C 0.2d, B->A 0.1d, B->C 0.1d. Best: A serves A (6), B serves C (4): 0.4d.
    # (A->A 6 + A->C 1 + B->C 3 costs 0.5d; anything sending B's output to A costs more.)
    folder = tiny("[markets]\ncost_per_unit_km = 0.1\n", regions=REGIONS,
                  industries=INDUSTRIES, markets=MARKETS, sites="""
        industry,region,allowed,max_capacity
        pv,A,,7
        pv,C,false,
    """)
    r = solve(folder, ["capacity", "markets"])
    assert r.objective == pytest.approx(100 + 0.4 * KM_PER_DEGREE, rel=1e-9)
    flows = r.tables["flows"].set_index(["from", "to"])
    assert flows["amount"].to_dict() == pytest.approx({("A", "A"): 6.0, ("B", "C"): 4.0})
    assert hosted(r) == {("pv", "A"), ("pv", "B")}
