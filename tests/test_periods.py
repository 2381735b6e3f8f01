"""Planning periods (periods.csv): one block per period, kept hosting, growing capacity,
build lead times, data and options by period, discounted investment.

Each optimum is worked out by hand in the comments; every plan solved with ``support.solve``
is also checked by ``allocator verify`` (every period's rows, the links, the objective).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from support import solve, verified

import allocator
from allocator.core.errors import InputError, Problem
from allocator.engine.build import CORE_SYMBOLS
from allocator.engine.periods import PERIOD_SYMBOLS
from allocator.output.page import load_report_data
from allocator.output.report import write_report
from allocator.output.terminal import render_summary
from allocator.verify import verify

ROOT = Path(__file__).resolve().parent.parent
SEI = ROOT / "instances" / "china-sei"

#: one industry; only region B may host it (fixed 5, capex 1 per unit)
ONLY_B = """
industry,region,allowed
nev,A,false
"""
#: two periods of three years each, 10% a year: delta_2 = 1.1^-3 = 1/1.331
TWO = """
id,first_year,years,discount_rate
p1,2026,3,0.1
p2,2029,3,0.1
"""
DELTA2 = 1.1 ** -3


def nev(demand: float = 10, min_scale: float = 4, build_years: str = "") -> str:
    return f"""
    id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,build_years
    nev,NEV,{demand},{min_scale},1,5,1,{build_years}
    """


def rows(result: allocator.Result, period: str) -> pd.DataFrame:
    a = result.tables["allocation"]
    return a[a["period"] == period].set_index("region")


def test_capacity_grows_with_demand_and_later_investment_is_discounted(tiny):
    # Demand 10 in p1, 20 in p2, only B. Either build 10 then add 10 (15 + 10 * delta2 =
    # 15 + 7.513148 = 22.513148), or build 20 at once (25): growing is cheaper.
    folder = tiny(industries=nev(), sites=ONLY_B, periods=TWO, industries_by_period="""
        id,period,demand
        nev,p2,20
    """)
    r = solve(folder, ["capacity"])
    assert r.status == "optimal"
    assert r.objective == pytest.approx(15 + 10 * DELTA2)
    assert rows(r, "p1").loc["B", "capacity"] == pytest.approx(10)
    assert rows(r, "p2").loc["B", "capacity"] == pytest.approx(20)
    assert rows(r, "p2").loc["B", "added"] == pytest.approx(10)
    periods = r.tables["periods"].set_index("period")
    assert periods.loc["p1", "investment"] == pytest.approx(15)
    assert periods.loc["p2", "investment"] == pytest.approx(10)
    assert periods.loc["p2", "discount_factor"] == pytest.approx(DELTA2)
    assert r.summary["periods"][1]["discount_factor"] == pytest.approx(DELTA2)


def test_hosting_is_kept_and_capacity_never_shrinks(tiny):
    # Demand 10 in p1 and 2 in p2: the plant of p1 (10 at B, cost 15) still runs in p2
    # (hosted, 10) although 4 (the minimum scale) would do; p2 adds nothing. Objective 15.
    folder = tiny(industries=nev(), sites=ONLY_B, periods=TWO, industries_by_period="""
        id,period,demand
        nev,p2,2
    """)
    r = solve(folder, ["capacity"])
    assert r.objective == pytest.approx(15)
    assert rows(r, "p2").loc["B", "hosted"] == 1
    assert rows(r, "p2").loc["B", "capacity"] == pytest.approx(10)
    assert rows(r, "p2").loc["B", "investment"] == pytest.approx(0)


def test_growth_rate_compounds_from_the_first_year(tiny):
    # demand_growth 0.1 on a row for every period: p2 (three years on) needs
    # 10 * 1.1^3 = 13.31. No discount: 15 + 3.31 = 18.31.
    folder = tiny(industries=nev(), sites=ONLY_B, periods="""
        id,first_year,years
        p1,2026,3
        p2,2029,3
    """, industries_by_period="""
        id,period,demand,demand_growth
        nev,,,0.1
    """)
    r = solve(folder, ["capacity"])
    assert rows(r, "p2").loc["B", "capacity"] == pytest.approx(13.31)
    assert r.objective == pytest.approx(18.31)


def test_build_lead_time_pays_a_period_ahead(tiny):
    # A has a plant of 10 (brownfield: no setup); building takes 3 years. Demand 10 in p1,
    # 20 in p2. p1 needs nothing new (the plant). What runs in p2 is paid in the last
    # period starting 3 years before 2029: p1, undiscounted. Cheapest: A adds 10 at capex 1
    # = 10 (B would pay 5 + 10 = 15). Without the lead time it would cost 10 * delta2.
    sites = """
        industry,region,existing_capacity
        nev,A,10
    """
    folder = tiny(industries=nev(build_years="3"), sites=sites, periods=TWO,
                  industries_by_period="""
        id,period,demand
        nev,p2,20
    """)
    r = solve(folder, ["capacity"])
    assert r.objective == pytest.approx(10)
    assert rows(r, "p1").loc["A", "capacity"] == pytest.approx(10)
    assert rows(r, "p2").loc["A", "capacity"] == pytest.approx(20)
    assert rows(r, "p1").loc["A", "investment"] == pytest.approx(10)  # paid in p1
    assert rows(r, "p2").loc["A", "investment"] == pytest.approx(0)
    assert rows(r, "p2").loc["B", "hosted"] == 0
    # the same without a lead time: paid in p2, discounted
    lead_free = tiny(industries=nev(), sites=sites, periods=TWO, industries_by_period="""
        id,period,demand
        nev,p2,20
    """)
    assert solve(lead_free, ["capacity"]).objective == pytest.approx(10 * DELTA2)


def test_a_plant_that_would_start_before_the_horizon_cannot_run(tiny):
    # Build time 3 years, no plant, demand 10 in the first period: nothing may run in p1.
    folder = tiny(industries=nev(build_years="3"), periods=TWO)
    r = solve(folder, ["capacity"])
    assert r.status == "infeasible"
    assert not r.outcome.has_solution


@pytest.mark.parametrize("money", ["budget", "fund"])
def test_money_of_a_period_pays_only_for_that_period(tiny, money):
    # Demand 10 in p1, 20 in p2, only B, 10% a year. Unconstrained, growing costs
    # 15 + 10 * delta2 = 22.51 (first test). But p2 has only 4 to spend (its region budget,
    # or the national fund of p2 with no regional budget), less than the 10 that adding
    # 10 units costs. Each unit moved from p2 to p1 costs 1 - delta2 more, so p2 spends all
    # its 4 (adds 4) and p1 builds 16: 5 + 16 + 4 * delta2 = 24.005259 (within p1's 100).
    if money == "budget":
        extra = {"regions_by_period": """
            id,period,funding_budget
            B,p1,100
            B,p2,4
        """}
        regions = None
        toml = ""
    else:
        extra = {}
        regions = """
            id,name,group,latitude,longitude,funding_budget
            A,Alpha,g1,0,0,0
            B,Beta,g2,0,1,0
        """
        toml = "[funding]\nnational_fund = 100\n"
    periods = TWO if money == "budget" else """
        id,first_year,years,discount_rate,funding.national_fund
        p1,2026,3,0.1,
        p2,2029,3,0.1,4
    """
    tables = dict(industries=nev(), sites=ONLY_B, periods=periods,
                  industries_by_period="""
        id,period,demand
        nev,p2,20
    """, **extra)
    if regions:
        tables["regions"] = regions
    r = solve(tiny(toml=toml, **tables), ["capacity", "funding"])
    assert r.status == "optimal"
    assert r.objective == pytest.approx(21 + 4 * DELTA2)
    assert rows(r, "p1").loc["B", "capacity"] == pytest.approx(16)
    assert rows(r, "p2").loc["B", "capacity"] == pytest.approx(20)
    assert rows(r, "p2").loc["B", "investment"] == pytest.approx(4)


def test_terms_of_every_period_count_at_its_discount(tiny):
    # Two regions host at a target of 1 in both periods: demand 10 with site maximum 6 needs
    # A and B (fixed 5 + 5, capex 10) = 20 in p1; the second host is beyond the target in
    # both periods: site_excess 1 per period at weight 7, so 7 + 7 * delta2.
    # Objective 20 + 7 * (1 + delta2).
    folder = tiny(toml="[objective]\nsite_excess = 7\n", industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
        nev,NEV,10,0,1,5,1,6
    """, periods=TWO)
    r = solve(folder, ["capacity", "duplication"])
    assert r.objective == pytest.approx(20 + 7 * (1 + DELTA2))
    obj = r.tables["objective"].set_index("term")
    assert obj.loc["site_excess", "value"] == pytest.approx(1 + DELTA2)
    per = r.tables["period_objective"]
    assert list(per.loc[per["term"] == "site_excess", "value"]) == pytest.approx([1, 1])


