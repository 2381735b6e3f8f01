"""Generate ``docs/formulation.md`` and the table reference of ``docs/instance-format.md``
from the code, so the documents cannot drift from the model.

Run ``python -m allocator.tools.docs`` to rewrite both; ``tests/test_docs.py`` fails when a
committed document differs from what the code generates.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from allocator.core.family import Family, Option, Symbol
from allocator.core.schema import markdown_reference, merged
from allocator.engine import build, stochastic
from allocator.engine.build import CORE_SYMBOLS
from allocator.input.families import default_families
from allocator.input.settings import ENGINE_SECTIONS

ROOT = Path(__file__).resolve().parents[2]
FORMULATION = ROOT / "docs" / "formulation.md"
INSTANCE_FORMAT = ROOT / "docs" / "instance-format.md"
BEGIN, END = "<!-- BEGIN GENERATED TABLES -->", "<!-- END GENERATED TABLES -->"

_INTRO = """# Formulation

This file is generated from the code (`python -m allocator.tools.docs`); a test fails when it
differs. Each family is one file in `models/`; its docstring is the mathematics below and its
`symbols` are the table under it. Code names are the Pyomo component names: a family's
components live on its block `model.family[name]`
(`model.family["talent"].talent_within_supply`), the core ones on the model itself
(`model.hosts`).

This is the first statement of the formulation. The second is
[verification.md](verification.md): the rules of the independent checker (`allocator
verify`), which recomputes every constraint and objective term of a written plan in plain
pandas, without Pyomo or the solver. If the two ever disagree, one of them is wrong.

## Notation

| symbol | set | code |
|---|---|---|
| $I$, index $i$ (also $u$, $d$ for upstream, downstream) | industries | `industries.csv` `id` |
| $R$, index $r$ (also $o$, $t$, $m$, $a$, $b$) | regions | `regions.csv` `id` |
| $g(r)$ | group of region $r$ | `regions.csv` `group` |
| $S \\subseteq I \\times R$ | candidate sites | `model.sites` |
| $L \\subseteq I \\times I$ | value-chain links $(u, d)$ | `chain.csv` |
| $T$, index $t$ | talent classes | `talent_*.csv` `talent_class` |
| $K$, index $k$ | key inputs | `inputs.csv` `id` |
| $G_i$ | national requirement: $D_i + \\sum_{(i,d)\\in L} a_{id} G_d$ | `Instance.requirement` |

"""


def symbol_table(symbols: tuple[Symbol, ...]) -> str:
    out = ["| code name | kind | symbol | index | unit | meaning |", "|---|---|---|---|---|---|"]
    for s in symbols:
        math = f"${s.math}$" if s.math else ""
        meaning = s.doc + (f": ${s.definition}$" if s.definition else "")
        out.append(f"| `{s.name}` | {s.kind} | {math} | {s.index} | {s.unit} | {meaning} |")
    return "\n".join(out) + "\n"


def family_markdown(fam: Family, level: int = 2) -> str:
    h = "#" * level
    parts = [f"{h} `{fam.name}`\n", f"{fam.summary}\n"]
    if not fam.optional:
        parts.append("Always on.\n")
    if fam.requires:
        parts.append("Active when present: " + ", ".join(f"`{t}.csv`" for t in fam.requires)
                     + ".\n")
    if fam.math:
        parts.append(inspect.cleandoc(fam.math) + "\n")
    parts.append(symbol_table(fam.symbols))
    if fam.limits:
        parts.append("\nLimits that `--soft` can make elastic: "
                     + ", ".join(f"`{c}`" for c in fam.limits) + ".\n")
    # each table one block of lines: a blank line between rows ends a Markdown table
    if fam.terms:
        parts.append("\n".join(
            ["\nObjective terms (weight in `[objective]` of instance.toml):\n",
             "| term | unit | default weight | meaning |", "|---|---|---|---|"]
            + [f"| `{t.name}` | {t.unit} | {t.default_weight:g} | {t.doc} |"
               for t in fam.terms]) + "\n")
    if fam.options:
        parts.append(f"\nOptions (`[{fam.name}]` in instance.toml):\n\n" + option_table(
            fam.options, "option"))
    return "\n".join(parts)


def option_table(options: tuple[Option, ...], first: str) -> str:
    """Options (or settings) as one Markdown table."""
    return "\n".join([f"| {first} | type | default | unit | meaning |", "|---|---|---|---|---|"]
                     + [f"| `{o.name}` | {o.type.__name__} | {o.default} | {o.unit} | "
                        f"{o.doc} |" for o in options]) + "\n"


def formulation_markdown() -> str:
    parts = [_INTRO, "## Core (engine)\n", inspect.cleandoc(build.__doc__ or "") + "\n",
             symbol_table(CORE_SYMBOLS), "\nThe default formulation, in build order: "
             + ", ".join(f"`{f.name}`" for f in default_families()) + ".\n"]
    for fam in default_families():
        parts.append("\n" + family_markdown(fam))
    parts.append("\n" + scenarios_markdown())
    return "\n".join(parts)


def scenarios_markdown() -> str:
    """The engine's supply-shock scenarios (allocator.engine.stochastic): math, symbols and
    settings."""
    stage2 = [f.name for f in default_families() if f.stage == 2]
    parts = ["## Supply-shock scenarios (engine, `shocks.csv`)\n",
             inspect.cleandoc(stochastic.__doc__ or "") + "\n",
             "Second-stage families of the default formulation (`stage = 2`): "
             + ", ".join(f"`{n}`" for n in stage2) + ".\n",
             symbol_table(stochastic.SCENARIO_SYMBOLS),
             "\nSettings (`[scenarios]` in instance.toml):\n\n"
             + option_table(ENGINE_SECTIONS["scenarios"], "setting")]
    return "\n".join(parts)


def instance_format_markdown(current: str) -> str:
    """``current`` with the generated table reference between the markers replaced."""
    head, _, rest = current.partition(BEGIN)
    _, _, tail = rest.partition(END)
    schema = merged(default_families())
    return f"{head}{BEGIN}\n\n{markdown_reference(schema)}{END}{tail}"


def main() -> int:
    FORMULATION.write_text(formulation_markdown(), encoding="utf-8")
    if INSTANCE_FORMAT.exists():
        text = INSTANCE_FORMAT.read_text(encoding="utf-8")
        INSTANCE_FORMAT.write_text(instance_format_markdown(text), encoding="utf-8")
    print(f"wrote {FORMULATION} and the tables of {INSTANCE_FORMAT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
