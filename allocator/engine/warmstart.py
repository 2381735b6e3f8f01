r"""Start warm: a first plan for HiGHS, from a planner's file or from a fast heuristic.

Both end the same way, :func:`complete`: the hosting decisions $x$ are fixed and an LP over
everything else (capacities, flows, funds, imports, slacks: every family) finds the cheapest
plan with that hosting. Its solution satisfies every family by construction, so HiGHS takes
it as its first incumbent (:func:`allocator.engine.highs.set_mip_start`) and can only improve on it.

* ``--start PLAN.csv`` (:func:`read_plan`): a previous ``allocation.csv`` or a planner's own
  plan: columns ``industry``, ``region``, optional ``hosted`` (0/1; a listed row without it is
  hosted) and ``capacity``. Tried in order: hosting and capacities fixed; hosting fixed;
  *repair*: the plan's hosts kept (a lower bound) and the rest left to a short MIP. What
  happened is recorded in ``summary.json`` (``start``).
* **Heuristic** (:func:`first_plan`), on every solve unless ``--no-heuristic``: first the
  relaxation-guided plan of :mod:`allocator.engine.relaxation` (a dive on the LP relaxation,
  what it leaves solved by HiGHS to 1% in a restricted MIP, within
  :data:`RELAXATION_SECONDS`); when it gives no plan, the greedy (:func:`greedy_hosting`),
  which keeps
  what is left of every limit of the families built and not softened (talent per region
  and class, each region's budget plus the national fund (its reserved share for
  slow-return industries only), key inputs, focus limits) and, for each host, the output
  not yet promised to a destination:

  1. kept brownfield and must-host sites are hosted; those whose upstream industry can reach
     them from at most three regions are supplied first (below), before other industries
     take those regions' talent and money;
  2. industries go downstream first (each after all its downstream industries; among those
     ready at the start, the ones with the least room for their least capacity first).
     Each meets its markets (where ``nearest_sites`` restricts who ships there) and then its
     remaining final demand, from unpromised output first, then by growing or opening sites
     in order of their **cost per unit of the demand they would serve now**,
     $(F_{ir}[\text{new host}] + c_{ir} q)/q$, each sized to what is still needed (at least
     the minimum scale, at most what the limits leave and what its upstream industries can
     supply there);
  3. whenever a site grows by $q$, each upstream industry $u$ delivers $a_{ud} q$ to it the
     same way, from its hosts within reach of the chain's arcs: upstream capacity is placed
     where downstream hosts need it, recursively up the chain;
  4. regions below their equity floor host their cheapest industries at minimum scale.

  The completion LP then has a penalized slack on each row that carries output to a
  destination (chain inflow, market demand); a shortfall there adds capacity within reach
  (or moves the downstream capacity away) and the LP runs again, a few rounds at most.

When both a start file and the heuristic give a plan, HiGHS gets the cheaper one.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.core.errors import InputError, Problem
from allocator.core.tables import CAPACITY, WRITTEN_TOLERANCE, HeuristicLimits
from allocator.engine.build import BuiltModel
from allocator.engine.highs import SolverOptions, StandardForm, make_highs, read_outcome, run_highs
from allocator.engine.relaxation import start_from_relaxation

#: time limit of one completion (LP, or the repair MIP), in seconds
COMPLETE_SECONDS = 30.0
#: most time for the relaxation-guided first plan, in seconds (then the main search takes
#: over from its best plan); at 337 x 40 its first LP alone took 9 s idle and 25 s under a
#: load of 5 on 2 cores, and the main search finds no plan of its own in 60 s there
RELAXATION_SECONDS = 60.0
#: a little below each limit, so that a heuristic plan is not rejected on tolerance
SAFETY = 1e-6
#: less room than this (in capacity units) counts as none
ROOM_TOLERANCE = 1e-6

Site = tuple[str, str]


# ---------------------------------------------------------------------- completion
def column_index(form: StandardForm) -> dict[int, int]:
    """Pyomo variable (by id) -> column of ``form``."""
    return {id(v): j for j, v in enumerate(form.columns)}


def complete(built: BuiltModel, form: StandardForm, hosts: dict[Site, int],
             options: SolverOptions, *, capacity: dict[Site, float] | None = None,
             lower_only: bool = False, free: set[str] = frozenset(),
             seconds: float = COMPLETE_SECONDS
             ) -> tuple[np.ndarray | None, float | None, str]:
    """The cheapest plan with the hosting ``hosts`` fixed (every site not named: 0), and
    the ``capacity`` given fixed too. With ``lower_only``, named hosts are kept (lower bound
    1) and the rest is free; the hosting of the industries in ``free`` is left free: both
    make a small MIP. Returns (column values, objective, status)."""
    cols = column_index(form)
    m = built.model
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    integrality = form.integrality.copy()
    for s in m.sites:
        j = cols.get(id(m.hosts[s]))
        if j is None:
            continue
        v = float(hosts.get(s, 0))
        if s[0] in free:
            continue
        if lower_only:
            lower[j] = max(lower[j], v)
            continue
        if v < lower[j] or v > upper[j]:
            return None, None, f"{s[0]} in {s[1]} must be {int(lower[j])} (its bound)"
        lower[j] = upper[j] = v
        integrality[j] = 0
    near_lower, near_upper = lower.copy(), upper.copy()
    for s, q in (capacity or {}).items():
        j = cols.get(id(m.capacity[s]))
        if j is not None:
            # a plan read from a results folder is written to 6 decimals: within that of a
            # bound, it is at the bound
            slack = WRITTEN_TOLERANCE * max(1.0, abs(q))
            if q < lower[j] - slack or q > upper[j] + slack:
                return None, None, (f"capacity {q:g} of {s[0]} in {s[1]} outside "
                                    f"[{lower[j]:g}, {upper[j]:g}], what its limits allow")
            near_lower[j] = max(lower[j], q - slack)
            near_upper[j] = min(upper[j], q + slack)
            lower[j] = upper[j] = min(max(q, lower[j]), upper[j])
    opts = replace(options, time_limit=min(seconds, options.time_limit or seconds),
                   log_file=None, verbose=False, progress=False)
    fixed = replace(form, col_lower=lower, col_upper=upper, integrality=integrality)
    h = make_highs(fixed, opts)
    run_highs(h)
    outcome = read_outcome(h, fixed)
    if not outcome.has_solution and capacity:
        # the capacities as written: a chain whose upstream exactly covers its downstream
        # (39.4927272727 written 39.492727) is short by the rounding; each capacity within
        # the written precision of the file's value is the same plan
        fixed = replace(form, col_lower=near_lower, col_upper=near_upper,
                        integrality=integrality)
        h = make_highs(fixed, opts)
        run_highs(h)
        outcome = read_outcome(h, fixed)
    if not outcome.has_solution:
        return None, None, outcome.status
    x = np.asarray(h.getSolution().col_value, dtype=float)
    ints = form.integrality.astype(bool)
    x[ints] = np.round(x[ints])
    return x, outcome.objective, outcome.status


# ---------------------------------------------------------------------- a planner's plan
def read_plan(path: str | Path, built: BuiltModel) -> tuple[dict[Site, int],
                                                             dict[Site, float]]:
    """Hosting and capacities of a plan file; every problem (file, row, column, value) is
    reported at once as :class:`InputError`."""
    path = Path(path)
    name = path.name
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError([Problem(name, f"cannot read the start plan: {exc}")]) from exc
    problems = [Problem(name, f"column '{c}' is missing (a start plan needs industry and "
                              "region; hosted and capacity are optional)", column=c)
                for c in ("industry", "region") if c not in df.columns]
    if problems:
        raise InputError(problems)
    sites = set(built.instance.sites.index)
    modelled = set(built.sites.index)
    why_pruned = {(p.industry, p.region): f"{p.family}: {p.reason}"
                  for p in built.pruned.itertuples()}
    hosts: dict[Site, int] = {}
    capacity: dict[Site, float] = {}
    for k, row in df.iterrows():
        line = int(k) + 2
        s = (row["industry"].strip(), row["region"].strip())
        if s not in sites:
            known = s[0] in built.instance.industry_ids and s[1] in built.instance.region_ids
            problems.append(Problem(name, "not a candidate site (forbidden in sites.csv or "
                                    "not listed)" if known else "unknown industry or region",
                                    row=line, column="industry", value=f"{s[0]},{s[1]}"))
            continue
        if s in hosts:
            problems.append(Problem(name, "listed twice", row=line, column="region",
                                    value=s[1]))
            continue
        hosted = row.get("hosted", "").strip().lower()
        if s not in modelled:  # left out of the model: it can never host (allocator.engine.prune)
            if hosted not in ("0", "false", "no"):
                problems.append(Problem(name, "this pair can never host, so a plan hosting "
                                        f"it cannot be completed ({why_pruned.get(s, '')}; "
                                        "see pruned.csv)", row=line, column="region",
                                        value=s[1]))
            continue
        if hosted in ("", "1", "true", "yes"):
            hosts[s] = 1
        elif hosted in ("0", "false", "no"):
            hosts[s] = 0
        else:
            problems.append(Problem(name, "expected 0 or 1", row=line, column="hosted",
                                    value=row["hosted"]))
            continue
        text = row.get(CAPACITY, "").strip()
        if text:
            try:
                q = float(text)
            except ValueError:
                q = float("nan")
            if not np.isfinite(q) or q < 0:
                problems.append(Problem(name, "expected a number >= 0", row=line,
                                        column=CAPACITY, value=text))
                continue
            capacity[s] = q if hosts[s] else 0.0
    if problems:
        raise InputError(problems)
    return hosts, capacity


def start_from_plan(built: BuiltModel, form: StandardForm, path: str | Path,
                    options: SolverOptions, *, seconds: float = math.inf
                    ) -> tuple[np.ndarray | None, dict[str, Any]]:
    """A MIP start from a plan file: see the module docstring for the attempts; they stop
    when ``seconds`` are used up."""
    t0 = time.perf_counter()
    hosts, capacity = read_plan(path, built)
    report: dict[str, Any] = {"file": str(path), "hosts": sum(hosts.values())}
    attempts = []
    if capacity:
        attempts.append(("hosting and capacities fixed", dict(capacity=capacity)))
    attempts.append(("hosting fixed", {}))
    attempts.append(("repaired: the plan's hosts kept, the rest chosen by a short MIP",
                     {"lower_only": True, "seconds": min(10.0, COMPLETE_SECONDS)}))
    reasons = []
    for how, kwargs in attempts:
        left = seconds - (time.perf_counter() - t0)
        if left <= 0:
            reasons.append(f"{how}: not tried, the time limit was used up")
            continue
        kwargs["seconds"] = min(kwargs.get("seconds", COMPLETE_SECONDS), left)
        x, objective, status = complete(built, form, hosts, options, **kwargs)
        if x is not None:
            report.update(used=True, how=how, objective=objective,
                          seconds=time.perf_counter() - t0)
            if reasons:
                report["message"] = "; ".join(reasons)
            return x, report
        reasons.append(f"{how}: {status}")
    report.update(used=False, how="", objective=None, seconds=time.perf_counter() - t0,
                  message="the plan cannot be completed to a feasible plan (" +
                  "; ".join(reasons) + "); HiGHS starts without it (run allocator explain "
                  "on the instance, or check the plan's hosts against the limits)")
    return None, report


# ---------------------------------------------------------------------- the heuristic
class _Resources:
    """What is left of each limit while the greedy opens sites: the ``heuristic_limits`` of
    the families built and not softened (:class:`allocator.core.tables.HeuristicLimits`),
    each family's keys kept apart; and the flows that deliver output, of every family built.
    Money follows one family's budget (the first that gives one)."""

    def __init__(self, built: BuiltModel) -> None:
        inst = built.instance
        soft = set(built.soft_rows["family"])
        self.sites = built.sites  # the model's candidates: pruned pairs can never host
        self.brown: dict[Site, bool] = self.sites["brownfield"].to_dict()
        # a resource of each region that each unit of capacity uses: (region, key) -> left
        self.regional: dict[tuple[str, Any], float] = {}
        self.regional_use: dict[Site, list[tuple[Any, float]]] = {}
        self.budget: dict[str, float] | None = None
        self.fund = 0.0  # the national fund's unreserved part, for any industry
        self.reserved = 0.0  # its reserved part, for the industries in slow only
        self.slow: set[str] = set()
        self.focus: dict[str, float] = {}  # most hosted industries per region
        self.floors: dict[str, int] = {}  # least hosted industries per region
        self.pool: dict[Any, float] = {}  # national input -> left; (input, region) -> left
        self.input_use: dict[str, list[tuple[Any, str, float]]] = {}
        self.regional_imports: dict[Any, float] = {}
        # flows that deliver output: (family, flow variable, constraint), to the hosts of
        # downstream industries and to located final demand (industry, region, demand)
        self.to_hosts: list[tuple[str, str, str]] = []
        self.to_markets: list[tuple[str, str, str]] = []
        located: list[pd.DataFrame] = []
        for fam in built.families:
            if fam.heuristic_limits is None:
                continue
            limits = fam.heuristic_limits(inst, inst.options(fam.name), self.sites)
            if limits.to_hosts is not None:
                self.to_hosts.append((fam.name, *limits.to_hosts))
            if limits.to_markets is not None:
                self.to_markets.append((fam.name, *limits.to_markets))
            if limits.located_demand is not None:
                located.append(limits.located_demand[["industry", "region", "demand"]])
            if fam.name not in soft:  # a softened limit may be exceeded
                self._add(fam.name, limits)
        self.located_demand = pd.concat(located, ignore_index=True) if located else None

    def _add(self, family: str, limits: HeuristicLimits) -> None:
        """Keep ``limits`` of ``family``; its keys are kept apart as ``(family, key)``."""
        for (r, k), v in limits.regional.items():
            self.regional[r, (family, k)] = v
        for s, uses in limits.regional_use.items():
            self.regional_use.setdefault(s, []).extend(((family, k), per) for k, per in uses)
        if limits.budget is not None and self.budget is None:
            self.budget = dict(limits.budget)
            self.fund, self.reserved = limits.fund, limits.reserved
            self.slow = set(limits.reserved_for)
        for r, n in limits.max_hosts.items():
            self.focus[r] = min(self.focus.get(r, np.inf), n)
        for r, n in limits.min_hosts.items():
            self.floors[r] = max(self.floors.get(r, 0), n)
        for k, v in limits.pool.items():
            self.pool[family, k] = v
        for (k, r), v in limits.regional_pool.items():
            self.pool[(family, k), r] = v
        for k, v in limits.imports.items():
            self.regional_imports[family, k] = v
        for i, uses in limits.pool_use.items():
            self.input_use.setdefault(i, []).extend(((family, k), kind, per)
                                                    for k, kind, per in uses)

    def room(self, s: Site, new_host: bool, fixed: float, capex: float) -> float:
        """The most capacity ``s`` may still add (inf when nothing limits it)."""
        i, r = s
        if new_host and r in self.focus and self.focus[r] < 1:
            return 0.0
        most = np.inf
        for t, per in self.regional_use.get(s, ()):
            most = min(most, self.regional.get((r, t), 0.0) / per)
        if self.budget is not None:
            setup = fixed if new_host and not self.brown[s] else 0.0
            money = self.budget.get(r, 0.0) + self.fund - setup + (
                self.reserved if i in self.slow else 0.0)
            if money < 0:
                return 0.0
            if capex > 0:
                most = min(most, money / capex)
        for k, kind, per in self.input_use.get(i, ()):
            left = (self.pool.get(k, 0.0) if kind == "national"
                    else self.pool.get((k, r), 0.0) + self.regional_imports.get(k, 0.0))
            most = min(most, left / per)
        return max(0.0, most * (1 - SAFETY))

    def take(self, s: Site, q: float, paid: float, new_host: bool, fixed: float,
             capex: float) -> None:
        """Use what ``q`` more units at ``s`` need; ``paid`` of them are new (capex)."""
        i, r = s
        if new_host and r in self.focus:
            self.focus[r] -= 1
        for t, per in self.regional_use.get(s, ()):
            self.regional[r, t] = self.regional.get((r, t), 0.0) - per * q
        if self.budget is not None:
            cost = (fixed if new_host and not self.brown[s] else 0.0) \
                + capex * paid
            own = min(cost, max(self.budget.get(r, 0.0), 0.0))
            self.budget[r] = self.budget.get(r, 0.0) - own
            rest = cost - own
            if i in self.slow:
                from_reserved = min(rest, max(self.reserved, 0.0))
                self.reserved -= from_reserved
                rest -= from_reserved
            self.fund -= rest
        for k, kind, per in self.input_use.get(i, ()):
            if kind == "national":
                self.pool[k] = self.pool.get(k, 0.0) - per * q
            else:
                local = self.pool.get((k, r), 0.0)
                use = per * q
                self.pool[k, r] = max(0.0, local - use)
                self.regional_imports[k] = self.regional_imports.get(k, 0.0) - max(
                    0.0, use - local)


    def release(self, s: Site, q: float, paid: float, was_new: bool, fixed: float,
                capex: float) -> None:
        """Give back what :meth:`take` used (the fund's part goes back to the region)."""
        i, r = s
        if was_new and r in self.focus:
            self.focus[r] += 1
        for t, per in self.regional_use.get(s, ()):
            self.regional[r, t] = self.regional.get((r, t), 0.0) + per * q
        if self.budget is not None:
            setup = fixed if was_new and not self.brown[s] else 0.0
            self.budget[r] = self.budget.get(r, 0.0) + setup + capex * paid
        for k, kind, per in self.input_use.get(i, ()):
            key = k if kind == "national" else (k, r)
            self.pool[key] = self.pool.get(key, 0.0) + per * q


