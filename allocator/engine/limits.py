"""Limit rows in the planner's words: every slack of a softened limit mapped back to its
family, constraint, index and the input file row(s) it comes from, and every row of the
``regions`` result table stated as the limit the planner wrote.

A family says where its limits come from through its optional ``limit_source`` hook (see
:class:`allocator.core.family.LimitSource`); a family without it (a researcher's, say) is still
described, by constraint name and index, with the limit's value read off the constraint and
the unit from its ``symbols``. Used by ``--soft`` (the ``shortfalls`` table), by
``allocator explain`` (the ranked relaxations) and by :func:`limit_table` (``regions.csv``).

A model row is named by its key ``family.constraint[index]`` (:func:`row_key`), the
(family, constraint, index) of the limit, never by its Pyomo component name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from allocator.core.family import Family, LimitSource
from allocator.core.presolve import number, rows_text
from allocator.engine.build import BuiltModel

UPPER = "above upper limit"
LOWER = "below lower limit"

#: columns of a described table (``shortfalls.csv``, ``relaxations.csv``)
COLUMNS = ["family", "constraint", "index", "sense", "amount", "unit", "limit", "relative",
           "file", "rows", "column", "what", "note", "message"]


def index_text(index: Any) -> str:
    """``("hefei", "chip_engineers")`` -> ``"hefei,chip_engineers"``."""
    if isinstance(index, tuple):
        return ",".join(map(str, index))
    return "" if index is None or index != index else str(index)


def row_name(constraint: str, index: Any) -> str:
    """``talent_within_supply[hefei,chip_engineers]``; a scalar row is just its name."""
    text = index_text(index)
    return f"{constraint}[{text}]" if text else constraint


def sentence(src: LimitSource, sense: str, amount: float) -> str:
    """One line for the planner, e.g. ``talent_supply.csv row 14 (hefei, chip_engineers):
    needs 41.2, has 30: short 11.2 people``."""
    head = f"{rows_text(src.file, src.rows, src.column)} ({src.what})"
    unit = f" {src.unit}" if src.unit else ""
    if src.limit is None:
        body = f"short {number(amount)}{unit}"
    elif sense == LOWER:
        body = (f"{src.needs} {number(src.limit)}, {src.has} {number(src.limit - amount)}: "
                f"short {number(amount)}{unit}")
    else:
        body = (f"{src.needs} {number(src.limit + amount)}, {src.has} {number(src.limit)}: "
                f"short {number(amount)}{unit}")
    return f"{head}: {body}" + (f" ({src.note})" if src.note else "")


def limit_row(block: pyo.Block, constraint: str, index: Any) -> Any:
    """The constraint row ``constraint[index]`` of ``block`` (a scalar constraint has one row,
    whatever the index says: ``None``, or NaN once it has been through a DataFrame)."""
    comp = block.component(constraint)
    return comp if not comp.is_indexed() else comp[index]


def row_limit(con: Any, sense: str) -> float | None:
    """The bound of a constraint row net of the constants in its body (what the row limits
    the variable part to)."""
    bound = con.upper if sense == UPPER else con.lower
    if bound is None:
        return None
    repn = generate_standard_repn(con.body, compute_values=True, quadratic=False)
    return float(pyo.value(bound)) - float(repn.constant)


def fallback_source(fam: Family, block: pyo.Block, constraint: str, index: Any,
                    sense: str) -> LimitSource:
    """How a limit row is named when its family has no ``limit_source``: by its constraint
    and index, the limit read off the row, the unit from the family's symbols."""
    unit = next((s.unit for s in fam.symbols if s.name == constraint), "")
    con = limit_row(block, constraint, index)
    origin = f"family {fam.name}" + (f" ({fam.source})" if fam.source else "")
    return LimitSource(origin, (), constraint, row_name(constraint, index),
                       row_limit(con, sense), unit)


def source_of(built: BuiltModel, family: str, constraint: str, index: Any,
              sense: str) -> LimitSource:
    """Where the limit row ``family.constraint[index]`` comes from (hook or fallback)."""
    fam = next(f for f in built.families if f.name == family)
    block = built.block(family)
    if fam.limit_source is not None:
        return fam.limit_source(block, built.context(fam), constraint,
                                index)
    return fallback_source(fam, block, constraint, index, sense)


def describe(built: BuiltModel, rows: pd.DataFrame, amounts: Sequence[float]) -> pd.DataFrame:
    """The rows of ``built.soft_rows`` given (any subset) with their amounts, each mapped to
    its input rows and put in a sentence; columns :data:`COLUMNS`. ``relative`` is the amount
    as a share of the limit (where the limit is known and not 0)."""
    out = []
    for (_, row), amount in zip(rows.iterrows(), amounts, strict=True):
        src = source_of(built, row["family"], row["constraint"], row["index"], row["sense"])
        relative = (amount / abs(src.limit) if src.limit not in (None, 0.0) else None)
        out.append({
            "family": row["family"], "constraint": row["constraint"],
            "index": index_text(row["index"]), "sense": row["sense"], "amount": amount,
            "unit": src.unit, "limit": src.limit, "relative": relative, "file": src.file,
            "rows": " ".join(str(r) for r in src.rows), "column": src.column,
            "what": src.what, "note": src.note,
            "message": sentence(src, row["sense"], amount),
        })
    return pd.DataFrame(out, columns=COLUMNS)


def shortfall_table(built: BuiltModel, tolerance: float = 1e-9) -> pd.DataFrame:
    """Every positive shortfall of a solved model built with ``soft=``, described."""
    rows = built.soft_rows
    amount = [round(float(pyo.value(built.model.shortfall[k])), 9) + 0.0
              for k in rows["slack"]]
    keep = [a > tolerance for a in amount]
    return describe(built, rows[keep], [a for a, k in zip(amount, keep, strict=True) if k])


