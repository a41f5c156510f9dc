"""Property tests on hostile or arbitrary input (issue 6): voucher codes, the pupil import parser,
money arithmetic, and the voucher and support-request state machines.

Bounded for speed: every property runs a fixed, small number of examples (derandomised, so CI and a
developer see the same cases).
"""

import contextlib
import csv
import datetime
import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from stdnum.gb import upn as stdnum_upn

from funds.models import LedgerEntry
from funds.selectors.positions import fund_position
from funds.services.approvals import spend_request_approve, spend_request_for
from funds.services.ledger import fund_donation_record, fund_for_school
from support.errors import SupportError
from support.models import Role
from support.money import TOO_PRECISE, parse_pounds, pounds
from support.pupil_csv import ParseResult, expected_year_group, parse_pupil_csv
from support.services import pupil_set_in_need
from tests.factories import consent_to, make_user
from uniform.models import ItemKind, SupportRequest, UniformItem
from uniform.services.requests import (
    request_approve,
    request_create,
    request_hand_over,
    request_mark_from_stock,
    request_mark_ordered,
    request_reject,
)
from vouchers import codes
from vouchers.models import Redemption, Voucher, VoucherType
from vouchers.services import (
    voucher_cancel,
    voucher_expire_due,
    voucher_extend,
    voucher_issue,
    voucher_redeem,
)

FAST = settings(max_examples=40, derandomize=True, database=None, deadline=None)
DB = settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- Voucher codes -------------------------------------------------------------------------------

data_parts = st.text(alphabet=codes.ALPHABET, min_size=codes.DATA_LENGTH, max_size=codes.DATA_LENGTH)


@FAST
@given(data=data_parts)
def test_it_catches_every_single_substitution_and_neighbour_swap_of_any_code(data):
    """Exhaustive per sampled code: 17 x 31 substitutions and every swap of unlike neighbours."""
    code = data + codes.check_character(data)
    assert codes.validate(code) == code
    for position in range(codes.CODE_LENGTH):
        for symbol in codes.ALPHABET:
            if symbol != code[position]:
                wrong = code[:position] + symbol + code[position + 1 :]
                with pytest.raises(codes.CodeError):
                    codes.validate(wrong)
    for position in range(codes.CODE_LENGTH - 1):
        a, b = code[position], code[position + 1]
        if a != b:
            with pytest.raises(codes.CodeError):
                codes.validate(code[:position] + b + a + code[position + 2 :])


@FAST
@given(raw=st.text(max_size=60))
def test_it_only_ever_answers_a_code_or_a_code_error_for_any_text(raw):
    message, code = "", ""
    try:
        code = codes.validate(raw)
    except codes.CodeError as exc:
        message = str(exc)
    assert bool(message) != bool(code)
    assert code == "" or (len(code), set(code) <= set(codes.ALPHABET)) == (codes.CODE_LENGTH, True)


# --- The pupil import parser ----------------------------------------------------------------------

AYS = 2026


@FAST
@given(data=st.binary(max_size=2_000))
def test_it_never_raises_on_arbitrary_bytes(data):
    result = parse_pupil_csv(data, academic_year_start=AYS)
    assert isinstance(result, ParseResult)
    assert result.rows or result.errors


@FAST
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=600), delimiter=st.sampled_from(",;\t"))
def test_it_never_raises_on_arbitrary_text_under_a_valid_header(text, delimiter):
    header = delimiter.join(["UPN", "Legal Forename", "Surname", "Date of Birth", "Year Group"])
    result = parse_pupil_csv(f"{header}\n{text}".encode(), academic_year_start=AYS)
    assert isinstance(result, ParseResult)
    for row in result.rows:
        assert stdnum_upn.is_valid(row.upn)


LA_CODES = (201, 202, 330, 380, 801, 822, 926)
NAMES = st.from_regex(r"\A[A-Z][a-zé]{1,12}(['-][A-Z][a-z]{1,8})?\Z")


