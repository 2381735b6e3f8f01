"""Planning periods: the optional table ``periods.csv``, the tables that give values by
period (``<table>_by_period.csv``), their checks, and each period's view of the data.

Layout (one row per period, in order; see ``docs/instance-format.md``)::

    id,first_year,years,discount_rate
    2026-2028,2026,3,0.05
    2029-2031,2029,3,0.05
    2032-2035,2032,4,0.05

Each period starts the year the previous one ends. Its discount factor is ``discount_factor``
when given, else $(1+r)^{-(y_p - y_1)}$ with $r$ its ``discount_rate`` (blank: 0) and $y_p$
its first year. A family option may change by period in a column ``section.option`` (e.g.
``funding.national_fund``; blank: the instance's value).

A column that a table spec marks ``by_period`` (demand, budgets, talent and input supply,
import caps; a family may mark its own) may take another value in each period, in the table
``<table>_by_period.csv``: the table's key columns, ``period`` and any of those columns, or
``<column>_growth``, an annual growth rate. For a period $p$ and a key, the value is the
period's row when it gives one; else the value of the row with ``period`` blank (else the
table's own) times $(1+g)^{y_p - y_1}$, $g$ the growth rate of the row with ``period``
blank (blank: 0). A value given once holds for all periods.

Nothing is fixed silently: every problem names the file, row, column and value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocator.core.errors import InputError, Problem
from allocator.core.schema import PERIODS, ColumnSpec, TableSpec

if TYPE_CHECKING:
    from allocator.core.family import Family
    from allocator.input.data import Instance

SUFFIX = "_by_period"
GROWTH = "_growth"
#: what the brownfield setting must be with periods (existing plants run from the first one)
KEEP = "keep"


@dataclass(frozen=True)
class Period:
    """One planning period: its first year, length and discount factor."""

    id: str
    first_year: int
    years: int
    discount: float
    row: int = 0

    @property
    def last_year(self) -> int:
        return self.first_year + self.years - 1


def by_period_spec(spec: TableSpec) -> TableSpec | None:
    """``<table>_by_period``: the key of ``spec``, ``period``, and each column marked
    ``by_period`` with its growth rate; None when ``spec`` has no such column."""
    cols = [c for c in spec.columns if c.by_period]
    if not cols:
        return None
    key = []
    for name in spec.key:
        c = spec.column(name)
        ref = c.references or (spec.name if name == "id" else None)
        key.append(replace(c, references=ref, required=True, nullable=False, default=None,
                           by_period=False))
    period = ColumnSpec("period", "id", "period id (periods.csv); blank: every period (a "
                        "growth rate is given on such a row)", nullable=True,
                        references=PERIODS.name)
    values: list[ColumnSpec] = []
    for c in cols:
        values.append(replace(c, required=False, nullable=True, default=None,
                              doc=f"{spec.name}.csv {c.name} in the period", by_period=False))
        values.append(ColumnSpec(f"{c.name}{GROWTH}", "float", f"annual growth rate of "
                                 f"{c.name} from the first period (0.1: +10% a year)",
                                 required=False, nullable=True, gt=-1))
    return TableSpec(f"{spec.name}{SUFFIX}",
                     f"Values of {spec.name}.csv that change by period (optional; needs "
                     "periods.csv). One row per key and period; a blank cell keeps the "
                     "value given once.", (*key, period, *values),
                     key=(*spec.key, "period"), needs=(spec.name, PERIODS.name))


def with_period_tables(schema: dict[str, TableSpec],
                       families: Iterable[Family] = ()) -> dict[str, TableSpec]:
    """``schema`` plus a ``<table>_by_period`` spec for each table with columns marked
    ``by_period``, and ``periods`` with a column ``section.option`` for every number option
    of ``families``."""
    out = dict(schema)
    for spec in schema.values():
        extra = by_period_spec(spec)
        if extra is not None:
            out[extra.name] = extra
    options = [ColumnSpec(f"{f.name}.{o.name}", "float", f"[{f.name}] {o.name} in the "
                          "period (blank: the instance's value)", unit=o.unit,
                          required=False, nullable=True, ge=o.ge, le=o.le)
               for f in families for o in f.options
               if o.type in (int, float)]
    if PERIODS.name in out and options:
        out[PERIODS.name] = replace(out[PERIODS.name],
                                    columns=out[PERIODS.name].columns + tuple(options))
    return out


def check_periods(tables: dict[str, pd.DataFrame], schema: dict[str, TableSpec],
                  settings: dict[str, Any], families: Iterable[Family],
                  file_of: Callable[[str], str]) -> list[Problem]:
    """Every problem of ``periods.csv`` and the ``*_by_period`` tables beyond the cell
    types: periods back to back, one discount per period, existing plants kept, keys of
    the base table, growth rates on rows for every period, option values the option
    accepts."""
    out: list[Problem] = []
    if PERIODS.name not in tables:
        return out  # a *_by_period table without periods.csv: reported as a missing file
    periods = tables[PERIODS.name]
    file = file_of(PERIODS.name)
    if not len(periods):
        return [Problem(file, "no period: give at least one row (id, first_year, years)")]
    prev: tuple[int, Any, Any] | None = None
    for row, rec in periods.iterrows():
        r = int(row)
        if pd.notna(rec["discount_rate"]) and pd.notna(rec["discount_factor"]):
            out.append(Problem(file, "give discount_rate or discount_factor, not both", row=r,
                               column="discount_factor", value=float(rec["discount_factor"])))
        if (prev is not None and pd.notna(rec["first_year"]) and pd.notna(prev[1])
                and pd.notna(prev[2])):
            expected = int(prev[1]) + int(prev[2])
            if int(rec["first_year"]) != expected:
                out.append(Problem(file, f"periods are back to back and in order: the period "
                                   f"on row {prev[0]} ends in {expected - 1}, so this one "
                                   f"starts in {expected}", row=r, column="first_year",
                                   value=int(rec["first_year"])))
        prev = (r, rec["first_year"], rec["years"])
    brownfield = settings.get("sites", {}).get("brownfield", KEEP)
    if brownfield != KEEP:
        out.append(Problem("instance.toml", "with periods.csv, existing plants run from the "
                           f"first period: [sites] brownfield must be '{KEEP}'",
                           column="sites.brownfield", value=brownfield))
    options = {f"{f.name}.{o.name}": o for f in families for o in f.options}
    for col in [c for c in periods.columns if "." in c]:
        opt = options.get(col)
        if opt is None:
            continue  # not a column of the spec: reported as an unknown column
        for row, value in periods[col].items():
            if pd.isna(value):
                continue
            given: float | int = float(value)
            if opt.type is int and float(value).is_integer():
                given = int(value)
            msg = opt.check(given)
            if msg:
                out.append(Problem(file, msg, row=int(row), column=col, value=value))
    for name in [n for n in tables if n.endswith(SUFFIX) and n in schema]:
        out.extend(_check_by_period(tables, schema[name], file_of))
    return out


def _check_by_period(tables: dict[str, pd.DataFrame], spec: TableSpec,
                     file_of: Callable[[str], str]) -> list[Problem]:
    base_name = spec.name[: -len(SUFFIX)]
    base = tables.get(base_name)
    if base is None:
        return []  # reported as a missing file
    out = []
    key = [k for k in spec.key if k != "period"]
    known = set(map(tuple, base[key].astype(object).to_numpy().tolist()))
    df = tables[spec.name]
    growth = [c.name for c in spec.columns if c.name.endswith(GROWTH)]
    for row, rec in df.iterrows():
        k = tuple(rec[c] for c in key)
        if k not in known:
            shown = ", ".join(f"{c}={v}" for c, v in zip(key, k, strict=True))
            out.append(Problem(file_of(spec.name), f"no row of {file_of(base_name)} has "
                               f"({shown}): give it there first (its value holds where no "
                               "period gives one)", row=int(row), column=key[-1], value=k[-1]))
        if pd.notna(rec["period"]):
            for g in growth:
                if pd.notna(rec[g]):
                    out.append(Problem(file_of(spec.name), "a growth rate runs from the "
                                       "first period: give it on a row with period blank",
                                       row=int(row), column=g, value=float(rec[g])))
    return out


def one_snapshot(tables: dict[str, pd.DataFrame], files: dict[str, str], what: str) -> None:
    """Refuse ``what`` (a command that works on one snapshot) for an instance with periods:
    :class:`InputError` naming periods.csv (exit 2), rather than an answer about the wrong
    plan."""
    if PERIODS.name in tables:
        raise InputError([Problem(files.get(PERIODS.name, PERIODS.file),
                                  f"{what} works on a one-shot plan; with planning periods it "
                                  "is not available yet (leave periods.csv out, or solve one "
                                  "period's data with a one-row periods.csv)")])


def periods_of(tables: dict[str, pd.DataFrame]) -> list[Period]:
    """The periods of ``periods.csv`` in file order, each with its discount factor (empty:
    no table, a one-shot plan)."""
    if PERIODS.name not in tables:
        return []
    df = tables[PERIODS.name]
    if not len(df):
        return []
    start = int(df["first_year"].iloc[0])
    out = []
    for row, rec in df.iterrows():
        year = int(rec["first_year"])
        if pd.notna(rec["discount_factor"]):
            factor = float(rec["discount_factor"])
        else:
            rate = 0.0 if pd.isna(rec["discount_rate"]) else float(rec["discount_rate"])
            factor = (1.0 + rate) ** -(year - start)
        out.append(Period(str(rec["id"]), year, int(rec["years"]), factor, int(row)))
    return out


def period_tables(tables: dict[str, pd.DataFrame], periods: list[Period], period: Period
                  ) -> dict[str, pd.DataFrame]:
    """The tables as ``period`` sees them: each ``<table>_by_period`` applied to its table
    (the rule of the module docstring). Tables without such a table are the same objects."""
    out = dict(tables)
    start = periods[0].first_year
    elapsed = period.first_year - start
    for name, df in tables.items():
        if not name.endswith(SUFFIX) or name[: -len(SUFFIX)] not in tables:
            continue
        base_name = name[: -len(SUFFIX)]
        base = tables[base_name].copy()
        values = [c[: -len(GROWTH)] for c in df.columns if c.endswith(GROWTH)
                  and c[: -len(GROWTH)] in df.columns]
        key = [c for c in df.columns if c in base.columns and c not in values]
        where = {tuple(k): row for row, k in zip(base.index, base[key].astype(object)
                                                 .to_numpy().tolist(), strict=True)}
        every = df[df["period"].isna()]
        this = df[df["period"] == period.id]
        for col in values:
            column = base[col].astype(float)
            for part, own in ((every, False), (this, True)):
                for rec in part.itertuples(index=False):
                    row = where.get(tuple(getattr(rec, k) for k in key))
                    if row is None:
                        continue  # reported by check_periods
                    if not own:
                        given = getattr(rec, col)
                        if pd.notna(given):
                            column[row] = float(given)
                        rate = _attr(rec, f"{col}{GROWTH}")
                        if pd.notna(rate) and pd.notna(column[row]):
                            column[row] = column[row] * (1.0 + float(rate)) ** elapsed
                    elif pd.notna(getattr(rec, col)):
                        column[row] = float(getattr(rec, col))
            base[col] = column
        out[base_name] = base
    return out


def _attr(rec: Any, name: str) -> Any:
    return getattr(rec, name, float("nan"))


def period_options(family_options: dict[str, dict[str, Any]], tables: dict[str, pd.DataFrame],
                   period: Period) -> dict[str, dict[str, Any]]:
    """The families' options in ``period``: a ``section.option`` column of periods.csv over
    the instance's value where the period's cell is given."""
    out = {name: dict(opts) for name, opts in family_options.items()}
    df = tables.get(PERIODS.name)
    if df is None:
        return out
    rec = df.loc[df["id"] == period.id].iloc[0]
    for col in [c for c in df.columns if "." in c]:
        section, option = col.split(".", 1)
        if section in out and option in out[section] and pd.notna(rec[col]):
            current = out[section][option]
            out[section][option] = (int(rec[col]) if isinstance(current, int)
                                    and not isinstance(current, bool) else float(rec[col]))
    return out


def period_instance(instance: Instance, periods: list[Period], period: Period) -> Instance:
    """The instance as ``period`` sees it: its tables by period, its options by period. A
    new :class:`Instance`, so derived data (cached) is computed from the period's tables;
    the industries' default site maximum (blank ``capacity_max``) is set by the engine
    (:func:`allocator.engine.periods.period_views`)."""
    tables = period_tables(instance.tables, periods, period)
    options = period_options(instance.family_options, instance.tables, period)
    return replace(instance, tables=tables, family_options=options)
