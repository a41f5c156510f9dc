"""Referring a family for delivered items, and each step the charity takes: state, money, erasure and
messages."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from deliveries import services
from deliveries.models import Referral, ReferralMessage
from deliveries.selectors import referrals_visible_to, service_capacity
from funds.models import LedgerEntry
from funds.selectors.positions import fund_position
from support.errors import ConflictError, SupportError
from tests.deliveries.conftest import item
from tests.factories import FamilyFactory, PupilFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
State = Referral.State


def test_it_makes_one_referral_per_item_with_the_delivery_facts(refer, white_goods, furniture, family_a):
    cooker, bed = refer(item(white_goods, "Cooker"), item(furniture, "Bed"))
    assert {cooker.state, bed.state} == {State.NEW}
    assert cooker.group == bed.group
    assert cooker.delivery_postcode == "RV1 1AA"
    assert cooker.lead_carer_name == family_a.lead_carer_name
    assert cooker.value_pence == 180_00
    # Nothing is committed until the charity accepts.
    assert not LedgerEntry.objects.filter(kind="commitment").exists()


def test_it_refuses_without_consent_naming_the_partner(pastoral_a, school_a, family_a, white_goods):
    with pytest.raises(SupportError) as exc:
        services.referral_issue(
            family=family_a, items=[item(white_goods, "Cooker")], school=school_a, issued_by=pastoral_a,
            delivery_address="1 Mill Lane", delivery_postcode="RV1 1AA", delivery_phone="0113 496 0000",
        )  # fmt: skip
    assert exc.value.code == "no_consent"
    assert not Referral.objects.exists()


def test_it_refuses_another_schools_family(pastoral_a, school_a, family_b, white_goods):
    with pytest.raises(SupportError):
        services.referral_issue(
            family=family_b, items=[item(white_goods, "Cooker")], school=school_a, issued_by=pastoral_a,
            delivery_address="x", delivery_postcode="RV1 1AA", delivery_phone="1",
        )  # fmt: skip


def test_it_needs_the_address_and_phone(refer, white_goods):
    with pytest.raises(SupportError) as exc:
        refer(item(white_goods, "Cooker"), delivery_address=" ")
    assert exc.value.field == "delivery_address"
    with pytest.raises(SupportError) as exc:
        refer(item(white_goods, "Cooker"), delivery_phone="")
    assert exc.value.field == "delivery_phone"


def test_beyond_the_weeks_capacity_it_joins_the_waiting_list(refer, furniture, pastoral_a, school_a):
    assert service_capacity(furniture).remaining == 1
    (bed,) = refer(item(furniture, "Bed"))
    assert bed.state == State.NEW
    capacity = service_capacity(furniture)
    assert capacity.remaining == 0
    assert capacity.full
    (sofa,) = refer(item(furniture, "Sofa"))
    assert sofa.state == State.WAITING
    assert sofa.waiting_since == TODAY
    capacity = service_capacity(furniture)
    assert capacity.waiting == 1
    assert capacity.waiting_since == TODAY


def test_a_paused_service_wait_lists_every_referral(refer, white_goods, charity_staff):
    services.delivered_service_set_capacity(
        service=white_goods, actor=charity_staff, capacity_per_week=None,
        paused_until=TODAY + datetime.timedelta(days=30), pause_note="No cookers until March",
    )  # fmt: skip
    (cooker,) = refer(item(white_goods, "Cooker"))
    assert cooker.state == State.WAITING
    assert service_capacity(white_goods).pause_note == "No cookers until March"


def test_only_the_partner_sets_its_capacity(white_goods, other_charity_staff):
    with pytest.raises(SupportError):
        services.delivered_service_set_capacity(
            service=white_goods, actor=other_charity_staff, capacity_per_week=3
        )


def test_accept_commits_and_tells_the_family_deliver_spends_and_erases(
    refer, white_goods, charity_staff, fund, settings, eager, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "vouchers.sms.LocMemSMSBackend"
    from vouchers.sms import LocMemSMSBackend

    LocMemSMSBackend.outbox.clear()
    (cooker,) = refer(item(white_goods, "Cooker"))
    before = fund_position(fund=fund)
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_accept(
            referral=cooker, actor=charity_staff, expected_on=TODAY + datetime.timedelta(days=3)
        )
    assert cooker.state == State.ACCEPTED
    assert fund_position(fund=fund).committed_pence == before.committed_pence + 180_00
    accepted = ReferralMessage.objects.get(referral=cooker, kind=ReferralMessage.Kind.ACCEPTED)
    assert accepted.status == ReferralMessage.Status.SENT
    assert "cooker" in LocMemSMSBackend.outbox[-1]["body"]

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_deliver(
            referral=cooker, actor=charity_staff, delivered_on=TODAY, delivered_what="Cooker, reconditioned"
        )
    cooker.refresh_from_db()
    assert cooker.state == State.DELIVERED
    assert (
        cooker.delivery_address,
        cooker.delivery_postcode,
        cooker.delivery_phone,
        cooker.access_notes,
    ) == ("",) * 4
    position = fund_position(fund=fund)
    assert position.spent_pence == before.spent_pence + 180_00
    assert position.committed_pence == before.committed_pence
    assert ReferralMessage.objects.filter(referral=cooker, kind="delivered", status="sent").exists()


def test_the_same_accept_twice_is_one_accept(refer, white_goods, charity_staff, fund):
    (cooker,) = refer(item(white_goods, "Cooker"))
    day = TODAY + datetime.timedelta(days=2)
    services.referral_accept(referral=cooker, actor=charity_staff, expected_on=day)
    services.referral_accept(referral=cooker, actor=charity_staff, expected_on=day)
    assert LedgerEntry.objects.filter(kind="commitment").count() == 1
    assert ReferralMessage.objects.filter(referral=cooker).count() == 1
    # A new date is a reschedule, not a second commitment.
    services.referral_accept(
        referral=cooker, actor=charity_staff, expected_on=day + datetime.timedelta(days=1)
    )
    cooker.refresh_from_db()
    assert cooker.expected_on == day + datetime.timedelta(days=1)
    assert LedgerEntry.objects.filter(kind="commitment").count() == 1


def test_decline_needs_a_reason_and_erases_the_address(refer, furniture, charity_staff):
    (bed,) = refer(item(furniture, "Bed"))
    with pytest.raises(SupportError):
        services.referral_decline(referral=bed, actor=charity_staff, reason=" ")
    services.referral_decline(referral=bed, actor=charity_staff, reason="We have no beds this winter")
    bed.refresh_from_db()
    assert bed.state == State.DECLINED
    assert bed.decline_reason == "We have no beds this winter"
    assert bed.delivery_address == ""
    assert bed.closed_at is not None
    with pytest.raises(ConflictError):
        services.referral_accept(referral=bed, actor=charity_staff, expected_on=TODAY)


def test_waiting_then_accepted(refer, furniture, charity_staff):
    (bed,) = refer(item(furniture, "Bed"))
    services.referral_wait(referral=bed, actor=charity_staff)
    assert bed.state == State.WAITING
    assert bed.waiting_since == TODAY
    services.referral_accept(referral=bed, actor=charity_staff, expected_on=TODAY)
    assert bed.state == State.ACCEPTED


def test_not_reached_releases_the_commitment(refer, white_goods, charity_staff, fund):
    (cooker,) = refer(item(white_goods, "Cooker"))
    before = fund_position(fund=fund)
    services.referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    services.referral_not_reached(referral=cooker, actor=charity_staff, note="Called three times")
    assert cooker.state == State.NOT_REACHED
    assert cooker.delivery_phone == ""
    assert fund_position(fund=fund).committed_pence == before.committed_pence


def test_the_school_cancels_and_the_charity_cannot(refer, white_goods, charity_staff, pastoral_a, fund):
    (cooker,) = refer(item(white_goods, "Cooker"))
    services.referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    with pytest.raises(SupportError):
        services.referral_cancel(referral=cooker, actor=charity_staff, reason="x")
    services.referral_cancel(referral=cooker, actor=pastoral_a, reason="Family moved away")
    assert cooker.state == State.CANCELLED
    assert cooker.delivery_address == ""
    assert fund_position(fund=fund).committed_pence == 0


def test_another_charity_cannot_answer(refer, white_goods, other_charity_staff):
    (cooker,) = refer(item(white_goods, "Cooker"))
    with pytest.raises(SupportError):
        services.referral_accept(referral=cooker, actor=other_charity_staff, expected_on=TODAY)


def test_delivery_date_cannot_be_in_the_future(refer, white_goods, charity_staff):
    (cooker,) = refer(item(white_goods, "Cooker"))
    services.referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    with pytest.raises(SupportError):
        services.referral_deliver(
            referral=cooker, actor=charity_staff, delivered_on=TODAY + datetime.timedelta(days=1)
        )


def test_scopes(refer, white_goods, pastoral_a, pastoral_b, charity_staff, other_charity_staff, finance):
    (cooker,) = refer(item(white_goods, "Cooker"))
    assert list(referrals_visible_to(pastoral_a)) == [cooker]
    assert list(referrals_visible_to(charity_staff)) == [cooker]
    for outsider in (pastoral_b, other_charity_staff, finance):
        assert not referrals_visible_to(outsider).exists()


def test_the_family_hears_before_delivery_once(refer, white_goods, charity_staff):
    (cooker,) = refer(item(white_goods, "Cooker"))
    services.referral_accept(
        referral=cooker, actor=charity_staff, expected_on=TODAY + datetime.timedelta(days=1)
    )
    assert services.referral_remind_due(today=TODAY) == 1
    assert services.referral_remind_due(today=TODAY) == 0
    message = ReferralMessage.objects.get(referral=cooker, kind="before")
    assert "Reminder" in message.body


def test_the_message_is_in_english_and_the_familys_language_where_it_has_one(
    refer, white_goods, charity_staff
):
    (cooker,) = refer(item(white_goods, "Cooker"))
    cooker.family.language = "pl"
    cooker.family.save(update_fields=["language"])
    services.referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    message = ReferralMessage.objects.get(referral=cooker)
    assert message.language == "pl"
    english, _, polish = message.body.partition("\n\n")
    assert "will deliver your cooker" in english
    assert "will deliver" not in polish
    assert "dostarczy" in polish


def test_the_message_is_english_only_for_a_family_without_a_translated_language(
    refer, white_goods, charity_staff
):
    (cooker,) = refer(item(white_goods, "Cooker"))
    cooker.family.language = "other"
    cooker.family.save(update_fields=["language"])
    services.referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    message = ReferralMessage.objects.get(referral=cooker)
    assert message.language == "en"
    assert "\n\n" not in message.body


def test_an_email_when_there_is_no_phone(
    pastoral_a, school_a, white_goods, charity_staff, eager, django_capture_on_commit_callbacks
):
    family = FamilyFactory(lead_carer_name="Eve Email", phone="", email="eve@example.org")
    PupilFactory(family=family, school=school_a)
    from tests.factories import consent_to

    consent_to(family, pastoral_a, white_goods.voucher_type.partner)
    (cooker,) = services.referral_issue(
        family=family, items=[item(white_goods, "Cooker")], school=school_a, issued_by=pastoral_a,
        delivery_address="2 Mill Lane", delivery_postcode="RV1 1AB", delivery_phone="0113 496 0001",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    assert mail.outbox[-1].to == ["eve@example.org"]
    assert "cooker" in mail.outbox[-1].body


def test_a_merge_moves_the_referrals_and_anonymising_erases_them(refer, white_goods, family_a, school_a):
    from deliveries.data_rights import anonymise_referrals, collect_referrals, referrals_move_family

    (cooker,) = refer(item(white_goods, "Cooker"))
    assert collect_referrals(family_a)[0]["delivery_address"].startswith("1 Mill Lane")
    kept = FamilyFactory(lead_carer_name="Anna Able")
    PupilFactory(family=kept, school=school_a)
    referrals_move_family(source=family_a, target=kept, actor=None)
    cooker.refresh_from_db()
    assert cooker.family == kept
    anonymise_referrals(kept)
    cooker.refresh_from_db()
    assert cooker.state == State.CANCELLED
    assert cooker.delivery_address == ""
    assert cooker.lead_carer_name != "Anna Able"


def test_it_refuses_when_no_contact_may_be_told(refer, white_goods, family_a, pastoral_a):
    from support.contacts import contact_create

    contact_create(
        family=family_a, actor=pastoral_a, name="Lee Able", relationship="Father", restriction="court_order"
    )
    with pytest.raises(SupportError) as exc:
        refer(item(white_goods, "Cooker"))
    assert exc.value.code == "no_allowed_contact"
    assert not Referral.objects.exists()


def test_only_what_was_delivered_counts_for_the_impact_report(refer, white_goods, furniture, charity_staff):
    from deliveries.selectors import delivery_support_events
    from impact.registry import support_kinds

    cooker, bed = refer(item(white_goods, "Cooker"), item(furniture, "Bed"))
    services.referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    services.referral_deliver(
        referral=cooker, actor=charity_staff, delivered_on=TODAY, delivered_what="Cooker"
    )
    services.referral_accept(referral=bed, actor=charity_staff, expected_on=TODAY)  # not yet delivered
    week = (TODAY - datetime.timedelta(days=7), TODAY)
    assert list(delivery_support_events(*week)) == [(cooker.family_id, None, cooker.school_id, TODAY)]
    assert not delivery_support_events(TODAY + datetime.timedelta(days=1), TODAY + datetime.timedelta(days=8))
    assert "delivered" in {kind.key for kind in support_kinds()}
