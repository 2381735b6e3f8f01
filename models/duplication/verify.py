"""The duplication family's rules for ``allocator verify``, restated from its mathematics
(docs/verification.md) with pandas only. This file shares no code with ``model.py``: a
mistake in one shows up as a disagreement with the other. ``VERIFY`` is what the checker
collects: the rules, and the family's option defaults, term weights and input columns,
restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

import numpy as np

from allocator.verify.check import Check, FamilyRules


def rules(c: Check) -> None:
    r"""Terms: site_excess $= \sum_i \max(0, \sum_r x_{ir} - H_i)$; overcapacity $=
    \sum_i (Q_i - D_i - \sum_d a_{id} Q_d)$."""
    data = c.data
    hosts = c.hosts.groupby(level="industry", sort=False).sum().reindex(
        data.industries.index, fill_value=0.0)
    target = data.industries["target_hosts"].astype(float)
    c.term("site_excess", float(np.maximum(hosts - target, 0.0).sum()))
    q_total = c.national_capacity()
    surplus = q_total - data.final_demand - c.downstream_use(q_total)
    c.term("overcapacity", float(surplus.sum()))


VERIFY = FamilyRules(
    rules=rules,
    options={},
    weights={"site_excess": 1.0, "overcapacity": 1.0},
)
