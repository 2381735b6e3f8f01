r"""Why there is no plan, in the planner's terms: the smallest set of limits to relax.

``allocator explain INSTANCE`` (and ``solve`` after an infeasible run) works in three steps:

1. **Pre-solve checks** (:mod:`allocator.analysis.checks`): plain arithmetic; each failure proves
   infeasibility by itself and is one sentence with the numbers and rows.
2. **Elastic model.** The instance is built with every limit of the resource families
   (those declaring ``limits``: talent, funding, supply, policy, and the demand of capacity
   and markets, and the chain's deliveries) elastic: each row gets a slack $s_k \ge 0$ (the
   ``--soft`` mechanism, :func:`allocator.engine.build.build_model`). "Smallest" is
   lexicographic, solved in two stages:

   * stage 1, **fewest relaxed limits**: a binary $z_k$ per row, $s_k \le M_k z_k$ with
     $M_k$ the most the row can ever be exceeded (interval arithmetic on the row over the
     variable bounds), $\min \sum_k w_k z_k$. Demand is what the plan is for, so the limits of
     the families that declare ``relax_last`` (demand, and the chain that carries it) weigh
     more than all other limits together ($w_k = 1 + $ the number of other rows; else
     $w_k = 1$): demand is relaxed only when talent, funding, supply and policy cannot make
     room for it;
   * stage 2, **least total relative amount** among all sets that small: with
     $\sum_k w_k z_k$ at most the stage-1 optimum, $\min \sum_k s_k / \max(|b_k|, 1)$ where
     $b_k$ is the row's limit, so that people, money and tonnes are compared as shares of
     their own limit;
   * stage 3, **the least amount of each relaxed limit**: stage 2 minimizes a total, so the
     amount it gives one row is one way to make room, not the least that row needs. For each
     row $j$ of the answer (at most :data:`LEAST_ROWS`), with only the rows of the answer
     relaxable ($z_k$ fixed at 1 for them, 0 for all others), $\min s_j$ (hosting free).
     When that solve is optimal its dual bound $\underline{s}_j$ is proven: no plan that
     relaxes only the limits listed relaxes row $j$ by less. The planner reads "at least
     $\underline{s}_j$, proven" only then; otherwise the row says plainly that its amount
     is not proven least or not minimized.

   Stage 1 starts from the heuristic's hosting (:mod:`allocator.engine.warmstart`) completed by an
   LP for the least slacks, so that HiGHS improves on a small answer rather than searching
   from scratch. Both stages are deterministic (HiGHS with the run's seed and threads; a tie between
   equally small sets is broken by HiGHS's deterministic search). The relaxations are ranked
   by relative amount (then absolute), each mapped to its family, index and input row
   (:mod:`allocator.engine.limits`), in its own unit. A row whose slack cannot be bounded
   ($M_k = \infty$, e.g. a fund share with no bound on what one region receives) gets
   $M_k = $ :data:`BIG_M` (ten times the largest finite one if more); the integrality
   tolerance is tightened to 1e-9 so that a binary cannot switch a big slack on by rounding.
   When only demand needs relaxing, the families
   holding it back are named too (deletion filter, :mod:`allocator.analysis.diagnose`): a
   researcher's family that declares no limits may be the cause.
3. **Second view**: when the LP relaxation of the (hard) model is infeasible, HiGHS's
   irreducible infeasible subset (IIS) of it: rows and bounds that cannot hold together. It
   is the relaxation's, not the MIP's: a MIP can be infeasible while its relaxation is not
   (then there is no IIS), and an IIS names rows, not amounts.

When relaxing limits cannot make the instance feasible (the conflict lies in rows that are
not limits, e.g. a must-host site beyond its site maximum), the deletion filter of
:mod:`allocator.analysis.diagnose` names the conflicting families instead.

Progress: given a stream (``allocator explain`` gives stderr unless ``--quiet``), each stage
writes one line when it starts (which stage, seconds since ``explain`` began), and a solve
that runs longer than a second writes HiGHS's progress line under the stage's name
(:class:`allocator.engine.monitor.SolveMonitor`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.contrib.fbbt.fbbt import compute_bounds_on_expr

from allocator.analysis.checks import CheckFailure, run_checks
from allocator.analysis.diagnose import conflicting_families
from allocator.core.presolve import number
from allocator.engine.build import BuiltModel, build_model
from allocator.engine.highs import (
    SolverOptions,
    compile_model,
    load_solution,
    make_highs,
    read_outcome,
    run_highs,
    set_mip_start,
)
from allocator.engine.limits import (
    COLUMNS,
    LOWER,
    UPPER,
    describe,
    limit_row,
    row_limit,
    row_name,
    source_of,
)
from allocator.engine.monitor import SolveMonitor
from allocator.engine.warmstart import greedy_hosting
from allocator.input.data import Instance
from allocator.input.periods import one_snapshot

#: default time limit of each stage of the elastic model, in seconds
STAGE_SECONDS = 60.0
#: the bound on a slack that interval arithmetic cannot bound
BIG_M = 1e7
#: a slack below this share of its row's scale counts as zero
AMOUNT_TOLERANCE = 1e-6
#: most IIS rows and bounds listed
IIS_SHOWN = 25
#: most relaxed limits whose least amount stage 3 proves one by one (the largest first)
LEAST_ROWS = 12
#: least time limit of one stage-3 solve, in seconds
LEAST_SECONDS = 2.0
#: what a proven least amount assumes, said once per row
PROVEN_WHEN = "with only the limits listed relaxed"


class StageClock:
    """Progress of :func:`explain` on a stream: a line when each stage starts (which stage,
    seconds since explain began) and a solve's progress line under the stage's name while it
    runs longer than a second. Silent without a stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.started = time.perf_counter()
        self.stage = ""

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def begin(self, stage: str) -> None:
        """Stage ``stage`` starts now."""
        self.stage = stage
        self._write(f"explain: {stage} (at {self.elapsed():.1f} s)")

    def monitor(self) -> SolveMonitor | None:
        """A watcher for one HiGHS run of the current stage (None when silent)."""
        if self.stream is None:
            return None
        return SolveMonitor(progress=True, stream=self.stream, label=f"explain: {self.stage}")

    def end(self) -> None:
        self._write(f"explain: done in {self.elapsed():.1f} s")

    def _write(self, line: str) -> None:
        if self.stream is not None:
            self.stream.write(line + "\n")
            self.stream.flush()