def _reach(built: BuiltModel, flows: list[tuple[str, str, str]]
           ) -> dict[str, dict[str, set[str]]]:
    """Where each industry's hosts can deliver: industry -> destination region -> origin
    regions with an arc, read off the built families' flow variables (``flows``: family,
    variable, constraint, from their ``heuristic_limits``)."""
    out: dict[str, dict[str, set[str]]] = {}
    m = built.model
    for family, var, _ in flows:
        if family not in m.families:
            continue
        comp = m.family[family].component(var)
        if comp is None:
            continue
        for u, o, t in comp.index_set():
            out.setdefault(u, {}).setdefault(t, set()).add(o)
    return out


def downstream_first(industries: list[str], chain: pd.DataFrame,
                     first: dict[str, float] | None = None) -> list[str]:
    """Every industry after all its downstream industries, and each upstream industry as
    soon as it is ready (a stack, not a queue), so that a chain is sized in one go before
    other industries take the regions' talent and money. Among the industries ready at the
    start, those with the smallest ``first`` value go first."""
    below: dict[str, set[str]] = {i: set() for i in industries}
    above: dict[str, list[str]] = {i: [] for i in industries}
    for u, d in zip(chain["upstream"], chain["downstream"], strict=True):
        below[u].add(d)
        above[d].append(u)
    waiting = {i: len(below[i]) for i in industries}
    ready = [i for i in industries if not waiting[i]]
    if first is not None:
        ready.sort(key=lambda i: first.get(i, np.inf))  # stable: ties keep file order
    stack = list(reversed(ready))
    order: list[str] = []
    while stack:
        i = stack.pop()
        order.append(i)
        for u in reversed(above[i]):
            waiting[u] -= 1
            if not waiting[u]:
                stack.append(u)
    return order


