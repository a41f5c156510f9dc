"""Likely duplicate families are no lookup oracle (issue 13, item 3).

A lead sees of a likely duplicate only what they could already see, plus the fact of a match; a pair
whose other family has no pupil at the lead's schools merges only when a lead of that family's school
(or an admin) agrees; refusing or waiting shows nobody anything new.
"""

import datetime

import pytest
from django.utils import timezone

from support import services
from support.data_rights import AnonymiseResult, family_anonymise
from support.errors import SupportError
from support.models import AuditEvent, Enrolment, FamilyDuplicate, Pupil
from support.pupil_import import pupil_import_apply
from tests.factories import SchoolFactory, make_user
from tests.support.test_pupil_import import csv_bytes, row

pytestmark = pytest.mark.django_db

SECRETS = ("Bella Brook", "RV2 2BB", "bella@mail.example", "Beta Secondary", "Bobby")


@pytest.fixture
def planted(family_b, school_a, lead_a):
    """The attack: lead_a imports one made-up pupil with Brookfield's family's phone number."""
    family_b.email = "bella@mail.example"
    family_b.save()
    data = csv_bytes([row(contact="Made Up", phone="01134960002", surname="Madeup")])
    summary = pupil_import_apply(school=school_a, data=data, actor=lead_a, filename="guess.csv")
    assert summary["duplicates_flagged"] == 1
    return FamilyDuplicate.objects.get()


def _page(client) -> str:
    return client.get("/duplicates/").content.decode()


def test_it_shows_a_lead_only_the_fact_of_a_match_with_another_schools_family(client_for, planted, lead_a):
    page = _page(client_for(lead_a))
    assert "Made Up" in page  # lead_a's own family
    assert "A family at another of the trust's schools" in page
    for secret in SECRETS:
        assert secret not in page


def test_it_merges_nothing_and_opens_nothing_until_the_other_school_agrees(
    client_for, planted, lead_a, family_b
):
    client = client_for(lead_a)
    for decision in ("keep_a", "keep_b"):
        client.post(f"/duplicates/{planted.pk}/decide/", {"decision": decision})
    planted.refresh_from_db()
    assert planted.status == FamilyDuplicate.Status.REQUESTED
    assert family_b.pupils.count() == 1
    assert client.get(f"/families/{family_b.pk}/").status_code == 404
    page = _page(client)
    assert "Waiting for a lead of the other family's school to agree" in page
    for secret in SECRETS:
        assert secret not in page
    with pytest.raises(SupportError) as refused:
        services.family_duplicate_merge(duplicate=planted, actor=lead_a, keep=planted.family_a)
    assert refused.value.code == "forbidden"


def test_it_lets_the_other_schools_lead_refuse_and_nothing_is_shown(
    client_for, planted, lead_a, lead_b, family_b
):
    client_for(lead_a).post(
        f"/duplicates/{planted.pk}/decide/", {"decision": "keep_b", "note": "Mum says Bobby is hers"}
    )
    other = client_for(lead_b)
    page = _page(other)
    assert "Mum says Bobby is hers" in page
    assert "Agree to merge" in page
    assert "Made Up" not in page  # lead_a's family is school A's data
    other.post(f"/duplicates/{planted.pk}/decide/", {"decision": "refuse", "note": "Not ours"})
    planted.refresh_from_db()
    assert planted.status == FamilyDuplicate.Status.REFUSED
    assert AuditEvent.objects.get(action="family.merge_refused").actor == lead_b
    assert family_b.pupils.count() == 1
    assert client_for(lead_a).get(f"/families/{family_b.pk}/").status_code == 404
    assert "Bella Brook" not in _page(client_for(lead_a))


def test_it_lets_only_a_lead_of_the_other_school_or_an_admin_agree(
    planted, lead_a, pastoral_b, school_b, admin
):
    services.family_duplicate_request_merge(duplicate=planted, actor=lead_a, keep=planted.family_a)
    third = make_user("lead_c", "lead", schools=[SchoolFactory(name="Gamma Academy", urn="140903")])
    for actor in (lead_a, pastoral_b, third):  # the asker, a non-lead there, a lead elsewhere
        with pytest.raises(SupportError):
            services.family_duplicate_agree(duplicate=planted, actor=actor)
    planted.refresh_from_db()
    assert planted.status == FamilyDuplicate.Status.REQUESTED
    kept = services.family_duplicate_agree(duplicate=planted, actor=admin)
    assert Pupil.objects.filter(family=kept).count() == 2


def test_it_hides_the_request_from_a_lead_of_a_third_school(client_for, planted, lead_a):
    services.family_duplicate_request_merge(duplicate=planted, actor=lead_a, keep=planted.family_a)
    third = make_user("lead_c", "lead", schools=[SchoolFactory(name="Gamma Academy", urn="140903")])
    client = client_for(third)
    assert "Made Up" not in _page(client)
    assert client.post(f"/duplicates/{planted.pk}/decide/", {"decision": "agree"}).status_code == 404


def test_it_forgets_a_requests_note_when_either_family_is_anonymised(planted, lead_a, family_b):
    services.family_duplicate_request_merge(
        duplicate=planted, actor=lead_a, keep=planted.family_a, note="Mum says Bobby is hers"
    )
    cutoff = timezone.now() + datetime.timedelta(days=1)
    Enrolment.objects.filter(pupil__family=family_b).update(left_on=timezone.localdate())  # a former pupil
    assert family_anonymise(family_id=family_b.pk, cutoff=cutoff, result=AnonymiseResult())
    planted.refresh_from_db()
    assert (planted.reason, planted.request_note) == ("Anonymised", "")


def test_it_widens_nothing_at_pupil_level_when_the_schools_agree(client_for, planted, lead_a, lead_b):
    # The household's record is shared once both schools agreed; each school's pupils stay its own.
    services.family_duplicate_request_merge(duplicate=planted, actor=lead_a, keep=planted.family_a)
    kept = services.family_duplicate_agree(duplicate=planted, actor=lead_b)
    page_a = client_for(lead_a).get(f"/families/{kept.pk}/").content.decode()
    assert "Madeup" in page_a
    assert "Bobby" not in page_a
    page_b = client_for(lead_b).get(f"/families/{kept.pk}/").content.decode()
    assert "Bobby" in page_b
    assert "Madeup" not in page_b


def test_it_refuses_a_note_longer_than_300_characters(planted, lead_a):
    with pytest.raises(SupportError) as refused:
        services.family_duplicate_request_merge(
            duplicate=planted, actor=lead_a, keep=planted.family_a, note="x" * 301
        )
    assert refused.value.field == "note"
    planted.refresh_from_db()
    assert planted.status == FamilyDuplicate.Status.OPEN
