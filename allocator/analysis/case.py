"""One case of a sweep, solved where it runs (a Dask worker, or this process): build the
instance (overrides already applied) with the case's term bounds, solve it, and hand back
what a results folder holds: the tables and ``summary.json``'s content, not the model.

Nothing here knows of Dask: :func:`solve_case` is a plain function of picklable arguments,
so the sweep (:mod:`allocator.output.sweep`) can run it on any worker and write the folder
where the sweep runs.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from allocator.analysis.pipeline import solve
from allocator.engine.build import build_model
from allocator.engine.deadline import Deadline
from allocator.engine.highs import SolverOptions
from allocator.input.data import Instance


@dataclass
class CaseResult:
    """What a solved case hands back: the result tables and the summary (what
    :func:`allocator.output.folder.write_results` writes), where and how long it ran."""

    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    #: wall-clock seconds of the case where it ran (build, first plan, search, tables)
    seconds: float = 0.0
    #: the machine and process that solved it
    worker: str = ""

    @property
    def status(self) -> str:
        return str(self.summary.get("status", ""))


def solve_case(instance: Instance, options: SolverOptions,
               term_bounds: dict[str, float] | None = None) -> CaseResult:
    """Build and solve one case; the time limit of ``options`` covers the build, the first
    plan, the search and the result tables (the case's instance is already read). No
    progress line (cases run side by side); the tables of an infeasible case carry its
    explanation, as ``allocator solve`` writes them."""
    deadline = Deadline(options.time_limit)
    started = time.perf_counter()
    built = build_model(instance, term_bounds=term_bounds or None)
    result = solve(built, options, deadline=deadline)
    return CaseResult(result.tables, result.summary, time.perf_counter() - started,
                      f"{platform.node()}:{os.getpid()}")