@st.composite
def pupil_rows(draw) -> dict:
    year_group = draw(st.integers(min_value=0, max_value=11))
    born_in = AYS - 5 - year_group  # the academic year of birth starts 1 September of this year
    start = datetime.date(born_in, 9, 1)
    dob = start + datetime.timedelta(days=draw(st.integers(min_value=0, max_value=364)))
    body = f"{draw(st.sampled_from(LA_CODES))}{draw(st.integers(min_value=0, max_value=10**9 - 1)):09d}"
    return {
        "upn": stdnum_upn.calc_check_digit(body) + body,
        "legal_forename": draw(NAMES),
        "surname": draw(NAMES),
        "date_of_birth": dob,
        "year_group": year_group,
        "fsm": draw(st.booleans()),
        "family_ref": draw(st.from_regex(r"\A[A-Z0-9]{0,8}\Z")),
    }


@FAST
@given(rows=st.lists(pupil_rows(), min_size=1, max_size=6, unique_by=lambda row: row["upn"]))
def test_it_round_trips_valid_rows(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["UPN", "Legal Forename", "Surname", "DOB", "Year Group", "FSM", "Family ID"])
    for row in rows:
        year = "R" if row["year_group"] == 0 else str(row["year_group"])
        fsm = "Yes" if row["fsm"] else "No"
        writer.writerow(
            [
                row["upn"],
                row["legal_forename"],
                row["surname"],
                f"{row['date_of_birth']:%d/%m/%Y}",
                year,
                fsm,
                row["family_ref"],
            ]
        )
    result = parse_pupil_csv(out.getvalue().encode(), academic_year_start=AYS)
    assert result.errors == []
    assert [
        (r.upn, r.legal_forename, r.surname, r.date_of_birth, r.year_group, r.fsm, r.family_ref)
        for r in result.rows
    ] == [
        (
            r["upn"],
            r["legal_forename"],
            r["surname"],
            r["date_of_birth"],
            r["year_group"],
            r["fsm"],
            r["family_ref"],
        )
        for r in rows
    ]
    assert all(
        expected_year_group(r.date_of_birth, academic_year_start=AYS) == r.year_group for r in result.rows
    )


# --- Money ----------------------------------------------------------------------------------------

pence = st.integers(min_value=-(10**18), max_value=10**18)  # far past a float's 2**53 of exact integers


def _read(text: str) -> int:
    return parse_pounds(text, minimum=None, maximum=None)


@FAST
@given(amount=pence)
def test_it_formats_and_reads_back_any_amount_exactly(amount):
    assert _read(pounds(amount)) == amount
    assert _read(pounds(amount, symbol=False)) == amount
    assert type(_read(pounds(amount))) is int


@FAST
@given(amounts=st.lists(pence, max_size=20))
def test_it_sums_formatted_amounts_to_the_formatted_sum(amounts):
    assert sum(_read(pounds(a)) for a in amounts) == sum(amounts)
    assert pounds(sum(amounts)) == pounds(sum(_read(pounds(a)) for a in amounts))


@FAST
@given(whole=st.integers(min_value=0, max_value=10**15), hundredths=st.integers(min_value=0, max_value=99))
def test_it_reads_pounds_and_pence_exactly(whole, hundredths):
    """A float would read 0.29 as 28.999...; the exact answer comes from integer arithmetic."""
    assert _read(f"{whole}.{hundredths:02d}") == whole * 100 + hundredths
    assert _read(f"{whole}.{hundredths:02d}".rstrip("0").rstrip(".") or "0") == whole * 100 + hundredths


@FAST
@given(whole=st.integers(min_value=0, max_value=10**15), thousandths=st.integers(min_value=0, max_value=999))
def test_it_refuses_a_third_decimal_place_rather_than_round_it(whole, thousandths):
    with pytest.raises(ValueError, match=TOO_PRECISE):
        _read(f"{whole}.{thousandths:03d}")


# --- State machines -------------------------------------------------------------------------------

State = Voucher.State


