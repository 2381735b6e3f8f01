"""talent_attraction: people hired from a national pool at a cost, arriving with a lag, added
to a region's talent supply. Hand-checked optima; every plan is verified."""

from __future__ import annotations

import pytest
from support import capacity, solve, term

import allocator
from allocator.output.report import write_report

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,{demand},0,1,5,1
"""
#: only B may host; 1 engineer per unit of capacity; B has 10 engineers
TABLES = dict(
    sites="industry,region,allowed\nnev,A,false",
    talent_need="industry,talent_class,need\nnev,eng,1",
    talent_supply="region,talent_class,supply\nB,eng,10",
    talent_attraction="region,talent_class,cost,max\nB,eng,2,20",
)
TWO = """
id,first_year,years,discount_rate
p1,2026,3,0.1
p2,2029,3,0.1
"""
DELTA2 = 1.1 ** -3
FAMILIES = ["capacity", "talent", "talent_attraction"]


def hires(result, period=None):
    t = result.tables["talent_attraction"]
    if period is not None:
        t = t[t["period"] == period]
    return t.set_index("region").loc["B"]


def test_one_shot_hires_what_works_at_once(tiny):
    # Demand 12 needs 12 engineers, B has 10; half of the hires work in the plan's period
    # (usable_share 0.5): 0.5 a >= 2, a = 4 at 2 each = 8. Capacity 5 + 12 = 17. Total 25.
    r = solve(tiny(industries=NEV.format(demand=12), **TABLES), FAMILIES)
    assert r.objective == pytest.approx(25)
    assert capacity(r) == pytest.approx({("nev", "B"): 12})
    assert hires(r)["attracted"] == pytest.approx(4)
    assert hires(r)["usable"] == pytest.approx(2)
    assert term(r, "talent_attraction") == pytest.approx(8)


def test_hiring_a_period_ahead_is_cheaper_than_the_lag(tiny, tmp_path):
    # Demand 10 then 20 (p2), B only, 10 engineers. p2 needs 10 more usable people:
    # usable_2 = 0.5 a2 + (0.5 a1 + 0.5 a1) = 0.5 a2 + a1. A unit of usable costs 2 hired in
    # p1 and 2 * delta2 / 0.5 = 3.005 hired in p2: hire a1 = 10 in p1 (20).
    # Capacity: 15 + 10 * delta2. Total 35 + 10 * delta2 = 42.513148.
    folder = tiny(industries=NEV.format(demand=10), periods=TWO, industries_by_period="""
        id,period,demand
        nev,p2,20
    """, **TABLES)
    r = solve(folder, FAMILIES)
    assert r.objective == pytest.approx(35 + 10 * DELTA2)
    assert hires(r, "p1")["attracted"] == pytest.approx(10)
    assert hires(r, "p2")["attracted"] == pytest.approx(0)
    assert hires(r, "p1")["usable"] == pytest.approx(5)
    assert hires(r, "p2")["usable"] == pytest.approx(10)
    out = allocator.write_results(r, tmp_path / "results")
    html = write_report(out)[0].read_text(encoding="utf-8")
    assert "10.00 people hired into 1 region for 20.00" in html


def test_the_national_pool_limits_each_period(tiny):
    # As above, but the pool lets all regions hire at most 8 engineers a period: a1 = 8,
    # then 0.5 a2 >= 2, a2 = 4. Hiring 16 + 8 * delta2; capacity 15 + 10 * delta2.
    # Total 31 + 18 * delta2 = 44.523666.
    folder = tiny(industries=NEV.format(demand=10), periods=TWO, industries_by_period="""
        id,period,demand
        nev,p2,20
    """, talent_pool="talent_class,pool\neng,8", **TABLES)
    r = solve(folder, FAMILIES)
    assert r.objective == pytest.approx(31 + 18 * DELTA2)
    assert hires(r, "p1")["attracted"] == pytest.approx(8)
    assert hires(r, "p2")["attracted"] == pytest.approx(4)
    pools = r.tables["regions"]
    row = pools[(pools["resource"] == "talent_pool:eng") & (pools["period"] == "p1")]
    assert float(row["used"].iloc[0]) == pytest.approx(8)
    assert float(row["limit_value"].iloc[0]) == pytest.approx(8)


def test_without_hires_the_talent_limit_holds(tiny):
    # A pool of 0: no one can be hired; demand 12 against 10 engineers has no plan.
    r = solve(tiny(industries=NEV.format(demand=12), talent_pool="talent_class,pool\neng,0",
                   **TABLES), FAMILIES)
    assert r.status == "infeasible"
