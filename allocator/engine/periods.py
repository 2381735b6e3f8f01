r"""Planning periods: a plan over time as one block per period plus the rows that link them.

With ``periods.csv`` (:mod:`allocator.input.periods`) the engine builds, for each period
$p \in P$ in order, a block ``model.period[p]`` holding a whole one-shot model of that
period: the core decisions $x_{irp}$, $q_{irp}$ (and $n_{irp}$ on brownfield sites) and
every family, built by the families themselves from the period's data (demand, budgets,
talent and input supply, options as ``*_by_period.csv`` and ``periods.csv`` give them). The
families never loop over periods: what makes the plan one plan over time is below. For
each site $(i,r) \in S$ and period $p$ (with $p-1$ the period before it):

$$
\begin{aligned}
&\text{period\_hosts\_kept:} && x_{ir,p-1} \le x_{irp} && p > 1 \\
&\text{period\_capacity\_kept:} && q_{ir,p-1} \le q_{irp} && p > 1 \\
&\text{period\_capacity\_new\_exact:} && n_{irp} \le q_{irp} - e_{ir} && (i,r) \in S^b \\
&\text{period\_hosts\_before\_horizon:} && x_{irp} \le x_{ir,p-1}
  \ (p = 1: x_{irp} \le [e_{ir} > 0]) && s_i(p) \text{ undefined} \\
&\text{period\_capacity\_before\_horizon:} && q_{irp} \le q_{ir,p-1}
  \ (p = 1: q_{irp} \le e_{ir}) && s_i(p) \text{ undefined}
\end{aligned}
$$

Hosting is never undone and capacity never shrinks; existing plants run from the first
period (``[sites] brownfield = "keep"``: $x_{irp} = 1$, $q_{irp} \ge e_{ir}$). Capacity that
runs in period $p$ is paid in the period its construction starts: with $\ell_i$ the build
time of industry $i$ (``industries.csv build_years``, blank: 0) and $y_p$ the first year of
$p$, $s_i(p) = \max\{k : y_k \le y_p - \ell_i\}$, the last period that starts at least
$\ell_i$ years before $p$. When no period does (the plant would have had to be started
before the horizon), nothing new runs in $p$ (the rows ``*_before_horizon``). The
investment of period $k$ at a site, what every family reads as $\mathrm{inv}_{ir}$ in the
period's block (the capacity family's term ``investment``, the funding family's budget of
the period), is what is spent in $k$:

$$
\mathrm{inv}_{irk} = \sum_{p:\, s_i(p) = k} \begin{cases}
  F_{ir} (x_{irp} - x_{ir,p-1}) + c_{ir} (q_{irp} - q_{ir,p-1}) & (i,r) \notin S^b \\
  c_{ir} (n_{irp} - n_{ir,p-1}) & (i,r) \in S^b
\end{cases}
\qquad (x_{ir0} = q_{ir0} = n_{ir0} = 0)
$$

With every $\ell_i = 0$, $s_i(p) = p$: each period pays for what it adds. The objective adds
each period's terms at its discount factor $\delta_p$ (``periods.csv``):

$$
\min z = \sum_{t \in \mathcal{T}} w_t \sum_{p \in P} \delta_p\, \mathrm{term}_{tp}
$$

so investment is discounted to the first year, and the duplication and coordination terms
(and every other term) are counted once per period, each at the period's snapshot, not per
year: give ``discount_factor`` to weigh a period otherwise. A family's own decisions (a
pilot base being open, flows) are taken in each period's block on their own, without
links: a pilot base's setup cost counts in every period it is open. The objective table reports
each term as $\sum_p \delta_p \mathrm{term}_{tp}$; ``period_objective.csv`` gives each
period's terms before discounting.

Site limits: the default site maximum (blank ``capacity_max``) is the largest national
requirement $G_i$ over the periods, so that capacity built for a peak is not cut when
demand falls. Pruning (:mod:`allocator.engine.prune`) runs on each period's data; the
candidate sites are those that can host in the last period (hosting is kept, so a site
that cannot host then never can), and a site's maximum in period $p$ is the smallest of the
maxima derived for the periods from $p$ on ($q_{irp} \le q_{irp'}$ for $p' \ge p$), 0 where
a later period leaves the site out. The site bounds of a family whose limits bound spending
(``Family.spending``: funding) are left out: they price a whole plant against one period's
budget, but a period pays only for what it adds.

Why blocks and not a period index in every family: with an index, every family (and every
researcher's family file) would have to know about periods, and a family written for the
one-shot model would be wrong over time. With a block per period, time lives in the engine
(as supply-shock scenarios do, :mod:`allocator.engine.stochastic`): the link rows and the
investment are the only period-aware parts. The price is that a family's valid inequalities
and checks must hold for a snapshot whose investment is what the period spends; those of
the default families do (they never read investment), the site bounds used for pruning do
not (see below), and the pre-solve checks run on the first period only, whose spending is
at least the one-shot investment of its plan.

Without ``periods.csv`` the model is the one-shot model, component for component. A
researcher's family needs nothing for periods: it is built once per period from that
period's data; a column of its own table that changes over time is marked
``ColumnSpec(by_period=True)``, and its number options may be given per period.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Symbol
from allocator.core.tables import CAPACITY
from allocator.input.periods import Period, period_instance

if TYPE_CHECKING:
    from allocator.input.data import Instance

#: the engine's components of a multi-period model, documented like a family's symbols
PERIOD_SYMBOLS: tuple[Symbol, ...] = (
    Symbol("periods.csv:first_year", "parameter", "y_p", "periods", "year",
           "first year of period p"),
    Symbol("periods.csv:discount_rate / discount_factor", "parameter", r"\delta_p", "periods",
           "", r"discount factor of period p: given, or $(1+r)^{-(y_p - y_1)}$"),
    Symbol("industries.csv:build_years", "parameter", r"\ell_i", "industries", "years",
           "years from the start of construction to a plant that runs"),
    Symbol("periods", "set", "P", "", "", "planning periods (periods.csv), in order"),
    Symbol("period", "block", "", "periods", "", "one whole one-shot model per period: "
           "model.period[p].hosts, .capacity, .family['talent'], ..."),
    Symbol("site_investment", "expression", r"\mathrm{inv}_{irk}", "sites", "money",
           "on the block of period k: what is spent at the site in k (construction started "
           "in k of the capacity that runs from s_i^{-1}(k))",
           r"\sum_{p: s_i(p)=k} F_{ir}\Delta x_{irp} + c_{ir}\Delta q_{irp}"),
    Symbol("period_hosts_kept", "constraint", "", "(period > 1, site)", "",
           "hosting is never undone", r"x_{ir,p-1} \le x_{irp}"),
    Symbol("period_capacity_kept", "constraint", "", "(period > 1, site)", CAPACITY,
           "capacity never shrinks", r"q_{ir,p-1} \le q_{irp}"),
    Symbol("period_capacity_new_exact", "constraint", "", "(period, brownfield site)",
           CAPACITY, "new capacity on a brownfield site is exactly what exceeds the existing",
           r"n_{irp} \le q_{irp} - e_{ir}"),
    Symbol("period_hosts_before_horizon", "constraint", "", "(period, site) without s_i(p)",
           "", "no new host where construction would have started before the first period",
           r"x_{irp} \le x_{ir,p-1}"),
    Symbol("period_capacity_before_horizon", "constraint", "",
           "(period, site) without s_i(p)", CAPACITY, "no new capacity where construction "
           "would have started before the first period", r"q_{irp} \le q_{ir,p-1}"),
    Symbol("terms", "set", r"\mathcal{T}", "", "", "objective terms of the active families"),
    Symbol("objective_terms", "expression", r"\mathrm{term}_t", "terms", "money",
           "each term summed over the periods at their discount factors (each period's "
           "block holds its own, undiscounted)", r"\sum_p \delta_p \mathrm{term}_{tp}"),
    Symbol("objective", "objective", "z", "", "money", "the weighted terms over the periods",
           r"\min z = \sum_t w_t \sum_p \delta_p \mathrm{term}_{tp}"),
)


@dataclass
class PeriodModel:
    """One period of a multi-period model: the period and a read-only view of its block as
    a one-shot model (a :class:`allocator.engine.build.BuiltModel` whose ``model`` is the
    block ``model.period[p]`` and whose ``instance`` is the period's data)."""

    period: Period
    built: Any
    #: index of the period whose investment pays for what runs here, per industry (None:
    #: construction would have started before the first period)
    paid_in: dict[str, int | None] = field(default_factory=dict)


def period_views(instance: Instance, periods: list[Period]) -> list[Instance]:
    """Each period's data (:func:`allocator.input.periods.period_instance`), with the
    industries' blank ``capacity_max`` set to their largest requirement $G_i$ over the
    periods (see the module docstring)."""
    views = [period_instance(instance, periods, p) for p in periods]
    most = pd.concat([v.requirement for v in views], axis=1).max(axis=1)
    out = []
    for v in views:
        ind = v.tables["industries"].copy()
        fill = ind["id"].map(most).astype(float)
        blank = ind["capacity_max"].isna() & (fill > 0)
        ind.loc[blank, "capacity_max"] = fill[blank]
        view = replace(v, tables={**v.tables, "industries": ind})
        # regions' coordinates and arcs are the same in every period: share the network
        view.__dict__["network"] = instance.network
        out.append(view)
    return out


def start_periods(instance: Instance, periods: list[Period]) -> list[dict[str, int | None]]:
    """$s_i(p)$ for each period $p$ and industry $i$: the index of the last period starting
    at least $\\ell_i$ years before $p$ (None: none does)."""
    lead = instance.industry["build_years"].fillna(0).astype(int)
    out = []
    for p in periods:
        paid: dict[str, int | None] = {}
        for i in instance.industry_ids:
            ok = [k for k, q in enumerate(periods) if q.first_year <= p.first_year - lead[i]]
            paid[i] = ok[-1] if ok else None
        out.append(paid)
    return out


def period_sites(derived: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The candidate sites of every period: those of the last, each period's maximum the
    smallest of the maxima derived for it and the later periods (0 where a later period
    leaves the site out)."""
    last = derived[-1]
    out: list[pd.DataFrame] = [last] * len(derived)
    running = last["capacity_max"].to_numpy(float)
    for k in reversed(range(len(derived))):
        cap = derived[k]["capacity_max"].reindex(last.index).fillna(0.0).to_numpy(float)
        running = np.minimum(running, cap)
        sites = last.copy()
        sites["capacity_max"] = running
        out[k] = sites
    return out


def link_periods(model: pyo.ConcreteModel, periods: list[Period], sites: pd.DataFrame,
                 paid_in: list[dict[str, int | None]]) -> None:
    """The linking rows of the module docstring on ``model`` and each period's
    ``site_investment`` on its block (before the families are built: they read it)."""
    ids = [p.id for p in periods]
    blocks = [model.period[p] for p in ids]
    keys = list(sites.index)
    brown = [k for k in keys if bool(sites.at[k, "brownfield"])]
    existing = sites["existing"].to_dict()
    later = [(ids[k], i, r) for k in range(1, len(ids)) for i, r in keys]
    model.period_hosts_kept = pyo.Constraint(
        later, rule=lambda m, p, i, r: _prev(blocks, ids, p).hosts[i, r]
        <= m.period[p].hosts[i, r])
    model.period_capacity_kept = pyo.Constraint(
        later, rule=lambda m, p, i, r: _prev(blocks, ids, p).capacity[i, r]
        <= m.period[p].capacity[i, r])
    model.period_capacity_new_exact = pyo.Constraint(
        [(p, i, r) for p in ids for i, r in brown],
        rule=lambda m, p, i, r: m.period[p].capacity_new[i, r]
        <= m.period[p].capacity[i, r] - existing[i, r])
    early = [(ids[k], i, r) for k in range(len(ids)) for i, r in keys
             if paid_in[k][i] is None]

    def hosts_early(m: pyo.ConcreteModel, p: str, i: str, r: str) -> Any:
        before = _prev(blocks, ids, p)
        return m.period[p].hosts[i, r] <= (before.hosts[i, r] if before is not None
                                           else float(existing[i, r] > 0))

    def capacity_early(m: pyo.ConcreteModel, p: str, i: str, r: str) -> Any:
        before = _prev(blocks, ids, p)
        return m.period[p].capacity[i, r] <= (before.capacity[i, r] if before is not None
                                              else float(existing[i, r]))

    model.period_hosts_before_horizon = pyo.Constraint(early, rule=hosts_early)
    model.period_capacity_before_horizon = pyo.Constraint(early, rule=capacity_early)
    fixed, capex = sites["fixed_cost"].to_dict(), sites["unit_capex"].to_dict()
    is_brown = sites["brownfield"].to_dict()

    def added(k: int, i: str, r: str) -> Any:
        """What running period k adds at the site, priced."""
        now, before = blocks[k], blocks[k - 1] if k else None
        if is_brown[i, r]:
            return capex[i, r] * (now.capacity_new[i, r]
                                  - (before.capacity_new[i, r] if before is not None else 0))
        return (fixed[i, r] * (now.hosts[i, r] - (before.hosts[i, r] if before is not None
                                                  else 0))
                + capex[i, r] * (now.capacity[i, r] - (before.capacity[i, r]
                                                       if before is not None else 0)))

    for k, blk in enumerate(blocks):
        runs = {i: [p for p in range(len(ids)) if paid_in[p][i] == k]
                for i in sites.index.get_level_values(0).unique()}
        blk.site_investment = pyo.Expression(
            blk.sites, rule=lambda b, i, r, runs=runs: pyo.quicksum(
                added(p, i, r) for p in runs[i]))


def _prev(blocks: list[pyo.Block], ids: list[str], period: str) -> pyo.Block | None:
    k = ids.index(period)
    return blocks[k - 1] if k else None
