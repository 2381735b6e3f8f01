"""The text a planner reads in the terminal after a solve: the engine's lines, and the
lines each family adds (``ReportParts.summary_lines``: a built-in family's
``models/<family>/report.py``, a researcher's ``Family.report_parts``)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from allocator.output.parts import at_period, parts_of


def render_summary(result: Any) -> str:
    """The short human summary printed after a solve."""
    s = result.summary
    inst = result.built.instance
    money = inst.money
    lines = []
    gap = s["gap"]
    gap_text = f", gap {gap:.2%}" if gap is not None else ""
    secs = sum(v for k, v in s["seconds"].items() if k in ("build", "handoff", "start", "solve"))
    broken = s.get("limits_broken") or 0
    if broken:  # never "optimal" for a plan that breaks limits
        lines.append(f"{inst.name}: the plan BREAKS {broken} limit{'s' if broken != 1 else ''}"
                     f" (shortfalls.csv); the search with the softened limits ended "
                     f"{s['solve_status']}{gap_text} in {secs:.1f} s ({s['termination']})")
    else:
        lines.append(f"{inst.name}: {s['status']}{gap_text} in {secs:.1f} s "
                     f"({s['termination']})")
    if s["message"]:
        lines.append(s["message"])
    lines += _start_lines(s, money)
    if result.explanation is not None:
        lines += result.explanation.lines()[1:]
    if not result.outcome.has_solution:
        if s["status"] != "infeasible":
            bound = (f"best bound {s['best_bound']:,.2f} {money}" if s["best_bound"] is not None
                     else "no bound either")
            lines.append(f"No plan found; {bound}.")
        return "\n".join(lines)
    shadow = s.get("shadow_prices") or {}
    if shadow.get("status") not in (None, "optimal"):
        lines.append(f"Shadow prices (regions.csv) {shadow['message'] or shadow['status']}.")
    lines.append(f"Objective {s['objective']:,.2f} {money}"
                 + (f" (best bound {s['best_bound']:,.2f})" if s["best_bound"] is not None
                    else ""))
    tables = result.tables
    periods = s.get("periods") or []
    if periods:  # the one-shot views show the last period; the phasing lines the rest
        tables = at_period(result.tables, str(periods[-1]["id"]))
    obj = result.tables["objective"]
    lines.append("")
    lines.append(f"{'term':<16}{'weight':>10}{'value':>16}{'weighted':>16}")
    for row in obj.itertuples(index=False):
        lines.append(f"{row.term:<16}{row.weight:>10g}{row.value:>16,.2f}{row.weighted:>16,.2f}")
    if periods:
        lines.append("(each term over the periods at their discount factors)")
        lines.append("")
        lines += render_periods(result.tables, money)
    ind = tables["industries"]
    lines.append("")
    lines.append("Host regions per industry against the national target (candidates: regions "
                 "allowed to host; left out: candidates that get none)"
                 + (f", in the last period ({periods[-1]['id']}):" if periods else ":"))
    lines.append(f"{'industry':<16}{'candidates':>11}{'hosts':>6}{'target':>7}{'left out':>9}"
                 "  host regions")
    for row in ind.itertuples(index=False):
        lines.append(f"{row.industry!s:<16}{row.candidates:>11}{row.hosts:>6}"
                     f"{row.target_hosts:>7}{row.candidates - row.hosts:>9}  "
                     f"{row.host_regions}")
    for parts in filter(None, map(parts_of, result.built.families)):
        more = parts.summary_lines(tables) if parts.summary_lines is not None else []
        if more:  # e.g. the pilot bases that open
            lines.append("")
            lines += more
    if s.get("stochastic"):
        lines.append("")
        lines.append(render_stochastic(s["stochastic"], result.tables, money))
    if s["soft"]:
        short = result.tables.get("shortfalls")
        lines.append("")
        if short is None or not len(short):
            lines.append(f"Softened limits ({', '.join(s['soft'])}): no shortfall, every "
                         "limit holds.")
        else:
            lines.append(f"Shortfalls of the softened limits ({', '.join(s['soft'])}): what "
                         "this plan needs beyond them (shortfalls.csv):")
            lines += [f"  - {m}" for m in short["message"]]
    return "\n".join(lines)


def _start_lines(s: dict[str, Any], money: str) -> list[str]:
    """What the warm start did, and when the first plan appeared."""
    start, first = s.get("start") or {}, s.get("first_incumbent")
    out = []
    plan = start.get("plan")
    if plan and not plan.get("used"):
        out.append(f"Start plan {plan['file']} not used: {plan['message']}")
    elif plan:
        out.append(f"Start plan {plan['file']}: {plan['how']}, objective "
                   f"{plan['objective']:,.2f} {money}.")
    heuristic = start.get("heuristic") or {}
    improved = heuristic.get("improved") or {}
    if (heuristic.get("used") and start.get("given") == "heuristic"
            and improved.get("objective", math.inf) < improved.get("from", -math.inf)):
        # the plan the heuristic found first, then what the small MIP around it made of it
        out.append(f"Heuristic first plan: objective {improved['from']:,.2f} {money} in "
                   f"{heuristic['plan_seconds']:.1f} s ({heuristic['how']}), improved to "
                   f"{heuristic['objective']:,.2f} in {heuristic['seconds']:.1f} s.")
    elif heuristic.get("used") and start.get("given") == "heuristic":
        out.append(f"Heuristic first plan: objective {heuristic['objective']:,.2f} {money} "
                   f"in {heuristic['seconds']:.1f} s.")
    elif (heuristic.get("message") and not heuristic.get("used") and not plan
          and not heuristic["message"].startswith("off")):
        out.append(f"Heuristic first plan: none ({heuristic['message']}).")
    if first:
        source = {"highs": "HiGHS's own search", "plan": "the start plan",
                  "heuristic": "the heuristic"}.get(first["source"], first["source"])
        out.append(f"First feasible plan after {first['seconds_from_compile']:.1f} s "
                   f"(from {source}).")
    return out


def render_periods(tables: dict[str, pd.DataFrame], money: str) -> list[str]:
    """Terminal lines of a multi-period plan: each period's spending and cost, and where
    each industry gains hosts when."""
    lines = [f"{'period':<14}{'discount':>10}{'investment':>14}{'cost':>14}{'discounted':>14}"
             f"  ({money})"]
    for row in tables["periods"].itertuples(index=False):
        lines.append(f"{row.period!s:<14}{row.discount_factor:>10.4f}{row.investment:>14,.2f}"
                     f"{row.cost:>14,.2f}{row.discounted_cost:>14,.2f}")
    alloc = tables["allocation"]
    order = list(dict.fromkeys(alloc["period"].astype(str)))
    lines.append("")
    lines.append("New host regions by period (+ region: hosting starts; capacity added "
                 "elsewhere is in allocation.csv, column added):")
    for industry, rows in alloc.groupby("industry", sort=False):
        seen: set[str] = set()
        parts = []
        for period in order:
            hosts = rows[(rows["period"].astype(str) == period) & (rows["hosted"] == 1)]
            new = [r for r in hosts["region"] if r not in seen]
            seen.update(hosts["region"])
            parts.append(f"{period}: " + (" ".join(f"+{r}" for r in new) if new else "-"))
        lines.append(f"  {industry!s:<16}" + "; ".join(parts))
    return lines


def render_stochastic(summary: dict[str, Any], tables: dict[str, pd.DataFrame],
                      money: str) -> str:
    """Terminal lines: each scenario's cost and unmet demand, expected against worst case."""
    lines = [f"Scenarios ({summary['risk']}"
             + (f", alpha {summary['cvar_alpha']:g}" if summary["risk"] == "cvar" else "")
             + f", unmet penalty {summary['unmet_penalty']:g} {money}/unit):"]
    for row in tables["scenarios"].itertuples(index=False):
        lines.append(f"  {row.scenario:<18} p={row.probability:<6g} total {row.total_cost:>14,.2f}"
                     f"  unmet {row.unmet:>10,.2f}  ({row.shocks})")
    worst = summary["worst_case"]
    lines.append(f"  expected total {summary['expected_total_cost']:,.2f} {money}; worst case "
                 f"{worst['total_cost']:,.2f} ({worst['scenario']}, unmet {worst['unmet']:,.2f})"
                 f"; first stage {summary['first_stage_cost']:,.2f}")
    return "\n".join(lines)
