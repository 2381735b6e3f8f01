"""Layer 0, the contract: what every other layer and every family may import.

``errors`` (problems and exit codes), ``schema`` (input tables and columns as data),
``family`` (the family contract: :class:`~allocator.core.family.Family` and its parts) and
``tables`` (small helpers families use to write their hooks). Nothing here imports Pyomo,
HiGHS or any other layer of the package.
"""
