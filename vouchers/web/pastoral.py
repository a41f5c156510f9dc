"""Pastoral pages: issue a voucher from a family's page, find vouchers, cancel, extend, send, export.

Every queryset starts from a selector (``vouchers_visible_to``, ``families_visible_to``); every write
goes through a service. Out of scope is a 404, a role without the permission a 403.
"""

from collections.abc import Iterator
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from support import selectors as support_selectors
from support.access import requires
from support.audit import audit_record
from support.confirm import confirm_page, confirmed
from support.consents import consented_partner_ids
from support.contacts import family_recipient
from support.csv_safe import stream_csv
from support.errors import SupportError
from support.filters import page_filterset
from support.forms import form_error_from
from support.http import site_url
from support.models import Family, School, Service
from support.money import pounds
from support.paging import ListPaginator
from support.people import person_name
from support.permissions import has_perm
from support.scopes import scope_for
from support.visibility import can_see, visible_names
from vouchers import selectors
from vouchers.filters import VoucherFilterSet
from vouchers.forms import (
    VoucherCancelForm,
    VoucherExtendForm,
    VoucherIssueForm,
    VoucherSendForm,
)
from vouchers.models import Delivery, Voucher, VoucherSend
from vouchers.services import (
    voucher_cancel,
    voucher_extend,
    voucher_issue,
    voucher_limit_overridable_by,
    voucher_refusal,
    voucher_send_request,
)
from vouchers.transitions import VOUCHER_FLOW

PAGE_SIZE = 25


def url_or_path(name: str, fallback: str, *args: object) -> str:
    """Link to a page another module serves, by name once it exists, by its agreed path until then."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def pdf_url(voucher: Voucher) -> str:
    return url_or_path("voucher_pdf", f"/vouchers/{voucher.pk}/pdf/", voucher.pk)


def window_label(days: int) -> str:
    """A rolling window as people say it: 183 → '6 months', 28 → '4 weeks', 365 → '12 months'."""
    if days % 7 == 0 and days <= 70:
        weeks = days // 7
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    months = round(days / 30.44)
    if months >= 1 and abs(days - months * 30.44) <= 3:
        return f"{months} month{'s' if months != 1 else ''}"
    return f"{days} days"


# Consent is per partner, so a refusal belongs beside the voucher type (whose partner it names).
FORM_FIELDS = {"consent": "voucher_type"}


# --- Issue -----------------------------------------------------------------------------------


def _issuing_schools(request: HttpRequest, family: Family) -> list[School]:
    """The schools the user works at that have one of the family's pupils on their roll."""
    return list(support_selectors.family_schools_visible_to(request.user, family))


def _can_override(request: HttpRequest, schools: list[School]) -> bool:
    return voucher_limit_overridable_by(request.user, schools)


def _deliveries(family: Family) -> list[tuple[str, str]]:
    """The ways this family can get a voucher: always printed, and sent where it has an address."""
    ways = [(Delivery.PRINT.value, "Print it to hand to the family (nothing is sent)")]
    # Only to a contact with parental responsibility and no restriction (support.contacts).
    for channel, verb in ((Delivery.EMAIL, "E-mail"), (Delivery.SMS, "Text")):
        recipient = family_recipient(family, channel=channel)
        if recipient is None:
            continue
        to = f"{recipient.name} at " if recipient.contact is not None else ""
        ways.append((channel.value, f"{verb} it to {to}{recipient.address(channel)}"))
    return ways


