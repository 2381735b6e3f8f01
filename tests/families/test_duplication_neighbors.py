"""duplication_neighbors: neighbouring regions hosting the same industry, per pair."""

import pytest
from support import hosted, solve, term

# A and B are in the same province (neighbours); C is far away in another.
REGIONS = """
id,name,group,latitude,longitude,funding_budget
A,Alpha,p1,30,110,1000
B,Beta,p1,30,111,1000
C,Gamma,p2,45,80,1000
"""
INDUSTRIES = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,2
"""
SITES = """
industry,region,max_capacity,unit_capex
nev,A,6,
nev,B,6,1.1
nev,C,6,1.5
"""


@pytest.mark.parametrize(("weight", "expected", "hosts"), [
    # A + B: 10 + 6 + 1.1*4 = 20.4 (+ weight for the pair); A + C: 10 + 6 + 1.5*4 = 22;
    # B + C: 10 + 6.6 + 6 = 22.6.
    (0.0, 20.4, {"A", "B"}),
    (1.0, 21.4, {"A", "B"}),
    (3.0, 22.0, {"A", "C"}),
])
def test_pair_penalty_separates_neighbours(tiny, weight, expected, hosts):
    folder = tiny(f"[objective]\nneighbor_pairs = {weight}\n", regions=REGIONS,
                  industries=INDUSTRIES, sites=SITES)
    r = solve(folder, ["capacity", "duplication_neighbors"])
    assert r.objective == pytest.approx(expected)
    assert {reg for _, reg in hosted(r)} == hosts
    assert term(r, "neighbor_pairs") == pytest.approx(1.0 if hosts == {"A", "B"} else 0.0)


def test_distance_makes_neighbours_across_groups(tiny):
    # Same data but A and B in different provinces 96 km apart: neighbours only by distance.
    regions = REGIONS.replace("B,Beta,p1", "B,Beta,p3")
    near = tiny("[objective]\nneighbor_pairs = 3\n[duplication_neighbors]\ndistance_km = 100\n",
                regions=regions, industries=INDUSTRIES, sites=SITES)
    assert {r for _, r in hosted(solve(near, ["capacity", "duplication_neighbors"]))} == {
        "A", "C"}
    far = tiny("[objective]\nneighbor_pairs = 3\n[duplication_neighbors]\ndistance_km = 50\n",
               regions=regions, industries=INDUSTRIES, sites=SITES)
    r = solve(far, ["capacity", "duplication_neighbors"])
    assert {reg for _, reg in hosted(r)} == {"A", "B"}
    assert r.objective == pytest.approx(20.4)
