"""Each home page shows the work waiting (issue 15.3), one journey per role group: a lead opens the requests
to decide and the imports ready to apply from their counts; a pastoral worker opens the vouchers about to
expire and the request finance sent back; charity staff type a code on their start page and redeem it.
Another school's work is there all along and never counted. Every page axe-checked at 360 px and desktop."""

import datetime

import pytest
from django.utils import timezone

from tests.e2e.browser import PHONE, follow, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _work(page, name: str):
    """The "Waiting for you" item called ``name``: its link and its status."""
    item = page.locator("#work-waiting + .govuk-task-list > li").filter(has_text=name)
    assert item.count() == 1, f"no single item {name!r} on home"
    return item


def _status(page, name: str) -> str:
    return _work(page, name).locator(".govuk-task-list__status").inner_text().strip()


def _ask_for_a_coat(school, staff, *, cost: int = 0):
    from tests.factories import FamilyFactory, PupilFactory
    from tests.uniform.factories import UniformItemFactory
    from uniform.models import ItemKind
    from uniform.services.requests import request_create

    item = UniformItemFactory(school=school, kind=ItemKind.COAT, sizes=["7-8"], unit_cost_pence=cost)
    pupil = PupilFactory(family=FamilyFactory(), school=school, in_need=True)
    return request_create(
        pupil=pupil,
        kind=ItemKind.COAT,
        item=item,
        size="7-8",
        reason="Outgrown",
        urgency="routine",
        actor=staff,
    )


def _upload(school, lead, filename: str):
    from support.models import PupilImport

    return PupilImport.objects.create(
        school=school,
        uploaded_by=lead,
        filename=filename,
        content=b"UPN\n",
        status=PupilImport.Status.PREVIEWED,
    )


def test_a_lead_opens_the_requests_to_decide_and_the_imports_to_apply_from_home(
    new_page, check_page, school_a, school_b, lead_a, lead_b, pastoral_a, pastoral_b
):
    from support.dates import academic_year_start_for
    from tests.uniform.factories import GiftFactory

    mine = [_ask_for_a_coat(school_a, pastoral_a) for _ in range(2)]
    _ask_for_a_coat(school_b, pastoral_b)  # school B's: never counted for lead A
    _upload(school_a, lead_a, "alpha-autumn.csv")
    _upload(school_b, lead_b, "beta-autumn.csv")
    year = academic_year_start_for(timezone.localdate())
    for _ in range(3):
        GiftFactory(school=school_a, academic_year=year)
    GiftFactory(school=school_b, academic_year=year)

    page = new_page()
    sign_in(page, lead_a)
    assert page.get_by_role("heading", name="Waiting for you").is_visible()
    assert _status(page, "Requests to decide") == "2 waiting"
    assert _status(page, "Welcome packs waiting for sizes") == "3 waiting"
    assert _status(page, "Pupil imports ready to apply") == "1 waiting"
    assert _status(page, "Possible duplicate families") == "None waiting"
    check_page(page, "lead-home")

    # The count opens its queue, which lists the same requests.
    follow(_work(page, "Requests to decide").get_by_role("link"))
    assert page.get_by_role("heading", level=1).inner_text() == "Waiting for your decision"
    assert "2 requests in your schools" in page.locator("main").inner_text()
    for request in mine:
        assert page.locator(f'a[href="/requests/{request.pk}/"]').count() >= 1
    check_page(page, "lead-queue")

    # On a phone: the imports ready to apply, school B's left out.
    phone = new_page(PHONE)
    sign_in(phone, lead_a)
    follow(_work(phone, "Pupil imports ready to apply").get_by_role("link"))
    table = phone.locator("main table").inner_text()
    assert "alpha-autumn.csv" in table
    assert "beta-autumn.csv" not in table
    check_page(phone, "lead-imports-ready")


def test_a_pastoral_worker_opens_the_vouchers_about_to_expire_and_a_request_sent_back(
    new_page, check_page, issued_voucher, school_a, school_b, pastoral_a, pastoral_b, finance, funded, food
):
    from funds.services.approvals import spend_request_for, spend_request_send_back
    from tests.vouchers.factories import VoucherFactory
    from vouchers.models import Voucher

    soon = timezone.localdate() + datetime.timedelta(days=3)
    Voucher.objects.filter(pk=issued_voucher.pk).update(expires_on=soon)
    elsewhere = VoucherFactory(school=school_b, voucher_type=food)
    Voucher.objects.filter(pk=elsewhere.pk).update(expires_on=soon)
    sent_back = _ask_for_a_coat(school_a, pastoral_a, cost=150_00)
    spend_request_send_back(spend_request=spend_request_for(sent_back), actor=finance, note="A cheaper coat")

    page = new_page(PHONE)
    sign_in(page, pastoral_a)
    expiring = "Vouchers expiring in the next 7 days, not yet redeemed"
    assert _status(page, expiring) == "1 waiting"
    assert _status(page, "Requests sent back for changes") == "1 waiting"
    assert page.get_by_text("Requests to decide").count() == 0  # a lead's
    check_page(page, "pastoral-home")

    follow(_work(page, expiring).get_by_role("link"))
    main = page.locator("main").inner_text()
    assert issued_voucher.display_code in main
    assert elsewhere.display_code not in main
    week = timezone.localdate() + datetime.timedelta(days=7)
    assert page.get_by_label("Expires by").input_value() == week.isoformat()
    check_page(page, "pastoral-expiring-vouchers")

    page.go_back()
    follow(_work(page, "Requests sent back for changes").get_by_role("link"))
    assert page.locator(f'a[href="/requests/{sent_back.pk}/"]').count() >= 1
    assert page.get_by_label("Status").input_value() == "changes"
    check_page(page, "pastoral-sent-back")


def test_charity_staff_type_a_code_on_their_start_page_and_redeem_it(
    new_page, check_page, issued_voucher, charity_staff
):
    from vouchers.models import Voucher

    page = new_page(PHONE)
    sign_in(page, charity_staff)
    assert page.get_by_role("heading", name="Check a voucher").is_visible()
    check_page(page, "charity-home")
    page.get_by_label("Voucher code").fill(issued_voucher.display_code)
    follow(page.get_by_role("button", name="Check the voucher"))
    assert page.url.endswith(f"/redeem/{issued_voucher.display_code}/")  # the check page, as typed
    assert page.get_by_role("heading", level=1).inner_text() == "Food parcel"
    follow(page.get_by_role("button", name="Redeem this voucher"))
    assert page.get_by_role("heading", name="Redeemed").is_visible()
    assert Voucher.objects.get(pk=issued_voucher.pk).state == Voucher.State.REDEEMED

    # A mistyped code on the start page: the check page says so and keeps what was typed.
    desk = new_page()
    sign_in(desk, charity_staff)
    desk.get_by_label("Voucher code").fill("ABCD")
    follow(desk.get_by_role("button", name="Check the voucher"))
    assert desk.title().startswith("Error: Check a voucher")
    check_page(desk, "charity-mistyped-from-home")
