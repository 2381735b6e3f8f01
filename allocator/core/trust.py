"""An instance is data: the family files it names are code, and run only when allowed.

``[families] extra = ["my_rule.py"]`` in ``instance.toml`` (or a workbook's settings sheet)
names Python files that join the formulation; a results folder's ``summary.json`` names the
files ``allocator verify`` loads for their ``check``. Planners pass instance folders,
workbooks and results around, and opening one must not run code. Such a file runs only when
the person running allocator says so: ``--allow-families`` (API: ``allow_families=True``), or
the same file named with ``--family`` (API: ``extra_families`` / ``family_files``). Otherwise
the command stops (exit 2) and names every file with its SHA-256, so that it can be read and
recognised before it is allowed.

This module imports only :mod:`allocator.core.errors` (``allocator verify`` uses it without
Pyomo).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from allocator.core.errors import Problem

HOW_TO_ALLOW = ("it is Python code, and a file named by the data runs only when you allow "
                "it: read it, then run again with --allow-families, or name it with --family "
                "{path} (Python: allow_families=True)")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (the identity under which it is allowed and recorded)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def not_allowed(file: str, column: str, value: str, path: Path) -> Problem:
    """The problem that stops a run at a family file nobody allowed: the file, its SHA-256,
    and how to allow it."""
    try:
        digest = f"SHA-256 {file_sha256(path)}"
    except OSError as exc:
        digest = f"cannot be read: {exc.strerror}"
    return Problem(file, f"names the family file {path} ({digest}); "
                   + HOW_TO_ALLOW.format(path=path), column=column, value=value)


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when two paths name the same file (after resolving links and ``..``)."""
    return Path(a).resolve() == Path(b).resolve()
