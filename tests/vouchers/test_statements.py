"""Partner statements: one partner, one calendar month (UK time), made once, previewed while running."""

import csv
import datetime
import io
import zoneinfo

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from pypdf import PdfReader

from support.errors import SupportError
from support.models import AuditEvent, Service
from tests.factories import PartnerFactory
from vouchers import statements
from vouchers.models import PartnerStatement, Redemption, Voucher, VoucherType
from vouchers.services import voucher_cancel, voucher_redeem
from vouchers.tasks import monthly_statements

LONDON = zoneinfo.ZoneInfo("Europe/London")


def uk(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=LONDON)


def pdf_text(data: bytes) -> str:
    """The text of every page, with line breaks (a table cell's wrapping) read as spaces."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def csv_text(response) -> str:
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_text(response))))


def last_august() -> datetime.date:
    """A finished summer month (British Summer Time) whatever today is."""
    return datetime.date(statements.trust_today().year - 1, 8, 1)


@pytest.fixture(autouse=True)
def _many_vouchers_per_family(food_type, other_food_type):
    # These tests give one family many vouchers; the per-family limit is not what they are about.
    VoucherType.objects.filter(pk__in=[food_type.pk, other_food_type.pk]).update(limit_count=100)
    food_type.refresh_from_db()
    other_food_type.refresh_from_db()


@pytest.fixture
def goods_type(partner_1):
    return VoucherType.objects.create(
        partner=partner_1,
        service=Service.WHITE_GOODS,
        name="Washing machine",
        face_value_pence=150_00,
        limit_count=100,
    )


@pytest.fixture
def redeem(partner_1, charity_staff, other_charity_staff):
    """``redeem(voucher, at, value_pence=None)``: redeemed at its own partner, then moved to ``at``."""

    def make(voucher: Voucher, at: datetime.datetime, value_pence: int | None = None) -> Redemption:
        partner = voucher.voucher_type.partner
        staff = charity_staff if partner == partner_1 else other_charity_staff
        redemption = voucher_redeem(
            voucher=voucher, partner=partner, redeemed_by=staff, value_pence=value_pence
        )
        Redemption.objects.filter(pk=redemption.pk).update(redeemed_at=at)
        return redemption

    return make


def statement_url(kind: str, partner, month: datetime.date) -> str:
    return reverse(f"statement_{kind}", args=[partner.pk, month.year, month.month])


# --- The month and its totals ------------------------------------------------------------------


def test_it_counts_a_redemption_late_on_the_last_day_of_summer_time_in_that_month(
    issue, family_a, food_type, partner_1, redeem
):
    august = last_august()
    late = redeem(issue(family_a, food_type), uk(august.year, 8, 31, 23, 30))  # 22:30 UTC
    early = redeem(issue(family_a, food_type), uk(august.year, 9, 1, 0, 30))  # still 31 August in UTC
    redeem(issue(family_a, food_type), uk(august.year, 8, 1, 0, 5))  # 31 July 23:05 UTC

    # Whatever time zone a request has activated, months are the trust's.
    with timezone.override("UTC"):
        rows = list(statements.statement_redemptions(partner=partner_1, month=august))
        aug = statements.statement_summary(partner=partner_1, month=august)
        sep = statements.statement_summary(partner=partner_1, month=datetime.date(august.year, 9, 1))

    assert [row[1] for row in rows][-1] == late.voucher.code
    assert early.voucher.code not in [row[1] for row in rows]
    assert aug.count == 2
    assert sep.count == 1


def test_it_totals_per_service_and_overall_with_the_value_given_where_recorded(
    issue, family_a, food_type, goods_type, partner_1, redeem
):
    august = last_august()
    redeem(issue(family_a, food_type), uk(august.year, 8, 3, 10), value_pence=24_00)
    redeem(issue(family_a, food_type), uk(august.year, 8, 4, 10))
    redeem(issue(family_a, goods_type), uk(august.year, 8, 5, 10), value_pence=140_00)

    summary = statements.statement_summary(partner=partner_1, month=august)

    by_service = {s.service: s for s in summary.services}
    assert by_service["food_parcel"].count == 2
    assert by_service["food_parcel"].face_value_pence == 50_00
    assert by_service["food_parcel"].value_given_pence == 24_00
    assert by_service["food_parcel"].values_recorded == 1
    assert by_service["white_goods"].label == "White goods"
    assert by_service["white_goods"].face_value_pence == 150_00
    assert (summary.count, summary.face_value_pence, summary.value_given_pence) == (3, 200_00, 164_00)


def test_it_includes_only_that_partners_vouchers(
    issue, family_a, food_type, other_food_type, partner_1, partner_2, redeem
):
    august = last_august()
    ours = redeem(issue(family_a, food_type), uk(august.year, 8, 10, 12))
    theirs = redeem(issue(family_a, other_food_type), uk(august.year, 8, 10, 12))

    codes = [row[1] for row in statements.statement_redemptions(partner=partner_1, month=august)]
    summary = statements.statement_summary(partner=partner_1, month=august)

    assert codes == [ours.voucher.code]
    assert theirs.voucher.code not in codes
    assert summary.face_value_pence == 25_00


def test_it_counts_vouchers_expired_unredeemed_and_cancelled_in_the_month(
    issue, family_a, food_type, other_food_type, partner_1, pastoral_a
):
    august = last_august()
    expired = issue(family_a, food_type)
    not_marked_yet = issue(family_a, food_type)  # past its date, the nightly expiry has not got to it
    expired_in_july = issue(family_a, food_type)
    other_partner = issue(family_a, other_food_type)
    Voucher.objects.filter(pk=expired.pk).update(
        state="expired", expires_on=datetime.date(august.year, 8, 31)
    )
    Voucher.objects.filter(pk=not_marked_yet.pk).update(expires_on=datetime.date(august.year, 8, 1))
    Voucher.objects.filter(pk=expired_in_july.pk).update(
        state="expired", expires_on=datetime.date(august.year, 7, 31)
    )
    Voucher.objects.filter(pk=other_partner.pk).update(
        state="expired", expires_on=datetime.date(august.year, 8, 9)
    )
    cancelled = voucher_cancel(voucher=issue(family_a, food_type), actor=pastoral_a, reason="Issued twice")
    Voucher.objects.filter(pk=cancelled.pk).update(cancelled_at=uk(august.year, 8, 31, 23, 59))

    summary = statements.statement_summary(partner=partner_1, month=august)

    assert (summary.expired_count, summary.cancelled_count, summary.count) == (2, 1, 0)


# --- Generation --------------------------------------------------------------------------------


def test_it_makes_a_past_months_statement_once_and_keeps_it(
    issue, family_a, food_type, partner_1, redeem, finance
):
    august = last_august()
    redeem(issue(family_a, food_type), uk(august.year, 8, 3, 10), value_pence=20_00)

    statement = statements.statement_generate(partner=partner_1, month=august, actor=finance)
    # A later redemption cannot reach August; even if the data changed, the statement made stands.
    Redemption.objects.update(value_pence=1)
    again = statements.statement_generate(partner=partner_1, month=august)

    assert again.pk == statement.pk
    assert PartnerStatement.objects.count() == 1
    assert (statement.voucher_count, statement.face_value_pence, statement.value_given_pence) == (
        1,
        25_00,
        20_00,
    )
    assert statement.generated_by == finance
    event = AuditEvent.objects.get(action="statement.generated")
    assert event.actor == finance
    assert event.after["voucher_count"] == 1
    assert bytes(again.pdf) == bytes(statement.pdf)


def test_it_allows_one_statement_per_partner_and_month_in_the_database(partner_1):
    august = last_august()
    statements.statement_generate(partner=partner_1, month=august)
    with pytest.raises(IntegrityError), transaction.atomic():
        PartnerStatement.objects.create(
            partner=partner_1,
            month=august,
            voucher_count=0,
            face_value_pence=0,
            value_given_pence=0,
            expired_count=0,
            cancelled_count=0,
            pdf=b"",
            generated_at=timezone.now(),
        )


def test_it_refuses_to_store_the_current_or_a_future_month(partner_1):
    this_month = statements.current_month()
    with pytest.raises(SupportError, match="not over yet"):
        statements.statement_generate(partner=partner_1, month=this_month)
    with pytest.raises(SupportError):
        statements.statement_generate(partner=partner_1, month=statements.next_month(this_month))
    with pytest.raises(ValueError, match="first day"):
        statements.statement_generate(partner=partner_1, month=datetime.date(2025, 8, 2))
    assert not PartnerStatement.objects.exists()


def test_it_prints_the_statement_as_an_a4_pdf_for_accounts(
    issue, family_a, food_type, goods_type, partner_1, redeem, settings
):
    settings.TRUST_NAME = "Riverside Academies Trust"
    partner_1.address = "The Old Chapel\n4 Wharf Street, Riverton"
    partner_1.postcode = "RV1 2QP"
    partner_1.save()
    august = last_august()
    food = redeem(issue(family_a, food_type), uk(august.year, 8, 3, 10), value_pence=24_00)
    redeem(issue(family_a, goods_type), uk(august.year, 8, 31, 23, 30))

    statement = statements.statement_generate(partner=partner_1, month=august)
    reader = PdfReader(io.BytesIO(bytes(statement.pdf)))
    text = pdf_text(bytes(statement.pdf))
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)

    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)
    for expected in (
        "Riverside Academies Trust",
        "First Food Bank",
        "4 Wharf Street, Riverton",
        "RV1 2QP",
        f"August {august.year}",
        food.voucher.display_code,
        f"3 Aug {august.year}",
        f"31 Aug {august.year}",
        "Alpha Primary Academy",
        "Washing machine",
        "White goods",
        "£175.00",  # face value, overall
        "£24.00",
        "not recorded",
        date_format(statements.trust_today(), "j F Y"),  # made today
    ):
        assert expected in text, expected
    # Nothing about the family: not the carer's name, not the case notes.
    assert "Anna Able" not in text
    assert "Alfie" not in text


def test_it_makes_last_months_statement_for_every_active_partner_once(
    eager, django_capture_on_commit_callbacks, issue, family_a, food_type, partner_1, partner_2, redeem
):
    partner_1.email = "accounts@first.example"
    partner_1.save()
    PartnerFactory(name="Closed Charity", is_active=False)
    last_month = statements.previous_month()
    redeem(
        issue(family_a, food_type), datetime.datetime.combine(last_month, datetime.time(12), tzinfo=LONDON)
    )

    with django_capture_on_commit_callbacks(execute=True):
        made = monthly_statements.delay().get()
    with django_capture_on_commit_callbacks(execute=True):
        made_again = monthly_statements.delay().get()

    assert (made, made_again) == (2, 0)
    assert sorted(PartnerStatement.objects.values_list("partner__name", "month", "voucher_count")) == [
        ("First Food Bank", last_month, 1),
        ("Second Food Bank", last_month, 0),
    ]
    # E-mailed once, to the partner that has an address; the other has none, so nothing is sent.
    assert [m.to for m in mail.outbox] == [["accounts@first.example"]]
    assert mail.outbox[0].attachments[0][2] == "application/pdf"
    assert PartnerStatement.objects.get(partner=partner_1).emailed_at is not None
    assert AuditEvent.objects.filter(action="statement.generated", actor=None).count() == 2


def test_it_does_not_email_a_statement_twice(partner_1, django_capture_on_commit_callbacks):
    partner_1.email = "accounts@first.example"
    partner_1.save()
    statement = statements.statement_generate(partner=partner_1, month=last_august())

    assert statements.statement_send(statement_id=statement.pk) == "sent"
    assert statements.statement_send(statement_id=statement.pk) == "already-sent"
    assert len(mail.outbox) == 1


# --- Pages -------------------------------------------------------------------------------------


def test_it_makes_a_statement_on_demand_for_a_past_month(
    client_for, charity_staff, issue, family_a, food_type, partner_1, redeem
):
    last_month = statements.previous_month()
    redeem(issue(family_a, food_type), datetime.datetime.combine(last_month, datetime.time(9), tzinfo=LONDON))
    client = client_for(charity_staff)

    page = client.get(reverse("statement_list"))
    assert f"{last_month:%Y-%m}" in page.content.decode()  # offered
    response = client.post(
        reverse("statement_list"), {"partner": partner_1.pk, "month": f"{last_month:%Y-%m}"}
    )
    assert response.status_code == 302
    client.post(reverse("statement_list"), {"partner": partner_1.pk, "month": f"{last_month:%Y-%m}"})

    statement = PartnerStatement.objects.get()
    assert (statement.partner, statement.month, statement.voucher_count) == (partner_1, last_month, 1)
    assert statement.generated_by == charity_staff
    page = client.get(reverse("statement_list")).content.decode()
    assert statement_url("pdf", partner_1, last_month) in page
    assert statement_url("csv", partner_1, last_month) in page
    # Once made, the month is no longer offered to make.
    assert f'value="{last_month:%Y-%m}"' not in page


def test_it_will_not_make_a_statement_for_another_charity_or_the_current_month(
    client_for, charity_staff, partner_1, partner_2
):
    client = client_for(charity_staff)
    this_month = statements.current_month()

    other = client.post(reverse("statement_list"), {"partner": partner_2.pk, "month": "2025-08"})
    current = client.post(
        reverse("statement_list"), {"partner": partner_1.pk, "month": f"{this_month:%Y-%m}"}
    )

    assert other.status_code == 400
    assert current.status_code == 400
    assert not PartnerStatement.objects.exists()


def test_it_previews_the_current_month_without_storing_it(
    client_for, charity_staff, voucher, partner_1, redeem
):
    redeem(voucher, timezone.now())
    this_month = statements.current_month()
    client = client_for(charity_staff)

    page = client.get(reverse("statement_list")).content.decode()
    response = client.get(statement_url("pdf", partner_1, this_month))

    assert statement_url("pdf", partner_1, this_month) in page
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Preview" in text
    assert voucher.display_code in text
    assert not PartnerStatement.objects.exists()
    event = AuditEvent.objects.get(action="statement.downloaded")
    assert event.after == {
        "partner": partner_1.pk,
        "month": f"{this_month:%Y-%m}",
        "format": "pdf",
        "preview": True,
    }


def test_it_serves_the_stored_pdf_and_audits_the_download(client_for, finance, partner_1):
    august = last_august()
    statement = statements.statement_generate(partner=partner_1, month=august)

    response = client_for(finance).get(statement_url("pdf", partner_1, august))

    assert response.status_code == 200
    assert response.content == bytes(statement.pdf)
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="statement.downloaded")
    assert (event.actor, event.subject_id, event.after["format"]) == (finance, str(statement.pk), "pdf")


def test_it_answers_404_for_a_month_with_no_statement_or_not_yet_begun(client_for, finance, partner_1):
    client = client_for(finance)
    future = statements.next_month(statements.current_month())

    assert client.get(statement_url("pdf", partner_1, last_august())).status_code == 404
    assert client.get(statement_url("pdf", partner_1, future)).status_code == 404
    assert client.get(statement_url("csv", partner_1, future)).status_code == 404
    assert client.get(f"/statements/{partner_1.pk}/2025-13.pdf").status_code == 404


def test_it_writes_the_csv_row_by_row_with_totals_and_no_family(
    client_for, charity_staff, issue, family_a, food_type, goods_type, partner_1, redeem
):
    august = last_august()
    first = redeem(issue(family_a, food_type), uk(august.year, 8, 31, 23, 30), value_pence=24_00)
    goods = redeem(issue(family_a, goods_type), uk(august.year, 8, 2, 9, 15))

    response = client_for(charity_staff).get(statement_url("csv", partner_1, august))

    assert response.status_code == 200
    assert response.streaming
    assert f"ST-{partner_1.pk:04d}-{august:%Y-%m}.csv" in response["Content-Disposition"]
    text = csv_text(response)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == statements.CSV_HEADER
    assert rows[1] == [
        f"02/08/{august.year} 09:15",
        goods.voucher.display_code,
        "Washing machine",
        "White goods",
        "Alpha Primary Academy",
        "150.00",
        "",
    ]
    assert rows[2] == [
        f"31/08/{august.year} 23:30",
        first.voucher.display_code,
        "Food parcel",
        "Food parcel",
        "Alpha Primary Academy",
        "25.00",
        "24.00",
    ]
    assert ["Total: Food parcel", "1 voucher", "", "", "", "25.00", "24.00"] in rows
    assert ["Total", "2 vouchers", "", "", "", "175.00", "24.00"] in rows
    assert ["Expired unredeemed", "0 vouchers"] in rows
    assert "Anna Able" not in text
    assert AuditEvent.objects.get(action="statement.downloaded").after["format"] == "csv"


def test_it_guards_csv_cells_against_formulas(
    client_for, charity_staff, issue, family_a, food_type, school_a, partner_1, redeem
):
    school_a.name = '=HYPERLINK("http://evil.example")'
    school_a.save()
    august = last_august()
    redeem(issue(family_a, food_type), uk(august.year, 8, 5, 12))

    rows = csv_rows(client_for(charity_staff).get(statement_url("csv", partner_1, august)))

    assert rows[1][4] == '\'=HYPERLINK("http://evil.example")'


# --- Who sees what -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "list_status", "own_pdf", "own_csv"),
    [
        ("charity_staff", 200, 200, 200),
        ("other_charity_staff", 200, 404, 404),
        ("finance", 200, 200, 200),
        ("admin", 200, 200, 200),
        ("pastoral_a", 403, 403, 403),
        ("lead_a", 403, 403, 403),
        ("no_role", 403, 403, 403),
    ],
)
def test_it_shows_a_partners_statements_only_to_its_staff_and_finance(
    request, client_for, partner_1, persona, list_status, own_pdf, own_csv
):
    august = last_august()
    statements.statement_generate(partner=partner_1, month=august)
    client = client_for(request.getfixturevalue(persona))

    assert client.get(reverse("statement_list")).status_code == list_status
    assert client.get(statement_url("pdf", partner_1, august)).status_code == own_pdf
    assert client.get(statement_url("csv", partner_1, august)).status_code == own_csv
    assert client.get(statement_url("pdf", partner_1, statements.current_month())).status_code == own_pdf


def test_it_signs_in_before_anything(client, partner_1):
    assert client.get(reverse("statement_list")).status_code == 302
    assert client.get(statement_url("csv", partner_1, last_august())).status_code == 302


def test_it_lists_only_the_charitys_own_statements(
    client_for, charity_staff, other_charity_staff, partner_1, partner_2
):
    august = last_august()
    statements.statement_generate(partner=partner_1, month=august)
    statements.statement_generate(partner=partner_2, month=august)

    own = client_for(charity_staff).get(reverse("statement_list")).content.decode()
    other = client_for(other_charity_staff).get(reverse("statement_list")).content.decode()

    assert statement_url("pdf", partner_1, august) in own
    assert statement_url("pdf", partner_2, august) not in own
    assert statement_url("pdf", partner_2, august) in other
    assert statement_url("pdf", partner_1, august) not in other


def test_it_lets_finance_see_every_partner_and_filter_by_one(client_for, finance, partner_1, partner_2):
    august = last_august()
    statements.statement_generate(partner=partner_1, month=august)
    statements.statement_generate(partner=partner_2, month=august)
    client = client_for(finance)

    everyone = client.get(reverse("statement_list")).content.decode()
    filtered = client.get(reverse("statement_list"), {"partner": partner_2.pk}).content.decode()

    assert statement_url("pdf", partner_1, august) in everyone
    assert statement_url("pdf", partner_2, august) in everyone
    assert statement_url("pdf", partner_2, august) in filtered
    assert statement_url("pdf", partner_1, august) not in filtered
    assert statement_url("pdf", partner_2, statements.current_month()) in filtered  # the preview


def test_it_shows_statements_in_the_navigation_to_charity_and_finance_only(
    client_for, charity_staff, finance, pastoral_a
):
    assert 'href="/statements/"' in client_for(charity_staff).get("/").content.decode()
    assert 'href="/statements/"' in client_for(finance).get("/").content.decode()
    assert 'href="/statements/"' not in client_for(pastoral_a).get("/").content.decode()


def test_it_keeps_the_list_queries_flat(client_for, finance, partner_1, django_assert_max_num_queries):
    PartnerStatement.objects.bulk_create(
        PartnerStatement(
            partner=PartnerFactory(),
            month=last_august(),
            voucher_count=n,
            face_value_pence=n * 100,
            value_given_pence=0,
            expired_count=0,
            cancelled_count=0,
            pdf=b"%PDF",
            generated_at=timezone.now(),
        )
        for n in range(20)
    )
    client = client_for(finance)
    client.get(reverse("statement_list"))  # warm the session and scope

    with django_assert_max_num_queries(12):
        response = client.get(reverse("statement_list"))
    assert response.status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(reverse("statement_list"), {"partner": partner_1.pk}).status_code == 200
