"""The walk-through of docs/extending.md: a researcher's family joins from one file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from support import hosted, verified

import allocator
from allocator.input.families import load_family_file
from allocator.output.report import write_report
from allocator.output.terminal import render_summary
from allocator.verify import verify

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "max_fabs_per_group.py"

# A, B, C in province g1, D in g2. Demand 30, at most 10 per site: three hosts.
# Fixed cost A 1, B 2, C 3, D 10, no capex. Without the rule: A + B + C = 6.
# With at most two fabs per province: A + B + D = 13.
REGIONS = """
id,name,group,latitude,longitude,funding_budget
A,Alpha,g1,30,110,100
B,Beta,g1,30,111,100
C,Gamma,g1,30,112,100
D,Delta,g2,40,100,100
"""
INDUSTRIES = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
ic_fab,IC fab,30,0,0,1,3,10
"""
SITES = """
industry,region,fixed_cost
ic_fab,B,2
ic_fab,C,3
ic_fab,D,10
"""


def make(tiny, toml: str = ""):
    return tiny(toml, regions=REGIONS, industries=INDUSTRIES, sites=SITES)


def test_without_the_rule(tiny):
    folder = make(tiny)
    r = verified(folder, allocator.solve_instance(folder, families=["capacity"]))
    assert r.objective == pytest.approx(6.0)


def test_the_family_joins_from_the_api(tiny):
    folder = make(tiny)
    r = allocator.solve_instance(folder, families=["capacity", "max_fabs_per_group"],
                                 extra_families=[EXAMPLE])
    assert r.objective == pytest.approx(13.0)
    assert hosted(r) == {("ic_fab", "A"), ("ic_fab", "B"), ("ic_fab", "D")}
    verified(folder, r)  # the family's own verify_rules restate the rule for allocator verify


def test_verify_runs_the_familys_verify_rules_and_catches_a_broken_rule(tiny, tmp_path):
    # Move D's fab to C: g1 then has three fabs (A, B, C) against a limit of two.
    folder = make(tiny)
    r = allocator.solve_instance(folder, families=["capacity", "max_fabs_per_group"],
                                 extra_families=[EXAMPLE])
    out = allocator.write_results(r, tmp_path / "out")
    alloc = pd.read_csv(out / "allocation.csv").set_index("region")
    alloc.loc["C", ["hosted", "capacity"]] = [1, 10.0]
    alloc.loc["D", ["hosted", "capacity"]] = [0, 0.0]
    alloc.reset_index().to_csv(out / "allocation.csv", index=False)
    report = verify(folder, out)
    assert not report.ok
    assert report.checked["max_fabs_per_group"].startswith("its own verify_rules")
    broken = [(v.family, v.constraint, v.index, v.amount) for v in report.violations]
    assert broken == [("max_fabs_per_group", "max_fabs_per_group_limit", "g1", 1.0)]
    # investment 1 + 2 + 3 = 6 instead of 13: the written objective no longer matches
    assert report.objective_recomputed == pytest.approx(6.0)
    assert not report.objective_agrees


