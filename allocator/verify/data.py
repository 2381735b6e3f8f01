"""The checker's own reading of an instance folder and of a results folder.

Nothing here imports Pyomo, HiGHS or the model's families: the instance is read again from
its files (instance.toml with ``tomllib``, every table with pandas, typed by
:mod:`allocator.core.schema`) and every derived quantity the rules need is restated here from
the documented definitions, not taken from :mod:`allocator.input.data`: candidate sites and their
resolved parameters, national final demand $D_i$, the requirement $G_i$, great-circle
distances. If the engine and this module ever disagree, one of them is wrong.

The instance was validated when it was solved; the files' SHA-256 are compared with those
recorded in ``summary.json`` so that a changed instance is reported, not silently used.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.core.schema import TABLES, TableSpec
from allocator.input.convert import workbook_to_folder
from allocator.input.overrides import Overrides
from allocator.input.settings import ENGINE_SECTIONS

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


class ReadError(Exception):
    """A results or instance folder the checker cannot read (exit code 2)."""


# ------------------------------------------------------------------------- reading
def _typed(raw: pd.Series, kind: str) -> pd.Series:
    """Text cells to the column's kind; blank cells become missing values."""
    text = raw.astype(str).str.strip()
    blank = text == ""
    if kind in ("id", "str"):
        return text.where(~blank, None).astype(object)
    if kind == "bool":
        low = text.str.lower()
        out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        out[low.isin(_TRUE)] = True
        out[low.isin(_FALSE)] = False
        return out
    return pd.to_numeric(text.where(~blank, None), errors="coerce").astype(float)


