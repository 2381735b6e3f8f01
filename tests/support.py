"""Test helpers: write tiny instance folders from CSV text, solve them with chosen families."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import allocator
from allocator.engine.results import Result
from allocator.verify import verify

#: two regions on the equator, one degree (111.195 km) apart, in different groups
REGIONS = """
id,name,group,latitude,longitude,funding_budget
A,Alpha,g1,0,0,1000
B,Beta,g2,0,1,1000
"""
#: talent tables are required; a header-only file means "no talent data"
NO_TALENT = {"talent_supply": "region,talent_class,supply", "talent_need":
             "industry,talent_class,need"}
#: km per degree of longitude on the equator (great circle, mean Earth radius 6371.0088 km)
KM_PER_DEGREE = 6371.0088 * 3.141592653589793 / 180


def write_instance(folder: Path, toml: str = "", **tables: str) -> Path:
    """Write ``instance.toml`` (``name = "tiny"`` plus ``toml``) and one CSV per keyword."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "instance.toml").write_text('name = "tiny"\n' + textwrap.dedent(toml),
                                          encoding="utf-8")
    merged = {"regions": REGIONS, **NO_TALENT, **tables}
    for name, text in merged.items():
        if text is None:
            continue
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n",
                                            encoding="utf-8")
    return folder


def solve(folder: Path, families: list[str] | None = None, **options: object) -> Result:
    """Load, build with only ``families`` (capacity is always in), solve to optimality; when
    there is a plan, write it and check it with the independent checker (``verify``)."""
    inst = allocator.load_instance(folder)
    built = allocator.build_model(inst, families)
    opts = allocator.SolverOptions(mip_gap=0.0, **options)  # type: ignore[arg-type]
    return verified(folder, allocator.solve(built, opts))


def verified(folder: Path, result: Result) -> Result:
    """Write ``result`` to a temporary folder and assert that ``allocator verify`` accepts
    it (every constraint recomputed, the objective agrees); returns ``result``. The family
    files the solve ran are named to verify (a file named by results runs only if allowed)."""
    if result.outcome.has_solution:
        with tempfile.TemporaryDirectory() as tmp:
            out = allocator.write_results(result, Path(tmp) / "results")
            ran = [f["path"] for f in result.summary.get("family_files", [])]
            report = verify(folder, out, ran)
            assert report.ok, report.render()
    return result


def hosted(result: Result) -> set[tuple[str, str]]:
    a = result.tables["allocation"]
    return set(map(tuple, a.loc[a["hosted"] == 1, ["industry", "region"]].to_numpy()))


def capacity(result: Result) -> dict[tuple[str, str], float]:
    a = result.tables["allocation"]
    return {(i, r): c for i, r, c in a[["industry", "region", "capacity"]].itertuples(
        index=False) if c > 1e-9}


def term(result: Result, name: str) -> float:
    obj = result.tables["objective"]
    return float(obj.loc[obj["term"] == name, "value"].iloc[0])
