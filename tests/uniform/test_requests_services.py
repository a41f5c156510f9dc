"""Coat, shoe and uniform requests: policy limits, automatic approval, the moves, scope and audit."""

import datetime

import pytest
from django.utils import timezone

from funds.models import Fund, LedgerEntry, SpendRequest
from funds.selectors.positions import fund_position
from funds.services.ledger import standby_fund
from support.errors import ConflictError, SupportError
from support.models import AuditEvent, Policy
from tests.factories import PupilFactory
from tests.uniform.conftest import make_outdoor_item
from uniform.models import ItemKind, SupportRequest, UniformItem
from uniform.services.requests import (
    AUTO_APPROVED,
    DriveCoat,
    coat_season_for,
    period_for,
    request_approve,
    request_create,
    request_hand_over,
    request_mark_from_stock,
    request_mark_ordered,
    request_next_steps,
    request_reject,
    requests_winter_drive,
    winter_drive_pupils,
)

Status = SupportRequest.Status
pytestmark = pytest.mark.django_db
QUERIES_PER_DRIVE = 23  # whatever the number of pupils (20 here)


@pytest.fixture
def pupil_a(family_a):
    pupil = family_a.pupils.get()
    pupil.in_need = True
    pupil.save(update_fields=["in_need"])
    return pupil


@pytest.fixture
def pupil_b(family_b):
    pupil = family_b.pupils.get()
    pupil.in_need = True
    pupil.save(update_fields=["in_need"])
    return pupil


@pytest.fixture
def coat(pupil_a, pastoral_a, coat_a):
    def make(**kwargs):
        values = {"item": coat_a, "size": "Age 7-8", "reason": "Outgrown last year's", "urgency": "routine"}
        return request_create(pupil=pupil_a, kind=ItemKind.COAT, actor=pastoral_a, **{**values, **kwargs})

    return make


@pytest.fixture
def blazer(school_a):
    return UniformItem.objects.create(
        school=school_a, name="Blazer", sizes=["7-8", "9-10"], unit_cost_pence=30_00
    )


def _ledger(*requests):
    from django.contrib.contenttypes.models import ContentType

    return LedgerEntry.objects.filter(
        source_type=ContentType.objects.get_for_model(SupportRequest),
        source_id__in=[str(r.pk) for r in requests],
    )


def _events(request, action):
    return AuditEvent.objects.filter(subject_id=str(request.pk), action=action)


# --- Periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "season"),
    [
        (datetime.date(2026, 10, 1), 2026),
        (datetime.date(2026, 12, 31), 2026),
        (datetime.date(2027, 2, 15), 2026),
        (datetime.date(2027, 3, 31), 2026),
        (datetime.date(2027, 4, 1), 2027),  # outside the season: counts toward the coming one
        (datetime.date(2027, 9, 30), 2027),
    ],
)
def test_it_puts_a_coat_in_the_winter_season_it_is_for(day, season):
    assert coat_season_for(day, Policy.current()) == season


def test_it_follows_an_edited_season_within_one_calendar_year():
    policy = Policy.current()
    policy.coat_season_start_month, policy.coat_season_start_day = 1, 1
    policy.coat_season_end_month, policy.coat_season_end_day = 2, 31  # clamped to the month's end
    assert coat_season_for(datetime.date(2027, 2, 28), policy) == 2027
    assert coat_season_for(datetime.date(2027, 3, 1), policy) == 2028


def test_it_counts_shoes_and_uniform_against_the_academic_year():
    policy = Policy.current()
    assert period_for(ItemKind.SHOES, datetime.date(2027, 8, 31), policy) == 2026
    assert period_for(ItemKind.UNIFORM, datetime.date(2027, 9, 1), policy) == 2027


# --- Create ----------------------------------------------------------------------------------