class _Greedy:
    """The state of the greedy: capacity per hosted site, the output of each host not yet
    promised to a destination, and what is left of every limit."""

    def __init__(self, built: BuiltModel) -> None:
        inst = built.instance
        self.instance = inst
        sites = built.sites
        self.res = _Resources(built)
        self.cap: dict[Site, float] = {}
        self.free: dict[Site, float] = {}  # output not yet promised to a destination
        self.fixed = sites["fixed_cost"].to_dict()
        self.capex = sites["unit_capex"].to_dict()
        self.cap_max = sites["capacity_max"].to_dict()
        self.min_scale = sites["min_scale"].to_dict()
        self.existing = sites["existing"].to_dict()
        self.brown = sites["brownfield"].to_dict()
        self.regions_of: dict[str, list[str]] = {}
        for i, r in sites.index:
            self.regions_of.setdefault(i, []).append(r)
        self.chain_reach = _reach(built, self.res.to_hosts)
        self.market_reach = _reach(built, self.res.to_markets)
        chain = inst.chain
        self.ups: dict[str, list[tuple[str, float]]] = {i: [] for i in inst.industry_ids}
        for u, d, a in zip(chain["upstream"], chain["downstream"], chain["ratio"],
                           strict=True):
            self.ups[d].append((u, float(a)))
        self.forced: set[Site] = set()  # kept brownfield and must-host sites
        self.banned: set[Site] = set()  # sites given up by the repair loop

    # ------------------------------------------------------------------ sites
    def room(self, s: Site) -> float:
        new = s not in self.cap
        return max(0.0, min(self.cap_max[s] - self.cap.get(s, 0.0),
                            self.res.room(s, new, self.fixed[s], self.capex[s])))

    def host(self, s: Site, q: float) -> None:
        before = self.cap.get(s, 0.0)
        # brownfield capacity up to the existing one is free (capacity_new >= q - e)
        paid = max(0.0, before + q - max(before, self.existing[s])) if self.brown[s] else q
        self.res.take(s, q, paid, s not in self.cap, self.fixed[s], self.capex[s])
        self.cap[s] = before + q
        self.free[s] = self.free.get(s, 0.0) + q

    def unhost(self, s: Site) -> float:
        """Give a site up (never a forced one); returns its capacity."""
        q = self.cap.pop(s)
        self.free.pop(s, None)
        paid = max(0.0, q - self.existing[s]) if self.brown[s] else q
        self.res.release(s, q, paid, True, self.fixed[s], self.capex[s])
        self.banned.add(s)
        return q

    def total(self, i: str) -> float:
        return sum(q for (ii, _), q in self.cap.items() if ii == i)

    def cheapest(self, i: str, regions: list[str], need: float) -> Site | None:
        regions = [r for r in regions if (i, r) not in self.banned]
        return _cheapest(i, regions, need, self.cap, self.res, self.fixed, self.capex,
                         self.cap_max, self.min_scale)

    # ------------------------------------------------------------------ deliveries
    def deliverable(self, u: str, origins: set[str] | None) -> float:
        """What hosts of ``u`` in ``origins`` (None: anywhere) could still deliver: their
        unpromised output, their room to grow, the room of sites not yet hosted."""
        regions = self.regions_of.get(u, []) if origins is None else origins
        total = 0.0
        for o in regions:
            s = (u, o)
            if s in self.banned:
                continue
            if s in self.cap:
                total += self.free.get(s, 0.0) + self.room(s)
            elif self.room(s) >= self.min_scale[s]:
                total += self.room(s)
        return total

    def deliver(self, u: str, origins: set[str] | None, amount: float) -> float:
        """Promise ``amount`` of ``u``'s output from hosts in ``origins`` (None: anywhere):
        unpromised output first, then growing a host, then opening the cheapest new host;
        what is grown or opened is supplied by its own upstream industries in turn.
        Returns what could not be promised."""
        regions = sorted(self.regions_of.get(u, []) if origins is None else origins)
        for o in regions:
            s = (u, o)
            if amount <= 1e-9:
                return 0.0
            take = min(self.free.get(s, 0.0), amount)
            if take > 0:
                self.free[s] -= take
                amount -= take
        while amount > 1e-9:
            s = self.cheapest(u, regions, amount)
            if s is None:
                break
            new = s not in self.cap
            q = min(self.room(s), max(amount, self.min_scale[s] if new else 0.0))
            if q <= ROOM_TOLERANCE:
                regions = [r for r in regions if r != s[1]]
                continue
            self.grow(s, q)
            take = min(self.free[s], amount)
            self.free[s] -= take
            amount -= take
        return max(amount, 0.0)

    def slack(self) -> dict[str, float]:
        """Per industry: what all its candidate sites could build now, over its least
        capacity (small: few places can take it, so it should choose early)."""
        least = self.instance.least_capacity
        out = {}
        for i, regions in self.regions_of.items():
            most = sum(self.room((i, r)) for r in regions)
            out[i] = most / max(float(least[i]), 1e-9)
        return out

    def scarce(self, s: Site, few: int = 3) -> bool:
        """Whether some upstream industry of ``s`` can reach it from at most ``few``
        regions able to host it."""
        i, r = s
        for u, _ in self.ups[i]:
            origins = self.chain_reach.get(u, {}).get(r)
            if origins is not None and len([o for o in origins if (u, o) in self.cap
                                            or self.room((u, o)) > 0]) <= few:
                return True
        return False

    def supportable(self, i: str, r: str) -> float:
        """The most capacity of ``i`` in ``r`` that its upstream industries could supply
        (one level deep)."""
        most = np.inf
        for u, a in self.ups[i]:
            origins = self.chain_reach.get(u, {}).get(r) if u in self.chain_reach else None
            if a > 0:
                most = min(most, self.deliverable(u, origins) / a)
        return most

    def grow(self, s: Site, q: float) -> None:
        """Host or grow ``s`` by ``q`` and have its upstream industries supply it."""
        self.host(s, q)
        self.supply(s, q)

    def supply(self, s: Site, q: float) -> None:
        i, r = s
        for u, a in self.ups[i]:
            origins = self.chain_reach.get(u, {}).get(r) if u in self.chain_reach else None
            self.deliver(u, origins, a * q)

    def fill(self, i: str, need: float) -> float:
        """Host and size sites of ``i`` (supplied by their upstream industries) until
        ``need`` is met; returns what is still missing. A site its upstream industries
        cannot supply at its minimum scale is skipped."""
        regions = list(self.regions_of.get(i, []))
        held: dict[Site, int] = {}
        while need > ROOM_TOLERANCE:
            s = self.cheapest(i, regions, need)
            if s is None:
                break
            new = s not in self.cap
            q = min(self.room(s), self.supportable(i, s[1]),
                    max(need, self.min_scale[s] if new else 0.0))
            if q <= ROOM_TOLERANCE or (new and q < self.min_scale[s] - 1e-9):
                regions.remove(s[1])
                continue
            self.grow(s, q)
            need -= q
            if need > ROOM_TOLERANCE:
                # s was held back by its room or by what its suppliers can still deliver;
                # after a few tries (a rounding sliver) it is done for this fill. Without a
                # limit a supplier short by a sliver made s grow by slivers: 747,042 rounds
                # and 214 s at 337 x 40.
                held[s] = held.get(s, 0) + 1
                if held[s] >= 3:
                    regions.remove(s[1])
        return need

    def floor(self, r: str, industries: int) -> None:
        """Host the cheapest industries at their minimum scale in ``r`` until it hosts
        ``industries`` (the equity floor)."""
        while len([1 for (_, rr) in self.cap if rr == r]) < industries:
            options = [(self.fixed[i, r] + self.capex[i, r] * self.min_scale[i, r], i)
                       for i in self.regions_of if r in self.regions_of[i]
                       and (i, r) not in self.cap and (i, r) not in self.banned
                       and self.room((i, r)) >= self.min_scale[i, r]
                       and self.supportable(i, r) >= self.min_scale[i, r]]
            if not options:
                return
            _, i = min(options)
            self.grow((i, r), self.min_scale[i, r])


