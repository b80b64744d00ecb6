"""The engine's rows (schema/engine/rows.py) are the rows Django makes, wherever it makes them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count, Model, QuerySet
from django.db.models.signals import post_init, pre_init

from modules.shipping import services
from modules.shipping.models import BatchMembership, ShippingBatch, ShippingItem
from modules.user.models import User
from schema.engine.rows import ModelRows, makes_plain_rows, with_plain_rows
from tests.conftest import bearer, call_graphql, captured_sql
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


class ItemMadeItsOwnWay(ShippingItem):
    """A model whose __init__ does more than Django's: its rows must go through it."""

    class Meta:
        proxy = True
        app_label = "shipping"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made_by_init = True


def state_of(row: Model) -> tuple[Any, ...]:
    attributes = {k: v for k, v in row.__dict__.items() if k != "_state"}
    # The class, the attributes in their order, their values, and the state of the row.
    return type(row), list(row.__dict__), attributes, row._state.adding, row._state.db


def both_ways(queryset: QuerySet) -> tuple[list[Any], list[Any]]:
    engine = with_plain_rows(queryset.all())
    assert engine._iterable_class is ModelRows
    return [state_of(row) for row in engine], [state_of(row) for row in queryset.all()]


@pytest.fixture
def two_items_in_a_batch() -> ShippingBatch:
    services.shipping_item_create(sku="SKU-1")
    services.shipping_item_create(sku="SKU-2")
    batch = services.shipping_batch_create(alias="B-1")
    services.shipping_batch_add_items(
        alias="B-1",
        tracking_numbers=list(ShippingItem.objects.values_list("tracking_number", flat=True)),
    )
    make_staff()
    return batch


@pytest.mark.parametrize(
    "queryset",
    [
        lambda: ShippingItem.objects.order_by("id"),
        lambda: ShippingItem.objects.only("id", "tracking_number").order_by("id"),
        lambda: ShippingItem.objects.defer("status").order_by("-id"),
        lambda: ShippingItem.objects.annotate(batch_count=Count("batches")).order_by("id"),
        lambda: ShippingBatch.objects.all(),  # a nullable foreign key
        lambda: BatchMembership.objects.order_by("id"),  # two foreign keys
        lambda: User.objects.order_by("id"),  # Django's AbstractBaseUser
    ],
    ids=["items", "only", "defer", "annotated", "batches", "memberships", "users"],
)
def test_rows_are_the_rows_django_makes(two_items_in_a_batch, queryset):
    made_here, made_by_django = both_ways(queryset())
    assert made_here and made_here == made_by_django
    assert makes_plain_rows(queryset().model)


def test_a_deferred_column_still_loads_when_read(two_items_in_a_batch):
    row = with_plain_rows(ShippingItem.objects.only("id").order_by("id"))[0]
    with captured_sql() as queries:
        assert row.tracking_number == ShippingItem.objects.order_by("id")[0].tracking_number
    assert len(queries) == 2  # the deferred column's own query, and the comparison's


def test_rows_that_bring_related_objects_are_djangos(two_items_in_a_batch):
    made_here, made_by_django = both_ways(BatchMembership.objects.select_related("batch"))
    assert made_here == made_by_django
    membership = with_plain_rows(BatchMembership.objects.select_related("batch")).first()
    assert membership is not None
    with captured_sql() as queries:
        assert membership.batch.alias == "B-1"  # came with the row
    assert len(queries) == 0
    # A related manager's queryset knows its parent: each row points back without a query.
    batch = two_items_in_a_batch
    for membership in with_plain_rows(batch.memberships.all()):
        with captured_sql() as queries:
            assert membership.batch is batch
        assert len(queries) == 0


def test_a_model_with_an_init_of_its_own_or_a_receiver_is_made_by_django(two_items_in_a_batch):
    rows = list(with_plain_rows(ItemMadeItsOwnWay.objects.all()))
    assert len(rows) == 2 and all(row.made_by_init for row in rows)

    for signal in (pre_init, post_init):
        seen: list[Any] = []

        def note(sender: Any, seen: list[Any] = seen, **kwargs: Any) -> None:
            seen.append(kwargs.get("instance", sender))

        signal.connect(note, sender=ShippingItem)
        try:
            assert not makes_plain_rows(ShippingItem)
            rows = list(with_plain_rows(ShippingItem.objects.all()))
        finally:
            signal.disconnect(note, sender=ShippingItem)
        assert len(rows) == 2
        assert seen == (rows if signal is post_init else [ShippingItem, ShippingItem])
        assert makes_plain_rows(ShippingItem)


def test_a_receiver_of_the_rows_a_query_reads_sees_every_row(client, two_items_in_a_batch):
    seen: list[str] = []

    def note(sender: Any, instance: ShippingItem, **kwargs: Any) -> None:
        seen.append(instance.__dict__.get("tracking_number", ""))

    query = "{ shippingItems(first: 10) { edges { node { trackingNumber } } } }"
    post_init.connect(note, sender=ShippingItem)
    try:
        response = call_graphql(client, query, authorization=bearer(make_staff()))
    finally:
        post_init.disconnect(note, sender=ShippingItem)
    edges = response["data"]["shippingItems"]["edges"]
    numbers = [edge["node"]["trackingNumber"] for edge in edges]
    assert len(numbers) == 2 and set(numbers) <= set(seen)