@dataclass
class Explanation:
    """The answer to "why no plan?": checks, ranked relaxations, the IIS view."""

    status: str  # feasible | explained | not_explained | unknown
    headline: str
    checks: list[CheckFailure] = field(default_factory=list)
    relaxations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["rank", *COLUMNS]))
    proven: bool = False  # stage 1 proved that fewer relaxations cannot do
    notes: list[str] = field(default_factory=list)
    iis: list[str] = field(default_factory=list)
    iis_note: str = ""
    families: list[str] = field(default_factory=list)  # deletion filter, when not explained
    seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The explanation as the terminal shows it."""
        out = [self.headline]
        if self.checks:
            out.append("")
            out.append("Pre-solve checks that fail (each alone proves that no plan exists):")
            out += [f"  - {c.message}" for c in self.checks]
        if len(self.relaxations):
            out.append("")
            fewest = "fewest" if self.proven else "fewest found (not proven within the time limit)"
            out.append(f"Smallest relaxation that makes the instance feasible ({fewest} limits, "
                       "then least total amount as a share of each limit), largest first:")
            for row in self.relaxations.itertuples(index=False):
                share = f" [{row.relative:.0%} of the limit]" if row.relative is not None \
                    and not pd.isna(row.relative) else ""
                out.append(f"  {row.rank}. {row.message}{share}")
                if getattr(row, "least_note", ""):
                    out.append(f"     {row.least_note}")
                out.append(f"     family {row.family}, {row.constraint}"
                           + (f"[{row.index}]" if row.index else ""))
        out += [f"Note: {n}" for n in self.notes]
        if self.iis or self.iis_note:
            out.append("")
            out.append("Second view: an irreducible infeasible subset (IIS) of the LP "
                       "relaxation, from HiGHS. It is the relaxation's, not the plan's: rows "
                       "and bounds of the continuous model that cannot all hold together.")
            if self.iis_note:
                out.append(f"  {self.iis_note}")
            out += [f"  - {line}" for line in self.iis]
        if self.families:
            out.append("")
            out.append("Conflicting families (deletion filter): " + " + ".join(self.families))
        return out

    def to_dict(self) -> dict[str, Any]:
        """For summary.json."""
        rel = self.relaxations.drop(columns=["message"], errors="ignore")
        return {
            "status": self.status, "headline": self.headline,
            "checks": [{"family": c.family, "message": c.message} for c in self.checks],
            "relaxations": [{**r, "message": m} for r, m in zip(
                rel.astype(object).where(rel.notna(), None).to_dict("records"),
                self.relaxations["message"], strict=True)],
            "fewest_proven": self.proven, "notes": self.notes, "iis": self.iis,
            "iis_note": self.iis_note, "conflicting_families": self.families,
            "seconds": self.seconds,
        }


def explain(inst: Instance, families: list[str] | None = None, *,
            relax: list[str] | None = None, options: SolverOptions | None = None,
            checks: list[CheckFailure] | None = None, iis: bool = True,
            progress: TextIO | None = None) -> Explanation:
    """Explain why ``inst`` (built with ``families``, default: its active ones) has no plan.

    ``relax`` names the families whose limits may be relaxed (default: every built family
    with limits). ``options`` gives the time limit of each stage (default
    :data:`STAGE_SECONDS`), threads and seed. ``checks``: pre-solve failures already found
    (else they are run here). ``progress``: a stream for the stages' progress (see
    :class:`StageClock`), e.g. ``sys.stderr``; default silent.
    """
    one_snapshot(inst.tables, inst.files, "allocator explain")
    t0 = time.perf_counter()
    clock = StageClock(progress)
    clock.begin("building the model and its elastic copy")
    opts = (options or SolverOptions()).resolved(inst.settings["solver"])
    opts = replace(opts, time_limit=opts.time_limit or STAGE_SECONDS, log_file=None,
                   verbose=False)
    # the plain formulation (no valid inequalities, no pruning): its LP relaxation is the one
    # whose IIS names the planner's rows; the cuts would only add rows of their own to it;
    # deterministic (scenarios=[]) even when the instance has shocks.csv
    hard = build_model(inst, families, strengthen=False, scenarios=[])
    names = [f.name for f in hard.families]
    if relax is None:
        relax = [f.name for f in hard.families if f.limits]
    if checks is None:
        checks = run_checks(inst, hard.families)
    built = build_model(inst, names, soft=relax, soft_penalty=1.0)
    t1 = time.perf_counter()
    result = _elastic(built, opts, hard, clock)
    t2 = time.perf_counter()
    result.checks = checks
    result.seconds = {"build": t1 - t0, "elastic": t2 - t1}
    last = [f.name for f in built.families if f.relax_last]
    only_demand = result.status == "explained" and bool(
        result.relaxations["family"].isin(last).all())
    if result.status == "not_explained" or only_demand:
        clock.begin("the families in conflict (deletion filter)")
        result.families = conflicting_families(inst, names, opts)
        result.headline += "; the families in conflict: " + " + ".join(result.families)
    if iis and result.status != "feasible":
        t3 = time.perf_counter()
        clock.begin("second view: the IIS of the LP relaxation")
        result.iis, result.iis_note = lp_iis(hard, opts)
        result.seconds["iis"] = time.perf_counter() - t3
    if checks and result.status == "feasible":
        result.notes.append("the pre-solve checks fail, yet the elastic model found no "
                            "limit to relax: please report this instance")
    clock.end()
    return result


# ---------------------------------------------------------------------- elastic model
def slack_bounds(built: BuiltModel) -> np.ndarray:
    """$M_k$: the most each limit row can be exceeded, by interval arithmetic over the
    variable bounds (``inf`` where a variable in the row is unbounded)."""
    m = built.model
    rows = built.soft_rows
    for v in m.shortfall.values():
        v.fix(0.0)
    bounds = np.full(len(rows), np.inf)
    try:
        for k, (fam, name, index, sense) in enumerate(
                zip(rows["family"], rows["constraint"], rows["index"], rows["sense"],
                    strict=True)):
            con = limit_row(built.block(fam), name, index)
            lo, hi = compute_bounds_on_expr(con.body)
            if sense == UPPER:
                b = None if hi is None else hi - pyo.value(con.upper)
            else:
                b = None if lo is None else pyo.value(con.lower) - lo
            bounds[k] = np.inf if b is None else max(float(b), 0.0)
    finally:
        for v in m.shortfall.values():
            v.unfix()
    return bounds


def _scales(built: BuiltModel) -> np.ndarray:
    rows = built.soft_rows
    out = np.ones(len(rows))
    for k, (fam, name, index, sense) in enumerate(
            zip(rows["family"], rows["constraint"], rows["index"], rows["sense"], strict=True)):
        limit = row_limit(limit_row(built.block(fam), name, index), sense)
        out[k] = max(abs(limit), 1.0) if limit is not None else 1.0
    return out


def _solve(model: pyo.ConcreteModel, options: SolverOptions, start: bool = False,
           monitor: SolveMonitor | None = None) -> Any:
    """One stage: HiGHS with a tight integrality tolerance (a binary at 1e-7 must not switch
    a big slack on); with ``start``, the variables' current values are its MIP start;
    ``monitor`` shows its progress."""
    form = compile_model(model)
    h = make_highs(form, options)
    h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    if start:
        set_mip_start(h, np.array([0.0 if v.value is None else float(v.value)
                                   for v in form.columns]))
    if monitor is not None:
        monitor.attach(h)
    run_highs(h)
    if monitor is not None:
        monitor.finish()
    outcome = read_outcome(h, form)
    if outcome.has_solution:
        load_solution(form, np.asarray(h.getSolution().col_value, dtype=float), model)
    return outcome


def _greedy_start(built: BuiltModel, hard: BuiltModel, can: list[int], weight: np.ndarray,
                  scale: np.ndarray, options: SolverOptions) -> bool:
    """A first answer for stage 1: the heuristic's hosting (:mod:`allocator.engine.warmstart`,
    which respects the limits as far as it can), then an LP for the least weighted relative
    slacks with that hosting; ``z_k`` is 1 where a slack is positive. Left in the variables'
    values; returns whether there is one. On large instances HiGHS alone finds only poor
    first answers (hundreds of relaxations where a dozen do)."""
    m = built.model
    try:
        hosts = greedy_hosting(hard).cap
    except Exception:  # the heuristic is a help, never a reason to fail
        return False
    for site in m.sites:
        if not m.hosts[site].fixed:
            m.hosts[site].fix(1 if site in hosts else 0)
    m.explain_relaxed_link.deactivate()
    m.explain_fewest.deactivate()
    m.explain_start = pyo.Objective(expr=pyo.quicksum(
        float(weight[k] / scale[k]) * m.shortfall[k] for k in can))
    try:
        found = _solve(m, replace(options, time_limit=min(options.time_limit or 30.0, 30.0)))
    except InfeasibleConstraintException:  # the hosting breaks a row that is not a limit
        return False
    finally:
        m.del_component(m.explain_start)
        m.explain_fewest.activate()
        m.explain_relaxed_link.activate()
        for site in m.sites:
            m.hosts[site].unfix()
    if not found.has_solution:
        return False
    for k in can:
        on = (pyo.value(m.shortfall[k]) or 0.0) > AMOUNT_TOLERANCE * scale[k]
        m.explain_relaxed[k].set_value(1 if on else 0)
    return True


def _elastic(built: BuiltModel, options: SolverOptions,
             hard: BuiltModel | None = None, clock: StageClock | None = None) -> Explanation:
    clock = clock if clock is not None else StageClock()
    m = built.model
    rows = built.soft_rows
    if not len(rows):
        return Explanation("not_explained", "infeasible, and no family declares limits that "
                           "could be relaxed")
    big = slack_bounds(built)
    scale = _scales(built)
    notes: list[str] = []
    if np.isinf(big).any():
        finite = big[np.isfinite(big)]
        cap = max(BIG_M, 10 * float(finite.max()) if len(finite) else 0.0)
        unbounded = [row_name(c, i) for c, i, b in zip(
            rows["constraint"], rows["index"], big, strict=True) if np.isinf(b)]
        notes.append(f"{len(unbounded)} limit row(s) have no finite bound on how much they "
                     f"can be exceeded ({', '.join(unbounded[:4])}"
                     f"{', ...' if len(unbounded) > 4 else ''}); their relaxation is capped "
                     f"at {cap:g}")
        big = np.where(np.isinf(big), cap, big)
    can = [k for k in range(len(rows)) if big[k] > 0]
    for k in range(len(rows)):
        if big[k] <= 0:  # the row can never be exceeded: nothing to relax
            m.shortfall[k].fix(0.0)
    m.objective.deactivate()
    m.explain_relaxed = pyo.Var(can, within=pyo.Binary)
    m.explain_relaxed_link = pyo.Constraint(
        can, rule=lambda m, k: m.shortfall[k] <= float(big[k]) * m.explain_relaxed[k])
    last = rows["family"].isin([f.name for f in built.families if f.relax_last]).to_numpy()
    weight = np.where(last, 1.0 + float((~last).sum()), 1.0)
    m.explain_fewest = pyo.Objective(expr=pyo.quicksum(
        float(weight[k]) * m.explain_relaxed[k] for k in can))
    clock.begin("stage 1 of 3: the fewest limits to relax")
    started = hard is not None and _greedy_start(built, hard, can, weight, scale, options)
    first = _solve(m, options, start=started, monitor=clock.monitor())
    if first.status == "infeasible":
        return Explanation("not_explained", "infeasible, and relaxing every limit of the "
                           "resource families does not help: the conflict lies in rows that "
                           "are not limits (site maxima, minimum scale, must-host, chain reach)",
                           notes=notes)
    if not first.has_solution:
        return Explanation("unknown", "no relaxation found within the time limit "
                           f"({options.time_limit:g} s per stage); try a longer --time-limit",
                           notes=notes)
    proven = first.status == "optimal"
    chosen = {k for k in can if round(pyo.value(m.explain_relaxed[k])) == 1}
    if not chosen and all((pyo.value(m.shortfall[k]) or 0) <= AMOUNT_TOLERANCE * scale[k]
                          for k in can):
        return Explanation("feasible", "feasible: no limit needs to be relaxed", notes=notes)
    first_amount = [float(pyo.value(m.shortfall[k]) or 0.0) for k in range(len(rows))]
    # stage 2: among all sets of the same weighted count, the least total relative amount
    fewest = float(sum(weight[k] * round(pyo.value(m.explain_relaxed[k])) for k in can))
    m.explain_fewest.deactivate()
    m.explain_count_within = pyo.Constraint(expr=pyo.quicksum(
        float(weight[k]) * m.explain_relaxed[k] for k in can) <= fewest + 0.5)
    m.explain_least = pyo.Objective(expr=pyo.quicksum(
        m.shortfall[k] / float(scale[k]) for k in can))
    clock.begin("stage 2 of 3: the least total amount")
    second = _solve(m, options, monitor=clock.monitor())
    if second.has_solution:
        amount = np.array([float(pyo.value(m.shortfall[k]) or 0.0) for k in range(len(rows))])
        if second.status != "optimal":
            notes.append("the total amount is the least found within the time limit, not "
                         "proven least")
    else:
        amount = np.array(first_amount)
        notes.append("the amounts were not minimized (no answer within the time limit); "
                     "they are those of the first stage")
    amount = np.round(amount, 9) + 0.0
    keep = amount > AMOUNT_TOLERANCE * scale
    table = describe(built, rows[keep], list(amount[keep]))
    # ranked by the share of the limit the planner reads ("[20% of the limit]"); the
    # scale of stage 2 only where the limit is not known (a row whose limit sits in its
    # body, such as a requirement built from markets, has scale 1 there)
    table["_rel"] = table["relative"].astype(float).fillna(
        pd.Series(amount[keep] / scale[keep], index=table.index))
    table["_k"] = np.flatnonzero(keep)
    table = table.sort_values(["_rel", "amount"], ascending=False, kind="stable").drop(
        columns="_rel").reset_index(drop=True)
    least = _least_each(m, list(table["_k"]), can, options, clock)
    table["least"] = [least[k][0] for k in table["_k"]]
    table["least_note"] = [_least_words(least[k], unit)
                           for k, unit in zip(table["_k"], table["unit"], strict=True)]
    table = table.drop(columns="_k")
    table.insert(0, "rank", range(1, len(table) + 1))
    fams = sorted(set(table["family"]), key=list(dict.fromkeys(rows["family"])).index)
    n = len(table)
    headline = (f"infeasible: relaxing {n} limit{'s' if n != 1 else ''} "
                f"({', '.join(fams)}) makes a plan possible")
    return Explanation("explained", headline, relaxations=table, proven=proven, notes=notes)


def _least_each(m: pyo.ConcreteModel, listed: list[int], can: list[int],
                options: SolverOptions, clock: StageClock
                ) -> dict[int, tuple[float | None, str]]:
    """Stage 3: for each row ``k`` of ``listed`` (the answer, largest first; at most
    :data:`LEAST_ROWS` of them), $\\min s_k$ with only the listed rows relaxable. Returns
    ``k -> (least, how)``: ``how`` is ``proven`` (the solve was optimal; ``least`` its dual
    bound, no plan relaxing only the listed rows relaxes row ``k`` by less), ``not_proven``
    (it stopped first) or ``not_minimized`` (beyond :data:`LEAST_ROWS`)."""
    out: dict[int, tuple[float | None, str]] = {k: (None, "not_minimized") for k in listed}
    shown = listed[:LEAST_ROWS]
    if not shown:
        return out
    chosen = set(listed)
    values = {k: m.explain_relaxed[k].value for k in can}
    m.explain_least.deactivate()
    m.explain_count_within.deactivate()
    for k in can:
        m.explain_relaxed[k].fix(1 if k in chosen else 0)
    seconds = max((options.time_limit or STAGE_SECONDS) / len(shown), LEAST_SECONDS)
    # gap 0: "optimal" then means the dual bound meets the answer; the bound is what is said
    each = replace(options, time_limit=seconds, mip_gap=0.0)
    try:
        for n, k in enumerate(shown, 1):
            clock.begin(f"stage 3 of 3: the least amount of relaxed limit {n} of {len(shown)}")
            m.explain_each = pyo.Objective(expr=m.shortfall[k])
            try:
                outcome = _solve(m, each, monitor=clock.monitor())
            except InfeasibleConstraintException:  # cannot happen for a feasible answer
                outcome = None
            finally:
                m.del_component(m.explain_each)
            if outcome is not None and outcome.status == "optimal":
                bound = outcome.bound if outcome.bound is not None else outcome.objective
                out[k] = (max(float(bound), 0.0), "proven")
            else:
                out[k] = (None, "not_proven")
    finally:
        for k in can:
            m.explain_relaxed[k].unfix()
            m.explain_relaxed[k].set_value(values[k])
        m.explain_count_within.activate()
        m.explain_least.activate()
    return out


def _least_words(least: tuple[float | None, str], unit: str) -> str:
    """What the planner reads about a relaxed limit's least amount (stage 3)."""
    value, how = least
    if how == "proven" and value is not None:
        # rounded down to the digits shown: "at least" stays true of the proven bound
        shown = math.floor(value * 100 + 1e-6) / 100 if value >= 1 else value
        return f"at least {number(shown)}{' ' + unit if unit else ''}, proven ({PROVEN_WHEN})"
    if how == "not_proven":
        return ("not proven least: the search for this limit's least amount stopped at the "
                "time limit; the amount above is one that works")
    return (f"not minimized on its own (only the largest {LEAST_ROWS} relaxed limits are); "
            "the amount above is one that works")


