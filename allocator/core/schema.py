"""The instance format as data: every table, every column, its type, unit, bounds and meaning.

Validation (:mod:`allocator.input.validation`) and the reference part of ``docs/instance-format.md``
are both derived from these specs, so the format, its checks and its documentation cannot drift.
A family that needs new columns or tables declares them here (see ``docs/extending.md``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from allocator.core.family import Family

Kind = Literal["id", "str", "float", "int", "bool"]

#: the largest size of a number in any numeric cell (and setting), unless its column says
#: less: larger figures are almost always a unit mistake, and the solver works to absolute
#: tolerances of about 1e-7, so a model mixing 1e12 with 1 gives answers that are noise
#: (and 1e308 overflows the arithmetic that derives bounds). Use a larger unit instead.
LARGEST = 1e9
#: the largest national requirement the value chain may derive from the input (final demand
#: plus the ratios times downstream requirements, the default site maximum): below the
#: 1e15 at which HiGHS refuses a coefficient, with room to spare
LARGEST_DERIVED = 1e12


def number_text(x: float) -> str:
    """``1e9`` rather than ``1e+09``; plain ``0.5`` otherwise."""
    return f"{x:g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a table.

    ``required`` columns must be present in the file; ``nullable`` columns may hold blank cells
    (meaning "use the default": ``default`` or the documented fallback). ``references`` names
    the table whose ``id`` values the column must use.
    """

    name: str
    kind: Kind
    doc: str
    unit: str = ""
    required: bool = True
    nullable: bool = False
    default: object = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    references: str | None = None

    @property
    def upper(self) -> float | None:
        """The largest value allowed: ``le`` where the column gives one, else
        :data:`LARGEST` for numbers; None for text."""
        if self.kind not in ("float", "int"):
            return None
        return self.le if self.le is not None else LARGEST

    @property
    def lower(self) -> float | None:
        """The least value allowed (``ge``, or ``gt`` as an open bound), else
        ``-LARGEST`` for numbers; None for text."""
        if self.kind not in ("float", "int"):
            return None
        if self.ge is not None:
            return self.ge
        return self.gt if self.gt is not None else -LARGEST


@dataclass(frozen=True)
class TableSpec:
    """One table of an instance: a CSV file in the folder (or a sheet of a workbook)."""

    name: str
    doc: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    required: bool = False
    #: other tables that must be present when this one is
    needs: tuple[str, ...] = field(default_factory=tuple)
    #: rules across columns or tables that validation enforces, in words (documented under
    #: the table; the checks are in :mod:`allocator.input.validation`)
    rules: tuple[str, ...] = field(default_factory=tuple)

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _id(name: str = "id", doc: str = "identifier (text, unique in the table)") -> ColumnSpec:
    return ColumnSpec(name, "id", doc)


def _ref(name: str, table: str, doc: str) -> ColumnSpec:
    return ColumnSpec(name, "id", doc, references=table)


TABLES: dict[str, TableSpec] = {}


def _table(spec: TableSpec) -> TableSpec:
    TABLES[spec.name] = spec
    return spec


REGIONS = _table(
    TableSpec(
        "regions",
        "Candidate regions (provinces, cities) and their own funding.",
        (
            _id(),
            ColumnSpec("name", "str", "display name"),
            ColumnSpec("group", "str", "administrative group, e.g. province; flows that "
                       "leave a group pay the border surcharge"),
            ColumnSpec("latitude", "float", "latitude", unit="degrees", ge=-90, le=90),
            ColumnSpec("longitude", "float", "longitude", unit="degrees", ge=-180, le=180),
            ColumnSpec("funding_budget", "float", "money the region can invest in fixed setup "
                       "costs and new capacity", unit="money", ge=0),
            ColumnSpec("max_industries", "int", "focus limit: at most this many hosted "
                       "industries (blank: no limit)", required=False, nullable=True, ge=0),
            ColumnSpec("min_industries", "int", "equity floor: at least this many hosted "
                       "industries (blank: none)", required=False, nullable=True, ge=0),
        ),
        key=("id",),
        required=True,
        rules=("`min_industries` <= `max_industries` where both are given.",),
    )
)

