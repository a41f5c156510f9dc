"""A parent asks for help through the school's public page, and a pastoral lead turns it into help.

A carer on a phone (360 px) asks in Polish for a coat for their child, and sees the same confirmation
whatever they typed; the school's lead finds the ask in their queue (home's "Waiting for you" links to
it), matches it to a pupil and turns it into a coat request; another ask becomes a signpost after its
check page. axe-core checks the public page in each language, with Urdu and Arabic running right to left.
"""

import pytest
from django.urls import reverse

from asks.models import Ask, AskLink
from asks.services import ask_match, ask_submit
from signposting.models import Agency, Signpost
from support.services import pupil_set_in_need
from tests.asks.i18n import compile_asks_messages
from tests.e2e.browser import PHONE, follow, sign_in
from tests.factories import FamilyFactory, PupilFactory
from uniform.models import ItemKind, SupportRequest, UniformItem

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LANGUAGES = {
    "en": ("Ask Alpha Primary Academy for help", "ltr"),
    "pl": ("Poproś o pomoc: Alpha Primary Academy", "ltr"),
    "ur": ("Alpha Primary Academy سے مدد مانگیں", "rtl"),
    "pa": ("Alpha Primary Academy ਤੋਂ ਮਦਦ ਮੰਗੋ", "ltr"),
    "ro": ("Cereți ajutor de la Alpha Primary Academy", "ltr"),
    "ar": ("اطلب المساعدة من Alpha Primary Academy", "rtl"),
}


@pytest.fixture(autouse=True)
def _messages():
    compile_asks_messages()


@pytest.fixture
def link(school_a):
    return AskLink.objects.create(school=school_a, code="alpha7")


def test_a_carer_asks_in_polish_on_a_phone_and_a_lead_turns_it_into_a_coat_request(
    new_page, check_page, link, school_a, lead_a
):
    family = FamilyFactory(lead_carer_name="Anna Kowalska")
    pupil = PupilFactory(
        family=family, school=school_a, legal_forename="Kacper", surname="Kowalski", year_group=3
    )
    pupil_set_in_need(pupil=pupil, actor=lead_a, in_need=True, reason="Winter")
    coat = UniformItem.objects.create(
        school=school_a, kind=ItemKind.COAT, name="Winter coat", sizes=["7-8", "9-10"], unit_cost_pence=22_00,
        track_stock=False,
    )  # fmt: skip

    # The carer, on a phone, opens the short link and switches to Polish.
    carer = new_page(PHONE)
    carer.goto(reverse("ask_public", args=[link.code]))
    follow(carer.get_by_role("link", name="Polski"))
    assert carer.get_by_role("heading", level=1).inner_text() == "Poproś o pomoc: Alpha Primary Academy"
    follow(carer.get_by_role("button", name="Wyślij"))  # nothing chosen: the errors, in Polish
    assert carer.get_by_role("heading", name="Wystąpił problem").is_visible()
    check_page(carer, "errors-in-polish")
    carer.get_by_label("Kurtka zimowa").check()
    carer.get_by_label("Twoje imię i nazwisko").fill("Anna Kowalska")
    carer.get_by_label("Imię i nazwisko dziecka").fill("Kacper Kowalski")
    carer.get_by_label("Klasa lub rok nauki dziecka (opcjonalnie)").fill("Year 3")
    carer.get_by_label("Wiadomość SMS").check()
    follow(carer.get_by_role("button", name="Wyślij"))
    assert carer.get_by_role("heading", level=1).inner_text() == "Dziękujemy"
    assert carer.get_by_text("Otrzymaliśmy Twoją wiadomość.").is_visible()
    check_page(carer, "thanks-in-polish")
    # Nothing on the confirmation says whether a Kacper is at the school.
    assert "Kacper" not in carer.content()
    assert "Kowalsk" not in carer.content()
    ask = Ask.objects.get()
    assert (ask.kind, ask.language, ask.family) == ("coat", "pl", None)

    # The lead: home counts the ask, the queue lists it; match to the pupil, then make the coat request.
    lead = new_page()
    sign_in(lead, lead_a)
    follow(lead.get_by_role("link", name="Asks for help").first)
    assert lead.get_by_role("heading", level=1).inner_text() == "Asks for help"
    check_page(lead, "queue")
    follow(lead.get_by_role("link", name="A winter coat from Anna Kowalska"))
    lead.get_by_label("Pupil").select_option(label="Kowalski, Kacper (Year 3) – family of Anna Kowalska")
    follow(lead.get_by_role("button", name="Match"))
    assert lead.get_by_text("Matched. The person who asked is not told.").is_visible()
    check_page(lead, "matched")
    lead.get_by_label("Item and size").select_option(value=f"{coat.pk}:7-8")
    follow(lead.get_by_role("button", name="Make the request"))
    assert lead.get_by_text("Request made: coat").is_visible()
    request = SupportRequest.objects.get()
    assert (request.pupil, request.kind, request.size) == (pupil, "coat", "7-8")
    ask.refresh_from_db()
    assert (ask.status, ask.outcome, ask.family) == ("done", "request", family)


