import datetime

import pytest
from django.contrib.contenttypes.models import ContentType

from signposting import selectors
from signposting.models import Signpost
from signposting.services import (
    agency_sheet_email,
    signpost_outcome_record,
    signpost_record,
)
from support.errors import ConflictError, SupportError
from support.models import AuditEvent
from tests.signposting.conftest import TODAY

pytestmark = pytest.mark.django_db
Kind, Outcome = Signpost.Kind, Signpost.Outcome


def _record(family, actor, **kwargs):
    kwargs.setdefault("kind", Kind.SIGNPOST)
    kwargs.setdefault("today", TODAY)
    return signpost_record(family=family, actor=actor, **kwargs)


def test_it_records_a_signpost_with_nothing_shared(family_a, pastoral_a, college, school_a):
    signpost = _record(family_a, pastoral_a, agency=college, follow_up_on=TODAY + datetime.timedelta(days=14))
    assert signpost.school == school_a
    assert signpost.given_on == TODAY
    assert signpost.consent_given_on is None
    assert signpost.consent_method == ""
    event = AuditEvent.objects.get(action="signpost.signpost_recorded")
    assert event.subject_id == str(signpost.pk)
    assert event.subject_type == ContentType.objects.get_for_model(Signpost)
    assert event.actor == pastoral_a


def test_it_refuses_consent_on_a_signpost(family_a, pastoral_a, college):
    with pytest.raises(SupportError, match="Only a referral"):
        _record(family_a, pastoral_a, agency=college, consent_method="in_person")


def test_it_refuses_a_referral_without_consent(family_a, pastoral_a, college):
    with pytest.raises(SupportError) as refused:
        _record(family_a, pastoral_a, agency=college, kind=Kind.REFERRAL)
    assert refused.value.field == "consent_method"
    assert "Riverton College adult learning" in refused.value.message
    assert not Signpost.objects.exists()


def test_it_records_a_referral_with_the_consent_who_and_when(family_a, pastoral_a, college):
    signpost = _record(
        family_a, pastoral_a, agency=college, kind=Kind.REFERRAL, consent_method="phone",
        consent_given_on=TODAY - datetime.timedelta(days=1),
    )  # fmt: skip
    assert signpost.consent_method == "phone"
    assert signpost.consent_given_on == TODAY - datetime.timedelta(days=1)
    assert signpost.consent_recorded_by == pastoral_a
    assert signpost.consent_recorded_at is not None


def test_it_refuses_consent_dated_in_the_future(family_a, pastoral_a, college):
    with pytest.raises(SupportError, match="cannot be in the future"):
        _record(
            family_a, pastoral_a, agency=college, kind=Kind.REFERRAL, consent_method="phone",
            consent_given_on=TODAY + datetime.timedelta(days=1),
        )  # fmt: skip


def test_it_refuses_a_safeguarding_service_with_the_guidance(family_a, pastoral_a, social_care):
    for kind in Kind.values:
        with pytest.raises(SupportError) as refused:
            _record(family_a, pastoral_a, agency=social_care, kind=kind, lead_professional="A Person",
                    consent_method="phone" if kind == Kind.REFERRAL else "")  # fmt: skip
        assert "designated safeguarding lead" in refused.value.message
    assert not Signpost.objects.exists()


def test_it_records_early_help_with_the_lead_professional(family_a, pastoral_a):
    with pytest.raises(SupportError, match="lead professional"):
        _record(family_a, pastoral_a, kind=Kind.EARLY_HELP)
    signpost = _record(family_a, pastoral_a, kind=Kind.EARLY_HELP, lead_professional="  Sam   Okafor ")
    assert signpost.lead_professional == "Sam Okafor"
    assert signpost.what == "Early Help assessment"


def test_a_signpost_needs_an_agency(family_a, pastoral_a):
    with pytest.raises(SupportError, match="Choose the agency"):
        _record(family_a, pastoral_a)


def test_it_refuses_a_family_outside_the_staff_schools(family_b, pastoral_a, college):
    with pytest.raises(SupportError) as refused:
        _record(family_b, pastoral_a, agency=college)
    assert refused.value.field == "school"


def test_it_refuses_a_follow_up_before_the_day(family_a, pastoral_a, college):
    with pytest.raises(SupportError, match="follow-up"):
        _record(family_a, pastoral_a, agency=college, follow_up_on=TODAY - datetime.timedelta(days=1))


def test_it_refuses_a_long_note(family_a, pastoral_a, college):
    with pytest.raises(SupportError, match="safeguarding lead"):
        _record(family_a, pastoral_a, agency=college, note="x" * 301)


