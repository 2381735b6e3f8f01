"""Errors that reach the user, each with a fixed exit code.

Bad input is never fixed silently: every problem found in an instance is collected as a
:class:`Problem` (file, row as a spreadsheet shows it, column, value, what is expected) and all
of them are raised together in one :class:`InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_TIME_LIMIT = 3
EXIT_INFEASIBLE = 4
#: allocator verify: a violated constraint, an objective that disagrees, or a family it
#: could not check
EXIT_VERIFY_FAILED = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``row`` is the row number as a spreadsheet shows it (the header is row 1, the first data
    row is row 2); ``None`` for problems that concern a whole file or column. ``location``
    overrides the default "file, row, column" rendering (workbooks say ``sites!D14``).
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None
    location: str | None = None

    def where(self) -> str:
        if self.location:
            return self.location
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        shown = "" if self.value is None else f": value {_show(self.value)}"
        return f"{self.where()}{shown}: {self.message}"


def _show(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    return str(value)


@dataclass
class InputError(Exception):
    """Raised once, after validation, with every problem found (exit code 2)."""

    problems: list[Problem] = field(default_factory=list)
    exit_code: int = EXIT_BAD_INPUT

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class OptionError(Exception):
    """A bad command-line or API option (exit code 2)."""

    exit_code = EXIT_BAD_INPUT
