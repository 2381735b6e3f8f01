r"""Derived site limits: the most capacity each candidate site can reach, and the pairs that
can never host.

The input says which (industry, region) pairs may host (``sites.csv allowed``, the candidate
rule of ``instance.toml``). Many of them cannot, for reasons that follow from the data
alone: a region without chip engineers cannot run a fab, a city whose budget does not cover
the fixed setup cost cannot build a new plant, a downstream plant with no possible supplier
within reach cannot produce. Each family that sets such a limit says so with its
``site_bounds`` hook: for each candidate site, the largest capacity its constraints allow
when the site is the only one using the resource (a valid upper bound, since every other use
is non-negative):

$$
q_{ir} \le \overline{Q}^{f}_{ir} \qquad \text{for every family } f
$$

The engine then

* tightens the site maximum to $\overline{Q}'_{ir} = \min(\overline{Q}_{ir},
  \min_f \overline{Q}^f_{ir})$ (the bound of ``capacity`` and the coefficient of
  ``capacity_within_max``, the tighter big-M);
* leaves out of $S$ every greenfield site whose $\overline{Q}'_{ir}$ is below its minimum
  scale $m_i$: hosting it is infeasible, so $x_{ir} = 0$ in every plan. This is repeated until
  nothing changes (leaving out upstream sites can leave a downstream site without a
  supplier);
* never leaves out a must-host or a kept brownfield site, and never tightens its maximum
  below what it must hold (its minimum scale, or its existing capacity): such a site keeps
  its input maximum, so a contradiction between it and a limit stays in the model as an
  infeasible limit row, answered like any other infeasibility (exit 4, ``allocator
  explain`` naming the input rows in conflict) rather than hidden in a bound.

Families whose limits are softened (``--soft``) contribute no bound: their limits may be
exceeded. Every pair left out is reported (``BuiltModel.pruned``, the result table
``pruned.csv``: industry, region, family, reason). Switch it off with ``[sites] prune =
false`` (or ``build_model(prune=False)``); the optimum is the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from allocator.core.family import Family
    from allocator.input.data import Instance

PRUNED_COLUMNS = ["industry", "region", "family", "reason", "bound", "min_scale"]
#: bound columns a family's ``site_bounds`` returns


@dataclass
class DerivedSites:
    """Candidate sites after pruning (``capacity_max`` tightened, ``limited_by`` says by
    which family), and the pairs left out with the reason."""

    sites: pd.DataFrame
    pruned: pd.DataFrame


def _tolerance(value: np.ndarray) -> np.ndarray:
    return 1e-9 * np.maximum(1.0, np.abs(value))


def derive_sites(instance: Instance, families: list[Family], *, must_host: bool = True
                 ) -> DerivedSites:
    """Tighten the site maxima with the ``site_bounds`` of ``families`` and leave out the
    sites that cannot reach their minimum scale (see the module docstring). ``must_host``:
    the must-host rule applies (a family that ``enforces_must_host`` is built), so must-host
    sites are kept."""
    sites = instance.sites.copy()
    sites["limited_by"] = ""
    keep = instance.settings["sites"]["brownfield"] == "keep"
    hooks = [f for f in families if f.site_bounds is not None]
    pruned: list[pd.DataFrame] = []
    while True:
        bound = sites["capacity_max"].to_numpy(float).copy()
        why = np.array([""] * len(sites), dtype=object)
        who = np.array([""] * len(sites), dtype=object)
        for fam in hooks:
            assert fam.site_bounds is not None
            rows = fam.site_bounds(instance, instance.options(fam.name), sites)
            if not len(rows):
                continue
            keyed = rows.set_index(["industry", "region"])
            keyed = keyed[~keyed.index.duplicated()]  # a hook returns the tightest per site
            b = keyed["bound"].reindex(sites.index).to_numpy(float)
            tighter = ~np.isnan(b) & (b < bound)
            bound = np.where(tighter, b, bound)
            why = np.where(tighter, keyed["reason"].reindex(sites.index).to_numpy(object), why)
            who = np.where(tighter, fam.name, who)
        scale = sites["min_scale"].to_numpy(float)
        existing = sites["existing"].to_numpy(float)
        brown = sites["brownfield"].to_numpy(bool)
        must = sites["must_host"].to_numpy(bool) & must_host
        # what a must-host or kept brownfield site has to reach (others: nothing)
        required = np.where(brown & keep, existing, np.where(must, scale, -np.inf))
        # a site that must hold more than a limit allows: left to the model (infeasible,
        # explained by allocator.analysis.explain in the terms of the limit's input rows)
        conflict = bound < required - _tolerance(required)
        original = sites["capacity_max"].to_numpy(float)
        bound = np.where(conflict, original, bound)
        who = np.where(conflict, "", who)
        cannot = ~brown & ~must & (bound < scale - _tolerance(scale))
        if not cannot.any():
            sites["capacity_max"] = np.maximum(bound, 0.0)
            sites["limited_by"] = who
            break
        gone = sites.loc[cannot]
        pruned.append(pd.DataFrame({
            "industry": gone.index.get_level_values(0), "region": gone.index.get_level_values(1),
            "family": who[cannot], "reason": why[cannot], "bound": np.maximum(bound[cannot], 0),
            "min_scale": scale[cannot]}))
        sites = sites.loc[~cannot].copy()
    out = pd.concat(pruned, ignore_index=True) if pruned else pd.DataFrame(
        columns=PRUNED_COLUMNS)
    return DerivedSites(sites, out)


def no_pruning(instance: Instance) -> DerivedSites:
    sites = instance.sites.copy()
    sites["limited_by"] = ""
    return DerivedSites(sites, pd.DataFrame(columns=PRUNED_COLUMNS))


