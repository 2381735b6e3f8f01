"""Supply-shock scenarios: the two-stage stochastic program (allocator.engine.stochastic), its value
(allocator.analysis.value) and the checks of shocks.csv (allocator.input.scenarios)."""

from __future__ import annotations

import json
from pathlib import Path

import pyomo.environ as pyo
import pytest
from click.testing import CliRunner

import allocator
from allocator.analysis.value import stochastic_value
from allocator.cli import main
from allocator.core.errors import InputError
from tests.support import hosted, verified, write_instance

# Two regions, one industry ("cell"), its whole demand of 10 in market A. Each site: fixed
# cost 10, capex 1 per unit, no minimum scale; site maximum 20 in A, 10 in B (the default:
# the national requirement). Shipping A -> A is free, B -> A costs 5 per unit (arcs.csv).
# Unmet demand costs pi = 50 per unit. Scenarios: base (p = 0.8, nothing happens) and
# a_offline (p = 0.2: region A's availability is 0, it produces nothing).
#
# Deterministic plan (today's model, no shocks): host A only, q_A = 10:
#   10 + 10 = 20.
# Stochastic plans (first stage + 0.8 * base cost + 0.2 * offline cost):
#   A only, q_A = 10:           20 + 0.2 * (50 * 10)            = 120
#   B only, q_B = 10:           20 + 5 * 10 in both scenarios    =  70
#   A and B, q_A = 10, q_B = y: 20 + 10 + y + 0.2 * (5y + 50 (10 - y)) = 130 - 8y,
#     best at y = 10: 50 (q_A below 10 saves 1 per unit and costs 0.8 * 5 = 4 in base).
# RP = 50: the stochastic plan hosts B as well, which the deterministic plan does not.
#
# EV (expected data: A's availability 0.8 * 1 + 0.2 * 0 = 0.8, one scenario):
#   A only, q_A in [10, 20]: 10 + q_A + 50 (10 - 0.8 q_A) = 510 - 39 q_A -> q_A = 12.5: 22.5
#   A and B: q_A = 10 (8 run), q_B = 2: 20 + 12 + 5 * 2 = 42; B only: 70.   EV = 22.5.
# EEV (EV's plan, A only with 12.5, facing the scenarios): 22.5 + 0.8 * 0 + 0.2 * 50 * 10
#   = 122.5.   VSS = EEV - RP = 122.5 - 50 = 72.5.
# WS: base alone 20 (A only); a_offline alone: B only 70 (capacity must still cover the
#   demand of 10; with A it would be 20 + 500). WS = 0.8 * 20 + 0.2 * 70 = 30.
#   EVPI = RP - WS = 50 - 30 = 20.
TINY = dict(
    industries="""
    id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
    cell,Cells,,0,1,10,2
    """,
    sites="""
    industry,region,max_capacity
    cell,A,20
    cell,B,10
    """,
    markets="""
    industry,region,demand
    cell,A,10
    """,
    arcs="""
    from,to,distance_km,unit_cost
    B,A,,5
    """,
    shocks="""
    scenario,probability,kind,target,factor
    base,0.8,,,
    a_offline,0.2,availability,A,0
    """,
)
PENALTY = "[scenarios]\nunmet_penalty = 50\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_instance(tmp_path_factory.mktemp("shock") / "tiny", PENALTY, **TINY)


def _solve(folder: Path, **kw: object) -> allocator.Result:
    inst = allocator.load_instance(folder)
    built = allocator.build_model(inst, ["markets"], **kw)
    return verified(folder, allocator.solve(built, allocator.SolverOptions(mip_gap=0.0)))


def test_stochastic_plan_hosts_the_backup_region(tiny: Path) -> None:
    result = _solve(tiny)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(50.0)
    assert hosted(result) == {("cell", "A"), ("cell", "B")}
    cap = result.tables["allocation"].set_index("region")["capacity"]
    assert cap["A"] == pytest.approx(10) and cap["B"] == pytest.approx(10)
    prod = result.tables["scenario_production"].set_index(["scenario", "region"])["production"]
    assert prod["base", "A"] == pytest.approx(10) and prod["base", "B"] == pytest.approx(0)
    assert prod["a_offline", "A"] == pytest.approx(0)
    assert prod["a_offline", "B"] == pytest.approx(10)
    sc = result.tables["scenarios"].set_index("scenario")
    assert sc.loc["base", "total_cost"] == pytest.approx(40)  # investment only
    assert sc.loc["a_offline", "total_cost"] == pytest.approx(90)  # + 10 shipped at 5
    assert sc["unmet"].sum() == pytest.approx(0)
    obj = result.tables["objective"].set_index("term")["value"]
    assert obj["investment"] == pytest.approx(40) and obj["transport"] == pytest.approx(10)
    s = result.summary["stochastic"]
    assert s["worst_case"]["scenario"] == "a_offline"
    assert s["expected_total_cost"] == pytest.approx(50)


