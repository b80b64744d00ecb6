"""Each function packed the way `sam build` packs it runs alone: in a clean interpreter, with only
its package on sys.path (no project, no site-packages), against a live gateway and moto.

The build is sam's own two steps: copy the CodeUri to a scratch folder, then run the template's
`Metadata: BuildMethod: makefile` target (infra/Makefile) with ARTIFACTS_DIR. Requirements come
from a wheelhouse filled once through pip's cache (offline afterwards). The interpreter is
python3.13, the functions' runtime, when this machine has one (else the tests' own Python).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from events.template import Function, read_routing
from tests.events.conftest import aws_client
from tests.events.test_functions import bridge_event, code_event, inventory, transport_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]  # CI: once

TEMPLATE = Path(settings.BASE_DIR) / "infra" / "template.yaml"
SHARED = Path(settings.BASE_DIR) / "infra" / "functions" / "shared"
MONOLITH = ("django", "events", "modules", "schema", "config", "infra", "request_state")

# Runs inside the clean interpreter: Lambda puts the package first on sys.path and imports the
# Handler from it. Prints the handler's result (or its exception) and what it imported of ours.
RUNNER = """
import importlib, importlib.util, json, sys
package, handler_path, monolith = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
assert all(importlib.util.find_spec(name) is None for name in monolith), "not a clean interpreter"
sys.path.insert(0, package)
module_path, _, attribute = handler_path.rpartition(".")
event = json.load(sys.stdin)
try:
    outcome = {"result": getattr(importlib.import_module(module_path), attribute)(event, None)}
except Exception as exc:
    outcome = {"error": type(exc).__name__, "message": str(exc)}
