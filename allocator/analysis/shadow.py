"""Shadow prices: what one more unit of each limit is worth, for the chosen hosting pattern.

A mixed-integer program has no duals. After the MIP, :func:`resolve_with_hosting_fixed` fixes
every integer variable (the hosting decisions ``hosts[i, r]``, and any integer variable a
family adds) at its value in the plan, re-solves the remaining linear program with HiGHS and
reads the dual of every row. :func:`shadow_prices` turns them into the value of one more unit
of each limit, and :func:`add_shadow_prices` writes that value beside each row of the
``regions`` result table (``shadow_price``, ``shadow_price_unit``).

Sign and unit. For a row ``body <= limit`` or ``body >= limit`` (Pyomo's bounded form, the
constant moved to the limit side), HiGHS's dual ``y`` is the change of the objective per unit
increase of ``limit``. The shadow price reported is ``-y``: **the saving, in money, from one
more unit of the limit** (one more chip engineer in Hefei, one more unit of funding in
Guizhou). It is positive when a binding supply limit holds the plan back, zero when the limit
is slack, and negative for a demand row (one more unit of demand *costs* that much). A limit
given as a variable bound (the national import cap of a tradable input, ``imports[k] <= C_k``)
is priced by the variable's reduced cost in the same way (a variable named in the
``constraint`` column of ``regions`` stands for its upper bound).

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

if TYPE_CHECKING:
    from allocator.engine.results import Result

#: columns added to the ``regions`` result table
SHADOW_COLUMNS = ("shadow_price", "shadow_price_unit")


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
        sol = h.getSolution()
        rows: dict[str, float] = {}
        for con, dual in zip(form.rows, np.asarray(sol.row_dual, dtype=float), strict=True):
            rows[con.name] = rows.get(con.name, 0.0) + float(dual)
        columns = {var.name: float(d) for var, d in
                   zip(form.columns, np.asarray(sol.col_dual, dtype=float), strict=True)}
        return LpDuals("optimal", float(info.objective_function_value), rows, columns,
                       time.perf_counter() - start)
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


def shadow_prices(names: pd.Series, duals: LpDuals) -> pd.Series:
    """Saving per one more unit of the limit of each named constraint (or bounded variable):
    minus the dual (see the module docstring). A limit that is the right-hand side of several
    rows names them joined by ``" + "`` (a market's demand is also part of the national
    demand); their duals add up. Missing names (no row: the limit involved only fixed hosting
    decisions) give NaN; values are rounded to 1e-9 like every result number."""
    out = []
    for names_of_row in names:
        if not isinstance(names_of_row, str) or not names_of_row:
            out.append(np.nan)
            continue
        total = 0.0
        for name in names_of_row.split(" + "):
            if name in duals.rows:
                total -= duals.rows[name]
            elif name in duals.columns:  # a variable stands for its upper bound
                total += max(-duals.columns[name], 0.0)
            else:
                total = np.nan
                break
        out.append(total)
    values = np.round(np.asarray(out, dtype=float), 9) + 0.0
    return pd.Series(values, index=names.index)


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
    sol = h.getSolution()
    # a row of hosting decisions only is a constant once they are fixed: no price (the
    # plain model's compiler drops it), like a row that is not there
    per_nonzero = np.repeat(np.arange(len(form.columns)), np.diff(form.start))
    continuous = ~form.integrality.astype(bool)[per_nonzero]
    priced = np.zeros(len(form.rows), dtype=bool)
    priced[form.index[continuous]] = True
    duals: dict[str, float] = {}
    for con, dual, keep in zip(form.rows, np.asarray(sol.row_dual, dtype=float), priced,
                               strict=True):
        if keep:
            duals[con.name] = duals.get(con.name, 0.0) + float(dual)
    columns = {var.name: float(d) for var, d in
               zip(form.columns, np.asarray(sol.col_dual, dtype=float), strict=True)}
    return LpDuals("optimal", float(info.objective_function_value), duals, columns,
                   time.perf_counter() - start)


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
    """Re-solve the LP with hosting fixed and add ``shadow_price`` and ``shadow_price_unit``
    to ``result.tables["regions"]``; record the re-solve in ``result.summary``. With a
    ``deadline`` whose time left no longer covers the re-solve and the writing, the prices
    are skipped (blank) and the summary says why."""
    if not result.outcome.has_solution or "regions" not in result.tables:
        return
    outcome = result.outcome
    on_solver = outcome.highs is not None and outcome.form is not None
    skipped = ""
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
    if skipped:
        duals = LpDuals("skipped", None, message=skipped)
    elif on_solver:
        writing = after_search_seconds(
            outcome.size.get("variables", 0), outcome.size.get("constraints", 0),
            shadow_prices=False, build_seconds=result.built.seconds
            + outcome.seconds.get("compile", 0.0))
        seconds = None if deadline is None or not deadline.limited else max(
            0.1, deadline.remaining() - writing)
        duals = resolve_on_solver(result.built, outcome, seconds)
        duals.message = duals.message or "LP re-solved on the solver's own model"
    else:
        duals = resolve_with_hosting_fixed(result.built, result.options)
    regions = result.tables["regions"]
    money = result.built.instance.money
    if duals.status == "optimal":
        regions["shadow_price"] = shadow_prices(regions["constraint"], duals)
    else:
        regions["shadow_price"] = np.nan
    priced = regions["shadow_price"].notna()
    regions["shadow_price_unit"] = np.where(
        priced, money + " per " + regions["unit"].astype(str), "")
    result.summary["shadow_prices"] = {
        "status": duals.status,
        "lp_objective": duals.objective,
        "seconds": duals.seconds,
        "message": duals.message,
        "meaning": "shadow_price in regions.csv: saving in money from one more unit of the "
                   "limit (available), with the plan's hosting fixed; negative for demand "
                   "(one more unit of demand costs that much); blank where the limit involves "
                   "only hosting decisions",
    }


__all__ = ["SHADOW_COLUMNS", "LpDuals", "add_shadow_prices", "resolve_on_solver",
           "resolve_with_hosting_fixed", "shadow_prices"]
