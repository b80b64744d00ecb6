"""What others may use of shipping: housekeeping reports for the heartbeat."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings

from modules.shipping.selectors import stale_items

logger = logging.getLogger(__name__)


def stale_items_report() -> int:
    """Count (and log, for ops) items still CREATED or MOVING after SHIPPING_STALE_ITEM_DAYS."""
    age = timedelta(days=settings.SHIPPING_STALE_ITEM_DAYS)
    count = stale_items(older_than=age).count()
    if count:
        logger.warning("%d shipping items have been CREATED or MOVING for over %s", count, age)
    return count


# The heartbeat's tasks for shipping: modules/ops runs every module's HOUSEKEEPING (task name as the
# heartbeat reports it -> a task that is safe to repeat and returns how many things it handled).
HOUSEKEEPING: dict[str, Callable[[], int]] = {"staleItemsReported": stale_items_report}
