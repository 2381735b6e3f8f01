"""Formulation families, one folder each (installed as ``allocator.models``).

Each family's folder holds ``model.py`` (its mathematics in the docstring, its symbols, its
``build`` and every hook the engine calls: input rules, pre-solve checks, site bounds,
result rows, report section) and, for ``allocator verify``, ``verify.py`` (its rules
restated from the mathematics with pandas only, sharing no code with the model).

:data:`DEFAULT` names the default formulation, in build order. An instance or the command
line can drop a family by name (``[families] without``, ``--without``), replace one or add
one from a file (``--family path.py``): see ``docs/extending.md``.

Families are found by name and imported when first asked for, so that importing this
package (as ``allocator verify`` does to find a family's rules) loads no Pyomo.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from allocator.core.family import Family

#: the default formulation, in build order
DEFAULT: tuple[str, ...] = (
    "capacity",
    "chain_coordination",
    "markets",
    "talent",
    "talent_attraction",
    "funding",
    "supply",
    "duplication",
    "duplication_neighbors",
    "policy",
    "resilience",
    "pilot_bases",
    "scale_economies",
)


def default_families() -> list[Family]:
    """The families of :data:`DEFAULT`, each the ``FAMILY`` of ``allocator.models.<name>.model``."""
    return [importlib.import_module(f"allocator.models.{name}.model").FAMILY
            for name in DEFAULT]
