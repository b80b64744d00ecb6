"""The event catalog: schemas derived from the declarations, enforced at emit, committed as JSON."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import transaction

from events import Event, emit
from events.catalog import (
    CATALOG_PATH,
    InvalidEventData,
    UnsupportedFieldType,
    catalog_json,
    data_schema,
    discover,
    for_live_subscribers,
)
from events.models import OutboxEvent
from tests.events.sample_events import Leg, ParcelWeighed, RoutePlanned, weighed

# The events the public contract promises (at least); each must be declared by its module.
API_EVENTS = {
    "VerificationCodeRequested", "UserSignedUp", "UserProfileUpdated", "UserBanned",
    "UserUnregistered", "DistributionCenterCreated", "CenterStaffChanged", "DepartureRecorded",
    "ArrivalRecorded", "ShippingItemCreated", "ShippingItemStatusChanged", "ItemsAddedToBatch",
    "BatchesAddedToTransport", "DriverAssigned", "TransportStarted", "TransportCompleted",
}  # fmt: skip

# What the functions read from an event's data (infra/functions): the catalog must promise it.
FUNCTIONS_READ = {
    "TransportStarted": {
        "transportUuid",
        "sourceCenterCode",
        "destinationCenterCode",
        "trackingNumbers",
    },
    "TransportCompleted": {
        "transportUuid",
        "sourceCenterCode",
        "destinationCenterCode",
        "trackingNumbers",
    },
    "VerificationCodeRequested": {"phoneNumber", "purpose", "expiresAt", "sealedCode"},
    "UserSignedUp": {"userUuid", "userType"},
}


@pytest.fixture
def event_modules(settings):
    """Point discovery at other modules for one test."""

    def use(*modules: str) -> None:
        settings.EVENT_MODULES = list(modules)
        discover.cache_clear()

    yield use
    discover.cache_clear()


def test_the_schema_is_derived_from_the_field_types():
    assert data_schema(ParcelWeighed) == {
        "type": "object",
        "properties": {
            "trackingNumber": {"type": "string", "pattern": "^MJ[0-9]+$"},
            "weightGrams": {"type": "integer"},
            "scale": {"enum": ["FLOOR", "BENCH"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "note": {"type": ["string", "null"]},
        },
        "required": ["trackingNumber", "weightGrams", "scale", "tags", "note"],
        "additionalProperties": False,
    }


def test_nested_dataclasses_and_maps_get_schemas_too():
    schema = data_schema(RoutePlanned)
    leg = schema["properties"]["legs"]["items"]
    assert leg["properties"] == {"centerCode": {"type": "string"}, "minutes": {"type": "number"}}
    assert schema["properties"]["counts"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    # dict keys are data, not field names: they keep their spelling
    assert RoutePlanned(legs=[Leg("NY_01", 2.5)], counts={"NY_01": 1}).data() == {
        "legs": [{"centerCode": "NY_01", "minutes": 2.5}],
        "counts": {"NY_01": 1},
    }


def test_a_field_that_is_not_json_native_is_refused_with_a_hint():
    @dataclass(frozen=True)
    class Stamped(Event):
        module = "testing"
        transport_uuid: uuid.UUID

    with pytest.raises(
        UnsupportedFieldType, match=r"Stamped\.transport_uuid: UUID is not JSON-native.*str"
    ):
        data_schema(Stamped)


@pytest.mark.django_db
def test_data_that_breaks_the_schema_is_refused_at_emit_naming_the_field_not_the_value():
    with pytest.raises(InvalidEventData) as refused, transaction.atomic():
        emit(ParcelWeighed(tracking_number="MJ1", weight_grams="heavy-secret"))  # type: ignore[arg-type]  # the wrong type under test
    message = str(refused.value)
    assert "ParcelWeighed.data.weightGrams" in message and "'type'" in message
    assert "heavy-secret" not in message
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "event,where",
    [
        (
            ParcelWeighed(tracking_number="XX1", weight_grams=1),
            "data.trackingNumber fails 'pattern'",
        ),
        (
            ParcelWeighed(tracking_number="MJ1", weight_grams=1, scale="ROOF"),  # type: ignore[arg-type]  # the wrong value under test
            "data.scale fails 'enum'",
        ),
        (
            ParcelWeighed(tracking_number="MJ1", weight_grams=1, tags=["a", 2]),  # type: ignore[list-item]  # the wrong value under test
            "data.tags[1] fails 'type'",
        ),
        (ParcelWeighed(tracking_number=uuid.uuid4(), weight_grams=1), "got a UUID"),  # type: ignore[arg-type]  # the wrong type under test
    ],
)
def test_each_kind_of_bad_data_is_named(event, where):
    with (
        pytest.raises(InvalidEventData, match=__import__("re").escape(where)),
        transaction.atomic(),
    ):
        emit(event)


@pytest.mark.django_db
def test_valid_data_passes():
    with transaction.atomic():
        emit(weighed(1, scale="BENCH", tags=["a"], note="ok"))
    assert OutboxEvent.objects.count() == 1


def test_the_committed_catalog_matches_the_declarations():
    assert CATALOG_PATH.read_text() == catalog_json(), (
        "events/catalog.json is stale: run `make catalog` and commit it"
    )


def test_the_catalog_command_prints_what_it_would_write():
    out = io.StringIO()
    call_command("export_event_catalog", "--stdout", stdout=out)
    assert out.getvalue() == catalog_json()


def test_the_catalog_holds_every_event_api_md_promises():
    catalog = json.loads(CATALOG_PATH.read_text())
    declared = {entry["detailType"] for entry in catalog["events"]}
    missing = API_EVENTS - declared
    assert not missing, f"missing: {sorted(missing)}"
    for entry in catalog["events"]:
        assert entry["source"] == f"{catalog['sourcePrefix']}.{entry['module']}"
        assert entry["dataSchema"]["type"] == "object"


def test_the_catalog_promises_what_the_functions_read():
    catalog = {e["detailType"]: e for e in json.loads(CATALOG_PATH.read_text())["events"]}
    for detail_type, keys in FUNCTIONS_READ.items():
        assert keys <= set(catalog[detail_type]["dataSchema"]["required"]), detail_type


def test_no_event_carries_a_verification_code_in_clear():
    schema = json.loads(CATALOG_PATH.read_text())
    code_event = next(e for e in schema["events"] if e["detailType"] == "VerificationCodeRequested")
    assert "sealedCode" in code_event["dataSchema"]["properties"]
    assert "code" not in code_event["dataSchema"]["properties"]


def test_discovery_finds_declared_events_and_skips_apps_without_events(event_modules):
    event_modules(
        "tests.events.sample_events", "tests.events.no_such_module", "modules.no_such_app.events"
    )
    assert set(discover()) == {"ParcelWeighed", "FlakyHappened", "BulkyHappened", "RoutePlanned"}


def test_two_modules_declaring_the_same_event_fail_at_start_up(event_modules):
    event_modules("tests.events.sample_events", "tests.events.duplicate_events")
    with pytest.raises(ImproperlyConfigured, match="ParcelWeighed is declared by both"):
        discover()


# --- sensitive data and the live stream ----------------------------------------------------------

# Per event, the data keys that are personal or secret. Everything else carries uuids, codes of
# centers, tracking numbers, SKUs, aliases and center names only. A new event with personal data
# must be declared here and on its class.
SENSITIVE = {"VerificationCodeRequested": ["phoneNumber", "sealedCode"]}


def test_the_catalog_names_the_sensitive_fields_of_every_event():
    catalog = json.loads(CATALOG_PATH.read_text())
    declared = {e["detailType"]: e["sensitiveFields"] for e in catalog["events"]}
    assert {name: keys for name, keys in declared.items() if keys} == SENSITIVE
    for name, keys in declared.items():
        entry = next(e for e in catalog["events"] if e["detailType"] == name)
        assert set(keys) <= set(entry["dataSchema"]["properties"]), name


def test_a_sensitive_field_that_names_no_field_fails_at_start_up(event_modules):
    event_modules("tests.events.misdeclared_events")
    with pytest.raises(ImproperlyConfigured, match="CodeSent marks unknown fields as sensitive"):
        discover()


def _envelope(detail_type: str, data: dict) -> dict:
    detail = {"eventId": str(uuid.uuid4()), "occurredAt": "2026-01-01T00:00:00Z", "data": data}
    return {"source": "majestic.auth", "detailType": detail_type, "detail": detail}


def test_live_subscribers_get_an_event_without_its_sensitive_fields():
    data = {
        "phoneNumber": "+821012345678",
        "purpose": "SIGN_IN",
        "expiresAt": "2026-01-01T00:03:00Z",
        "sealedCode": "gAAAAAsealed",
    }
    envelope = _envelope("VerificationCodeRequested", data)
    live = for_live_subscribers(envelope)
    assert live["detail"]["data"] == {"purpose": "SIGN_IN", "expiresAt": "2026-01-01T00:03:00Z"}
    assert live["detail"]["redacted"] == ["phoneNumber", "sealedCode"]
    assert live["detail"]["eventId"] == envelope["detail"]["eventId"]
    assert envelope["detail"]["data"] == data  # the bus's copy is untouched
    assert for_live_subscribers(live) == live  # applying it twice changes nothing


def test_events_without_sensitive_fields_go_to_live_subscribers_as_they_are():
    declared = _envelope("UserSignedUp", {"userUuid": str(uuid.uuid4()), "userType": "DRIVER"})
    undeclared = _envelope("SomethingLocal", {"phoneNumber": "x"})  # no module declares it
    assert for_live_subscribers(declared) is declared
    assert for_live_subscribers(undeclared) is undeclared


@pytest.mark.django_db
def test_data_refused_by_the_compiled_check_gets_jsonschemas_error_the_first_by_path():
    # Two faults: the compiled check (fastjsonschema) meets weightGrams' first in its own order;
    # the error reported stays jsonschema's, word for word, naming the first field by path.
    bad = ParcelWeighed(tracking_number="XX1", weight_grams="heavy")  # type: ignore[arg-type]  # the wrong type under test
    with pytest.raises(InvalidEventData) as refused, transaction.atomic():
        emit(bad)
    assert str(refused.value) == (
        "ParcelWeighed.data.trackingNumber fails 'pattern' (expected '^MJ[0-9]+$'; got a str)"
    )
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_valid_data_is_checked_by_the_compiled_schema_alone(monkeypatch):
    from jsonschema import Draft202012Validator

    jsonschema_runs = []

    def iter_errors(*args, **kwargs):
        jsonschema_runs.append(args)
        return iter(())

    monkeypatch.setattr(Draft202012Validator, "iter_errors", iter_errors)
    with transaction.atomic():
        emit(weighed(2, scale="BENCH", tags=["a"], note=None))
    assert jsonschema_runs == []
    assert OutboxEvent.objects.count() == 1
