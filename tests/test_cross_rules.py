"""Validation and the documents say the same: rules across columns are listed where the
tables are documented, a rule checks the value that applies, and `allocator validate` lists
every family, those switched off by `without` too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import capacity, hosted, solve

import allocator
from allocator.core.errors import InputError
from allocator.core.schema import TABLES, markdown_reference

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "instance-format.md").read_text(encoding="utf-8")

#: industry default capacity_max 3, below min_scale 4
LOW_DEFAULT = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
nev,NEV,10,4,1,5,2,3
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize("table, words", [
    ("regions", ["min_industries", "max_industries"]),
    ("industries", ["capacity_max", "min_scale", "markets.csv"]),
    ("sites", ["max_capacity", "min_scale", "existing_capacity", "must_host", "allowed"]),
    ("chain", ["cycle"]),
    ("arcs", ["`distance_km` or `unit_cost`"]),
])
def test_rules_across_columns_are_in_the_generated_reference(table, words):
    spec = TABLES[table]
    assert spec.rules, f"{table}: no rules across columns declared"
    section = DOC.split(f"### `{table}.csv`")[1].split("### ")[0]
    for rule in spec.rules:
        assert rule in section
    for word in words:
        assert any(word in rule for rule in spec.rules), (table, word)
    assert "Rules across columns" in markdown_reference()


def test_arcs_doc_says_what_arcs_do_in_markets():
    section = DOC.split("### `arcs.csv`")[1].split("### ")[0]
    assert "nearest_sites" in section and "markets" in section


def test_industry_capacity_max_below_min_scale_is_fine_when_every_site_overrides_it(tiny):
    # every candidate site (A, B) has its own max_capacity 6 >= min_scale 4, so the
    # industry's default 3 applies nowhere. By hand: demand 10 > 6 needs both hosts:
    # fixed 2 x 5 + capex 10 x 1 = 20, plus one pair of neighbours hosting the same
    # industry (A and B are 111 km apart, within duplication_neighbors' default 150 km) at
    # weight 1: 21 (target_hosts 2: no excess; capacity 10 = demand: no overcapacity)
    folder = tiny(industries=LOW_DEFAULT,
                  sites="industry,region,max_capacity\nnev,A,6\nnev,B,6\n")
    result = solve(folder)
    assert result.objective == pytest.approx(21.0)
    terms = dict(zip(result.tables["objective"]["term"],
                     result.tables["objective"]["weighted"], strict=True))
    assert terms["investment"] == pytest.approx(20.0)
    assert terms["neighbor_pairs"] == pytest.approx(1.0)
    assert hosted(result) == {("nev", "A"), ("nev", "B")}
    caps = capacity(result)
    assert sum(caps.values()) == pytest.approx(10.0)
    assert all(4 - 1e-6 <= c <= 6 + 1e-6 for c in caps.values())


def test_industry_capacity_max_below_min_scale_names_the_sites_that_use_it(tiny):
    folder = tiny(industries=LOW_DEFAULT, sites="industry,region,max_capacity\nnev,A,6\n")
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder)
    found = [p for p in info.value.problems if p.file == "industries.csv"]
    assert len(found) == 1
    p = found[0]
    assert (p.row, p.column) == (2, "capacity_max")
    assert "no new site could host in B" in p.message
    # forbidding B (or listing only A) leaves no site that uses the default
    ok = tiny(industries=LOW_DEFAULT,
              sites="industry,region,max_capacity,allowed\nnev,A,6,\nnev,B,,false\n")
    allocator.load_instance(ok)
    listed = tiny('[sites]\ncandidates = "listed"\n', industries=LOW_DEFAULT,
                  sites="industry,region,max_capacity\nnev,A,6\n")
    allocator.load_instance(listed)


def test_validate_lists_families_switched_off_by_without(tiny):
    folder = tiny('[families]\nwithout = ["policy"]\n', industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
        nev,NEV,10,4,1,5,1
    """)
    done = run("validate", str(folder), "--without", "duplication")
    assert done.returncode == 0, done.stderr
    assert "[off] duplication  (off: switched off by without" in done.stdout
    assert "[off] policy  (off: switched off by without" in done.stdout
    assert "[on ] capacity" in done.stdout
    fams = run("families", str(folder), "--without", "duplication")
    assert "[off] duplication" in fams.stdout
