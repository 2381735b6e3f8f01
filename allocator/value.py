r"""The value of the stochastic solution and of perfect information for an instance with
supply-shock scenarios (``shocks.csv``, :mod:`allocator.stochastic`).

Four solves of the same instance (Birge and Louveaux, *Introduction to Stochastic
Programming*, ch. 4):

* RP, the recourse problem: the stochastic model, the plan chosen knowing only the
  probabilities;
* EV, the expected-value problem: one scenario whose factors are the means
  $\bar f = \sum_s \rho_s f_s$ (:func:`allocator.scenarios.expected_scenario`);
* EEV, the expected result of using EV's plan: the stochastic model with EV's first stage
  (hosts, capacity) fixed, each scenario's production, flows and unmet demand re-optimized;
  its plan is then RP's first incumbent (a MIP start), so that RP is never worse than EEV
  even when RP stops at its time limit;
* WS, wait-and-see: each scenario solved alone, as if it were known in advance, weighted by
  its probability.

$\mathrm{VSS} = \mathrm{EEV} - \mathrm{RP}$ is what planning for the shocks saves over
planning for the average; $\mathrm{EVPI} = \mathrm{RP} - \mathrm{WS}$ is what knowing the
shock in advance would be worth. Both are at least 0 when every solve is optimal; with a gap
they are estimates, and each solve's status and gap is reported with them. The values are for
the expected cost (``risk = 'expected'``) whatever the instance's ``[scenarios] risk``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from allocator.cli_options import allow_families_option, force_option
from allocator.errors import OptionError
from allocator.outfolder import check_files, check_folder, write_files

if TYPE_CHECKING:
    from allocator.data import Instance


def _parse_tables(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
                  ) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise click.BadParameter(f"expected NAME=PATH (e.g. shocks=scenarios/shocks.csv), "
                                     f"got {value!r}")
        out[name.strip()] = path.strip()
    return out


def table_option(fn: Any) -> Any:
    """``--table NAME=PATH`` (repeatable): read table NAME from PATH, inside the instance
    folder, over the instance's ``[tables]``; passed to the command as ``tables``."""
    return click.option(
        "--table", "tables", multiple=True, metavar="NAME=PATH", callback=_parse_tables,
        help="Read table NAME from PATH (relative to the instance folder, inside it), over "
             "instance.toml [tables]; repeatable. E.g. --table shocks=scenarios/shocks.csv "
             "solves with supply-shock scenarios. Default: the instance's own files.")(fn)


@dataclass
class Solve:
    """One of the four solves: its objective (the expected total cost), bound, gap, status."""

    name: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    hosts: int = 0  # host sites of the plan


@dataclass
class StochasticValue:
    rp: float | None
    ev: float | None
    eev: float | None
    ws: float | None
    solves: list[Solve] = field(default_factory=list)

    @property
    def vss(self) -> float | None:
        return None if self.eev is None or self.rp is None else self.eev - self.rp

    @property
    def evpi(self) -> float | None:
        return None if self.rp is None or self.ws is None else self.rp - self.ws

    def to_dict(self) -> dict[str, Any]:
        return {"RP": self.rp, "EV": self.ev, "EEV": self.eev, "WS": self.ws,
                "VSS": self.vss, "EVPI": self.evpi,
                "solves": [asdict(s) for s in self.solves]}


def _expected_risk(instance: Instance) -> Instance:
    settings = {**instance.settings,
                "scenarios": {**instance.settings["scenarios"], "risk": "expected"}}
    return replace(instance, settings=settings)


def stochastic_value(instance: Instance, options: Any, families: list[str] | None = None,
                     *, rp_results: str | Path | None = None,
                     force: bool = False) -> StochasticValue:
    """RP, EV, EEV, WS (see the module docstring) with the solver ``options`` for each solve;
    ``rp_results``: write RP's results folder there (the stochastic plan, per scenario; with
    ``force`` into a folder allocator did not write, see :mod:`allocator.outfolder`)."""
    import time

    import pyomo.environ as pyo

    from allocator.build import build_model
    from allocator.scenarios import expected_scenario, scenarios_of
    from allocator.solve import SolverOptions
    from allocator.stochastic import fix_first_stage, release_first_stage, solve_stochastic

    scenarios = scenarios_of(instance)
    if not scenarios:
        raise OptionError("the instance has no supply-shock scenarios: give shocks.csv (in "
                          "the folder, [tables], or --table shocks=PATH)")
    inst = _expected_risk(instance)
    opts = (options or SolverOptions()).resolved(inst.settings["solver"])
    out = StochasticValue(None, None, None, None)

    def record(name: str, built: Any, result: Any, t0: float) -> None:
        o = result.outcome
        hosts = (round(sum(pyo.value(v) for v in built.model.hosts.values()))
                 if o.has_solution else 0)
        out.solves.append(Solve(name, o.status, o.objective, o.bound, o.gap,
                                time.perf_counter() - t0, hosts))

    def run(name: str, scen: list[Any]) -> tuple[Any, Any]:
        t0 = time.perf_counter()
        built = build_model(inst, families, scenarios=scen)
        result = solve_stochastic(built, opts)
        record(name, built, result, t0)
        return built, result

    ev_built, ev = run("EV", [expected_scenario(scenarios)])
    out.ev = ev.objective
    t0 = time.perf_counter()
    rp_built = build_model(inst, families, scenarios=scenarios)
    warm = False
    if ev.outcome.has_solution:
        saved = fix_first_stage(rp_built, ev_built)
        eev = solve_stochastic(rp_built, opts)
        record("EEV", rp_built, eev, t0)
        out.eev = eev.objective
        release_first_stage(saved)
        warm = eev.outcome.has_solution  # EEV's plan is a plan of RP: its first incumbent
        t0 = time.perf_counter()
    rp = solve_stochastic(rp_built, opts, start=warm)
    record("RP", rp_built, rp, t0)
    out.rp = rp.objective
    if rp_results is not None and rp.outcome.has_solution:
        rp.write(rp_results, force=force)
    ws: float | None = 0.0
    for sc in scenarios:
        _, alone = run(f"WS:{sc.name}", [replace(sc, probability=1.0)])
        if alone.objective is None or ws is None:
            ws = None
            continue
        ws += sc.probability * alone.objective
    out.ws = ws
    return out