def read_table(path: Path, spec: TableSpec | None = None,
               extra: dict[str, str] | None = None) -> pd.DataFrame:
    """Read one CSV table; columns typed by ``spec`` (and ``extra`` name -> kind), others
    kept as text. The index is the spreadsheet row (header = row 1)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [str(c).strip() for c in df.columns]
    df.index = pd.RangeIndex(2, 2 + len(df))
    df = df.loc[~(df == "").all(axis=1)] if len(df.columns) else df
    kinds = {c.name: c.kind for c in spec.columns} if spec else {}
    kinds.update(extra or {})
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        out[col] = _typed(df[col], kinds.get(col, "str"))
    if spec is not None:  # optional columns that the file leaves out: all blank
        for col in spec.columns:
            if col.name not in out.columns:
                out[col.name] = _typed(pd.Series("", index=df.index, dtype=object), col.kind)
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class InstanceData:
    """An instance folder as the checker reads it, with the restated derived data."""

    path: Path
    settings: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    files: dict[str, str]  # table -> path relative to the folder
    hashes: dict[str, str] = field(default_factory=dict)
    #: the kinds of the columns the families add to the built-in tables (table -> column
    #: -> kind), as the tables were read with them
    columns: dict[str, dict[str, str]] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """The table ``name`` (an empty frame with its declared columns when absent)."""
        if name in self.tables:
            return self.tables[name]
        spec = TABLES.get(name)
        return pd.DataFrame(columns=[c.name for c in spec.columns] if spec else [])

    def has(self, name: str) -> bool:
        return name in self.tables

    def setting(self, section: str, key: str) -> Any:
        """An engine setting of instance.toml ([sites], [solver], [units]) or its default."""
        default = next(o.default for o in ENGINE_SECTIONS[section] if o.name == key)
        return self.settings.get(section, {}).get(key, default)

    @property
    def money(self) -> str:
        return str(self.setting("units", "money"))

    # ----------------------------------------------------------------- restated data
    @cached_property
    def regions(self) -> pd.DataFrame:
        """regions.csv indexed by id, in file order."""
        return self.tables["regions"].set_index("id", drop=False)

    @cached_property
    def industries(self) -> pd.DataFrame:
        """industries.csv indexed by id, in file order."""
        return self.tables["industries"].set_index("id", drop=False)

    @cached_property
    def chain(self) -> pd.DataFrame:
        return self.table("chain")

    @cached_property
    def final_demand(self) -> pd.Series:
        r"""$D_i$: the sum of the industry's markets.csv rows where it has any, else
        industries.csv demand (blank: 0)."""
        demand = self.industries["demand"].astype(float).fillna(0.0).copy()
        markets = self.table("markets")
        if len(markets):
            located = markets.groupby("industry")["demand"].sum()
            demand.loc[located.index] = located.to_numpy()
        return demand

    @cached_property
    def requirement(self) -> pd.Series:
        r"""$G_i = D_i + \sum_{(i,d) \in L} a_{id} G_d$ (the chain is acyclic)."""
        links: dict[str, list[tuple[str, float]]] = {}
        for u, d, a in zip(self.chain["upstream"], self.chain["downstream"],
                           self.chain["ratio"], strict=True):
            links.setdefault(u, []).append((d, float(a)))
        memo: dict[str, float] = {}

        def g(i: str) -> float:
            if i not in memo:
                memo[i] = float(self.final_demand[i]) + sum(a * g(d) for d, a in
                                                            links.get(i, ()))
            return memo[i]

        return pd.Series({i: g(i) for i in self.industries.index}, dtype=float)

    @cached_property
    def sites(self) -> pd.DataFrame:
        r"""Candidate sites $S$, indexed by (industry, region), every parameter resolved:

        * a pair is a candidate unless sites.csv says ``allowed = false``; with
          ``[sites] candidates = "listed"`` only pairs listed in sites.csv are;
        * ``existing`` $e_{ir}$ = existing_capacity (blank: 0); ``brownfield`` when $e > 0$;
        * ``min_scale`` $m$ = the industry's min_scale, 0 on brownfield sites;
        * ``capacity_max`` $\overline{Q}$ = max(site max_capacity, else the industry's
          capacity_max, else $G_i$; $m$; $e$);
        * ``fixed_cost``, ``unit_capex``: the site's value, else the industry's;
        * ``talent_factor`` (blank: 1), ``must_host`` (blank: false).
        """
        ind = self.industries
        grid = pd.DataFrame([(i, r) for i in ind.index for r in self.regions.index],
                            columns=["industry", "region"])
        given = self.table("sites").assign(listed=True)
        df = grid.merge(given, on=["industry", "region"], how="left")
        listed = df["listed"].astype("boolean").fillna(False).astype(bool)
        allowed = df["allowed"].astype("boolean").fillna(True).astype(bool)
        if self.setting("sites", "candidates") == "listed":
            allowed &= listed
        df = df.loc[allowed.to_numpy()]
        of = df["industry"]

        def site_or_industry(site_col: str, ind_col: str) -> pd.Series:
            return df[site_col].astype(float).fillna(of.map(ind[ind_col]).astype(float))

        existing = df["existing_capacity"].astype(float).fillna(0.0)
        brown = existing > 0
        scale = of.map(ind["min_scale"]).astype(float).where(~brown, 0.0)
        site_max = df["max_capacity"].astype(float).fillna(
            of.map(ind["capacity_max"]).astype(float)).fillna(of.map(self.requirement))
        out = pd.DataFrame({
            "industry": of, "region": df["region"], "existing": existing, "brownfield": brown,
            "capacity_max": np.maximum(np.maximum(site_max, scale), existing),
            "min_scale": scale,
            "fixed_cost": site_or_industry("fixed_cost", "fixed_cost"),
            "unit_capex": site_or_industry("unit_capex", "unit_capex"),
            "talent_factor": df["talent_need_factor"].astype(float).fillna(1.0),
            "must_host": df["must_host"].astype("boolean").fillna(False).astype(bool),
        })
        return out.set_index(["industry", "region"])

    @cached_property
    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.radians(self.regions["latitude"].to_numpy(float)),
                np.radians(self.regions["longitude"].to_numpy(float)))

    def great_circle_km(self, a: pd.Series | list[str], b: pd.Series | list[str]
                        ) -> np.ndarray:
        """Haversine distance between regions a[k] and b[k] (mean Earth radius)."""
        pos = pd.Series(np.arange(len(self.regions)), index=self.regions.index)
        i, j = pos.reindex(list(a)).to_numpy(), pos.reindex(list(b)).to_numpy()
        lat, lon = self.coordinates
        h = (np.sin((lat[j] - lat[i]) / 2) ** 2
             + np.cos(lat[i]) * np.cos(lat[j]) * np.sin((lon[j] - lon[i]) / 2) ** 2)
        return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))

    @cached_property
    def distance_matrix(self) -> pd.DataFrame:
        """Great-circle km between every two regions (for nearest-neighbour rules)."""
        ids = list(self.regions.index)
        n = len(ids)
        a = np.repeat(ids, n)
        b = np.tile(ids, n)
        return pd.DataFrame(self.great_circle_km(a, b).reshape(n, n), index=ids, columns=ids)

    def nearest(self, k: int) -> dict[str, set[str]]:
        """Each region's k nearest other regions (great circle; ties in file order)."""
        d = self.distance_matrix.to_numpy().copy()
        np.fill_diagonal(d, np.inf)
        ids = np.array(self.regions.index, dtype=object)
        k = min(k, len(ids) - 1)
        if k <= 0:
            return {r: set() for r in ids}
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        return {ids[n]: set(ids[order[n]]) for n in range(len(ids))}

    @cached_property
    def explicit_arcs(self) -> pd.DataFrame:
        """arcs.csv indexed by (from, to): distance_km, unit_cost (blank: NaN)."""
        arcs = self.table("arcs")
        return arcs.set_index(["from", "to"])[["distance_km", "unit_cost"]]

    def arc_distance(self, frm: pd.Series, to: pd.Series) -> np.ndarray:
        """arcs.csv distance_km where given, else the great-circle distance."""
        km = self.great_circle_km(frm, to)
        if not len(self.explicit_arcs) or not len(frm):
            return km
        given = self.explicit_arcs["distance_km"].reindex(
            pd.MultiIndex.from_arrays([list(frm), list(to)])).to_numpy(float)
        return np.where(np.isnan(given), km, given)

    def arc_unit_cost(self, frm: pd.Series, to: pd.Series) -> np.ndarray:
        """arcs.csv unit_cost where given (NaN elsewhere)."""
        if not len(self.explicit_arcs) or not len(frm):
            return np.full(len(frm), np.nan)
        return self.explicit_arcs["unit_cost"].reindex(
            pd.MultiIndex.from_arrays([list(frm), list(to)])).to_numpy(float)


