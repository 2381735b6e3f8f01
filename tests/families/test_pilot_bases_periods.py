"""pilot_bases over planning periods: a base stays open and is paid once; lab to factory
(conversion.csv): a base counts from the period after it opens, once open long enough;
lab results become factories without a base after some years. Hand-checked optima; every
plan is verified."""

from __future__ import annotations

import pytest
from support import solve

#: quantum: demand 0 in p1, 2 from p2 on (by period); fixed 10, capex 1; research field q
QUANTUM = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,research_field
quantum,Quantum,0,0,1,10,1,q
"""
BY_PERIOD = """
id,period,demand
quantum,p2,2
quantum,p3,2
"""
#: three periods of 3 years, 10% a year: delta_2 = 1.1^-3, delta_3 = 1.1^-6
THREE = """
id,first_year,years,discount_rate
p1,2026,3,0.1
p2,2029,3,0.1
p3,2032,3,0.1
"""
D2, D3 = 1.1 ** -3, 1.1 ** -6
#: one base in A (setup 4); B is out of its reach (111 km > 50 km, another group)
BASES = """
id,region,field,fixed_cost
qa,A,q,4
"""
FAMILIES = ["capacity", "pilot_bases"]


def rows(result, table, period):
    t = result.tables[table]
    return t[t["period"] == period]


def opened(result, period):
    return int(rows(result, "pilot_bases", period).set_index("base").at["qa", "opened"])


def hosts(result, period):
    a = rows(result, "allocation", period)
    return set(a.loc[a["hosted"] == 1, "region"])


def test_without_conversion_a_base_open_in_the_same_period_counts(tiny):
    # No conversion.csv: as a one-shot plan, per period. Quantum runs from p2: A hosts in p2
    # (10 + 2) with its base opened in p2 (4, paid once, later is cheaper); p3 keeps both.
    # Objective 16 * delta_2 = 12.021037.
    folder = tiny(toml="[pilot_bases]\nreach_km = 50\n", industries=QUANTUM, periods=THREE,
                  industries_by_period=BY_PERIOD, pilot_bases=BASES)
    r = solve(folder, FAMILIES)
    assert r.objective == pytest.approx(16 * D2)
    assert [opened(r, p) for p in ("p1", "p2", "p3")] == [0, 1, 1]
    assert hosts(r, "p2") == hosts(r, "p3") == {"A"}
    bases = rows(r, "pilot_bases", "p3").set_index("base")
    assert bases.at["qa", "opened_since"] == "p2"


def test_a_base_counts_from_the_period_after_it_opens(tiny):
    # conversion.csv: pilot_years 0, years blank (never without a base). Hosting in p2
    # needs a base opened in p1 (it counts from 2029 on): the base opens in p1 (4,
    # undiscounted) and A hosts from p2 (12 * delta_2). Objective 4 + 12 * delta_2 = 13.015778.
    folder = tiny(toml="[pilot_bases]\nreach_km = 50\n", industries=QUANTUM, periods=THREE,
                  industries_by_period=BY_PERIOD, pilot_bases=BASES,
                  conversion="industry,years,pilot_years\nquantum,,0")
    r = solve(folder, FAMILIES)
    assert r.objective == pytest.approx(4 + 12 * D2)
    assert [opened(r, p) for p in ("p1", "p2", "p3")] == [1, 1, 1]
    assert hosts(r, "p2") == {"A"}
    assert r.tables["periods"].set_index("period").at["p1", "cost"] == pytest.approx(4)


def test_a_base_open_too_short_leaves_only_the_lab_route(tiny):
    # pilot_years 4: a base opened in p1 counts from 2029 + 4 = 2033 > 2029 (p2) and > 2032
    # (p3): no base can serve in time. Without a base the lab results become factories after
    # 6 years (2032, p3) but p2 already needs 2: no plan.
    folder = tiny(toml="[pilot_bases]\nreach_km = 50\n", industries=QUANTUM, periods=THREE,
                  industries_by_period=BY_PERIOD, pilot_bases=BASES,
                  conversion="industry,years,pilot_years\nquantum,6,4")
    assert solve(folder, FAMILIES).status == "infeasible"


def test_after_the_conversion_years_no_base_is_needed(tiny):
    # Demand only in p3 (2032); years 6: from 2032 quantum hosts anywhere without a base.
    # B hosts (10 + 2 = 12 in p3; A's setup is 11): the base never opens.
    # Objective 12 * delta_3 = 6.773687.
    folder = tiny(toml="[pilot_bases]\nreach_km = 50\n", industries=QUANTUM, periods=THREE,
                  industries_by_period="id,period,demand\nquantum,p3,2", pilot_bases=BASES,
                  sites="industry,region,fixed_cost\nquantum,A,11",
                  conversion="industry,years,pilot_years\nquantum,6,4")
    r = solve(folder, FAMILIES)
    assert r.objective == pytest.approx(12 * D3)
    assert hosts(r, "p3") == {"B"}
    assert [opened(r, p) for p in ("p1", "p2", "p3")] == [0, 0, 0]
