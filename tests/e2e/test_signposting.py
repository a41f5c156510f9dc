"""Signposting (issue 18's "Done when"): a pastoral worker signposts one family to the college's adult
learning (nothing shared), refers another to housing with the carer's consent, and finds the referral's
follow-up on their home page; choosing children's social care shows the safeguarding guidance and the
school's designated safeguarding lead instead of a form."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from signposting.models import Agency, Signpost
from tests.e2e.browser import follow, sign_in
from tests.factories import FamilyFactory, PupilFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_pastoral_worker_signposts_one_family_refers_another_and_sees_the_follow_up(
    page, check_page, school_a, pastoral_a, family_a
):
    school_a.safeguarding_lead = "Dana Lead"
    school_a.save()
    Agency.objects.create(name="Riverton College adult learning", helps_with="Courses for adults")
    Agency.objects.create(name="Housing options", helps_with="Help when at risk of losing a home")
    Agency.objects.create(name="Children's social care", helps_with="Children at risk", safeguarding=True)
    other = FamilyFactory(lead_carer_name="Olu Other", postcode="RV4 4DD")
    PupilFactory(family=other, school=school_a, legal_forename="Ola", surname="Other")
    today = timezone.localdate()

    # A signpost: the family is given the college's details; nothing is shared.
    sign_in(page, pastoral_a, next_path=f"/families/{family_a.pk}/")
    follow(page.get_by_role("button", name="Signpost or refer"))
    assert page.get_by_role("heading", level=1).inner_text() == "Signpost or refer to another agency"
    check_page(page, "choose")
    follow(page.get_by_role("link", name="Riverton College adult learning"))
    page.get_by_label("Signpost (details given, nothing shared)").check()
    page.get_by_label("Follow up on").fill((today + datetime.timedelta(days=14)).isoformat())
    follow(page.get_by_role("button", name="Continue"))
    assert page.get_by_role("heading", level=1).inner_text() == "Check before you record it"
    check_page(page, "check-signpost")
    follow(page.get_by_role("button", name="Record it"))
    assert page.get_by_text("Signposted to Riverton College adult learning recorded.").is_visible()
    assert Signpost.objects.get(family=family_a).kind == Signpost.Kind.SIGNPOST

    # Children's social care is never referred to here: the guidance and the DSL instead of a form.
    page.goto(page.url.split("/families/")[0] + f"/families/{other.pk}/signposts/new/")
    follow(page.get_by_role("link", name="Children's social care"))
    assert page.locator("#safeguarding-lead").inner_text() == "Dana Lead"
    assert "designated safeguarding lead" in page.locator("#safeguarding-guidance").inner_text()
    assert page.locator("input[name=kind]").count() == 0
    check_page(page, "safeguarding")

    # A referral: housing, with the carer's consent to share with housing, followed up today.
    page.goto(page.url.split("/families/")[0] + f"/families/{other.pk}/signposts/new/")
    follow(page.get_by_role("link", name="Housing options"))
    page.get_by_label("Referral (details shared with consent)").check()
    follow(page.get_by_role("button", name="Continue"))  # no consent yet: refused
    assert page.get_by_text("a referral needs their consent").first.is_visible()
    page.get_by_label("Referral (details shared with consent)").check()
    page.get_by_label("In person").check()
    page.get_by_label("Follow up on").fill(today.isoformat())
    follow(page.get_by_role("button", name="Continue"))
    assert "In person" in page.locator("#check-consent").inner_text()
    follow(page.get_by_role("button", name="Record it"))
    referral = Signpost.objects.get(family=other)
    assert referral.kind == Signpost.Kind.REFERRAL
    assert referral.consent_recorded_by == pastoral_a
    assert referral.consent_given_on == today

    # Home: the referral's follow-up is due today (the signpost's is not yet).
    page.goto(page.url.split("/families/")[0] + "/")
    item = page.locator("#work-waiting + .govuk-task-list > li").filter(has_text="Signposting follow-ups due")
    assert "1 waiting" in item.inner_text()
    check_page(page, "home")
    follow(item.get_by_role("link"))
    rows = page.locator("#follow-ups tbody tr")
    expect(rows).to_have_count(1)
    assert "Referred to Housing options" in rows.first.inner_text()
    follow(rows.first.get_by_role("link"))
    page.get_by_label("Engaged").check()
    follow(page.get_by_role("button", name="Record the outcome"))
    assert page.locator("#signpost-outcome").inner_text().startswith("Engaged")
