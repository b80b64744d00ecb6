"""The functions' AWS side against a moto server and a live gateway: KMS, DynamoDB, SNS, SSM."""

from __future__ import annotations

import uuid

import pytest

from events.sealing import SealBroken, open_sealed_code, seal
from infra.functions.heartbeat import app as heartbeat
from infra.functions.notification import app as notification
from infra.functions.shared import gateway
from infra.functions.shared.idempotency import DynamoDbProcessedEvents, once
from infra.functions.shared.sealing import SealUnopenable, open_sealed
from tests.events.conftest import aws_client
from tests.events.test_functions import code_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealing_key(moto_server, settings, monkeypatch):
    key = aws_client("kms").create_key(Description="event sealing")["KeyMetadata"]
    settings.EVENTS_SEALING_KMS_KEY = key["Arn"]
    monkeypatch.setenv("SEALING_KEY_ARN", key["Arn"])
    return key["Arn"]


@pytest.fixture
def processed_events_table(moto_server, monkeypatch):
    name = f"processed-{uuid.uuid4().hex[:8]}"
    aws_client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("PROCESSED_EVENTS_TABLE", name)
    return name


@pytest.fixture
def notices_topic(moto_server, monkeypatch):
    sns, sqs = aws_client("sns"), aws_client("sqs")
    topic = sns.create_topic(Name="notices")["TopicArn"]
    queue = sqs.create_queue(QueueName="notices-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    monkeypatch.setenv("NOTIFIER", "sns")
    monkeypatch.setenv("NOTICES_TOPIC_ARN", topic)
    return queue


def sms_sent() -> list[tuple[str, str]]:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())


def test_kms_seals_the_code_and_only_the_key_opens_it(sealing_key):
    sealed = seal("482913")
    assert sealed.startswith("kms:") and "482913" not in sealed
    assert open_sealed_code(sealed) == "482913"  # the gateway's own opener
    assert open_sealed(sealed) == "482913"  # the notification function's
    with pytest.raises((SealUnopenable, SealBroken)):
        open_sealed(sealed[:-8] + "AAAAAAA=")


def test_in_aws_the_notification_function_sends_the_kms_sealed_code_by_sms_once(
    sealing_key, processed_events_table, notices_topic
):
    event = code_event("+15550100077", "913377")
    assert notification.handler(event, None)["status"] == "sent"
    assert notification.handler(event, None)["status"] == "duplicate"  # DynamoDB remembered it
    sent = [(phone, text) for phone, text in sms_sent() if phone == "+15550100077"]
    assert len(sent) == 1 and "913377" in sent[0][1]


