"""The voucher services' rules: consent, limits and overrides, schools, cancel, extend, expiry, audit."""

import datetime

import pytest
from django.utils import timezone

from support.errors import ConflictError, SupportError
from support.models import AuditEvent, Policy, Role
from tests.factories import consent_to, make_user
from vouchers import codes
from vouchers.models import Voucher, VoucherType
from vouchers.selectors import voucher_limit_status
from vouchers.services import (
    voucher_cancel,
    voucher_expire_due,
    voucher_extend,
    voucher_issue,
    voucher_redeem,
)

State = Voucher.State


@pytest.fixture
def white_goods_type(partner_1):
    return VoucherType.objects.create(
        partner=partner_1,
        service="white_goods",
        name="White goods",
        face_value_pence=150_00,
        validity_days=56,
        limit_count=1,
        limit_window_days=365,
    )


@pytest.fixture
def consented(pastoral_a):
    """``consented(family)``: the family with its data-sharing consent on record."""

    def give(family):
        consent_to(family, pastoral_a)
        family.refresh_from_db()
        return family

    return give


def issue(family, voucher_type, school, by, **kwargs):
    kwargs.setdefault("referral_reason", "income_drop")
    return voucher_issue(family=family, voucher_type=voucher_type, school=school, issued_by=by, **kwargs)


def events(action, voucher=None):
    found = AuditEvent.objects.filter(action=action)
    if voucher is not None:
        found = found.filter(subject_id=str(voucher.pk))
    return list(found)


def age(voucher, days):
    """Move a voucher's issue time ``days`` into the past."""
    Voucher.objects.filter(pk=voucher.pk).update(issued_at=timezone.now() - datetime.timedelta(days=days))


# --- Issue -------------------------------------------------------------------------------------


def test_it_refuses_a_voucher_without_the_familys_consent(family_a, food_type, school_a, pastoral_a):
    with pytest.raises(SupportError) as caught:
        issue(family_a, food_type, school_a, pastoral_a)
    assert caught.value.field == "consent"
    assert "consent" in caught.value.message
    assert not Voucher.objects.exists()
    assert not events("voucher.issued")


def test_it_issues_a_voucher_with_the_familys_details_copied(
    consented, family_a, food_type, school_a, pastoral_a
):
    family_a.dietary_needs = "halal"
    family_a.adults, family_a.children = 2, 3
    family_a.save()
    consented(family_a)

    voucher = issue(family_a, food_type, school_a, pastoral_a, note_for_charity="  Ring the bell  ")

    voucher.refresh_from_db()
    assert voucher.state == State.ISSUED
    assert codes.validate(voucher.code) == voucher.code
    assert voucher.expires_on == timezone.localdate() + datetime.timedelta(days=28)
    assert voucher.face_value_pence == 25_00
    assert voucher.lead_carer_name == "Anna Able"
    assert voucher.household_size == 5
    assert voucher.dietary_needs == "halal"
    assert voucher.note_for_charity == "Ring the bell"
    assert voucher.school == school_a
    assert voucher.issued_by == pastoral_a
    (event,) = events("voucher.issued", voucher)
    assert event.actor == pastoral_a
    assert event.after["family"] == family_a.pk
    assert event.after["face_value_pence"] == 25_00
    assert event.after["expires_on"] == voucher.expires_on.isoformat()


def test_it_uses_the_household_size_and_dietary_needs_given(
    consented, family_a, food_type, school_a, pastoral_a
):
    consented(family_a)
    voucher = issue(family_a, food_type, school_a, pastoral_a, household_size=4, dietary_needs=" vegan ")
    assert (voucher.household_size, voucher.dietary_needs) == (4, "vegan")


def test_it_refuses_a_household_of_nobody(consented, family_a, food_type, school_a, pastoral_a):
    consented(family_a)
    with pytest.raises(SupportError) as caught:
        issue(family_a, food_type, school_a, pastoral_a, household_size=0)
    assert caught.value.field == "household_size"
    assert not Voucher.objects.exists()


def test_it_needs_words_for_an_other_reason(consented, family_a, food_type, school_a, pastoral_a):
    consented(family_a)
    with pytest.raises(SupportError) as caught:
        issue(family_a, food_type, school_a, pastoral_a, referral_reason="other", referral_other="  ")
    assert caught.value.field == "referral_other"
    voucher = issue(
        family_a, food_type, school_a, pastoral_a, referral_reason="other", referral_other=" Fire at home "
    )
    assert (voucher.referral_reason, voucher.referral_other) == ("other", "Fire at home")


