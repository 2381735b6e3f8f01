"""Bad input: every problem is reported at once, naming file, row, column and value.

One test per kind of error. ``problems`` returns the list raised in one InputError.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import allocator
from allocator.core.errors import InputError, Problem

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def problems(folder: Path, **kw: object) -> list[Problem]:
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder, **kw)  # type: ignore[arg-type]
    return info.value.problems


def find(found: list[Problem], file: str, row: int | None, column: str | None) -> Problem:
    for p in found:
        if p.file == file and p.row == row and p.column == column:
            return p
    raise AssertionError(f"no problem at {file} row {row} column {column}; got:\n"
                         + "\n".join(map(str, found)))


def test_a_valid_instance_loads(tiny):
    inst = allocator.load_instance(tiny(industries=NEV))
    assert inst.industry_ids == ["nev"] and inst.region_ids == ["A", "B"]


def test_missing_required_file(tiny):
    folder = tiny(industries=None)
    p = find(problems(folder), "industries.csv", None, None)
    assert "required file is missing" in p.message


def test_missing_toml(tmp_path):
    (tmp_path / "x").mkdir()
    p = find(problems(tmp_path / "x"), "instance.toml", None, None)
    assert "missing" in p.message


def test_missing_and_unknown_columns(tiny):
    folder = tiny(industries="""
        id,name,demand,min_scale,unit_capex,target_hosts,fixed_costs
        nev,NEV,10,4,1,1,5
    """)
    found = problems(folder)
    assert "required column is missing" in find(found, "industries.csv", 1, "fixed_cost").message
    assert "unknown column" in find(found, "industries.csv", 1, "fixed_costs").message


def test_non_numeric_nan_and_infinite_values_name_the_raw_text(tiny):
    folder = tiny(industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
        nev,NEV,ten,4,1,5,1
        chip,Chip,NaN,4,1,inf,1
    """)
    found = problems(folder)
    assert find(found, "industries.csv", 2, "demand").value == "ten"
    assert find(found, "industries.csv", 3, "demand").value == "NaN"
    assert "finite" in find(found, "industries.csv", 3, "fixed_cost").message


def test_negative_and_out_of_range_values(tiny):
    folder = tiny(industries=NEV.replace("10,4,1,5,1", "-10,4,1,5,1"), regions="""
        id,name,group,latitude,longitude,funding_budget
        A,Alpha,g1,91,0,100
        B,Beta,g2,0,1,100
    """)
    found = problems(folder)
    p = find(found, "industries.csv", 2, "demand")
    assert p.value == -10.0 and ">= 0" in p.message
    assert "<= 90" in find(found, "regions.csv", 2, "latitude").message


def test_blank_where_a_value_is_required(tiny):
    folder = tiny(industries=NEV.replace("nev,NEV,10,4,1,5,1", "nev,NEV,10,,1,5,1"))
    p = find(problems(folder), "industries.csv", 2, "min_scale")
    assert "blank" in p.message and "minimum efficient scale" in p.message


