"""The module checks of `manage.py check` (schema/checks.py): each fails on a planted violation,
naming the file and the fix, and the project as it is passes them all.

A copy of the checkout gets one violation at a time; `manage.py check` must then exit non-zero
with that check's message.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.project_copy import copy_project, run_in

# (check id, file to change, text appended to it, what the report must say)
VIOLATIONS = {
    "foreign key into another module": (
        "majestic.E001",
        "modules/shipping/models.py",
        """
class CenterNote(models.Model):
    center = models.ForeignKey("distribution.DistributionCenter", on_delete=models.CASCADE)
""",
        [
            "modules/shipping/models.py: CenterNote.center is a ForeignKey to distribution's "
            "DistributionCenter",
            "`center_uuid = models.UUIDField(db_index=True)`",
            "modules.distribution.api",
        ],
    ),
    "many-to-many into another module": (
        "majestic.E001",
        "modules/distribution/models.py",
        """
class CenterTeam(models.Model):
    members = models.ManyToManyField("user.User")
""",
        ["CenterTeam.members is a ManyToManyField to user's User", "modules.user.api"],
    ),
    "declared event missing from the catalog": (
        "majestic.E002",
        "modules/distribution/events.py",
        """
@dataclass(frozen=True)
class DistributionCenterRenamed(Event):
    module = "distribution"
    center_code: str
""",
        [
            "modules/distribution/events.py: event DistributionCenterRenamed is not listed in "
            "events/catalog.json",
            "Run `make catalog`",
        ],
    ),
    "event emitted that nobody declares": (
        "majestic.E002",
        "modules/distribution/services.py",
        """
def center_archive(*, center_code: str) -> None:
    emit(DistributionCenterArchived(center_code=center_code))  # noqa: F821
""",
        [
            "modules/distribution/services.py:",
            "emits DistributionCenterArchived, which no module declares",
            "Declare DistributionCenterArchived in modules/distribution/events.py",
        ],
    ),
    "mutation without a permission": (
        "majestic.E003",
        "modules/distribution/graphql/schema.py",
        """
@strawberry.type
class Mutation(Mutation):  # type: ignore[no-redef]
    @strawberry.mutation(description="Anyone could call this.")
    def archive_distribution_center(self, center_code: str) -> DeleteDistributionCenterPayload:
        return mutate(DeleteDistributionCenterPayload, lambda: None)
""",
        [
            "modules/distribution/graphql/schema.py:",
            "Mutation.archive_distribution_center (modules.distribution.graphql) has no permission",
            "`extensions=[Require(Staff)]`",
        ],
    ),
    "face importing another module's models": (
        "majestic.E004",
        "modules/shipping/graphql/schema.py",
        "\nfrom modules.distribution import models as distribution_models  # noqa: E402\n",
        [
            "modules/shipping/graphql/schema.py:",
            "imports modules.distribution.models of the distribution module",
            "Import from modules.distribution.graphql.types",
        ],
    ),
    "face importing another module's selectors under TYPE_CHECKING": (
        "majestic.E004",
        "modules/distribution/graphql/schema.py",
        "\nif TYPE_CHECKING:\n    import modules.user.selectors  # noqa: F401\n",
        ["imports modules.user.selectors of the user module", "modules.user.api"],
    ),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("checks"))


def test_the_project_as_it_is_passes_every_module_check(capsys):
    call_command("check", "--fail-level", "WARNING")  # raises SystemCheckError on any message
    assert "no issues" in capsys.readouterr().out


def test_another_event_source_prefix_is_no_drift_from_the_catalog(settings, capsys):
    """Production may set EVENTS_SOURCE_PREFIX; `migrate` runs the checks there too."""
    settings.EVENTS_SOURCE_PREFIX = "acme"
    call_command("check", "--fail-level", "WARNING")
    assert "no issues" in capsys.readouterr().out


@pytest.mark.parametrize("violation", VIOLATIONS)
def test_a_planted_violation_fails_its_check_naming_the_file_and_the_fix(
    pristine, tmp_path, violation
):
    check_id, path, planted, expected = VIOLATIONS[violation]
    project = tmp_path / "project"
    shutil.copytree(pristine, project)
    changed = project / path
    changed.write_text(changed.read_text() + planted)
    result = run_in(project, "python", "manage.py", "check")
    report = " ".join((result.stdout + result.stderr).split())  # Django wraps long lines
    assert result.returncode != 0, report
    assert f"({check_id})" in report
    for words in expected:
        assert " ".join(words.split()) in report
    assert "Traceback" not in report
