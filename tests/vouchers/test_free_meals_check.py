"""The lead's free-school-meals check (issue 20.5): families the school supported this year whose
children are not registered for benefits-related FSM, and the letter explaining how to apply."""

import datetime
import io

from django.utils import timezone
from pypdf import PdfReader

from support.free_meals import fsm_check_families
from support.models import AuditEvent, Pupil
from uniform.models import SupportRequest


def _names(rows) -> set[str]:
    return {row.family.lead_carer_name for row in rows}


def test_it_lists_a_supported_family_whose_child_is_not_registered(
    issue, family_a, food_type, lead_a, client_for
):
    issue(family_a, food_type)
    page = client_for(lead_a).get("/free-school-meals/").content.decode()
    assert "Anna Able" in page
    assert "Alfie Able" in page
    assert "Vouchers: 1" in page
    assert "1 vouchers" not in page
    assert f"/families/{family_a.pk}/free-school-meals-letter.pdf" in page
    assert "benefits-related free school meals" in page


def test_it_leaves_out_a_family_registered_for_fsm_and_lists_one_whose_fsm_ended(
    issue, family_a, food_type, lead_a
):
    issue(family_a, food_type)
    Pupil.objects.filter(family=family_a).update(fsm=True, fsm_start=datetime.date(2024, 9, 1))
    assert fsm_check_families(user=lead_a) == []
    Pupil.objects.filter(family=family_a).update(fsm_end=timezone.localdate() - datetime.timedelta(days=1))
    assert _names(fsm_check_families(user=lead_a)) == {"Anna Able"}


def test_it_leaves_out_families_the_school_has_not_supported(family_a, family_ab, lead_a):
    assert fsm_check_families(user=lead_a) == []


def test_it_leaves_out_support_from_last_academic_year(issue, family_a, food_type, lead_a):
    voucher = issue(family_a, food_type)
    today = timezone.localdate()
    last_year = datetime.date(today.year - 1 if today.month >= 9 else today.year - 2, 12, 1)
    type(voucher).objects.filter(pk=voucher.pk).update(
        issued_at=timezone.make_aware(datetime.datetime.combine(last_year, datetime.time(10)))
    )
    assert fsm_check_families(user=lead_a) == []


def test_another_schools_lead_does_not_see_the_family(issue, family_a, food_type, lead_b, client_for):
    issue(family_a, food_type)
    assert fsm_check_families(user=lead_b) == []
    assert "Anna Able" not in client_for(lead_b).get("/free-school-meals/").content.decode()


def test_a_coat_request_counts_as_support(family_a, school_a, pastoral_a, lead_a):
    SupportRequest.objects.create(
        pupil=family_a.pupils.get(), school=school_a, kind="coat", reason="No coat", period=2026,
        requested_by=pastoral_a,
    )  # fmt: skip
    (row,) = fsm_check_families(user=lead_a)
    assert row.support == {"coats, shoes and uniform": 1}


def test_the_letter_explains_how_to_apply_and_is_audited(issue, family_a, food_type, lead_a, client_for):
    issue(family_a, food_type)
    Pupil.objects.filter(family=family_a).update(year_group=1, uifsm=True)
    response = client_for(lead_a).get(f"/families/{family_a.pk}/free-school-meals-letter.pdf")
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert "Dear Anna Able" in text
    assert "https://www.gov.uk/apply-free-school-meals" in text
    assert "£1,500 a year for a primary pupil" in text
    assert "universal infant free school meals" in text
    assert "Alfie" in text
    event = AuditEvent.objects.get(action="family.fsm_letter_printed")
    assert (event.actor, event.subject_id) == (lead_a, str(family_a.pk))


def test_the_letter_names_only_the_leads_schools_pupils(family_ab, lead_a, client_for):
    response = client_for(lead_a).get(f"/families/{family_ab.pk}/free-school-meals-letter.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Cleo" in text
    assert "Caspar" not in text


def test_the_leads_home_page_links_to_the_check(lead_a, pastoral_a, client_for):
    assert 'href="/free-school-meals/"' in client_for(lead_a).get("/").content.decode()
    assert 'href="/free-school-meals/"' not in client_for(pastoral_a).get("/").content.decode()


def test_the_letter_goes_to_a_contact_who_may_be_told_never_one_under_a_restriction(
    issue, family_a, food_type, lead_a, client_for
):
    from support.contacts import contact_create

    issue(family_a, food_type)
    contact_create(
        family=family_a, actor=lead_a, name="Dan Able", relationship="Father", priority=1,
        parental_responsibility=True, restriction="court_order", restriction_note="Prohibited steps order",
    )  # fmt: skip
    client = client_for(lead_a)
    refused = client.get(f"/families/{family_a.pk}/free-school-meals-letter.pdf")
    assert refused.status_code == 302  # back to the family page: nobody may be told
    assert not AuditEvent.objects.filter(action="family.fsm_letter_printed").exists()
    contact_create(
        family=family_a, actor=lead_a, name="Anna Able", relationship="Mother", priority=2,
        parental_responsibility=True,
    )  # fmt: skip
    response = client.get(f"/families/{family_a.pk}/free-school-meals-letter.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Dear Anna Able" in text
    assert "Dan" not in text