outcome["imported"] = sorted({n.split(".")[0] for n in sys.modules} & set(monolith) - {"infra"})
outcome["python"] = "%d.%d" % sys.version_info[:2]
print(json.dumps(outcome))
"""


def lambda_python() -> str:
    """python3.13 if this machine has a working one (pyenv's shim may name one it won't run)."""
    found = [
        shutil.which("python3.13"),
        *sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.13*/bin/python3.13"))),
    ]
    for candidate in filter(None, found):
        check = [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 13)"]
        if subprocess.run(check, capture_output=True).returncode == 0:
            return candidate
    return sys.executable


def wheel_arguments(python: str) -> list[str]:
    """pip options choosing wheels for `python` (this machine's platform, its version)."""
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return ["--python-version", version, "--implementation", "cp", "--only-binary=:all:"]


def wheelhouse() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "majestic" / "function-wheels"


def fill_wheelhouse(requirements: Path, wheels: list[str]) -> None:
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    target = ["--dest", str(wheelhouse()), *wheels, "-r", str(requirements)]
    offline = [*pip, "--no-index", "--find-links", str(wheelhouse()), *target]
    if subprocess.run(offline, capture_output=True).returncode != 0:
        subprocess.run([*pip, *target], capture_output=True, check=True, timeout=300)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Function logical id -> its built package, as `sam build` leaves it in .aws-sam/build."""
    routing = read_routing(TEMPLATE)
    python = lambda_python()
    wheels = wheel_arguments(python)
    root = tmp_path_factory.mktemp("sam-build")
    built: dict[str, Path] = {}
    for function in routing.functions.values():
        source = root / "source" / function.logical_id
        shutil.copytree(
            function.code_dir, source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        name = function.handler.split(".")[1]  # functions.<name>.app.handler
        fill_wheelhouse(source / "functions" / name / "requirements.txt", wheels)
        artifacts = root / function.logical_id
        make = [
            "make",
            "--silent",
            "-C",
            str(source),
            f"build-{function.logical_id}",
            f"ARTIFACTS_DIR={artifacts}",
            f"PIP={sys.executable} -m pip",
            f"PIP_PLATFORM={' '.join(wheels)}",
        ]
        environment = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse())}
        result = subprocess.run(make, capture_output=True, text=True, env=environment, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        built[function.logical_id] = artifacts
    built["python"] = Path(python)
    return built


def function(logical_id: str) -> Function:
    return read_routing(TEMPLATE).functions[logical_id]


def invoke_packaged(
    packages: dict[str, Path], logical_id: str, event: dict[str, Any], env: dict[str, str]
) -> dict[str, Any]:
    """Invoke the packaged handler in `python -I -S`: no project, no site-packages on sys.path."""
    passed = {k: v for k, v in os.environ.items() if k.startswith("AWS_") or k in ("PATH", "HOME")}
    result = subprocess.run(
        [
            str(packages["python"]),
            "-I",
            "-S",
            "-c",
            RUNNER,
            str(packages[logical_id]),
            function(logical_id).handler,
            ",".join(MONOLITH),
        ],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env={**passed, **env},
        cwd=packages[logical_id].parent,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    assert outcome["imported"] == [], outcome  # never the monolith
    return outcome


@pytest.fixture
def key_in_ssm(moto_server):
    from modules.auth.services import api_key_create

    def put(parameter: str, *scopes: str) -> str:
        key = api_key_create(name=f"fn-{uuid.uuid4().hex[:8]}", scopes=list(scopes)).key
        aws_client("ssm").put_parameter(Name=parameter, Value=key, Type="SecureString")
        return parameter

    return put


def test_each_package_holds_its_function_the_shared_client_and_its_requirements(packages):
    shared = sorted(p.name for p in SHARED.glob("*.py"))  # a new shared file is packed too
    for logical_id in ("DistributionFunction", "NotificationFunction", "HeartbeatFunction"):
        package = packages[logical_id]
        name = function(logical_id).handler.split(".")[1]
        assert sorted(p.name for p in (package / "functions").iterdir()) == sorted(
            ["__init__.py", "shared", name]
        ), logical_id
        assert sorted(p.name for p in (package / "functions" / "shared").glob("*.py")) == shared
        assert (package / "boto3").is_dir()  # its own pinned requirements, installed beside it
        assert not (package / "template.yaml").exists()
        assert not list(package.glob("functions/*/__pycache__"))


def test_the_packaged_heartbeat_calls_the_gateway_with_its_key_from_ssm(
    packages, live_server, key_in_ssm
):
    from events.models import Heartbeat

    outcome = invoke_packaged(
        packages,
        "HeartbeatFunction",
        {"id": "tick-packaged", "detail-type": "Scheduled Event", "detail": {}},
        {
            "GATEWAY_URL": f"{live_server.url}/graphql/",
            "GATEWAY_API_KEY_PARAMETER": key_in_ssm("/majestic/api-keys/heartbeat", "HEARTBEAT"),
        },
    )
    if packages["python"] != Path(sys.executable):  # python3.13 was found: the runtime's own
        assert outcome["python"] == "3.13"
    assert outcome["result"]["status"] == "ok", outcome
    assert Heartbeat.objects.get().tasks == outcome["result"]["tasks"]


def test_the_packaged_distribution_function_records_the_arrival(
    packages, live_server, key_in_ssm, gql
):
    from modules.distribution.models import DistributionCenter

    for code in ("NYC01", "BOS01"):
        DistributionCenter.objects.create(center_code=code, name=f"Center {code}")
    outcome = invoke_packaged(
        packages,
        "DistributionFunction",
        transport_event("TransportCompleted", ["MJ0101", "MJ0102"]),
        {
            "GATEWAY_URL": f"{live_server.url}/graphql/",
            "GATEWAY_API_KEY_PARAMETER": key_in_ssm(
                "/majestic/api-keys/distribution", "DISTRIBUTION"
            ),
        },
    )
    assert outcome["result"] == {"status": "recorded", "mutation": "recordArrival"}, outcome
    assert inventory(gql, "BOS01") == ["MJ0101", "MJ0102"]


@pytest.fixture
def notification_aws(moto_server, settings) -> dict[str, str]:
    """KMS, DynamoDB and SNS on moto, as the template wires the notification function."""
    key = aws_client("kms").create_key(Description="event sealing")["KeyMetadata"]["Arn"]
    settings.EVENTS_SEALING_KMS_KEY = key  # the gateway seals with it
    table = f"processed-{uuid.uuid4().hex[:8]}"
    aws_client("dynamodb").create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic = aws_client("sns").create_topic(Name="notices")["TopicArn"]
    return {
        "NOTIFIER": "sns",
        "SEALING_KEY_ARN": key,
        "PROCESSED_EVENTS_TABLE": table,
        "NOTICES_TOPIC_ARN": topic,
    }


def test_the_packaged_notification_function_opens_the_kms_sealed_code_and_sends_it_once(
    packages, notification_aws
):
    from tests.events.test_functions_aws import sms_sent

    event = code_event("+15550100123", "246810")
    assert event["detail"]["data"]["sealedCode"].startswith("kms:")
    first = invoke_packaged(packages, "NotificationFunction", event, notification_aws)
    again = invoke_packaged(packages, "NotificationFunction", event, notification_aws)
    assert (first["result"]["status"], again["result"]["status"]) == ("sent", "duplicate")
    sent = [text for phone, text in sms_sent() if phone == "+15550100123"]
    assert len(sent) == 1 and "246810" in sent[0]


def test_a_code_not_sealed_with_kms_is_refused_as_unopenable_not_a_missing_module(
    packages, notification_aws, settings
):
    settings.EVENTS_SEALING_KMS_KEY = ""  # a gateway that seals locally, misconfigured for AWS
    event = code_event("+15550100124", "135790")
    outcome = invoke_packaged(packages, "NotificationFunction", event, notification_aws)
    assert outcome["error"] == "SealUnopenable", outcome  # was ModuleNotFoundError: events
    assert "135790" not in outcome["message"]


def test_the_packaged_notification_function_publishes_a_welcome_notice(packages, notification_aws):
    welcome = bridge_event("majestic.user", "UserSignedUp", {"userUuid": str(uuid.uuid4())})
    outcome = invoke_packaged(packages, "NotificationFunction", welcome, notification_aws)
    assert outcome["result"] == {"status": "sent", "kind": "welcome"}, outcome
