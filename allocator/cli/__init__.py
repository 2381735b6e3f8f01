"""The ``allocator`` command line: one group, its commands registered here from the modules
that define them (``solve``: validate, solve, explain, families; ``commands``: import,
verify, evaluate, compare; ``planner``: report, convert; ``value``: stochastic-value;
``generate``; ``sweep``: sweep, frontier). Every callback is wrapped in
:func:`allocator.cli.common.guard`, which turns each outcome into its exit code
(docs/cli.md). ``python -m allocator`` runs it.
"""

from __future__ import annotations

import click

from allocator.cli import commands, generate, planner, solve, sweep, value


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="allocator")
def main() -> None:
    """Decide which region hosts which strategic emerging industry, and how much capacity,
    minimizing duplication and cross-region coordination cost under talent, funding and
    supply limits.

    Exit codes: 0 optimal (or within the gap), 1 internal error, 2 bad input or options,
    3 time limit or Ctrl-C (the best plan found is still written), 4 infeasible (explained
    by input row; evaluate: the plan breaks limits), 5 verification failed (verify: a
    violated constraint, an objective that disagrees, or a family it could not check).
    See docs/cli.md.
    """


for _module in (solve, commands, planner, value, generate, sweep):
    for _command in _module.COMMANDS:
        main.add_command(_command)

__all__ = ["main"]
