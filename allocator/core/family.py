r"""The contract of a formulation family, and how families are found and loaded.

A family is one file in ``models/`` (installed as ``allocator.models``) or anywhere on disk.
The file's docstring holds its mathematics; the file defines ``FAMILY = Family(...)`` with

* ``name``: how instance files and the command line refer to it;
* ``requires``: tables that must be present for it to be active (absent: it switches off);
* ``options``: its settings, read from the ``[name]`` table of ``instance.toml``;
* ``terms``: the objective terms it contributes, with their default weights;
* ``symbols``: every set, parameter, variable, constraint and expression it creates, with
  its math symbol, index, unit and meaning (``docs/formulation.md`` is generated from these,
  and a test checks that the built Pyomo block holds exactly these components);
* ``tables`` / ``columns``: new input tables or columns it reads, validated like built-in ones;
* ``build(block, ctx)``: puts its components on its own Pyomo block, reading data and the
  shared decisions through :class:`allocator.engine.build.Context` only;
* ``report_rows(block, ctx)`` (optional): its rows of the shared result tables ``flows``
  and ``resources`` (use of each limited resource against what is available), and tables
  of its own (``pilot_bases.csv``);
* ``report_parts`` (optional, a :class:`ReportParts`): what it adds to the planner's HTML
  report and to the summary printed after a solve (a section of its own, blocks inside a
  shared section, key figures, lines). A built-in family states them in
  ``models/<family>/report.py`` (``REPORT``, found by name);
* ``limit_source(block, ctx, constraint, index)`` (optional): where a row of one of its
  ``limits`` comes from in the input, as a :class:`LimitSource` (file, spreadsheet rows,
  column, what it limits, the limit's value and unit): how ``--soft`` shortfalls and
  ``allocator explain`` name the planner's own rows;
* ``input_rules(tables, settings)`` (optional): input rules across tables, run while the
  instance is validated; each broken rule is a :class:`allocator.core.errors.Problem`
  (file, row, column, value), and ``allocator validate`` lists them with all others (exit 2);
* ``presolve_checks(instance, options, least)`` (optional): necessary conditions for a
  feasible plan under the family's limits, in plain arithmetic, run before any solve: with
  $L_i$ = ``least[i]`` the least national capacity of industry $i$ in any plan, each check
  compares what all demand needs at least with what the input makes available at most, and
  each failure is a :class:`allocator.core.presolve.CheckFailure` (one sentence with the
  numbers and input rows) that proves no plan exists: ``allocator solve`` then skips HiGHS,
  explains and exits 4. The checks of a softened family (``--soft``) do not run;
* ``verify_rules(v)`` (optional): the family's rules restated for ``allocator verify``,
  which recomputes them from the written result tables with plain pandas (``v`` is an
  :class:`allocator.verify.Check`). A built-in family's rules live beside its model, in
  ``models/<family>/verify.py`` (found by name, sharing no code with ``model.py``); a
  family without either is reported as *not checked*.
* ``site_bounds(instance, options, sites)`` (optional): the most capacity each candidate site
  can reach under the family's limits, used to tighten site maxima and leave out sites that
  can never host (:mod:`allocator.engine.prune`).
* ``heuristic_limits(instance, options, sites)`` (optional): the family's limits as data for
  the construction heuristic that finds a first plan (:mod:`allocator.engine.warmstart`): a
  :class:`allocator.core.tables.HeuristicLimits` (a resource each unit of capacity uses in
  its region, money for setup and capex, hosts per region, input pools, the flows that
  deliver output); the greedy keeps what is left of each while it opens sites.
* ``enforces_must_host``: the family makes the ``sites.csv`` ``must_host`` pairs host
  ($x_{ir} = 1$): pruning then never leaves such a site out, and ``allocator evaluate``
  names this family when a plan leaves one out;
* ``relax_last``: its limits are the demand the plan is for (or the deliveries that carry
  it): ``allocator explain`` relaxes them only when the other families' limits cannot make
  room (their rows weigh more than all other limits together);
* ``site_maximum_rows``: its constraints, indexed by site, in which the site maximum
  $\overline{Q}_{ir}$ is the coefficient of ``hosts`` ($q_{ir} \le \overline{Q}_{ir} x_{ir}$):
  pruning tightens that coefficient, and the shadow prices' LP puts the input's back.
* ``close(block, ctx)`` (optional): a second phase, run after every family's ``build``; the
  owner of a limit that other families may use (``collects``, e.g. talent, funding) builds
  its limit rows here, including ``ctx.uses(resource)``: what other families declared with
  ``ctx.add_use(resource, key, expr)`` (a pilot base's researchers, its setup cost).
* ``stage`` (default 1) and ``demand``: a family that produces or moves goods (flows,
  shipments, input use) is ``stage = 2`` and reads ``ctx.activity`` (the capacity that runs)
  instead of ``ctx.capacity``; with supply-shock scenarios the engine builds it once per
  scenario (:mod:`allocator.engine.stochastic`). ``demand`` names its final-demand floors, which
  get an unmet-demand slack in a scenario.

Families never reach into each other's blocks; they meet through the shared decisions
(``hosts``, ``capacity``), shared accumulators (the output each site ships) and the objective.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from allocator.core.schema import LARGEST, ColumnSpec, TableSpec, number_text

if TYPE_CHECKING:
    import pandas as pd
    import pyomo.environ as pyo

    from allocator.core.errors import Problem
    from allocator.core.presolve import CheckFailure
    from allocator.core.tables import HeuristicLimits
    from allocator.engine.build import Context
    from allocator.input.data import Instance
    from allocator.output.page import ReportData
    from allocator.output.parts import Block, Section

SymbolKind = Literal[
    "set", "parameter", "variable", "constraint", "expression", "block", "objective"
]


@dataclass(frozen=True)
class Symbol:
    """One documented model component.

    ``name`` is the Pyomo component name on the family's block, ``math`` its symbol in LaTeX,
    ``index`` the sets it is indexed by (sparse sets are named, e.g. ``sites``), ``definition``
    the constraint or expression in LaTeX (for constraints and expressions).
    """

    name: str
    kind: SymbolKind
    math: str
    index: str
    unit: str
    doc: str
    definition: str = ""


@dataclass(frozen=True)
class Option:
    """A setting of a family (or of the engine), read from ``instance.toml``."""

    name: str
    type: type
    default: Any
    doc: str
    unit: str = ""
    ge: float | None = None
    le: float | None = None
    choices: tuple[Any, ...] = ()

    def check(self, value: Any) -> str | None:
        """Return what is wrong with ``value``, or None when it is acceptable."""
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.type is bool:
            if not isinstance(value, bool):
                return "expected true or false"
        elif self.type in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"expected a number ({self.type.__name__})"
            if self.type is int and not float(value).is_integer():
                return "expected a whole number"
            if value != value or value in (float("inf"), float("-inf")):
                return "expected a finite number"
            if abs(value) > LARGEST and (self.le is None or self.le > LARGEST):
                return (f"must be at most {number_text(LARGEST)} in size (larger numbers are "
                        "beyond the solver's accuracy: use a larger unit)")
        elif not isinstance(value, self.type):
            return f"expected {self.type.__name__}"
        if self.ge is not None and value < self.ge:
            return f"must be >= {self.ge:g}"
        if self.le is not None and value > self.le:
            return f"must be <= {self.le:g}"
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(map(str, self.choices))}"
        return None


@dataclass(frozen=True)
class Term:
    """An objective term: ``weight * expression``, reported on its own line."""

    name: str
    doc: str
    unit: str
    default_weight: float = 1.0


@dataclass(frozen=True)
class LimitSource:
    """Where one row of a family's limit comes from, in the planner's words.

    ``file`` is the input file that holds the limit (``talent_supply.csv``, or
    ``instance.toml`` for a setting), ``rows`` its spreadsheet rows (the header is row 1;
    empty when the limit is a setting or a default because no row exists), ``column`` the
    column or setting, ``what`` what is limited (``"hefei, chip_engineers"``), ``limit`` the
    limit's value as the input states it (``None`` when the limit depends on the plan, e.g.
    what downstream industries use), ``unit`` its unit, ``note`` anything the planner should
    know (``"no row: supply 0"``). ``needs``/``has`` name the two sides of the sentence
    ("talent_supply.csv row 14 (hefei, chip_engineers): needs 41.2, has 30.0: short 11.2").
    """

    file: str
    rows: tuple[int, ...] = ()
    column: str = ""
    what: str = ""
    limit: float | None = None
    unit: str = ""
    note: str = ""
    needs: str = "needs"
    has: str = "has"


def rows_where(table: pd.DataFrame, **values: Any) -> tuple[int, ...]:
    """Spreadsheet rows of ``table`` (its index) whose columns equal ``values``; for
    :class:`LimitSource`. The rows of every combination of values are found in one pass
    over the table and kept for the next call on the same table and columns (a results
    table states the source of every limit row: thousands of calls at national scale)."""
    if not values:
        return tuple(int(i) for i in table.index)
    columns = tuple(values)
    key = (id(table), columns)
    hit = _ROWS.get(key)
    if hit is None or hit[0] is not table or hit[1] != len(table):
        found: dict[tuple[Any, ...], list[int]] = {}
        for row, combo in zip(table.index, zip(*(table[c] for c in columns), strict=True),
                              strict=True):
            found.setdefault(combo, []).append(int(row))
        hit = (table, len(table), {k: tuple(v) for k, v in found.items()})
        _ROWS[key] = hit
        while len(_ROWS) > 64:  # the tables of one run; keeps none alive for long
            _ROWS.pop(next(iter(_ROWS)))
    return hit[2].get(tuple(values.values()), ())


#: rows_where's index: (table id, columns) -> (the table, its length, values -> rows)
_ROWS: dict[tuple[int, tuple[str, ...]], tuple[Any, int, dict[tuple[Any, ...],
                                                               tuple[int, ...]]]] = {}


@dataclass(frozen=True)
class ReportParts:
    """What a family adds to what a planner reads of a solve, from the result tables.

    * ``section(data)``: a report section of its own (None when its data are absent), placed
      after the section function named ``after`` of :data:`allocator.output.report.SECTIONS`
      (blank: before the last, ``reproduce``);
    * ``blocks``: blocks it adds inside a shared section, by the section's id
      (``"duplication"``, ``"resources"``): ``blocks[id](data)`` -> paragraphs, tables,
      figures, where that section places the families' blocks;
    * ``kpis(data)``: key figures for the headline, ``[(value, what it is)]``;
    * ``map_flows(flows)``: the rows of ``flows.csv`` the map draws as lines;
    * ``summary_lines(tables)``: lines for the summary printed after a solve (the result
      tables by name), printed after the host regions, with a blank line before them.

    ``data`` is an :class:`allocator.output.page.ReportData`.
    """

    section: Callable[[ReportData], Section | None] | None = None
    after: str = ""
    blocks: dict[str, Callable[[ReportData], list[Block]]] = field(default_factory=dict)
    kpis: Callable[[ReportData], list[tuple[str, str]]] | None = None
    map_flows: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    summary_lines: Callable[[dict[str, pd.DataFrame]], list[str]] | None = None


@dataclass(frozen=True)
class Family:
    """A constraint family: see the module docstring for the contract."""

    name: str
    summary: str
    build: Callable[[pyo.Block, Context], None]
    math: str = ""
    requires: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    terms: tuple[Term, ...] = ()
    symbols: tuple[Symbol, ...] = ()
    #: names of its constraints that are limits (talent, funding, supply, demand, policy):
    #: ``build_model(soft=[name])`` makes them elastic with penalized slacks
    limits: tuple[str, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    columns: dict[str, tuple[ColumnSpec, ...]] = field(default_factory=dict)
    #: result rows for the shared tables ("flows", "resources") and tables of its own, from
    #: the solved block
    report_rows: Callable[[pyo.Block, Context], dict[str, pd.DataFrame]] | None = None
    #: what it adds to the HTML report and the summary after a solve (a built-in family:
    #: ``REPORT`` of its models/<family>/report.py, found by name)
    report_parts: ReportParts | None = None
    #: where a row of one of its ``limits`` comes from: ``(block, ctx, constraint name, index)
    #: -> LimitSource``; without it, shortfalls are named by constraint and index
    limit_source: Callable[[pyo.Block, Context, str, Any], LimitSource] | None = None
    #: input rules across tables, run during validation: ``input_rules(tables, settings)``
    #: returns the problems found (file, row, column, value)
    input_rules: Callable[[dict[str, pd.DataFrame], dict[str, Any]], list[Problem]] | None = None
    #: necessary conditions for a feasible plan under its limits, before any solve:
    #: ``presolve_checks(instance, options, least)`` returns one :class:`CheckFailure` per
    #: condition that fails (``least``: $L_i$, see :mod:`allocator.core.presolve`)
    presolve_checks: Callable[[Instance, dict[str, Any], pd.Series], list[CheckFailure]] | None \
        = None
    #: allocator verify: recompute this family's constraints and terms from the written
    #: tables, without Pyomo (see allocator.verify.Check); None: verify cannot check it
    #: (a built-in family's rules are its models/<family>/verify.py, found by name)
    verify_rules: Callable[[Any], None] | None = None
    #: the most capacity each candidate site can reach under this family's limits, from the
    #: data alone: ``site_bounds(instance, options, sites)`` returns rows (industry, region,
    #: bound, reason); the engine tightens the site maximum with them and leaves out the
    #: sites that cannot reach their minimum scale (see :mod:`allocator.engine.prune`)
    site_bounds: Callable[[Instance, dict[str, Any], pd.DataFrame], pd.DataFrame] | None = None
    #: its limits as data for the construction heuristic (:mod:`allocator.engine.warmstart`):
    #: ``heuristic_limits(instance, options, sites)`` returns a :class:`HeuristicLimits`
    heuristic_limits: Callable[[Instance, dict[str, Any], pd.DataFrame], HeuristicLimits] \
        | None = None
    #: it makes the ``must_host`` pairs of sites.csv host: pruning keeps those sites
    enforces_must_host: bool = False
    #: its limits are the demand the plan is for: ``allocator explain`` relaxes them last
    relax_last: bool = False
    #: its constraints indexed by site whose ``hosts`` coefficient is the site maximum
    #: (``q <= Q x``): the shadow prices' LP puts back the maximum that pruning tightened
    site_maximum_rows: tuple[str, ...] = ()
    #: second phase, after every family's build: build limit rows that include the uses
    #: other families contributed (``ctx.uses(resource)``); see :meth:`Context.add_use`
    close: Callable[[pyo.Block, Context], None] | None = None
    #: resources whose contributed uses this family's limits count (``close`` reads them)
    collects: tuple[str, ...] = ()
    #: ``False`` for families that cannot be switched off (``capacity``)
    optional: bool = True
    #: 1: first-stage (decides or limits hosting and capacity); 2: second-stage (produces or
    #: moves goods: reads ``ctx.activity``). With supply-shock scenarios (shocks.csv) the
    #: engine builds a stage-2 family once per scenario, on ``model.scenario[s]``, with that
    #: scenario's data and production (:mod:`allocator.engine.stochastic`); a deterministic run
    #: builds every family once, as always
    stage: int = 1
    #: names of its constraints that are valid inequalities (implied by its other rows, there
    #: only to tighten the relaxation): the shadow prices' LP frees them, so that each limit
    #: is priced on its own row (allocator.analysis.shadow)
    valid_inequalities: tuple[str, ...] = ()
    #: names of its constraints whose rows are final-demand floors indexed (industry, ...):
    #: in a scenario the engine gives each row an unmet-demand slack at the unmet penalty
    demand: tuple[str, ...] = ()
    #: where the family was loaded from, for reports
    source: str = ""
    #: SHA-256 of the file's bytes that ran (``load_family_file``); "" for built-ins
    source_sha256: str = ""

    def option(self, name: str) -> Option:
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(name)
