"""Gift Aid: declarations and what they cover, claims (each donation once), the schedule HMRC takes and
the Gift Aid HMRC pays coming into the ledger on the day it paid."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from funds.models import GiftAidClaim, GiftAidClaimItem, LedgerEntry
from funds.selectors import gift_aid_claims_visible_to, gift_aid_declarations_visible_to
from funds.selectors.gift_aid import (
    SCHEDULE_HEADER,
    claim_schedule_rows,
    claimable_donations,
    earliest_claimable,
    gift_aid_state,
    with_gift_aid_state,
)
from funds.selectors.positions import fund_position
from funds.services.gift_aid import (
    gift_aid_claim_paid,
    gift_aid_claim_prepare,
    gift_aid_claim_submit,
    gift_aid_claim_withdraw,
    gift_aid_declaration_cancel,
    gift_aid_declaration_record,
    normalise_postcode,
)
from funds.services.ledger import fund_donation_record, fund_entry_reverse, standby_fund
from funds.web.gift_aid import schedule_xlsx_bytes
from support.errors import ConflictError, SupportError
from support.models import AuditEvent

TODAY = datetime.date(2026, 11, 23)
DONOR = "Trustee: Mrs H. Pemberton"


@pytest.fixture
def fund(db):
    return standby_fund()


def declare(actor, donor=DONOR, **extra):
    values = {
        "donor": donor,
        "title": "Mrs",
        "first_name": "Helen",
        "last_name": "Pemberton",
        "house": "12",
        "address": "12 Mill Lane\nRiverton",
        "postcode": "rv1 2ab",
        "declared_on": datetime.date(2026, 10, 1),
        "covers_past": True,
        "covers_future": True,
        "today": TODAY,
    }
    values.update(extra)
    return gift_aid_declaration_record(actor=actor, **values)


def donate(fund, actor, donor=DONOR, received_on=datetime.date(2026, 9, 2), amount_pence=10_000_00, **extra):
    values = {"gift_aid": True, "today": TODAY}
    values.update(extra)
    return fund_donation_record(
        fund=fund, donor=donor, amount_pence=amount_pence, received_on=received_on, actor=actor, **values
    )


def claimable_ids():
    return list(claimable_donations(today=TODAY).values_list("pk", flat=True))


# --- Declarations --------------------------------------------------------------------------------


def test_it_records_a_declaration_with_a_normalised_postcode_and_its_span(finance):
    declaration = declare(finance)
    assert declaration.postcode == "RV1 2AB"
    assert declaration.covers_from == datetime.date(2022, 10, 1)
    assert declaration.covers_to is None
    event = AuditEvent.objects.get(action="gift_aid.declaration_recorded")
    assert "Mill Lane" not in str(event.after)  # the audit keeps no home address


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"last_name": "=HYPERLINK(1)"}, "last_name"),
        ({"postcode": "not a postcode"}, "postcode"),
        ({"house": ""}, "house"),
        ({"address": " "}, "address"),
        ({"declared_on": datetime.date(2026, 11, 24)}, "declared_on"),
        ({"title": "Professor"}, "title"),
    ],
)
def test_it_refuses_a_declaration_hmrc_would_not_take(finance, change, field):
    with pytest.raises(SupportError) as refused:
        declare(finance, **change)
    assert refused.value.field == field


def test_only_finance_records_declarations(pastoral_a):
    with pytest.raises(SupportError) as refused:
        declare(pastoral_a)
    assert refused.value.code == "forbidden"


def test_it_reads_uk_postcodes():
    assert normalise_postcode(" sw1a1aa ") == "SW1A 1AA"
    assert normalise_postcode("M1 1AE") == "M1 1AE"


@pytest.mark.parametrize(
    ("past", "future", "covered", "not_covered"),
    [
        (True, True, [datetime.date(2022, 10, 1), datetime.date(2026, 11, 20)], [datetime.date(2022, 9, 30)]),
        (
            False,
            True,
            [datetime.date(2026, 10, 1), datetime.date(2026, 11, 20)],
            [datetime.date(2026, 9, 30)],
        ),
        (True, False, [datetime.date(2023, 1, 1), datetime.date(2026, 10, 1)], [datetime.date(2026, 10, 2)]),
    ],
)
def test_a_declaration_covers_its_span(fund, finance, past, future, covered, not_covered):
    declaration = declare(finance, covers_past=past, covers_future=future)
    for day in covered:
        assert declaration.covers(day)
        donation = donate(fund, finance, received_on=day)
        assert donation.pk in claimable_ids(), day
    for day in not_covered:
        assert not declaration.covers(day)
        donation = donate(fund, finance, received_on=day)
        assert donation.pk not in claimable_ids(), day


def test_a_cancelled_declaration_covers_gifts_before_the_cancellation_only(fund, finance):
    declaration = declare(finance)
    before = donate(fund, finance, received_on=datetime.date(2026, 10, 5))
    donate(fund, finance, received_on=datetime.date(2026, 11, 1))
    gift_aid_declaration_cancel(
        declaration=declaration, cancelled_on=datetime.date(2026, 11, 1), reason="Letter", actor=finance
    )
    assert claimable_ids() == [before.pk]
    with pytest.raises(ConflictError):
        gift_aid_declaration_cancel(declaration=declaration, cancelled_on=TODAY, actor=finance)


def test_a_cancellation_cannot_reach_back_before_a_claimed_gift(fund, finance):
    declaration = declare(finance)
    donate(fund, finance, received_on=datetime.date(2026, 10, 5))
    gift_aid_claim_prepare(actor=finance, today=TODAY)
    with pytest.raises(ConflictError) as refused:
        gift_aid_declaration_cancel(
            declaration=declaration, cancelled_on=datetime.date(2026, 10, 5), actor=finance
        )
    assert refused.value.code == "claimed_after"


# --- Which donations a claim takes ---------------------------------------------------------------


def test_a_donation_without_a_declaration_is_never_in_a_claim(fund, finance):
    declare(finance)
    declared = donate(fund, finance)
    undeclared = donate(fund, finance, donor="Mrs J. Carter (sponsored walk)", amount_pence=180_00)
    not_asked = donate(fund, finance, gift_aid=False, received_on=datetime.date(2026, 10, 3))
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    claimed = set(claim.items.values_list("donation_id", flat=True))
    assert claimed == {declared.pk}
    assert undeclared.pk not in claimed
    assert not_asked.pk not in claimed
    # Asked for by id (a crafted check page), the undeclared one is refused and nothing is claimed.
    with pytest.raises(ConflictError):
        gift_aid_claim_prepare(actor=finance, donation_ids=[undeclared.pk], today=TODAY)
    assert GiftAidClaim.objects.count() == 1


def test_each_donation_shows_its_gift_aid_state(fund, finance):
    declare(finance)
    claimed = donate(fund, finance, received_on=datetime.date(2026, 9, 2))
    gift_aid_claim_prepare(actor=finance, today=TODAY)
    claimable = donate(fund, finance, received_on=datetime.date(2026, 9, 3))
    undeclared = donate(fund, finance, donor="Someone else")
    not_asked = donate(fund, finance, gift_aid=False)
    from funds.models import Donation

    states = {d.pk: gift_aid_state(d) for d in with_gift_aid_state(Donation.objects.all())}
    assert states == {
        claimed.pk: "claimed",
        claimable.pk: "claimable",
        undeclared.pk: "no_declaration",
        not_asked.pk: "not_asked",
    }


def test_a_reversed_donation_and_one_past_hmrcs_time_limit_are_not_claimable(fund, finance):
    declare(finance, declared_on=datetime.date(2026, 10, 1))
    reversed_one = donate(fund, finance)
    entry = LedgerEntry.objects.get(source_id=str(reversed_one.pk), kind=LedgerEntry.Kind.INCOME)
    fund_entry_reverse(entry=entry, actor=finance, reason="Recorded twice")
    # Financial year 2021–22 ended 31 August 2022; its claims closed 31 August 2026.
    assert earliest_claimable(TODAY) == datetime.date(2022, 9, 1)
    too_old = donate(fund, finance, received_on=datetime.date(2022, 8, 31))
    assert reversed_one.pk not in claimable_ids()
    assert too_old.pk not in claimable_ids()


def test_a_donation_in_a_prepared_claim_cannot_be_reversed_until_the_claim_is_withdrawn(fund, finance):
    """Else the claim would send HMRC a gift the trust no longer holds (a refund, a bounced payment)."""
    declare(finance)
    donation = donate(fund, finance)
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    entry = LedgerEntry.objects.get(source_id=str(donation.pk), kind=LedgerEntry.Kind.INCOME)
    with pytest.raises(ConflictError) as refused:
        fund_entry_reverse(entry=entry, actor=finance, reason="The payment bounced")
    assert refused.value.code == "gift_aid_claimed"
    assert not LedgerEntry.objects.filter(reverses=entry).exists()
    gift_aid_claim_withdraw(claim=claim, reason="A payment bounced", actor=finance)
    fund_entry_reverse(entry=entry, actor=finance, reason="The payment bounced")
    assert donation.pk not in claimable_ids()


def test_a_donation_is_claimed_once_even_if_two_batches_are_prepared_at_once(fund, finance):
    """Both finance users looked at the same check page; the second's claim is refused whole."""
    declare(finance)
    donations = [donate(fund, finance, received_on=datetime.date(2026, 9, day)) for day in (2, 3, 4)]
    shown = [d.pk for d in donations]
    first = gift_aid_claim_prepare(actor=finance, donation_ids=shown, today=TODAY)
    with pytest.raises(ConflictError) as refused:
        gift_aid_claim_prepare(actor=finance, donation_ids=shown, today=TODAY)
    assert refused.value.code == "no_longer_claimable"
    with pytest.raises(SupportError):
        gift_aid_claim_prepare(actor=finance, today=TODAY)  # nothing left to claim
    assert GiftAidClaim.objects.count() == 1
    assert set(first.items.values_list("donation_id", flat=True)) == set(shown)


