"""Command-line options shared by the commands that write files or read instances.

``--force`` (:mod:`allocator.outfolder`: where allocator may write) and
``--allow-families`` (:mod:`allocator.trust`: an instance's family files are code, run only
when allowed). Each command passes the values on to the API.
"""

from __future__ import annotations

from typing import Any

import click


def force_option(fn: Any) -> Any:
    """``--force``: write into a folder (or over a file) allocator did not write."""
    return click.option(
        "--force", is_flag=True, default=False,
        help="Write into an output folder that holds files allocator did not write, or over "
             "such a file: allocator's own files are written and every other file is kept as "
             "it is. Never the folder you are in, your home or the root folder, or a folder "
             "holding the instance. Default: refuse (exit 2); a folder or file allocator "
             "wrote is replaced without it.")(fn)


def allow_families_option(fn: Any) -> Any:
    """``--allow-families``: run the family files an instance names."""
    return click.option(
        "--allow-families", "allow_families", is_flag=True, default=False,
        help="Run the family files (Python code) that the instance names in [families] "
             "extra (or a results folder's summary.json, for verify). Default: refuse "
             "(exit 2), listing each file with its SHA-256; --family FILE allows that one "
             "file.")(fn)
