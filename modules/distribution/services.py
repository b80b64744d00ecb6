"""Writes of the distribution module: one transaction per use case, events emitted inside it."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from events import emit
from modules.distribution.errors import DistributionErrorCode as Code
from modules.distribution.events import (
    ArrivalRecorded,
    CenterStaffChanged,
    DepartureRecorded,
    DistributionCenterCreated,
    DistributionCenterDeleted,
    DistributionCenterUpdated,
)
from modules.distribution.models import (
    CENTER_CODE_PATTERN,
    CENTER_NAME_MAX_LENGTH,
    HOLDER_MAX_LENGTH,
    MAX_ITEMS_PER_MOVEMENT,
    TRACKING_NUMBER_MAX_LENGTH,
    AnnouncedMovement,
    CenterInventoryItem,
    CenterReference,
    CenterStaffMember,
    DistributionCenter,
    MovementKind,
    TransportMovement,
    normalize_center_code,
)
from modules.user.api import users_by_uuid

MAX_STAFF_PER_CHANGE = 100
# Keeps every IN (...) list well below SQLite's and PostgreSQL's parameter limits.
LOOKUP_CHUNK = 500
TRACKING_NUMBER_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)


def _field_error(field: str, message: str, code: Code) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


def _listed(values: Iterable[object], limit: int = 5) -> str:
    values = sorted(str(v) for v in values)
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def center_code_validated(raw: str) -> str:
    code = normalize_center_code(raw)
    if not CENTER_CODE_PATTERN.match(code):
        raise _field_error(
            "center_code",
            "A center code has 2 to 16 characters: letters, digits or hyphens.",
            Code.INVALID_CENTER_CODE,
        )
    return code


def _name_validated(raw: str) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > CENTER_NAME_MAX_LENGTH:
        raise _field_error(
            "name",
            f"A center name has 1 to {CENTER_NAME_MAX_LENGTH} characters.",
            Code.INVALID_NAME,
        )
    return name


def _locked_center(center_code: str) -> DistributionCenter:
    """The center with this code, row-locked until the transaction ends."""
    code = normalize_center_code(center_code)
    center = DistributionCenter.objects.select_for_update().filter(center_code=code).first()
    if center is None:
        raise _field_error(
            "center_code", f"No distribution center has the code {code!r}.", Code.UNKNOWN_CENTER
        )
    return center


# --- centers -------------------------------------------------------------------------------------


def center_create(*, center_code: str, name: str) -> DistributionCenter:
    errors: dict[str, list[ValidationError]] = {}
    for field, validate, raw in (
        ("center_code", center_code_validated, center_code),
        ("name", _name_validated, name),
    ):
        try:
            validate(raw)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.error_dict[field])
    if errors:
        raise ValidationError(errors)
    code, name = center_code_validated(center_code), _name_validated(name)
    taken = _field_error(
        "center_code", f"The center code {code!r} is taken.", Code.CENTER_CODE_TAKEN
    )
    try:
        with transaction.atomic():
            if DistributionCenter.objects.filter(center_code=code).exists():
                raise taken
            center = DistributionCenter.objects.create(center_code=code, name=name)
            emit(
                DistributionCenterCreated(center_uuid=str(center.uuid), center_code=code, name=name)
            )
    except IntegrityError as exc:
        # A concurrent create won the unique constraint; nothing of ours was written.
        raise taken from exc
    return center


def center_update(
    *, center_code: str, name: str | None = None, new_center_code: str | None = None
) -> DistributionCenter:
    """Rename a center. Its code is its public identity: a request to change it is refused."""
    if new_center_code is not None and normalize_center_code(
        new_center_code
    ) != normalize_center_code(center_code):
        raise _field_error(
            "center_code",
            "A center code cannot change: create a new center and move the staff instead.",
            Code.CENTER_CODE_IMMUTABLE,
        )
    new_name = _name_validated(name) if name is not None else None
    with transaction.atomic():
        center = _locked_center(center_code)
        if new_name is None or new_name == center.name:
            return center
        previous_name, center.name = center.name, new_name
        center.save(update_fields=["name"])
        emit(
            DistributionCenterUpdated(
                center_uuid=str(center.uuid),
                center_code=center.center_code,
                name=center.name,
                previous_name=previous_name,
            )
        )
    return center


def center_delete(*, center_code: str) -> DistributionCenter:
    """Delete a center nothing refers to and nothing is stored at; returns it as it was."""
    with transaction.atomic():
        center = _locked_center(center_code)
        holders = center.references.count()
        items = center.inventory_items.count()
        if holders or items:
            raise _field_error(
                "center_code",
                f"Center {center.center_code} is in use "
                f"({holders} reference(s), {items} item(s) in inventory).",
                Code.CENTER_IN_USE,
            )
        # Delete through the queryset so the returned instance keeps its key for the payload.
        DistributionCenter.objects.filter(pk=center.pk).delete()
        emit(
            DistributionCenterDeleted(center_uuid=str(center.uuid), center_code=center.center_code)
        )
    return center


# --- staff ---------------------------------------------------------------------------------------


def _user_uuids_validated(user_uuids: Iterable[uuid.UUID | str]) -> list[uuid.UUID]:
    try:
        wanted = list(
            dict.fromkeys(u if isinstance(u, uuid.UUID) else uuid.UUID(str(u)) for u in user_uuids)
        )
    except ValueError as exc:
        raise _field_error("user_uuids", "Every user uuid must be a UUID.", Code.INVALID) from exc
    if not wanted:
        raise _field_error("user_uuids", "Name at least one user.", Code.INVALID)
    if len(wanted) > MAX_STAFF_PER_CHANGE:
        raise _field_error(
            "user_uuids", f"At most {MAX_STAFF_PER_CHANGE} users per change.", Code.TOO_MANY_USERS
        )
    return wanted


def _staff_changed(
    center: DistributionCenter, *, added: Iterable[uuid.UUID], removed: Iterable[uuid.UUID]
) -> None:
    staff = CenterStaffMember.objects.filter(center=center).values_list("user_uuid", flat=True)
    emit(
        CenterStaffChanged(
            center_uuid=str(center.uuid),
            center_code=center.center_code,
            added_user_uuids=sorted(str(u) for u in added),
            removed_user_uuids=sorted(str(u) for u in removed),
            staff_user_uuids=sorted(str(u) for u in staff),
        )
    )


def staff_users_validated(user_uuids: Iterable[uuid.UUID | str]) -> list[uuid.UUID]:
    """The uuids, when each names an existing, active user of type STAFF (else a typed error)."""
    wanted = _user_uuids_validated(user_uuids)
    users = users_by_uuid(wanted)
    unknown = [u for u in wanted if u not in users]
    if unknown:
        raise _field_error("user_uuids", f"No such user: {_listed(unknown)}.", Code.UNKNOWN_USER)
    refused = [u for u in wanted if users[u].type != "STAFF" or not users[u].is_active]
    if refused:
        raise _field_error(
            "user_uuids", f"Not an active staff user: {_listed(refused)}.", Code.NOT_STAFF_USER
        )
    return wanted


def center_staff_add(
    *, center_code: str, user_uuids: Iterable[uuid.UUID | str]
) -> DistributionCenter:
    """Add active STAFF-type users to a center: all of them, or none when any one is refused."""
    wanted = staff_users_validated(user_uuids)
    with transaction.atomic():
        center = _locked_center(center_code)
        present = set(
            CenterStaffMember.objects.filter(center=center, user_uuid__in=wanted).values_list(
                "user_uuid", flat=True
            )
        )
        added = [u for u in wanted if u not in present]
        if added:
            now = timezone.now()
            CenterStaffMember.objects.bulk_create(
                CenterStaffMember(center=center, user_uuid=u, added_at=now) for u in added
            )
            _staff_changed(center, added=added, removed=())
    return center


def center_staff_remove(
    *, center_code: str, user_uuids: Iterable[uuid.UUID | str]
) -> DistributionCenter:
    """Remove users from a center's staff: all of them, or none when any one is not on it."""
    wanted = _user_uuids_validated(user_uuids)
    with transaction.atomic():
        center = _locked_center(center_code)
        members = CenterStaffMember.objects.filter(center=center, user_uuid__in=wanted)
        present = set(members.values_list("user_uuid", flat=True))
        absent = [u for u in wanted if u not in present]
        if absent:
            raise _field_error(
                "user_uuids",
                f"Not on the staff of {center.center_code}: {_listed(absent)}.",
                Code.NOT_CENTER_STAFF,
            )
        members.delete()
        _staff_changed(center, added=(), removed=wanted)
    return center