def test_the_database_refuses_a_donation_in_two_claims(fund, finance, monkeypatch):
    """Past every check (here, a selector that forgot what is claimed), the unique index still holds."""
    declare(finance)
    donation = donate(fund, finance)
    gift_aid_claim_prepare(actor=finance, today=TODAY)
    import funds.services.gift_aid as service

    def forgetful(*, today):
        from funds.models import Donation
        from funds.selectors.gift_aid import with_gift_aid_state

        return with_gift_aid_state(Donation.objects.filter(pk=donation.pk))

    monkeypatch.setattr(service, "claimable_donations", forgetful)
    with pytest.raises(ConflictError):
        gift_aid_claim_prepare(actor=finance, donation_ids=[donation.pk], today=TODAY)
    assert GiftAidClaim.objects.count() == 1
    item = GiftAidClaimItem.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        GiftAidClaimItem.objects.create(
            claim=item.claim,
            donation=donation,
            declaration=item.declaration,
            amount_pence=1,
            gift_aid_pence=0,
        )


def test_withdrawing_a_prepared_claim_frees_its_donations(fund, finance):
    declare(finance)
    donation = donate(fund, finance)
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    with pytest.raises(SupportError):
        gift_aid_claim_withdraw(claim=claim, reason="", actor=finance)
    gift_aid_claim_withdraw(claim=claim, reason="Wrong donor name", actor=finance)
    assert claim.status == GiftAidClaim.Status.WITHDRAWN
    again = gift_aid_claim_prepare(actor=finance, today=TODAY)
    assert list(again.items.values_list("donation_id", flat=True)) == [donation.pk]


