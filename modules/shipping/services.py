"""Writes of the shipping module: one transaction per use case, row locks where races matter.

Locks are always taken in the same order (transport → batches → items), so two use cases never
wait on each other in a cycle. Every failure the caller can cause is a `ValidationError` with a
`ShippingErrorCode` (keyed by input field where one field is at fault), raised before anything is
written; each use case writes all of its rows or none.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from events import emit
from modules.distribution import api as distribution_api
from modules.jobs import api as jobs_api
from modules.shipping import selectors
from modules.shipping.errors import ShippingErrorCode as Code
from modules.shipping.events import (
    BatchesAddedToTransport,
    DriverAssigned,
    ItemsAddedToBatch,
    ShippingBatchCreated,
    ShippingItemCreated,
    ShippingItemStatusChanged,
    TransportCompleted,
    TransportCreated,
    TransportStarted,
)
from modules.shipping.models import (
    ALIAS_PATTERN,
    CENTER_CODE_MAX_LENGTH,
    SKU_PATTERN,
    BatchMembership,
    ShippingBatch,
    ShippingItem,
    ShippingItemStatus,
    Transport,
    TransportStatus,
    new_batch_alias,
    new_tracking_number,
)
from modules.user import api as user_api

# The most tracking numbers or aliases one call may name; more is refused, not truncated.
MAX_VALUES_PER_CALL = 1000
# One departure or arrival must fit in one event (and distribution takes at most this many).
MAX_ITEMS_PER_TRANSPORT = distribution_api.MAX_ITEMS_PER_MOVEMENT
# Batches are named in the departure and arrival events too, so they are bounded as well.
MAX_BATCHES_PER_TRANSPORT = 1000
# Statuses staff may set by hand, from each status; MOVING and COMPLETED follow from batches and
# transports, and nothing leaves COMPLETED, DAMAGED or LOST.
MANUAL_TRANSITIONS: dict[str, frozenset[str]] = {
    ShippingItemStatus.CREATED: frozenset({ShippingItemStatus.DAMAGED, ShippingItemStatus.LOST}),
    ShippingItemStatus.MOVING: frozenset({ShippingItemStatus.DAMAGED, ShippingItemStatus.LOST}),
}
BATCHABLE_STATUSES = frozenset({ShippingItemStatus.CREATED, ShippingItemStatus.MOVING})
_KEY_ATTEMPTS = 5

M = TypeVar("M", bound=models.Model)


# --- items ---------------------------------------------------------------------------------------


def shipping_item_create(*, sku: str) -> ShippingItem:
    sku = (sku or "").strip()
    if not SKU_PATTERN.match(sku):
        raise _field_error(
            "sku", "A SKU is 1-20 letters, digits, '.', '_' or '-'.", Code.INVALID_SKU
        )
    with transaction.atomic():
        item = _create_with_fresh_key(
            lambda: ShippingItem(tracking_number=new_tracking_number(), sku=sku)
        )
        emit(
            ShippingItemCreated(
                item_uuid=str(item.uuid), tracking_number=item.tracking_number, sku=sku
            )
        )
    return item


def shipping_item_status_change(*, tracking_number: str, status: str) -> ShippingItem:
    """Mark an item DAMAGED or LOST; every other change follows from batches and transports."""
    if status not in ShippingItemStatus.values:
        raise _field_error("status", f"Unknown status {_show(status)}.", Code.INVALID)
    with transaction.atomic():
        item = (
            ShippingItem.objects.select_for_update()
            .filter(tracking_number=_tracking_number(tracking_number))
            .first()
        )
        if item is None:
            raise _field_error(
                "tracking_number",
                f"No item has tracking number {_show(tracking_number)}.",
                Code.ITEM_NOT_FOUND,
            )
        if status not in MANUAL_TRANSITIONS.get(item.status, frozenset()):
            raise _field_error(
                "status", _transition_refusal(item.status, status), Code.INVALID_STATUS_TRANSITION
            )
        previous = item.status
        item.status = status
        item.save(update_fields=["status"])
        emit(
            ShippingItemStatusChanged(
                item_uuid=str(item.uuid),
                tracking_number=item.tracking_number,
                previous_status=previous,
                status=status,
            )
        )
    return item


def _transition_refusal(current: str, wanted: str) -> str:
    if current not in MANUAL_TRANSITIONS:
        return f"The item is {current}; nothing leaves {current}."
    if wanted == ShippingItemStatus.MOVING:
        return "An item starts MOVING when it is added to its first batch."
    if wanted == ShippingItemStatus.COMPLETED:
        return "An item is COMPLETED when its transport arrives."
    return f"An item cannot go from {current} to {wanted}."


# --- batches -------------------------------------------------------------------------------------


def shipping_batch_create(*, alias: str | None = None) -> ShippingBatch:
    """A new open batch with `alias`, or with a generated one when `alias` is absent or blank."""
    alias = (alias or "").strip()
    if alias and not ALIAS_PATTERN.match(alias):
        raise _field_error(
            "alias", "An alias is 1-20 letters, digits, '.', '_' or '-'.", Code.INVALID_ALIAS
        )
    with transaction.atomic():
        if alias:
            if ShippingBatch.objects.filter(alias=alias).exists():
                raise _field_error("alias", f"The alias {alias} is taken.", Code.ALIAS_TAKEN)
            try:
                with transaction.atomic():
                    batch = ShippingBatch.objects.create(alias=alias)
            except IntegrityError as exc:  # taken by a concurrent call since the check
                raise _field_error(
                    "alias", f"The alias {alias} is taken.", Code.ALIAS_TAKEN
                ) from exc
        else:
            batch = _create_with_fresh_key(lambda: ShippingBatch(alias=new_batch_alias()))
        emit(ShippingBatchCreated(batch_uuid=str(batch.uuid), alias=batch.alias))
    return batch


def shipping_batch_add_items(*, alias: str, tracking_numbers: Sequence[str]) -> ShippingBatch:
    """Put items into an open batch, all or none. Items already in this batch are left as they are;
    an item's first batch moves it CREATED → MOVING."""
    wanted = _distinct(tracking_numbers, field="tracking_numbers", normalize=_tracking_number)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _add_items(alias=(alias or "").strip(), wanted=wanted)
        except _LockOrderChanged:
            continue  # the batch joined a transport between our look and our lock: lock again
    raise ValidationError("The batch changed while adding items; try again.", code=Code.INVALID)