INDUSTRIES = _table(
    TableSpec(
        "industries",
        "Strategic emerging industries to place.",
        (
            _id(),
            ColumnSpec("name", "str", "display name"),
            ColumnSpec("demand", "float", "national final demand; blank when markets.csv "
                       "gives it by region (then it must equal their sum if given)",
                       unit="capacity", nullable=True, ge=0),
            ColumnSpec("min_scale", "float", "minimum efficient scale of a new host site",
                       unit="capacity", ge=0),
            ColumnSpec("unit_capex", "float", "investment per unit of new capacity",
                       unit="money/capacity", ge=0),
            ColumnSpec("fixed_cost", "float", "fixed setup cost of hosting in a new region",
                       unit="money", ge=0),
            ColumnSpec("target_hosts", "int", "number of host regions the country needs; "
                       "more are penalized as duplication", ge=0),
            ColumnSpec("critical", "bool", "critical link of a value chain (resilience rules "
                       "apply)", required=False, nullable=True, default=False),
            ColumnSpec("capacity_max", "float", "default maximum capacity of one site (blank: "
                       "the industry's national requirement)", unit="capacity",
                       required=False, nullable=True, gt=0),
            ColumnSpec("capacity_unit", "str", "unit of capacity, for reports (blank: the "
                       "instance's capacity unit)", required=False, nullable=True),
            ColumnSpec("coordination_cost", "float", "coordination cost of moving one unit of "
                       "this industry's output one km to a downstream industry (blank: the "
                       "chain_coordination option)", unit="money/(capacity*km)",
                       required=False, nullable=True, ge=0),
            ColumnSpec("transport_cost", "float", "cost of shipping one unit of this "
                       "industry's output one km to a market (blank: the markets option)",
                       unit="money/(capacity*km)", required=False, nullable=True, ge=0),
            ColumnSpec("slow_return", "bool", "slow-return industry (new materials, quantum): "
                       "may use the reserved share of the national fund", required=False,
                       nullable=True, default=False),
        ),
        key=("id",),
        required=True,
        rules=(
            "`demand` blank only where `markets.csv` has rows for the industry; where it has, "
            "a given `demand` equals the sum of those rows.",
            "`capacity_max` >= `min_scale` wherever it applies: on every new candidate site "
            "without its own `sites.csv max_capacity` (pairs not in sites.csv when "
            "`[sites] candidates = \"all\"`, and listed pairs with `max_capacity` blank, "
            "not forbidden and without existing capacity).",
            "The national requirement the value chain derives (`demand` plus `chain.csv` "
            f"ratios times downstream requirements) is at most {number_text(LARGEST_DERIVED)}.",
        ),
    )
)

TALENT_SUPPLY = _table(
    TableSpec(
        "talent_supply",
        "Talent available per region and class. A class absent for a region has no supply there.",
        (
            _ref("region", "regions", "region id"),
            ColumnSpec("talent_class", "str", "talent class, e.g. chip_engineers"),
            ColumnSpec("supply", "float", "people available", unit="people", ge=0),
        ),
        key=("region", "talent_class"),
        required=True,
    )
)

TALENT_NEED = _table(
    TableSpec(
        "talent_need",
        "Talent each industry needs per unit of capacity.",
        (
            _ref("industry", "industries", "industry id"),
            ColumnSpec("talent_class", "str", "talent class"),
            ColumnSpec("need", "float", "people per unit of capacity", unit="people/capacity",
                       ge=0),
        ),
        key=("industry", "talent_class"),
        required=True,
    )
)

