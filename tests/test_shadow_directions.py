"""Shadow prices of the bundled instance, checked against re-solves: sign and size.

For one limit of every kind that ``regions.csv`` prices (talent, a region's budget, the
national fund, a region's green power, a tradable input's national supply, an import cap,
national and market demand, a maximum share, N-1 cover), the limit is moved a little in the
planner's direction (one more unit available, one more unit required) and the LP with the
plan's hosting fixed is solved again: the change of the cost per unit must be the price, with
the sign its words give ("saves" / "costs"). Where the limit is an input number (a cell of
talent_supply.csv, regions.csv, inputs.csv, industries.csv, markets.csv, a setting), the cell
itself is changed in a copy of the instance; a maximum share and N-1 cover are restated in
the test as one row with the extra unit, in place of the model's.

The plan is the one a 5% gap gives (any plan will do: prices are for its hosting); the
limit of each kind is its row with the largest price (a binding one, where every price of
the kind is 0). Limits of hosting decisions only (focus limits, equity floors, least hosts)
have no price with hosting fixed, and say so.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

import allocator
from allocator.analysis.evaluate import fix_plan
from allocator.engine.highs import solve_model

ROOT = Path(__file__).resolve().parent.parent
CHINA = ROOT / "instances" / "china-sei"
#: the limit is moved by this share of its value (at least 1e-3 units)
STEP = 1e-3

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base():
    """A plan of the bundled instance, its fixed-hosting cost and its priced regions.csv."""
    plan_result = allocator.solve_instance(CHINA, allocator.SolverOptions(mip_gap=0.05))
    alloc = plan_result.tables["allocation"]
    plan = alloc.loc[alloc["hosted"] == 1, ["industry", "region"]].assign(
        hosted=True, capacity=float("nan"))
    result = fixed_hosting(CHINA, plan, prices=True)
    assert result.summary["shadow_prices"]["status"] == "optimal"
    return plan, result


def fixed_hosting(folder: Path, plan: pd.DataFrame, *, prices: bool = False, change=None):
    """The instance at ``folder`` with the plan's hosting fixed, solved (its LP): the whole
    solve with ``prices``, else HiGHS alone (``.objective``: None when infeasible);
    ``change`` may restate a row of the built model first."""
    built = allocator.build_model(allocator.load_instance(folder), prune=False)
    fix_plan(built, plan)
    if change is not None:
        change(built)
    if prices:
        return allocator.solve(built, allocator.SolverOptions(mip_gap=0))
    outcome = solve_model(built.model, allocator.SolverOptions(mip_gap=0, progress=False))
    return outcome if outcome.has_solution else SimpleNamespace(objective=None)


def copy_with(tmp_path: Path, file: str, match: dict[str, str], column: str,
              delta: float) -> Path:
    """A copy of the bundled instance with one cell of ``file`` raised by ``delta``."""
    folder = tmp_path / "instance"
    shutil.copytree(CHINA, folder)
    df = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
    hit = np.ones(len(df), dtype=bool)
    for key, value in match.items():
        hit &= (df[key] == value).to_numpy()
    assert hit.sum() == 1, (file, match)
    row = int(np.flatnonzero(hit)[0])
    df.loc[row, column] = repr(float(df.loc[row, column]) + float(delta))
    df.to_csv(folder / file, index=False)
    return folder


def pick(regions: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """The limit of a kind with the largest price (binding ones first among equals)."""
    rows = regions[mask & regions["shadow_price"].notna()]
    assert len(rows), "no priced row of this kind"
    rows = rows.assign(binding=rows["room_left"] <= 1e-9)
    return rows.sort_values(["shadow_price", "binding"], ascending=False).iloc[0]


def check(row: pd.Series, before: float, after, step: float) -> None:
    """The cost change per unit of the step has the size of the price and the direction
    its words say."""
    assert after.objective is not None, f"{row['resource']}: the re-solve found no plan"
    change = (after.objective - before) / step
    words = row["shadow_price_meaning"]
    if row["sense"] == "at most":
        assert words.startswith("each extra unit available")
        saving = -change
        assert ("saves" in words) == (row["shadow_price"] >= 0) or row["shadow_price"] == 0
        assert saving == pytest.approx(row["shadow_price"], rel=1e-3, abs=1e-4), words
    else:
        assert words.startswith("each extra unit required")
        assert ("costs" in words) == (row["shadow_price"] >= 0) or row["shadow_price"] == 0
        assert change == pytest.approx(row["shadow_price"], rel=1e-3, abs=1e-4), words
    number = float(re.search(r"(costs|saves) ([\d,.]+)", words).group(2).replace(",", ""))
    assert number == pytest.approx(abs(row["shadow_price"]), rel=5e-3, abs=1e-3)


def step_of(value: float) -> float:
    return STEP * max(1.0, abs(value))


INPUT_KINDS = {
    # kind: (rows of regions.csv, file, the cell of the row, column)
    "talent": (lambda r: r["family"] == "talent", "talent_supply.csv",
               lambda row: {"region": row["region"],
                            "talent_class": row["resource"].split(":")[1]}, "supply"),
    "funding": (lambda r: r["resource"] == "funding", "regions.csv",
                lambda row: {"id": row["region"]}, "funding_budget"),
    "regional input": (lambda r: (r["family"] == "supply") & (r["region"] != "(national)")
                       & (r["sense"] == "at most"), "input_supply.csv",
                       lambda row: {"region": row["region"],
                                    "input": row["resource"].split(":")[1]}, "supply"),
    "import cap": (lambda r: r["resource"].str.startswith("imports:"), "inputs.csv",
                   lambda row: {"id": row["resource"].split(":")[1]}, "import_cap"),
    "national demand": (lambda r: (r["family"] == "capacity")
                        & r["model_rows"].fillna("").ne(""), "industries.csv",
                        lambda row: {"id": row["resource"].split(":")[1]}, "demand"),
    "market demand": (lambda r: r["family"] == "markets", "markets.csv",
                      lambda row: {"industry": row["resource"].split(":")[1],
                                   "region": row["region"]}, "demand"),
}


@pytest.mark.parametrize("kind", list(INPUT_KINDS))
def test_a_price_is_what_one_more_unit_of_the_input_saves_or_costs(base, tmp_path, kind):
    plan, result = base
    regions = result.tables["regions"]
    rows, file, cell, column = INPUT_KINDS[kind]
    row = pick(regions, rows(regions))
    step = step_of(row["limit_value"]) if kind != "import cap" else step_of(
        row["limit_value"] or 1.0)
    folder = copy_with(tmp_path, file, cell(row), column, step)
    check(row, result.summary["shadow_prices"]["lp_objective"],
          fixed_hosting(folder, plan), step)


def test_the_national_supply_of_a_tradable_input(base, tmp_path):
    # one more unit of lithium (or lithography tools) anywhere joins the national pool:
    # raise the first supply row of the input with the largest price
    plan, result = base
    regions = result.tables["regions"]
    row = pick(regions, (regions["region"] == "(national)")
               & regions["resource"].str.startswith("input:"))
    k = row["resource"].split(":")[1]
    supply = pd.read_csv(CHINA / "input_supply.csv")
    first = supply[supply["input"] == k].iloc[0]
    step = step_of(row["limit_value"])
    folder = copy_with(tmp_path, "input_supply.csv", {"region": first["region"], "input": k},
                       "supply", step)
    check(row, result.summary["shadow_prices"]["lp_objective"],
          fixed_hosting(folder, plan), step)


def test_the_national_fund(base, tmp_path):
    # instance.toml national_fund F: the unreserved share (1 - s) F and the reserved s F are
    # two limits; one more unit of F is 1 - s of the first and s of the second
    plan, result = base
    regions = result.tables["regions"].set_index("resource")
    general, reserved = regions.loc["national_fund"], regions.loc["national_fund:reserved"]
    share = 0.2  # instance.toml slow_return_reserved_share
    fund = general["limit_value"] + reserved["limit_value"]
    step = step_of(fund)
    folder = tmp_path / "instance"
    shutil.copytree(CHINA, folder)
    toml = (folder / "instance.toml").read_text(encoding="utf-8")
    assert f"national_fund = {fund:.1f}" in toml
    (folder / "instance.toml").write_text(toml.replace(
        f"national_fund = {fund:.1f}", f"national_fund = {float(fund + step)!r}"), encoding="utf-8")
    after = fixed_hosting(folder, plan)
    saving = (result.summary["shadow_prices"]["lp_objective"] - after.objective) / step
    expected = (1 - share) * general["shadow_price"] + share * reserved["shadow_price"]
    assert saving == pytest.approx(expected, rel=1e-3, abs=1e-4)
    assert general["shadow_price_meaning"].startswith("each extra unit available")


def restated(row: pd.Series, extra: float):
    """A change of the built model: the resilience row of ``row`` replaced by the same rule
    with ``extra`` units more available (max_share) or required (N-1 cover), written here
    from the documented math (models/resilience/model.py)."""
    industry = row["resource"].split(":")[1]
    region = row["region"]
    par = pd.read_csv(CHINA / "industries.csv").set_index("id")

    def change(built):
        m = built.model
        block = built.block("resilience")
        q, total, surplus = m.capacity, m.capacity_total, m.capacity_surplus
        if row["resource"].startswith("max_share:"):
            block.resilience_max_share[industry, region].deactivate()
            share = float(par.at[industry, "max_share"])
            m.restated = pyo.Constraint(expr=q[industry, region]
                                        <= share * total[industry] + extra)
        else:
            block.resilience_n1_cover[industry, region].deactivate()
            cover = float(par.at[industry, "n1_cover"])
            m.restated = pyo.Constraint(expr=total[industry] - q[industry, region]
                                        >= cover * (total[industry] - surplus[industry])
                                        + extra)
    return change


@pytest.mark.parametrize("kind", ["max_share:", "n1_cover:"])
def test_resilience_rows_against_a_restated_row(base, kind):
    plan, result = base
    regions = result.tables["regions"]
    row = pick(regions, regions["resource"].str.startswith(kind))
    step = step_of(row["limit_value"])
    before = fixed_hosting(CHINA, plan, change=restated(row, 0.0))
    assert before.objective == pytest.approx(
        result.summary["shadow_prices"]["lp_objective"], rel=1e-9)
    check(row, before.objective, fixed_hosting(CHINA, plan, change=restated(row, step)), step)


def test_limits_of_hosting_decisions_have_no_price_and_say_so(base):
    _, result = base
    regions = result.tables["regions"]
    hosting = regions["resource"].str.match(r"^(max_industries|min_industries|min_hosts:)")
    assert hosting.any()
    assert regions.loc[hosting, "shadow_price"].isna().all()
    assert regions.loc[hosting, "shadow_price_meaning"].str.startswith("no price").all()
