"""How the numbers of a results folder are written: without solver noise, and in Excel with
number formats a planner reads at a glance.

**Precision.** Every number of a result table is written rounded to :data:`DECIMALS` (6)
decimal places, and ``-0`` as ``0``. HiGHS accepts a row off by up to 1e-7 (its primal
feasibility tolerance) and the written plan is checked by ``allocator verify`` at a relative
1e-6, so a value within 1e-6 of zero or of a whole number is that number: the solver's
``-0.0``, ``5.68e-14`` and ``4.999999999`` are written ``0``, ``0`` and ``5``, and a distance
of ``84.94884128632225`` km ``84.948841``. ``summary.json`` keeps the solver's own figures
(objective, bound, gap) unrounded.

**Excel.** In ``results.xlsx`` a column of whole numbers gets the format ``#,##0``; any other
number column ``#,##0.00`` (two decimals, thousands separators), or four or six decimals
when the column holds values so small that two would show them as 0. The cell keeps the
written value; only its display changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from allocator.core.tables import WRITTEN_DECIMALS

#: decimal places written for every number of a result table
DECIMALS = WRITTEN_DECIMALS


def tidy(values: Any) -> np.ndarray:
    """Numbers rounded to :data:`DECIMALS`, ``-0.0`` turned into ``0.0`` (NaN and infinity
    kept)."""
    return np.round(np.asarray(values, dtype=float), DECIMALS) + 0.0


def tidy_table(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every float column tidied (:func:`tidy`)."""
    out = df.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = tidy(out[column])
    return out


def tidy_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every table tidied, as written to the results folder."""
    return {name: tidy_table(df) for name, df in tables.items()}


def excel_format(values: Iterable[Any]) -> str:
    """The Excel number format of a column (or a single cell) holding ``values``: ``#,##0``
    for whole numbers, else two decimals, or four or six when the smallest non-zero value
    would otherwise show as 0."""
    numbers = [float(v) for v in values if isinstance(v, (int, float))
               and not isinstance(v, bool) and v == v and abs(v) != float("inf")]
    if all(x == round(x) for x in numbers):
        return "#,##0"
    small = min((abs(x) for x in numbers if x != 0), default=1.0)
    decimals = 2 if small >= 0.005 else 4 if small >= 0.00005 else 6
    return "#,##0." + "0" * decimals
