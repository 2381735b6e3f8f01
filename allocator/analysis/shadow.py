"""Shadow prices: what one more unit of each limit is worth, for the chosen hosting pattern.

A mixed-integer program has no duals. After the MIP, :func:`resolve_with_hosting_fixed` fixes
every integer variable (the hosting decisions ``hosts[i, r]``, and any integer variable a
family adds) at its value in the plan, re-solves the remaining linear program with HiGHS and
reads the dual of every row. :func:`shadow_prices` turns them into the value of one more unit
of each limit, and :func:`add_shadow_prices` writes that value beside each row of the
``regions`` result table (``shadow_price``, ``shadow_price_unit``, ``shadow_price_meaning``).

Direction and unit. Each row of ``regions`` is a limit as the planner wrote it, with its
sense (:func:`allocator.engine.limits.limit_table`): "at most" (what may be used: talent,
funding, supply, an import cap, a share) or "at least" (what is required: demand, N-1 cover,
a least number of hosts). One more unit of an "at most" limit widens what the plan may do,
so it can only lower the cost: **each extra unit available saves** the shadow price. One
more unit of an "at least" limit narrows it, so it can only raise the cost: **each extra unit
required costs** the shadow price. Either way the price is the size of the dual: for a row
``body <= b`` or ``body >= b`` HiGHS's dual ``y`` is the change of the objective per unit
increase of ``b``, and the limit moves ``b`` one unit in the direction that widens (at most)
or narrows (at least) the row, so the price is ``|y|`` whichever way the family wrote the row
(N-1 cover, a floor, is a row ``... <= 0`` in Pyomo's form: reading ``-y`` as a saving said
that requiring more cover saves money). A limit that is the right-hand side of several rows
(a market's demand is also part of the national demand) moves all of them the same way: the
sizes add. A limit given as a variable bound (the national import cap of a tradable input,
``imports[k] <= C_k``) is priced by the variable's reduced cost in the same way. The price
is in money ([units] money) per unit of the limit (its row's ``unit``): "CNY 100m per
thousand people". ``tests/test_shadow_directions.py`` checks sign and size for every kind of
limit of the bundled instance against a re-solve with the input changed a little.

A plan that breaks limits (``allocator evaluate``, ``--soft``) gets no shadow prices: its
LP's duals price the shortfall penalty (1e6 per unit by default), not money, and reading
them as savings would be wrong (``summary.json`` ``shadow_prices.status = "not_priced"``).

What it means with integers fixed: a local, marginal value, valid for the hosting pattern of
the plan and for small changes of the limit (until another row becomes binding). It is not the
value of a whole new site, nor of a change large enough to make a different set of regions
host: that needs a new solve. Rows that only involve hosting decisions (focus limits, equity
floors) become constants once hosting is fixed and have no shadow price (blank). Where the LP
is degenerate, the dual is not unique and HiGHS returns one valid choice.

The LP is the plain formulation's, so that each limit's dual sits on its own row rather than
on a cut or a site maximum derived from it: with the strengthened model, a tightened site
maximum or a cut took the dual of the talent or funding row it was derived from, and the
planner would read "one more engineer is worth nothing" where it is worth a lot. After a
solve, the LP is re-solved **on the Highs object that solved the MIP**
(:func:`resolve_on_solver`), turned into the plain formulation's LP in place: the integer
columns fixed at the plan (``changeColsIntegrality``, ``changeColsBounds``), every row of a
family's ``valid_inequalities`` freed (bounds minus to plus infinity), and every site maximum
that pruning tightened restored to the input's (the capacity columns' upper bounds and the
coefficient of ``capacity_within_max``). Pairs left out by pruning host nothing in the plan,
so their columns would be fixed at 0 and change no dual. That LP has the same rows, bounds and
optimum as the plain model's with hosting fixed, and it costs one LP solve instead of a
rebuild (about 14 s at 337 x 40 before). Where the LP is degenerate, the duals of the two LPs
may differ as the dual is not unique; both are valid. Without a solved Highs object (a model
solved elsewhere), :func:`resolve_with_hosting_fixed` builds the plain twin as before.

With a wall-clock budget (:mod:`allocator.engine.deadline`), the re-solve runs only if its estimated
time and the writing still fit; otherwise it is skipped and ``summary.json`` says so
(``shadow_prices.status = "skipped"`` with the reason), as does the terminal.

The re-solve keeps the plan as it is (the variables keep their MIP values); its objective is
recorded in ``summary.json`` (``shadow_prices.lp_objective``): with a MIP gap it may be
slightly below the plan's, the continuous part being re-optimized for the same hosting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException

from allocator.engine.build import BuiltModel, build_model
from allocator.engine.deadline import Deadline, after_search_seconds
from allocator.engine.highs import (
    SolveOutcome,
    SolverOptions,
    compile_model,
    make_highs,
    run_highs,
)
from allocator.engine.limits import AT_LEAST, AT_MOST, number, row_key

if TYPE_CHECKING:
    from allocator.engine.results import Result

#: columns added to the ``regions`` result table
SHADOW_COLUMNS = ("shadow_price", "shadow_price_unit", "shadow_price_meaning")


@dataclass
class LpDuals:
    """Duals of the LP solved with the integer variables fixed at their plan values.

    ``rows`` maps each constraint's Pyomo name to the objective change per unit increase of
    its limit (HiGHS's row dual, summed over the two rows of a ranged constraint);
    ``columns`` maps each variable's name to its reduced cost (HiGHS's column dual).
    """

    status: str
    objective: float | None
    rows: dict[str, float] = field(default_factory=dict)
    columns: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    message: str = ""
    #: names of the rows that are equalities (their limit is the right-hand side itself)
    equalities: set[str] = field(default_factory=set)
    #: the solved Highs object and its standard form (for :func:`directional_prices`);
    #: None when the LP did not solve
    highs: Any = None
    form: Any = None


def resolve_with_hosting_fixed(built: BuiltModel, options: SolverOptions | None = None
                               ) -> LpDuals:
    """Fix every integer variable at its (rounded) plan value, solve the LP, read the duals.

    The model is left as it was: variables fixed here are unfixed, and no value of the plan
    is changed. Call it after a solve that loaded a plan into ``built.model``.
    """
    start = time.perf_counter()
    plan = {var.name: var.value for var in built.model.component_data_objects(
        pyo.Var, descend_into=True) if var.is_integer() or var.is_binary()}
    if any(v is None for v in plan.values()):
        return LpDuals("no_plan", None, message="the model holds no plan")
    # the plain twin of a built model; a bare Pyomo model (tests) is used as it is
    model = _plain(built).model if isinstance(built, BuiltModel) else built.model
    fixed: list[Any] = []
    values: list[tuple[Any, float | None]] = []
    try:
        for var in model.component_data_objects(pyo.Var, descend_into=True):
            if (var.is_integer() or var.is_binary()) and not var.fixed:
                values.append((var, var.value))
                # a pair left out of the solved model (allocator.engine.prune) hosts nothing
                var.fix(float(round(plan.get(var.name, 0.0))))
                fixed.append(var)
        try:
            form = compile_model(model)
        except InfeasibleConstraintException as exc:
            return LpDuals("infeasible", None, message=f"the plan's hosting breaks a row: {exc}")
        lp_options = SolverOptions(
            time_limit=None if options is None else options.time_limit,
            threads=None if options is None else options.threads,
            seed=None if options is None else options.seed)
        h = make_highs(form, lp_options)
        run_highs(h)
        status = str(h.getModelStatus()).split(".")[-1]
        info = h.getInfo()
        if status != "kOptimal" or info.dual_solution_status != 2:  # 2: feasible duals
            return LpDuals("error", None, message=f"the LP with hosting fixed ended {status}",
                           seconds=time.perf_counter() - start)
        return _read_duals(h, form, np.ones(len(form.rows), dtype=bool), start)
    finally:
        for var in fixed:
            var.unfix()
        for var, value in values:
            var.set_value(value, skip_validation=True)


def _plain(built: BuiltModel) -> BuiltModel:
    """The same model in its plain formulation: no valid inequalities, no pruning (the
    candidate sites of the input, site maxima as given). With hosting fixed its LP has the
    same optimum as the solved model's, but every limit is priced in its own row: in the
    strengthened model a cut or a tightened site maximum would take the dual of the talent or
    funding row it was derived from."""
    soft = sorted(set(built.soft_rows["family"]))
    return build_model(built.instance, [f.name for f in built.families], soft=soft,
                       soft_penalty=built.weights.get("shortfall"), prune=False,
                       strengthen=False, scenarios=list(built.scenarios))


def shadow_prices(keys: pd.Series, duals: LpDuals, senses: pd.Series | None = None
                  ) -> pd.Series:
    """The shadow price of the limit behind each entry of ``keys`` (the ``model_rows`` of
    ``regions``: row keys, :func:`allocator.engine.limits.row_key`, or Pyomo names) with its
    sense (``senses``; default "at most"), read off the duals: money per unit of the limit,
    what one more unit available saves (at most) or one more unit required costs (at least),
    see the module docstring. A limit that is the right-hand side of several rows names them
    joined by ``" + "``: what each row contributes adds up. An inequality row contributes
    the size of its dual; an equality row, whose right-hand side is the limit itself, its
    dual with its sign (one more unit of demand may save, where it uses capacity counted as
    overcapacity). Missing rows (the limit involved only fixed hosting decisions) give NaN;
    values are rounded to 1e-9 like every result number. Where the LP is degenerate a dual
    may hold only the other way: :func:`directional_prices` checks each price."""
    rows = {row_key(name): dual for name, dual in duals.rows.items()}
    equal = {row_key(name) for name in duals.equalities}
    columns = {row_key(name): dual for name, dual in duals.columns.items()}
    senses = senses if senses is not None else pd.Series(AT_MOST, index=keys.index)
    out = []
    for names_of_row, sense in zip(keys, senses, strict=True):
        if not isinstance(names_of_row, str) or not names_of_row:
            out.append(np.nan)
            continue
        total = 0.0
        for name in names_of_row.split(" + "):
            key = row_key(name)
            if key in equal:  # d objective / d rhs = dual; the limit is the rhs
                total += rows[key] if sense == AT_LEAST else -rows[key]
            elif key in rows:
                total += abs(rows[key])
            elif key in columns:  # a variable stands for its upper bound
                total += max(-columns[key], 0.0)
            else:
                total = np.nan
                break
        out.append(total)
    values = np.round(np.asarray(out, dtype=float), 9) + 0.0
    return pd.Series(values, index=keys.index)


#: a limit whose dual HiGHS's ranging does not show to hold for a step this large in the
#: planner's direction (relative to the limit) is priced by a re-solve instead
STEP = 1e-3


@dataclass
class Directions:
    """What :func:`directional_prices` did: prices (NaN where unchanged), rows whose extra
    unit required cannot be met with the plan's hosting, and counts."""

    prices: pd.Series
    impossible: pd.Series
    from_duals: int = 0
    resolved: int = 0
    unchecked: int = 0


