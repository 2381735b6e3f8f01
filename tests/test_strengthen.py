"""The valid inequalities and pruning keep the optimum: strengthened and plain formulations
reach the same objective; the rows themselves are what the math says; the independent
reference builder (benchmarks/reference.py) builds the same model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pyomo.repn import generate_standard_repn
from support import hosted

import allocator
from allocator.tools.generate import generate

ROOT = Path(__file__).resolve().parent.parent


def _solve(folder: Path, strengthen: bool, families: list[str] | None = None):
    built = allocator.build_model(allocator.load_instance(folder), families,
                                  strengthen=strengthen)
    return built, allocator.solve(built, allocator.SolverOptions(mip_gap=0.0, threads=1))


def _coefs(con) -> dict[str, float]:
    """Coefficients of the row written as ``body >= bound`` (or ``body <= bound`` when it only
    has an upper bound, as Pyomo may store ``a >= b`` as ``b - a <= 0``: then flipped)."""
    repn = generate_standard_repn(con.body)
    sign = -1.0 if con.lower is None and con.upper is not None and con.upper == 0 else 1.0
    return {v.name: sign * c for v, c in zip(repn.linear_vars, repn.linear_coefs,
                                             strict=True)}


@pytest.mark.parametrize(("regions", "industries", "seed"),
                         [(8, 4, 1), (8, 4, 2), (8, 4, 3), (10, 4, 2), (12, 5, 1)])
def test_strengthened_and_plain_reach_the_same_optimum(tmp_path, regions, industries, seed):
    folder = generate(regions, industries, seed, tmp_path / "i")
    strong_model, strong = _solve(folder, True)
    plain_model, plain = _solve(folder, False)
    assert strong.status == plain.status == "optimal"
    assert strong.objective == pytest.approx(plain.objective, rel=1e-6)
    # the strengthened model really is different: its cuts are there, the plain one has none
    cap = strong_model.block("capacity")
    assert len(cap.capacity_cover_by_hosts) > 0
    assert len(plain_model.block("capacity").capacity_cover_by_hosts) == 0
    assert len(plain_model.pruned) == 0


THREE = """
id,name,group,latitude,longitude,funding_budget
A,Alpha,g1,0,0,1000
B,Beta,g2,0,1,1000
C,Gamma,g3,0,2,1000
"""


def test_capacity_cuts_hand_checked(tiny):
    # Demand 25, sites of at most 10: G = 25, so the hosts' maxima cover 25 and at least
    # ceil(25 / 10) = 3 regions host. Optimum: all three, 3 * 5 fixed + 25 capex = 40.
    folder = tiny(regions=THREE, industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
        nev,NEV,25,4,1,5,1,10
    """)
    built, r = _solve(folder, True, ["capacity"])
    cap = built.block("capacity")
    assert cap.capacity_fewest_hosts["nev"].lower == 3
    assert set(_coefs(cap.capacity_fewest_hosts["nev"]).values()) == {1.0}
    assert cap.capacity_cover_by_hosts["nev"].lower == pytest.approx(25.0)
    assert set(_coefs(cap.capacity_cover_by_hosts["nev"]).values()) == {10.0}
    assert r.objective == pytest.approx(40.0)
    assert hosted(r) == {("nev", "A"), ("nev", "B"), ("nev", "C")}
    _, plain = _solve(folder, False, ["capacity"])
    assert plain.objective == pytest.approx(40.0)


def test_chain_cuts_hand_checked(tiny):
    # chips -> cars (1 chip per car); arcs only to oneself (nearest 0, no group arcs); chips
    # only in A. Cars 10 (min scale 4, capex 1, fixed 5), chips site maximum 50 (capex 1,
    # fixed 1). Plain model (no pruning): cars in B or C would get no chips, so A makes both:
    # 5 + 10 + 1 + 10 = 26.
    folder = tiny(
        toml="[chain_coordination]\nnearest = 0\nsame_group = false\nstrengthen = true\n"
             "[sites]\nprune = false\n",
        regions=THREE,
        industries="""
            id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
            chips,Chips,0,1,1,1,1,50
            cars,Cars,10,4,1,5,1,
        """,
        chain="upstream,downstream,ratio\nchips,cars,1\n",
        sites="industry,region,allowed\nchips,B,false\nchips,C,false\n")
    families = ["capacity", "chain_coordination"]
    built, r = _solve(folder, True, families)
    chain = built.block("chain_coordination")
    # a hosting car plant needs a hosting chip plant within reach: only A reaches A
    assert _coefs(chain.chain_coordination_supplier_within_reach["chips", "cars", "A"]) == {
        "hosts[chips,A]": 1.0, "hosts[cars,A]": -1.0}
    assert _coefs(chain.chain_coordination_supplier_within_reach["chips", "cars", "B"]) == {
        "hosts[cars,B]": -1.0}
    # flow A -> A at most min(50, 1 * 10) = 10 times hosts[chips, A]: 10 x - flow >= 0
    link = _coefs(chain.chain_coordination_flow_within_host["chips", "A", "A"])
    assert link == pytest.approx({"hosts[chips,A]": 10.0,
                                  "family[chain_coordination].flow[chips,A,A]": -1.0})
    assert r.objective == pytest.approx(26.0)
    assert hosted(r) == {("chips", "A"), ("cars", "A")}
    _, plain = _solve(folder, False, families)
    assert plain.objective == pytest.approx(26.0)


def test_softened_limits_drop_the_cuts_that_rest_on_them(tiny):
    folder = tiny(regions=THREE, industries="""
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts,capacity_max
        nev,NEV,25,4,1,5,1,10
    """)
    inst = allocator.load_instance(folder)
    built = allocator.build_model(inst, ["capacity"], soft=["capacity"])
    assert len(built.block("capacity").capacity_cover_by_hosts) == 0


def test_the_reference_builder_builds_the_same_model(tmp_path):
    """benchmarks/reference.py restates the model with numpy alone: same size, same LP
    relaxation (a cross-check of both)."""
    import highspy

    from allocator.engine.highs import SolverOptions, compile_model, make_highs

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import reference
    finally:
        sys.path.pop(0)
    folder = generate(31, 10, 7, tmp_path / "i")
    ref = reference.build(folder)
    built = allocator.build_model(allocator.load_instance(folder))
    form = compile_model(built.model)
    assert (ref.num_col, ref.num_row, ref.matrix.nnz) == (
        len(form.columns), len(form.rows), len(form.value))
    assert ref.pruned == len(built.pruned)
    ref.integrality[:] = 0
    form.integrality[:] = 0
    h_ref = reference.to_highs(ref)
    h_ref.run()
    h = make_highs(form, SolverOptions())
    h.run()
    assert h.getModelStatus() == h_ref.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h_ref.getInfo().objective_function_value == pytest.approx(
        h.getInfo().objective_function_value, rel=1e-9)