# --- references (claims by other modules) --------------------------------------------------------


def centers_claim(*, codes: Iterable[str], holder: str) -> list[DistributionCenter]:
    """Lock the centers and record that `holder` refers to them (see api.claim_centers)."""
    if not holder or len(holder) > HOLDER_MAX_LENGTH:
        raise ValueError(f"A holder is 1 to {HOLDER_MAX_LENGTH} characters, got {holder!r}")
    wanted = {normalize_center_code(code) for code in codes}
    with transaction.atomic():
        # Locked in key order, so concurrent claims of overlapping centers cannot deadlock.
        centers = list(
            DistributionCenter.objects.select_for_update()
            .filter(center_code__in=wanted)
            .order_by("pk")
        )
        unknown = wanted - {center.center_code for center in centers}
        if unknown:
            raise ValidationError(
                f"Unknown center code(s): {_listed(unknown)}.", code=Code.UNKNOWN_CENTER
            )
        CenterReference.objects.bulk_create(
            (CenterReference(center=center, holder=holder) for center in centers),
            ignore_conflicts=True,
        )
    return centers


def centers_release(*, holder: str) -> int:
    with transaction.atomic():
        deleted, _ = CenterReference.objects.filter(holder=holder).delete()
    return deleted


# --- departures and arrivals ----------------------------------------------------------------------


