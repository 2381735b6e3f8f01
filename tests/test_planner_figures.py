"""What a planner reads is true, in the planner's units (issue: every figure a planner reads).

The result tables, ``summary.json``, ``results.xlsx`` and the report, checked against what
the plan and the instance say: a plan that breaks limits says so everywhere, every limit row
says what the limit is and where the planner wrote it, units come from the instance, no
solver noise is written, and a results folder is as readable as any folder the user makes.
"""

from __future__ import annotations

import csv
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from support import solve

import allocator

ROOT = Path(__file__).resolve().parent.parent
CHINA = ROOT / "instances" / "china-sei"
STATUS_QUO = CHINA / "plans" / "status-quo.csv"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                          text=True, check=False, timeout=600)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The regions' own plan of the bundled instance, evaluated and reported, as a planner
    runs it: ``allocator evaluate ... -o X`` then ``allocator report X``."""
    out = tmp_path_factory.mktemp("status-quo") / "X"
    done = run("evaluate", str(CHINA), str(STATUS_QUO), "-o", str(out))
    assert done.returncode == 4, done.stdout + done.stderr  # it breaks limits
    reported = run("report", str(out))
    assert reported.returncode == 0, reported.stderr
    return out, done

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def test_a_results_folder_is_created_with_the_users_umask(tiny, tmp_path):
    # a colleague on a shared server reads the results: with umask 022 the folder is
    # rwxr-xr-x and its files rw-r--r--, as `mkdir` and any editor would make them
    result = solve(tiny(industries=NEV), ["capacity"])
    old = os.umask(0o022)
    try:
        out = allocator.write_results(result, tmp_path / "shared" / "results")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes and set(modes.values()) == {0o644}, modes
    old = os.umask(0o077)  # a private umask is kept private
    try:
        out = allocator.write_results(result, tmp_path / "private")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700


NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def test_no_solver_noise_in_the_written_tables(evaluated):
    # -0.0, 5.68e-14, 4.999999999 and 14-decimal distances are the solver's (and the
    # haversine's) noise: every number is written to 6 decimals (1e-6, the solver's
    # feasibility tolerance), so a value that close to zero or to a whole number is that
    # number, and the independent checker still accepts the plan
    out, _ = evaluated
    noisy = []
    for path in sorted(out.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            for line, row in enumerate(csv.reader(fh), start=1):
                for cell in row:
                    if not NUMBER.match(cell):
                        continue
                    decimals = len(cell.partition(".")[2])
                    value = float(cell)
                    if (cell.startswith("-") and value == 0) or "e" in cell.lower() \
                            or decimals > 6 or (value != round(value)
                                                and abs(value - round(value)) < 1e-6):
                        noisy.append(f"{path.name}:{line}: {cell}")
    assert noisy == []
    checked = run("verify", str(CHINA), str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_excel_cells_have_number_formats(evaluated):
    # thousands separators and fixed decimals, not General: 26731.15 reads 26,731.15
    out, _ = evaluated
    wb = openpyxl.load_workbook(out / "results.xlsx")
    general = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    fmt = cell.number_format
                    if not fmt.startswith("#,##0"):
                        general.append(f"{ws.title}!{cell.coordinate} {cell.value} {fmt}")
    assert general == []
    objective = {r[0].value: r for r in wb["objective"].iter_rows(min_row=2)}
    cell = objective["investment"][-1]
    assert cell.number_format == "#,##0.00", "money: two decimals"
    hosts = wb["industries"]["D2"]  # hosts: a count
    assert wb["industries"]["D1"].value == "hosts" and hosts.number_format == "#,##0"


def test_units_come_from_the_instance(evaluated):
    # the demo counts talent in thousands of people ([units] talent), money in CNY 100m
    # ([units] money), capacity in each industry's capacity_unit and each key input in its
    # inputs.csv unit: tables, shadow-price units and the terminal say so, never "money",
    # "people", "capacity" or "input units"
    out, done = evaluated
    objective = pd.read_csv(out / "objective.csv")
    assert objective["unit"].str.startswith("CNY 100m").all(), objective["unit"].tolist()
    assert "CNY 100m per region" in set(objective["unit"])
    regions = pd.read_csv(out / "regions.csv")
    talent = regions[regions["family"] == "talent"]
    assert set(talent["unit"]) == {"thousand people"}
    supply = regions[regions["resource"] == "input:green_power"]
    assert set(supply["unit"]) == {"TWh/yr"}
    short = pd.read_csv(out / "shortfalls.csv")
    units = short.groupby("family")["unit"].agg(set).to_dict()
    assert units["talent"] == {"thousand people"}
    assert units["supply"] == {"TWh/yr", "tools"}  # green power; lithography
    chain = short[short["family"] == "chain_coordination"].set_index("index")["unit"]
    assert chain["li_materials,tianjin"] == "10k t cathode/yr"
    assert chain["ic_design,wuhan"] == "design units"
    for word in (r"(?<!thousand) people", " capacity in all", " input units", " money"):
        assert not re.search(word, done.stdout), word
    assert "thousand people" in done.stdout


def test_shadow_prices_are_in_money_per_unit_of_the_limit(tiny):
    # talent counted in thousands: one more thousand engineers in A saves 4 (see
    # tests/test_shadow_prices.py for the arithmetic); its unit says so
    folder = tiny('[units]\nmoney = "CNY 100m"\ntalent = "thousand people"\n',
                  industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_unit
        nev,NEV,10,0,1,0,2,k cars
    """, sites="""
        industry,region,unit_capex
        nev,B,3
    """, talent_supply="""
        region,talent_class,supply
        A,engineers,3
        B,engineers,100
    """, talent_need="""
        industry,talent_class,need
        nev,engineers,0.5
    """)
    r = solve(folder, ["capacity", "talent"])
    reg = r.tables["regions"].set_index(["region", "resource"])
    assert reg.at[("A", "talent:engineers"), "unit"] == "thousand people"
    assert reg.at[("A", "talent:engineers"), "shadow_price_unit"] == (
        "CNY 100m per thousand people")
    assert reg.at[("(national)", "demand:nev"), "shadow_price_unit"] == "CNY 100m per k cars"


