"""The module checks of `manage.py check` (schema/checks.py): each fails on a planted violation,
naming the file and the fix, and the project as it is passes them all.

A copy of the checkout gets one violation at a time, in the modules every project has (auth and
user, so a project without the logistics sample runs these too); `manage.py check` must then exit
non-zero with that check's message.
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
        "modules/auth/models.py",
        """
class KeyOwner(models.Model):
    user = models.ForeignKey("user.User", on_delete=models.CASCADE)
""",
        [
            "modules/auth/models.py: KeyOwner.user is a ForeignKey to user's User",
            "`user_uuid = models.UUIDField(db_index=True)`",
            "modules.user.api",
        ],
    ),
    "many-to-many into another module": (
        "majestic.E001",
        "modules/user/models.py",
        """
class UserTeam(models.Model):
    keys = models.ManyToManyField("majestic_auth.ApiKey")
""",
        ["UserTeam.keys is a ManyToManyField to auth's ApiKey", "modules.auth.api"],
    ),
    "declared event missing from the catalog": (
        "majestic.E002",
        "modules/user/events.py",
        """
@dataclass(frozen=True)
class UserRenamed(Event):
    module = "user"
    user_uuid: str
""",
        [
            "modules/user/events.py: event UserRenamed is not listed in events/catalog.json",
            "Run `make catalog`",
        ],
    ),
    "event emitted that nobody declares": (
        "majestic.E002",
        "modules/user/services.py",
        """
def user_archive(*, user_uuid: str) -> None:
    emit(UserArchived(user_uuid=user_uuid))  # noqa: F821
""",
        [
            "modules/user/services.py:",
            "emits UserArchived, which no module declares",
            "Declare UserArchived in modules/user/events.py",
        ],
    ),
    "mutation without a permission": (
        "majestic.E003",
        "modules/user/graphql/schema.py",
        """
@strawberry.type
class Mutation(Mutation):  # type: ignore[no-redef]
    @strawberry.mutation(description="Anyone could call this.")
    def forget_user(self, uuid: uuid.UUID) -> UnregisterPayload:
        return mutate(UnregisterPayload, lambda: None)
""",
        [
            "modules/user/graphql/schema.py:",
            "Mutation.forget_user (modules.user.graphql) has no permission",
            "`extensions=[Require(Staff)]`",
        ],
    ),
    "face importing another module's models": (
        "majestic.E004",
        "modules/auth/graphql/schema.py",
        "\nfrom modules.user import models as user_models  # noqa: E402\n",
        [
            "modules/auth/graphql/schema.py:",
            "imports modules.user.models of the user module",
            "Import from modules.user.graphql.types",
        ],
    ),
    "face importing another module's selectors under TYPE_CHECKING": (
        "majestic.E004",
        "modules/auth/graphql/schema.py",
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
