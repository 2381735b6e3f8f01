"""Write a three-period copy of an instance for timing plans over time.

    python benchmarks/make_periods.py INSTANCE OUT
    python benchmarks/scale.py --sizes "" --instance OUT --repeats 1 --time-limit 600 --no-docs

The copy has every table of INSTANCE, plus ``periods.csv`` (2026-2028, 2029-2031,
2032-2035, 5% a year) and final demand by period (``industries_by_period.csv`` and, when the
instance locates demand, ``markets_by_period.csv``): 60% of the instance's demand in the first
period, 80% in the second, all of it in the last. Budgets, talent and inputs hold for every
period as given. The instance's own demand is reached in the last period, so the last
period's one-shot plan is a plan of every period (built at once in the first), and the
three-period model has a plan whenever the one-shot one has.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

PERIODS = (("2026-2028", 2026, 3, 0.6), ("2029-2031", 2029, 3, 0.8), ("2032-2035", 2032, 4, 1.0))
RATE = 0.05


def write(source: Path, out: Path) -> Path:
    """Copy ``source`` to ``out`` (which must not exist) and add the period tables."""
    shutil.copytree(source, out)
    with open(out / "periods.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "first_year", "years", "discount_rate"])
        for pid, year, years, _ in PERIODS:
            w.writerow([pid, year, years, RATE])
    for table, key in (("industries", ["id"]), ("markets", ["industry", "region"])):
        path = out / f"{table}.csv"
        if not path.is_file():
            continue
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        with open(out / f"{table}_by_period.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([*key, "period", "demand"])
            for row in rows:
                if not (row.get("demand") or "").strip():
                    continue
                for pid, _, _, share in PERIODS[:-1]:
                    w.writerow([*(row[k] for k in key), pid,
                                f"{float(row['demand']) * share:.6g}"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    print(f"wrote {write(args.instance, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
