r"""The engine's own rules for ``allocator verify`` (docs/verification.md, "Core"): the
decisions' domains and bounds, kept plants, and what leaves a site.

Each family's rules live with the family, in ``models/<family>/verify.py`` (``VERIFY``), or
for a researcher's family in its ``Family(verify_rules=...)``; :mod:`allocator.verify` finds
them by name. Nothing here names a family.
"""

from __future__ import annotations

import pandas as pd

from allocator.verify.check import Check, sum_by


def engine(c: Check) -> None:
    """Core rules: the decisions' domains and bounds, and what leaves a site.

    * $x_{ir} \\in \\{0, 1\\}$; $0 \\le q_{ir} \\le \\overline{Q}_{ir}$;
    * with ``[sites] brownfield = "keep"`` an existing plant stays: $x_{ir} = 1$,
      $q_{ir} \\ge e_{ir}$;
    * a flow leaves only a candidate site of its industry, is $\\ge 0$, and everything that
      leaves a site (all families' flows) is at most its capacity.
    """
    plan = c.plan
    x, q = plan["hosted"], plan["capacity"]
    not_binary = ~x.isin([0.0, 1.0])
    c.count(len(plan))
    for idx in plan.index[not_binary.to_numpy()]:
        c.violation("hosts", idx, abs(x[idx] - round(x[idx])), "hosted must be 0 or 1")
    c.at_least("capacity bounds", q, 0.0, "capacity")
    c.at_most("capacity bounds", q, plan["capacity_max"], "capacity")
    if c.data.setting("sites", "brownfield") == "keep":
        kept = plan[plan["brownfield"]]
        c.at_least("existing plant kept (hosts)", kept["hosted"], 1.0)
        c.at_least("existing plant kept (capacity)", kept["capacity"], kept["existing"],
                   "capacity")
    flows = c.flows()
    c.at_least("flow >= 0", flows["amount"].set_axis(
        list(zip(flows["industry"], flows["from"], flows["to"], strict=True))), 0.0)
    origin = pd.MultiIndex.from_arrays([flows["industry"], flows["from"]])
    bad = ~origin.isin(plan.index)
    c.count(len(flows))
    for row in flows[bad].itertuples(index=False):
        c.violation("flow origin", (row.industry, row[2]), row.amount,
                    f"{row.family} ships {row.industry} from {row[2]}, which may not host it")
    out = sum_by(flows["amount"], [flows["industry"], flows["from"]])
    out = out[out.index.isin(plan.index)]
    c.at_most("site_output_within_capacity", out, q.reindex(out.index), "capacity")


def term_bounds(c: Check, bounds: dict[str, float]) -> None:
    """$\\mathrm{term}_t \\le \\varepsilon_t$ for every bounded term (``summary.json``
    ``term_bounds``: a frontier point, a sweep case's ``bound``), on the term as the
    families' rules recomputed it (before weighting). A bounded term that no rule
    recomputed is a violation: the bound could not be checked."""
    for term, limit in bounds.items():
        recomputed = c.recomputed(term)
        if recomputed is None:
            c.violation(f"objective_term_bounds[{term}]", term, float("nan"),
                        "the term has a bound but no rule recomputed it")
            continue
        c.at_most(f"objective_term_bounds[{term}]", recomputed, float(limit))
