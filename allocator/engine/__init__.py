"""Layer 3, engine: the model from an instance and its families (``build``, ``prune``,
``stochastic``), the handoff to HiGHS (``highs``, ``monitor``), MIP starts (``warmstart``),
and the solved model read back as tables (``results``). Knows no family by name: it calls
the hooks of :class:`allocator.core.family.Family`."""