# --- The claim's life and the money ----------------------------------------------------------------


def test_a_claim_moves_prepared_submitted_paid_and_brings_the_gift_aid_in_on_the_day_hmrc_paid(fund, finance):
    declare(finance)
    donate(fund, finance, amount_pence=10_000_00)
    donate(fund, finance, amount_pence=33_33, received_on=datetime.date(2026, 9, 5))
    before = fund_position(fund=fund).income_pence
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    assert (claim.status, claim.donations_pence, claim.gift_aid_pence) == ("prepared", 10_033_33, 2_508_33)
    with pytest.raises(ConflictError):
        gift_aid_claim_paid(claim=claim, paid_on=TODAY, actor=finance, today=TODAY)  # not submitted yet
    with pytest.raises(SupportError):
        gift_aid_claim_submit(claim=claim, hmrc_reference=" ", actor=finance, today=TODAY)
    gift_aid_claim_submit(claim=claim, hmrc_reference="CH-1234", actor=finance, today=TODAY)
    assert claim.status == "submitted"
    assert claim.hmrc_reference == "CH-1234"
    assert fund_position(fund=fund).income_pence == before
    with pytest.raises(SupportError):
        gift_aid_claim_paid(
            claim=claim, paid_on=TODAY + datetime.timedelta(days=1), actor=finance, today=TODAY
        )
    gift_aid_claim_paid(claim=claim, paid_on=TODAY, actor=finance, today=TODAY)
    entry = LedgerEntry.objects.get(category="gift_aid")
    assert (entry.kind, entry.amount_pence, entry.occurred_on) == ("income", 2_508_33, TODAY)
    assert fund_position(fund=fund).income_pence == before + 2_508_33
    with pytest.raises(ConflictError):
        gift_aid_claim_paid(claim=claim, paid_on=TODAY, actor=finance, today=TODAY)  # paid once
    assert LedgerEntry.objects.filter(category="gift_aid").count() == 1
    actions = set(
        AuditEvent.objects.filter(action__startswith="gift_aid.claim").values_list("action", flat=True)
    )
    assert actions == {"gift_aid.claim_prepared", "gift_aid.claim_submitted", "gift_aid.claim_paid"}


def test_only_finance_prepares_claims(pastoral_a, finance, fund):
    declare(finance)
    donate(fund, finance)
    with pytest.raises(SupportError) as refused:
        gift_aid_claim_prepare(actor=pastoral_a, today=TODAY)
    assert refused.value.code == "forbidden"


def test_only_finance_and_admins_see_declarations_and_claims(
    finance, admin, pastoral_a, lead_a, charity_staff
):
    declare(finance)
    assert gift_aid_declarations_visible_to(finance).count() == 1
    assert gift_aid_declarations_visible_to(admin).count() == 1
    for user in (pastoral_a, lead_a, charity_staff, None):
        assert not gift_aid_declarations_visible_to(user).exists()
        assert not gift_aid_claims_visible_to(user).exists()


# --- The schedule --------------------------------------------------------------------------------


def test_the_schedule_has_hmrcs_columns_dates_and_amounts(fund, finance):
    declare(finance)
    donate(fund, finance, amount_pence=10_000_00, received_on=datetime.date(2026, 9, 2), sponsored=True)
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    rows = list(claim_schedule_rows(claim))
    assert rows == [
        ["Mrs", "Helen", "Pemberton", "12", "RV1 2AB", "", "Yes", "02/09/26", Decimal("10000.00")]
    ]
    book = load_workbook(io.BytesIO(schedule_xlsx_bytes(claim)))
    sheet = book.active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == SCHEDULE_HEADER
    assert values[1][:8] == ("Mrs", "Helen", "Pemberton", "12", "RV1 2AB", None, "Yes", "02/09/26")
    assert values[1][8] == 10000
    assert "£" not in str(values[1][8])


# --- Retention and subject access ------------------------------------------------------------------