def test_one_period_is_the_one_shot_model(tiny):
    # periods.csv with one period (factor 1) gives the one-shot optimum and plan.
    tables = dict(industries=nev(), sites="""
        industry,region,max_capacity,unit_capex
        nev,A,6,
        nev,B,8,2
    """)
    once = solve(tiny(**tables), ["capacity"])
    periods = solve(tiny(periods="id,first_year,years\nall,2026,10", **tables), ["capacity"])
    assert periods.objective == pytest.approx(once.objective) == pytest.approx(24)
    a = periods.tables["allocation"].drop(columns=["period", "added", "investment"])
    pd.testing.assert_frame_equal(a, once.tables["allocation"])


@pytest.mark.slow
def test_bundled_instance_with_one_period_keeps_its_documented_optimum(tmp_path):
    # The bundled instance with one period of factor 1: the documented optimum and number
    # of hosts per industry of expected.toml.
    folder = tmp_path / "sei"
    shutil.copytree(SEI, folder)
    (folder / "periods.csv").write_text("id,first_year,years\nall,2026,10\n")
    expected = tomllib.loads((SEI / "expected.toml").read_text())
    inst = allocator.load_instance(folder)
    r = allocator.solve(allocator.build_model(inst),
                        allocator.SolverOptions(mip_gap=expected["mip_gap"]))
    assert r.objective == pytest.approx(expected["objective"], rel=1e-6)
    a = r.tables["allocation"]
    hosts = a[a["hosted"] == 1].groupby("industry").size().to_dict()
    assert hosts == expected["hosts"]
    verified(folder, r)