def test_it_keeps_other_text_only_for_the_other_reason(consented, family_a, food_type, school_a, pastoral_a):
    consented(family_a)
    voucher = issue(family_a, food_type, school_a, pastoral_a, referral_reason="debt", referral_other="stray")
    assert voucher.referral_other == ""


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"referral_reason": "bored"}, "referral_reason"),
        ({"fulfilment": "teleport"}, "fulfilment"),
    ],
)
def test_it_refuses_unknown_choices(consented, family_a, food_type, school_a, pastoral_a, changes, field):
    consented(family_a)
    with pytest.raises(SupportError) as caught:
        issue(family_a, food_type, school_a, pastoral_a, **changes)
    assert caught.value.field == field


def test_it_refuses_a_school_the_family_has_no_pupil_at(consented, family_a, food_type, school_b, admin):
    consented(family_a)
    with pytest.raises(SupportError) as caught:
        issue(family_a, food_type, school_b, admin)
    assert caught.value.field == "school"
    assert not Voucher.objects.exists()


def test_it_refuses_staff_issuing_for_another_school(consented, family_ab, food_type, school_a, pastoral_b):
    consented(family_ab)
    with pytest.raises(SupportError) as caught:
        issue(family_ab, food_type, school_a, pastoral_b)
    assert caught.value.code == "forbidden"
    assert not Voucher.objects.exists()


def test_it_refuses_a_type_no_longer_offered(consented, family_a, food_type, school_a, pastoral_a):
    consented(family_a)
    VoucherType.objects.filter(pk=food_type.pk).update(is_active=False)
    food_type.refresh_from_db()
    with pytest.raises(SupportError) as caught:
        issue(family_a, food_type, school_a, pastoral_a)
    assert caught.value.field == "voucher_type"


# --- Limits and overrides ------------------------------------------------------------------------


@pytest.fixture
def at_midday():
    """Today at noon UTC: the 183 days may cross a change of the clocks, which moves an evening issue's
    "allowed from" day by one (``test_the_next_allowed_day_follows_the_clocks``)."""
    import time_machine

    noon = datetime.datetime.combine(timezone.now().date(), datetime.time(12), tzinfo=datetime.UTC)
    with time_machine.travel(noon, tick=True):
        yield


def test_it_stops_at_three_food_vouchers_and_says_when_the_next_is_allowed(
    consented, family_a, food_type, school_a, pastoral_a, at_midday
):
    consented(family_a)
    first = issue(family_a, food_type, school_a, pastoral_a)
    age(first, 20)
    issue(family_a, food_type, school_a, pastoral_a)
    issue(family_a, food_type, school_a, pastoral_a)

    with pytest.raises(SupportError) as caught:
        issue(family_a, food_type, school_a, pastoral_a)

    assert caught.value.field == "override_reason"
    assert caught.value.code == "limit"
    next_allowed = timezone.localdate() + datetime.timedelta(days=183 - 20 + 1)
    assert "3 food parcel vouchers in the last 183 days" in caught.value.message
    assert f"{next_allowed.day} {next_allowed:%B %Y}" in caught.value.message
    assert Voucher.objects.count() == 3


def test_it_lets_a_lead_override_the_limit_with_a_reason_and_audits_it(
    consented, family_a, food_type, school_a, lead_a
):
    consented(family_a)
    for _ in range(3):
        issue(family_a, food_type, school_a, lead_a)

    voucher = issue(family_a, food_type, school_a, lead_a, override_reason="  Eviction this week ")

    assert voucher.limit_override_reason == "Eviction this week"
    (event,) = events("voucher.limit_overridden", voucher)
    assert event.actor == lead_a
    assert event.note == "Eviction this week"
    assert event.before == {"count": 3, "limit": 3}
    assert events("voucher.issued", voucher)


def test_it_needs_a_reason_even_from_a_lead(consented, family_a, food_type, school_a, lead_a):
    consented(family_a)
    for _ in range(3):
        issue(family_a, food_type, school_a, lead_a)
    with pytest.raises(SupportError) as caught:
        issue(family_a, food_type, school_a, lead_a, override_reason="   ")
    assert caught.value.code == "limit"
    assert Voucher.objects.count() == 3


