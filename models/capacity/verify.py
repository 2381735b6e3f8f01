"""The capacity family's rules for ``allocator verify``, restated from its mathematics
(docs/verification.md) with pandas only. This file shares no code with ``model.py``: a
mistake in one shows up as a disagreement with the other. ``VERIFY`` is what the checker
collects: the rules, and the family's option defaults, term weights and input columns,
restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

from allocator.verify.check import Check, FamilyRules


def rules(c: Check) -> None:
    r"""$q \le \overline{Q} x$; $q \ge m x$ on greenfield sites with $m > 0$;
    $Q_i \ge D_i + \sum_d a_{id} Q_d$; term investment $= \sum \mathrm{inv}_{ir}$."""
    plan = c.plan
    x, q = plan["hosted"], plan["capacity"]
    c.at_most("capacity_within_max", q, plan["capacity_max"] * x, "capacity")
    green = plan[~plan["brownfield"] & (plan["min_scale"] > 0)]
    c.at_least("capacity_above_min_scale", green["capacity"],
               green["min_scale"] * green["hosted"], "capacity")
    q_total = c.national_capacity()
    need = c.data.final_demand + c.downstream_use(q_total)
    c.at_least("capacity_covers_requirement", q_total, need, "capacity")
    c.term("investment", plan["investment"].sum())


VERIFY = FamilyRules(
    rules=rules,
    # strengthen adds valid inequalities only (the same feasible plans): nothing to check
    options={"strengthen": True},
    weights={"investment": 1.0},
)
