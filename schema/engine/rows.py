"""Model rows made as `Model.from_db` makes them, without the general work of `Model.__init__`.

Django makes each fetched row with `Model.from_db(db, names, values)`: it fills the deferred
columns in with a marker and calls `Model.__init__`, which sends pre_init and post_init, sets
each column through its descriptor and checks for keyword arguments. For a plain model all of
that leaves the instance's __dict__ holding its `_state` and each loaded column by attname, and
the work cost about a fifth of a page of 5,000 items (bench read (b)). `ModelRows`, the iterable
of the querysets the engine fetches, makes such a row directly where nothing else would happen
(`makes_plain_rows`), and leaves any other model to Django.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from typing import Any

from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

# The descriptors of concrete columns whose setting, on a new instance, only writes __dict__.
_PLAIN_COLUMN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)


@functools.cache
def _plain_model(model: type[Model]) -> bool:
    """Whether `from_db` of `model` comes down to its instance's __dict__: Django's own
    `from_db`, `__init__`, `__new__` and `__setattr__` throughout its classes, no metaclass
    `__call__`, and a plain descriptor on every concrete column (a file field's, say, wraps what
    it is given). Kept per model: a model's class and fields are set when it is defined."""
    if inspect.getattr_static(model, "from_db") is not vars(Model)["from_db"]:
        return False
    if type(model).__call__ is not type.__call__:  # a metaclass that makes instances its own way
        return False
    own = (Model, object)
    if any(
        name in vars(klass)
        for klass in model.__mro__
        if klass not in own
        for name in ("__init__", "__new__", "__setattr__")
    ):
        return False
    return all(
        type(inspect.getattr_static(model, field.attname, None)) in _PLAIN_COLUMN_DESCRIPTORS
        for field in model._meta.concrete_fields
    )


def makes_plain_rows(model: type[Model]) -> bool:
    """Whether ModelRows makes `model`'s rows itself: a plain model (`_plain_model`) that no
    pre_init or post_init receiver listens to (asked each time: receivers may come later)."""
    return (
        _plain_model(model)
        and not pre_init.has_listeners(model)
        and not post_init.has_listeners(model)
    )


class ModelRows(ModelIterable):
    """Django's ModelIterable, with each row of a plain model made by filling its __dict__. Rows
    that bring related objects along (select_related, or a related manager's queryset, which
    knows its parent) are left to Django."""

    def __iter__(self) -> Iterator[Any]:
        queryset = self.queryset
        if (
            not makes_plain_rows(queryset.model)
            or queryset.query.select_related
            or queryset._known_related_objects  # type: ignore[attr-defined]  # Django's private state of a related manager's queryset
        ):
            yield from super().__iter__()
            return
        # Django's ModelIterable.__iter__ (COMPATIBILITY.md), less what the test above leaves out,
        # with `from_db` replaced.
        db = queryset.db
        compiler = queryset.query.get_compiler(using=db)
        results = compiler.execute_sql(chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size)
        select, klass_info, annotation_col_map = (
            compiler.select,
            compiler.klass_info,
            compiler.annotation_col_map,
        )
        model = klass_info["model"]  # the query's model: queryset.model
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        new = object.__new__
        for row in compiler.results_iter(results):
            obj = new(model)
            state = ModelState()
            state.adding = False
            state.db = db
            attributes = obj.__dict__
            attributes["_state"] = state  # first, as Model.__init__ sets it
            attributes.update(zip(names, row[start:end], strict=True))
            if annotation_col_map:
                for name, position in annotation_col_map.items():
                    setattr(obj, name, row[position])
            yield obj


def with_plain_rows(queryset: QuerySet) -> QuerySet:
    """`queryset` with its rows made by ModelRows, where Django's ModelIterable would make them
    (values() and the like keep their own iterable). Changes `queryset`: give it a clone."""
    # Django's private choice of iterable, which values() sets the same way.
    if queryset._iterable_class is ModelIterable:
        queryset._iterable_class = ModelRows
    return queryset