def read_instance(path: str | Path, columns: dict[str, dict[str, str]] | None = None,
                  tables: dict[str, dict[str, str]] | None = None, *,
                  allow_families: bool = False,
                  family_files: Iterable[str | Path] = ()) -> InstanceData:
    """Read instance.toml and every table of the folder (as given in [tables]): the built-in
    tables typed by :mod:`allocator.core.schema`, with the columns the families add
    (``columns``: table -> column -> kind), and the tables the families declare (``tables``,
    likewise). An ``.xlsx`` instance workbook is read through :func:`read_workbook` (which
    runs the family files the workbook names only with ``allow_families`` or when given in
    ``family_files``)."""
    columns, tables = columns or {}, tables or {}
    folder = Path(path)
    if folder.suffix.lower() == ".xlsx" and folder.is_file():
        return read_workbook(folder, columns, tables, allow_families=allow_families,
                             family_files=family_files)
    toml_path = folder / "instance.toml"
    if not toml_path.is_file():
        raise ReadError(f"{folder}: not an instance folder (no instance.toml)")
    settings = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    hashes = {"instance.toml": sha256(toml_path)}
    renamed = settings.get("tables", {})
    found: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    declared = [(name, None, kinds) for name, kinds in tables.items() if name not in TABLES]
    for name, spec, kinds in (*((t.name, t, columns.get(t.name)) for t in TABLES.values()),
                              *declared):
        rel = renamed.get(name, f"{name}.csv")
        file = folder / rel
        if not file.is_file():
            continue
        table = read_table(file, spec, kinds)
        for column, kind in (kinds or {}).items():  # optional columns left out: blank
            if column not in table.columns:
                table[column] = _typed(pd.Series("", index=table.index, dtype=object), kind)
        found[name] = table
        files[name] = str(Path(rel))
        hashes[str(Path(rel))] = sha256(file)
    for required in ("regions", "industries"):
        if required not in found:
            raise ReadError(f"{folder}: {required}.csv is missing")
    return InstanceData(folder.resolve(), settings, found, files, hashes, columns)


def apply_overrides(data: InstanceData, summary: dict[str, Any]) -> list[str]:
    """Apply the changes the solve made in memory as it read the instance (``summary.json``
    ``instance.overrides``: a sweep case, :mod:`allocator.input.overrides`) to the checker's
    own reading: settings, and column changes (a table read from another file is already
    read from it: :func:`allocator.verify.scenarios.load_named_tables`). Returns notes on
    changes that no longer match a row (the instance changed since)."""
    recorded = summary.get("instance", {}).get("overrides")
    if not recorded:
        return []
    overrides = Overrides.from_dict(recorded)
    overrides.apply_settings(data.settings)
    problems, _ = overrides.apply_tables(data.tables, lambda t: data.files.get(t, f"{t}.csv"))
    for name, attr in vars(InstanceData).items():  # derived data, from the changed tables
        if isinstance(attr, cached_property):
            data.__dict__.pop(name, None)
    return [str(p) for p in problems]


def read_workbook(book: Path, columns: dict[str, dict[str, str]] | None = None,
                  tables: dict[str, dict[str, str]] | None = None, *,
                  allow_families: bool = False,
                  family_files: Iterable[str | Path] = ()) -> InstanceData:
    """An instance workbook, converted to a temporary folder by ``allocator.input.convert``
    and read like one. That converter is the validated reader, which loads the families'
    definitions (and with them Pyomo); the checks themselves stay plain pandas."""
    with tempfile.TemporaryDirectory() as tmp:
        workbook_to_folder(book, Path(tmp) / "instance", allow_families=allow_families,
                           extra_families=family_files)
        data = read_instance(Path(tmp) / "instance", columns, tables)
    data.path = book.resolve()
    data.hashes = {book.name: sha256(book)}
    return data


# ------------------------------------------------------------------------- results
@dataclass
class ResultsData:
    """A results folder: summary.json and every table written."""

    path: Path
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        if name in self.tables:
            return self.tables[name]
        return pd.DataFrame(columns=columns or [])


def read_results(path: str | Path) -> ResultsData:
    folder = Path(path)
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise ReadError(f"{folder}: not a results folder (no summary.json)")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    tables = {}
    for csv in sorted(folder.glob("*.csv")):
        try:
            tables[csv.stem] = pd.read_csv(csv, keep_default_na=False,
                                           na_values=[""], dtype={"index": str})
        except pd.errors.EmptyDataError:
            tables[csv.stem] = pd.DataFrame()
    return ResultsData(folder.resolve(), summary, tables)


def index_text(index: object) -> str:
    """How result tables write a constraint index: 'A,eng' for a tuple, 'None' for a scalar
    constraint (the engine's shortfalls table uses the same form)."""
    if isinstance(index, tuple):
        return ",".join(map(str, index))
    return str(index)


def finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
