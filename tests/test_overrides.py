"""Overrides (allocator.input.overrides), the sweep file (allocator.input.sweep) and the
engine's term bounds, without Dask: every problem named by its case and key, the changed
instance, the bound of a frontier point on a tiny instance solved by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyomo.environ as pyo
import pytest
from support import verified

import allocator
from allocator.core.errors import InputError
from allocator.input.overrides import Overrides, parse_assignment, parse_overrides
from allocator.input.read import read_instance
from allocator.input.sweep import load_cases, read_sweep
from allocator.output.folder import write_results
from allocator.verify import verify

# Two regions one degree apart on the equator (support.REGIONS: A in group g1, B in g2, not
# neighbours at distance_km = 50). Chips feed NEVs (ratio 1); NEV demand 10, made in B only.
# Chips: capex 1 in A, 2 in B where at most 6 can be made; shipping A -> B costs 0.5 a unit
# (arcs.csv); one chip host is the target, each host beyond costs site_excess weight 3.
TOML = """
[objective]
site_excess = 3.0
[duplication_neighbors]
distance_km = 50.0
[chain_coordination]
cost_per_unit_km = 0.0
"""
TABLES = {
    "industries": """
        id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
        chip,Chips,0,0,1,0,1
        nev,NEV,10,0,0,0,1
    """,
    "chain": """
        upstream,downstream,ratio
        chip,nev,1
    """,
    "sites": """
        industry,region,allowed,unit_capex,max_capacity
        chip,B,,2,6
        nev,A,false,,
    """,
    "arcs": """
        from,to,distance_km,unit_cost
        A,B,,0.5
    """,
}


@pytest.fixture
def chips(tiny) -> Path:
    return tiny(TOML, **TABLES)


def problems(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


# ---------------------------------------------------------------------- form
def test_every_problem_of_a_case_form_is_named_by_its_key():
    _, found = parse_overrides({
        "name": "x", "bogus": 1, "without": "resilience", "scale": 1.2,
        "scale.talent_supply": 2.0, "bound": {"coordination": "low"},
        "where": {"region": {"a": 1}}}, "s.toml, case 'x'", skip=("name",))
    assert [str(p) for p in found] == [
        "s.toml, case 'x', bogus: value 1: unknown key; expected \"SECTION.KEY\" (an "
        "instance.toml setting, e.g. \"objective.site_excess\"), without, with, scale, assign, "
        "where, bound",
        "s.toml, case 'x', without: value 'resilience': expected a list of family names, e.g. "
        "[\"resilience\"]",
        "s.toml, case 'x', scale: value 1.2: expected a table, e.g. scale = "
        "{\"talent_supply.supply\" = 1.2}",
        "s.toml, case 'x', where: value {'region': {'a': 1}}: where region: expected a value "
        "or a list of values",
        "s.toml, case 'x', scale talent_supply: value 2.0: expected \"TABLE.COLUMN\", e.g. "
        "\"talent_supply.supply\"",
        "s.toml, case 'x', bound coordination: value 'low': expected a finite number (the most "
        "the term may be, before weighting)",
    ]


def test_every_override_is_checked_against_the_instance(chips):
    base = read_instance(chips)
    overrides, found = parse_overrides({
        "objective.site_excess": "high", "solver.mip_gapp": 0.1, "nosuch.key": 1,
        "tables.chain": "../elsewhere.csv", "tables.arcs": "missing.csv",
        "funding.national_fund": -5.0, "families.without": ["talent"],
        "without": ["nosuch"], "with": ["duplication", "nosuch2"],
        "scale": {"industries.target_hosts": 2.0, "industries.unit_capex": -1.0},
        "assign": {"industries.critical": "yes", "industries.id": "x",
                   "regions.colour": "red"},
        "bound": {"nosuch": 1.0}}, "case 'x'")
    assert found == []
    got = [str(p) for p in overrides.check(base, "s.toml, case 'x'")]
    where = "s.toml, case 'x'"
    assert got[:7] == [
        f"{where}, objective.site_excess: value 'high': expected a number (float)",
        f"{where}, solver.mip_gapp: value 0.1: unknown option; known options of [solver]: "
        "mip_gap, seed, threads, time_limit",
        f"{where}, nosuch.key: value 1: unknown section; expected one of: units, solver, "
        "sites, scenarios, objective, tables, capacity, chain_coordination, duplication, "
        "duplication_neighbors, funding, markets, pilot_bases, policy, resilience, supply, "
        "talent",
        f"{where}, tables.chain: value '../elsewhere.csv': the path points outside the "
        "instance folder; keep variant tables inside it (e.g. variants/), so that the "
        "instance and its what-ifs travel together",
        f"{where}, tables.arcs: value 'missing.csv': file missing.csv does not exist in the "
        f"instance folder {chips}",
        f"{where}, funding.national_fund: value -5.0: must be >= 0",
        f"{where}, families.without: value ['talent']: switch families with without = [...] "
        "and with = [...]",
    ]
    assert got[7].startswith(f"{where}, without: value 'nosuch': unknown family; known "
                             "families: capacity, chain_coordination,")
    # with: a family already on (duplication) stays on; an unknown one is a problem
    assert got[8].startswith(f"{where}, with: value 'nosuch2': unknown family; known "
                             "families: capacity, chain_coordination,")
    assert got[9:] == [
        f"{where}, scale industries.target_hosts: value 2.0: target_hosts holds whole "
        "numbers; give the new value with assign = {\"industries.target_hosts\" = ...}",
        f"{where}, scale industries.unit_capex: value -1.0: expected a factor: a finite "
        "number >= 0 (1.2 = +20%)",
        f"{where}, assign industries.critical: value 'yes': expected true or false",
        f"{where}, assign industries.id: value 'x': a key or id column cannot be changed: it "
        "says which row is which",
        f"{where}, assign regions.colour: value 'red': unknown column of regions.csv; "
        "columns: id, name, group, latitude, longitude, funding_budget, max_industries, "
        "min_industries",
        f"{where}, bound nosuch: value 1.0: unknown objective term; known terms: "
        "coordination, input_cost, investment, neighbor_pairs, overcapacity, pilot_bases, "
        "site_excess, transport",
    ]


def test_rules_of_the_input_run_on_the_changed_data_named_by_case(chips):
    sweep = chips / "what-if.toml"
    sweep.write_text("""
        [[case]]
        name = "big chips"
        assign = { "industries.min_scale" = 7.0 }
        where = { id = "chip" }

        [[case]]
        name = "typo"
        scale = { "sites.max_capacity" = 2.0 }
        where = { region = "b" }

        [[case]]
        name = "fine"
        "objective.site_excess" = 5.0
    """)
    spec = read_sweep(sweep)
    with pytest.raises(InputError) as exc:
        load_cases(chips, spec.cases, sweep.name)
    # B can make at most 6 chips: a minimum scale of 7 rules the site out (a rule of the
    # input, run on the changed table); region "b" is no region (ids are case-sensitive)
    assert problems(exc) == [
        "what-if.toml, case 'big chips': sites.csv, row 2, column 'max_capacity': value 6.0: "
        "max capacity 6 is below the industry's min_scale 7: the site could never host; "
        "forbid it (allowed = false) or raise the maximum",
        "what-if.toml, case 'typo': sites.csv, column 'region': where region = b matches no "
        "row (scale of max_capacity); did you mean 'B'?",
    ]


def test_a_sweep_file_reports_every_problem_at_once(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("""
        colour = "red"
        [grid]
        "objective.site_excess" = 50.0
        [[case]]
        "objective.site_excess" = 1.0
        [[case]]
        name = "twice"
        [[case]]
        name = "twice"
    """)
    with pytest.raises(InputError) as exc:
        read_sweep(path)
    assert problems(exc) == [
        "bad.toml, colour: value 'red': unknown key; a sweep file has [base], [grid] and "
        "[[case]] (and description)",
        "bad.toml, [grid] objective.site_excess: value 50.0: expected a list of the values to "
        "sweep, e.g. [50.0, 200.0]",
        "bad.toml, case 1: every [[case]] needs a name (text), e.g. name = \"chip talent "
        "+20%\"",
        "bad.toml, case 'twice': 2 cases have this name; each case needs its own",
    ]


def test_grid_cases_and_named_cases_with_the_base(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("""
        [base]
        "solver.mip_gap" = 0.01
        without = ["policy"]
        [grid]
        "objective.site_excess" = [50.0, 200.0]
        without = [[], ["resilience", "funding"]]
        [[case]]
        name = "Chip talent +20%"
        scale = { "talent_supply.supply" = 1.2 }
        where = { talent_class = "chip_engineers" }
        with = ["policy"]
    """)
    spec = read_sweep(path)
    assert [c.name for c in spec.cases] == [
        "site_excess=50, without=none",
        "site_excess=50, without=resilience+funding",
        "site_excess=200, without=none",
        "site_excess=200, without=resilience+funding",
        "Chip talent +20%"]
    assert [c.slug for c in spec.cases][-1] == "chip-talent-20"
    second, named = spec.cases[1].overrides, spec.cases[-1].overrides
    assert second.settings == (("solver.mip_gap", 0.01), ("objective.site_excess", 50.0))
    assert second.without == ("policy", "resilience", "funding")
    # a named case's with takes back the base's without
    assert named.without == () and named.switch_on == ("policy",)
    assert named.describe() == ("solver.mip_gap = 0.01; with policy; talent_supply.supply "
                                "x1.2 where talent_class = chip_engineers")
    assert Overrides.from_dict(named.to_dict()) == named
    assert spec.axes == {"objective.site_excess": [50.0, 200.0],
                         "without": [[], ["resilience", "funding"]]}


def test_overrides_change_the_instance_in_memory(chips):
    (chips / "variants").mkdir()
    (chips / "variants" / "arcs_cheap.csv").write_text("from,to,distance_km,unit_cost\n"
                                                       "A,B,,0.1\n")
    before = (chips / "sites.csv").read_bytes()
    overrides, found = parse_overrides({
        "objective.site_excess": 7.0, "tables.arcs": "variants/arcs_cheap.csv",
        "without": ["duplication_neighbors"],
        "scale": {"regions.funding_budget": 0.5}, "where": {"group": "g2"},
        "assign": {"sites.max_capacity": 8.0}}, "case 'x'")
    assert found == [] and overrides.check(read_instance(chips), "case 'x'") == []
    inst = allocator.load_instance(chips, overrides=overrides)
    assert inst.weights["site_excess"] == 7.0
    assert float(inst.table("arcs")["unit_cost"].iloc[0]) == 0.1
    assert inst.files["arcs"] == "variants/arcs_cheap.csv"
    assert not inst.is_active("duplication_neighbors")
    # the region of group g2 (B) has half its budget; A keeps 1000
    assert list(inst.table("regions")["funding_budget"]) == [1000.0, 500.0]
    # where applies to every change of the case: sites.csv has no group column, but its
    # region column finds B's group
    assert list(inst.table("sites")["max_capacity"].fillna(-1)) == [8.0, -1.0]
    assert (chips / "sites.csv").read_bytes() == before  # nothing written


def test_parse_assignment_reads_values_as_toml():
    assert parse_assignment("solver.mip_gap=0.01") == ("solver.mip_gap", 0.01)
    assert parse_assignment("sites.prune = false") == ("sites.prune", False)
    assert parse_assignment("units.money=CNY 100m") == ("units.money", "CNY 100m")
    with pytest.raises(ValueError):
        parse_assignment("solver.mip_gap")


def test_bad_cases_stop_the_sweep_before_any_solve(chips, tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text('[[case]]\nname = "a"\n"objective.site_excess" = "x"\n'
                     '[[case]]\nname = "b"\nbound = { transport = 1.0 }\n')
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "allocator", "sweep", str(chips), str(sweep),
                           "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    # markets is off (no markets.csv): nothing contributes transport in case b
    assert "s.toml, case 'a', objective.site_excess: value 'x': expected a number" in \
        done.stderr
    assert ("s.toml, case 'b', bound transport: value 1.0: no active family of this case "
            "contributes the term") in done.stderr
    assert "Nothing was solved" in done.stderr
    assert not out.exists()


# ---------------------------------------------------------------------- term bounds
@pytest.mark.parametrize(("bound", "objective", "terms"), [
    # No bound: A makes all 10 chips (capex 10) and ships them (0.5 x 10 = 5): 15.
    (None, 15.0, {"investment": 10.0, "coordination": 5.0, "site_excess": 0.0}),
    # coordination <= 3.5: at most 7 chips shipped, so B makes 3 (capex 2 each), a second
    # host (site_excess 1 x 3): 7 + 6 + 3.5 + 3 = 19.5.
    (3.5, 19.5, {"investment": 13.0, "coordination": 3.5, "site_excess": 1.0}),
    # coordination <= 2: B makes its most, 6: 4 + 12 + 2 + 3 = 21.
    (2.0, 21.0, {"investment": 16.0, "coordination": 2.0, "site_excess": 1.0}),
])
def test_a_bound_on_an_objective_term(chips, bound, objective, terms):
    inst = allocator.load_instance(chips)
    built = allocator.build_model(inst, term_bounds=None if bound is None
                                  else {"coordination": bound})
    assert list(built.model.bounded_terms) == ([] if bound is None else ["coordination"])
    result = verified(chips, allocator.solve(built, allocator.SolverOptions(mip_gap=0.0)))
    assert result.objective == pytest.approx(objective, abs=1e-6)
    values = dict(zip(result.tables["objective"]["term"], result.tables["objective"]["value"],
                      strict=True))
    assert {t: values[t] for t in terms} == pytest.approx(terms, abs=1e-6)
    assert result.summary.get("term_bounds") == (None if bound is None
                                                 else {"coordination": bound})


def test_below_the_least_coordination_there_is_no_plan(chips):
    # B makes 6 at most: 4 chips must come from A, coordination >= 2
    built = allocator.build_model(allocator.load_instance(chips),
                                  term_bounds={"coordination": 1.9})
    assert allocator.solve(built).status == "infeasible"
    with pytest.raises(KeyError, match="transport cannot be bounded"):
        allocator.build_model(allocator.load_instance(chips), term_bounds={"transport": 1.0})
    assert pyo.value(built.model.objective_term_bounds["coordination"].upper) == 1.9


def test_verify_applies_the_overrides_and_checks_the_bound(chips, tmp_path):
    overrides, _ = parse_overrides({"objective.site_excess": 0.5,
                                    "assign": {"sites.unit_capex": 1.0},
                                    "where": {"region": "B"},
                                    "bound": {"coordination": 3.0}}, "case")
    inst = allocator.load_instance(chips, overrides=overrides)
    built = allocator.build_model(inst, term_bounds=overrides.term_bounds)
    result = allocator.solve(built, allocator.SolverOptions(mip_gap=0.0))
    # chips cost 1 in both regions now: B makes 6, A 4 shipped (2), one excess host (0.5)
    assert result.objective == pytest.approx(10 + 2 + 0.5)
    out = write_results(result, tmp_path / "case")
    assert verify(chips, out).ok  # with the case's weight and capex, not the folder's
    summary = json.loads((out / "summary.json").read_text())
    assert summary["instance"]["overrides"] == overrides.to_dict()
    summary["term_bounds"] = {"coordination": 1.5}  # a bound the plan breaks
    (out / "summary.json").write_text(json.dumps(summary))
    report = verify(chips, out)
    assert not report.ok
    assert [(v.constraint, round(v.amount, 6)) for v in report.violations] == [
        ("objective_term_bounds[coordination]", 0.5)]


def test_a_case_switches_back_on_what_the_base_switches_off(chips, tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text('[base]\nwithout = ["policy"]\n[[case]]\nname = "with policy"\n'
                     'with = ["policy"]\n[[case]]\nname = "base"\n')
    _, (on, off) = load_cases(chips, read_sweep(sweep).cases, sweep.name)
    assert on.is_active("policy") and not off.is_active("policy")
