"""duplication: host regions beyond target and capacity beyond demand, weighted."""

import pytest
from support import hosted, solve, term


def industries(demand: float, min_scale: float, target: int) -> str:
    return f"""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
        nev,NEV,{demand},{min_scale},1,5,{target}
    """


MAX6 = """
industry,region,max_capacity
nev,A,6
nev,B,6
"""


@pytest.mark.parametrize(("target", "expected"), [(1, 27.0), (2, 20.0)])
def test_site_excess_is_counted_and_weighted(tiny, target, expected):
    # Demand 10, each site holds 6: two hosts are needed: 10 fixed + 10 capex = 20.
    # Target 1: one host too many, weight 7 -> 27. Target 2: 20.
    folder = tiny("[objective]\nsite_excess = 7\n", industries=industries(10, 4, target),
                  sites=MAX6)
    r = solve(folder, ["capacity", "duplication"])
    assert r.objective == pytest.approx(expected)
    assert term(r, "site_excess") == pytest.approx(2 - target)
    assert len(hosted(r)) == 2


def test_overcapacity_from_minimum_scale_is_penalized(tiny):
    # Demand 3, minimum scale 4: one host builds 4, one unit over. 5 + 4 + 2 * 1 = 11.
    folder = tiny("[objective]\novercapacity = 2\n", industries=industries(3, 4, 1))
    r = solve(folder, ["capacity", "duplication"])
    assert r.objective == pytest.approx(11.0)
    assert term(r, "overcapacity") == pytest.approx(1.0)
    dup = r.tables["duplication"].set_index("industry")
    assert dup.at["nev", "overcapacity"] == pytest.approx(1.0)


def test_target_zero_counts_every_host_as_excess(tiny):
    # One host builds 10 (5 + 10); with target 0 that host is one too many: + 3.
    folder = tiny("[objective]\nsite_excess = 3\n", industries=industries(10, 4, 0))
    r = solve(folder, ["capacity", "duplication"])
    assert r.objective == pytest.approx(5 + 10 + 3)
