"""Numbers that would break the build: every numeric column has a sane range, checked at
validation (exit 2 naming the cell), and the arithmetic that derives bounds from the input
(the chain's requirement, the fewest hosts) cannot overflow.

The property test mutates one numeric cell of a bundled table at a time (NaN, infinity,
1e308, -1, the largest value allowed, blank, text) and asserts that validating and building
never ends in an internal error (exit 1): either the input is refused with problems naming
the cell, or the model builds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import allocator
from allocator.core.errors import InputError, Problem
from allocator.core.schema import LARGEST, TABLES
from allocator.engine.build import build_model

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "instances" / "china-sei"

TWO = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
cell,Cell,0,0,1,5,1
nev,NEV,10,0,1,5,1
"""


def problems(folder: Path) -> list[Problem]:
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder)
    return info.value.problems


def find(found: list[Problem], file: str, row: int, column: str) -> Problem:
    for p in found:
        if (p.file, p.row, p.column) == (file, row, column):
            return p
    raise AssertionError(f"nothing at {file} row {row} {column}:\n" + "\n".join(map(str, found)))


def test_1e308_in_chain_ratio_is_refused_at_validation(tiny):
    folder = tiny(industries=TWO, chain="upstream,downstream,ratio\ncell,nev,1e308\n")
    p = find(problems(folder), "chain.csv", 2, "ratio")
    assert p.value == 1e308 and "must be <= 1e9" in p.message
    done = subprocess.run([sys.executable, "-m", "allocator", "solve", str(folder)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert "chain.csv, row 2, column 'ratio': value 1e+308: must be <= 1e9" in done.stderr


def test_1e308_in_input_need_is_refused_at_validation(tiny):
    folder = tiny(industries=TWO, inputs="id,name,import_cap\nli,Lithium,5\n",
                  input_need="industry,input,need\nnev,li,1e308\n")
    p = find(problems(folder), "input_need.csv", 2, "need")
    assert "must be <= 1e9" in p.message and "use a larger one" in p.message


def test_every_numeric_column_documents_its_range():
    # the generated reference shows the range of every number column
    text = (ROOT / "docs" / "instance-format.md").read_text(encoding="utf-8")
    for spec in TABLES.values():
        for col in spec.columns:
            if col.kind in ("float", "int"):
                assert col.upper is not None and col.upper <= LARGEST, (spec.name, col.name)
                assert col.lower is not None, (spec.name, col.name)
    assert "| `ratio` | float | capacity/capacity | yes | no | > 0; <= 1e9 |" in text


def test_a_chain_whose_requirement_explodes_is_refused_naming_the_link(tiny):
    # every ratio within range, but a -> b -> nev at 1e9 each: G_b = 1e10, G_a = 1e19,
    # far above what the solver can handle as a site maximum (the default is G)
    folder = tiny(industries=TWO + "a,A,0,0,1,5,1\n",
                  chain="upstream,downstream,ratio\ncell,nev,1e9\na,cell,1e9\n")
    found = problems(folder)
    p = find(found, "chain.csv", 3, "ratio")
    assert "requirement" in p.message and "1e+19" in p.message and "a's" in p.message
    assert len(found) == 1, found  # cell's requirement 1e10 is within range


def test_fewest_hosts_cannot_overflow_on_a_tiny_site_maximum(tiny):
    # capacity_max 1e-300 (> 0, allowed) against demand 10: G / max = 1e301 hosts, more
    # than there are regions: the row says "all regions and one more" (infeasible, as it
    # is), instead of ceil(1e301) overflowing
    folder = tiny(industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
        nev,NEV,10,0,1,5,1,1e-300
    """)
    inst = allocator.load_instance(folder)
    built = build_model(inst)
    row = built.model.family["capacity"].capacity_fewest_hosts["nev"]
    assert row.lower == 3  # two regions A, B


# ---------------------------------------------------------------------- property test
def _numeric_cells() -> list[tuple[str, str, int, dict[str, str]]]:
    """(file relative to the instance, column, number of rows, --table) of every numeric
    column of every bundled table, shocks and priced inputs included."""
    inst = allocator.load_instance(BUNDLED)
    out = []
    for name, spec in inst.schema.items():
        for rel, tables in ((inst.files.get(name), {}),
                            (f"scenarios/{spec.file}", {name: f"scenarios/{spec.file}"})):
            if rel is None or not (BUNDLED / rel).is_file():
                continue
            if name == "inputs" and not tables:
                continue  # mutated in its priced copy (more numeric columns)
            df = pd.read_csv(BUNDLED / rel, dtype=str, keep_default_na=False)
            for col in spec.columns:
                if col.kind in ("float", "int") and col.name in df.columns:
                    extra = dict(tables)
                    if name == "shocks":  # shocks of the priced inputs need their prices
                        extra["inputs"] = "scenarios/inputs_priced.csv"
                    out.append((rel, col.name, len(df), extra))
    return out


CELLS = _numeric_cells()
MUTATIONS = ["nan", "NaN", "inf", "-inf", "1e308", "-1e308", "-1", f"{LARGEST:g}", "",
             "text", "1,5"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("mutated") / "china-sei"
    shutil.copytree(BUNDLED, target)
    return target


def _cell(rel: str, column: str) -> tuple[str, str, int, dict[str, str]]:
    return next(c for c in CELLS if c[:2] == (rel, column))


# 20 drawn examples plus the two that crashed the build before the ranges were checked
# (exit 1: OverflowError in capacity, HiGHS refusing the model): about 30 s
@settings(max_examples=20, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cell=st.sampled_from(CELLS), row=st.integers(0, 10**6),
       value=st.sampled_from(MUTATIONS))
@example(cell=_cell("chain.csv", "ratio"), row=0, value="1e308")
@example(cell=_cell("input_need.csv", "need"), row=0, value="1e308")
def test_no_mutated_number_ends_in_an_internal_error(scratch, cell, row, value):
    rel, column, rows, tables = cell
    path = scratch / rel
    original = path.read_bytes()
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[row % rows, column] = value
    df.to_csv(path, index=False)
    try:
        try:
            inst = allocator.load_instance(scratch, tables=tables)
        except InputError as exc:  # refused: every problem names its file
            assert all(p.file for p in exc.problems)
            return
        build_model(inst)  # any other exception fails the test: it would be exit 1
    finally:
        path.write_bytes(original)
