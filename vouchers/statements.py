"""Partner charity statements: one partner, one calendar month, the vouchers it redeemed and their totals.

Reads (who sees which partner's statements, a month's redemptions and totals) and the use cases
(generate, preview, record a download, e-mail) live together here. The rule:

- A month is a calendar month in the trust's time zone (a redemption at 23:30 on 31 August, British
  Summer Time, belongs to August), whatever time zone is active for the request.
- A past month's statement is made once and is then final: the PDF is stored with its totals, and
  generating it again returns the one already made (one per partner and month, the database's
  guarantee too). Nothing about a past month can change afterwards: redemptions and cancellations
  are stamped with the time they happen, and expiry is counted by use-by date.
- The current month is not over, so it is only previewed (rendered on request), never stored.

The statement is for the charity's and the trust's accounts: it names no family and holds no case notes.
"""

import datetime
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format

from support import dates
from support.audit import audit_record
from support.dates import month_instants, next_month
from support.errors import SupportError
from support.jobs import enqueue_on_commit
from support.models import PartnerCharity, Service
from support.money import pounds
from support.pdf import render_pdf
from vouchers import codes
from vouchers.models import PartnerStatement, Redemption, Voucher

User = AbstractBaseUser | AnonymousUser

TEMPLATE = "vouchers/pdf/statement.html"
STYLESHEET = "vouchers/pdf/statement.css"

CSV_HEADER = [
    "Date redeemed",
    "Voucher code",
    "Voucher type",
    "Service",
    "Issuing school",
    "Face value (£)",
    "Value given (£)",
]


# --- Months ------------------------------------------------------------------------------------


def trust_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def trust_today() -> datetime.date:
    return timezone.localdate(timezone.now(), trust_tz())


def current_month() -> datetime.date:
    return trust_today().replace(day=1)


def previous_month(month: datetime.date | None = None) -> datetime.date:
    """The month before ``month`` (default: before this one)."""
    return dates.previous_month(month or current_month())


def month_label(month: datetime.date) -> str:
    return date_format(month, "F Y")


def recent_past_months(count: int = 24) -> list[datetime.date]:
    """The last ``count`` finished months, latest first (what can be produced on demand)."""
    months = [previous_month()]
    while len(months) < count:
        months.append(previous_month(months[-1]))
    return months


def _check_month(month: datetime.date) -> None:
    if month.day != 1:
        raise ValueError(f"A statement month is given by its first day, not {month.isoformat()}")


# --- Selectors ---------------------------------------------------------------------------------


def statement_redemptions(*, partner: PartnerCharity, month: datetime.date) -> QuerySet:
    """The month's redemptions at ``partner`` as plain rows, oldest first: only what a statement shows."""
    start, end = month_instants(month)
    return (
        Redemption.objects.filter(partner=partner, redeemed_at__gte=start, redeemed_at__lt=end)
        .order_by("redeemed_at", "pk")
        .values_list(
            "redeemed_at",
            "voucher__code",
            "voucher__voucher_type__name",
            "voucher__voucher_type__service",
            "voucher__school__name",
            "voucher__face_value_pence",
            "value_pence",
        )
    )


@dataclass(frozen=True)
class ServiceTotal:
    service: str
    label: str
    count: int
    face_value_pence: int
    value_given_pence: int
    values_recorded: int


@dataclass(frozen=True)
class StatementSummary:
    partner: PartnerCharity
    month: datetime.date
    count: int
    face_value_pence: int
    value_given_pence: int
    values_recorded: int
    expired_count: int
    cancelled_count: int
    services: list[ServiceTotal] = field(default_factory=list)
    # The last day counted, for a month not yet over (a preview); None for a finished month.
    so_far: datetime.date | None = None

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def first_day(self) -> datetime.date:
        return self.month

    @property
    def last_day(self) -> datetime.date:
        return next_month(self.month) - datetime.timedelta(days=1)

    @property
    def final_on(self) -> datetime.date:
        """When the month's statement can be made (the day after its last)."""
        return next_month(self.month)


