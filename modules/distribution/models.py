"""Distribution centers, who staffs them, who refers to them, and which items sit in them."""

from __future__ import annotations

import re
import uuid

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

CENTER_CODE_PATTERN = re.compile(r"^[A-Z0-9-]{2,16}$")
CENTER_CODE_MAX_LENGTH = 16
# The most tracking numbers one departure or arrival may carry; a transport should not hold more.
MAX_ITEMS_PER_MOVEMENT = 5000
CENTER_NAME_MAX_LENGTH = 64
TRACKING_NUMBER_MAX_LENGTH = 32
HOLDER_MAX_LENGTH = 128


def normalize_center_code(raw: str) -> str:
    """The canonical spelling of a center code: surrounding blanks dropped, upper case."""
    return raw.strip().upper()


class DistributionCenter(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    center_code = models.CharField(
        max_length=CENTER_CODE_MAX_LENGTH,
        unique=True,
        validators=[
            RegexValidator(CENTER_CODE_PATTERN, "2-16 upper-case letters, digits or hyphens.")
        ],
    )
    name = models.CharField(max_length=CENTER_NAME_MAX_LENGTH, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.center_code} ({self.name})"


class CenterStaffMember(models.Model):
    """A user (known only by uuid: users belong to the user module) working at a center."""

    center = models.ForeignKey(
        DistributionCenter, on_delete=models.CASCADE, related_name="staff_members"
    )
    user_uuid = models.UUIDField(db_index=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["center", "user_uuid"], name="center_staff_member_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_uuid} at {self.center_id}"


class CenterReference(models.Model):
    """Something outside this module (e.g. "transport:<uuid>") that refers to a center.

    A center with references cannot be deleted; distribution never learns what a holder is.
    """

    center = models.ForeignKey(
        DistributionCenter, on_delete=models.PROTECT, related_name="references"
    )
    holder = models.CharField(max_length=HOLDER_MAX_LENGTH, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["center", "holder"], name="center_reference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.holder} -> {self.center_id}"


class CenterInventoryItem(models.Model):
    """An item currently at a center; an item is at most at one center (unique tracking number)."""

    center = models.ForeignKey(
        DistributionCenter, on_delete=models.PROTECT, related_name="inventory_items"
    )
    tracking_number = models.CharField(max_length=TRACKING_NUMBER_MAX_LENGTH, unique=True)
    arrived_at = models.DateTimeField(default=timezone.now)
    transport_uuid = models.UUIDField(db_index=True)

    class Meta:
        ordering = ["-arrived_at", "-id"]
        indexes = [
            models.Index(fields=["center", "-arrived_at"], name="inventory_center_arrived_idx")
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number} at {self.center_id}"


class MovementKind(models.TextChoices):
    DEPARTURE = "DEPARTURE", "Departure"
    ARRIVAL = "ARRIVAL", "Arrival"


class TransportMovement(models.Model):
    """A departure or arrival already recorded, so a repeated delivery changes nothing."""

    transport_uuid = models.UUIDField()
    kind = models.CharField(max_length=10, choices=MovementKind.choices)
    # History goes with its center; references and inventory are what block deletion.
    center = models.ForeignKey(
        DistributionCenter, on_delete=models.CASCADE, related_name="movements"
    )
    tracking_numbers = models.JSONField(default=list)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transport_uuid", "kind"], name="transport_movement_once"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["DEPARTURE", "ARRIVAL"]),
                name="transport_movement_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.transport_uuid} at {self.center_id}"


class AnnouncedMovement(models.Model):
    """A departure or arrival that shipping announced (TransportStarted, TransportCompleted).

    Noted by this module's event listener (modules/distribution/listeners.py) in the very
    transaction that emits the event. recordDeparture / recordArrival accept only a movement noted
    here, with the same center and tracking numbers, so an API key cannot move arbitrary inventory.
    A row is used up when its movement is recorded (TransportMovement then answers replays).
    """

    transport_uuid = models.UUIDField()
    kind = models.CharField(max_length=10, choices=MovementKind.choices)
    # A code, not a key: the center existed when the transport left, the check compares codes.
    center_code = models.CharField(max_length=CENTER_CODE_MAX_LENGTH)
    tracking_numbers = models.JSONField(default=list)
    announced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-announced_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transport_uuid", "kind"], name="announced_movement_once"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["DEPARTURE", "ARRIVAL"]),
                name="announced_movement_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.transport_uuid} at {self.center_code} (announced)"