SITES = _table(
    TableSpec(
        "sites",
        "Per industry and region: whether it may host, what exists, and overrides. Pairs not "
        "listed are candidates with the industry's defaults, unless instance.toml sets "
        "sites.candidates = \"listed\".",
        (
            _ref("industry", "industries", "industry id"),
            _ref("region", "regions", "region id"),
            ColumnSpec("allowed", "bool", "false: the region may not host the industry",
                       required=False, nullable=True, default=True),
            ColumnSpec("existing_capacity", "float", "capacity already built (brownfield)",
                       unit="capacity", required=False, nullable=True, default=0.0, ge=0),
            ColumnSpec("max_capacity", "float", "maximum capacity at this site (blank: the "
                       "industry's capacity_max)", unit="capacity", required=False,
                       nullable=True, ge=0),
            ColumnSpec("fixed_cost", "float", "override of the industry's fixed setup cost",
                       unit="money", required=False, nullable=True, ge=0),
            ColumnSpec("unit_capex", "float", "override of the industry's unit capex",
                       unit="money/capacity", required=False, nullable=True, ge=0),
            ColumnSpec("talent_need_factor", "float", "multiplies the industry's talent need "
                       "at this site (blank: 1)", required=False, nullable=True, ge=0),
            ColumnSpec("must_host", "bool", "policy: the region must host the industry",
                       required=False, nullable=True, default=False),
        ),
        key=("industry", "region"),
        rules=(
            "`must_host` true and `allowed` false together are refused.",
            "`existing_capacity` > 0 on a pair with `allowed` false is refused.",
            "On a new site that may host (`allowed` not false, no existing capacity), its "
            "maximum capacity (`max_capacity`, blank: the industry's `capacity_max`) >= the "
            "industry's `min_scale`.",
            "`existing_capacity` <= the maximum capacity (`max_capacity`, blank: the "
            "industry's `capacity_max`).",
        ),
    )
)

CHAIN = _table(
    TableSpec(
        "chain",
        "Value-chain links: the downstream industry uses the upstream industry's output.",
        (
            _ref("upstream", "industries", "supplying industry"),
            _ref("downstream", "industries", "using industry"),
            ColumnSpec("ratio", "float", "units of upstream per unit of downstream capacity",
                       unit="capacity/capacity", gt=0),
        ),
        key=("upstream", "downstream"),
        rules=("`upstream` differs from `downstream`, and the links form no cycle: value "
               "chains run one way.",),
    )
)

MARKETS = _table(
    TableSpec(
        "markets",
        "Final demand by region. An industry with rows here has its final demand located.",
        (
            _ref("industry", "industries", "industry id"),
            _ref("region", "regions", "region where the demand is"),
            ColumnSpec("demand", "float", "final demand in the region", unit="capacity", ge=0),
        ),
        key=("industry", "region"),
    )
)

INPUTS = _table(
    TableSpec(
        "inputs",
        "Key inputs (lithium, lithography tools, ...), with the national import cap.",
        (
            _id(),
            ColumnSpec("name", "str", "display name"),
            ColumnSpec("import_cap", "float", "most that may be imported nationally (blank: "
                       "no cap)", unit="input units", nullable=True, ge=0),
            ColumnSpec("domestic_share_min", "float", "localization goal: least share of the "
                       "national need met from domestic supply", required=False,
                       nullable=True, default=0.0, ge=0, le=1),
            ColumnSpec("tradable", "bool", "true: domestic supply moves between regions (one "
                       "national pool); false: it is used where it is", required=False,
                       nullable=True, default=True),
        ),
        key=("id",),
        needs=("input_need",),
    )
)

INPUT_NEED = _table(
    TableSpec(
        "input_need",
        "Key input each industry needs per unit of capacity.",
        (
            _ref("industry", "industries", "industry id"),
            _ref("input", "inputs", "input id"),
            ColumnSpec("need", "float", "input units per unit of capacity",
                       unit="input units/capacity", ge=0),
        ),
        key=("industry", "input"),
        needs=("inputs",),
    )
)

INPUT_SUPPLY = _table(
    TableSpec(
        "input_supply",
        "Domestic supply of each key input by region (absent: none).",
        (
            _ref("region", "regions", "region id"),
            _ref("input", "inputs", "input id"),
            ColumnSpec("supply", "float", "domestic supply", unit="input units", ge=0),
        ),
        key=("region", "input"),
        needs=("inputs",),
    )
)