def test_the_family_brings_its_result_rows_report_section_and_summary_line(tiny, tmp_path):
    """From the same one file: its rows of the results (report_rows: fabs_per_group.csv),
    a line after the solve and a section of the HTML report (report_parts)."""
    folder = make(tiny)
    r = allocator.solve_instance(folder, families=["capacity", "max_fabs_per_group"],
                                 extra_families=[EXAMPLE])
    # the optimum hosts A, B (g1) and D (g2); the limit is the default 2
    assert r.tables["fabs_per_group"].to_dict("records") == [
        {"group": "g1", "industry": "ic_fab", "hosts": 2, "limit": 2},
        {"group": "g2", "industry": "ic_fab", "hosts": 1, "limit": 2}]
    assert ("Fab hosts per province group (fabs_per_group.csv): g1 2 of at most 2, g2 1 of "
            "at most 2") in render_summary(r).splitlines()
    out = allocator.write_results(r, tmp_path / "out")
    assert (out / "fabs_per_group.csv").is_file()
    # the report adds a researcher's section only for a family it is given (it runs no
    # family file by itself); placed after Duplication, as the family asks
    page, _ = write_report(out, tmp_path / "with.html", families=[load_family_file(EXAMPLE)])
    html = page.read_text()
    assert '<h2>Fabs per province group</h2>' in html
    assert (html.index("<h2>Duplication</h2>") < html.index("<h2>Fabs per province group</h2>")
            < html.index("<h2>How to reproduce this result</h2>"))
    page, _ = write_report(out, tmp_path / "without.html")
    assert "Fabs per province group" not in page.read_text()
    done = subprocess.run([sys.executable, "-m", "allocator", "report", str(out), "-o",
                           str(tmp_path / "cli.html"), "--family", str(EXAMPLE)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "<h2>Fabs per province group</h2>" in (tmp_path / "cli.html").read_text()


def test_a_family_without_verify_rules_is_not_verified(tiny, tmp_path):
    unchecked = tmp_path / "unchecked.py"
    unchecked.write_text(EXAMPLE.read_text().replace("    verify_rules=verify_rules,\n", ""))
    folder = make(tiny)
    r = allocator.solve_instance(folder, families=["capacity", "max_fabs_per_group"],
                                 extra_families=[unchecked])
    report = verify(folder, allocator.write_results(r, tmp_path / "out"))
    assert not report.ok and report.objective_agrees and not report.violations
    assert "max_fabs_per_group" in report.unchecked
    assert "NOT CHECKED max_fabs_per_group" in report.render()


def test_the_family_joins_from_instance_toml_with_its_options(tiny):
    folder = make(tiny, '[families]\nextra = ["max_fabs.py"]\n[max_fabs_per_group]\nlimit = 1\n')
    shutil.copy(EXAMPLE, folder / "max_fabs.py")
    inst = allocator.load_instance(folder)
    assert inst.is_active("max_fabs_per_group")
    # limit 1: one fab in g1 (A) and D, but 3 hosts are needed and only 2 are allowed
    r = allocator.solve(allocator.build_model(inst, ["capacity", "max_fabs_per_group"]))
    assert r.status == "infeasible"
    assert "capacity + max_fabs_per_group" in r.outcome.message


def test_the_familys_presolve_check_answers_before_any_solve(tiny):
    # limit = 1: at most one fab per group. The largest site of g1 (A, B, C: 10 each) and of
    # g2 (D: 10) build 20 < demand 30, so the family's pre-solve check proves that no plan
    # exists: allocator solve skips HiGHS and exits 4 with the family's sentence.
    sentence = ("ic_fab: needs at least 30 unit, but with at most 1 host region per group "
                "(instance.toml [max_fabs_per_group] limit) its sites can build at most 20")
    toml = '[families]\nextra = ["max_fabs.py"]\n[max_fabs_per_group]\nlimit = 1\n'

    def solve(family_file: str) -> tuple[subprocess.CompletedProcess, dict]:
        folder = make(tiny, toml)
        (folder / "max_fabs.py").write_text(family_file)
        out = folder / "out"
        done = subprocess.run(
            [sys.executable, "-m", "allocator", "solve", str(folder), "--without",
             "duplication", "--without", "duplication_neighbors", "-o", str(out)],
            capture_output=True, text=True, check=False)
        return done, json.loads((out / "summary.json").read_text())

    done, summary = solve(EXAMPLE.read_text())
    assert done.returncode == 4, done.stdout + done.stderr
    assert summary["termination"] == "pre-solve checks"
    assert sentence in done.stdout
    assert summary["explanation"]["checks"] == [{"family": "max_fabs_per_group",
                                                 "message": sentence}]
    # the same file without the hook: still no plan (HiGHS finds it infeasible), but nothing
    # in allocator knew the family's reason before the solve
    done, summary = solve(EXAMPLE.read_text().replace(
        "    presolve_checks=presolve_checks,\n", ""))
    assert done.returncode == 4, done.stdout + done.stderr
    assert summary["termination"] != "pre-solve checks"
    assert sentence not in done.stdout and summary["explanation"]["checks"] == []


def test_the_family_joins_from_the_command_line(tiny):
    folder = make(tiny)
    out = subprocess.run(
        [sys.executable, "-m", "allocator", "solve", str(folder), "--family", str(EXAMPLE),
         "--without", "duplication", "--without", "duplication_neighbors", "-o",
         str(folder / "out")], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "Objective 13.00" in out.stdout
    checked = subprocess.run(
        [sys.executable, "-m", "allocator", "verify", str(folder), str(folder / "out")],
        capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "max_fabs_per_group" in checked.stdout and "its own verify_rules" in checked.stdout
    families = subprocess.run(
        [sys.executable, "-m", "allocator", "families", str(folder), "--family",
         str(EXAMPLE)], capture_output=True, text=True, check=True).stdout
    assert "[on ] max_fabs_per_group" in families
