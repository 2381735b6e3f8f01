"""Contributed resource use (Context.add_use / Context.uses, Family.close): the contract.

One industry x, demand 10 at A (1 + 10: no capex at B), talent 1 engineer per unit with 12
in A. A researcher's family "lab" takes 5 of A's engineers through the core: capacity at A
is then at most 7, so B builds the other 3 (capex 2): 1 + 7 + 1 + 6 = 15.
"""

import pytest
from support import capacity

import allocator
from allocator.core.family import Family, Symbol
from allocator.engine.build import FormulationError

INDUSTRIES = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
x,X,10,0,1,1,1
"""
SITES = "industry,region,unit_capex\nx,B,2"
TALENT = {"talent_need": "industry,talent_class,need\nx,eng,1",
          "talent_supply": "region,talent_class,supply\nA,eng,12\nB,eng,100"}


def lab(resource: str = "talent", read_in_build: bool = False) -> Family:
    def build(b, ctx):
        if read_in_build:
            ctx.uses("talent")
        ctx.add_use(resource, ("A", "eng"), 5)

    return Family(name="lab", summary="a lab that takes engineers", build=build,
                  math="$$ u_{A,eng} = 5 $$", symbols=(Symbol("lab", "parameter", "u", "",
                                                              "people", "engineers taken"),))


def solve(folder, family: Family) -> allocator.Result:
    inst = allocator.load_instance(folder, extra_families=[family])
    return allocator.solve(allocator.build_model(inst, ["capacity", "talent", "lab"]),
                           allocator.SolverOptions(mip_gap=0))


def test_a_contribution_counts_in_the_owners_row(tiny):
    r = solve(tiny(industries=INDUSTRIES, sites=SITES, **TALENT), lab())
    assert r.objective == pytest.approx(15.0)
    assert capacity(r) == pytest.approx({("x", "A"): 7.0, ("x", "B"): 3.0})
    uses = r.tables["uses"]
    assert uses[["family", "resource", "region", "item", "amount"]].values.tolist() == [
        ["lab", "talent", "A", "eng", 5.0]]
    rows = r.tables["regions"].set_index(["region", "resource"])
    assert rows.at[("A", "talent:eng"), "used"] == pytest.approx(12.0)


def test_uses_are_read_in_close_only(tiny):
    with pytest.raises(FormulationError, match="during build"):
        solve(tiny(industries=INDUSTRIES, sites=SITES, **TALENT), lab(read_in_build=True))


def test_a_resource_nobody_collects_is_a_bug(tiny):
    with pytest.raises(FormulationError, match="which no family collects"):
        solve(tiny(industries=INDUSTRIES, sites=SITES, **TALENT), lab(resource="water"))


def test_an_owner_switched_off_drops_the_use(tiny):
    # without talent, nothing limits engineers: A builds everything, 11
    inst = allocator.load_instance(tiny(industries=INDUSTRIES, sites=SITES, **TALENT),
                                   extra_families=[lab()])
    r = allocator.solve(allocator.build_model(inst, ["capacity", "lab"]),
                        allocator.SolverOptions(mip_gap=0))
    assert r.objective == pytest.approx(11.0)