@dataclass(frozen=True)
class MovementOutcome:
    center: DistributionCenter
    # True when this transport's movement had been recorded before: nothing changed this time.
    already_recorded: bool


def _tracking_numbers_validated(tracking_numbers: Sequence[str]) -> list[str]:
    if len(tracking_numbers) > MAX_ITEMS_PER_MOVEMENT:
        raise _field_error(
            "tracking_numbers",
            f"At most {MAX_ITEMS_PER_MOVEMENT} tracking numbers per call, "
            f"got {len(tracking_numbers)}.",
            Code.TOO_MANY_TRACKING_NUMBERS,
        )
    numbers = list(dict.fromkeys(n.strip() for n in tracking_numbers))
    malformed = [
        n
        for n in numbers
        if not 0 < len(n) <= TRACKING_NUMBER_MAX_LENGTH or not set(n) <= TRACKING_NUMBER_CHARACTERS
    ]
    if malformed:
        raise _field_error(
            "tracking_numbers",
            f"Malformed tracking number(s): {_listed(malformed)}.",
            Code.INVALID_TRACKING_NUMBER,
        )
    return numbers


def _replayed(
    *, transport_uuid: uuid.UUID, kind: MovementKind, center: DistributionCenter, numbers: list[str]
) -> bool:
    """True when this movement is already recorded; a different one for the transport is refused."""
    previous = TransportMovement.objects.filter(transport_uuid=transport_uuid, kind=kind).first()
    if previous is None:
        return False
    if previous.center_id != center.pk or set(previous.tracking_numbers) != set(numbers):
        raise _field_error(
            "transport_uuid",
            f"The {kind.label.lower()} of transport {transport_uuid} was already recorded "
            "with other data.",
            Code.MOVEMENT_CONFLICT,
        )
    return True


def movement_announce(
    *,
    transport_uuid: uuid.UUID | str,
    kind: MovementKind,
    center_code: str,
    tracking_numbers: Sequence[str],
) -> None:
    """Note that a transport's departure from / arrival at a center was announced, with these
    items (see listeners.py): the movement recordDeparture / recordArrival may then record."""
    key = transport_uuid if isinstance(transport_uuid, uuid.UUID) else uuid.UUID(transport_uuid)
    if TransportMovement.objects.filter(transport_uuid=key, kind=kind).exists():
        return  # already recorded: replays are answered from TransportMovement
    AnnouncedMovement.objects.update_or_create(
        transport_uuid=key,
        kind=kind,
        defaults={
            "center_code": normalize_center_code(center_code),
            "tracking_numbers": list(dict.fromkeys(n.strip() for n in tracking_numbers)),
            "announced_at": timezone.now(),
        },
    )


def _announced(
    *, transport_uuid: uuid.UUID, kind: MovementKind, center: DistributionCenter, numbers: list[str]
) -> AnnouncedMovement:
    """The announcement of exactly this movement (locked), else MOVEMENT_NOT_ANNOUNCED.

    The caller is a machine with a DISTRIBUTION key; without this, that key could put any items
    into or take them out of any center. One answer for every mismatch (unknown transport, other
    center, other items): the key holder learns nothing of what was announced.
    """
    announced = (
        AnnouncedMovement.objects.select_for_update()
        .filter(transport_uuid=transport_uuid, kind=kind)
        .first()
    )
    if (
        announced is None
        or announced.center_code != center.center_code
        or set(announced.tracking_numbers) != set(numbers)
    ):
        where = "from" if kind == MovementKind.DEPARTURE else "at"
        raise _field_error(
            "transport_uuid",
            f"No {kind.label.lower()} of transport {transport_uuid} {where} "
            f"{center.center_code} with these tracking numbers was announced.",
            Code.MOVEMENT_NOT_ANNOUNCED,
        )
    return announced


