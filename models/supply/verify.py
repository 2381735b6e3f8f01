"""The supply family's rules for ``allocator verify``, restated from its mathematics
(docs/verification.md) with pandas only. This file shares no code with ``model.py``: a
mistake in one shows up as a disagreement with the other. ``VERIFY`` is what the checker
collects: the rules, and the family's option defaults, term weights and input columns,
restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.verify.check import Check, FamilyRules, sum_by


def rules(c: Check) -> None:
    r"""Key inputs: tradable inputs from one national pool, $\sum \nu_{ik} q_{ir} \le
    \sum_r U_{rk} + \text{imports}_k$ with $0 \le \text{imports}_k \le C_k$;
    non-tradable inputs per region, $\sum_i \nu_{ik} q_{ir} \le U_{rk} +
    \text{imports}_{kr}$ with $\sum_r \text{imports}_{kr} \le C_k$; where $s_k > 0$,
    imports $\le (1 - s_k)$ national need; term input_cost
    $= \sum_k \pi_k \sum \nu_{ik} q_{ir}$. Imports come from imports.csv; they exist only
    for inputs some candidate site needs (non-tradable: in the regions of those sites)."""
    data, plan = c.data, c.plan
    inputs = data.table("inputs").set_index("id")
    tradable = inputs["tradable"].astype("boolean").fillna(True).astype(bool)
    share = inputs["domestic_share_min"].astype(float).fillna(0.0)
    cap = inputs["import_cap"].astype(float)
    df = plan.reset_index().merge(data.table("input_need"), on="industry")
    df = df[df["need"].astype(float) > 0]
    df["used"] = df["need"].astype(float) * df["capacity"]
    national_need = sum_by(df["used"], df["input"])
    regional_need = sum_by(df["used"], [df["input"], df["region"]])
    supply_rows = data.table("input_supply")
    domestic = supply_rows.groupby(["input", "region"])["supply"].sum().astype(float)
    domestic_total = supply_rows.groupby("input")["supply"].sum().astype(float)
    table = c.results.get("imports")
    if table is None:
        table = pd.DataFrame(columns=["input", "region", "amount"])
        if len(national_need):
            c.violation("imports.csv", None, 0.0, "the results lack imports.csv, so the "
                        "supply rows cannot be checked")
    imports = table.set_index(["input", "region"])["amount"].astype(float)
    needed = [k for k in inputs.index if k in national_need.index]
    trade = [k for k in needed if tradable[k]]
    local = [k for k in needed if not tradable[k]]
    local_keys = [key for key in regional_need.index if key[0] in set(local)]
    exists = {(k, "(national)") for k in trade} | set(local_keys)
    c.at_least("imports >= 0", imports, 0.0, "input units")
    stray = imports[[key not in exists for key in imports.index]]
    c.at_most("imports exist only where an input is needed", stray, 0.0, "input units")
    national_imports = imports.reindex([(k, "(national)") for k in trade], fill_value=0.0)
    national_imports.index = trade
    c.at_most("supply_covers_need_national", national_need.reindex(trade),
              domestic_total.reindex(trade, fill_value=0.0) + national_imports, "input units")
    capped_trade = [k for k in trade if not np.isnan(cap[k])]
    c.at_most("imports bound", national_imports.reindex(capped_trade),
              cap.reindex(capped_trade), "input units")
    regional_imports = imports.reindex(local_keys, fill_value=0.0)
    c.at_most("supply_covers_need_regional",
              regional_need.reindex(local_keys),
              domestic.reindex(local_keys, fill_value=0.0) + regional_imports, "input units")
    local_total = regional_imports.groupby(level=0).sum().reindex(local, fill_value=0.0)
    capped_local = [k for k in local if not np.isnan(cap[k])]
    c.at_most("supply_imports_within_cap", local_total.reindex(capped_local),
              cap.reindex(capped_local), "input units")
    imported = pd.concat([national_imports, local_total])
    floors = [k for k in needed if share[k] > 0]
    c.at_most("supply_domestic_share_met", imported.reindex(floors),
              (1 - share.reindex(floors)) * national_need.reindex(floors), "input units")
    # term input_cost: the price of every unit used (inputs.csv price; blank: not costed)
    price = (inputs["price"].astype(float) if "price" in inputs.columns
             else pd.Series(np.nan, index=inputs.index)).fillna(0.0)
    c.term("input_cost", float((national_need * price.reindex(national_need.index,
                                                               fill_value=0.0)).sum()))


VERIFY = FamilyRules(
    rules=rules,
    options={},
    weights={"input_cost": 1.0},
    columns={"inputs": {"unit": "str", "price": "float"}},
)
