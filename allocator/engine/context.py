"""What a family sees while it builds and reports: :class:`Context`, and the registry of
what families contribute to the shared parts of the model (objective terms, output shipped
out of sites, uses of resources whose limits other families own)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyomo.environ as pyo

from allocator.core.family import Family, Term

if TYPE_CHECKING:
    from allocator.input.data import Instance


class FormulationError(Exception):
    """A family broke the contract while building (a bug in the family, exit code 1)."""


class Context:
    """What a family's ``build`` may read and contribute to.

    Read: ``instance`` (tables and derived sets), ``options`` (this family's settings),
    ``hosts`` and ``capacity`` (the shared decisions), ``activity`` (what runs: capacity, or a
    scenario's production), the shared expressions ``site_investment``, ``capacity_total``
    and ``capacity_surplus``.
    Contribute: objective terms (:meth:`add_term`), output shipped out of sites
    (:meth:`add_site_output`), use of a resource whose limit another family owns
    (:meth:`add_use`, collected by the owner with :meth:`uses` in its ``close`` phase).
    """

    def __init__(self, model: pyo.ConcreteModel, instance: Instance, family: Family,
                 registry: Registry | None = None, *, sites: pd.DataFrame,
                 state: dict[str, Any], soft: bool = False, strengthen: bool = True,
                 activity: Any = None, scenario: str | None = None,
                 contributed: dict[str, dict[Any, list[tuple[str, Any]]]] | None = None
                 ) -> None:
        self.model = model
        self.instance = instance
        self.family = family
        self._sites = sites
        #: the family's own data from its build, kept for its report (e.g. the arcs it
        #: built flows on): ``ctx.state["arcs"] = ...`` in ``build``, read in ``report_rows``;
        #: the engine keeps it in :attr:`allocator.engine.build.BuiltModel.state`
        self.state = state
        self._contributed = contributed or {}
        #: the supply-shock scenario being built (None: a deterministic run); ``instance``
        #: is then that scenario's view of the data (:mod:`allocator.input.scenarios`)
        self.scenario = scenario
        self._activity = activity
        self.options: dict[str, Any] = dict(instance.options(family.name))
        if not strengthen and "strengthen" in self.options:
            self.options["strengthen"] = False  # build_model(strengthen=False): plain model
        #: this family's limits are elastic (build_model(soft=...)): a valid inequality
        #: derived from them would no longer be valid, so the family leaves it out
        self.soft = soft
        self._registry = registry

    @property
    def hosts(self) -> pyo.Var:
        return self.model.hosts

    @property
    def capacity(self) -> pyo.Var:
        return self.model.capacity

    @property
    def activity(self) -> Any:
        """What runs at each site, indexed like ``capacity``: the capacity itself in a
        deterministic run (capacity is used at its full rate); inside a supply-shock
        scenario, that scenario's production $p_{irs} \\le \\alpha_{rs} q_{ir}$. Second-stage
        families (``Family.stage = 2``) read their input use, flows and output from it."""
        return self.model.capacity if self._activity is None else self._activity

    @property
    def site_investment(self) -> pyo.Expression:
        return self.model.site_investment

    @property
    def capacity_total(self) -> pyo.Expression:
        """Q_i: national capacity of each industry."""
        return self.model.capacity_total

    @property
    def capacity_surplus(self) -> pyo.Var:
        """Q_i - D_i - sum_d a_id Q_d: capacity beyond final plus intermediate demand."""
        return self.model.capacity_surplus

    @property
    def surplus_definition(self) -> pyo.Constraint:
        """The rows defining ``capacity_surplus``: the one row per industry whose right-hand
        side is its final demand D_i (a demand limit's price is its dual)."""
        return self.model.capacity_surplus_definition

    @property
    def sites(self) -> pd.DataFrame:
        """Candidate sites that can host, with every parameter resolved (see
        :attr:`allocator.input.data.Instance.sites`): the instance's candidates less the pairs
        that can never host, with ``capacity_max`` tightened by the families' limits
        (:mod:`allocator.engine.prune`)."""
        return self._sites

    def add_term(self, name: str, expr: Any) -> None:
        """Add ``expr`` to the objective term ``name`` (declared in the family's ``terms``)."""
        if name not in {t.name for t in self.family.terms}:
            raise FormulationError(f"family {self.family.name} adds undeclared term '{name}'")
        self._open().terms[name].append(expr)

    def add_site_output(self, site: tuple[str, str], expr: Any) -> None:
        """Declare that ``expr`` units leave ``site``; the engine caps the total by capacity."""
        self._open().outputs[site].append(expr)

    def add_use(self, resource: str, key: Any, expr: Any) -> None:
        """Declare that ``expr`` (non-negative in every plan) uses ``resource`` at ``key``
        inside the limit another family owns: ``"talent"`` at ``(region, talent_class)``,
        ``"funding"`` at ``region``. The owner adds it to its limit row in its ``close``
        phase (:meth:`uses`); call it from ``build``, not from ``close``. Being
        non-negative, a contributed use only tightens the owner's limits, so the site bounds
        that the owner derives for pruning stay valid."""
        registry = self._open()
        if registry.closing:
            raise FormulationError(f"family {self.family.name} adds a use of '{resource}' "
                                   "after the build phase; call add_use from build")
        registry.uses[resource][key].append((self.family.name, expr))

    def uses(self, resource: str) -> dict[Any, Any]:
        """What other families use of ``resource``, summed per key (``{}`` when none): for
        the owner of the limit, in its ``close`` phase (after every family's ``build``)."""
        registry = self._registry
        if registry is None:  # reporting after the solve: what was contributed
            contributed = self._contributed
        else:
            if not registry.closing:
                raise FormulationError(f"family {self.family.name} reads the uses of "
                                       f"'{resource}' during build; read them in close, "
                                       "after every build")
            registry.collected.add(resource)
            contributed = registry.uses
        return {key: pyo.quicksum(e for _, e in parts)
                for key, parts in contributed.get(resource, {}).items()}

    def _open(self) -> Registry:
        if self._registry is None:
            raise FormulationError("this context is read-only (reporting after the solve)")
        return self._registry


@dataclass
class Registry:
    terms: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    term_specs: dict[str, tuple[Term, str]] = field(default_factory=dict)
    outputs: dict[tuple[str, str], list[Any]] = field(default_factory=lambda: defaultdict(list))
    #: resource -> key -> [(family, expr)]: uses contributed to other families' limits
    uses: dict[str, dict[Any, list[tuple[str, Any]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    #: resources whose uses an owner has read (its close phase)
    collected: set[str] = field(default_factory=set)
    #: the close phase has begun: no more contributions
    closing: bool = False