def test_deterministic_plan_hosts_one_region(tiny: Path) -> None:
    result = _solve(tiny, scenarios=[])
    assert result.objective == pytest.approx(20.0)
    assert hosted(result) == {("cell", "A")}
    assert "scenarios" not in result.tables


def test_vss_and_evpi_by_hand(tiny: Path) -> None:
    inst = allocator.load_instance(tiny)
    value = stochastic_value(inst, allocator.SolverOptions(mip_gap=0.0), ["markets"])
    assert [s.status for s in value.solves] == ["optimal"] * 5
    assert value.rp == pytest.approx(50.0)
    assert value.ev == pytest.approx(22.5)
    assert value.eev == pytest.approx(122.5)
    assert value.ws == pytest.approx(30.0)
    assert value.vss == pytest.approx(72.5)
    assert value.evpi == pytest.approx(20.0)


def test_cvar_weighs_the_bad_scenario(tmp_path: Path) -> None:
    # CVaR at alpha = 0.8 of the second-stage cost is the cost of the worst 20%: the
    # a_offline scenario alone. A and B (q_B = 10): 40 + 50 (10 shipped at 5) = 90; A only
    # 20 + 500; B only 20 + 50 = 70, cheaper than A and B now (the base scenario's free
    # shipping no longer counts). Objective 70 = expected cost of B only (70) + premium 0.
    folder = write_instance(tmp_path / "cvar", PENALTY + 'risk = "cvar"\ncvar_alpha = 0.8\n',
                            **TINY)
    result = _solve(folder)
    assert result.objective == pytest.approx(70.0)
    assert hosted(result) == {("cell", "B")}
    obj = result.tables["objective"].set_index("term")["value"]
    assert obj["cvar_premium"] == pytest.approx(0.0)


def test_unmet_demand_when_the_only_region_goes_offline(tmp_path: Path) -> None:
    # B may not host: the offline scenario leaves the whole demand of 10 unmet at 50 each.
    # Plan: A with 10; 20 + 0.2 * 500 = 120.
    tables = dict(TINY, sites="""
    industry,region,max_capacity,allowed
    cell,A,20,
    cell,B,,false
    """)
    folder = write_instance(tmp_path / "unmet", PENALTY, **tables)
    result = _solve(folder)
    assert result.objective == pytest.approx(120.0)
    unmet = result.tables["scenario_unmet"].set_index("scenario")["unmet"]
    assert unmet["a_offline"] == pytest.approx(10) and unmet["base"] == pytest.approx(0)


# Shocks to key inputs: one industry needs 1 unit of input k per unit, price 2, import cap
# 10, no domestic supply; demand 10 (national). Deterministic: capacity 10, 10 imported:
# investment 10 + 10 = 20, input cost 2 * 10 = 20: 40. Scenario "cut" (p = 0.5): import cap
# x0.4 -> only 4 units can run: 6 unmet at 50 = 300, input cost 8. Scenario "spike" (p =
# 0.5): price x3 -> 6 per unit, 10 units: 60 (below 50 per unit unmet). Expected: 20 + 0.5
# (8 + 300) + 0.5 * 60 = 204.
INPUT_TABLES = dict(
    industries="""
    id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
    cell,Cells,10,0,1,10,1
    """,
    sites="""
    industry,region,allowed
    cell,B,false
    """,
    inputs="""
    id,name,import_cap,price
    k,Key input,10,2
    """,
    input_need="""
    industry,input,need
    cell,k,1
    """,
    shocks="""
    scenario,probability,kind,target,factor
    cut,0.5,import_cap,k,0.4
    spike,0.5,input_price,k,3
    """,
)


def test_import_cap_and_price_shocks(tmp_path: Path) -> None:
    folder = write_instance(tmp_path / "inputs", PENALTY, **INPUT_TABLES)
    inst = allocator.load_instance(folder)
    det = verified(folder, allocator.solve(allocator.build_model(inst, ["supply"],
                                                                 scenarios=[]),
                                           allocator.SolverOptions(mip_gap=0.0)))
    assert det.objective == pytest.approx(40.0)
    res = verified(folder, allocator.solve(allocator.build_model(inst, ["supply"]),
                                           allocator.SolverOptions(mip_gap=0.0)))
    assert res.objective == pytest.approx(204.0)
    costs = res.tables["scenario_costs"].set_index(["scenario", "term"])["value"]
    assert costs["cut", "input_cost"] == pytest.approx(8.0)
    assert costs["cut", "unmet"] == pytest.approx(6.0)
    assert costs["spike", "input_cost"] == pytest.approx(60.0)
    imports = res.tables["scenario_imports"].set_index("scenario")["amount"]
    assert imports["cut"] == pytest.approx(4.0) and imports["spike"] == pytest.approx(10.0)


