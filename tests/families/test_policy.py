"""policy: must-host pairs, focus limit, equity floor.

Two industries x and y, demand 5 each, no capex and no minimum scale; hosting costs 1 in A
and 2 in B. Unconstrained, A hosts both: objective 2.
"""

import pytest
from support import hosted, solve

INDUSTRIES = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
x,X,5,0,0,1,1
y,Y,5,0,0,1,1
"""
SITES = """
industry,region,fixed_cost,must_host
x,B,2,
y,B,2,{must}
"""


def regions(max_a: str = "", min_b: str = "") -> str:
    return f"""
        id,name,group,latitude,longitude,funding_budget,max_industries,min_industries
        A,Alpha,g1,0,0,1000,{max_a},
        B,Beta,g2,0,1,1000,,{min_b}
    """


def test_unconstrained(tiny):
    r = solve(tiny(regions=regions(), industries=INDUSTRIES, sites=SITES.format(must="")),
              ["capacity", "policy"])
    assert r.objective == pytest.approx(2.0)
    assert hosted(r) == {("x", "A"), ("y", "A")}


def test_focus_limit_sends_one_industry_away(tiny):
    # A may host one industry: 1 + 2 = 3 (either industry moves: the objective is unique).
    r = solve(tiny(regions=regions(max_a="1"), industries=INDUSTRIES,
                   sites=SITES.format(must="")), ["capacity", "policy"])
    assert r.objective == pytest.approx(3.0)
    assert sum(1 for _, reg in hosted(r) if reg == "A") == 1


def test_must_host_is_a_bound(tiny):
    # y must be hosted in B: 2, plus x in A: 1. y needs no second host: 3.
    r = solve(tiny(regions=regions(), industries=INDUSTRIES, sites=SITES.format(must="true")),
              ["capacity", "policy"])
    assert r.objective == pytest.approx(3.0)
    assert hosted(r) == {("x", "A"), ("y", "B")}


def test_equity_floor_gives_the_poorer_region_industries(tiny):
    # B must host at least 2 industries: both in B, 4.
    r = solve(tiny(regions=regions(min_b="2"), industries=INDUSTRIES,
                   sites=SITES.format(must="")), ["capacity", "policy"])
    assert r.objective == pytest.approx(4.0)
    assert hosted(r) == {("x", "B"), ("y", "B")}


def test_policy_off_ignores_must_host(tiny):
    r = solve(tiny(regions=regions(), industries=INDUSTRIES, sites=SITES.format(must="true")),
              ["capacity"])
    assert r.objective == pytest.approx(2.0)