class _LockOrderChanged(Exception):
    pass


def _add_items(*, alias: str, wanted: list[str]) -> ShippingBatch:
    # Transport before batch (the global lock order), so peek at the batch's transport first.
    peek = ShippingBatch.objects.filter(alias=alias).values_list("transport_id", flat=True).first()
    transport = (
        Transport.objects.select_for_update().filter(pk=peek).first() if peek is not None else None
    )
    batch = ShippingBatch.objects.select_for_update().filter(alias=alias).first()
    if batch is None:
        raise _field_error("alias", f"No batch has alias {_show(alias)}.", Code.BATCH_NOT_FOUND)
    if batch.transport_id != peek:
        raise _LockOrderChanged
    if batch.completed:
        raise _field_error("alias", f"Batch {alias} is completed.", Code.BATCH_COMPLETED)
    if transport is not None and transport.status != TransportStatus.CREATED:
        raise _field_error(
            "alias",
            f"Batch {alias} is on a transport that has left.",
            Code.TRANSPORT_ALREADY_STARTED,
        )
    if not wanted:
        return batch

    items = list(
        ShippingItem.objects.select_for_update(of=("self",))
        .filter(tracking_number__in=wanted)
        .order_by("pk")
    )
    found = {item.tracking_number: item for item in items}
    open_batch_of = dict(
        BatchMembership.objects.filter(item__in=items, batch_open=True).values_list(
            "item_id", "batch__alias"
        )
    )
    unknown = [t for t in wanted if t not in found]
    # Items already in this batch are left as they are, whatever happened to them since.
    new_items = [found[t] for t in wanted if t in found and open_batch_of.get(found[t].pk) != alias]
    unbatchable = [i.tracking_number for i in new_items if i.status not in BATCHABLE_STATUSES]
    elsewhere = [
        f"{i.tracking_number} (in {open_batch_of[i.pk]})"
        for i in new_items
        if i.pk in open_batch_of
    ]
    problems = []
    if unknown:
        problems.append(
            ValidationError(
                f"Unknown tracking numbers: {_list(unknown)}.", code=Code.ITEM_NOT_FOUND
            )
        )
    if unbatchable:
        problems.append(
            ValidationError(
                "Items that are COMPLETED, DAMAGED or LOST cannot be batched: "
                f"{_list(unbatchable)}.",
                code=Code.INVALID_STATUS_TRANSITION,
            )
        )
    if elsewhere:
        problems.append(
            ValidationError(
                f"Items already in another open batch: {_list(elsewhere)}.",
                code=Code.ITEM_IN_OPEN_BATCH,
            )
        )
    if problems:
        raise ValidationError({"tracking_numbers": problems})

    if not new_items:
        return batch  # every item was already here: nothing changes, nothing is emitted
    in_batch = batch.memberships.count()
    if in_batch + len(new_items) > MAX_ITEMS_PER_TRANSPORT:
        raise _field_error(
            "tracking_numbers",
            f"A batch holds at most {MAX_ITEMS_PER_TRANSPORT} items; {alias} has {in_batch}.",
            Code.CAPACITY_EXCEEDED,
        )
    if transport is not None:
        _ensure_capacity(transport, adding=len(new_items), field="tracking_numbers")

    now = timezone.now()
    BatchMembership.objects.bulk_create(
        [BatchMembership(batch=batch, item=item, added_at=now) for item in new_items]
    )
    first_batch = [item for item in new_items if item.status == ShippingItemStatus.CREATED]
    ShippingItem.objects.filter(pk__in=[item.pk for item in first_batch]).update(
        status=ShippingItemStatus.MOVING
    )
    emit(
        ItemsAddedToBatch(
            batch_uuid=str(batch.uuid),
            alias=batch.alias,
            tracking_numbers=[item.tracking_number for item in new_items],
            started_moving=[item.tracking_number for item in first_batch],
        )
    )
    return batch


