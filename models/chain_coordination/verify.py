"""The chain_coordination family's rules for ``allocator verify``, restated from its
mathematics (docs/verification.md) with pandas only. This file shares no code with
``model.py``: a mistake in one shows up as a disagreement with the other. ``VERIFY`` is what
the checker collects: the rules, and the family's option defaults, term weights and input
columns, restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.verify.check import Check, FamilyRules, sum_by


def rules(c: Check) -> None:
    r"""Flows of upstream goods u on the sparse arcs $A_u$ cover each region's downstream
    use; term coordination $= \sum \text{flow} \cdot k_{uot}$.

    A flow (u, o, t) exists when (u, o) is a candidate site, t may host a downstream
    industry of u, and o -> t is an arc of $A_u$: o = t, same group (option same_group), t
    among the $k_u$ nearest regions of o or o among those of t (great circle, ties in file
    order; $k_u$ = industries.csv chain_nearest, else the option nearest), or an arcs.csv
    arc. Unit cost: arcs.csv unit_cost, else $\kappa_u \delta_{ot} (1 + \sigma [g(o)
    \ne g(t)])$.
    """
    data, opts, plan = c.data, c.options, c.plan
    chain = data.chain
    flows = c.flows("chain_coordination")
    sites = plan.index.to_frame(index=False)
    uses = chain.merge(sites, left_on="downstream", right_on="industry")
    uses["use"] = uses["ratio"].astype(float).to_numpy() * plan["capacity"].reindex(
        pd.MultiIndex.from_frame(uses[["downstream", "region"]])).to_numpy()
    need = sum_by(uses["use"], [uses["upstream"], uses["region"]])
    # which arcs exist
    ind = data.industries
    reach = ind["chain_nearest"].astype(float).fillna(float(opts["nearest"])) if (
        "chain_nearest" in ind.columns) else pd.Series(float(opts["nearest"]), index=ind.index)
    group = data.regions["group"]
    explicit = set(data.explicit_arcs.index) if len(data.explicit_arcs) else set()
    nearest_by_k: dict[int, dict[str, set[str]]] = {}
    c.count(len(flows))
    for row in flows.itertuples(index=False):
        u, o, t = row.industry, row[2], row[3]
        why = ""
        if (u, o) not in plan.index:
            why = f"{o} may not host {u}"
        elif (u, t) not in need.index:
            why = f"{t} may host no downstream industry of {u}"
        else:
            k = int(reach.get(u, opts["nearest"]))
            near = nearest_by_k.setdefault(k, data.nearest(k))
            if not (o == t or (opts["same_group"] and group[o] == group[t])
                    or t in near[o] or o in near[t] or (o, t) in explicit):
                why = f"{o} -> {t} is not an arc of {u} (not the same region or group, not " \
                      f"among the {k} nearest, not in arcs.csv)"
        if why:
            c.violation("flow", (u, o, t), row.amount, why, "capacity")
    received = sum_by(flows["amount"], [flows["industry"], flows["to"]])
    c.at_least("chain_coordination_inflow", received.reindex(need.index, fill_value=0.0),
               need, "capacity")
    kappa = ind["coordination_cost"].astype(float).fillna(float(opts["cost_per_unit_km"]))
    km = data.arc_distance(flows["from"], flows["to"])
    border = group.reindex(flows["from"]).to_numpy() != group.reindex(flows["to"]).to_numpy()
    per_km = flows["industry"].map(kappa).to_numpy(float) * km * np.where(
        border, 1.0 + float(opts["border_surcharge"]), 1.0)
    given = data.arc_unit_cost(flows["from"], flows["to"])
    unit = np.where(np.isnan(given), per_km, given)
    c.term("coordination", float((flows["amount"].to_numpy(float) * unit).sum()))


VERIFY = FamilyRules(
    rules=rules,
    options={"nearest": 3, "same_group": True, "cost_per_unit_km": 0.0, "border_surcharge": 0.25,
             "strengthen": False},
    weights={"coordination": 1.0},
    columns={"industries": {"chain_nearest": "int"}},
)