def test_verify_finds_capacity_that_shrinks(tiny, tmp_path):
    folder = tiny(industries=nev(), sites=ONLY_B, periods=TWO, industries_by_period="""
        id,period,demand
        nev,p2,20
    """)
    r = solve(folder, ["capacity"])
    out = allocator.write_results(r, tmp_path / "results")
    alloc = pd.read_csv(out / "allocation.csv")
    alloc.loc[(alloc["period"] == "p1") & (alloc["region"] == "B"), "capacity"] = 25
    alloc.to_csv(out / "allocation.csv", index=False)
    report = verify(folder, out)
    assert not report.ok
    found = {(v.constraint, v.index) for v in report.violations}
    assert ("period_capacity_kept", "p2: nev,B") in found


# ---------------------------------------------------------------- bad period data
def problems(folder: Path) -> list[Problem]:
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder)
    return info.value.problems


def at(found: list[Problem], file: str, row: int | None, column: str) -> Problem:
    for p in found:
        if p.file == file and p.row == row and p.column == column:
            return p
    raise AssertionError("\n".join(map(str, found)))


def test_bad_periods_are_named_by_file_row_column_value(tiny):
    folder = tiny(industries=nev(), periods="""
        id,first_year,years,discount_rate,discount_factor
        p1,2026,3,0.1,
        p2,2030,3,,
        p3,2033,0,0.1,0.9
    """, industries_by_period="""
        id,period,demand,demand_growth
        nev,p2,20,0.1
        car,p2,5,
    """)
    found = problems(folder)
    gap = at(found, "periods.csv", 3, "first_year")
    assert gap.value == 2030 and "starts in 2029" in gap.message
    assert at(found, "periods.csv", 4, "discount_factor").value == 0.9
    assert at(found, "periods.csv", 4, "years").value == 0
    assert "period blank" in at(found, "industries_by_period.csv", 2, "demand_growth").message
    assert at(found, "industries_by_period.csv", 3, "id").value == "car"


def test_period_tables_need_periods_and_kept_plants(tiny):
    found = problems(tiny(industries=nev(), industries_by_period="""
        id,period,demand
        nev,,20
    """))
    assert any(p.file == "periods.csv" and "industries_by_period.csv needs it" in p.message
               for p in found)
    found = problems(tiny(toml='[sites]\nbrownfield = "optional"\n', industries=nev(),
                          periods=TWO))
    assert at(found, "instance.toml", None, "sites.brownfield").value == "optional"


def test_a_period_option_out_of_range_is_named(tiny):
    found = problems(tiny(industries=nev(), periods="""
        id,first_year,years,funding.national_fund
        p1,2026,3,-1
    """))
    assert at(found, "periods.csv", 2, "funding.national_fund").value == -1