def test_every_limit_row_says_what_the_limit_is_and_where_the_planner_wrote_it(evaluated):
    # regions.csv is read by planners: each row names its limit in words and its input file
    # and row; "room left" is never negative, and a limit the plan breaks is "broken by" the
    # amount shortfalls.csv gives; no Pyomo component names
    out, _ = evaluated
    regions = pd.read_csv(out / "regions.csv", keep_default_na=False, na_values=[""])
    assert "slack" not in regions.columns and "constraint" not in regions.columns
    for column in ("limit", "sense", "used", "limit_value", "room_left", "broken_by", "source",
                   "model_rows"):
        assert column in regions.columns, column
    text = (out / "regions.csv").read_text(encoding="utf-8")
    assert "family[" not in text, "no Pyomo component names"
    limits = regions[regions["sense"].isin(["at most", "at least"])]
    assert (limits["room_left"] >= 0).all() and (limits["broken_by"] >= 0).all()
    assert ((limits["room_left"] == 0) | (limits["broken_by"] == 0)).all()
    assert limits["limit"].notna().all() and limits["source"].notna().all()
    # a tradable input has no regional limit (imports and other regions' supply cover it):
    # Beijing's 30 lithography tools against a regional supply of 0 is no shortfall
    litho = regions.set_index(["region", "resource"]).loc[("beijing", "input:lithography")]
    assert litho["sense"] != litho["sense"] or litho["sense"] == "", "not a limit"
    assert pd.isna(litho["room_left"]) and pd.isna(litho["broken_by"])
    assert "national" in litho["note"]
    # talent: the row of talent_supply.csv as a spreadsheet shows it, and what it is short
    supply = pd.read_csv(CHINA / "talent_supply.csv")
    row = supply.index[(supply["region"] == "shenzhen")
                       & (supply["talent_class"] == "materials_chem")][0] + 2
    talent = regions.set_index(["region", "resource"]).loc[("shenzhen",
                                                            "talent:materials_chem")]
    assert talent["source"] == f"talent_supply.csv row {row}"
    assert talent["sense"] == "at most" and "shenzhen, materials_chem" in talent["limit"]
    short = pd.read_csv(out / "shortfalls.csv").set_index(["constraint", "index"])
    assert talent["broken_by"] == pytest.approx(
        short.at[("talent_within_supply", "shenzhen,materials_chem"), "amount"], abs=1e-6)
    assert talent["room_left"] == 0
    # a floor met with room to spare: N-1 cover of battery materials without Ningbo
    cover = regions.set_index(["region", "resource"]).loc[("ningbo", "n1_cover:li_materials")]
    assert cover["sense"] == "at least" and cover["broken_by"] == 0
    assert cover["room_left"] == pytest.approx(cover["used"] - cover["limit_value"])
    assert cover["room_left"] > 0 and cover["source"].startswith("industries.csv row ")
    assert cover["model_rows"] == "resilience.resilience_n1_cover[li_materials,ningbo]"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "family[" not in page


