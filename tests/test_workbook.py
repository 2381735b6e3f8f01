"""Excel: an instance as one workbook, converted both ways without loss; errors located as
Excel shows them (sites!D14); results.xlsx beside the CSV results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from support import hosted, solve

import allocator
from allocator.core.errors import InputError
from allocator.engine.highs import compile_model
from allocator.input.convert import folder_to_workbook, workbook_to_folder
from allocator.input.read import read_instance
from allocator.input.workbook import SettingRow, rows_to_toml, toml_to_rows

BUNDLED = Path(__file__).resolve().parent.parent / "instances" / "china-sei"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                          text=True, check=False)


def assert_same_instance(a: Path, b: Path) -> None:
    ra, rb = read_instance(a), read_instance(b)
    assert ra.settings == rb.settings
    assert {k: type(v) for k, v in _leaves(ra.settings)} == {
        k: type(v) for k, v in _leaves(rb.settings)}, "1.0 stays a float, 4 an int"
    assert set(ra.tables) == set(rb.tables)
    for name in ra.tables:
        pd.testing.assert_frame_equal(ra.tables[name], rb.tables[name], obj=name)


def _leaves(tree: dict, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for k, v in tree.items():
        if isinstance(v, dict):
            out += _leaves(v, f"{prefix}{k}.")
        else:
            out.append((prefix + k, v))
    return out


def test_the_bundled_instance_round_trips_without_loss(tmp_path):
    book = tmp_path / "china-sei.xlsx"
    folder_to_workbook(BUNDLED, book)
    assert_same_instance(BUNDLED, book)  # same settings, same tables, row for row
    back = tmp_path / "back"
    workbook_to_folder(book, back)
    assert_same_instance(BUNDLED, back)
    assert sorted(p.name for p in back.iterdir()) == sorted(
        [".allocator.json", *(p.name for p in BUNDLED.iterdir()
                              if p.name not in ("README.md", "expected.toml", "plans",
                                                "scenarios", "sweeps", "periods"))]
    )  # not instance tables (scenarios/: shocks enabled with --table, not by default;
    # periods/: the plan over time, likewise enabled with --table;
    # sweeps/: sweep files, read by allocator sweep);
    # .allocator.json: the files allocator wrote (allocator.core.outfolder)
    text = (back / "instance.toml").read_text(encoding="utf-8")
    assert "# a Beijing-design / Tianjin-fab chip firm reported ~25%" in text
    assert "# weights of the objective terms (money per unit of each term)" in text
    # the same model: identical matrices, bounds and costs (so the same solve)
    models = [allocator.build_model(allocator.load_instance(p)).model
              for p in (BUNDLED, book, back)]
    forms = [compile_model(m) for m in models]
    for form in forms[1:]:
        for attr in ("cost", "col_lower", "col_upper", "row_lower", "row_upper", "start",
                     "index", "value", "integrality"):
            np.testing.assert_array_equal(getattr(forms[0], attr), getattr(form, attr), attr)
        assert [c.name for c in form.columns] == [c.name for c in forms[0].columns]


NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,slow_return
nev,NEV,10,4,1,5,1,false
"""


def test_a_tiny_instance_solves_the_same_from_every_form(tiny, tmp_path):
    # A + B: A's budget 12 caps A at 7 (5 + 7 = 12): A = 6, B = 4 costs 24 (see the funding
    # test); the workbook and the folder written back from it give the same plan.
    folder = tiny("[funding]\nnational_fund = 0.0  # none\n", industries=NEV, sites="""
        industry,region,unit_capex
        nev,B,2
    """, regions="""
        id,name,group,latitude,longitude,funding_budget
        A,Alpha,g1,0,0,12
        B,Beta,g2,0,1,100
    """)
    book = tmp_path / "tiny.xlsx"
    folder_to_workbook(folder, book)
    workbook_to_folder(book, tmp_path / "back")
    results = [solve(p, ["capacity", "funding"]) for p in (folder, book, tmp_path / "back")]
    for r in results:
        assert r.objective == pytest.approx(24.0)
        assert hosted(r) == {("nev", "A"), ("nev", "B")}
        pd.testing.assert_frame_equal(r.tables["allocation"], results[0].tables["allocation"])


def test_settings_rows_keep_comments_lists_and_types():
    text = '''# top comment
name = "x # not a comment"  # trailing
description = """two
lines"""
[families]
without = ["duplication_neighbors", "policy"]   # off
[empty]
[objective]
site_excess = 100.0
neighbor_pairs = 20
'''
    rows = toml_to_rows(text)
    assert rows[0] == SettingRow("", comment="top comment")
    assert rows[1] == SettingRow("", "name", "x # not a comment", "trailing")
    assert rows[2].value == "two\nlines"
    assert SettingRow("families", "without", ["duplication_neighbors", "policy"], "off") in rows
    assert SettingRow("empty") in rows
    import tomllib

    again = rows_to_toml(rows)
    assert tomllib.loads(again) == tomllib.loads(text)
    assert toml_to_rows(again) == rows


