"""Prove that no two files of the project import each other, however lazily.

Why: import-linter's contracts (pyproject.toml) leave `if TYPE_CHECKING:` imports out, and Python
itself only notices a cycle when both halves run at import time. A cycle hidden behind a
function-level import, a type-checking block or a `strawberry.lazy("pkg.mod")` string still ties
the files together: none of them can move, be tested or be loaded without the others, and the
hidden half becomes a real ImportError the day someone hoists it. So here every one of those is an
edge, and the graph of files must have no cycle at all.

Edges come from grimp (module-level, function-level and TYPE_CHECKING imports alike) plus an AST
scan for Strawberry lazy references: `lazy("...")` / `strawberry.lazy("...")` calls (relative
paths resolved the way Strawberry resolves them) and the older `LazyType["Name", "..."]`. A
package's `__init__` is a node of its own (`modules.user` is modules/user/__init__.py); an import
of `a.b.c` from outside `a` is an edge to `a.b.c` and to the `__init__`s of `a` and `a.b`, which
Python runs first. Imports of external packages are ignored.

Run from the repository root: `python -m tools.import_cycles`. Exit status 1 when a cycle exists;
2 when none was seen but some file under the root packages was not in the graph (grimp skips a
directory without __init__.py), since nothing is then proven about that file; 0 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import grimp

REPO_ROOT = Path(__file__).resolve().parent.parent
# Top-level directories that are never root packages of the application.
NOT_ROOT_PACKAGES = frozenset({"tests", "bench", "tools", ".venv"})

MODULE_LEVEL = "module level"
IN_FUNCTION = "in a function"
TYPE_CHECKING_ONLY = "under TYPE_CHECKING"
LAZY_REFERENCE = "lazy type reference"


@dataclass(frozen=True)
class ImportSite:
    """One statement, or one lazy reference, behind an edge of the graph."""

    line: int
    kind: str
    text: str


@dataclass
class ImportGraph:
    """The project's file-level modules and which of them import which."""

    modules: set[str]
    edges: dict[str, set[str]] = field(default_factory=dict)
    sites: dict[tuple[str, str], list[ImportSite]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Files under the root packages that grimp left out (a directory without __init__.py, say):
    # none of their imports is in the graph, so no verdict covers them.
    unanalysed: list[str] = field(default_factory=list)

    @property
    def edge_count(self) -> int:
        return sum(len(imported) for imported in self.edges.values())

    def add(self, importer: str, imported: str, site: ImportSite | None = None) -> None:
        """Record that `importer` depends on `imported`, and on the `__init__` of each package
        around `imported` that `importer` is not itself inside: loading `a.b.c` from outside
        runs `a/__init__.py` and `a/b/__init__.py` first, a dependency as real as the import."""
        self._link(importer, imported, site)
        package = imported.rpartition(".")[0]
        while package:
            if package in self.modules and not _is_within(importer, package):
                implicit = None
                if site is not None:
                    implicit = ImportSite(
                        site.line,
                        f"{site.kind}; loading {imported} runs this __init__ first",
                        site.text,
                    )
                self._link(importer, package, implicit)
            package = package.rpartition(".")[0]

    def _link(self, importer: str, imported: str, site: ImportSite | None) -> None:
        if importer == imported:  # a file reaching itself is no cycle
            return
        self.edges.setdefault(importer, set()).add(imported)
        if site is not None:
            self.sites.setdefault((importer, imported), []).append(site)


def _is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


class _FileScanner(ast.NodeVisitor):
    """In one file: when each import statement runs, and every Strawberry lazy reference."""

    def __init__(self) -> None:
        self.kinds: dict[int, str] = {}
        self.lazy_references: list[tuple[int, str]] = []
        self._context: list[str] = [MODULE_LEVEL]

    def _visit_within(self, kind: str, nodes: Iterable[ast.AST]) -> None:
        self._context.append(kind)
        for node in nodes:
            self.visit(node)
        self._context.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_function(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # Decorators and defaults run with the `def`, but they hold no import statement; only
        # lazy references may sit there, and those count wherever they are.
        self._context.append(IN_FUNCTION)
        self.generic_visit(node)
        self._context.pop()

    def visit_If(self, node: ast.If) -> None:
        if not _names(node.test, "TYPE_CHECKING"):
            self.generic_visit(node)
            return
        self.visit(node.test)
        self._visit_within(TYPE_CHECKING_ONLY, node.body)
        for child in node.orelse:  # the `else:` branch runs for real
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        self.kinds[node.lineno] = self._context[-1]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.kinds[node.lineno] = self._context[-1]

    def visit_Call(self, node: ast.Call) -> None:
        if _names(node.func, "lazy"):
            argument = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg == "module_path":
                    argument = keyword.value
            self._record_reference(node, argument)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if (
            _names(node.value, "LazyType")
            and isinstance(node.slice, ast.Tuple)
            and len(node.slice.elts) == 2
        ):
            self._record_reference(node, node.slice.elts[1])
        self.generic_visit(node)

    def _record_reference(self, node: ast.expr, argument: ast.expr | None) -> None:
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            self.lazy_references.append((node.lineno, argument.value))


def _names(node: ast.expr, name: str) -> bool:
    """Whether `node` is `name` or `something.name`."""
    if isinstance(node, ast.Name):
        return node.id == name
    return isinstance(node, ast.Attribute) and node.attr == name


def discover_root_packages(search_path: Path) -> list[str]:
    """The top-level packages of the application under `search_path` (tests and tools aside)."""
    return sorted(
        child.name
        for child in search_path.iterdir()
        if child.is_dir()
        and child.name.isidentifier()
        and child.name not in NOT_ROOT_PACKAGES
        and (child / "__init__.py").is_file()
    )


@contextmanager
def _first_on_sys_path(directory: Path) -> Iterator[None]:
    """grimp finds packages the way `import` does: make `directory` win, for the build only."""
    entry = str(directory)
    sys.path.insert(0, entry)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        if sys.path and sys.path[0] == entry:
            del sys.path[0]
        elif entry in sys.path:
            sys.path.remove(entry)


def _check_location(package: str, search_path: Path) -> None:
    """Refuse to analyse a same-named package found somewhere else (site-packages, say)."""
    expected = (search_path / package).resolve()
    spec = importlib.util.find_spec(package)
    found = [Path(p).resolve() for p in (spec.submodule_search_locations or [])] if spec else []
    if expected not in found:
        raise RuntimeError(f"package {package!r} is found at {found or 'no place'}, not {expected}")


def _module_file(module: str, search_path: Path) -> Path | None:
    base = search_path.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _resolve_reference(reference: str, module: str, is_package: bool) -> str | None:
    """The absolute module a lazy reference names (Strawberry resolves against `__package__`)."""
    if not reference.startswith("."):
        return reference
    package = module if is_package else module.rpartition(".")[0]
    try:
        return importlib.util.resolve_name(reference, package)
    except (ImportError, ValueError):
        return None


def _unanalysed_files(
    root_packages: Sequence[str], search_path: Path, modules: set[str]
) -> list[str]:
    """The importable .py files under the root packages that are not modules of the graph."""
    missing: list[str] = []
    for package in root_packages:
        for path in sorted((search_path / package).rglob("*.py")):
            relative = path.relative_to(search_path)
            parts = relative.with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if all(part.isidentifier() for part in parts) and ".".join(parts) not in modules:
                missing.append(str(relative))
    return missing


def build_import_graph(root_packages: Sequence[str], search_path: Path) -> ImportGraph:
    """Every import between the files of `root_packages`, lazy ones included, with its lines."""
    if not root_packages:
        raise ValueError("no root package to check")
    search_path = search_path.resolve()
    with _first_on_sys_path(search_path):
        for package in root_packages:
            _check_location(package, search_path)
        imports = grimp.build_graph(
            *root_packages,
            include_external_packages=False,
            exclude_type_checking_imports=False,
            cache_dir=None,  # no .grimp_cache left in the work tree
        )
    graph = ImportGraph(modules=set(imports.modules))
    graph.unanalysed = _unanalysed_files(root_packages, search_path, graph.modules)

    scans: dict[str, _FileScanner] = {}
    for module in sorted(graph.modules):
        path = _module_file(module, search_path)
        if path is None:
            graph.warnings.append(f"{module}: no file found, its lazy references are not scanned")
            continue
        scanner = _FileScanner()
        scanner.visit(ast.parse(path.read_bytes(), filename=str(path)))
        scans[module] = scanner
        for line, reference in scanner.lazy_references:
            target = _resolve_reference(reference, module, path.name == "__init__.py")
            if target in graph.modules:
                graph.add(module, target, ImportSite(line, LAZY_REFERENCE, repr(reference)))
            elif target is None or target.partition(".")[0] in root_packages:
                graph.warnings.append(
                    f"{module}:{line}: lazy reference {reference!r} names no analysed module"
                )

    for importer in sorted(graph.modules):
        scanned = scans.get(importer)
        for imported in sorted(imports.find_modules_directly_imported_by(importer)):
            details = imports.get_import_details(importer=importer, imported=imported)
            if not details:
                graph.add(importer, imported)
            for detail in details:
                line = int(detail["line_number"])
                kind = scanned.kinds.get(line, MODULE_LEVEL) if scanned else MODULE_LEVEL
                graph.add(importer, imported, ImportSite(line, kind, str(detail["line_contents"])))
    return graph


def strongly_connected_components(graph: ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit); each component sorted."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def successors(node: str) -> Iterator[str]:
        return iter(sorted(graph.edges.get(node, ())))

    for root in sorted(graph.modules):
        if root in index:
            continue
        index[root] = lowlink[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[str, Iterator[str]]] = [(root, successors(root))]
        while work:
            node, pending = work[-1]
            for successor in pending:
                if successor not in index:
                    index[successor] = lowlink[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, successors(successor)))
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _shortest_path(start: str, goal: str, graph: ImportGraph, within: set[str]) -> list[str]:
    """Breadth-first path start -> ... -> goal inside one component (one always exists)."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for successor in sorted(graph.edges.get(node, set()) & within):
            if successor not in previous:
                previous[successor] = node
                queue.append(successor)
    path: list[str] = []
    step: str | None = goal
    while step is not None:
        path.append(step)
        step = previous[step]
    return path[::-1]


def cycles_of(component: list[str], graph: ImportGraph) -> list[list[str]]:
    """For every import inside the component, the shortest cycle through it, as `a, b, ..., a`.

    Listing every elementary cycle can explode; this way each import that takes part in a cycle
    shows up in at least one chain, which is what has to change to break them all.
    """
    members = set(component)
    chains: dict[tuple[str, ...], list[str]] = {}
    for importer in component:
        for imported in sorted(graph.edges.get(importer, set()) & members):
            ring = [importer, *_shortest_path(imported, importer, graph, members)[:-1]]
            first = ring.index(min(ring))
            ring = ring[first:] + ring[:first]
            chains.setdefault(tuple(ring), [*ring, ring[0]])
    return sorted(chains.values(), key=lambda chain: (len(chain), chain))


def cyclic_components(graph: ImportGraph) -> list[list[str]]:
    """The strongly connected components with more than one file: each holds cycles."""
    return [component for component in strongly_connected_components(graph) if len(component) > 1]


def find_cycles(root_packages: list[str], search_path: Path) -> list[list[str]]:
    """Every import cycle between the files of `root_packages` under `search_path`."""
    graph = build_import_graph(root_packages, search_path)
    return [chain for part in cyclic_components(graph) for chain in cycles_of(part, graph)]


def _by_line(site: ImportSite) -> int:
    return site.line


def report(graph: ImportGraph) -> tuple[list[str], int]:
    """The printable report, and how many cycles it lists."""
    lines: list[str] = []
    components = cyclic_components(graph)
    count = 0
    for number, component in enumerate(components, start=1):
        lines.append(
            f"cycle group {number} of {len(components)}: {len(component)} files "
            f"({', '.join(component)})"
        )
        for chain in cycles_of(component, graph):
            count += 1
            lines.append(f"  {' -> '.join(chain)}")
            for importer, imported in pairwise(chain):
                lines.append(f"      {importer} -> {imported}")
                for site in sorted(graph.sites.get((importer, imported), []), key=_by_line):
                    lines.append(f"          line {site.line} ({site.kind}): {site.text}")
        lines.append("")
    if graph.unanalysed:
        lines.append(f"NOT ANALYSED, so not proven free of cycles ({len(graph.unanalysed)} files;")
        lines.append(
            "  grimp skips a directory without __init__.py, and every import in or to it):"
        )
        lines.extend(f"  {path}" for path in graph.unanalysed)
        lines.append("")
    summary = f"{len(graph.modules)} modules, {graph.edge_count} imports checked"
    if graph.unanalysed:
        summary += f", {len(graph.unanalysed)} files not analysed"
    lines.append(f"import cycles: {count} ({summary})")
    return lines, count


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status 0: no cycle; 1: cycles; 2: no cycle seen, but some files were not analysed."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.import_cycles",
        description="Fail when files of the project import each other, lazy imports included.",
    )
    parser.add_argument("packages", nargs="*", help="root packages (default: discovered)")
    parser.add_argument("--path", type=Path, default=REPO_ROOT, help="directory holding them")
    args = parser.parse_args(argv)
    search_path: Path = args.path.resolve()
    packages: list[str] = args.packages or discover_root_packages(search_path)

    graph = build_import_graph(packages, search_path)
    for warning in graph.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    lines, count = report(graph)
    print(f"root packages: {', '.join(packages)}")
    print("\n".join(lines))
    if count:
        return 1
    return 2 if graph.unanalysed else 0


if __name__ == "__main__":
    sys.exit(main())
