"""The report of a sweep folder (``allocator sweep`` or ``allocator frontier``): one offline
page drawn from ``sweep.json``, ``sweep.csv`` and the case folders.

Sections: the cases at a glance (status, objective, gap, seconds); a frontier's picture
(term A against the bounded term B, point by point, with the objective) and the plans that
change along it; the objective against a policy lever (each numeric override that varies
while the other overrides stay the same); each case's objective by term; and the robust
choices: the (industry, region) pairs that host in every case with a plan, against those
that flip, with the cases where they do.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, renders offline

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from allocator.core.errors import InputError, Problem
from allocator.core.outfolder import check_files, write_files
from allocator.input.overrides import Overrides
from allocator.output.page import DPI, png
from allocator.output.parts import Figure, Kpis, Section, Table, fmt
from allocator.output.report import render_page

#: the most cases drawn one by one (bars, columns); beyond, the tables hold them all
MAX_CASES = 40


@dataclass
class SweepData:
    """A sweep folder as the report reads it."""

    folder: Path
    marker: dict[str, Any]
    table: pd.DataFrame
    #: per case name: its allocation.csv (cases with a plan only; not a frontier's anchor)
    allocations: dict[str, pd.DataFrame] = field(default_factory=dict)
    money: str = "money"

    @property
    def kind(self) -> str:
        return str(self.marker.get("kind", "sweep"))

    @property
    def planned(self) -> pd.DataFrame:
        """The rows of cases with a plan."""
        return self.table[self.table["case"].isin(self.allocations)]


def is_sweep(folder: str | Path) -> bool:
    return (Path(folder) / "sweep.json").is_file()


def read_sweep_folder(folder: str | Path) -> SweepData:
    """Read a sweep folder; :class:`InputError` when it is not one."""
    folder = Path(folder)
    try:
        marker = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise InputError([Problem(str(folder), f"not a sweep folder: sweep.json ({exc})")]
                         ) from exc
    if not (folder / "sweep.csv").is_file():
        raise InputError([Problem(str(folder), "sweep.csv is missing: the sweep has not "
                                  "finished once; run it again to write it")])
    table = pd.read_csv(folder / "sweep.csv")
    data = SweepData(folder, marker, table)
    for row in table.itertuples(index=False):
        path = getattr(row, "folder", None)
        if getattr(row, "role", None) == "anchor":
            continue  # a frontier's anchor minimizes one term alone: not a plan to weigh
        if not isinstance(path, str) or not (folder / path / "allocation.csv").is_file():
            continue
        summary = json.loads((folder / path / "summary.json").read_text(encoding="utf-8"))
        if summary.get("has_plan"):
            data.allocations[str(row.case)] = pd.read_csv(folder / path / "allocation.csv")
            data.money = str(summary.get("units", {}).get("money", data.money))
    return data


# ---------------------------------------------------------------------- analysis
def hosting_matrix(data: SweepData) -> pd.DataFrame:
    """1/0 per (industry, region) pair (rows) and case with a plan (columns): whether the
    pair hosts. Pairs that host in no case are left out."""
    columns = {}
    for case, alloc in data.allocations.items():
        hosted = alloc[alloc["hosted"] == 1]
        columns[case] = pd.Series(1, index=pd.MultiIndex.from_frame(
            hosted[["industry", "region"]]))
    if not columns:
        return pd.DataFrame()
    matrix = pd.DataFrame(columns).fillna(0).astype(int)
    matrix.index.names = ["industry", "region"]
    return matrix.sort_index()


def robust_and_flipping(matrix: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pairs that host in every case, pairs that host in some cases only): each with the
    number of cases hosting; the flipping ones also with the cases where they host and
    where they do not."""
    if matrix.empty:
        empty = pd.DataFrame(columns=["industry", "region", "cases"])
        return empty, empty
    count = matrix.sum(axis=1)
    n = matrix.shape[1]
    robust = count[count == n].rename("cases").reset_index()
    flips = matrix[count < n]
    rows = []
    for (industry, region), hosts in flips.iterrows():
        rows.append({"industry": industry, "region": region, "cases": int(hosts.sum()),
                     "hosts in": [c for c in matrix.columns if hosts[c]],
                     "not in": [c for c in matrix.columns if not hosts[c]]})
    flipping = pd.DataFrame(rows, columns=["industry", "region", "cases", "hosts in",
                                           "not in"])
    return robust, flipping.sort_values(["industry", "cases"], ascending=[True, False],
                                        kind="stable")


