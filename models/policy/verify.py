"""The policy family's rules for ``allocator verify``, restated from its mathematics
(docs/verification.md) with pandas only. This file shares no code with ``model.py``: a
mistake in one shows up as a disagreement with the other. ``VERIFY`` is what the checker
collects: the rules, and the family's option defaults, term weights and input columns,
restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

from allocator.verify.check import Check, FamilyRules


def rules(c: Check) -> None:
    r"""must_host pairs host ($x = 1$); $\sum_i x_{ir} \le N_r$ where a focus limit applies
    (regions.csv max_industries, else the option when > 0; regions with candidate sites);
    $\sum_i x_{ir} \ge M_r$ where min_industries > 0."""
    data, plan = c.data, c.plan
    must = plan[plan["must_host"]]
    c.at_least("must_host", must["hosted"], 1.0)
    count = c.hosts.groupby(level="region", sort=False).sum()
    regions = data.regions
    limit = regions["max_industries"].astype(float)
    if float(c.options["max_industries"]) > 0:
        limit = limit.fillna(float(c.options["max_industries"]))
    limit = limit.dropna()
    limit = limit[limit.index.isin(count.index)]
    c.at_most("policy_focus_limit", count.reindex(limit.index), limit, "industries")
    floor = regions["min_industries"].astype(float).dropna()
    floor = floor[floor > 0]
    c.at_least("policy_equity_floor", count.reindex(floor.index, fill_value=0.0), floor,
               "industries")


VERIFY = FamilyRules(
    rules=rules,
    options={"max_industries": 0},
)
