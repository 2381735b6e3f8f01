"""The planner's report: one self-contained HTML file built from a results folder.

``allocator report RESULTS [-o report.html] [--against OTHER] [--instance PATH]`` reads the
tables and ``summary.json`` that ``allocator solve -o RESULTS`` wrote and renders
``templates/report.html.j2`` with jinja2. Charts are drawn with matplotlib's Agg backend (no
display, no network), embedded in the page as base64 PNG and also written next to the report
(``report-<chart>.png``) for slides. The page loads nothing from anywhere: no script, no font,
no stylesheet from a network.

What a results folder must hold: ``summary.json`` and the CSV tables of
:mod:`allocator.engine.results`. The region names and coordinates come from its ``geography.csv``;
results written before that table existed are read together with their instance (the path
recorded in ``summary.json``, or ``--instance PATH``), whose SHA-256 is checked against the one
recorded: a different instance gives a warning at the top of the report.

Comparison (``--against OTHER``): any other results folder with ``objective.csv`` and
``summary.json``, typically a planner's own plan evaluated on the same instance (``allocator
evaluate``) or another solve. The headline then shows, term by term, what this plan saves
against it, and how many (industry, region) pairs host differently.

Extending: the report is the list :data:`SECTIONS` of functions ``section(data) -> Section |
None``, rendered in order; a function returns None when its data are absent. A stochastic run
(issue: supply-shock scenarios) adds per-scenario tables to its results folder; its section
function finds them in ``data.tables`` (e.g. ``scenarios``) and returns the expected-vs-worst
case charts, registered with :func:`add_section` (``after="headline"``), without touching the
sections here.

The parts of a page (:class:`~allocator.output.parts.Section`, figures, tables) live in
:mod:`allocator.output.parts`, the data a section reads
(:class:`~allocator.output.page.ReportData`) in :mod:`allocator.output.page`.

What a family adds (its ``ReportParts``: a built-in family's ``models/<family>/report.py``,
a researcher's ``Family.report_parts``): a section of its own, placed among
:data:`SECTIONS` (pilot bases after resources); blocks inside the shared sections that ask
for them (``data.family_blocks("duplication")``: neighbour pairs); key figures of the
headline; the flows the map draws.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, renders offline

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from allocator.core.family import Family
from allocator.core.outfolder import check_files, write_files
from allocator.output.mapping import (
    AREA,
    IN_CHINA_SHARE,
    OUTLINE_PACKAGE,
    Label,
    Style,
    china_outlines,
    draw_outlines,
    industry_styles,
    place_labels,
    share_inside,
)
from allocator.output.page import (
    ReportData,
    ResultsFolder,
    SectionFn,
    load_report_data,
    png,
)
from allocator.output.parts import Figure, Kpis, Section, Table, fmt, short
from allocator.output.report_periods import phasing_section
from allocator.output.report_scenarios import scenarios_section

#: most regions labelled on the map (the biggest hosts; all regions when there are no more)
MAX_LABELS = 40
#: marker size (points squared) of a region hosting nothing on the map
IDLE_SIZE = 12
#: most regions drawn as columns of a heatmap (national instances have hundreds)
MAX_COLUMNS = 60


def resource_label(resource: str) -> tuple[str, str]:
    """(kind, name) of a ``regions.csv`` resource: ``talent:chip_engineers`` ->
    ("talent", "chip_engineers")."""
    kind, _, name = str(resource).partition(":")
    return kind, name


# ---------------------------------------------------------------------- sections
def broken_limits(folder: ResultsFolder) -> int:
    """How many limits the plan of a results folder breaks (``summary.json``
    ``limits_broken``; for folders written before it, the shortfall rows and the broken
    rules of an evaluation)."""
    s = folder.summary
    if s.get("limits_broken") is not None:
        return int(s["limits_broken"])
    short = folder.table("shortfalls")
    rows = int((short["amount"] > 0).sum()) if "amount" in short.columns else 0
    return rows + len((s.get("plan") or {}).get("broken") or [])


def cost_without_penalty(folder: ResultsFolder) -> float | None:
    """The plan's cost: the weighted terms of ``objective.csv`` without the shortfall
    penalty (the objective itself for a plan that breaks nothing)."""
    obj = folder.table("objective")
    if obj.empty:
        return folder.summary.get("objective")
    return float(obj.loc[obj["term"] != SHORTFALL, "weighted"].sum())


def verdict(data: ReportData) -> str:
    """The line under the report's title: a plan that breaks limits says so first (never
    "optimal" with a gap: the evaluation's search is optimal, the plan is not feasible)."""
    s, money = data.summary, data.money
    broken = broken_limits(data.results)
    if broken and s.get("objective") is not None:
        return (f"This plan BREAKS {broken} limit{'s' if broken != 1 else ''} of the instance "
                "(shortfalls.csv): it cannot be carried out as it is. Its cost with those "
                f"limits lifted: {fmt(cost_without_penalty(data.results))} {money} (the "
                "penalty on the shortfalls left out).")
    text = f"Status {s.get('status')}"
    if s.get("objective") is not None:
        text += f", objective {fmt(s['objective'])} {money}"
    if s.get("gap") is not None:
        text += f", gap {s['gap']:.3%}"
    return text + "."


