"""pilot_bases: research-intensive industries only near an open pilot base of their field; a
base costs its setup, and uses talent and money inside the talent and funding limits.

Three regions about 1,100 km apart, each its own group; every base reaches 300 km, so a
base serves its own region only. Costs are fixed + capex per unit; demand 10, no minimum
scale, one host needed.
"""

import pytest
from support import capacity, hosted, solve, verified

import allocator
from allocator.core.errors import InputError
from allocator.output.terminal import render_summary

REGIONS = """
id,name,group,latitude,longitude,funding_budget
A,Alpha,g1,0,0,{budget_a}
B,Beta,g2,0,10,1000
C,Gamma,g3,0,20,1000
"""
HEADER = "id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,research_field," \
         "pilot_reach_km"


def opened(result) -> dict[str, str]:
    """Open bases -> whom they serve."""
    t = result.tables["pilot_bases"]
    return dict(zip(t.loc[t["opened"] == 1, "base"], t.loc[t["opened"] == 1, "serves"].fillna(""),
                    strict=True))


def test_a_base_opens_only_because_a_research_industry_needs_it(tiny):
    # f at A costs 1 + 10 and needs base bA (5): 16; at B 1 + 20 + bB (2): 23. So A and bA.
    # The bio base serves no industry: it has no decision at all. With research_field blank
    # f goes to A with no base: 11.
    sites = "industry,region,unit_capex\nf,A,1\nf,B,2\nf,C,9"
    bases = """
        id,region,field,fixed_cost
        bA,A,chem,5
        bB,B,chem,2
        bC,C,bio,1
    """
    r = solve(tiny(regions=REGIONS.format(budget_a=1000), sites=sites, pilot_bases=bases,
                   industries=f"{HEADER}\nf,F,10,0,1,1,1,chem,300"),
              ["capacity", "pilot_bases"])
    assert r.objective == pytest.approx(16.0)
    assert capacity(r) == pytest.approx({("f", "A"): 10.0})
    assert opened(r) == {"bA": "f@A"}
    assert set(r.tables["pilot_bases"]["base"]) == {"bA", "bB"}
    assert list(r.built.block("pilot_bases").opens) == ["bA", "bB"]
    plain = solve(tiny(regions=REGIONS.format(budget_a=1000), sites=sites, pilot_bases=bases,
                       industries=f"{HEADER}\nf,F,10,0,1,1,1,,"), ["capacity", "pilot_bases"])
    assert plain.objective == pytest.approx(11.0)
    assert opened(plain) == {}


def test_two_industries_share_one_base(tiny):
    # f is cheaper at A (capex 1 vs 2), g at B (1 vs 2); bases bA 15, bB 14.
    # Apart: 11 + 11 + 15 + 14 = 51. Both at A: 11 + 21 + 15 = 47. Both at B: 21 + 11 + 14
    # = 46: the optimum, one base serving both.
    r = solve(tiny(regions=REGIONS.format(budget_a=1000), industries=f"""{HEADER}
f,F,10,0,1,1,1,chem,
g,G,10,0,1,1,1,chem,""",
                   sites="industry,region,unit_capex\nf,A,1\nf,B,2\ng,A,2\ng,B,1\nf,C,9\ng,C,9",
                   pilot_bases="id,region,field,fixed_cost\nbA,A,chem,15\nbB,B,chem,14"),
              ["capacity", "pilot_bases"])
    assert r.objective == pytest.approx(46.0)
    assert hosted(r) == {("f", "B"), ("g", "B")}
    assert opened(r) == {"bB": "f@B g@B"}
    assert "Pilot bases: 1 of 2 open" in render_summary(r)


BASES_WITH_TALENT = """
id,region,field,fixed_cost,talent_class,talent_need
bA,A,chem,5,researchers,{need_a}
bB,B,chem,8,researchers,2
"""
TALENT_SUPPLY = "region,talent_class,supply\nA,researchers,3\nB,researchers,3"
SITES_AB = "industry,region,unit_capex\nf,A,1\nf,B,1.2\nf,C,9"
FUNDING = ["capacity", "pilot_bases", "funding", "talent"]


