r"""A first plan guided by the LP relaxation: solve the relaxation, dive on it, and let
HiGHS finish what the dive leaves in a small MIP.

1. The LP relaxation (every integer column continuous) is solved once; its optimum $z_{LP}$
   is a lower bound on every plan.
2. **Diving** (:func:`dive`): on the same Highs object, integer columns are rounded and fixed
   in batches and the LP re-solved from the previous basis (a few hundredths of a second at
   100 x 20, under a second at 337 x 40, against 1 s and 9-20 s for the first LP). Each
   round takes the integer columns the LP leaves fractional at 0.5 or more, in decreasing
   order, and fixes the largest :data:`DIVE_SHARE` of them at their value rounded up (a
   region the relaxation wants for an industry hosts it); when none is at 0.5, the single
   largest. A batch that makes the LP infeasible is halved; a single column that cannot be
   rounded up is rounded down instead (the region does not host); when neither direction
   is feasible the dive stops where it is. Nothing is ever fixed at 0 just because the LP
   leaves it there, so the LP keeps every region it may still need. When no integer column
   is left fractional, the LP's solution is a plan: every row holds, integers are integral.
3. What the dive leaves (stopped by a dead end, by :data:`DIVE_ROUNDS` or by its share of the
   time) goes to HiGHS as a **restricted MIP**: the columns the dive fixed stay fixed, the
   rest are free integers; same rows, same objective (a restriction, so each of its plans is
   a plan of the whole model), solved to 1% of its own optimum within the time given. (Also
   fixing at 0 what the last LP left at 0 made it infeasible twice at 337 x 40.) When the
   dive ends integral, every integer column is fixed and this is the plan's completion. Its
   best plan is the first plan. Without diving (``dive=False``) this is step 2, from the
   first LP, with every integer column the LP leaves at 0 fixed at 0: the
   relaxation-guided restricted MIP of issue 12's first attempt.
4. **Improvement** (:func:`improve_plan`, a fix-and-optimize neighbourhood): the MIP with
   every integer column fixed at 0 except those the first LP uses and those the plan
   hosts, started from the plan, for what is left of the time (at most
   :data:`IMPROVE_SECONDS`). HiGHS's own heuristics (RINS, RENS) work far better in that
   small space than in the whole model, where on the generated 100 x 20 instance the main
   search did not improve the dive's plan in 53 s. Its best plan is the MIP start of the
   main search.

Measured (``python benchmarks/scale.py``, one run each on a 2-core machine under a load of
about 5, so every time is 2-3 times the idle one; see docs/performance.md): on the generated
100 x 20 instance (seed 7) the dive ends integral after 12 LPs, 1.2 s after the first LP,
with a plan 6% above the best known; at 337 x 40 the restricted MIP from the first LP alone
finds no plan in 30 s, the dive leaves a few dozen columns to a small restricted MIP.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import highspy
import numpy as np

from allocator.engine.highs import (
    SolverOptions,
    StandardForm,
    make_highs,
    plan_objective,
    read_outcome,
    run_highs,
    set_mip_start,
)

#: an integer column at most this far from 0 in the relaxation is fixed at 0
ZERO = 1e-6
#: relative gap at which the restricted MIP stops (its own gap)
GAP = 0.01
#: time limit of the restricted MIP without a command budget, in seconds
SECONDS = 20.0
#: share of the fractional integer columns (at 0.5 or more) rounded up in one dive round
DIVE_SHARE = 0.3
#: most LP re-solves of one dive
DIVE_ROUNDS = 200
#: share of the time left after the first LP that the dive may use (the rest is the
#: restricted MIP's): most of it, since the dive ended integral on every instance measured
#: while the restricted MIP of a dive stopped early was infeasible once at 337 x 40
DIVE_TIME_SHARE = 0.9
#: an integer column at most this far from an integer counts as integral
INTEGRAL = 1e-6
#: most time for the improvement MIP around the first plan without a command budget, in
#: seconds; with one, what is left of the heuristic's share
IMPROVE_SECONDS = 30.0
#: no improvement MIP with less time than this left, in seconds
IMPROVE_AT_LEAST = 0.5


def start_from_relaxation(form: StandardForm, options: SolverOptions, *,
                          seconds: float = math.inf, dive: bool = True,
                          improve: bool = True) -> tuple[np.ndarray | None, dict[str, Any]]:
    """A MIP start from the LP relaxation of ``form``: the dive, then the restricted MIP of
    what it leaves (see the module docstring), within ``seconds``. Returns the plan (one
    value per column of ``form``, integers rounded) and what happened, for
    ``summary.json``."""
    t0 = time.perf_counter()
    quiet = replace(options, log_file=None, verbose=False, progress=False, mip_gap=GAP)
    report: dict[str, Any] = {"used": False, "how": "relaxation-guided restricted MIP"}
    if seconds <= IMPROVE_AT_LEAST / 10:
        report.update(seconds=0.0, message="no time was left for the LP relaxation")
        return None, report
    ints = form.integrality.astype(bool)
    lp = replace(form, integrality=np.zeros_like(form.integrality))
    h = make_highs(lp, replace(quiet, time_limit=_left(t0, seconds)))
    # devex pricing: the LP took 18.0 s instead of 24.9 s at 337 x 40, 19.7 instead of
    # 24.4 at china-cities, 0.55 instead of 0.60 at 100 x 20 (same load, about 6)
    h.setOptionValue("simplex_dual_edge_weight_strategy", 1)
    run_highs(h)
    relaxed = read_outcome(h, lp)
    report["lp_seconds"] = time.perf_counter() - t0
    if relaxed.status != "optimal":
        report.update(seconds=time.perf_counter() - t0,
                      message=f"the LP relaxation ended {relaxed.status}"
                      + (" within the time given" if relaxed.status.startswith("time") else ""))
        return None, report
    report["lp_bound"] = relaxed.objective
    x_lp = np.asarray(h.getSolution().col_value, dtype=float)
    support = ints & (np.abs(x_lp) > ZERO)  # the integer columns the relaxation uses
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    if dive:
        left = _left(t0, seconds)
        until = t0 + report["lp_seconds"] + (DIVE_TIME_SHARE * left if left is not None
                                             else math.inf)
        lower, upper, x_lp, done = dive_on(h, form, x_lp, until=until)
        report["dive"] = done
        if done["integral"]:
            # every integer fixed at its value: the restricted MIP below is the plan's
            # completion (HiGHS's presolve sets the columns that cost nothing, e.g. a
            # neighbour pair's indicator under a zero weight, to their least value, where
            # the dive's last vertex may have left them anywhere)
            lower[ints] = upper[ints] = np.round(x_lp[ints])
            report["how"] = "LP diving"
        else:
            report["how"] = "LP diving, then a restricted MIP"
    if not dive:  # a dive stopped early keeps every column it did not fix free
        unused = ints & (np.abs(x_lp) <= ZERO) & (lower <= 0) & (lower < upper)
        upper[unused] = 0.0
    restricted = replace(form, col_lower=lower, col_upper=upper)
    free = ints & (lower < upper)
    report["kept"] = int(free.sum())
    report["of"] = int(ints.sum())
    left = _left(t0, seconds)
    if left is not None and left <= 0:
        report.update(seconds=time.perf_counter() - t0,
                      message="no time was left for the restricted MIP after the relaxation")
        return None, report
    h = make_highs(restricted, replace(quiet, time_limit=left if left is not None
                                       else SECONDS))
    run_highs(h)
    outcome = read_outcome(h, restricted)
    report["seconds"] = time.perf_counter() - t0
    if not outcome.has_solution:
        report["message"] = (f"the MIP restricted to the {report['kept']} hosting decisions "
                             f"{'the dive left' if dive else 'the relaxation uses'} ended "
                             f"{outcome.status}")
        return None, report
    x = np.asarray(h.getSolution().col_value, dtype=float)
    x[ints] = np.round(x[ints])
    report.update(used=True, objective=outcome.objective, status=outcome.status,
                  plan_seconds=report["seconds"], plan_at=time.perf_counter())
    left = _left(t0, seconds)
    budget = IMPROVE_SECONDS if left is None else min(IMPROVE_SECONDS, left)
    if improve and budget >= IMPROVE_AT_LEAST:
        better, done = improve_plan(form, x, support | (ints & (x > 0.5)), quiet,
                                    seconds=budget)
        report["improved"] = done
        if better is not None:
            x = better
            report["objective"] = done["objective"]
        report["seconds"] = time.perf_counter() - t0
    return x, report


def improve_plan(form: StandardForm, x: np.ndarray, free: np.ndarray, options: SolverOptions,
                 *, seconds: float) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Step 4 of the module docstring: the MIP of ``form`` with every integer column outside
    ``free`` fixed at 0 (where its bounds allow), started from the plan ``x`` (which must
    respect that), within ``seconds``. Returns a cheaper plan, or None, and what happened."""
    t0 = time.perf_counter()
    ints = form.integrality.astype(bool)
    upper = form.col_upper.copy()
    upper[ints & ~free & (form.col_lower <= 0)] = 0.0
    sub = replace(form, col_upper=upper)
    h = make_highs(sub, replace(options, time_limit=seconds))
    set_mip_start(h, x)
    run_highs(h)
    outcome = read_outcome(h, sub)
    before = plan_objective(form, x)
    done: dict[str, Any] = {"free": int(free.sum()), "status": outcome.status,
                            "seconds": time.perf_counter() - t0, "from": before}
    if not outcome.has_solution or outcome.objective is None:
        return None, done
    y = np.asarray(h.getSolution().col_value, dtype=float)
    y[ints] = np.round(y[ints])
    after = plan_objective(form, y)
    done["objective"] = min(before, after)
    if after >= before - 1e-9 * max(1.0, abs(before)):
        return None, done
    return y, done


