"""The run monitor: the progress line and its pacing, the first incumbent, Ctrl-C."""

from __future__ import annotations

import io
import signal

import allocator
from allocator.engine.monitor import SolveMonitor


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_reads_elapsed_incumbent_bound_gap():
    m = SolveMonitor()
    assert m.line(12.34, 21627.7, 21598.8, 0.00134, 1234) == (
        "   12.3 s  incumbent 21,627.70  bound 21,598.80  gap 0.13%  nodes 1,234")
    assert m.line(0.5, None, 100.0, None, 0) == "    0.5 s  incumbent none yet  bound 100.00  " \
                                                 "nodes 0"


def test_progress_is_paced_and_quiet_at_first():
    log = io.StringIO()
    m = SolveMonitor(progress=True, stream=log)
    for t in (0.5, 1.0, 2.0, 10.9, 11.0):  # not a terminal: a line every 10 s after 1 s
        m._show(t, 1.0, 1.0, 0.0, 1)
    assert [line.split(" s")[0].strip() for line in log.getvalue().splitlines()] == [
        "1.0", "11.0"]
    tty = Tty()
    m = SolveMonitor(progress=True, stream=tty)
    for t in (1.0, 1.2, 1.6):  # a terminal: rewritten in place, at most every 0.5 s
        m._show(t, 1.0, 1.0, 0.0, 1)
    m.finish()
    assert tty.getvalue().count("\r") == 2 and tty.getvalue().endswith("\n")
    quiet = io.StringIO()
    m = SolveMonitor(progress=False, stream=quiet)
    m._show(5.0, 1.0, 1.0, 0.0, 1)
    assert quiet.getvalue() == ""


def test_ctrl_c_handler_is_installed_only_during_the_run():
    before = signal.getsignal(signal.SIGINT)
    m = SolveMonitor(stream=io.StringIO())
    with m.interruptible():
        handler = signal.getsignal(signal.SIGINT)
        assert handler is not before
        handler(signal.SIGINT, None)  # what Ctrl-C does: ask HiGHS to stop, nothing raised
        assert m.stop_requested
    assert signal.getsignal(signal.SIGINT) is before


def test_first_incumbent_is_recorded(tiny):
    nev = "id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts\nnev,NEV,10,4,1,5,1"
    r = allocator.solve(allocator.build_model(allocator.load_instance(tiny(industries=nev))),
                        allocator.SolverOptions(heuristic=False))
    first = r.summary["first_incumbent"]
    assert first["source"] == "highs" and first["objective"] >= r.objective - 1e-9
    assert 0 <= first["seconds"] <= first["seconds_from_compile"]
