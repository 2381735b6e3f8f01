"""Layer 2, input: reading an instance (folder or workbook), validating it, the typed
:class:`~allocator.input.data.Instance` with its derived data, the family list an instance
asks for, and supply-shock scenarios. Imports the contract (``allocator.core``) and finds
families by name; never Pyomo or HiGHS (``allocator verify`` reads instances through it)."""