def test_deterministic_model_is_unchanged_by_the_engine(tiny: Path) -> None:
    """Without scenarios the model has no scenario component and the families' blocks are on
    model.family as before (the bundled instance's expected.toml and every family test guard
    the numbers)."""
    inst = allocator.load_instance(tiny)
    built = allocator.build_model(inst, ["markets"], scenarios=[])
    names = {c.local_name for c in built.model.component_objects(descend_into=False)}
    assert "scenario" not in names and "cvar_threshold" not in names
    assert list(built.model.families) == ["capacity", "markets"]
    stoch = allocator.build_model(inst, ["markets"])
    assert list(stoch.model.families) == ["capacity"]
    assert list(stoch.model.scenario["base"].families) == ["markets"]
    assert isinstance(stoch.model.scenario["base"].production, pyo.Var)


# ---------------------------------------------------------------- shocks.csv validation
def _problems(tmp_path: Path, shocks: str, **extra: str) -> list[str]:
    tables = dict(INPUT_TABLES, shocks=shocks, **extra)
    folder = write_instance(tmp_path / "bad", PENALTY, **tables)
    with pytest.raises(InputError) as info:
        allocator.load_instance(folder)
    return [str(p) for p in info.value.problems]


def test_probabilities_must_agree_and_sum_to_one(tmp_path: Path) -> None:
    problems = _problems(tmp_path, """
    scenario,probability,kind,target,factor
    a,0.5,import_cap,k,0.5
    a,0.4,input_price,k,2
    b,0.4,,,
    """)
    assert any("shocks.csv, row 3, column 'probability': value 0.4" in p
               and "probability 0.5 on row 2" in p for p in problems), problems
    assert any("sum to 0.9, not 1" in p for p in problems), problems


def test_kinds_targets_and_factors_are_checked(tmp_path: Path) -> None:
    problems = _problems(tmp_path, """
    scenario,probability,kind,target,factor
    a,0.25,earthquake,A,0
    b,0.25,availability,Z,0
    c,0.25,availability,A,1.5
    d,0.25,import_cap,kk,0.5
    d,0.25,input_price,k,
    d,0.25,,A,
    """)
    text = "\n".join(problems)
    assert "row 2, column 'kind': value 'earthquake': unknown kind" in text
    assert "row 3, column 'target': value 'Z': unknown regions id" in text
    assert "row 4, column 'factor': value 1.5: availability" in text
    assert "row 5, column 'target': value 'kk': unknown inputs id (did you mean 'k'?)" in text
    assert "row 6, column 'factor': a shock of kind input_price needs a factor" in text
    assert "row 7, column 'target': value 'A': a row without kind" in text


def test_negative_factor_and_unscalable_input(tmp_path: Path) -> None:
    problems = _problems(tmp_path, """
    scenario,probability,kind,target,factor
    a,1,import_cap,k,-1
    a,1,input_price,k,2
    """, inputs="""
    id,name,import_cap
    k,Key input,
    """)
    text = "\n".join(problems)
    assert "row 2, column 'factor': value -1.0: must be >= 0" in text
    assert "input k has no price in inputs.csv" in text


