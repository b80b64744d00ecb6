"""Ops through GraphQL: heartbeat housekeeping, systemStatus, and re-driving dead events."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from events import emit
from events.models import Heartbeat, OutboxEvent
from tests.events.sample_events import weighed
from tests.factories import make_driver, make_staff

pytestmark = pytest.mark.django_db

PENDING, SENT, DEAD = OutboxEvent.Status.PENDING, OutboxEvent.Status.SENT, OutboxEvent.Status.DEAD

HEARTBEAT = (
    "mutation { heartbeat { receivedAt tasks { name count } errors { field message code } } }"
)
STATUS = """
{ systemStatus { lastHeartbeatAt pendingEvents retryingEvents failedEvents oldestPendingEventAge } }
"""
REDRIVE = """
mutation Redrive($ids: [UUID!]) {
  redriveEvents(eventIds: $ids) { redrivenCount errors { field message code } }
}
"""


def api_key(*scopes: str) -> str:
    from modules.auth.services import api_key_create

    return f"Api-Key {api_key_create(name=f'ops-{uuid.uuid4().hex[:8]}', scopes=list(scopes)).key}"


def tasks_of(result) -> dict[str, int]:
    payload = result["data"]["heartbeat"]
    assert payload["errors"] == []
    return {task["name"]: task["count"] for task in payload["tasks"]}


def make_dead(n: int = 1) -> list[OutboxEvent]:
    with transaction.atomic():
        rows = [emit(weighed(i)) for i in range(n)]
    OutboxEvent.objects.filter(id__in=[r.id for r in rows]).update(
        status=DEAD, attempts=8, last_error="gone"
    )
    return rows


# --- heartbeat ------------------------------------------------------------------------------------


def test_heartbeat_runs_housekeeping_and_records_when(gql):
    result = gql(HEARTBEAT, as_=api_key("HEARTBEAT"))
    tasks = tasks_of(result)
    assert {
        "verificationCodesPurged",
        "refreshTokensPurged",
        "sentEventsPurged",
        "dueEventsRedriven",
        "deadEvents",
    } <= set(tasks)
    assert result["data"]["heartbeat"]["receivedAt"]
    status = gql(STATUS, as_=make_staff())["data"]["systemStatus"]
    assert status["lastHeartbeatAt"] == result["data"]["heartbeat"]["receivedAt"]
    assert Heartbeat.objects.get().tasks == tasks


def test_heartbeat_purges_expired_codes_and_is_safe_to_repeat(gql):
    from modules.auth.models import VerificationCode

    long_ago = timezone.now() - timedelta(days=2)
    VerificationCode.objects.create(
        phone_digest="d",
        purpose="SIGN_IN",
        code_digest="c",
        created_at=long_ago,
        expires_at=long_ago,
    )
    key = api_key("HEARTBEAT")
    assert tasks_of(gql(HEARTBEAT, as_=key))["verificationCodesPurged"] == 1
    assert tasks_of(gql(HEARTBEAT, as_=key))["verificationCodesPurged"] == 0
    assert VerificationCode.objects.count() == 0


def test_heartbeat_relays_due_events_counts_dead_ones_and_purges_old_sent_ones(gql, recording_bus):
    with transaction.atomic():
        due = [emit(weighed(n)) for n in range(3)]
        old = emit(weighed(9))
    OutboxEvent.objects.filter(id=old.id).update(
        status=SENT, sent_at=timezone.now() - timedelta(days=30)
    )
    make_dead(2)

    tasks = tasks_of(gql(HEARTBEAT, as_=api_key("HEARTBEAT")))

    assert (tasks["dueEventsRedriven"], tasks["deadEvents"], tasks["sentEventsPurged"]) == (3, 2, 1)
    assert OutboxEvent.objects.filter(id__in=[r.id for r in due], status=SENT).count() == 3
    assert not OutboxEvent.objects.filter(id=old.id).exists()


@pytest.mark.parametrize(
    "caller,code",
    [
        (lambda: None, "UNAUTHENTICATED"),
        (make_staff, "FORBIDDEN"),
        (lambda: api_key("DISTRIBUTION", "NOTIFICATION"), "FORBIDDEN"),
    ],
)
def test_only_a_heartbeat_key_may_beat(gql, caller, code):
    payload = gql(HEARTBEAT, as_=caller())["data"]["heartbeat"]
    assert [e["code"] for e in payload["errors"]] == [code]
    assert payload["receivedAt"] is None and payload["tasks"] == []
    assert not Heartbeat.objects.exists()


# --- systemStatus ---------------------------------------------------------------------------------


def test_staff_see_the_state_of_the_outbox(gql):
    with transaction.atomic():
        rows = [emit(weighed(n)) for n in range(4)]
    OutboxEvent.objects.filter(id=rows[0].id).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    OutboxEvent.objects.filter(id=rows[1].id).update(attempts=2, last_error="InternalFailure")
    OutboxEvent.objects.filter(id=rows[2].id).update(status=SENT)
    make_dead(1)

    status = gql(STATUS, as_=make_staff())["data"]["systemStatus"]

    assert (status["pendingEvents"], status["retryingEvents"], status["failedEvents"]) == (3, 1, 1)
    assert 600 <= status["oldestPendingEventAge"] < 3600
    assert status["lastHeartbeatAt"] is None


def test_with_nothing_pending_there_is_no_oldest_age(gql):
    status = gql(STATUS, as_=make_staff())["data"]["systemStatus"]
    assert (status["pendingEvents"], status["oldestPendingEventAge"]) == (0, None)


@pytest.mark.parametrize(
    "caller,code",
    [
        (lambda: None, "UNAUTHENTICATED"),
        (make_driver, "FORBIDDEN"),
        (lambda: api_key("HEARTBEAT"), "FORBIDDEN"),
    ],
)
def test_only_staff_see_the_system_status(gql, caller, code):
    result = gql(STATUS, as_=caller(), expect_errors=True)
    assert result.error_codes == [code] and result["data"] is None


# --- redriveEvents --------------------------------------------------------------------------------


def test_staff_redrive_every_dead_event_and_the_relay_delivers_them(gql, recording_bus):
    from events.relay import drain

    dead = make_dead(3)
    payload = gql(REDRIVE, as_=make_staff())["data"]["redriveEvents"]
    assert payload == {"redrivenCount": 3, "errors": []}
    assert set(OutboxEvent.objects.values_list("status", "attempts")) == {(PENDING, 0)}
    drain()
    assert OutboxEvent.objects.filter(status=SENT).count() == 3
    assert sorted(r["event"]["detail"]["eventId"] for r in recording_bus) == sorted(
        str(r.event_id) for r in dead
    )


def test_staff_redrive_the_dead_events_they_name(gql):
    dead = make_dead(3)
    payload = gql(REDRIVE, {"ids": [str(dead[1].event_id)]}, as_=make_staff())["data"][
        "redriveEvents"
    ]
    assert payload["redrivenCount"] == 1
    assert OutboxEvent.objects.get(id=dead[1].id).status == PENDING
    assert OutboxEvent.objects.filter(status=DEAD).count() == 2


@pytest.mark.parametrize(
    "ids,field,code",
    [
        (lambda dead, sent: [str(uuid.uuid4())], None, "NOT_FOUND"),
        (lambda dead, sent: [str(dead.event_id), str(sent.event_id)], "eventIds", "INVALID"),
        (lambda dead, sent: [], "eventIds", "INVALID"),
    ],
)
def test_redriving_unknown_or_live_events_changes_nothing(gql, ids, field, code):
    (dead,) = make_dead(1)
    with transaction.atomic():
        sent = emit(weighed(5))
    OutboxEvent.objects.filter(id=sent.id).update(status=SENT)
    payload = gql(REDRIVE, {"ids": ids(dead, sent)}, as_=make_staff())["data"]["redriveEvents"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert payload["redrivenCount"] == 0
    assert OutboxEvent.objects.get(id=dead.id).status == DEAD


@pytest.mark.parametrize(
    "caller,code",
    [
        (lambda: None, "UNAUTHENTICATED"),
        (make_driver, "FORBIDDEN"),
        (lambda: api_key("HEARTBEAT"), "FORBIDDEN"),
    ],
)
def test_only_staff_may_redrive(gql, caller, code):
    make_dead(1)
    payload = gql(REDRIVE, as_=caller())["data"]["redriveEvents"]
    assert [e["code"] for e in payload["errors"]] == [code]
    assert OutboxEvent.objects.filter(status=DEAD).count() == 1


def test_an_admin_redrives_dead_events_from_the_outbox_list(client):
    from tests.factories import make_superuser

    dead = make_dead(2)
    client.force_login(make_superuser())
    response = client.post(
        "/admin/events/outboxevent/",
        {"action": "redrive", "_selected_action": [dead[0].pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert OutboxEvent.objects.get(id=dead[0].id).status == PENDING
    assert OutboxEvent.objects.get(id=dead[1].id).status == DEAD


def test_the_outbox_admin_shows_no_phone_number_or_sealed_code(client):
    from modules.auth.events import VerificationCodeRequested
    from tests.factories import make_superuser

    with transaction.atomic():
        emit(
            VerificationCodeRequested(
                phone_number="+821098765432",
                purpose="SIGN_IN",
                expires_at=timezone.now().isoformat(),
                sealed_code="sealed-secret-value",
            )
        )
    row = OutboxEvent.objects.get(detail_type="VerificationCodeRequested")
    client.force_login(make_superuser())
    page = client.get(f"/admin/events/outboxevent/{row.pk}/change/").content.decode()
    assert str(row.event_id) in page and "SIGN_IN" in page  # the rest of the detail is shown
    assert "98765432" not in page and "sealed-secret-value" not in page


def test_heartbeat_runs_the_tasks_each_module_contributes(gql, monkeypatch):
    """A module adds its own housekeeping in its api.py (HOUSEKEEPING); ops names none of them."""
    from modules.user import api as user_api

    runs: list[str] = []

    def count_probes() -> int:
        runs.append("ran")
        return 7

    monkeypatch.setattr(user_api, "HOUSEKEEPING", {"probesCounted": count_probes}, raising=False)

    tasks = tasks_of(gql(HEARTBEAT, as_=api_key("HEARTBEAT")))

    assert tasks["probesCounted"] == 7 and runs == ["ran"]
