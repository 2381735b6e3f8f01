"""A sweep file: the cases of a sweep, as a grid and as a list, each a set of overrides.

``allocator sweep INSTANCE SWEEP.toml -o FOLDER`` (docs/sweeps.md)::

    [base]                                   # optional: overrides of every case
    "solver.mip_gap" = 0.001

    [grid]                                   # every combination: 2 x 2 = 4 cases
    "objective.site_excess" = [50.0, 200.0]  # the same keys as a case
    without = [[], ["resilience"]]

    [[case]]                                 # and named cases, each its own overrides
    name = "chip talent +20%"
    scale = { "talent_supply.supply" = 1.2 }
    where = { talent_class = "chip_engineers" }

The overrides of a case (:mod:`allocator.input.overrides`) are the base's, then the grid
combination's or the named case's. A grid case is named by its values
(``site_excess=50, without=resilience``). :func:`load_cases` reads the instance
once as it is and once per case with the case's overrides applied, and reports every
problem of every case at once, each named by the sweep file and the case.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocator.core.errors import InputError, Problem
from allocator.core.family import Family
from allocator.input.data import Instance, from_raw
from allocator.input.overrides import Overrides, parse_overrides, within
from allocator.input.read import read_instance

#: the top-level keys of a sweep file
SECTIONS = ("description", "base", "grid", "case")


@dataclass
class Case:
    """One what-if of a sweep: its name, the folder name of its results (``slug``) and its
    overrides (the base's merged with its own)."""

    name: str
    overrides: Overrides = field(default_factory=Overrides)
    slug: str = ""
    #: what the case is for in a frontier: "point", "anchor" (blank in a plain sweep)
    role: str = ""

    def __post_init__(self) -> None:
        if not self.slug:
            self.slug = slug(self.name)


@dataclass
class SweepFile:
    """The cases of a sweep file, in order: the grid's combinations, then the named cases."""

    path: Path
    cases: list[Case]
    description: str = ""
    #: the grid's axes: key -> values (for the report's curves)
    axes: dict[str, list[Any]] = field(default_factory=dict)


def read_sweep(path: str | Path) -> SweepFile:
    """Read a sweep file; :class:`InputError` with every problem of its form (unknown keys,
    values of the wrong shape, cases without a name, two cases with one name)."""
    path = Path(path)
    origin = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError([Problem(str(path), "sweep file does not exist")]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), f"not valid TOML: {exc}")]) from exc
    problems: list[Problem] = []

    def add(where: str, message: str, value: Any = None) -> None:
        problems.append(Problem(origin, message, value=value, location=f"{origin}, {where}"))

    for key in data:
        if key not in SECTIONS:
            add(key, "unknown key; a sweep file has [base], [grid] and [[case]] "
                "(and description)", data[key])
    base = Overrides()
    if "base" in data:
        if isinstance(data["base"], dict):
            base, found = parse_overrides(data["base"], f"{origin}, [base]")
            problems += found
        else:
            add("base", "expected a table: [base]")
    cases: list[Case] = []
    axes: dict[str, list[Any]] = {}
    grid = data.get("grid", {})
    if not isinstance(grid, dict):
        add("grid", "expected a table: [grid]")
        grid = {}
    fixed = {k: v for k, v in grid.items() if k == "where"}
    for key, values in grid.items():
        if key == "where":
            continue
        if not isinstance(values, list) or not values:
            add(f"[grid] {key}", "expected a list of the values to sweep, e.g. [50.0, 200.0]",
                values)
            continue
        axes[key] = values
    # a grid case is named by its values, each under the last part of its key
    # ("objective.site_excess" -> site_excess) unless two axes end alike
    tails = [k.rsplit(".", 1)[-1] for k in axes]
    short = {k: t if tails.count(t) == 1 else k for k, t in zip(axes, tails, strict=True)}
    for combo in itertools.product(*axes.values()) if axes else ():
        chosen = dict(zip(axes, combo, strict=True))
        name = ", ".join(f"{short[k]}={_label(v)}" for k, v in chosen.items())
        overrides, found = parse_overrides({**chosen, **fixed}, f"{origin}, [grid] {name}")
        problems += found
        cases.append(Case(name, base.merged(overrides)))
    listed = data.get("case", [])
    if not isinstance(listed, list):
        add("case", "expected [[case]] tables, each with a name and its overrides")
        listed = []
    for number, entry in enumerate(listed, start=1):
        if not isinstance(entry, dict):
            add(f"case {number}", "expected a table")
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            add(f"case {number}", "every [[case]] needs a name (text), e.g. name = "
                "\"chip talent +20%\"", name)
            name = f"case {number}"
        overrides, found = parse_overrides(entry, f"{origin}, case '{name}'", skip=("name",))
        problems += found
        cases.append(Case(name.strip(), base.merged(overrides)))
    if not cases:
        add("[grid] / [[case]]", "the sweep has no case: give a [grid] or [[case]] tables")
    seen: dict[str, int] = {}
    for case in cases:
        seen[case.name] = seen.get(case.name, 0) + 1
    for name, count in seen.items():
        if count > 1:
            add(f"case '{name}'", f"{count} cases have this name; each case needs its own")
    if problems:
        raise InputError(problems)
    unique_slugs(cases)
    description = data.get("description", "")
    return SweepFile(path, cases, str(description), axes)