def headline(data: ReportData) -> Section:
    """Status, objective by term, and the saving against a compared plan."""
    s, money = data.summary, data.money
    sec = Section("headline", "Headline")
    gap = s.get("gap")
    broken = broken_limits(data.results) if s.get("objective") is not None else 0
    status = f"Status: {s.get('status')} (HiGHS: {s.get('termination')})"
    if gap is not None:
        status += f", MIP gap {gap:.3%}"
    seconds = s.get("seconds", {})
    total = sum(v for k, v in seconds.items() if k in ("build", "handoff", "solve"))
    status += f", solved in {total:.1f} s."
    kpis = _kpis(data)
    if kpis:
        sec.blocks.append(Kpis(kpis))
    sec.blocks.append(verdict(data) if broken else status)
    if s.get("message"):
        sec.blocks.append(str(s["message"]))
    if s.get("objective") is None:
        sec.blocks.append("No plan was found: there is nothing to draw. "
                          + (f"Best bound {fmt(s.get('best_bound'))} {money}."
                             if s.get("best_bound") is not None else ""))
        return sec
    bound = s.get("best_bound")
    if broken:
        penalty = (s.get("weights") or {}).get(SHORTFALL)
        sec.blocks.append(
            "What it breaks, limit by limit, is under Shortfalls (shortfalls.csv): how far "
            "each is off, with its input row. The cost above is what the plan would cost if "
            "those limits were lifted"
            + (f"; the evaluation charged {fmt(penalty, 0)} per unit of shortfall to find "
               "the least shortfall first, a penalty, not a cost." if penalty else "."))
    else:
        sec.blocks.append(f"Objective {fmt(s['objective'])} {money}"
                          + (f" (the best possible is at least {fmt(bound)})."
                             if bound is not None else "."))
    scarce = _scarcest(data)
    if scarce:
        sec.blocks.append(scarce)
    obj = data.results.table("objective")
    other = data.against.table("objective") if data.against is not None else pd.DataFrame()
    if not obj.empty:
        if not other.empty and data.against is not None:
            sec.blocks.extend(_comparison(data, obj, other))
            sec.blocks.append(Figure("objective", "Objective by term against "
                                     f"{data.against.label}", _objective_chart(data, obj, other)))
        else:
            sec.blocks.append(Table(
                "Objective by term", ["term", "weight", "value", f"weighted ({money})"],
                [[str(r.term), fmt(r.weight, 4).rstrip("0").rstrip("."), fmt(r.value),
                  fmt(r.weighted)] for r in obj.itertuples(index=False)],
                "value: the term before weighting (its own unit); weighted: what it adds to "
                "the objective.", numeric=[False, True, True, True]))
    return sec


def limits_of(reg: pd.DataFrame) -> pd.DataFrame:
    """``regions.csv`` with the columns the report reads (a results folder written before
    limits had a sense reads as limits of what may be used)."""
    reg = reg.copy()
    if "limit_value" not in reg.columns and "available" in reg.columns:
        reg["limit_value"] = reg["available"]
    if "sense" not in reg.columns:
        reg["sense"] = AT_MOST
    if "shadow_price_meaning" not in reg.columns:
        reg["shadow_price_meaning"] = ""
    return reg


AT_MOST, AT_LEAST = "at most", "at least"


def _scarcest(data: ReportData) -> str:
    """One sentence on the resource whose one more unit would save the most."""
    reg = limits_of(data.results.table("regions"))
    if "shadow_price" not in reg.columns:
        return ""
    top = reg[(reg["sense"] == AT_MOST) & (reg["shadow_price"].fillna(0) > 1e-9)]
    top = top.sort_values("shadow_price", ascending=False)
    if top.empty:
        return ""
    r = top.iloc[0]
    where = "nationally" if r["region"] == "(national)" else f"in {data.region_name(r['region'])}"
    return (f"The scarcest resource: {_describe_limit(data, r['resource'])} {where}: "
            f"{r['shadow_price_meaning']} (details under Scarce resources).")


def _kpis(data: ReportData) -> list[tuple[str, str]]:
    """The figures a planner looks for first."""
    s, out = data.summary, []
    if s.get("objective") is not None and broken_limits(data.results):
        out.append((f"{broken_limits(data.results)}", "limits the plan breaks"))
        out.append((f"{cost_without_penalty(data.results):,.0f}",
                    f"cost with them lifted ({data.money})"))
    elif s.get("objective") is not None:
        out.append((f"{s['objective']:,.0f}", f"objective ({data.money})"))
    ind = data.results.table("industries")
    if not ind.empty:
        out.append((f"{int(ind['hosts'].sum())} of {int(ind['candidates'].sum())}",
                    "(industry, region) pairs host"))
        above = int((ind["hosts"] > ind["target_hosts"]).sum())
        out.append((f"{above} of {len(ind)}", "industries above their host target"))
    out += data.family_kpis()
    reg = data.results.table("regions")
    if "shadow_price" in reg.columns:
        binding = reg[(reg["shadow_price"].fillna(0).abs() > 1e-9)]
        out.append((str(len(binding)), "limits holding the plan back (shadow price not 0)"))
    return out


