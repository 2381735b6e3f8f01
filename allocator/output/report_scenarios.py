"""Report section of a stochastic run (supply-shock scenarios, :mod:`allocator.engine.stochastic`):
expected against worst case, each scenario's cost and unmet demand. Listed in
:data:`allocator.output.report.SECTIONS` after the headline; absent for a deterministic run."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from allocator.output.page import DPI, ReportData, png
from allocator.output.parts import Figure, Kpis, Section, Table, fmt


def scenarios_section(data: ReportData) -> Section | None:
    """Expected and worst-case cost of the plan over the supply-shock scenarios."""
    sc = data.results.table("scenarios")
    stoch = data.results.summary.get("stochastic")
    if sc.empty or not stoch:
        return None
    money = data.money
    worst = stoch["worst_case"]
    sec = Section("scenarios", "Supply shocks: expected and worst case")
    risk = ("expected cost" if stoch["risk"] == "expected"
            else f"CVaR at level {stoch['cvar_alpha']:g}")
    sec.blocks.append(
        f"Hosting and capacity are decided once; production, flows, imports and unmet demand "
        f"in each of {len(sc)} scenarios. The plan minimizes the first-stage cost plus the "
        f"{risk} of the rest; unmet demand costs {fmt(stoch['unmet_penalty'])} {money} per "
        "unit.")
    sec.blocks.append(Kpis([
        (fmt(stoch["expected_total_cost"]), f"expected total cost ({money})"),
        (fmt(worst["total_cost"]), f"worst case: {worst['scenario']} ({money})"),
        (fmt(stoch["first_stage_cost"]), f"first stage: investment and duplication "
                                         f"({money})"),
        (fmt(stoch["expected_unmet"]), "expected unmet demand (capacity units)"),
    ]))
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.45 * len(sc)), dpi=DPI)
    y = np.arange(len(sc))
    first = float(stoch["first_stage_cost"])
    ax.barh(y, [first] * len(sc), color="#9aa5b1", label="first stage")
    ax.barh(y, sc["second_stage_cost"].astype(float), left=first, color="#d9822b",
            label="second stage (production, flows, inputs, unmet)")
    ax.axvline(float(stoch["expected_total_cost"]), color="k", ls="--", lw=1,
               label="expected")
    ax.set_yticks(y, [f"{s} (p={p:g})" for s, p in zip(sc["scenario"], sc["probability"],
                                                          strict=True)])
    ax.invert_yaxis()
    ax.set_xlabel(money)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25 - 0.6 / len(sc)), ncol=3,
              fontsize=8, frameon=False)
    fig.tight_layout()
    sec.blocks.append(Figure("scenarios", "Total cost per scenario", png(fig),
                             "First-stage cost is the same in every scenario; the dashed "
                             "line is the expectation."))
    sec.blocks.append(Table(
        "Scenarios", ["scenario", "probability", "shocks", f"total ({money})", "unmet"],
        [[str(r.scenario), f"{r.probability:g}", str(r.shocks), fmt(r.total_cost),
          fmt(r.unmet)] for r in sc.itertuples(index=False)],
        numeric=[False, True, False, True, True]))
    return sec