def test_it_approves_a_first_coat_automatically_and_audits_it(coat, pupil_a, pastoral_a):
    request = coat()
    request.refresh_from_db()
    assert request.status == Status.APPROVED
    assert not request.beyond_policy
    assert request.period == coat_season_for(timezone.localdate(), Policy.current())
    assert request.school == pupil_a.school
    assert request.requested_by == pastoral_a
    assert request.decision_reason == AUTO_APPROVED
    # Asked for as "Age 7-8", kept in the coat's own spelling, priced from it.
    assert (request.size, request.cost_pence) == ("7-8", 22_00)
    assert _events(request, "support_request.created").get().after["size"] == "7-8"
    assert _events(request, "support_request.approved").get().after == {
        "status": "approved",
        "automatic": True,
    }


def test_it_sends_a_second_coat_in_the_season_to_a_lead(coat, lead_a):
    coat()
    second = coat(size="Age 8-9")
    assert second.status == Status.REQUESTED
    assert second.beyond_policy
    with pytest.raises(SupportError, match="give a reason"):
        request_approve(request=second, actor=lead_a)
    assert SupportRequest.objects.get(pk=second.pk).status == Status.REQUESTED

    request_approve(request=second, actor=lead_a, reason="Coat stolen from the cloakroom")
    second.refresh_from_db()
    assert second.status == Status.APPROVED
    assert second.decided_by == lead_a
    assert second.decision_reason == "Coat stolen from the cloakroom"
    event = _events(second, "support_request.approved").get()
    assert event.note == "Coat stolen from the cloakroom"
    assert event.before == {"status": "requested"}


def test_it_does_not_count_a_rejected_coat(coat, lead_a):
    first = coat()
    request_reject(request=first, actor=lead_a, reason="Duplicate")
    assert coat().status == Status.APPROVED


def test_it_sends_second_shoes_in_the_year_to_a_lead_but_not_a_first_coat(
    pupil_a, pastoral_a, coat_a, shoes_a
):
    def shoes():
        return request_create(
            pupil=pupil_a,
            kind="shoes",
            item=shoes_a,
            size="Child 12½",
            reason="Split",
            urgency="urgent",
            actor=pastoral_a,
        )

    assert shoes().status == Status.APPROVED
    second = shoes()
    assert (second.status, second.beyond_policy) == (Status.REQUESTED, True)
    coat = request_create(
        pupil=pupil_a,
        kind="coat",
        item=coat_a,
        size="Adult S",
        reason="None",
        urgency="routine",
        actor=pastoral_a,
    )
    assert (coat.status, coat.size) == (Status.APPROVED, "S")


def test_it_follows_an_edited_policy_count(coat):
    Policy.objects.filter(pk=Policy.current().pk).update(coats_per_season=2)
    coat()
    assert coat().status == Status.APPROVED
    assert coat().beyond_policy


def test_it_sends_uniform_above_the_threshold_to_finance(pupil_a, pastoral_a, blazer):
    Policy.objects.filter(pk=Policy.current().pk).update(approval_threshold_pence=50_00)
    cheap = request_create(
        pupil=pupil_a,
        kind="uniform",
        item=blazer,
        size="7-8",
        reason="New",
        urgency="routine",
        actor=pastoral_a,
    )
    assert (cheap.status, cheap.cost_pence) == (Status.APPROVED, 30_00)
    dear = request_create(
        pupil=pupil_a,
        kind="uniform",
        item=blazer,
        size="9-10",
        quantity=2,
        reason="Joined mid-year",
        urgency="routine",
        actor=pastoral_a,
    )
    assert (dear.status, dear.cost_pence, dear.beyond_policy) == (Status.AWAITING_FINANCE, 60_00, False)


def test_it_commits_a_priced_coat_to_the_ledger(coat):
    request = coat()
    entry = _ledger(request).get()
    assert (entry.kind, entry.amount_pence, entry.category, entry.fund) == (
        "commitment",
        22_00,
        "coat",
        standby_fund(),
    )


