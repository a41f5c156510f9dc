"""Merging two families moves every record that points at the merged-away one (issue 14, item 1)."""

import pytest

from support import merges, services
from support.data_rights import subject_access_data
from support.errors import ConflictError, SupportError
from support.models import Family, FamilyDuplicate
from tests.factories import FamilyFactory, PupilFactory
from uniform.models import Gift, SupportRequest
from vouchers.models import Voucher
from vouchers.selectors import voucher_limit_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(school_a):
    """Two records of one household, both with a child at school A (so lead_a speaks for both)."""
    at_limit = FamilyFactory(lead_carer_name="Erin Eve", postcode="RV5 5EE")
    other = FamilyFactory(lead_carer_name="Erin Eve", postcode="RV5 5EE")
    PupilFactory(family=at_limit, school=school_a, legal_forename="Ezra")
    PupilFactory(family=other, school=school_a, legal_forename="Elsie")
    low, high = sorted((at_limit, other), key=lambda f: f.pk)
    duplicate = FamilyDuplicate.objects.create(family_a=low, family_b=high, reason="Same carer and postcode")
    return at_limit, other, duplicate


def test_it_keeps_a_family_at_its_voucher_limit_after_a_merge(twins, issue, food_type, lead_a, pastoral_a):
    at_limit, other, duplicate = twins
    mine = [issue(at_limit, food_type) for _ in range(3)]
    theirs = [issue(other, food_type)]
    assert voucher_limit_status(family=at_limit, voucher_type=food_type).reached

    kept = services.family_duplicate_merge(duplicate=duplicate, actor=lead_a, keep=other)

    status = voucher_limit_status(family=kept, voucher_type=food_type)
    assert status.reached
    assert status.count == 4
    with pytest.raises(SupportError) as refused:
        issue(kept, food_type)
    assert refused.value.code == "limit"
    assert set(Voucher.objects.filter(family=kept).values_list("pk", flat=True)) == {
        v.pk for v in mine + theirs
    }
    assert not Voucher.objects.filter(family=at_limit).exists()
    codes = {row["code"] for row in subject_access_data(family=kept)["vouchers"]}
    assert codes == {v.display_code for v in mine + theirs}


def test_it_shows_the_merged_familys_gifts_and_requests_on_the_kept_family(twins, lead_a, school_a):
    at_limit, other, duplicate = twins
    pupil = at_limit.pupils.get()
    Gift.objects.create(pupil=pupil, school=school_a, academic_year=2026, year_group=pupil.year_group)
    SupportRequest.objects.create(
        pupil=pupil,
        school=school_a,
        kind="coat",
        size="9-10",
        reason="Torn",
        period=2026,
        requested_by=lead_a,
    )

    kept = services.family_duplicate_merge(duplicate=duplicate, actor=lead_a, keep=other)

    data = subject_access_data(family=kept)
    assert len(data["uniform_gifts"]) == 1
    assert len(data["uniform_requests"]) == 1
    assert {p["legal_forename"] for p in data["pupils"]} == {"Ezra", "Elsie"}


def test_it_refuses_a_voucher_for_a_family_merged_away(twins, issue, food_type, lead_a):
    at_limit, other, duplicate = twins
    services.family_duplicate_merge(duplicate=duplicate, actor=lead_a, keep=other)
    at_limit.refresh_from_db()
    with pytest.raises(SupportError):
        issue(at_limit, food_type)


def test_it_points_earlier_merges_at_the_kept_family(twins, lead_a, school_a):
    at_limit, other, duplicate = twins
    earlier = FamilyFactory(lead_carer_name="Erin Eve")
    PupilFactory(family=earlier, school=school_a)
    first = FamilyDuplicate.objects.create(
        **dict(zip(("family_a", "family_b"), sorted((earlier, at_limit), key=lambda f: f.pk), strict=True)),
        reason="Same carer",
    )
    services.family_duplicate_merge(duplicate=first, actor=lead_a, keep=at_limit)
    services.family_duplicate_merge(duplicate=duplicate, actor=lead_a, keep=other)
    assert Family.objects.get(pk=earlier.pk).merged_into_id == other.pk


def test_it_rolls_the_whole_merge_back_when_a_handler_fails(twins, issue, food_type, lead_a):
    at_limit, other, duplicate = twins
    issue(at_limit, food_type)

    def broken(**kwargs):
        raise ConflictError("a feature app could not move its records")

    merges.register_merge_handler("zz_broken", covers=(), move=broken)
    try:
        with pytest.raises(ConflictError):
            services.family_duplicate_merge(duplicate=duplicate, actor=lead_a, keep=other)
    finally:
        merges._HANDLERS.pop("zz_broken")
    assert Voucher.objects.filter(family=at_limit).count() == 1
    assert at_limit.pupils.count() == 1
    duplicate.refresh_from_db()
    assert duplicate.status == FamilyDuplicate.Status.OPEN


def test_it_has_a_merge_handler_for_every_foreign_key_to_a_family():
    # Generated from the app registry: a model given a foreign key to Family without a handler fails here.
    references = merges.family_references()
    assert "vouchers.Voucher.family" in references
    assert "support.Pupil.family" in references
    assert merges.uncovered_family_references() == []


def test_it_catches_a_new_foreign_key_to_a_family_without_a_handler():
    handler = merges._HANDLERS.pop("vouchers")
    try:
        assert merges.uncovered_family_references() == ["vouchers.Voucher.family"]
    finally:
        merges._HANDLERS["vouchers"] = handler
