"""One wall-clock budget for a whole command: ``--time-limit T`` covers loading, building,
the first plan, HiGHS's search, the shadow prices and writing the results.

A :class:`Deadline` is created when the command starts and handed down through every stage.
Each stage asks it how much time is left (:meth:`Deadline.remaining`) and takes only its
share: the heuristic at most :data:`HEURISTIC_SHARE` of what is left, HiGHS what is left
after the time reserved for what follows the search (:meth:`Deadline.for_search`: reading
the plan back, the result tables, the shadow prices and writing them, an amount measured at
each size, :func:`after_search_seconds`). A stage that would not fit is skipped and says so
(the shadow prices: ``summary.json`` ``shadow_prices.status = "skipped"`` and one terminal
line). Loading, validating and building are not interruptible: when they alone use up the
budget, HiGHS is not started and the results say so.
"""

from __future__ import annotations

import math
import os
import time

#: share of the time left that the first-plan heuristic may use before HiGHS starts: most
#: of it, because a run stopped early without a plan has nothing to show, and HiGHS's own
#: search then starts from the plan (the heuristic stops by itself well before on long runs).
#: At 337 x 40 the heuristic's LP relaxation alone took 18-25 s under a load of 6 on 2 cores
#: and HiGHS's own search found no plan in 60 s: 0.6 left the LP unfinished in a 60 s run.
HEURISTIC_SHARE = 0.8
#: seconds kept in hand, whatever the size, for ending the command (exit, flushing)
MARGIN = 0.05


def after_search_seconds(columns: int, rows: int, *, shadow_prices: bool = True,
                         build_seconds: float = 0.0) -> float:
    """Seconds to keep after HiGHS's search for everything that follows it, by model size.

    Measured with ``python benchmarks/scale.py`` (the ``results`` and ``shadow`` columns) on a
    2-core machine: reading the plan back, the result tables and writing them (CSV, the
    workbook, summary.json) about 0.35 s + 6 us per column; the LP re-solve of the shadow
    prices on the solver's own model about 0.1 s + 4 us per column (52,829 columns at 337 x 40:
    about 0.7 s and 0.3 s). Taken twice, for a machine busier than the one measured. On a
    busy machine everything is slower by about the same factor, so the estimate is never
    below a share of what building the model took (``build_seconds``, build and compile):
    writing the results and the summary took about 0.35 times that at 100 x 20 on the same
    machine under a load of 6 on 2 cores, when every step was 3-5 times slower than idle;
    measured again in issue 12 (``--time-limit 10`` at 100 x 20, load 5), the steps after
    the search took about as long as building, so the share is now all of it. The end of
    the process comes on top (:data:`EXIT_SECONDS`)."""
    size = columns + 0.5 * rows
    seconds = 0.35 + 6e-6 * size
    if shadow_prices:
        seconds += 0.1 + 4e-6 * size
    return (max(2.0 * seconds, (1.0 if shadow_prices else 0.75) * build_seconds)
            + EXIT_SECONDS + EXIT_PER_COLUMN * size)


#: seconds for ending the process after the results are written (freeing the model, the
#: interpreter's shutdown), plus this much per column: measured ``--time-limit 10`` at
#: 100 x 20 under a load of 5 on 2 cores, the command's own work ended 0.7 s after the
#: limit and the process 0.9 s after that; freeing the 337 x 40 model alone took 0.44 s
EXIT_SECONDS = 0.2
EXIT_PER_COLUMN = 8e-6


def process_started() -> float:
    """When this process started, as a :func:`time.perf_counter` reading: the command's
    clock then includes the interpreter's start and the imports (2-3 s on a loaded 2-core
    machine, which made a 60 s limit end after 65 s). Linux only (``/proc``); elsewhere, or
    if ``/proc`` cannot be read, now."""
    now = time.perf_counter()
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        ticks = os.sysconf("SC_CLK_TCK")
        age = uptime - int(fields[19]) / ticks  # field 22 of stat: start time in ticks
    except (OSError, ValueError, IndexError):
        return now
    return now - age if 0.0 <= age < 3600.0 else now


class Deadline:
    """The wall-clock budget of one command (``seconds = None``: no limit).

    ``started`` is a :func:`time.perf_counter` reading, by default the moment the object is
    made; the command line makes it before loading the instance."""

    def __init__(self, seconds: float | None = None, started: float | None = None) -> None:
        self.seconds = None if seconds is None else float(seconds)
        self.started = time.perf_counter() if started is None else float(started)

    @property
    def limited(self) -> bool:
        return self.seconds is not None

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        """Seconds left (``inf`` without a limit, never below 0)."""
        if self.seconds is None:
            return math.inf
        return max(0.0, self.seconds - self.elapsed())

    def expired(self, reserve: float = 0.0) -> bool:
        return self.remaining() <= reserve + MARGIN

    def for_search(self, reserve: float) -> float | None:
        """HiGHS's time limit: what is left after ``reserve`` seconds for what follows the
        search (None without a limit)."""
        if self.seconds is None:
            return None
        return max(0.0, self.remaining() - reserve - MARGIN)

    def share(self, fraction: float, reserve: float = 0.0, at_most: float | None = None
              ) -> float:
        """``fraction`` of the time left after ``reserve`` (``at_most`` without a limit)."""
        if self.seconds is None:
            return math.inf if at_most is None else at_most
        left = max(0.0, self.remaining() - reserve - MARGIN) * fraction
        return left if at_most is None else min(left, at_most)

    def __repr__(self) -> str:
        return f"Deadline(seconds={self.seconds}, elapsed={self.elapsed():.3f})"


__all__ = ["HEURISTIC_SHARE", "MARGIN", "Deadline", "after_search_seconds", "process_started"]
