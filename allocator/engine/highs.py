"""Hand a built Pyomo model to HiGHS and read the answer back.

The handoff goes through Pyomo's linear standard-form compiler, whose sparse matrices are
passed to ``highspy`` as arrays. Measured on a 337-region model (issue 2): the persistent
``appsi_highs`` interface took 3.2 s to hand the model over, writing an LP file 1.7 s, the
standard-form arrays 0.5 s. Everything solver-specific stays in this module.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common import dependencies as pyomo_dependencies
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from allocator.core.errors import EXIT_INFEASIBLE, EXIT_INTERNAL, EXIT_OK, EXIT_TIME_LIMIT
from allocator.engine.deadline import Deadline
from allocator.engine.monitor import SolveMonitor

# Pyomo imports scipy.stats, .integrate and .spatial the first time anything touches scipy;
# the standard-form compiler needs scipy.sparse only. scipy.stats alone took 1.2 s (idle) to
# 3.6 s (loaded 2-core machine) to import, more than building the model at 100 x 20, and
# every second counts against --time-limit. Only when nothing has resolved it yet.
_SCIPY = getattr(pyomo_dependencies, "scipy_available", None)
if getattr(_SCIPY, "_module", 1) is None and hasattr(_SCIPY, "_callback"):
    _SCIPY._callback = None


@dataclass(frozen=True)
class SolverOptions:
    """Solver settings; ``None`` means "the instance's [solver] value, else the default"."""

    time_limit: float | None = None  # seconds
    mip_gap: float | None = None  # relative
    threads: int | None = None
    seed: int | None = None
    log_file: str | None = None  # full HiGHS log
    verbose: bool = False  # stream the HiGHS log to the terminal
    progress: bool = False  # live progress line on stderr (allocator.engine.monitor)
    heuristic: bool = True  # a greedy first plan as MIP start (allocator.engine.warmstart)
    start_file: str | None = None  # a plan file (allocation.csv) as MIP start

    def resolved(self, instance_solver: dict[str, Any]) -> SolverOptions:
        values = asdict(self)
        for key in ("time_limit", "mip_gap", "threads", "seed"):
            if values[key] is None:
                values[key] = instance_solver.get(key)
        return SolverOptions(**values)


@dataclass
class SolveOutcome:
    """What HiGHS said, in allocator's terms.

    ``status`` is one of: ``optimal`` (within the gap), ``time_limit`` (stopped with a plan),
    ``time_limit_no_plan``, ``interrupted``, ``infeasible``, ``error``.
    """

    status: str
    termination: str
    has_solution: bool
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: dict[str, float] = field(default_factory=dict)
    solver: str = ""
    size: dict[str, int] = field(default_factory=dict)
    message: str = ""
    #: when HiGHS reported its first feasible plan: seconds (wall, from the start of the
    #: run), highs_seconds (HiGHS's clock), objective; None when it found none
    first_incumbent: dict[str, float] | None = None
    #: how a MIP start was made and used (allocator.engine.warmstart), for summary.json
    start: dict[str, Any] = field(default_factory=dict)
    #: the Highs object that solved the model and the arrays it was given, kept so that the
    #: shadow prices re-solve the LP on the same object (allocator.analysis.shadow); not serialized
    highs: Any = field(default=None, repr=False, compare=False)
    form: Any = field(default=None, repr=False, compare=False)

    @property
    def exit_code(self) -> int:
        return {"optimal": EXIT_OK, "time_limit": EXIT_TIME_LIMIT,
                "time_limit_no_plan": EXIT_TIME_LIMIT, "interrupted": EXIT_TIME_LIMIT,
                "infeasible": EXIT_INFEASIBLE}.get(self.status, EXIT_INTERNAL)


_BANNER_SILENCED = False
_SCHEDULER_THREADS: int | None = None


def new_highs() -> highspy.Highs:
    """A fresh Highs object. The first one in a process prints HiGHS's banner straight to
    file descriptor 1; it is sent to /dev/null so that the terminal shows only what allocator
    says (the version is recorded in every summary instead)."""
    global _BANNER_SILENCED
    if _BANNER_SILENCED:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SILENCED = True
    return h


def highs_version() -> str:
    h = new_highs()
    return f"HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()} (highspy)"


@dataclass
class StandardForm:
    """The model as arrays, with the Pyomo objects of each column and row."""

    columns: list[Any]
    rows: list[Any]
    cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    integrality: np.ndarray


def compile_model(model: pyo.ConcreteModel) -> StandardForm:
    """Compile the active objective and constraints to arrays (columnwise matrix)."""
    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    cols = repn.columns
    n = len(cols)
    lower = np.array([-np.inf if v.lb is None else v.lb for v in cols], dtype=float)
    upper = np.array([np.inf if v.ub is None else v.ub for v in cols], dtype=float)
    integrality = np.array([1 if v.is_integer() or v.is_binary() else 0 for v in cols],
                           dtype=np.int32)
    sense = np.array([s for _, s in repn.rows], dtype=int)
    rhs = np.asarray(repn.rhs, dtype=float)
    # mixed form: sense 1 is body <= rhs, -1 is body >= rhs, 0 is body == rhs
    row_lower = np.where(sense == 1, -np.inf, rhs)
    row_upper = np.where(sense == -1, np.inf, rhs)
    a = repn.A.tocsc()
    cost = np.zeros(n)
    offset = 0.0
    if repn.c.shape[0]:
        offset = float(repn.c_offset[0])  # also when every variable is fixed (n = 0)
        if n:
            cost = repn.c.toarray()[0].astype(float)
    return StandardForm(
        columns=list(cols), rows=[con for con, _ in repn.rows], cost=cost, offset=offset,
        col_lower=lower, col_upper=upper, row_lower=row_lower, row_upper=row_upper,
        start=a.indptr.astype(np.int32), index=a.indices.astype(np.int32),
        value=a.data.astype(float), integrality=integrality,
    )


def make_highs(form: StandardForm, options: SolverOptions) -> highspy.Highs:
    """A Highs object holding the model, with allocator's options set."""
    h = new_highs()
    h.setOptionValue("output_flag", bool(options.verbose or options.log_file))
    h.setOptionValue("log_to_console", bool(options.verbose))
    if options.log_file:
        h.setOptionValue("log_file", str(options.log_file))
    if options.time_limit is not None:
        h.setOptionValue("time_limit", float(options.time_limit))
    if options.mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    if options.threads is not None:
        h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed or 0))
    num_col, num_row = len(form.columns), len(form.rows)
    status = h.passModel(
        num_col, num_row, len(form.value), int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize), form.offset, form.cost, form.col_lower,
        form.col_upper, form.row_lower, form.row_upper, form.start, form.index, form.value,
        form.integrality,
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS rejected the model (passModel returned an error)")
    return h