class VoucherMachine(RuleBasedStateMachine):
    """Issue one voucher, then any sequence of cancel, extend, expire (the nightly job, run on a day
    past the expiry) and redeem, each allowed to be refused. Whatever the order, a voucher is
    redeemed at most once, never after it was cancelled or expired, and a final state stays final."""

    ctx: dict = {}

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        c = self.ctx
        self.voucher = voucher_issue(
            family=c["family"],
            voucher_type=c["voucher_type"],
            school=c["school"],
            issued_by=c["pastoral"],
            referral_reason="income_drop",
        )
        self.history = [State.ISSUED]

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    def _record(self) -> None:
        self.voucher.refresh_from_db()
        self.history.append(self.voucher.state)

    @rule(reason=st.sampled_from(["Family moved", "", "  "]))
    def cancel(self, reason):
        with contextlib.suppress(SupportError):
            voucher_cancel(voucher=self.voucher, actor=self.ctx["pastoral"], reason=reason)
        self._record()

    @rule(days=st.integers(min_value=-3, max_value=400))
    def extend(self, days):
        with contextlib.suppress(SupportError):
            voucher_extend(
                voucher=self.voucher,
                actor=self.ctx["lead"],
                expires_on=self.voucher.expires_on + datetime.timedelta(days=days),
                reason="Family unwell",
            )
        self._record()

    @rule()
    def expire(self):
        voucher_expire_due(today=self.voucher.expires_on + datetime.timedelta(days=1))
        self._record()

    @rule(value=st.one_of(st.none(), st.integers(min_value=-100, max_value=50_00)))
    def redeem(self, value):
        with contextlib.suppress(SupportError):
            voucher_redeem(
                voucher=self.voucher,
                partner=self.ctx["partner"],
                redeemed_by=self.ctx["charity"],
                value_pence=value,
            )
        self._record()

    @invariant()
    def never_reaches_a_forbidden_state(self):
        redemptions = Redemption.objects.filter(voucher_id=self.voucher.pk)
        assert redemptions.count() <= 1
        assert (self.voucher.state == State.REDEEMED) == redemptions.exists()
        assert all(r.value_pence is None or r.value_pence >= 0 for r in redemptions)
        first_final = next((s for s in self.history if s != State.ISSUED), None)
        if first_final is not None:
            # Once out of "issued", nothing moves it again (no redeem after cancel or expiry, no revival).
            assert self.history[self.history.index(first_final) :] == [first_final] * (
                len(self.history) - self.history.index(first_final)
            )


def test_it_never_redeems_twice_or_after_cancel_or_expiry_in_any_order(
    db, school_a, partner_1, pastoral_a, lead_a, charity_staff, family_a
):
    consent_to(family_a, pastoral_a)
    family_a.refresh_from_db()
    voucher_type = VoucherType.objects.create(
        partner=partner_1, service="food_parcel", name="Food parcel", face_value_pence=25_00, validity_days=28
    )
    VoucherMachine.ctx = {
        "family": family_a,
        "voucher_type": voucher_type,
        "school": school_a,
        "pastoral": pastoral_a,
        "lead": lead_a,
        "partner": partner_1,
        "charity": charity_staff,
    }
    run_state_machine_as_test(VoucherMachine, settings=settings(DB, stateful_step_count=8))


R = SupportRequest.Status
# Every move a support request may make; anything else is a forbidden transition.
ALLOWED_MOVES = {
    (R.REQUESTED, R.APPROVED),
    (R.REQUESTED, R.AWAITING_FINANCE),
    (R.REQUESTED, R.REJECTED),
    (R.AWAITING_FINANCE, R.APPROVED),
    (R.AWAITING_FINANCE, R.REJECTED),
    (R.CHANGES, R.REJECTED),
    (R.APPROVED, R.REJECTED),
    (R.APPROVED, R.ORDERED),
    (R.APPROVED, R.FROM_STOCK),
    (R.ORDERED, R.HANDED_OVER),
    (R.FROM_STOCK, R.HANDED_OVER),
}