def lever_curves(data: SweepData) -> dict[str, list[tuple[str, list[tuple[float, float]]]]]:
    """Per numeric override that takes 3 or more values while every other override stays
    the same: lines of (value, objective), one per setting of the others (labelled by
    them). The cost of a policy lever as a curve."""
    flat: dict[str, dict[str, Any]] = {}
    for c in data.marker.get("cases", []):
        flat[c["name"]] = _flatten(Overrides.from_dict(c.get("overrides", {})))
    objective = dict(zip(data.planned["case"], data.planned["objective"], strict=True))
    keys = sorted({k for f in flat.values() for k, v in f.items() if _number(v)})
    curves: dict[str, list[tuple[str, list[tuple[float, float]]]]] = {}
    for key in keys:
        groups: dict[str, list[tuple[float, float]]] = {}
        for name, f in flat.items():
            if name not in objective or not _number(f.get(key)):
                continue
            rest = "; ".join(f"{k} = {v}" for k, v in sorted(f.items()) if k != key)
            groups.setdefault(rest, []).append((float(f[key]), float(objective[name])))
        lines = [(rest or "all else as the instance", sorted(points))
                 for rest, points in groups.items() if len({x for x, _ in points}) >= 3]
        if lines:
            curves[key] = lines
    return curves


def _flatten(o: Overrides) -> dict[str, Any]:
    out: dict[str, Any] = dict(o.settings)
    out.update({f"bound {t}": v for t, v in o.bounds})
    for c in o.changes:
        where = " and ".join(f"{k} = {'/'.join(_word(x) for x in v)}" for k, v in c.where)
        out[f"{c.how} {c.table}.{c.column}" + (f" where {where}" if where else "")] = c.value
    if o.without:
        out["without"] = ", ".join(o.without)
    if o.switch_on:
        out["with"] = ", ".join(o.switch_on)
    return out


