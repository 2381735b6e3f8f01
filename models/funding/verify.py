"""The funding family's rules for ``allocator verify``, restated from its mathematics
(docs/verification.md) with pandas only. This file shares no code with ``model.py``: a
mistake in one shows up as a disagreement with the other. ``VERIFY`` is what the checker
collects: the rules, and the family's option defaults, term weights and input columns,
restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

import pandas as pd

from allocator.verify.check import Check, FamilyRules, sum_by


def rules(c: Check) -> None:
    r"""Per region: $\sum_i \mathrm{inv}_{ir} + \sum_f u^f_r - \text{fund}_r \le B_r$
    ($u^f_r$: other families' spending, from uses.csv); the fund paid
    out: general $\le (1-\rho) F$, reserved $\le \rho F$; reserved money only for
    slow-return investment of the region. Fund received comes from funding.csv; it exists
    only when $F > 0$ (reserved only when $\rho > 0$, in regions with slow-return sites)."""
    data, opts, plan = c.data, c.options, c.plan
    fund_total = float(opts["national_fund"])
    share = float(opts["slow_return_reserved_share"])
    others = c.contributed("funding", per_item=False)  # pilot bases' setup, from uses.csv
    regions = [r for r in data.regions.index
               if r in set(plan.index.get_level_values(1)) or r in others.index]
    table = c.results.get("funding")
    if table is None:
        table = pd.DataFrame(columns=["region", "fund_general", "fund_reserved"])
        if fund_total > 0:
            c.violation("funding.csv", None, 0.0, "the results lack funding.csv (the fund "
                        "each region receives), so the budgets cannot be checked")
    table = table.set_index("region")
    general = table["fund_general"].astype(float).reindex(regions, fill_value=0.0)
    reserved = table["fund_reserved"].astype(float).reindex(regions, fill_value=0.0)
    slow_ids = set(data.industries.index[
        data.industries["slow_return"].astype("boolean").fillna(False).to_numpy()])
    slow_site = plan.index.get_level_values(0).isin(slow_ids)
    slow_regions = set(plan.index.get_level_values(1)[slow_site])
    may_reserve = pd.Series([fund_total > 0 and share > 0 and r in slow_regions
                             for r in regions], index=regions, dtype=bool)
    c.at_least("fund_general >= 0", general, 0.0, data.money)
    c.at_least("fund_reserved >= 0", reserved, 0.0, data.money)
    c.at_most("fund_general exists only with a national fund", general,
              float("inf") if fund_total > 0 else 0.0, data.money)
    c.at_most("fund_reserved exists only for slow-return sites with a reserved share",
              reserved, may_reserve.map({True: float("inf"), False: 0.0}), data.money)
    inv = sum_by(plan["investment"], plan.index.get_level_values(1)).reindex(
        regions, fill_value=0.0).add(others.reindex(regions, fill_value=0.0))
    budget = data.regions["funding_budget"].astype(float).reindex(regions)
    c.at_most("funding_within_budget", inv - general - reserved, budget, data.money)
    if fund_total > 0:
        c.at_most("funding_general_total", general.sum(), (1 - share) * fund_total,
                  data.money)
    if may_reserve.any():
        c.at_most("funding_reserved_total", reserved.sum(), share * fund_total, data.money)
        slow_inv = sum_by(plan["investment"][slow_site],
                          plan.index.get_level_values(1)[slow_site])
        rows = may_reserve[may_reserve].index
        c.at_most("funding_reserved_for_slow_return", reserved.reindex(rows),
                  slow_inv.reindex(rows, fill_value=0.0), data.money)


VERIFY = FamilyRules(
    rules=rules,
    options={"national_fund": 0.0, "slow_return_reserved_share": 0.0},
)
