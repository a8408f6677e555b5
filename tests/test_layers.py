"""The walls between packages: every import of every product file (those inside functions too) points
down the layers, no two modules import each other round a circle, and third-party libraries stay in
the package that owns them.

    entrypoints → demo → screens → kiosk → offline → protocol → assets
                                     ↑                    ↑
                                  hardware               hub

Screens may also read the catalogue (``protocol``) and the request states (``offline.sync_types``)
they draw; ``hardware`` sees only the core's ports and errors.

A failure names the file and line of the import that runs the wrong way.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("entrypoints", "demo", "screens", "kiosk", "hardware", "offline", "protocol", "hub", "assets")

# What each package may import besides itself. ``hardware`` sees only the core's ports and errors.
ALLOWED: dict[str, set[str]] = {
    "entrypoints": {"demo", "screens", "kiosk", "hardware", "offline", "protocol", "hub", "assets"},
    "demo": {"screens", "kiosk", "hardware", "offline", "protocol", "hub", "assets"},
    "screens": {"kiosk", "protocol", "offline.sync_types", "assets"},  # the catalogue and the request states it draws
    "kiosk": {"offline", "protocol", "assets"},
    "hardware": {"kiosk.ports", "kiosk.errors", "assets"},
    "offline": {"protocol", "assets"},
    "hub": {"protocol", "assets"},
    "protocol": {"assets"},
    "assets": set(),
}

# Third-party libraries that belong to one layer: a device library outside its adapter, Kivy in the
# core or a web framework on a kiosk would be a leak.
OWNERS: dict[str, set[str]] = {
    "kivy": {"screens", "demo", "entrypoints"},
    "smartcard": {"hardware"},
    "pkcs11": {"hardware"},
    "escpos": {"hardware"},
    "usb": {"hardware"},
    "serial": {"hardware"},
    "fastapi": {"hub"},
    "uvicorn": {"hub", "demo"},  # the demo serves its local hub from a thread
    "starlette": {"hub"},
    "sqlalchemy": {"hub"},   # the kiosk's own SQLite files go through sqlite3 and sqlite-utils
    "alembic": {"hub"},
    "psycopg": {"hub"},
    "prometheus_client": {"hub"},
    "argon2": {"hub"},  # the back office's password hashes
    "pyotp": {"hub"},
}


@dataclass(frozen=True)
class Import:
    """One import statement's target, and where it is."""

    source: Path
    line: int
    target: str
    names: tuple[str, ...] = ()  # what ``from target import ...`` names (modules among them count too)

    @property
    def where(self) -> str:
        return f"{self.source.relative_to(REPO)}:{self.line} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_files() -> list[Path]:
    """Every Python file of the product packages."""
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def imports_of(path: Path) -> list[Import]:
    """Every import in ``path``, at module level or inside functions, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            found.append(Import(path, node.lineno, base, tuple(alias.name for alias in node.names)))
    return found


def _allowed(source_package: str, target: str) -> bool:
    top = target.split(".")[0]
    if top == source_package:
        return True
    rules = ALLOWED[source_package]
    return top in rules or any(target == rule or target.startswith(rule + ".") for rule in rules if "." in rule)


def test_every_import_points_down_the_layers() -> None:
    """GIVEN every product file WHEN its imports are read THEN none reaches a package above its own."""
    wrong = [
        imp.where
        for path in product_files()
        for imp in imports_of(path)
        if imp.target.split(".")[0] in PACKAGES
        and not _allowed(path.relative_to(REPO).parts[0], imp.target)
    ]
    assert wrong == [], "imports against the layers:\n" + "\n".join(wrong)


def test_third_party_libraries_stay_with_their_owner() -> None:
    """GIVEN every product file WHEN its imports are read THEN Kivy, device and web libraries appear only
    in the packages that own them."""
    wrong = [
        imp.where
        for path in product_files()
        for imp in imports_of(path)
        if imp.target.split(".")[0] in OWNERS
        and path.relative_to(REPO).parts[0] not in OWNERS[imp.target.split(".")[0]]
    ]
    assert wrong == [], "libraries outside their layer:\n" + "\n".join(wrong)


def _module_graph() -> dict[str, dict[str, Import]]:
    modules = {_module_name(p): p for p in product_files()}
    graph: dict[str, dict[str, Import]] = {name: {} for name in modules}
    for name, path in modules.items():
        for imp in imports_of(path):
            # ``from pkg import module`` imports the module; ``import pkg.module.Name`` names pkg.module
            for target in [f"{imp.target}.{n}" for n in imp.names] or [imp.target]:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and modules[target].name != "__init__.py":
                    graph[name].setdefault(target, imp)
    return graph


def _cycles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other_in_a_circle() -> None:
    """GIVEN the import graph of every product module WHEN searched for cycles THEN there are none."""
    graph = _module_graph()
    described = []
    for component in _cycles(graph):
        members = set(component)
        edges = [graph[a][b].where for a in component for b in graph[a] if b in members]
        described.append(" ↔ ".join(component) + "\n    " + "\n    ".join(edges))
    assert described == [], "import cycles:\n" + "\n".join(described)


@pytest.mark.parametrize("bad", [
    ("kiosk", "screens.app"), ("kiosk", "hardware.pkcs11_card"), ("hardware", "kiosk.journey"),
    ("hub", "kiosk"), ("offline", "kiosk.config"), ("protocol", "offline.outbox"), ("screens", "hub"),
])
def test_the_rules_refuse_arrows_that_run_back_up(bad: tuple[str, str]) -> None:
    """GIVEN a sample of arrows that run the wrong way WHEN checked THEN each is refused (the check can fail)."""
    assert not _allowed(*bad)


def test_the_cycle_finder_finds_a_cycle() -> None:
    """GIVEN a graph a → b → c → a, d → a WHEN searched THEN the one cycle a, b, c is found."""
    imp = Import(REPO / "x.py", 1, "")
    graph = {"a": {"b": imp}, "b": {"c": imp}, "c": {"a": imp}, "d": {"a": imp}}
    assert _cycles(graph) == [["a", "b", "c"]]
