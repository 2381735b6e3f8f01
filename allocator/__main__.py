"""``python -m allocator``: the ``allocator`` command."""

from allocator.cli import main

main()
