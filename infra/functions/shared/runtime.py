"""Configuration for the functions: the environment in AWS, Django settings when run in-process.

The same handler code runs in Lambda (no Django; the template sets environment variables) and
inside the monolith on the local bus (Django settings, which tests may override).
"""

from __future__ import annotations

import os
import sys
from typing import Any


def setting(name: str, default: str = "") -> str:
    value = _django_setting(name)
    if value not in (None, ""):
        return str(value)
    return os.environ.get(name, default)


def _django_setting(name: str) -> Any:
    if "django.conf" not in sys.modules:
        return None  # in Lambda: Django is not even installed
    from django.conf import settings

    return getattr(settings, name, None) if settings.configured else None


def import_dotted(path: str) -> Any:
    """The object at "package.module.attribute", imported at run time."""
    import importlib

    module_path, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_path), attribute)
