"""The objective written for a solve from a MIP start is the plan's own cost.

Issue 12's bug: ``allocator solve instances/china-cities --start plans/planted.csv`` wrote
HiGHS's 45,377.44 as the objective while the plan it returned (the start itself) costs
45,539.18, and ``allocator verify`` refused the results. HiGHS valued the start in its
presolved model, where its "Aggregator" rule had substituted capacity columns through rows
that are tight only at an optimum (allocator.engine.highs.set_mip_start). There is no tiny
instance for it: the reduction needs the real instance's structure, so the test runs it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import verified

import allocator
from allocator.engine.highs import (
    PRESOLVE_AGGREGATOR,
    compile_model,
    make_highs,
    plan_objective,
    relative_gap,
    run_highs,
    set_mip_start,
)
from allocator.engine.warmstart import start_from_plan

ROOT = Path(__file__).resolve().parent.parent
CITIES = ROOT / "instances" / "china-cities"
PLANTED = CITIES / "plans" / "planted.csv"


def test_relative_gap_is_highs_definition():
    # (objective - bound) / |objective|: 100 against 99 is 1%; never negative
    assert relative_gap(100.0, 99.0) == pytest.approx(0.01)
    assert relative_gap(-200.0, -202.0) == pytest.approx(0.01)
    assert relative_gap(5.0, 5.0000001) == 0.0
    assert relative_gap(0.0, 0.0) == 0.0


@pytest.mark.slow
def test_highs_values_the_planted_start_at_its_own_cost():
    built = allocator.build_model(allocator.load_instance(CITIES))
    form = compile_model(built.model)
    options = allocator.SolverOptions(time_limit=60, heuristic=False)
    x, report = start_from_plan(built, form, PLANTED, options)
    assert x is not None and report["how"] == "hosting and capacities fixed"
    cost = plan_objective(form, x)
    assert cost == pytest.approx(45539.1848, abs=1e-3)  # the planted plan's cost, as verify

    h = make_highs(form, allocator.SolverOptions(time_limit=20, mip_gap=0.01))
    valued: list[tuple[float, float]] = []
    h.cbMipImprovingSolution.subscribe(lambda e: valued.append(
        (float(e.data_out.objective_function_value),
         plan_objective(form, np.asarray(e.data_out.mip_solution)))))
    set_mip_start(h, x)
    run_highs(h)
    # the first incumbent is the start: HiGHS's value of it is its cost (45,377.44 before)
    assert valued, "HiGHS did not take the planted plan as its first incumbent"
    highs_value, own = valued[0]
    assert own == pytest.approx(cost, rel=1e-9)
    assert highs_value == pytest.approx(cost, rel=1e-9)
    # the cause: the start went in with HiGHS's aggregator off
    assert int(h.getOptionValue("presolve_rule_off")[1]) & PRESOLVE_AGGREGATOR


@pytest.mark.slow
def test_solve_from_the_planted_plan_writes_what_verify_recomputes():
    built = allocator.build_model(allocator.load_instance(CITIES))
    result = allocator.solve(built, allocator.SolverOptions(
        time_limit=15, heuristic=False, start_file=str(PLANTED)))
    assert result.outcome.has_solution
    assert result.objective <= 45539.1848 + 1e-3  # never worse than the start
    verified(CITIES, result)  # allocator verify: every row, and the objective agrees
