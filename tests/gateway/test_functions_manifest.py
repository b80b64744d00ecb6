"""The project's manifest (the functions' and the ops dashboard's operations) is generated from
their code and committed: they must agree."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from infra.functions.distribution import app as distribution  # sample
from infra.functions.heartbeat import app as heartbeat
from infra.functions.shared.gateway import Operation
from schema.trusted_documents.management.commands import trusted_documents as command
from schema.trusted_documents.management.commands.trusted_documents import (
    PROJECT_MANIFEST,
    project_manifest_text,
)


def test_the_committed_manifest_is_what_the_code_sends():
    assert PROJECT_MANIFEST.read_text(encoding="utf-8") == project_manifest_text(), (
        "run `python manage.py trusted_documents manifest` and commit the file"
    )
    call_command("trusted_documents", "manifest", "--check", stdout=io.StringIO())


def test_every_fixed_operation_of_the_functions_and_the_dashboard_is_in_the_manifest():
    manifest = json.loads(PROJECT_MANIFEST.read_text(encoding="utf-8"))
    ids = {f"sha256:{operation['id']}" for operation in manifest["operations"]}
    sent = {heartbeat.HEARTBEAT}
    functions = ["Heartbeat"]
    dashboard = ["SignIn", "Refresh", "SignOut", "Me", "Events", "Status"]
    dashboard += ["EventStats", "Deliveries", "Redrive"]  # the page's charts and dead events
    dashboard += ["RunningJobs", "RecentJobs", "JobRowErrors", "CancelJob"]  # the jobs panel
    # sample: begin
    sent |= {distribution.RECORD_DEPARTURE, distribution.RECORD_ARRIVAL}
    functions += ["RecordDeparture", "RecordArrival"]
    dashboard += ["InTransit"]  # shipping's panel on the ops page (its static/ops/panels/)
    # sample: end
    assert {operation.document_id for operation in sent} <= ids
    assert sorted(o["name"] for o in manifest["operations"]) == sorted(functions + dashboard)


def test_a_changed_operation_makes_the_check_fail(monkeypatch):
    changed = Operation("Heartbeat", heartbeat.HEARTBEAT.text.replace("receivedAt", ""))
    monkeypatch.setattr(heartbeat, "HEARTBEAT", changed)
    with pytest.raises(CommandError, match="differs from the operations in the code"):
        call_command("trusted_documents", "manifest", "--check")


def test_a_changed_dashboard_document_makes_the_check_fail(monkeypatch, tmp_path):
    script = tmp_path / "ops.js"
    original = command.DASHBOARD_SCRIPT.read_text(encoding="utf-8")
    script.write_text(original.replace("isStaff } }", "isStaff type } }"), encoding="utf-8")
    monkeypatch.setattr(command, "DASHBOARD_SCRIPT", script)
    with pytest.raises(CommandError, match="differs from the operations in the code"):
        call_command("trusted_documents", "manifest", "--check")
