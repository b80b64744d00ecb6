"""Each import-linter contract breaks when its rule is broken, and names itself.

A copy of the project's packages gets one forbidden import at a time; `lint-imports` must then
report that contract BROKEN. So no contract in pyproject.toml is one that cannot fail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["config", "events", "infra", "modules", "request_state", "schema"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# (contract name as in pyproject.toml, file to change, the import that breaks the rule)
VIOLATIONS = [
    (
        "Layers: config, transports, root, modules, guard, kit, engine, events, request state",
        "request_state/__init__.py",
        "import events.outbox",
    ),
    (
        "Domain cores import no strawberry and no schema (only modules/*/graphql/ does)",
        "modules/user/selectors.py",
        "import strawberry",
    ),
    (
        "Guard, kit and engine import no module; the engine imports nothing of the project",
        "schema/kit/enums.py",
        "import modules.user.api",
    ),
    (
        "Layers: config, transports, root, modules, guard, kit, engine, events, request state",
        "schema/guard/cost.py",
        "import schema.root",
    ),
    (
        "The engine is a library: it imports nothing of the project",
        "schema/engine/hint_cache.py",
        "import request_state",
    ),
    (
        "The engine is used through its door (schema.engine), never its files",
        "schema/kit/cursors.py",
        "import schema.engine.plans",
    ),
    (
        "events and infra/functions import no module and no config",
        "infra/functions/shared/runtime.py",
        "import config.settings",
    ),
    (
        "infra/functions import nothing of the monolith, not even events or Django",
        "infra/functions/shared/gateway.py",
        "import events.envelope",
    ),
    (
        "A module reaches another only through its api.py (core) or graphql/types.py (face)",
        "modules/auth/services.py",
        "import modules.user.models",
    ),
    (
        "Allowed directions between modules (no cycles back)",
        "modules/user/api.py",
        "import modules.auth.api",
    ),
    # sample: begin
    (
        "distribution knows nothing of shipping, auth or ops",
        "modules/distribution/api.py",
        "import modules.shipping.api",
    ),
    # sample: end
    (
        "jobs knows no other module (modules register their job kinds through jobs' api)",
        "modules/jobs/api.py",
        "import modules.shipping.api",
    ),
    (
        "No module uses ops (it orchestrates the others)",
        "modules/user/api.py",
        "import modules.ops.graphql.types",
    ),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("contracts")
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    return copy


def broken_contracts(project: Path) -> set[str]:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # A name may wrap over lines in the report: join them before reading "<name> BROKEN".
    report = re.sub(r"\s*\n\s*", " ", result.stdout)
    names = {name for name, *_ in VIOLATIONS}
    broken = {name for name in names if f"{name} BROKEN" in report}
    assert (result.returncode != 0) == bool(broken), result.stdout[-2000:] + result.stderr
    return broken


def test_every_contract_is_kept_by_the_project_as_it_is(pristine: Path) -> None:
    assert broken_contracts(pristine) == set()


@pytest.mark.parametrize(
    ("contract", "path", "forbidden_import"), VIOLATIONS, ids=[v[1] for v in VIOLATIONS]
)
def test_a_forbidden_import_breaks_its_contract(
    pristine: Path, tmp_path: Path, contract: str, path: str, forbidden_import: str
) -> None:
    project = tmp_path / "project"
    shutil.copytree(pristine, project)
    changed = project / path
    changed.write_text(changed.read_text() + f"\n{forbidden_import}  # the violation\n")
    assert contract in broken_contracts(project)


def test_every_contract_has_a_violation_here() -> None:
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert {c["name"] for c in contracts["contracts"]} == {name for name, *_ in VIOLATIONS}


def test_every_file_of_a_domain_core_is_under_the_no_strawberry_contract() -> None:
    """A new core file (say `modules/user/tasks.py`) must be named in the contract, or the
    rule would silently not cover it."""
    import fnmatch
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (cores,) = [c for c in contracts["contracts"] if c["name"].startswith("Domain cores import no")]
    patterns = cores["source_modules"]
    core_files = [
        path
        for path in (REPO / "modules").glob("*/*")
        if path.name != "__init__.py"
        and path.name != "graphql"
        and (path.suffix == ".py" or (path / "__init__.py").exists())
    ]
    uncovered = [
        str(path.relative_to(REPO))
        for path in core_files
        if not any(
            fnmatch.fnmatchcase(".".join(path.relative_to(REPO).with_suffix("").parts), pattern)
            for pattern in patterns
        )
    ]
    assert core_files and uncovered == []


def test_a_modules_package_file_imports_nothing() -> None:
    """`modules/<name>/__init__.py` is the package the contract cannot name without its face:
    it stays empty of imports (the core's files and the face are imported by their own names)."""
    import ast

    for init in (REPO / "modules").glob("*/__init__.py"):
        tree = ast.parse(init.read_text())
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        assert imports == [], f"{init.relative_to(REPO)} imports {ast.unparse(imports[0])}"


def test_every_package_of_the_gateway_is_in_a_layer() -> None:
    """A new package under schema/ (say `schema/trusted_documents/`) must sit in a layer, or no
    direction rule would hold for it."""
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in contracts["contracts"] if c["type"] == "layers"]
    named = {name.strip() for layer in layers["layers"] for name in layer.split(":")}
    gateway = {
        f"schema.{path.stem}"
        for path in (REPO / "schema").iterdir()
        if path.name != "__init__.py" and (path.suffix == ".py" or (path / "__init__.py").exists())
    }
    assert gateway and gateway - named == set()
