"""Coat, shoe and uniform requests and welcome packs paid from a fund: commitments, finance's approval
above the thresholds (one approver, then two different ones), rejection, sending back and revising,
a short fund and finance's override, and the pages finance and the school use."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from funds.models import Fund, LedgerEntry, SpendRequest
from funds.selectors.positions import fund_position
from funds.services.approvals import spend_request_approve, spend_request_reject, spend_request_send_back
from funds.services.ledger import standby_fund
from support.errors import ConflictError, SupportError
from support.models import AuditEvent, Role
from tests.factories import make_user
from tests.uniform.test_gifts_fixtures import bag_a, jumper_a, make_intake, pack_a, this_year
from tests.uniform.test_gifts_services import _packed_gift
from uniform.models import Gift, ItemKind, SupportRequest, UniformItem
from uniform.services import gifts as gift_services
from uniform.services import stock as stock_services
from uniform.services.requests import (
    FUND_SHORT,
    request_approve,
    request_create,
    request_hand_over,
    request_mark_ordered,
    request_reject,
    request_revise,
    request_revise_quote,
)

FIXTURES = (bag_a, jumper_a, pack_a)
Status = SupportRequest.Status
Kind = LedgerEntry.Kind
pytestmark = pytest.mark.django_db


@pytest.fixture
def pupil_a(family_a):
    pupil = family_a.pupils.get()
    pupil.in_need = True
    pupil.save(update_fields=["in_need"])
    return pupil


@pytest.fixture
def blazer(school_a):
    return UniformItem.objects.create(
        school=school_a, name="Blazer", sizes=["7-8", "9-10"], unit_cost_pence=30_00
    )


@pytest.fixture
def finance_2(db):
    return make_user("finance_two", Role.FINANCE)


@pytest.fixture
def ask(pupil_a, pastoral_a, blazer):
    """Blazers for pupil A: 3 cost £90 (within £100), 4 cost £120 (one approver); ``item`` for others."""

    def make(quantity: int, item: UniformItem = blazer) -> SupportRequest:
        return request_create(
            pupil=pupil_a,
            kind=ItemKind.UNIFORM,
            item=item,
            quantity=quantity,
            size="7-8",
            reason="Blazer torn beyond repair",
            urgency="routine",
            actor=pastoral_a,
        )

    return make


def _entries(source, kind=None):
    entries = LedgerEntry.objects.filter(
        source_type=ContentType.objects.get_for_model(source), source_id=str(source.pk)
    )
    return entries.filter(kind=kind) if kind else entries


def _spend_request(source) -> SpendRequest:
    return SpendRequest.objects.get(
        source_type=ContentType.objects.get_for_model(source), source_id=str(source.pk), status="pending"
    )


# --- Within the threshold ---------------------------------------------------------------------------


def test_a_request_within_the_threshold_is_approved_and_its_cost_committed_at_once(ask, school_a):
    request = ask(3)
    assert request.status == Status.APPROVED
    commitment = _entries(request).get()
    assert (commitment.kind, commitment.amount_pence) == (Kind.COMMITMENT, 90_00)
    assert (commitment.fund, commitment.school, commitment.category) == (standby_fund(), school_a, "uniform")
    assert fund_position(fund=standby_fund()).committed_pence == 90_00
    assert not SpendRequest.objects.exists()


def test_hand_over_makes_the_commitment_actual_spend(ask, pastoral_a):
    request = request_mark_ordered(request=ask(3), actor=pastoral_a)
    request_hand_over(request=request, actor=pastoral_a)
    position = fund_position(fund=standby_fund())
    assert (position.committed_pence, position.spent_pence) == (0, 90_00)
    assert position.balance_pence == 1_000_00 - 90_00
    assert _entries(request, Kind.SPEND).get().amount_pence == 90_00


def test_a_lead_rejecting_an_approved_request_releases_its_commitment(ask, lead_a):
    request = ask(3)
    request_reject(request=request, actor=lead_a, reason="Family moved away")
    assert fund_position(fund=standby_fund()).committed_pence == 0
    assert _entries(request, Kind.COMMITMENT_RELEASE).get().amount_pence == 90_00


# --- Above the threshold: finance decides ------------------------------------------------------------


def test_above_the_threshold_it_waits_for_one_finance_approver_who_is_emailed(
    eager, ask, finance, school_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(4)
    assert request.status == Status.AWAITING_FINANCE
    assert not _entries(request).exists()  # nothing committed until finance approves
    spend = _spend_request(request)
    assert (spend.amount_pence, spend.approvals_needed, spend.school) == (120_00, 1, school_a)
    assert spend.summary == f"4 × Blazer, size 7-8, {school_a.name}"
    # Finance reads why the money needs a decision, not the school's case for the pupil.
    assert "costs more than £100.00" in spend.reason
    assert "Blazer torn" not in spend.reason
    assert len(mailoutbox) == 1
    assert "Blazer torn" not in mailoutbox[0].body
    assert finance.email in mailoutbox[0].to
    assert "/finance/approvals/" in mailoutbox[0].body


def test_finance_approving_commits_the_money_moves_the_request_on_and_tells_the_requester(
    eager, ask, finance, pastoral_a, mailoutbox, django_capture_on_commit_callbacks
):
    request = ask(4)
    with django_capture_on_commit_callbacks(execute=True):
        spend = spend_request_approve(spend_request=_spend_request(request), actor=finance, note="Fine")
    request.refresh_from_db()
    assert (spend.status, request.status, request.decided_by) == ("approved", Status.APPROVED, finance)
    assert spend.commitment == _entries(request, Kind.COMMITMENT).get()
    assert fund_position(fund=standby_fund()).committed_pence == 120_00
    assert [m.to for m in mailoutbox] == [[pastoral_a.email]]
    assert "approved" in mailoutbox[0].subject
    assert reverse("support_request_detail", args=[request.pk]) in mailoutbox[0].body
    assert AuditEvent.objects.filter(action="spend_request.approved", actor=finance).exists()
    assert AuditEvent.objects.filter(action="support_request.approved", actor=finance).exists()


def test_above_the_second_threshold_it_needs_two_different_finance_approvers(
    ask, finance, finance_2, school_a
):
    suit = UniformItem.objects.create(school=school_a, name="Suit", sizes=["7-8"], unit_cost_pence=170_00)
    request = ask(3, suit)  # £510
    spend = _spend_request(request)
    assert spend.approvals_needed == 2
    spend = spend_request_approve(spend_request=spend, actor=finance)
    request.refresh_from_db()
    assert (spend.status, spend.first_approved_by, request.status) == (
        "pending",
        finance,
        Status.AWAITING_FINANCE,
    )
    assert not _entries(request).exists()
    with pytest.raises(ConflictError) as refused:
        spend_request_approve(spend_request=spend, actor=finance)
    assert refused.value.code == "same_approver"
    spend = spend_request_approve(spend_request=spend, actor=finance_2)
    request.refresh_from_db()
    assert (spend.status, spend.decided_by, request.status) == ("approved", finance_2, Status.APPROVED)
    assert _entries(request, Kind.COMMITMENT).get().amount_pence == 510_00
    assert AuditEvent.objects.filter(action="spend_request.first_approval", actor=finance).exists()


def test_only_finance_decides_not_even_a_trust_admin(ask, lead_a, pastoral_a, admin):
    spend = _spend_request(ask(4))
    for someone in (lead_a, pastoral_a, admin):  # admins see the queue; deciding is finance's duty
        with pytest.raises(SupportError) as refused:
            spend_request_approve(spend_request=spend, actor=someone)
        assert refused.value.code == "forbidden"
    spend.refresh_from_db()
    assert spend.status == "pending"


def test_a_decided_request_cannot_be_decided_again(ask, finance, finance_2):
    spend = spend_request_approve(spend_request=_spend_request(ask(4)), actor=finance)
    with pytest.raises(ConflictError):
        spend_request_reject(spend_request=spend, actor=finance_2, note="Changed my mind")
    assert _entries(spend.commitment.source_type.get_object_for_this_type(pk=spend.source_id)).count() == 1


def test_finance_rejecting_needs_a_note_and_rejects_the_request(
    eager, ask, finance, pastoral_a, mailoutbox, django_capture_on_commit_callbacks
):
    request = ask(4)
    spend = _spend_request(request)
    with pytest.raises(SupportError) as refused:
        spend_request_reject(spend_request=spend, actor=finance, note="  ")
    assert refused.value.field == "note"
    with django_capture_on_commit_callbacks(execute=True):
        spend_request_reject(spend_request=spend, actor=finance, note="Ask the PTA's fund first")
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == (Status.REJECTED, "Ask the PTA's fund first")
    assert not _entries(request).exists()
    assert "Ask the PTA's fund first" in mailoutbox[-1].body
    assert mailoutbox[-1].to == [pastoral_a.email]


def test_sent_back_the_school_revises_it_within_the_threshold_and_it_is_approved(ask, finance, pastoral_a):
    request = ask(4)
    spend_request_send_back(spend_request=_spend_request(request), actor=finance, note="Three will do")
    request.refresh_from_db()
    assert request.status == Status.CHANGES
    revised = request_revise(
        request=request, actor=pastoral_a, size="9-10", item=request.item, quantity=3, reason="Three will do"
    )
    assert (revised.status, revised.cost_pence, revised.size) == (Status.APPROVED, 90_00, "9-10")
    assert _entries(revised, Kind.COMMITMENT).get().amount_pence == 90_00
    assert AuditEvent.objects.filter(action="support_request.revised").exists()


def test_revised_and_still_above_the_threshold_it_goes_back_to_finance(ask, finance, pastoral_a):
    request = ask(5)
    spend_request_send_back(spend_request=_spend_request(request), actor=finance, note="Fewer, please")
    request.refresh_from_db()
    revised = request_revise(
        request=request, actor=pastoral_a, size="7-8", item=request.item, quantity=4, reason="x"
    )
    assert revised.status == Status.AWAITING_FINANCE
    assert _spend_request(revised).amount_pence == 120_00
    assert SpendRequest.objects.filter(status="changes").count() == 1


def test_revised_to_an_item_at_no_cost_it_waits_for_a_lead_to_say_why(
    ask, finance, pastoral_a, lead_a, school_a
):
    request = ask(4)
    spend_request_send_back(spend_request=_spend_request(request), actor=finance, note="Use the donated ones")
    request.refresh_from_db()
    donated = UniformItem.objects.create(
        school=school_a, name="Donated blazer", sizes=["7-8"], unit_cost_pence=0
    )
    revised = request_revise(
        request=request, actor=pastoral_a, size="7-8", item=donated, quantity=4, reason="x"
    )
    assert (revised.status, revised.cost_pence) == (Status.REQUESTED, 0)
    with pytest.raises(SupportError, match="costs nothing"):
        request_approve(request=revised, actor=lead_a)
    request_approve(request=revised, actor=lead_a, no_cost_reason="Donated by the PTA's uniform swap")
    revised.refresh_from_db()
    assert revised.status == Status.APPROVED
    assert not _entries(revised, Kind.COMMITMENT).exists()


def test_only_a_request_sent_back_can_be_revised(ask, pastoral_a):
    request = ask(4)
    with pytest.raises(ConflictError):
        request_revise(
            request=request, actor=pastoral_a, size="7-8", item=request.item, quantity=1, reason="x"
        )


def test_a_lead_rejecting_a_request_waiting_for_finance_takes_it_out_of_the_queue(ask, lead_a, finance):
    request = ask(4)
    spend = _spend_request(request)
    request_reject(request=request, actor=lead_a, reason="Found one in lost property")
    spend.refresh_from_db()
    assert spend.status == "withdrawn"
    with pytest.raises(ConflictError):
        spend_request_approve(spend_request=spend, actor=finance)


# --- A short fund ------------------------------------------------------------------------------------


def test_a_short_fund_sends_even_a_small_request_to_finance_who_may_override_with_a_reason(
    ask, school_a, finance
):
    hardship = Fund.objects.create(name="Riverside hardship budget", school=school_a)  # empty
    request = ask(3)
    assert request.status == Status.AWAITING_FINANCE
    spend = _spend_request(request)
    assert spend.fund == hardship
    assert AuditEvent.objects.filter(action="support_request.sent_to_finance", note=FUND_SHORT).exists()
    with pytest.raises(SupportError) as refused:
        spend_request_approve(spend_request=spend, actor=finance)
    assert refused.value.code == "insufficient_funds"
    spend = spend_request_approve(spend_request=spend, actor=finance, override_reason="Governors agreed")
    assert spend.override_reason == "Governors agreed"
    assert fund_position(fund=hardship).available_pence == -90_00
    assert _entries(request, Kind.COMMITMENT).get().override_reason == "Governors agreed"


# --- Welcome packs -----------------------------------------------------------------------------------


def test_welcome_packs_paid_by_a_fund_commit_their_cost_and_hand_over_makes_it_actual(
    pack_a, jumper_a, school_a, lead_a, pastoral_a
):
    pack_a.fund = standby_fund()
    pack_a.save(update_fields=["fund"])
    stock_services.stock_receive(item=jumper_a, size="5-6", quantity=5, actor=pastoral_a)
    gift = _packed_gift(pastoral_a, lead_a, school_a)
    commitment = _entries(gift, Kind.COMMITMENT).get()
    assert (commitment.amount_pence, commitment.category, commitment.school) == (
        2 * 8_50 + 4_00,
        "welcome_uniform",
        school_a,
    )
    gift_services.gift_hand_over(gift=gift, actor=pastoral_a)
    position = fund_position(fund=standby_fund())
    assert (position.committed_pence, position.spent_pence) == (0, 21_00)


def test_welcome_packs_a_fund_cannot_afford_are_refused_whole(pack_a, school_a, lead_a):
    pack_a.fund = Fund.objects.create(name="Riverside welcome budget", school=school_a)
    pack_a.save(update_fields=["fund"])
    make_intake(school_a, 3)
    with pytest.raises(SupportError) as refused:
        gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    assert refused.value.code == "insufficient_funds"
    assert not Gift.objects.exists()
    assert not LedgerEntry.objects.filter(fund=pack_a.fund).exists()


def test_welcome_packs_without_a_fund_charge_nothing(pack_a, school_a, lead_a):
    make_intake(school_a, 2)
    assert gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a).count == 2
    assert fund_position(fund=standby_fund()).committed_pence == 0


# --- Pages -------------------------------------------------------------------------------------------


def test_finance_sees_the_queue_with_the_school_what_why_and_the_position_after(
    client_for, ask, finance, school_a, django_assert_max_num_queries
):
    ask(4)
    ask(5)
    client = client_for(finance)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("finance_approvals"))
    page = response.content.decode()
    assert response.status_code == 200
    assert school_a.name in page
    assert "4 × Blazer" in page
    assert "costs more than £100.00, so finance decides" in page
    assert "Blazer torn beyond repair" not in page  # the school's case stays with the school
    api = client.get(reverse("spend-request-list")).content.decode()
    assert "4 × Blazer" in api
    assert "Blazer torn" not in api
    # £1,000 in the fund, nothing committed yet: available after approving £120 is £880.
    assert "£880.00" in page
    assert "Approvals needed" in page  # the column says what its "One" counts


@pytest.mark.parametrize("who", ["pastoral_a", "lead_a", "charity_staff"])
def test_nobody_but_finance_and_admins_sees_the_queue(request, client_for, ask, who):
    spend = _spend_request(ask(4))
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("finance_approvals")).status_code in (403, 404)
    assert client.get(reverse("finance_approval", args=[spend.pk])).status_code in (403, 404)
    response = client.post(reverse("finance_approval_decide", args=[spend.pk, "approve"]))
    assert response.status_code in (403, 404)
    spend.refresh_from_db()
    assert spend.status == "pending"


def test_finance_approves_from_the_page(client_for, ask, finance):
    request = ask(4)
    spend = _spend_request(request)
    client = client_for(finance)
    assert "£880.00" in client.get(reverse("finance_approval", args=[spend.pk])).content.decode()
    response = client.post(reverse("finance_approval_decide", args=[spend.pk, "approve"]), {"note": ""})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.APPROVED


def test_sending_back_without_a_note_shows_the_error_by_the_field(client_for, ask, finance):
    spend = _spend_request(ask(4))
    response = client_for(finance).post(reverse("finance_approval_decide", args=[spend.pk, "send-back"]))
    assert response.status_code == 400
    assert "Say why the request is sent back" in response.content.decode()
    spend.refresh_from_db()
    assert spend.status == "pending"


def test_finance_is_asked_before_rejecting_and_nothing_changes_until_confirmed(client_for, ask, finance):
    request = ask(4)
    spend = _spend_request(request)
    client = client_for(finance)
    assert "data-confirm" not in client.get(reverse("finance_approval", args=[spend.pk])).content.decode()
    url = reverse("finance_approval_decide", args=[spend.pk, "reject"])
    response = client.post(url, {"note": "Try the uniform bank"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Are you sure you want to reject this spend?" in page
    assert "£120.00" in page
    assert "Try the uniform bank" in page
    assert "govuk-button--warning" in page
    spend.refresh_from_db()
    assert spend.status == "pending"
    assert client.post(url, {"note": "Try the uniform bank", "confirm": "yes"}).status_code == 302
    spend.refresh_from_db()
    request.refresh_from_db()
    assert (spend.status, spend.decision_note) == ("rejected", "Try the uniform bank")
    assert request.status == Status.REJECTED


def test_a_short_fund_asks_for_the_override_reason_on_the_page(client_for, ask, school_a, finance):
    Fund.objects.create(name="Riverside hardship budget", school=school_a)
    spend = _spend_request(ask(3))
    client = client_for(finance)
    url = reverse("finance_approval_decide", args=[spend.pk, "approve"])
    response = client.post(url, {})
    assert response.status_code == 409 or response.status_code == 400
    assert (
        'id="override_reason-error"' in response.content.decode() or "override" in response.content.decode()
    )
    assert client.post(url, {"override_reason": "Governors agreed"}).status_code == 302
    spend.refresh_from_db()
    assert spend.status == "approved"


def test_the_school_sees_finances_note_and_revises_on_the_page(client_for, ask, finance, pastoral_a):
    request = ask(4)
    spend_request_send_back(spend_request=_spend_request(request), actor=finance, note="Three will do")
    client = client_for(pastoral_a)
    detail = client.get(reverse("support_request_detail", args=[request.pk])).content.decode()
    assert "Sent back for changes" in detail
    assert "Three will do" in detail
    assert reverse("support_request_revise", args=[request.pk]) in detail
    form = client.get(reverse("support_request_revise", args=[request.pk]))
    assert form.status_code == 200
    url = reverse("support_request_revise", args=[request.pk])
    answers = {"size": f"{request.item_id}:7-8", "quantity": 3, "reason": "Three will do"}
    check = client.post(url, answers)
    assert check.status_code == 200  # the check page first: nothing is sent yet
    page = check.content.decode()
    assert "Check the changed request before you send it again" in page
    assert "£90.00" in page
    assert "(was £120.00)" in page
    assert "Approved when sent" in page
    request.refresh_from_db()
    assert (request.status, request.quantity) == (Status.CHANGES, 4)
    back = client.post(url, {**answers, "change": "yes"})
    assert back.status_code == 200
    assert "Change the" in back.content.decode()
    request.refresh_from_db()
    assert request.status == Status.CHANGES
    response = client.post(url, {**answers, "confirm": "yes"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.quantity) == (Status.APPROVED, 3)


@pytest.mark.parametrize(
    ("quantity", "free", "goes_to", "status"),
    [
        (3, False, "approved", Status.APPROVED),
        (4, False, "finance", Status.AWAITING_FINANCE),
        (4, True, "lead", Status.REQUESTED),
    ],
)
def test_the_revise_quote_is_what_revising_does(
    ask, finance, pastoral_a, school_a, quantity, free, goes_to, status
):
    request = ask(5)
    spend_request_send_back(spend_request=_spend_request(request), actor=finance, note="Fewer")
    request.refresh_from_db()
    item = request.item
    if free:
        item = UniformItem.objects.create(school=school_a, name="Donated", sizes=["7-8"], unit_cost_pence=0)
    kwargs = {"request": request, "actor": pastoral_a, "size": "7-8", "item": item, "quantity": quantity}
    quote = request_revise_quote(**kwargs)
    request.refresh_from_db()
    assert request.status == Status.CHANGES  # the quote writes nothing
    assert (quote.goes_to, quote.cost_pence) == (goes_to, item.unit_cost_pence * quantity)
    assert request_revise(reason="x", **kwargs).status == status


def test_the_revise_quote_refuses_what_revising_refuses(ask, pastoral_a, pastoral_b):
    request = ask(4)
    with pytest.raises(ConflictError):  # not sent back
        request_revise_quote(request=request, actor=pastoral_a, size="7-8", item=request.item, quantity=1)
