"""Turn a fresh copy of this checkout into a new project: Copier's post-copy task (copier.yml).

    python tools/new_project.py --project-name acme --event-source-prefix acme \\
        --bus-name acme-events [--sample=no]

It runs in the new project's folder, with the Python that runs Copier (the standard library is
enough; with Django importable it also regenerates schema.graphql, events/catalog.json and
trusted-documents.json, else it says to run `make schema catalog manifest`). It is idempotent:
`copier update` runs it again on every copy it renders, and a project already renamed and without
the sample stays as it is.

- The answers rename: `majestic.<module>` event sources take the prefix, `majestic-events` the
  bus name, and every other `majestic` / `Majestic` / `MAJESTIC` the project's name.
- Without the logistics sample (`--sample=no`): SAMPLE_PATHS go (shipping and distribution, their
  tests, function, benches and demo seed); then, in every text file, each block from a comment
  line `# sample: begin` (or `//`) to the next `# sample: end` one (BLOCK), and each line ending
  in a `# sample` comment (LINE): MODULES in config/settings.py, the import-linter contracts, the
  function and rules of infra/template.yaml, the sample's cases in shared tests; then every test
  file that still names the sample's code or GraphQL fields (SAMPLE_USE); the imports the cut
  lines used (ruff, when there); and a seed command without the sample takes seed_demo's place.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

TEMPLATE_NAME = "majestic"
# Whole files and folders of the sample (besides every test file that uses it, SAMPLE_USE).
SAMPLE_PATHS = (
    "modules/shipping",
    "modules/distribution",
    "tests/shipping",
    "tests/distribution",
    "tests/gateway/conftest.py",  # the `network` fixture: transports between centers
    "tests/live/logistics.py",
    "infra/functions/distribution",
    "bench/graphql_vs_rest",
    "bench/events_bench.py",
    "bench/soak.py",
    "bench/guard_overhead.py",  # measures the guard on the sample's queries
    "bench/gunicorn_workers.py",  # read (a), the sample's query
    "bench/jobs_bench.py",  # the sample's import job
    "tests/jobs",  # the jobs module's kinds are the sample's bulk operations
    "tests/tracing",  # one trace from completeTransport to recordArrival
    "tests/e2e/screenshots.py",  # seeds the sample's demo data
)
# A test file that names the sample's code, data or GraphQL fields is part of the sample.
SAMPLE_USE = re.compile(
    r"modules\.(?:shipping|distribution)|tests\.(?:shipping|distribution)|tests\.live\.logistics"
    r"|functions\.distribution|\bnetwork\b|[sS]hipping|\btransports\s*\(|transportUpdates"
    r"|(?<![-\w])Transport(?:[A-Z]\w*)?\b(?!-)|\b[dD]istribution(?:[A-Z_]\w*)|\b[cC]enter[A-Z_(]|\bbatches\s*\("
    r"|seed_demo"
)
# The seed command of a project without the sample (demo staff and drivers only).
CORE_SEED = Path(__file__).with_name("new_project_seed.py")
CORE_SEED_TARGET = "modules/user/management/commands/seed_demo.py"
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}
SKIP_FILES = {"tools/new_project.py", "tests/gateway/test_new_project.py", ".copier-answers.yml"}
# A block: from a comment line `# sample: begin …` (or `//`) to the next `# sample: end` line.
BLOCK = re.compile(
    r"^[ \t]*(?:#|//) sample: begin\b[^\n]*\n.*?^[ \t]*(?:#|//) sample: end\b[^\n]*\n",
    re.M | re.S,
)
# A line: anything that ends in a `# sample` (or `// sample`) comment.
LINE = re.compile(r"^[^\n]*(?:#|//) sample\n", re.M)


def text_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".venv")]
        for name in files:
            path = Path(folder, name)
            if path.relative_to(root).as_posix() in SKIP_FILES or "vendor" in path.parts:
                continue
            try:
                path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue  # binary files keep their bytes
            yield path


def rename(root: Path, *, project_name: str, prefix: str, bus_name: str) -> None:
    """Every `majestic` of the template as the answers have it."""
    # Event sources: the modules', those tests make up (startmodule's, the sample events'), and
    # the prefix alone in patterns ("majestic." and "majestic.*").
    modules = [p.name for p in (root / "modules").iterdir() if p.is_dir()]
    names = "|".join(sorted({*modules, "events", "warehouse", "test", "testing"}))
    source = re.compile(rf"\b{TEMPLATE_NAME}\.(?=(?:{names})\b|\*|[\"'])")
    title = project_name.replace("_", " ").title()
    for path in text_files(root):
        text = path.read_text(encoding="utf-8")
        if TEMPLATE_NAME not in text.lower():
            continue
        new = text.replace(f"{TEMPLATE_NAME}-events", bus_name)
        new = source.sub(f"{prefix}.", new)
        new = new.replace(
            f'"EVENTS_SOURCE_PREFIX", "{TEMPLATE_NAME}"', f'"EVENTS_SOURCE_PREFIX", "{prefix}"'
        )
        new = new.replace(
            f"EventSourcePrefix:\n    Type: String\n    Default: {TEMPLATE_NAME}\n",
            f"EventSourcePrefix:\n    Type: String\n    Default: {prefix}\n",
        )
        new = new.replace("Majestic", title).replace("MAJESTIC", project_name.upper())
        new = new.replace(TEMPLATE_NAME, project_name)
        if new != text:
            path.write_text(new, encoding="utf-8")


def remove_sample(root: Path) -> tuple[list[str], list[Path]]:
    """The project without the logistics sample: what it removed (relative paths), and the Python
    files it cut lines from."""
    removed: list[str] = []
    cut: list[Path] = []
    for relative in SAMPLE_PATHS:
        path = root / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(relative)
    for path in text_files(root):
        text = path.read_text(encoding="utf-8")
        new = LINE.sub("", BLOCK.sub("", text))
        if new != text:
            path.write_text(new, encoding="utf-8")
            if path.suffix == ".py":
                cut.append(path)
    # What the marked lines leave of a test file still names the sample: the file is the sample's.
    for path in sorted((root / "tests").rglob("test_*.py")):
        if path.relative_to(root).as_posix() in SKIP_FILES:
            continue
        if SAMPLE_USE.search(path.read_text(encoding="utf-8")):
            path.unlink()
            removed.append(path.relative_to(root).as_posix())
            cut = [p for p in cut if p != path]
    if CORE_SEED.exists() and not (root / CORE_SEED_TARGET).exists():
        target = root / CORE_SEED_TARGET
        for package in (target.parent.parent, target.parent):
            package.mkdir(exist_ok=True)
            (package / "__init__.py").touch()
        shutil.copy(CORE_SEED, target)
    return removed, cut


def tidy(python: str, files: list[Path]) -> None:
    """Imports only the cut lines used go, the rest stays sorted (ruff, when `python` has it)."""
    if files:
        subprocess.run(  # noqa: S603
            [python, "-m", "ruff", "check", "--quiet", "--fix", "--select", "I001,F401", *files],
            capture_output=True,
        )


def regenerate(root: Path, python: str) -> bool:
    """schema.graphql, events/catalog.json, trusted-documents.json from the code, when `python`
    has Django (the checkout's virtualenv, which has Copier); False when it cannot."""
    # `python` is this script's own interpreter or the one Copier runs on: no untrusted input.
    probe = subprocess.run([python, "-c", "import django, strawberry"], capture_output=True)  # noqa: S603
    if probe.returncode != 0:
        return False
    env = {**os.environ, "DATABASE_URL": "", "REDIS_URL": "", "DJANGO_ENV": "development"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    for command in (
        ["export_schema_sdl"],
        ["export_event_catalog"],
        ["trusted_documents", "manifest"],
    ):
        subprocess.run(  # noqa: S603
            [python, "manage.py", *command], cwd=root, env=env, check=True, capture_output=True
        )
    return True


def git_init(root: Path) -> None:
    """A new project is a git repository of its own (`copier update` needs one, and the tests
    copy the project by `git ls-files`), unless it is made inside one already."""
    git = shutil.which("git")
    if git is None:
        return
    inside = subprocess.run(  # noqa: S603 (git itself, found on PATH)
        [git, "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True
    )
    if inside.returncode != 0:
        subprocess.run([git, "init", "--quiet"], cwd=root, check=True)  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project-name", required=True)
    parser.add_argument("--event-source-prefix", required=True)
    parser.add_argument("--bus-name", required=True)
    parser.add_argument(
        "--sample", choices=["yes", "no"], default="yes", help="keep the logistics sample"
    )
    parser.add_argument("--root", default=".", help="the new project's folder")
    parser.add_argument("--python", default=sys.executable, help="runs manage.py to regenerate")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if args.sample == "no":
        removed, cut = remove_sample(root)
        for relative in removed:
            print(f"removed {relative}")
        tidy(args.python, cut)
    rename(
        root,
        project_name=args.project_name,
        prefix=args.event_source_prefix,
        bus_name=args.bus_name,
    )
    git_init(root)
    if regenerate(root, args.python):
        print("regenerated schema.graphql, events/catalog.json, trusted-documents.json")
    else:
        print("Run `make schema catalog manifest` in the new project (no Django here to do it).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
