"""The real command line, in a subprocess: exit codes, messages, outputs, --help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                          text=True, check=False)


def test_solve_writes_every_table_and_exits_0(tiny, tmp_path):
    folder = tiny(industries=NEV)
    out = tmp_path / "out"
    done = run("solve", str(folder), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "optimal" in done.stdout and "Objective 15.00" in done.stdout
    for name in ("allocation", "flows", "regions", "objective", "industries"):
        assert (out / f"{name}.csv").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal" and summary["objective"] == pytest.approx(15.0)
    assert set(summary["instance"]["files"]) == {
        "instance.toml", "regions.csv", "industries.csv", "talent_supply.csv",
        "talent_need.csv"}
    assert summary["software"]["solver"].startswith("HiGHS")
    assert summary["gap"] == pytest.approx(0.0, abs=1e-9)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], "temp folder left"
    checked = run("verify", str(folder), str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Verified" in checked.stdout


def test_bad_input_exits_2_and_names_file_row_column(tiny):
    folder = tiny(industries=NEV.replace("10,4,1,5,1", "10,4,x,5,1"))
    done = run("validate", str(folder))
    assert done.returncode == 2
    assert "industries.csv, row 2, column 'unit_capex': value 'x'" in done.stderr
    assert run("solve", str(folder)).returncode == 2


def test_bad_option_exits_2():
    done = run("solve", "instances/china-sei", "--gap", "2")
    assert done.returncode == 2
    assert "--gap" in done.stderr


def test_infeasible_exits_4_and_names_the_rows(tiny):
    # 10 units need 10 engineers; A has 1, B none: 9 short (relaxed in A or B alike).
    folder = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng,1\n",
                  talent_need="industry,talent_class,need\nnev,eng,1\n")
    done = run("solve", str(folder), "--without", "duplication_neighbors")
    assert done.returncode == 4
    assert "infeasible" in done.stdout
    assert "talent class eng: meeting all demand needs at least 10 people" in done.stdout
    assert "short 9 people" in done.stdout


def test_time_limit_without_a_plan_exits_3(tiny, tmp_path):
    folder = tiny(industries=NEV)
    done = run("solve", str(folder), "--time-limit", "0", "-o", str(tmp_path / "o"))
    assert done.returncode == 3, done.stdout + done.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["status"].startswith("time_limit")


def test_validate_lists_families_and_their_state(tiny):
    done = run("validate", str(tiny(industries=NEV)))
    assert done.returncode == 0
    assert "[off] markets  (off: markets.csv absent)" in done.stdout
    assert "[on ] talent" in done.stdout


def test_families_lists_and_prints_math():
    done = run("families")
    assert done.returncode == 0 and "duplication_neighbors" in done.stdout
    math = run("families", "--math", "talent")
    assert "talent_within_supply" in math.stdout and "$$" in math.stdout
    assert run("families", "--math", "nope").returncode == 2


@pytest.mark.parametrize("command", ["validate", "solve", "explain", "families", "verify",
                                     "evaluate", "compare", "import orlib-cap", "report",
                                     "convert"])
def test_help_explains_every_option_with_its_default(command):
    done = run(*command.split(), "--help")
    assert done.returncode == 0
    for line in done.stdout.split("Options:")[1].split("\n  -")[1:]:
        if line.startswith("h, --help"):
            continue
        assert "Default" in line, f"option without its default: {line}"


def test_the_readme_demo_command_works(tmp_path):
    root = Path(__file__).resolve().parent.parent
    done = run("solve", str(root / "instances" / "china-sei"), "-o", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert "nev" in done.stdout and "candidates" in done.stdout
    checked = run("verify", str(root / "instances" / "china-sei"), str(tmp_path / "r"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # the README's status-quo walk-through: evaluate the plan, compare, verify
    inst, opt, sq = root / "instances" / "china-sei", tmp_path / "r", tmp_path / "sq"
    done = run("evaluate", str(inst), str(inst / "plans" / "status-quo.csv"), "-o", str(sq),
               "--optimum", str(opt))
    assert done.returncode == 4, done.stdout + done.stderr
    assert "the plan is INFEASIBLE" in done.stdout
    assert "talent.talent_within_supply" in done.stdout
    assert "Gap to the optimum" in done.stdout and "site_excess" in done.stdout
    summary = json.loads((sq / "summary.json").read_text())
    assert summary["plan"]["feasible"] is False and summary["plan"]["pairs"] == 123
    hosts = {line.split(",")[0]: int(line.split(",")[3]) for line in
             (sq / "industries.csv").read_text().splitlines()[1:]}
    assert hosts["nev"] == 22 and hosts["ic_fab"] == 13
    assert run("compare", str(sq), str(opt)).returncode == 0
    checked = run("verify", str(inst), str(sq))
    assert checked.returncode == 0, checked.stdout
    assert "only with the shortfalls" in checked.stdout


def test_docs_cli_md_covers_every_command_and_exit_code():
    from allocator.cli import main

    text = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    for name in main.commands:
        assert f"`allocator {name}" in text, f"docs/cli.md does not document {name}"
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |", "| 5 |", "| 130 |"):
        assert code in text