def test_it_refuses_an_override_from_pastoral_staff(consented, family_a, food_type, school_a, pastoral_a):
    consented(family_a)
    for _ in range(3):
        issue(family_a, food_type, school_a, pastoral_a)
    with pytest.raises(SupportError) as caught:
        issue(family_a, food_type, school_a, pastoral_a, override_reason="Please")
    assert caught.value.code == "forbidden"
    assert Voucher.objects.count() == 3
    assert not events("voucher.limit_overridden")


def test_it_refuses_an_override_from_a_lead_of_another_school(
    consented, family_ab, food_type, school_a, school_b, pastoral_a
):
    # Pastoral staff at A and a lead at B: being a lead somewhere is not enough to override at A.
    both = make_user("lead_b_pastoral_a", Role.LEAD, schools=[school_b])
    both.memberships.create(role=Role.PASTORAL).schools.set([school_a])
    consented(family_ab)
    for _ in range(3):
        issue(family_ab, food_type, school_a, pastoral_a)
    with pytest.raises(SupportError) as caught:
        issue(family_ab, food_type, school_a, both, override_reason="Urgent")
    assert caught.value.code == "forbidden"
    assert Voucher.objects.count() == 3


def test_it_ignores_an_override_reason_under_the_limit(consented, family_a, food_type, school_a, lead_a):
    consented(family_a)
    voucher = issue(family_a, food_type, school_a, lead_a, override_reason="Just in case")
    assert voucher.limit_override_reason == ""
    assert not events("voucher.limit_overridden")


def test_it_does_not_count_cancelled_vouchers_or_ones_outside_the_window(
    consented, family_a, food_type, school_a, pastoral_a
):
    consented(family_a)
    cancelled = issue(family_a, food_type, school_a, pastoral_a)
    voucher_cancel(voucher=cancelled, actor=pastoral_a, reason="Wrong family")
    old = issue(family_a, food_type, school_a, pastoral_a)
    age(old, 184)
    issue(family_a, food_type, school_a, pastoral_a)
    issue(family_a, food_type, school_a, pastoral_a)

    status = voucher_limit_status(family=family_a, voucher_type=food_type)
    assert (status.count, status.limit, status.reached, status.next_allowed) == (2, 3, False, None)
    issue(family_a, food_type, school_a, pastoral_a)  # the third in the window is still allowed


@pytest.mark.parametrize(
    ("issued_at", "allowed_from"),
    [
        # 183 days after midday GMT is 13:00 BST: in the window all of 6 June, allowed from 7 June.
        (datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.UTC), datetime.date(2027, 6, 7)),
        # 183 days after 23:30 GMT is 00:30 BST on 7 June: allowed from 8 June, the first whole day.
        (datetime.datetime(2026, 12, 5, 23, 30, tzinfo=datetime.UTC), datetime.date(2027, 6, 8)),
    ],
)
def test_the_next_allowed_day_follows_the_clocks(
    consented, family_a, food_type, school_a, pastoral_a, issued_at, allowed_from
):
    consented(family_a)
    for _ in range(3):
        issue(family_a, food_type, school_a, pastoral_a)
    Voucher.objects.update(issued_at=issued_at)
    status = voucher_limit_status(
        family=family_a, voucher_type=food_type, now=issued_at + datetime.timedelta(hours=1)
    )
    assert (status.reached, status.next_allowed) == (True, allowed_from)


def test_it_applies_each_types_own_limit_and_the_policy_otherwise(
    consented, family_a, food_type, white_goods_type, school_a, pastoral_a
):
    consented(family_a)
    Policy.objects.update_or_create(pk=1, defaults={"food_voucher_limit": 2, "voucher_window_days": 30})
    issue(family_a, white_goods_type, school_a, pastoral_a)
    with pytest.raises(SupportError):
        issue(family_a, white_goods_type, school_a, pastoral_a)
    issue(family_a, food_type, school_a, pastoral_a)
    issue(family_a, food_type, school_a, pastoral_a)
    food = voucher_limit_status(family=family_a, voucher_type=food_type)
    assert (food.count, food.limit, food.window_days, food.reached) == (2, 2, 30, True)


