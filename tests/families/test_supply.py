"""supply: key inputs from domestic supply plus capped imports, domestic-share floor."""

import pytest
from support import capacity, solve

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""
B_DEARER = """
industry,region,unit_capex
nev,B,2
"""
NEED = """
industry,input,need
nev,lithium,1
"""


def inputs(tradable: str, cap: str = "4", share: str = "0") -> str:
    return f"""
        id,name,import_cap,domestic_share_min,tradable
        lithium,Lithium,{cap},{share},{tradable}
    """


SUPPLY = """
region,input,supply
A,lithium,2
B,lithium,20
"""


def test_non_tradable_input_binds_where_it_is_supplied(tiny):
    # Lithium stays where mined: A has 2 plus at most 4 imported -> A <= 6.
    # A + B: 10 + 6 + 2*4 = 24 (A = 6, B = 4); B alone: 25.
    folder = tiny(industries=NEV, sites=B_DEARER, inputs=inputs("false"), input_need=NEED,
                  input_supply=SUPPLY)
    r = solve(folder, ["capacity", "supply"])
    assert r.objective == pytest.approx(24.0)
    assert capacity(r) == pytest.approx({("nev", "A"): 6.0, ("nev", "B"): 4.0})
    regions = r.tables["regions"].set_index(["region", "resource"])
    assert regions.at[("(national)", "imports:lithium"), "used"] == pytest.approx(4.0)


def test_tradable_input_is_one_national_pool(tiny):
    # National pool 22 + imports: no limit on A. A alone: 15.
    folder = tiny(industries=NEV, sites=B_DEARER, inputs=inputs("true"), input_need=NEED,
                  input_supply=SUPPLY)
    r = solve(folder, ["capacity", "supply"])
    assert r.objective == pytest.approx(15.0)


@pytest.mark.parametrize(("share", "status"), [("0.7", "optimal"), ("0.75", "infeasible")])
def test_domestic_share_floor(tiny, share, status):
    # Domestic supply 7 (B only), no import cap, need = capacity >= 10.
    # Floor s: imports <= (1 - s) * need, so domestic 7 >= s * need >= 10 s: s = 0.7 just fits,
    # s = 0.75 cannot: the pre-solve check says so (7.5 needed from domestic supply, 7 exist),
    # and one supply limit relaxed by 0.5 makes a plan possible.
    folder = tiny(industries=NEV, sites=B_DEARER, inputs=inputs("true", cap="", share=share),
                  input_need=NEED, input_supply="region,input,supply\nB,lithium,7")
    r = solve(folder, ["capacity", "supply"])
    assert r.status == status
    if status == "optimal":
        assert r.objective == pytest.approx(15.0)
    else:
        assert r.outcome.termination == "pre-solve checks"
        assert [c.family for c in r.explanation.checks] == ["supply"]
        assert "inputs.csv row 2 (input lithium)" in r.explanation.checks[0].message
        relax = r.explanation.relaxations
        assert relax["family"].tolist() == ["supply"]
        assert relax["amount"].tolist() == pytest.approx([0.5])