def greedy_hosting(built: BuiltModel) -> _Greedy:
    """Hosted sites and their capacities (``.cap``), by the greedy of the module
    docstring."""
    inst = built.instance
    sites = built.sites
    keep = inst.settings["sites"]["brownfield"] == "keep"
    g = _Greedy(built)
    forced = []
    for s in sites.index:  # kept brownfield and must-host sites first
        if g.brown[s] and keep:
            forced.append((s, g.existing[s]))
        elif sites.at[s, "must_host"]:
            forced.append((s, g.min_scale[s]))
    for s, q in forced:
        g.host(s, q)
        g.forced.add(s)
    order = downstream_first(inst.industry_ids, inst.chain, g.slack())
    # forced hosts whose upstream can come from few regions are supplied first, before
    # other industries take those regions' talent and money; the others in their turn
    scarce = {s for s, _ in forced if g.scarce(s)}
    for s, q in forced:
        if s in scarce:
            g.supply(s, q)
    markets = g.res.located_demand
    for i in order:
        for s, q in forced:
            if s[0] == i and s not in scarce:
                g.supply(s, q)
        reach = g.market_reach.get(i)
        located = 0.0
        if markets is not None and reach:
            rows = markets[(markets["industry"] == i) & (markets["demand"] > 0)]
            for m, d in zip(rows["region"], rows["demand"], strict=True):
                g.deliver(i, reach.get(m), float(d))
                located += float(d)
        # what is left of the final demand, beyond the output already promised
        unpromised = sum(v for (ii, _), v in g.free.items() if ii == i)
        g.fill(i, float(inst.final_demand[i]) - located - unpromised)
    for r, n in g.res.floors.items():  # equity floors
        g.floor(r, int(n))
    return g


