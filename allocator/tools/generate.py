r"""Synthetic national instances with realistic structure, for benchmarks and tests.

``allocator generate --regions 337 --industries 40 --seed 7 -o DIR`` writes an ordinary
instance folder (the same files a planner would write). Same arguments, same bytes: every
random draw comes from one ``numpy.random.Generator`` seeded with ``--seed``, in a fixed order,
and every number is written in a fixed format (for a given numpy version: numpy keeps the
streams of its generators stable, but does not promise it across major versions).

Structure, and why:

* **Geography.** Regions are cities in provinces (``group``): about $1.7\sqrt{R}$ provinces
  (31 at 337 cities, as in China), of uneven size, their centres spread over a China-sized
  box and denser in the east; cities scatter around their province's centre.
* **Hubs and a long tail.** Every city has an economic weight (log-normal, so a few hubs
  dominate). Talent, funding and market demand follow the weight; a specialist talent class
  is present only in a city whose weight passes a class-specific threshold (chip engineers
  live in a few hubs, manufacturing workers everywhere). Key inputs (ores, green power) sit in
  a few places, unrelated to the weight and leaning west.
* **Value chains 3-4 deep.** Industries form chains (materials -> components -> ... ->
  final product), each 3 or 4 long, plus a few light cross-chain links (chips into vehicles)
  whose goods travel far (``chain_nearest``).
* **Demand needing 3-15 host regions.** Each industry's site maximum is set so that its
  national requirement $G_i$ needs between 3 and 15 sites at full size; about half of the
  final products locate their demand in ``markets.csv``.
* **Some existing capacity, some must-host and forbidden pairs, a focus limit and a few
  equity floors**, as in a real plan.

**Feasible by construction.** The generator first plants a plan: for every industry, in
chain order, a set of host regions that the upstream goods can reach on their arc network,
with capacities that meet the requirement and flows that balance. Supplies, budgets,
import caps, site maxima and policy rules are then drawn so that the planted plan satisfies
every family with a margin (a resource is never below 1.05 times what the planted plan uses).
The planted plan is a certificate of feasibility, not the optimum; it is not written.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
import pandas as pd

from allocator.core.outfolder import check_folder, write_folder
from allocator.input.network import Network

#: the lower and upper end of the number of host regions an industry's requirement needs
HOSTS_NEEDED = (3, 15)


def _sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits (a number a planner would write)."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    scale = 10 ** (digits - 1 - math.floor(math.log10(abs(x))))
    return round(x * scale) / scale


def _up(x: float, digits: int = 4) -> float:
    """``x`` rounded up to ``digits`` significant digits: a limit never below what it covers."""
    if x <= 0:
        return 0.0
    scale = 10 ** (digits - 1 - math.floor(math.log10(x)))
    return math.ceil(x * scale - 1e-9) / scale


def _down(x: float, digits: int = 4) -> float:
    """``x`` rounded down to ``digits`` significant digits."""
    if x <= 0:
        return 0.0
    scale = 10 ** (digits - 1 - math.floor(math.log10(x)))
    return math.floor(x * scale + 1e-9) / scale


def _fmt(value: object) -> str:
    """Fixed text for a cell: floats in shortest positional form, blanks for None."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return np.format_float_positional(float(value), trim="-")
    return str(value)


@dataclass
class _Chain:
    members: list[int]  # industry indices, upstream first