def render(value: StochasticValue, money: str) -> str:
    lines = [f"{'solve':<22}{'status':<14}{'objective':>16}{'bound':>16}{'gap':>9}"
             f"{'hosts':>7}{'seconds':>9}"]
    for s in value.solves:
        obj = "-" if s.objective is None else f"{s.objective:,.2f}"
        bnd = "-" if s.bound is None else f"{s.bound:,.2f}"
        gap = "-" if s.gap is None else f"{s.gap:.2%}"
        lines.append(f"{s.name:<22}{s.status:<14}{obj:>16}{bnd:>16}{gap:>9}{s.hosts:>7}"
                     f"{s.seconds:>9.1f}")
    lines.append("")

    def show(x: float | None) -> str:
        return "-" if x is None else f"{x:,.2f} {money}"

    for label, x in (("RP  (stochastic optimum)", value.rp),
                     ("EV  (expected-value problem)", value.ev),
                     ("EEV (EV's plan facing the scenarios)", value.eev),
                     ("WS  (wait-and-see, perfect information)", value.ws),
                     ("VSS = EEV - RP", value.vss), ("EVPI = RP - WS", value.evpi)):
        lines.append(f"{label:<42}{show(x):>24}")
    if any(s.status != "optimal" for s in value.solves):
        lines.append("Not every solve is optimal: VSS and EVPI are estimates (see the gaps).")
    return "\n".join(lines)


@click.command("stochastic-value")
@click.argument("instance", type=click.Path(path_type=Path))
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Wall-clock limit of each of the solves. Default: the instance's [solver] "
                   "time_limit, else none.")
@click.option("--gap", type=click.FloatRange(0, 1), default=None, metavar="FRACTION",
              help="Relative MIP gap of each solve. Default: the instance's [solver] mip_gap.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads HiGHS may use. Default: HiGHS decides.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the numbers and every solve's status and gap as JSON (a file "
                   "allocator did not write is refused, see --force). Default: none.")
@click.option("--rp-output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write the stochastic plan (RP) as a results folder, as solve -o "
                   "would. Default: none.")
@table_option
@force_option
@allow_families_option
def stochastic_value_command(instance: Path, time_limit: float | None, gap: float | None,
                             threads: int | None, output: Path | None,
                             rp_output: Path | None, tables: dict[str, str], force: bool,
                             allow_families: bool) -> int:
    """Value of the stochastic solution (VSS = EEV - RP) and of perfect information
    (EVPI = RP - WS) for INSTANCE with supply-shock scenarios (shocks.csv, e.g.
    --table shocks=scenarios/shocks.csv). Solves RP, EV, EEV and each scenario alone.

    Exit 0 when every solve is optimal, 3 when one stopped at the time limit, 2 bad input.
    """
    from allocator.data import load_instance
    from allocator.errors import EXIT_TIME_LIMIT
    from allocator.solve import SolverOptions

    if output is not None:  # refused before the solves, not after them
        check_files([output], force=force, reading=[instance])
    if rp_output is not None:
        check_folder(rp_output, force=force, reading=[instance])
    inst = load_instance(instance, tables=tables, allow_families=allow_families)
    options = SolverOptions(time_limit=time_limit, mip_gap=gap, threads=threads)
    try:
        value = stochastic_value(inst, options, rp_results=rp_output, force=force)
    except OptionError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(render(value, inst.money))
    if output is not None:
        text = json.dumps({"instance": inst.name, "sha256": inst.digest, "money": inst.money,
                           **value.to_dict()}, indent=2) + "\n"
        write_files({output: text.encode("utf-8")}, force=force, reading=[instance])
        click.echo(f"\nWritten to {output}")
    return 0 if all(s.status == "optimal" for s in value.solves) else EXIT_TIME_LIMIT