# --- transports ----------------------------------------------------------------------------------


def transport_create(
    *,
    source_center_code: str,
    destination_center_code: str,
    driver_uuid: uuid.UUID | str | None = None,
) -> Transport:
    """A transport between two known, different centers; claims both so neither can be deleted."""
    source = _center_code(source_center_code)
    destination = _center_code(destination_center_code)
    blank = {
        field: ValidationError("A center code is required.", code=Code.UNKNOWN_CENTER)
        for field, code in (
            ("source_center_code", source),
            ("destination_center_code", destination),
        )
        if not code
    }
    if blank:
        raise ValidationError(blank)
    if source == destination:
        raise _field_error(
            "destination_center_code",
            "Source and destination must be different centers.",
            Code.SAME_SOURCE_AND_DESTINATION,
        )
    problems: dict[str, ValidationError] = {}
    known = _known_centers([source, destination])
    for field, code in (("source_center_code", source), ("destination_center_code", destination)):
        if code not in known:
            problems[field] = ValidationError(
                f"No center has code {_show(code)}.", code=Code.UNKNOWN_CENTER
            )
    driver = _as_uuid(driver_uuid) if driver_uuid is not None else None
    if driver_uuid is not None and (driver is None or user_api.active_driver(driver) is None):
        problems["driver_uuid"] = ValidationError(
            "That user is not an active driver.", code=Code.NOT_A_DRIVER
        )
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        transport = Transport.objects.create(
            source_center_code=source, destination_center_code=destination, driver_uuid=driver
        )
        try:
            distribution_api.claim_centers([source, destination], holder=transport.claim_holder)
        except ValidationError as exc:  # a center was deleted since we looked
            raise ValidationError(
                exc.messages[0] if exc.messages else "Unknown center.", code=Code.UNKNOWN_CENTER
            ) from exc
        emit(
            TransportCreated(
                transport_uuid=str(transport.uuid),
                source_center_code=source,
                destination_center_code=destination,
                driver_uuid=str(driver) if driver else None,
            )
        )
    return transport


