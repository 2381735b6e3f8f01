"""Infeasible in each resource family: the explanation names the right input rows.

Every instance below has regions A and B (tests/support.py) and one industry, NEV: demand
10, minimum scale 4, capex 1 per unit, fixed cost 5 per host. Each is made infeasible in one
family; the comments work out the smallest relaxation by hand: fewest limits (demand last),
then the least total amount as a share of each limit.
"""

from __future__ import annotations

import textwrap

import pytest

import allocator
from allocator.analysis.explain import explain

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def relaxations(folder, **kwargs) -> list[tuple[str, str, float]]:
    e = explain(allocator.load_instance(folder), **kwargs)
    assert e.status == "explained", e.lines()
    return [(r.family, r.message, r.amount) for r in e.relaxations.itertuples()]


def test_talent(tiny):
    # 10 units need 10 engineers; A has 1 (talent_supply.csv row 2), B 2 (row 3). One region
    # hosting everything breaks one limit: A by 9 (900% of 1) or B by 8 (400% of 2): B.
    # Splitting (each >= 4) breaks both.
    folder = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng,1\nB,eng,2",
                  talent_need="industry,talent_class,need\nnev,eng,1")
    assert relaxations(folder) == [(
        "talent", "talent_supply.csv row 3 (B, eng): needs 10, has 2: short 8 people",
        pytest.approx(8.0))]


def test_funding(tiny):
    # Budgets A 6 (regions.csv row 2), B 8 (row 3); one host costs 5 + 10 = 15, two cost at
    # least 5 + 4 in A (> 6) and 5 + 6 in B (> 8). Fewest: one region; B short 7 (88% of 8)
    # beats A short 9 (150% of 6).
    regions = """
        id,name,group,latitude,longitude,funding_budget
        A,Alpha,g1,0,0,6
        B,Beta,g2,0,1,8
    """
    folder = tiny(industries=NEV, regions=regions)
    assert relaxations(folder) == [(
        "funding", "regions.csv row 3 (B, own budget (national fund on top)): needs 15, "
        "has 8: short 7 money", pytest.approx(7.0))]
    # The pre-solve check proves it first: at least 15 (1 + 5/10 per unit), budgets total 14.
    checks = explain(allocator.load_instance(folder)).checks
    assert [c.family for c in checks] == ["funding"]
    assert "costs at least 15 money" in checks[0].message and "total 14" in checks[0].message


def test_supply(tiny):
    # Lithium: 1 per unit, domestic A 3 (input_supply.csv row 2) + B 4 (row 3) = 7, imports
    # capped at 2 (a bound): 10 needs 8 domestic, 7 exist: the national row, short 1.
    folder = tiny(industries=NEV,
                  inputs="id,name,import_cap,domestic_share_min,tradable\n"
                         "lithium,Lithium,2,,true",
                  input_need="industry,input,need\nnev,lithium,1",
                  input_supply="region,input,supply\nA,lithium,3\nB,lithium,4")
    assert relaxations(folder) == [(
        "supply", "input_supply.csv rows 2, 3 (lithium (Lithium), national supply, imports "
        "up to 2 on top): needs 8, has 7: short 1 input units", pytest.approx(1.0))]


def test_demand_capacity(tiny):
    # At most 4 per site (industries.csv capacity_max), two sites: 8 < 10. Site maxima are
    # bounds, so only the demand row relaxes (industries.csv row 2), by 2; capacity alone is
    # the family in conflict.
    industries = NEV.replace("target_hosts\n", "target_hosts,capacity_max\n").replace(
        "5,1\n", "5,1,4\n")
    folder = tiny(industries=industries)
    e = explain(allocator.load_instance(folder))
    assert [(r.family, r.message) for r in e.relaxations.itertuples()] == [(
        "capacity", "industries.csv row 2 (nev, national capacity): demand 10, can build 8: "
        "short 2 unit (capacity is capped by the site maxima (sites.csv max_capacity, "
        "industries.csv capacity_max))")]
    assert e.families == ["capacity"]
    assert "its 2 candidate sites can build at most 8" in e.checks[0].message


def test_demand_markets(tiny):
    # Markets A 6 (markets.csv row 2), B 4 (row 3); 8 can be built. National capacity short
    # 2 (demand located in markets.csv rows 2, 3) and one market short 2: A (33% of 6) rather
    # than B (50% of 4).
    industries = """
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
        nev,NEV,,4,1,5,1,4
    """
    folder = tiny(industries=industries, markets="industry,region,demand\nnev,A,6\nnev,B,4")
    # both short by 2: the order between equal amounts is the solver's, not part of the answer
    assert sorted(relaxations(folder), key=lambda r: r[0], reverse=True) == [
        ("markets", "markets.csv row 2 (nev in A): demand 6, can be supplied 4: short 2 unit",
         pytest.approx(2.0)),
        ("capacity", "markets.csv rows 2, 3 (nev, national capacity): demand 10, can build "
         "8: short 2 unit (capacity is capped by the site maxima (sites.csv max_capacity, "
         "industries.csv capacity_max))", pytest.approx(2.0)),
    ]