def test_a_declaration_is_anonymised_six_years_after_the_financial_year_of_its_last_activity(fund, finance):
    from funds.data_rights import gift_aid_declarations_anonymise_expired

    declaration = declare(finance, declared_on=datetime.date(2019, 10, 1), today=datetime.date(2019, 10, 1))
    donate(fund, finance, received_on=datetime.date(2020, 3, 1), today=datetime.date(2020, 3, 1))
    # The last activity, a gift on 1 March 2020, is in the year ending 31 August 2020: kept to 31 August 2026.
    assert gift_aid_declarations_anonymise_expired(today=datetime.date(2026, 8, 31), years=6) == []
    assert gift_aid_declarations_anonymise_expired(today=datetime.date(2026, 9, 1), years=6) == [
        declaration.pk
    ]
    declaration.refresh_from_db()
    assert declaration.anonymised_at is not None
    assert (declaration.first_name, declaration.address, declaration.postcode, declaration.house) == (
        "Anonymised",
        "",
        "",
        "",
    )
    assert not declaration.covers(datetime.date(2020, 3, 1))
    assert (
        gift_aid_declarations_anonymise_expired(today=datetime.date(2026, 9, 1), years=6) == []
    )  # idempotent
    assert AuditEvent.objects.filter(action="retention.gift_aid_anonymised").count() == 3  # each run


def test_anonymising_a_declaration_redacts_its_audit_events_too(fund, finance):
    """The cancellation's reason (free text: "moved to ...") is cleared on the declaration; the audit
    log's copy of it must not outlive it."""
    from django.contrib.contenttypes.models import ContentType

    from funds.data_rights import gift_aid_declarations_anonymise_expired
    from funds.models import GiftAidDeclaration

    declaration = declare(finance, declared_on=datetime.date(2019, 10, 1), today=datetime.date(2019, 10, 1))
    gift_aid_declaration_cancel(
        declaration=declaration,
        cancelled_on=datetime.date(2020, 1, 6),
        reason="Moved to 5 Weir Road, Riverton",
        actor=finance,
    )
    assert gift_aid_declarations_anonymise_expired(today=datetime.date(2026, 9, 1), years=6) == [
        declaration.pk
    ]
    events = AuditEvent.objects.filter(
        subject_type=ContentType.objects.get_for_model(GiftAidDeclaration), subject_id=str(declaration.pk)
    )
    assert events.count() == 2
    for event in events:
        text = f"{event.subject_repr} {event.note} {event.before} {event.after}"
        assert "Weir Road" not in text
        assert "Pemberton" not in text


def test_a_recent_gift_keeps_the_declaration(fund, finance):
    from funds.data_rights import expired_declarations

    declare(finance, declared_on=datetime.date(2019, 10, 1), today=datetime.date(2019, 10, 1))
    donate(fund, finance, received_on=datetime.date(2025, 10, 1), today=TODAY)
    assert expired_declarations(today=datetime.date(2027, 1, 1), years=6) == []


def test_a_later_claim_giving_back_a_gifts_gift_aid_keeps_the_declaration(fund, finance):
    """HMRC may ask about the claim that gave the Gift Aid back as well as the one that claimed it."""
    from funds.data_rights import expired_declarations

    spring = datetime.date(2020, 4, 1)
    declaration = declare(finance, declared_on=datetime.date(2019, 10, 1), today=datetime.date(2019, 10, 1))
    returned = donate(fund, finance, amount_pence=100_00, received_on=datetime.date(2020, 3, 1), today=spring)
    first = gift_aid_claim_prepare(actor=finance, today=spring)
    gift_aid_claim_submit(claim=first, hmrc_reference="CH-1", actor=finance, today=spring)
    entry = LedgerEntry.objects.get(
        source_id=str(returned.pk), kind=LedgerEntry.Kind.INCOME, category="donation"
    )
    fund_entry_reverse(entry=entry, actor=finance, reason="The gift was returned", today=spring)
    # Nothing of this donor's after spring 2020: on its own, kept to 31 August 2026.
    assert expired_declarations(today=datetime.date(2026, 9, 1), years=6) == [declaration.pk]

    # Another donor's gift, claimed in November 2021, gives the returned gift's Gift Aid back.
    autumn = datetime.date(2021, 11, 1)
    declare(
        finance,
        donor="Mr T. Okafor",
        first_name="Tunde",
        last_name="Okafor",
        today=autumn,
        declared_on=datetime.date(2021, 10, 1),
    )
    donate(
        fund,
        finance,
        donor="Mr T. Okafor",
        amount_pence=200_00,
        received_on=datetime.date(2021, 10, 4),
        today=autumn,
    )
    second = gift_aid_claim_prepare(actor=finance, today=autumn)
    assert second.adjustment_pence == 25_00
    assert GiftAidClaimItem.objects.get(claim=first).adjusted_in == second
    # The financial year of that claim ends 31 August 2022: the declaration is kept six years past it.
    assert declaration.pk not in expired_declarations(today=datetime.date(2028, 8, 31), years=6)
    assert declaration.pk in expired_declarations(today=datetime.date(2028, 9, 1), years=6)


