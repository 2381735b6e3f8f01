r"""A first plan guided by the LP relaxation: solve the relaxation, keep only the hosting
decisions it uses, and let HiGHS find a plan in that smaller MIP.

1. The LP relaxation (every integer column continuous) is solved once; its optimum $z_{LP}$
   is a lower bound on every plan.
2. Every integer column at (numerically) zero in it is fixed at 0: a region the relaxation
   does not use at all for an industry does not host it. That leaves the hosting decisions
   the relaxation uses, typically 10-30% of them on the generated instances.
3. That restricted MIP (the same rows, the same objective: a restriction, so each of its
   plans is a plan of the whole model) goes to HiGHS for at most the time given, until 1%
   of its own optimum. Its best plan is the MIP start of the main search.

Measured on the generated 100 x 20 instance (seed 7; ``python benchmarks/scale.py``): the
greedy of :mod:`allocator.engine.warmstart` cannot complete its hosting, the full search finds its
first plan after about 14 s, while the restricted MIP keeps 173 of 863 hosting decisions and
HiGHS's central rounding finds a plan in it at once, within 1% of its own optimum in a few
seconds. The restriction can be infeasible or hard (the relaxation spreads capacity thinly
over sites that cannot all reach their minimum scale): then it reports why and the main
search starts without it.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np

from allocator.engine.highs import SolverOptions, StandardForm, make_highs, read_outcome, run_highs

#: an integer column at most this far from 0 in the relaxation is fixed at 0
ZERO = 1e-6
#: relative gap at which the restricted MIP stops (its own gap)
GAP = 0.01
#: time limit of the restricted MIP without a command budget, in seconds
SECONDS = 20.0


def start_from_relaxation(form: StandardForm, options: SolverOptions, *,
                          seconds: float = math.inf
                          ) -> tuple[np.ndarray | None, dict[str, Any]]:
    """A MIP start from the restriction of ``form`` to the integer columns its LP relaxation
    uses (see the module docstring), within ``seconds``. Returns the plan (one value per
    column of ``form``, integers rounded) and what happened, for ``summary.json``."""
    t0 = time.perf_counter()
    quiet = replace(options, log_file=None, verbose=False, progress=False, mip_gap=GAP)
    report: dict[str, Any] = {"used": False, "how": "relaxation-guided restricted MIP"}
    ints = form.integrality.astype(bool)
    lp = replace(form, integrality=np.zeros_like(form.integrality))
    h = make_highs(lp, replace(quiet, time_limit=_left(t0, seconds)))
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
    unused = ints & (np.abs(x_lp) <= ZERO) & (form.col_lower <= 0)
    upper = form.col_upper.copy()
    upper[unused] = 0.0
    restricted = replace(form, col_upper=upper)
    report["kept"] = int(ints.sum() - unused.sum())
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
                             f"the relaxation uses ended {outcome.status}")
        return None, report
    x = np.asarray(h.getSolution().col_value, dtype=float)
    x[ints] = np.round(x[ints])
    report.update(used=True, objective=outcome.objective, status=outcome.status)
    return x, report


def _left(t0: float, seconds: float) -> float | None:
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds - (time.perf_counter() - t0))


__all__ = ["GAP", "SECONDS", "ZERO", "start_from_relaxation"]