def test_funding_used_by_the_base_changes_the_decision(tiny):
    # Without budgets: A + bA = 1 + 10 + 5 = 16; B + bB = 1 + 12 + 8 = 21.
    # A's budget is 12: its plant (11) fits, plant and base (16) do not; the base's setup
    # counts in A's funding row, so f goes to B: 21. (Were the base not counted: 16 at A.)
    folder = tiny(regions=REGIONS.format(budget_a=12), sites=SITES_AB,
                  industries=f"{HEADER}\nf,F,10,0,1,1,1,chem,",
                  pilot_bases=BASES_WITH_TALENT.format(need_a=1), talent_supply=TALENT_SUPPLY)
    r = solve(folder, FUNDING)
    assert r.objective == pytest.approx(21.0)
    assert capacity(r) == pytest.approx({("f", "B"): 10.0})
    assert opened(r) == {"bB": "f@B"}
    res = r.tables["regions"].set_index(["family", "region", "resource"])
    assert res.at[("funding", "B", "funding"), "used"] == pytest.approx(21.0)  # 1 + 12 + 8
    assert res.at[("talent", "B", "talent:researchers"), "used"] == pytest.approx(2.0)
    uses = r.tables["uses"].set_index(["resource", "region"])
    assert uses.at[("funding", "B"), "amount"] == pytest.approx(8.0)
    assert uses.at[("funding", "A"), "amount"] == pytest.approx(0.0)
    # with a budget of 16 at A, plant and base fit there again: 16
    again = solve(tiny(regions=REGIONS.format(budget_a=16), sites=SITES_AB,
                       industries=f"{HEADER}\nf,F,10,0,1,1,1,chem,",
                       pilot_bases=BASES_WITH_TALENT.format(need_a=1),
                       talent_supply=TALENT_SUPPLY), FUNDING)
    assert again.objective == pytest.approx(16.0)
    assert opened(again) == {"bA": "f@A"}


def test_the_base_competes_for_research_talent(tiny):
    # bA needs 5 researchers, A has 3: the talent row (A, researchers) exists only because
    # of the base (f itself needs no talent) and keeps bA shut: B + bB = 21.
    folder = tiny(regions=REGIONS.format(budget_a=1000), sites=SITES_AB,
                  industries=f"{HEADER}\nf,F,10,0,1,1,1,chem,",
                  pilot_bases=BASES_WITH_TALENT.format(need_a=5), talent_supply=TALENT_SUPPLY)
    r = solve(folder, FUNDING)
    assert r.objective == pytest.approx(21.0)
    assert opened(r) == {"bB": "f@B"}
    rows = r.built.block("talent").talent_within_supply
    assert set(rows) == {("A", "researchers"), ("B", "researchers")}
    # softened, the talent shortfall of opening bA names talent_supply.csv row 2
    inst = allocator.load_instance(folder)
    built = allocator.build_model(inst, FUNDING, soft=["talent"], soft_penalty=1.0)
    soft = allocator.solve(built, allocator.SolverOptions(mip_gap=0))
    # A + bA = 16 plus 2 researchers short at 1 each = 18 < 21
    assert soft.objective == pytest.approx(18.0)
    assert soft.tables["shortfalls"]["message"].iloc[0].startswith(
        "talent_supply.csv row 2 (A, researchers): needs 5, has 3")


def test_a_site_with_no_base_in_reach_is_pruned(tiny):
    # Only a base in C: f cannot be hosted in A or B (with minimum scale 1 they are pruned,
    # with the reason), so C: 1 + 90 + 3 = 94.
    r = solve(tiny(regions=REGIONS.format(budget_a=1000), sites=SITES_AB,
                   industries=f"{HEADER}\nf,F,10,1,1,1,1,chem,",
                   pilot_bases="id,region,field,fixed_cost\nbC,C,chem,3"),
              ["capacity", "pilot_bases"])
    assert r.objective == pytest.approx(94.0)
    assert opened(r) == {"bC": "f@C"}
    pruned = r.built.pruned
    assert set(zip(pruned["industry"], pruned["region"], strict=True)) == {("f", "A"), ("f", "B")}
    assert "no base of field chem within 300 km" in pruned["reason"].iloc[0]