def directional_prices(keys: pd.Series, senses: pd.Series, prices: pd.Series,
                       duals: LpDuals, seconds: float | None = None) -> Directions:
    """Each price checked in the planner's direction (one more unit available, one more
    unit required). An LP's dual is the change of the optimum per unit of a right-hand side
    only while the optimal basis stays optimal; at a degenerate optimum it may hold only
    for steps the other way (green power of a region with no import allowed: the dual said
    57.6 saved per unit, one more unit saves 4.3). HiGHS's ranging says how far the basis
    holds for each row: a price whose row holds for a step of at least :data:`STEP` (relative
    to the limit) in the planner's direction stands. Any other (a degenerate row, a limit
    of several rows) is measured: the row bounds moved by that step, the LP re-solved from
    its basis on the same Highs object, the objectives compared. A requirement the plan's
    hosting cannot meet one step further is flagged ``impossible``. With ``seconds``, the
    re-solves stop when they are used up (the rest keep their dual, counted ``unchecked``).
    """
    out = pd.Series(np.nan, index=keys.index)
    impossible = pd.Series(False, index=keys.index)
    result = Directions(out, impossible)
    h, form = duals.highs, duals.form
    if h is None or form is None or duals.objective is None:
        return result
    start = time.perf_counter()
    lp = h.getLp()
    row_lo = np.asarray(lp.row_lower_, dtype=float).copy()
    row_hi = np.asarray(lp.row_upper_, dtype=float).copy()
    col_lo = np.asarray(lp.col_lower_, dtype=float).copy()
    col_hi = np.asarray(lp.col_upper_, dtype=float).copy()
    row_of: dict[str, list[int]] = {}
    for k, con in enumerate(form.rows):
        row_of.setdefault(row_key(con.name), []).append(k)
    col_of = {row_key(var.name): j for j, var in enumerate(form.columns)}
    status, ranging = h.getRanging()
    ranged = status == highspy.HighsStatus.kOk
    h.setOptionValue("presolve", "off")  # re-solves start from the optimal basis
    base = float(duals.objective)
    for label, names, sense, price in zip(keys.index, keys, senses, prices, strict=True):
        if not isinstance(names, str) or not names or price != price:
            continue
        moves: list[tuple[str, int, float, float]] = []  # kind, index, sign, bound
        for name in names.split(" + "):
            key = row_key(name)
            if key in row_of:
                for k in row_of[key]:
                    moves.append(("row", k, _sign(row_lo[k], row_hi[k], sense),
                                  row_hi[k] if np.isfinite(row_hi[k]) else row_lo[k]))
            elif key in col_of:
                j = col_of[key]
                moves.append(("col", j, 1.0, col_hi[j]))
        if not moves:
            continue
        step = STEP * max(1.0, abs(moves[0][3]))
        if len(moves) == 1 and ranged and _holds(ranging, moves[0], step):
            result.from_duals += 1
            continue
        if sense == AT_MOST and price == 0 and all(
                m[0] == "col" or row_lo[m[1]] != row_hi[m[1]] for m in moves):
            result.from_duals += 1  # relaxing saves at least 0 and at most the dual, 0
            continue
        if seconds is not None and time.perf_counter() - start > seconds:
            result.unchecked += 1
            continue
        for kind, i, sign, _ in moves:
            if kind == "row":
                h.changeRowBounds(i, row_lo[i] + sign * step, row_hi[i] + sign * step)
            else:
                h.changeColBounds(i, col_lo[i], col_hi[i] + step)
        run_highs(h)
        solved = str(h.getModelStatus()).split(".")[-1]
        if solved == "kOptimal":
            moved = float(h.getInfo().objective_function_value)
            value = (moved - base) / step if sense == AT_LEAST else (base - moved) / step
            out[label] = round(value, 9) + 0.0
        elif solved == "kInfeasible" and sense == AT_LEAST:
            impossible[label] = True
        for kind, i, _, _ in moves:
            if kind == "row":
                h.changeRowBounds(i, row_lo[i], row_hi[i])
            else:
                h.changeColBounds(i, col_lo[i], col_hi[i])
        result.resolved += 1
    return result