def test_it_waits_for_a_lead_to_record_why_a_request_costs_nothing(pupil_a, pastoral_a, lead_a, school_a):
    donated = make_outdoor_item(school_a, "coat", cost=0, name="Donated coat")
    request = request_create(
        pupil=pupil_a, kind="coat", item=donated, size="9-10", reason="x", urgency="routine", actor=pastoral_a
    )
    assert (request.status, request.cost_pence) == (Status.REQUESTED, 0)
    with pytest.raises(SupportError) as caught:
        request_approve(request=request, actor=lead_a)
    assert (caught.value.field, caught.value.code) == ("no_cost_reason", "no_cost_reason_required")
    assert SupportRequest.objects.get(pk=request.pk).status == Status.REQUESTED

    request_approve(request=request, actor=lead_a, no_cost_reason="Given by the Rotary coat appeal")
    request.refresh_from_db()
    assert (request.status, request.no_cost_reason) == (Status.APPROVED, "Given by the Rotary coat appeal")
    event = _events(request, "support_request.no_cost_recorded").get()
    assert (event.actor, event.note) == (lead_a, "Given by the Rotary coat appeal")
    assert not _ledger(request).exists()


def test_it_never_stores_a_request_approved_at_no_cost_without_a_reason(coat):
    from django.db import IntegrityError, transaction

    request = coat()
    with pytest.raises(IntegrityError), transaction.atomic():
        SupportRequest.objects.filter(pk=request.pk).update(cost_pence=0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "coat", "item": "coat", "size": "Child 5"}, "size"),
        ({"kind": "coat", "item": "coat", "size": ""}, "size"),
        ({"kind": "shoes", "item": "shoes", "size": "Age 7-8"}, "size"),
        ({"kind": "shoes", "item": "shoes", "size": "Child 5", "quantity": 2}, "quantity"),
        ({"kind": "uniform", "size": "7-8"}, "item"),
        ({"kind": "coat", "size": "Age 11-12"}, "item"),  # no item: it could not be priced
        ({"kind": "shoes", "item": "coat", "size": "Age 7-8"}, "item"),
        ({"kind": "coat", "item": "coat", "size": "Age 7-8", "reason": "  "}, "reason"),
        ({"kind": "coat", "item": "coat", "size": "Age 7-8", "urgency": "now"}, "urgency"),
    ],
)
def test_it_refuses_bad_requests(pupil_a, pastoral_a, coat_a, shoes_a, kwargs, field):
    values = {"reason": "Needed", "urgency": "routine", **kwargs}
    if "item" in values:
        values["item"] = {"coat": coat_a, "shoes": shoes_a}[values["item"]]
    with pytest.raises(SupportError) as caught:
        request_create(pupil=pupil_a, actor=pastoral_a, **values)
    assert caught.value.field == field
    assert not SupportRequest.objects.exists()


def test_it_refuses_an_item_of_another_school(pupil_a, pastoral_a, school_b):
    item = UniformItem.objects.create(school=school_b, name="Tie", unit_cost_pence=5_00)
    with pytest.raises(SupportError, match="Alpha Primary Academy offers"):
        request_create(
            pupil=pupil_a, kind="uniform", item=item, size="", reason="x", urgency="routine", actor=pastoral_a
        )


def test_it_stores_one_size_for_an_item_without_sizes(pupil_a, pastoral_a, school_a):
    tie = UniformItem.objects.create(school=school_a, name="Tie", unit_cost_pence=5_00)
    request = request_create(
        pupil=pupil_a, kind="uniform", item=tie, size="", reason="x", urgency="routine", actor=pastoral_a
    )
    assert (request.size, request.size_label, request.cost_pence) == ("", "One size", 5_00)


def test_it_refuses_a_pupil_not_in_need(family_a, pastoral_a, coat_a):
    pupil = family_a.pupils.get()
    with pytest.raises(SupportError, match="not marked in need"):
        request_create(
            pupil=pupil, kind="coat", item=coat_a, size="7-8", reason="x", urgency="routine", actor=pastoral_a
        )
    assert not AuditEvent.objects.filter(action="support_request.created").exists()