def test_a_donors_subject_access_export_is_a_trust_admins_and_audited(client_for, fund, finance, admin):
    declaration = declare(finance)
    donate(fund, finance)
    url = f"/finance/gift-aid/declarations/{declaration.pk}/subject-access.json"
    assert client_for(finance).get(url).status_code == 403
    response = client_for(admin).get(url)
    assert response.status_code == 200
    data = response.json()
    assert data["gift_aid_declarations"][0]["address"] == "12 Mill Lane\nRiverton"
    assert [d["amount_pence"] for d in data["donations"]] == [10_000_00]
    assert AuditEvent.objects.filter(action="gift_aid.donor_subject_access", actor=admin).exists()


# --- Pages and API ---------------------------------------------------------------------------------


def test_finance_reads_a_declaration_and_school_staff_never_do(client_for, finance, lead_a, charity_staff):
    declaration = declare(finance)
    page = client_for(finance).get(f"/finance/gift-aid/declarations/{declaration.pk}/")
    assert "12 Mill Lane" in page.content.decode()
    for user in (lead_a, charity_staff):
        response = client_for(user).get(f"/finance/gift-aid/declarations/{declaration.pk}/")
        assert response.status_code == 403
        assert "Mill Lane" not in response.content.decode()


def test_the_claim_check_page_prepares_only_what_it_showed(client_for, fund, finance):
    declare(finance)
    shown = donate(fund, finance)
    client = client_for(finance)
    check = client.get("/finance/gift-aid/claims/new/")
    assert check.status_code == 200
    assert f'value="{shown.pk}"' in check.content.decode()
    assert not GiftAidClaim.objects.exists()  # the check page writes nothing
    later = donate(fund, finance, received_on=datetime.date(2026, 9, 9))
    response = client.post("/finance/gift-aid/claims/new/", {"confirm": "yes", "donation": [shown.pk]})
    claim = GiftAidClaim.objects.get()
    assert response["Location"] == f"/finance/gift-aid/claims/{claim.pk}/"
    assert list(claim.items.values_list("donation_id", flat=True)) == [shown.pk]
    assert later.pk in claimable_ids()


def test_marking_a_claim_paid_is_read_back_before_the_money_is_recorded(client_for, fund, finance):
    declare(finance)
    donate(fund, finance)
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    gift_aid_claim_submit(claim=claim, hmrc_reference="CH1", actor=finance, today=TODAY)
    client = client_for(finance)
    today = datetime.date.today().isoformat()
    check = client.post(f"/finance/gift-aid/claims/{claim.pk}/pay/", {"paid_on": today})
    assert check.status_code == 200
    assert "Record that HMRC paid claim" in check.content.decode()
    assert not LedgerEntry.objects.filter(category="gift_aid").exists()
    done = client.post(f"/finance/gift-aid/claims/{claim.pk}/pay/", {"paid_on": today, "confirm": "yes"})
    assert done.status_code == 302
    assert LedgerEntry.objects.get(category="gift_aid").amount_pence == 2_500_00


def test_the_schedule_downloads_as_csv_without_a_pound_sign_and_is_audited(client_for, fund, finance):
    declare(finance, last_name="O'Neill")
    donate(fund, finance, amount_pence=25_50)
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    response = client_for(finance).get(f"/finance/gift-aid/claims/{claim.pk}/schedule.csv")
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[1] == "Mrs,Helen,O'Neill,12,RV1 2AB,,,02/09/26,25.50"
    assert "£" not in text
    assert AuditEvent.objects.filter(action="gift_aid.schedule_downloaded").exists()


