"""Report section of a multi-period plan (``periods.csv``, :mod:`allocator.engine.periods`):
what is built where and when, and what each period spends. Listed in
:data:`allocator.output.report.SECTIONS` after the headline; absent for a one-shot plan.
The other sections show the last period (:class:`allocator.output.page.ReportData`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from allocator.output.page import DPI, ReportData, png
from allocator.output.parts import Figure, Kpis, Section, Table, fmt


def phasing_section(data: ReportData) -> Section | None:
    """Each period's spending and cost; national capacity of each industry per period;
    the regions that start hosting in each period."""
    if not data.periods or "periods" not in data.periods:
        return None
    per = data.periods["periods"]
    alloc = data.periods["allocation"]
    money = data.money
    order = [str(p) for p in per["period"]]
    sec = Section("phasing", "Phasing: what is built where and when")
    sec.blocks.append(
        f"The plan runs over {len(order)} periods ({', '.join(order)}). A region that "
        "hosts an industry keeps it, capacity only grows, and what runs in a period is paid "
        "when its construction starts; each period's costs count at its discount factor. "
        f"The other sections show the last period, {order[-1]}.")
    sec.blocks.append(Kpis([(fmt(float(r.investment)), f"spent in {r.period} ({money})")
                            for r in per.itertuples(index=False)]))
    cap = alloc.pivot_table(index="industry", columns="period", values="capacity",
                            aggfunc="sum", sort=False).reindex(columns=order)
    last = cap[order[-1]].replace(0.0, np.nan)
    share = cap.div(last, axis=0).fillna(0.0)
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.32 * len(share)), dpi=DPI)
    y = np.arange(len(share))
    height = 0.8 / len(order)
    for k, period in enumerate(order):
        ax.barh(y + k * height, share[period].to_numpy(float), height=height, label=period)
    ax.set_yticks(y + 0.4 - height / 2, [data.industry_name(i) for i in share.index])
    ax.invert_yaxis()
    ax.set_xlabel(f"national capacity, share of {order[-1]}")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    fig.tight_layout()
    sec.blocks.append(Figure("phasing", "National capacity per period",
                             png(fig), "Each industry's capacity in each period as a share "
                             "of its capacity in the last one."))
    sec.blocks.append(Table(
        "Built where and when", ["industry", "period", "new host regions", "capacity added",
                                 f"spent ({money})"],
        _built_rows(data, alloc, order), numeric=[False, False, False, True, True]))
    return sec


def _built_rows(data: ReportData, alloc: pd.DataFrame, order: list[str]) -> list[list[str]]:
    rows = []
    for industry, part in alloc.groupby("industry", sort=False):
        seen: set[str] = set()
        for period in order:
            now = part[part["period"].astype(str) == period]
            hosts = set(now.loc[now["hosted"] == 1, "region"])
            new = [data.region_name(r) for r in now["region"] if r in hosts - seen]
            seen |= hosts
            added = float(now["added"].sum())
            spent = float(now["investment"].sum())
            if new or added > 0 or spent > 0:
                rows.append([data.industry_name(str(industry)), period, ", ".join(new) or "-",
                             fmt(added), fmt(spent)])
    return rows
