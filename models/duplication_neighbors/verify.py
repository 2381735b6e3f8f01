"""The duplication_neighbors family's rules for ``allocator verify``, restated from its
mathematics (docs/verification.md) with pandas only. This file shares no code with
``model.py``: a mistake in one shows up as a disagreement with the other. ``VERIFY`` is what
the checker collects: the rules, and the family's option defaults, term weights and input
columns, restated (``tests/test_verify.py`` compares them with the family's declarations)."""

from __future__ import annotations

import numpy as np

from allocator.verify.check import Check, FamilyRules


def rules(c: Check) -> None:
    r"""Term neighbor_pairs $= \sum_i \sum_{(a,b) \in N} x_{ia} x_{ib}$: unordered pairs
    of regions in the same group (option same_group) or at most distance_km apart (great
    circle), both candidates for i."""
    data, opts = c.data, c.options
    ids = list(data.regions.index)
    km = data.distance_matrix.to_numpy()
    close = km <= float(opts["distance_km"])
    if opts["same_group"]:
        g = data.regions["group"].to_numpy()
        close |= g[:, None] == g[None, :]
    a, b = np.nonzero(np.triu(close, k=1))
    pairs = 0.0
    x = c.hosts
    for industry in data.industries.index:
        hosted = {r for (i, r), v in x.items() if i == industry and v > 0.5}
        pairs += sum(1 for p, q in zip(a, b, strict=True)
                     if ids[p] in hosted and ids[q] in hosted)
    c.term("neighbor_pairs", pairs)


VERIFY = FamilyRules(
    rules=rules,
    options={"distance_km": 150.0, "same_group": True},
    weights={"neighbor_pairs": 1.0},
)
