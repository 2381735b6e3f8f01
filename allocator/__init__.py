"""allocator: decide which region hosts which strategic emerging industry, and how much
capacity, so that a country stops building the same industry everywhere.

The Python API is what the command line uses::

    import allocator
    inst = allocator.load_instance("instances/china-sei")       # validated, or InputError
    built = allocator.build_model(inst)                           # Pyomo model, inspectable
    built.model.my_cut = pyomo.environ.Constraint(expr=...)       # add to it if you like
    result = allocator.solve(built, allocator.SolverOptions(time_limit=60))
    result.tables["allocation"]                                   # pandas DataFrames
    allocator.write_results(result, "out/")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from allocator.analysis.pipeline import solve, solve_instance
    from allocator.core.errors import InputError, Problem
    from allocator.core.family import Family, Option, Symbol, Term
    from allocator.engine.build import BuiltModel, Context, build_model
    from allocator.engine.highs import SolverOptions, solve_model
    from allocator.engine.results import Result, collect
    from allocator.input.data import Instance, load_instance
    from allocator.output.folder import write_results

#: where each public name lives. Imported on first use, so that ``import allocator.verify``
#: (the independent checker) does not pull in Pyomo or HiGHS.
_LAZY = {
    "BuiltModel": "allocator.engine.build", "Context": "allocator.engine.build",
    "build_model": "allocator.engine.build", "Instance": "allocator.input.data",
    "load_instance": "allocator.input.data", "InputError": "allocator.core.errors",
    "Problem": "allocator.core.errors", "Family": "allocator.core.family",
    "Option": "allocator.core.family", "Symbol": "allocator.core.family",
    "Term": "allocator.core.family", "Result": "allocator.engine.results",
    "collect": "allocator.engine.results", "SolverOptions": "allocator.engine.highs",
    "solve_model": "allocator.engine.highs", "solve": "allocator.analysis.pipeline",
    "solve_instance": "allocator.analysis.pipeline",
    "write_results": "allocator.output.folder",
}


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
    "collect",
    "load_instance",
    "solve",
    "solve_instance",
    "solve_model",
    "write_results",
]
