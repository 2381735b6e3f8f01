"""resilience: min_hosts, max_share and N-1 cover of critical industries.

Three regions far apart, one critical industry f: demand 10, minimum scale 2, target 1.
Setting up and building cost (fixed + capex per unit): A 1 + 1/unit, B 2 + 2/unit,
C 3 + 3/unit. Without resilience A alone builds 10: objective 1 + 10 = 11.
"""

import pytest
from support import capacity, hosted, solve, verified

import allocator
from allocator.analysis.checks import run_checks
from allocator.core.errors import InputError

REGIONS = """
id,name,group,latitude,longitude,funding_budget
A,Alpha,g1,0,0,1000
B,Beta,g2,0,10,1000
C,Gamma,g3,0,20,1000
"""
SITES = """
industry,region,fixed_cost,unit_capex
f,A,1,1
f,B,2,2
f,C,3,3
"""
FAMILIES = ["capacity", "resilience"]


def industries(min_hosts: str = "", max_share: str = "", n1_cover: str = "",
               critical: str = "true", capacity_max: str = "") -> str:
    return f"""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,critical,capacity_max,min_hosts,max_share,n1_cover
        f,F,10,2,1,1,1,{critical},{capacity_max},{min_hosts},{max_share},{n1_cover}
    """


def run(tiny, **kw: str):
    return solve(tiny(regions=REGIONS, sites=SITES, industries=industries(**kw)), FAMILIES)


def test_blank_parameters_build_nothing(tiny):
    r = run(tiny)
    assert r.objective == pytest.approx(11.0)
    assert capacity(r) == pytest.approx({("f", "A"): 10.0})
    block = r.built.block("resilience")
    assert len(block.resilience_min_hosts) == len(block.resilience_max_share) == len(
        block.resilience_n1_cover) == 0


def test_min_hosts(tiny):
    # Two hosts. A + B: 1 + 2 fixed, B builds its minimum scale 2 (2/unit), A the other 8:
    # 3 + 8 + 4 = 15. A + C: 4 + 8 + 6 = 18. So A 8, B 2: 15.
    r = run(tiny, min_hosts="2")
    assert r.objective == pytest.approx(15.0)
    assert capacity(r) == pytest.approx({("f", "A"): 8.0, ("f", "B"): 2.0})
    res = r.tables["regions"].set_index(["region", "resource"])
    assert res.at[("(national)", "min_hosts:f"), "used"] == 2
    assert res.at[("(national)", "min_hosts:f"), "limit_value"] == 2


def test_max_share_half(tiny):
    # No region above 50% of Q = 10: A 5 + B 5 = 3 + 5 + 10 = 18 (A 5 + C 5: 24; three
    # hosts A 5, B 3, C 2: 6 + 5 + 6 + 6 = 23; building more than 10 only adds capex).
    r = run(tiny, max_share="0.5")
    assert r.objective == pytest.approx(18.0)
    assert capacity(r) == pytest.approx({("f", "A"): 5.0, ("f", "B"): 5.0})


def test_max_share_forty_percent_needs_three_hosts(tiny):
    # At most 4 of 10 each: A 4, B 4, C 2 (its minimum scale): 6 + 4 + 8 + 6 = 24.
    # Q = 11 would loosen the cap to 4.4 but costs more (A 4.4, B 4.4, C 2.2: 25.8).
    r = run(tiny, max_share="0.4")
    assert r.objective == pytest.approx(24.0)
    assert capacity(r) == pytest.approx({("f", "A"): 4.0, ("f", "B"): 4.0, ("f", "C"): 2.0})


def test_n1_cover_builds_redundant_capacity(tiny):
    # Losing any host, the others keep 60% of the requirement 10 = 6. Two hosts A, B:
    # q_B >= 6 and q_A >= 6, so Q = 12: 3 + 6 + 12 = 21. Three hosts: pairwise sums >= 6,
    # total >= 10, each >= 2: best A 4, B 4, C 2 = 6 + 4 + 8 + 6 = 24. A + C: 4 + 6 + 18.
    r = run(tiny, n1_cover="0.6")
    assert r.objective == pytest.approx(21.0)
    assert capacity(r) == pytest.approx({("f", "A"): 6.0, ("f", "B"): 6.0})
    res = r.tables["regions"].set_index(["region", "resource"])
    # without A, B holds 6 against the 6 asked
    assert res.at[("A", "n1_cover:f"), "used"] == pytest.approx(6.0)
    assert res.at[("A", "n1_cover:f"), "limit_value"] == pytest.approx(6.0)


def test_full_n1_cover_doubles_capacity(tiny):
    # n1_cover 1: each host alone covers 10. A 10 + B 10: 3 + 10 + 20 = 33; three hosts:
    # pairwise sums >= 10, LP optimum 30 in capex + 6 fixed = 36.
    r = run(tiny, n1_cover="1")
    assert r.objective == pytest.approx(33.0)
    assert capacity(r) == pytest.approx({("f", "A"): 10.0, ("f", "B"): 10.0})


