"""The ``allocator`` command, runnable from a checkout: ``python cli.py solve ...``.

A thin entry: the command line lives in the package (:mod:`allocator.cli`); installed, the
same command is ``allocator`` or ``python -m allocator``.
"""

from allocator.cli import main

if __name__ == "__main__":
    main()