def test_the_public_page_is_accessible_in_every_language(new_page, check_page, link):
    page = new_page(PHONE)
    for lang, (heading, direction) in LANGUAGES.items():
        page.goto(reverse("ask_public_lang", args=[link.code, lang]))
        assert page.get_by_role("heading", level=1).inner_text() == heading
        assert page.evaluate("() => document.documentElement.dir") == direction
        check_page(page, f"ask-{lang}")
    page.goto(reverse("ask_privacy", args=[link.code, "ar"]))
    check_page(page, "privacy-ar")


def test_a_lead_turns_an_ask_into_a_signpost_after_checking_it(new_page, check_page, link, school_a, lead_a):
    family = FamilyFactory(lead_carer_name="Kim Jones")
    PupilFactory(family=family, school=school_a, legal_forename="Riley", surname="Jones", year_group=5)
    Agency.objects.create(name="Riverton Citizens Advice", helps_with="Debt, benefits and housing advice")
    Agency.objects.create(name="Children's social care", helps_with="Child protection", safeguarding=True)
    ask = ask_submit(
        link=link, kind="contact", asker_name="K. Jones", child_name="Riley", contact_way="phone"
    )
    ask_match(ask=ask, actor=lead_a, pupil=family.pupils.get())

    lead = new_page()
    sign_in(lead, lead_a)
    lead.goto(reverse("ask_detail", args=[ask.pk]))
    # A safeguarding service is refused with the guidance, and nothing is recorded.
    lead.get_by_label("Agency").select_option(label="Children's social care (safeguarding)")
    follow(lead.get_by_role("button", name="Check the signpost"))
    assert lead.get_by_text("is a safeguarding service").first.is_visible()
    assert not Signpost.objects.exists()
    lead.get_by_label("Agency").select_option(label="Riverton Citizens Advice")
    follow(lead.get_by_role("button", name="Check the signpost"))
    assert lead.get_by_role("heading", level=1).inner_text() == "Check before you record the signpost"
    assert lead.get_by_text("Nothing: the family contacts Riverton Citizens Advice themselves").is_visible()
    check_page(lead, "signpost-check")
    follow(lead.get_by_role("button", name="Record the signpost"))
    assert lead.get_by_text("Signposted to Riverton Citizens Advice.").is_visible()
    assert lead.get_by_role("link", name="print the agency's sheet").is_visible()
    check_page(lead, "signposted")
    signpost = Signpost.objects.get()
    assert (signpost.kind, signpost.family, signpost.consent_method) == ("signpost", family, "")
    ask.refresh_from_db()
    assert (ask.status, ask.outcome) == ("done", "signpost")