def test_it_works_out_when_the_next_voucher_is_allowed(consented, family_a, food_type, school_a, pastoral_a):
    consented(family_a)
    now = timezone.now()
    vouchers = [issue(family_a, food_type, school_a, pastoral_a) for _ in range(3)]
    for voucher, days in zip(vouchers, (100, 50, 10), strict=True):
        Voucher.objects.filter(pk=voucher.pk).update(issued_at=now - datetime.timedelta(days=days))

    status = voucher_limit_status(family=family_a, voucher_type=food_type, now=now)
    # The oldest (100 days ago) leaves the 183-day window 83 days from now; allowed the day after.
    assert status.next_allowed == timezone.localdate(now + datetime.timedelta(days=83)) + datetime.timedelta(
        1
    )

    VoucherType.objects.filter(pk=food_type.pk).update(limit_count=2)
    food_type.refresh_from_db()
    status = voucher_limit_status(family=family_a, voucher_type=food_type, now=now)
    # Two of three must leave: the second oldest (50 days ago) leaves 133 days from now.
    assert status.next_allowed == timezone.localdate(now + datetime.timedelta(days=133)) + datetime.timedelta(
        1
    )
    assert status.count == 3


# --- Cancel ------------------------------------------------------------------------------------


def test_it_cancels_an_issued_voucher_with_a_reason_and_audits_it(voucher, pastoral_a):
    voucher_cancel(voucher=voucher, actor=pastoral_a, reason="  Family moved away ")
    voucher.refresh_from_db()
    assert voucher.state == State.CANCELLED
    assert voucher.cancelled_by == pastoral_a
    assert voucher.cancelled_at is not None
    assert voucher.cancel_reason == "Family moved away"
    assert not voucher.is_valid
    (event,) = events("voucher.cancelled", voucher)
    assert (event.before, event.after, event.note) == (
        {"state": "issued"},
        {"state": "cancelled"},
        "Family moved away",
    )


def test_it_needs_a_reason_to_cancel(voucher, pastoral_a):
    with pytest.raises(SupportError) as caught:
        voucher_cancel(voucher=voucher, actor=pastoral_a, reason=" ")
    assert caught.value.field == "reason"
    voucher.refresh_from_db()
    assert voucher.state == State.ISSUED


def test_it_refuses_to_cancel_a_voucher_twice(voucher, pastoral_a):
    voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Duplicate")
    with pytest.raises(ConflictError) as caught:
        voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Again")
    assert caught.value.code == "cancelled"
    assert len(events("voucher.cancelled", voucher)) == 1


def test_it_refuses_to_cancel_a_redeemed_voucher(voucher, pastoral_a, charity_staff, partner_1):
    voucher_redeem(voucher=voucher, partner=partner_1, redeemed_by=charity_staff)
    with pytest.raises(ConflictError) as caught:
        voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Too late")
    assert caught.value.code == "redeemed"
    voucher.refresh_from_db()
    assert voucher.state == State.REDEEMED


def test_it_refuses_a_cancel_from_another_schools_staff(voucher, pastoral_b):
    with pytest.raises(SupportError) as caught:
        voucher_cancel(voucher=voucher, actor=pastoral_b, reason="Not mine")
    assert caught.value.code == "forbidden"
    voucher.refresh_from_db()
    assert voucher.state == State.ISSUED


# --- Extend ------------------------------------------------------------------------------------


def test_it_lets_a_lead_extend_an_issued_voucher_and_audits_it(voucher, lead_a):
    before = voucher.expires_on
    later = before + datetime.timedelta(days=14)
    voucher_extend(voucher=voucher, actor=lead_a, expires_on=later, reason="Family in hospital")
    voucher.refresh_from_db()
    assert voucher.expires_on == later
    (event,) = events("voucher.extended", voucher)
    assert event.before == {"expires_on": before.isoformat()}
    assert event.after == {"expires_on": later.isoformat()}
    assert event.note == "Family in hospital"
    assert event.actor == lead_a


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_b"])
def test_it_lets_only_a_lead_of_the_school_extend(request, voucher, persona):
    with pytest.raises(SupportError) as caught:
        voucher_extend(
            voucher=voucher,
            actor=request.getfixturevalue(persona),
            expires_on=voucher.expires_on + datetime.timedelta(days=7),
            reason="Please",
        )
    assert caught.value.code == "forbidden"
    assert not events("voucher.extended")