def _word(value: Any) -> str:
    """A value as the sweep file writes it: true/false in lower case, numbers short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------------- sections
def overview(data: SweepData) -> Section:
    t = data.table
    sec = Section("cases", "The cases")
    counts = t["status"].value_counts()
    sec.blocks.append(Kpis([(str(len(t)), "cases"),
                            *[(str(int(n)), str(s)) for s, n in counts.items()],
                            (f"{np.nansum(t.get('seconds', pd.Series(dtype=float))):,.0f} s",
                             "solve time, all cases")]))
    described = data.marker.get("description")
    if described:
        sec.blocks.append(str(described))
    inst = data.marker.get("instance", {})
    opts = data.marker.get("options", {})
    sec.blocks.append(
        f"Instance {inst.get('name')} ({inst.get('path')}); every case is that instance with "
        "its overrides applied in memory. Solve options of every case: "
        + ", ".join(f"{k} {v}" for k, v in opts.items() if v is not None)
        + ". Each case is an ordinary results folder (allocator report, verify and compare "
        "read it).")
    sec.blocks.append(Table(
        "Cases", ["case", "overrides", "status", f"objective ({data.money})", "gap", "seconds",
                  "folder"],
        [[str(r["case"]) + (f" ({r['role']})" if isinstance(r.get("role"), str)
                            and r["role"] == "anchor" else ""),
          str(r["overrides"]), str(r["status"]), fmt(r.get("objective")),
          "" if _blank(r.get("gap")) else f"{r['gap']:.3%}", fmt(r.get("seconds"), 1),
          "" if _blank(r.get("folder")) else str(r["folder"])]
         for r in t.to_dict("records")],
        "Errors of failed cases: sweep.csv, column error.",
        numeric=[False, False, False, True, True, True, False]))
    return sec


def frontier_section(data: SweepData) -> Section | None:
    """Term A against the bounded term B at each point, the objective, and what changes."""
    spec = data.marker.get("frontier")
    if data.kind != "frontier" or not spec:
        return None
    a, b = spec["between"]
    t = data.planned
    points = t[t["role"] == "point"].copy()
    if f"term.{a}" not in points or f"term.{b}" not in points or points.empty:
        return None
    points["order"] = points["case"].str.extract(r"(\d+)$").astype(float)[0]
    points = points.sort_values("order")
    sec = Section("frontier", f"Frontier: {a} against {b}")
    sec.blocks.append(
        f"Each point is the least-cost plan (the whole objective, every term at its weight) "
        f"with {b} at most a bound, the bounds evenly from {b} in the optimum "
        f"({fmt(spec.get('max'))}) down to the least any plan reaches ({fmt(spec.get('min'))}"
        f", the case 'least {b}' that minimizes {b} alone). Moving along the points, {b} "
        f"falls and the objective rises; {a} shows what is given up for it.")
    x, y = points[f"term.{b}"].astype(float), points[f"term.{a}"].astype(float)
    z = points["objective"].astype(float)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4), dpi=DPI)
    ax.plot(x, y, "o-", color="#1d3557")
    for xi, yi, label in zip(x, y, points["case"], strict=True):
        ax.annotate(label.replace("point ", ""), (xi, yi), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
    ax.set_xlabel(f"{b} (before weighting)")
    ax.set_ylabel(f"{a} (before weighting)")
    ax.set_title(f"{a} against {b}", fontsize=10)
    ax2.plot(x, z, "o-", color="#d9822b")
    ax2.set_xlabel(f"{b} (before weighting)")
    ax2.set_ylabel(f"objective ({data.money})")
    ax2.set_title("what each bound costs", fontsize=10)
    fig.tight_layout()
    sec.blocks.append(Figure("frontier", f"{a} against {b}", png(fig),
                             "Left: the two terms at each point (numbered from the optimum). "
                             "Right: the objective at each point."))
    changes = _changes_along(data, list(points["case"]))
    sec.blocks.append(Table(
        "Points", ["point", f"bound on {b}", b, a, f"objective ({data.money})",
                   "hosting that changes from the point before"],
        [[str(r["case"]), fmt(r.get(f"bound.{b}")), fmt(r[f"term.{b}"]), fmt(r[f"term.{a}"]),
          fmt(r["objective"]), changes.get(str(r["case"]), "")]
         for r in points.to_dict("records")],
        "+ starts hosting, - stops hosting (industry@region).",
        numeric=[False, True, True, True, True, False]))
    return sec


def _changes_along(data: SweepData, cases: list[str]) -> dict[str, str]:
    out = {}
    for before, after in itertools.pairwise(cases):
        a, b = data.allocations.get(before), data.allocations.get(after)
        if a is None or b is None:
            continue
        ha = {(i, r) for i, r, h in zip(a["industry"], a["region"], a["hosted"], strict=True)
              if h == 1}
        hb = {(i, r) for i, r, h in zip(b["industry"], b["region"], b["hosted"], strict=True)
              if h == 1}
        parts = [f"+{i}@{r}" for i, r in sorted(hb - ha)] + [f"-{i}@{r}"
                                                               for i, r in sorted(ha - hb)]
        out[after] = " ".join(parts) if parts else "none"
    return out


def levers(data: SweepData) -> Section | None:
    if data.kind == "frontier":
        return None  # its one lever, the bound, is the frontier's own picture
    curves = lever_curves(data)
    if not curves:
        return None
    sec = Section("levers", "What a lever costs")
    sec.blocks.append("The objective against each override that takes three values or more "
                      "while the others stay the same: the cost of a policy lever as a curve.")
    for n, (key, lines) in enumerate(list(curves.items())[:6]):
        fig, ax = plt.subplots(figsize=(6.5, 3.4), dpi=DPI)
        for label, points in lines[:8]:
            ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label=label)
        ax.set_xlabel(key)
        ax.set_ylabel(f"objective ({data.money})")
        if len(lines) > 1:
            ax.legend(fontsize=7, frameon=False)
        fig.tight_layout()
        sec.blocks.append(Figure(f"lever-{n + 1}", f"Objective against {key}", png(fig)))
    return sec


def terms_section(data: SweepData) -> Section | None:
    t = data.planned
    cols = [c for c in t.columns if c.startswith("weighted.")]
    if t.empty or not cols:
        return None
    sec = Section("terms", "Objective by term")
    shown = t.head(MAX_CASES)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.35 * len(shown)), dpi=DPI)
    left = np.zeros(len(shown))
    cmap = plt.get_cmap("tab10")
    for k, col in enumerate(cols):
        values = shown[col].fillna(0).astype(float).to_numpy()
        if not np.any(values):
            continue
        ax.barh(range(len(shown)), values, left=left, color=cmap(k % 10),
                label=col.removeprefix("weighted."))
        left += values
    ax.set_yticks(range(len(shown)), list(shown["case"]), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(data.money)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    fig.tight_layout()
    sec.blocks.append(Figure("terms", "Objective by term, each case", png(fig),
                             "Each term at its weight; the bar is the objective."
                             + (f" The first {MAX_CASES} cases (all: sweep.csv)."
                                if len(t) > MAX_CASES else "")))
    sec.blocks.append(Table(
        "Objective by term (weighted)", ["case", *[c.removeprefix("weighted.") for c in cols],
                                         "objective"],
        [[str(r["case"]), *[fmt(r[c]) for c in cols], fmt(r["objective"])]
         for r in t.to_dict("records")],
        numeric=[False, *[True] * (len(cols) + 1)]))
    return sec


def robust_section(data: SweepData) -> Section | None:
    matrix = hosting_matrix(data)
    if matrix.empty:
        return None
    n = matrix.shape[1]
    robust, flipping = robust_and_flipping(matrix)
    sec = Section("robust", "Robust choices and what flips")
    anchors = " (a frontier's anchor, which minimizes one term alone, is left out)" \
        if data.kind == "frontier" else ""
    sec.blocks.append(
        f"Across the {n} cases with a plan{anchors}, {len(robust)} (industry, region) pairs "
        f"host in every case: choices that hold whatever the what-if. {len(flipping)} pairs "
        "host in some cases only: they depend on the overrides.")
    sec.blocks.append(Table(
        "Hosting in every case", ["industry", "regions"],
        [[str(i), ", ".join(g["region"])] for i, g in robust.groupby("industry", sort=True)]))
    if not flipping.empty:
        sec.blocks.append(_share_chart(matrix))
        sec.blocks.append(Table(
            "Hosting that flips", ["industry", "region", "hosts in", "cases where it hosts",
                                   "cases where it does not"],
            [[str(r["industry"]), str(r["region"]), f"{r['cases']} of {n}",
              _few(r["hosts in"]), _few(r["not in"])] for r in flipping.to_dict("records")],
            numeric=[False, False, True, False, False]))
    return sec


def _share_chart(matrix: pd.DataFrame) -> Figure:
    share = matrix.mean(axis=1).unstack("region")  # blank: the pair hosts in no case
    fig, ax = plt.subplots(figsize=(max(6.0, 0.4 * share.shape[1] + 3),
                                    max(2.5, 0.35 * share.shape[0] + 1.6)), dpi=DPI)
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#f0f3f7")
    im = ax.imshow(np.ma.masked_invalid(share.to_numpy(dtype=float)), cmap=cmap, vmin=0,
                   vmax=1, aspect="auto")
    ax.set_xticks(range(share.shape[1]), list(share.columns), rotation=60, ha="right",
                  fontsize=8)
    ax.set_yticks(range(share.shape[0]), list(share.index), fontsize=8)
    bar = fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01)
    bar.set_label("share of cases in which the pair hosts", fontsize=8)
    fig.tight_layout()
    return Figure("robust", "How often each pair hosts", png(fig),
                  "Green: hosts in every case (robust); red: in few; in between: it flips; "
                  "grey: in no case. Regions that host nothing in any case are left out.")


def _few(names: list[str], most: int = 6) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most
                                      else "")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


SECTIONS = [overview, frontier_section, levers, terms_section, robust_section]


def write_sweep_report(folder: str | Path, output: str | Path | None = None, *,
                       force: bool = False) -> tuple[Path, list[Path]]:
    """Write the report of the sweep folder ``folder`` (default ``FOLDER/report.html``) and
    each chart next to it as ``<stem>-<chart>.png``, under the rule of every command that
    writes (:mod:`allocator.core.outfolder`): a file allocator did not write is not replaced
    unless ``force``, and the files written are recorded in their folder's manifest."""
    data = read_sweep_folder(folder)
    sections = [s for s in (fn(data) for fn in SECTIONS) if s is not None]
    out = Path(output) if output is not None else Path(folder) / "report.html"
    check_files([out], force=force)  # before the work
    files: dict[Path, bytes] = {}
    for sec in sections:
        for block in sec.blocks:
            if isinstance(block, Figure):
                files[out.with_name(f"{out.stem}-{block.name}.png")] = block.png
    counts = data.table["status"].value_counts()
    inst = data.marker.get("instance", {})
    summary = {"status": f"{len(data.table)} cases: " + ", ".join(
        f"{n} {s}" for s, n in counts.items()), "objective": None, "gap": None,
        "software": {"allocator": data.marker.get("allocator", "")},
        "instance": {"sha256": inst.get("sha256", "")}}
    title = (f"allocator {data.kind}: {inst.get('name', Path(folder).name)}")
    files[out] = render_page(title, summary, sections, [], data.money,
                             str(data.marker.get("description") or "")).encode("utf-8")
    written = write_files(files, force=force)
    return written[-1], written[:-1]
