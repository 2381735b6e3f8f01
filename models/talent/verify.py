"""The talent family's rules for ``allocator verify``, restated from its mathematics
(docs/verification.md) with pandas only. This file shares no code with ``model.py``: a
mistake in one shows up as a disagreement with the other. ``VERIFY`` is what the checker
collects: the rules, and the family's option defaults, term weights and input columns,
restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

from allocator.verify.check import Check, FamilyRules, sum_by


def rules(c: Check) -> None:
    r"""$\sum_i n_{it} \varphi_{ir} q_{ir} + \sum_f u^f_{rt} \le P_{rt}$ for every (region,
    class) where some candidate site needs that class or another family uses it ($P$ = 0
    without a talent_supply.csv row; $u^f$ from uses.csv, checked by its family)."""
    plan = c.plan.reset_index()
    need = c.data.table("talent_need")
    df = plan.merge(need, on="industry")
    df["per_unit"] = df["need"].astype(float) * df["talent_factor"]
    df = df[df["per_unit"] > 0]
    used = sum_by(df["per_unit"] * df["capacity"], [df["region"], df["talent_class"]])
    others = c.contributed("talent")  # pilot bases' researchers, from uses.csv
    if len(others):
        others.index = others.index.set_names(["region", "talent_class"])
        used = others if not len(used) else used.add(others, fill_value=0.0)
    supply = c.data.table("talent_supply").set_index(["region", "talent_class"])["supply"]
    c.at_most("talent_within_supply", used,
              supply.astype(float).reindex(used.index, fill_value=0.0),
              str(c.data.setting("units", "talent")))


VERIFY = FamilyRules(
    rules=rules,
    options={},
)