# ---------------------------------------------------------------------- regions.csv
#: ``sense`` of a limit row: what may be used (a ceiling) or what is required (a floor)
AT_MOST, AT_LEAST = "at most", "at least"
#: columns of the planner's limit table (``regions.csv``), before the shadow prices
LIMIT_COLUMNS = ["family", "region", "resource", "limit", "sense", "used", "limit_value",
                 "room_left", "broken_by", "unit", "source", "note", "model_rows"]
#: a limit within this (relative) distance of its use binds: neither room left nor broken
TOLERANCE = 1e-6

_FAMILY_PREFIX = re.compile(r"^family\[([^\]]+)\]\.")


def row_key(name: str) -> str:
    """The key of a model row (or of a variable standing for its bound) from its Pyomo
    name: ``family[talent].talent_within_supply[hefei,chip_engineers]`` ->
    ``talent.talent_within_supply[hefei,chip_engineers]``: family, constraint, index."""
    return _FAMILY_PREFIX.sub(r"\1.", name)


def limit_table(built: BuiltModel, rows: pd.DataFrame) -> pd.DataFrame:
    """The families' ``resources`` rows (:data:`allocator.core.tables.RESOURCE_COLUMNS`) as
    the planner reads them, columns :data:`LIMIT_COLUMNS`:

    * ``limit``: the limit in words, "at most supply (hefei, chip_engineers)": its sense, the
      input column and what it limits (from the family's ``limit_source``);
    * ``sense``: "at most", "at least", or blank for a row that is no limit (it informs);
    * ``limit_value``: what may be used (at most) or what is required (at least);
    * ``room_left``: how far the plan is from the limit (>= 0), ``broken_by``: how far it is
      beyond it (>= 0; only a plan that breaks limits, ``evaluate`` or ``--soft``); 0 within
      :data:`TOLERANCE`; blank for a row that is no limit;
    * ``source``: the input file and spreadsheet row(s) (or setting) the limit comes from;
    * ``model_rows``: for programs, the keys (:func:`row_key`) of the model rows whose duals
      price the limit, joined by `` + `` (blank: no price of its own).
    """
    if not len(rows):
        return pd.DataFrame(columns=LIMIT_COLUMNS)
    sources: dict[str, LimitSource | None] = {}
    contexts: dict[str, Any] = {}
    out = []
    for rec in rows.to_dict("records"):
        names = [n for n in str(rec.get("constraint") or "").split(" + ") if n]
        priced = rec.get("price_rows")
        priced = names if not isinstance(priced, str) else [n for n in priced.split(" + ") if n]
        sense = rec.get("sense")
        sense = AT_MOST if not isinstance(sense, str) else sense
        src = _source(built, names[0], sources, contexts) if names and sense else None
        used = float(rec["used"])
        value = room = broken = np.nan
        if sense:
            value = float(rec["available"])
            gap = value - used if sense == AT_MOST else used - value
            close = TOLERANCE * (1 + abs(value))
            room = gap if gap > close else 0.0
            broken = -gap if gap < -close else 0.0
        # the source's note where it explains a missing input row ("no row for this region
        # and class: supply 0"); its other notes are about shortfall amounts
        notes = [str(n) for n in (rec.get("note"), src.note if src and not src.rows else "")
                 if isinstance(n, str) and n]
        out.append({
            "family": rec["family"], "region": rec["region"], "resource": rec["resource"],
            "limit": _words(sense, src, rec), "sense": sense, "used": used,
            "limit_value": value, "room_left": room, "broken_by": broken,
            "unit": rec["unit"] if isinstance(rec["unit"], str) and rec["unit"]
            else (src.unit if src else ""),
            "source": rows_text(src.file, src.rows, src.column) if src else "",
            "note": "; ".join(notes),
            "model_rows": " + ".join(row_key(n) for n in priced) if sense else "",
        })
    return pd.DataFrame(out, columns=LIMIT_COLUMNS)


def _words(sense: str, src: LimitSource | None, rec: dict[str, Any]) -> str:
    if not sense:
        return "no limit (information)"
    if src is None:
        return f"{sense} {rec['resource']}"
    column = src.column or rec["resource"]
    return f"{sense} {column} ({src.what})" if src.what else f"{sense} {column}"


def _source(built: BuiltModel, name: str, cache: dict[str, LimitSource | None],
            contexts: dict[str, Any]) -> LimitSource | None:
    """Where the limit of the model row (or bounded variable) named ``name`` comes from:
    its family's ``limit_source``, else the constraint and index (:func:`fallback_source`);
    None for a row outside the families."""
    if name in cache:
        return cache[name]
    data = built.model.find_component(name)
    src = None
    if data is not None:
        comp = data.parent_component()
        block = comp.parent_block()
        family = block.index() if block is not None and block is not built.model else None
        fam = next((f for f in built.families if f.name == family), None)
        if fam is not None:
            index = data.index() if comp.is_indexed() else None
            if fam.limit_source is not None:
                if fam.name not in contexts:
                    contexts[fam.name] = built.context(fam)
                src = fam.limit_source(block, contexts[fam.name], comp.local_name, index)
            elif not hasattr(data, "body"):  # a variable standing for its upper bound
                src = LimitSource(f"family {fam.name}", (), comp.local_name,
                                  row_name(comp.local_name, index), data.ub)
            else:
                sense = UPPER if data.upper is not None else LOWER
                src = fallback_source(fam, block, comp.local_name, index, sense)
    cache[name] = src
    return src
