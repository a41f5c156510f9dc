import pytest

from support import services
from support.errors import ConflictError, SupportError
from support.models import AuditEvent, FamilyDuplicate, Pupil
from tests.factories import FamilyFactory, PupilFactory


def test_it_updates_a_family_and_audits_only_what_changed(family_a, pastoral_a):
    services.family_update(family=family_a, actor=pastoral_a, postcode="rv1 9zz", adults=2, dietary_needs="")
    family_a.refresh_from_db()
    assert family_a.postcode == "RV1 9ZZ"
    event = AuditEvent.objects.get(action="family.updated")
    assert event.before == {"postcode": "RV1 1AA", "adults": 1}
    assert event.after == {"postcode": "RV1 9ZZ", "adults": 2}


def test_it_writes_no_event_when_nothing_changed(family_a, pastoral_a):
    services.family_update(family=family_a, actor=pastoral_a, postcode="RV1 1AA")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"postcode": "not a postcode"}, "postcode", "Enter a UK postcode"),
        ({"lead_carer_name": "   "}, "lead_carer_name", "Enter the lead carer's name"),
        ({"adults": 0}, "adults", "at least one adult"),
    ],
)
def test_it_refuses_bad_family_details_and_saves_nothing(family_a, pastoral_a, fields, field, message):
    with pytest.raises(SupportError) as caught:
        services.family_update(family=family_a, actor=pastoral_a, **fields)
    assert caught.value.field == field
    assert message in caught.value.message
    family_a.refresh_from_db()
    assert family_a.postcode == "RV1 1AA"
    assert family_a.adults == 1


def test_it_needs_a_reason_to_flag_a_pupil_in_need(family_a, pastoral_a):
    pupil = family_a.pupils.get()
    with pytest.raises(SupportError, match="why"):
        services.pupil_set_in_need(pupil=pupil, actor=pastoral_a, in_need=True, reason=" ")
    pupil.refresh_from_db()
    assert not pupil.in_need


