"""An ask turned into a signpost: the agency's details given through signposting's service, nothing shared
(never a referral), a safeguarding service refused with its guidance, the sheet e-mailed or printed."""

import pytest
from django.core import mail
from django.urls import reverse

from asks import services
from asks.models import Ask
from signposting.models import Agency, Signpost
from support.contacts import contact_create
from support.errors import ConflictError, SupportError
from support.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def college():
    return Agency.objects.create(
        name="Riverton College adult learning", helps_with="Courses for adults", phone="01632 960100"
    )


@pytest.fixture
def social_care():
    return Agency.objects.create(
        name="Children's social care", helps_with="Concerns that a child may be at risk", safeguarding=True
    )


def _ask(link, **fields) -> Ask:
    values = {"kind": "contact", "asker_name": "Jo Parent", "child_name": "Sam", "contact_way": "email"}
    return services.ask_submit(link=link, **{**values, **fields})


@pytest.fixture
def matched(lead_a, link_a, family_a):
    return services.ask_match(ask=_ask(link_a), actor=lead_a, pupil=family_a.pupils.get())


def test_it_records_a_signpost_not_a_referral_and_the_ask_is_done(lead_a, matched, college, school_a):
    signpost = services.ask_to_signpost(ask=matched, actor=lead_a, agency=college, note="Courses")
    assert (signpost.kind, signpost.agency, signpost.family_id, signpost.school) == (
        "signpost", college, matched.family_id, school_a,
    )  # fmt: skip
    assert (signpost.consent_method, signpost.consent_given_on) == ("", None)
    matched.refresh_from_db()
    assert (matched.status, matched.outcome) == ("done", "signpost")
    assert matched.outcome_ref == f"signpost:{signpost.pk}"
    recorded = AuditEvent.objects.filter(action="signpost.signpost_recorded", subject_id=str(signpost.pk))
    assert recorded.exists()
    event = AuditEvent.objects.get(action="ask.to-signpost", subject_id=str(matched.pk))
    assert event.after["outcome"] == "signpost"
    with pytest.raises(ConflictError):  # done: nothing else, not a second signpost
        services.ask_to_signpost(ask=matched, actor=lead_a, agency=college)


def test_a_safeguarding_agency_is_refused_with_the_guidance_and_nothing_is_recorded(
    lead_a, matched, social_care
):
    for run in (services.ask_signpost_check, services.ask_to_signpost):
        with pytest.raises(SupportError, match="designated safeguarding lead") as caught:
            run(ask=matched, actor=lead_a, agency=social_care)
        assert caught.value.field == "agency"
    assert not Signpost.objects.exists()
    matched.refresh_from_db()
    assert (matched.status, matched.outcome) == ("matched", "")


def test_only_a_matched_ask_by_a_lead_of_its_school_and_a_directory_agency(
    lead_a, pastoral_a, lead_b, link_a, matched, college, school_b
):
    with pytest.raises(ConflictError):
        services.ask_to_signpost(ask=_ask(link_a), actor=lead_a, agency=college)
    for actor in (pastoral_a, lead_b):
        with pytest.raises(SupportError):
            services.ask_to_signpost(ask=matched, actor=actor, agency=college)
    elsewhere = Agency.objects.create(name="Beta town food bank")
    elsewhere.schools.add(school_b)  # serves only a school the family is not at
    inactive = Agency.objects.create(name="Closed service", is_active=False)
    for agency in (None, elsewhere, inactive):
        with pytest.raises(SupportError) as caught:
            services.ask_to_signpost(ask=matched, actor=lead_a, agency=agency)
        assert caught.value.field == "agency"
    assert not Signpost.objects.exists()


def test_the_sheet_is_emailed_only_to_an_allowed_contact(
    lead_a, matched, college, eager, django_capture_on_commit_callbacks
):
    contact_create(
        family=matched.family, actor=lead_a, name="Lee Barred", email="lee@example.com",
        restriction="court_order",
    )  # fmt: skip
    with pytest.raises(SupportError, match="print the sheet"):
        services.ask_to_signpost(ask=matched, actor=lead_a, agency=college, send="email")
    assert not Signpost.objects.exists()  # refused as a whole: nothing recorded
    contact_create(
        family=matched.family, actor=lead_a, name="Anna Able", email="anna@example.com",
        parental_responsibility=True,
    )  # fmt: skip
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ask_to_signpost(ask=matched, actor=lead_a, agency=college, send="email")
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]
    assert "Riverton College adult learning" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="signpost.sheet_emailed").exists()


def test_the_page_checks_first_then_records_and_offers_the_sheet(client_for, lead_a, matched, college):
    client = client_for(lead_a)
    url = reverse("ask_act", args=[matched.pk, "signpost"])
    detail = client.get(reverse("ask_detail", args=[matched.pk])).content.decode()
    assert "Turn into a signpost" in detail
    assert "Riverton College adult learning" in detail
    assert client.post(url, {"signpost-agency": ""}).status_code == 400
    check = client.post(url, {"signpost-agency": college.pk, "signpost-send": "", "signpost-note": "Hi"})
    assert check.status_code == 200
    html = check.content.decode()
    assert "Check before you record the signpost" in html
    assert "Nothing: the family contacts Riverton College adult learning themselves" in html
    assert not Signpost.objects.exists()  # the check page writes nothing
    done = client.post(
        url, {"signpost-agency": college.pk, "signpost-send": "", "signpost-note": "Hi", "confirm": "yes"}
    )
    assert done.status_code == 302
    assert done.url == reverse("ask_detail", args=[matched.pk])
    signpost = Signpost.objects.get()
    assert (signpost.kind, signpost.note) == ("signpost", "Hi")
    page = client.get(done.url).content.decode()
    assert reverse("agency_sheet", args=[matched.family_id, college.pk]) in page
    assert reverse("signpost_detail", args=[signpost.pk]) in page
    sheet = client.get(reverse("agency_sheet", args=[matched.family_id, college.pk]))
    assert sheet["Content-Type"] == "application/pdf"


def test_the_page_refuses_a_safeguarding_agency_with_the_guidance(client_for, lead_a, matched, social_care):
    url = reverse("ask_act", args=[matched.pk, "signpost"])
    for extra in ({}, {"confirm": "yes"}):
        response = client_for(lead_a).post(url, {"signpost-agency": social_care.pk, **extra})
        assert response.status_code == 400
        assert "is a safeguarding service" in response.content.decode()
    assert not Signpost.objects.exists()


def test_the_signpost_action_is_refused_to_other_roles_and_schools(
    client_for, pastoral_a, lead_b, finance, matched, college
):
    url = reverse("ask_act", args=[matched.pk, "signpost"])
    data = {"signpost-agency": college.pk, "confirm": "yes"}
    for user, status in ((pastoral_a, 403), (finance, 403), (lead_b, 404)):
        assert client_for(user).post(url, data).status_code == status
    assert not Signpost.objects.exists()