def statement_summary(*, partner: PartnerCharity, month: datetime.date) -> StatementSummary:
    """The month's totals for ``partner``, per service and overall, aggregated in the database."""
    _check_month(month)
    start, end = month_instants(month)
    today = trust_today()
    rows = (
        Redemption.objects.filter(partner=partner, redeemed_at__gte=start, redeemed_at__lt=end)
        .values("voucher__voucher_type__service")
        .annotate(
            count=Count("pk"),
            face=Sum("voucher__face_value_pence"),
            given=Sum("value_pence"),
            recorded=Count("value_pence"),
        )
        .order_by("voucher__voucher_type__service")
    )
    labels = dict(Service.choices)
    services = [
        ServiceTotal(
            service=row["voucher__voucher_type__service"],
            label=labels.get(row["voucher__voucher_type__service"], row["voucher__voucher_type__service"]),
            count=row["count"],
            face_value_pence=row["face"] or 0,
            value_given_pence=row["given"] or 0,
            values_recorded=row["recorded"],
        )
        for row in rows
    ]
    services.sort(key=lambda s: s.label)
    # Expired: use-by date in the month and never redeemed or cancelled (the nightly expiry may not have
    # marked the last ones yet; they are expired all the same). Only days already past count.
    expired_until = min(next_month(month), today)
    lost = Voucher.objects.filter(voucher_type__partner=partner).aggregate(
        expired=Count(
            "pk",
            filter=Q(
                state__in=[Voucher.State.EXPIRED, Voucher.State.ISSUED],
                expires_on__gte=month,
                expires_on__lt=expired_until,
            ),
        ),
        cancelled=Count(
            "pk",
            filter=Q(state=Voucher.State.CANCELLED, cancelled_at__gte=start, cancelled_at__lt=end),
        ),
    )
    return StatementSummary(
        partner=partner,
        month=month,
        count=sum(s.count for s in services),
        face_value_pence=sum(s.face_value_pence for s in services),
        value_given_pence=sum(s.value_given_pence for s in services),
        values_recorded=sum(s.values_recorded for s in services),
        expired_count=lost["expired"],
        cancelled_count=lost["cancelled"],
        services=services,
        so_far=today if month == today.replace(day=1) else None,
    )


# --- Other sections: what other apps give through the same partner (deliveries) ----------------