def transport_add_batches(*, transport_uuid: uuid.UUID | str, aliases: Sequence[str]) -> Transport:
    """Put open batches on a transport that has not left, all or none; a batch already on this
    transport is left as it is, a batch on another transport is refused (never moved silently)."""
    wanted = _distinct(aliases, field="aliases", normalize=str.strip)
    with transaction.atomic():
        transport = _locked_transport(transport_uuid)
        _ensure_not_left(transport)
        if not wanted:
            return transport
        batches = list(
            ShippingBatch.objects.select_for_update().filter(alias__in=wanted).order_by("pk")
        )
        found = {batch.alias: batch for batch in batches}
        unknown = [a for a in wanted if a not in found]
        completed = [a for a in wanted if a in found and found[a].completed]
        elsewhere = [
            a
            for a in wanted
            if a in found
            and found[a].transport_id not in (None, transport.pk)
            and not found[a].completed
        ]
        problems = []
        if unknown:
            problems.append(
                ValidationError(
                    f"Unknown batch aliases: {_list(unknown)}.", code=Code.BATCH_NOT_FOUND
                )
            )
        if completed:
            problems.append(
                ValidationError(
                    f"Completed batches: {_list(completed)}.", code=Code.BATCH_COMPLETED
                )
            )
        if elsewhere:
            problems.append(
                ValidationError(
                    f"Batches already on another transport: {_list(elsewhere)}.",
                    code=Code.BATCH_ON_OTHER_TRANSPORT,
                )
            )
        if problems:
            raise ValidationError({"aliases": problems})
        new_batches = [found[a] for a in wanted if found[a].transport_id is None]
        if not new_batches:
            return transport
        on_transport = transport.batches.count()
        if on_transport + len(new_batches) > MAX_BATCHES_PER_TRANSPORT:
            raise _field_error(
                "aliases",
                f"A transport carries at most {MAX_BATCHES_PER_TRANSPORT} batches; "
                f"it has {on_transport} and this would add {len(new_batches)}.",
                Code.CAPACITY_EXCEEDED,
            )
        adding = BatchMembership.objects.filter(batch__in=new_batches).count()
        _ensure_capacity(transport, adding=adding, field="aliases")
        ShippingBatch.objects.filter(pk__in=[b.pk for b in new_batches]).update(
            transport=transport, transport_assigned_at=timezone.now()
        )
        emit(
            BatchesAddedToTransport(
                transport_uuid=str(transport.uuid), aliases=[b.alias for b in new_batches]
            )
        )
    return transport


def transport_assign_driver(
    *, transport_uuid: uuid.UUID | str, driver_uuid: uuid.UUID | str
) -> Transport:
    """Give a transport that has not left its driver (an active DRIVER user); the same driver
    again changes nothing."""
    driver = _as_uuid(driver_uuid)
    with transaction.atomic():
        transport = _locked_transport(transport_uuid)
        _ensure_not_left(transport)
        if driver is None or user_api.active_driver(driver) is None:
            raise _field_error(
                "driver_uuid", "That user is not an active driver.", Code.NOT_A_DRIVER
            )
        if transport.driver_uuid == driver:
            return transport
        previous = transport.driver_uuid
        transport.driver_uuid = driver
        transport.save(update_fields=["driver_uuid"])
        emit(
            DriverAssigned(
                transport_uuid=str(transport.uuid),
                driver_uuid=str(driver),
                previous_driver_uuid=str(previous) if previous else None,
            )
        )
    return transport


