"""A validated instance and the data derived from it (sparse sets, resolved site parameters).

Load with :func:`load_instance`; every table is a pandas DataFrame whose index is the row
number of the source file as a spreadsheet shows it, so any number in the model can be traced
back to the row it came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.core.family import Family
from allocator.core.schema import MARKETS, TableSpec
from allocator.core.tables import CAPACITY, TALENT_UNIT
from allocator.input.network import Network
from allocator.input.overrides import Overrides
from allocator.input.read import read_instance
from allocator.input.settings import ENGINE_SECTIONS
from allocator.input.validation import RawInstance


@dataclass(frozen=True)
class FamilyStatus:
    """Whether a family of the formulation is active for this instance, and why not."""

    family: Family
    active: bool
    reason: str = ""


@dataclass
class Instance:
    """A validated instance: settings with defaults applied, typed tables, derived sets."""

    path: Path
    name: str
    description: str
    settings: dict[str, dict[str, Any]]
    family_options: dict[str, dict[str, Any]]
    weights: dict[str, float]
    families: list[FamilyStatus]
    schema: dict[str, TableSpec]
    tables: dict[str, pd.DataFrame]
    files: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    #: every family the instance knew of, by name, including those switched off
    known_families: dict[str, Family] = field(default_factory=dict)
    #: instance.toml settings changed for this run (--set): {"SECTION.KEY": value}
    set_values: dict[str, Any] = field(default_factory=dict)
    #: what was changed in memory as the files were read (a sweep case); the files and
    #: their hashes are the instance's own
    overrides: Overrides = field(default_factory=Overrides)

    # ----------------------------------------------------------------- basic access
    def table(self, name: str) -> pd.DataFrame:
        """The table ``name``; an empty table with the declared columns when absent."""
        if name in self.tables:
            return self.tables[name]
        cols = [c.name for c in self.schema[name].columns]
        return pd.DataFrame(columns=cols)

    def has(self, name: str) -> bool:
        return name in self.tables

    def file_of(self, table: str) -> str:
        return self.files.get(table, self.schema[table].file)

    @property
    def active_families(self) -> list[Family]:
        return [s.family for s in self.families if s.active]

    @property
    def every_family(self) -> list[FamilyStatus]:
        """Every family the instance knows of (the default list, then the files it loaded),
        those switched off by ``without`` (``[families] without`` or ``--without``) as off:
        what ``allocator validate`` and ``allocator families`` list."""
        built = {s.family.name: s for s in self.families}
        off = "off: switched off by without ([families] without or --without)"
        listed = [built.get(name, FamilyStatus(fam, False, off))
                  for name, fam in self.known_families.items()]
        return listed + [s for s in self.families if s.family.name not in self.known_families]

    def is_active(self, name: str) -> bool:
        return any(s.family.name == name and s.active for s in self.families)

    @property
    def digest(self) -> str:
        """SHA-256 over every instance file's hash (sorted by path): the instance's identity."""
        h = hashlib.sha256()
        for path in sorted(self.hashes):
            h.update(f"{path}\0{self.hashes[path]}\n".encode())
        return h.hexdigest()

    @property
    def money(self) -> str:
        return self.settings["units"]["money"]

    @property
    def talent_unit(self) -> str:
        """The unit talent is counted in ([units] talent, e.g. "thousand people")."""
        return str(self.settings["units"][TALENT_UNIT])

    # ----------------------------------------------------------------- derived data
    def capacity_unit(self, industry: str) -> str:
        """The unit of an industry's capacity (industries.csv capacity_unit, else [units])."""
        unit = self.industry["capacity_unit"].get(industry)
        return unit if isinstance(unit, str) and unit else str(self.settings["units"][
            CAPACITY])

    @cached_property
    def region_ids(self) -> list[str]:
        return list(self.tables["regions"]["id"])

    @cached_property
    def industry_ids(self) -> list[str]:
        return list(self.tables["industries"]["id"])

    @cached_property
    def industry(self) -> pd.DataFrame:
        """industries.csv indexed by id (the file row is kept in column ``row``)."""
        df = self.tables["industries"].copy()
        df["row"] = df.index
        return df.set_index("id")

    @cached_property
    def region(self) -> pd.DataFrame:
        """regions.csv indexed by id (the file row is kept in column ``row``)."""
        df = self.tables["regions"].copy()
        df["row"] = df.index
        return df.set_index("id")

    @cached_property
    def network(self) -> Network:
        return Network(self.tables["regions"], self.tables.get("arcs"))

    @cached_property
    def final_demand(self) -> pd.Series:
        """D_i: national final demand per industry (from markets.csv where it has rows)."""
        demand = self.industry["demand"].astype(float).copy()
        if self.has(MARKETS.name):
            located = self.tables[MARKETS.name].groupby("industry")["demand"].sum()
            demand.loc[located.index] = located
        return demand.fillna(0.0)

    @cached_property
    def chain(self) -> pd.DataFrame:
        """chain.csv (upstream, downstream, ratio), with the file row in ``row``."""
        df = self.table("chain").copy()
        df["row"] = df.index
        return df.reset_index(drop=True)

    @cached_property
    def requirement(self) -> pd.Series:
        """G_i: final demand plus what downstream industries need at their own G, computed
        from the bottom of the chain up (the chain is acyclic). The default site maximum."""
        req = self.final_demand.copy()
        chain = self.chain
        order = topological(self.industry_ids, chain)
        for ind in reversed(order):
            links = chain[chain["upstream"] == ind]
            if len(links):
                req[ind] = self.final_demand[ind] + float(
                    (links["ratio"].to_numpy() * req[links["downstream"]].to_numpy()).sum()
                )
        return req

    @cached_property
    def sites(self) -> pd.DataFrame:
        """Candidate sites S: one row per (industry, region) pair that may host, indexed by
        (industry, region), with every parameter resolved:

        ``existing``, ``capacity_max``, ``min_scale`` (0 for brownfield sites), ``fixed_cost``,
        ``unit_capex``, ``talent_factor``, ``must_host``, ``brownfield``, ``row`` (the
        sites.csv row, or 0 when the pair is not listed).
        """
        ind = self.industry
        listed_only = self.settings["sites"]["candidates"] == "listed"
        grid = pd.MultiIndex.from_product([self.industry_ids, self.region_ids],
                                          names=["industry", "region"])
        base = pd.DataFrame(index=grid).reset_index()
        given = self.table("sites").copy()
        given["row"] = given.index
        df = base.merge(given, on=["industry", "region"], how="left", suffixes=("", "_site"))
        listed = df["row"].notna()
        allowed = df["allowed"].astype("boolean").fillna(True) & (listed | (not listed_only))
        df = df.loc[allowed.to_numpy()].copy()
        industry_of = df["industry"]
        df["existing"] = df["existing_capacity"].astype(float).fillna(0.0)
        df["brownfield"] = df["existing"] > 0
        default_max = ind["capacity_max"].astype(float).fillna(self.requirement)
        cap = df["max_capacity"].astype(float).fillna(industry_of.map(default_max))
        scale = industry_of.map(ind["min_scale"]).astype(float)
        df["min_scale"] = np.where(df["brownfield"], 0.0, scale)
        df["capacity_max"] = np.maximum.reduce([cap.to_numpy(), df["min_scale"].to_numpy(),
                                                df["existing"].to_numpy()])
        site_fixed = df.pop("fixed_cost").astype(float)
        df["fixed_cost"] = site_fixed.fillna(industry_of.map(ind["fixed_cost"]))
        site_capex = df.pop("unit_capex").astype(float)
        df["unit_capex"] = site_capex.fillna(industry_of.map(ind["unit_capex"]))
        df["talent_factor"] = df["talent_need_factor"].astype(float).fillna(1.0)
        df["must_host"] = df["must_host"].astype("boolean").fillna(False).astype(bool)
        df["row"] = df["row"].fillna(0).astype(int)
        keep = ["industry", "region", "existing", "brownfield", "capacity_max", "min_scale",
                "fixed_cost", "unit_capex", "talent_factor", "must_host", "row"]
        return df[keep].set_index(["industry", "region"])

    @cached_property
    def least_capacity(self) -> pd.Series:
        """$L_i$: the least national capacity of each industry in any plan: its final demand
        plus what its downstream industries need at their own least capacity, and at least
        the existing capacity kept on brownfield sites (``[sites] brownfield = keep``)."""
        sites = self.sites
        keep = self.settings["sites"]["brownfield"] == "keep"
        kept = (sites["existing"] * (sites["brownfield"] & keep)).groupby(level=0).sum()
        kept = kept.reindex(self.industry_ids, fill_value=0.0)
        least = self.final_demand.reindex(self.industry_ids).astype(float).copy()
        chain = self.chain
        for ind in reversed(topological(self.industry_ids, chain)):
            links = chain[chain["upstream"] == ind]
            need = float(self.final_demand[ind]) + float(
                (links["ratio"].to_numpy(float) * least[links["downstream"]].to_numpy(float)).sum())
            least[ind] = max(need, float(kept[ind]))
        return least

    @cached_property
    def site_list(self) -> list[tuple[str, str]]:
        return list(self.sites.index)

    def options(self, family: str) -> dict[str, Any]:
        return self.family_options.get(family, {})


