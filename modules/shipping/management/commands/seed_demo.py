"""`manage.py seed_demo [--items N --batches N --transports N]`: demo data for `make run`.

An orchestration command: it creates users through the user module (drivers with
`api.register_user`; the password-holding demo staff account with Django's documented
`create_user` on the user model, since the user API registers people by phone number only),
centers through distribution's
`api.seed_demo_centers`, and shipping data in every state.

Idempotent: demo rows are recognisable (SKUs and batch aliases start with `DEMO-`, transports run
between the demo centers), and each run only tops the demo set up to the requested counts, so
re-running the default demo adds nothing.

Small seeds go through the shipping services, so every change emits its event like real use does
(the local relay then fills the centers' inventories). Large seeds (more than BULK_THRESHOLD items)
write rows directly with `bulk_create` in chunks behind a progress bar and emit no events: a seed
of 100,000 items should take seconds, not replay 100,000 domain events.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction
from django.utils import timezone
from tqdm import tqdm

from modules.distribution import api as distribution_api
from modules.shipping import services
from modules.shipping.models import (
    BatchMembership,
    ShippingBatch,
    ShippingItem,
    ShippingItemStatus,
    Transport,
    TransportStatus,
    new_tracking_number,
)
from modules.user import api as user_api

DEMO_PREFIX = "DEMO-"
DEMO_STAFF_USERNAME = "demo-staff"
DEMO_STAFF_PASSWORD = "majestic-demo"  # development data only: the command refuses production
DEMO_DRIVERS = (
    ("+15550000001", "Dana Demo", "123456"),
    ("+15550000002", "Drew Demo", "654321"),
)
DEFAULT_ITEMS, DEFAULT_BATCHES, DEFAULT_TRANSPORTS = 40, 8, 4
BULK_THRESHOLD = 2000
CHUNK = 2000
# Share of items that travel in batches, and of batches that sit on transports.
BATCHED_SHARE, ON_TRANSPORT_SHARE = 0.8, 0.75
# Transports cycle through every state; the last CREATED one still waits for its driver
# (startTransport answers NO_DRIVER).
STATE_CYCLE = (
    (TransportStatus.ARRIVED, True),
    (TransportStatus.IN_TRANSIT, True),
    (TransportStatus.CREATED, True),
    (TransportStatus.CREATED, False),
)


@dataclass
class Plan:
    """Which item goes into which batch, which batch onto which transport, and each end state."""

    transport_states: list[str]
    transport_drivers: list[int | None]  # index into the demo drivers, or None (no driver yet)
    batch_transport: list[int | None]
    item_batch: list[int | None]
    loose_status: dict[int, str] = field(default_factory=dict)


def make_plan(
    items: int,
    batches: int,
    transports: int,
    *,
    drivers: int,
    capacity: int,
    batch_capacity: int = services.MAX_BATCHES_PER_TRANSPORT,
) -> Plan:
    """Spread the counts over every state while keeping each transport within its limits."""
    on_transport = (
        min(batches, max(transports, round(batches * ON_TRANSPORT_SHARE))) if transports else 0
    )
    # Batch k rides transport k % transports while that transport has room.
    batch_transport: list[int | None] = [
        k % transports if k < on_transport and k // transports < batch_capacity else None
        for k in range(batches)
    ]
    loaded = {t for t in batch_transport if t is not None}
    cycle = [STATE_CYCLE[k % len(STATE_CYCLE)] for k in range(transports)]
    # A transport without batches cannot leave: it stays CREATED.
    states: list[str] = [
        state if k in loaded else TransportStatus.CREATED for k, (state, _) in enumerate(cycle)
    ]
    transport_drivers = [
        k % drivers if has_driver else None for k, (_, has_driver) in enumerate(cycle)
    ]
    batched = round(items * BATCHED_SHARE) if batches else 0
    batch_load = [0] * batches
    transport_load = [0] * transports
    item_batch: list[int | None] = []
    for k in range(items):
        b = k % batches if k < batched else None
        t = batch_transport[b] if b is not None else None
        if b is not None and (
            batch_load[b] >= capacity or (t is not None and transport_load[t] >= capacity)
        ):
            b = None  # full: the item waits outside any batch
        if b is not None:
            batch_load[b] += 1
            if t is not None:
                transport_load[t] += 1
        item_batch.append(b)
    loose = [k for k, b in enumerate(item_batch) if b is None]
    loose_status: dict[int, str] = {}
    for j, k in enumerate(loose):
        if j % 10 == 1:
            loose_status[k] = ShippingItemStatus.DAMAGED
        elif j % 10 == 2:
            loose_status[k] = ShippingItemStatus.LOST
    return Plan(states, transport_drivers, batch_transport, item_batch, loose_status)


class Command(BaseCommand):
    help = "Create demo users, centers and shipping data in every state (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--items", type=int, default=None, help=f"Demo items in all (default {DEFAULT_ITEMS})."
        )
        parser.add_argument(
            "--batches",
            type=int,
            default=None,
            help="Demo batches in all (default: items / 10, at least 8).",
        )
        parser.add_argument(
            "--transports",
            type=int,
            default=None,
            help="Demo transports in all (default: batches / 10, at least 4).",
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed for reproducible timestamps."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.IS_PRODUCTION:
            raise CommandError(
                "seed_demo writes demo accounts with a known password; it never runs in production."
            )
        items = options["items"] if options["items"] is not None else DEFAULT_ITEMS
        batches = (
            options["batches"]
            if options["batches"] is not None
            else max(DEFAULT_BATCHES, items // 10)
        )
        transports = (
            options["transports"]
            if options["transports"] is not None
            else max(DEFAULT_TRANSPORTS, batches // 10)
        )
        if min(items, batches, transports) < 0:
            raise CommandError("Counts cannot be negative.")
        self.random = random.Random(options["seed"])

        with transaction.atomic():
            staff_uuid = self.ensure_staff()
            driver_uuids = self.ensure_drivers()
        centers = [
            c.center_code for c in distribution_api.seed_demo_centers(staff_user_uuids=[staff_uuid])
        ]

        have_items = ShippingItem.objects.filter(sku__startswith=DEMO_PREFIX).count()
        have_batches = ShippingBatch.objects.filter(alias__startswith=DEMO_PREFIX).count()
        have_transports = Transport.objects.filter(
            source_center_code__in=centers, destination_center_code__in=centers
        ).count()
        missing = (
            max(0, items - have_items),
            max(0, batches - have_batches),
            max(0, transports - have_transports),
        )
        if any(missing):
            plan = make_plan(
                *missing, drivers=len(driver_uuids), capacity=services.MAX_ITEMS_PER_TRANSPORT
            )
            if missing[0] > BULK_THRESHOLD:
                self.bulk_seed(
                    plan, centers=centers, drivers=driver_uuids, verbosity=options["verbosity"]
                )
            else:
                self.seed_through_services(plan, centers=centers, drivers=driver_uuids)
        else:
            self.stdout.write("Demo shipping data already present; nothing added.")
        self.report(centers)

    # --- users -----------------------------------------------------------------------------------

    def ensure_staff(self) -> uuid.UUID:
        return user_api.demo_staff_ensure(
            username=DEMO_STAFF_USERNAME, password=DEMO_STAFF_PASSWORD, full_name="Demo Staff"
        )

    def ensure_drivers(self) -> list[uuid.UUID]:
        uuids = []
        for phone_number, full_name, _code in DEMO_DRIVERS:
            existing = user_api.user_uuid_for_phone_number(phone_number)
            if existing is None:
                try:
                    existing = user_api.register_user(
                        phone_number=phone_number,
                        user_type="DRIVER",
                        full_name=full_name,
                        date_of_birth=None,
                    ).uuid
                except ValidationError as exc:
                    raise CommandError(
                        f"Cannot create demo driver {phone_number}: {' '.join(exc.messages)}"
                    ) from None
            uuids.append(existing)
        return uuids

    # --- small seeds: through the services (events and all) --------------------------------------

    def seed_through_services(
        self, plan: Plan, *, centers: Sequence[str], drivers: Sequence[uuid.UUID]
    ) -> None:
        with transaction.atomic():
            items = [
                services.shipping_item_create(sku=f"{DEMO_PREFIX}SKU-{k % 50:02d}")
                for k in range(len(plan.item_batch))
            ]
            batches = [
                services.shipping_batch_create(alias=alias)
                for alias in self.free_aliases(len(plan.batch_transport))
            ]
            transports = [
                services.transport_create(
                    source_center_code=centers[k % len(centers)],
                    destination_center_code=centers[(k + 1) % len(centers)],
                    driver_uuid=drivers[d] if d is not None else None,
                )
                for k, d in enumerate(plan.transport_drivers)
            ]
            for b, batch in enumerate(batches):
                numbers = [
                    items[k].tracking_number for k, ib in enumerate(plan.item_batch) if ib == b
                ]
                for chunk in chunks(numbers, services.MAX_VALUES_PER_CALL):
                    services.shipping_batch_add_items(alias=batch.alias, tracking_numbers=chunk)
            for t, transport in enumerate(transports):
                aliases = [batches[b].alias for b, bt in enumerate(plan.batch_transport) if bt == t]
                if aliases:
                    services.transport_add_batches(transport_uuid=transport.uuid, aliases=aliases)
            for k, status in plan.loose_status.items():
                services.shipping_item_status_change(
                    tracking_number=items[k].tracking_number, status=status
                )
            for t, transport in enumerate(transports):
                if plan.transport_states[t] in (
                    TransportStatus.IN_TRANSIT,
                    TransportStatus.ARRIVED,
                ):
                    services.transport_start(transport_uuid=transport.uuid)
                if plan.transport_states[t] == TransportStatus.ARRIVED:
                    services.transport_complete(transport_uuid=transport.uuid)

    # --- large seeds: rows in bulk ---------------------------------------------------------------

    def bulk_seed(
        self, plan: Plan, *, centers: Sequence[str], drivers: Sequence[uuid.UUID], verbosity: int
    ) -> None:
        now = timezone.now()
        total = len(plan.transport_states) + len(plan.batch_transport) + 2 * len(plan.item_batch)
        with tqdm(total=total, unit="rows", desc="seed_demo", disable=verbosity == 0) as progress:
            transports = self.bulk_transports(plan, centers=centers, drivers=drivers, now=now)
            progress.update(len(transports))
            batches = self.bulk_batches(plan, transports, now=now)
            progress.update(len(batches))
            self.bulk_items(plan, transports, batches, now=now, progress=progress)

    def bulk_transports(
        self, plan: Plan, *, centers: Sequence[str], drivers: Sequence[uuid.UUID], now: dt.datetime
    ) -> list[Transport]:
        rows = []
        for k, state in enumerate(plan.transport_states):
            created = now - dt.timedelta(hours=self.random.randint(48, 96))
            departed = (
                created + dt.timedelta(hours=self.random.randint(1, 12))
                if state != TransportStatus.CREATED
                else None
            )
            arrived = (
                departed + dt.timedelta(hours=self.random.randint(1, 24))
                if state == TransportStatus.ARRIVED and departed is not None  # set: not CREATED
                else None
            )
            driver = plan.transport_drivers[k]
            rows.append(
                Transport(
                    status=state,
                    source_center_code=centers[k % len(centers)],
                    destination_center_code=centers[(k + 1) % len(centers)],
                    driver_uuid=drivers[driver] if driver is not None else None,
                    created_at=created,
                    departed_at=departed,
                    arrived_at=arrived,
                )
            )
        with transaction.atomic():
            transports = Transport.objects.bulk_create(rows)
            for transport in transports:  # centers in use cannot be deleted, as for any transport
                distribution_api.claim_centers(
                    [transport.source_center_code, transport.destination_center_code],
                    holder=transport.claim_holder,
                )
        return transports

    def bulk_batches(
        self, plan: Plan, transports: Sequence[Transport], *, now: dt.datetime
    ) -> list[ShippingBatch]:
        rows = []
        for alias, t in zip(
            self.free_aliases(len(plan.batch_transport)), plan.batch_transport, strict=True
        ):
            transport = transports[t] if t is not None else None
            arrived = transport.arrived_at if transport is not None else None
            created = (transport.created_at if transport else now) - dt.timedelta(
                hours=self.random.randint(1, 24)
            )
            rows.append(
                ShippingBatch(
                    alias=alias,
                    transport=transport,
                    created_at=created,
                    transport_assigned_at=transport.created_at if transport is not None else None,
                    completed=arrived is not None,
                    completed_at=arrived,
                )
            )
        batches = []
        for chunk in chunks(rows, CHUNK):
            with transaction.atomic():
                batches += ShippingBatch.objects.bulk_create(chunk)
        return batches

    def bulk_items(
        self,
        plan: Plan,
        transports: Sequence[Transport],
        batches: Sequence[ShippingBatch],
        *,
        now: dt.datetime,
        progress: tqdm,
    ) -> None:
        indexed = list(enumerate(plan.item_batch))
        for chunk in chunks(indexed, CHUNK):
            rows = []
            for k, b in chunk:
                batch = batches[b] if b is not None else None
                transport = (
                    transports[plan.batch_transport[b]]
                    if b is not None and plan.batch_transport[b] is not None
                    else None
                )
                arrived = transport is not None and transport.status == TransportStatus.ARRIVED
                if batch is None:
                    status = plan.loose_status.get(k, ShippingItemStatus.CREATED)
                else:
                    status = ShippingItemStatus.COMPLETED if arrived else ShippingItemStatus.MOVING
                rows.append(
                    ShippingItem(
                        sku=f"{DEMO_PREFIX}SKU-{k % 50:02d}",
                        status=status,
                        current_center_code=(
                            transport.destination_center_code
                            if arrived and transport is not None
                            else None
                        ),
                        created_at=(batch.created_at if batch else now)
                        - dt.timedelta(minutes=self.random.randint(1, 600)),
                        completed_at=(
                            transport.arrived_at if arrived and transport is not None else None
                        ),
                    )
                )
            created = self.insert_items(rows)
            progress.update(len(created))
            memberships = [
                BatchMembership(
                    batch=batches[b],
                    item=item,
                    batch_open=not batches[b].completed,
                    added_at=batches[b].created_at,
                )
                for (_k, b), item in zip(chunk, created, strict=True)
                if b is not None
            ]
            with transaction.atomic():
                BatchMembership.objects.bulk_create(memberships)
            progress.update(len(chunk))

    @staticmethod
    def insert_items(rows: list[ShippingItem]) -> list[ShippingItem]:
        """Insert a chunk with fresh tracking numbers; a (vanishingly rare) clash redraws them."""
        for _attempt in range(5):
            numbers: set[str] = set()
            while len(numbers) < len(rows):
                numbers.add(new_tracking_number())
            for row, number in zip(rows, numbers, strict=True):
                row.tracking_number = number
            try:
                with transaction.atomic():
                    return ShippingItem.objects.bulk_create(rows)
            except IntegrityError:
                continue
        raise CommandError("Could not draw unique tracking numbers; try again.")

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def free_aliases(count: int) -> Iterator[str]:
        taken = set(
            ShippingBatch.objects.filter(alias__startswith=DEMO_PREFIX).values_list(
                "alias", flat=True
            )
        )
        numbers = (f"{DEMO_PREFIX}{n:06d}" for n in itertools.count(1))
        return itertools.islice((alias for alias in numbers if alias not in taken), count)

    def report(self, centers: Sequence[str]) -> None:
        items = ShippingItem.objects.filter(sku__startswith=DEMO_PREFIX)
        transports = Transport.objects.filter(
            source_center_code__in=centers, destination_center_code__in=centers
        )
        by_item = {s: items.filter(status=s).count() for s in ShippingItemStatus.values}
        by_transport = {s: transports.filter(status=s).count() for s in TransportStatus.values}
        codes = ",".join(f"{phone}:{code}" for phone, _name, code in DEMO_DRIVERS)
        lines = [
            "Demo data ready (development only).",
            f"  Staff:   username {DEMO_STAFF_USERNAME}  password {DEMO_STAFF_PASSWORD}"
            "  (signInWithPassword)",
            *(
                f"  Driver:  {name}  phone {phone}  code {code}  (signInWithCode)"
                for phone, name, code in DEMO_DRIVERS
            ),
            *driver_sign_in_hint(codes),
            f"  Centers: {', '.join(centers)}",
            f"  Items:   {items.count()} ({', '.join(f'{s} {n}' for s, n in by_item.items())})",
            f"  Batches: {ShippingBatch.objects.filter(alias__startswith=DEMO_PREFIX).count()}",
            f"  Transports: {transports.count()} "
            f"({', '.join(f'{s} {n}' for s, n in by_transport.items())})",
        ]
        self.stdout.write("\n".join(lines))


def driver_sign_in_hint(codes: str) -> list[str]:
    """Whether the drivers' codes work on this server (`make run` sets AUTH_TEST_PHONE_NUMBERS),
    and if not, what to set."""
    configured = {entry.strip() for entry in settings.AUTH_TEST_PHONE_NUMBERS.split(",")}
    if set(codes.split(",")) <= configured:
        return ["  Driver sign-in works: these are test numbers here (nothing is sent)."]
    return [
        "  Driver sign-in needs the test numbers (`make run` sets them); for another server set",
        f'    AUTH_TEST_PHONE_NUMBERS="{codes}"',
    ]


def chunks(values: Sequence[Any] | Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(values)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
