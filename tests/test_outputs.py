"""Where allocator writes: an output folder or file is the user's unless allocator wrote it.

Every command that writes (solve, evaluate, generate, convert, report, import orlib-cap,
stochastic-value) follows one rule (docs/cli.md, "Where allocator writes"):

* a folder allocator wrote (its ``.allocator.json`` names every file in it, unchanged) is
  replaced atomically: written beside, then swapped in;
* any other non-empty folder, or a file allocator did not write, is refused (exit 2, named),
  unless ``--force``; with ``--force`` allocator writes its own files into it and every
  other file stays, byte for byte;
* ``-o .``, ``-o ~``, ``-o /`` and a folder holding the instance being read are refused even
  with ``--force``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from support import write_instance

import allocator
from allocator.cli import main
from allocator.output import folder as results_folder

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""
PLAN = "industry,region\nnev,A\n"
# two warehouses, two customers (tests/test_orlib.py solves it by hand)
CAP = "2 2\n 10 5.\n 10 7.\n 4\n 8 12\n 6\n 30 6\n"
SHOCKS = dict(
    industries="id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts\n"
               "cell,Cells,,0,1,10,2\n",
    sites="industry,region,max_capacity\ncell,A,20\ncell,B,10\n",
    markets="industry,region,demand\ncell,A,10\n",
    arcs="from,to,distance_km,unit_cost\nB,A,,5\n",
    shocks="scenario,probability,kind,target,factor\nbase,0.8,,,\na_offline,0.2,availability,"
           "A,0\n",
)


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One of each input a writing command reads, made once."""
    root = tmp_path_factory.mktemp("inputs")
    inst = write_instance(root / "inst", industries=NEV)
    (root / "plan.csv").write_text(PLAN)
    (root / "cap.txt").write_text(CAP)
    shocks = write_instance(root / "shocks", "[scenarios]\nunmet_penalty = 50\n", **SHOCKS)
    done = cli("solve", inst, "-o", root / "results", "--quiet")
    assert done.exit_code == 0, done.output
    done = cli("convert", inst, "--to", "xlsx", "-o", root / "inst.xlsx")
    assert done.exit_code == 0, done.output
    return {"inst": inst, "plan": root / "plan.csv", "cap": root / "cap.txt",
            "shocks": shocks, "results": root / "results", "book": root / "inst.xlsx"}


#: every command that writes a folder: argv given the inputs and the output folder, and a
#: file that command always writes
FOLDER_COMMANDS = {
    "solve": (lambda i, o: ["solve", i["inst"], "-o", o, "--quiet"], "summary.json"),
    "evaluate": (lambda i, o: ["evaluate", i["inst"], i["plan"], "-o", o], "summary.json"),
    "generate": (lambda i, o: ["generate", "--regions", "4", "--industries", "3", "-o", o],
                 "instance.toml"),
    "convert --to dir": (lambda i, o: ["convert", i["book"], "--to", "dir", "-o", o],
                         "instance.toml"),
    "import orlib-cap": (lambda i, o: ["import", "orlib-cap", i["cap"], "-o", o],
                         "instance.toml"),
    "stochastic-value --rp-output": (
        lambda i, o: ["stochastic-value", i["shocks"], "--rp-output", o], "summary.json"),
}
#: every command that writes single files: argv given the inputs and the file
FILE_COMMANDS = {
    "report -o": lambda i, f: ["report", i["results"], "-o", f],
    "convert --to xlsx": lambda i, f: ["convert", i["inst"], "--to", "xlsx", "-o", f],
    "stochastic-value -o": lambda i, f: ["stochastic-value", i["shocks"], "-o", f],
    "solve --log": lambda i, f: ["solve", i["inst"], "--log", f, "--quiet"],
}
SUFFIX = {"report -o": ".html", "convert --to xlsx": ".xlsx", "stochastic-value -o": ".json",
          "solve --log": ".log"}


