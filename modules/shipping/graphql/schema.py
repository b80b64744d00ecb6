"""shipping's root fields: lists and lookups of items, batches and transports, and the mutations."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
import strawberry_django
from django.conf import settings
from django.db.models import QuerySet
from strawberry.file_uploads import Upload
from strawberry_django.relay import DjangoCursorConnection

from modules.jobs.graphql.types import BulkJob, bulk_job_row
from modules.shipping import errors, filters, services
from modules.shipping import models as m
from modules.shipping.graphql.types import (
    ShippingBatch,
    ShippingItem,
    ShippingItemStatus,
    Transport,
    TransportStatus,
)
from schema.kit.context import Info
from schema.kit.cursors import bind_cursors
from schema.kit.enums import graphql_enum
from schema.kit.errors import ERROR_CODE, ERROR_FIELD, ERROR_MESSAGE, PAYLOAD_ERRORS, mutate
from schema.kit.filters import FILTER, ORDER, apply_filters, filter_input, order_input
from schema.kit.permissions import Driver, Require, Staff

A = strawberry.argument  # an argument's description: Annotated[type, A("...")]

if TYPE_CHECKING:
    from enum import StrEnum

    # graphql_enum builds the GraphQL twins at run time: to mypy they are StrEnum classes.
    ShippingErrorCode = StrEnum
else:
    ShippingErrorCode = graphql_enum(
        errors.ShippingErrorCode,
        description="Why a shipping mutation failed.",
        value_descriptions={
            "ITEM_NOT_FOUND": "No item has that tracking number.",
            "BATCH_NOT_FOUND": "No batch has that alias.",
            "TRANSPORT_NOT_FOUND": "No transport with that uuid that the caller may see.",
            "INVALID_SKU": "The SKU is empty or malformed.",
            "INVALID_ALIAS": "The alias is empty or malformed.",
            "ALIAS_TAKEN": "Another batch has that alias.",
            "BATCH_COMPLETED": "The batch has arrived: it changes no more.",
            "ITEM_IN_OPEN_BATCH": "The item is already in a batch still on its way.",
            "INVALID_STATUS_TRANSITION": "The item or transport cannot go to that status from its "
            "current one.",
            "TRANSPORT_ALREADY_STARTED": "The transport has left: its load and driver are fixed.",
            "TRANSPORT_ALREADY_COMPLETED": "The transport has arrived already.",
            "TRANSPORT_NOT_DEPARTED": "The transport has not started yet.",
            "NO_BATCH": "A transport needs at least one batch to start.",
            "NO_DRIVER": "A transport needs a driver to start.",
            "NOT_A_DRIVER": "That user is not an active driver.",
            "UNKNOWN_CENTER": "No distribution center has that code.",
            "SAME_SOURCE_AND_DESTINATION": "A transport drives between two different centers.",
            "TOO_MANY_VALUES": "More values in one call than allowed; split the call.",
            "BATCH_ON_OTHER_TRANSPORT": "The batch is loaded on another transport.",
            "CAPACITY_EXCEEDED": "More items or batches than one transport carries.",
            "NO_ROWS": "A bulk operation was given no rows.",
            "TOO_MANY_ROWS": "More rows than one bulk job takes (JOBS_MAX_ROWS); split them.",
            "INVALID_CSV": "The CSV file is not UTF-8 text with a `sku` header line.",
            "FILE_TOO_LARGE": "The uploaded file is larger than JOBS_UPLOAD_MAX_BYTES.",
        },
    )


@strawberry.type(description="Why a shipping mutation did not happen.")
class ShippingError:
    field: str | None = strawberry.field(description=ERROR_FIELD)
    message: str = strawberry.field(description=ERROR_MESSAGE)
    code: ShippingErrorCode = strawberry.field(description=ERROR_CODE)


if TYPE_CHECKING:
    # filter_input and order_input build these inputs at run time: to mypy they are Any.
    ShippingItemFilter = Any
    ShippingItemOrder = Any
    ShippingBatchFilter = Any
    ShippingBatchOrder = Any
    TransportFilter = Any
    TransportOrder = Any
else:
    ShippingItemFilter = filter_input(
        filters.ShippingItemFilterSet, "ShippingItemFilter", types={"status": ShippingItemStatus}
    )
    ShippingItemOrder = order_input(filters.ShippingItemFilterSet, "ShippingItemOrder")
    ShippingBatchFilter = filter_input(filters.ShippingBatchFilterSet, "ShippingBatchFilter")
    ShippingBatchOrder = order_input(filters.ShippingBatchFilterSet, "ShippingBatchOrder")
    TransportFilter = filter_input(
        filters.TransportFilterSet, "TransportFilter", types={"status": TransportStatus}
    )
    TransportOrder = order_input(filters.TransportFilterSet, "TransportOrder")


def _acting_driver(info: Info) -> uuid.UUID | None:
    """The driver a start/complete acts as; None for staff (who may act on any transport)."""
    principal = info.context.principal
    return None if principal.is_staff else principal.user_uuid


# --- payloads and inputs -------------------------------------------------------------------------


@strawberry.type(description="The outcome of a mutation on an item.")
class ShippingItemPayload:
    shipping_item: ShippingItem | None = strawberry.field(
        default=None, description="The item as it is now; null when there are errors."
    )
    errors: list[ShippingError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.type(description="The outcome of a mutation on a batch.")
class ShippingBatchPayload:
    shipping_batch: ShippingBatch | None = strawberry.field(
        default=None, description="The batch as it is now; null when there are errors."
    )
    errors: list[ShippingError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.type(description="The outcome of a mutation on a transport.")
class TransportPayload:
    transport: Transport | None = strawberry.field(
        default=None, description="The transport as it is now; null when there are errors."
    )
    errors: list[ShippingError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.input(description="A new item.")
class CreateShippingItemInput:
    sku: str = strawberry.field(description="The stock-keeping unit: what the parcel holds.")


@strawberry.input(description="A new, empty batch.")
class CreateShippingBatchInput:
    alias: str | None = strawberry.field(
        default=None, description="Generated when absent or blank."
    )


@strawberry.input(description="A new transport between two centers, waiting for its batches.")
class CreateTransportInput:
    source_center_code: str = strawberry.field(description="The center it leaves from.")
    destination_center_code: str = strawberry.field(description="The center it drives to.")
    driver_uuid: uuid.UUID | None = strawberry.field(
        default=None, description="Its driver (an active driver's uuid); may come later."
    )


@strawberry.type(description="The bulk job a bulk mutation started, or why nothing was queued.")
class ShippingBulkJobPayload:
    bulk_job: BulkJob | None = strawberry.field(
        default=None, description="The job, queued (watch it with bulkJobUpdates)."
    )
    errors: list[ShippingError] = strawberry.field(
        default_factory=list,
        description="Why the request as a whole was refused (then nothing is queued); a bad row "
        "is one of the job's rowErrors instead.",
    )


@strawberry.input(description="Shipping items to create in one job.")
class ImportShippingItemsInput:
    items: list[CreateShippingItemInput] = strawberry.field(
        description="One item per row, as createShippingItem takes it (at most JOBS_MAX_ROWS)."
    )


@strawberry.input(description="An item to put into a batch.")
class BatchItemInput:
    alias: str = strawberry.field(description="The open batch.")
    tracking_number: str = strawberry.field(description="The item.")


@strawberry.input(description="Items to put into batches in one job.")
class AddItemsToBatchesInput:
    items: list[BatchItemInput] = strawberry.field(
        description="One (batch, item) pair per row, as addItemsToBatch takes it."
    )


@strawberry.input(description="Transports to complete in one job.")
class CompleteTransportsInput:
    transport_uuids: list[uuid.UUID] = strawberry.field(
        description="One transport per row, as completeTransport takes it."
    )


def _started(started: Any) -> dict[str, Any]:
    return {"bulk_job": bulk_job_row(started.uuid)}


# --- root fields ---------------------------------------------------------------------------------


@strawberry.type
class Query:
    @bind_cursors
    @strawberry_django.connection(
        DjangoCursorConnection[ShippingItem],
        extensions=[Require(Staff)],
        description="Every shipping item (staff only), filtered and sorted.",
    )
    def shipping_items(
        self,
        info: Info,
        filter: Annotated[ShippingItemFilter | None, FILTER] = None,
        sort: Annotated[ShippingItemOrder | None, ORDER] = None,
    ) -> QuerySet[m.ShippingItem]:
        return apply_filters(
            m.ShippingItem.objects.all(), filters.ShippingItemFilterSet, filter, sort
        )

    @strawberry_django.field(
        extensions=[Require(Staff)], description="One item by its tracking number (staff only)."
    )
    def shipping_item(
        self,
        info: Info,
        tracking_number: Annotated[str, A("The number on its label (any case).")],
    ) -> ShippingItem | None:
        return m.ShippingItem.objects.filter(tracking_number=tracking_number.strip().upper())  # type: ignore[return-value]  # strawberry-django gets the row

    @bind_cursors
    @strawberry_django.connection(
        DjangoCursorConnection[ShippingBatch],
        extensions=[Require(Staff)],
        description="Every batch (staff only), filtered and sorted.",
    )
    def shipping_batches(
        self,
        info: Info,
        filter: Annotated[ShippingBatchFilter | None, FILTER] = None,
        sort: Annotated[ShippingBatchOrder | None, ORDER] = None,
    ) -> QuerySet[m.ShippingBatch]:
        return apply_filters(
            m.ShippingBatch.objects.all(), filters.ShippingBatchFilterSet, filter, sort
        )

    @strawberry_django.field(extensions=[Require(Staff)], description="One batch by its alias.")
    def shipping_batch(
        self, info: Info, alias: Annotated[str, A("The batch's alias.")]
    ) -> ShippingBatch | None:
        return m.ShippingBatch.objects.filter(alias=alias.strip())  # type: ignore[return-value]  # strawberry-django gets the row

    @bind_cursors
    @strawberry_django.connection(
        DjangoCursorConnection[Transport],
        extensions=[Require(Staff | Driver)],
        description="Staff see every transport; a driver sees the transports assigned to them.",
    )
    def transports(
        self,
        info: Info,
        filter: Annotated[TransportFilter | None, FILTER] = None,
        sort: Annotated[TransportOrder | None, ORDER] = None,
    ) -> QuerySet[m.Transport]:
        return apply_filters(m.Transport.objects.all(), filters.TransportFilterSet, filter, sort)

    @strawberry_django.field(
        extensions=[Require(Staff | Driver)],
        description="One transport by its uuid; a driver only finds their own.",
    )
    def transport(
        self, info: Info, uuid: Annotated[uuid.UUID, A("The transport's uuid.")]
    ) -> Transport | None:
        return m.Transport.objects.filter(uuid=uuid)  # type: ignore[return-value]  # strawberry-django gets the row


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[Require(Staff)], description="Create an item (CREATED) with a tracking number."
    )
    def create_shipping_item(
        self, info: Info, input: Annotated[CreateShippingItemInput, A("The new item.")]
    ) -> ShippingItemPayload:
        return mutate(ShippingItemPayload, lambda: services.shipping_item_create(sku=input.sku))

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description="Mark an item DAMAGED or LOST (from CREATED or MOVING); other changes follow "
        "from batches and transports.",
    )
    def update_shipping_item_status(
        self,
        info: Info,
        tracking_number: Annotated[str, A("The item's tracking number.")],
        status: Annotated[ShippingItemStatus, A("DAMAGED or LOST.")],
    ) -> ShippingItemPayload:
        return mutate(
            ShippingItemPayload,
            lambda: services.shipping_item_status_change(
                tracking_number=tracking_number, status=status.value
            ),
        )

    @strawberry.mutation(extensions=[Require(Staff)], description="Create an empty batch.")
    def create_shipping_batch(
        self,
        info: Info,
        input: Annotated[CreateShippingBatchInput | None, A("Its alias, if not generated.")] = None,
    ) -> ShippingBatchPayload:
        alias = input.alias if input is not None else None
        return mutate(ShippingBatchPayload, lambda: services.shipping_batch_create(alias=alias))

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description=(
            f"All or nothing; at most {services.MAX_VALUES_PER_CALL} tracking numbers per call."
        ),
    )
    def add_items_to_batch(
        self,
        info: Info,
        alias: Annotated[str, A("The batch to fill.")],
        tracking_numbers: Annotated[list[str], A("The items to put in it.")],
    ) -> ShippingBatchPayload:
        return mutate(
            ShippingBatchPayload,
            lambda: services.shipping_batch_add_items(
                alias=alias, tracking_numbers=tracking_numbers
            ),
        )

    @strawberry.mutation(
        extensions=[Require(Staff)], description="Create a transport (CREATED) between two centers."
    )
    def create_transport(
        self, info: Info, input: Annotated[CreateTransportInput, A("The new transport.")]
    ) -> TransportPayload:
        return mutate(
            TransportPayload,
            lambda: services.transport_create(
                source_center_code=input.source_center_code,
                destination_center_code=input.destination_center_code,
                driver_uuid=input.driver_uuid,
            ),
        )

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description=f"All or nothing; at most {services.MAX_VALUES_PER_CALL} aliases per call.",
    )
    def add_batches_to_transport(
        self,
        info: Info,
        transport_uuid: Annotated[uuid.UUID, A("The transport to load, not yet started.")],
        aliases: Annotated[list[str], A("The batches to load on it.")],
    ) -> TransportPayload:
        return mutate(
            TransportPayload,
            lambda: services.transport_add_batches(transport_uuid=transport_uuid, aliases=aliases),
        )

    @strawberry.mutation(
        extensions=[Require(Staff)], description="Give a transport that has not left its driver."
    )
    def assign_driver(
        self,
        info: Info,
        transport_uuid: Annotated[uuid.UUID, A("The transport.")],
        driver_uuid: Annotated[uuid.UUID, A("An active driver's uuid.")],
    ) -> TransportPayload:
        return mutate(
            TransportPayload,
            lambda: services.transport_assign_driver(
                transport_uuid=transport_uuid, driver_uuid=driver_uuid
            ),
        )

    @strawberry.mutation(
        extensions=[Require(Staff | Driver)], description="Staff or the transport's driver."
    )
    def start_transport(
        self, info: Info, transport_uuid: Annotated[uuid.UUID, A("The transport that leaves.")]
    ) -> TransportPayload:
        as_driver = _acting_driver(info)
        return mutate(
            TransportPayload,
            lambda: services.transport_start(transport_uuid=transport_uuid, as_driver=as_driver),
        )

    @strawberry.mutation(
        extensions=[Require(Staff | Driver)], description="Staff or the transport's driver."
    )
    def complete_transport(
        self, info: Info, transport_uuid: Annotated[uuid.UUID, A("The transport that arrived.")]
    ) -> TransportPayload:
        as_driver = _acting_driver(info)
        return mutate(
            TransportPayload,
            lambda: services.transport_complete(transport_uuid=transport_uuid, as_driver=as_driver),
        )

    # --- bulk work: each returns its job at once; rows obey their single mutation's rules -------

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description="Create many shipping items in one bulk job (at most JOBS_MAX_ROWS rows; "
        "each row as createShippingItem). Returns the queued job at once.",
    )
    def import_shipping_items(
        self, info: Info, input: Annotated[ImportShippingItemsInput, A("The items to create.")]
    ) -> ShippingBulkJobPayload:
        skus = [item.sku for item in input.items]
        return mutate(
            ShippingBulkJobPayload, lambda: _started(services.shipping_items_import(skus=skus))
        )

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description="importShippingItems from a CSV file sent as a multipart upload (UTF-8, "
        "header line `sku`, one SKU a line, at most JOBS_UPLOAD_MAX_BYTES).",
    )
    def import_shipping_items_csv(
        self,
        info: Info,
        file: Annotated[Upload, strawberry.argument(description="The CSV file.")],
    ) -> ShippingBulkJobPayload:
        # One byte past the limit is enough to tell the file is too large.
        data = file.read(settings.JOBS_UPLOAD_MAX_BYTES + 1) if hasattr(file, "read") else b""
        return mutate(
            ShippingBulkJobPayload,
            lambda: _started(services.shipping_items_import_csv(data=data)),
        )

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description="Put many items into batches in one bulk job (each row as addItemsToBatch "
        "with one tracking number).",
    )
    def add_items_to_batches(
        self, info: Info, input: Annotated[AddItemsToBatchesInput, A("The batch/item pairs.")]
    ) -> ShippingBulkJobPayload:
        pairs = [(item.alias, item.tracking_number) for item in input.items]
        return mutate(
            ShippingBulkJobPayload,
            lambda: _started(services.shipping_batches_add_items(pairs=pairs)),
        )

    @strawberry.mutation(
        extensions=[Require(Staff | Driver)],
        description="Complete many transports in one bulk job (each row as completeTransport: "
        "staff any transport, a driver their own).",
    )
    def complete_transports(
        self, info: Info, input: Annotated[CompleteTransportsInput, A("The transports.")]
    ) -> ShippingBulkJobPayload:
        as_driver = _acting_driver(info)
        return mutate(
            ShippingBulkJobPayload,
            lambda: _started(
                services.transports_complete(
                    transport_uuids=input.transport_uuids, as_driver=as_driver
                )
            ),
        )