def transport_start(
    *, transport_uuid: uuid.UUID | str, as_driver: uuid.UUID | None = None
) -> Transport:
    """Depart: needs both centers known, at least one batch and an active driver; happens once.

    `as_driver`: the caller is that driver (not staff), who may start only their own transport.
    """
    with transaction.atomic():
        transport = _locked_transport(transport_uuid, as_driver=as_driver)
        if transport.status == TransportStatus.IN_TRANSIT:
            raise ValidationError(
                "The transport has already left.", code=Code.TRANSPORT_ALREADY_STARTED
            )
        if transport.status == TransportStatus.ARRIVED:
            raise ValidationError(
                "The transport has already arrived.", code=Code.TRANSPORT_ALREADY_COMPLETED
            )
        codes = [transport.source_center_code, transport.destination_center_code]
        missing = [c for c in codes if c not in _known_centers(codes)]
        if missing:
            raise ValidationError(f"Unknown centers: {_list(missing)}.", code=Code.UNKNOWN_CENTER)
        batches = list(transport.batches.select_for_update().order_by("pk"))
        if not batches:
            raise ValidationError(
                "Add at least one batch before the transport leaves.", code=Code.NO_BATCH
            )
        if transport.driver_uuid is None:
            raise ValidationError(
                "Assign a driver before the transport leaves.", code=Code.NO_DRIVER
            )
        if user_api.active_driver(transport.driver_uuid) is None:
            raise ValidationError(
                "The assigned driver is no longer an active driver.", code=Code.NOT_A_DRIVER
            )
        transport.status = TransportStatus.IN_TRANSIT
        transport.departed_at = timezone.now()
        transport.save(update_fields=["status", "departed_at"])
        emit(
            TransportStarted(
                transport_uuid=str(transport.uuid),
                source_center_code=transport.source_center_code,
                destination_center_code=transport.destination_center_code,
                driver_uuid=str(transport.driver_uuid),
                departed_at=transport.departed_at.isoformat(),
                aliases=[batch.alias for batch in batches],
                tracking_numbers=selectors.travelling_tracking_numbers(transport),
            )
        )
    return transport