def victim(folder: Path) -> dict[str, bytes]:
    """A folder of the user's: a file and a file in a subfolder. Returns their bytes."""
    (folder / "sub").mkdir(parents=True)
    (folder / "important.txt").write_bytes(b"precious\r\n\x00bytes")
    (folder / "sub" / "thesis.docx").write_bytes(b"x" * 1000)
    return snapshot(folder)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_a_folder_with_a_foreign_file_survives_every_command(command, inputs, tmp_path):
    argv, written = FOLDER_COMMANDS[command]
    out = tmp_path / "victim"
    before = victim(out)
    refused = cli(*argv(inputs, out))
    assert refused.exit_code == 2, refused.output
    assert str(out) in refused.output and "--force" in refused.output
    assert "important.txt" in refused.output
    assert snapshot(out) == before, "a refused command changed the folder"
    assert [p.name for p in tmp_path.iterdir()] == ["victim"], "something was left beside it"
    forced = cli(*argv(inputs, out), "--force")
    assert forced.exit_code == 0, forced.output
    after = snapshot(out)
    assert {k: after[k] for k in before} == before, "a foreign file changed"
    assert written in after
    assert [p.name for p in tmp_path.iterdir()] == ["victim"], "a temporary folder was left"
    # the folder is still not allocator's alone: the next run without --force is refused
    assert cli(*argv(inputs, out)).exit_code == 2
    assert {k: snapshot(out)[k] for k in before} == before


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_a_folder_allocator_wrote_is_replaced_without_force(command, inputs, tmp_path):
    argv, written = FOLDER_COMMANDS[command]
    out = tmp_path / "out"
    first = cli(*argv(inputs, out))
    assert first.exit_code == 0, first.output
    manifest = json.loads((out / ".allocator.json").read_text())
    assert set(manifest["files"]) == set(snapshot(out)) - {".allocator.json"}
    again = cli(*argv(inputs, out))
    assert again.exit_code == 0, again.output
    assert (out / written).is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "a temporary folder was left"


@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_a_file_allocator_did_not_write_is_not_overwritten(command, inputs, tmp_path):
    argv = FILE_COMMANDS[command]
    folder = tmp_path / "mine"
    before = victim(folder)
    target = folder / ("page" + SUFFIX[command])
    target.write_bytes(b"the user's own file")
    before[target.name] = target.read_bytes()
    refused = cli(*argv(inputs, target))
    assert refused.exit_code == 2, refused.output
    assert str(target) in refused.output and "--force" in refused.output
    assert snapshot(folder) == before
    forced = cli(*argv(inputs, target), "--force")
    assert forced.exit_code == 0, forced.output
    after = snapshot(folder)
    assert after[target.name] != b"the user's own file"
    assert {k: after[k] for k in before if k != target.name} == {
        k: v for k, v in before.items() if k != target.name}
    # allocator wrote it now: the next run replaces it without --force
    again = cli(*argv(inputs, target))
    assert again.exit_code == 0, again.output


def test_the_report_into_a_results_folder_keeps_it_allocators(inputs, tmp_path):
    out = tmp_path / "out"
    assert cli("solve", inputs["inst"], "-o", out, "--quiet").exit_code == 0
    assert cli("report", out).exit_code == 0
    assert (out / "report.html").is_file()
    assert cli("report", out).exit_code == 0  # its own report: replaced
    done = cli("solve", inputs["inst"], "-o", out, "--quiet")  # still allocator's folder
    assert done.exit_code == 0, done.output
    assert not (out / "report.html").exists(), "the old run's report stayed with new results"