def test_it_shows_form_errors_on_the_edit_page(client_for, pastoral_a, family_a):
    response = client_for(pastoral_a).post(
        f"/families/{family_a.pk}/edit/",
        {"lead_carer_name": "Anna Able", "phone": "12", "postcode": "nowhere", "adults": 1, "children": 1},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert "Enter a UK phone number" in body
    family_a.refresh_from_db()
    assert family_a.phone == "+441134960001"


def test_it_flags_a_pupil_in_need_from_the_family_page(client_for, pastoral_a, family_a):
    pupil = family_a.pupils.get()
    client_for(pastoral_a).post(
        f"/pupils/{pupil.pk}/need/", {"in_need": "on", "reason": "Winter coat needed"}
    )
    pupil.refresh_from_db()
    assert pupil.in_need


def test_removing_the_in_need_flag_asks_first(client_for, pastoral_a, family_a):
    pupil = family_a.pupils.get()
    pupil.in_need = True
    pupil.save(update_fields=["in_need"])
    client = client_for(pastoral_a)
    assert "data-confirm" not in client.get(f"/families/{family_a.pk}/").content.decode()
    response = client.post(f"/pupils/{pupil.pk}/need/", {"in_need": ""})
    assert "Are you sure you want to remove the in-need flag" in response.content.decode()
    pupil.refresh_from_db()
    assert pupil.in_need
    client.post(f"/pupils/{pupil.pk}/need/", {"in_need": "", "confirm": "yes"})
    pupil.refresh_from_db()
    assert not pupil.in_need


@pytest.fixture
def duplicate(school_a, school_b):
    first = FamilyFactory(lead_carer_name="Dana Dee", postcode="RV4 4DD", email="dana@mail.example")
    second = FamilyFactory(lead_carer_name="Dana Dee", postcode="RV4 4DD", phone="+441134960044")
    PupilFactory(family=first, school=school_a, legal_forename="Dom")
    PupilFactory(family=second, school=school_b, legal_forename="Daisy")
    return FamilyDuplicate.objects.create(
        family_a=first, family_b=second, reason="Same carer name and postcode"
    )


def test_it_merges_duplicate_families_into_the_one_kept(duplicate, lead_a, lead_b):
    # Each family has a child at a different school: lead_a asks, lead_b (the other school) agrees.
    assert (
        services.family_duplicate_decide_merge(duplicate=duplicate, actor=lead_a, keep=duplicate.family_a)
        is None
    )
    kept = services.family_duplicate_agree(duplicate=duplicate, actor=lead_b)
    assert set(Pupil.objects.filter(family=kept).values_list("legal_forename", flat=True)) == {"Dom", "Daisy"}
    duplicate.family_b.refresh_from_db()
    assert duplicate.family_b.merged_into == kept
    kept.refresh_from_db()
    assert kept.phone == "+441134960044"  # filled in from the merged record
    assert kept.children == 2
    duplicate.refresh_from_db()
    assert duplicate.status == FamilyDuplicate.Status.MERGED
    assert AuditEvent.objects.get(action="family.merged").actor == lead_b
    assert AuditEvent.objects.get(action="family.merge_requested").actor == lead_a
    assert AuditEvent.objects.get(action="family.merge_agreed").actor == lead_b


def test_it_refuses_a_second_decision_on_the_same_pair(duplicate, lead_a, admin):
    services.family_duplicate_keep_apart(duplicate=duplicate, actor=lead_a)
    with pytest.raises(ConflictError):
        services.family_duplicate_merge(duplicate=duplicate, actor=admin, keep=duplicate.family_b)
    assert Pupil.objects.filter(family=duplicate.family_b).count() == 1


def test_it_lets_a_lead_decide_from_the_duplicates_page(client_for, duplicate, lead_a, lead_b):
    # Deliberately changed (issue 13.3): lead_a no longer sees the other school's name and count, and
    # their choice becomes a request that lead_b agrees to on the same page.
    client = client_for(lead_a)
    page = client.get("/duplicates/").content.decode()
    assert "Dana Dee" in page  # the family at lead_a's school
    assert "A family at another of the trust's schools" in page
    assert "Beta Secondary Academy" not in page
    assert "Daisy" not in page
    response = client.post(f"/duplicates/{duplicate.pk}/decide/", {"decision": "keep_b"}, follow=True)
    assert "Nothing is merged until they do" in response.content.decode()
    assert Pupil.objects.filter(family=duplicate.family_b).count() == 1
    other = client_for(lead_b)
    assert "Agree to merge" in other.get("/duplicates/").content.decode()
    check = other.post(f"/duplicates/{duplicate.pk}/decide/", {"decision": "agree"})
    page = check.content.decode()
    assert "Are you sure you want to merge these families?" in page
    assert "Daisy" in page  # lead_b's own family's child
    assert "Dom" not in page
    assert "dana@mail.example" not in page
    assert "A family at another of the trust" in page
    assert Pupil.objects.filter(family=duplicate.family_b).count() == 1
    response = other.post(
        f"/duplicates/{duplicate.pk}/decide/", {"decision": "agree", "confirm": "yes"}, follow=True
    )
    assert "merged into" in response.content.decode()
    assert Pupil.objects.filter(family=duplicate.family_b).count() == 2


def test_the_duplicates_page_shows_each_familys_children_in_scope_and_links_both_records(
    client_for, duplicate, admin, lead_b
):
    page = client_for(admin).get("/duplicates/").content.decode()
    assert f'href="/families/{duplicate.family_a_id}/"' in page
    assert f'href="/families/{duplicate.family_b_id}/"' in page
    assert "Dom " in page
    assert "Daisy " in page
    assert "data-confirm" not in page
    assert page.count('class="govuk-button" ') == 0  # the merge choices are secondary: no two primaries
    page = client_for(lead_b).get("/duplicates/").content.decode()
    assert "Daisy " in page
    assert "Dom " not in page  # a pupil at school A is out of lead_b's scope


def test_an_admin_merging_is_asked_first_and_nothing_moves_until_confirmed(client_for, duplicate, admin):
    client = client_for(admin)
    check = client.post(f"/duplicates/{duplicate.pk}/decide/", {"decision": "keep_a", "note": "Same mum"})
    page = check.content.decode()
    assert check.status_code == 200
    assert "Are you sure you want to merge these families?" in page
    assert "Record kept" in page
    assert "Dom " in page
    assert "Daisy " in page
    assert 'name="decision" value="keep_a"' in page
    assert 'name="note" value="Same mum"' in page
    assert "govuk-button--warning" in page
    duplicate.refresh_from_db()
    assert duplicate.status == FamilyDuplicate.Status.OPEN
    assert Pupil.objects.filter(family=duplicate.family_a).count() == 1
    client.post(
        f"/duplicates/{duplicate.pk}/decide/", {"decision": "keep_a", "note": "Same mum", "confirm": "yes"}
    )
    assert Pupil.objects.filter(family=duplicate.family_a).count() == 2
    assert AuditEvent.objects.filter(action="family.merged").count() == 1


def test_it_hides_duplicates_from_leads_of_other_schools(client_for, duplicate, school_a, school_b):
    from tests.factories import SchoolFactory, make_user

    other = SchoolFactory(name="Gamma Academy", urn="140903")
    lead_c = make_user("lead_c", "lead", schools=[other])
    client = client_for(lead_c)
    assert "Dana Dee" not in client.get("/duplicates/").content.decode()
    assert client.post(f"/duplicates/{duplicate.pk}/decide/", {"decision": "keep_a"}).status_code == 404
    duplicate.refresh_from_db()
    assert duplicate.status == FamilyDuplicate.Status.OPEN


def test_it_shows_phone_numbers_as_people_write_them(client_for, pastoral_a, family_a):
    body = client_for(pastoral_a).get(f"/families/{family_a.pk}/").content.decode()
    assert "0113 496 0001" in body
    assert "+441134960001" not in body


def test_it_ties_each_error_message_to_its_input(client_for, pastoral_a, family_a):
    body = (
        client_for(pastoral_a)
        .post(
            f"/families/{family_a.pk}/edit/",
            {"lead_carer_name": "Anna Able", "phone": "12", "adults": 1, "children": 1},
        )
        .content.decode()
    )
    assert 'aria-describedby="id_phone_helptext id_phone_error"' in body
    assert '<p id="id_phone_error" class="govuk-error-message">' in body
    assert "govuk-input--error" in body
    assert '<a href="#id_phone">Enter a UK phone number' in body  # the summary links to the field