def load_instance(
    path: str | Path,
    *,
    extra_families: Iterable[str | Path | Family] = (),
    without: Iterable[str] = (),
    tables: dict[str, str] | None = None,
    allow_families: bool = False,
    set_values: Mapping[str, Any] | None = None,
    overrides: Overrides | None = None,
) -> Instance:
    """Read, validate and prepare the instance folder at ``path``; ``tables`` names table
    files over the instance's ``[tables]`` (the command line's ``--table NAME=PATH``);
    ``allow_families`` runs the family files the instance names (``--allow-families``;
    otherwise only those also given in ``extra_families`` run, see :mod:`allocator.core.trust`);
    ``set_values`` change instance.toml settings for this run (``--set``:
    ``{"solver.mip_gap": 0.01}``, checked like the file); ``overrides`` are a sweep case's
    changes made in memory as it is read (:mod:`allocator.input.overrides`).

    Raises :class:`allocator.core.errors.InputError` listing every problem found.
    """
    raw = read_instance(path, extra_families=extra_families, without=without, tables=tables,
                        allow_families=allow_families, set_values=set_values,
                        overrides=overrides)
    return from_raw(raw)


def from_raw(raw: RawInstance) -> Instance:
    settings = {
        section: {o.name: raw.settings.get(section, {}).get(o.name, o.default) for o in opts}
        for section, opts in ENGINE_SECTIONS.items()
    }
    family_options = {
        f.name: {o.name: raw.settings.get(f.name, {}).get(o.name, o.default) for o in f.options}
        for f in raw.families
    }
    weights = {t.name: float(raw.settings.get("objective", {}).get(t.name, t.default_weight))
               for f in raw.families for t in f.terms}
    statuses = []
    for fam in raw.families:
        missing = [t for t in fam.requires if t not in raw.tables]
        reason = f"off: {', '.join(t + '.csv' for t in missing)} absent" if missing else ""
        statuses.append(FamilyStatus(fam, not missing, reason))
    return Instance(
        path=raw.path.resolve(),
        name=str(raw.settings.get("name", raw.path.name)),
        description=str(raw.settings.get("description", "")),
        settings=settings,
        family_options=family_options,
        weights=weights,
        families=statuses,
        schema=raw.schema,
        tables=raw.tables,
        files=raw.files,
        hashes=raw.hashes,
        known_families=raw.known,
        set_values=raw.set_values,
        overrides=raw.overrides,
    )


def topological(nodes: list[str], chain: pd.DataFrame) -> list[str]:
    """Industries ordered so that every upstream comes before its downstream industries."""
    indeg = {n: 0 for n in nodes}
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for u, d in zip(chain["upstream"], chain["downstream"], strict=True):
        succ[u].append(d)
        indeg[d] += 1
    ready = [n for n in nodes if indeg[n] == 0]
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for d in succ[n]:
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    return order
