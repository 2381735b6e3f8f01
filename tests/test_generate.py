"""allocator generate: same seed, same bytes; realistic structure; feasible by construction."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

import allocator
from allocator.tools.generate import HOSTS_NEEDED, generate


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = generate(31, 10, 7, tmp_path / "a")
    b = generate(31, 10, 7, tmp_path / "b")
    c = generate(31, 10, 8, tmp_path / "c")
    assert _files(a) == _files(b)
    assert _files(a) != _files(c)
    assert set(_files(a)) == {
        "instance.toml", "regions.csv", "industries.csv", "chain.csv", "markets.csv",
        "talent_supply.csv", "talent_need.csv", "inputs.csv", "input_need.csv",
        "input_supply.csv", "sites.csv", ".allocator.json"}  # the files allocator wrote


def test_the_command_line_writes_a_valid_instance(tmp_path):
    out = tmp_path / "inst"
    done = subprocess.run([sys.executable, "-m", "allocator", "generate", "--regions",
                           "20", "--industries", "6", "--seed", "3", "-o", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert _files(out) == _files(generate(20, 6, 3, tmp_path / "again"))
    done = subprocess.run([sys.executable, "-m", "allocator", "validate", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "valid" in done.stdout


@pytest.mark.parametrize(("regions", "industries"), [(31, 10), (100, 20), (337, 40)])
def test_structure_of_the_benchmark_sizes(tmp_path, regions, industries):
    folder = generate(regions, industries, 7, tmp_path / "i")
    inst = allocator.load_instance(folder)  # valid: no InputError
    reg = inst.table("regions")
    assert len(reg) == regions and reg["group"].nunique() == round(1.7 * math.sqrt(regions))
    # hubs and a long tail: the top tenth of the cities holds more than twice its share of
    # the funding, and the largest budget is many times the median one
    budget = reg["funding_budget"].sort_values(ascending=False)
    top = max(1, regions // 10)
    assert budget.iloc[:top].sum() > 2 * top / regions * budget.sum()
    assert budget.iloc[0] > 4 * budget.median() and budget.iloc[0] > 20 * budget.iloc[-1]
    # industries in chains 3-4 deep: walk each chain from its top
    chain = inst.chain
    heavy = chain[chain["ratio"] >= 0.3]  # the chains proper (cross links are light)
    tops = set(heavy["upstream"]) - set(heavy["downstream"])
    nxt = dict(zip(heavy["upstream"], heavy["downstream"], strict=True))
    depths = []
    for top in tops:
        depth, node = 1, top
        while node in nxt:
            node, depth = nxt[node], depth + 1
        depths.append(depth)
    assert depths and set(depths) <= {3, 4}
    assert sum(depths) == industries  # every industry is in exactly one chain
    assert len(chain) > len(heavy) or industries < 20  # some cross-chain links
    # demand needing 3-15 host regions at the site maximum
    ind = inst.industry
    needed = [math.ceil(inst.requirement[i] / ind.at[i, "capacity_max"] - 1e-9)
              for i in inst.industry_ids]
    assert min(needed) >= HOSTS_NEEDED[0] and max(needed) <= HOSTS_NEEDED[1]
    # existing capacity, must-host and forbidden pairs, markets
    sites = inst.table("sites")
    assert (sites["existing_capacity"].fillna(0) > 0).sum() >= industries
    assert sites["must_host"].fillna(False).astype(bool).sum() >= 1
    assert (~sites["allowed"].fillna(True).astype(bool)).sum() >= 1
    assert inst.table("markets")["industry"].nunique() >= 1
    # talent in hubs: some city lacks some class of talent
    supply = inst.table("talent_supply")
    classes = supply["talent_class"].nunique()
    assert supply.groupby("region").size().min() < classes


@pytest.mark.parametrize(("regions", "industries", "seed"), [(12, 5, 1), (31, 10, 7)])
def test_generated_instances_are_feasible(tmp_path, regions, industries, seed):
    """A plan exists (the generator plants one); HiGHS finds one within seconds."""
    inst = allocator.load_instance(generate(regions, industries, seed, tmp_path / "i"))
    r = allocator.solve(allocator.build_model(inst),
                        allocator.SolverOptions(mip_gap=0.05, time_limit=60))
    assert r.outcome.has_solution and r.status in ("optimal", "time_limit"), r.status
