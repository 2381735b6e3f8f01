"""Softened limits: the best plan, and what it would take (build_model(soft=...))."""

import pytest
from support import hosted, verified

import allocator

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""
# A has one engineer, B none; 10 units need 10 engineers: infeasible as a hard limit.
SUPPLY = "region,talent_class,supply\nA,eng,1\n"
NEED = "industry,talent_class,need\nnev,eng,1\n"


def test_hard_limit_is_infeasible(tiny):
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED)
    r = allocator.solve(allocator.build_model(allocator.load_instance(folder),
                                              ["capacity", "talent"]))
    assert r.status == "infeasible"


@pytest.mark.parametrize("penalty", [1e6, 100.0])
def test_soft_limit_reports_the_shortfall(tiny, penalty):
    # Whatever the split, 10 units need 10 engineers and 1 exists: shortfall 9.
    # Cheapest plan: A alone, 5 + 10 = 15; objective 15 + 9 * penalty.
    folder = tiny(industries=NEV, talent_supply=SUPPLY, talent_need=NEED)
    built = allocator.build_model(allocator.load_instance(folder), ["capacity", "talent"],
                                  soft=["talent"], soft_penalty=penalty)
    # verified: the checker finds talent exceeded by 9 at A and accepts it as the recorded
    # shortfall, and recomputes the objective with the penalty
    r = verified(folder, allocator.solve(built, allocator.SolverOptions(mip_gap=0)))
    assert r.status == "optimal"
    assert r.objective == pytest.approx(15 + 9 * penalty)
    assert hosted(r) == {("nev", "A")}
    short = r.tables["shortfalls"]
    assert short[["family", "constraint", "index", "sense"]].values.tolist() == [
        ["talent", "talent_within_supply", "A,eng", "above upper limit"]]
    assert short["amount"].tolist() == pytest.approx([9.0])
    # B has no supply row: 0 people. A row appears only once some site may need talent.
    assert r.summary["soft"] == ["talent"]


def test_soft_needs_a_family_with_limits(tiny):
    inst = allocator.load_instance(tiny(industries=NEV))
    with pytest.raises(KeyError, match="no limits"):
        allocator.build_model(inst, ["capacity", "duplication"], soft=["duplication"])


# Rows that no plan can meet, because nothing may serve them, are an answer (infeasible, or
# the whole amount as a shortfall when softened), never a crash.
UNSERVED_MARKET = {
    "industries": "id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts\n"
                  "pv,PV,,0,1,5,1\nnev,NEV,2,0,1,5,1",
    "markets": "industry,region,demand\npv,A,3",
    "sites": "industry,region,allowed\npv,A,false\npv,B,false",
}


@pytest.mark.parametrize(("tables", "family", "constraint", "index", "amount"), [
    # pv has demand 3 in A but may be built nowhere: national capacity short by 3, and the
    # market of A short by 3
    (UNSERVED_MARKET, "markets", "markets_demand_met", "pv,A", 3.0),
    (UNSERVED_MARKET, "capacity", "capacity_covers_requirement", "pv", 3.0),
    # C must host at least one industry but may host none
    ({"regions": "id,name,group,latitude,longitude,funding_budget,min_industries\n"
                 "A,Alpha,g1,0,0,100,\nC,Gamma,g2,0,2,100,1",
      "industries": NEV,
      "sites": "industry,region,allowed\nnev,C,false"},
     "policy", "policy_equity_floor", "C", 1.0),
])
def test_a_row_nothing_can_serve_is_infeasible_or_a_shortfall(tiny, tables, family,
                                                             constraint, index, amount):
    folder = tiny(**tables)
    families = ["capacity", family] + (["markets"] if "markets" in tables else [])
    hard = allocator.solve(allocator.build_model(allocator.load_instance(folder), families))
    assert hard.status == "infeasible"
    assert hard.exit_code == 4
    built = allocator.build_model(allocator.load_instance(folder), families,
                                  soft=list(dict.fromkeys(families)))
    r = verified(folder, allocator.solve(built, allocator.SolverOptions(mip_gap=0)))
    short = r.tables["shortfalls"]
    row = short[(short["family"] == family) & (short["constraint"] == constraint)]
    assert row["index"].tolist() == [index]
    assert row["amount"].tolist() == pytest.approx([amount])