def _cheapest(i: str, regions: list[str], need: float, cap: dict[Site, float],
              res: _Resources, fixed: dict[Site, float], capex: dict[Site, float],
              cap_max: dict[Site, float], min_scale: dict[Site, float]) -> Site | None:
    """The candidate site of ``i`` with the least cost per unit of the demand it would serve
    now, among those that can still add capacity (deterministic: ties by region order)."""
    best, best_cost = None, np.inf
    for r in regions:
        s = (i, r)
        new = s not in cap
        room = min(cap_max[s] - cap.get(s, 0.0),
                   res.room(s, new, fixed[s], capex[s]))
        if room <= ROOM_TOLERANCE or (new and room < min_scale[s]):
            continue
        q = min(room, max(need, min_scale[s] if new else 0.0, 1e-9))
        cost = ((fixed[s] if new else 0.0) + capex[s] * q) / q
        if cost < best_cost:
            best, best_cost = s, cost
    return best


#: rounds of the repair loop
REPAIR_ROUNDS = 5


def reach_rows(built: BuiltModel, form: StandardForm, limits: set[tuple[str, str]]
               ) -> list[tuple[int, str, str, float]]:
    """Rows of ``form`` that carry output to a destination (chain inflow, market demand:
    ``limits``, the (family, constraint) whose shortfall the repair loop can fix, indexed
    by industry first and destination region last), as (row, industry, destination region,
    sign of a slack that relaxes the row)."""
    out = []
    for k, con in enumerate(form.rows):
        comp = con.parent_component()
        block = comp.parent_block()
        if block is built.model or block.parent_component() is not built.model.family:
            continue
        if (block.index(), comp.local_name) in limits:
            i, t = con.index()[0], con.index()[-1]
            out.append((k, i, t, 1.0 if form.row_lower[k] > -np.inf else -1.0))
    return out


