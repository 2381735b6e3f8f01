"""The talent_attraction family's rules for ``allocator verify``, restated from its
mathematics (docs/verification.md) with pandas only. This file shares no code with
``model.py``: a mistake in one shows up as a disagreement with the other."""

from __future__ import annotations

import pandas as pd

from allocator.verify.check import Check, FamilyRules, sum_by


def rules(c: Check) -> None:
    r"""$0 \le a_{rt} \le A_{rt}$ for every row of talent_attraction.csv (the results' table
    of the same name, one row each); $\sum_r a_{rt} \le \Pi_t$ per class of talent_pool.csv;
    usable $= \sigma a_{rt}$ plus, after the first period, the previous period's usable and
    $(1-\sigma)$ of its hires; uses.csv holds $-$usable as the family's talent use of
    $(r, t)$ (the talent rule counts it); term talent_attraction $= \sum c_{rt} a_{rt}$."""
    table = c.data.table("talent_attraction").set_index(["region", "talent_class"])
    written = c.results.get("talent_attraction")
    if written is None:
        written = pd.DataFrame(columns=["region", "talent_class", "attracted", "usable"])
    rows = written.set_index(["region", "talent_class"])
    hired = rows["attracted"].astype(float).reindex(table.index)
    for key in table.index[hired.isna().to_numpy()]:
        c.violation("talent_attracted", key, 0.0, "no row in talent_attraction.csv of the "
                    "results")
    hired = hired.fillna(0.0)
    c.at_least("talent_attracted bounds", hired, 0.0, "people")
    c.at_most("talent_attracted bounds", hired, table["max"].astype(float), "people")
    pool = (c.data.table("talent_pool").set_index("talent_class")["pool"].astype(float)
            if c.data.has("talent_pool") else pd.Series(dtype=float))
    by_class = sum_by(hired, hired.index.get_level_values("talent_class"))
    by_class = by_class[by_class.index.isin(pool.index)]
    c.at_most("talent_attraction_within_pool", by_class, pool.reindex(by_class.index),
              "people")
    share = float(c.options["usable_share"])
    usable = share * hired
    before = c.previous("talent_attraction")
    if before is not None and len(before):
        prev = before.set_index(["region", "talent_class"])
        usable = usable + (prev["usable"].astype(float) + (1.0 - share)
                           * prev["attracted"].astype(float)).reindex(table.index).fillna(0.0)
    got = rows["usable"].astype(float).reindex(table.index).fillna(0.0)
    c.at_most("talent_usable", got, usable, "people")
    c.at_least("talent_usable", got, usable, "people")
    uses = c.results.get("uses")
    mine = (uses[(uses["family"] == "talent_attraction") & (uses["resource"] == "talent")]
            if uses is not None else pd.DataFrame(columns=["region", "item", "amount"]))
    supplied = -sum_by(mine["amount"].astype(float), [mine["region"], mine["item"].astype(str)])
    supplied = supplied.reindex(table.index, fill_value=0.0)
    c.at_most("uses talent", supplied, usable, "people")
    c.at_least("uses talent", supplied, usable, "people")
    c.term("talent_attraction", float((table["cost"].astype(float) * hired).sum()))


VERIFY = FamilyRules(
    rules=rules,
    options={"usable_share": 0.5},
    weights={"talent_attraction": 1.0},
    tables={"talent_attraction": {"region": "id", "talent_class": "str", "cost": "float",
                                  "max": "float"},
            "talent_pool": {"talent_class": "str", "pool": "float"}},
)