CHAIN_INDUSTRIES = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,critical,n1_cover
u,Upstream,0,2,1,1,1,true,0.5
d,Downstream,10,0,1,1,1,,
"""
CHAIN_SITES = """
industry,region,fixed_cost,unit_capex,allowed
u,A,1,1,
u,B,2,2,
u,C,,,false
d,B,,,false
d,C,,,false
"""


def test_n1_covers_what_downstream_industries_use(tiny):
    # u has no final demand; d uses 1 unit of u per unit: u's requirement is Q_d = 10.
    # d at A: 1 + 10 = 11. u must keep 50% of 10 without either host: A 5, B 5:
    # 3 + 5 + 10 = 18. Total 29 (covering final demand only, 0, would give u at A: 22).
    folder = tiny(regions=REGIONS, industries=CHAIN_INDUSTRIES, sites=CHAIN_SITES, chain="""
        upstream,downstream,ratio
        u,d,1
    """)
    r = solve(folder, FAMILIES)
    assert r.objective == pytest.approx(29.0)
    assert capacity(r) == pytest.approx({("u", "A"): 5.0, ("u", "B"): 5.0, ("d", "A"): 10.0})
    without = solve(folder, ["capacity"])
    assert without.objective == pytest.approx(22.0)


def test_pruned_sites_do_not_count_as_hosts(tiny):
    # B has no engineers (f needs 1 per unit): talent prunes f in B. Two hosts must then be
    # A and C: 1 + 3 + A 8 + C 2 (3/unit) = 18, with or without pruning.
    folder = tiny(regions=REGIONS, sites=SITES, industries=industries(min_hosts="2"),
                  talent_need="industry,talent_class,need\nf,eng,1",
                  talent_supply="region,talent_class,supply\nA,eng,100\nC,eng,100")
    r = solve(folder, [*FAMILIES, "talent"])
    assert r.objective == pytest.approx(18.0)
    assert capacity(r) == pytest.approx({("f", "A"): 8.0, ("f", "C"): 2.0})
    assert r.built.pruned[["industry", "region"]].values.tolist() == [["f", "B"]]
    inst = allocator.load_instance(folder)
    plain = allocator.solve(allocator.build_model(inst, [*FAMILIES, "talent"], prune=False),
                            allocator.SolverOptions(mip_gap=0))
    assert plain.objective == pytest.approx(18.0)


def test_parameters_only_on_critical_industries(tiny):
    folder = tiny(regions=REGIONS, sites=SITES,
                  industries=industries(critical="", min_hosts="2", n1_cover="0.5"))
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder)
    found = {(p.file, p.row, p.column) for p in info.value.problems}
    assert found == {("industries.csv", 2, "min_hosts"), ("industries.csv", 2, "n1_cover")}
    assert "not critical" in str(info.value)


def test_out_of_range_parameters(tiny):
    folder = tiny(regions=REGIONS, sites=SITES,
                  industries=industries(min_hosts="0", max_share="0", n1_cover="1.5"))
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder)
    assert {p.column for p in info.value.problems} == {"min_hosts", "max_share", "n1_cover"}


def test_presolve_checks_name_the_row(tiny):
    # Only A and B may host, each at most 6: min_hosts 3 > 2 sites; max_share 0.3 lets them
    # hold 3 + 3 < 10; N-1 needs 100% of 10 from the other site (6).
    folder = tiny(regions=REGIONS, industries=industries(
        min_hosts="3", max_share="0.3", n1_cover="1", capacity_max="6"), sites="""
        industry,region,fixed_cost,unit_capex,allowed
        f,A,1,1,
        f,B,2,2,
        f,C,3,3,false
    """)
    inst = allocator.load_instance(folder)
    failures = run_checks(inst, FAMILIES)
    text = "\n".join(str(f) for f in failures)
    assert [f.family for f in failures] == ["resilience"] * 3, text
    assert "industries.csv row 2 (f): min_hosts asks for at least 3" in text
    assert "at most 6 of the least capacity 10" in text
    assert "the other candidate sites can build at most 6" in text
    r = allocator.solve(allocator.build_model(inst, FAMILIES), allocator.SolverOptions())
    assert r.status == "infeasible"


def test_soft_resilience_names_the_input_row(tiny):
    # min_hosts 3 with two candidate sites: softened, the plan is min_hosts 2 plus a
    # shortfall of 1 region at the penalty 100: A 8 + B 2 = 15, + 100.
    folder = tiny(regions=REGIONS, industries=industries(min_hosts="3"), sites="""
        industry,region,fixed_cost,unit_capex,allowed
        f,A,1,1,
        f,B,2,2,
        f,C,3,3,false
    """)
    built = allocator.build_model(allocator.load_instance(folder), FAMILIES,
                                  soft=["resilience"], soft_penalty=100)
    r = verified(folder, allocator.solve(built, allocator.SolverOptions(mip_gap=0)))
    assert r.objective == pytest.approx(115.0)
    assert hosted(r) == {("f", "A"), ("f", "B")}
    short = r.tables["shortfalls"]
    assert short["constraint"].tolist() == ["resilience_min_hosts"]
    assert short["message"].iloc[0].startswith("industries.csv row 2 (f, host regions")
    assert "asks for 3, can host 2: short 1 regions" in short["message"].iloc[0]


def test_verify_catches_a_broken_share(tiny, tmp_path):
    # The max_share 0.5 plan (A 5, B 5) rewritten as A 7, B 3: A holds 70% > 50%.
    from allocator.verify import verify

    folder = tiny(regions=REGIONS, sites=SITES, industries=industries(max_share="0.5"))
    out = allocator.write_results(solve(folder, FAMILIES), tmp_path / "results")
    table = out / "allocation.csv"
    text = table.read_text()
    text = text.replace("f,A,1,5.0,", "f,A,1,7.0,").replace("f,B,1,5.0,", "f,B,1,3.0,")
    table.write_text(text)
    report = verify(folder, out)
    broken = {(v.constraint, v.index) for v in report.violations}
    assert ("resilience_max_share", "f,A") in broken