def test_a_must_host_pair_without_a_base_in_reach_is_an_explained_infeasibility(tiny):
    # f must be hosted in A, but the only chem base is in C, 2,200 km away (reach 300 km):
    # pruning keeps the must-host site, so pilot_bases_access[f, A] (x <= 0) meets x = 1 and
    # the answer is the ordinary infeasible one: exit 4, the industries.csv row of f named.
    import subprocess
    import sys

    folder = tiny(regions=REGIONS.format(budget_a=1000),
                  sites="industry,region,must_host\nf,A,true",
                  industries=f"{HEADER}\nf,F,10,0,1,1,1,chem,",
                  pilot_bases="id,region,field,fixed_cost\nbC,C,chem,3")
    done = subprocess.run([sys.executable, "-m", "allocator.cli", "solve", str(folder)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "industries.csv row 2 (f hosted in A" in done.stdout
    assert "pilot_bases_access[f,A]" in done.stdout


def test_research_field_needs_the_bases_file(tiny):
    folder = tiny(regions=REGIONS.format(budget_a=1000),
                  industries=f"{HEADER}\nf,F,10,0,1,1,1,chem,")
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder)
    (p,) = info.value.problems
    assert (p.file, p.row, p.column, p.value) == ("industries.csv", 2, "research_field", "chem")


def test_verify_catches_a_host_without_its_base(tiny, tmp_path):
    # The plan of the sharing test with its base shut in the written table: the checker
    # finds both hosts without an open base in reach, and the base's setup in uses.csv
    # that a shut base cannot spend.
    from allocator.verify import verify

    folder = tiny(regions=REGIONS.format(budget_a=1000), industries=f"""{HEADER}
f,F,10,0,1,1,1,chem,
g,G,10,0,1,1,1,chem,""",
                  sites="industry,region,unit_capex\nf,A,1\nf,B,2\ng,A,2\ng,B,1",
                  pilot_bases="id,region,field,fixed_cost\nbA,A,chem,15\nbB,B,chem,14")
    r = solve(folder, ["capacity", "pilot_bases"])
    out = allocator.write_results(r, tmp_path / "results")
    table = out / "pilot_bases.csv"
    table.write_text(table.read_text().replace("bB,B,chem,1,", "bB,B,chem,0,"))
    report = verify(folder, out)
    assert not report.ok
    broken = {(v.constraint, v.index) for v in report.violations}
    assert broken == {("pilot_bases_access", "f,B"), ("pilot_bases_access", "g,B"),
                      ("uses funding", "B")}


def test_soft_access_names_the_input_row(tiny):
    # Only a base in C (1 + 90 + 3 = 94 there). Softened at 50 per host without a base in
    # reach, A without a base is cheaper: 1 + 10 + 50 = 61 (B: 1 + 12 + 50 = 63).
    folder = tiny(regions=REGIONS.format(budget_a=1000), sites=SITES_AB,
                  industries=f"{HEADER}\nf,F,10,0,1,1,1,chem,",
                  pilot_bases="id,region,field,fixed_cost\nbC,C,chem,3")
    built = allocator.build_model(allocator.load_instance(folder), ["capacity", "pilot_bases"],
                                  soft=["pilot_bases"], soft_penalty=50)
    r = verified(folder, allocator.solve(built, allocator.SolverOptions(mip_gap=0)))
    assert r.objective == pytest.approx(61.0)
    assert hosted(r) == {("f", "A")}
    assert opened(r) == {}
    [message] = r.tables["shortfalls"]["message"]
    assert message == ("industries.csv row 2 (f hosted in A: an open chem base within 300 km "
                       "or the same group): short 1 hosts (no candidate base of the field in "
                       "reach (pilot_bases.csv))")


def test_presolve_check_without_a_base_of_the_field(tiny):
    # f's field is bio, every base is chem: no site can host, and the check says so before
    # any solve; the solve is infeasible (explained).
    from allocator.analysis.checks import run_checks

    folder = tiny(regions=REGIONS.format(budget_a=1000), sites=SITES_AB,
                  industries=f"{HEADER}\nf,F,10,1,1,1,1,bio,",
                  pilot_bases="id,region,field,fixed_cost\nbA,A,chem,3")
    inst = allocator.load_instance(folder)
    [failure] = run_checks(inst, ["capacity", "pilot_bases"])
    assert str(failure) == (
        "industries.csv row 2 (f): needs at least 10 unit, but only 0 candidate sites lie "
        "within 300 km (or the same group) of a bio pilot base (pilot_bases.csv, field), able "
        "to build 0 together")
    r = allocator.solve(allocator.build_model(inst, ["capacity", "pilot_bases"]),
                        allocator.SolverOptions())
    assert r.status == "infeasible"


def test_without_contributions_the_limits_are_as_they_were(tiny):
    # Bases exist but no industry is research-intensive: no base has a decision, nothing is
    # contributed, and talent and funding build the very rows they build without the family.
    folder = tiny(regions=REGIONS.format(budget_a=1000), sites=SITES_AB,
                  industries=f"{HEADER}\nf,F,10,0,1,1,1,,",
                  pilot_bases=BASES_WITH_TALENT.format(need_a=1),
                  talent_need="industry,talent_class,need\nf,researchers,0.1",
                  talent_supply=TALENT_SUPPLY)
    inst = allocator.load_instance(folder)
    with_bases = allocator.build_model(inst, FUNDING)
    without = allocator.build_model(inst, ["capacity", "funding", "talent"])
    assert with_bases.uses == {} and "uses" not in allocator.solve(
        with_bases, allocator.SolverOptions(mip_gap=0)).tables
    for family, rows in (("talent", "talent_within_supply"),
                         ("funding", "funding_within_budget")):
        a = getattr(with_bases.block(family), rows)
        b = getattr(without.block(family), rows)
        assert list(a) == list(b)
        assert [str(a[k].expr) for k in a] == [str(b[k].expr) for k in b]
