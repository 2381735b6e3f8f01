"""allocator evaluate and compare: a given plan's cost, what it breaks, and the gap to the
optimum."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import verified

import allocator
from allocator.analysis.compare import compare, render
from allocator.analysis.evaluate import evaluate, fix_plan, read_plan
from allocator.analysis.evaluate import render as render_evaluation
from allocator.core.errors import InputError
from allocator.verify import verify

# Two regions one degree apart. NEV: demand 10, min scale 4, capex 1 per unit, fixed 5.
# Talent: 1 engineer per unit; A has 10, B has 2. Target one host region.
NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""
TALENT = {"talent_supply": "region,talent_class,supply\nA,eng,10\nB,eng,2",
          "talent_need": "industry,talent_class,need\nnev,eng,1"}


def make(tiny, **tables: str) -> Path:
    return tiny("[duplication_neighbors]\ndistance_km = 0\nsame_group = false\n",
                industries=NEV, **{**TALENT, **tables})


def plan(folder: Path, text: str) -> Path:
    path = folder / "plan.csv"
    path.write_text(text.strip() + "\n")
    return path


def test_a_plan_that_breaks_talent_comes_back_with_the_shortfall(tiny):
    # B hosts all 10 units: investment 5 + 10 = 15; talent 10 needed, 2 available at B:
    # short by 8 engineers. Objective 15 + 8 * penalty.
    folder = make(tiny)
    inst = allocator.load_instance(folder)
    ev = evaluate(inst, plan(folder, "industry,region,capacity\nnev,B,10"), penalty=1000.0)
    assert not ev.feasible
    short = ev.shortfalls
    assert short[["family", "constraint", "index"]].values.tolist() == [
        ["talent", "talent_within_supply", "B,eng"]]
    assert short["amount"].tolist() == pytest.approx([8.0])
    assert ev.result.objective == pytest.approx(15 + 8 * 1000.0)
    terms = ev.result.tables["objective"].set_index("term")["value"]
    assert terms["investment"] == pytest.approx(15.0)
    assert terms["site_excess"] == 0.0
    verified(folder, ev.result)  # the checker accounts for the shortfall
    text = render_evaluation(ev)
    assert "the plan is INFEASIBLE" in text and "[B,eng] 8 people" in text


def test_a_feasible_plan_costs_what_the_optimum_costs_when_it_is_the_optimum(tiny, tmp_path):
    # The optimum is A alone: 5 + 10 = 15. Evaluating the optimal allocation gives it back.
    folder = make(tiny)
    best = verified(folder, allocator.solve_instance(folder, allocator.SolverOptions(mip_gap=0)))
    assert best.objective == pytest.approx(15.0)
    alloc = best.tables["allocation"][["industry", "region", "hosted", "capacity"]]
    path = folder / "best.csv"
    alloc.to_csv(path, index=False)
    ev = evaluate(allocator.load_instance(folder), path)
    assert ev.feasible and not len(ev.shortfalls)
    assert ev.result.objective == pytest.approx(15.0)
    verified(folder, ev.result)


def test_a_plan_that_decides_everything_leaves_nothing_to_solve(tiny):
    # capacity only, hosts and capacity fixed by the plan: the one variable left is the
    # industry's surplus, defined by its row (whose right-hand side is the demand); the plan
    # costs 5 + 10 = 15. evaluate itself always keeps the slack of
    # capacity_covers_requirement, so the same plan there has two variables.
    folder = tiny('[families]\nwithout = ["talent", "funding", "duplication", '
                  '"duplication_neighbors", "policy"]\n', industries=NEV)
    inst = allocator.load_instance(folder)
    path = plan(folder, "industry,region,capacity\nnev,A,10")
    built = allocator.build_model(inst)
    fix_plan(built, read_plan(inst, path))
    r = allocator.solve(built)
    assert r.status == "optimal" and r.outcome.size["variables"] == 1
    assert r.objective == pytest.approx(15.0)
    verified(folder, r)
    ev = evaluate(inst, path)
    assert ev.feasible and ev.result.objective == pytest.approx(15.0)
    assert ev.result.outcome.size["variables"] == 2


def test_capacity_left_blank_is_chosen_by_the_evaluation(tiny):
    # A and B both host, capacity free: A can take 10 (talent 10), B must build its min
    # scale 4 but has 2 engineers: short by 2 whatever the split, unless A takes 6 and
    # B 4 with talent B short 2. Cheapest: A 6, B 4: 5 + 5 + 10 = 20, site excess 1.
    folder = make(tiny)
    ev = evaluate(allocator.load_instance(folder), plan(folder, "industry,region\nnev,A\nnev,B"),
                  penalty=1000.0)
    cap = ev.result.tables["allocation"].set_index("region")["capacity"]
    assert cap.to_dict() == pytest.approx({"A": 6.0, "B": 4.0})
    assert ev.shortfalls["amount"].tolist() == pytest.approx([2.0])
    terms = ev.result.tables["objective"].set_index("term")["value"]
    assert terms["investment"] == pytest.approx(20.0) and terms["site_excess"] == 1.0


def test_a_closed_plant_and_a_missing_must_host_are_reported(tiny, tmp_path):
    # B has an existing plant of 4 that the instance keeps, A must host: a plan of B alone
    # leaves out A; a plan of A alone closes B's plant. Both are evaluated and reported.
    folder = make(tiny, sites="industry,region,existing_capacity,must_host\nnev,A,,true\n"
                                "nev,B,4,")
    inst = allocator.load_instance(folder)
    ev = evaluate(inst, plan(folder, "industry,region\nnev,A"), penalty=1000.0)
    assert [(b["family"], b["rule"], b["region"]) for b in ev.broken] == [
        ("(engine)", "existing plant kept", "B")]
    assert not ev.feasible
    report = verify(folder, allocator.write_results(ev.result, tmp_path / "closed"))
    assert ("(engine)", "existing plant kept (hosts)", "nev,B") in {
        (v.family, v.constraint, v.index) for v in report.violations}
    ev = evaluate(inst, plan(folder, "industry,region\nnev,B"), penalty=1000.0)
    assert [(b["family"], b["rule"], b["region"]) for b in ev.broken] == [
        ("policy", "must_host", "A")]


def test_a_bad_plan_file_names_file_row_and_column(tiny):
    folder = make(tiny, sites="industry,region,allowed,max_capacity\nnev,B,false,")
    inst = allocator.load_instance(folder)
    path = plan(folder, """