def load_cases(
    path: str | Path,
    cases: list[Case],
    origin: str,
    *,
    extra_families: Iterable[str | Path | Family] = (),
    without: Iterable[str] = (),
    tables: dict[str, str] | None = None,
    allow_families: bool = False,
) -> tuple[Instance, list[Instance]]:
    """The instance at ``path`` as it is, and once per case with the case's overrides
    applied, every case checked before any is returned: :class:`InputError` with every
    problem of every case, each named by ``origin`` (the sweep file) and the case. The
    instance is first read as it is (its own problems are reported as they are); the family
    files it names run only with ``allow_families`` (:mod:`allocator.core.trust`)."""
    kwargs: dict[str, Any] = {"extra_families": list(extra_families), "without": list(without),
                              "tables": tables, "allow_families": allow_families}
    base = read_instance(path, **kwargs)
    problems: list[Problem] = []
    instances: list[Instance] = []
    for case in cases:
        where = f"{origin}, case '{case.name}'"
        found = case.overrides.check(base, where)
        if found:
            problems += found
            continue
        try:
            inst = from_raw(read_instance(path, overrides=case.overrides, **kwargs))
        except InputError as exc:
            problems += within(where, exc.problems)
            continue
        terms = {t.name for f in inst.active_families for t in f.terms}
        for term, limit in case.overrides.bounds:
            if term not in terms:
                problems.append(Problem(origin, "no active family of this case contributes "
                                        "the term; active terms: " + ", ".join(sorted(terms)),
                                        value=limit, location=f"{where}, bound {term}"))
        instances.append(inst)
    if problems:
        raise InputError(problems)
    return from_raw(base), instances


def slug(name: str) -> str:
    """A folder name for a case: ``chip talent +20%`` -> ``chip-talent-20``."""
    text = re.sub(r"[^a-z0-9._=-]+", "-", name.lower()).strip("-.")
    return (text or "case")[:80]


def unique_slugs(cases: list[Case]) -> None:
    """Give cases whose names make the same folder name a number (``-2``, ``-3``)."""
    used: set[str] = set()
    for case in cases:
        base, n = case.slug, 1
        while case.slug in used:
            n += 1
            case.slug = f"{base}-{n}"
        used.add(case.slug)


def _label(value: Any) -> str:
    """A grid value in a case name: ``50``, ``resilience``, ``none``, ``a+b``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "+".join(_label(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ",".join(f"{k}={_label(v)}" for k, v in value.items())
    return str(value)