def test_the_api_declares_claims_and_pays(fund, finance, pastoral_a):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(finance)
    body = {
        "donor": DONOR,
        "title": "Mrs",
        "first_name": "Helen",
        "last_name": "Pemberton",
        "house": "12",
        "address": "12 Mill Lane",
        "postcode": "RV1 2AB",
        "declared_on": "2026-10-01",
        "covers_past": True,
        "covers_future": True,
    }
    created = api.post("/api/v1/gift-aid/declarations/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["postcode"] == "RV1 2AB"
    donation = donate(fund, finance)
    listed = api.get("/api/v1/donations/").json()["results"]
    assert [d["gift_aid_state"] for d in listed] == ["claimable"]
    claim = api.post("/api/v1/gift-aid/claims/", {}, format="json")
    assert claim.status_code == 201, claim.content
    claim_id = claim.json()["id"]
    assert [i["donation"] for i in claim.json()["items"]] == [donation.pk]
    assert api.post("/api/v1/gift-aid/claims/", {}, format="json").status_code == 400  # nothing left
    paid_early = api.post(
        f"/api/v1/gift-aid/claims/{claim_id}/pay/", {"paid_on": "2026-11-01"}, format="json"
    )
    assert paid_early.status_code == 409
    submitted = api.post(
        f"/api/v1/gift-aid/claims/{claim_id}/submit/", {"hmrc_reference": "CH9"}, format="json"
    )
    assert submitted.json()["status"] == "submitted"
    paid = api.post(
        f"/api/v1/gift-aid/claims/{claim_id}/pay/",
        {"paid_on": datetime.date.today().isoformat()},
        format="json",
    )
    assert paid.json()["status"] == "paid"
    other = APIClient()
    other.force_authenticate(pastoral_a)
    assert other.get("/api/v1/gift-aid/declarations/").status_code == 403
    assert other.post("/api/v1/gift-aid/claims/", {}, format="json").status_code == 403


# --- The demo ------------------------------------------------------------------------------------


# The trustees' details as finance types them in the demo's walk-through (docs/demo.md).
TRUSTEE_DECLARATIONS = [
    # title, first name, last name, house, address, postcode
    ("Mrs", "Helen", "Pemberton", "Old Rectory", "Old Rectory\nRiverton", "RV2 7PL"),
    ("Mr", "Robert", "Okonjo", "14", "14 Weaver's Row\nRiverton", "RV1 4QT"),
]


def test_in_the_demo_finance_declares_both_trustees_and_a_claim_leaves_the_undeclared_gift_out(finance):
    from funds.demo import TRUSTEE_PLEDGES, fund_demo_seed
    from funds.models import Donation, GiftAidDeclaration
    from funds.services.gift_aid import gift_aid_claim_prepare, gift_aid_declaration_record
    from funds.services.ledger import financial_year_bounds, financial_year_for

    fund_demo_seed(today=TODAY)
    assert not GiftAidDeclaration.objects.exists()  # the walk-through records them
    start, _ = financial_year_bounds(financial_year_for(TODAY))
    for donor, (title, first, last, house, address, postcode) in zip(
        TRUSTEE_PLEDGES, TRUSTEE_DECLARATIONS, strict=True
    ):
        gift_aid_declaration_record(
            donor=donor, title=title, first_name=first, last_name=last, house=house, address=address,
            postcode=postcode, declared_on=min(start, TODAY), covers_past=True, covers_future=True,
            actor=finance, today=TODAY,
        )  # fmt: skip
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    assert claim.status == GiftAidClaim.Status.PREPARED
    claimed = set(claim.items.values_list("donation__donor", flat=True))
    assert claimed == set(TRUSTEE_PLEDGES)
    undeclared = Donation.objects.filter(donor__startswith="Mrs J. Carter", gift_aid=True)
    assert undeclared.exists()
    assert not GiftAidClaimItem.objects.filter(donation__in=undeclared).exists()


def test_recording_a_sponsored_gift_on_a_declaration_says_it_will_be_claimed(client_for, fund, finance):
    from django.contrib.messages import get_messages

    from funds.models import Donation

    declare(finance, declared_on=datetime.date.today(), today=datetime.date.today())
    response = client_for(finance).post(
        "/finance/donations/new/",
        {
            "fund": fund.pk,
            "donor": DONOR,
            "amount": "50",
            "received_on": datetime.date.today().isoformat(),
            "gift_aid": "on",
            "sponsored": "on",
            "restricted_purpose": "",
            "pledge": "",
        },
    )
    assert response.status_code == 302
    donation = Donation.objects.get()
    assert (donation.gift_aid, donation.sponsored) == (True, True)
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.endswith("A Gift Aid declaration covers it: it will be in the next claim.")
    page = client_for(finance).get(response["Location"]).content.decode()
    assert "Declared: to claim" in page


# --- Gift Aid overclaimed: a gift reversed after its claim went to HMRC ----------------------------


def _claim_sent(finance, *, paid: bool, donation_ids=None):
    claim = gift_aid_claim_prepare(actor=finance, donation_ids=donation_ids, today=TODAY)
    gift_aid_claim_submit(claim=claim, hmrc_reference="CH-1", actor=finance, today=TODAY)
    if paid:
        gift_aid_claim_paid(claim=claim, paid_on=TODAY, actor=finance, today=TODAY)
    claim.refresh_from_db()
    return claim


def _reverse_income(donation, finance):
    entry = LedgerEntry.objects.get(
        source_id=str(donation.pk), kind=LedgerEntry.Kind.INCOME, category="donation"
    )
    fund_entry_reverse(entry=entry, actor=finance, reason="The gift was returned", today=TODAY)


def _gift_aid_income(claim) -> int:
    return sum(
        LedgerEntry.objects.filter(
            source_id=str(claim.pk), kind=LedgerEntry.Kind.INCOME, category="gift_aid"
        ).values_list("amount_pence", flat=True)
    )


@pytest.mark.parametrize("paid", [True, False], ids=["claim-paid", "claim-submitted"])
def test_gift_aid_on_a_gift_reversed_after_its_claim_went_to_hmrc_is_given_back_next(fund, finance, paid):
    from funds.selectors.gift_aid import overclaimed_pence

    declare(finance)
    returned = donate(fund, finance, amount_pence=100_00, received_on=datetime.date(2026, 9, 2))
    first = _claim_sent(finance, paid=paid)
    _reverse_income(returned, finance)
    assert overclaimed_pence() == 25_00

    donate(fund, finance, amount_pence=200_00, received_on=datetime.date(2026, 9, 9))
    second = gift_aid_claim_prepare(actor=finance, today=TODAY)
    assert (second.gift_aid_pence, second.adjustment_pence, second.net_pence) == (50_00, 25_00, 25_00)
    assert GiftAidClaimItem.objects.get(claim=first).adjusted_in == second
    assert overclaimed_pence() == 0
    event = AuditEvent.objects.get(action="gift_aid.claim_prepared", subject_id=str(second.pk))
    assert event.after["adjustment_pence"] == 25_00

    # HMRC pays the difference: that is the fund's income.
    gift_aid_claim_submit(claim=second, hmrc_reference="CH-2", actor=finance, today=TODAY)
    gift_aid_claim_paid(claim=second, paid_on=TODAY, actor=finance, today=TODAY)
    assert _gift_aid_income(second) == 25_00

    # Given back once: a third claim gives nothing back.
    donate(fund, finance, amount_pence=40_00, received_on=datetime.date(2026, 9, 16))
    third = gift_aid_claim_prepare(actor=finance, today=TODAY)
    assert third.adjustment_pence == 0


def test_a_gift_reversed_before_its_claim_went_to_hmrc_is_not_overclaimed(fund, finance):
    from funds.selectors.gift_aid import overclaimed_pence

    declare(finance)
    gift = donate(fund, finance, amount_pence=100_00)
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    gift_aid_claim_withdraw(claim=claim, reason="Wrong batch", actor=finance)
    _reverse_income(gift, finance)
    assert overclaimed_pence() == 0


def test_overclaimed_gift_aid_waits_for_a_claim_big_enough_and_a_withdrawn_claim_frees_it(fund, finance):
    from funds.selectors.gift_aid import overclaimed_pence

    declare(finance)
    returned = donate(fund, finance, amount_pence=400_00, received_on=datetime.date(2026, 9, 2))
    _claim_sent(finance, paid=True)
    _reverse_income(returned, finance)

    small = donate(fund, finance, amount_pence=100_00, received_on=datetime.date(2026, 9, 9))
    claim = gift_aid_claim_prepare(actor=finance, donation_ids=[small.pk], today=TODAY)
    assert claim.adjustment_pence == 0  # £25 of Gift Aid cannot give £100 back: it waits
    assert overclaimed_pence() == 100_00
    gift_aid_claim_withdraw(claim=claim, reason="Add the big gift", actor=finance)

    donate(fund, finance, amount_pence=1_000_00, received_on=datetime.date(2026, 9, 16))
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    assert (claim.gift_aid_pence, claim.adjustment_pence) == (275_00, 100_00)
    gift_aid_claim_withdraw(claim=claim, reason="Not yet", actor=finance)
    claim.refresh_from_db()
    assert claim.adjustment_pence == 0
    assert overclaimed_pence() == 100_00  # free for the next claim again
    assert gift_aid_claim_prepare(actor=finance, today=TODAY).adjustment_pence == 100_00


def test_a_gift_in_a_claim_whose_gift_aid_income_was_reversed_is_not_given_back_again(
    fund, finance, school_a
):
    """HMRC took a paid claim's Gift Aid back (finance reversed the standby fund's Gift Aid income from it):
    a gift of that claim reversed afterwards has no Gift Aid left in the fund to give back, while the
    same claim's other fund still gives back its own reversed gift's."""
    from funds.models import Fund
    from funds.selectors.gift_aid import overclaimed_pence

    hardship = Fund.objects.create(name="Riverside hardship", school=school_a)
    declare(finance)
    returned = donate(fund, finance, amount_pence=100_00, received_on=datetime.date(2026, 9, 2))
    other = donate(hardship, finance, amount_pence=40_00, received_on=datetime.date(2026, 9, 3))
    first = _claim_sent(finance, paid=True)
    income = LedgerEntry.objects.get(
        source_id=str(first.pk), kind=LedgerEntry.Kind.INCOME, category="gift_aid", fund=fund
    )
    fund_entry_reverse(entry=income, actor=finance, reason="HMRC recovered the claim", today=TODAY)
    _reverse_income(returned, finance)
    _reverse_income(other, finance)
    assert overclaimed_pence() == 10_00  # the hardship fund's gift only

    donate(fund, finance, amount_pence=200_00, received_on=datetime.date(2026, 9, 9))
    donate(hardship, finance, amount_pence=200_00, received_on=datetime.date(2026, 9, 10))
    second = gift_aid_claim_prepare(actor=finance, today=TODAY)
    assert (second.gift_aid_pence, second.adjustment_pence) == (100_00, 10_00)
    assert GiftAidClaimItem.objects.get(donation=returned).adjusted_in is None


def test_overclaimed_gift_aid_is_given_back_from_its_own_funds_gift_aid_only(fund, finance, school_a):
    from funds.models import Fund
    from funds.selectors.gift_aid import claim_fund_totals, overclaimed_pence

    hardship = Fund.objects.create(name="Riverside hardship", school=school_a)
    declare(finance)
    returned = donate(fund, finance, amount_pence=100_00, received_on=datetime.date(2026, 9, 2))
    _claim_sent(finance, paid=True)
    _reverse_income(returned, finance)
    other = donate(hardship, finance, amount_pence=1_000_00, received_on=datetime.date(2026, 9, 9))
    claim = gift_aid_claim_prepare(actor=finance, donation_ids=[other.pk], today=TODAY)
    # The standby fund's overclaimed Gift Aid is not taken from the hardship fund's.
    assert claim.adjustment_pence == 0
    assert claim_fund_totals(claim) == [(hardship.pk, 250_00)]
    assert overclaimed_pence() == 25_00


def test_the_claim_page_the_schedule_and_the_api_show_what_is_given_back(client_for, fund, finance):
    declare(finance)
    returned = donate(fund, finance, amount_pence=100_00, received_on=datetime.date(2026, 9, 2))
    first = _claim_sent(finance, paid=True)
    _reverse_income(returned, finance)
    home = client_for(finance).get("/finance/gift-aid/").content.decode()
    assert 'data-testid="overclaimed">£25.00 of Gift Aid was claimed on gifts since reversed' in home

    donate(fund, finance, amount_pence=200_00, received_on=datetime.date(2026, 9, 9))
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    page = client_for(finance).get(f"/finance/gift-aid/claims/{claim.pk}/").content.decode()
    assert "Less Gift Aid overclaimed before" in page
    assert f'href="/finance/gift-aid/claims/{first.pk}/">Claim {first.pk}</a>' in page

    book = load_workbook(io.BytesIO(schedule_xlsx_bytes(claim)))
    assert list(book["Claim"].iter_rows(values_only=True)) == [
        ("Earliest donation date in the period", "09/09/26"),
        ("Adjustment for Gift Aid overclaimed", 25),
    ]

    body = client_for(finance).get(f"/api/v1/gift-aid/claims/{claim.pk}/").json()
    assert (body["gift_aid_pence"], body["adjustment_pence"], body["net_pence"]) == (50_00, 25_00, 25_00)
    assert [(row["claim"], row["donation"]) for row in body["adjustments"]] == [(first.pk, returned.pk)]


def test_the_check_page_says_what_the_claim_will_give_back_and_what_hmrc_pays(client_for, fund, finance):
    declare(finance)
    returned = donate(fund, finance, amount_pence=100_00, received_on=datetime.date(2026, 9, 2))
    _claim_sent(finance, paid=True)
    _reverse_income(returned, finance)
    donate(fund, finance, amount_pence=200_00, received_on=datetime.date(2026, 9, 9))
    page = client_for(finance).get("/finance/gift-aid/claims/new/").content.decode()
    assert "This claim gives back <strong>£25.00</strong> of it" in page
    assert "HMRC pays <strong>£25.00</strong>" in page
    assert "the rest waits" not in page


def test_paying_a_two_fund_claim_gives_back_from_the_right_fund_only(fund, finance, school_a):
    from funds.models import Fund

    hardship = Fund.objects.create(name="Riverside hardship", school=school_a)
    declare(finance)
    returned = donate(fund, finance, amount_pence=100_00, received_on=datetime.date(2026, 9, 2))
    _claim_sent(finance, paid=True)
    _reverse_income(returned, finance)
    donate(fund, finance, amount_pence=200_00, received_on=datetime.date(2026, 9, 9))
    donate(hardship, finance, amount_pence=400_00, received_on=datetime.date(2026, 9, 10))
    claim = gift_aid_claim_prepare(actor=finance, today=TODAY)
    assert (claim.gift_aid_pence, claim.adjustment_pence) == (150_00, 25_00)
    gift_aid_claim_submit(claim=claim, hmrc_reference="CH-2", actor=finance, today=TODAY)
    gift_aid_claim_paid(claim=claim, paid_on=TODAY, actor=finance, today=TODAY)
    per_fund = dict(
        LedgerEntry.objects.filter(source_id=str(claim.pk), category="gift_aid").values_list(
            "fund_id", "amount_pence"
        )
    )
    assert per_fund == {fund.pk: 25_00, hardship.pk: 100_00}


def test_a_claims_gift_aid_income_reversed_while_a_prepared_claim_gives_back_one_of_its_gifts(fund, finance):
    """The other order: a gift of a paid claim is reversed and a new claim (prepared, not yet sent) takes
    its Gift Aid to give back; then HMRC takes the first claim's Gift Aid back and finance reverses that
    income. The prepared claim must not still give the gift's Gift Aid back (HMRC already has it back):
    the reversal is refused until the prepared claim is withdrawn, and the next claim gives nothing back."""
    declare(finance)
    returned = donate(fund, finance, amount_pence=100_00, received_on=datetime.date(2026, 9, 2))
    first = _claim_sent(finance, paid=True)
    _reverse_income(returned, finance)
    donate(fund, finance, amount_pence=200_00, received_on=datetime.date(2026, 9, 9))
    second = gift_aid_claim_prepare(actor=finance, today=TODAY)
    assert second.adjustment_pence == 25_00
    income = LedgerEntry.objects.get(
        source_id=str(first.pk), kind=LedgerEntry.Kind.INCOME, category="gift_aid", fund=fund
    )
    from funds.selectors.gift_aid import overclaimed_pence

    # Refused while the prepared claim gives one of its gifts back: finance withdraws that claim first.
    with pytest.raises(
        ConflictError, match=f"Gift Aid claim {second.pk} gives back Gift Aid from this claim"
    ):
        fund_entry_reverse(entry=income, actor=finance, reason="HMRC recovered the claim", today=TODAY)
    assert not LedgerEntry.objects.filter(reverses=income).exists()
    gift_aid_claim_withdraw(claim=second, reason="HMRC recovered the first claim", actor=finance)
    fund_entry_reverse(entry=income, actor=finance, reason="HMRC recovered the claim", today=TODAY)
    assert overclaimed_pence() == 0
    assert gift_aid_claim_prepare(actor=finance, today=TODAY).adjustment_pence == 0