@dataclass(frozen=True)
class StatementSection:
    """A part of the statement another app adds beside the counter's redemptions (e.g. deliveries):
    its rows as plain text cells (the first a date), and its count and value for the total line."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    count: int
    value_pence: int
    empty: str = "None."


_SECTIONS: dict[str, Callable[..., StatementSection | None]] = {}


def register_statement_section(name: str, section: Callable[..., StatementSection | None]) -> None:
    """``section(partner=, month=)`` returns the month's section for the partner, or None to leave it out.
    Registered at start-up by the app that owns the rows; vouchers never imports it."""
    _SECTIONS[name] = section


def statement_sections(*, partner: PartnerCharity, month: datetime.date) -> list[StatementSection]:
    found = (section(partner=partner, month=month) for section in _SECTIONS.values())
    return [s for s in found if s is not None]


# --- Rendering ---------------------------------------------------------------------------------


def _rows_for_pdf(partner: PartnerCharity, month: datetime.date) -> Iterator[dict]:
    tz = trust_tz()
    labels = dict(Service.choices)
    for at, code, type_name, service, school, face, given in statement_redemptions(
        partner=partner, month=month
    ).iterator(chunk_size=500):
        yield {
            "date": timezone.localtime(at, tz).date(),
            "code": codes.display(code),
            "voucher": type_name,
            "service": labels.get(service, service),
            "school": school,
            "face_value_pence": face,
            "value_given_pence": given,
        }


def statement_render_pdf(summary: StatementSummary, *, generated_at: datetime.datetime) -> bytes:
    """The statement as an A4 PDF: the partner, the month, totals per service and overall, every row."""
    partner = summary.partner
    return render_pdf(
        TEMPLATE,
        {
            "trust_name": settings.TRUST_NAME,
            "partner": partner,
            "summary": summary,
            "rows": _rows_for_pdf(partner, summary.month),
            "sections": statement_sections(partner=partner, month=summary.month),
            "generated_at": timezone.localtime(generated_at, trust_tz()),
            "reference": statement_reference(partner, summary.month),
        },
        stylesheet=STYLESHEET,
        cache_key=f"statement:{partner.pk}:{summary.month:%Y-%m}",
    )


def statement_reference(partner: PartnerCharity, month: datetime.date) -> str:
    return f"ST-{partner.pk:04d}-{month:%Y-%m}"


def statement_csv_rows(*, partner: PartnerCharity, month: datetime.date) -> Iterator[list]:
    """The CSV's rows, header first, then one row per redemption (iterated, not loaded), then totals.

    Cells are raw: the door passes each row through ``safe_row`` as it writes it.
    """
    _check_month(month)
    tz = trust_tz()
    labels = dict(Service.choices)
    yield CSV_HEADER
    for at, code, type_name, service, school, face, given in statement_redemptions(
        partner=partner, month=month
    ).iterator(chunk_size=500):
        yield [
            timezone.localtime(at, tz).strftime("%d/%m/%Y %H:%M"),
            codes.display(code),
            type_name,
            labels.get(service, service),
            school,
            pounds(face, symbol=False),
            pounds(given, symbol=False),
        ]
    summary = statement_summary(partner=partner, month=month)
    yield []
    for total in summary.services:
        yield [
            f"Total: {total.label}",
            _vouchers(total.count),
            "",
            "",
            "",
            pounds(total.face_value_pence, symbol=False),
            pounds(total.value_given_pence, symbol=False),
        ]
    yield [
        "Total",
        _vouchers(summary.count),
        "",
        "",
        "",
        pounds(summary.face_value_pence, symbol=False),
        pounds(summary.value_given_pence, symbol=False),
    ]
    yield ["Expired unredeemed", _vouchers(summary.expired_count)]
    yield ["Cancelled by the school", _vouchers(summary.cancelled_count)]
    for section in statement_sections(partner=partner, month=month):
        yield []
        yield [section.title]
        yield section.headers
        yield from section.rows
        total = pounds(section.value_pence, symbol=False)
        yield [f"Total: {section.title}", str(section.count), "", "", total]


def _vouchers(count: int) -> str:
    return f"{count} voucher{'' if count == 1 else 's'}"


# --- Use cases ---------------------------------------------------------------------------------


def statement_generate(
    *,
    partner: PartnerCharity,
    month: datetime.date,
    actor: AbstractBaseUser | None = None,
    notify: bool = False,
) -> PartnerStatement:
    """Make and store ``partner``'s statement for the finished ``month`` (its first day); audited.

    Idempotent: when the statement already exists it is returned unchanged, so a retried task or a
    second click makes no other. The current or a future month is refused (SupportError): a month
    still running can only be previewed. With ``notify`` (the monthly task), a newly made statement
    is e-mailed to the partner's address after commit, when it has one.
    """
    _check_month(month)
    if month >= current_month():
        if month == current_month():
            raise SupportError(
                f"{month_label(month)} is not over yet. You can preview it; its statement can be made "
                f"from {date_format(next_month(month), 'j F Y')}.",
                field="month",
                code="month_not_over",
            )
        raise SupportError("Choose a month that is over.", field="month", code="future_month")
    existing = PartnerStatement.objects.filter(partner=partner, month=month).first()
    if existing is not None:
        return existing

    # Rendered before the transaction opens, so no row lock or transaction is held while WeasyPrint works.
    generated_at = timezone.now()
    summary = statement_summary(partner=partner, month=month)
    pdf = statement_render_pdf(summary, generated_at=generated_at)
    with transaction.atomic():
        try:
            with transaction.atomic():
                statement = PartnerStatement.objects.create(
                    partner=partner,
                    month=month,
                    voucher_count=summary.count,
                    face_value_pence=summary.face_value_pence,
                    value_given_pence=summary.value_given_pence,
                    expired_count=summary.expired_count,
                    cancelled_count=summary.cancelled_count,
                    pdf=pdf,
                    generated_at=generated_at,
                    generated_by=actor if actor is not None and actor.is_authenticated else None,
                )
        except IntegrityError:
            # Someone else made it in the meantime (a concurrent click or a redelivered task): theirs stands.
            return PartnerStatement.objects.get(partner=partner, month=month)
        audit_record(
            actor=actor,
            action="statement.generated",
            subject=statement,
            after={
                "partner": partner.pk,
                "month": month,
                "voucher_count": summary.count,
                "face_value_pence": summary.face_value_pence,
                "expired_count": summary.expired_count,
                "cancelled_count": summary.cancelled_count,
            },
        )
        if notify and partner.email:
            enqueue_on_commit("vouchers.send_statement", statement.pk)
    return statement


def statement_generate_monthly(*, month: datetime.date | None = None) -> int:
    """Last month's statement (or ``month``'s) for every active partner; returns how many were made.

    Each partner's statement commits on its own, so after a crash a retry carries on where it stopped.
    """
    month = month or previous_month()
    made = 0
    for partner in PartnerCharity.objects.filter(is_active=True).order_by("pk"):
        if PartnerStatement.objects.filter(partner=partner, month=month).exists():
            continue
        statement_generate(partner=partner, month=month, notify=True)
        made += 1
    return made


def statement_preview_pdf(*, partner: PartnerCharity, month: datetime.date) -> bytes:
    """The current month so far, rendered now and never stored."""
    _check_month(month)
    if month != current_month():
        raise SupportError("Only the current month can be previewed.", field="month", code="not_current")
    return statement_render_pdf(statement_summary(partner=partner, month=month), generated_at=timezone.now())


def statement_record_download(
    *,
    actor: AbstractBaseUser,
    partner: PartnerCharity,
    month: datetime.date,
    file_format: str,
    statement: PartnerStatement | None = None,
) -> None:
    """Audit a download: a stored statement, or a month's CSV or preview made on the fly."""
    audit_record(
        actor=actor,
        action="statement.downloaded",
        subject=statement if statement is not None else partner,
        after={
            "partner": partner.pk,
            "month": f"{month:%Y-%m}",
            "format": file_format,
            "preview": month == current_month(),
        },
    )


