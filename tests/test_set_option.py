"""One command line: ``--set SECTION.KEY=VALUE`` changes an instance.toml setting or an
objective weight for one run, validated like the file and recorded in summary.json; every
command that reads an instance takes ``--family``, ``--without``, ``--table`` and ``--set``;
docs/cli.md says what ``-o`` writes for each command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

import allocator
from allocator.core.errors import InputError
from allocator.input.set_values import apply_set, parse_set

ROOT = Path(__file__).resolve().parents[1]

# Two regions one degree apart; NEV: demand 10, min scale 4, capex 1 per unit, fixed 5, one
# host wanted. By hand: one host with 10 units, investment 5 + 10 = 15 (the only term that
# is not zero), so with the weight of investment at 2 the optimum is 30, the same plan.
NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                          text=True, check=False)


def test_parse_reads_values_as_toml_and_bare_words_as_text():
    got = parse_set(["solver.mip_gap=0.01", "sites.candidates=listed",
                           'units.money="CNY 100m"', "objective.investment=2",
                           'families.without=["policy"]', "sites.prune=false",
                           "units.capacity=GWh/yr"])
    assert got == {"solver.mip_gap": 0.01, "sites.candidates": "listed",
                   "units.money": "CNY 100m", "objective.investment": 2,
                   "families.without": ["policy"], "sites.prune": False,
                   "units.capacity": "GWh/yr"}


@pytest.mark.parametrize("text", ["foo", "solver=1", ".x=1", "solver.=1", "a.b.c=1",
                                  "solver.mip_gap="])
def test_parse_refuses_what_is_not_section_key_value(text):
    with pytest.raises(ValueError, match=r"SECTION\.KEY=VALUE"):
        parse_set([text])


def test_apply_returns_a_new_dict_and_leaves_the_file_settings_alone():
    settings = {"name": "x", "solver": {"seed": 1}}
    out = apply_set(settings, {"solver.mip_gap": 0.01, "objective.investment": 2.0})
    assert out == {"name": "x", "solver": {"seed": 1, "mip_gap": 0.01},
                   "objective": {"investment": 2.0}}
    assert settings == {"name": "x", "solver": {"seed": 1}}


def test_an_override_is_validated_like_the_file_and_blamed_on_set(tiny):
    folder = tiny(industries=NEV)
    inst = allocator.load_instance(folder, set_values={"objective.investment": 2})
    assert inst.weights["investment"] == 2.0
    assert inst.set_values == {"objective.investment": 2}
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder, set_values={"solver.mip_gap": 2,
                                                   "talent.nope": 1, "nosuch.key": 1})
    shown = [str(p) for p in info.value.problems]
    assert "--set solver.mip_gap=2: value 2: must be <= 1" in shown
    assert any(s.startswith("--set talent.nope=1: value 1: unknown option") for s in shown)
    assert any(s.startswith("--set nosuch.key=1: unknown section") for s in shown)
    assert all(p.file == "--set" for p in info.value.problems)


def test_solve_with_set_records_it_and_verify_applies_it(tiny, tmp_path):
    folder = tiny(industries=NEV)
    out = tmp_path / "out"
    done = run("solve", str(folder), "--set", "objective.investment=2", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "Objective 30.00" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["options"]["set"] == {"objective.investment": 2}
    assert summary["weights"]["investment"] == 2.0
    checked = run("verify", str(folder), str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "--set" in checked.stdout


def test_bad_set_exits_2_naming_set_and_the_value(tiny):
    folder = tiny(industries=NEV)
    done = run("solve", str(folder), "--set", "solver.mip_gap=2")
    assert done.returncode == 2
    assert "--set solver.mip_gap=2: value 2: must be <= 1" in done.stderr
    done = run("validate", str(folder), "--set", "foo")
    assert done.returncode == 2
    assert "Invalid value for '--set'" in done.stderr and "'foo'" in done.stderr


INSTANCE_OPTIONS = ("--family", "--without", "--table", "--set")


@pytest.mark.parametrize("command, options", [
    ("validate", INSTANCE_OPTIONS), ("solve", INSTANCE_OPTIONS),
    ("explain", INSTANCE_OPTIONS), ("evaluate", INSTANCE_OPTIONS),
    ("stochastic-value", INSTANCE_OPTIONS), ("families", INSTANCE_OPTIONS),
    ("report", ("--family", "--without", "--table")),
    ("convert", ("--family", "--without")),
])
def test_every_command_that_reads_an_instance_takes_the_instance_options(command, options):
    from allocator.cli import main

    given = {opt for p in main.commands[command].params if isinstance(p, click.Option)
             for opt in p.opts}
    missing = [o for o in options if o not in given]
    assert not missing, f"{command} lacks {missing}"


def test_evaluate_and_explain_honour_set_and_without(tiny, tmp_path):
    folder = tiny(industries=NEV)
    plan = tmp_path / "plan.csv"
    plan.write_text("industry,region,capacity\nnev,A,10\n")
    done = run("evaluate", str(folder), str(plan), "--set", "objective.investment=2",
               "--without", "duplication_neighbors", "-o", str(tmp_path / "ev"))
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(30.0)
    assert summary["options"]["set"] == {"objective.investment": 2}
    assert not any(f["name"] == "duplication_neighbors" for f in summary["families"]
                   if f["active"])
    # explain: candidates = "listed" for this run only, and no sites.csv: no region may
    # host, so demand 10 cannot be met (exit 4); the folder itself is feasible
    done = run("explain", str(folder), "--set", "sites.candidates=listed")
    assert done.returncode == 4, done.stdout + done.stderr


def test_cli_md_says_what_o_writes_for_every_command():
    from allocator.cli import main

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text.split("## What `-o` writes")[1].split("\n## ")[0]
    commands = dict(main.commands)
    commands.update({f"import {n}": c for n, c in main.commands["import"].commands.items()})
    for name, command in commands.items():
        if any("-o" in getattr(p, "opts", []) for p in command.params):
            assert f"`allocator {name}" in section, f"-o of {name} is not documented"
