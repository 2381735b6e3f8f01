"""A thin direct-highspy builder of allocator's default model, sharing no code with it.

It reads an instance folder with pandas and writes the same mathematics as allocator's
default formulation (``docs/formulation.md``: the nine families, the derived site limits and
pruning of ``allocator.engine.prune``, the valid inequalities) straight into numpy arrays: one
coordinate list per row family, then one ``scipy.sparse`` conversion and ``Highs.passModel``.
Nothing from ``allocator`` is imported, so it is both a speed reference (what building the
model costs without a modelling layer) and an independent restatement of the model: the
benchmark checks that both reach the same optimum.

Scope: the features the generated instances use (``allocator generate``), plus the usual
sites.csv overrides. It refuses what it does not implement (arcs.csv, listed candidates,
brownfield = "count", extra families, a markets nearest_sites option), rather than guess.
"""

from __future__ import annotations

import math
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
from scipy import sparse

EARTH_KM = 6371.0088
INF = highspy.kHighsInf


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / f"{name}.csv"
    if not path.exists():
        return None
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return df


def _num(s: pd.Series, default: float = np.nan) -> np.ndarray:
    return pd.to_numeric(s.replace("", np.nan)).fillna(default).to_numpy(float)


def _flag(s: pd.Series, default: bool) -> np.ndarray:
    low = s.str.strip().str.lower()
    return np.where(low == "", default, low.isin(["true", "1", "yes"]))


class UnsupportedError(Exception):
    """The instance uses a feature the reference builder does not implement."""


@dataclass
class Columns:
    """Variables: names of the blocks, bounds, costs, integrality."""

    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    cost: list[np.ndarray] = field(default_factory=list)
    integer: list[np.ndarray] = field(default_factory=list)
    n: int = 0

    def add(self, count: int, lower: float | np.ndarray = 0.0, upper: float | np.ndarray = INF,
            integer: bool = False) -> np.ndarray:
        idx = np.arange(self.n, self.n + count)
        self.lower.append(np.broadcast_to(np.asarray(lower, float), (count,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, float), (count,)).copy())
        self.cost.append(np.zeros(count))
        self.integer.append(np.full(count, 1 if integer else 0, dtype=np.int32))
        self.n += count
        return idx


@dataclass
class Rows:
    """Constraints as coordinate triplets plus row bounds."""

    r: list[np.ndarray] = field(default_factory=list)
    c: list[np.ndarray] = field(default_factory=list)
    v: list[np.ndarray] = field(default_factory=list)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    n: int = 0

    def add(self, count: int, lower: float | np.ndarray, upper: float | np.ndarray) -> int:
        first = self.n
        self.lower.append(np.broadcast_to(np.asarray(lower, float), (count,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, float), (count,)).copy())
        self.n += count
        return first

    def coef(self, row: np.ndarray, col: np.ndarray, val: np.ndarray | float) -> None:
        row = np.asarray(row, dtype=np.int64)
        self.r.append(row)
        self.c.append(np.asarray(col, dtype=np.int64))
        self.v.append(np.broadcast_to(np.asarray(val, float), row.shape).copy())


@dataclass
class Reference:
    """The built arrays, ready for passModel."""

    num_col: int
    num_row: int
    cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: sparse.csc_matrix
    integrality: np.ndarray
    pruned: int
    seconds: float = 0.0