def test_a_report_png_of_the_users_is_not_overwritten(inputs, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    png = folder / "page-capacity-heatmap.png"  # the name a chart of page.html takes
    png.write_bytes(b"my picture")
    done = cli("report", inputs["results"], "-o", folder / "page.html")
    assert done.exit_code == 2 and "page-capacity-heatmap.png" in done.output
    assert png.read_bytes() == b"my picture" and not (folder / "page.html").exists()


def test_an_edited_results_file_is_the_users(inputs, tmp_path):
    out = tmp_path / "out"
    assert cli("solve", inputs["inst"], "-o", out, "--quiet").exit_code == 0
    (out / "allocation.csv").write_text("my notes\n")
    refused = cli("solve", inputs["inst"], "-o", out, "--quiet")
    assert refused.exit_code == 2 and "allocation.csv" in refused.output
    assert "changed" in refused.output
    assert (out / "allocation.csv").read_text() == "my notes\n"


def test_a_previous_results_folder_is_replaced_atomically(inputs, tmp_path, monkeypatch):
    result = allocator.solve_instance(inputs["inst"])
    out = tmp_path / "out"
    result.tables["stale"] = result.tables["objective"]
    allocator.write_results(result, out)
    del result.tables["stale"]
    before = snapshot(out)
    # a write that fails half way (here: the workbook) leaves the previous folder as it was
    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(results_folder, "write_results_workbook", broken)
    with pytest.raises(OSError, match="disk full"):
        allocator.write_results(result, out)
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "a half-written folder was left"
    monkeypatch.undo()
    allocator.write_results(result, out)
    after = snapshot(out)
    assert "stale.csv" in before and "stale.csv" not in after  # the old run's own table
    assert set(after) == set(before) - {"stale.csv"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_an_empty_folder_is_used(inputs, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    done = cli("solve", inputs["inst"], "-o", out, "--quiet")
    assert done.exit_code == 0, done.output
    assert (out / "summary.json").is_file()


def _refused_even_with_force(done: Result, reason: str) -> None:
    assert done.exit_code == 2, done.output
    assert reason in done.output, done.output


def test_the_current_folder_is_refused_even_with_force(inputs, tmp_path, monkeypatch):
    before = victim(tmp_path / "here")
    monkeypatch.chdir(tmp_path / "here")
    for args in (["solve", inputs["inst"], "--quiet"], ["generate", "--regions", "4",
                                                        "--industries", "3"]):
        _refused_even_with_force(cli(*args, "-o", ".", "--force"), "the folder you are in")
    _refused_even_with_force(cli("solve", inputs["inst"], "-o", "..", "--force"),
                             "the folder you are in")
    assert snapshot(tmp_path / "here") == before


def test_the_home_folder_is_refused_even_with_force(inputs, tmp_path, monkeypatch):
    home = tmp_path / "home"
    before = victim(home)
    monkeypatch.setenv("HOME", str(home))
    assert Path("~").expanduser() == home
    _refused_even_with_force(cli("solve", inputs["inst"], "-o", home, "--force", "--quiet"),
                             "your home folder")
    _refused_even_with_force(cli("generate", "--regions", "4", "--industries", "3", "-o",
                                 tmp_path, "--force"), "your home folder")
    assert snapshot(home) == before


def test_the_root_folder_is_refused_even_with_force(inputs):
    _refused_even_with_force(cli("solve", inputs["inst"], "-o", "/", "--force", "--quiet"),
                             "the root folder")


def test_a_folder_holding_the_instance_is_refused_even_with_force(inputs, tmp_path):
    parent = tmp_path / "work"
    inst = shutil.copytree(inputs["inst"], parent / "inst")
    before = snapshot(parent)
    for out in (parent, inst):
        _refused_even_with_force(cli("solve", inst, "-o", out, "--force", "--quiet"),
                                 "holds the instance being read")
    book = parent / "inst.xlsx"
    assert cli("convert", inst, "--to", "xlsx", "-o", book).exit_code == 0
    _refused_even_with_force(cli("convert", book, "--to", "dir", "-o", parent, "--force"),
                             "holds the instance being read")
    _refused_even_with_force(cli("stochastic-value", inst, "-o", inst / "regions.csv",
                                 "--force"), "instance being read")
    assert {k: v for k, v in snapshot(parent).items() if k in before} == before


def test_a_file_where_a_folder_goes_is_refused(inputs, tmp_path):
    out = tmp_path / "out"
    out.write_text("a file of the user's")
    done = cli("solve", inputs["inst"], "-o", out, "--force", "--quiet")
    assert done.exit_code == 2 and "is a file" in done.output
    assert out.read_text() == "a file of the user's"


def test_the_refusal_comes_before_the_solve(inputs, tmp_path):
    out = tmp_path / "victim"
    victim(out)
    done = cli("solve", inputs["inst"], "-o", out, "--quiet")
    assert done.exit_code == 2
    assert "Objective" not in done.output, "it solved before refusing"


def test_a_log_inside_the_results_folder_is_refused(inputs, tmp_path):
    # the results folder is replaced as a whole: a log written into it would go with it
    out = tmp_path / "out"
    done = cli("solve", inputs["inst"], "-o", out, "--log", out / "highs.log", "--quiet")
    assert done.exit_code == 2 and "--log" in done.output
    assert not out.exists()