def test_bad_period_data_exits_2_on_the_command_line(tiny):
    folder = tiny(industries=nev(), periods="""
        id,first_year,years
        p1,2026,3
        p2,2028,3
    """)
    run = subprocess.run([sys.executable, "-m", "allocator", "solve", str(folder)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "periods.csv, row 3, column 'first_year'" in run.stdout + run.stderr


def test_the_period_model_holds_exactly_the_documented_components(tiny):
    # the root: the periods' blocks, links and objective; each block: the core of a
    # one-shot model (without its objective and soft-limit slacks) and the families
    kinds = ("variable", "constraint", "expression", "set", "block", "objective")
    inst = allocator.load_instance(tiny(industries=nev(), periods=TWO))
    built = allocator.build_model(inst, ["capacity"])

    def names(block):
        return {c.local_name for c in block.component_objects(descend_into=False)}

    root = {s.name for s in PERIOD_SYMBOLS if s.kind in kinds} - {"site_investment"}
    assert names(built.model) == root
    core = {s.name for s in CORE_SYMBOLS if s.kind in kinds} - {
        "shortfall", "objective", "bounded_terms", "objective_term_bounds"}
    assert names(built.model.period["p1"]) == core


def test_terminal_and_report_show_the_phasing(tiny, tmp_path):
    # the plan of the first test: B hosts from p1 with 10, adds 10 in p2 (cost 10, 7.51
    # discounted)
    folder = tiny(industries=nev(), sites=ONLY_B, periods=TWO, industries_by_period="""
        id,period,demand
        nev,p2,20
    """)
    r = solve(folder, ["capacity"])
    text = render_summary(r)
    assert "p2                0.7513         10.00         10.00          7.51" in text
    assert "nev             p1: +B; p2: -" in text
    assert "in the last period (p2):" in text
    out = allocator.write_results(r, tmp_path / "results")
    page, charts = write_report(out)
    html = page.read_text(encoding="utf-8")
    assert "Phasing: what is built where and when" in html
    assert any(c.name.endswith("-phasing.png") for c in charts)
    data = load_report_data(out)
    assert list(data.tables["allocation"].columns[:2]) == ["industry", "region"]  # last period
    assert data.tables["allocation"].set_index("region").loc["B", "capacity"] == 20


def test_the_first_plan_is_the_last_periods_plan_phased(tiny):
    # The first test's instance: the last period's one-shot plan hosts B with 20; phased
    # over the periods it is the optimum (10 in p1, 20 in p2), which HiGHS accepts as its
    # first incumbent. Without the heuristic there is no start.
    folder = tiny(industries=nev(), sites=ONLY_B, periods=TWO, industries_by_period="""
        id,period,demand
        nev,p2,20
    """)
    r = solve(folder, ["capacity"])
    start = r.summary["start"]
    assert start["given"] == "heuristic" and start["accepted_by_highs"]
    assert start["objective"] == pytest.approx(15 + 10 * DELTA2)
    assert r.summary["first_incumbent"]["source"] == "heuristic"
    off = solve(folder, ["capacity"], heuristic=False)
    assert off.summary["start"]["given"] is None
    assert off.objective == pytest.approx(r.objective)


def test_a_start_plan_is_refused_with_periods(tiny, tmp_path):
    folder = tiny(industries=nev(), sites=ONLY_B, periods=TWO)
    plan = tmp_path / "plan.csv"
    plan.write_text("industry,region,hosted,capacity\nnev,B,1,10\n")
    run = subprocess.run([sys.executable, "-m", "allocator", "solve", str(folder), "--start",
                          str(plan)], capture_output=True, text=True)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "--start" in run.stdout + run.stderr


@pytest.mark.parametrize("command", ["evaluate", "explain", "soft"])
def test_one_snapshot_commands_refuse_a_plan_over_time(tiny, tmp_path, command):
    # evaluate, explain and --soft answer for one snapshot: with periods they say so, exit 2
    folder = tiny(industries=nev(), sites=ONLY_B, periods=TWO)
    plan = tmp_path / "plan.csv"
    plan.write_text("industry,region,hosted,capacity\nnev,B,1,10\n")
    args = {"evaluate": ["evaluate", str(folder), str(plan)],
            "explain": ["explain", str(folder)],
            "soft": ["solve", str(folder), "--soft", "capacity"]}[command]
    run = subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                         text=True)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "period" in run.stdout + run.stderr