@pytest.mark.parametrize("persona", ["pastoral_b", "lead_b", "finance", "charity_staff"])
def test_it_refuses_a_pupil_outside_the_actors_schools(pupil_a, persona, request, coat_a):
    actor = request.getfixturevalue(persona)
    with pytest.raises(SupportError) as caught:
        request_create(
            pupil=pupil_a, kind="coat", item=coat_a, size="7-8", reason="x", urgency="routine", actor=actor
        )
    assert caught.value.code == "forbidden"
    assert not SupportRequest.objects.exists()


# --- Moves -----------------------------------------------------------------------------------


def test_it_walks_a_request_through_ordered_to_handed_over(coat, pastoral_a):
    request = request_mark_ordered(request=coat(), actor=pastoral_a)
    assert request.status == Status.ORDERED
    request = request_hand_over(request=request, actor=pastoral_a)
    request.refresh_from_db()
    assert (request.status, request.handed_over_by) == (Status.HANDED_OVER, pastoral_a)
    assert request.handed_over_at is not None
    actions = list(
        AuditEvent.objects.filter(subject_id=str(request.pk), action__startswith="support_request.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "support_request.created",
        "support_request.approved",
        "support_request.ordered",
        "support_request.handed_over",
    ]
    assert _events(request, "support_request.handed_over").get().before == {"status": "ordered"}


def test_it_records_from_stock_as_a_status(coat, pastoral_a):
    request = request_mark_from_stock(request=coat(), actor=pastoral_a)
    assert SupportRequest.objects.get(pk=request.pk).status == Status.FROM_STOCK
    request_hand_over(request=request, actor=pastoral_a)
    assert _events(request, "support_request.handed_over").get().before == {"status": "from_stock"}


def test_it_does_not_let_pastoral_staff_approve_or_reject(coat, pastoral_a):
    coat()
    second = coat()
    with pytest.raises(SupportError, match="pastoral lead"):
        request_approve(request=second, actor=pastoral_a, reason="Please")
    with pytest.raises(SupportError, match="pastoral lead"):
        request_reject(request=second, actor=pastoral_a, reason="No")
    assert SupportRequest.objects.get(pk=second.pk).status == Status.REQUESTED


def test_it_does_not_let_another_schools_lead_decide(coat, lead_b):
    coat()
    second = coat()
    with pytest.raises(SupportError, match="Alpha Primary Academy"):
        request_approve(request=second, actor=lead_b, reason="x")


def test_it_needs_a_reason_to_reject_and_records_it(coat, lead_a):
    coat()
    second = coat()
    with pytest.raises(SupportError, match="reason"):
        request_reject(request=second, actor=lead_a, reason=" ")
    request_reject(request=second, actor=lead_a, reason="Had one in November")
    second.refresh_from_db()
    assert (second.status, second.decision_reason, second.decided_by) == (
        Status.REJECTED,
        "Had one in November",
        lead_a,
    )
    assert _events(second, "support_request.rejected").get().note == "Had one in November"


@pytest.mark.parametrize(
    ("status", "move"),
    [
        ("requested", "ordered"),
        ("requested", "from_stock"),
        ("requested", "hand_over"),
        ("approved", "approve"),
        ("approved", "hand_over"),
        ("ordered", "approve"),
        ("ordered", "reject"),
        ("ordered", "from_stock"),
        ("handed_over", "reject"),
        ("handed_over", "ordered"),
        ("rejected", "approve"),
        ("rejected", "ordered"),
    ],
)
def test_it_refuses_forbidden_moves(coat, lead_a, status, move):
    request = coat()
    SupportRequest.objects.filter(pk=request.pk).update(status=status, decision_reason="set up")
    request.refresh_from_db()
    calls = {
        "approve": lambda: request_approve(request=request, actor=lead_a, reason="r"),
        "reject": lambda: request_reject(request=request, actor=lead_a, reason="r"),
        "ordered": lambda: request_mark_ordered(request=request, actor=lead_a),
        "from_stock": lambda: request_mark_from_stock(request=request, actor=lead_a),
        "hand_over": lambda: request_hand_over(request=request, actor=lead_a),
    }
    before = AuditEvent.objects.count()
    with pytest.raises(ConflictError):
        calls[move]()
    assert SupportRequest.objects.get(pk=request.pk).status == status
    assert AuditEvent.objects.count() == before


def test_it_lets_only_one_of_two_stale_decisions_win(coat, lead_a, admin):
    coat()
    waiting = coat()
    # Two leads loaded the same waiting request; each acts on their own copy.
    copy_1 = SupportRequest.objects.get(pk=waiting.pk)
    copy_2 = SupportRequest.objects.get(pk=waiting.pk)
    request_approve(request=copy_1, actor=lead_a, reason="Lost")
    with pytest.raises(ConflictError, match="approved"):
        request_approve(request=copy_2, actor=admin, reason="Lost too")
    waiting.refresh_from_db()
    assert (waiting.status, waiting.decided_by, waiting.decision_reason) == (Status.APPROVED, lead_a, "Lost")
    assert _events(waiting, "support_request.approved").count() == 1


def test_it_lets_only_one_of_two_stale_hand_overs_win(coat, pastoral_a, lead_a):
    request = request_mark_ordered(request=coat(), actor=pastoral_a)
    copy_1, copy_2 = (SupportRequest.objects.get(pk=request.pk) for _ in range(2))
    request_hand_over(request=copy_1, actor=pastoral_a)
    with pytest.raises(ConflictError, match="handed over"):
        request_hand_over(request=copy_2, actor=lead_a)
    assert SupportRequest.objects.get(pk=request.pk).handed_over_by == pastoral_a
    assert _events(request, "support_request.handed_over").count() == 1


def test_it_offers_only_the_moves_the_user_may_make(coat, pastoral_a, lead_a, pastoral_b):
    coat()
    waiting = coat()
    assert request_next_steps(request=waiting, user=lead_a) == ["approve", "reject"]
    assert request_next_steps(request=waiting, user=pastoral_a) == []
    approved = SupportRequest.objects.filter(status=Status.APPROVED).get()
    fulfil = ["from-secondhand", "ordered", "from-stock"]
    assert request_next_steps(request=approved, user=pastoral_a) == fulfil
    assert request_next_steps(request=approved, user=lead_a) == [*fulfil, "reject"]
    assert request_next_steps(request=approved, user=pastoral_b) == []


# --- Winter drive ----------------------------------------------------------------------------


@pytest.fixture
def needy_a(school_a):
    return [PupilFactory(school=school_a, in_need=True, surname=f"Needy{n}") for n in range(3)]


def test_it_lists_pupils_in_need_without_a_coat_this_season(
    lead_a, needy_a, pupil_a, pupil_b, coat, school_a
):
    PupilFactory(school=school_a, in_need=False)
    coat()  # pupil_a has had one
    assert set(winter_drive_pupils(user=lead_a)) == set(needy_a)


def test_it_lists_nobody_for_pastoral_staff(pastoral_a, needy_a):
    assert not winter_drive_pupils(user=pastoral_a).exists()


def test_it_raises_drive_requests_in_bulk_priced_and_committed_with_audit(lead_a, needy_a, coat_a):
    coats = {pupil.pk: DriveCoat(item_id=coat_a.pk, size="Age 9-10") for pupil in needy_a}
    available = fund_position(fund=standby_fund()).available_pence
    created = requests_winter_drive(pupil_coats=coats, actor=lead_a, reason="Winter drive 2026")
    assert len(created) == 3
    rows = SupportRequest.objects.filter(pupil__in=needy_a)
    assert set(rows.values_list("status", "kind", "item", "size", "cost_pence", "requested_by")) == {
        ("approved", "coat", coat_a.pk, "9-10", 22_00, lead_a.pk)
    }
    # Each coat reached the ledger: a commitment of its cost against the fund.
    commitments = _ledger(*rows).filter(kind="commitment")
    assert sorted(commitments.values_list("amount_pence", flat=True)) == [22_00] * 3
    assert fund_position(fund=standby_fund()).available_pence == available - 66_00
    assert AuditEvent.objects.filter(action="support_request.created", note="Winter drive 2026").count() == 3
    assert AuditEvent.objects.filter(action="support_request.approved").count() == 3
    assert not winter_drive_pupils(user=lead_a).exists()
    # Running it again adds nothing: they have had their coat this season.
    assert requests_winter_drive(pupil_coats=coats, actor=lead_a, reason="Again") == []
    assert rows.count() == 3


def test_it_sends_a_drive_the_fund_cannot_afford_to_finance(lead_a, needy_a, coat_a, school_a):
    Fund.objects.create(name="Alpha hardship", school=school_a)  # the school's own fund, empty
    coats = {pupil.pk: DriveCoat(item_id=coat_a.pk, size="9-10") for pupil in needy_a}
    created = requests_winter_drive(pupil_coats=coats, actor=lead_a, reason="Drive")
    assert {r.status for r in created} == {Status.AWAITING_FINANCE}
    assert SpendRequest.objects.filter(status="pending").count() == 3
    assert set(SpendRequest.objects.values_list("amount_pence", flat=True)) == {22_00}
    assert not LedgerEntry.objects.filter(kind="commitment").exists()


def test_it_leaves_a_drive_coat_at_no_cost_for_a_lead(lead_a, needy_a, school_a):
    donated = make_outdoor_item(school_a, "coat", cost=0, name="Donated coat")
    created = requests_winter_drive(
        pupil_coats={needy_a[0].pk: DriveCoat(item_id=donated.pk, size="9-10")}, actor=lead_a, reason="Drive"
    )
    assert [r.status for r in created] == [Status.REQUESTED]
    assert SupportRequest.objects.get().status == Status.REQUESTED


def test_it_raises_the_drive_in_a_fixed_number_of_queries(
    lead_a, school_a, coat_a, django_assert_max_num_queries
):
    few = [PupilFactory(school=school_a, in_need=True) for _ in range(2)]
    many = [PupilFactory(school=school_a, in_need=True) for _ in range(20)]
    requests_winter_drive(
        pupil_coats={p.pk: DriveCoat(item_id=coat_a.pk, size="M") for p in few}, actor=lead_a, reason="Drive"
    )
    with django_assert_max_num_queries(QUERIES_PER_DRIVE):
        created = requests_winter_drive(
            pupil_coats={p.pk: DriveCoat(item_id=coat_a.pk, size="Adult M") for p in many},
            actor=lead_a,
            reason="Drive",
        )
    assert len(created) == 20
    assert {r.status for r in created} == {Status.APPROVED}


@pytest.mark.parametrize(
    ("who", "coats", "message"),
    [
        ("pastoral_a", "ok", "pastoral lead"),
        ("lead_b", "ok", "pastoral lead"),
        ("lead_a", "bad_size", "Winter coat comes in"),
        ("lead_a", "other_school", "coat Alpha Primary Academy offers"),
        ("lead_a", "not_in_need", "not marked in need"),
    ],
)
def test_it_refuses_the_whole_drive_when_one_row_is_wrong(
    request, needy_a, school_a, coat_a, coat_b, who, coats, message
):
    actor = request.getfixturevalue(who)
    pupil_coats = {p.pk: DriveCoat(item_id=coat_a.pk, size="Age 5-6") for p in needy_a}
    if coats == "bad_size":
        pupil_coats[needy_a[0].pk] = DriveCoat(item_id=coat_a.pk, size="Child 9")
    if coats == "other_school":
        pupil_coats[needy_a[0].pk] = DriveCoat(item_id=coat_b.pk, size="5-6")
    if coats == "not_in_need":
        pupil_coats[PupilFactory(school=school_a, in_need=False).pk] = DriveCoat(
            item_id=coat_a.pk, size="5-6"
        )
    with pytest.raises(SupportError, match=message):
        requests_winter_drive(pupil_coats=pupil_coats, actor=actor, reason="Drive")
    assert not SupportRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="support_request").exists()
