"""What docs/DESIGN.md promises of the code's shape: no import cycles inside etl/, and no table,
field or raw path written in the code that schemas/ does not define."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "etl"


def imports_of(path: Path) -> set[str]:
    """The etl modules that a module imports, at its top or inside functions."""
    name = ".".join(path.relative_to(REPO).with_suffix("").parts)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
            found |= {f"{base}.{alias.name}" for alias in node.names} if node.module is None else {f"{base}.{node.module}"}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("etl.")}
    return found - {name}


def test_no_import_cycles():
    graph = {".".join(p.relative_to(REPO).with_suffix("").parts): imports_of(p) for p in PACKAGE.rglob("*.py")}
    graph = {module: {d for d in deps if d in graph} for module, deps in graph.items()}
    cycles, done = [], set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycles.append(path[path.index(module):] + [module])
            return
        if module in done:
            return
        for dependency in sorted(graph[module]):
            visit(dependency, path + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == []


def test_the_code_names_no_raw_path_or_table_list():
    """Raw layout and the table list live in schemas/ only."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text("utf-8")
        for written in ('"raw/sources/', '"raw/jurisdictions/', "'raw/sources/", "'raw/jurisdictions/", '("jurisdictions", "actions", "citations"'):
            assert written not in text, f"{path.relative_to(REPO)} writes {written}"