class _Generator:
    def __init__(self, regions: int, industries: int, seed: int) -> None:
        if regions < 3:
            raise click.BadParameter("at least 3 regions", param_hint="--regions")
        if industries < 3:
            raise click.BadParameter("at least 3 industries", param_hint="--industries")
        self.nreg, self.nind, self.seed = regions, industries, seed
        self.rng = np.random.default_rng(seed)

    # ------------------------------------------------------------------ geography
    def geography(self) -> None:
        rng, nreg = self.rng, self.nreg
        nprov = int(min(nreg, max(2, round(1.7 * math.sqrt(nreg)))))
        self.nprov = nprov
        centre_lat = 21.0 + 25.0 * rng.beta(2.0, 2.0, nprov)
        centre_lon = 80.0 + 45.0 * rng.beta(3.0, 1.5, nprov)  # denser in the east
        share = rng.dirichlet(np.full(nprov, 2.0))
        size = 1 + rng.multinomial(nreg - nprov, share)
        province = np.repeat(np.arange(nprov), size)
        lat = np.clip(centre_lat[province] + rng.normal(0, 1.1, nreg), 18.0, 50.0)
        lon = np.clip(centre_lon[province] + rng.normal(0, 1.3, nreg), 75.0, 130.0)
        # economic weight: a province factor times a log-normal city factor; max = 1
        prov_w = rng.lognormal(0.0, 0.5, nprov) * (1 + (centre_lon - 80.0) / 45.0)
        weight = prov_w[province] * rng.lognormal(0.0, 1.0, nreg)
        self.weight = weight / weight.max()
        self.province = province
        self.ids = [f"c{k + 1:03d}" for k in range(nreg)]
        self.regions = pd.DataFrame({
            "id": self.ids,
            "name": [f"City {k + 1:03d}" for k in range(nreg)],
            "group": [f"prov{p + 1:02d}" for p in province],
            "latitude": [_sig(v, 5) for v in lat],
            "longitude": [_sig(v, 5) for v in lon],
            "funding_budget": 0.0,
        })
        self.network = Network(self.regions, None)

    # ------------------------------------------------------------------ industries
    def industries(self) -> None:
        rng, nind = self.rng, self.nind
        lengths: list[int] = []
        left = nind
        while left > 0:
            if left in (3, 4) or left < 3:
                lengths.append(left)
                break
            options = [k for k in (3, 4) if left - k not in (1, 2, 5)] or [3]  # 5 = 3 + 2
            k = int(rng.choice(options))
            lengths.append(k)
            left -= k
        self.chains: list[_Chain] = []
        start = 0
        for length in lengths:
            self.chains.append(_Chain(list(range(start, start + length))))
            start += length
        tier = np.zeros(nind, dtype=int)
        chain_of = np.zeros(nind, dtype=int)
        for c, ch in enumerate(self.chains):
            for t, i in enumerate(ch.members):
                tier[i], chain_of[i] = t, c
        self.tier, self.chain_of = tier, chain_of
        final = np.array([i == self.chains[chain_of[i]].members[-1] for i in range(nind)])
        self.final = final
        links: list[tuple[int, int, float]] = []
        for ch in self.chains:
            for u, d in zip(ch.members[:-1], ch.members[1:], strict=False):
                links.append((u, d, _sig(rng.uniform(0.3, 1.5), 2)))
        # light cross-chain links: a component of one chain into a final product of another
        light: set[int] = set()
        n_cross = max(1, nind // 10) if len(self.chains) > 1 else 0
        for _ in range(n_cross):
            a, b = rng.choice(len(self.chains), 2, replace=False)
            src = self.chains[a].members
            if len(src) < 2:
                continue
            u = int(src[int(rng.integers(0, len(src) - 1))])
            d = int(self.chains[b].members[-1])
            if tier[u] >= tier[d] or any(x[0] == u and x[1] == d for x in links):
                continue
            links.append((u, d, _sig(rng.uniform(0.02, 0.1), 2)))
            light.add(u)
        self.links = links
        self.upstream_of: dict[int, list[tuple[int, float]]] = {i: [] for i in range(nind)}
        for u, d, a in links:
            self.upstream_of[d].append((u, a))
        # reach of each good on the chain network: heavy goods go to their k nearest regions,
        # light ones far
        reach = np.where(rng.random(nind) < 0.25, rng.integers(10, 26, nind),
                         rng.integers(3, 7, nind))
        for u in light:
            reach[u] = max(int(reach[u]), int(rng.integers(15, 31)))
        self.reach = np.minimum(reach, self.nreg - 1)
        # final demand: final products carry most of it; some intermediates export a little
        demand = np.where(final, rng.lognormal(math.log(300.0), 0.6, nind),
                          np.where(rng.random(nind) < 0.3, rng.lognormal(math.log(40.0), 0.5, nind),
                                   0.0))
        self.demand = np.array([_sig(v, 3) for v in demand])
        self.requirement = self._requirement()
        # hosts planted per industry (the needed count is derived from it, in 3..15)
        self.n_plant = np.where(final, rng.integers(6, 19, nind), rng.integers(5, 12, nind))
        self.capex = np.array([_sig(v, 3) for v in rng.lognormal(math.log(4.0), 0.7, nind)])
        self.coord = np.array([_sig(v, 2) for v in rng.uniform(0.0003, 0.003, nind)])
        self.transport = np.array([_sig(v, 2) for v in rng.uniform(0.0002, 0.001, nind)])
        self.slow = rng.random(nind) < 0.1

    def _requirement(self) -> np.ndarray:
        req = self.demand.astype(float).copy()
        order = sorted(range(self.nind), key=lambda i: -self.tier[i])  # downstream first
        down: dict[int, list[tuple[int, float]]] = {i: [] for i in range(self.nind)}
        for u, d, a in self.links:
            down[u].append((d, a))
        for i in order:
            req[i] = self.demand[i] + sum(a * req[d] for d, a in down[i])
        return req

    # ------------------------------------------------------------------ planted plan
    def reach_sets(self) -> None:
        """For every good, for every region: the regions it can be moved to (arcs)."""
        self.arcs_from: dict[int, dict[str, set[str]]] = {}
        cache: dict[int, dict[str, set[str]]] = {}
        for u in range(self.nind):
            k = int(self.reach[u])
            if k not in cache:
                arcs = self.network.generated(k, same_group=True)
                table: dict[str, set[str]] = {r: set() for r in self.ids}
                for o, t in zip(arcs["from"], arcs["to"], strict=True):
                    table[o].add(t)
                cache[k] = table
            self.arcs_from[u] = cache[k]

    def plant(self) -> None:
        rng, nind = self.rng, self.nind
        ids = self.ids
        # forbidden pairs: about a fifth of the industries (heavy, polluting materials) are
        # kept out of some of the largest hubs; decided before planting
        top = np.argsort(-self.weight, kind="stable")[: max(1, self.nreg // 12)]
        self.forbidden: set[tuple[int, int]] = set()
        for i in range(nind):
            if self.tier[i] == 0 and rng.random() < 0.5:
                for r in top:
                    if rng.random() < 0.6:
                        self.forbidden.add((i, int(r)))
        order = sorted(range(nind), key=lambda i: (self.tier[i], i))  # upstream first
        hosts: dict[int, list[int]] = {}
        allowed_of: dict[int, np.ndarray] = {}
        for i in order:
            allowed = np.array([(i, r) not in self.forbidden for r in range(self.nreg)])
            for u, _ in self.upstream_of[i]:
                reachable = set()
                for o in hosts[u]:
                    reachable |= self.arcs_from[u][ids[o]]
                allowed &= np.array([r in reachable for r in ids])
            cand = np.flatnonzero(allowed)
            allowed_of[i] = cand
            want = int(min(self.n_plant[i], len(cand)))
            if want == 0:
                raise RuntimeError(
                    "generator: no region can host an industry; report this "
                    f"(regions={self.nreg}, industries={self.nind}, seed={self.seed})")
            p = self.weight[cand] ** 0.8
            chosen = rng.choice(cand, want, replace=False, p=p / p.sum())
            hosts[i] = sorted(int(c) for c in chosen)
        # capacities, from the bottom of the chain up: final demand split over the hosts,
        # downstream needs spread over the upstream hosts within reach; where one host would
        # carry more than a third of the industry (fewer than 3 sites would then do), another
        # host is planted within reach of its clients
        q: dict[tuple[int, int], float] = {}
        self.min_scale = np.zeros(nind)
        for i in sorted(range(nind), key=lambda i: (-self.tier[i], i)):
            needs = sorted(((a * q[d, t], t) for u, d, a in self.links if u == i
                            for t in hosts[d]), key=lambda x: (-x[0], x[1]))
            share = rng.dirichlet(np.full(len(hosts[i]), 8.0))
            final = dict(zip(hosts[i], self.demand[i] * share, strict=True))
            while True:
                load, clients = self._spread(i, hosts[i], final, needs)
                top = max(load, key=lambda h: (load[h], h))
                if load[top] <= sum(load.values()) / HOSTS_NEEDED[0] * 0.95:
                    break
                near = [int(r) for r in allowed_of[i] if int(r) not in hosts[i]
                        and any(ids[t] in self.arcs_from[i][ids[int(r)]]
                                for t in clients[top])]
                if not near:
                    break
                p = self.weight[near] ** 0.8
                hosts[i] = sorted([*hosts[i], int(rng.choice(near, p=p / p.sum()))])
                final = {h: final.get(h, 0.0) for h in hosts[i]}
            # minimum efficient scale: a share of the typical site; a planted site below it
            # builds the minimum anyway (spare capacity, which upstream must then supply)
            typical = sum(load.values()) / len(hosts[i])
            self.min_scale[i] = _down(typical * rng.uniform(0.2, 0.4), 2)
            for h in hosts[i]:
                q[i, h] = max(load[h], float(self.min_scale[i]))
        self.hosts, self.q = hosts, q

    def _spread(self, i: int, hs: list[int], final: dict[int, float],
                needs: list[tuple[float, int]]) -> tuple[dict[int, float], dict[int, set[int]]]:
        """Loads of the hosts ``hs`` of industry ``i``: their share of final demand plus the
        downstream needs, each spread over the hosts within reach, the least loaded first
        (water filling); and which downstream regions each host serves."""
        ids = self.ids
        load = {h: final.get(h, 0.0) for h in hs}
        clients: dict[int, set[int]] = {h: set() for h in hs}
        for amount, t in needs:
            near = sorted((o for o in hs if ids[t] in self.arcs_from[i][ids[o]]),
                          key=lambda o: (load[o], o))
            left = amount
            for k in range(len(near)):
                level = load[near[k + 1]] if k + 1 < len(near) else math.inf
                give = min(left, (level - load[near[k]]) * (k + 1))
                for o in near[: k + 1]:
                    load[o] += give / (k + 1)
                    clients[o].add(t)
                left -= give
                if left <= 0:
                    break
        return load, clients

    # ------------------------------------------------------------------ data from the plan
    def industry_table(self) -> None:
        rng, nind = self.rng, self.nind
        rows = []
        self.cap_max = np.zeros(nind)
        self.fixed = np.zeros(nind)
        for i in range(nind):
            loads = [self.q[i, h] for h in self.hosts[i]]
            req = float(self.requirement[i])
            top = max(loads)
            cap = _up(max(top * rng.uniform(1.1, 1.3), req / HOSTS_NEEDED[1] * 1.02), 3)
            # never so large that fewer than 3 sites would do (when the plan allows it)
            if req / cap < HOSTS_NEEDED[0] and top <= req / HOSTS_NEEDED[0]:
                cap = _up(req / HOSTS_NEEDED[0], 3)
            scale = float(self.min_scale[i])
            self.cap_max[i] = cap
            self.fixed[i] = _sig(self.capex[i] * cap * rng.uniform(0.2, 0.6), 3)
            needed = math.ceil(req / cap - 1e-9)
            chain = self.chain_of[i]
            rows.append({
                "id": f"ind{i + 1:02d}",
                "name": f"Chain {chain + 1} tier {self.tier[i] + 1}"
                        + (" (final)" if self.final[i] else ""),
                "demand": None if i in self.market_industries else float(self.demand[i]),
                "min_scale": scale,
                "unit_capex": float(self.capex[i]),
                "fixed_cost": float(self.fixed[i]),
                "target_hosts": int(needed + rng.integers(0, 3)),
                "capacity_max": cap,
                "coordination_cost": float(self.coord[i]),
                "transport_cost": float(self.transport[i]),
                "slow_return": bool(self.slow[i]),
                "chain_nearest": int(self.reach[i]),
            })
        self.industries_df = pd.DataFrame(rows)

    def markets(self) -> None:
        rng = self.rng
        finals = [i for i in range(self.nind) if self.final[i]]
        self.market_industries = {i for i in finals if rng.random() < 0.5}
        n_markets = int(min(self.nreg, max(5, min(40, self.nreg // 8))))
        rows = []
        for i in sorted(self.market_industries):
            p = self.weight ** 1.2
            where = np.sort(rng.choice(self.nreg, n_markets, replace=False, p=p / p.sum()))
            w = self.weight[where] * rng.lognormal(0, 0.2, len(where))
            amounts = [_sig(v, 3) for v in self.demand[i] * w / w.sum()]
            for r, amount in zip(where, amounts, strict=True):
                if amount > 0:
                    rows.append({"industry": f"ind{i + 1:02d}", "region": self.ids[r],
                                 "demand": amount})
            # the located demand replaces the drawn total (they differ by rounding only)
            self.demand[i] = sum(a for a in amounts if a > 0)
        self.markets_df = pd.DataFrame(rows, columns=["industry", "region", "demand"])

    def talent(self) -> None:
        rng, nind, nreg = self.rng, self.nind, self.nreg
        ncls = int(min(12, max(3, round(nind / 4) + 2)))
        classes = ["manufacturing"] + [f"talent{k:02d}" for k in range(1, ncls)]
        logw = np.log(self.weight)
        # a specialist class lives in a city when its weight passes a class threshold
        present = np.ones((nreg, ncls), dtype=bool)
        for t in range(1, ncls):
            threshold = np.quantile(logw, rng.uniform(0.35, 0.9))
            prob = 1 / (1 + np.exp(-(logw - threshold) / 0.4))
            present[:, t] = rng.random(nreg) < prob
        need_rows = []
        need = np.zeros((nind, ncls))
        for i in range(nind):
            spec = 1 + (self.chain_of[i] * 2 + int(self.tier[i] > 1)) % (ncls - 1)
            need[i, spec] = _sig(rng.uniform(0.05, 0.6), 2)
            if rng.random() < 0.7:
                need[i, 0] = _sig(rng.uniform(0.1, 0.8), 2)
            if rng.random() < 0.2:
                other = int(rng.integers(1, ncls))
                if other != spec:
                    need[i, other] = _sig(rng.uniform(0.02, 0.2), 2)
            for t in range(ncls):
                if need[i, t] > 0:
                    need_rows.append({"industry": f"ind{i + 1:02d}", "talent_class": classes[t],
                                      "need": float(need[i, t])})
        planted = np.zeros((nreg, ncls))
        for (i, r), cap in self.q.items():
            planted[r] += need[i] * cap
        total = planted.sum(axis=0)
        supply_rows = []
        for t in range(ncls):
            base = self.weight * present[:, t] * rng.lognormal(0, 0.3, nreg)
            organic = base / base.sum() * total[t] * rng.uniform(1.5, 2.5)
            for r in range(nreg):
                amount = max(organic[r], planted[r, t] * rng.uniform(1.05, 1.3))
                if amount > 0 and (present[r, t] or planted[r, t] > 0):
                    supply_rows.append({"region": self.ids[r], "talent_class": classes[t],
                                        "supply": _up(amount, 3)})
        self.talent_need_df = pd.DataFrame(need_rows)
        self.talent_supply_df = pd.DataFrame(supply_rows)

    def inputs(self) -> None:
        rng, nind, nreg = self.rng, self.nind, self.nreg
        ninp = int(min(8, max(2, round(nind / 6) + 1)))
        tradable = rng.random(ninp) < 0.7
        tradable[0] = True
        if ninp > 1:
            tradable[1] = False
        need = np.zeros((nind, ninp))
        for i in range(nind):
            p = 0.6 if self.tier[i] == 0 else 0.15
            if rng.random() < p:
                k = int(rng.integers(0, ninp))
                need[i, k] = _sig(rng.uniform(0.2, 2.0), 2)
        for k in range(ninp):  # every input is needed by someone
            if not need[:, k].any():
                need[int(rng.integers(0, nind)), k] = _sig(rng.uniform(0.2, 2.0), 2)
        planted = np.zeros((nreg, ninp))
        for (i, r), cap in self.q.items():
            planted[r] += need[i] * cap
        lon = self.regions["longitude"].to_numpy(float)
        west = np.exp(-(lon - 75.0) / 20.0)
        rows_inputs, rows_supply = [], []
        for k in range(ninp):
            total = planted[:, k].sum()
            name = f"input{k + 1:02d}"
            if tradable[k]:
                n_src = int(min(nreg, rng.integers(3, 11)))
                src = np.sort(rng.choice(nreg, n_src, replace=False, p=west / west.sum()))
                domestic = total * rng.uniform(0.3, 0.9)
                split = rng.dirichlet(np.full(n_src, 1.0)) * domestic
                for r, s in zip(src, split, strict=True):
                    if _sig(s, 3) > 0:
                        rows_supply.append({"region": self.ids[r], "input": name,
                                            "supply": _sig(s, 3)})
                dom = sum(_sig(s, 3) for s in split)
                imports = max(0.0, total - dom)
                share = _down(0.5 * dom / total, 1) if rng.random() < 0.5 and total else 0.0
                rows_inputs.append({"id": name, "name": f"Key input {k + 1}",
                                    "import_cap": _up(imports * 1.2 + 0.05 * total, 3),
                                    "domestic_share_min": share, "tradable": True})
            else:
                has = rng.random(nreg) < np.clip(west / west.max() * 1.2, 0.1, 0.9)
                organic = has * rng.lognormal(0, 0.5, nreg)
                organic = organic / max(organic.sum(), 1e-9) * total * rng.uniform(1.2, 2.0)
                for r in range(nreg):
                    amount = max(organic[r], planted[r, k] * rng.uniform(1.05, 1.3))
                    if amount > 0:
                        rows_supply.append({"region": self.ids[r], "input": name,
                                            "supply": _up(amount, 3)})
                rows_inputs.append({"id": name, "name": f"Local input {k + 1}",
                                    "import_cap": _sig(0.05 * total, 2) if total else 0.0,
                                    "domestic_share_min": 0.0, "tradable": False})
        self.inputs_df = pd.DataFrame(rows_inputs)
        self.input_supply_df = pd.DataFrame(rows_supply, columns=["region", "input", "supply"])
        self.input_need_df = pd.DataFrame(
            [{"industry": f"ind{i + 1:02d}", "input": f"input{k + 1:02d}",
              "need": float(need[i, k])}
             for i in range(nind) for k in range(ninp) if need[i, k] > 0])

    def sites_and_funding(self) -> None:
        rng, nind, nreg = self.rng, self.nind, self.nreg
        rows = []
        brown: dict[tuple[int, int], float] = {}
        planted_pairs = sorted(self.q)
        n_brown = min(len(planted_pairs), round(1.5 * nind))
        for idx in rng.choice(len(planted_pairs), n_brown, replace=False):
            i, r = planted_pairs[int(idx)]
            brown[i, r] = _down(self.q[i, r] * rng.uniform(0.3, 0.9), 3)
        greenfield = [p for p in planted_pairs if p not in brown]
        n_must = min(len(greenfield), max(1, nind // 8))
        must = {greenfield[int(k)] for k in rng.choice(len(greenfield), n_must, replace=False)}
        for (i, r) in sorted(set(brown) | must | self.forbidden):
            rows.append({"industry": f"ind{i + 1:02d}", "region": self.ids[r],
                         "allowed": False if (i, r) in self.forbidden else None,
                         "existing_capacity": brown.get((i, r)),
                         "must_host": True if (i, r) in must else None})
        self.sites_df = pd.DataFrame(
            rows, columns=["industry", "region", "allowed", "existing_capacity", "must_host"])
        # funding: organic budgets follow the weight; every region covers its planted plan
        invest = np.zeros(nreg)
        for (i, r), cap in self.q.items():
            if (i, r) in brown:
                invest[r] += self.capex[i] * max(0.0, cap - brown[i, r])
            else:
                invest[r] += self.fixed[i] + self.capex[i] * cap
        organic = self.weight * rng.lognormal(0, 0.3, nreg)
        organic = organic / organic.sum() * invest.sum() * rng.uniform(1.3, 1.8)
        budget = [_up(max(organic[r], invest[r] * rng.uniform(1.05, 1.3), 1.0), 3)
                  for r in range(nreg)]
        self.regions["funding_budget"] = budget
        self.national_fund = _sig(0.05 * invest.sum(), 2)
        # focus limit above what the planted plan uses; a few equity floors where it hosts
        count = np.zeros(nreg, dtype=int)
        for (_, r) in self.q:
            count[r] += 1
        self.max_industries = int(count.max() + 2)
        lo = np.argsort(self.weight, kind="stable")
        floors = [int(r) for r in lo if count[r] >= 1][: max(1, nreg // 30)]
        self.regions["min_industries"] = [1 if r in floors else None for r in range(nreg)]

    # ------------------------------------------------------------------ writing
    def run(self) -> dict[str, pd.DataFrame]:
        self.geography()
        self.industries()
        self.markets()
        self.requirement = self._requirement()  # with the located demand
        self.reach_sets()
        self.plant()
        self.industry_table()
        self.talent()
        self.inputs()
        self.sites_and_funding()
        chain = pd.DataFrame([{"upstream": f"ind{u + 1:02d}", "downstream": f"ind{d + 1:02d}",
                               "ratio": a} for u, d, a in self.links])
        return {
            "regions": self.regions, "industries": self.industries_df, "chain": chain,
            "markets": self.markets_df, "talent_supply": self.talent_supply_df,
            "talent_need": self.talent_need_df, "inputs": self.inputs_df,
            "input_need": self.input_need_df, "input_supply": self.input_supply_df,
            "sites": self.sites_df,
        }

    def toml(self) -> str:
        r, n, seed = self.nreg, self.nind, self.seed
        return f'''name = "synthetic-{r}x{n}-s{seed}"
description = """Synthetic instance: {r} cities in {self.nprov} provinces, {n} industries \
in value chains. Written by `allocator generate --regions {r} --industries {n} \
--seed {seed}`; made-up numbers with a realistic structure (see allocator/generate.py)."""

[units]
money = "CNY 100m"
capacity = "unit"

[objective]
investment = 1.0
coordination = 1.0
transport = 1.0
site_excess = 50.0      # per host region beyond an industry's target
overcapacity = 1.0
neighbor_pairs = 20.0   # per pair of neighbouring cities hosting the same industry

[chain_coordination]
nearest = 4
same_group = true
border_surcharge = 0.25

[funding]
national_fund = {_fmt(self.national_fund)}
slow_return_reserved_share = 0.2

[duplication_neighbors]
# cities within 150 km compete for the same workers and customers; a whole province is not
# "neighbouring" at city scale, so same_group is off
distance_km = 150.0
same_group = false

[policy]
max_industries = {self.max_industries}
'''


def generate(regions: int, industries: int, seed: int, folder: str | Path, *,
             force: bool = False) -> Path:
    """Write a synthetic instance folder; returns its path. Same arguments, same bytes.
    Written only where allocator may write (:mod:`allocator.core.outfolder`): a new or empty
    folder, one allocator wrote (replaced atomically), or with ``force`` allocator's files
    into another."""
    check_folder(folder, force=force)  # before the work

    def write(out: Path) -> None:
        gen = _Generator(regions, industries, seed)
        tables = gen.run()
        (out / "instance.toml").write_text(gen.toml(), encoding="utf-8", newline="\n")
        for name, df in tables.items():
            with open(out / f"{name}.csv", "w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(list(df.columns))
                for row in df.itertuples(index=False):
                    writer.writerow([_fmt(None if _blank(v) else v) for v in row])

    return write_folder(folder, write, force=force)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
