"""An instance is data: family files it names run only when the user allows them.

``[families] extra = ["rule.py"]`` in instance.toml (or the settings sheet of a workbook), and
the family files a results folder's summary.json records for ``allocator verify``, are Python
code. Each command that reads them refuses (exit 2), listing each file with its SHA-256,
unless the command line allows them: ``--allow-families``, or the same file named with
``--family``. summary.json records the code that ran (path and SHA-256).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import allocator
from allocator.cli import main
from allocator.core.errors import InputError

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "max_fabs_per_group.py"
# the tiny instance of tests/test_extending.py: three fabs needed, at most two per province;
# A + B + D = 13 with the rule
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
#: the family file leaves a mark when it runs
MARK = "from pathlib import Path as _P\n_P(__file__).with_name('ran.txt').write_text('ran')\n"
TOML = ('[families]\nextra = ["rule.py"]\nwithout = ["duplication", "duplication_neighbors"]\n'
        '[max_fabs_per_group]\nlimit = 2\n')


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def folder(tiny) -> Path:
    folder = tiny(TOML, regions=REGIONS, industries=INDUSTRIES, sites=SITES)
    (folder / "rule.py").write_text(EXAMPLE.read_text() + MARK)
    (folder / "plan.csv").write_text("industry,region\nic_fab,A\nic_fab,B\nic_fab,D\n")
    return folder


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(done: Result, folder: Path) -> None:
    assert done.exit_code == 2, done.output
    rule = folder / "rule.py"
    assert str(rule.resolve()) in done.output and sha(rule) in done.output, done.output
    assert "--allow-families" in done.output
    assert not (folder / "ran.txt").exists(), "the family file ran"


COMMANDS = {
    "validate": lambda f: ["validate", f],
    "solve": lambda f: ["solve", f, "--quiet"],
    "explain": lambda f: ["explain", f],
    "families": lambda f: ["families", f],
    "evaluate": lambda f: ["evaluate", f, f / "plan.csv"],
    "convert": lambda f: ["convert", f, "--to", "xlsx", "-o", f.parent / "book.xlsx"],
    "stochastic-value": lambda f: ["stochastic-value", f],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_to_run_an_instances_family_file(command, folder):
    assert_refused(cli(*COMMANDS[command](folder)), folder)


@pytest.mark.parametrize("command", ["validate", "solve", "evaluate", "convert"])
def test_allow_families_runs_it(command, folder):
    done = cli(*COMMANDS[command](folder), "--allow-families")
    assert done.exit_code == 0, done.output
    assert (folder / "ran.txt").exists()


def test_naming_the_file_with_family_runs_it_once(folder):
    done = cli("validate", folder, "--family", folder / "rule.py")
    assert done.exit_code == 0, done.output
    assert "[on ] max_fabs_per_group" in done.output
    (folder / "ran.txt").unlink()
    # another file given with --family does not allow the instance's file
    other = folder.parent / "other.py"
    shutil.copy(EXAMPLE, other)
    assert_refused(cli("validate", folder, "--family", other), folder)


def test_the_python_api_refuses_too(folder):
    with pytest.raises(InputError) as err:
        allocator.load_instance(folder)
    assert sha(folder / "rule.py") in str(err.value)
    assert not (folder / "ran.txt").exists()
    inst = allocator.load_instance(folder, allow_families=True)
    assert inst.is_active("max_fabs_per_group")


def test_summary_records_the_code_that_ran_and_verify_asks_again(folder, tmp_path):
    out = tmp_path / "out"
    done = cli("solve", folder, "--allow-families", "-o", out, "--quiet")
    assert done.exit_code == 0, done.output
    assert "Objective 13.00" in done.output
    summary = json.loads((out / "summary.json").read_text())
    rule = str((folder / "rule.py").resolve())
    assert summary["family_files"] == [
        {"family": "max_fabs_per_group", "path": rule, "sha256": sha(folder / "rule.py")}]
    entry = next(f for f in summary["families"] if f["name"] == "max_fabs_per_group")
    assert entry["source"] == rule and entry["sha256"] == sha(folder / "rule.py")
    (folder / "ran.txt").unlink()
    # verify reads the family file from summary.json: code named by a results folder
    assert_refused(cli("verify", folder, out), folder)
    checked = cli("verify", folder, out, "--allow-families")
    assert checked.exit_code == 0, checked.output
    assert "its own check" in checked.output
    (folder / "ran.txt").unlink()
    checked = cli("verify", folder, out, "--family", folder / "rule.py")
    assert checked.exit_code == 0, checked.output
    # a family file changed since the run is named
    (folder / "rule.py").write_text((folder / "rule.py").read_text() + "\n# edited\n")
    checked = cli("verify", folder, out, "--allow-families")
    assert "changed since the run" in checked.output


def test_a_workbook_instance_runs_no_code_either(folder, tmp_path):
    book = tmp_path / "book.xlsx"
    done = cli("convert", folder, "--to", "xlsx", "-o", book, "--allow-families")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "rule.py").is_file()  # the family file travels beside the workbook
    (folder / "ran.txt").unlink()
    done = cli("validate", book)
    assert done.exit_code == 2, done.output
    assert sha(tmp_path / "rule.py") in done.output
    assert not (tmp_path / "ran.txt").exists()
    done = cli("validate", book, "--allow-families")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "ran.txt").exists()
