"""The pilot_bases family's rules for ``allocator verify``, restated from its mathematics
(docs/verification.md) with pandas only. This file shares no code with ``model.py``: a
mistake in one shows up as a disagreement with the other. ``VERIFY`` is what the checker
collects: the rules, and the family's option defaults, term weights and input columns,
restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

import pandas as pd

from allocator.verify.check import Check, FamilyRules, sum_by


def rules(c: Check) -> None:
    r"""Research-intensive industries (industries.csv research_field) host only near an open
    base: $x_{ir} \le \sum_{b \in B_{ir}} \text{opens}_b$, $B_{ir}$ the bases of the
    field in the same group as r or at most $\rho_i$ km away (great circle; pilot_reach_km,
    blank: option reach_km). Every base of a needed field has a row in the results'
    pilot_bases.csv with opened 0 or 1. Its uses in uses.csv are exactly
    $\nu_b \text{opens}_b$ people of its class in its region and $F^{pilot}_b
    \text{opens}_b$ money there; term pilot_bases $= \sum_b F^{pilot}_b \text{opens}_b$."""
    data, plan = c.data, c.plan
    ind = data.industries
    field = ind["research_field"].dropna()
    reach = ind["pilot_reach_km"].astype(float).fillna(float(c.options["reach_km"]))
    bases = data.table("pilot_bases").set_index("id")
    needed = bases[bases["field"].isin(set(field))]
    written = c.results.get("pilot_bases")
    if written is None:
        written = pd.DataFrame(columns=["base", "opened"])
        if len(needed):
            c.violation("pilot_bases.csv", None, 0.0, "the results lack pilot_bases.csv (which "
                        "bases open), so the access rows cannot be checked")
    opened = written.set_index("base")["opened"].astype(float)
    c.count(len(needed))
    for b in needed.index:
        if b not in opened.index:
            c.violation("opens", b, 1.0, "a base of a needed field has no row in the results")
    for b, v in opened.items():
        if b not in needed.index:
            c.violation("opens", b, abs(v), "a row for a base of no needed field")
        elif v not in (0.0, 1.0):
            c.violation("opens", b, abs(v - round(v)), "opened must be 0 or 1")
    opened = opened.reindex(needed.index, fill_value=0.0)
    group = data.regions["group"]
    sites = plan[plan.index.get_level_values("industry").isin(field.index)]
    access, lhs = {}, {}
    for (i, r), x in sites["hosted"].items():
        mine = needed[needed["field"] == field[i]]
        km = data.great_circle_km([r] * len(mine), list(mine["region"]))
        near = (km <= float(reach[i])) | (group.reindex(mine["region"]).to_numpy() == group[r])
        access[(i, r)] = float(opened.reindex(mine.index[near]).sum())
        lhs[(i, r)] = float(x)
    c.at_most("pilot_bases_access", pd.Series(lhs, dtype=float),
              pd.Series(access, dtype=float), "")
    talent = needed[needed["talent_need"].astype(float).fillna(0.0) > 0]
    expected_talent = sum_by(talent["talent_need"].astype(float) * opened.reindex(talent.index),
                             [talent["region"], talent["talent_class"].astype(str)])
    expected_money = sum_by(needed["fixed_cost"].astype(float) * opened, needed["region"])
    uses = c.results.get("uses")
    uses = uses[uses["family"] == "pilot_bases"] if uses is not None else pd.DataFrame(
        columns=["resource", "region", "item", "amount"])
    for resource, expected, keys in (("talent", expected_talent, ["region", "item"]),
                                     ("funding", expected_money, ["region"])):
        rows = uses[uses["resource"] == resource]
        got = sum_by(rows["amount"].astype(float),
                     [rows[k].astype(str) for k in keys] if len(keys) > 1 else rows["region"])
        index = expected.index.union(got.index)
        got, expected = got.reindex(index, fill_value=0.0), expected.reindex(index,
                                                                             fill_value=0.0)
        unit = str(data.setting("units", "talent")) if resource == "talent" else data.money
        c.at_most(f"uses {resource}", got, expected, unit)
        c.at_least(f"uses {resource}", got, expected, unit)
    c.term("pilot_bases", float((needed["fixed_cost"].astype(float) * opened).sum()))


VERIFY = FamilyRules(
    rules=rules,
    options={"reach_km": 300.0},
    weights={"pilot_bases": 1.0},
    columns={"industries": {"research_field": "str", "pilot_reach_km": "float"}},
    tables={"pilot_bases": {"id": "id", "region": "id", "field": "str", "fixed_cost": "float",
                            "talent_class": "str", "talent_need": "float"}},
)