industry,region,hosted,capacity,colour
nev,B,,,red
nev,Alpha,,,
nev,A,maybe,x,
nev,A,,,
evs,A,false,,
""")
    with pytest.raises(InputError) as err:
        read_plan(inst, path)
    assert [str(p) for p in err.value.problems] == [
        "plan.csv, row 1, column 'colour': unknown column; expected columns: industry, "
        "region, hosted, capacity, note",
        "plan.csv, row 2, column 'region': value 'B': B may not host nev: the pair is not a "
        "candidate site: sites.csv forbids it (allowed = false)",
        "plan.csv, row 3, column 'region': value 'Alpha': unknown regions id",
        "plan.csv, row 4, column 'hosted': value 'maybe': expected true or false (also "
        "accepted: 1/0, yes/no)",
        "plan.csv, row 4, column 'capacity': value 'x': expected a finite number (capacity)",
        "plan.csv, row 5, column 'region': value 'A': duplicate key (industry=nev, region=A): "
        "first given on row 4",
        "plan.csv, row 6, column 'industry': value 'evs': unknown industries id (did you mean "
        "'nev'?)",
    ]


@pytest.mark.parametrize(("row", "message"), [
    ("nev,A,true,11", "above the site's maximum capacity 10"),
    ("nev,A,true,3", "below the minimum efficient scale 4 of a new site"),
    ("nev,A,false,3", "capacity on a row with hosted = false"),
])
def test_a_capacity_the_site_cannot_have_is_bad_input(tiny, row, message):
    folder = make(tiny)
    with pytest.raises(InputError) as err:
        read_plan(allocator.load_instance(folder),
                  plan(folder, f"industry,region,hosted,capacity\n{row}"))
    assert len(err.value.problems) == 1
    assert message in str(err.value.problems[0])
    assert "plan.csv, row 2, column 'capacity'" in str(err.value.problems[0])


def test_compare_prints_terms_and_the_pairs_that_change(tiny, tmp_path):
    # A: the plan "B hosts 10" (15 + 8 talent short); B: the optimum "A hosts 10" (15).
    folder = make(tiny)
    inst = allocator.load_instance(folder)
    ev = evaluate(inst, plan(folder, "industry,region,capacity\nnev,B,10"), penalty=1000.0)
    a = allocator.write_results(ev.result, tmp_path / "plan")
    b = allocator.write_results(verified(folder, allocator.solve_instance(
        folder, allocator.SolverOptions(mip_gap=0))), tmp_path / "best")
    c = compare(a, b)
    terms = c.terms.set_index("term")
    assert terms.at["investment", "difference"] == pytest.approx(0.0)
    assert terms.at["shortfall", "a"] == pytest.approx(8000.0)
    assert terms.at["shortfall", "difference"] == pytest.approx(-8000.0)
    changes = c.changes.set_index("region")["change"].to_dict()
    assert changes == {"A": "B only", "B": "A only"}
    text = render(c)
    assert "INFEASIBLE plan" in text
    assert "nev                    1       1  A only: B: 10 -> 0; B only: A: 0 -> 10" in text


def test_the_command_line_exits_4_for_an_infeasible_plan_and_2_for_a_bad_file(tiny):
    folder = make(tiny)
    plan(folder, "industry,region,capacity\nnev,B,10")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "allocator", "evaluate", *args],
                              capture_output=True, text=True, check=False)

    done = run(str(folder), str(folder / "plan.csv"), "--penalty", "1000")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "the plan is INFEASIBLE" in done.stdout and "[B,eng] 8 people" in done.stdout
    bad = run(str(folder), str(folder / "nope.csv"))
    assert bad.returncode == 2 and "plan file does not exist" in bad.stderr
