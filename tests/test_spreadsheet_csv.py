"""CSV files as spreadsheets really save them: Excel on Chinese Windows (GBK/GB18030),
European Excel (semicolons, decimal commas), ids with stray spaces.

Each is bad input: exit 2, the file, row, column and value named, with what to do about it;
nothing is guessed or fixed silently (a wrong decode would put wrong names in every table).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import allocator
from allocator.core.errors import InputError, Problem

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def problems(folder: Path) -> list[Problem]:
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder)
    return info.value.problems


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                          text=True, check=False)


def test_a_gbk_file_is_refused_with_how_to_save_it_as_utf8(tiny):
    folder = tiny(industries=NEV)
    text = ("id,name,group,latitude,longitude,funding_budget\n"
            "A,Alpha,g1,0,0,1000\n"
            "B,北京,华北,0,1,1000\n")
    (folder / "regions.csv").write_bytes(text.encode("gb18030"))
    found = problems(folder)
    assert len(found) == 1, found
    p = found[0]
    assert p.file == "regions.csv" and p.row == 3
    # the file, where, what it looks like, and how to fix it
    assert "not UTF-8" in p.message and "GBK/GB18030" in p.message
    assert "'B,北京,华北,0,1,1000'" in p.message  # the row as GB18030 reads it
    assert "CSV UTF-8 (Comma delimited)" in p.message
    done = run("validate", str(folder))
    assert done.returncode == 2
    assert "regions.csv, row 3:" in done.stderr and "Traceback" not in done.stderr


def test_a_utf16_file_is_refused_naming_the_encoding(tiny):
    folder = tiny(industries=NEV)
    (folder / "industries.csv").write_bytes(
        "\n".join(NEV.strip().splitlines()).replace(",", "\t").encode("utf-16"))
    p = next(p for p in problems(folder) if p.file == "industries.csv")
    assert "UTF-16" in p.message and "CSV UTF-8 (Comma delimited)" in p.message


def test_a_semicolon_file_with_decimal_commas_gets_a_hint(tiny):
    folder = tiny(industries="""
        id;name;demand;min_scale;unit_capex;fixed_cost;target_hosts
        nev;NEV;10,5;4;1;5;1
    """)
    found = [p for p in problems(folder) if p.file == "industries.csv"]
    # one problem for the file, not one per missing column
    assert len(found) == 1, found
    p = found[0]
    assert p.row == 1
    assert "delimiter ';'" in p.message and "decimal separator ','" in p.message
    assert "comma-separated" in p.message


def test_a_semicolon_file_with_decimal_points_names_only_the_delimiter(tiny):
    folder = tiny(industries="""
        id;name;demand;min_scale;unit_capex;fixed_cost;target_hosts
        nev;NEV;10.5;4;1;5;1
    """)
    p = next(p for p in problems(folder) if p.file == "industries.csv")
    assert "delimiter ';'" in p.message and "decimal separator ','" not in p.message


def test_a_decimal_comma_in_a_comma_file_gets_a_hint(tiny):
    folder = tiny(industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
        nev,NEV,"10,5",4,1,5,1
    """)
    found = problems(folder)
    assert len(found) == 1, found
    p = found[0]
    assert (p.file, p.row, p.column, p.value) == ("industries.csv", 2, "demand", "10,5")
    assert "decimal separator is '.'" in p.message and "10.5" in p.message


def test_ids_with_leading_or_trailing_spaces_are_reported(tiny):
    folder = tiny(industries=NEV.replace("nev,NEV", "nev ,NEV"),
                  talent_supply="region,talent_class,supply\n A,eng,1\n")
    found = problems(folder)
    p = next(p for p in found if p.file == "industries.csv")
    assert (p.row, p.column, p.value) == (2, "id", "nev ")
    assert "space" in p.message
    q = next(p for p in found if p.file == "talent_supply.csv")
    assert (q.row, q.column, q.value) == (2, "region", " A")
    assert str(q) == ("talent_supply.csv, row 2, column 'region': value ' A': leading or "
                      "trailing spaces in an id; remove them (ids must match exactly)")
    # a key column of plain text (talent classes are matched across files) too
    folder = tiny(industries=NEV, talent_supply="region,talent_class,supply\nA,eng ,1\n")
    p = next(p for p in problems(folder) if p.file == "talent_supply.csv")
    assert (p.row, p.column, p.value) == (2, "talent_class", "eng ")