_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnboundedOrInfeasible": "infeasible",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "time_limit",
    "kSolutionLimit": "time_limit",
    "kInterrupt": "interrupted",
    "kObjectiveBound": "time_limit",
    "kObjectiveTarget": "time_limit",
}


#: HiGHS's presolve rule "Aggregator" (bit 12 of the option ``presolve_rule_off``)
PRESOLVE_AGGREGATOR = 1 << 12


def set_mip_start(h: highspy.Highs, x: np.ndarray) -> None:
    """Give HiGHS a complete plan (one value per column) as a MIP start: when feasible it is
    the first incumbent, so the run can only improve on it.

    HiGHS's presolve rule "Aggregator" is switched off for a run with a start. HiGHS values
    a start in its presolved model, where the aggregator has substituted columns through
    rows that hold with equality at an optimum but not at every plan: a start with more
    capacity than its rows need is valued below its true cost there. Measured on
    ``instances/china-cities`` with ``plans/planted.csv`` (HiGHS 1.16): the start costs
    45,539.18, HiGHS valued it at 45,377.44 ("MIP start solution is feasible in the reduced
    space"), kept that value as its incumbent and returned the start itself with it; mapped
    back, the presolved point breaks ``resilience_n1_cover`` rows by 9.2. The wrong value
    was then written as the plan's objective (``allocator verify`` disagreed) and, worse,
    HiGHS cut off every node above 45,377.44, plans cheaper than the one it returned among
    them. With the aggregator off, HiGHS values the start at its cost (tested); the other
    presolve rules stay on."""
    off = int(h.getOptionValue("presolve_rule_off")[1])
    h.setOptionValue("presolve_rule_off", off | PRESOLVE_AGGREGATOR)
    sol = highspy.HighsSolution()
    sol.col_value = np.asarray(x, dtype=float)
    sol.value_valid = True
    if h.setSolution(sol) == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS rejected the MIP start (setSolution returned an error)")


