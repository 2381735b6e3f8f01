"""Overrides: changes to an instance made in memory, never by copying its folder.

A what-if ("chip talent +20%", "site_excess weighted 50", "without resilience") is a set of
overrides applied to the instance as it is read, before anything is derived from it. The
forms (each a key of a sweep case, ``docs/sweeps.md``):

* ``"SECTION.KEY" = VALUE``: any ``instance.toml`` setting: an engine setting
  (``"solver.mip_gap"``), an objective weight (``"objective.site_excess"``), a family's
  option (``"funding.national_fund"``), a table read from another file
  (``"tables.talent_supply" = "variants/talent_high.csv"``, inside the instance folder, as
  ``[tables]`` and ``--table``);
* ``without = [NAMES]`` / ``with = [NAMES]``: families switched off, or back on when
  ``instance.toml [families] without`` (or a sweep's ``[base]``) switched them off (a
  family already on stays on);
* ``scale = {"TABLE.COLUMN" = FACTOR}``: a number column multiplied (blank cells stay blank);
  ``assign = {"TABLE.COLUMN" = VALUE}``: a column set to a value; both on the rows matching
  ``where = {COLUMN = VALUE or [VALUES]}`` (all rows without it; ``group`` selects the rows of
  the regions of a group, in a table with a ``region`` column);
* ``bound = {TERM = LIMIT}``: an objective term at most ``LIMIT`` (unweighted, in its own
  unit): a constraint the engine adds (:func:`allocator.engine.build.build_model`,
  ``term_bounds``), the epsilon-constraint of ``allocator frontier``.

Checking happens twice. :meth:`Overrides.check` compares the overrides with the instance as
read without them (:class:`~allocator.input.validation.RawInstance`): unknown keys, tables,
columns, families and terms, values of the wrong type, each problem named by ``origin`` (the
sweep file and case) and the key. Then the instance is read again with the overrides
applied (``read_instance(path, overrides=...)``: settings after ``instance.toml`` is read,
column changes after every table is parsed) and every rule of the input runs on the changed
data, so a scaled value that breaks a bound is reported by file, row and column like any
other. :func:`within` names the case in those problems.

This module is self-contained (no engine, no sweep): ``--set SECTION.KEY=VALUE`` on a single
run is :func:`parse_assignment` plus the same :class:`Overrides`.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocator.core.errors import Problem
from allocator.core.family import Option
from allocator.core.schema import ColumnSpec, TableSpec
from allocator.input.settings import ENGINE_SECTIONS

if TYPE_CHECKING:
    from allocator.input.validation import RawInstance

#: the keys of a case besides ``"SECTION.KEY"`` settings
FORMS = ("without", "with", "scale", "assign", "where", "bound")
#: a where key that selects rows by their region's group (regions.csv ``group``)
GROUP = "group"


@dataclass(frozen=True)
class Change:
    """One column change: ``how`` is ``scale`` (multiply by ``value``) or ``assign`` (set to
    ``value``), on the rows of ``table`` matching every ``where`` entry (column, accepted
    values); no ``where``: every row."""

    table: str
    column: str
    how: str
    value: Any
    where: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def describe(self) -> str:
        what = (f"{self.table}.{self.column} x{_text(self.value)}" if self.how == "scale"
                else f"{self.table}.{self.column} = {_text(self.value)}")
        return what + (" where " + " and ".join(
            f"{c} = {'/'.join(_text(v) for v in vs)}" for c, vs in self.where)
            if self.where else "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"table": self.table, "column": self.column,
                               self.how: self.value}
        if self.where:
            out["where"] = {c: list(vs) for c, vs in self.where}
        return out


@dataclass(frozen=True)
class Overrides:
    """A set of overrides (see the module docstring); empty by default. ``settings`` maps
    ``"SECTION.KEY"`` to its value; ``switch_on`` holds the ``with`` names."""

    settings: tuple[tuple[str, Any], ...] = ()
    without: tuple[str, ...] = ()
    switch_on: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    bounds: tuple[tuple[str, float], ...] = ()

    # ------------------------------------------------------------------ views
    @property
    def empty(self) -> bool:
        return not (self.settings or self.without or self.switch_on or self.changes
                    or self.bounds)

    def setting(self, key: str, default: Any = None) -> Any:
        return dict(self.settings).get(key, default)

    @property
    def term_bounds(self) -> dict[str, float]:
        """``bound``: objective term -> its upper limit (for ``build_model``)."""
        return dict(self.bounds)

    def merged(self, other: Overrides) -> Overrides:
        """These overrides, then ``other``'s: a setting or bound given in both takes
        ``other``'s value; families and column changes add up (changes apply in order)."""
        settings = {**dict(self.settings), **dict(other.settings)}
        bounds = {**dict(self.bounds), **dict(other.bounds)}
        without = [n for n in self.without if n not in other.switch_on]
        without += [n for n in other.without if n not in without]
        switch_on = [n for n in self.switch_on if n not in other.without]
        switch_on += [n for n in other.switch_on if n not in switch_on]
        return Overrides(tuple(settings.items()), tuple(without), tuple(switch_on),
                         self.changes + other.changes, tuple(bounds.items()))

    def to_dict(self) -> dict[str, Any]:
        """The overrides as plain data (``summary.json``, ``sweep.json``); only what is
        given. :meth:`from_dict` reads it back."""
        out: dict[str, Any] = {}
        if self.settings:
            out["settings"] = dict(self.settings)
        if self.without:
            out["without"] = list(self.without)
        if self.switch_on:
            out["with"] = list(self.switch_on)
        if self.changes:
            out["changes"] = [c.to_dict() for c in self.changes]
        if self.bounds:
            out["bound"] = dict(self.bounds)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Overrides:
        changes = []
        for c in data.get("changes", []):
            how = "scale" if "scale" in c else "assign"
            where = tuple((k, tuple(v)) for k, v in c.get("where", {}).items())
            changes.append(Change(c["table"], c["column"], how, c[how], where))
        return cls(tuple(data.get("settings", {}).items()), tuple(data.get("without", [])),
                   tuple(data.get("with", [])), tuple(changes),
                   tuple((k, float(v)) for k, v in data.get("bound", {}).items()))

    def describe(self) -> str:
        """One line a planner reads: ``objective.site_excess = 50; without resilience;
        talent_supply.supply x1.2 where talent_class = chip_engineers``."""
        parts = [f"{k} = {_text(v)}" for k, v in self.settings]
        if self.without:
            parts.append("without " + ", ".join(self.without))
        if self.switch_on:
            parts.append("with " + ", ".join(self.switch_on))
        parts += [c.describe() for c in self.changes]
        parts += [f"{t} <= {_text(v)}" for t, v in self.bounds]
        return "; ".join(parts) if parts else "(none)"

    # ------------------------------------------------------------------ checking
    def check(self, base: RawInstance, origin: str) -> list[Problem]:
        """Every problem of these overrides against ``base`` (the instance read without
        them), each located as ``origin, KEY``: unknown keys, sections, options, terms,
        tables, columns and families, values of the wrong type. Rules on the changed data
        run when the instance is read with the overrides."""
        problems: list[Problem] = []

        def add(key: str, message: str, value: Any = None) -> None:
            problems.append(Problem(origin, message, value=value, location=f"{origin}, {key}"))

        for key, value in self.settings:
            message = _check_setting(base, key, value)
            if message:
                add(key, message, value)
        known = base.known
        for name in self.without:
            if name not in known:
                add("without", "unknown family; known families: " + ", ".join(sorted(known)),
                    name)
            elif not known[name].optional:
                add("without", f"family '{name}' is always on and cannot be switched off",
                    name)
        for name in self.switch_on:  # a family already on stays on
            if name not in known:
                add("with", "unknown family; known families: " + ", ".join(sorted(known)),
                    name)
        replaced = {k.partition(".")[2] for k, _ in self.settings if k.startswith("tables.")}
        for change in self.changes:
            for message in _check_change(base, change, replaced):
                add(f"{change.how} {change.table}.{change.column}", message,
                    None if message.startswith("where") else change.value)
        terms = {t.name for f in known.values() for t in f.terms}
        for term, limit in self.bounds:
            if term not in terms:
                add(f"bound {term}", "unknown objective term; known terms: "
                    + ", ".join(sorted(terms)), limit)
            elif not _finite_number(limit):
                add(f"bound {term}", "expected a finite number (the most the term may be, "
                    "before weighting)", limit)
        return problems

    # ------------------------------------------------------------------ applying
    def apply_settings(self, settings: dict[str, Any]) -> None:
        """Put the settings and the family switches into ``settings`` (``instance.toml`` as
        read), in place."""
        for key, value in self.settings:
            section, _, name = key.partition(".")
            table = settings.get(section)
            if not isinstance(table, dict):
                table = settings[section] = {}
            table[name] = value
        if not (self.without or self.switch_on):
            return
        families = settings.get("families")
        if not isinstance(families, dict):
            families = settings["families"] = {}
        listed = families.get("without", [])
        listed = [n for n in listed if n not in self.switch_on] if isinstance(listed, list) \
            else listed
        if isinstance(listed, list):
            listed += [n for n in self.without if n not in listed]
        families["without"] = listed

    def apply_tables(self, tables: dict[str, pd.DataFrame],
                     file_of: Callable[[str], str]) -> tuple[list[Problem], set[str]]:
        """Apply the column changes to ``tables`` (typed, as parsed), in order, in place.
        Returns the problems (a ``where`` that matches no row) and the names of the tables
        changed, whose cell rules must run again."""
        problems: list[Problem] = []
        changed: set[str] = set()
        for change in self.changes:
            df = tables.get(change.table)
            if df is None or change.column not in df.columns:
                continue  # the table is absent: reported by check(), or by the reader
            mask = pd.Series(True, index=df.index)
            for column, values in change.where:
                cells = (df["region"].map(_groups(tables)) if column == GROUP
                         and column not in df.columns else df[column])
                hit = cells.isin(list(values)).fillna(False).astype(bool)
                if not hit.any():
                    seen = sorted({str(v) for v in cells.dropna()})
                    lower = {v.lower(): v for v in seen}  # "b" for "B" is a likely slip
                    hint = [lower[m] for m in difflib.get_close_matches(
                        str(values[0]).lower(), list(lower), n=1)]
                    problems.append(Problem(
                        file_of(change.table),
                        f"where {column} = {'/'.join(_text(v) for v in values)} matches no "
                        f"row ({change.how} of {change.column})"
                        + (f"; did you mean '{hint[0]}'?" if hint else
                           f"; values: {', '.join(seen[:12])}" if seen else ""),
                        column=column))
                mask &= hit
            if not mask.any():
                continue
            rows = mask.to_numpy(bool)
            if change.how == "scale":
                df.loc[rows, change.column] = df.loc[rows, change.column] * float(change.value)
            else:
                df.loc[rows, change.column] = change.value
            changed.add(change.table)
        return problems, changed