def test_whole_numbers_and_booleans(tiny):
    folder = tiny(industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,critical
        nev,NEV,10,4,1,5,2.5,perhaps
    """)
    found = problems(folder)
    assert "whole number" in find(found, "industries.csv", 2, "target_hosts").message
    assert "true or false" in find(found, "industries.csv", 2, "critical").message


def test_unknown_id_with_suggestion(tiny):
    folder = tiny(industries=NEV, talent_need="""
        industry,talent_class,need
        nve,engineers,1
    """)
    p = find(problems(folder), "talent_need.csv", 2, "industry")
    assert p.value == "nve" and "did you mean 'nev'" in p.message


def test_duplicate_keys(tiny):
    folder = tiny(industries=NEV, sites="""
        industry,region,max_capacity
        nev,A,10
        nev,B,10
        nev,A,20
    """)
    p = find(problems(folder), "sites.csv", 4, "region")
    assert "duplicate key (industry=nev, region=A): first given on row 2" in p.message


def test_row_numbers_count_blank_lines_as_a_spreadsheet_does(tiny, tmp_path):
    folder = tiny(industries=NEV)
    (folder / "regions.csv").write_text(
        "id,name,group,latitude,longitude,funding_budget\nA,Alpha,g1,0,0,1\n\nB,Beta,g2,0,1,-1\n")
    find(problems(folder), "regions.csv", 4, "funding_budget")


def test_min_scale_above_site_maximum(tiny):
    folder = tiny(industries=NEV, sites="""
        industry,region,max_capacity
        nev,B,3
    """)
    p = find(problems(folder), "sites.csv", 2, "max_capacity")
    assert "below the industry's min_scale 4" in p.message


def test_must_host_that_is_forbidden(tiny):
    folder = tiny(industries=NEV, sites="""
        industry,region,allowed,must_host
        nev,A,false,true
    """)
    assert "both required and forbidden" in find(problems(folder), "sites.csv", 2,
                                                  "must_host").message


def test_demand_disagrees_with_markets(tiny):
    folder = tiny(industries=NEV, markets="""
        industry,region,demand
        nev,A,4
        nev,B,5
    """)
    p = find(problems(folder), "industries.csv", 2, "demand")
    assert "sum of its markets.csv rows (9)" in p.message


def test_chain_cycle(tiny):
    folder = tiny(industries=NEV + "chip,Chip,0,0,1,5,1\n", chain="""
        upstream,downstream,ratio
        chip,nev,1
        nev,chip,2
    """)
    p = find(problems(folder), "chain.csv", 2, "upstream")
    assert "cycle (chip -> nev -> chip)" in p.message


def test_unknown_family_name_in_toml_and_on_the_command_line(tiny):
    folder = tiny('[families]\nwithout = ["dupliation"]\n', industries=NEV)
    found = problems(folder, without=["talnet"])
    assert "unknown family" in find(found, "instance.toml", None, "families.without").message
    assert any(p.file == "--without" and p.value == "talnet" for p in found)


def test_capacity_cannot_be_switched_off(tiny):
    p = find(problems(tiny(industries=NEV), without=["capacity"]), "instance.toml", None,
             "families.without")
    assert "always on" in p.message


def test_csv_path_outside_the_instance_folder(tiny):
    folder = tiny('[tables]\nmarkets = "../shared/markets.csv"\n', industries=NEV)
    p = find(problems(folder), "instance.toml", None, "tables.markets")
    assert "outside the instance folder" in p.message


def test_unknown_and_bad_options(tiny):
    folder = tiny("[solver]\ntime_limt = 5\nmip_gap = 2\n[objective]\nsite_exces = 1\n",
                  industries=NEV)
    found = problems(folder)
    assert "unknown option" in find(found, "instance.toml", None, "solver.time_limt").message
    assert "<= 1" in find(found, "instance.toml", None, "solver.mip_gap").message
    assert "unknown objective term" in find(found, "instance.toml", None,
                                            "objective.site_exces").message


def test_inputs_without_needs(tiny):
    folder = tiny(industries=NEV, inputs="id,name,import_cap\nli,Lithium,5\n")
    assert "needs it" in find(problems(folder), "input_need.csv", None, None).message


def test_every_problem_is_reported_at_once(tiny):
    folder = tiny('[solver]\nthreads = 0\n', industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
        nev,NEV,-1,x,1,5,1
    """, talent_need="industry,talent_class,need\nfoo,eng,1\n")
    found = problems(folder)
    assert len(found) == 4
    assert {(p.file, p.column) for p in found} == {
        ("instance.toml", "solver.threads"), ("industries.csv", "demand"),
        ("industries.csv", "min_scale"), ("talent_need.csv", "industry")}


def test_nothing_is_dropped_silently(tiny):
    # a forbidden pair with existing capacity is an error, not a quietly dropped plant
    folder = tiny(industries=NEV, sites="""
        industry,region,allowed,existing_capacity
        nev,A,false,5
    """)
    assert "existing capacity" in find(problems(folder), "sites.csv", 2,
                                       "existing_capacity").message