def transport_complete(
    *, transport_uuid: uuid.UUID | str, as_driver: uuid.UUID | None = None
) -> Transport:
    """Arrive: every batch completes, and every item on board that is not LOST is now at the
    destination; MOVING items become COMPLETED (MMD left them MOVING; the item state machine says
    arrival completes them). DAMAGED items keep their status. Happens once, after departure."""
    with transaction.atomic():
        transport = _locked_transport(transport_uuid, as_driver=as_driver)
        if transport.status == TransportStatus.CREATED:
            raise ValidationError(
                "The transport has not left yet.", code=Code.TRANSPORT_NOT_DEPARTED
            )
        if transport.status == TransportStatus.ARRIVED:
            raise ValidationError(
                "The transport has already arrived.", code=Code.TRANSPORT_ALREADY_COMPLETED
            )
        batches = list(transport.batches.select_for_update().order_by("pk"))
        on_board = ShippingItem.objects.filter(memberships__batch__transport=transport)
        # Lock the items too: a concurrent DAMAGED/LOST change lands before or after, not between.
        list(on_board.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
        now = timezone.now()
        ShippingBatch.objects.filter(transport=transport).update(completed=True, completed_at=now)
        BatchMembership.objects.filter(batch__transport=transport).update(batch_open=False)
        on_board.exclude(status=ShippingItemStatus.LOST).update(
            current_center_code=transport.destination_center_code
        )
        on_board.filter(status=ShippingItemStatus.MOVING).update(
            status=ShippingItemStatus.COMPLETED, completed_at=now
        )
        transport.status = TransportStatus.ARRIVED
        transport.arrived_at = now
        transport.save(update_fields=["status", "arrived_at"])
        emit(
            TransportCompleted(
                transport_uuid=str(transport.uuid),
                source_center_code=transport.source_center_code,
                destination_center_code=transport.destination_center_code,
                driver_uuid=str(transport.driver_uuid),
                arrived_at=now.isoformat(),
                aliases=[batch.alias for batch in batches],
                tracking_numbers=selectors.travelling_tracking_numbers(transport),
            )
        )
    return transport


# --- bulk work: jobs whose rows each run the single use case above -------------------------------
# Each row calls the same service as its single mutation (same validation, codes and events); a
# bad row is recorded with its code and the job goes on. Rows are counted from 1 (for a CSV file,
# the first line after the header).

IMPORT_ITEMS = "shipping.importItems"
ADD_ITEMS_TO_BATCHES = "shipping.addItemsToBatches"
COMPLETE_TRANSPORTS = "shipping.completeTransports"
CSV_HEADER = ["sku"]


def shipping_items_import(*, skus: Sequence[str]) -> jobs_api.JobStarted:
    """A job creating one item per SKU, as `createShippingItem` would."""
    return _start_job(IMPORT_ITEMS, [{"sku": sku} for sku in skus], field="items")


def shipping_items_import_csv(*, data: bytes) -> jobs_api.JobStarted:
    """The same job from a CSV file (UTF-8, header `sku`); the whole file is refused when it is
    too large (JOBS_UPLOAD_MAX_BYTES), not UTF-8, or its header is wrong."""
    limit = settings.JOBS_UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise _field_error("file", f"The file is over {limit} bytes.", Code.FILE_TOO_LARGE)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _field_error("file", "The file is not UTF-8 text.", Code.INVALID_CSV) from None
    try:
        lines = [line for line in csv.reader(io.StringIO(text, newline="")) if line]
    except csv.Error as exc:
        raise _field_error("file", f"The file is not CSV: {exc}.", Code.INVALID_CSV) from None
    header = [cell.strip().lower() for cell in lines[0]] if lines else []
    if header != CSV_HEADER:
        raise _field_error(
            "file",
            f"The first line must be the header {','.join(CSV_HEADER)}.",
            Code.INVALID_CSV,
        )
    rows = [{"sku": cells[0]} if len(cells) == 1 else {"cells": len(cells)} for cells in lines[1:]]
    return _start_job(IMPORT_ITEMS, rows, field="file")


def shipping_batches_add_items(*, pairs: Sequence[tuple[str, str]]) -> jobs_api.JobStarted:
    """A job adding each (alias, tracking number) as `addItemsToBatch(alias, [number])` would."""
    rows = [{"alias": alias, "trackingNumber": number} for alias, number in pairs]
    return _start_job(ADD_ITEMS_TO_BATCHES, rows, field="items")


def transports_complete(
    *, transport_uuids: Sequence[uuid.UUID | str], as_driver: uuid.UUID | None = None
) -> jobs_api.JobStarted:
    """A job completing each transport as `completeTransport` would (for a driver: their own)."""
    rows = [{"transportUuid": str(key)} for key in transport_uuids]
    options = {"asDriver": str(as_driver) if as_driver else None}
    return _start_job(COMPLETE_TRANSPORTS, rows, field="transport_uuids", options=options)


def _start_job(
    kind: str, rows: list[dict[str, Any]], *, field: str, options: dict[str, Any] | None = None
) -> jobs_api.JobStarted:
    # jobs' codes for a wrong request (NO_ROWS, TOO_MANY_ROWS) are shipping's codes too.
    return jobs_api.start_job(kind=kind, rows=rows, options=options, field=field)


def _import_item_row(row: dict[str, Any], options: dict[str, Any]) -> jobs_api.RowResult:
    if "cells" in row:
        raise _field_error(
            "sku", f"A row has one cell (sku); this one has {row['cells']}.", Code.INVALID_CSV
        )
    item = shipping_item_create(sku=str(row.get("sku") or ""))
    return jobs_api.RowResult(type_name="ShippingItem", key=str(item.uuid))


def _add_item_to_batch_row(row: dict[str, Any], options: dict[str, Any]) -> None:
    shipping_batch_add_items(
        alias=str(row.get("alias") or ""), tracking_numbers=[str(row.get("trackingNumber") or "")]
    )


def _complete_transport_row(row: dict[str, Any], options: dict[str, Any]) -> None:
    as_driver = _as_uuid(options["asDriver"]) if options.get("asDriver") else None
    transport_complete(transport_uuid=str(row.get("transportUuid") or ""), as_driver=as_driver)


def register_job_kinds() -> None:
    jobs_api.register_kind(jobs_api.JobKind(IMPORT_ITEMS, _import_item_row))
    jobs_api.register_kind(jobs_api.JobKind(ADD_ITEMS_TO_BATCHES, _add_item_to_batch_row))
    jobs_api.register_kind(jobs_api.JobKind(COMPLETE_TRANSPORTS, _complete_transport_row))


# --- guards and helpers --------------------------------------------------------------------------


def _locked_transport(
    transport_uuid: uuid.UUID | str, *, as_driver: uuid.UUID | None = None
) -> Transport:
    """The transport, row-locked; TRANSPORT_NOT_FOUND when there is none.

    `as_driver`: only that driver's transports count. Another driver's transport then gets the very
    answer a missing one gets (same code, field and message, same query): a driver cannot probe
    which transport uuids exist. Staff (None) see every transport.
    """
    key = _as_uuid(transport_uuid)
    found = Transport.objects.select_for_update().filter(uuid=key)  # type: ignore[misc]  # read only when key is set
    if as_driver is not None:
        found = found.filter(driver_uuid=as_driver)
    transport = found.first() if key else None
    if transport is None:
        raise _field_error(
            "transport_uuid",
            f"No transport has uuid {_show(transport_uuid)}.",
            Code.TRANSPORT_NOT_FOUND,
        )
    return transport


def _ensure_not_left(transport: Transport) -> None:
    if transport.status == TransportStatus.IN_TRANSIT:
        raise ValidationError(
            "The transport has already left.", code=Code.TRANSPORT_ALREADY_STARTED
        )
    if transport.status == TransportStatus.ARRIVED:
        raise ValidationError(
            "The transport has already arrived.", code=Code.TRANSPORT_ALREADY_COMPLETED
        )


def _ensure_capacity(transport: Transport, *, adding: int, field: str) -> None:
    on_board = BatchMembership.objects.filter(batch__transport=transport).count()
    if on_board + adding > MAX_ITEMS_PER_TRANSPORT:
        raise _field_error(
            field,
            f"A transport carries at most {MAX_ITEMS_PER_TRANSPORT} items; "
            f"it has {on_board} and this would add {adding}.",
            Code.CAPACITY_EXCEEDED,
        )


def _known_centers(codes: Iterable[str]) -> set[str]:
    plausible = [c for c in codes if c and len(c) <= CENTER_CODE_MAX_LENGTH]
    return set(distribution_api.centers_by_code(plausible)) if plausible else set()


def _center_code(raw: str) -> str:
    return distribution_api.center_code_canonical(raw or "")


def _tracking_number(raw: str) -> str:
    # Generated numbers are upper case base32; accept them typed in lower case too.
    return (raw or "").strip().upper()


def _distinct(values: Sequence[str], *, field: str, normalize: Callable[[str], str]) -> list[str]:
    if len(values) > MAX_VALUES_PER_CALL:
        raise _field_error(
            field,
            f"Give at most {MAX_VALUES_PER_CALL} values per call; this call gave {len(values)}.",
            Code.TOO_MANY_VALUES,
        )
    return list(dict.fromkeys(normalize(v) for v in values))


def _create_with_fresh_key(build: Callable[[], M]) -> M:
    """Save a row whose random public key might collide: retry with a new key, each try in its
    own savepoint so a collision does not spoil the caller's transaction."""
    for attempt in range(_KEY_ATTEMPTS):
        row = build()
        try:
            with transaction.atomic():
                row.save(force_insert=True)
            return row
        except IntegrityError:
            if attempt == _KEY_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _show(value: object, limit: int = 40) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _list(values: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(v if len(v) <= 60 else v[:59] + "…" for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _field_error(field: str, message: str, code: Code) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})
