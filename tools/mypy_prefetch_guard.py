"""A mypy plugin, listed before django-stubs' own (pyproject.toml, [tool.mypy] plugins).

django-stubs' plugin specializes the three type parameters of every call to a `Prefetch` class,
and crashes (IndexError, mypy's INTERNAL ERROR) on a subclass that has none of its own, such as
schema/engine/nested_pages.py's `UnwindowedPage` and `PagePrefetch`: Django's classes take no
type arguments at run time, so a subclass cannot pass them on. For those calls this plugin
answers first, with mypy's own type of the call, and the crash never happens. Type checking only:
nothing imports it at run time.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import TypeInfo
from mypy.plugin import FunctionContext, Plugin
from mypy.types import Type

PREFETCH = "django.db.models.query.Prefetch"


def _default_type(ctx: FunctionContext) -> Type:
    return ctx.default_return_type


class PrefetchGuard(Plugin):
    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        symbol = self.lookup_fully_qualified(fullname)
        node = symbol.node if symbol is not None else None
        if (
            isinstance(node, TypeInfo)
            and node.fullname != PREFETCH
            and node.has_base(PREFETCH)
            and not node.type_vars
        ):
            return _default_type
        return None


def plugin(version: str) -> type[Plugin]:
    return PrefetchGuard