def run_highs(h: highspy.Highs) -> highspy.HighsStatus:
    """Run HiGHS. Its thread pool is global to the process and fixed when first used; it is
    rebuilt when a run asks for a different number of threads (else HiGHS refuses to run)."""
    global _SCHEDULER_THREADS
    threads = int(h.getOptionValue("threads")[1])
    if _SCHEDULER_THREADS is not None and threads != _SCHEDULER_THREADS:
        h.resetGlobalScheduler(True)
    _SCHEDULER_THREADS = threads
    return h.run()


def out_of_time(message: str) -> SolveOutcome:
    """The outcome when the command's budget ran out before HiGHS could start (loading and
    building cannot be interrupted): no plan, no bound, ``message`` says why."""
    return SolveOutcome(status="time_limit_no_plan", termination="Time limit reached",
                        has_solution=False, objective=None, bound=None, gap=None,
                        solver=highs_version(), message=message)


def infeasible_before_solving(exc: InfeasibleConstraintException, seconds: float
                              ) -> SolveOutcome:
    """A row without variables that cannot hold (e.g. demand for an industry that no region
    may host): infeasible whatever the plan, an answer rather than a crash."""
    return SolveOutcome(status="infeasible", termination=f"infeasible before solving: {exc}",
                        has_solution=False, objective=None, bound=None, gap=None,
                        seconds={"compile": seconds}, solver=highs_version())


def solve_model(model: pyo.ConcreteModel, options: SolverOptions, *,
                form: StandardForm | None = None, start: np.ndarray | None = None,
                deadline: Deadline | None = None, reserve: float = 0.0) -> SolveOutcome:
    """Solve ``model`` with HiGHS and load the values of the plan into its variables.

    ``form``: the model already compiled (:func:`compile_model`), to compile once when a
    start was computed on it. ``start``: a complete feasible plan, one value per column of
    ``form``, given to HiGHS as its first incumbent (:func:`set_mip_start`). The run is
    watched by :class:`allocator.engine.monitor.SolveMonitor`: first incumbent, progress line
    (``options.progress``), Ctrl-C as a clean interrupt. ``deadline``: the command's
    wall-clock budget (:mod:`allocator.engine.deadline`); HiGHS gets what is left of it after
    ``reserve`` seconds for what follows the search, and is stopped when it runs out.
    """
    t0 = time.perf_counter()
    if form is None:
        try:
            form = compile_model(model)
        except InfeasibleConstraintException as exc:
            # a row without variables that cannot hold (e.g. an industry whose every
            # candidate site was left out as unable to host, allocator.engine.prune): infeasible
            # before any solve
            return infeasible_before_solving(exc, time.perf_counter() - t0)
    t1 = time.perf_counter()
    if not form.columns:  # every variable fixed (e.g. evaluating a complete plan)
        load_solution(form, np.zeros(0), model)
        size = {"variables": 0, "binary": 0, "continuous": 0, "constraints": 0,
                "nonzeros": 0}
        return SolveOutcome(status="optimal", termination="Optimal (nothing left to decide)",
                            has_solution=True, objective=form.offset, bound=form.offset,
                            gap=0.0, seconds={"handoff": t1 - t0, "compile": t1 - t0,
                                              "pass": 0.0, "solve": 0.0},
                            solver=highs_version(), size=size)
    h = make_highs(form, options)
    if start is not None:
        set_mip_start(h, start)
    monitor = SolveMonitor(progress=options.progress, deadline=deadline, reserve=reserve)
    monitor.attach(h, watch_start=start is not None)
    t2 = time.perf_counter()
    if deadline is not None and deadline.limited:
        h.setOptionValue("time_limit", float(deadline.for_search(reserve) or 0.0))
    with monitor.interruptible():
        run_status = run_highs(h)
    t3 = time.perf_counter()
    outcome = read_outcome(h, form)
    outcome.highs, outcome.form = h, form
    if monitor.deadline_hit and outcome.status == "interrupted":  # our stop, not Ctrl-C
        outcome.status = "time_limit" if outcome.has_solution else "time_limit_no_plan"
        outcome.termination = "Time limit reached"
    outcome.first_incumbent = monitor.first_incumbent
    if start is not None:
        outcome.start["accepted_by_highs"] = monitor.start_accepted
    if monitor.stop_requested and outcome.status == "interrupted":
        outcome.message = ("interrupted (Ctrl-C): " + ("the best plan found so far is kept"
                           if outcome.has_solution else "no plan had been found yet"))
    if run_status == highspy.HighsStatus.kError and outcome.status != "infeasible":
        outcome.status = "error"
        outcome.message = "HiGHS stopped with an error (run with --log FILE to see why)"
    outcome.seconds = {"handoff": t1 - t0 + (t2 - t1), "compile": t1 - t0,
                       "pass": t2 - t1, "solve": t3 - t2}
    if outcome.has_solution:
        load_solution(form, np.asarray(h.getSolution().col_value, dtype=float), model)
    return outcome


