"""Which families an instance is built with: the default list (:mod:`allocator.models`),
families loaded from researchers' files, and their composition (replace by name, add, drop).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from allocator.core.family import Family
from allocator.models import default_families

__all__ = ["FamilyLoadError", "compose", "default_families", "load_family_file"]


class FamilyLoadError(Exception):
    """A family file that cannot be loaded or breaks the contract."""


def load_family_file(path: str | Path) -> Family:
    """Load a researcher's family from a Python file defining ``FAMILY``. The file's bytes
    are read once, hashed and run, so that ``source_sha256`` is the hash of the code that
    ran. Whether a file may run at all is decided before (:mod:`allocator.core.trust`)."""
    path = Path(path).resolve()
    if not path.is_file():
        raise FamilyLoadError(f"family file {path} does not exist")
    module_name = f"allocator_user_family_{path.stem}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise FamilyLoadError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        data = path.read_bytes()
        exec(compile(data, str(path), "exec"), module.__dict__)  # the bytes hashed below
    except Exception as exc:  # the researcher's code: report, don't crash
        raise FamilyLoadError(f"{path}: {type(exc).__name__}: {exc}") from exc
    family = getattr(module, "FAMILY", None)
    if not isinstance(family, Family):
        raise FamilyLoadError(f"{path} does not define FAMILY = allocator.core.family.Family(...)")
    return replace(family, source=str(path), source_sha256=hashlib.sha256(data).hexdigest())


def compose(
    base: Iterable[Family],
    extra: Iterable[Family] = (),
    without: Iterable[str] = (),
) -> list[Family]:
    """Order-preserving composition: ``extra`` families replace same-named ones or join at
    the end; names in ``without`` are dropped. Unknown names raise ``KeyError``."""
    families = {f.name: f for f in base}
    for f in extra:
        families[f.name] = f
    for name in without:
        if name not in families:
            raise KeyError(name)
        if not families[name].optional:
            raise ValueError(f"family '{name}' is always on and cannot be switched off")
        del families[name]
    return list(families.values())