def _comparison(data: ReportData, obj: pd.DataFrame, other: pd.DataFrame) -> list[Any]:
    """The saving term by term. The ``shortfall`` term is a penalty on broken limits, not
    money: it is left out of the totals and an infeasible plan is said to be one."""
    assert data.against is not None
    money = data.money
    penalized = SHORTFALL in set(obj["term"]) | set(other["term"])
    mine = obj.set_index("term")["weighted"].drop(labels=[SHORTFALL], errors="ignore")
    theirs = other.set_index("term")["weighted"].drop(labels=[SHORTFALL], errors="ignore")
    terms = list(dict.fromkeys([*mine.index, *theirs.index]))
    rows = []
    for t in terms:
        a, b = float(mine.get(t, 0.0)), float(theirs.get(t, 0.0))
        rows.append([t, fmt(b), fmt(a), fmt(b - a)])
    total_a, total_b = float(mine.sum()), float(theirs.sum())
    rows.append(["total", fmt(total_b), fmt(total_a), fmt(total_b - total_a)])
    label = data.against.label
    saving = total_b - total_a
    share = f" ({saving / total_b:.1%})" if total_b else ""
    out: list[Any] = [
        f"Against {label}: this plan {'saves' if saving >= 0 else 'costs'} "
        f"{fmt(abs(saving))} {money}{share}"
        + (" (the shortfall penalty left out)." if penalized else ".")]
    for folder, who in ((data.against, label), (data.results, "this plan")):
        if _breaks_limits(folder):
            out.append(f"{who} is infeasible: it breaks limits (see its shortfalls.csv); its "
                       "cost is what it would cost if those limits were lifted.")
    changed = _changed_pairs(data.results, data.against)
    if changed is not None:
        out.append(f"{changed} (industry, region) pairs host differently in the two plans.")
    out.append(Table(f"Objective by term against {label} ({money}, weighted)",
                     ["term", label, "this plan", "saving"], rows,
                     "saving: the compared plan's value minus this plan's (positive: this plan "
                     "is cheaper).", numeric=[False, True, True, True]))
    return out


SHORTFALL = "shortfall"


def _breaks_limits(folder: ResultsFolder) -> bool:
    plan = folder.summary.get("plan") or {}
    if plan.get("feasible") is False:
        return True
    short = folder.table("shortfalls")
    return not short.empty and float(short["amount"].sum()) > 0


def _changed_pairs(a: ResultsFolder, b: ResultsFolder) -> int | None:
    x, y = a.table("allocation"), b.table("allocation")
    if x.empty or y.empty or "hosted" not in y.columns:
        return None
    hx = set(map(tuple, x.loc[x["hosted"] == 1, ["industry", "region"]].to_numpy()))
    hy = set(map(tuple, y.loc[y["hosted"] == 1, ["industry", "region"]].to_numpy()))
    return len(hx ^ hy)


def _objective_chart(data: ReportData, obj: pd.DataFrame, other: pd.DataFrame) -> bytes:
    obj = obj[obj["term"] != SHORTFALL]
    terms = list(obj["term"])
    mine = obj.set_index("term")["weighted"]
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * len(terms) + 1.0))
    y = np.arange(len(terms))
    if other.empty:
        ax.barh(y, [mine[t] for t in terms], color="#3b7dd8")
    else:
        theirs = other.set_index("term")["weighted"]
        assert data.against is not None
        ax.barh(y - 0.2, [theirs.get(t, 0.0) for t in terms], height=0.4, color="#bbbbbb",
                label=data.against.label)
        ax.barh(y + 0.2, [mine[t] for t in terms], height=0.4, color="#3b7dd8",
                label="this plan")
        ax.legend(loc="lower right", frameon=False)
    ax.set_yticks(y, terms)
    ax.invert_yaxis()
    ax.set_xlabel(f"weighted value ({data.money})")
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def allocation(data: ReportData) -> Section | None:
    """Which region hosts which industry, and how much capacity: the heatmap."""
    alloc = data.results.table("allocation")
    if alloc.empty:
        return None
    sec = Section("allocation", "Who hosts what")
    png, caption = _heatmap(data, alloc)
    sec.blocks.append(Figure("capacity-heatmap", "Capacity by industry and region", png,
                             caption))
    ind = data.results.table("industries")
    if not ind.empty:
        names = data.region_name
        sec.blocks.append(Table(
            "Host regions per industry",
            ["industry", "candidates", "hosts", "target", "capacity", "unit", "host regions"],
            [[data.industry_name(r.industry), fmt(r.candidates), fmt(r.hosts),
              fmt(r.target_hosts), fmt(r.capacity, 1),
              str(getattr(r, "capacity_unit", "")),
              ", ".join(names(x) for x in str(r.host_regions).split() if x != "nan")]
             for r in ind.itertuples(index=False)],
            "candidates: regions allowed to host; hosts: regions that host in this plan.",
            numeric=[False, True, True, True, True, False, False]))
    return sec


def _region_order(data: ReportData, regions: list[str]) -> list[str]:
    """Regions west to east (by longitude) when coordinates are known."""
    geo = data.geography
    if geo.empty:
        return regions
    lon = geo["longitude"].reindex(regions)
    return list(lon.sort_values(kind="stable").index)


