"""Delivered services (issue 21), both sides in the browser: a pastoral worker refers a family for a cooker
and a bed; the charity, on a phone at 360 px, accepts the cooker with a date and wait-lists the bed, then
marks the cooker delivered; the school sees each step, the family is texted, the fund shows the spend, the
month's statement lists the delivery, and the address is gone from the charity's view once it closes."""

import datetime

import pytest
from django.utils import timezone

from tests.e2e.browser import PHONE, follow, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def delivered(partner_1, funded):
    """The partner delivers white goods (a cooker) and furniture (a bed), paid by the standby fund."""
    from deliveries.models import CatalogueItem, DeliveredService
    from vouchers.models import VoucherType

    made = {}
    for service, name, item, value in (
        ("white_goods", "White goods", "Cooker", 180_00),
        ("furniture", "Furniture", "Bed", 120_00),
    ):
        vt = VoucherType.objects.create(
            partner=partner_1, service=service, name=name, face_value_pence=0, fund=funded
        )
        made[item] = DeliveredService.objects.create(voucher_type=vt, capacity_per_week=3)
        CatalogueItem.objects.create(service=made[item], name=item, value_pence=value)
    return made


def test_a_family_is_referred_for_a_cooker_and_a_bed_and_the_cooker_is_delivered(
    page,
    new_page,
    check_page,
    consented_family,
    delivered,
    pastoral_a,
    charity_staff,
    finance,
    funded,
    settings,
):
    from deliveries.models import Referral
    from funds.selectors.positions import fund_position
    from vouchers.sms import LocMemSMSBackend

    settings.SMS_BACKEND = "vouchers.sms.LocMemSMSBackend"
    LocMemSMSBackend.outbox.clear()
    family = consented_family
    today = timezone.localdate()
    spent_before = fund_position(fund=funded).spent_pence

    # The school: the family's page → Refer for delivery; each service says its places and its wait.
    sign_in(page, pastoral_a, next_path=f"/families/{family.pk}/")
    follow(page.get_by_role("button", name="Refer for delivery"))
    assert page.get_by_role("heading", name="Refer for delivery").is_visible()
    assert "3 of 3 places left this week" in page.locator(f"#capacity-{delivered['Cooker'].pk}").inner_text()
    page.get_by_label("Cooker").check()
    page.get_by_label("Bed").check()
    page.get_by_label("Delivery address").fill("Flat 4, 12 Mill Lane\nRiverton")
    page.get_by_label("Postcode").fill("RV1 1AA")
    page.get_by_label("Phone for the delivery").fill("+447700900123")
    page.get_by_label("Access notes (optional)").fill("Third floor, no lift")
    check_page(page, "refer")
    follow(page.get_by_role("button", name="Send the referral"))
    assert "Referred for cooker, bed." in page.locator(".govuk-notification-banner").inner_text()
    cooker = Referral.objects.get(item__name="Cooker")
    bed = Referral.objects.get(item__name="Bed")
    assert cooker.state == bed.state == Referral.State.NEW

    # The charity, on a phone: the inbox's new referrals, one card each.
    phone = new_page(PHONE)
    sign_in(phone, charity_staff, next_path="/deliveries/?state=new")
    assert phone.get_by_role("link", name="Cooker").is_visible()
    check_page(phone, "inbox")
    follow(phone.get_by_role("link", name="Cooker"))
    assert "Flat 4, 12 Mill Lane" in phone.locator(".app-delivery-address").inner_text()
    expected = today + datetime.timedelta(days=3)
    phone.get_by_label("Expected delivery date").fill(expected.isoformat())
    check_page(phone, "referral")
    accept = phone.get_by_role("button", name="Accept with this date")
    assert accept.bounding_box()["width"] >= PHONE["width"] - 60
    follow(accept)
    assert "Accepted" in phone.locator("main").inner_text()
    cooker.refresh_from_db()
    assert cooker.state == Referral.State.ACCEPTED
    assert cooker.expected_on == expected
    assert fund_position(fund=funded).committed_pence >= 180_00

    # The bed: no beds this week, so the waiting list.
    phone.goto("/deliveries/?state=new")
    follow(phone.get_by_role("link", name="Bed"))
    follow(phone.get_by_role("button", name="Put on the waiting list"))
    bed.refresh_from_db()
    assert bed.state == Referral.State.WAITING

    # The cooker is delivered: the address and phone are gone from the charity's view.
    phone.goto(f"/deliveries/{cooker.pk}/")
    phone.get_by_label("Delivered on").fill(today.isoformat())
    phone.get_by_label("What was delivered").fill("Cooker, reconditioned")
    follow(phone.get_by_role("button", name="Mark as delivered"))
    main = phone.locator("main").inner_text()
    assert "Delivered" in main
    assert "Cooker, reconditioned" in main
    assert "Mill Lane" not in phone.content()
    assert "+447700900123" not in phone.content()
    assert "Erased: the referral is closed." in main
    check_page(phone, "delivered")
    cooker.refresh_from_db()
    assert cooker.delivery_address == ""
    assert cooker.delivery_phone == ""

    # The family was texted at accept and at delivery.
    texts = [m["body"] for m in LocMemSMSBackend.outbox]
    assert any("will deliver your cooker" in t for t in texts), texts
    assert any("recorded delivering your cooker" in t for t in texts), texts

    # The statement lists it beside the counter's redemptions.
    month = today.replace(day=1)
    csv = phone.request.get(f"/statements/{cooker.service.voucher_type.partner_id}/{month:%Y-%m}.csv").text()
    assert "Deliveries" in csv
    assert "Cooker, reconditioned" in csv

    # The school sees each step: the family's page and its history.
    page.goto(f"/families/{family.pk}/")
    page.wait_for_load_state()
    history = page.locator("#timeline").inner_text()
    assert "Cooker delivered" in history
    assert "Cooker accepted for delivery" in history
    assert "Bed on the charity's waiting list" in history
    check_page(page, "family")
    page.goto("/")
    latest = (
        page.get_by_role("heading", name="Deliveries: latest from the charity").locator("..").inner_text()
    )
    assert "Cooker" in latest
    assert "Delivered" in latest

    # The fund shows it as spend.
    assert fund_position(fund=funded).spent_pence == spent_before + 180_00
    money = new_page()
    sign_in(money, finance, next_path="/finance/ledger/")
    assert "Delivery: white goods" in money.locator("main").inner_text()