def _sign(lower: float, upper: float, sense: str) -> float:
    """Which way one more unit of the limit moves a row's bounds: an equality's right-hand
    side is the limit (+1); an inequality's bound moves to widen the row (at most) or to
    narrow it (at least)."""
    if lower == upper:
        return 1.0
    widen = 1.0 if np.isfinite(upper) else -1.0  # body <= upper: up; body >= lower: down
    return widen if sense != AT_LEAST else -widen


def _holds(ranging: Any, move: tuple[str, int, float, float], step: float) -> bool:
    """Whether HiGHS's ranging shows the basis optimal for ``step`` in the move's
    direction (so that the dual is the change per unit)."""
    kind, i, sign, bound = move
    if kind == "row":
        up, down = ranging.row_bound_up, ranging.row_bound_dn
    else:
        up, down = ranging.col_bound_up, ranging.col_bound_dn
    reach = up.value_[i] - bound if sign > 0 else bound - down.value_[i]
    return bool(reach >= step)


def meaning(sense: str, price: float, unit: str, money: str) -> str:
    """The shadow price in words: "each extra unit available (thousand people) saves 0.44
    CNY 100m" (at most), "each extra unit required (GWh/yr) costs 1.2 CNY 100m" (at
    least)."""
    if price != price:  # NaN
        return ""
    side = f"({unit}) " if unit else ""
    if sense == AT_LEAST:  # a cost; negative where the extra unit uses spare capacity
        verb = "costs" if price >= 0 else "saves"
        return f"each extra unit required {side}{verb} {number(abs(price))} {money}"
    verb = "saves" if price >= 0 else "costs"
    return f"each extra unit available {side}{verb} {number(abs(price))} {money}"