def _heatmap(data: ReportData, alloc: pd.DataFrame) -> tuple[bytes, str]:
    industries = list(data.industries.index) if not data.industries.empty else list(
        dict.fromkeys(alloc["industry"]))
    weight = _shares(alloc[alloc["hosted"] == 1]).groupby("region")["share"].sum()
    shown = weight.sort_values(ascending=False, kind="stable").index[:MAX_COLUMNS]
    regions = _region_order(data, list(shown))
    left_out = alloc["region"].nunique() - len(regions)
    cap = alloc.pivot_table(index="industry", columns="region", values="capacity",
                            aggfunc="sum").reindex(index=industries, columns=regions)
    hosted = alloc.pivot_table(index="industry", columns="region", values="hosted",
                               aggfunc="max").reindex(index=industries, columns=regions)
    existing = alloc.pivot_table(index="industry", columns="region", values="existing",
                                 aggfunc="sum").reindex(index=industries, columns=regions)
    totals = alloc.groupby("industry")["capacity"].sum().reindex(industries)
    share = cap.div(totals.replace(0, np.nan), axis=0)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.42 * len(regions) + 3.2),
                                    max(3.0, 0.4 * len(industries) + 1.8)))
    top = float(np.nanmax(share.to_numpy(dtype=float))) if share.notna().any().any() else 1.0
    im = ax.imshow(share.fillna(0).to_numpy(), cmap="YlGnBu", vmin=0,
                   vmax=min(1.0, max(top, 0.05)), aspect="auto")
    for i in range(len(industries)):
        for j in range(len(regions)):
            if hosted.iat[i, j] == 1:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=1.3,
                                       ec="#222222"))
                mark = "*" if (existing.iat[i, j] or 0) > 0 else ""
                ax.text(j, i, short(float(cap.iat[i, j])) + mark, ha="center", va="center",
                        fontsize=6.5,
                        color="white" if share.iat[i, j] > 0.6 * top else "#111111")
    ax.set_xticks(range(len(regions)), [data.region_name(r) for r in regions], rotation=60,
                  ha="right", fontsize=8)
    ax.set_yticks(range(len(industries)), [data.industry_name(i) for i in industries],
                  fontsize=8)
    bar = fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01)
    bar.set_label("share of the industry's national capacity", fontsize=8)
    fig.tight_layout()
    caption = ("Colour: each region's share of the industry's national capacity. Outlined "
               "cells host the industry; the number is the capacity (in the industry's own "
               "unit, see the table below), * where some of it exists already. Regions west "
               "to east.")
    if left_out:
        caption += (f" {left_out} regions are not shown: those hosting nothing"
                    + (f", and beyond the {MAX_COLUMNS} with most capacity"
                       if len(weight) > MAX_COLUMNS else "") + " (all of them: allocation.csv).")
    return png(fig), caption


def map_section(data: ReportData) -> Section | None:
    """Regions at their coordinates, sized by hosted capacity, coloured by leading industry,
    with the value-chain flows between them."""
    alloc = data.results.table("allocation")
    if alloc.empty:
        return None
    sec = Section("map", "Map of the plan")
    if data.geography.empty:
        sec.blocks.append("No coordinates are available for the regions, so there is no map.")
        return sec
    png, caption = _map_chart(data, alloc, data.results.table("flows"))
    sec.blocks.append(Figure("map", "Regions, leading industries and chain flows", png,
                             caption))
    return sec


def _shares(alloc: pd.DataFrame) -> pd.DataFrame:
    """Capacity of each site as a share of its industry's national capacity: a unit-free
    size (industries count capacity in different units)."""
    total = alloc.groupby("industry")["capacity"].transform("sum").replace(0, np.nan)
    return alloc.assign(share=(alloc["capacity"] / total).fillna(0.0))


@dataclass
class MapFigure:
    """The map before it becomes a PNG: what tests and the caption need to know of it."""

    fig: plt.Figure
    caption: str
    labels: list[Label]
    styles: dict[str, Style]  # industry -> how it looks (cities it leads, flows of its good)
    leading: dict[str, str]  # region -> the industry it is coloured by
    provinces: int  # province outlines drawn (0: none)


def _map_chart(data: ReportData, alloc: pd.DataFrame, flows: pd.DataFrame) -> tuple[bytes, str]:
    drawn = map_figure(data, alloc, flows)
    return png(drawn.fig), drawn.caption


