"""One test per exit code (docs/cli.md), each driving the real command line in a subprocess;
the interrupted runs also check that the plan they wrote is valid.

A written plan is valid when (1) every limit in regions.csv holds (the rows with a
sense; regional rows of a tradable input are information) and (2) the model with the
plan's hosting and capacities fixed is feasible (an LP completes it) at an objective no
higher than the one written: the plan, re-solved. (`allocator verify`, an independent
checker, comes with another issue.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import allocator
from allocator.engine.highs import SolverOptions, compile_model
from allocator.engine.warmstart import complete, read_plan

ROOT = Path(__file__).resolve().parent.parent
CHINA = ROOT / "instances" / "china-sei"
NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                          text=True, check=False, timeout=timeout)


def assert_valid_plan(instance: Path, out: Path) -> dict:
    summary = json.loads((out / "summary.json").read_text())
    assert summary["has_plan"], summary
    regions = pd.read_csv(out / "regions.csv")
    limits = regions[regions["sense"].notna()]  # rows without one are informative
    # a plan within its limits breaks none; each limit's room is measured its own way
    # (what is left of an "at most" limit, how far an "at least" one is exceeded)
    assert (limits["broken_by"] == 0).all(), limits[limits["broken_by"] > 0]
    assert (limits["room_left"] >= 0).all()
    built = allocator.build_model(allocator.load_instance(instance))
    hosts, capacity = read_plan(out / "allocation.csv", built)
    x, objective, status = complete(built, compile_model(built.model), hosts,
                                    SolverOptions(), capacity=capacity)
    assert x is not None, f"the written plan is not feasible: {status}"
    assert objective <= summary["objective"] * (1 + 1e-6) + 1e-6
    return summary


# ---------------------------------------------------------------------------------- 0
def test_exit_0_optimal_records_the_start(tiny, tmp_path):
    done = run("solve", str(tiny(industries=NEV)), "-o", str(tmp_path / "o"))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["start"]["heuristic"]["used"] is True
    assert summary["first_incumbent"]["source"] == "heuristic"


# ---------------------------------------------------------------------------------- 1
def test_exit_1_internal_error_in_a_family(tiny, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text(
        '"""Broken: $$x$$"""\n'
        "from allocator import Family\n"
        "def build(b, ctx):\n"
        "    raise RuntimeError('boom')\n"
        "FAMILY = Family(name='broken', summary='raises', math=__doc__, build=build)\n")
    done = run("solve", str(tiny(industries=NEV)), "--family", str(broken))
    assert done.returncode == 1
    assert "RuntimeError: boom" in done.stderr and "internal error" in done.stderr


# ---------------------------------------------------------------------------------- 2
def test_exit_2_bad_start_plan_names_file_row_column(tiny, tmp_path):
    plan = tmp_path / "plan.csv"
    plan.write_text("industry,region\nnev,Z\n")
    done = run("solve", str(tiny(industries=NEV)), "--start", str(plan))
    assert done.returncode == 2
    assert "plan.csv, row 2, column 'industry': value 'nev,Z': unknown industry or region" \
        in done.stderr


@pytest.mark.parametrize(("args", "hint"), [
    (["solve", "--soft", "duplication"], "--soft"),
    (["explain", "--relax", "nope"], "--relax"),
    (["solve", "--gap", "2"], "--gap"),
])
def test_exit_2_bad_option(tiny, args, hint):
    done = run(args[0], str(tiny(industries=NEV)), *args[1:])
    assert done.returncode == 2
    assert hint in done.stderr


# ---------------------------------------------------------------------------------- 3
def test_exit_3_no_plan_writes_the_bound_and_says_so(tiny, tmp_path):
    done = run("solve", str(tiny(industries=NEV)), "--time-limit", "0", "--no-heuristic",
               "-o", str(tmp_path / "o"))
    assert done.returncode == 3
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["status"] == "time_limit_no_plan" and not summary["has_plan"]
    assert "No plan found" in done.stdout
    assert not (tmp_path / "o" / "allocation.csv").exists()


def test_exit_3_two_second_time_limit_writes_a_valid_plan(tmp_path):
    # --time-limit covers the whole command from the process's start (the interpreter and
    # the imports, loading and building too, none of which can be interrupted): 2 s, or 4
    # times what loading and building take here on a busy machine, plus what starting a
    # process that imports the solve command takes here
    t0 = time.perf_counter()
    allocator.build_model(allocator.load_instance(CHINA))
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import allocator.cli, allocator.analysis.pipeline, "
                    "allocator.output.folder"], check=True, timeout=120)
    limit = round(max(2.0, 4.0 * build) + (time.perf_counter() - t0), 1)
    out = tmp_path / "o"
    done = run("solve", str(CHINA), "--time-limit", str(limit), "-o", str(out))
    assert done.returncode == 3, done.stdout + done.stderr
    summary = assert_valid_plan(CHINA, out)
    assert summary["status"] == "time_limit"
    assert summary["best_bound"] <= summary["objective"] and summary["gap"] > 0
    assert "time_limit" in done.stdout and "best bound" in done.stdout


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a subprocess")
def test_exit_3_ctrl_c_stops_highs_and_writes_the_plan(tmp_path):
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "allocator", "solve", str(CHINA),
                             "-o", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    # the progress line appears once HiGHS has run for a second: Ctrl-C then
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while "incumbent" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 3, seen + stderr
    assert "Ctrl-C: stopping HiGHS" in seen + stderr
    summary = assert_valid_plan(CHINA, out)
    assert summary["status"] == "interrupted"
    assert "the best plan found so far is kept" in stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o")]


# ---------------------------------------------------------------------------------- 4
def test_exit_4_infeasible_after_the_mip_explains_with_rows(tiny, tmp_path):
    # No pre-solve check catches this one: two industries only allowed in A, which may host
    # one (regions.csv row 2). HiGHS proves it; the explanation names the row.
    industries = NEV + "bat,Battery,10,4,1,5,1\n"
    regions = """
        id,name,group,latitude,longitude,funding_budget,max_industries
        A,Alpha,g1,0,0,1000,1
        B,Beta,g2,0,1,1000,
    """
    folder = tiny(industries=industries, regions=regions,
                  sites="industry,region,allowed\nnev,B,false\nbat,B,false")
    done = run("solve", str(folder), "-o", str(tmp_path / "o"))
    assert done.returncode == 4
    assert "regions.csv row 2 (A, most industries hosted): needs 2, has 1: short 1 " \
           "industries" in done.stdout
    relax = pd.read_csv(tmp_path / "o" / "relaxations.csv")
    assert relax[["family", "file", "rows"]].values.tolist() == [["policy", "regions.csv", 2]]
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["status"] == "infeasible" and summary["termination"] != "pre-solve checks"
    assert summary["explanation"]["relaxations"][0]["column"] == "max_industries"


def test_explain_exits_4_when_infeasible_and_0_when_feasible(tiny):
    infeasible = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng,1",
                      talent_need="industry,talent_class,need\nnev,eng,1")
    done = run("explain", str(infeasible))
    assert done.returncode == 4
    assert "talent_supply.csv row 2 (A, eng): needs 10, has 1: short 9 people" in done.stdout
    assert "Second view" in done.stdout
    feasible = run("explain", str(tiny(industries=NEV)))
    assert feasible.returncode == 0 and "feasible: no limit needs to be relaxed" in \
        feasible.stdout


# ------------------------------------------------------------------------------- soft
def test_soft_reports_every_shortfall(tiny, tmp_path):
    folder = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng,1",
                  talent_need="industry,talent_class,need\nnev,eng,1")
    # --gap 0: the default relative gap is 900 on an objective of 9,000,015 (the penalty),
    # enough to stop at a plan that hosts both regions, short 3 and 6
    done = run("solve", str(folder), "--soft", "talent", "--gap", "0", "-o",
               str(tmp_path / "o"))
    assert done.returncode == 0, done.stderr
    assert "Shortfalls of the softened limits (talent)" in done.stdout
    assert "talent_supply.csv row 2 (A, eng): needs 10, has 1: short 9 people" in done.stdout
    short = pd.read_csv(tmp_path / "o" / "shortfalls.csv")
    assert short["amount"].tolist() == [9.0] and short["rows"].tolist() == [2]
