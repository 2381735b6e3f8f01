"""Read an instance folder and check all of it, collecting every problem before failing.

Order of work (each step adds to one list of :class:`~allocator.core.errors.Problem`):

1. ``instance.toml``: TOML syntax, known keys, option types and bounds, family names.
2. Each table: file present (required tables), columns present and known, cells parsed to
   their type (numbers, whole numbers, booleans), with the raw text reported where it fails.
3. Cell rules through pandera's lazy validation (blank where a value is required, bounds,
   references to ids of other tables), and duplicate keys.
4. Rules across tables (a must-host pair that is also forbidden, minimum scale above the
   site's maximum capacity, demand that disagrees with the markets, cycles in the chain, ...).

Nothing is dropped, clipped or replaced: a problem is reported, and :class:`InputError`
raised once with all of them.
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from allocator.core.errors import InputError, Problem
from allocator.core.family import Family, Option
from allocator.core.schema import (
    LARGEST,
    LARGEST_DERIVED,
    MARKETS,
    ColumnSpec,
    TableSpec,
    merged,
    number_text,
)
from allocator.core.trust import not_allowed, same_file
from allocator.input.families import (
    FamilyLoadError,
    compose,
    default_families,
    load_family_file,
)
from allocator.input.overrides import Overrides
from allocator.input.scenarios import check_shocks
from allocator.input.set_values import ORIGIN, apply_set, set_text
from allocator.input.settings import ENGINE_SECTIONS, FREE_SECTIONS, TOP_LEVEL
from allocator.input.sniff import delimiter_problem, encoding_problem, number_hint

TOML = "instance.toml"
#: why a number above LARGEST is refused, and what to do
TOO_LARGE = (" (larger numbers are beyond the solver's accuracy: check the unit, or use a "
             "larger one, e.g. CNY 100m rather than CNY, thousand people rather than people)")
TRUE_WORDS = {"true", "1", "yes", "y", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "f"}


@dataclass
class RawInstance:
    """What :func:`read_instance` found, before the model data are derived."""

    path: Path
    settings: dict[str, Any]
    families: list[Family]
    schema: dict[str, TableSpec]
    tables: dict[str, pd.DataFrame]
    files: dict[str, str] = field(default_factory=dict)  # table or toml -> path relative
    hashes: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    #: every table's cells as read, as text (index = spreadsheet row): what `convert` copies
    text: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: every family the instance knew of, switched off or not (by name)
    known: dict[str, Family] = field(default_factory=dict)
    #: settings changed for this run (``--set SECTION.KEY=VALUE``), already in ``settings``
    set_values: dict[str, Any] = field(default_factory=dict)
    #: the overrides applied in memory while reading (:mod:`allocator.input.overrides`)
    overrides: Overrides = field(default_factory=Overrides)


class Reader:
    """Reads an instance folder and collects every problem (file, row, column, value)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.hashes: dict[str, str] = {}
        self.files: dict[str, str] = {}
        self.text: dict[str, pd.DataFrame] = {}
        #: every family known to this run (default, loaded from files), switched off or not
        self.known_families: dict[str, Family] = {}
        #: table -> path given on the command line (--table), over instance.toml [tables]
        self.table_paths: dict[str, str] = {}
        #: run the family files named in [families] extra (--allow-families)
        self.allow_families = False
        #: instance.toml settings changed for this run (--set), {"SECTION.KEY": value}
        self.set_values: dict[str, Any] = {}
        #: (table, row, column) of cells already reported as unreadable: no rule across
        #: tables reports them again as blank
        self.unreadable: set[tuple[str, int, str]] = set()
        #: a sweep case's changes made in memory (:mod:`allocator.input.overrides`):
        #: settings once instance.toml is read, columns once every table is parsed; every
        #: rule then runs on the changed data
        self.overrides = Overrides()

    def add(self, file: str, message: str, **kw: Any) -> None:
        self.problems.append(Problem(file, message, **kw))

    def at(self, table: str, message: str, **kw: Any) -> None:
        """Add a problem found in ``table`` (named by the file it was read from)."""
        self.add(self.file_of(table), message, **kw)

    def file_of(self, table: str) -> str:
        """The file a table was read from (as given in [tables], else ``<table>.csv``)."""
        return self.files.get(table, f"{table}.csv")

    # ------------------------------------------------------------------ orchestration
    def run(self, extra: list[str | Path | Family], without: list[str]) -> RawInstance:
        self._check_path()
        settings = self._read_toml()
        self.overrides.apply_settings(settings)
        from_file = set(settings)
        settings = self._override(settings)
        families = self._families(settings, extra, without)
        # tables and columns of every known family, switched off or not, are valid input
        schema = self._schema(list(self.known_families.values()))
        self._check_settings(settings, families, schema)
        paths = dict(settings.get("tables", {})) if isinstance(settings.get("tables"),
                                                                dict) else {}
        for name, rel in self.table_paths.items():
            if name in schema:
                paths[name] = rel
                if not (self._root() / rel).is_file():
                    self.add("--table", f"file {rel} does not exist in the instance folder "
                             f"{self.path}", value=f"{name}={rel}")
            else:
                self.add("--table", "unknown table; known tables: " + ", ".join(schema),
                         value=name)
        tables = self._read_tables(schema, paths)
        self._check_references(schema, tables)
        self._check_across(tables, settings)
        for fam in families:
            if fam.input_rules is not None:
                self.problems.extend(fam.input_rules(tables, settings))
        self._blame_overrides(from_file)
        if self.problems:
            raise InputError(ordered(self.problems))
        return RawInstance(self.path, settings, families, schema, tables, self.files,
                           self.hashes, self.text, dict(self.known_families),
                           dict(self.set_values), self.overrides)

    def _override(self, settings: dict[str, Any]) -> dict[str, Any]:
        """``settings`` with ``--set`` applied (not over a file that failed to read: its own
        problems come first); checked from here on exactly as if the file said so."""
        if not self.set_values or any(p.file == TOML for p in self.problems):
            return settings
        for key in list(self.set_values):
            section = key.partition(".")[0]
            if section in settings and not isinstance(settings[section], dict):
                self.problems.append(Problem(
                    ORIGIN, f"{section} is a top-level key of instance.toml, not a section",
                    location=f"{ORIGIN} {set_text(key, self.set_values.pop(key))}"))
        return apply_set(settings, self.set_values)

    def _blame_overrides(self, from_file: set[str]) -> None:
        """A problem with a key that ``--set`` gave is located at ``--set KEY=VALUE``."""
        blame: dict[str, str] = {}
        for key in self.set_values:
            blame.setdefault(key, key)
            section = key.partition(".")[0]
            if section not in from_file:  # the whole section came from --set
                blame.setdefault(f"[{section}]", key)
        for n, p in enumerate(self.problems):
            if p.file == TOML and p.column in blame:
                key = blame[p.column]
                where = f"{ORIGIN} {set_text(key, self.set_values[key])}"
                self.problems[n] = replace(p, file=ORIGIN, location=where)

    def _check_path(self) -> None:
        if not self.path.is_dir():
            raise InputError([Problem(str(self.path), "instance folder does not exist")])

    # ------------------------------------------------------------------ instance.toml
    def _read_toml(self) -> dict[str, Any]:
        toml_path = self.path / TOML
        if not toml_path.is_file():
            self.add(TOML, "file is missing: every instance folder needs an instance.toml "
                     "with at least `name = \"...\"`")
            return {}
        data = toml_path.read_bytes()
        self.hashes[TOML] = hashlib.sha256(data).hexdigest()
        self.files["instance.toml"] = TOML
        try:
            return tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            self.add(TOML, f"not valid TOML: {exc}")
            return {}

    def _families(
        self, settings: dict[str, Any], extra: list[str | Path | Family], without: list[str]
    ) -> list[Family]:
        fam_settings = settings.get("families", {})
        if not isinstance(fam_settings, dict):
            self.add(TOML, "[families] must be a table", column="families")
            fam_settings = {}
        unknown = set(fam_settings) - {"without", "extra"}
        for key in sorted(unknown):
            self.add(TOML, "unknown key; expected 'without' or 'extra'",
                     column=f"families.{key}", value=fam_settings[key])
        loaded: list[Family] = []
        given = [Path(item) for item in extra if not isinstance(item, Family)]
        ran: list[Path] = []
        refused = []
        for rel in _as_list(fam_settings.get("extra", []), self, "families.extra"):
            target = self._inside(rel, "families.extra")
            if target is None:
                continue
            if not self.allow_families and not any(same_file(target, g) for g in given):
                refused.append(not_allowed(TOML, "families.extra", rel, target))
                continue
            try:
                loaded.append(load_family_file(target))
                ran.append(target)
            except FamilyLoadError as exc:
                self.add(TOML, str(exc), column="families.extra", value=rel)
        if refused:  # before anything else: nothing of the instance is read further
            raise InputError(refused)
        for item in extra:
            if isinstance(item, Family):
                loaded.append(item)
                continue
            if any(same_file(item, r) for r in ran):
                continue  # the instance's own file, allowed by naming it: loaded once
            try:
                loaded.append(load_family_file(item))
            except FamilyLoadError as exc:
                self.add("--family", str(exc), value=str(item))
        base = default_families()
        self.known_families = {f.name: f for f in [*base, *loaded]}
        names = set(self.known_families)
        drop: list[str] = []
        for origin, items in (
            (TOML, _as_list(fam_settings.get("without", []), self, "families.without")),
            ("--without", without),
        ):
            for name in items:
                if name not in names:
                    self.add(origin, f"unknown family; known families: {', '.join(sorted(names))}",
                             column="families.without" if origin == TOML else None, value=name)
                elif name not in drop:
                    drop.append(name)
        try:
            return compose(base, loaded, drop)
        except ValueError as exc:
            self.add(TOML, str(exc), column="families.without")
            return compose(base, loaded, [d for d in drop if self.known_families[d].optional])

    def _root(self) -> Path:
        """The folder that paths in the settings are relative to."""
        return self.path.resolve()

    def _inside(self, rel: object, key: str) -> Path | None:
        """Resolve a path given in instance.toml; it must stay inside the instance folder."""
        if not isinstance(rel, str) or not rel:
            self.add(TOML, "expected a relative path (text)", column=key, value=rel)
            return None
        root = self._root()
        target = (root / rel).resolve()
        if root != target and root not in target.parents:
            self.add(TOML, "path points outside the instance folder; copy the file into the "
                     "folder so that the instance is self-contained", column=key, value=rel)
            return None
        return target

    def _schema(self, families: list[Family]) -> dict[str, TableSpec]:
        try:
            return merged(families)
        except ValueError as exc:  # a family file declaring columns of an unknown table
            self.add("families", str(exc))
            return merged([])

    def _check_settings(
        self, settings: dict[str, Any], families: list[Family], schema: dict[str, TableSpec]
    ) -> None:
        if not settings and any(p.file == TOML for p in self.problems):
            return
        known = self.known_families
        all_names = set(known)
        for opt in TOP_LEVEL:
            if opt.name in settings and not isinstance(settings[opt.name], dict):
                msg = opt.check(settings[opt.name])
                if msg:
                    self.add(TOML, msg, column=opt.name, value=settings[opt.name])
        if "name" not in settings:
            self.add(TOML, "missing key 'name' (the instance's name)", column="name")
        for key, value in settings.items():
            if any(o.name == key for o in TOP_LEVEL):
                continue
            if not isinstance(value, dict):
                self.add(TOML, "unknown top-level key", column=key, value=value)
                continue
            if key in ENGINE_SECTIONS:
                self._check_options(key, ENGINE_SECTIONS[key], value)
            elif key in known:  # a family's options (checked even when it is switched off)
                self._check_options(key, known[key].options, value)
            elif key == "objective":
                terms = {t.name: t for f in known.values() for t in f.terms}
                for name, weight in value.items():
                    if name not in terms:
                        self.add(TOML, "unknown objective term; known terms: "
                                 + ", ".join(sorted(terms)), column=f"objective.{name}",
                                 value=weight)
                        continue
                    msg = Option(name, float, 1.0, "", ge=0).check(weight)
                    if msg:
                        self.add(TOML, msg, column=f"objective.{name}", value=weight)
            elif key == "tables":
                for name, rel in value.items():
                    if name not in schema:
                        self.add(TOML, "unknown table; known tables: " + ", ".join(schema),
                                 column=f"tables.{name}", value=rel)
            elif key not in FREE_SECTIONS:
                self.add(TOML, "unknown section; expected one of: "
                         + ", ".join([*ENGINE_SECTIONS, *FREE_SECTIONS, *sorted(all_names)]),
                         column=f"[{key}]")

    def _check_options(self, section: str, options: Iterable[Any], given: dict) -> None:
        declared = {o.name: o for o in options}
        for key, value in given.items():
            opt = declared.get(key)
            if opt is None:
                known = ", ".join(sorted(declared)) or "(none)"
                self.add(TOML, f"unknown option; known options of [{section}]: {known}",
                         column=f"{section}.{key}", value=value)
                continue
            msg = opt.check(value)
            if msg:
                self.add(TOML, msg, column=f"{section}.{key}", value=value)

    # ------------------------------------------------------------------ tables
    def _read_tables(
        self, schema: dict[str, TableSpec], paths: dict[str, Any]
    ) -> dict[str, pd.DataFrame]:
        tables: dict[str, pd.DataFrame] = {}
        for spec in schema.values():
            found = self._read_raw(spec, paths)
            if found is None:
                continue
            df, file = found
            self.files[spec.name] = file
            self.text[spec.name] = df
            typed = self._parse(df, spec, file)
            if typed is not None:
                tables[spec.name] = typed
        problems, changed = self.overrides.apply_tables(tables, self.file_of)
        self.problems.extend(problems)
        for name in changed:  # the cell rules again, on the changed values
            unread = pd.DataFrame(False, index=tables[name].index,
                                  columns=[c.name for c in schema[name].columns])
            self._check_cells(tables[name], schema[name], self.file_of(name), unread)
        for spec in schema.values():
            for other in spec.needs:
                if spec.name in tables and other not in tables and other in schema:
                    self.add(self.file_of(other), f"file is missing: {self.file_of(spec.name)} "
                             "needs it")
        return tables

    def _read_raw(self, spec: TableSpec, paths: dict[str, Any]
                  ) -> tuple[pd.DataFrame, str] | None:
        """A table's cells as text (index = spreadsheet row) and the file they came from;
        None when absent (a problem is added if it is required) or unreadable."""
        if spec.name in paths:
            target = self._inside(paths[spec.name], f"tables.{spec.name}")
            if target is None:
                return None
            file = str(target.relative_to(self._root()))
        else:
            target, file = self.path / spec.file, spec.file
        if not target.is_file():
            if spec.required:
                self.add(file, "required file is missing")
            return None
        df = self._read_csv(target, file)
        return None if df is None else (df, file)

    def _read_csv(self, target: Path, file: str) -> pd.DataFrame | None:
        data = target.read_bytes()
        self.hashes[file] = hashlib.sha256(data).hexdigest()
        wrong = encoding_problem(data, file)
        if wrong is not None:  # never decoded by a guess: report where and how to save it
            self.add(file, wrong[1], row=wrong[0])
            return None
        try:
            df = pd.read_csv(target, dtype=str, keep_default_na=False, na_filter=False,
                             skip_blank_lines=False, encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            self.add(file, "file is empty: expected a header row with the column names")
            return None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            self.add(file, f"cannot be read as CSV: {exc}")
            return None
        other = delimiter_problem(data.decode("utf-8-sig"), len(df.columns))
        if other is not None:  # one problem, not one per column it could not find
            self.add(file, other, row=1)
            return None
        df.columns = [str(c).strip() for c in df.columns]
        df.index = pd.RangeIndex(2, 2 + len(df))  # spreadsheet row numbers
        df = df.fillna("")
        blank = (df == "").all(axis=1) if len(df.columns) else pd.Series(True, index=df.index)
        return df.loc[~blank]

    def _parse(self, df: pd.DataFrame, spec: TableSpec, file: str) -> pd.DataFrame | None:
        known = {c.name for c in spec.columns}
        for col in df.columns:
            if col not in known:
                self.add(file, "unknown column; expected columns: "
                         + ", ".join(c.name for c in spec.columns), row=1, column=col)
        missing = [c.name for c in spec.columns if c.required and c.name not in df.columns]
        for col in missing:
            self.add(file, "required column is missing", row=1, column=col)
        if missing:
            return None
        out = pd.DataFrame(index=df.index)
        reported = pd.DataFrame(False, index=df.index, columns=[c.name for c in spec.columns])
        for col in spec.columns:
            if col.name not in df.columns:
                out[col.name] = _default_series(col, df.index)
                continue
            given = df[col.name].astype(str)
            raw = given.str.strip()
            if col.kind == "id" or col.name in spec.key:  # matched exactly across files
                what = "an id" if col.kind == "id" else "a key column"
                for row in raw.index[(given != raw) & (raw != "")]:
                    self.add(file, f"leading or trailing spaces in {what}; remove them "
                             f"({'ids' if col.kind == 'id' else 'keys'} must match exactly)",
                             row=int(row), column=col.name, value=given[row])
            parsed, bad, message = _convert(raw, col)
            for row in raw.index[bad]:
                self.add(file, message + number_hint(raw[row]), row=int(row),
                         column=col.name, value=raw[row])
            reported[col.name] = bad
            self.unreadable |= {(spec.name, int(r), col.name) for r in raw.index[bad]}
            out[col.name] = parsed
        self._check_cells(out, spec, file, reported)
        self._check_duplicates(out, spec, file)
        return out

    def _check_cells(
        self, df: pd.DataFrame, spec: TableSpec, file: str, reported: pd.DataFrame
    ) -> None:
        columns = {}
        for col in spec.columns:
            checks = []
            if col.ge is not None:
                checks.append(pa.Check.ge(col.ge, error=f"must be >= {col.ge:g}"))
            if col.gt is not None:
                checks.append(pa.Check.gt(col.gt, error=f"must be > {col.gt:g}"))
            if col.le is not None:
                checks.append(pa.Check.le(col.le, error=f"must be <= {col.le:g}"))
            elif col.upper is not None:  # the sane range of every number (core.schema)
                checks.append(pa.Check.le(col.upper, error=f"must be <= {number_text(LARGEST)}"
                                          f"{TOO_LARGE}"))
            if col.lower == -LARGEST:
                checks.append(pa.Check.ge(-LARGEST, error=f"must be >= "
                                          f"{number_text(-LARGEST)}{TOO_LARGE}"))
            columns[col.name] = pa.Column(checks=checks, nullable=col.nullable, coerce=False)
        schema = pa.DataFrameSchema(columns, strict=False)
        try:
            schema.validate(df, lazy=True)
        except pa.errors.SchemaErrors as exc:
            self._report_pandera(exc.failure_cases, spec, file, reported)

    def _report_pandera(
        self, cases: pd.DataFrame, spec: TableSpec, file: str, reported: pd.DataFrame
    ) -> None:
        for case in cases.itertuples(index=False):
            if case.index is None or pd.isna(case.index):
                continue
            row, column = int(case.index), str(case.column)
            if column in reported.columns and reported.at[row, column]:
                continue  # already reported as unreadable
            if case.check == "not_nullable":
                col = spec.column(column)
                self.add(file, f"value is blank; expected {_expected(col)}", row=row,
                         column=column)
            else:
                self.add(file, str(case.check), row=row, column=column,
                         value=_plain(case.failure_case))

    def _check_duplicates(self, df: pd.DataFrame, spec: TableSpec, file: str) -> None:
        key = list(spec.key)
        dup = df.duplicated(key, keep=False)
        if not dup.any():
            return
        first: dict[tuple, int] = {}
        for row, values in df.loc[dup, key].iterrows():
            k = tuple(values)
            if k in first:
                shown = ", ".join(f"{c}={v}" for c, v in zip(key, k, strict=True))
                self.add(file, f"duplicate key ({shown}): first given on row {first[k]}",
                         row=int(row), column=key[-1], value=k[-1])
            else:
                first[k] = int(row)

    # ------------------------------------------------------------------ references
    def _check_references(self, schema: dict[str, TableSpec], tables: dict[str, pd.DataFrame]
                          ) -> None:
        for spec in schema.values():
            df = tables.get(spec.name)
            if df is None:
                continue
            for col in spec.columns:
                if not col.references:
                    continue
                target = tables.get(col.references)
                if target is None:
                    continue  # the missing table is already reported
                ids = set(target["id"].dropna())
                values = df[col.name]
                bad = values.notna() & ~values.isin(ids)
                for row in values.index[bad]:
                    hint = suggest(values[row], ids)
                    self.at(spec.name, f"unknown {col.references} id{hint}", row=int(row),
                            column=col.name, value=values[row])

    # ------------------------------------------------------------------ across tables
    def _check_across(self, tables: dict[str, pd.DataFrame], settings: dict[str, Any]) -> None:
        regions, industries = tables.get("regions"), tables.get("industries")
        if regions is not None:
            both = regions["min_industries"].notna() & regions["max_industries"].notna()
            bad = both & (regions["min_industries"] > regions["max_industries"])
            for row in regions.index[bad]:
                self.at("regions", f"min_industries {regions.at[row, 'min_industries']} is "
                         f"above max_industries {regions.at[row, 'max_industries']}",
                         row=int(row), column="min_industries")
        if "shocks" in tables:
            self.problems.extend(check_shocks(tables, self.file_of))
        if industries is None:
            return
        markets = tables.get(MARKETS.name)
        self._check_demand(industries, markets)
        self._check_sites(industries, tables.get("sites"), settings, tables.get("regions"))
        chain = tables.get("chain")
        if chain is not None:
            self._check_chain(chain)
            self._check_requirement(industries, markets, chain)
        arcs = tables.get("arcs")
        if arcs is not None:
            neither = arcs["distance_km"].isna() & arcs["unit_cost"].isna()
            for row in arcs.index[neither]:
                self.at("arcs", "give distance_km or unit_cost (or both)", row=int(row),
                         column="distance_km")

    def _check_demand(self, industries: pd.DataFrame, markets: pd.DataFrame | None) -> None:
        located = (markets.groupby("industry")["demand"].sum() if markets is not None
                   else pd.Series(dtype=float))
        for row, ind in industries.iterrows():
            given = ind["demand"]
            if ind["id"] in located.index:
                total = float(located[ind["id"]])
                if pd.notna(given) and not np.isclose(given, total, rtol=1e-9, atol=1e-9):
                    self.at("industries", f"national demand disagrees with the sum of its "
                             f"markets.csv rows ({total:g}); leave it blank or make them agree",
                             row=int(row), column="demand", value=_plain(given))
            elif (pd.isna(given) and ind["id"] is not None
                  and ("industries", int(row), "demand") not in self.unreadable):
                self.at("industries", "demand is blank and markets.csv has no rows for "
                         "this industry: give the national final demand", row=int(row),
                         column="demand")

    def _check_sites(
        self, industries: pd.DataFrame, sites: pd.DataFrame | None, settings: dict[str, Any],
        regions: pd.DataFrame | None = None,
    ) -> None:
        ind = industries.set_index("id", drop=False)
        ind = ind.loc[ind.index.notna() & ~ind.index.duplicated()]
        # an industry-wide capacity_max below the minimum scale forbids every new site that
        # uses it (a site with its own max_capacity is checked on its sites.csv row)
        bad = ind["capacity_max"].notna() & (ind["capacity_max"] < ind["min_scale"])
        for row in industries.index[industries["id"].isin(ind.index[bad])]:
            using = self._using_default(industries.at[row, "id"], sites, settings, regions)
            if not using:
                continue
            shown = ", ".join(using[:5]) + (f" and {len(using) - 5} more" if len(using) > 5
                                            else "")
            self.at("industries", f"capacity_max {industries.at[row, 'capacity_max']:g} "
                     f"is below min_scale {industries.at[row, 'min_scale']:g}: no new site "
                     f"could host in {shown}, which use this default (no max_capacity of "
                     "their own in sites.csv); raise it, or give those sites their own "
                     "max_capacity or forbid them", row=int(row), column="capacity_max",
                     value=_plain(industries.at[row, "capacity_max"]))
        if sites is None:
            return
        forbidden = ~sites["allowed"].fillna(True).astype(bool)
        conflict = forbidden & sites["must_host"].fillna(False).astype(bool)
        for row in sites.index[conflict]:
            self.at("sites", "must_host is true but allowed is false: a pair cannot be "
                     "both required and forbidden", row=int(row), column="must_host")
        existing = sites["existing_capacity"].fillna(0.0)
        for row in sites.index[forbidden & (existing > 0)]:
            self.at("sites", "existing capacity on a pair marked allowed = false: "
                     "remove the capacity or allow the pair", row=int(row),
                     column="existing_capacity", value=_plain(existing[row]))
        known = sites["industry"].isin(ind.index)
        min_scale = sites["industry"].map(ind["min_scale"]).where(known)
        cap_max = sites["max_capacity"].fillna(sites["industry"].map(ind["capacity_max"]))
        greenfield = existing <= 0
        too_small = (~forbidden) & greenfield & cap_max.notna() & (cap_max < min_scale)
        for row in sites.index[too_small]:
            self.at("sites", f"max capacity {cap_max[row]:g} is below the industry's "
                     f"min_scale {min_scale[row]:g}: the site could never host; forbid it "
                     "(allowed = false) or raise the maximum", row=int(row),
                     column="max_capacity", value=_plain(cap_max[row]))
        over = cap_max.notna() & (existing > cap_max)
        for row in sites.index[over]:
            self.at("sites", f"existing capacity {existing[row]:g} is above the maximum "
                     f"capacity {cap_max[row]:g}", row=int(row), column="existing_capacity",
                     value=_plain(existing[row]))

    def _check_requirement(self, industries: pd.DataFrame, markets: pd.DataFrame | None,
                           chain: pd.DataFrame) -> None:
        """The national requirement the chain derives, $G_i = D_i + \\sum_{(i,d)} a_{id} G_d$
        (the default site maximum, :attr:`allocator.input.data.Instance.requirement`), stays
        within :data:`LARGEST_DERIVED`: each cell may be in range while their product along
        a chain is not. Reported once, at the chain row that contributes most where the
        requirement first exceeds it (industries upstream of it exceed it too)."""
        given = [chain["ratio"], industries["demand"]]
        if markets is not None:
            given.append(markets["demand"])
        if any((col.abs() > LARGEST).any() for col in given):
            return  # a cell out of range is reported as such; the product would be too
        ids = [i for i in industries["id"] if i is not None]
        final = dict.fromkeys(ids, 0.0)
        for i, d in zip(industries["id"], industries["demand"], strict=True):
            if i is not None and pd.notna(d):
                final[i] = float(d)
        if markets is not None:
            for i, d in markets.groupby("industry")["demand"].sum().items():
                if i in final:
                    final[i] = float(d)
        links: dict[str, list[tuple[int, str, float]]] = {}
        waiting = dict.fromkeys(ids, 0)
        for row, u, d, a in zip(chain.index, chain["upstream"], chain["downstream"],
                                chain["ratio"], strict=True):
            if u in waiting and d in waiting and u != d and pd.notna(a):
                links.setdefault(u, []).append((int(row), d, float(a)))
                waiting[u] += 1
        users: dict[str, list[str]] = {}
        for u, out in links.items():
            for _, d, _ in out:
                users.setdefault(d, []).append(u)
        ready = [i for i in ids if waiting[i] == 0]
        need: dict[str, float] = {}
        over: set[str] = set()
        while ready:  # downstream first; industries on a cycle (reported) are never ready
            i = ready.pop()
            parts = [(row, d, a, a * need[d]) for row, d, a in links.get(i, [])]
            need[i] = final[i] + sum(p[3] for p in parts)
            if any(d in over for _, d, _, _ in parts):
                over.add(i)
            elif parts and not need[i] <= LARGEST_DERIVED:
                over.add(i)
                row, d, a, _ = max(parts, key=lambda p: p[3])
                self.at("chain", f"the value chain makes {i}'s national requirement "
                         f"{need[i]:.3g} (its final demand {final[i]:g} plus this ratio times "
                         f"{d}'s requirement {need[d]:.3g}, and its other links): above "
                         f"{number_text(LARGEST_DERIVED)}, more than the solver can use as a "
                         "site maximum; check the ratios' units", row=row, column="ratio",
                         value=_plain(a))
            for u in users.get(i, []):
                waiting[u] -= 1
                if waiting[u] == 0:
                    ready.append(u)

    def _using_default(self, industry: str, sites: pd.DataFrame | None,
                       settings: dict[str, Any], regions: pd.DataFrame | None) -> list[str]:
        """Regions whose new site of ``industry`` takes its maximum from industries.csv
        ``capacity_max``: candidates not listed in sites.csv (unless ``[sites] candidates =
        "listed"``) and listed pairs, not forbidden, without their own ``max_capacity``
        or existing capacity (the minimum scale does not apply to existing plants)."""
        section = settings.get("sites")
        listed_only = isinstance(section, dict) and section.get("candidates") == "listed"
        ids = [] if regions is None else [r for r in regions["id"] if r is not None]
        if sites is None:
            return [] if listed_only else ids
        own = sites.loc[sites["industry"] == industry]
        listed = set(own["region"])
        open_ = (own["allowed"].fillna(True).astype(bool)
                 & own["max_capacity"].isna()
                 & ~(own["existing_capacity"].fillna(0.0) > 0))
        chosen = set(own.loc[open_, "region"]) | (set() if listed_only else set(ids) - listed)
        return [r for r in ids if r in chosen]  # in regions.csv order

    def _check_chain(self, chain: pd.DataFrame) -> None:
        loops = chain["upstream"] == chain["downstream"]
        for row in chain.index[loops]:
            self.at("chain", "an industry cannot supply itself", row=int(row),
                     column="downstream", value=chain.at[row, "downstream"])
        edges = chain.loc[~loops & chain["upstream"].notna() & chain["downstream"].notna()]
        cycle = _find_cycle(edges)
        if cycle:
            rows = ", ".join(str(r) for r in cycle)
            path = " -> ".join([*edges.loc[cycle, "upstream"], edges.loc[cycle[-1], "downstream"]])
            self.at("chain", f"the chain has a cycle ({path}) on rows {rows}: "
                     "value chains must run one way", row=int(cycle[0]), column="upstream")


# ---------------------------------------------------------------------- helpers
def ordered(problems: list[Problem]) -> list[Problem]:
    """Group problems by file (in the order files were first mentioned), rows ascending."""
    first: dict[str, int] = {}
    for i, p in enumerate(problems):
        first.setdefault(p.file, i)
    return sorted(problems, key=lambda p: (first[p.file], p.row or 0))


def _as_list(value: Any, reader: Reader, key: str) -> list[Any]:
    if isinstance(value, list):
        return value
    reader.add(TOML, "expected a list, e.g. [\"a\", \"b\"]", column=key, value=value)
    return []


def _convert(raw: pd.Series, col: ColumnSpec) -> tuple[pd.Series, pd.Series, str]:
    """Parse text cells to the column's type. Returns (values, unreadable mask, message).
    Blank cells become missing values (checked later against ``nullable``)."""
    blank = raw == ""
    if col.kind in ("id", "str"):
        return raw.where(~blank, None).astype(object), pd.Series(False, index=raw.index), ""
    if col.kind == "bool":
        low = raw.str.lower()
        values = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        values[low.isin(TRUE_WORDS)] = True
        values[low.isin(FALSE_WORDS)] = False
        bad = ~blank & ~low.isin(TRUE_WORDS | FALSE_WORDS)
        return values, bad, "expected true or false (also accepted: 1/0, yes/no)"
    numbers = pd.to_numeric(raw.where(~blank, None), errors="coerce").astype(float)
    unreadable = ~blank & numbers.isna()
    infinite = np.isinf(numbers)
    bad = unreadable | infinite
    if col.kind == "int":
        fractional = numbers.notna() & ~infinite & (numbers != np.floor(numbers))
        # a whole number too large for 64 bits (1e308) cannot be held to be range-checked
        huge = numbers.notna() & ~infinite & (numbers.abs() > 2.0**53)
        bad = bad | fractional | huge
        values = numbers.where(~bad).astype("Int64")
        return values, bad, (f"expected a whole number, at most {number_text(LARGEST)} in size"
                             if huge.any() else "expected a whole number")
    message = "expected a finite number" + (f" ({col.unit})" if col.unit else "")
    return numbers.where(~bad), bad, message


def _default_series(col: ColumnSpec, index: pd.Index) -> pd.Series:
    if col.kind == "bool":
        return pd.Series(pd.NA, index=index, dtype="boolean")
    if col.kind == "int":
        return pd.Series(pd.NA, index=index, dtype="Int64")
    if col.kind == "float":
        return pd.Series(np.nan, index=index, dtype=float)
    return pd.Series(None, index=index, dtype=object)


def _expected(col: ColumnSpec) -> str:
    kinds = {"id": "an id", "str": "text", "float": "a number", "int": "a whole number",
             "bool": "true or false"}
    unit = f" ({col.unit})" if col.unit else ""
    return f"{kinds[col.kind]}{unit}: {col.doc}"


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


def suggest(value: str, ids: set[str]) -> str:
    close = difflib.get_close_matches(str(value), [str(i) for i in ids], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _find_cycle(edges: pd.DataFrame) -> list[int]:
    """Row numbers of one cycle in the chain graph, or [] if it is acyclic."""
    out: dict[str, list[tuple[str, int]]] = {}
    for row, e in edges.iterrows():
        out.setdefault(e["upstream"], []).append((e["downstream"], int(row)))
    state: dict[str, int] = {}
    stack: list[tuple[str, int]] = []

    def visit(node: str) -> list[int]:
        state[node] = 1
        for nxt, row in out.get(node, []):
            stack.append((nxt, row))
            if state.get(nxt) == 1:
                start = next(i for i, (n, _) in enumerate(stack) if _source(stack, i) == nxt)
                return [r for _, r in stack[start:]]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
            stack.pop()
        state[node] = 2
        return []

    def _source(st: list[tuple[str, int]], i: int) -> str:
        return edges.loc[st[i][1], "upstream"]

    for node in list(out):
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return []
