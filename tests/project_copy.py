"""A copy of this checkout in a temporary folder, for tests that change the project itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # this virtualenv's tools: the copy uses them, never reinstalls


def copy_project(destination: Path) -> Path:
    """Every file git would commit (tracked, and new ones not ignored) copied to `destination`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # a file deleted in the worktree is still in the index
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def run_in(project: Path, *command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`command` in `project` with this virtualenv, on SQLite and the in-memory channel layer
    (a PostgreSQL test database of the same name may be in use by the suite running this)."""
    env = {
        **os.environ,
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    executable = sys.executable if command[0] == "python" else str(BIN / command[0])
    return subprocess.run(
        [executable, *command[1:]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
