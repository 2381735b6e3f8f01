r"""Import J.E. Beasley's OR-Library capacitated warehouse location files as instance folders.

The OR-Library problem (Beasley 1988; ``cap41`` ... ``cap134``, ``capa``/``capb``/``capc``):

$$
\min \sum_i f_i y_i + \sum_{ij} c_{ij} x_{ij} \quad \text{s.t.} \quad
\sum_i x_{ij} = 1,\quad \sum_j d_j x_{ij} \le s_i y_i,\quad 0 \le x_{ij} \le 1,\quad
y_i \in \{0, 1\}
$$

($x_{ij}$ the fraction of customer j's demand that warehouse i serves: demand may be split)
is a single-industry allocation with located markets. It maps onto an ordinary instance
folder, with no special code in the model:

* one industry (``goods``) with no capex, no minimum scale and no fixed cost of its own;
* warehouse i -> candidate region ``w<i>`` (``sites.csv``: ``fixed_cost`` $f_i$,
  ``max_capacity`` $s_i$); ``[sites] candidates = "listed"`` keeps customers from hosting;
* customer j -> market region ``c<j>`` (``markets.csv`` demand $d_j$);
* the cost $c_{ij}$ of serving ALL of j's demand from i -> ``arcs.csv`` ``unit_cost``
  $c_{ij} / d_j$ on the arc ``w<i> -> c<j>`` (shipping $d_j x_{ij}$ units costs
  $c_{ij} x_{ij}$);
* the families that do not apply (talent, funding, duplication, neighbours, policy) are
  switched off in ``[families] without``; ``[markets] strengthen = true`` adds the classic
  strong linking ``ship <= demand * hosts``; ``[solver] mip_gap = 0`` because the published
  values are proven optima.

Numbers are written with ``repr`` (the shortest text that reads back to the same float), so
nothing is lost on the way. Every problem in the file is reported with its line (exit code 2).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from allocator.core.errors import InputError, Problem
from allocator.core.outfolder import write_folder

INDUSTRY = "goods"
#: families of the default formulation that have nothing to say about warehouse location
WITHOUT = ("talent", "funding", "duplication", "duplication_neighbors", "policy")
#: the four capacities OR-Library defines for each of capa, capb, capc
CAPACITIES = {"capa": (8000, 10000, 12000, 14000), "capb": (5000, 6000, 7000, 8000),
              "capc": (5000, 5750, 6500, 7250)}


@dataclass
class CapProblem:
    """One capacitated warehouse location problem as read from the file."""

    name: str
    capacity: list[float]  # s_i
    fixed_cost: list[float]  # f_i
    demand: list[float]  # d_j
    cost: list[list[float]]  # cost[j][i] = c_ij: all of j's demand served by i

    @property
    def warehouses(self) -> int:
        return len(self.capacity)

    @property
    def customers(self) -> int:
        return len(self.demand)


class _Tokens:
    """Whitespace-separated tokens with the line each came from (line breaks carry no
    meaning in the format, but a problem must say where it is)."""

    def __init__(self, text: str, file: str) -> None:
        self.items = [(tok, n) for n, line in enumerate(text.splitlines(), start=1)
                      for tok in line.split()]
        self.pos = 0
        self.file = file
        self.ended = False
        self.problems: list[Problem] = []

    def next(self, what: str) -> tuple[str, int] | None:
        """The next token, or None (reported once) when the file has ended."""
        if self.pos >= len(self.items):
            if not self.ended:
                last = self.items[-1][1] if self.items else 1
                self.problem(last, f"the file ends where {what} was expected", None)
            self.ended = True
            return None
        item = self.items[self.pos]
        self.pos += 1
        return item

    def problem(self, line: int, message: str, value: object) -> None:
        self.problems.append(Problem(self.file, message, value=value,
                                     location=f"{self.file}, line {line}"))

    def number(self, what: str, *, whole: bool = False,
               item: tuple[str, int] | None = None) -> float:
        """The next token as a finite number >= 0 (NaN, reported, when it is not one)."""
        item = item or self.next(what)
        if item is None:
            return math.nan
        tok, line = item
        try:
            value = float(tok)
        except ValueError:
            self.problem(line, f"{what}: expected a number", tok)
            return math.nan
        if not math.isfinite(value) or value < 0:
            self.problem(line, f"{what}: expected a finite number >= 0", tok)
            return math.nan
        if whole and not value.is_integer():
            self.problem(line, f"{what}: expected a whole number", tok)
            return math.nan
        return value


def read_cap(path: str | Path, capacity: float | None = None) -> CapProblem:
    """Read an OR-Library ``cap*`` file. ``capacity`` replaces the literal word
    ``capacity`` that capa/capb/capc hold in every capacity field (it must then be given,
    and it may not be given for files with numeric capacities). Raises :class:`InputError`
    listing every problem with its line."""
    path = Path(path)
    file = path.name
    tokens = _Tokens(path.read_text(encoding="utf-8", errors="replace"), file)
    m = tokens.number("the number of warehouses m", whole=True)
    n = tokens.number("the number of customers n", whole=True)
    if tokens.problems or m < 1 or n < 1:
        if not tokens.problems:
            tokens.problem(1, "the numbers of warehouses and customers must be at least 1",
                           f"{m:g} {n:g}")
        raise InputError(tokens.problems)
    caps: list[float] = []
    fixed: list[float] = []
    literal = False
    for i in range(1, int(m) + 1):
        item = tokens.next(f"the capacity of warehouse {i}")
        if item is not None and item[0].lower() == "capacity":
            if capacity is None and not literal:
                choices = "; ".join(f"{k}: {', '.join(map(str, v))}"
                                    for k, v in CAPACITIES.items())
                tokens.problem(item[1], "the capacity fields hold the word 'capacity' (capa, "
                               "capb, capc): choose the capacity with --capacity N "
                               f"(OR-Library's values: {choices})", item[0])
            literal = True
            caps.append(math.nan if capacity is None else float(capacity))
        else:
            caps.append(tokens.number(f"the capacity of warehouse {i}", item=item))
        fixed.append(tokens.number(f"the fixed cost of warehouse {i}"))
    if capacity is not None and not literal:
        tokens.problem(1, "--capacity is only for files whose capacity fields hold the word "
                       "'capacity' (capa, capb, capc); this file gives its capacities",
                       capacity)
    demand: list[float] = []
    cost: list[list[float]] = []
    for j in range(1, int(n) + 1):
        demand.append(tokens.number(f"the demand of customer {j}"))
        cost.append([tokens.number(f"the cost of serving customer {j} from warehouse {i}")
                     for i in range(1, int(m) + 1)])
    if tokens.pos < len(tokens.items):
        tok, line = tokens.items[tokens.pos]
        tokens.problem(line, f"unexpected text after the last of the {int(n)} customers: "
                       "the file has more numbers than m and n announce", tok)
    if tokens.problems:
        raise InputError(tokens.problems)
    name = path.stem if capacity is None else f"{path.stem}-{_plain(capacity)}"
    return CapProblem(name, caps, fixed, demand, cost)


def _plain(value: float) -> str:
    """``repr`` of a number, without a trailing ``.0`` for whole numbers."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def write_instance(problem: CapProblem, folder: str | Path, *, force: bool = False,
                   reading: Iterable[str | Path] = ()) -> Path:
    """Write ``problem`` as an instance folder, atomically and only where allocator may write
    (:mod:`allocator.core.outfolder`: a new or empty folder, one allocator wrote, or with
    ``force`` allocator's files into another; ``reading``: the file read)."""
    return write_folder(folder, lambda tmp: _write_files(problem, tmp), force=force,
                        reading=reading)