@transaction.atomic
def statement_send(*, statement_id: int) -> str:
    """E-mail a stored statement (PDF attached) to its partner's address, once; audited.

    The statement's row is locked while it is sent, so two deliveries of the task at once send once.
    """
    statement = (
        PartnerStatement.objects.select_for_update(of=("self",))
        .select_related("partner")
        .get(pk=statement_id)
    )
    partner = statement.partner
    if statement.emailed_at is not None:
        return "already-sent"
    if not partner.email:
        return "no-address"
    label = month_label(statement.month)
    body = (
        f"Dear {partner.name},\n\n"
        f"Your statement of the {settings.TRUST_NAME}'s vouchers redeemed in {label} is attached.\n\n"
        f"Vouchers redeemed: {statement.voucher_count}\n"
        f"Face value: {pounds(statement.face_value_pence)}\n\n"
        f"You can also download it, and a CSV of the same figures, from TrustSupport: "
        f"{settings.SITE_URL}/statements/\n"
    )
    email = EmailMessage(
        subject=f"{settings.TRUST_NAME}: voucher statement for {label}", body=body, to=[partner.email]
    )
    email.attach(
        f"statement-{statement_reference(partner, statement.month)}.pdf",
        bytes(statement.pdf),
        "application/pdf",
    )
    email.send()
    # Marked after sending: a crash in between may send it twice, but never loses it.
    PartnerStatement.objects.filter(pk=statement.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    audit_record(actor=None, action="statement.emailed", subject=statement, after={"to": partner.email})
    return "sent"
