r"""Cheap pre-solve checks: necessary conditions for a feasible plan, in plain arithmetic.

Each check compares what the whole demand needs *at least* with what the input makes
available *at most*; a failure therefore proves that no plan exists, before any solver runs,
and says so in one sentence with the numbers and the input rows involved.

The least national capacity of each industry is
$L_i = \max\big(D_i + \sum_{(i,d)\in L} a_{id} L_d,\ \sum_{r \in S^b_{keep}} e_{ir}\big)$
(final demand plus what downstream industries use at their own least capacity, and never
below the existing capacity that must be kept), computed from the bottom of the chain up:
``capacity_covers_requirement`` makes $Q_i \ge L_i$ in every plan.

The checks are the families' own: each family's ``presolve_checks(instance, options,
least)`` hook (:mod:`allocator.core.family`) states the conditions of its limits in its
math docstring (``docs/formulation.md``, "Pre-solve check") and returns a
:class:`allocator.core.presolve.CheckFailure` for each that fails. A family's checks run
only when it is built, active (its ``requires`` tables present) and not softened
(``--soft``): a softened limit may be exceeded, so its check proves nothing. What ``solve``
does with a failure: see :mod:`allocator.analysis.pipeline` (it skips the MIP and explains,
exit 4).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from allocator.core.family import Family
from allocator.core.presolve import TOLERANCE, CheckFailure, exceeds, least_investment
from allocator.input.data import Instance

__all__ = ["TOLERANCE", "CheckFailure", "exceeds", "least_capacity", "least_investment",
           "run_checks"]


def least_capacity(inst: Instance) -> pd.Series:
    """$L_i$: the least national capacity of each industry in any plan
    (:attr:`allocator.input.data.Instance.least_capacity`)."""
    return inst.least_capacity


def run_checks(inst: Instance, families: Iterable[Family | str], soft: Iterable[str] = ()
               ) -> list[CheckFailure]:
    """Every failed check of the families built (``families``, or their names among the
    instance's families) that are active and not softened, in the order of ``families``."""
    known = {**inst.known_families, **{s.family.name: s.family for s in inst.families}}
    off = set(soft)
    least = least_capacity(inst)
    failures: list[CheckFailure] = []
    for fam in (f if isinstance(f, Family) else known[f] for f in families):
        if fam.presolve_checks is None or fam.name in off:
            continue
        if not all(inst.has(t) for t in fam.requires):
            continue
        failures += fam.presolve_checks(inst, inst.options(fam.name), least)
    return failures
