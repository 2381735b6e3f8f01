"""Math and code agree: every component a family builds is documented, and every documented
component exists; docs/formulation.md and the table reference are what the code generates."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

import allocator
from allocator.engine.build import CORE_SYMBOLS
from allocator.input.families import default_families
from allocator.tools import docs

BUILT_KINDS = {"variable": pyo.Var, "constraint": pyo.Constraint,
               "expression": pyo.Expression, "set": pyo.Set, "block": pyo.Block,
               "objective": pyo.Objective}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The bundled demo instance with every default family active."""
    from pathlib import Path

    inst = allocator.load_instance(Path(__file__).parent.parent / "instances" / "china-sei")
    assert all(s.active for s in inst.families), [s.reason for s in inst.families]
    return allocator.build_model(inst)


def _components(block: pyo.Block) -> set[str]:
    return {c.local_name for c in block.component_objects(descend_into=False)
            if not c.local_name.startswith("_")}


@pytest.mark.parametrize("family", default_families(), ids=lambda f: f.name)
def test_block_holds_exactly_the_documented_components(built, family):
    documented = {s.name for s in family.symbols if s.kind in BUILT_KINDS}
    assert _components(built.block(family.name)) == documented - {"arcs", "neighbours"}


def test_core_components_are_documented(built):
    documented = {s.name for s in CORE_SYMBOLS if s.kind in BUILT_KINDS}
    assert _components(built.model) == documented


@pytest.mark.parametrize("family", default_families(), ids=lambda f: f.name)
def test_every_family_has_math_terms_and_parameters_documented(family):
    assert "$$" in family.math, "the docstring holds the family's math"
    kinds = {s.kind for s in family.symbols}
    assert "constraint" in kinds or family.terms
    for s in family.symbols:
        assert s.doc, f"{s.name} has no meaning"
    def mentioned(name: str) -> bool:
        return name in family.math or name.replace("_", r"\_") in family.math

    for t in family.terms:
        assert mentioned(t.name), f"term {t.name} is not in the math"
    for s in family.symbols:
        if s.kind in ("constraint", "variable"):
            assert mentioned(s.name), f"{s.name} does not appear in the family's math"


def test_formulation_md_is_generated_from_the_code():
    assert docs.FORMULATION.read_text(encoding="utf-8") == docs.formulation_markdown(), (
        "docs/formulation.md is stale: run python -m allocator.tools.docs")


def test_instance_format_reference_is_generated_from_the_schema():
    text = docs.INSTANCE_FORMAT.read_text(encoding="utf-8")
    assert docs.BEGIN in text and docs.END in text
    assert text == docs.instance_format_markdown(text), (
        "docs/instance-format.md is stale: run python -m allocator.tools.docs")


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every table of a Markdown text as rows of cells (GitHub's rules, the ones that make a
    table at all): a run of lines starting with ``|``; its second line the delimiter row.
    Cells are split on ``|`` outside backticks (``\\|`` escapes one)."""
    tables, run = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            run.append(line)
        elif run:
            tables.append(run)
            run = []
    return [[_cells(line) for line in table] for table in tables]


def _cells(line: str) -> list[str]:
    cells, cell, code = [], "", False
    body = line.strip()
    body = body[1:-1] if body.endswith("|") and not body.endswith("\\|") else body[1:]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            cell += "|"
            i += 2
            continue
        if ch == "`":
            code = not code
        if ch == "|" and not code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += ch
        i += 1
    return [*cells, cell.strip()]


def assert_valid_tables(text: str, where: str) -> int:
    tables = markdown_tables(text)
    for rows in tables:
        head = " | ".join(rows[0])
        assert len(rows) >= 2 and all(set(c) <= set("-: ") and "-" in c for c in rows[1]), \
            f"{where}: a table row without a header and delimiter row: {head}"
        width = len(rows[0])
        assert len(rows[1]) == width, f"{where}: delimiter of '{head}'"
        bad = [r for r in rows[2:] if len(r) != width]
        assert not bad, f"{where}: rows of '{head}' with {len(bad[0])} cells, not {width}"
    return len(tables)


def test_the_tables_of_formulation_md_are_valid_markdown():
    # option, term and setting tables each had a blank line after every row: GitHub shows
    # the header alone and each option as a paragraph of pipes
    text = docs.formulation_markdown()
    assert assert_valid_tables(text, "docs/formulation.md") > 10
    for fam in default_families():
        if fam.options:
            rows = next(t for t in markdown_tables(docs.family_markdown(fam))
                        if t[0][0] == "option")
            assert len(rows) - 2 == len(fam.options), fam.name


@pytest.mark.parametrize("family", [f.name for f in default_families()])
def test_families_math_prints_valid_markdown(family):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "allocator", "families", "--math", family],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert_valid_tables(done.stdout, f"allocator families --math {family}")
