r"""The trade-off frontier of two objective terms, by the epsilon-constraint method, run as a
sweep (:mod:`allocator.output.sweep`).

``allocator frontier INSTANCE --between A,B --points P -o FOLDER``: how much of term A
(site_excess, say) the plan needs when term B (coordination) may be at most $\varepsilon$.
Each point is the least-cost plan of the instance (its whole objective $z$, every term at
its weight) with B held at most $\varepsilon_k$ (``objective_term_bounds``,
:func:`allocator.engine.build.build_model`):

$$
\min z \quad \text{s.t.} \quad \mathrm{term}_B \le \varepsilon_k, \qquad
\varepsilon_k = B^{\max} - \tfrac{k}{P-1}\,(B^{\max} - B^{\min}), \quad k = 0, \dots, P-1
$$

$B^{\max}$ is B in the instance's own optimum (point 0: no bound), $B^{\min}$ the least B
any plan reaches (the anchor case: B alone minimized, every other weight 0; the last point
allows it plus $10^{-6}$ relative, the solver's feasibility tolerance). Moving along the
points, B falls and $z$ rises; A shows what is given up for it. Every point is a plan of
least cost for its bound, so none is worse than another in both B and $z$; a point can be
worse than another in both A and B when it is cheaper in the other terms.

The anchors are solved first (one sweep of two cases), then the points between them;
rerunning keeps every case already solved with the same input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd

from allocator.core.errors import InputError, Problem
from allocator.input.data import Instance
from allocator.input.overrides import Overrides
from allocator.input.sweep import Case
from allocator.output.sweep import (
    CaseOutcome,
    Cluster,
    ClusterOptions,
    Progress,
    Sweep,
    SweepOptions,
    SweepOutcome,
    case_folder,
    finish,
    prepare_folder,
    run_cases,
    write_marker,
)

#: what the last point allows above the least B, relative (the solver's feasibility
#: tolerance: the anchor's own plan must stay feasible)
SLACK = 1e-6


@dataclass(frozen=True)
class FrontierSpec:
    """The two terms (``between``: A, then B, the bounded one) and the number of points."""

    between: tuple[str, str]
    points: int

    @property
    def bounded(self) -> str:
        return self.between[1]


def anchors(spec: FrontierSpec, terms: list[str]) -> list[Case]:
    """Point 0 (the instance's own optimum) and the anchor that minimizes B alone (every
    other term of ``terms`` weighted 0)."""
    b = spec.bounded
    alone = tuple((f"objective.{t}", 1.0 if t == b else 0.0) for t in terms)
    return [Case("point 0", Overrides(), role="point"),
            Case(f"least {b}", Overrides(settings=alone), role="anchor")]


def epsilons(spec: FrontierSpec, top: float, least: float) -> list[float]:
    """$\\varepsilon_1 .. \\varepsilon_{P-1}$: evenly from ``top`` down to ``least`` (plus
    :data:`SLACK`)."""
    n = spec.points - 1
    values = [top - k / n * (top - least) for k in range(1, n + 1)]
    values[-1] = least + SLACK * max(1.0, abs(least))
    return values


def term_value(folder: Path, case: Case, term: str) -> float | None:
    """The value (before weighting) of ``term`` in a case's results, None without a plan."""
    path = case_folder(folder, case)
    try:
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if not summary.get("has_plan"):
        return None
    objective = pd.read_csv(path / "objective.csv")
    row = objective[objective["term"] == term]
    return float(row["value"].iloc[0]) if len(row) else None


def run_frontier(folder: Path, instance: Instance, spec: FrontierSpec,
                 load: Callable[[list[Case]], list[Instance]], options: SweepOptions,
                 cluster: ClusterOptions, stream: TextIO | None = None) -> SweepOutcome:
    """Solve the anchors, then the points between them; write the sweep folder with
    ``sweep.json`` ``frontier`` (the terms, $B^{\\max}$, $B^{\\min}$). ``load`` validates
    cases and returns their instances (:func:`allocator.input.sweep.load_cases`)."""
    a, b = spec.between
    terms = [t.name for f in instance.active_families for t in f.terms]
    missing = [t for t in spec.between if t not in terms]
    if missing or a == b or spec.points < 2:
        problems = [Problem("--between", "not an objective term of this instance; its terms: "
                            + ", ".join(terms), value=t) for t in missing]
        if a == b:
            problems.append(Problem("--between", "give two different terms", value=a))
        if spec.points < 2:
            problems.append(Problem("--points", "a frontier needs at least 2 points",
                                    value=spec.points))
        raise InputError(problems)
    prepare_folder(folder, "frontier")
    first = anchors(spec, terms)
    info = {"frontier": {"between": [a, b], "bounded": b, "points": spec.points}}
    instances = load(first)
    sweep = Sweep(folder, instance, first, "frontier", info)
    write_marker(folder, sweep.marker(options, instances))
    progress = Progress(spec.points + 1, stream)
    outcomes: list[CaseOutcome] = []
    with Cluster(cluster, stream) as running:
        try:
            outcomes = run_cases(folder, first, instances, options, running, progress)
            top, least = (term_value(folder, c, b) for c in first)
            notes = []
            if top is None or least is None:
                notes.append(f"no frontier: {'the optimum' if top is None else 'the least ' + b}"
                             " has no plan (see its case folder)")
                progress.close()
                return finish(folder, outcomes, False, notes)
            info["frontier"].update({"max": top, "min": least})
            if top - least <= SLACK * max(1.0, abs(top)):
                notes.append(f"the terms do not conflict: the optimum already has the least "
                             f"{b} ({top:,.6g}); the frontier is one point")
                write_marker(folder, sweep.marker(options, instances))
                progress.close()
                return finish(folder, outcomes, False, notes)
            points = [Case(f"point {k}", Overrides(bounds=((b, eps),)), role="point")
                      for k, eps in enumerate(epsilons(spec, top, least), start=1)]
            more = load(points)
            sweep.cases = [first[0], *points, first[1]]
            instances = [instances[0], *more, instances[1]]
            write_marker(folder, sweep.marker(options, instances))
            outcomes = [outcomes[0], *run_cases(folder, points, more, options, running,
                                                progress), outcomes[1]]
        except KeyboardInterrupt as exc:
            progress.close()
            done = {o.case.slug: o for o in [*outcomes, *getattr(exc, "outcomes", [])]}
            kept = [done.get(c.slug, CaseOutcome(c, "not run", error="interrupted"))
                    for c in sweep.cases]
            return finish(folder, kept, True)
    progress.close()
    return finish(folder, outcomes, False)
