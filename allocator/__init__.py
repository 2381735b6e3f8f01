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
    from allocator.solve import SolverOptions

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

    With a plan and ``shadow_prices`` (the default), the LP with hosting fixed is re-solved and
    the ``regions`` table gains ``shadow_price`` and ``shadow_price_unit`` (see
    :mod:`allocator.shadow`).

    When the instance is infeasible, ``result.outcome.message`` names the families whose
    constraints conflict (see :func:`allocator.diagnose.conflicting_families`).
    """
    from allocator.results import collect
    from allocator.solve import SolverOptions, solve_model

    resolved = (options or SolverOptions()).resolved(built.instance.settings["solver"])
    outcome = solve_model(built.model, resolved)
    if outcome.status == "infeasible":
        from allocator.diagnose import conflicting_families, describe_conflict

        names = conflicting_families(built.instance, [f.name for f in built.families],
                                     resolved)
        outcome.message = describe_conflict(names)
    result = collect(built, outcome, resolved)
    if shadow_prices:
        from allocator.shadow import add_shadow_prices

        add_shadow_prices(result)
    return result


def solve_instance(
    path: str | Path,
    options: SolverOptions | None = None,
    *,
    families: list[str] | None = None,
    extra_families: list[str | Path | Family] | None = None,
    without: list[str] | None = None,
) -> Result:
    """Load, validate, build and solve the instance folder at ``path`` in one call."""
    from allocator.build import build_model
    from allocator.data import load_instance

    inst = load_instance(path, extra_families=extra_families or (), without=without or ())
    return solve(build_model(inst, families), options)
