"""chain_coordination: upstream output flows on sparse arcs, cost by distance and border.

Three regions on the equator at longitude 0, 1, 2 (A, B, C): A-C is 2 degrees, B-C one
degree (KM_PER_DEGREE = 111.195 km). nev can only be made in C, chips only in A or B.
A is in C's group; B is not, so B -> C pays the border surcharge. Hosting chips costs 1
(fixed) wherever it is, so a host without capacity is never free.
"""

import pytest
from support import KM_PER_DEGREE, capacity, hosted, solve

REGIONS = """
id,name,group,latitude,longitude,funding_budget
A,Alpha,south,0,0,1000
B,Beta,north,0,1,1000
C,Gamma,south,0,2,1000
"""
INDUSTRIES = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
chip,Chips,0,0,1,1,1
nev,NEV,10,0,0,0,1
"""
CHAIN = """
upstream,downstream,ratio
chip,nev,1
"""
SITES = """
industry,region,allowed,unit_capex
chip,B,,1.5
chip,C,false,
nev,A,false,
nev,B,false,
"""


def options(surcharge: float, nearest: int = 2, same_group: str = "true") -> str:
    return f"""
        [chain_coordination]
        cost_per_unit_km = 0.01
        border_surcharge = {surcharge}
        nearest = {nearest}
        same_group = {same_group}
    """


def build(tiny, toml):
    return tiny(toml, regions=REGIONS, industries=INDUSTRIES, chain=CHAIN, sites=SITES)


def test_near_supplier_across_the_border_wins_at_a_25_percent_surcharge(tiny):
    # Per chip delivered to C: from A 1 + 0.01*2d (same group, no surcharge), from B
    # 1.5 + 0.01*d*1.25. With d = 111.195: A 3.2239, B 2.8899 -> B supplies all 10 (+1 fixed).
    r = solve(build(tiny, options(0.25)), ["capacity", "chain_coordination"])
    expected = 1 + 10 * 1.5 + 10 * 0.01 * KM_PER_DEGREE * 1.25
    assert r.objective == pytest.approx(expected, rel=1e-9)
    assert capacity(r) == pytest.approx({("chip", "B"): 10.0, ("nev", "C"): 10.0})
    flows = r.tables["flows"]
    assert list(flows[["industry", "from", "to"]].itertuples(index=False, name=None)) == [
        ("chip", "B", "C")]
    assert bool(flows["crosses_border"].iloc[0]) is True


def test_a_high_border_surcharge_moves_supply_inside_the_group(tiny):
    # Surcharge 1.0: B costs 1.5 + 0.01*d*2 = 3.7239 > A's 3.2239 -> A supplies: 10 + 0.2*2d.
    r = solve(build(tiny, options(1.0)), ["capacity", "chain_coordination"])
    expected = 1 + 10 * 1.0 + 10 * 0.01 * 2 * KM_PER_DEGREE
    assert r.objective == pytest.approx(expected, rel=1e-9)
    assert hosted(r) == {("chip", "A"), ("nev", "C")}


def test_only_arcs_of_the_sparse_network_carry_flow(tiny):
    # nearest = 0: C's arcs reach only its own group (A), so B cannot supply even when cheaper.
    r = solve(build(tiny, options(0.25, nearest=0)), ["capacity", "chain_coordination"])
    assert hosted(r) == {("chip", "A"), ("nev", "C")}
    assert r.objective == pytest.approx(1 + 10 + 10 * 0.01 * 2 * KM_PER_DEGREE, rel=1e-9)


def test_explicit_arc_unit_cost_replaces_distance_cost(tiny):
    # arcs.csv: B -> C costs 0.1 per unit in total: B 1.5 + 0.1 = 1.6 beats A's 3.2239.
    folder = tiny(options(0.25), regions=REGIONS, industries=INDUSTRIES, chain=CHAIN,
                  sites=SITES, arcs="""
        from,to,distance_km,unit_cost
        B,C,,0.1
    """)
    r = solve(folder, ["capacity", "chain_coordination"])
    assert r.objective == pytest.approx(1 + 10 * 1.5 + 10 * 0.1)
    assert hosted(r) == {("chip", "B"), ("nev", "C")}
