"""Fixtures for the event tests: a recording template for the local bus, a moto server."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.events import recording

TESTS_DIR = Path(__file__).resolve().parent

RECORDING_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  EventBusName: {{Type: String, Default: majestic-events}}
  EventSourcePrefix: {{Type: String, Default: {prefix}}}
Globals:
  Function:
    Runtime: python3.13
    CodeUri: {code_dir}
Resources:
  EventBus:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Ref EventBusName
  RecordingFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: recording.handler
      Events:
        Everything:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref EventBus
            Pattern:
              source:
                - prefix: !Sub "${{EventSourcePrefix}}."
  FlakyFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: recording.flaky_handler
      Events:
        Flaky:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref EventBus
            Pattern:
              detail-type: [FlakyHappened]
"""


@pytest.fixture
def recording_bus(tmp_path: Path, settings: Any) -> list[dict[str, Any]]:
    """Route every event of ours to tests/events/recording.py; returns what it received."""
    template = tmp_path / "template.yaml"
    template.write_text(
        RECORDING_TEMPLATE.format(code_dir=TESTS_DIR, prefix=settings.EVENTS_SOURCE_PREFIX)
    )
    settings.EVENTS_TEMPLATE_PATH = str(template)
    settings.EVENTS_BACKEND = "local"
    recording.reset()
    return recording.RECEIVED


@pytest.fixture
def notifications_file(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "notifications.jsonl"
    settings.NOTIFICATIONS_FILE = str(path)
    return path


def read_notifications(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- a moto server on loopback --------------------------------------------------------------------


@dataclass
class MotoEndpoint:
    server: Any
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Take the endpoint away: connections are refused until `start_again`."""
        self.server.stop()
        self.server._server.server_close()  # shutdown() alone leaves the socket listening

    def start_again(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self.server.start()

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=5).close()


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Any:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = MotoEndpoint(server, host, port)
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    yield endpoint
    try:
        endpoint.reset()
    finally:
        endpoint.stop()


def aws_client(service: str) -> Any:
    import boto3

    return boto3.session.Session().client(service)


def build_bus_from_template(routing: Any) -> dict[str, str]:
    """On the moto server: the bus, each event rule of the template with its pattern, and one SQS
    queue per function standing in for it as the rules' target. Returns function -> queue URL."""
    events, sqs = aws_client("events"), aws_client("sqs")
    bus = settings.EVENTBRIDGE_BUS_NAME
    events.create_event_bus(Name=bus)
    queues: dict[str, str] = {}
    for rule in routing.event_rules():
        function = rule.function.logical_id
        if function not in queues:
            queues[function] = sqs.create_queue(QueueName=f"{function}-target")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queues[function], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        name = rule.name.replace(".", "-")
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(rule.pattern_document))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "function", "Arn": arn}])
    return queues


def drain_queue(queue_url: str) -> list[dict[str, Any]]:
    """Every event waiting in the queue (EventBridge's event objects), removing them."""
    sqs = aws_client("sqs")
    received: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return received
        for message in messages:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
