"""`make bench` (`python -m bench [NAME ...]`): runs every bench and prints its figures.

A bench is a module `bench/<name>.py` or a package `bench/<name>/` with a `__main__.py`, runnable
as `python -m bench.<name>`; it prints figures (no thresholds, nothing asserted). Each runs in its
own process, so each may configure Django as it needs (bench/_django.py sets up a throwaway
database for those that only need the project's settings). Runs all benches in name order, or
only those named on the command line; exits non-zero if any bench failed.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benches(selected: list[str]) -> list[str]:
    found = []
    for module in pkgutil.iter_modules([str(HERE)]):
        if module.name.startswith("_"):
            continue
        if module.ispkg and not (HERE / module.name / "__main__.py").exists():
            continue  # a package without an entry point is a library for the others
        found.append(module.name)
    return [name for name in sorted(found) if not selected or name in selected]


def main(argv: list[str]) -> int:
    names = benches(argv)
    if not names:
        print("No benches found.")
        return 1
    failed = []
    for name in names:
        print(f"\n== bench.{name} " + "=" * max(0, 66 - len(name)), flush=True)
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent, check=False
        )
        print(f"   ({time.perf_counter() - started:.1f} s, exit {result.returncode})", flush=True)
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