def map_figure(data: ReportData, alloc: pd.DataFrame, flows: pd.DataFrame) -> MapFigure:
    """Regions at their coordinates over province outlines (when the regions lie in China),
    each host sized by its capacity and styled by its leading industry
    (:func:`allocator.output.mapping.industry_styles`: colour-blind-safe colours, then
    shapes), chain flows in the style of their good, labels that do not overlap
    (:func:`allocator.output.mapping.place_labels`)."""
    geo = data.geography
    shares = _shares(alloc[alloc["hosted"] == 1])
    weight = shares.groupby("region")["share"].sum()
    leading = shares.sort_values("share", ascending=False).drop_duplicates("region").set_index(
        "region")["industry"]
    leading = leading[leading.index.isin(geo.index)]
    chain = flows.iloc[:0]
    if not flows.empty and {"family", "from", "to", "amount"} <= set(flows.columns):
        chain = data.map_flows(flows)  # the value chain's flows (families' report.py)
        chain = chain[(chain["from"] != chain["to"]) & (chain["amount"] > 0)
                      & chain["from"].isin(geo.index) & chain["to"].isin(geo.index)]
    # styles: industries leading more regions first, then the goods of the flows drawn
    table_order = {i: k for k, i in enumerate(data.industries.index)}
    led = leading.value_counts()
    order = sorted(led.index, key=lambda i: (-led[i], table_order.get(i, len(table_order)), i))
    order += sorted(set(chain["industry"]) - set(order) if len(chain) else [],
                    key=lambda i: (table_order.get(i, len(table_order)), i))
    styles = industry_styles(order)

    lon, lat = geo["longitude"].astype(float), geo["latitude"].astype(float)
    lat0 = float(lat.mean())
    fig, ax = plt.subplots(figsize=(9.5, 7))
    ax.set_aspect(1 / max(math.cos(math.radians(lat0)), 0.2))
    margin_x = max(1.0, 0.06 * float(lon.max() - lon.min()))
    margin_y = max(1.0, 0.06 * float(lat.max() - lat.min()))
    view = (float(lon.min()) - margin_x, float(lon.max()) + margin_x,
            float(lat.min()) - margin_y, float(lat.max()) + margin_y)
    ax.set_xlim(view[0], view[1])
    ax.set_ylim(view[2], view[3])
    outlines = china_outlines()
    provinces = 0
    if share_inside(outlines, lon.to_numpy(), lat.to_numpy()) >= IN_CHINA_SHARE:
        provinces = draw_outlines(ax, outlines, view)
        outline_note = (f"Grey lines: province outlines from {outlines.source} (MIT licence; "
                        "its Chinese boundaries come from Amap, as the package states), "
                        "simplified, for orientation only.")
    else:
        outline_note = ("No province outlines: the regions do not lie in China, the only "
                        f"country whose outlines allocator ships ({OUTLINE_PACKAGE}).")
    if len(chain):
        biggest = chain.groupby("industry")["amount"].transform("max")
        for good, src, dst, rel in zip(chain["industry"], chain["from"], chain["to"],
                                       chain["amount"] / biggest, strict=True):
            style = styles[good]
            ax.plot([geo.at[src, "longitude"], geo.at[dst, "longitude"]],
                    [geo.at[src, "latitude"], geo.at[dst, "latitude"]],
                    color=style.colour, linestyle=style.linestyle, lw=0.6 + 4.0 * float(rel),
                    alpha=0.6, zorder=1, solid_capstyle="round", dash_capstyle="round")
    idle = [r for r in geo.index if r not in leading.index]
    ax.scatter(lon[idle], lat[idle], s=IDLE_SIZE, color="#999999", zorder=2)
    top = weight.max() if len(weight) else 1.0
    size = {r: 40 + 900 * weight[r] / top for r in leading.index}
    # the biggest first, so that a small host next to a big one stays visible on top of it
    for k, r in enumerate(sorted(leading.index, key=lambda r: (-size[r], r))):
        style = styles[leading[r]]
        ax.scatter([lon[r]], [lat[r]], s=size[r] * AREA[style.marker], color=style.colour,
                   marker=style.marker, edgecolors="white", linewidths=0.8,
                   zorder=3 + k / 1000)
    handles = [Line2D([], [], color="#999999", marker="o", linestyle="", markersize=4,
                      label="hosts nothing")]
    handles += [Line2D([], [], color=styles[i].colour, marker=styles[i].marker,
                       linestyle=styles[i].linestyle if i in set(chain["industry"]) else "",
                       markersize=7, lw=1.6, label=data.industry_name(i)
                       + ("" if i in led.index else " (flows only)")) for i in order]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
              fontsize=8, title="leading industry", title_fontsize=8)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.grid(alpha=0.2)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    # labels last, on the final layout: the biggest hosts first, then regions hosting nothing
    shown = sorted(leading.index, key=lambda r: (-size[r], r))[:MAX_LABELS]
    if len(geo) <= MAX_LABELS:
        shown += sorted(idle)
    items = [(data.region_name(r), float(lon[r]), float(lat[r]),
              math.sqrt(size.get(r, IDLE_SIZE)) / 2) for r in shown]
    labels = place_labels(ax, items)
    left_out = sum(label.box is None for label in labels)
    caption = ("Each region at its longitude and latitude. Size: capacity hosted, each "
               "industry counted as its share of national capacity (industries use different "
               "units); colour and shape: the industry with the largest such share "
               "(colour-blind-safe colours; shapes from the tenth industry on). Lines: "
               "value-chain flows between regions in the style of the good (the upstream "
               "industry), width by the flow as a share of that good's largest flow. Market "
               "shipments are in flows.csv. " + outline_note)
    if left_out:
        caption += (f" {left_out} label{'s' if left_out != 1 else ''} left out where "
                    "{} would overlap another (all regions: allocation.csv).".format(
                        "they" if left_out != 1 else "it"))
    return MapFigure(fig, caption, labels, styles, dict(leading), provinces)


def duplication(data: ReportData) -> Section | None:
    """Host regions per industry against target, neighbour pairs that still duplicate."""
    ind = data.results.table("industries")
    if ind.empty:
        return None
    sec = Section("duplication", "Duplication")
    excess = ind[ind["hosts"] > ind["target_hosts"]]
    sec.blocks.append(
        f"{int(ind['candidates'].sum()):,} (industry, region) pairs could host; "
        f"{int(ind['hosts'].sum()):,} do. "
        + (f"{len(excess)} industries have more host regions than their target: "
           + ", ".join(f"{data.industry_name(r.industry)} ({r.hosts} of {r.target_hosts})"
                       for r in excess.itertuples(index=False)) + "."
           if len(excess) else "No industry has more host regions than its target."))
    sec.blocks.append(Figure("duplication", "Host regions against target",
                             _duplication_chart(data, ind),
                             "Grey: regions allowed to host (candidates); bar: regions that "
                             "host in this plan (red where above the target); black tick: the "
                             "national target."))
    sec.blocks.extend(data.family_blocks("duplication"))  # e.g. neighbour pairs
    return sec


