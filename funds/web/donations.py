"""Finance's pages for money coming in: the donations list, recording a donation, pledges.

Reads go through ``funds.services.pledges``' selectors, writes through
``funds.services.ledger.fund_donation_record`` and ``funds.services.pledges``' services. Pages need
``fund.view`` to read and ``fund.record_donation`` to write."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format

from funds.filters import DonationFilter, PledgeFilter
from funds.models import Fund, Pledge
from funds.selectors import funds_visible_to, pledges_visible_to
from funds.selectors.gift_aid import GIFT_AID_STATES, covering_declarations, gift_aid_state
from funds.services.ledger import (
    STANDBY_FUND_NAME,
    category_label,
    financial_year_for,
    financial_year_label,
    fund_donation_record,
    standby_fund,
)
from funds.services.pledges import (
    donation_list,
    donation_totals,
    donation_years,
    pledge_create,
    pledge_list,
    pledge_status,
    pledge_stop,
)
from funds.web.donation_forms import DonationForm, PledgeForm, PledgeStopForm
from support.access import requires
from support.confirm import confirmed
from support.errors import SupportError
from support.forms import form_error_from
from support.money import pounds, pounds_in_words
from support.permissions import has_perm

PAGE_SIZE = 25
PLEDGE_PAGE_SIZE = 50
# Services name the model's fields; the forms name what people type.
FORM_FIELDS = {"amount_pence": "amount"}
# A donation of this much or more is read back on a check page before it is recorded.
CHECK_BACK_FROM_PENCE = 1_000_00


def _default_fund(funds: list[Fund]) -> Fund | None:
    """The standby fund if the user sees it, else the first open fund, else any."""
    for fund in funds:
        if fund.name == STANDBY_FUND_NAME:
            return fund
    return next((f for f in funds if f.is_active), funds[0] if funds else None)


def _pledge_to_prefill(request: HttpRequest) -> int | None:
    """``?pledge=`` on the new-donation form (the pledges page's "Record payment"): not a filter."""
    value = request.GET.get("pledge", "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _querystring(request: HttpRequest) -> str:
    """The filters, for the pager's links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _open_funds(request: HttpRequest) -> QuerySet[Fund]:
    funds = funds_visible_to(request.user).filter(is_active=True)
    if not funds.exists():
        standby_fund()  # created on first use, like every caller of the fund does
    return funds


def donations_url(fund_id: int, year: int) -> str:
    return f"{reverse('finance_donations')}?fund={fund_id}&year={year}"


# --- Donations -------------------------------------------------------------------------------


@requires("fund.view")
def donation_list_page(request: HttpRequest) -> HttpResponse:
    funds = list(funds_visible_to(request.user))
    # What was asked, read by the API's filter set; a fund or year not offered falls back to the default.
    asked = DonationFilter(request.GET, request=request)
    asked.is_valid()
    chosen = asked.form.cleaned_data.get("fund")
    fund = next((f for f in funds if f.pk == chosen), None) or _default_fund(funds)
    context: dict = {
        "fund": fund,
        "can_record": has_perm(request.user, "fund.record_donation"),
    }
    if fund is None:
        return render(request, "finance/donations.html", context)
    today = timezone.localdate()
    years = donation_years(user=request.user, fund=fund, today=today)
    chosen_year = asked.form.cleaned_data.get("year")
    year = chosen_year if chosen_year in years else financial_year_for(today)
    filters = DonationFilter({"fund": fund.pk, "year": year}, request=request).for_page(
        funds=funds, years=[(y, financial_year_label(y)) for y in years]
    )
    donations = donation_list(user=request.user, fund=fund, year=year)
    page = Paginator(donations, PAGE_SIZE).get_page(request.GET.get("page"))
    for donation in page:
        donation.gift_aid_label = GIFT_AID_STATES[gift_aid_state(donation)]
        donation.purpose_label = (
            category_label(donation.restricted_purpose) if donation.restricted_purpose else ""
        )
    context.update(
        {
            "form": filters.form,
            "year": year,
            "year_label": financial_year_label(year),
            "totals": donation_totals(donations),
            "page": page,
            "querystring": f"fund={fund.pk}&year={year}",
        }
    )
    return render(request, "finance/donations.html", context)


@requires("fund.record_donation")
def donation_new(request: HttpRequest) -> HttpResponse:
    funds = _open_funds(request)
    pledges = pledges_visible_to(request.user).filter(is_active=True, fund__is_active=True)
    pledges = pledges.select_related("fund").order_by("next_due", "donor")
    initial: dict = {"received_on": timezone.localdate()}
    default = _default_fund(list(funds))
    if default is not None:
        initial["fund"] = default.pk
    prefill = None
    pledge_id = _pledge_to_prefill(request)
    if pledge_id is not None:
        prefill = pledges.filter(pk=pledge_id).first()
    if prefill is not None:
        initial.update(
            {
                "pledge": prefill.pk,
                "fund": prefill.fund_id,
                "donor": prefill.donor,
                "amount": pounds(prefill.amount_pence, symbol=False),
                "gift_aid": prefill.gift_aid,
                "restricted_purpose": prefill.restricted_purpose,
            }
        )
    form = DonationForm(request.POST or None, funds=funds, pledges=pledges, initial=initial)
    editing = request.method == "POST" and request.POST.get("change") == "yes"
    if request.method == "POST" and not editing and form.is_valid():
        data = form.cleaned_data
        if data["amount"] >= CHECK_BACK_FROM_PENCE and not confirmed(request):
            return _donation_check(request, form)
        try:
            donation = fund_donation_record(
                fund=data["fund"],
                donor=data["donor"],
                amount_pence=data["amount"],
                received_on=data["received_on"],
                gift_aid=data["gift_aid"],
                sponsored=data["sponsored"],
                restricted_purpose=data["restricted_purpose"],
                pledge=data["pledge"],
                actor=request.user,
            )
        except SupportError as exc:
            form_error_from(form, exc, fields=FORM_FIELDS)
        else:
            note = f"{pounds(donation.amount_pence)} from {donation.donor} recorded in {donation.fund.name}."
            if donation.gift_aid:
                # The check at each donation: is Gift Aid on it claimable, or waiting for a declaration?
                covered = covering_declarations(donation.donor, donation.received_on).exists()
                note += (
                    " A Gift Aid declaration covers it: it will be in the next claim."
                    if covered
                    else " No Gift Aid declaration from this donor covers it yet: record one before it can "
                    "be claimed."
                )
            if donation.pledge is not None:
                pledge = Pledge.objects.get(pk=donation.pledge_id)  # next_due moved on in the service
                note += f" The pledge's next payment is due on {date_format(pledge.next_due, 'j F Y')}."
            messages.success(request, note)
            return redirect(donations_url(donation.fund_id, financial_year_for(donation.received_on)))
    return render(
        request,
        "finance/donation_form.html",
        {"form": form, "prefill": prefill},
        status=400 if request.method == "POST" and not editing else 200,
    )


def _donation_check(request: HttpRequest, form: DonationForm) -> HttpResponse:
    """A large donation read back before it is recorded: donor, amount in figures and words, date, Gift
    Aid, fund. Writes nothing; its confirm button posts the same values with ``confirm=yes``."""
    data = form.cleaned_data
    rows = [
        ("Donor", data["donor"]),
        ("Amount", pounds(data["amount"])),
        ("Amount in words", pounds_in_words(data["amount"])),
        ("Date received", date_format(data["received_on"], "j F Y")),
        ("Gift Aid", "Claim it while a declaration from the donor covers it" if data["gift_aid"] else "No"),
        ("Sponsorship of a charity event", "Yes" if data["sponsored"] else "No"),
        ("Fund", data["fund"].name),
    ]
    if data["restricted_purpose"]:
        rows.append(("Only for", category_label(data["restricted_purpose"])))
    if data["pledge"] is not None:
        rows.append(("Payment of a pledge", str(data["pledge"])))
    return render(request, "finance/donation_check.html", {"form": form, "rows": rows})


# --- Pledges ---------------------------------------------------------------------------------


def _render_pledges(
    request: HttpRequest, *, stopping: Pledge | None = None, stop_form=None, status: int = 200
) -> HttpResponse:
    today = timezone.localdate()
    filters = PledgeFilter(request.GET, queryset=pledge_list(user=request.user), request=request).for_page(
        funds=list(funds_visible_to(request.user))
    )
    page = Paginator(filters.filtered(), PLEDGE_PAGE_SIZE).get_page(request.GET.get("page"))
    if filters.form.errors and status == 200:
        status = 400
    rows = [
        {
            "pledge": p,
            "status": pledge_status(p, today=today),
            "purpose": category_label(p.restricted_purpose) if p.restricted_purpose else "",
            "days_overdue": (today - p.next_due).days,
        }
        for p in page
    ]
    return render(
        request,
        "finance/pledges.html",
        {
            "page": page,
            "rows": rows,
            "today": today,
            "can_record": has_perm(request.user, "fund.record_donation"),
            "stopping": stopping,
            "stop_form": stop_form,
            "form": filters.form,
            "filtered": any(filters.form.data.get(name) for name in filters.filters),
            "querystring": _querystring(request),
        },
        status=status,
    )


@requires("fund.view")
def pledge_list_page(request: HttpRequest) -> HttpResponse:
    return _render_pledges(request)


@requires("fund.record_donation")
def pledge_new(request: HttpRequest) -> HttpResponse:
    funds = _open_funds(request)
    default = _default_fund(list(funds))
    form = PledgeForm(request.POST or None, funds=funds, initial={"fund": default.pk if default else None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pledge = pledge_create(
                fund=data["fund"],
                donor=data["donor"],
                amount_pence=data["amount"],
                frequency=data["frequency"],
                next_due=data["next_due"],
                gift_aid=data["gift_aid"],
                restricted_purpose=data["restricted_purpose"],
                actor=request.user,
            )
        except SupportError as exc:
            form_error_from(form, exc, fields=FORM_FIELDS)
        else:
            messages.success(
                request,
                f"Pledge from {pledge.donor} recorded: {pounds(pledge.amount_pence)} "
                f"{pledge.get_frequency_display().lower()}, "
                f"next due {date_format(pledge.next_due, 'j F Y')}.",
            )
            return redirect("finance_pledges")
    return render(
        request, "finance/pledge_form.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


@requires("fund.record_donation")
def pledge_stop_page(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks (on the pledges page) why the pledge is stopping; POST stops it."""
    pledge = get_object_or_404(pledges_visible_to(request.user).select_related("fund"), pk=pk)
    if not pledge.is_active:
        messages.info(request, f"The pledge from {pledge.donor} has already been stopped.")
        return redirect("finance_pledges")
    if request.method != "POST":
        return _render_pledges(request, stopping=pledge, stop_form=PledgeStopForm())
    form = PledgeStopForm(request.POST)
    if form.is_valid():
        try:
            pledge_stop(pledge=pledge, actor=request.user, reason=form.cleaned_data["reason"])
        except SupportError as exc:
            form_error_from(form, exc, fields=FORM_FIELDS)
        else:
            messages.success(
                request, f"The pledge from {pledge.donor} has stopped. Finance will not be reminded."
            )
            return redirect("finance_pledges")
    return _render_pledges(request, stopping=pledge, stop_form=form, status=400)


urlpatterns = [
    path("donations/", donation_list_page, name="finance_donations"),
    path("donations/new/", donation_new, name="finance_donation_new"),
    path("pledges/", pledge_list_page, name="finance_pledges"),
    path("pledges/new/", pledge_new, name="finance_pledge_new"),
    path("pledges/<int:pk>/stop/", pledge_stop_page, name="finance_pledge_stop"),
]
