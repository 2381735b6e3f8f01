"""Fixtures shared by the tests (helpers live in support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import write_instance


@pytest.fixture
def tiny(tmp_path: Path):
    """A factory: ``tiny(toml=..., regions=..., industries=..., ...)`` -> folder."""
    counter = iter(range(1000))

    def make(toml: str = "", **tables: str) -> Path:
        return write_instance(tmp_path / f"inst{next(counter)}", toml, **tables)

    return make
