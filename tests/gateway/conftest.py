"""Fixtures shared by the gateway tests."""

from __future__ import annotations

import pytest

from tests.factories import make_driver
from tests.shipping.factories import make_batch, make_center, make_items, make_transport


@pytest.fixture
def network():
    """Transports in three states (one without a driver); an item in no batch at all."""
    for code in ("ABC001", "ABC002", "ABC003"):
        make_center(code, f"Zürich {code}")
    first, second = make_driver(full_name="Ada Driver"), make_driver(full_name="Bo Driver")
    items = make_items(8)
    make_transport(
        "ABC001", "ABC002", driver=first, batches=[make_batch(items=items[:3])], arrived=True
    )
    make_transport(
        "ABC002",
        "ABC003",
        driver=second,
        batches=[make_batch(items=items[3:5]), make_batch(items=[items[5]])],
        started=True,
    )
    make_transport("ABC003", "ABC001", batches=[make_batch(items=[items[6]])])
    return {"drivers": (first, second)}
