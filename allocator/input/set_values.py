"""``--set SECTION.KEY=VALUE``: an ``instance.toml`` setting or objective weight changed for
one run, without copying the instance folder.

:func:`parse_set` reads the command line's text into ``{"SECTION.KEY": value}``
(values as TOML reads them: ``0.01``, ``true``, ``["policy"]``, ``"CNY 100m"``; a bare word
that is not TOML, such as ``listed`` or ``scenarios/shocks.csv``, is text).
:func:`apply_set` lays them over the parsed ``instance.toml`` (a new dict; the file's
own settings are left alone). The reader (:mod:`allocator.input.validation`) then checks
the result exactly as it checks the file, and blames any problem with an overridden key on
``--set``. ``summary.json`` records the overrides under ``options.set``, and ``allocator
verify`` applies them again, so a result is checked against the settings it was solved with.
A sweep (:mod:`allocator.input.overrides`) changes more than settings: tables, columns,
families and term bounds; its settings keys are the same as ``--set``'s.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

#: where a problem with an overridden key is said to be
ORIGIN = "--set"
_KEY = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def parse_value(text: str) -> Any:
    """A value as TOML reads it (``v = <text>``), else the text itself (stripped)."""
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_set(texts: Iterable[str]) -> dict[str, Any]:
    """``["solver.mip_gap=0.01", ...]`` -> ``{"solver.mip_gap": 0.01, ...}`` (a later
    ``--set`` of the same key wins). Raises :class:`ValueError` naming the text that is not
    ``SECTION.KEY=VALUE``."""
    out: dict[str, Any] = {}
    for text in texts:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key) or not value.strip():
            raise ValueError(f"expected SECTION.KEY=VALUE (e.g. solver.mip_gap=0.01 or "
                             f"objective.investment=2), got {text!r}")
        out[key] = parse_value(value)
    return out


def apply_set(settings: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` (a parsed ``instance.toml``) with each ``"SECTION.KEY": value`` set: a
    new dict (deep copy). A section absent from the file is created (the checks then say
    whether it is known). Raises :class:`ValueError` for a key under a top-level value that
    is not a section (``name.x``)."""
    out = copy.deepcopy(dict(settings))
    for dotted, value in values.items():
        section, _, key = dotted.partition(".")
        table = out.setdefault(section, {})
        if not isinstance(table, dict):
            raise ValueError(f"{section} is a top-level key of instance.toml, not a section: "
                             f"--set changes a key of a section ([solver], [objective], a "
                             f"family's options, ...)")
        table[key] = copy.deepcopy(value)
    return out


def set_text(key: str, value: Any) -> str:
    """How an override reads on the command line: ``solver.mip_gap=0.01``."""
    if isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, str):
        shown = value
    else:
        shown = str(value)
    return f"{key}={shown}"