def _duplication_chart(data: ReportData, ind: pd.DataFrame) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 0.36 * len(ind) + 1.2))
    y = np.arange(len(ind))
    ax.barh(y, ind["candidates"], color="#e6e6e6", height=0.75, label="candidates")
    above = (ind["hosts"] > ind["target_hosts"]).to_numpy()
    ax.barh(y[~above], ind["hosts"][~above], color="#3b7dd8", height=0.45, label="hosts")
    ax.barh(y[above], ind["hosts"][above], color="#d9534f", height=0.45,
            label="hosts, above target")
    ax.scatter(ind["target_hosts"], y, marker="|", s=260, color="black", zorder=3,
               label="target")
    ax.set_yticks(y, [data.industry_name(i) for i in ind["industry"]], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("regions")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, frameon=False,
              fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def resources(data: ReportData) -> Section | None:
    """Talent by class, funding and key inputs per region, used against available, and
    what one more unit of each would save (shadow prices)."""
    reg = data.results.table("regions")
    if reg.empty:
        return None
    reg = limits_of(reg)
    sec = Section("resources", "Scarce resources and their shadow prices")
    priced = "shadow_price" in reg.columns and reg["shadow_price"].notna().any()
    if priced:
        sec.blocks.append(
            f"Shadow price: in {data.money} per unit of a limit, with this plan's hosting kept "
            "as it is (the LP re-solved with the hosting decisions fixed, each price checked "
            "by moving its limit a little). Each extra unit of a limit of what may be used "
            "(talent, funding, key inputs) saves it; each extra unit of a requirement "
            "(demand, N-1 cover) costs it. It holds for small changes, is zero where the "
            "limit does not bind, and is not the value of a whole new site.")
    elif "shadow_price" in reg.columns:
        why = (data.summary.get("shadow_prices") or {}).get("message", "")
        sec.blocks.append(f"No shadow prices: {why}." if why else "No shadow prices.")
    limits = reg[reg["sense"].eq(AT_MOST) & reg["region"].ne("(national)")
                 & reg["resource"].astype(str).str.match(r"^(talent:|funding$|input:)")]
    if not limits.empty:
        png, caption = _utilisation_chart(data, limits, priced)
        sec.blocks.append(Figure("resources", "Use of each regional limit", png, caption))
    talent = reg[reg["resource"].astype(str).str.startswith("talent:")]
    if not talent.empty:
        sec.blocks.append(Figure("talent", "Talent by class, national totals",
                                 _talent_chart(data, talent),
                                 "Talent used by hosted capacity against the talent available, "
                                 "summed over regions (each class in its own unit)."))
    sec.blocks.extend(data.family_blocks("resources"))
    if priced:
        sec.blocks.extend(_price_tables(data, reg))
    return sec


def _utilisation_chart(data: ReportData, limits: pd.DataFrame, priced: bool
                       ) -> tuple[bytes, str]:
    rows = list(dict.fromkeys(limits["resource"]))
    # the regions where most limits bind (all of them on instances of up to 60 regions)
    binding = (limits["limit_value"] - limits["used"]
               <= 1e-6 * (1 + limits["limit_value"].abs()))
    ranked = binding.groupby(limits["region"]).sum().sort_values(ascending=False, kind="stable")
    regions = _region_order(data, list(ranked.index[:MAX_COLUMNS]))
    key = limits.set_index(["resource", "region"])
    used = key["used"].astype(float)
    avail = key["limit_value"].astype(float)
    share = (used / avail.where(avail > 0)).unstack("region").reindex(index=rows,
                                                                       columns=regions)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.42 * len(regions) + 3.5),
                                    max(2.6, 0.42 * len(rows) + 1.8)))
    im = ax.imshow(share.clip(upper=1).to_numpy(dtype=float), cmap="OrRd", vmin=0, vmax=1,
                   aspect="auto")
    slack = (avail - used).unstack("region").reindex(index=rows, columns=regions)
    price = (key["shadow_price"].astype(float).unstack("region").reindex(index=rows,
                                                                         columns=regions)
             if priced else None)
    for i in range(len(rows)):
        for j in range(len(regions)):
            a = share.iat[i, j]
            if isinstance(a, float) and not math.isnan(a) and a > 0 and slack.iat[i, j] <= 1e-6 * (
                    1 + abs(avail.get((rows[i], regions[j]), 0.0))):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=1.3,
                                       ec="#222222"))
            if price is not None:
                p = price.iat[i, j]
                if isinstance(p, float) and not math.isnan(p) and abs(p) > 1e-9:
                    ax.text(j, i, short(p), ha="center", va="center", fontsize=6.5,
                            color="white" if (a if a == a else 0) > 0.6 else "#111111")
    ax.set_xticks(range(len(regions)), [data.region_name(r) for r in regions], rotation=60,
                  ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), [str(r).replace(":", ": ") for r in rows], fontsize=8)
    bar = fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01)
    bar.set_label("share used", fontsize=8)
    fig.tight_layout()
    more = len(ranked) - len(regions)
    caption = ((f"The {len(regions)} regions where most limits bind ({more} more in "
                "regions.csv). " if more > 0 else "")
               + "Colour: share of each region's limit that the plan uses (blank: none "
               "available). Outlined: binding (all of it used)."
               + (" Number: the shadow price, what each extra unit available saves, in "
                  f"{data.money} per unit of the limit (regions.csv, shadow_price_unit)."
                  if priced else ""))
    return png(fig), caption