class SupportRequestMachine(RuleBasedStateMachine):
    """Requests of any cost against a school fund holding a random amount, then any sequence of
    approve, reject, order, take from stock and hand over, in any order. No sequence makes a forbidden
    move, leaves money committed to a rejected request, or takes the fund's available money below zero
    (nothing here overrides)."""

    ctx: dict = {}

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.requests: list[SupportRequest] = []
        self.statuses: dict[int, str] = {}

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    @initialize(amount=st.integers(min_value=0, max_value=300_00))
    def start_with(self, amount):
        if amount:
            self.donate(amount)

    @rule(amount=st.integers(min_value=1, max_value=300_00))
    def donate(self, amount):
        fund_donation_record(
            fund=self.ctx["fund"],
            donor="A friend",
            amount_pence=amount,
            received_on=datetime.date.today(),
            gift_aid=False,
            actor=self.ctx["finance"],
        )

    @rule(quantity=st.integers(min_value=1, max_value=6))
    def create(self, quantity):
        try:
            made = request_create(
                pupil=self.ctx["pupil"],
                kind=ItemKind.UNIFORM,
                item=self.ctx["item"],
                quantity=quantity,
                size="7-8",
                reason="Outgrown",
                urgency="routine",
                actor=self.ctx["pastoral"],
            )
        except SupportError:
            return
        self.requests.append(made)
        self.statuses[made.pk] = made.status
        assert (R.REQUESTED, made.status) in ALLOWED_MOVES or made.status == R.REQUESTED

    @precondition(lambda self: self.requests)
    @rule(
        index=st.integers(min_value=0, max_value=50),
        action=st.sampled_from(
            ["approve", "finance_approve", "reject", "ordered", "from_stock", "hand_over"]
        ),
    )
    def act(self, index, action):
        request = self.requests[index % len(self.requests)]
        c = self.ctx
        calls = {
            "approve": lambda: request_approve(request=request, actor=c["lead"], reason="Needed"),
            "finance_approve": lambda: spend_request_approve(
                spend_request=spend_request_for(request) or _no_spend_request(), actor=c["finance"]
            ),
            "reject": lambda: request_reject(request=request, actor=c["lead"], reason="Not needed"),
            "ordered": lambda: request_mark_ordered(request=request, actor=c["pastoral"]),
            "from_stock": lambda: request_mark_from_stock(request=request, actor=c["pastoral"]),
            "hand_over": lambda: request_hand_over(request=request, actor=c["pastoral"]),
        }
        # A refusal is an allowed outcome; what matters is the state the request is left in.
        with contextlib.suppress(SupportError), transaction.atomic():
            calls[action]()
        request.refresh_from_db()
        before, after = self.statuses[request.pk], request.status
        assert before == after or (before, after) in ALLOWED_MOVES, f"{action}: {before} -> {after}"
        self.statuses[request.pk] = after

    @invariant()
    def money_stays_whole(self):
        position = fund_position(fund=self.ctx["fund"])
        assert position.available_pence >= 0
        assert position.balance_pence >= 0
        entries = LedgerEntry.objects.filter(fund=self.ctx["fund"])
        assert not entries.exclude(override_reason="").exists()
        for request in self.requests:
            if self.statuses[request.pk] == R.REJECTED:
                assert request.cost_pence is None or _open_commitment(request) == 0


def _no_spend_request():
    raise SupportError("No spend request for this support request.")


def _open_commitment(request: SupportRequest) -> int:
    from funds.services.ledger import _open_commitments

    return sum(open_amount for _, _, open_amount in _open_commitments(request))


def test_it_never_moves_a_request_wrongly_or_overspends_the_fund(db, school_a, pastoral_a, lead_a, family_a):
    from funds.models import Fund

    finance = make_user("treasurer_p", Role.FINANCE)
    # The school's own fund, empty at the start, so fund shortfalls happen often.
    fund = Fund.objects.create(name="Alpha hardship", school=school_a)
    assert fund_for_school(school_a) == fund
    pupil = family_a.pupils.get()
    pupil_set_in_need(pupil=pupil, actor=pastoral_a, in_need=True, reason="Hardship")
    pupil.refresh_from_db()
    item = UniformItem.objects.create(school=school_a, name="Jumper", sizes=["7-8"], unit_cost_pence=30_00)
    SupportRequestMachine.ctx = {
        "fund": fund,
        "finance": finance,
        "pupil": pupil,
        "item": item,
        "pastoral": pastoral_a,
        "lead": lead_a,
    }
    run_state_machine_as_test(
        SupportRequestMachine, settings=settings(DB, max_examples=50, stateful_step_count=12)
    )
