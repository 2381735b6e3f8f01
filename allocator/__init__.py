"""allocator: decide which region hosts which strategic emerging industry, and how much
capacity, so that a country stops building the same industry everywhere.

The Python API is what the command line uses::

    import allocator
    inst = allocator.load_instance("instances/china-sei")       # validated, or InputError
    built = allocator.build_model(inst)                           # Pyomo model, inspectable
    built.model.my_cut = pyomo.environ.Constraint(expr=...)       # add to it if you like
    result = allocator.solve(built, allocator.SolverOptions(time_limit=60))
    result.tables["allocation"]                                   # pandas DataFrames
    result.write("out/")
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from allocator.build import BuiltModel, Context, build_model
    from allocator.data import Instance, load_instance
    from allocator.errors import InputError, Problem
    from allocator.family import Family, Option, Symbol, Term
    from allocator.results import Result
    from allocator.solve import SolveOutcome, SolverOptions

#: where each public name lives. Imported on first use, so that ``import allocator.verify``
#: (the independent checker) does not pull in Pyomo or HiGHS.
_LAZY = {
    "BuiltModel": "allocator.build", "Context": "allocator.build",
    "build_model": "allocator.build", "Instance": "allocator.data",
    "load_instance": "allocator.data", "InputError": "allocator.errors",
    "Problem": "allocator.errors", "Family": "allocator.family", "Option": "allocator.family",
    "Symbol": "allocator.family", "Term": "allocator.family", "Result": "allocator.results",
    "collect": "allocator.results", "SolverOptions": "allocator.solve",
    "solve_model": "allocator.solve",
}


class _Package(types.ModuleType):
    """The package module. Importing the submodule ``allocator.solve`` sets the package's
    attribute ``solve`` to that module; the function :func:`solve` below must keep the name
    (as it did when the submodules were imported eagerly, before the function was defined)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "solve" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'allocator' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BuiltModel",
    "Context",
    "Family",
    "InputError",
    "Instance",
    "Option",
    "Problem",
    "Result",
    "SolverOptions",
    "Symbol",
    "Term",
    "build_model",
    "load_instance",
    "solve",
    "solve_instance",
]


def solve(built: BuiltModel, options: SolverOptions | None = None, *,
          shadow_prices: bool = True) -> Result:
    """Solve a built model with HiGHS; returns the result tables and summary.

    First the pre-solve checks (:mod:`allocator.checks`) of the families built and not
    softened: a failure proves that no plan exists, so HiGHS is not run (status
    ``infeasible``, termination ``pre-solve checks``). When the instance is infeasible,
    ``result.explanation`` holds the smallest set of limits to relax, each named by its input
    row (:func:`allocator.explain.explain`), ``result.outcome.message`` its headline.

    With a plan and ``shadow_prices`` (the default), the LP with hosting fixed is re-solved and
    the ``regions`` table gains ``shadow_price`` and ``shadow_price_unit`` (see
    :mod:`allocator.shadow`).
    """
    from allocator.checks import run_checks
    from allocator.results import collect
    from allocator.solve import SolverOptions, presolve_infeasible

    resolved = (options or SolverOptions()).resolved(built.instance.settings["solver"])
    if built.scenarios:
        from allocator.stochastic import solve_stochastic

        return solve_stochastic(built, resolved)
    names = [f.name for f in built.families]
    failures = run_checks(built.instance, names, set(built.soft_rows["family"]))
    outcome = (presolve_infeasible(len(failures)) if failures
               else _solve_warm(built, resolved))
    explanation = None
    if outcome.status == "infeasible":
        from allocator.explain import explain

        explanation = explain(built.instance, names, options=resolved, checks=failures)
        outcome.message = explanation.headline
    result = collect(built, outcome, resolved, explanation)
    if shadow_prices:
        from allocator.shadow import add_shadow_prices

        add_shadow_prices(result)
    return result


def _solve_warm(built: BuiltModel, options: SolverOptions) -> SolveOutcome:
    """Compile once, make the MIP start (a plan file, the heuristic), solve; the time to the
    first incumbent counts from the start of compiling."""
    import time

    from pyomo.common.errors import InfeasibleConstraintException

    from allocator.solve import compile_model, infeasible_before_solving, solve_model
    from allocator.warmstart import prepare

    t0 = time.perf_counter()
    try:
        form = compile_model(built.model)
    except InfeasibleConstraintException as exc:
        return infeasible_before_solving(exc, time.perf_counter() - t0)
    t1 = time.perf_counter()
    start, report = prepare(built, form, options, heuristic=options.heuristic,
                            plan=options.start_file)
    t2 = time.perf_counter()
    outcome = solve_model(built.model, options, form=form, start=start)
    outcome.seconds.update(compile=t1 - t0, start=t2 - t1,
                           handoff=outcome.seconds["handoff"] + (t1 - t0))
    report.update(outcome.start)
    first = outcome.first_incumbent
    if first is not None:
        first["seconds_from_compile"] = first["seconds"] + (t2 - t0) + outcome.seconds["pass"]
        first["source"] = "highs"
        if report.get("accepted_by_highs"):  # HiGHS's first incumbent is the start itself
            first["source"] = report["given"]
            first["highs_objective"] = first["objective"]  # reported in presolved space
            first["objective"] = report["objective"]
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
    :func:`allocator.data.load_instance`)."""
    from allocator.build import build_model
    from allocator.data import load_instance

    inst = load_instance(path, extra_families=extra_families or (), without=without or (),
                         allow_families=allow_families)
    return solve(build_model(inst, families), options)
