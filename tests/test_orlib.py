"""OR-Library capacitated warehouse location: allocator reproduces every published optimum.

The 37 cap4x-13x problems (Beasley 1988) are imported with ``allocator.tools.orlib`` and solved by
the ordinary pipeline; each must reach the proven optimum of ``capopt.txt`` within 1e-6
relative (the published values are rounded to 3 decimals, about 1e-9 relative), and each
result must pass ``allocator verify``. capa/capb/capc (100 x 1000, minutes each) are run by
``benchmarks/orlib.py``; docs/validation.md has the table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import hosted, solve

from allocator.core.errors import InputError
from allocator.tools.orlib import import_cap, published_optima, read_cap

ROOT = Path(__file__).resolve().parents[1]


def _data() -> Path | None:
    """``../shared`` beside the checkout (CI), else /work/shared."""
    for base in (ROOT.parent / "shared", Path("/work/shared")):
        folder = base / "benchmarks" / "orlib" / "cap"
        if (folder / "capopt.txt").is_file():
            return folder
    return None


DATA = _data()
needs_data = pytest.mark.skipif(
    DATA is None, reason="OR-Library data not found in ../shared/benchmarks/orlib/cap beside "
    "the checkout nor in /work/shared/benchmarks/orlib/cap")
SMALL = [f"cap{k}" for k in (41, 42, 43, 44, 51, 61, 62, 63, 64, 71, 72, 73, 74, 81, 82, 83, 84,
                             91, 92, 93, 94, 101, 102, 103, 104, 111, 112, 113, 114, 121, 122,
                             123, 124, 131, 132, 133, 134)]


@pytest.fixture(scope="module")
def optima() -> dict[str, float]:
    assert DATA is not None
    return published_optima(DATA / "capopt.txt")


@needs_data
@pytest.mark.parametrize("name", SMALL)
def test_reaches_the_published_optimum(name, optima, tmp_path):
    folder = import_cap(DATA / f"{name}.txt", tmp_path / name)
    result = solve(folder)  # the ordinary pipeline; support.solve also runs verify
    assert result.status == "optimal"
    assert result.objective == pytest.approx(optima[name], rel=1e-6)


@needs_data
def test_capopt_has_every_problem(optima):
    assert set(SMALL) <= set(optima)
    assert optima["cap41"] == 1040444.375
    assert optima["capc-7250"] == 11505767.394
    assert len(optima) == 37 + 12


# Two warehouses, two customers, worked out by hand.
#   w1: capacity 10, fixed 5;  w2: capacity S2, fixed 7
#   c1: demand 4, cost of all of it from w1 8, from w2 12 (unit costs 2 and 3)
#   c2: demand 6, cost of all of it from w1 30, from w2 6 (unit costs 5 and 1)
# S2 = 10: w1 alone 5+8+30 = 43, w2 alone 7+12+6 = 25, both 12+8+6 = 26 -> w2 alone, 25.
# S2 = 8: w2 alone cannot serve 10; both: c1 from w1 (8), c2 from w2 (6): 26 (moving c1's
# units to w2 costs 3 > 2) -> both, 26.
TINY = """2 2
 10 5.
 {s2} 7.
 4
 8 12
 6
 30 6
"""


@pytest.mark.parametrize(("s2", "objective", "hosts"), [
    (10, 25.0, {("goods", "w2")}),
    (8, 26.0, {("goods", "w1"), ("goods", "w2")}),
])
def test_the_mapping_on_a_problem_solved_by_hand(tmp_path, s2, objective, hosts):
    file = tmp_path / "tiny.txt"
    file.write_text(TINY.format(s2=s2))
    folder = import_cap(file, tmp_path / "inst")
    result = solve(folder)
    assert result.objective == pytest.approx(objective, rel=1e-12)
    assert hosted(result) == hosts
    arcs = (folder / "arcs.csv").read_text().split()
    assert arcs == ["from,to,unit_cost", "w1,c1,2.0", "w2,c1,3.0", "w1,c2,5.0", "w2,c2,1.0"]


def _problems(file: Path, capacity: float | None = None) -> list[str]:
    with pytest.raises(InputError) as err:
        read_cap(file, capacity)
    return [str(p) for p in err.value.problems]


def test_malformed_files_name_the_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(TINY.format(s2="ten"))
    assert _problems(bad) == [
        "bad.txt, line 3: value 'ten': the capacity of warehouse 2: expected a number"]
    bad.write_text(TINY.format(s2=10).replace(" 30 6\n", " 30\n"))
    assert _problems(bad) == [
        "bad.txt, line 7: the file ends where the cost of serving customer 2 from warehouse 2 "
        "was expected"]
    bad.write_text(TINY.format(s2=10) + "99\n")
    assert "unexpected text after the last of the 2 customers" in _problems(bad)[0]
    bad.write_text(TINY.format(s2="capacity"))
    assert "choose the capacity with --capacity N" in _problems(bad)[0]
    ok = tmp_path / "ok.txt"
    ok.write_text(TINY.format(s2=10))
    assert "--capacity is only for files" in _problems(ok, 5.0)[0]


def test_literal_capacity_is_replaced(tmp_path):
    file = tmp_path / "capz.txt"
    file.write_text(TINY.format(s2=10).replace(" 10 5.", " capacity 5.").replace(
        " 10 7.", " capacity 7."))
    problem = read_cap(file, 9)
    assert problem.capacity == [9.0, 9.0] and problem.name == "capz-9"


@needs_data
def test_the_command_line_imports_validates_solves_and_verifies(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "allocator", *args],
                              capture_output=True, text=True, check=False)

    folder, out = tmp_path / "cap71", tmp_path / "out"
    done = run("import", "orlib-cap", str(DATA / "cap71.txt"), "-o", str(folder))
    assert done.returncode == 0, done.stderr
    assert "16 warehouses" in done.stdout
    assert run("validate", str(folder)).returncode == 0
    done = run("solve", str(folder), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "Objective 932,615.75" in done.stdout
    done = run("verify", str(folder), str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    again = run("import", "orlib-cap", str(DATA / "cap71.txt"), "-o", str(folder))
    assert again.returncode == 0, again.stderr  # the folder allocator wrote: replaced
    (folder / "notes.txt").write_text("mine")
    again = run("import", "orlib-cap", str(DATA / "cap71.txt"), "-o", str(folder))
    assert again.returncode == 2 and "notes.txt" in again.stderr
    assert (folder / "notes.txt").read_text() == "mine"
    capa = run("import", "orlib-cap", str(DATA / "capa.txt"), "-o", str(tmp_path / "capa"))
    assert capa.returncode == 2
    assert "capa.txt, line 2: value 'capacity'" in capa.stderr


@needs_data
def test_the_benchmark_script_prints_its_table(capsys, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("orlib_bench", ROOT / "benchmarks" / "orlib.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    table = tmp_path / "table.md"
    assert bench.main(["cap71", "--time-limit", "60", "--markdown", str(table)]) == 0
    row = table.read_text().splitlines()[-1]
    assert row.startswith("| cap71 | 932,615.750 | 932,615.7500 | 0.0e+00 | optimal |")
    assert row.endswith("| yes |")
    assert "largest relative difference among optimal solves: 0.0e+00" in capsys.readouterr().out
