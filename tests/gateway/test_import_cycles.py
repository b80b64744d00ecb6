"""No two files of the project import each other, not even lazily (tools/import_cycles.py).

Function-level imports, `if TYPE_CHECKING:` imports and `strawberry.lazy("...")` strings all
count: they hide a cycle from Python at import time, not from the design. The checker is tested
on a throwaway package too, so that an empty report means "no cycle" and not "nothing seen".
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.import_cycles import (
    REPO_ROOT,
    build_import_graph,
    discover_root_packages,
    find_cycles,
)

FIXTURE = "hidden_cycles_fixture"


def _write_package(root: Path, files: dict[str, str]) -> None:
    package = root / FIXTURE
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, source in files.items():
        (package / f"{name}.py").write_text(source)


def test_the_project_has_no_import_cycle() -> None:
    cycles = find_cycles(discover_root_packages(REPO_ROOT), REPO_ROOT)
    assert cycles == [], "import cycles (python -m tools.import_cycles shows the lines):\n" + (
        "\n".join(" -> ".join(chain) for chain in cycles)
    )


def test_every_file_of_the_project_is_in_the_graph() -> None:
    graph = build_import_graph(discover_root_packages(REPO_ROOT), REPO_ROOT)
    assert graph.unanalysed == [], "grimp skipped these (a directory without __init__.py?)"


def test_the_checker_sees_cycles_behind_lazy_imports(tmp_path: Path) -> None:
    _write_package(
        tmp_path,
        {
            # a <-> b: each imports the other only inside a function.
            "a": (
                "def use_b() -> int:\n"
                f"    from {FIXTURE} import b\n"
                "\n"
                "    return b.VALUE\n"
                "\n"
                "\n"
                "VALUE = 1\n"
            ),
            "b": (
                "def use_a() -> int:\n"
                f"    from {FIXTURE}.a import VALUE\n"
                "\n"
                "    return VALUE\n"
                "\n"
                "\n"
                "VALUE = 2\n"
            ),
            # c <-> d: no import between them at all, only Strawberry lazy references (one
            # absolute, one relative).
            "c": (
                "from typing import Annotated\n"
                "\n"
                "import strawberry\n"
                "\n"
                f'DRef = Annotated["D", strawberry.lazy("{FIXTURE}.d")]\n'
            ),
            "d": (
                "from typing import Annotated\n"
                "\n"
                "from strawberry import lazy\n"
                "\n"
                'CRef = Annotated["C", lazy(".c")]\n'
            ),
            # f <-> g: f imports g for real, g imports f for type checkers only.
            "f": f"from {FIXTURE} import g\n",
            "g": (
                "from typing import TYPE_CHECKING\n"
                "\n"
                "if TYPE_CHECKING:\n"
                f"    from {FIXTURE}.f import Thing\n"
            ),
            # e imports a and c at module level, and nothing imports e: no cycle of its own.
            "e": f"from {FIXTURE} import a, c\n",
        },
    )
    path_before = list(sys.path)

    cycles = find_cycles([FIXTURE], tmp_path)

    assert sorted(cycles) == [
        [f"{FIXTURE}.a", f"{FIXTURE}.b", f"{FIXTURE}.a"],
        [f"{FIXTURE}.c", f"{FIXTURE}.d", f"{FIXTURE}.c"],
        [f"{FIXTURE}.f", f"{FIXTURE}.g", f"{FIXTURE}.f"],
    ]
    assert sys.path == path_before
    assert FIXTURE not in sys.modules  # read, never imported


def test_the_checker_reports_nothing_for_an_acyclic_package(tmp_path: Path) -> None:
    _write_package(
        tmp_path,
        {
            "a": f"from {FIXTURE} import b\n",
            "b": (
                "from typing import TYPE_CHECKING\n"
                "\n"
                "if TYPE_CHECKING:\n"
                f"    from {FIXTURE} import c\n"
            ),
            "c": "",
        },
    )

    assert find_cycles([FIXTURE], tmp_path) == []


def test_the_checker_counts_the_package_init_an_import_runs(tmp_path: Path) -> None:
    """Importing `pkg.x.sub` from outside `pkg.x` runs pkg/x/__init__.py first."""
    _write_package(tmp_path, {})
    (tmp_path / FIXTURE / "x").mkdir()
    (tmp_path / FIXTURE / "x" / "__init__.py").write_text(f"from {FIXTURE} import y\n")
    (tmp_path / FIXTURE / "x" / "sub.py").write_text("")
    (tmp_path / FIXTURE / "y.py").write_text(f"from {FIXTURE}.x.sub import *\n")

    assert find_cycles([FIXTURE], tmp_path) == [[f"{FIXTURE}.x", f"{FIXTURE}.y", f"{FIXTURE}.x"]]