@pytest.mark.parametrize(
    ("days_after_expiry", "reason", "field"),
    [
        (0, "Hospital", "expires_on"),
        (-3, "Hospital", "expires_on"),
        (400, "Hospital", "expires_on"),
        (7, "", "reason"),
    ],
)
def test_it_refuses_a_bad_extension(voucher, lead_a, days_after_expiry, reason, field):
    before = voucher.expires_on
    with pytest.raises(SupportError) as caught:
        voucher_extend(
            voucher=voucher,
            actor=lead_a,
            expires_on=before + datetime.timedelta(days=days_after_expiry),
            reason=reason,
        )
    assert caught.value.field == field
    voucher.refresh_from_db()
    assert voucher.expires_on == before


def test_it_refuses_to_extend_a_cancelled_voucher(voucher, lead_a, pastoral_a):
    voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Duplicate")
    with pytest.raises(ConflictError) as caught:
        voucher_extend(
            voucher=voucher,
            actor=lead_a,
            expires_on=voucher.expires_on + datetime.timedelta(days=7),
            reason="Oops",
        )
    assert caught.value.code == "cancelled"
    voucher.refresh_from_db()
    assert voucher.state == State.CANCELLED


def test_it_refuses_to_extend_a_voucher_past_its_date(voucher, lead_a):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Voucher.objects.filter(pk=voucher.pk).update(expires_on=yesterday)
    voucher.refresh_from_db()
    with pytest.raises(ConflictError) as caught:
        voucher_extend(
            voucher=voucher,
            actor=lead_a,
            expires_on=timezone.localdate() + datetime.timedelta(days=7),
            reason="Revive",
        )
    assert caught.value.code == "expired"
    voucher.refresh_from_db()
    assert voucher.expires_on == yesterday


# --- Expiry ------------------------------------------------------------------------------------


def test_it_expires_due_vouchers_once_and_leaves_redeemed_and_cancelled_ones(
    consented, family_a, family_ab, food_type, school_a, pastoral_a, charity_staff, partner_1
):
    consented(family_a)
    consented(family_ab)
    due = issue(family_a, food_type, school_a, pastoral_a)
    current = issue(family_a, food_type, school_a, pastoral_a)
    redeemed = issue(family_ab, food_type, school_a, pastoral_a)
    cancelled = issue(family_ab, food_type, school_a, pastoral_a)
    voucher_redeem(voucher=redeemed, partner=partner_1, redeemed_by=charity_staff)
    voucher_cancel(voucher=cancelled, actor=pastoral_a, reason="Duplicate")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Voucher.objects.filter(pk__in=[due.pk, redeemed.pk, cancelled.pk]).update(expires_on=yesterday)
    Voucher.objects.filter(pk=current.pk).update(expires_on=timezone.localdate())  # valid through today

    assert voucher_expire_due() == 1
    assert voucher_expire_due() == 0

    states = dict(Voucher.objects.values_list("pk", "state"))
    assert states == {
        due.pk: State.EXPIRED,
        current.pk: State.ISSUED,
        redeemed.pk: State.REDEEMED,
        cancelled.pk: State.CANCELLED,
    }
    (event,) = events("voucher.expired")
    assert event.subject_id == str(due.pk)
    assert event.actor is None
    assert event.actor_label == "system"
    assert (event.before, event.after) == ({"state": "issued"}, {"state": "expired"})


def test_it_refuses_overlong_text_with_the_field_named(issue, family_a, food_type):
    from support.errors import SupportError

    with pytest.raises(SupportError) as caught:
        issue(family_a, food_type, note_for_charity="x" * 301)
    assert caught.value.field == "note_for_charity"
    assert "300 characters" in caught.value.message


def test_a_code_already_taken_fails_the_issue_cleanly_and_writes_nothing(
    consented, family_a, food_type, school_a, pastoral_a, monkeypatch
):
    """No savepoint to draw again (about 1 in 10**18): the issue is refused, rolled back; the next works."""
    consented(family_a)
    taken = issue(family_a, food_type, school_a, pastoral_a)
    before = (Voucher.objects.count(), AuditEvent.objects.count())
    monkeypatch.setattr(codes, "generate_code", lambda: taken.code)
    with pytest.raises(ConflictError) as refused:
        issue(family_a, food_type, school_a, pastoral_a)
    assert refused.value.code == "code_collision"
    assert (Voucher.objects.count(), AuditEvent.objects.count()) == before
    monkeypatch.undo()
    assert issue(family_a, food_type, school_a, pastoral_a).code != taken.code
