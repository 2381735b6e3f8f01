"""Watch a HiGHS run through its callbacks: the first incumbent, a live progress line, and
Ctrl-C as a clean interrupt.

* **Incumbents.** HiGHS calls ``cbMipImprovingSolution`` for every better plan; the first one
  (time, objective) is recorded in ``summary.json`` as ``first_incumbent``.
* **Progress.** ``cbMipInterrupt`` (and, before the branch and bound starts, the simplex and
  IPM interrupt callbacks) report the elapsed time, incumbent, bound and gap; with
  ``progress`` on they become one line on stderr: rewritten in place on a terminal (at most
  every :data:`TTY_EVERY` s), a new line every :data:`LOG_EVERY` s otherwise (a log file or
  CI). Nothing is printed during the first :data:`QUIET_FOR` s, so short solves stay silent.
* **MIP start.** With a start given, HiGHS's log (delivered to ``cbLogging`` only, never to
  the console unless asked) says whether it found the start feasible: ``start_accepted``.
* **Deadline.** With the command's wall-clock budget (:mod:`allocator.engine.deadline`), the
  interrupt callbacks stop HiGHS once only the time reserved for what follows is left
  (``deadline_hit``; the solve then reports ``time_limit``, not ``interrupted``).
* **Ctrl-C.** While HiGHS runs, SIGINT only sets a flag; the next interrupt callback asks
  HiGHS to stop (``user_interrupt``), HiGHS returns its best plan with status interrupted,
  and allocator writes it like any other result (exit 3). The process is never killed in
  the middle of writing. HiGHS checks for interrupts often during the simplex and the
  branch and bound, but not inside presolve, which finishes first. The handler is installed
  only in the main thread and restored when the run ends.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import highspy

from allocator.engine.deadline import Deadline

TTY_EVERY = 0.5
LOG_EVERY = 10.0
QUIET_FOR = 1.0


class SolveMonitor:
    """Subscribes to a Highs object's callbacks for one run (see the module docstring)."""

    def __init__(self, progress: bool = False, stream: TextIO | None = None, *,
                 deadline: Deadline | None = None, reserve: float = 0.0,
                 label: str = "") -> None:
        self.progress = progress
        #: what runs, put before each progress line (``explain, stage 1 of 3``); none by default
        self.label = label
        #: the command's wall-clock budget: HiGHS is asked to stop when only ``reserve``
        #: seconds of it are left (HiGHS's own time_limit is set from it too; this catches
        #: a run that overshoots it, e.g. a long sub-MIP)
        self.deadline = deadline
        self.reserve = reserve
        self.deadline_hit = False
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.stop_requested = False
        self.start_accepted: bool | None = None
        self.first_incumbent: dict[str, float] | None = None
        self.incumbents = 0
        self._started = time.perf_counter()
        self._last_shown = -math.inf
        self._shown = False
        self._width = 0

    # ------------------------------------------------------------------ callbacks
    def attach(self, h: highspy.Highs, *, watch_start: bool = False) -> None:
        if watch_start:
            if not h.getOptionValue("output_flag")[1]:
                h.setOptionValue("output_flag", True)
                h.setOptionValue("log_to_console", False)
            h.cbLogging.subscribe(self._on_log)
        h.cbMipImprovingSolution.subscribe(self._on_incumbent)
        h.cbMipInterrupt.subscribe(self._on_mip_interrupt)
        h.cbSimplexInterrupt.subscribe(self._on_lp_interrupt)
        h.cbIpmInterrupt.subscribe(self._on_lp_interrupt)

    def _on_log(self, e: Any) -> None:
        text = e.message.strip()
        # "Assessing feasibility of MIP solution using ... tolerances of 1e-06: feasible"
        # comes first (also when presolve alone solves the model), then, when the branch
        # and bound runs, "MIP start solution is feasible: objective value is ..."
        if "Assessing feasibility of MIP solution" in text or "MIP start solution is" in text:
            verdict = text.split(":")[0] if "MIP start" in text else text.rsplit(":", 1)[-1]
            self.start_accepted = "infeasible" not in verdict

    def _on_incumbent(self, e: Any) -> None:
        self.incumbents += 1
        if self.first_incumbent is None:
            out = e.data_out
            self.first_incumbent = {
                "seconds": time.perf_counter() - self._started,
                "highs_seconds": float(out.running_time),
                "objective": float(out.objective_function_value),
            }

    def _out_of_time(self) -> bool:
        if self.deadline is not None and self.deadline.expired(self.reserve):
            self.deadline_hit = True
        return self.deadline_hit

    def _on_mip_interrupt(self, e: Any) -> None:
        if self.stop_requested or self._out_of_time():
            e.interrupt()
            return
        out = e.data_out
        self._show(float(out.running_time), _finite(out.mip_primal_bound),
                   _finite(out.mip_dual_bound), _finite(out.mip_gap), int(out.mip_node_count))

    def _on_lp_interrupt(self, e: Any) -> None:
        if self.stop_requested or self._out_of_time():
            e.interrupt()
            return
        if self.first_incumbent is None and self._last_shown == -math.inf:
            self._show(float(e.data_out.running_time), None, None, None, None)

    # ------------------------------------------------------------------ the line
    def line(self, elapsed: float, incumbent: float | None, bound: float | None,
             gap: float | None, nodes: int | None) -> str:
        inc = f"{incumbent:,.2f}" if incumbent is not None else "none yet"
        parts = [f"{elapsed:7.1f} s", f"incumbent {inc}"]
        if bound is not None:
            parts.append(f"bound {bound:,.2f}")
        if gap is not None and incumbent is not None:
            parts.append(f"gap {gap:.2%}")
        if nodes is not None:
            parts.append(f"nodes {nodes:,}")
        return "  ".join(parts)

    def _show(self, elapsed: float, incumbent: float | None, bound: float | None,
              gap: float | None, nodes: int | None) -> None:
        if not self.progress or elapsed < QUIET_FOR:
            return
        every = TTY_EVERY if self.tty else LOG_EVERY
        if elapsed - self._last_shown < every:
            return
        self._last_shown = elapsed
        text = self.line(elapsed, incumbent, bound, gap, nodes)
        if self.label:
            text = f"{self.label}: {text}"
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        """End the progress line so that what follows starts on a clean line."""
        if self._shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()

    # ------------------------------------------------------------------ Ctrl-C
    def request_stop(self) -> None:
        if not self.stop_requested:
            self.stop_requested = True
            self.stream.write("\nCtrl-C: stopping HiGHS at its next check; the best plan found "
                              "so far will be written.\n")
            self.stream.flush()

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """While the block runs, Ctrl-C asks HiGHS to stop instead of raising
        KeyboardInterrupt (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, lambda *_: self.request_stop())
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
            self.finish()


def _finite(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) and abs(v) < 1e30 else None
