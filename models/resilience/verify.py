"""The resilience family's rules for ``allocator verify``, restated from its mathematics
(docs/verification.md) with pandas only. This file shares no code with ``model.py``: a
mistake in one shows up as a disagreement with the other. ``VERIFY`` is what the checker
collects: the rules, and the family's option defaults, term weights and input columns,
restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

import pandas as pd

from allocator.verify.check import Check, FamilyRules


def rules(c: Check) -> None:
    r"""Critical industries (critical = true) only, each rule where its column is given:
    $\sum_r x_{ir} \ge h_i$ (min_hosts); $q_{ir} \le \beta_i Q_i$ on every candidate
    site when $\beta_i < 1$ (max_share); N-1 with $\gamma_i > 0$ (n1_cover): for every
    candidate site, $Q_i - q_{ir} \ge \gamma_i (D_i + \sum_d a_{id} Q_d)$, the others
    cover the share of final demand plus downstream use when region r is lost."""
    data, plan = c.data, c.plan
    ind = data.industries
    critical = ind["critical"].astype("boolean").fillna(False).astype(bool)

    def given(column: str) -> pd.Series:
        if column not in ind.columns:
            return pd.Series(dtype=float)
        values = ind[column].astype(float)
        return values[critical & values.notna()]

    q_total = c.national_capacity()
    need = data.final_demand + c.downstream_use(q_total)
    hosts = c.hosts.groupby(level="industry", sort=False).sum().reindex(ind.index,
                                                                        fill_value=0.0)
    least = given("min_hosts")
    c.at_least("resilience_min_hosts", hosts.reindex(least.index), least, "regions")
    industry = plan.index.get_level_values("industry")
    share = given("max_share")
    share = share[share < 1]
    at = plan[industry.isin(share.index)]
    of = at.index.get_level_values("industry")
    c.at_most("resilience_max_share", at["capacity"],
              pd.Series(share.reindex(of).to_numpy() * q_total.reindex(of).to_numpy(),
                        index=at.index), "capacity")
    cover = given("n1_cover")
    cover = cover[cover > 0]
    at = plan[industry.isin(cover.index)]
    of = at.index.get_level_values("industry")
    c.at_least("resilience_n1_cover",
               pd.Series(q_total.reindex(of).to_numpy() - at["capacity"].to_numpy(),
                         index=at.index),
               pd.Series(cover.reindex(of).to_numpy() * need.reindex(of).to_numpy(),
                         index=at.index), "capacity")


VERIFY = FamilyRules(
    rules=rules,
    options={},
    columns={"industries": {"min_hosts": "int", "max_share": "float", "n1_cover": "float"}},
)
