"""What a planner reads is true, in the planner's units (issue: every figure a planner reads).

The result tables, ``summary.json``, ``results.xlsx`` and the report, checked against what
the plan and the instance say: a plan that breaks limits says so everywhere, every limit row
says what the limit is and where the planner wrote it, units come from the instance, no
solver noise is written, and a results folder is as readable as any folder the user makes.
"""

from __future__ import annotations

import os
import stat

import pytest
from support import solve

import allocator

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""


def test_a_results_folder_is_created_with_the_users_umask(tiny, tmp_path):
    # a colleague on a shared server reads the results: with umask 022 the folder is
    # rwxr-xr-x and its files rw-r--r--, as `mkdir` and any editor would make them
    result = solve(tiny(industries=NEV), ["capacity"])
    old = os.umask(0o022)
    try:
        out = allocator.write_results(result, tmp_path / "shared" / "results")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes and set(modes.values()) == {0o644}, modes
    old = os.umask(0o077)  # a private umask is kept private
    try:
        out = allocator.write_results(result, tmp_path / "private")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
