#!/usr/bin/env sh
# Prints the newest Python from 3.13 down to 3.11 found on PATH or among pyenv's versions
# (`--oldest`: the oldest instead). The Makefile's default PYTHON; CI tests on both ends.
versions="3.13 3.12 3.11"
[ "${1:-}" = "--oldest" ] && versions="3.11 3.12 3.13"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for version in $versions; do
  for candidate in "python$version" "$pyenv_root"/versions/"$version"*/bin/"python$version"; do
    if "$candidate" -c "import sys" >/dev/null 2>&1; then
      echo "$candidate"
      exit 0
    fi
  done
done
exit 1
