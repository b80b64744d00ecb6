"""Shipping's contribution to the heartbeat (its api.HOUSEKEEPING, which modules/ops runs)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from modules.shipping.models import ShippingItem, ShippingItemStatus
from tests.events.test_ops import HEARTBEAT, api_key, tasks_of
from tests.shipping.factories import make_items

pytestmark = pytest.mark.django_db


def test_heartbeat_reports_items_stuck_in_created_or_moving(gql):
    old, _fresh, done = make_items(3)
    month_ago = timezone.now() - timedelta(days=30)
    ShippingItem.objects.filter(pk__in=[old.pk, done.pk]).update(created_at=month_ago)
    ShippingItem.objects.filter(pk=done.pk).update(status=ShippingItemStatus.LOST)

    tasks = tasks_of(gql(HEARTBEAT, as_=api_key("HEARTBEAT")))

    assert tasks["staleItemsReported"] == 1
