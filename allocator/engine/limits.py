"""Limit rows in the planner's words: every slack of a softened limit mapped back to its
family, constraint, index and the input file row(s) it comes from.

A family says where its limits come from through its optional ``limit_source`` hook (see
:class:`allocator.core.family.LimitSource`); a family without it (a researcher's, say) is still
described, by constraint name and index, with the limit's value read off the constraint and
the unit from its ``symbols``. Used by ``--soft`` (the ``shortfalls`` table) and by
``allocator explain`` (the ranked relaxations).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