def resolve_on_solver(built: BuiltModel, outcome: SolveOutcome,
                      seconds: float | None = None) -> LpDuals:
    """The LP of the plain formulation with the plan's integer values fixed, solved on the
    Highs object that solved the MIP (``outcome.highs``, given ``outcome.form``): see the
    module docstring for what is changed on it. Reads the plan from the model's variables
    (loaded by the solve) and changes nothing in the Pyomo model."""
    start = time.perf_counter()
    h, form = outcome.highs, outcome.form
    for cb in (h.cbMipImprovingSolution, h.cbMipInterrupt, h.cbSimplexInterrupt,
               h.cbIpmInterrupt, h.cbLogging):
        cb.clear()  # the search's monitor has done its work
    ints = np.flatnonzero(form.integrality).astype(np.int32)
    values = np.array([form.columns[j].value for j in ints], dtype=float)
    if np.isnan(values).any():
        return LpDuals("no_plan", None, message="the model holds no plan")
    values = np.round(values)
    h.changeColsIntegrality(len(ints), ints, np.zeros(len(ints), dtype=np.uint8))
    h.changeColsBounds(len(ints), ints, values, values)
    rows = {id(con): k for k, con in enumerate(form.rows)}
    cols = {id(var): j for j, var in enumerate(form.columns)}
    freed = [rows[id(con)] for fam in built.families if fam.name in built.model.families
             for name in fam.valid_inequalities
             for con in _constraint_data(built.model.family[fam.name], name)
             if id(con) in rows]
    if freed:
        idx = np.asarray(freed, dtype=np.int32)
        h.changeRowsBounds(len(idx), idx, np.full(len(idx), -np.inf),
                           np.full(len(idx), np.inf))
    _restore_site_maxima(built, h, form, rows, cols)
    h.setOptionValue("time_limit", float(seconds) if seconds is not None else np.inf)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_file", "")
    run_highs(h)
    status = str(h.getModelStatus()).split(".")[-1]
    info = h.getInfo()
    if status != "kOptimal" or info.dual_solution_status != 2:  # 2: feasible duals
        return LpDuals("error", None, message=f"the LP with hosting fixed ended {status}",
                       seconds=time.perf_counter() - start)
    # a row of hosting decisions only is a constant once they are fixed: no price (the
    # plain model's compiler drops it), like a row that is not there
    per_nonzero = np.repeat(np.arange(len(form.columns)), np.diff(form.start))
    continuous = ~form.integrality.astype(bool)[per_nonzero]
    priced = np.zeros(len(form.rows), dtype=bool)
    priced[form.index[continuous]] = True
    return _read_duals(h, form, priced, start)


