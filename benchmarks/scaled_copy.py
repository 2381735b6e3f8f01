"""Write a k-times larger copy of an instance: every region is copied k times (new ids
``<id>_<c>``, their own province group, turned 60 degrees of longitude per copy, which keeps
every distance within a copy and so its nearest-neighbour arcs), with its
talent, input supply, markets and site rows; national quantities (industry demand, import
caps, the national fund) are multiplied by k, so the copy is about as tight as the original.

A stand-in for the instance generator of a later issue, for benchmarks only:

    python benchmarks/scaled_copy.py instances/china-sei /tmp/china-sei-x4 4   # k <= 6
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pandas as pd

from allocator.core.outfolder import write_folder

REGION_TABLES = {"talent_supply.csv": "region", "input_supply.csv": "region",
                 "markets.csv": "region", "sites.csv": "region"}


def scaled_copy(source: Path, target: Path, k: int, *, force: bool = False) -> Path:
    """Write the copy to ``target`` where allocator may write (allocator.core.outfolder: a
    new or empty folder, or one allocator wrote, replaced atomically; ``force``: into
    another, keeping its files)."""
    return write_folder(target, lambda tmp: _write(source, tmp, k), force=force,
                        reading=[source])


def _write(source: Path, target: Path, k: int) -> None:
    shutil.copytree(source, target, dirs_exist_ok=True)
    regions = pd.read_csv(source / "regions.csv", dtype=str, keep_default_na=False)
    copies = [regions]
    for c in range(2, k + 1):
        r = regions.copy()
        r["id"] = r["id"] + f"_{c}"
        r["name"] = r["name"] + f" {c}"
        r["group"] = r["group"] + f" {c}"
        lon = (r["longitude"].astype(float) + 60.0 * (c - 1) + 180.0) % 360.0 - 180.0
        r["longitude"] = lon.round(4).astype(str)
        copies.append(r)
    pd.concat(copies).to_csv(target / "regions.csv", index=False)
    for name, column in REGION_TABLES.items():
        path = source / name
        if not path.exists():
            continue
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        parts = [df]
        for c in range(2, k + 1):
            d = df.copy()
            d[column] = d[column] + f"_{c}"
            if name == "sites.csv" and "must_host" in d.columns:
                d["must_host"] = ""  # must-host stays a property of the original region
            parts.append(d)
        pd.concat(parts).to_csv(target / name, index=False)
    ind = pd.read_csv(source / "industries.csv", dtype=str, keep_default_na=False)
    ind["demand"] = [str(float(v) * k) if v else "" for v in ind["demand"]]
    ind.to_csv(target / "industries.csv", index=False)
    inputs = pd.read_csv(source / "inputs.csv", dtype=str, keep_default_na=False)
    inputs["import_cap"] = [str(float(v) * k) if v else "" for v in inputs["import_cap"]]
    inputs.to_csv(target / "inputs.csv", index=False)
    toml = (source / "instance.toml").read_text(encoding="utf-8")
    toml = re.sub(r'^name = "(.*)"', rf'name = "\1-x{k}"', toml, count=1, flags=re.M)
    toml = re.sub(r"^national_fund = ([0-9.]+)",
                  lambda m: f"national_fund = {float(m.group(1)) * k}", toml, flags=re.M)
    (target / "instance.toml").write_text(toml, encoding="utf-8")
    (target / "expected.toml").unlink(missing_ok=True)


if __name__ == "__main__":
    src, dst, factor = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    print(scaled_copy(src, dst, factor))