def presolve_infeasible(failures: int) -> SolveOutcome:
    """The outcome when the pre-solve checks prove infeasibility: HiGHS is not run."""
    return SolveOutcome(status="infeasible", termination="pre-solve checks",
                        has_solution=False, objective=None, bound=None, gap=None,
                        solver=highs_version(),
                        message=f"infeasible: {failures} pre-solve check"
                                f"{'s' if failures != 1 else ''} failed")


def read_outcome(h: highspy.Highs, form: StandardForm) -> SolveOutcome:
    model_status = h.getModelStatus()
    name = str(model_status).split(".")[-1]
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    status = _STATUS.get(name, "error")
    if status == "time_limit" and not has_solution:
        status = "time_limit_no_plan"
    if status == "optimal" and not has_solution:
        status = "error"
    mip = bool(form.integrality.any())
    objective = None
    if has_solution:
        objective = plan_objective(form, np.asarray(h.getSolution().col_value, dtype=float))
    if mip:
        bound = _finite(info.mip_dual_bound)
        gap = _finite(info.mip_gap) if has_solution else None
        if objective is not None and bound is not None:
            gap = relative_gap(objective, bound)
    else:
        bound = objective if status == "optimal" else None
        gap = 0.0 if status == "optimal" else None
    if status == "optimal" and gap is not None and gap < 0:
        gap = 0.0
    size = {
        "variables": len(form.columns), "binary": int(form.integrality.sum()),
        "continuous": int(len(form.columns) - form.integrality.sum()),
        "constraints": len(form.rows), "nonzeros": len(form.value),
    }
    return SolveOutcome(status=status, termination=h.modelStatusToString(model_status),
                        has_solution=has_solution, objective=objective, bound=bound, gap=gap,
                        solver=highs_version(), size=size)


def plan_objective(form: StandardForm, x: np.ndarray) -> float:
    """The objective of the plan ``x`` (one value per column), integer columns rounded as
    :func:`load_solution` rounds them: what the written plan costs and what ``allocator
    verify`` recomputes. HiGHS's own ``objective_function_value`` is not used: for a MIP
    start it can be a value from its presolved model that the plan it returns does not have
    (see :func:`set_mip_start`)."""
    x = np.where(form.integrality.astype(bool), np.round(x), x)
    return float(form.offset + form.cost @ x)


def relative_gap(objective: float, bound: float) -> float:
    """HiGHS's relative gap, ``(objective - bound) / |objective|`` (0 when both are 0, never
    below 0), computed from the plan's own objective."""
    if objective == bound:
        return 0.0
    return max(0.0, (objective - bound) / max(abs(objective), 1e-9))


def load_solution(form: StandardForm, x: np.ndarray, model: pyo.ConcreteModel) -> None:
    """Set every variable of the plan: the solver's columns, rounded to integers where
    integral; a variable that appears in no row and no objective takes its lower bound
    (or 0), any value in its bounds being equally good."""
    for var, val in zip(form.columns, x, strict=True):
        if var.is_binary() or var.is_integer():
            val = float(round(val))
        var.set_value(float(val), skip_validation=True)
    for var in model.component_data_objects(pyo.Var, descend_into=True):
        if var.value is None:
            lb, ub = var.lb, var.ub
            var.set_value(max(lb, 0.0) if lb is not None else min(0.0, ub if ub is not None
                                                                   else 0.0),
                          skip_validation=True)


def _finite(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) and abs(v) < 1e30 else None
