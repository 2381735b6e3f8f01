"""``python -m allocator.cli``: the ``allocator`` command."""

from allocator.cli import main

main()
