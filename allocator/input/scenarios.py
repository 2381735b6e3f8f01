"""Supply-shock scenarios: the optional table ``shocks.csv``, its checks, and the data of
each scenario.

Layout (one row per shock; see ``docs/instance-format.md``)::

    scenario,probability,kind,target,factor
    base,0.55,,,
    litho_controls,0.2,import_cap,lithography,0.65
    lithium_spike,0.15,input_price,lithium,3
    hefei_offline,0.1,availability,hefei,0

A scenario is the set of its rows; a row with ``kind``, ``target`` and ``factor`` blank is a
scenario without shocks (the base case). Kinds:

* ``import_cap``: the national import cap $C_k$ of input ``target`` becomes
  $f \\cdot C_k$ (the input must have a cap);
* ``input_price``: its price $\\pi_k$ (``inputs.csv price``) becomes $f \\cdot \\pi_k$ (the
  input must have a price);
* ``availability``: at most the share $f \\le 1$ of every site's capacity in region ``target``
  can run ($f = 0$: the region is offline).

A scenario's data is the instance with its factors applied (:func:`scenario_instance`),
read by the second-stage families through their context like any instance; availability is
applied by the engine to production (:mod:`allocator.engine.stochastic`). Nothing is fixed silently:
every problem names the file, row, column and value.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pandas as pd

from allocator.core.errors import Problem

if TYPE_CHECKING:
    from allocator.input.data import Instance

KINDS = ("import_cap", "input_price", "availability")
#: how far the probabilities may sum from 1
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Scenario:
    """One scenario: its probability and the factors of its shocks (absent: factor 1)."""

    name: str
    probability: float
    import_cap: dict[str, float] = field(default_factory=dict)  # input -> factor
    input_price: dict[str, float] = field(default_factory=dict)  # input -> factor
    availability: dict[str, float] = field(default_factory=dict)  # region -> factor

    def factor(self, kind: str, target: str) -> float:
        return float(getattr(self, kind).get(target, 1.0))

    def describe(self) -> str:
        parts = [f"{k} {t} x{f:g}" for k in KINDS for t, f in getattr(self, k).items()]
        return ", ".join(parts) or "no shock"


def check_shocks(tables: dict[str, pd.DataFrame], file_of: Callable[[str], str]
                 ) -> list[Problem]:
    """Every problem of ``shocks.csv`` beyond the cell types: probabilities consistent per
    scenario and summing to 1, kinds known, targets known ids, factors given (availability at
    most 1), the scaled value present (an import cap, a price)."""
    shocks = tables["shocks"]
    file = file_of("shocks")
    out: list[Problem] = []
    inputs = tables.get("inputs")
    regions = tables.get("regions")
    input_ids = set(inputs["id"].dropna()) if inputs is not None else set()
    region_ids = set(regions["id"].dropna()) if regions is not None else set()
    if not len(shocks):
        return [Problem(file, "no scenario: give at least one row (scenario, probability)")]
    first: dict[str, tuple[int, float]] = {}
    for row, sc, p in zip(shocks.index, shocks["scenario"], shocks["probability"],
                          strict=True):
        if pd.isna(sc) or pd.isna(p):
            continue
        if sc not in first:
            first[sc] = (int(row), float(p))
        elif abs(float(p) - first[sc][1]) > TOLERANCE:
            out.append(Problem(file, f"scenario '{sc}' has probability {first[sc][1]:g} on "
                               f"row {first[sc][0]}: every row of a scenario gives the same "
                               "probability", row=int(row), column="probability",
                               value=float(p)))
    total = sum(p for _, p in first.values())
    if first and abs(total - 1.0) > TOLERANCE:
        listed = ", ".join(f"{sc} {p:g}" for sc, (_, p) in first.items())
        out.append(Problem(file, f"the probabilities of the scenarios sum to {total:g}, not 1 "
                           f"({listed})", column="probability"))
    for row, rec in shocks.iterrows():
        kind, target, factor = rec["kind"], rec["target"], rec["factor"]
        r = int(row)
        if pd.isna(kind):
            for col, val in (("target", target), ("factor", factor)):
                if not pd.isna(val):
                    out.append(Problem(file, "a row without kind is a scenario without "
                                       "shocks: leave target and factor blank, or give the "
                                       "kind (" + ", ".join(KINDS) + ")", row=r, column=col,
                                       value=val))
            continue
        if kind not in KINDS:
            out.append(Problem(file, "unknown kind; expected one of: " + ", ".join(KINDS),
                               row=r, column="kind", value=kind))
            continue
        if pd.isna(factor):
            out.append(Problem(file, f"a shock of kind {kind} needs a factor (1: unchanged)", row=r,
                               column="factor"))
        elif kind == "availability" and factor > 1:
            out.append(Problem(file, "availability is the share of capacity that can run: at "
                               "most 1 (0: offline)", row=r, column="factor",
                               value=float(factor)))
        if pd.isna(target):
            what = "region" if kind == "availability" else "input"
            out.append(Problem(file, f"a shock of kind {kind} needs the {what} id it applies to",
                               row=r, column="target"))
            continue
        if kind == "availability":
            if regions is not None and target not in region_ids:
                out.append(Problem(file, "unknown regions id"
                                   + _hint(target, region_ids), row=r, column="target",
                                   value=target))
            continue
        if inputs is None:
            out.append(Problem(file, f"a shock of kind {kind} scales a key input, but "
                               "inputs.csv is absent", row=r, column="target", value=target))
            continue
        if target not in input_ids:
            out.append(Problem(file, "unknown inputs id" + _hint(target, input_ids), row=r,
                               column="target", value=target))
            continue
        spec = inputs.loc[inputs["id"] == target].iloc[0]
        if kind == "import_cap" and pd.isna(spec["import_cap"]):
            out.append(Problem(file, f"input {target} has no import cap in inputs.csv (no "
                               "limit): there is nothing to scale; give its import_cap",
                               row=r, column="target", value=target))
        if kind == "input_price" and pd.isna(spec.get("price", float("nan"))):
            out.append(Problem(file, f"input {target} has no price in inputs.csv: there is "
                               "nothing to scale; give its price (column price), or read a table "
                               "with prices: --table inputs=FILE", row=r,
                               column="target", value=target))
    return out


def _hint(value: str, ids: set[str]) -> str:
    close = difflib.get_close_matches(str(value), sorted(ids), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def scenarios_of(instance: Instance) -> list[Scenario]:
    """The scenarios of ``shocks.csv`` in the order they first appear (empty: no table)."""
    if not instance.has("shocks"):
        return []
    shocks = instance.table("shocks")
    order: dict[str, float] = {}
    factors: dict[str, dict[str, dict[str, float]]] = {}
    for sc, p, kind, target, f in zip(shocks["scenario"], shocks["probability"],
                                      shocks["kind"], shocks["target"], shocks["factor"],
                                      strict=True):
        order.setdefault(sc, float(p))
        per = factors.setdefault(sc, {k: {} for k in KINDS})
        if not pd.isna(kind):
            per[kind][target] = float(f)
    return [Scenario(sc, p, **factors[sc]) for sc, p in order.items()]


def expected_scenario(scenarios: list[Scenario]) -> Scenario:
    """The expected-value scenario: each factor replaced by its mean over the scenarios,
    $\\bar f = \\sum_s p_s f_s$ (a scenario without the shock counts with factor 1). Every
    shocked quantity is linear in its factor, so this is the problem with expected data."""
    mean: dict[str, dict[str, float]] = {k: {} for k in KINDS}
    for kind in KINDS:
        targets = {t for s in scenarios for t in getattr(s, kind)}
        for t in sorted(targets):
            mean[kind][t] = sum(s.probability * s.factor(kind, t) for s in scenarios)
    return Scenario("expected", 1.0, **mean)


def scenario_instance(instance: Instance, scenario: Scenario) -> Instance:
    """The instance as scenario ``scenario`` sees it: ``inputs.csv`` with its import caps and
    prices scaled (availability is applied to production by the engine). A new
    :class:`Instance`, so derived data (cached) is computed from the scaled tables."""
    if not (scenario.import_cap or scenario.input_price) or not instance.has("inputs"):
        return instance
    inputs = instance.tables["inputs"].copy()
    for kind, column in (("import_cap", "import_cap"), ("input_price", "price")):
        for k, f in getattr(scenario, kind).items():
            hit = (inputs["id"] == k).to_numpy()
            inputs.loc[hit, column] = inputs.loc[hit, column].astype(float) * f
    return replace(instance, tables={**instance.tables, "inputs": inputs})