def test_policy_focus_limit(tiny):
    # Two industries, each only allowed in A (sites.csv), A may host one (regions.csv row 2,
    # max_industries 1): short 1 industry.
    industries = NEV + "bat,Battery,10,4,1,5,1\n"
    regions = """
        id,name,group,latitude,longitude,funding_budget,max_industries
        A,Alpha,g1,0,0,1000,1
        B,Beta,g2,0,1,1000,
    """
    sites = "industry,region,allowed\nnev,B,false\nbat,B,false"
    folder = tiny(industries=industries, regions=regions, sites=sites)
    assert relaxations(folder) == [(
        "policy", "regions.csv row 2 (A, most industries hosted): needs 2, has 1: short 1 "
        "industries", pytest.approx(1.0))]


def test_policy_equity_floor(tiny):
    # B asks for 2 industries (regions.csv row 3, min_industries) and may host only NEV.
    regions = """
        id,name,group,latitude,longitude,funding_budget,min_industries
        A,Alpha,g1,0,0,1000,
        B,Beta,g2,0,1,1000,2
    """
    folder = tiny(industries=NEV, regions=regions)
    e = explain(allocator.load_instance(folder))
    assert [r.message for r in e.relaxations.itertuples()] == [
        "regions.csv row 3 (B, least industries hosted): asks for 2, can host 1: short 1 "
        "industries"]
    assert "regions.csv row 3 (B): at least 2 industries asked" in e.checks[0].message


def test_family_without_limit_source_is_named_by_constraint(tiny, tmp_path):
    # A researcher's family declares a limit but no limit_source: at most 3 units of NEV in
    # total, against demand 10: relaxed by 7 (the demand row weighs more than all others).
    family = tmp_path / "cap_nev.py"
    family.write_text(textwrap.dedent(r'''
        r"""Cap NEV: $$\text{cap\_nev\_limit:}\ \sum_r q_{nev,r} \le 3$$"""
        import pyomo.environ as pyo
        from allocator import Family, Symbol

        def build(b, ctx):
            b.cap_nev_limit = pyo.Constraint(
                expr=sum(ctx.capacity[s] for s in ctx.sites.index if s[0] == "nev") <= 3)

        FAMILY = Family(name="cap_nev", summary="cap", math=__doc__, build=build,
                        limits=("cap_nev_limit",),
                        symbols=(Symbol("cap_nev_limit", "constraint", "", "", "units",
                                        "cap", r"\sum q \le 3"),))
    '''))
    inst = allocator.load_instance(tiny(industries=NEV), extra_families=[family])
    e = explain(inst)
    [row] = e.relaxations.itertuples()
    assert row.family == "cap_nev"
    assert row.message.startswith("family cap_nev (")
    assert row.message.endswith("(cap_nev_limit): needs 10, has 3: short 7 units")


def test_feasible_instance_has_nothing_to_explain(tiny):
    e = explain(allocator.load_instance(tiny(industries=NEV)))
    assert e.status == "feasible" and not len(e.relaxations)


def test_iis_of_the_lp_relaxation_is_a_labelled_second_view(tiny):
    folder = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng,1\nB,eng,2",
                  talent_need="industry,talent_class,need\nnev,eng,1")
    e = explain(allocator.load_instance(folder))
    text = "\n".join(e.lines())
    assert "Second view: an irreducible infeasible subset (IIS) of the LP relaxation" in text
    # the relaxation needs both talent rows and the demand: 3 people for 10 units
    assert any("talent_supply.csv row 2 (A, eng)" in line for line in e.iis)
    assert any("talent_supply.csv row 3 (B, eng)" in line for line in e.iis)
    assert any("capacity_covers_requirement" in line for line in e.iis)


def test_integer_only_conflict_has_no_iis(tiny):
    # The focus-limit case of test_policy_focus_limit, with capacity_max 20: the LP relaxation
    # hosts half of each industry (x = 0.5 + 0.5 <= 1, q = 10 <= 20 * 0.5) and is feasible;
    # only integrality makes the instance infeasible, so there is no IIS.
    industries = """
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
        nev,NEV,10,4,1,5,1,20
        bat,Battery,10,4,1,5,1,20
    """
    regions = """
        id,name,group,latitude,longitude,funding_budget,max_industries
        A,Alpha,g1,0,0,1000,1
        B,Beta,g2,0,1,1000,
    """
    sites = "industry,region,allowed\nnev,B,false\nbat,B,false"
    e = explain(allocator.load_instance(tiny(industries=industries, regions=regions,
                                             sites=sites)))
    assert e.relaxations["message"].tolist() == [
        "regions.csv row 2 (A, most industries hosted): needs 2, has 1: short 1 industries"]
    assert e.iis == [] and "LP relaxation is not infeasible" in e.iis_note


def test_explanation_is_deterministic(tiny):
    folder = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng,1\nB,eng,1",
                  talent_need="industry,talent_class,need\nnev,eng,1")
    first = explain(allocator.load_instance(folder)).relaxations
    again = explain(allocator.load_instance(folder)).relaxations
    assert first.equals(again)