def _read_duals(h: Any, form: Any, priced: np.ndarray, start: float) -> LpDuals:
    """The duals of the LP solved on ``h`` (rows in ``priced`` only), with ``h`` and
    ``form`` kept for :func:`directional_prices`."""
    sol = h.getSolution()
    lp = h.getLp()
    lower, upper = np.asarray(lp.row_lower_, dtype=float), np.asarray(lp.row_upper_, dtype=float)
    duals: dict[str, float] = {}
    equalities: set[str] = set()
    for k, (con, dual, keep) in enumerate(zip(form.rows, np.asarray(sol.row_dual, dtype=float),
                                              priced, strict=True)):
        if keep:
            duals[con.name] = duals.get(con.name, 0.0) + float(dual)
            if lower[k] == upper[k]:
                equalities.add(con.name)
    columns = {var.name: float(d) for var, d in
               zip(form.columns, np.asarray(sol.col_dual, dtype=float), strict=True)}
    return LpDuals("optimal", float(h.getInfo().objective_function_value), duals, columns,
                   time.perf_counter() - start, equalities=equalities, highs=h, form=form)


def _constraint_data(block: pyo.Block, name: str) -> list[Any]:
    comp = block.component(name)
    return [] if comp is None else list(comp.values())


def _restore_site_maxima(built: BuiltModel, h: Any, form: Any, rows: dict[int, int],
                         cols: dict[int, int]) -> None:
    """Undo what pruning tightened on the sites that stay in the model: the upper bound of
    ``capacity`` (and ``capacity_new``) back to the input's site maximum, and the
    coefficient of ``hosts`` in the families' ``site_maximum_rows`` (``capacity_within_max``)
    scaled by input / tightened."""
    m = built.model
    given = built.instance.sites["capacity_max"]
    tight = built.sites["capacity_max"]
    changed = tight.index[(tight < given.reindex(tight.index)).to_numpy()]
    if not len(changed):
        return
    # the rows q <= Q x whose coefficient of x is the (tightened) site maximum
    within = [c for f in built.families if f.name in m.families
              for c in (m.family[f.name].component(name) for name in f.site_maximum_rows)
              if c is not None]
    a = form  # columnwise arrays: coefficient of column j in row k
    idx, up = [], []
    for s in changed:
        new, old = float(given[s]), float(tight[s])
        brown = m.capacity_new[s] if s in m.capacity_new else None  # noqa: SIM401 (Pyomo)
        for var in (m.capacity[s], brown):
            if var is not None and id(var) in cols:
                idx.append(cols[id(var)])
                up.append(new)
        j = cols.get(id(m.hosts[s]))
        if j is None or old <= 0:
            continue
        for con in within:
            k = rows.get(id(con[s])) if s in con else None
            if k is None:
                continue
            lo, hi = int(a.start[j]), int(a.start[j + 1])
            hit = np.flatnonzero(a.index[lo:hi] == k)
            if len(hit):
                h.changeCoeff(k, j, float(a.value[lo + hit[0]]) * new / old)
    if idx:
        ii = np.asarray(idx, dtype=np.int32)
        lower = form.col_lower[ii]
        h.changeColsBounds(len(ii), ii, lower, np.asarray(up, dtype=float))


