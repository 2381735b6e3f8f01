"""The package is built in layers whose imports run one way (docs/architecture.md).

Read from the source with :mod:`ast` (what every module imports, at the top and inside
functions), and checked at run time by importing every module in a fresh interpreter:

* no cycle among the modules;
* no module imports a layer above its own;
* no import inside a function, except of the heavy optional dependencies listed below;
* no module imports another module's private (``_underscore``) name;
* the engine, the input and the analysis layers name no family: families are found through
  the default list (``allocator.models``) and reached through the hooks of the contract;
* neither does the checker (``allocator/verify``): a family's rules are its own
  ``verify.py``, which imports nothing of the model.

A family's folder holds files of three layers (:func:`layer`): ``model.py`` is the models
layer, ``verify.py`` the checker's, ``report.py`` the output layer's; each is held to its
layer's imports like any other module.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: the layers, bottom first: a module may import its own layer and those below it
LAYERS = ["core", "models", "input", "engine", "analysis", "output", "cli"]
#: beside the layers: a tool may use every layer below the command line; the checker reads
#: instances and results through the input layer only (it must not reach Pyomo or HiGHS),
#: and the families' rules through ``allocator.models`` (a family's verify.py, by name)
BESIDE = {"tools": "output", "verify": "input"}
#: the layer of each file in a family's folder (``models/<family>/<file>.py``)
FAMILY_FILES = {"model": "models", "verify": "verify", "report": "output"}
#: imports allowed inside a function: in a command (``allocator.cli``), the modules that
#: run it, imported when the command runs, so that ``allocator verify`` never loads Pyomo or
#: HiGHS and ``allocator --help`` answers at once
LAZY_OK = {"cli": re.compile(r"^allocator(\.|$)")}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "allocator").rglob("*.py")):
        rel = path.relative_to(ROOT / "allocator").with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        found[".".join(["allocator", *parts])] = path
    for path in sorted((ROOT / "models").rglob("*.py")):
        rel = path.relative_to(ROOT / "models").with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        found[".".join(["allocator", "models", *parts])] = path
    return found


MODULES = _modules()


def layer(module: str) -> str:
    """The layer of ``allocator.<layer>....``; ``api`` for the package itself. A file in a
    family's folder, ``allocator.models.<family>.<file>``, is in the layer of its name
    (:data:`FAMILY_FILES`; the folder's ``__init__`` is the models layer)."""
    parts = module.split(".")
    if len(parts) == 4 and parts[1] == "models":
        return FAMILY_FILES[parts[3]]
    return parts[1] if len(parts) > 1 and parts[1] != "__main__" else "api"


def rank(name: str) -> int:
    if name in BESIDE:
        return LAYERS.index(BESIDE[name]) + 0.5  # type: ignore[return-value]
    if name == "api":
        return len(LAYERS)
    return LAYERS.index(name)


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _in_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return True
    return False


def imports(module: str) -> list[tuple[str, list[str], int, bool]]:
    """(imported module, names taken from it, line, inside a function) of one module, without
    those only for type checkers."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if _under_type_checking(node, parents):
            continue
        inner = _in_function(node, parents)
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno, inner) for a in node.names]
            continue
        base = node.module or ""
        if node.level:
            up = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*up, base] if base else up)
        names = [a.name for a in node.names]
        # ``from allocator.x import y`` where y is a submodule imports allocator.x.y
        subs = [f"{base}.{n}" for n in names if f"{base}.{n}" in MODULES]
        taken = [n for n in names if f"{base}.{n}" not in MODULES]
        if taken or not subs:
            out.append((base, taken, node.lineno, inner))
        out += [(s, [], node.lineno, inner) for s in subs]
    return out


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module in MODULES:
        edges[module] = {m for m, _, _, inner in imports(module)
                         if m in MODULES and m != module and not inner}
    return edges


def test_every_module_is_in_a_layer() -> None:
    known = set(LAYERS) | set(BESIDE) | {"api"}
    stray = [m for m in MODULES if m.count(".") == 3 and m.startswith("allocator.models.")
             and m.rsplit(".", 1)[1] not in FAMILY_FILES]
    assert stray == [], f"files of a family folder other than {sorted(FAMILY_FILES)}"
    assert {layer(m) for m in MODULES} <= known


def test_a_family_folder_maps_its_files_to_their_layers() -> None:
    assert layer("allocator.models.talent.model") == "models"
    assert layer("allocator.models.talent.verify") == "verify"
    assert layer("allocator.models.talent.report") == "output"
    assert layer("allocator.models.talent") == "models"
    assert layer("allocator.models") == "models"
    # every built-in family has its model and its rules for allocator verify
    for name in _family_names():
        assert f"allocator.models.{name}.model" in MODULES
        assert f"allocator.models.{name}.verify" in MODULES


def test_no_import_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == []


def test_imports_run_down_the_layers() -> None:
    upward = []
    for module in MODULES:
        here = layer(module)
        for target, _, line, _ in imports(module):
            if not target.startswith("allocator.") or target not in MODULES:
                continue
            there = layer(target)
            if there != here and rank(there) > rank(here):
                upward.append(f"{MODULES[module].relative_to(ROOT)}:{line} ({here}) imports "
                              f"{target} ({there})")
    assert upward == []


def test_no_imports_inside_functions() -> None:
    inner = [f"{MODULES[m].relative_to(ROOT)}:{line} imports {target}"
             for m in MODULES for target, _, line, is_inner in imports(m)
             if is_inner and not (layer(m) in LAZY_OK and LAZY_OK[layer(m)].match(target))]
    assert inner == []


def test_no_private_names_across_modules() -> None:
    private = [f"{MODULES[m].relative_to(ROOT)}:{line} takes {n} from {target}"
               for m in MODULES for target, names, line, _ in imports(m)
               if target.startswith("allocator") and target != m
               for n in names if n.startswith("_")]
    assert private == []


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    """Every module imports, all of them in one new process in an order where nothing has
    been imported before (sorted by name: ``allocator.analysis`` first, the bottom layer
    late), and each entry point (the API, the command line, the checker, the family list) in
    a process of its own. With no cycle (above), the order cannot matter; this catches a
    module that does not import at all."""
    script = ("import importlib, sys\n"
              "failed = []\n"
              "for name in sys.argv[1:]:\n"
              "    try:\n"
              "        importlib.import_module(name)\n"
              "    except Exception as exc:\n"
              "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
              "print('\\n'.join(failed))\n")
    everything = sorted(m for m in MODULES if not m.endswith("__main__"))
    runs = [everything, ["allocator"], ["allocator.cli"], ["allocator.verify"],
            ["allocator.models"]]
    failed = []
    for names in runs:
        done = subprocess.run([sys.executable, "-c", script, *names], capture_output=True,
                              text=True, timeout=300)
        if done.stdout.strip() or done.returncode:
            failed.append(done.stdout.strip() or done.stderr.strip()[-300:])
    assert failed == []


def _family_names() -> list[str]:
    import allocator.models

    return [f.name for f in allocator.models.default_families()]


def test_the_checker_shares_no_code_with_the_models() -> None:
    """The checker (``allocator/verify`` and every family's ``verify.py``) is a second
    statement of the formulation: it imports no family's ``model.py`` (nor Pyomo or HiGHS),
    and a family's ``model.py`` imports no checker. (tests/test_verify.py imports them in a
    fresh interpreter and looks at what was loaded.)"""
    found = []
    for module, path in MODULES.items():
        for target, _, line, _ in imports(module):
            where = f"{path.relative_to(ROOT)}:{line} imports {target}"
            if layer(module) == "verify" and (
                    target.split(".")[0] in ("pyomo", "highspy")
                    or (target.startswith("allocator.models.") and layer(target) != "verify")):
                found.append(where)
            if layer(module) == "models" and (target == "allocator.verify"
                                              or target.startswith("allocator.verify.")
                                              or layer(target) == "verify"):
                found.append(where)
    assert found == []


#: words the checker uses that happen to be family names too: the shared decision
#: ``capacity`` (q, a column of allocation.csv and a unit) and markets.csv, a core table
CORE_WORDS = {"capacity", "markets"}


def test_the_checker_names_no_family() -> None:
    """What remains in ``allocator/verify`` (the engine's rules, reading, scenarios) names
    no built-in family: no string literal equal to a family name (other than
    :data:`CORE_WORDS`), no ``allocator.models.<family>`` import. A family's rules, option
    defaults, weights and columns are in its own ``verify.py``."""
    families = set(_family_names()) - CORE_WORDS
    assert set(_family_names()) >= CORE_WORDS  # else the exception is stale
    found = []
    for module, path in MODULES.items():
        if not module.startswith("allocator.verify"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in families:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
        for target, _, line, _ in imports(module):
            if target.startswith("allocator.models."):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert found == []


@pytest.mark.parametrize("where", ["input", "engine", "analysis"])
def test_the_engine_names_no_family(where: str) -> None:
    """A family is reached through the contract's hooks, never by name: no string literal
    equal to a family name, no ``allocator.models.<family>`` import, in the input, engine or
    analysis layers. (Table names that a family declares are its own business: the engine
    reads them through the family's hooks.)"""
    families = set(_family_names())
    found = []
    for module, path in MODULES.items():
        if layer(module) != where:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in families:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
        for target, _, line, _ in imports(module):
            if target.startswith("allocator.models."):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert found == []