def test_in_aws_transport_notices_go_to_the_topic_for_the_center(
    processed_events_table, notices_topic
):
    from tests.events.test_functions import transport_event

    notification.handler(transport_event("TransportCompleted", ["MJ1"]), None)
    messages = aws_client("sqs").receive_message(
        QueueUrl=notices_topic, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    (message,) = messages
    assert "arrived at BOS01 with 1 item" in message["Body"]


def test_the_dynamodb_store_claims_conditionally(processed_events_table):
    store = DynamoDbProcessedEvents(processed_events_table, client=aws_client("dynamodb"))
    with pytest.raises(RuntimeError), once(store, "k") as first:
        assert first
        raise RuntimeError("failed")
    assert store.claim("k")  # released after the failure
    assert not store.claim("k")  # now in progress
    store.complete("k")
    assert not store.claim("k")


@pytest.fixture
def function_api_key(monkeypatch):
    from modules.auth.services import api_key_create

    monkeypatch.setattr(gateway, "_api_key", None)  # a cold start
    yield lambda *scopes: api_key_create(name=f"fn-{uuid.uuid4().hex[:8]}", scopes=list(scopes)).key
    gateway._api_key = None


def test_in_aws_the_heartbeat_calls_the_gateway_over_http_with_the_key_from_ssm(
    live_server, moto_server, monkeypatch, function_api_key
):
    from events.models import Heartbeat

    aws_client("ssm").put_parameter(
        Name="/majestic/api-keys/heartbeat",
        Value=function_api_key("HEARTBEAT"),
        Type="SecureString",
    )
    monkeypatch.setenv("GATEWAY_URL", f"{live_server.url}/graphql/")
    monkeypatch.setenv("GATEWAY_API_KEY_PARAMETER", "/majestic/api-keys/heartbeat")
    result = heartbeat.handler(
        {"id": "tick-1", "detail-type": "Scheduled Event", "detail": {}}, None
    )
    assert result["status"] == "ok"
    assert Heartbeat.objects.get().tasks == result["tasks"]


def test_over_http_a_key_without_the_scope_is_refused(live_server, monkeypatch, function_api_key):
    monkeypatch.setenv("GATEWAY_URL", f"{live_server.url}/graphql/")
    monkeypatch.setenv("GATEWAY_API_KEY", function_api_key("DISTRIBUTION"))
    with pytest.raises(gateway.GatewayError) as refused:
        heartbeat.handler({"id": "tick-2", "detail": {}}, None)
    assert refused.value.codes == ["FORBIDDEN"]


def test_an_unreachable_gateway_fails_the_invocation(monkeypatch):
    monkeypatch.setenv("GATEWAY_URL", "http://127.0.0.1:9/graphql/")
    monkeypatch.setenv("GATEWAY_API_KEY", "mk_test")
    monkeypatch.setattr(gateway, "_api_key", None)
    with pytest.raises(gateway.GatewayError, match="unreachable"):
        heartbeat.handler({"id": "tick-3", "detail": {}}, None)


# --- the API key from SSM: kept a while, read again when the gateway refuses it ----------------


@pytest.fixture
def rotation(live_server, moto_server, monkeypatch, function_api_key):
    """The heartbeat over HTTP with its key in SSM; records the key each request carried."""
    parameter = "/majestic/api-keys/heartbeat"
    now = [1000.0]
    sent_keys: list[str] = []
    post = gateway.Gateway._post

    def recording(self, url, request_body, key):
        sent_keys.append(key)
        return post(self, url, request_body, key)

    monkeypatch.setattr(gateway.Gateway, "_post", recording)
    monkeypatch.setattr(gateway, "_clock", lambda: now[0])
    monkeypatch.setenv("GATEWAY_URL", f"{live_server.url}/graphql/")
    monkeypatch.setenv("GATEWAY_API_KEY_PARAMETER", parameter)
    monkeypatch.delenv("GATEWAY_API_KEY", raising=False)

    class Rotation:
        keys = sent_keys
        clock = now

        @staticmethod
        def store(key: str) -> None:
            aws_client("ssm").put_parameter(
                Name=parameter, Value=key, Type="SecureString", Overwrite=True
            )

        @staticmethod
        def new_key() -> tuple[str, str]:
            from modules.auth.services import api_key_create

            name = f"hb-{uuid.uuid4().hex[:8]}"
            return name, api_key_create(name=name, scopes=["HEARTBEAT"]).key

        @staticmethod
        def tick() -> dict:
            return heartbeat.handler({"id": f"tick-{uuid.uuid4().hex[:6]}", "detail": {}}, None)

    return Rotation


def test_the_key_read_from_ssm_is_kept_between_invocations(rotation):
    _, key = rotation.new_key()
    rotation.store(key)
    assert rotation.tick()["status"] == "ok"
    aws_client("ssm").delete_parameter(Name="/majestic/api-keys/heartbeat")
    assert rotation.tick()["status"] == "ok"  # from the cache: SSM was not asked again
    assert rotation.keys == [key, key]


def test_a_rotated_key_works_at_once_without_a_cold_start(rotation):
    from modules.auth.services import api_key_revoke

    old_name, old = rotation.new_key()
    rotation.store(old)
    assert rotation.tick()["status"] == "ok"
    _, new = rotation.new_key()
    rotation.store(new)
    api_key_revoke(name=old_name)  # the rotation: the old key is refused from now on
    assert rotation.tick()["status"] == "ok"  # 401 with the old key, read SSM again, retried
    assert rotation.keys == [old, old, new]
    assert rotation.tick()["status"] == "ok"
    assert rotation.keys[-1] == new  # the new key is kept


def test_after_the_ttl_the_key_is_read_again_without_a_refusal_first(rotation, monkeypatch):
    monkeypatch.setenv("GATEWAY_API_KEY_TTL_SECONDS", "300")
    _, old = rotation.new_key()
    rotation.store(old)
    rotation.tick()
    _, new = rotation.new_key()
    rotation.store(new)
    rotation.clock[0] += 299
    rotation.tick()
    rotation.clock[0] += 1  # the edge: 300 s after the read
    rotation.tick()
    assert rotation.keys == [old, old, new]


def test_a_refused_key_that_ssm_still_holds_is_not_retried(rotation):
    from modules.auth.services import api_key_revoke

    name, key = rotation.new_key()
    rotation.store(key)
    api_key_revoke(name=name)  # revoked, but nobody stored a new one
    with pytest.raises(gateway.GatewayError) as refused:
        rotation.tick()
    assert refused.value.codes == ["UNAUTHENTICATED"]
    assert rotation.keys == [key]  # one request: the same key is not sent twice