def _talent_chart(data: ReportData, talent: pd.DataFrame) -> bytes:
    total = talent.groupby("resource")[["used", "limit_value"]].sum()
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(total) + 1.2))
    y = np.arange(len(total))
    ax.barh(y, total["limit_value"], color="#e6e6e6", height=0.7, label="available")
    ax.barh(y, total["used"], color="#3b7dd8", height=0.4, label="used")
    ax.set_yticks(y, [resource_label(r)[1] for r in total.index], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(str(data.summary.get("units", {}).get("talent", "people")))
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def _describe_limit(data: ReportData, resource: str) -> str:
    kind, name = resource_label(resource)
    if kind == "talent":
        return f"{name} talent"
    if kind in ("input", "imports"):
        return f"{name} {'import cap' if kind == 'imports' else 'input'}"
    if kind == "demand":
        return f"{data.industry_name(name)} demand"
    if kind == "n1_cover":
        return f"{data.industry_name(name)} N-1 cover"
    if kind == "max_share":
        return f"{data.industry_name(name)} largest share"
    return resource.replace("_", " ")


def _price_tables(data: ReportData, reg: pd.DataFrame) -> list[Table]:
    """Two tables: what one more unit available would save (limits of what may be used),
    what one more unit required would cost (requirements), each with the limit's source."""
    money = data.money
    out: list[Table] = []
    most = reg["sense"].eq(AT_MOST)
    saving = reg[most & (reg["shadow_price"].fillna(0) > 1e-9)].sort_values(
        "shadow_price", ascending=False)
    rows = []
    for r in saving.head(25).itertuples(index=False):
        where = "nationally" if r.region == "(national)" else f"in {data.region_name(r.region)}"
        rows.append([f"{_describe_limit(data, r.resource)} {where}", fmt(r.shadow_price),
                     str(r.unit), fmt(r.used), fmt(r.limit_value),
                     str(getattr(r, "source", "") or "")])
    if rows:
        out.append(Table(f"What each extra unit available would save ({money} per unit)",
                         ["limit", "would save", "unit", "used", "available", "source"], rows,
                         f"The {min(25, len(saving))} limits with the highest shadow prices of "
                         f"{len(saving)} that hold the plan back (all of them: regions.csv, "
                         "columns shadow_price and shadow_price_meaning).",
                         numeric=[False, True, False, True, True, False]))
    else:
        out.append(Table("What each extra unit available would save", ["limit"], [[
            "No talent, funding or input limit is binding: one more unit of any would save "
            "nothing with this hosting pattern."]]))
    least = reg["sense"].eq(AT_LEAST)
    cannot = reg["shadow_price_meaning"].fillna("").str.contains("cannot be met")
    costly = reg[least & ((reg["shadow_price"].fillna(0).abs() > 1e-9) | cannot)]
    costly = costly.assign(order=costly["shadow_price"].fillna(np.inf)).sort_values(
        "order", ascending=False)
    rows = [[_describe_limit(data, r.resource) + (
        " (national)" if r.region == "(national)" else f" in {data.region_name(r.region)}"),
        "cannot be met with this hosting" if r.shadow_price != r.shadow_price
        else fmt(r.shadow_price), str(r.unit), str(getattr(r, "source", "") or "")]
        for r in costly.head(25).itertuples(index=False)]
    if rows:
        out.append(Table(f"What each extra unit required would cost ({money} per unit)",
                         ["requirement", "would cost", "unit", "source"], rows,
                         "The cost of one more unit of a requirement with this hosting pattern "
                         "(final demand: capacity, chain coordination and transport; N-1 "
                         "cover: capacity elsewhere); negative where it saves, using capacity "
                         "that counted as overcapacity.", numeric=[False, True, False, False]))
    return out


def shortfalls(data: ReportData) -> Section | None:
    """Limits a softened solve had to exceed (``allocator solve --soft``)."""
    short_table = data.results.table("shortfalls")
    if "shortfalls" not in data.tables:
        return None
    sec = Section("shortfalls", "Shortfalls (softened limits)")
    if short_table.empty:
        sec.blocks.append("The plan needs no limit to be exceeded.")
        return sec
    cols = list(short_table.columns)
    sec.blocks.append(Table("Limits exceeded", cols,
                            [[fmt(v) if isinstance(v, float) else str(v) for v in row]
                             for row in short_table.itertuples(index=False)]))
    return sec


def reproduce(data: ReportData) -> Section:
    """Options, instance hash and software versions: enough to reproduce the run."""
    s = data.summary
    sec = Section("reproduce", "How to reproduce this result")
    inst = s.get("instance", {})
    command = s.get("command") or {}
    if command.get("line"):
        sec.blocks.append(Table("The command that wrote these results", ["folder", "command"],
                                [[str(command.get("cwd", "")), str(command["line"])]],
                                "Run it again in that folder, with the same instance files and "
                                "software, to get the same plan."))
    else:
        sec.blocks.append("These results were written from Python (no command line "
                          "recorded); the options below are what the solve used.")
    sec.blocks.append(
        f"Instance {inst.get('name', '')} at {inst.get('path', '')}, SHA-256 "
        f"{inst.get('sha256', '')} (over the SHA-256 of every file below). Solve it again with "
        f"the same options and software to get the same plan.")
    rows = [[k, str(v)] for k, v in _flat(s.get("options", {}))]
    rows += [[f"weight.{k}", fmt(v, 4)] for k, v in s.get("weights", {}).items()]
    sec.blocks.append(Table("Options", ["option", "value"], rows))
    soft = s.get("software", {})
    size = s.get("size", {})
    run = [["status", str(s.get("status"))], ["termination", str(s.get("termination"))],
           ["objective", fmt(s.get("objective"), 6)], ["best bound", fmt(s.get("best_bound"), 6)],
           ["gap", "" if s.get("gap") is None else f"{s['gap']:.6%}"]]
    run += [[f"seconds.{k}", fmt(v, 3)] for k, v in s.get("seconds", {}).items()]
    run += [[f"size.{k}", fmt(v)] for k, v in size.items()]
    run += [[f"software.{k}", str(v)] for k, v in soft.items()]
    sp = s.get("shadow_prices")
    if sp:
        run += [["shadow prices", f"{sp.get('status')}, LP objective "
                 f"{fmt(sp.get('lp_objective'), 6)}"]]
    sec.blocks.append(Table("Run", ["", ""], run))
    files = inst.get("files", {})
    if files:
        sec.blocks.append(Table("Instance files", ["file", "SHA-256"],
                                [[k, v] for k, v in files.items()]))
    families = s.get("families", [])
    if families:
        sec.blocks.append(Table("Formulation families", ["family", "active", "note", "source"],
                                [[f.get("name", ""), "yes" if f.get("active") else "no",
                                  f.get("note", ""), f.get("source", "")] for f in families]))
    return sec


def _flat(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out.extend(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return [(prefix, "" if value is None else value)]


#: the report's sections, in order; see the module docstring to add one. The families add
#: theirs (``ReportParts.section``, placed after the one named ``after``): pilot bases after
#: resources
SECTIONS: list[SectionFn] = [headline, scenarios_section, phasing_section, map_section,
                             allocation, duplication, resources, shortfalls, reproduce]


def add_section(fn: SectionFn, after: str | None = None) -> None:
    """Add a section function to :data:`SECTIONS` after the one named ``after`` (its
    function name), or at the end before ``reproduce``."""
    names = [f.__name__ for f in SECTIONS]
    pos = names.index(after) + 1 if after in names else names.index("reproduce")
    SECTIONS.insert(pos, fn)


# ---------------------------------------------------------------------- render
def build_sections(data: ReportData, sections: list[SectionFn] | None = None
                   ) -> list[Section]:
    """Run the section functions (:data:`SECTIONS` with the families' own sections, see
    :func:`with_family_sections`) in order; a section whose data are absent is left out."""
    out = []
    for fn in sections or with_family_sections(SECTIONS, data):
        sec = fn(data)
        if sec is not None:
            out.append(sec)
    return out


def with_family_sections(sections: list[SectionFn], data: ReportData) -> list[SectionFn]:
    """``sections`` with each family's own section (``ReportParts.section``, in the
    families' order) placed after the section function named by its ``after``, or before
    the last section (``reproduce``) when that names none of them."""
    out = list(sections)
    placed: dict[str, int] = {}  # after -> how many family sections already follow it
    for part in data.parts:
        if part.section is None:
            continue
        names = [f.__name__ for f in sections]
        if part.after in names:
            pos = out.index(sections[names.index(part.after)]) + 1 + placed.get(part.after, 0)
        else:
            pos = len(out) - 1
        placed[part.after] = placed.get(part.after, 0) + 1
        out.insert(pos, part.section)
    return out


def render_html(data: ReportData, sections: list[Section]) -> str:
    s = data.summary
    return render_page(
        f"allocator report: {s.get('instance', {}).get('name', data.results.label)}",
        s, sections, data.warnings, data.money,
        html.unescape(str(s.get("instance", {}).get("description", ""))), verdict(data))


def render_page(title: str, summary: dict[str, Any], sections: list[Section],
                warnings: list[str], money: str, description: str = "",
                status_line: str | None = None) -> str:
    """The page template with its sections; ``summary`` fills the header and footer
    (status, objective, gap, software, instance SHA-256), as ``summary.json`` does.
    ``status_line``: the line under the title (a results folder's :func:`verdict`); default
    the status with the objective and gap the summary gives."""
    if status_line is None:
        status_line = f"Status {summary.get('status')}"
        if summary.get("objective") is not None:
            status_line += f", objective {fmt(summary['objective'])} {money}"
        if summary.get("gap") is not None:
            status_line += f", gap {summary['gap']:.3%}"
        status_line += "."
    env = Environment(loader=PackageLoader("allocator.output", "templates"),
                      autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("report.html.j2")
    return template.render(
        title=title, summary=summary, sections=sections, warnings=warnings, money=money,
        verdict=status_line, description=description,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        is_figure=lambda b: isinstance(b, Figure), is_table=lambda b: isinstance(b, Table),
        is_kpis=lambda b: isinstance(b, Kpis),
    )


def write_report(results: str | Path, output: str | Path | None = None, *,
                 against: str | Path | None = None, instance: str | Path | None = None,
                 families: Iterable[Family] = (), force: bool = False,
                 read: dict[str, Any] | None = None) -> tuple[Path, list[Path]]:
    """Write the report of ``results`` to ``output`` (default ``RESULTS/report.html``) and
    each chart next to it as ``<stem>-<chart>.png``. Returns the report and the PNG paths.
    ``families``: researchers' families whose ``report_parts`` to add (a built-in family's
    are found by name). ``read``: keyword arguments of ``load_instance`` (families, tables,
    ``allow_families``) used when the instance is read for names and coordinates. A file
    allocator did not write is not replaced unless ``force``
    (:mod:`allocator.core.outfolder`); the page and its charts are recorded in the manifest
    of their folder, so a results folder with its report stays allocator's."""
    out = Path(output) if output is not None else Path(results) / "report.html"
    reading = [instance] if instance is not None else []
    check_files([out], force=force, reading=reading)  # before the work; the charts' files
    # are checked with it in write_files, before any file is written
    data = load_report_data(results, against, instance, families, read=read)
    sections = build_sections(data)
    files: dict[Path, bytes] = {}
    for sec in sections:
        for block in sec.blocks:
            if isinstance(block, Figure):
                files[out.with_name(f"{out.stem}-{block.name}.png")] = block.png
    files[out] = render_html(data, sections).encode("utf-8")
    written = write_files(files, force=force, reading=reading)
    return written[-1], written[:-1]

