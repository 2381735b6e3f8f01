"""capacity: hosting, minimum scale, site maximum, national coverage, brownfield.

Hand-checked optima: each test states the candidate plans and their costs.
"""

import pytest
from support import capacity, hosted, solve, term

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def test_site_maximum_forces_a_second_host_and_the_cheaper_split(tiny):
    # A holds at most 6, B at most 8, B's capex is 2. Demand 10 needs both hosts
    # (fixed 5 + 5). Cost 10 + capA + 2 capB, capA <= 6 -> capA = 6, capB = 4 (>= min 4).
    # Objective 10 + 6 + 8 = 24.
    folder = tiny(industries=NEV, sites="""
        industry,region,max_capacity,unit_capex
        nev,A,6,
        nev,B,8,2
    """)
    r = solve(folder, ["capacity"])
    assert r.status == "optimal"
    assert r.objective == pytest.approx(24.0)
    assert hosted(r) == {("nev", "A"), ("nev", "B")}
    assert capacity(r) == pytest.approx({("nev", "A"): 6.0, ("nev", "B"): 4.0})
    assert term(r, "investment") == pytest.approx(24.0)


def test_minimum_scale_builds_above_demand(tiny):
    # Demand 3 < min scale 4: the single cheapest host builds 4. A: 5 + 4 = 9; B (fixed 6): 10.
    folder = tiny(industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
        nev,NEV,3,4,1,5,1
    """, sites="""
        industry,region,fixed_cost
        nev,B,6
    """)
    r = solve(folder, ["capacity"])
    assert r.objective == pytest.approx(9.0)
    assert capacity(r) == pytest.approx({("nev", "A"): 4.0})


def test_forbidden_pair_is_not_a_candidate(tiny):
    # A is cheaper but forbidden: B hosts, 5 + 2*10 = 25.
    folder = tiny(industries=NEV, sites="""
        industry,region,allowed,unit_capex
        nev,A,false,
        nev,B,,2
    """)
    r = solve(folder, ["capacity"])
    assert r.objective == pytest.approx(25.0)
    assert hosted(r) == {("nev", "B")}
    assert len(r.tables["allocation"]) == 1  # the forbidden pair has no variable


def test_chain_intermediate_demand_counts_on_downstream_capacity(tiny):
    # nev demand 5 (min scale 0), battery demand 0 but 2 per nev -> battery 10.
    # Capex 1 each, no fixed cost, both in A (B forbidden): 5 + 10 = 15.
    folder = tiny(industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
        battery,Battery,0,0,1,0,1
        nev,NEV,5,0,1,0,1
    """, chain="""
        upstream,downstream,ratio
        battery,nev,2
    """, sites="""
        industry,region,allowed
        battery,B,false
        nev,B,false
    """)
    r = solve(folder, ["capacity"])
    assert r.objective == pytest.approx(15.0)
    assert capacity(r) == pytest.approx({("battery", "A"): 10.0, ("nev", "A"): 5.0})


BROWN = """
industry,region,existing_capacity,unit_capex,fixed_cost
nev,A,3,,
nev,B,,0.1,1
"""


def test_brownfield_keep_keeps_the_existing_site_and_pays_only_new_capacity(tiny):
    # A has 3 (kept: hosts, cap >= 3, no fixed cost). Options: expand A to 10: 7;
    # A=3 + B=7 (fixed 1 + 0.1*7): 1.7. Optimum 1.7.
    folder = tiny(industries=NEV, sites=BROWN)
    r = solve(folder, ["capacity"])
    assert r.objective == pytest.approx(1.7)
    assert capacity(r) == pytest.approx({("nev", "A"): 3.0, ("nev", "B"): 7.0})
    alloc = r.tables["allocation"].set_index("region")
    assert alloc.at["A", "new"] == 0 and alloc.at["B", "new"] == pytest.approx(7.0)


def test_brownfield_count_may_retire_existing_capacity(tiny):
    # With a site-excess penalty of 10 (target 1 host):
    # keep:  A must host -> A alone expanded to 10 costs 7 (A+B would be 1.7 + 10).
    # count: A may retire -> B alone: 1 + 0.1*10 = 2.
    keep = tiny("[objective]\nsite_excess = 10\n", industries=NEV, sites=BROWN)
    r = solve(keep, ["capacity", "duplication"])
    assert r.objective == pytest.approx(7.0)
    assert hosted(r) == {("nev", "A")}
    count = tiny("[objective]\nsite_excess = 10\n[sites]\nbrownfield = \"count\"\n",
                 industries=NEV, sites=BROWN)
    r = solve(count, ["capacity", "duplication"])
    assert r.objective == pytest.approx(2.0)
    assert hosted(r) == {("nev", "B")}
