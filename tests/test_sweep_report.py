"""The sweep report's analysis and the progress line, on made-up sweep folders (no solve):
levers as curves, robust pairs against flipping ones, what the progress line says."""

from __future__ import annotations

import io

import pandas as pd

from allocator.input.overrides import Overrides
from allocator.input.sweep import Case
from allocator.output.report_sweep import (
    SweepData,
    hosting_matrix,
    lever_curves,
    robust_and_flipping,
)
from allocator.output.sweep import Progress, SweepOptions


def sweep_data(cases: dict[str, tuple[dict, float]], hosting: dict[str, list[tuple[str, str]]]
               ) -> SweepData:
    """A sweep folder as read: cases (name -> overrides as recorded, objective) and the
    pairs each case hosts."""
    marker = {"kind": "sweep", "cases": [{"name": n, "overrides": o}
                                         for n, (o, _) in cases.items()]}
    table = pd.DataFrame({"case": list(cases), "objective": [z for _, z in cases.values()],
                          "status": "optimal"})
    allocations = {n: pd.DataFrame({"industry": [i for i, _ in pairs],
                                    "region": [r for _, r in pairs], "hosted": 1})
                   for n, pairs in hosting.items()}
    return SweepData(None, marker, table, allocations)  # type: ignore[arg-type]


def test_a_lever_is_a_curve_per_setting_of_the_others():
    w = "objective.site_excess"
    data = sweep_data({
        "a": ({"settings": {w: 50.0}}, 10.0),
        "b": ({"settings": {w: 100.0}}, 12.0),
        "c": ({"settings": {w: 200.0}}, 15.0),
        "d": ({"settings": {w: 50.0}, "without": ["resilience"]}, 8.0),
        "e": ({"settings": {w: 100.0}, "without": ["resilience"]}, 9.0),
        "f": ({"settings": {w: 200.0}, "without": ["resilience"]}, 11.0),
        "g": ({"settings": {"funding.national_fund": 2000.0}}, 20.0),  # 1 value: no curve
    }, {})
    # every case has a plan (objective), the allocations are not needed here
    data.allocations = {n: pd.DataFrame() for n in "abcdefg"}
    assert lever_curves(data) == {w: [
        ("all else as the instance", [(50.0, 10.0), (100.0, 12.0), (200.0, 15.0)]),
        ("without = resilience", [(50.0, 8.0), (100.0, 9.0), (200.0, 11.0)])]}


def test_robust_pairs_host_in_every_case_with_a_plan():
    data = sweep_data({"x": ({}, 1.0), "y": ({}, 1.0), "z": ({}, 1.0)}, {
        "x": [("nev", "shanghai"), ("nev", "wuhan"), ("chip", "beijing")],
        "y": [("nev", "shanghai"), ("chip", "beijing")],
        "z": [("nev", "shanghai"), ("nev", "xian"), ("chip", "beijing")]})
    matrix = hosting_matrix(data)
    robust, flipping = robust_and_flipping(matrix)
    assert robust.values.tolist() == [["chip", "beijing", 3], ["nev", "shanghai", 3]]
    assert flipping.values.tolist() == [["nev", "wuhan", 1, ["x"], ["y", "z"]],
                                        ["nev", "xian", 1, ["z"], ["x", "y"]]]


def test_the_progress_line_counts_cases_and_time():
    stream = io.StringIO()  # not a terminal: one line per finished case
    progress = Progress(4, stream)
    progress.done, progress.running = 1, 2
    progress.say("case 'a': optimal")
    line = stream.getvalue()
    assert line.startswith("case 'a': optimal  [[#####...............] 1/4 done, 2 running, "
                           "0 failed, 0:00 elapsed, ~0:00 left]")


def test_solver_options_a_case_overrides_are_its_own():
    options = SweepOptions(time_limit=60.0, mip_gap=0.01, threads=2)
    plain = options.for_case(Case("a"))
    own = options.for_case(Case("b", Overrides(settings=(("solver.mip_gap", 0.001),))))
    assert (plain.mip_gap, plain.time_limit, plain.threads) == (0.01, 60.0, 2)
    # None: the instance's [solver] value, which the case's override set
    assert (own.mip_gap, own.time_limit) == (None, 60.0)
