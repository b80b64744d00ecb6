"""infra/template.yaml: each rule routes exactly the events meant for its function, safely."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from events.catalog import CATALOG_PATH
from events.template import TemplateError, load_template, read_routing

TEMPLATE = Path(settings.BASE_DIR) / "infra" / "template.yaml"

# Which events each function is for (docs/ARCHITECTURE.md, "An event's path").
MEANT_FOR = {
    "DistributionFunction": {"TransportStarted", "TransportCompleted"},
    "NotificationFunction": {
        "VerificationCodeRequested",
        "UserSignedUp",
        "TransportStarted",
        "TransportCompleted",
    },
    "HeartbeatFunction": set(),
}


@pytest.fixture(scope="module")
def routing():
    return read_routing(TEMPLATE)


def catalog_events() -> list[dict]:
    catalog = json.loads(CATALOG_PATH.read_text())
    return [
        {
            "version": "0",
            "id": "00000000-0000-0000-0000-000000000000",
            "source": entry["source"],
            "detail-type": entry["detailType"],
            "account": "000000000000",
            "region": "local",
            "time": "2026-11-28T00:00:00Z",
            "resources": [],
            "detail": {"eventId": "e", "data": {}},
        }
        for entry in catalog["events"]
    ]


@pytest.mark.parametrize("function", sorted(MEANT_FOR))
def test_each_function_receives_exactly_the_catalog_events_meant_for_it(routing, function):
    received = {
        event["detail-type"]
        for event in catalog_events()
        if any(rule.function.logical_id == function for rule in routing.rules_matching(event))
    }
    assert received == MEANT_FOR[function]


def test_every_event_type_meant_for_a_function_is_in_the_catalog():
    declared = {e["detail-type"] for e in catalog_events()}
    assert set().union(*MEANT_FOR.values()) <= declared


def test_rules_check_the_source_too(routing):
    impostor = {"source": "majestic.user", "detail-type": "TransportStarted", "detail": {}}
    elsewhere = {"source": "other.shipping", "detail-type": "TransportCompleted", "detail": {}}
    assert routing.rules_matching(impostor) == [] and routing.rules_matching(elsewhere) == []


def test_rules_follow_the_configured_source_prefix():
    routing = read_routing(TEMPLATE, parameters={"EventSourcePrefix": "acme"})
    event = {"source": "acme.shipping", "detail-type": "TransportCompleted", "detail": {}}
    assert {r.function.logical_id for r in routing.rules_matching(event)} == {
        "DistributionFunction",
        "NotificationFunction",
    }


def test_every_rule_is_on_the_custom_bus_with_a_retry_policy_and_a_dead_letter_queue(routing):
    assert routing.bus_name == "majestic-events"
    for rule in routing.rules:
        if rule.pattern is not None:
            assert rule.event_bus == "majestic-events", rule.name
        assert rule.retry_policy.get("MaximumRetryAttempts") is not None, rule.name
        assert rule.retry_policy.get("MaximumEventAgeInSeconds") is not None, rule.name
        assert rule.dead_letter.get("Type") == "SQS" or rule.dead_letter.get("Arn"), rule.name


def test_heartbeat_runs_every_five_minutes(routing):
    (schedule,) = routing.schedule_rules()
    assert (schedule.function.logical_id, schedule.schedule) == (
        "HeartbeatFunction",
        "rate(5 minutes)",
    )


def test_functions_run_python_313_handlers_that_exist(routing):
    from events.local_bus import handler_for

    template = load_template(TEMPLATE)
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    # python3.11 is deprecated on Lambda on 2027-06-30.
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"
    for function in routing.functions.values():
        assert callable(handler_for(function)), function.logical_id


def functions(resources: dict) -> dict[str, dict]:
    return {n: r for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}


def alarmed(resources: dict, namespace: str, dimension: str) -> dict[str, dict]:
    """Alarm per watched resource (its logical id), for alarms on `namespace` by `dimension`."""
    watched = {}
    for resource in resources.values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::CloudWatch::Alarm" and properties["Namespace"] == namespace:
            (dim,) = properties["Dimensions"]
            assert dim["Name"] == dimension
            value = dim["Value"]
            watched[value.get("Ref") or value["Fn::GetAtt"][0]] = properties
    return watched


def test_a_failed_invocation_is_retried_then_kept_in_a_queue_for_every_function():
    resources = load_template(TEMPLATE)["Resources"]
    for name, function in functions(resources).items():
        config = function["Properties"]["EventInvokeConfig"]
        assert 0 <= config["MaximumRetryAttempts"] <= 2, name
        assert 60 <= config["MaximumEventAgeInSeconds"] <= 21600, name
        on_failure = config["DestinationConfig"]["OnFailure"]
        assert on_failure["Type"] == "SQS", name
        queue = on_failure["Destination"]["Fn::GetAtt"][0]
        assert resources[queue]["Type"] == "AWS::SQS::Queue", name


def test_every_dead_letter_queue_and_every_function_raises_an_alarm_to_the_topic():
    template = load_template(TEMPLATE)
    resources = template["Resources"]
    # A work queue holds messages in normal operation: its dead-letter queue is what alarms.
    work_queues = {"JobsQueue"}
    queues = {n for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue"} - work_queues
    rule_queues = {
        rule.dead_letter["Arn"]["Fn::GetAtt"][0] for rule in read_routing(TEMPLATE).rules
    }
    assert rule_queues <= queues
    on_queues = alarmed(resources, "AWS/SQS", "QueueName")
    on_functions = alarmed(resources, "AWS/Lambda", "FunctionName")
    assert set(on_queues) == queues
    assert set(on_functions) == set(functions(resources))
    assert template["Parameters"]["AlarmTopicArn"]["Type"] == "String"
    for alarm in [*on_queues.values(), *on_functions.values()]:
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert alarm["AlarmActions"]["Fn::If"][1] == [{"Ref": "AlarmTopicArn"}]


def test_what_holds_data_outlives_the_stack():
    resources = load_template(TEMPLATE)["Resources"]
    holding_data = {
        "AWS::SQS::Queue",
        "AWS::DynamoDB::Table",
        "AWS::Events::Archive",
        "AWS::KMS::Key",
    }
    kept = [r for r in resources.values() if r["Type"] in holding_data]
    assert len(kept) >= 11
    for resource in kept:
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"


def test_the_bus_has_an_archive_and_the_sealing_key_rotates():
    resources = load_template(TEMPLATE)["Resources"]
    archive = next(r for r in resources.values() if r["Type"] == "AWS::Events::Archive")
    assert archive["Properties"]["SourceArn"] == {"Fn::GetAtt": ["EventBus", "Arn"]}
    key = next(r for r in resources.values() if r["Type"] == "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True


def test_secrets_come_from_ssm_and_only_the_notification_function_may_decrypt():
    template = load_template(TEMPLATE)
    assert template["Parameters"]["GatewayUrl"]["Type"] == "AWS::SSM::Parameter::Value<String>"
    resources = template["Resources"]
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        actions = {
            action
            for policy in resource["Properties"].get("Policies", [])
            for statement in policy.get("Statement", [])
            for action in (
                [statement["Action"]]
                if isinstance(statement["Action"], str)
                else statement["Action"]
            )
        }
        assert not any(a.endswith("*") for a in actions), name  # least privilege: no wildcards
        assert ("kms:Decrypt" in actions) == (name == "NotificationFunction"), name


def test_a_template_with_an_invalid_pattern_is_refused(tmp_path):
    bad = tmp_path / "template.yaml"
    bad.write_text(TEMPLATE.read_text().replace("- TransportStarted\n", "- {prefix: 3}\n", 1))
    with pytest.raises(TemplateError, match="TransportMovements: invalid event pattern"):
        read_routing(bad)


def test_the_template_passes_cfn_lint():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"  # a dev dependency, installed with the venv
    result = subprocess.run(
        [str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