def test_a_plan_that_breaks_limits_says_so_everywhere(evaluated):
    # the regions' own plan breaks limits: summary.json, results.xlsx, the terminal and the
    # report's banner and headline say so, with how many; none calls it "optimal" with a
    # gap, and no shadow price (the re-solve's duals price the 1e6 shortfall penalty) is
    # presented as a saving
    out, done = evaluated
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    short = pd.read_csv(out / "shortfalls.csv")
    broken = len(short) + len(summary["plan"]["broken"])
    assert broken > 0 and summary["plan"]["feasible"] is False
    assert summary["status"] == "breaks_limits"
    assert summary["limits_broken"] == broken
    assert summary["verdict"].startswith(f"the plan breaks {broken} limits")
    assert summary["shadow_prices"]["status"] == "not_priced"
    assert f"the plan is INFEASIBLE: it breaks {broken} limits" in done.stdout
    book = openpyxl.load_workbook(out / "results.xlsx", read_only=True)
    cells = {k: v for k, v in book["summary"].iter_rows(min_row=2, values_only=True)}
    assert cells["status"] == "breaks_limits" and cells["limits_broken"] == broken
    regions = pd.read_csv(out / "regions.csv")
    assert regions["shadow_price"].isna().all()
    page = (out / "report.html").read_text(encoding="utf-8")
    header = page[page.index("<header>"):page.index("</header>")]
    headline = page[page.index('<section id="headline">'):]
    headline = headline[:headline.index("</section>")]
    for part in (header, headline):
        assert f"BREAKS {broken} limits" in part
        assert "optimal" not in part.lower() and "gap 0.000%" not in part
        assert "271,677,304" not in part, "the penalty is no cost"
        assert "35,204.34" in part, "the cost with the broken limits lifted"
    assert "would save" not in page
    resources = page[page.index('<section id="resources">'):]
    resources = resources[:resources.index("</section>")]
    assert "1,000,000" not in resources and "No shadow prices: not priced" in resources


def test_a_softened_solve_that_needs_shortfalls_says_so(tiny, tmp_path):
    # one engineer for a demand of 10 that needs 10: the softened plan is short 9 engineers
    folder = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng,1",
                  talent_need="industry,talent_class,need\nnev,eng,1")
    done = run("solve", str(folder), "--soft", "talent", "--gap", "0", "-o",
               str(tmp_path / "o"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("tiny: the plan BREAKS 1 limit")
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "breaks_limits" and summary["limits_broken"] == 1
    assert summary["solve_status"] == "optimal"


def test_how_to_reproduce_gives_the_exact_command_line(tiny, tmp_path):
    # the command as typed, and the folder it was typed in: copy, paste, same plan
    folder = tiny(industries=NEV)
    out = tmp_path / "out"
    args = ["solve", str(folder), "-o", str(out), "--gap", "0.001", "--quiet"]
    done = run(*args)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    line = "allocator " + " ".join(args)
    assert summary["command"]["line"] == line
    assert summary["command"]["cwd"] == os.getcwd()
    assert run("report", str(out)).returncode == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    reproduce = page[page.index('<section id="reproduce">'):]
    assert line in reproduce and os.getcwd() in reproduce
