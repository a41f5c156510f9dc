"""Welcome uniform at a school: a pastoral lead generates the Reception intake's packs, records the class's
sizes on one page, prints the packing list, then packs one pupil's gift and hands it over."""

import re

import pytest

from tests.e2e.browser import download_from, follow, pdf_text, sign_in
from tests.uniform.test_gifts_fixtures import this_year
from uniform.models import Gift, StockLevel

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_uniform_generates_packs_records_a_classes_sizes_prints_and_hands_over(
    page, check_page, school_a, lead_a, reception
):
    year = this_year()
    sign_in(page, lead_a, next_path="/uniform/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Welcome uniform {year} to {year + 1}"
    assert page.get_by_text("No welcome packs for this year yet.").is_visible()
    check_page(page, "overview-before")

    follow(page.get_by_role("button", name=f"Generate welcome packs for {year} to {year + 1}"))
    assert page.get_by_role("heading", level=1).inner_text() == "Check before you generate welcome packs"
    assert not Gift.objects.exists()
    follow(page.get_by_role("button", name="Generate 3 welcome packs"))
    assert page.get_by_role("heading", level=1).inner_text() == "3 welcome packs generated"
    assert Gift.objects.filter(school=school_a, academic_year=year).count() == 3
    follow(page.get_by_role("link", name="Back to welcome uniform"))
    check_page(page, "overview-generated")

    # The whole class's sizes on one page, saved at once.
    follow(page.get_by_role("link", name="Reception", exact=True))
    assert page.get_by_role("heading", level=1).inner_text() == "Reception welcome packs"
    check_page(page, "class-waiting-for-sizes")
    sizes = {"Kid00": "5-6", "Kid01": "5-6", "Kid02": "7-8"}
    page.get_by_label("Jumper size for the whole class").select_option("5-6")
    follow(page.get_by_role("link", name="Change sizes for Kid02"))
    page.get_by_label("Jumper size for the whole class").select_option("5-6")
    page.get_by_label("Jumper for Kid02").select_option("7-8")
    follow(page.get_by_role("button", name="Save sizes"))
    assert page.get_by_text("Sizes saved for 3 pupils.").is_visible()
    assert set(Gift.objects.values_list("status", flat=True)) == {Gift.Status.SIZED}
    check_page(page, "class-sized")

    # The packing list: every sized pack, with what to pick in which size, and the totals.
    pdf, filename = download_from(page, page.get_by_role("link", name="Packing list (PDF)"))
    assert filename == "packing-list.pdf"
    text = pdf_text(pdf)
    flat = re.sub(r"\s+", " ", text)
    assert "Welcome packs to pick: Alpha Primary Academy" in flat
    for forename in sizes:
        assert f"{forename} Intake – Reception" in flat, flat
    assert "Jumper 5-6 4" in flat, flat
    assert "Jumper 7-8 2" in flat, flat
    assert "Book bag One size 3" in flat, flat
    assert "3 packs to pick · 0 pupils: size needed" in flat, flat

    # Pack one pupil's gift and hand it over: the stock goes down by the pack's two jumpers.
    follow(page.get_by_role("button", name="Mark packed for Kid00"))
    assert page.get_by_text("Kid00 Intake's pack is marked packed.").is_visible()
    follow(page.get_by_role("button", name="Hand over to Kid00"))
    assert page.get_by_text("Kid00 Intake's pack was handed over.").is_visible()
    gift = Gift.objects.get(pupil__legal_forename="Kid00")
    assert gift.status == Gift.Status.HANDED_OVER
    assert gift.handed_over_by == lead_a
    assert gift.cost_pence == 2 * 8_50 + 4_00
    assert StockLevel.objects.get(item=reception["jumper"], size="5-6").quantity == 2
    row = page.locator(f"#gift-{gift.pk}")
    assert "Handed over" in row.inner_text()
    check_page(page, "class-handed-over")


def test_uniform_sizes_a_class_of_30_with_a_class_size_and_one_exception(
    new_page, check_page, school_a, lead_a, pastoral_a
):
    """Issue 15.5: a class of 30 on one laptop screen or so; the whole class's size set once, one pupil's
    changed; two pupils called "Ali, Adam" told apart by their dates of birth."""
    import datetime

    from tests.factories import PupilFactory
    from tests.uniform.test_gifts_fixtures import make_intake, make_item, make_pack
    from uniform.models import GiftLine
    from uniform.services import gifts as gift_services

    jumper = make_item(school_a, "Jumper")
    shirt = make_item(school_a, "Polo shirt")
    cap = make_item(school_a, "Cap", sizes=("S", "M", "L"))
    make_pack(
        school_a, 0, [(jumper, 2), (shirt, 2), (cap, 1), (make_item(school_a, "Book bag", sizes=()), 1)]
    )
    make_intake(school_a, 28, surname="Intake")
    for born in (datetime.date(2021, 3, 3), datetime.date(2020, 11, 9)):
        PupilFactory(school=school_a, year_group=0, surname="Ali", legal_forename="Adam", date_of_birth=born)
    year = this_year()
    gift_services.gifts_generate(school=school_a, academic_year=year, actor=lead_a)

    page = new_page({"width": 1280, "height": 800})
    sign_in(page, pastoral_a, next_path=f"/uniform/schools/{school_a.pk}/year/0/?year={year}")
    assert page.get_by_role("heading", level=1).inner_text() == "Reception welcome packs"
    assert page.locator("select").count() == 3
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 3 * 800, f"the class of 30 is {height}px tall at 1280x800"
    check_page(page, "class-of-30")

    # The whole class's jumpers and caps, and the second Adam Ali's jumper one size up.
    follow(page.get_by_role("link", name="Change sizes for Adam (born 3 Mar 2021)"))
    page.get_by_label("Jumper size for the whole class").select_option("5-6")
    page.get_by_label("Cap size for the whole class").select_option("M")
    page.get_by_label("Jumper for Adam (born 3 Mar 2021)").select_option("7-8")
    check_page(page, "class-of-30-one-pupil-open")
    follow(page.get_by_role("button", name="Save sizes"))
    assert page.get_by_text("Sizes saved for 30 pupils.").is_visible()
    jumpers = GiftLine.objects.filter(item=jumper)
    assert jumpers.filter(size="5-6").count() == 29
    assert jumpers.get(size="7-8").gift.pupil.date_of_birth == datetime.date(2021, 3, 3)
    assert set(GiftLine.objects.filter(item=cap).values_list("size", flat=True)) == {"M"}
    assert set(GiftLine.objects.filter(item=shirt).values_list("size", flat=True)) == {""}
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 3 * 800, f"the class of 30 is {height}px tall at 1280x800"
    check_page(page, "class-of-30-sized")

    # A size recorded by mistake is cleared: that pupil's pack waits for sizes again.
    follow(page.get_by_role("link", name="Change sizes for Adam (born 3 Mar 2021)"))
    page.get_by_label("Cap for Adam (born 3 Mar 2021)").select_option(label="No size yet (clear it)")
    check_page(page, "class-of-30-clearing-a-size")
    follow(page.get_by_role("button", name="Save sizes"))
    assert page.get_by_text("Sizes saved for 1 pupil.").is_visible()
    cleared = GiftLine.objects.get(item=cap, gift__pupil__date_of_birth=datetime.date(2021, 3, 3))
    assert cleared.size == ""


def test_a_request_finance_sent_back_is_changed_checked_then_sent_again(
    new_page, check_page, school_a, pastoral_a, finance, funded
):
    """Issue 15.4: changing a sent-back request shows what it now costs and who decides before it goes."""
    from funds.services.approvals import spend_request_for, spend_request_send_back
    from tests.factories import FamilyFactory, PupilFactory
    from tests.uniform.factories import UniformItemFactory
    from uniform.models import ItemKind, SupportRequest
    from uniform.services.requests import request_create

    dear = UniformItemFactory(
        school=school_a, kind=ItemKind.COAT, name="Parka", sizes=["7-8"], unit_cost_pence=150_00
    )
    fleece = UniformItemFactory(
        school=school_a, kind=ItemKind.COAT, name="Fleece", sizes=["7-8"], unit_cost_pence=25_00
    )
    pupil = PupilFactory(family=FamilyFactory(), school=school_a, in_need=True)
    asked = request_create(
        pupil=pupil,
        kind=ItemKind.COAT,
        item=dear,
        size="7-8",
        reason="Outgrown",
        urgency="routine",
        actor=pastoral_a,
    )
    spend_request_send_back(spend_request=spend_request_for(asked), actor=finance, note="A cheaper coat")

    page = new_page({"width": 1280, "height": 800})
    sign_in(page, pastoral_a, next_path=f"/requests/{asked.pk}/revise/")
    page.locator("select[name=size]").select_option(f"{fleece.pk}:7-8")
    follow(page.get_by_role("button", name="Continue"))
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "Check the changed request before you send it again"
    )
    assert "£25.00" in page.locator("#request-cost").inner_text()
    assert "(was £150.00)" in page.locator("#request-cost").inner_text()
    assert "Approved when sent" in page.locator("#request-route").inner_text()
    assert SupportRequest.objects.get(pk=asked.pk).status == SupportRequest.Status.CHANGES
    check_page(page, "request-revise-check")
    follow(page.get_by_role("button", name="Send it again"))
    assert page.get_by_text("Coat request changed and approved").is_visible()
    assert SupportRequest.objects.get(pk=asked.pk).status == SupportRequest.Status.APPROVED
