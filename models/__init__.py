"""Formulation families, one file each (installed as ``allocator.models``).

``DEFAULT`` is the default formulation, in build order. An instance or the command line can
drop a family by name (``[families] without``, ``--without``), replace one or add one from a
file (``[families] extra``, ``--family path.py``): see ``docs/extending.md``.
"""

from allocator.models import (
    capacity,
    chain_coordination,
    duplication,
    duplication_neighbors,
    funding,
    markets,
    pilot_bases,
    policy,
    resilience,
    supply,
    talent,
)

DEFAULT = (
    capacity.FAMILY,
    chain_coordination.FAMILY,
    markets.FAMILY,
    talent.FAMILY,
    funding.FAMILY,
    supply.FAMILY,
    duplication.FAMILY,
    duplication_neighbors.FAMILY,
    policy.FAMILY,
    resilience.FAMILY,
    pilot_bases.FAMILY,
)