def with_slacks(form: StandardForm, rows: list[tuple[int, str, str, float]],
                penalty: float = 1e6) -> StandardForm:
    """``form`` with one penalized slack column per row in ``rows`` (appended at the end)."""
    n = len(rows)
    if not n:
        return form
    nnz = len(form.value)
    return replace(
        form, columns=[*form.columns, *([None] * n)],
        cost=np.concatenate([form.cost, np.full(n, penalty)]),
        col_lower=np.concatenate([form.col_lower, np.zeros(n)]),
        col_upper=np.concatenate([form.col_upper, np.full(n, np.inf)]),
        start=np.concatenate([form.start, nnz + np.arange(1, n + 1)]).astype(np.int32),
        index=np.concatenate([form.index, [r[0] for r in rows]]).astype(np.int32),
        value=np.concatenate([form.value, [r[3] for r in rows]]),
        integrality=np.concatenate([form.integrality, np.zeros(n, dtype=np.int32)]),
    )


def start_from_heuristic(built: BuiltModel, form: StandardForm, options: SolverOptions, *,
                         seconds: float = math.inf) -> tuple[np.ndarray | None, dict[str, Any]]:
    """A MIP start from :func:`greedy_hosting`, completed by :func:`complete`.

    The completion LP runs with a penalized slack on each row that carries output to a
    destination (chain inflow, market demand); a shortfall there means no host within reach
    has room, so the cheapest new host of that industry within reach is added and the LP
    runs again (at most :data:`REPAIR_ROUNDS` times); when no host with room can reach the
    destination, its downstream capacity moves to other regions. A plan with no shortfall
    left is feasible for the model as it is. If shortfalls remain, the hosting of the
    industries still short is left free in a short MIP (10 s) with every other host fixed."""
    t0 = time.perf_counter()
    g = greedy_hosting(built)
    t1 = time.perf_counter()
    delivered = {(f, c) for f, _, c in [*g.res.to_hosts, *g.res.to_markets]}
    to_hosts = {c for _, _, c in g.res.to_hosts}
    rows = reach_rows(built, form, delivered)
    elastic = with_slacks(form, rows)
    chain = built.instance.chain
    chain_down = chain.groupby("upstream")["downstream"].apply(list).to_dict()
    n = len(form.columns)
    x = objective = None
    status, rounds = "", 0
    short: list[Any] = []
    for rounds in range(1, REPAIR_ROUNDS + 1):  # noqa: B007 (reported below)
        left = seconds - (time.perf_counter() - t0)
        if left <= 0:
            status = "the time limit was used up"
            break
        y, value, status = complete(built, elastic, dict.fromkeys(g.cap, 1), options,
                                    seconds=min(COMPLETE_SECONDS, left))
        if y is None:
            break
        short = [(r, y[n + j]) for j, r in enumerate(rows) if y[n + j] > 1e-7]
        if not short:
            x, objective = y[:n], value
            break
        added = False
        for (k, i, t, _), amount in short:
            reach = (g.chain_reach if form.rows[k].parent_component().local_name
                     in to_hosts else g.market_reach)
            before = g.total(i)
            g.deliver(i, reach.get(i, {}).get(t), float(amount))
            if g.total(i) > before:
                added = True
                continue
            # no host of i can reach t with room: move t's downstream capacity elsewhere
            for d in chain_down.get(i, ()):
                s = (d, t)
                if s in g.cap and s not in g.forced:
                    g.fill(d, g.unhost(s))
                    added = True
        if not added:
            break
    left = seconds - (time.perf_counter() - t0)
    if x is None and short and left > 0:
        # last resort: the industries still short of reach choose their hosts in a small MIP
        free = {i for (_, i, _, _), _ in short}
        x, objective, status = complete(built, form, dict.fromkeys(g.cap, 1), options,
                                        free=free, seconds=min(10.0, left))
        status = (f"{len(short)} destination(s) not reached from hosts with room after "
                  f"{rounds} rounds; the hosting of {', '.join(sorted(free))} left to a short "
                  f"MIP: {status}")
    report: dict[str, Any] = {"used": x is not None, "hosts": len(g.cap),
                              "objective": objective, "seconds": time.perf_counter() - t0,
                              "greedy_seconds": t1 - t0, "completion_rounds": rounds}
    if x is not None and short:
        report["note"] = status
    if x is None:
        report["message"] = (f"the greedy hosting could not be completed to a feasible plan "
                             f"({status}); HiGHS starts without it")
    return x, report