ARCS = _table(
    TableSpec(
        "arcs",
        "Explicit directed arcs. They join the generated network and replace its great-circle "
        "distance; unit_cost, where given, is the whole cost of moving one unit on the arc. "
        "An arc here never forbids a route. In chain_coordination it adds a route to the "
        "generated ones (itself, same group, k nearest). In markets every candidate site "
        "ships to every market while the option nearest_sites is 0 (the default): an arc "
        "then only sets that shipment's distance or cost; with nearest_sites = k >= 1, "
        "shipments come from each market's k nearest candidate sites plus the arcs listed "
        "here.",
        (
            _ref("from", "regions", "origin region"),
            _ref("to", "regions", "destination region"),
            ColumnSpec("distance_km", "float", "distance (blank: great-circle)", unit="km",
                       required=False, nullable=True, ge=0),
            ColumnSpec("unit_cost", "float", "cost per unit moved (blank: distance-based)",
                       unit="money/capacity", required=False, nullable=True, ge=0),
        ),
        key=("from", "to"),
        rules=("Each row gives `distance_km` or `unit_cost` (or both).",),
    )
)

SHOCKS = _table(
    TableSpec(
        "shocks",
        "Supply-shock scenarios (optional; makes the solve a two-stage stochastic program, see "
        "allocator.engine.stochastic). One row per shock of a scenario: hosting and capacity are "
        "decided once, production, flows, imports and unmet demand per scenario. A scenario "
        "without shocks (the base case) is one row with kind, target and factor blank. Every "
        "row of a scenario repeats its probability; the probabilities of the scenarios sum "
        "to 1.",
        (
            ColumnSpec("scenario", "str", "scenario name"),
            ColumnSpec("probability", "float", "probability of the scenario (the same on each "
                       "of its rows)", ge=0, le=1),
            ColumnSpec("kind", "str", "what the shock scales: import_cap (an input's national "
                       "import cap), input_price (an input's price, inputs.csv price), "
                       "availability (the share of a region's capacity that can run; 0: "
                       "offline); blank: no shock (a base scenario)", nullable=True),
            ColumnSpec("target", "str", "the input id (import_cap, input_price) or region id "
                       "(availability) the shock applies to", nullable=True),
            ColumnSpec("factor", "float", "multiplies the target's value in this scenario "
                       "(0.65: -35%; 3: x3); availability at most 1", nullable=True, ge=0),
        ),
        key=("scenario", "kind", "target"),
    )
)

#: the order in which tables are read and documented
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)


def merged(families: Iterable[Family]) -> dict[str, TableSpec]:
    """The built-in tables plus the tables and columns that ``families`` declare."""
    families = list(families)
    schema = dict(TABLES)
    for fam in families:
        for table in fam.tables:
            schema[table.name] = table
    for fam in families:
        for table, cols in fam.columns.items():
            if table not in schema:
                raise ValueError(f"family {fam.name} adds columns to unknown table {table}")
            known = {c.name for c in schema[table].columns}
            new = tuple(c for c in cols if c.name not in known)
            schema[table] = replace(schema[table], columns=schema[table].columns + new)
    return schema


def markdown_reference(schema: dict[str, TableSpec] | None = None) -> str:
    """The per-table reference of ``docs/instance-format.md``, generated from the specs."""
    out: list[str] = []
    for spec in (schema or TABLES).values():
        status = "required" if spec.required else "optional"
        out.append(f"### `{spec.file}` ({status})\n")
        out.append(spec.doc + "\n")
        out.append(f"Key: ({', '.join(spec.key)}), unique.")
        if spec.needs:
            out.append(f" Needs: {', '.join(t + '.csv' for t in spec.needs)}.")
        out.append("\n\n| column | type | unit | required | blank allowed | rule | meaning |\n")
        out.append("|---|---|---|---|---|---|---|\n")
        for c in spec.columns:
            rules = []
            if c.ge is not None:
                rules.append(f">= {number_text(c.ge)}")
            if c.gt is not None:
                rules.append(f"> {number_text(c.gt)}")
            if c.lower == -LARGEST:
                rules.append(f">= {number_text(-LARGEST)}")
            if c.upper is not None:
                rules.append(f"<= {number_text(c.upper)}")
            if c.references:
                rules.append(f"id in {c.references}.csv")
            if c.default is not None:
                rules.append(f"default {c.default}")
            out.append(
                f"| `{c.name}` | {c.kind} | {c.unit} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {'; '.join(rules)} | {c.doc} |\n"
            )
        if spec.rules:
            out.append("\nRules across columns:\n\n")
            out.extend(f"- {rule}\n" for rule in spec.rules)
        out.append("\n")
    return "".join(out)
