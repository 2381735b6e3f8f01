"""Running a sweep on Dask and writing its folder.

``allocator sweep INSTANCE SWEEP.toml -o FOLDER`` (docs/sweeps.md) validates every case
(:func:`allocator.input.sweep.load_cases`), then solves each case as one Dask task
(:func:`allocator.analysis.case.solve_case`) and writes, as each finishes:

* ``FOLDER/cases/<case>/``: an ordinary results folder (``allocator report``, ``verify``,
  ``compare`` read it), its ``summary.json`` recording the case, its overrides and its
  input hash;
* ``FOLDER/sweep.json``: what allocator wrote here: the instance, the options, every case
  with its overrides and input hash (a folder without it is never written into);
* ``FOLDER/sweep.csv`` and ``sweep.parquet``: one row per case (:func:`sweep_table`).

The cluster: by default a ``LocalCluster`` of worker processes this command starts and stops
(``workers``: at most the cores divided by the threads of each solve, so that the machine
is never oversubscribed; one solve per worker at a time); with ``scheduler``, a running
``dask scheduler`` (``tcp://HOST:8786``) and its workers. The same code path for both: a
:class:`distributed.Client`, one task per case. Each case's instance (with its overrides
applied) travels to the worker in the task, and its tables come back in the result: the
workers need allocator installed, not the instance files or the output folder.

Resuming: a case whose folder holds a ``summary.json`` with the same input hash (the
instance's files, the case's overrides, the solve options) is kept, not solved again.
A worker that dies mid-case costs that case only: the scheduler gives it to another worker,
and when that happens more often than its ``allowed-failures`` (1 on the local cluster: one
retry) it is reported failed with the error. Ctrl-C cancels what is running and keeps every
finished case.

This module imports Dask; only the sweep commands import it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import cloudpickle
import dask
import distributed
import pandas as pd

from allocator.analysis.case import CaseResult, solve_case
from allocator.core.errors import (
    EXIT_INFEASIBLE,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_TIME_LIMIT,
    InputError,
    Problem,
)
from allocator.engine.highs import SolverOptions
from allocator.engine.results import allocator_version
from allocator.input.data import Instance
from allocator.input.sweep import Case
from allocator.output.folder import write_results

#: the file that marks a folder as a sweep allocator wrote
MARKER = "sweep.json"
CASES = "cases"
#: seconds between two refreshes of the progress line
TICK = 0.5


@dataclass(frozen=True)
class SweepOptions:
    """The solve options of every case (``None``: the instance's ``[solver]`` value); a
    case that overrides ``solver.X`` keeps its own value. ``threads`` is per solve."""

    time_limit: float | None = None
    mip_gap: float | None = None
    threads: int = 1
    seed: int | None = None
    heuristic: bool = True

    def for_case(self, case: Case) -> SolverOptions:
        own = {k.partition(".")[2] for k, _ in case.overrides.settings
               if k.startswith("solver.")}
        return SolverOptions(
            time_limit=None if "time_limit" in own else self.time_limit,
            mip_gap=None if "mip_gap" in own else self.mip_gap,
            threads=None if "threads" in own else self.threads,
            seed=None if "seed" in own else self.seed,
            heuristic=self.heuristic)

    def identity(self) -> dict[str, Any]:
        """What changes a case's answer (threads do not: a plan within the gap is one)."""
        return {"time_limit": self.time_limit, "mip_gap": self.mip_gap, "seed": self.seed,
                "heuristic": self.heuristic}


@dataclass(frozen=True)
class ClusterOptions:
    """Where cases run: ``scheduler`` (``tcp://HOST:8786``) or a local cluster of
    ``workers`` processes (default: the cores divided by ``threads``, the threads of each
    solve)."""

    workers: int | None = None
    scheduler: str | None = None
    threads: int = 1

    def local_workers(self, cases: int) -> int:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        wanted = self.workers or max(1, cores // max(1, self.threads))
        return max(1, min(wanted, cases))


@dataclass
class CaseOutcome:
    """How one case of this sweep ended: ``status`` is the solve's (``optimal``,
    ``infeasible``, ...), ``failed`` (no results: the error says why) or ``not run``
    (interrupted before it started); ``kept``: its folder was already there."""

    case: Case
    status: str
    kept: bool = False
    error: str = ""
    seconds: float | None = None
    objective: float | None = None


@dataclass
class SweepOutcome:
    folder: Path
    outcomes: list[CaseOutcome]
    interrupted: bool = False
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """3 when interrupted or a case stopped at its time limit, 1 when a case failed,
        4 when a case is infeasible, else 0 (docs/cli.md)."""
        statuses = {o.status for o in self.outcomes}
        if self.interrupted or statuses & {"time_limit", "time_limit_no_plan", "interrupted",
                                           "not run"}:
            return EXIT_TIME_LIMIT
        if "failed" in statuses:
            return EXIT_INTERNAL
        if "infeasible" in statuses:
            return EXIT_INFEASIBLE
        return EXIT_OK


# ---------------------------------------------------------------------- the folder
def prepare_folder(folder: Path, kind: str) -> dict[str, Any]:
    """Make sure ``folder`` is a new folder or a sweep of ``kind`` allocator wrote (its
    ``sweep.json``); returns what that file held (empty for a new folder). Anything else is
    refused (exit 2): a sweep never writes into, or deletes from, a folder it did not make."""
    marker = folder / MARKER
    if folder.exists() and not folder.is_dir():
        raise InputError([Problem(str(folder), "exists and is not a folder; give the sweep a "
                                  "folder of its own (-o)")])
    if marker.is_file():
        try:
            held = json.loads(marker.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError([Problem(str(marker), f"not valid JSON ({exc}); this folder "
                                      "cannot be resumed: give the sweep a new folder")]) from exc
        if held.get("kind") != kind:
            raise InputError([Problem(str(folder), f"holds a {held.get('kind')} (sweep.json), "
                                      f"not a {kind}: give the {kind} a folder of its own")])
        return held
    if folder.is_dir() and any(folder.iterdir()):
        raise InputError([Problem(str(folder), "exists and is not a sweep folder allocator "
                                  "wrote (no sweep.json); give the sweep a new or empty "
                                  "folder (-o): nothing in it is overwritten or deleted")])
    folder.mkdir(parents=True, exist_ok=True)
    return {}


def write_marker(folder: Path, content: dict[str, Any]) -> None:
    """``sweep.json``, written whole (temporary file, then renamed)."""
    tmp = folder / f".{MARKER}.tmp"
    tmp.write_text(json.dumps(content, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(folder / MARKER)


def input_hash(inst: Instance, case: Case, options: SweepOptions) -> str:
    """SHA-256 of what a case's answer depends on: the instance's files (its digest), the
    families it is built with, the case's overrides and the solve options."""
    payload = {"instance": inst.digest,
               "families": [[f.name, f.source] for f in inst.active_families],
               "overrides": case.overrides.to_dict(), "options": options.identity()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()
                          ).hexdigest()


def case_folder(folder: Path, case: Case) -> Path:
    return folder / CASES / case.slug


def finished(folder: Path, case: Case, digest: str) -> dict[str, Any] | None:
    """The summary of the case's results folder when it holds this input hash, else None."""
    path = case_folder(folder, case) / "summary.json"
    if not path.is_file():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError):
        return None
    return summary if summary.get("sweep", {}).get("input_hash") == digest else None


# ---------------------------------------------------------------------- progress
class Progress:
    """Cases done, running and failed with the elapsed and remaining time, on ``stream``:
    one line redrawn in place on a terminal, a line per finished case otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.perf_counter()
        self.done = self.failed = self.running = 0
        self._drawn = False

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        ended = self.done + self.failed
        left = self.total - ended
        remaining = "?" if not ended else _clock(elapsed / ended * left)
        width = 20
        filled = int(width * ended / self.total) if self.total else width
        return (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} done, "
                f"{self.running} running, {self.failed} failed, {_clock(elapsed)} elapsed, "
                f"~{remaining} left")

    def tick(self, running: int | None = None) -> None:
        if running is not None:
            self.running = running
        if self.tty:
            self.stream.write("\r\033[K" + self.line())
            self.stream.flush()
            self._drawn = True

    def say(self, text: str) -> None:
        """A line above the bar (a finished case), then the bar again."""
        if self.tty and self._drawn:
            self.stream.write("\r\033[K")
        self.stream.write(text + ("" if self.tty else f"  [{self.line()}]") + "\n")
        self.stream.flush()
        self.tick()

    def close(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r\033[K" + self.line() + "\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    hours, rest = divmod(round(seconds), 3600)
    return (f"{hours}:" if hours else "") + f"{rest // 60:0{2 if hours else 1}d}:{rest % 60:02d}"


# ---------------------------------------------------------------------- the cluster
class Cluster:
    """A Dask client on a local cluster this object starts (and stops on :meth:`close`), or
    on a running scheduler; started on first use."""

    def __init__(self, options: ClusterOptions, stream: TextIO | None = None) -> None:
        self.options = options
        self.stream = stream if stream is not None else sys.stderr
        self.client: distributed.Client | None = None
        self.local: distributed.LocalCluster | None = None
        self.notes: list[str] = []

    def start(self, cases: int) -> distributed.Client:
        if self.client is not None:
            return self.client
        if self.options.scheduler:
            self.client = distributed.Client(self.options.scheduler, timeout=30)
            retries = self.client.run_on_scheduler(
                lambda dask_scheduler: int(dask_scheduler.allowed_failures))
            workers = len(self.client.scheduler_info().get("workers", {}))
            self.notes.append(f"On the scheduler {self.options.scheduler} ({workers} workers "
                              f"now); it retries a case whose worker dies {retries} "
                              f"time{'s' if retries != 1 else ''} (its allowed-failures).")
            return self.client
        n = self.options.local_workers(cases)
        # one retry of a case whose worker died, then it is reported failed. The worker
        # processes start with Ctrl-C ignored (an ignored signal stays ignored in a new
        # process): Ctrl-C at the terminal reaches this process, which cancels the cases and
        # stops the workers in order, instead of every worker dying with a traceback
        ignore = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if ignore else None
        try:
            with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
                # no dashboard; the scheduler's own HTTP routes on a free port, so that
                # two sweeps (or a sweep and a notebook's cluster) do not compete for 8787
                self.local = distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True,
                    dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                    silence_logs=logging.CRITICAL)
        finally:
            if ignore:
                signal.signal(signal.SIGINT, previous)
        self.client = distributed.Client(self.local)
        self.notes.append(f"On a local cluster of {n} worker process{'es' if n != 1 else ''}, "
                          f"{self.options.threads} thread{'s' if self.options.threads != 1 else ''}"
                          " per solve.")
        return self.client

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.client is not None:
                self.client.close(timeout=10)
        with contextlib.suppress(Exception):
            if self.local is not None:
                self.local.close(timeout=10)
        self.client = self.local = None

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ship_by_value(instances: list[Instance]) -> None:
    """Families loaded from a researcher's file live in a module the workers cannot import:
    send their code with the task."""
    for inst in instances:
        for fam in inst.known_families.values():
            module = sys.modules.get(getattr(fam.build, "__module__", ""))
            if fam.source and module is not None and module.__name__.startswith(
                    "allocator_user_family_"):
                with contextlib.suppress(ValueError):
                    cloudpickle.register_pickle_by_value(module)


# ---------------------------------------------------------------------- running
def run_cases(folder: Path, cases: list[Case], instances: list[Instance],
              options: SweepOptions, cluster: Cluster, progress: Progress | None = None,
              extra: dict[str, dict[str, Any]] | None = None) -> list[CaseOutcome]:
    """Solve every case whose folder does not hold its input hash yet, writing each results
    folder as it arrives. ``extra``: per case slug, what to record in its
    ``summary.json`` ``sweep`` entry besides the case (a frontier's bound and role).
    KeyboardInterrupt (Ctrl-C) cancels what runs and is raised again once the finished
    cases are written; the outcomes so far are in its ``outcomes`` attribute."""
    progress = progress or Progress(len(cases))
    outcomes: dict[str, CaseOutcome] = {}
    todo: list[tuple[Case, Instance, str]] = []
    for case, inst in zip(cases, instances, strict=True):
        digest = input_hash(inst, case, options)
        summary = finished(folder, case, digest)
        if summary is not None:
            outcomes[case.slug] = CaseOutcome(case, str(summary.get("status")), kept=True,
                                              objective=summary.get("objective"))
            progress.done += 1
        else:
            todo.append((case, inst, digest))
    if outcomes:
        progress.say(f"{len(outcomes)} case{'s' if len(outcomes) != 1 else ''} already solved "
                     "with the same input: kept")
    if not todo:
        return [outcomes[c.slug] for c in cases]
    pending: set[distributed.Future] = set()
    futures: dict[distributed.Future, tuple[Case, str]] = {}
    try:
        client = cluster.start(len(todo))
        for note in cluster.notes:
            progress.say(note)
        cluster.notes.clear()
        _ship_by_value([inst for _, inst, _ in todo])
        # one task group ("allocator-case"): the scheduler queues the cases and hands one
        # to a worker when it is free
        prefix = f"allocator-case-{uuid.uuid4().hex[:8]}-"
        for number, (case, inst, digest) in enumerate(todo):
            fut = client.submit(solve_case, inst, options.for_case(case),
                                case.overrides.term_bounds, pure=False,
                                key=f"{prefix}{number}")
            futures[fut] = (case, digest)
        pending = set(futures)
        while pending:
            try:
                done, left = distributed.wait(list(pending), timeout=TICK,
                                              return_when="FIRST_COMPLETED")
                pending = set(left)
            except distributed.TimeoutError:
                done = set()
            progress.running = _running(client, prefix) if pending else 0
            for fut in done:
                case, digest = futures[fut]
                outcome = _collect(folder, fut, case, digest, (extra or {}).get(case.slug))
                outcomes[case.slug] = outcome
                if outcome.status == "failed":
                    progress.failed += 1
                else:
                    progress.done += 1
                progress.say(_describe(outcome))
            progress.tick()
    except KeyboardInterrupt as exc:
        if pending and cluster.client is not None:
            with contextlib.suppress(Exception):
                cluster.client.cancel(list(pending), force=True)
        for case, _, _ in todo:
            outcomes.setdefault(case.slug, CaseOutcome(case, "not run",
                                                       error="interrupted (Ctrl-C)"))
        exc.outcomes = [outcomes[c.slug] for c in cases]  # type: ignore[attr-defined]
        raise
    return [outcomes[c.slug] for c in cases]


def _running(client: distributed.Client, prefix: str) -> int:
    """How many cases (tasks whose key starts with ``prefix``) workers are executing now,
    as the scheduler knows it."""

    def executing(dask_scheduler: Any) -> int:  # runs on the scheduler (sent by value)
        return sum(1 for ws in dask_scheduler.workers.values() for ts in ws.executing
                   if str(ts.key).startswith(prefix))

    try:
        return int(client.run_on_scheduler(executing))
    except Exception:  # the scheduler is busy or refuses: the count is only shown
        return 0


def _collect(folder: Path, fut: distributed.Future, case: Case, digest: str,
             extra: dict[str, Any] | None) -> CaseOutcome:
    """Write a finished case's results folder, or say why it failed."""
    if fut.status != "finished":
        exc = fut.exception() if fut.status == "error" else None
        return CaseOutcome(case, "failed", error=_error_text(exc, fut.status))
    result: CaseResult = fut.result()
    status = result.status
    if status == "error" and not result.summary.get("has_plan"):  # as allocator solve
        message = result.summary.get("message") or f"the solve ended with status {status}"
        return CaseOutcome(case, "failed", error=str(message), seconds=result.seconds)
    result.summary["sweep"] = {"case": case.name, "role": case.role,
                               "overrides": case.overrides.to_dict(),
                               "description": case.overrides.describe(),
                               "input_hash": digest, "seconds": result.seconds,
                               "worker": result.worker, **(extra or {})}
    write_results(result, case_folder(folder, case))
    return CaseOutcome(case, status, seconds=result.seconds,
                       objective=result.summary.get("objective"))


def _error_text(exc: BaseException | None, status: str) -> str:
    if exc is None:
        return f"the task was {status}"
    if isinstance(exc, distributed.KilledWorker):
        return ("the worker solving it died, and again on the retry (out of memory, killed, "
                "or a crash in the solver): " + str(exc).splitlines()[0][:300])
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc) else ''}"


def _describe(outcome: CaseOutcome) -> str:
    name = f"case '{outcome.case.name}'"
    if outcome.status == "failed":
        return f"{name}: FAILED: {outcome.error}"
    obj = "" if outcome.objective is None else f", objective {outcome.objective:,.2f}"
    took = "" if outcome.seconds is None else f" in {outcome.seconds:.1f} s"
    return f"{name}: {outcome.status}{obj}{took}"


# ---------------------------------------------------------------------- the table
def sweep_table(folder: Path, outcomes: list[CaseOutcome]) -> pd.DataFrame:
    """One row per case: case, role, overrides, status, objective, best bound, gap, seconds,
    each term's value (``term.NAME``, before weighting, its own unit) and weighted
    (``weighted.NAME``), each bound (``bound.NAME``), hosts per industry (``hosts.NAME``)
    and their regions (``host_regions.NAME``), the case's folder and the error of a failed
    case. Read from the case folders, so that kept cases appear as they were solved."""
    rows = []
    for outcome in outcomes:
        case = outcome.case
        row: dict[str, Any] = {"case": case.name, "role": case.role,
                               "overrides": case.overrides.describe(),
                               "status": outcome.status}
        path = case_folder(folder, case)
        summary_path = path / "summary.json"
        if outcome.status not in ("failed", "not run") and summary_path.is_file():
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            sweep = summary.get("sweep", {})
            row.update(objective=summary.get("objective"), best_bound=summary.get("best_bound"),
                       gap=summary.get("gap"), seconds=sweep.get("seconds"))
            for term, limit in (summary.get("term_bounds") or {}).items():
                row[f"bound.{term}"] = limit
            objective = _read(path / "objective.csv")
            for r in objective.itertuples(index=False):
                row[f"term.{r.term}"] = r.value
                row[f"weighted.{r.term}"] = r.weighted
            industries = _read(path / "industries.csv")
            for r in industries.itertuples(index=False):
                row[f"hosts.{r.industry}"] = r.hosts
                regions = r.host_regions
                row[f"host_regions.{r.industry}"] = regions if isinstance(regions, str) else ""
            row["folder"] = str(path.relative_to(folder))
        row["error"] = outcome.error
        rows.append(row)
    df = pd.DataFrame(rows)
    first = ["case", "role", "overrides", "status", "objective", "best_bound", "gap", "seconds"]
    groups = ["bound.", "term.", "weighted.", "hosts.", "host_regions."]
    ordered = [c for c in first if c in df.columns]
    for prefix in groups:
        ordered += [c for c in df.columns if c.startswith(prefix)]
    ordered += [c for c in ("folder", "error") if c in df.columns]
    return df[ordered]


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame(columns=["term", "value", "weighted", "industry", "hosts",
                                     "host_regions"])


def write_table(folder: Path, table: pd.DataFrame) -> None:
    """``sweep.csv`` and ``sweep.parquet`` (each written whole, then renamed)."""
    for name, write in (("sweep.csv", lambda p: table.to_csv(p, index=False)),
                        ("sweep.parquet", lambda p: table.to_parquet(p, index=False))):
        tmp = folder / f".{name}.tmp"
        write(tmp)
        tmp.replace(folder / name)


# ---------------------------------------------------------------------- a whole sweep
@dataclass
class Sweep:
    """What a sweep folder is about (``sweep.json``): ``kind`` is ``sweep`` or
    ``frontier``; ``info`` holds the rest (the sweep file, its grid axes, a frontier's
    terms)."""

    folder: Path
    instance: Instance
    cases: list[Case]
    kind: str = "sweep"
    info: dict[str, Any] = field(default_factory=dict)

    def marker(self, options: SweepOptions, instances: list[Instance]) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "allocator": allocator_version(),
            "instance": {"name": self.instance.name, "path": str(self.instance.path),
                         "sha256": self.instance.digest},
            "options": options.identity() | {"threads": options.threads},
            **self.info,
            "cases": [{"name": c.name, "slug": c.slug, "role": c.role,
                       "folder": f"{CASES}/{c.slug}", "overrides": c.overrides.to_dict(),
                       "description": c.overrides.describe(),
                       "input_hash": input_hash(inst, c, options)}
                      for c, inst in zip(self.cases, instances, strict=True)],
        }


def finish(folder: Path, outcomes: list[CaseOutcome], interrupted: bool,
           notes: list[str] | None = None) -> SweepOutcome:
    """Write the sweep table of ``outcomes`` and return the sweep's outcome."""
    table = sweep_table(folder, outcomes)
    write_table(folder, table)
    return SweepOutcome(folder, outcomes, interrupted, table, list(notes or []))


def run_sweep(sweep: Sweep, instances: list[Instance], options: SweepOptions,
              cluster: ClusterOptions, stream: TextIO | None = None) -> SweepOutcome:
    """Run every case of ``sweep`` (validated: ``instances`` are the cases' instances) and
    write its folder; Ctrl-C keeps what finished (``interrupted``)."""
    prepare_folder(sweep.folder, sweep.kind)
    write_marker(sweep.folder, sweep.marker(options, instances))
    progress = Progress(len(sweep.cases), stream)
    with Cluster(cluster, stream) as running:
        try:
            outcomes = run_cases(sweep.folder, sweep.cases, instances, options, running,
                                 progress)
        except KeyboardInterrupt as exc:
            progress.close()
            done = {o.case.slug: o for o in getattr(exc, "outcomes", [])}
            outcomes = [done.get(c.slug, CaseOutcome(c, "not run", error="interrupted"))
                        for c in sweep.cases]
            return finish(sweep.folder, outcomes, True)
    progress.close()
    return finish(sweep.folder, outcomes, False)
