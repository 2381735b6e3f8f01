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

    # with the periods variant's talent attraction, so that every default family is active
    inst = allocator.load_instance(
        Path(__file__).parent.parent / "instances" / "china-sei",
        tables={"talent_attraction": "periods/talent_attraction.csv",
                "talent_pool": "periods/talent_pool.csv"})
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
