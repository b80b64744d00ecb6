"""The public api.py that shipping builds on: lookups and claims by center code."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from modules.distribution import api as distribution_api
from modules.distribution.models import CenterReference
from tests.distribution.factories import make_center

pytestmark = pytest.mark.django_db


def test_centers_by_code_returns_summaries_of_existing_centers_only():
    center = make_center("ABC001", "Alpha")
    found = distribution_api.centers_by_code(["abc001", "NOPE01", "bad code!"])
    assert found == {
        "ABC001": distribution_api.CenterSummary(
            uuid=center.uuid, center_code="ABC001", name="Alpha"
        )
    }


def test_claim_centers_records_the_holder_once():
    make_center("SRC01")
    make_center("DST01")
    holder = f"transport:{uuid.uuid4()}"
    with transaction.atomic():
        claimed = distribution_api.claim_centers(["SRC01", "dst01"], holder=holder)
        distribution_api.claim_centers(["SRC01"], holder=holder)
    assert set(claimed) == {"SRC01", "DST01"}
    assert CenterReference.objects.filter(holder=holder).count() == 2


def test_claim_centers_names_unknown_codes_and_claims_nothing():
    make_center("SRC01")
    holder = f"transport:{uuid.uuid4()}"
    with pytest.raises(ValidationError) as raised, transaction.atomic():
        distribution_api.claim_centers(["SRC01", "GONE01"], holder=holder)
    assert raised.value.code == "UNKNOWN_CENTER"
    assert "GONE01" in raised.value.message
    assert not CenterReference.objects.filter(holder=holder).exists()


def test_claims_roll_back_with_the_callers_transaction():
    make_center("SRC01")
    holder = f"transport:{uuid.uuid4()}"
    with pytest.raises(RuntimeError), transaction.atomic():
        distribution_api.claim_centers(["SRC01"], holder=holder)
        raise RuntimeError("the caller's later step failed")
    assert not CenterReference.objects.filter(holder=holder).exists()


def test_center_code_canonical():
    assert distribution_api.center_code_canonical(" abc-1 ") == "ABC-1"


def test_seed_demo_centers_is_repeatable(staff):
    first = distribution_api.seed_demo_centers(staff_user_uuids=[staff.uuid])
    again = distribution_api.seed_demo_centers(staff_user_uuids=[staff.uuid])
    assert len(first) == 4
    assert first == again
