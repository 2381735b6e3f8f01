"""funding: investment within the region's budget plus the national guidance fund."""

import pytest
from support import capacity, hosted, solve

REGIONS = """
id,name,group,latitude,longitude,funding_budget
A,Alpha,g1,0,0,12
B,Beta,g2,0,1,100
"""
NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,slow_return
nev,NEV,10,4,1,5,1,{slow}
"""
B_DEARER = """
industry,region,unit_capex
nev,B,2
"""


def test_budget_limits_the_cheap_region(tiny):
    # A alone would invest 5 + 10 = 15 > 12. A + B: A's investment 5 + capA <= 12 -> capA <= 7;
    # B >= 4 (min scale) -> cost 10 + 6 + 8 = 24 (A = 6, B = 4). B alone: 25.
    folder = tiny(regions=REGIONS, industries=NEV.format(slow="false"), sites=B_DEARER)
    r = solve(folder, ["capacity", "funding"])
    assert r.objective == pytest.approx(24.0)
    assert capacity(r) == pytest.approx({("nev", "A"): 6.0, ("nev", "B"): 4.0})
    regions = r.tables["regions"].set_index(["region", "resource"])
    assert regions.at[("A", "funding"), "used"] == pytest.approx(11.0)


def test_national_fund_tops_up_the_budget(tiny):
    # A fund of 3 lets A invest 15 <= 12 + 3: A alone, 15.
    folder = tiny("[funding]\nnational_fund = 3\n", regions=REGIONS,
                  industries=NEV.format(slow="false"), sites=B_DEARER)
    r = solve(folder, ["capacity", "funding"])
    assert r.objective == pytest.approx(15.0)
    assert hosted(r) == {("nev", "A")}


@pytest.mark.parametrize(("slow", "expected"), [("false", 24.0), ("true", 15.0)])
def test_reserved_share_pays_only_slow_return_industries(tiny, slow, expected):
    # The whole fund is reserved (share 1): it helps only when nev is slow-return.
    folder = tiny("[funding]\nnational_fund = 3\nslow_return_reserved_share = 1.0\n",
                  regions=REGIONS, industries=NEV.format(slow=slow), sites=B_DEARER)
    r = solve(folder, ["capacity", "funding"])
    assert r.objective == pytest.approx(expected)
