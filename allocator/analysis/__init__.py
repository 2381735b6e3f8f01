"""Layer 4, analysis: questions asked of a model or a plan. Pre-solve checks, why there is
no plan (``explain``, ``diagnose``), shadow prices, the whole solve pipeline (``pipeline``:
checks, solve, explanation, prices), a given plan evaluated, two plans compared, the value
of the stochastic solution."""