def add_shadow_prices(result: Result, deadline: Deadline | None = None) -> None:
    """Re-solve the LP with hosting fixed and add ``shadow_price``, ``shadow_price_unit`` and
    ``shadow_price_meaning`` to ``result.tables["regions"]``, each price checked in the
    planner's direction (:func:`directional_prices`); record the re-solve in
    ``result.summary``. With a ``deadline`` whose time left no longer covers the re-solve
    and the writing, the prices are skipped (blank) and the summary says why. A plan that
    breaks limits (a ``shortfalls`` table with rows) gets none (see the module docstring)."""
    if not result.outcome.has_solution or "regions" not in result.tables:
        return
    outcome = result.outcome
    on_solver = outcome.highs is not None and outcome.form is not None
    skipped = ""
    short = result.tables.get("shortfalls")
    if short is not None and len(short):
        # the duals would price the shortfall penalty, not money
        _no_prices(result, "not_priced", f"not priced: the plan breaks {len(short)} limit"
                   f"{'s' if len(short) != 1 else ''} (shortfalls.csv), and the re-solve's "
                   "duals would price the shortfall penalty, not money")
        return
    if deadline is not None and deadline.limited:
        size = outcome.size
        build = result.built.seconds + outcome.seconds.get("compile", 0.0)
        need = after_search_seconds(size.get("variables", 0), size.get("constraints", 0),
                                    build_seconds=build)
        left = deadline.remaining()
        if not on_solver or left < need:
            skipped = (f"skipped: {left:.1f} s of the {deadline.seconds:g} s time limit were "
                       f"left, the re-solve and writing need about {need:.1f} s"
                       if on_solver else "skipped: a re-solve of the plain model does not "
                       "fit a time limit")
    writing = after_search_seconds(
        outcome.size.get("variables", 0), outcome.size.get("constraints", 0),
        shadow_prices=False, build_seconds=result.built.seconds
        + outcome.seconds.get("compile", 0.0))
    if skipped:
        duals = LpDuals("skipped", None, message=skipped)
    elif on_solver:
        seconds = None if deadline is None or not deadline.limited else max(
            0.1, deadline.remaining() - writing)
        duals = resolve_on_solver(result.built, outcome, seconds)
        duals.message = duals.message or "LP re-solved on the solver's own model"
    else:
        duals = resolve_with_hosting_fixed(result.built, result.options)
    regions = result.tables["regions"]
    money = result.built.instance.money
    impossible = pd.Series(False, index=regions.index)
    checked: dict[str, int] = {}
    if duals.status == "optimal":
        prices = shadow_prices(regions["model_rows"], duals, regions["sense"])
        began = time.perf_counter()
        left = (None if deadline is None or not deadline.limited
                else max(0.0, deadline.remaining() - writing))
        found = directional_prices(regions["model_rows"], regions["sense"], prices, duals,
                                   left)
        duals.seconds += time.perf_counter() - began
        prices = prices.where(found.prices.isna(), found.prices)
        impossible = found.impossible
        prices[impossible] = np.nan
        regions["shadow_price"] = prices
        checked = {"from_duals": found.from_duals, "by_resolve": found.resolved,
                   "unchecked": found.unchecked}
    else:
        regions["shadow_price"] = np.nan
    priced = regions["shadow_price"].notna()
    regions["shadow_price_unit"] = np.where(
        priced, money + " per " + regions["unit"].astype(str), "")
    hosting_only = "no price: the limit involves only hosting decisions, fixed here"
    cannot = "each extra unit required cannot be met with this plan's hosting"
    regions["shadow_price_meaning"] = [
        "" if s not in (AT_MOST, AT_LEAST)
        else cannot if no
        else hosting_only if p != p and duals.status == "optimal" and isinstance(k, str) and k
        else meaning(s, p, str(u), money)
        for s, p, u, k, no in zip(regions["sense"], regions["shadow_price"], regions["unit"],
                                  regions["model_rows"], impossible, strict=True)]
    result.summary["shadow_prices"] = {
        "status": duals.status,
        "lp_objective": duals.objective,
        "seconds": duals.seconds,
        "message": duals.message,
        "meaning": MEANING,
        **({"checked": checked} if checked else {}),
    }


#: what ``summary.json`` says the shadow prices mean
MEANING = ("shadow_price in regions.csv: money per unit of the limit, with the plan's hosting "
           "fixed; an extra unit available saves it (sense 'at most'), an extra unit "
           "required costs it (sense 'at least'); shadow_price_meaning says which in words; "
           "blank where the limit involves only hosting decisions")


def _no_prices(result: Result, status: str, message: str) -> None:
    """Blank shadow prices, and why, in ``regions`` and the summary."""
    regions = result.tables["regions"]
    regions["shadow_price"] = np.nan
    regions["shadow_price_unit"] = ""
    regions["shadow_price_meaning"] = ""
    result.summary["shadow_prices"] = {"status": status, "lp_objective": None,
                                       "seconds": 0.0, "message": message,
                                       "meaning": MEANING}


__all__ = ["SHADOW_COLUMNS", "LpDuals", "add_shadow_prices", "meaning", "resolve_on_solver",
           "resolve_with_hosting_fixed", "shadow_prices"]