def first_plan(built: BuiltModel, form: StandardForm, options: SolverOptions, *,
               seconds: float = math.inf) -> tuple[np.ndarray | None, dict[str, Any]]:
    """The heuristic's first plan: the relaxation-guided restricted MIP
    (:mod:`allocator.engine.relaxation`), and when it gives none, the greedy
    (:func:`start_from_heuristic`) in the time left. The report is the one that gave the
    plan (the other's under ``relaxation`` / ``greedy``); when neither did, ``message`` says
    why in one line.

    The relaxation goes first because it measured better on every instance tried: on the
    bundled china-sei a plan 1.3% above the optimum in 0.8 s against the greedy's 17% in
    0.4 s; on the generated 100 x 20 and 180 x 30 instances the greedy cannot complete its
    hosting while the restricted MIP finds a plan."""
    t0 = time.perf_counter()
    x, relaxed = start_from_relaxation(form, options, seconds=min(seconds, RELAXATION_SECONDS))
    if x is not None:
        return x, relaxed
    left = seconds - (time.perf_counter() - t0)
    if left <= 0:
        return None, {**relaxed, "message": f"{relaxed['message']}; no time was left for the "
                      "greedy; HiGHS starts without a first plan"}
    x, greedy = start_from_heuristic(built, form, options, seconds=left)
    greedy["seconds"] = time.perf_counter() - t0
    greedy["relaxation"] = relaxed
    if x is None:
        greedy["message"] = (f"{relaxed['message']}; "
                             + greedy["message"].replace("; HiGHS starts without it", "")
                             + "; HiGHS starts without a first plan")
    return x, greedy