def test_the_charity_pauses_beds_and_declines_with_a_reason_the_school_reads(
    page, new_page, check_page, consented_family, delivered, pastoral_a, charity_staff
):
    from deliveries.models import Referral

    family = consented_family
    march = timezone.localdate() + datetime.timedelta(days=60)

    # The charity, on a phone: no beds until March.
    phone = new_page(PHONE)
    sign_in(phone, charity_staff, next_path="/deliveries/")
    follow(phone.get_by_role("link", name="Furniture: capacity"))
    phone.get_by_label("Paused until (optional)").fill(march.isoformat())
    phone.get_by_label("Why paused (schools read it)").fill("No beds until March")
    check_page(phone, "capacity")
    follow(phone.get_by_role("button", name="Save"))
    assert "capacity saved" in phone.locator(".govuk-notification-banner").inner_text()

    # The school sees the pause when referring; the bed joins the waiting list instead of pretending.
    sign_in(page, pastoral_a, next_path=f"/families/{family.pk}/refer-for-delivery/")
    bed_capacity = page.locator(f"#capacity-{delivered['Bed'].pk}").inner_text()
    assert "Paused until" in bed_capacity
    assert "No beds until March" in bed_capacity
    page.get_by_label("Bed").check()
    page.get_by_label("Delivery address").fill("Flat 4, 12 Mill Lane")
    page.get_by_label("Postcode").fill("RV1 1AA")
    page.get_by_label("Phone for the delivery").fill("+447700900123")
    follow(page.get_by_role("button", name="Send the referral"))
    assert "On the waiting list" in page.locator(".govuk-notification-banner").inner_text()
    bed = Referral.objects.get(item__name="Bed")
    assert bed.state == Referral.State.WAITING

    # The charity declines it with a reason; the school reads the reason on the family's history.
    phone.goto("/deliveries/?state=waiting")
    follow(phone.get_by_role("link", name="Bed"))
    phone.get_by_label("Reason (the school reads it)").fill("We cannot take beds this winter")
    follow(phone.get_by_role("button", name="Decline"))
    assert "Erased: the referral is closed." in phone.locator("main").inner_text()
    page.goto(f"/families/{family.pk}/")
    history = page.locator("#timeline").inner_text()
    assert "Bed declined by the charity" in history
    assert "We cannot take beds this winter" in history