def departure_record(
    *, transport_uuid: uuid.UUID, center_code: str, tracking_numbers: Sequence[str]
) -> MovementOutcome:
    """A transport left `center_code`: its items leave that center's inventory. Idempotent.

    Only as announced by TransportStarted (same source center, same tracking numbers).
    """
    numbers = _tracking_numbers_validated(tracking_numbers)
    with transaction.atomic():
        center = _locked_center(center_code)
        if _replayed(
            transport_uuid=transport_uuid,
            kind=MovementKind.DEPARTURE,
            center=center,
            numbers=numbers,
        ):
            return MovementOutcome(center=center, already_recorded=True)
        announced = _announced(
            transport_uuid=transport_uuid,
            kind=MovementKind.DEPARTURE,
            center=center,
            numbers=numbers,
        )
        left = 0
        for chunk in _chunks(numbers):
            deleted, _ = CenterInventoryItem.objects.filter(
                center=center, tracking_number__in=chunk
            ).delete()
            left += deleted
        TransportMovement.objects.create(
            transport_uuid=transport_uuid,
            kind=MovementKind.DEPARTURE,
            center=center,
            tracking_numbers=numbers,
        )
        announced.delete()  # used up: the movement row answers replays from now on
        emit(
            DepartureRecorded(
                transport_uuid=str(transport_uuid),
                center_code=center.center_code,
                tracking_numbers=numbers,
                left_inventory_count=left,
            )
        )
    return MovementOutcome(center=center, already_recorded=False)


def arrival_record(
    *, transport_uuid: uuid.UUID, center_code: str, tracking_numbers: Sequence[str]
) -> MovementOutcome:
    """A transport reached `center_code`: its items enter its inventory, leaving any other.

    Idempotent. Only as announced by TransportCompleted (same destination, same tracking numbers).
    """
    numbers = _tracking_numbers_validated(tracking_numbers)
    with transaction.atomic():
        center = _locked_center(center_code)
        if _replayed(
            transport_uuid=transport_uuid, kind=MovementKind.ARRIVAL, center=center, numbers=numbers
        ):
            return MovementOutcome(center=center, already_recorded=True)
        announced = _announced(
            transport_uuid=transport_uuid, kind=MovementKind.ARRIVAL, center=center, numbers=numbers
        )
        previous_center_ids: Counter[int] = Counter()
        in_order = sorted(numbers)
        for chunk in _chunks(in_order):
            # Locked in tracking-number order, so overlapping arrivals cannot deadlock.
            located = (
                CenterInventoryItem.objects.select_for_update()
                .filter(tracking_number__in=chunk)
                .order_by("tracking_number")
                .values_list("center_id", flat=True)
            )
            previous_center_ids.update(center_id for center_id in located if center_id != center.pk)
        now = timezone.now()
        # An upsert: items elsewhere move here, and a concurrent first arrival cannot collide.
        CenterInventoryItem.objects.bulk_create(
            (
                CenterInventoryItem(
                    center=center, tracking_number=n, arrived_at=now, transport_uuid=transport_uuid
                )
                for n in in_order
            ),
            batch_size=LOOKUP_CHUNK,
            update_conflicts=True,
            unique_fields=["tracking_number"],
            update_fields=["center", "arrived_at", "transport_uuid"],
        )
        TransportMovement.objects.create(
            transport_uuid=transport_uuid,
            kind=MovementKind.ARRIVAL,
            center=center,
            tracking_numbers=numbers,
        )
        announced.delete()
        codes = dict(
            DistributionCenter.objects.filter(pk__in=previous_center_ids).values_list(
                "pk", "center_code"
            )
        )
        emit(
            ArrivalRecorded(
                transport_uuid=str(transport_uuid),
                center_code=center.center_code,
                tracking_numbers=numbers,
                moved_from={codes[pk]: count for pk, count in sorted(previous_center_ids.items())},
            )
        )
    return MovementOutcome(center=center, already_recorded=False)


# --- demo data -----------------------------------------------------------------------------------

DEMO_CENTERS = (
    ("ICN-HUB", "Incheon Hub"),
    ("SEL-01", "Seoul Gangnam"),
    ("BUS-01", "Busan Port"),
    ("NYC-001", "New York 001"),
)


def demo_centers_seed(*, staff_user_uuids: Iterable[uuid.UUID] = ()) -> list[DistributionCenter]:
    """Create the demo centers that do not exist yet and put the given staff on each of them."""
    staff = list(staff_user_uuids)
    centers = []
    for code, name in DEMO_CENTERS:
        center = DistributionCenter.objects.filter(center_code=code).first() or center_create(
            center_code=code, name=name
        )
        missing = [u for u in staff if not center.staff_members.filter(user_uuid=u).exists()]
        if missing:
            center_staff_add(center_code=code, user_uuids=missing)
        centers.append(center)
    return centers
