"""The whole solve, as the command line runs it: pre-solve checks, the MIP start, HiGHS,
the explanation when there is no plan, shadow prices when there is one.

:func:`solve` takes a built model (:func:`allocator.engine.build.build_model`),
:func:`solve_instance` a folder. Both return a :class:`allocator.engine.results.Result`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from pyomo.common.errors import InfeasibleConstraintException

from allocator.analysis.checks import run_checks
from allocator.analysis.explain import explain
from allocator.analysis.shadow import add_shadow_prices
from allocator.core.errors import InputError, Problem
from allocator.core.family import Family
from allocator.engine.build import BuiltModel, build_model
from allocator.engine.deadline import HEURISTIC_SHARE, Deadline, after_search_seconds
from allocator.engine.highs import (
    SolveOutcome,
    SolverOptions,
    compile_model,
    infeasible_before_solving,
    out_of_time,
    presolve_infeasible,
    solve_model,
)
from allocator.engine.period_start import period_start
from allocator.engine.results import Result, collect
from allocator.engine.warmstart import prepare
from allocator.input.data import load_instance


def solve(built: BuiltModel, options: SolverOptions | None = None, *,
          shadow_prices: bool = True, deadline: Deadline | None = None) -> Result:
    """Solve a built model with HiGHS; returns the result tables and summary.

    First the pre-solve checks (:mod:`allocator.analysis.checks`) of the families built and not
    softened: a failure proves that no plan exists, so HiGHS is not run (status
    ``infeasible``, termination ``pre-solve checks``). When the instance is infeasible,
    ``result.explanation`` holds the smallest set of limits to relax, each named by its input
    row (:func:`allocator.analysis.explain.explain`), ``result.outcome.message`` its headline.

    With a plan and ``shadow_prices`` (the default), the LP with hosting fixed is re-solved and
    the ``regions`` table gains ``shadow_price`` and ``shadow_price_unit`` (see
    :mod:`allocator.analysis.shadow`).

    The time limit of ``options`` is a wall-clock budget for all of it (solve, shadow prices,
    result tables), counted from ``deadline``'s start when given (the command line starts it
    before loading the instance), else from this call (:mod:`allocator.engine.deadline`).
    """
    resolved = (options or SolverOptions()).resolved(built.instance.settings["solver"])
    deadline = deadline if deadline is not None else Deadline()
    if deadline.seconds is None:
        deadline.seconds = resolved.time_limit
    if built.scenarios:
        if deadline.limited:
            resolved = replace(resolved, time_limit=max(deadline.remaining(), 0.1))
        return solve_stochastic(built, resolved)
    if built.periods:
        if deadline.limited:
            resolved = replace(resolved, time_limit=max(deadline.remaining(), 0.1))
        return solve_periods(built, resolved, deadline)
    names = [f.name for f in built.families]
    failures = run_checks(built.instance, built.families, set(built.soft_rows["family"]))
    outcome = (presolve_infeasible(len(failures)) if failures
               else _solve_warm(built, resolved, deadline, shadow_prices))
    explanation = None
    if outcome.status == "infeasible":
        explain_options = resolved if not deadline.limited else replace(
            resolved, time_limit=max(deadline.remaining() / 2, 1.0))
        explanation = explain(built.instance, names, options=explain_options,
                              checks=failures,
                              progress=sys.stderr if resolved.progress else None)
        outcome.message = explanation.headline
    result = collect(built, outcome, resolved, explanation)
    if shadow_prices:
        add_shadow_prices(result, deadline)
    outcome.highs = outcome.form = None  # the solver's memory goes with the search
    return result


def _solve_warm(built: BuiltModel, options: SolverOptions, deadline: Deadline | None = None,
                shadow_prices: bool = True) -> SolveOutcome:
    """Compile once, make the MIP start (a plan file, the heuristic), solve; the time to the
    first incumbent counts from the start of compiling. With a ``deadline``, the heuristic
    takes at most its share of the time left and HiGHS the rest, less what the steps after
    the search need (:func:`allocator.engine.deadline.after_search_seconds`)."""
    deadline = deadline if deadline is not None else Deadline(options.time_limit)
    t0 = time.perf_counter()
    if deadline.expired():  # loading and building used the whole budget: HiGHS never starts
        return out_of_time(f"the {deadline.seconds:g} s time limit was used up by loading "
                           f"and building the model ({deadline.elapsed():.1f} s)")
    try:
        form = compile_model(built.model)
    except InfeasibleConstraintException as exc:
        return infeasible_before_solving(exc, time.perf_counter() - t0)
    t1 = time.perf_counter()
    reserve = after_search_seconds(len(form.columns), len(form.rows),
                                   shadow_prices=shadow_prices,
                                   build_seconds=built.seconds + (t1 - t0))
    start, report = prepare(built, form, options, heuristic=options.heuristic,
                            plan=options.start_file,
                            seconds=deadline.share(HEURISTIC_SHARE, reserve))
    t2 = time.perf_counter()
    outcome = solve_model(built.model, options, form=form, start=start, deadline=deadline,
                          reserve=reserve)
    outcome.seconds.update(compile=t1 - t0, start=t2 - t1,
                           handoff=outcome.seconds["handoff"] + (t1 - t0))
    report.update(outcome.start)
    first = outcome.first_incumbent
    if first is not None:
        first["seconds_from_compile"] = first["seconds"] + (t2 - t0) + outcome.seconds["pass"]
        first["source"] = "highs"
        if report.get("accepted_by_highs"):  # HiGHS's first incumbent is the start itself
            first["source"] = report["given"]
            # HiGHS reports the start's value in its presolved model; the start's own cost
            # is what the plan costs (they agree unless presolve mis-values the start,
            # see allocator.engine.highs.set_mip_start)
            first["highs_objective"] = first["objective"]
            first["objective"] = report["objective"]
            # the heuristic had a plan before it improved it: that is when the first came
            made = report.get(report["given"] or "", {}) or {}
            if "plan_at" in made:
                first["seconds_from_compile"] = made["plan_at"] - t0
                first["objective"] = made.get("improved", {}).get("from", first["objective"])
    for made in (report.get("heuristic") or {}, report.get("plan") or {}):
        made.pop("plan_at", None)  # a clock reading, meaningless in summary.json
    outcome.start = report
    return outcome


def solve_instance(
    path: str | Path,
    options: SolverOptions | None = None,
    *,
    families: list[str] | None = None,
    extra_families: list[str | Path | Family] | None = None,
    without: list[str] | None = None,
    allow_families: bool = False,
) -> Result:
    """Load, validate, build and solve the instance folder at ``path`` in one call
    (``allow_families``: run the family files the instance names, see
    :func:`allocator.input.data.load_instance`)."""
    inst = load_instance(path, extra_families=extra_families or (), without=without or (),
                         allow_families=allow_families)
    return solve(build_model(inst, families), options)


#: share of the time left that the first plan of a plan over time may take
PERIOD_START_SHARE = 0.4


def solve_periods(built: BuiltModel, options: SolverOptions,
                  deadline: Deadline | None = None) -> Result:
    """Solve a multi-period model (:mod:`allocator.engine.periods`). The pre-solve checks of
    the families run on the first period's data first: its block is a one-shot model whose
    investment is at least the one-shot model's, so a failed check proves there is no plan.
    (A later period's budget pays only for what that period adds, so the checks, which
    price whole plans, do not hold there.) The first plan is the last period's one-shot
    plan phased over the periods (:mod:`allocator.engine.period_start`; off with
    ``heuristic=False``). No shadow prices yet (they know one snapshot); an infeasible model
    is not explained by input row: each period alone can be solved for that."""
    if options.start_file is not None:
        raise InputError([Problem("--start", "a start plan is one snapshot; with periods.csv "
                                  "the first plan is the heuristic's (leave --start out)",
                                  value=str(options.start_file))])
    deadline = deadline if deadline is not None else Deadline(options.time_limit)
    failures = run_checks(built.periods[0].built.instance, built.families)
    report: dict[str, Any] = {"heuristic": {"used": False, "message": "off (--no-heuristic)"},
                              "plan": None, "given": None}
    if failures:
        outcome = presolve_infeasible(len(failures))
    else:
        t0 = time.perf_counter()
        try:
            form = compile_model(built.model)
        except InfeasibleConstraintException as exc:
            outcome = infeasible_before_solving(exc, 0.0)
        else:
            x = None
            if options.heuristic:
                x, report["heuristic"] = period_start(
                    built, form, options, deadline.share(PERIOD_START_SHARE, at_most=600.0))
                if x is not None:
                    report["given"] = "heuristic"
                    report["objective"] = report["heuristic"]["objective"]
            t1 = time.perf_counter()
            outcome = solve_model(built.model, options, form=form, start=x,
                                  deadline=deadline)
            outcome.seconds.update(compile=0.0, start=t1 - t0)
            report.update(outcome.start or {})
            first = outcome.first_incumbent
            if first is not None and report.get("accepted_by_highs"):
                first["source"] = "heuristic"
                first["seconds_from_compile"] = first.get("seconds", 0.0) + (t1 - t0)
    outcome.start = report
    first = outcome.first_incumbent
    if first is not None:
        first.setdefault("source", "highs")
        first.setdefault("seconds_from_compile", first.get("seconds", 0.0))
    if outcome.status == "infeasible" and not failures:
        outcome.message = ("infeasible: no plan over the periods meets every period's limits "
                           "with hosting kept and capacity only growing; solve one period's "
                           "data alone (a one-row periods.csv) to see which limit binds")
    return collect(built, outcome, options)


def solve_stochastic(built: BuiltModel, options: Any, *, start: bool = False) -> Any:
    """Solve the deterministic equivalent. No heuristic first plan (it knows one scenario
    only) and no shadow prices (a dual of a scenario row is a probability-weighted price).
    The pre-solve checks of the first-stage families run first (a second-stage shortage is
    unmet demand, not infeasibility). ``start``: the values the model's variables hold (e.g.
    a solve with the first stage fixed, :func:`fix_first_stage`) are given to HiGHS as its
    first plan. Returns a :class:`allocator.engine.results.Result`."""
    failures = run_checks(built.instance, built.first_stage)
    if failures:
        outcome = presolve_infeasible(len(failures))
    else:
        try:
            form = compile_model(built.model)
        except InfeasibleConstraintException as exc:
            outcome = infeasible_before_solving(exc, 0.0)
        else:
            x = None
            if start:
                x = np.array([0.0 if v.value is None else float(v.value)
                              for v in form.columns])
            outcome = solve_model(built.model, options, form=form, start=x)
    first = outcome.first_incumbent
    if first is not None:  # no heuristic start: the first plan is HiGHS's own or the start
        first.setdefault("source", "plan" if start else "highs")
        first.setdefault("seconds_from_compile", first.get("seconds", 0.0))
    if outcome.status == "infeasible" and not failures:
        outcome.message = ("infeasible: the first-stage limits conflict (unmet demand in a "
                           "scenario is penalized, never infeasible); run without shocks.csv "
                           "for the explanation by input row")
    return collect(built, outcome, options)