def bad_workbook(tmp_path: Path) -> Path:
    book = tmp_path / "cs.xlsx"
    folder_to_workbook(BUNDLED, book)
    wb = openpyxl.load_workbook(book)
    sites = wb["sites"]
    assert sites["D1"].value == "existing_capacity"
    sites["D14"] = -5
    sites["A20"] = "nope"
    settings = wb["settings"]
    row = next(r for r in range(2, settings.max_row + 1)
               if settings.cell(r, 2).value == "site_excess")
    settings.cell(row, 3).value = "abc"
    wb["regions"]["E3"] = "=1+1"  # a formula openpyxl saves without a value
    wb.create_sheet("scratch")
    del wb["talent_need"]
    wb.save(book)
    return book


def test_every_problem_names_sheet_and_cell_as_excel_shows_them(tmp_path):
    book = bad_workbook(tmp_path)
    with pytest.raises(InputError) as err:
        allocator.load_instance(book)
    text = str(err.value)
    row = next(p.row for p in err.value.problems if "objective.site_excess" in str(p))
    for expected in [
        "cs.xlsx, sites!D14 (column 'existing_capacity'): value -5.0: must be >= 0",
        "cs.xlsx, sites!A20 (column 'industry'): value 'nope': unknown industries id",
        f"cs.xlsx, settings!C{row} (objective.site_excess): value 'abc': expected a number",
        "cs.xlsx, regions!E3: the formula =1+1 has no saved value",
        "cs.xlsx, sheet 'scratch': unknown sheet",
        "cs.xlsx, sheet 'talent_need': required sheet is missing",
    ]:
        assert expected in text, f"{expected!r} not in:\n{text}"


def test_convert_command_and_its_exit_codes(tmp_path):
    book = tmp_path / "cs.xlsx"
    done = run("convert", str(BUNDLED), "--to", "xlsx", "-o", str(book))
    assert done.returncode == 0, done.stderr
    # a workbook allocator wrote is replaced; one the user changed (or wrote) is not
    assert run("convert", str(BUNDLED), "--to", "xlsx", "-o", str(book)).returncode == 0
    book.write_bytes(book.read_bytes() + b"\0")
    assert run("convert", str(BUNDLED), "--to", "xlsx", "-o", str(book)).returncode == 2
    done = run("convert", str(book), "--to", "dir")  # default: beside, without .xlsx
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cs" / "instance.toml").is_file()
    assert run("convert", str(book), "--to", "xlsx").returncode == 2  # already a workbook
    done = run("validate", str(bad_workbook(tmp_path / "bad")))
    assert done.returncode == 2
    assert "sites!D14 (column 'existing_capacity')" in done.stderr
    done = run("convert", str(tmp_path / "bad" / "cs.xlsx"), "--to", "dir", "-o",
               str(tmp_path / "never"))
    assert done.returncode == 2 and not (tmp_path / "never").exists()


def test_solve_writes_results_xlsx_with_every_table(tiny, tmp_path):
    out = tmp_path / "out"
    done = run("solve", str(tiny(industries=NEV)), "-o", str(out))
    assert done.returncode == 0, done.stderr
    wb = openpyxl.load_workbook(out / "results.xlsx", read_only=True)
    csvs = {p.stem for p in out.glob("*.csv")}
    assert set(wb.sheetnames) == csvs | {"summary"}
    for name in csvs:
        df = pd.read_csv(out / f"{name}.csv")
        rows = list(wb[name].iter_rows(values_only=True))
        assert list(rows[0]) == list(df.columns)
        assert len(rows) - 1 == len(df), name
    summary = {k: v for k, v in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["status"] == "optimal" and summary["objective"] == pytest.approx(15.0)


def test_ids_stay_text_and_blank_rows_stay_where_they_were(tiny, tmp_path):
    # "007" must not become the number 7; the blank line 3 keeps row numbers equal, so a
    # message about row 4 points at the same fact in the CSV and in the sheet (A4).
    folder = tiny(industries=NEV.replace("nev,NEV", "007,NEV"), regions="""
        id,name,group,latitude,longitude,funding_budget
        A,Alpha,g1,0,0,1000

        B,Beta,g2,0,1,1000
    """)
    book = tmp_path / "t.xlsx"
    folder_to_workbook(folder, book)
    assert_same_instance(folder, book)
    raw = read_instance(book)
    assert list(raw.tables["regions"].index) == [2, 4]
    assert raw.tables["industries"]["id"].tolist() == ["007"]
    workbook_to_folder(book, tmp_path / "back")
    assert_same_instance(folder, tmp_path / "back")
    assert (tmp_path / "back" / "regions.csv").read_text().splitlines()[2] == ""
