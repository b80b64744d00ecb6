"""The user model's invariants and the user module's public face (api.py, loader)."""

import uuid

import pytest
from django.db import IntegrityError, transaction

from modules.user import api as user_api
from modules.user.models import DriverProfile, StaffProfile, User
from schema.kit import loaders
from tests.factories import make_driver, make_staff

pytestmark = pytest.mark.django_db


# Defect 14.6: uuids were indexed but not unique.
def test_uuid_is_unique():
    first = make_staff()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="twin", type="STAFF", uuid=first.uuid)


def test_phone_number_is_unique():
    make_staff(phone_number="+821012345555")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="twin", phone_number="+821012345555", type="STAFF")


# MMD 3.1: a UserDriver was saved as STAFF. Here the type given is the type kept, with its profile.
@pytest.mark.parametrize(
    "user_type, profile_model", [("DRIVER", DriverProfile), ("STAFF", StaffProfile)]
)
def test_every_user_gets_the_profile_of_its_type(user_type, profile_model):
    user = User.objects.create_user(username=f"u-{user_type}", type=user_type)
    assert user.type == user_type
    assert profile_model.objects.filter(user=user).exists()


def test_drivers_cannot_hold_staff_flags():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="d", type="DRIVER", is_staff=True)


def test_username_holds_150_characters():
    user = make_staff(username="u" * 150)
    assert User.objects.get(pk=user.pk).username == "u" * 150


def test_user_loader_fetches_users_by_uuid_in_one_call(django_assert_max_num_queries):
    from modules.user.graphql.types import user_loader as loader

    alice, bob = make_staff(), make_driver()
    token = loaders.start_request()
    try:
        loader.want([alice.uuid, bob.uuid, uuid.uuid4()])
        with django_assert_max_num_queries(1):  # users with profiles; groups only when read
            assert loader.load(alice.uuid) == alice
            assert loader.load(bob.uuid) == bob
    finally:
        loaders.end_request(token)


# sample: begin (tools/new_project.py: a project without the logistics sample has no transports)
@pytest.mark.parametrize("with_groups", [True, False], ids=["groups", "no-groups"])
def test_drivers_groups_are_read_in_one_query_and_only_when_asked(client, with_groups):
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import bearer, call_graphql
    from tests.shipping.factories import make_center, make_transport

    make_center("ABC001"), make_center("ABC002")
    drivers = [make_driver() for _ in range(3)]
    drivers[0].groups.add(Group.objects.create(name="night-shift"))
    for driver in drivers:
        make_transport("ABC001", "ABC002", driver=driver)
    selection = "fullName groups" if with_groups else "fullName"
    query = f"{{ transports(first: 10) {{ edges {{ node {{ driver {{ {selection} }} }} }} }} }}"
    with CaptureQueriesContext(connection) as queries:
        result = call_graphql(client, query, authorization=bearer(make_staff()))
    assert "errors" not in result, result["errors"]
    group_queries = [q for q in queries.captured_queries if "auth_group" in q["sql"]]
    assert len(group_queries) == (1 if with_groups else 0)
    if with_groups:
        groups = sorted(
            e["node"]["driver"]["groups"] for e in result["data"]["transports"]["edges"]
        )
        assert groups == [[], [], ["night-shift"]]


# sample: end
def test_phone_number_status_through_the_api():
    make_driver(phone_number="+821012345555")
    assert user_api.phone_number_status("+821012345555") == user_api.PhoneNumberStatus(
        registered=True, banned=False
    )
    assert user_api.phone_number_status("+821012345556").registered is False


def test_summaries_say_who_may_still_act():
    from modules.user.services import user_unregister

    driver = make_driver()
    assert user_api.active_driver(driver.uuid) is not None
    user_unregister(user_uuid=driver.uuid)
    assert user_api.active_driver(driver.uuid) is None
    assert user_api.users_by_uuid([driver.uuid])[driver.uuid].is_active is False