@requires("vouchers.issue")
def voucher_issue_page(request: HttpRequest, family_pk: int) -> HttpResponse:
    family = get_object_or_404(support_selectors.families_visible_to(request.user), pk=family_pk)
    types = list(selectors.voucher_types_available())
    schools = _issuing_schools(request, family)
    can_override = _can_override(request, schools)
    form = VoucherIssueForm(
        request.POST or None,
        voucher_types=types,
        schools=schools,
        can_override=can_override,
        deliveries=_deliveries(family),
        initial={
            "delivery": selectors.voucher_delivery_preference(user=request.user, family=family),
            "household_size": family.household_size,
            "dietary_needs": family.dietary_needs,
            "voucher_type": next((str(t.pk) for t in types if t.service == Service.FOOD_PARCEL), None),
        },
    )
    # Before validation: a bound field copies its help text when first made.
    form.fields["household_size"].help_text = (
        f"From the family's record: {family.adults} adult{pluralize(family.adults)}, "
        f"{family.children} child{pluralize(family.children, 'ren')}. Change it if it is different now."
    )
    consented = consented_partner_ids(family)
    if request.method == "POST" and consented and form.is_valid():
        data = form.cleaned_data
        try:
            voucher = voucher_issue(
                family=family,
                voucher_type=data["voucher_type"],
                school=form.issuing_school(),
                issued_by=request.user,
                referral_reason=data["referral_reason"],
                referral_other=data["referral_other"],
                household_size=data["household_size"],
                dietary_needs=data["dietary_needs"],
                fulfilment=data["fulfilment"],
                note_for_charity=data["note_for_charity"],
                override_reason=data.get("override_reason", ""),
                delivery=data["delivery"],
                site_url=site_url(request),
            )
        except SupportError as exc:
            form_error_from(form, exc, fields=FORM_FIELDS)
        else:
            how = {
                Delivery.PRINT: "Print it for the family: nothing has been sent to them.",
                Delivery.EMAIL: f"It is being e-mailed to {family.email}.",
                Delivery.SMS: f"It is being sent by text message to {family.phone}.",
            }[voucher.delivery]
            messages.success(request, f"Voucher {voucher.display_code} issued. {how}")
            return redirect("voucher_detail", pk=voucher.pk)

    limits = {t.pk: selectors.voucher_limit_status(family=family, voucher_type=t) for t in types}
    type_options = (
        [
            {
                "radio": radio,
                "type": t,
                "status": limits[t.pk],
                "window": window_label(limits[t.pk].window_days),
                "consented": t.partner_id in consented,
            }
            for radio, t in zip(form["voucher_type"], types, strict=True)
        ]
        if types
        else []
    )
    return render(
        request,
        "vouchers/issue.html",
        {
            "family": family,
            "form": form,
            "type_options": type_options,
            "consented": consented,
            "any_limit_reached": any(s.reached for s in limits.values()),
            "can_override": can_override,
            "schools": schools,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- List and export -------------------------------------------------------------------------


def _filtered(request: HttpRequest, data=None) -> tuple[VoucherFilterSet, QuerySet[Voucher]]:
    """The voucher list's filter set (``vouchers.filters``, the API's too) over the user's vouchers."""
    vouchers = selectors.vouchers_visible_to(request.user).select_related(
        "voucher_type__partner", "school", "issued_by"
    )
    filterset = page_filterset(VoucherFilterSet, request, queryset=vouchers, data=data)
    if not filterset.is_valid():
        return filterset, vouchers.none()
    return filterset, filterset.qs


@requires("vouchers.view")
def voucher_list(request: HttpRequest) -> HttpResponse:
    filterset, vouchers = _filtered(request)
    form = filterset.form
    page = ListPaginator(vouchers, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    for name in ("page", "select"):
        params.pop(name, None)
    can_print = has_perm(request.user, "vouchers.print")
    can_export = has_perm(request.user, "vouchers.export")
    return render(
        request,
        "vouchers/voucher_list.html",
        {
            "form": form,
            "page": page,
            "querystring": params.urlencode(),
            "can_print": can_print,
            "can_export": can_export,
            # Ticked boxes, for printing or exporting just those.
            "can_choose": can_print or can_export,
            # "Select all on this page" without JavaScript: the page again, every box ticked.
            "all_chosen": request.GET.get("select") == "page",
            # Finance sees vouchers for their money, not whose they are (support.visibility's table).
            "shows_names": can_see(request.user, Voucher, "lead_carer_name"),
            "print_url": url_or_path("voucher_print_batch", "/vouchers/print/"),
            "filtered": any(v for k, v in request.GET.items() if k not in ("page", "select")),
            "today": timezone.localdate(),
        },
        # A filter it cannot use (a family id no family could have, a date in year 9999): said, and a 400.
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@requires("vouchers.export")
def voucher_export(request: HttpRequest) -> HttpResponse:
    """The list's vouchers under the same filters, as CSV; or, posted from the list, the vouchers ticked
    there. Carers' names only for those who see families."""
    chosen = request.method == "POST"
    filterset, vouchers = _filtered(request, data=request.POST if chosen else None)
    if not filterset.is_valid():
        if chosen:  # the ticks, not the list's filters, are wrong: said on the list, as it was
            for errors in filterset.form.errors.values():
                for error in errors:
                    messages.error(request, error)
        response = voucher_list(request)
        response.status_code = 400
        return response
    if chosen and not filterset.form.cleaned_data.get("voucher"):
        messages.error(request, "Tick the vouchers to export, or download the whole list.")
        return redirect(reverse("voucher_list"))
    with_names = can_see(request.user, Voucher, "lead_carer_name")
    header = ["Code", "Type", "Partner", "School", "State", "Issued", "Issued by", "Expires"]
    header += ["Face value (£)", "Household size", "Fulfilment", "Limit overridden"]
    if with_names:
        header.insert(4, "Lead carer")

    def rows() -> Iterator[list]:
        for v in vouchers.iterator(chunk_size=500):
            row = [
                v.display_code,
                v.voucher_type.name,
                v.voucher_type.partner.name,
                v.school.name,
                v.get_state_display(),
                timezone.localtime(v.issued_at).strftime("%d/%m/%Y %H:%M"),
                person_name(v.issued_by),
                v.expires_on.strftime("%d/%m/%Y"),
                pounds(v.face_value_pence, symbol=False),
                v.household_size,
                v.get_fulfilment_display(),
                "yes" if v.limit_override_reason else "no",
            ]
            if with_names:
                row.insert(4, v.lead_carer_name)
            yield row

    query = request.GET.urlencode()
    if chosen:
        query = urlencode({"voucher": filterset.form.cleaned_data["voucher"]}, doseq=True)
    audit_record(actor=request.user, action="vouchers.exported", after={"query": query})
    return stream_csv(rows(), filename="vouchers.csv", header=header)


# --- One voucher -----------------------------------------------------------------------------


def _visible_voucher(request: HttpRequest, pk: int) -> Voucher:
    return get_object_or_404(
        selectors.vouchers_visible_to(request.user).select_related(
            "voucher_type__partner", "school", "family", "issued_by", "cancelled_by"
        ),
        pk=pk,
    )


def _channels(voucher: Voucher) -> list[tuple[str, str]]:
    family = voucher.family
    channels = []
    if family.email:
        channels.append((Delivery.EMAIL.value, f"E-mail to {family.email}"))
    if family.phone:
        channels.append((Delivery.SMS.value, f"Text message to {family.phone}"))
    return channels


def _render_detail(request: HttpRequest, voucher: Voucher, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    scope = scope_for(user)
    cancel = VOUCHER_FLOW["cancel"]
    can_cancel = cancel in VOUCHER_FLOW.moves_from(voucher.state) and has_perm(user, cancel.permission)
    can_extend = (
        voucher.is_valid
        and has_perm(user, "vouchers.extend")
        and (scope.is_admin or voucher.school_id in scope.lead_school_ids)
    )
    can_print = voucher.is_valid and has_perm(user, "vouchers.print")
    channels = _channels(voucher) if can_print else []
    shows_case = can_see(user, Voucher, "family") and has_perm(user, "families.view")
    # What went to the family: school staff and admins only (finance and charities see no addresses).
    sends = list(voucher.sends.select_related("requested_by")) if shows_case else []
    # The voucher is in the user's scope, so when and where it was redeemed is too.
    redemption = getattr(voucher, "redemption", None) if voucher.state == Voucher.State.REDEEMED else None
    context = {
        "voucher": voucher,
        "partner": voucher.voucher_type.partner,
        "refusal": None if voucher.is_valid else voucher_refusal(voucher).message,
        "redemption": redemption,
        "can_cancel": can_cancel,
        "can_extend": can_extend,
        "can_print": can_print,
        "can_send": bool(channels),
        "sends": sends,
        "sent_before": any(s.kind == VoucherSend.Kind.VOUCHER for s in sends),
        # Finance sees the voucher, not the family's case: no family link, no referral details.
        "shows_case": shows_case,
        "sees": visible_names(user, Voucher),
        "pdf_url": pdf_url(voucher),
        "cancel_form": forms.get("cancel_form") or VoucherCancelForm(safeguarding_schools=[voucher.school]),
        "extend_form": forms.get("extend_form") or VoucherExtendForm(safeguarding_schools=[voucher.school]),
        "send_form": forms.get("send_form") or VoucherSendForm(channels=channels),
    }
    return render(request, "vouchers/voucher_detail.html", context, status=status)


@requires("vouchers.view")
def voucher_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _visible_voucher(request, pk))


@require_POST
@requires("vouchers.cancel")
def voucher_cancel_page(request: HttpRequest, pk: int) -> HttpResponse:
    voucher = _visible_voucher(request, pk)
    form = VoucherCancelForm(request.POST, safeguarding_schools=[voucher.school])
    cancellable = VOUCHER_FLOW["cancel"] in VOUCHER_FLOW.moves_from(voucher.state)
    if form.is_valid() and cancellable and not confirmed(request):
        reason = form.cleaned_data["reason"]
        sent = voucher.sends.filter(kind=VoucherSend.Kind.VOUCHER).exists()
        partner = voucher.voucher_type.partner.name
        what = f"{voucher.voucher_type.name} at {partner}, {pounds(voucher.face_value_pence)}"
        return confirm_page(
            request,
            title=f"Are you sure you want to cancel voucher {voucher.display_code}?",
            caption=what,
            summary=[("Reason", reason)],
            consequences=[
                f"The family will not be able to use it at {partner}.",
                "The family is told, the way the voucher was sent to them."
                if sent
                else "Nothing is sent to the family.",
                "Your reason is recorded on the voucher and in the family's timeline.",
            ],
            warning="A cancelled voucher cannot be used again: to give the family another, issue a new one.",
            action=reverse("voucher_cancel", args=[voucher.pk]),
            fields={form.add_prefix("reason"): reason},
            button="Yes, cancel the voucher",
            back_url=reverse("voucher_detail", args=[voucher.pk]),
            back_label="No, keep the voucher",
        )
    if form.is_valid():
        try:
            voucher_cancel(voucher=voucher, actor=request.user, reason=form.cleaned_data["reason"])
        except SupportError as exc:
            form_error_from(form, exc, fields=FORM_FIELDS)
            return _render_detail(request, voucher, status=exc.status_code, cancel_form=form)
        told = voucher.sends.filter(kind=VoucherSend.Kind.CANCELLED).exists()
        said = " The family is being told, the way it was sent to them." if told else ""
        done = f"Voucher {voucher.display_code} cancelled. It can no longer be used."
        messages.success(request, done + said)
        return redirect("voucher_detail", pk=voucher.pk)
    return _render_detail(request, voucher, status=400, cancel_form=form)


@require_POST
@requires("vouchers.extend")
def voucher_extend_page(request: HttpRequest, pk: int) -> HttpResponse:
    voucher = _visible_voucher(request, pk)
    form = VoucherExtendForm(request.POST, safeguarding_schools=[voucher.school])
    if form.is_valid():
        try:
            voucher_extend(
                voucher=voucher,
                actor=request.user,
                expires_on=form.cleaned_data["expires_on"],
                reason=form.cleaned_data["reason"],
            )
        except SupportError as exc:
            form_error_from(form, exc, fields=FORM_FIELDS)
            return _render_detail(request, voucher, status=exc.status_code, extend_form=form)
        messages.success(
            request,
            f"Voucher {voucher.display_code} now expires on {date_format(voucher.expires_on, 'j F Y')}.",
        )
        return redirect("voucher_detail", pk=voucher.pk)
    return _render_detail(request, voucher, status=400, extend_form=form)


@require_POST
@requires("vouchers.print")
def voucher_send_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the voucher to the family (again) by e-mail or text: a deliberate act, listed on the page."""
    voucher = _visible_voucher(request, pk)
    form = VoucherSendForm(request.POST, channels=_channels(voucher))
    if not form.is_valid():
        if not voucher.is_valid:
            form.add_error(None, voucher_refusal(voucher).message)
            return _render_detail(request, voucher, status=409, send_form=form)
        return _render_detail(request, voucher, status=400, send_form=form)
    sends = voucher.sends.filter(kind=VoucherSend.Kind.VOUCHER)
    key = form.cleaned_data["key"]
    # A resend is asked on a page; the same form sent twice (its key already used) sends once, as before.
    resend = sends.exists() and not (key and sends.filter(key=key).exists())
    if resend and not confirmed(request):
        channel = form.cleaned_data["channel"]
        to = dict(_channels(voucher))[channel]
        return confirm_page(
            request,
            title=f"Send voucher {voucher.display_code} to the family again?",
            consequences=[f"{to}.", "The family already has it: the code stays the same."],
            action=reverse("voucher_send", args=[voucher.pk]),
            fields={
                form.add_prefix("channel"): channel,
                form.add_prefix("key"): str(key or ""),
            },
            button="Yes, send it again",
            back_url=reverse("voucher_detail", args=[voucher.pk]),
            back_label="No, go back to the voucher",
            destructive=False,
        )
    try:
        send = voucher_send_request(
            voucher=voucher,
            actor=request.user,
            channel=form.cleaned_data["channel"],
            key=form.cleaned_data["key"],
            site_url=site_url(request),
        )
    except SupportError as exc:
        form_error_from(form, exc, fields=FORM_FIELDS)
        return _render_detail(request, voucher, status=exc.status_code, send_form=form)
    how = "e-mailed" if send.channel == Delivery.EMAIL else "sent by text message"
    messages.success(request, f"Voucher {voucher.display_code} is being {how} to {send.address}.")
    return redirect("voucher_detail", pk=voucher.pk)


urlpatterns = [
    path("families/<int:family_pk>/vouchers/new/", voucher_issue_page, name="voucher_issue"),
    path("vouchers/", voucher_list, name="voucher_list"),
    path("vouchers/export.csv", voucher_export, name="voucher_export"),
    path("vouchers/<int:pk>/", voucher_detail, name="voucher_detail"),
    path("vouchers/<int:pk>/cancel/", voucher_cancel_page, name="voucher_cancel"),
    path("vouchers/<int:pk>/extend/", voucher_extend_page, name="voucher_extend"),
    path("vouchers/<int:pk>/send/", voucher_send_page, name="voucher_send"),
]