def _haversine(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
               ) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin((np.radians(lon2) - np.radians(lon1)) / 2) ** 2)
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def build(folder: str | Path) -> Reference:
    """Read ``folder`` and build the model as arrays (see the module docstring)."""
    start = time.perf_counter()
    folder = Path(folder)
    toml = tomllib.loads((folder / "instance.toml").read_text(encoding="utf-8"))
    for key in ("tables",):
        if key in toml:
            raise UnsupportedError(f"[{key}] in instance.toml")
    fams = toml.get("families", {})
    if fams.get("extra"):
        raise UnsupportedError("extra families")
    without = set(fams.get("without", []))
    site_set = toml.get("sites", {})
    if site_set.get("candidates", "all") != "all" or site_set.get("brownfield", "keep") != "keep":
        raise UnsupportedError("[sites] candidates/brownfield other than the defaults")
    prune = bool(site_set.get("prune", True))
    if (folder / "arcs.csv").exists():
        raise UnsupportedError("arcs.csv")
    weights = {k: float(v) for k, v in toml.get("objective", {}).items()}

    def opt(family: str, key: str, default: object) -> object:
        return toml.get(family, {}).get(key, default)

    regions = _read(folder, "regions")
    industries = _read(folder, "industries")
    assert regions is not None and industries is not None
    reg = list(regions["id"])
    ind = list(industries["id"])
    R, I = len(reg), len(ind)  # noqa: N806, E741
    rpos = {r: k for k, r in enumerate(reg)}
    ipos = {i: k for k, i in enumerate(ind)}
    lat, lon = _num(regions["latitude"]), _num(regions["longitude"])
    km = _haversine(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    group = pd.factorize(regions["group"])[0]
    budget = _num(regions["funding_budget"])

    chain_df = _read(folder, "chain")
    markets = _read(folder, "markets")
    sites_df = _read(folder, "sites")
    inputs = _read(folder, "inputs")
    input_need = _read(folder, "input_need")
    input_supply = _read(folder, "input_supply")
    talent_need = _read(folder, "talent_need")
    talent_supply = _read(folder, "talent_supply")
    on = {
        "chain_coordination": chain_df is not None and "chain_coordination" not in without,
        "markets": markets is not None and "markets" not in without,
        "talent": "talent" not in without,
        "funding": "funding" not in without,
        "supply": inputs is not None and input_need is not None and "supply" not in without,
        "duplication": "duplication" not in without,
        "duplication_neighbors": "duplication_neighbors" not in without,
        "policy": "policy" not in without,
    }
    if on["markets"] and int(opt("markets", "nearest_sites", 0)) != 0:
        raise UnsupportedError("markets nearest_sites")

    # ------------------------------------------------------------------ demand, requirement
    demand = _num(industries["demand"], 0.0)
    mk = np.zeros((0, 3))
    if markets is not None:
        m_ind = markets["industry"].map(ipos).to_numpy()
        m_reg = markets["region"].map(rpos).to_numpy()
        m_dem = _num(markets["demand"])
        located = np.zeros(I, dtype=bool)
        located[m_ind] = True
        demand = np.where(located, 0.0, demand)
        np.add.at(demand, m_ind, m_dem)
        mk = np.column_stack([m_ind, m_reg, m_dem])
    links = np.zeros((0, 3))
    if chain_df is not None:
        links = np.column_stack([chain_df["upstream"].map(ipos).to_numpy(),
                                 chain_df["downstream"].map(ipos).to_numpy(),
                                 _num(chain_df["ratio"])])
    lu, ld, la = links[:, 0].astype(int), links[:, 1].astype(int), links[:, 2]
    req = demand.copy()
    done = np.zeros(I, dtype=bool)
    while not done.all():  # bottom of the chain up (acyclic)
        for i in range(I):
            if done[i]:
                continue
            downs = ld[lu == i]
            if done[downs].all():
                req[i] = demand[i] + float((la[lu == i] * req[downs]).sum())
                done[i] = True

    # ------------------------------------------------------------------ candidate sites
    min_scale = _num(industries["min_scale"])
    capex_i = _num(industries["unit_capex"])
    fixed_i = _num(industries["fixed_cost"])
    capmax_i = (_num(industries["capacity_max"]) if "capacity_max" in industries
                else np.full(I, np.nan))
    capmax_i = np.where(np.isnan(capmax_i), req, capmax_i)
    si, sr = np.repeat(np.arange(I), R), np.tile(np.arange(R), I)
    allowed = np.ones(I * R, dtype=bool)
    existing = np.zeros(I * R)
    must = np.zeros(I * R, dtype=bool)
    site_max = capmax_i[si].copy()
    site_fixed, site_capex = fixed_i[si].copy(), capex_i[si].copy()
    factor = np.ones(I * R)
    if sites_df is not None:
        k = sites_df["industry"].map(ipos).to_numpy() * R + sites_df["region"].map(
            rpos).to_numpy()
        cols = sites_df.columns
        if "allowed" in cols:
            allowed[k] = _flag(sites_df["allowed"], True)
        if "existing_capacity" in cols:
            existing[k] = _num(sites_df["existing_capacity"], 0.0)
        if "must_host" in cols:
            must[k] = _flag(sites_df["must_host"], False)
        for name, target in (("max_capacity", site_max), ("fixed_cost", site_fixed),
                             ("unit_capex", site_capex), ("talent_need_factor", factor)):
            if name in cols:
                val = _num(sites_df[name])
                target[k] = np.where(np.isnan(val), target[k], val)
    keep = np.flatnonzero(allowed)
    si, sr = si[keep], sr[keep]
    existing, must = existing[keep], must[keep]
    site_fixed, site_capex, factor = site_fixed[keep], site_capex[keep], factor[keep]
    brown = existing > 0
    scale = np.where(brown, 0.0, min_scale[si])
    cap = np.maximum.reduce([site_max[keep], scale, existing])

    # reach of each good, arcs per reach value (self, k nearest both ways, same group)
    nearest_default = int(opt("chain_coordination", "nearest", 3))
    same_group = bool(opt("chain_coordination", "same_group", True))
    reach = (_num(industries["chain_nearest"], nearest_default).astype(int)
             if "chain_nearest" in industries else np.full(I, nearest_default))
    dist = km.copy()
    np.fill_diagonal(dist, np.inf)
    order = np.argsort(dist, axis=1, kind="stable")
    arcs_of: dict[int, np.ndarray] = {}

    def arcs(k: int) -> np.ndarray:
        """Boolean R x R matrix: an arc from o to t."""
        if k not in arcs_of:
            a = np.eye(R, dtype=bool)
            kk = min(k, R - 1)
            if kk > 0:
                rows = np.repeat(np.arange(R), kk)
                near = order[:, :kk].ravel()
                a[rows, near] = True
                a[near, rows] = True
            if same_group:
                a |= group[:, None] == group[None, :]
            arcs_of[k] = a
        return arcs_of[k]

    # ------------------------------------------------------------------ derived limits
    talent_p = {}
    if talent_supply is not None:
        for r, t, s in zip(talent_supply["region"], talent_supply["talent_class"],
                           _num(talent_supply["supply"]), strict=True):
            talent_p[rpos[r], t] = s
    fund = float(opt("funding", "national_fund", 0.0))
    share = float(opt("funding", "slow_return_reserved_share", 0.0))
    inp = {}
    if on["supply"]:
        assert inputs is not None and input_need is not None
        trad = _flag(inputs["tradable"], True) if "tradable" in inputs else np.ones(
            len(inputs), bool)
        dshare = (_num(inputs["domestic_share_min"], 0.0) if "domestic_share_min" in inputs
                  else np.zeros(len(inputs)))
        inp = {k: (bool(t), c, s) for k, t, c, s in zip(
            inputs["id"], trad, _num(inputs["import_cap"]), dshare, strict=True)}
    usup: dict[tuple[int, str], float] = {}
    if input_supply is not None:
        for r, k, s in zip(input_supply["region"], input_supply["input"],
                           _num(input_supply["supply"]), strict=True):
            usup[rpos[r], k] = usup.get((rpos[r], k), 0.0) + s
    national = {k: sum(v for (_, kk), v in usup.items() if kk == k) for k in inp}
    tneed = [] if talent_need is None else list(zip(
        talent_need["industry"].map(ipos), talent_need["talent_class"],
        _num(talent_need["need"]), strict=True))
    ineed = [] if not on["supply"] else list(zip(
        input_need["industry"].map(ipos), input_need["input"], _num(input_need["need"]),
        strict=True))

    alive = np.ones(len(si), dtype=bool)
    pruned = 0
    bound = cap.copy()
    while True:
        bound = cap.copy()
        if on["talent"]:
            for i, t, n in tneed:
                sel = si == i
                per = n * factor[sel]
                p = np.array([talent_p.get((r, t), 0.0) for r in sr[sel]])
                with np.errstate(divide="ignore"):
                    b = np.where(per > 0, p / np.where(per > 0, per, 1), np.inf)
                bound[sel] = np.minimum(bound[sel], b)
        if on["funding"]:
            money = budget[sr] + fund
            spare = money - np.where(brown, 0.0, site_fixed)
            with np.errstate(divide="ignore", invalid="ignore"):
                per = np.where(site_capex > 0, spare / site_capex,
                               np.where(spare >= 0, np.inf, -1.0))
            bound = np.minimum(bound, np.where(brown, existing, 0.0) + per)
        if on["supply"]:
            for i, k, nu in ineed:
                trade, capk, _ = inp[k]
                if nu <= 0 or np.isnan(capk):
                    continue
                sel = si == i
                dom = (np.full(sel.sum(), national[k]) if trade
                       else np.array([usup.get((r, k), 0.0) for r in sr[sel]]))
                bound[sel] = np.minimum(bound[sel], (dom + capk) / nu)
        if on["chain_coordination"]:
            host = np.zeros((I, R), dtype=bool)
            host[si[alive], sr[alive]] = True
            for u, d in zip(lu, ld, strict=True):
                reached = (host[u][:, None] & arcs(int(reach[u]))).any(axis=0)
                sel = (si == d) & ~reached[sr]
                bound[sel] = np.minimum(bound[sel], 0.0)
        protect = must & on["policy"]
        req_site = np.where(brown, existing, np.where(protect, scale, -np.inf))
        if (alive & (bound < req_site - 1e-9 * np.maximum(1, np.abs(req_site)))).any():
            raise ValueError("a must-host or brownfield site cannot reach its minimum")
        cannot = alive & ~brown & ~protect & (bound < scale - 1e-9 * np.maximum(1, scale))
        if not prune or not cannot.any():
            break
        alive &= ~cannot
        pruned += int(cannot.sum())
    if prune:
        cap = np.maximum(bound, 0.0)
    keep = np.flatnonzero(alive)
    si, sr, existing, must, brown = si[keep], sr[keep], existing[keep], must[keep], brown[keep]
    scale, cap, factor = scale[keep], cap[keep], factor[keep]
    site_fixed, site_capex = site_fixed[keep], site_capex[keep]
    S = len(si)  # noqa: N806
    site_id = np.full((I, R), -1)
    site_id[si, sr] = np.arange(S)

    cols, rows = Columns(), Rows()
    forced = brown | (must & on["policy"])
    x = cols.add(S, lower=np.where(forced, 1.0, 0.0), upper=1.0, integer=True)
    q = cols.add(S, lower=np.where(brown, existing, 0.0), upper=cap)
    bidx = np.flatnonzero(brown)
    n_new = cols.add(len(bidx), upper=cap[bidx])
    w = {k: weights.get(k, 1.0) for k in ("investment", "coordination", "transport",
                                           "site_excess", "overcapacity", "neighbor_pairs")}
    cost = np.zeros(0)  # filled at the end
    obj: list[tuple[np.ndarray, np.ndarray]] = []
    offset = 0.0

    # capacity_new_definition: n - q >= -e
    first = rows.add(len(bidx), -existing[bidx], INF)
    rr = first + np.arange(len(bidx))
    rows.coef(rr, n_new, 1.0)
    rows.coef(rr, q[bidx], -1.0)
    # investment
    green = ~brown
    inv_cols = [(x[green], site_fixed[green]), (q[green], site_capex[green]),
                (n_new, site_capex[bidx])]
    for c, v in inv_cols:
        obj.append((c, w["investment"] * v))
    # capacity_within_max: q - cap x <= 0
    first = rows.add(S, -INF, 0.0)
    rows.coef(first + np.arange(S), q, 1.0)
    rows.coef(first + np.arange(S), x, -cap)
    # min scale: q - m x >= 0
    ms = np.flatnonzero(green & (scale > 0))
    first = rows.add(len(ms), 0.0, INF)
    rows.coef(first + np.arange(len(ms)), q[ms], 1.0)
    rows.coef(first + np.arange(len(ms)), x[ms], -scale[ms])
    # capacity_surplus: one free column per industry, defined by the one row whose
    # right-hand side is the final demand: Q_i - sum_d a Q_d - surplus_i = D_i
    surplus = cols.add(I, lower=-INF, upper=INF)
    first = rows.add(I, demand, demand)
    rows.coef(first + si, q, 1.0)
    for u, d, a in zip(lu, ld, la, strict=True):
        sel = si == d
        rows.coef(np.full(sel.sum(), first + u), q[sel], -a)
    rows.coef(first + np.arange(I), surplus, -1.0)
    # covers requirement: surplus_i >= 0
    first = rows.add(I, 0.0, INF)
    rows.coef(first + np.arange(I), surplus, 1.0)
    # valid inequalities of capacity
    has = np.bincount(si, minlength=I) > 0
    strong_cap = bool(opt("capacity", "strengthen", True))
    cov = np.flatnonzero((req > 0) & has & strong_cap)
    first = rows.add(len(cov), req[cov], INF)
    rowmap = np.full(I, -1)
    rowmap[cov] = first + np.arange(len(cov))
    sel = rowmap[si] >= 0
    rows.coef(rowmap[si[sel]], x[sel], cap[sel])
    largest = np.zeros(I)
    np.maximum.at(largest, si, cap)
    least = np.array([math.ceil(req[i] / largest[i] - 1e-6) if largest[i] > 0 else 0
                      for i in cov], dtype=float)
    first = rows.add(len(cov), least, INF)
    rowmap[cov] = first + np.arange(len(cov))
    rows.coef(rowmap[si[sel]], x[sel], 1.0)
    # overcapacity term: sum_i surplus_i
    if on["duplication"]:
        obj.append((surplus, np.full(I, w["overcapacity"])))

    out_r: list[np.ndarray] = []  # (site, column) of everything shipped out of sites
    out_c: list[np.ndarray] = []

    # ------------------------------------------------------------------ chain_coordination
    if on["chain_coordination"] and len(lu):
        kappa = (_num(industries["coordination_cost"],
                      float(opt("chain_coordination", "cost_per_unit_km", 0.0)))
                 if "coordination_cost" in industries else np.full(
                     I, float(opt("chain_coordination", "cost_per_unit_km", 0.0))))
        sigma = float(opt("chain_coordination", "border_surcharge", 0.25))
        dest = np.zeros((I, R), dtype=bool)  # good u may go to t: some downstream at t
        for u, d in zip(lu, ld, strict=True):
            dest[u] |= site_id[d] >= 0
        fu, fo, ft = [], [], []
        for u in np.unique(lu):
            orig = site_id[u] >= 0
            ok = arcs(int(reach[u])) & orig[:, None] & dest[u][None, :]
            o, t = np.nonzero(ok)
            fu.append(np.full(len(o), u))
            fo.append(o)
            ft.append(t)
        fu, fo, ft = np.concatenate(fu), np.concatenate(fo), np.concatenate(ft)
        flow = cols.add(len(fu))
        unit = kappa[fu] * km[fo, ft] * np.where(group[fo] != group[ft], 1 + sigma, 1.0)
        obj.append((flow, w["coordination"] * unit))
        out_r.append(site_id[fu, fo])
        out_c.append(flow)
        # inflow: sum_o flow - sum_d a q_dt >= 0, per (u, t) with some downstream site at t
        key_u, key_t = np.nonzero(dest)
        inrow = np.full((I, R), -1)
        first = rows.add(len(key_u), 0.0, INF)
        inrow[key_u, key_t] = first + np.arange(len(key_u))
        rows.coef(inrow[fu, ft], flow, 1.0)
        usable = np.zeros((I, R))
        for u, d, a in zip(lu, ld, la, strict=True):
            sd = np.flatnonzero(si == d)
            rows.coef(inrow[u, sr[sd]], q[sd], -a)
            np.add.at(usable[u], sr[sd], a * cap[sd])
        strong_chain = bool(opt("chain_coordination", "strengthen", False))
        # supplier within reach: sum_{o} x_uo - x_dt >= 0 for sites that must produce
        for u, d in zip(lu, ld, strict=True) if strong_chain else ():
            sd = np.flatnonzero((si == d) & ((scale > 0) | brown))
            if not len(sd):
                continue
            first = rows.add(len(sd), 0.0, INF)
            rmap = np.full(R, -1)
            rmap[sr[sd]] = first + np.arange(len(sd))
            rows.coef(first + np.arange(len(sd)), x[sd], -1.0)
            sel = (fu == u) & (rmap[ft] >= 0)
            rows.coef(rmap[ft[sel]], x[site_id[u, fo[sel]]], 1.0)
        # flow within host: flow - min(cap_uo, N_ut) x_uo <= 0
        if strong_chain:
            first = rows.add(len(fu), -INF, 0.0)
            rr = first + np.arange(len(fu))
            rows.coef(rr, flow, 1.0)
            so = site_id[fu, fo]
            rows.coef(rr, x[so], -np.minimum(cap[so], usable[fu, ft]))

    # ------------------------------------------------------------------ markets
    if on["markets"] and len(mk):
        tau = (_num(industries["transport_cost"], float(opt("markets", "cost_per_unit_km", 0.0)))
               if "transport_cost" in industries else np.full(
                   I, float(opt("markets", "cost_per_unit_km", 0.0))))
        pos_ = mk[:, 2] > 0
        mi, mr, md = mk[pos_, 0].astype(int), mk[pos_, 1].astype(int), mk[pos_, 2]
        pi, po, pm = [], [], []
        for k in range(len(mi)):
            o = np.flatnonzero(site_id[mi[k]] >= 0)
            pi.append(np.full(len(o), k))
            po.append(o)
        mkt = np.concatenate(pi)
        po = np.concatenate(po)
        pm = mr[mkt]
        ship = cols.add(len(mkt))
        obj.append((ship, w["transport"] * tau[mi[mkt]] * km[po, pm]))
        so = site_id[mi[mkt], po]
        out_r.append(so)
        out_c.append(ship)
        first = rows.add(len(mi), md, INF)
        rows.coef(first + mkt, ship, 1.0)
        if bool(opt("markets", "strengthen", True)):
            first = rows.add(len(mkt), -INF, 0.0)
            rows.coef(first + np.arange(len(mkt)), ship, 1.0)
            rows.coef(first + np.arange(len(mkt)), x[so], -md[mkt])

    # site output within capacity
    if out_r:
        orow, ocol = np.concatenate(out_r), np.concatenate(out_c)
        with_out = np.unique(orow)
        first = rows.add(len(with_out), -INF, 0.0)
        rmap = np.full(S, -1)
        rmap[with_out] = first + np.arange(len(with_out))
        rows.coef(rmap[orow], ocol, 1.0)
        rows.coef(rmap[with_out], q[with_out], -1.0)

    # ------------------------------------------------------------------ talent
    if on["talent"] and tneed:
        keys: dict[tuple[int, str], int] = {}
        tr, tc, tv = [], [], []
        for i, t, n in tneed:
            for s in np.flatnonzero(si == i):
                per = n * factor[s]
                if per > 0:
                    row = keys.setdefault((int(sr[s]), t), len(keys))
                    tr.append(row)
                    tc.append(q[s])
                    tv.append(per)
        ub = np.array([talent_p.get(k, 0.0) for k in keys])
        first = rows.add(len(keys), -INF, ub)
        rows.coef(first + np.array(tr, dtype=int), np.array(tc), np.array(tv))

    # ------------------------------------------------------------------ funding
    if on["funding"]:
        slow = (_flag(industries["slow_return"], False) if "slow_return" in industries
                else np.zeros(I, bool))
        regs = np.unique(sr)
        general = cols.add(len(regs)) if fund > 0 else np.array([], dtype=int)
        slow_regs = np.unique(sr[slow[si]]) if fund > 0 and share > 0 else np.array([], int)
        reserved = cols.add(len(slow_regs))
        first = rows.add(len(regs), -INF, budget[regs])
        rmap = np.full(R, -1)
        rmap[regs] = first + np.arange(len(regs))
        for c, v, s_of in ((x[green], site_fixed[green], sr[green]),
                           (q[green], site_capex[green], sr[green]),
                           (n_new, site_capex[bidx], sr[bidx])):
            rows.coef(rmap[s_of], c, v)
        if len(general):
            rows.coef(rmap[regs], general, -1.0)
            first = rows.add(1, -INF, (1 - share) * fund)
            rows.coef(np.full(len(general), first), general, 1.0)
        if len(reserved):
            rows.coef(rmap[slow_regs], reserved, -1.0)
            first = rows.add(1, -INF, share * fund)
            rows.coef(np.full(len(reserved), first), reserved, 1.0)
            first = rows.add(len(slow_regs), -INF, 0.0)
            smap = np.full(R, -1)
            smap[slow_regs] = first + np.arange(len(slow_regs))
            rows.coef(first + np.arange(len(slow_regs)), reserved, 1.0)
            gs = green & slow[si]
            bs = slow[si[bidx]]
            rows.coef(smap[sr[gs]], x[gs], -site_fixed[gs])
            rows.coef(smap[sr[gs]], q[gs], -site_capex[gs])
            rows.coef(smap[sr[bidx][bs]], n_new[bs], -site_capex[bidx][bs])

    # ------------------------------------------------------------------ supply
    if on["supply"] and ineed:
        uses: dict[str, list[tuple[int, float]]] = {}
        for i, k, nu in ineed:
            if nu > 0:
                for s in np.flatnonzero(si == i):
                    uses.setdefault(k, []).append((int(s), nu))
        for k, (trade, capk, smin) in inp.items():
            if k not in uses:
                continue
            s_idx = np.array([s for s, _ in uses[k]])
            nus = np.array([v for _, v in uses[k]])
            if trade:
                imp = cols.add(1, upper=INF if np.isnan(capk) else capk)
                first = rows.add(1, -INF, national.get(k, 0.0))
                rows.coef(np.full(len(s_idx), first), q[s_idx], nus)
                rows.coef([first], imp, -1.0)
                imported = (imp, np.array([1.0]))
            else:
                regs = np.unique(sr[s_idx])
                imp = cols.add(len(regs))
                first = rows.add(len(regs), -INF,
                                 np.array([usup.get((r, k), 0.0) for r in regs]))
                rmap = np.full(R, -1)
                rmap[regs] = first + np.arange(len(regs))
                rows.coef(rmap[sr[s_idx]], q[s_idx], nus)
                rows.coef(first + np.arange(len(regs)), imp, -1.0)
                if not np.isnan(capk):
                    first = rows.add(1, -INF, capk)
                    rows.coef(np.full(len(imp), first), imp, 1.0)
                imported = (imp, np.ones(len(imp)))
            if smin > 0:
                first = rows.add(1, -INF, 0.0)
                rows.coef(np.full(len(imported[0]), first), imported[0], imported[1])
                rows.coef(np.full(len(s_idx), first), q[s_idx], -(1 - smin) * nus)

    # ------------------------------------------------------------------ duplication
    if on["duplication"]:
        target = _num(industries["target_hosts"])
        excess = cols.add(I)
        first = rows.add(I, -target, INF)
        rows.coef(first + np.arange(I), excess, 1.0)
        rows.coef(first + si, x, -1.0)
        obj.append((excess, np.full(I, w["site_excess"])))

    # ------------------------------------------------------------------ duplication_neighbors
    if on["duplication_neighbors"]:
        close = km <= float(opt("duplication_neighbors", "distance_km", 150.0))
        if bool(opt("duplication_neighbors", "same_group", True)):
            close |= group[:, None] == group[None, :]
        a, b = np.nonzero(np.triu(close, k=1))
        pi_, pa, pb = [], [], []
        for i in range(I):
            ok = (site_id[i, a] >= 0) & (site_id[i, b] >= 0)
            pi_.append(np.full(ok.sum(), i))
            pa.append(a[ok])
            pb.append(b[ok])
        pi_, pa, pb = np.concatenate(pi_), np.concatenate(pa), np.concatenate(pb)
        both = cols.add(len(pi_), upper=1.0)
        first = rows.add(len(pi_), -1.0, INF)
        rr = first + np.arange(len(pi_))
        rows.coef(rr, both, 1.0)
        rows.coef(rr, x[site_id[pi_, pa]], -1.0)
        rows.coef(rr, x[site_id[pi_, pb]], -1.0)
        obj.append((both, np.full(len(pi_), w["neighbor_pairs"])))

    # ------------------------------------------------------------------ policy
    if on["policy"]:
        default = int(opt("policy", "max_industries", 0))
        limit = (_num(regions["max_industries"]) if "max_industries" in regions
                 else np.full(R, np.nan))
        if default > 0:
            limit = np.where(np.isnan(limit), default, limit)
        regs = np.unique(sr)
        lim_r = regs[~np.isnan(limit[regs])]
        first = rows.add(len(lim_r), -INF, limit[lim_r])
        rmap = np.full(R, -1)
        rmap[lim_r] = first + np.arange(len(lim_r))
        sel = rmap[sr] >= 0
        rows.coef(rmap[sr[sel]], x[sel], 1.0)
        floor = (_num(regions["min_industries"], 0.0) if "min_industries" in regions
                 else np.zeros(R))
        fl_r = np.flatnonzero(floor > 0)
        first = rows.add(len(fl_r), floor[fl_r], INF)
        rmap = np.full(R, -1)
        rmap[fl_r] = first + np.arange(len(fl_r))
        sel = rmap[sr] >= 0
        rows.coef(rmap[sr[sel]], x[sel], 1.0)

    # ------------------------------------------------------------------ arrays
    cost = np.zeros(cols.n)
    for c, v in obj:
        np.add.at(cost, c, v)
    matrix = sparse.coo_matrix(
        (np.concatenate(rows.v), (np.concatenate(rows.r), np.concatenate(rows.c))),
        shape=(rows.n, cols.n)).tocsc()
    matrix.sum_duplicates()
    ref = Reference(
        num_col=cols.n, num_row=rows.n, cost=cost, offset=offset,
        col_lower=np.concatenate(cols.lower), col_upper=np.concatenate(cols.upper),
        row_lower=np.concatenate(rows.lower), row_upper=np.concatenate(rows.upper),
        matrix=matrix, integrality=np.concatenate(cols.integer), pruned=pruned)
    ref.seconds = time.perf_counter() - start
    return ref


def to_highs(ref: Reference, *, time_limit: float | None = None, mip_gap: float = 1e-4,
             threads: int | None = None, log_file: str | None = None) -> highspy.Highs:
    """A Highs object holding the reference model."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(log_file))
    h.setOptionValue("log_to_console", False)
    if log_file:
        h.setOptionValue("log_file", log_file)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    a = ref.matrix
    h.passModel(ref.num_col, ref.num_row, a.nnz, int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMinimize), ref.offset, ref.cost, ref.col_lower,
                ref.col_upper, ref.row_lower, ref.row_upper, a.indptr.astype(np.int32),
                a.indices.astype(np.int32), a.data, ref.integrality)
    return h