# ---------------------------------------------------------------------- the IIS view
_BOUND = {2: "lower", 3: "upper", 4: "both bounds"}


def lp_iis(built: BuiltModel, options: SolverOptions) -> tuple[list[str], str]:
    """An IIS of the LP relaxation of ``built`` (hard limits), in words; or why there is
    none."""
    try:
        form = compile_model(built.model)
    except InfeasibleConstraintException as exc:  # a row with no variable left that fails
        return [str(exc)], ("a limit fails before any decision is made: no candidate site "
                            "can serve it")
    form.integrality = np.zeros_like(form.integrality)
    h = make_highs(form, options)
    # kIisStrategyIrreducible: the default ("light") strategy often returns an empty set
    # when presolve finds the infeasibility; "from LP" crashed highspy 1.16 in our tests
    h.setOptionValue("iis_strategy", int(highspy.IisStrategy.kIisStrategyIrreducible))
    run_highs(h)
    status = h.modelStatusToString(h.getModelStatus())
    if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        return [], (f"the LP relaxation is not infeasible ({status}): the conflict needs "
                    "integrality (minimum scale, must-host or focus counts), so there is no "
                    "IIS to show")
    st, iis = h.getIis()
    if st == highspy.HighsStatus.kError or not iis.valid_:
        return [], "HiGHS could not compute an IIS of the LP relaxation"
    lines = []
    for i, b in zip(iis.row_index_, iis.row_bound_, strict=True):
        con = form.rows[i]
        lines.append(_describe_row(built, con, int(b)))
    for j, b in zip(iis.col_index_, iis.col_bound_, strict=True):
        if int(b) not in _BOUND:  # free, null or dropped: the bound takes no part
            continue
        var = form.columns[j]
        lines.append(f"bound: {var.name} at its {_BOUND.get(int(b), 'bound')} "
                     f"({_bound_value(var, int(b))})")
    shown = lines[:IIS_SHOWN]
    note = "" if len(lines) <= IIS_SHOWN else f"{len(lines)} members; the first {IIS_SHOWN}:"
    return shown, note


def _bound_value(var: Any, b: int) -> str:
    if b == 2:
        return f"{var.lb:g}"
    if b == 3:
        return f"{var.ub:g}"
    return f"{var.lb:g}..{var.ub:g}"


def _describe_row(built: BuiltModel, con: Any, bound: int) -> str:
    comp = con.parent_component()
    block = comp.parent_block()
    family = block.index() if block is not built.model and block.parent_component() is \
        built.model.family else None
    index = con.index()
    if family is not None:
        fam = next(f for f in built.families if f.name == family)
        if comp.local_name in fam.limits:
            sense = LOWER if bound == 2 else UPPER
            src = source_of(built, family, comp.local_name, index, sense)
            where = src.file + (f" row{'s' if len(src.rows) > 1 else ''} "
                                + ", ".join(map(str, src.rows[:6])) if src.rows else "")
            return (f"limit: {where} ({src.what}) [{family}: "
                    f"{row_name(comp.local_name, index)}, {_BOUND.get(bound, 'bound')} limit]")
        return f"row: {con.name} (family {family})"
    return f"row: {con.name} (core)"