def _ids(prefix: str, count: int) -> list[str]:
    width = len(str(count))
    return [f"{prefix}{k:0{width}d}" for k in range(1, count + 1)]


def _write_files(p: CapProblem, folder: Path) -> None:
    warehouses, customers = _ids("w", p.warehouses), _ids("c", p.customers)
    without = ", ".join(f'"{w}"' for w in WITHOUT)
    (folder / "instance.toml").write_text(
        f'name = "{p.name}"\n'
        f'description = """OR-Library capacitated warehouse location {p.name} (Beasley 1988), '
        f"converted by `allocator import orlib-cap`: {p.warehouses} warehouses -> candidate "
        f"regions w*, {p.customers} customers -> market regions c*. Coordinates are "
        'placeholders: every cost is an arcs.csv unit_cost."""\n\n'
        "[units]\n"
        'money = "cost"\n'
        'capacity = "demand units"\n\n'
        "[solver]\n"
        "mip_gap = 0.0  # the published values are proven optima\n\n"
        "[sites]\n"
        'candidates = "listed"  # only warehouses may host\n\n'
        "[families]\n"
        f"without = [{without}]\n\n"
        "[markets]\n"
        "strengthen = true  # ship <= demand * hosts: the strong formulation\n",
        encoding="utf-8")
    lines = ["id,name,group,latitude,longitude,funding_budget"]
    lines += [f"{w},warehouse {k},warehouses,0,0,0" for k, w in enumerate(warehouses, 1)]
    lines += [f"{c},customer {k},customers,0,0,0" for k, c in enumerate(customers, 1)]
    _write(folder / "regions.csv", lines)
    _write(folder / "industries.csv", [
        "id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts",
        f"{INDUSTRY},goods,,0,0,0,{p.warehouses}"])
    _write(folder / "sites.csv", ["industry,region,max_capacity,fixed_cost"] + [
        f"{INDUSTRY},{w},{_plain(s)},{_plain(f)}"
        for w, s, f in zip(warehouses, p.capacity, p.fixed_cost, strict=True)])
    _write(folder / "markets.csv", ["industry,region,demand"] + [
        f"{INDUSTRY},{c},{_plain(d)}" for c, d in zip(customers, p.demand, strict=True)])
    arcs = ["from,to,unit_cost"]
    for c, d, row in zip(customers, p.demand, p.cost, strict=True):
        if d > 0:  # a customer without demand has nothing to ship
            arcs += [f"{w},{c},{c_ij / d!r}" for w, c_ij in zip(warehouses, row, strict=True)]
    _write(folder / "arcs.csv", arcs)
    _write(folder / "talent_supply.csv", ["region,talent_class,supply"])
    _write(folder / "talent_need.csv", ["industry,talent_class,need"])


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def import_cap(path: str | Path, folder: str | Path, capacity: float | None = None) -> Path:
    """Read an OR-Library cap file and write it as an instance folder; returns the folder."""
    return write_instance(read_cap(path, capacity), folder)


def published_optima(capopt: str | Path) -> dict[str, float]:
    """The optima of ``capopt.txt``: ``{"cap41": ..., "capa-8000": ..., ...}``."""
    optima: dict[str, float] = {}
    current = ""
    for line in Path(capopt).read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split()
        if not parts:
            break  # the table ends at the first blank line; a note follows
        if not parts[0][0].isdigit():
            current = parts.pop(0)
        if "(capacity" in line:
            cap = line.split("(capacity")[1].strip(" )")
            optima[f"{current}-{cap}"] = float(parts[0])
        else:
            optima[current] = float(parts[0])
    return optima
