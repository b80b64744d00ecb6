"""Who may ban, unregister and change privileges: one set of rules in the user services, the same
for GraphQL and the admin (tests/user/test_admin.py drives them through the admin pages)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError

from modules.user import services
from modules.user.api import user_access_changed
from modules.user.errors import UserErrorCode
from modules.user.models import User
from tests.auth.flows import codes
from tests.factories import make_driver, make_staff, make_superuser, make_user

pytestmark = pytest.mark.django_db

BAN = "mutation($uuid: UUID!) { banUser(uuid: $uuid) { errors { code message } } }"


@pytest.fixture
def access_changes():
    sent = []

    def receiver(sender, *, user_uuid, **kwargs):
        sent.append(user_uuid)

    user_access_changed.connect(receiver, dispatch_uid="test_access.access_changes")
    yield sent
    user_access_changed.disconnect(dispatch_uid="test_access.access_changes")


def test_staff_cannot_ban():
    target = make_driver()
    with pytest.raises(PermissionDenied, match="Only a superuser may ban users"):
        services.user_ban(user_uuid=target.uuid, banned_by_uuid=make_staff().uuid)
    assert not User.objects.get(pk=target.pk).banned


def test_a_demoted_superuser_cannot_ban():
    # The actor is read fresh: a superuser demoted a moment ago has lost the power already.
    former = make_superuser()
    User.objects.filter(pk=former.pk).update(is_superuser=False)
    target = make_driver()
    with pytest.raises(PermissionDenied):
        services.user_ban(user_uuid=target.uuid, banned_by_uuid=former.uuid)
    assert not User.objects.get(pk=target.pk).banned


def test_a_deactivated_superuser_cannot_ban():
    former = make_superuser()
    User.objects.filter(pk=former.pk).update(is_active=False)
    with pytest.raises(PermissionDenied):
        services.user_ban(user_uuid=make_driver().uuid, banned_by_uuid=former.uuid)


def test_graphql_and_the_service_refuse_staff_alike(gql):
    target = make_driver()
    payload = gql(BAN, {"uuid": str(target.uuid)}, as_=make_staff())["data"]["banUser"]
    assert codes(payload) == ["FORBIDDEN"]
    assert not User.objects.get(pk=target.pk).banned


def test_only_the_user_or_a_superuser_unregisters_an_account():
    target = make_driver()
    with pytest.raises(PermissionDenied, match="close another user's account"):
        services.user_unregister(user_uuid=target.uuid, unregistered_by_uuid=make_staff().uuid)
    assert User.objects.get(pk=target.pk).unregistered_at is None
    services.user_unregister(user_uuid=target.uuid, unregistered_by_uuid=make_superuser().uuid)
    assert User.objects.get(pk=target.pk).unregistered_at is not None
    me = make_driver()
    services.user_unregister(user_uuid=me.uuid, unregistered_by_uuid=me.uuid)
    assert User.objects.get(pk=me.pk).unregistered_at is not None


def test_staff_cannot_change_privileges(access_changes):
    staff = make_staff()
    with pytest.raises(PermissionDenied, match="Only a superuser"):
        services.user_access_update(
            user_uuid=staff.uuid, changed_by_uuid=staff.uuid, is_superuser=True
        )
    with pytest.raises(PermissionDenied):
        services.user_access_check(
            user_uuid=staff.uuid, changed_by_uuid=staff.uuid, is_superuser=True
        )
    assert not User.objects.get(pk=staff.pk).is_superuser
    assert access_changes == []


def test_staff_flags_only_on_staff_users(access_changes):
    driver = make_driver()
    with pytest.raises(ValidationError) as refused:
        services.user_access_update(
            user_uuid=driver.uuid, changed_by_uuid=make_superuser().uuid, is_staff=True
        )
    assert refused.value.error_list[0].code == UserErrorCode.INVALID
    assert "Only STAFF users can be staff" in refused.value.messages[0]
    assert not User.objects.get(pk=driver.pk).is_staff
    assert access_changes == []


def test_closed_accounts_stay_closed():
    target = make_driver()
    boss = make_superuser()
    services.user_ban(user_uuid=target.uuid, banned_by_uuid=boss.uuid)
    with pytest.raises(ValidationError) as refused:
        services.user_access_update(
            user_uuid=target.uuid, changed_by_uuid=boss.uuid, is_active=True
        )
    assert refused.value.error_list[0].code == UserErrorCode.USER_UNREGISTERED
    assert not User.objects.get(pk=target.pk).is_active


def test_superuser_changes_privileges_and_one_signal_is_sent(access_changes):
    target = make_user(type="STAFF")
    group = Group.objects.create(name="ops")
    perm = Permission.objects.get(content_type__app_label="user", codename="view_user")
    services.user_access_update(
        user_uuid=target.uuid,
        changed_by_uuid=make_superuser().uuid,
        is_staff=True,
        group_ids=[group.pk],
        permission_ids=[perm.pk],
    )
    target = User.objects.get(pk=target.pk)
    assert target.is_staff and target.has_perm("user.view_user")
    assert list(target.groups.all()) == [group]
    assert access_changes == [target.uuid]


def test_an_unchanged_access_sends_nothing(access_changes):
    target = make_staff()
    services.user_access_update(
        user_uuid=target.uuid,
        changed_by_uuid=make_superuser().uuid,
        is_active=True,
        is_staff=True,
        group_ids=[],
        permission_ids=[],
    )
    assert access_changes == []


def test_staff_cannot_change_what_a_group_grants(access_changes):
    group = Group.objects.create(name="ops")
    perm = Permission.objects.get(content_type__app_label="user", codename="change_user")
    with pytest.raises(PermissionDenied):
        services.group_permissions_update(
            group_id=group.pk, permission_ids=[perm.pk], changed_by_uuid=make_staff().uuid
        )
    with pytest.raises(PermissionDenied):
        services.group_delete(group_id=group.pk, deleted_by_uuid=make_staff().uuid)
    assert not group.permissions.exists() and Group.objects.filter(pk=group.pk).exists()
    assert access_changes == []
