"""The first plan of a plan over time (:mod:`allocator.engine.periods`), given to HiGHS as its
MIP start.

1. The last period alone, as a one-shot model (its data, no periods, without the families
   that limit spending, ``Family.spending``: a period's budget pays only for what it adds,
   not for the whole plan): the one-shot first plan
   (:func:`allocator.engine.warmstart.prepare`: the relaxation-guided restricted MIP, else
   the greedy) gives the regions that host in the end.
2. A restricted MIP of the whole plan over time: in the last period exactly those hosts,
   in the earlier ones any of them (hosting is kept, so nothing else could host earlier),
   everything else free. It decides when each host starts and how capacity grows, within
   the periods' budgets and lead times.

The start is a plan of the full model (only bounds were tightened), so HiGHS accepts it as
its first incumbent and can only improve on it. When a step finds nothing (no one-shot plan,
or the last period's hosts cannot be reached in time), the search starts without a plan, as
before.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from allocator.engine.build import BuiltModel, build_model
from allocator.engine.highs import (
    SolverOptions,
    StandardForm,
    compile_model,
    make_highs,
    read_outcome,
    run_highs,
)
from allocator.engine.warmstart import column_index, prepare
from allocator.input.periods import SUFFIX

#: share of the start's time the one-shot first plan of the last period may take
ONE_SHOT_SHARE = 0.5


def period_start(built: BuiltModel, form: StandardForm, options: SolverOptions,
                 seconds: float) -> tuple[np.ndarray | None, dict[str, Any]]:
    """The start of the module docstring: (column values of ``form`` or None, what
    happened, for summary.json's ``start``, with the ``seconds`` it took)."""
    t0 = time.perf_counter()
    x, report = _start(built, form, options, t0 + seconds)
    return x, {**report, "seconds": time.perf_counter() - t0}


def _start(built: BuiltModel, form: StandardForm, options: SolverOptions, until: float
           ) -> tuple[np.ndarray | None, dict[str, Any]]:
    last = built.periods[-1].built.instance
    tables = {k: v for k, v in last.tables.items()
              if k != "periods" and not k.endswith(SUFFIX)}
    one = replace(last, tables=tables)
    one.__dict__["network"] = last.network  # the same regions: share the network
    # without the families that limit spending: a period's budget pays only for what it
    # adds, not for the whole plan (the restricted MIP below keeps every period's budget)
    shot = build_model(one, [f.name for f in built.families if not f.spending])
    shot_form = compile_model(shot.model)
    x1, report = prepare(shot, shot_form, options, heuristic=True,
                         seconds=ONE_SHOT_SHARE * max(until - time.perf_counter(), 0.0))
    if x1 is None:
        return None, {"used": False, "how": "last period, then over time",
                      "message": "no one-shot plan of the last period: "
                                 + str(report.get("heuristic", {}).get("message", ""))}
    cols1 = column_index(shot_form)
    hosts = {s: float(round(x1[cols1[id(shot.model.hosts[s])]]))
             for s in shot.model.sites if id(shot.model.hosts[s]) in cols1}
    cols = column_index(form)
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    final = len(built.periods) - 1
    for k, pm in enumerate(built.periods):
        blk = built.model.period[pm.period.id]
        for s in blk.sites:
            j = cols.get(id(blk.hosts[s]))
            if j is None:
                continue
            v = hosts.get(s, 0.0)
            if lower[j] > v:  # an existing plant the one-shot plan did not keep
                return None, {"used": False, "how": "last period, then over time",
                              "message": f"{s[0]} in {s[1]} must host"}
            upper[j] = min(upper[j], v)
            if k == final:
                lower[j] = v
    restricted = replace(form, col_lower=lower, col_upper=upper)
    left = max(until - time.perf_counter(), 1.0)
    opts = replace(options, time_limit=min(left, options.time_limit or left), log_file=None,
                   verbose=False, progress=False)
    h = make_highs(restricted, opts)
    run_highs(h)
    outcome = read_outcome(h, restricted)
    if not outcome.has_solution:
        return None, {"used": False, "how": "last period, then over time",
                      "message": f"the restricted plan over time: {outcome.status}"}
    x = np.asarray(h.getSolution().col_value, dtype=float)
    ints = form.integrality.astype(bool)
    x[ints] = np.round(x[ints])
    return x, {"used": True, "how": "last period, then over time",
               "objective": outcome.objective,
               "hosts": int(sum(hosts.values())),
               "message": f"the last period's one-shot plan ({report.get('given')}), its "
                          f"{int(sum(hosts.values()))} hosts phased over the periods "
                          f"({outcome.status})"}
