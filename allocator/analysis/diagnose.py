"""Which families conflict when an instance is infeasible.

A deletion filter at the level of families: starting from every family that was built, drop
one optional family at a time and keep it dropped when the rest is still infeasible. What
remains is a minimal set of families that cannot hold together: dropping any one of its
optional members makes that set feasible. Each probe is a feasibility solve (objective 0)
with a short time limit; a probe that runs out of time counts as "maybe feasible", so the
family is kept and the answer errs towards naming too many families, never too few.
"""

from __future__ import annotations

from dataclasses import replace

import pyomo.environ as pyo

from allocator.engine.build import build_model
from allocator.engine.highs import SolverOptions, solve_model
from allocator.input.data import Instance

PROBE_SECONDS = 10.0


def is_infeasible(instance: Instance, families: list[str], options: SolverOptions) -> bool:
    """True when the model with only ``families`` has no feasible plan (proven)."""
    built = build_model(instance, families)
    built.model.objective.deactivate()
    built.model.feasibility = pyo.Objective(expr=0.0)
    limit = PROBE_SECONDS if options.time_limit is None else min(PROBE_SECONDS,
                                                                 options.time_limit)
    probe = replace(options, time_limit=limit, log_file=None, verbose=False)
    return solve_model(built.model, probe).status == "infeasible"


def conflicting_families(instance: Instance, families: list[str],
                         options: SolverOptions) -> list[str]:
    """A minimal list of families (in build order) whose constraints conflict."""
    optional = {f.name for f in instance.active_families if f.optional}
    current = list(families)
    for name in reversed(families):
        if name not in optional:
            continue
        trial = [n for n in current if n != name]
        if is_infeasible(instance, trial, options):
            current = trial
    return current


def describe_conflict(names: list[str]) -> str:
    if len(names) == 1:
        return (f"infeasible: the family '{names[0]}' alone cannot be satisfied "
                "(its limits contradict the data)")
    return ("infeasible: these families cannot all hold together: " + " + ".join(names)
            + ". Dropping any one of the optional ones makes the rest feasible; look at "
            "their limits first (try: allocator solve --without NAME to confirm).")
