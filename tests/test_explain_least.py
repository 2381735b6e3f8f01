"""`explain` says the least amount it can prove, or plainly that an amount is not minimized,
and shows its progress on stderr.

Both instances below have regions A and B (tests/support.py) and one industry, NEV: demand
10, minimum scale 4, capex 1 per unit, fixed cost 5 per host, one engineer per unit of
capacity. The least amounts are worked out by hand in each test and then checked against
re-solves of the hard model with the talent supply changed: the amount said to be proven is
enough, and a little less is not.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

import allocator
import allocator.analysis.explain as explain_module
from allocator.analysis.explain import LEAST_ROWS, explain

NEED = "industry,talent_class,need\nnev,eng,1"


def industries(capacity_max: float | None = None) -> str:
    if capacity_max is None:
        return "id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts\n" \
               "nev,NEV,10,4,1,5,1"
    return ("id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max\n"
            f"nev,NEV,10,4,1,5,1,{capacity_max:g}")


def supply(a: float, b: float) -> str:
    return f"region,talent_class,supply\nA,eng,{a:g}\nB,eng,{b:g}"


def feasible(tiny, capacity_max: float | None, a: float, b: float) -> bool:
    """Re-solve the hard model (no limit relaxed) with talent supply ``a`` in A, ``b`` in B."""
    folder = tiny(industries=industries(capacity_max), talent_supply=supply(a, b),
                  talent_need=NEED)
    built = allocator.build_model(allocator.load_instance(folder))
    result = allocator.solve(built, allocator.SolverOptions(mip_gap=0.0),
                             shadow_prices=False)
    assert result.outcome.status in ("optimal", "infeasible"), result.outcome.status
    return result.outcome.status == "optimal"


def test_one_limit_relaxed_says_its_proven_least(tiny):
    # Supply A 1, B 2; 10 units need 10 engineers. One region must host all 10 (the fewest
    # relaxations: one row); B is short 8 (400% of 2) rather than A short 9 (900% of 1).
    # With only B's row relaxed, A hosts nothing (4 units would need 4 > 1 engineers), so B
    # hosts 10 and needs 10: at least 8 more, proven.
    folder = tiny(industries=industries(), talent_supply=supply(1, 2), talent_need=NEED)
    e = explain(allocator.load_instance(folder))
    [row] = e.relaxations.itertuples()
    assert row.message.endswith("short 8 people")
    assert row.least == pytest.approx(8.0)
    assert row.least_note == ("at least 8 people, proven (with only the limits listed "
                              "relaxed)")
    assert "     at least 8 people, proven (with only the limits listed relaxed)" in e.lines()
    # the words against re-solves: 8 more in B is enough, 7.9 more is not
    assert feasible(tiny, None, 1, 2 + 8)
    assert not feasible(tiny, None, 1, 2 + 7.9)


def test_two_limits_relaxed_each_with_its_own_proven_least(tiny):
    # capacity_max 6: both regions must host (4 <= q <= 6 each, q_A + q_B = 10), so both
    # talent rows break (A needs >= 4 > 1, B >= 4 > 2); relaxing demand instead weighs 3 > 2.
    # Stage 2, least total share: s_A / 1 + s_B / 2 with s_A = q_A - 1, s_B = q_B - 2 is
    # least at q_A = 4, q_B = 6: A short 3 (300%), B short 4 (200%).
    # The least of each with the other relaxed as needed: A hosts at least 4, so A needs at
    # least 3 more; B hosts at least 4, so B needs at least 2 more: less than the 4 shown.
    folder = tiny(industries=industries(6), talent_supply=supply(1, 2), talent_need=NEED)
    e = explain(allocator.load_instance(folder))
    got = {r.index: (r.amount, r.least, r.least_note) for r in e.relaxations.itertuples()}
    assert got["A,eng"][:2] == (pytest.approx(3.0), pytest.approx(3.0))
    assert got["B,eng"][:2] == (pytest.approx(4.0), pytest.approx(2.0))
    assert got["B,eng"][2].startswith("at least 2 people, proven")
    text = "\n".join(e.lines())
    assert "short 4 people [200% of the limit]\n     at least 2 people, proven" in text
    # re-solves: B needs 2 more when A gets what it needs, and 1.9 more is not enough even
    # when A has plenty; likewise A needs 3 more
    assert feasible(tiny, 6, 1000, 2 + 2)
    assert not feasible(tiny, 6, 1000, 2 + 1.9)
    assert feasible(tiny, 6, 1 + 3, 1000)
    assert not feasible(tiny, 6, 1 + 2.9, 1000)


def test_amounts_not_proven_or_not_minimized_say_so(tiny, monkeypatch):
    # The instance of the test above. Only the largest LEAST_ROWS limits are minimized one by
    # one: with 1, the second row (B) is not minimized and says so, with no number.
    folder = tiny(industries=industries(6), talent_supply=supply(1, 2), talent_need=NEED)
    monkeypatch.setattr(explain_module, "LEAST_ROWS", 1)
    e = explain(allocator.load_instance(folder))
    first, second = e.relaxations.itertuples()
    assert first.least_note.startswith("at least 3 people, proven")
    assert second.least is None or math.isnan(second.least)
    assert second.least_note.startswith("not minimized on its own (only the largest 1 "
                                        "relaxed limits are)")
    assert "at least" not in second.least_note
    # a stage-3 solve that stops before proving its optimum (here: told it did) is not
    # "proven": stage 3 is the only solve with a zero gap
    monkeypatch.setattr(explain_module, "LEAST_ROWS", LEAST_ROWS)
    real = explain_module._solve

    def stopped(model, options, start=False, monitor=None):
        outcome = real(model, options, start, monitor)
        if options.mip_gap == 0.0:
            outcome.status = "time_limit"
        return outcome

    monkeypatch.setattr(explain_module, "_solve", stopped)
    e = explain(allocator.load_instance(folder))
    notes = e.relaxations["least_note"].tolist()
    assert all(n.startswith("not proven least: the search for this limit's least amount "
                            "stopped at the time limit") for n in notes), notes
    assert "proven (" not in "\n".join(e.lines())


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "allocator", *args], capture_output=True,
                          text=True, check=False, timeout=300)


def test_explain_shows_its_stages_on_stderr(tiny):
    folder: Path = tiny(industries=industries(6), talent_supply=supply(1, 2),
                        talent_need=NEED)
    done = run("explain", str(folder))
    assert done.returncode == 4, done.stderr
    stages = [line for line in done.stderr.splitlines() if line.startswith("explain: ")]
    assert [s.split(" (at ")[0] for s in stages[:-1]] == [
        "explain: building the model and its elastic copy",
        "explain: stage 1 of 3: the fewest limits to relax",
        "explain: stage 2 of 3: the least total amount",
        "explain: stage 3 of 3: the least amount of relaxed limit 1 of 2",
        "explain: stage 3 of 3: the least amount of relaxed limit 2 of 2",
        "explain: second view: the IIS of the LP relaxation",
    ]
    assert all(s.endswith(" s)") for s in stages[:-1])
    assert stages[-1].startswith("explain: done in ")
    assert "at least 2 people, proven" in done.stdout
    assert "explain:" not in done.stdout  # progress is on stderr only
    quiet = run("explain", str(folder), "--quiet")
    assert quiet.returncode == 4 and "explain:" not in quiet.stderr


def test_relaxations_are_ranked_by_the_share_of_the_limit_the_planner_reads(tiny):
    # Markets A 6, B 4, at most 4 per site: market A short 2 (33% of 6) and the national
    # requirement short 2 (20% of 10; tests/test_explain.py::test_demand_markets). "Largest
    # first" is by the share each row shows, so market A comes first; the requirement's limit
    # sits in its row's body, where the ranking had taken a scale of 1 (200%) and put it first.
    industries = """
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
        nev,NEV,,4,1,5,1,4
    """
    folder = tiny(industries=industries, markets="industry,region,demand\nnev,A,6\nnev,B,4")
    e = explain(allocator.load_instance(folder))
    assert [(r.family, round(r.relative, 3)) for r in e.relaxations.itertuples()] == [
        ("markets", 0.333), ("capacity", 0.2)]
    text = "\n".join(e.lines())
    assert text.index("[33% of the limit]") < text.index("[20% of the limit]")
