"""The scale_economies family's rules for ``allocator verify``, restated from its mathematics
(docs/verification.md) with pandas only. This file shares no code with ``model.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.verify.check import Check, FamilyRules, sum_by


def _capex(table: pd.DataFrame, industry: pd.Series, size: pd.Series) -> np.ndarray:
    r"""$C_i(q) = \sum_k c_{ik} \max(0, \min(q, s_{ik}) - s_{i,k-1})$ per row."""
    out = np.zeros(len(size))
    for i, rows in table.groupby("industry", sort=False):
        ends = rows["up_to"].astype(float).fillna(np.inf).to_numpy()
        order = np.argsort(ends, kind="stable")
        ends, capex = ends[order], rows["unit_capex"].astype(float).to_numpy()[order]
        starts = np.concatenate([[0.0], ends[:-1]])
        mine = (industry == i).to_numpy()
        q = size.to_numpy(float)[mine][:, None]
        out[mine] = (np.clip(np.minimum(q, ends) - starts, 0.0, None) * capex).sum(axis=1)
    return out


def rules(c: Check) -> None:
    r"""The capex of every site of an industry with scale capex, $C_i(q_{ir}) - C_i(e_{ir})$
    (over periods: $C_i(q^p) - C_i(q^{p-1})$, with $q^0 = e$), equals its rows of uses.csv
    (funding, per region) and sums to the term scale_capex. The segments fill in order, so
    $C_i$ is the cost of the plant's size alone."""
    table = c.data.table("scale_capex")
    plan = c.plan.reset_index()
    plan = plan[plan["industry"].isin(set(table["industry"]))]
    before = plan["existing"].astype(float)
    prev = c.previous("allocation")
    if prev is not None and len(prev):
        was = prev.set_index(["industry", "region"])["capacity"].astype(float)
        before = pd.Series(was.reindex(pd.MultiIndex.from_frame(
            plan[["industry", "region"]])).fillna(0.0).to_numpy(), index=plan.index)
    spent = pd.Series(_capex(table, plan["industry"], plan["capacity"])
                      - _capex(table, plan["industry"], before), index=plan.index)
    expected = sum_by(spent, plan["region"])
    uses = c.results.get("uses")
    mine = (uses[(uses["family"] == "scale_economies") & (uses["resource"] == "funding")]
            if uses is not None else pd.DataFrame(columns=["region", "amount"]))
    got = sum_by(mine["amount"].astype(float), mine["region"])
    index = expected.index.union(got.index)
    got, expected = got.reindex(index, fill_value=0.0), expected.reindex(index, fill_value=0.0)
    c.at_most("uses funding", got, expected, c.data.money)
    c.at_least("uses funding", got, expected, c.data.money)
    c.term("scale_capex", float(spent.sum()))


VERIFY = FamilyRules(
    rules=rules,
    options={},
    weights={"scale_capex": 1.0},
    tables={"scale_capex": {"industry": "id", "up_to": "float", "unit_capex": "float"}},
)