# ---------------------------------------------------------------------- parsing
def parse_overrides(mapping: Mapping[str, Any], origin: str,
                    skip: Iterable[str] = ()) -> tuple[Overrides, list[Problem]]:
    """Read the overrides of one case (a TOML table: ``"SECTION.KEY" = VALUE``, ``without``,
    ``with``, ``scale``, ``assign``, ``where``, ``bound``; ``"scale.TABLE.COLUMN" = F``,
    ``"assign.TABLE.COLUMN" = V`` and ``"bound.TERM" = LIMIT`` are the same as the nested
    forms). Keys in ``skip`` (such as ``name``) are left to the caller. Returns the
    overrides and the problems of their form, each located as ``origin, KEY``."""
    problems: list[Problem] = []

    def add(key: str, message: str, value: Any = None) -> None:
        problems.append(Problem(origin, message, value=value, location=f"{origin}, {key}"))

    settings: dict[str, Any] = {}
    lists: dict[str, list[str]] = {"without": [], "with": []}
    columns: dict[str, list[tuple[str, Any]]] = {"scale": [], "assign": []}
    bounds: dict[str, Any] = {}
    where: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    for key, value in mapping.items():
        if key in skip:
            continue
        head, _, rest = key.partition(".")
        if key in ("without", "with"):
            names = value if isinstance(value, list) else None
            if names is None or not all(isinstance(n, str) and n for n in names):
                add(key, 'expected a list of family names, e.g. ["resilience"]', value)
            else:
                lists[key] = list(names)
        elif key in ("scale", "assign", "bound"):
            if not isinstance(value, dict) or not value:
                example = {"scale": '{"talent_supply.supply" = 1.2}', "assign":
                           '{"industries.n1_cover" = 0.9}', "bound": "{coordination = 150.0}"}
                add(key, f"expected a table, e.g. {key} = {example[key]}", value)
                continue
            for sub, v in value.items():
                if key == "bound":
                    bounds[sub] = v
                else:
                    columns[key].append((sub, v))
        elif head in ("scale", "assign", "bound") and rest:
            if head == "bound":
                bounds[rest] = value
            else:
                columns[head].append((rest, value))
        elif key == "where":
            where, message = _parse_where(value)
            if message:
                add(key, message, value)
        elif not rest or not head:
            add(key, "unknown key; expected \"SECTION.KEY\" (an instance.toml setting, e.g. "
                "\"objective.site_excess\"), " + ", ".join(FORMS), value)
        elif isinstance(value, dict):
            add(key, "expected a single value for the setting", value)
        else:
            settings[key] = value
    changes = []
    for how, items in columns.items():
        for target, value in items:
            table, _, column = target.partition(".")
            if not table or not column or "." in column:
                add(f"{how} {target}", "expected \"TABLE.COLUMN\", e.g. "
                    "\"talent_supply.supply\"", value)
                continue
            changes.append(Change(table, column, how, value, where))
    if where and not changes:
        add("where", "where selects the rows of scale or assign, and the case has neither",
            dict((c, list(v)) for c, v in where))
    checked = {}
    for term, limit in bounds.items():
        if not _finite_number(limit):
            add(f"bound {term}", "expected a finite number (the most the term may be, "
                "before weighting)", limit)
        else:
            checked[term] = float(limit)
    return Overrides(tuple(settings.items()), tuple(lists["without"]), tuple(lists["with"]),
                     tuple(changes), tuple(checked.items())), problems


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"SECTION.KEY=VALUE"`` (the command line's ``--set``) -> (key, value): the value is
    read as TOML (``0.01``, ``true``, ``"text"``, ``[1, 2]``), and as text when it is not
    TOML (``units.money=CNY``). Raises ``ValueError`` without ``=``."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise ValueError(f"expected SECTION.KEY=VALUE (e.g. solver.mip_gap=0.01), got {text!r}")
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def within(origin: str, problems: Iterable[Problem]) -> list[Problem]:
    """``problems`` found while reading an instance with overrides, located under
    ``origin`` (the case): ``sweep.toml, case 'x': talent_supply.csv, row 5, ...``."""
    return [replace(p, location=f"{origin}: {p.where()}") for p in problems]


# ---------------------------------------------------------------------- helpers
def _parse_where(value: Any) -> tuple[tuple[tuple[str, tuple[Any, ...]], ...], str]:
    if not isinstance(value, dict) or not value:
        return (), ('expected a table of column = value (or [values]), e.g. where = '
                    '{talent_class = "chip_engineers"}')
    out = []
    for column, accepted in value.items():
        values = accepted if isinstance(accepted, list) else [accepted]
        if not values or any(isinstance(v, (dict, list)) for v in values):
            return (), f"where {column}: expected a value or a list of values"
        out.append((column, tuple(values)))
    return tuple(out), ""


def _check_setting(base: RawInstance, key: str, value: Any) -> str | None:
    """What is wrong with the setting ``key = value`` of an override, or None."""
    section, _, name = key.partition(".")
    known = base.known
    if section in ENGINE_SECTIONS:
        return _check_option(ENGINE_SECTIONS[section], section, name, value)
    if section == "objective":
        terms = {t.name for f in known.values() for t in f.terms}
        if name not in terms:
            return "unknown objective term; known terms: " + ", ".join(sorted(terms))
        return Option(name, float, 1.0, "", ge=0).check(value)
    if section == "tables":
        if name not in base.schema:
            return "unknown table; known tables: " + ", ".join(base.schema)
        if not isinstance(value, str) or not value:
            return "expected the path of a file inside the instance folder (text)"
        root = base.path.resolve()
        target = (root / value).resolve()
        if root not in target.parents:
            return ("the path points outside the instance folder; keep variant tables inside "
                    "it (e.g. variants/), so that the instance and its what-ifs travel together")
        if not target.is_file():
            return f"file {value} does not exist in the instance folder {base.path}"
        return None
    if section == "families":
        return "switch families with without = [...] and with = [...]"
    if section in known:
        return _check_option(known[section].options, section, name, value)
    return ("unknown section; expected one of: " + ", ".join(
        [*ENGINE_SECTIONS, "objective", "tables", *sorted(known)]))


def _check_option(options: Iterable[Option], section: str, name: str, value: Any
                  ) -> str | None:
    declared = {o.name: o for o in options}
    if name not in declared:
        return (f"unknown option; known options of [{section}]: "
                + (", ".join(sorted(declared)) or "(none)"))
    return declared[name].check(value)


def _check_change(base: RawInstance, change: Change, replaced: set[str]) -> list[str]:
    spec: TableSpec | None = base.schema.get(change.table)
    if spec is None:
        return ["unknown table; known tables: " + ", ".join(base.schema)]
    if change.table not in base.tables and change.table not in replaced:
        return [f"the instance has no {spec.file}: there is nothing to {change.how}"]
    names = [c.name for c in spec.columns]
    if change.column not in names:
        return [f"unknown column of {spec.file}; columns: " + ", ".join(names)]
    col = spec.column(change.column)
    out = []
    if change.column in spec.key or col.references:
        out.append("a key or id column cannot be changed: it says which row is which")
    elif change.how == "scale":
        if col.kind == "int":
            out.append(f"{change.column} holds whole numbers; give the new value with "
                       f"assign = {{\"{change.table}.{change.column}\" = ...}}")
        elif col.kind != "float":
            out.append(f"{change.column} is not a number column; use assign")
        elif not _finite_number(change.value) or change.value < 0:
            out.append("expected a factor: a finite number >= 0 (1.2 = +20%)")
    else:
        message = _check_cell(col, change.value)
        if message:
            out.append(message)
    has_region = "region" in names
    for column, values in change.where:
        if column == GROUP and column not in names and has_region:
            continue
        if column not in names:
            extra = " (or group, the region's group)" if has_region else ""
            out.append(f"where {column}: unknown column of {spec.file}; columns: "
                       + ", ".join(names) + extra)
            continue
        for v in values:
            message = _check_cell(spec.column(column), v)
            if message:
                out.append(f"where {column} = {_text(v)}: {message}")
    return out


def _check_cell(col: ColumnSpec, value: Any) -> str | None:
    """Whether ``value`` fits a cell of ``col`` (kind and bounds)."""
    if col.kind in ("id", "str"):
        return None if isinstance(value, str) and value else "expected text"
    if col.kind == "bool":
        return None if isinstance(value, bool) else "expected true or false"
    if not _finite_number(value):
        return "expected a finite number" + (f" ({col.unit})" if col.unit else "")
    if col.kind == "int" and not float(value).is_integer():
        return "expected a whole number"
    for bound, ok, word in ((col.ge, lambda b: value >= b, ">="), (col.gt, lambda b: value > b,
                                                                     ">"),
                            (col.le, lambda b: value <= b, "<=")):
        if bound is not None and not ok(bound):
            return f"must be {word} {bound:g}"
    return None


def _finite_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _groups(tables: Mapping[str, pd.DataFrame]) -> dict[Any, Any]:
    regions = tables.get("regions")
    if regions is None or "group" not in regions.columns:
        return {}
    return dict(zip(regions["id"], regions["group"], strict=True))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)