def dive_on(h: highspy.Highs, form: StandardForm, x: np.ndarray, *, until: float = math.inf,
            share: float = DIVE_SHARE, rounds: int = DIVE_ROUNDS
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Dive from the LP solution ``x`` held by ``h`` (the LP relaxation of ``form``, solved):
    see step 2 of the module docstring. Stops when no integer column is fractional, at a
    dead end, after ``rounds`` LP re-solves or at the ``until`` reading of
    :func:`time.perf_counter`. Returns the column bounds the dive fixed, the last feasible
    LP solution, and a report (``integral``, ``lps``, ``fixed``, ``left``: the fractional
    integer columns at the end, ``stopped``: why it ended)."""
    n = len(form.columns)
    every = np.arange(n, dtype=np.int32)
    idx = np.nonzero(form.integrality)[0]
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    lps, fixed = 0, 0
    stopped = ""
    # each re-solve starts from the last basis (dual simplex after a bound change); presolve
    # would rebuild the model from scratch every time
    h.setOptionValue("presolve", "off")

    def feasible(lo: np.ndarray, up: np.ndarray) -> bool:
        nonlocal lps
        h.changeColsBounds(n, every, lo, up)
        run_highs(h)
        lps += 1
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    while True:
        y = x[idx]
        frac = (lower[idx] < upper[idx]) & (np.abs(y - np.round(y)) > INTEGRAL)
        if not frac.any():
            break
        if lps >= rounds or time.perf_counter() >= until:
            stopped = "its share of the time" if lps < rounds else f"{rounds} LPs"
            break
        cand = np.nonzero(frac)[0]
        cand = cand[np.argsort(-(y[cand] - np.floor(y[cand])), kind="stable")]
        high = int(((y[cand] - np.floor(y[cand])) >= 0.5).sum())
        k = max(1, int(share * (high or len(cand))))
        while True:
            batch = idx[cand[:k]]
            lo, up = lower.copy(), upper.copy()
            lo[batch] = np.ceil(x[batch] - INTEGRAL)
            if feasible(lo, up):
                break
            if k > 1:
                k //= 2
                continue
            lo, up = lower.copy(), upper.copy()
            up[batch] = np.floor(x[batch] + INTEGRAL)
            if feasible(lo, up):
                break
            stopped = "a column that can be rounded neither up nor down"
            break
        if stopped:
            h.changeColsBounds(n, every, lower, upper)  # back to the last feasible LP
            run_highs(h)
            break
        lower, upper = lo, up
        fixed += k
        x = np.asarray(h.getSolution().col_value, dtype=float)
    y = x[idx]
    left = int(((lower[idx] < upper[idx]) & (np.abs(y - np.round(y)) > INTEGRAL)).sum())
    return lower, upper, x, {"integral": left == 0, "lps": lps, "fixed": fixed, "left": left,
                             "stopped": stopped}


def _left(t0: float, seconds: float) -> float | None:
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds - (time.perf_counter() - t0))


__all__ = [
    "DIVE_ROUNDS",
    "DIVE_SHARE",
    "DIVE_TIME_SHARE",
    "GAP",
    "IMPROVE_AT_LEAST",
    "IMPROVE_SECONDS",
    "INTEGRAL",
    "SECONDS",
    "ZERO",
    "dive_on",
    "improve_plan",
    "start_from_relaxation",
]
