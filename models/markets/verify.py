"""The markets family's rules for ``allocator verify``, restated from its mathematics
(docs/verification.md) with pandas only. This file shares no code with ``model.py``: a
mistake in one shows up as a disagreement with the other. ``VERIFY`` is what the checker
collects: the rules, and the family's option defaults, term weights and input columns,
restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.verify.check import Check, FamilyRules, sum_by


def rules(c: Check) -> None:
    r"""Shipments meet each market's demand: $\sum_o \text{ship}_{iom} \ge D_{im}$
    ($D_{im} > 0$); with strengthen, $\text{ship}_{iom} \le D_{im} x_{io}$; term transport
    $= \sum \text{ship} \cdot k_{iom}$, $k$ = arcs.csv unit_cost, else $\tau_i
    \delta_{om}$.

    A shipment exists from a candidate site of i to a market of i; with nearest_sites = k
    only from the k candidate sites nearest to the market (ties in file order) or along an
    arcs.csv arc.
    """
    data, opts, plan = c.data, c.options, c.plan
    markets = data.table("markets")
    markets = markets[markets["demand"].astype(float) > 0]
    demand = markets.set_index(["industry", "region"])["demand"].astype(float)
    ships = c.flows("markets")
    k = int(opts["nearest_sites"])
    explicit = set(data.explicit_arcs.index) if len(data.explicit_arcs) else set()
    c.count(len(ships))
    for row in ships.itertuples(index=False):
        i, o, m = row.industry, row[2], row[3]
        why = ""
        if (i, o) not in plan.index:
            why = f"{o} may not host {i}"
        elif (i, m) not in demand.index:
            why = f"{m} is not a market of {i} (no positive demand in markets.csv)"
        elif k > 0 and (o, m) not in explicit:
            cands = [r for (ii, r) in plan.index if ii == i]
            dist = data.arc_distance(pd.Series(cands), pd.Series([m] * len(cands)))
            nearest = [cands[n] for n in np.argsort(dist, kind="stable")[:k]]
            if o not in nearest:
                why = f"{o} is not among the {k} candidate sites nearest to {m}"
        if why:
            c.violation("ship", (i, o, m), row.amount, why, "capacity")
    into = sum_by(ships["amount"], [ships["industry"], ships["to"]])
    c.at_least("markets_demand_met", into.reindex(demand.index, fill_value=0.0), demand,
               "capacity")
    if opts["strengthen"] and len(ships):
        key = list(zip(ships["industry"], ships["from"], ships["to"], strict=True))
        d = demand.reindex(pd.MultiIndex.from_arrays([ships["industry"], ships["to"]]))
        x = plan["hosted"].reindex(pd.MultiIndex.from_arrays([ships["industry"],
                                                              ships["from"]]))
        c.at_most("markets_ship_within_host", ships["amount"].set_axis(key),
                  pd.Series(d.to_numpy() * x.to_numpy(), index=key), "capacity")
    tau = data.industries["transport_cost"].astype(float).fillna(
        float(opts["cost_per_unit_km"]))
    km = data.arc_distance(ships["from"], ships["to"])
    given = data.arc_unit_cost(ships["from"], ships["to"])
    unit = np.where(np.isnan(given), ships["industry"].map(tau).to_numpy(float) * km, given)
    c.term("transport", float((ships["amount"].to_numpy(float) * unit).sum()))


VERIFY = FamilyRules(
    rules=rules,
    options={"cost_per_unit_km": 0.0, "nearest_sites": 0, "strengthen": True},
    weights={"transport": 1.0},
)
