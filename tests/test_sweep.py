"""allocator sweep and frontier on real Dask clusters: a local cluster the command starts
(Ctrl-C, resuming), a frontier worked out by hand, and a `dask scheduler` with two `dask
worker` processes of which one is killed in the middle of a case.

The tiny instance is test_overrides.py's (chips made in A and shipped to B, or made in B at
twice the capex, at most 6 there). Long cases come from a researcher's family that only
sleeps while the model is built (``slow.py``), so that a case is surely running when the
test interrupts it or kills its worker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from test_overrides import TABLES, TOML

from allocator.cli import main
from allocator.input.data import load_instance
from allocator.input.sweep import load_cases
from allocator.output.frontier import FrontierSpec, run_frontier
from allocator.output.report_sweep import hosting_matrix, read_sweep_folder, robust_and_flipping
from allocator.output.sweep import ClusterOptions, SweepOptions
from allocator.verify import verify

pytestmark = pytest.mark.slow

SLOW = '''
r"""Sleeps while the model is built: a long case for tests. No component.

$$ \\text{(no constraint, no term)} $$
"""
import time

from allocator.core.family import Family, Option


def build(block, ctx):
    time.sleep(float(ctx.options["seconds"]))


FAMILY = Family(name="slow", summary="sleeps while the model is built", math=__doc__,
                build=build, verify_rules=lambda c: None,
                options=(Option("seconds", float, 0.0, "seconds to sleep", ge=0),))
'''
#: 3 cases; site_excess weights that do not change the plan (15: A makes all 10 chips)
SWEEP = """
[grid]
"objective.site_excess" = [1.0, 2.0, 3.0]
"""
#: bounded waits, so that a hung cluster fails the test instead of the suite
WAIT = 240


def allocator_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "allocator", *args]


@pytest.fixture
def slow(tiny) -> Path:
    # 6 s per case: the third case is still running when the Ctrl-C of the test reaches
    # the sweep, even on a loaded machine (with 2 s, all three had finished by then)
    folder = tiny(TOML + '[families]\nextra = ["slow.py"]\n[slow]\nseconds = 6.0\n', **TABLES)
    (folder / "slow.py").write_text(SLOW)
    (folder / "sweep.toml").write_text(textwrap.dedent(SWEEP))
    return folder


def case_folders(out: Path) -> list[str]:
    cases = out / "cases"
    return sorted(p.name for p in cases.iterdir() if not p.name.startswith(".")) \
        if cases.is_dir() else []


def wait_for(predicate, seconds: float = WAIT) -> None:
    end = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"gave up after {seconds} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A real `dask scheduler` and two `dask worker` processes (no nanny: a killed worker
    stays dead) on 127.0.0.1, random free ports; every process is killed at the end. The
    scheduler retries a case whose worker died once, as the local cluster does (Dask's
    default is 3): DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1."""
    distributed = pytest.importorskip("distributed")
    bin_dir = Path(sys.executable).parent
    dask = str(bin_dir / "dask") if (bin_dir / "dask").exists() else "dask"
    env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1")
    address_file = tmp_path_factory.mktemp("dask") / "scheduler.json"
    started: list[subprocess.Popen] = []
    client = None
    try:
        started.append(subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(address_file)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(address_file.exists)
        address = json.loads(address_file.read_text())["address"]
        for _ in range(2):
            started.append(subprocess.Popen(
                [dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                 "--host", "127.0.0.1"], env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        client = distributed.Client(address, timeout=60)
        client.wait_for_workers(2, timeout=WAIT)
        yield address, client
    finally:
        if client is not None:
            client.close()
        for proc in started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


def test_ctrl_c_keeps_finished_cases_and_a_rerun_solves_the_rest(slow, tmp_path):
    out = tmp_path / "sweep"
    args = allocator_cmd("sweep", str(slow), str(slow / "sweep.toml"), "-o", str(out),
                         "--allow-families",
                         "--workers", "2")
    # a new session, as a terminal's Ctrl-C reaches every process of the foreground group
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    try:
        wait_for(lambda: case_folders(out) or run.poll() is not None)
        os.killpg(run.pid, signal.SIGINT)
        _, stderr = run.communicate(timeout=WAIT)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 3, stderr
    kept = case_folders(out)
    table = pd.read_csv(out / "sweep.csv")
    assert set(table.loc[table["status"] == "optimal", "case"]) == set(kept)
    assert set(table["status"]) <= {"optimal", "not run"}
    assert "Interrupted: the finished cases are kept" in stderr
    assert 1 <= len(kept) < 3
    # the rerun keeps them and solves the rest
    again = subprocess.run(args, capture_output=True, text=True, timeout=WAIT)
    assert again.returncode == 0, again.stderr
    assert f"{len(kept)} case{'s' if len(kept) > 1 else ''} already solved with the same " \
        "input: kept" in again.stderr
    assert again.stdout.count("optimal (kept)") == len(kept)
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["status"]) == ["optimal"] * 3
    assert list(table["objective"]) == pytest.approx([15.0] * 3)
    assert list(table["weighted.site_excess"]) == [0.0] * 3
    assert list(table["host_regions.chip"]) == ["A"] * 3
    # the same table as Parquet (where the CSV reads a blank cell as missing)
    parquet = pd.read_parquet(out / "sweep.parquet")
    assert list(parquet.columns) == list(table.columns)
    assert parquet.astype(object).fillna("").astype(str).values.tolist() == \
        table.astype(object).fillna("").astype(str).values.tolist()
    for name in case_folders(out):
        assert verify(slow, out / "cases" / name, allow_families=True).ok
    summary = json.loads((out / "cases" / kept[0] / "summary.json").read_text())
    assert summary["sweep"]["input_hash"] in (out / "sweep.json").read_text()


def test_a_frontier_worked_out_by_hand(tiny, tmp_path, scheduler):
    folder = tiny(TOML, **TABLES)
    out = tmp_path / "frontier"
    inst = load_instance(folder)
    outcome = run_frontier(out, inst, FrontierSpec(("site_excess", "coordination"), 3),
                           lambda cases: load_cases(folder, cases, "--between")[1],
                           SweepOptions(mip_gap=0.0), ClusterOptions(scheduler=scheduler[0]))
    assert outcome.exit_code == 0
    t = outcome.table.set_index("case")
    # Point 0, the optimum: A makes all 10 chips and ships them: coordination 5, total 15.
    # The least coordination (anchor): B makes its most, 6; 4 shipped: 2.
    # Bounds 5 -> 2 in 3 points: 5, 3.5, 2 (+1e-6 x max(1, 2) at the last).
    # Point 1 (<= 3.5): B makes 3 (capex 6), A 7 (7, shipped 3.5), a second chip host
    #   (site_excess 1, weight 3): 19.5.
    # Point 2 (<= 2 + 2e-6): B makes 6 - 4e-6: 4 + 4e-6 + 12 - 8e-6 + 2 + 2e-6 + 3 = 21 - 2e-6.
    assert list(t.index) == ["point 0", "point 1", "point 2", "least coordination"]
    assert list(t["role"]) == ["point", "point", "point", "anchor"]
    assert list(t["objective"][:3]) == pytest.approx([15.0, 19.5, 21.0 - 2e-6], abs=1e-7)
    assert list(t["term.coordination"]) == pytest.approx([5.0, 3.5, 2.0 + 2e-6, 2.0],
                                                         abs=1e-7)
    assert list(t["term.site_excess"][:3]) == [0.0, 1.0, 1.0]
    assert list(t["bound.coordination"].fillna(-1)) == pytest.approx([-1, 3.5, 2.000002, -1])
    marker = json.loads((out / "sweep.json").read_text())
    assert marker["frontier"] == {"between": ["site_excess", "coordination"],
                                  "bounded": "coordination", "points": 3, "max": 5.0,
                                  "min": 2.0}
    assert verify(folder, out / t.at["point 2", "folder"]).ok  # its bound rechecked too
    # the report's robust choices over the points (the anchor is left out): nev in B and
    # chips in A at every point; chips in B from point 1 on
    data = read_sweep_folder(out)
    robust, flipping = robust_and_flipping(hosting_matrix(data))
    assert set(zip(robust["industry"], robust["region"], strict=True)) == {("chip", "A"),
                                                                           ("nev", "B")}
    assert flipping[["industry", "region", "cases"]].values.tolist() == [["chip", "B", 2]]
    assert list(flipping["not in"]) == [["point 0"]]
    page = CliRunner().invoke(main, ["report", str(out)])
    assert page.exit_code == 0, page.output
    html = (out / "report.html").read_text()
    assert "Frontier: site_excess against coordination" in html
    assert "+chip@B" in html  # point 1 starts hosting chips in B
    assert "Robust choices and what flips" in html


def test_a_worker_killed_mid_case_costs_that_case_only(slow, tmp_path, scheduler):
    """One of the scheduler's two workers is killed while it solves a case; the case runs
    again on the other worker, every case finishes, and a rerun keeps them all. (Last in
    this file: the module's cluster keeps one worker after it.)"""
    address, client = scheduler
    out = tmp_path / "sweep"
    args = allocator_cmd("sweep", str(slow), str(slow / "sweep.toml"), "-o", str(out),
                         "--allow-families",
                         "--scheduler", address)
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def busy() -> list[str]:
            executing = client.run_on_scheduler(lambda dask_scheduler: {
                ws.address: [str(ts.key) for ts in ws.executing]
                for ws in dask_scheduler.workers.values()})
            return [w for w, keys in executing.items()
                    if any(k.startswith("allocator-case-") for k in keys)]

        wait_for(lambda: busy() or run.poll() is not None)
        victim = busy()[0]
        os.kill(client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
        _, stderr = run.communicate(timeout=WAIT)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=30)
    assert run.returncode == 0, stderr
    assert "it retries a case whose worker dies 1 time" in stderr
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["status"]) == ["optimal"] * 3
    wait_for(lambda: len(client.scheduler_info()["workers"]) == 1)  # the killed one is gone
    again = subprocess.run(args, capture_output=True, text=True, timeout=WAIT)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("optimal (kept)") == 3