def test_waiting_keeps_it_open_and_engaged_closes_it(family_a, pastoral_a, college):
    signpost = _record(family_a, pastoral_a, agency=college, follow_up_on=TODAY)
    later = TODAY + datetime.timedelta(days=7)
    signpost = signpost_outcome_record(
        signpost=signpost, outcome=Outcome.WAITING, follow_up_on=later, actor=pastoral_a, today=TODAY
    )
    assert signpost.is_open
    assert signpost.follow_up_on == later
    signpost = signpost_outcome_record(
        signpost=signpost, outcome=Outcome.ENGAGED, actor=pastoral_a, today=later
    )
    assert not signpost.is_open
    assert signpost.outcome_on == later
    with pytest.raises(ConflictError):
        signpost_outcome_record(signpost=signpost, outcome=Outcome.DECLINED, actor=pastoral_a, today=later)
    assert AuditEvent.objects.filter(action="signpost.outcome_recorded").count() == 2


def test_follow_ups_due_are_the_recorders_and_their_leads(family_a, pastoral_a, lead_a, pastoral_b, college):
    due = _record(family_a, pastoral_a, agency=college, follow_up_on=TODAY)
    _record(family_a, pastoral_a, agency=college, follow_up_on=TODAY + datetime.timedelta(days=1))
    closed = _record(family_a, pastoral_a, agency=college, follow_up_on=TODAY)
    signpost_outcome_record(signpost=closed, outcome=Outcome.DECLINED, actor=pastoral_a, today=TODAY)
    assert list(selectors.follow_ups_due(pastoral_a, today=TODAY)) == [due]
    assert list(selectors.follow_ups_due(lead_a, today=TODAY)) == [due]
    assert list(selectors.follow_ups_due(pastoral_b, today=TODAY)) == []


def test_signposts_are_scoped_to_the_staff_schools(family_a, pastoral_a, pastoral_b, finance, admin, college):
    signpost = _record(family_a, pastoral_a, agency=college)
    assert list(selectors.signposts_visible_to(pastoral_a)) == [signpost]
    assert list(selectors.signposts_visible_to(admin)) == [signpost]
    assert not selectors.signposts_visible_to(pastoral_b).exists()
    assert not selectors.signposts_visible_to(finance).exists()
    assert not selectors.agencies_visible_to(finance).exists()


def test_support_events_are_one_row_each_in_the_dates(family_a, pastoral_a, college, school_a):
    one = _record(family_a, pastoral_a, agency=college, given_on=TODAY - datetime.timedelta(days=40))
    _record(family_a, pastoral_a, kind=Kind.TEAM_AROUND_FAMILY, lead_professional="Jo Bloggs")
    rows = list(
        selectors.support_events(TODAY - datetime.timedelta(days=60), TODAY - datetime.timedelta(days=1))
    )
    assert rows == [(family_a.pk, None, school_a.pk, one.given_on)]
    assert len(selectors.support_events(TODAY - datetime.timedelta(days=60), TODAY)) == 2


def test_the_sheet_is_emailed_through_the_outbox_in_plain_words(
    family_a, pastoral_a, college, eager, mailoutbox, django_capture_on_commit_callbacks
):
    family_a.email = "carer@example.com"
    family_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert agency_sheet_email(family=family_a, agency=college, actor=pastoral_a) == "carer@example.com"
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["carer@example.com"]
    assert mail.subject == "Help from Riverton College adult learning"
    assert "01632 960100" in mail.body
    assert "Drop in to the advice centre" in mail.body
    assert AuditEvent.objects.filter(action="signpost.sheet_emailed").exists()


def test_the_sheet_is_not_sent_without_an_address_or_for_safeguarding(
    family_a, pastoral_a, college, social_care
):
    family_a.email = ""
    with pytest.raises(SupportError, match="no e-mail address"):
        agency_sheet_email(family=family_a, agency=college, actor=pastoral_a)
    family_a.email = "carer@example.com"
    with pytest.raises(SupportError, match="safeguarding"):
        agency_sheet_email(family=family_a, agency=social_care, actor=pastoral_a)


def test_the_sheet_never_goes_to_a_restricted_contact(family_a, pastoral_a, college):
    from support.contacts import contact_create

    contact_create(
        family=family_a, actor=pastoral_a, name="Lee Able", email="lee@example.com", restriction="court_order"
    )
    contact_create(
        family=family_a,
        actor=pastoral_a,
        name="Anna Able",
        email="anna@example.com",
        parental_responsibility=True,
    )
    assert agency_sheet_email(family=family_a, agency=college, actor=pastoral_a) == "anna@example.com"


def test_the_sheet_is_a_pdf_naming_the_agency_and_no_pupil(family_a, college):
    import io

    from pypdf import PdfReader

    from signposting.sheet import agency_sheet_pdf

    pdf = agency_sheet_pdf(family=family_a, agency=college)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 1
    assert "Help from Riverton College adult learning" in text
    assert "01632 960100" in text
    for pupil in family_a.pupils.all():
        assert pupil.legal_forename not in text