def prepare(built: BuiltModel, form: StandardForm, options: SolverOptions, *,
            heuristic: bool = True, plan: str | Path | None = None,
            seconds: float = math.inf) -> tuple[np.ndarray | None, dict[str, Any]]:
    """The MIP start of a solve, and what happened (for ``summary.json``'s ``start``).
    ``seconds``: the time the start may take (the command's budget gives it a share of what
    is left, :mod:`allocator.engine.deadline`)."""
    until = time.perf_counter() + seconds
    report: dict[str, Any] = {"heuristic": {"used": False, "message": "off (--no-heuristic)"}
                              if not heuristic else {}, "plan": None, "given": None}
    candidates: list[tuple[float, str, np.ndarray]] = []
    if plan is not None:
        x, report["plan"] = start_from_plan(built, form, plan, options,
                                            seconds=max(until - time.perf_counter(), 0.0))
        if x is not None:
            candidates.append((report["plan"]["objective"], "plan", x))
    if heuristic:
        x, report["heuristic"] = first_plan(built, form, options,
                                            seconds=max(until - time.perf_counter(), 0.0))
        if x is not None:
            candidates.append((report["heuristic"]["objective"], "heuristic", x))
    if not candidates:
        return None, report
    objective, source, x = min(candidates, key=lambda c: (c[0], c[1] != "plan"))
    report["given"] = source
    report["objective"] = objective
    return x, report