def test_cli_table_option_and_exit_code(tiny: Path, tmp_path: Path) -> None:
    # the shocks file under another name, enabled from the command line only
    folder = write_instance(tmp_path / "cli", PENALTY, **{**TINY, "shocks": None})
    (folder / "scenarios").mkdir()
    (folder / "scenarios" / "s.csv").write_text((tiny / "shocks.csv").read_text())
    runner = CliRunner()
    det = runner.invoke(main, ["solve", str(folder), "--without", "supply", "--quiet"])
    assert det.exit_code == 0, det.output
    assert "Scenarios" not in det.output
    out = tmp_path / "out"
    res = runner.invoke(main, ["solve", str(folder), "--quiet", "--table",
                               "shocks=scenarios/s.csv", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "worst case" in res.output and "a_offline" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stochastic"]["worst_case"]["scenario"] == "a_offline"
    assert (out / "scenario_production.csv").is_file()
    # verify finds the shocks file the solve used in summary.json
    verify = runner.invoke(main, ["verify", str(folder), str(out)])
    assert verify.exit_code == 0, verify.output
    bad = runner.invoke(main, ["solve", str(folder), "--table", "shocks=nope.csv"])
    assert bad.exit_code == 2
    typo = runner.invoke(main, ["solve", str(folder), "--table", "shock=scenarios/s.csv"])
    assert typo.exit_code == 2 and "unknown table" in typo.output
    # every default family is on here (duplication, ...): the numbers differ from the hand
    # computation above; what holds whatever the families: VSS = EEV - RP >= 0, EVPI >= 0
    numbers = tmp_path / "value.json"
    value = runner.invoke(main, ["stochastic-value", str(folder), "--gap", "0", "--table",
                                 "shocks=scenarios/s.csv", "-o", str(numbers),
                                 "--rp-output", str(tmp_path / "rp")])
    assert value.exit_code == 0, value.output
    assert "VSS = EEV - RP" in value.output
    v = json.loads(numbers.read_text())
    assert v["VSS"] == pytest.approx(v["EEV"] - v["RP"]) and v["VSS"] >= -1e-6
    assert v["EVPI"] == pytest.approx(v["RP"] - v["WS"]) and v["EVPI"] >= -1e-6
    assert [s["name"] for s in v["solves"]] == ["EV", "EEV", "RP", "WS:base", "WS:a_offline"]
    rp = json.loads((tmp_path / "rp" / "summary.json").read_text())
    assert rp["objective"] == pytest.approx(v["RP"])
    assert runner.invoke(main, ["verify", str(folder), str(tmp_path / "rp")]).exit_code == 0


def test_scenario_components_are_documented(tiny: Path, tmp_path: Path) -> None:
    """Math and code agree for the engine's stochastic components (docs/formulation.md is
    generated from SCENARIO_SYMBOLS)."""
    from allocator.engine.stochastic import SCENARIO_SYMBOLS

    kinds = {"variable", "constraint", "expression", "set", "block", "objective"}
    documented = {s.name for s in SCENARIO_SYMBOLS if s.kind in kinds}
    folder = write_instance(tmp_path / "cvar", PENALTY + 'risk = "cvar"\n', **TINY)
    for inst_folder in (tiny, folder):
        built = allocator.build_model(allocator.load_instance(inst_folder), ["markets"])
        blk = built.model.scenario["base"]
        local = {c.local_name for c in blk.component_objects(descend_into=False)
                 if not c.local_name.startswith("_")}
        root = {c.local_name for c in built.model.component_objects(descend_into=False)}
        new_root = root & documented
        assert local | new_root <= documented, (local | new_root) - documented
        assert local >= {"production", "production_within_available", "unmet",
                         "production_covers_demand", "scenario_cost"}
    assert {"cvar_threshold", "cvar_excess", "cvar_excess_above_threshold"} <= new_root
    from allocator.engine import stochastic

    for s in SCENARIO_SYMBOLS:
        if s.kind in ("constraint", "variable") and s.name not in ("scenario_term",):
            assert s.name.replace("_", r"\_") in stochastic.__doc__ or s.name in (
                stochastic.__doc__ or ""), s.name


def test_report_shows_expected_and_worst_case(tiny: Path, tmp_path: Path) -> None:
    from allocator.output.report import write_report

    result = _solve(tiny)
    out = allocator.write_results(result, tmp_path / "res")
    page, _ = write_report(out, tmp_path / "report.html")
    text = Path(page).read_text(encoding="utf-8")
    assert "Supply shocks: expected and worst case" in text
    assert "worst case: a_offline" in text


def test_pruning_never_removes_a_site_a_scenario_can_use(tmp_path: Path) -> None:
    # One site (A), minimum scale 8 = demand; it needs 1 unit of input k per unit, and k's
    # import cap is 5 (no domestic supply). Deterministic: the supply limit caps the site at
    # 5 < 8, so pruning leaves it out and nothing can meet demand: infeasible. With scenarios
    # the supply limit bounds production, not capacity: pruning uses only first-stage
    # limits, the site stays, and the plan builds 8 (10 + 8 = 18). base (p = 0.5): 5 run, 3
    # unmet at 50 = 150; boom (p = 0.5, cap x2 = 10): all 8 run. Expected: 18 + 75 = 93.
    tables = dict(INPUT_TABLES, industries="""
    id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
    cell,Cells,8,8,1,10,1
    """, inputs="""
    id,name,import_cap
    k,Key input,5
    """, shocks="""
    scenario,probability,kind,target,factor
    base,0.5,,,
    boom,0.5,import_cap,k,2
    """)
    folder = write_instance(tmp_path / "prune", PENALTY, **tables)
    inst = allocator.load_instance(folder)
    det_built = allocator.build_model(inst, ["supply"], scenarios=[])
    assert len(det_built.pruned) == 1
    det = allocator.solve(det_built, allocator.SolverOptions(mip_gap=0.0))
    assert det.status == "infeasible"
    built = allocator.build_model(inst, ["supply"])
    assert len(built.pruned) == 0
    res = verified(folder, allocator.solve(built, allocator.SolverOptions(mip_gap=0.0)))
    assert res.objective == pytest.approx(93.0)
    unmet = res.tables["scenario_unmet"].set_index("scenario")["unmet"]
    assert unmet["base"] == pytest.approx(3.0) and unmet["boom"] == pytest.approx(0.0)
