"""Engine settings in ``instance.toml`` (everything that is not a family's own option).

Every key is declared with a type, default, unit and meaning; unknown keys are errors (a typo
must not silently fall back to a default).
"""

from __future__ import annotations

from allocator.core.family import Option
from allocator.core.tables import CAPACITY, TALENT_UNIT

#: top-level keys of instance.toml that are not tables
TOP_LEVEL: tuple[Option, ...] = (
    Option("name", str, None, "instance name"),
    Option("description", str, "", "what the instance represents"),
)

ENGINE_SECTIONS: dict[str, tuple[Option, ...]] = {
    "units": (
        Option("money", str, "money", "unit of every money figure (e.g. 'CNY 100m')"),
        Option(CAPACITY, str, "unit", "default unit of capacity"),
        Option(TALENT_UNIT, str, "people", "unit of talent: talent_supply.csv supply, "
               "talent_need.csv need per unit of capacity, pilot_bases.csv talent_need "
               "(e.g. 'thousand people')"),
    ),
    "solver": (
        Option("time_limit", float, None, "wall-clock limit of the MIP solve (none: no limit)",
               unit="s", ge=0),
        Option("mip_gap", float, 1e-4, "relative MIP gap at which a plan counts as optimal",
               ge=0, le=1),
        Option("threads", int, None, "threads HiGHS may use (none: HiGHS decides)", ge=1),
        Option("seed", int, 0, "HiGHS random seed (same seed, same result)", ge=0),
    ),
    "sites": (
        Option("candidates", str, "all", "'all': every industry x region pair not forbidden "
               "in sites.csv may host; 'listed': only pairs listed in sites.csv",
               choices=("all", "listed")),
        Option("brownfield", str, "keep", "'keep': existing capacity must stay (the region "
               "keeps hosting); 'count': existing capacity counts and needs no new "
               "investment, but the plan may retire it", choices=("keep", "count")),
        Option("prune", bool, True, "tighten each site's maximum capacity with the limits "
               "the families imply (talent, funding, key inputs, value-chain reach) and leave "
               "out pairs that can never host (listed in the results' pruned.csv)"),
    ),
    "scenarios": (
        Option("unmet_penalty", float, 1000.0, "supply-shock scenarios (shocks.csv): "
               "objective penalty per unit of final demand not met in a scenario",
               unit="money/capacity", ge=0),
        Option("risk", str, "expected", "supply-shock scenarios: 'expected' minimizes the "
               "expected second-stage cost; 'cvar' its conditional value at risk at level "
               "cvar_alpha (the mean of the worst 1 - alpha share of outcomes)",
               choices=("expected", "cvar")),
        Option("cvar_alpha", float, 0.9, "level alpha of the CVaR (risk = 'cvar')", ge=0,
               le=0.999),
    ),
}

#: sections whose keys are free (validated against other declarations)
FREE_SECTIONS = ("objective", "families", "tables")
