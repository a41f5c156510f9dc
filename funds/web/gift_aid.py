"""Finance's Gift Aid pages: donors' declarations, claims and HMRC's schedule, under /finance/gift-aid/.

Reads go through ``funds.selectors`` (``gift_aid_*_visible_to``) and ``funds.selectors.gift_aid``; writes
through ``funds.services.gift_aid``. A claim is prepared, and marked paid (money into the ledger), from
a check page that reads back what will happen. Pages need ``giftaid.view`` to read and
``giftaid.manage`` to write: finance's (declarations hold donors' home addresses)."""

import io
import json

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format

from funds.data_rights import donor_subject_access
from funds.models import GiftAidClaim, GiftAidDeclaration
from funds.selectors import donations_visible_to, gift_aid_claims_visible_to, gift_aid_declarations_visible_to
from funds.selectors.gift_aid import (
    SCHEDULE_HEADER,
    SCHEDULE_MAX_ROWS,
    claim_adjustments,
    claim_earliest_donation,
    claim_items,
    claim_schedule_rows,
    claimable_donations_for,
    claimable_totals,
    gift_aid_on,
    overclaimed_pence,
    overclaimed_to_give_back,
    schedule_amount,
    schedule_date,
)
from funds.services.gift_aid import (
    gift_aid_claim_paid,
    gift_aid_claim_prepare,
    gift_aid_claim_submit,
    gift_aid_claim_withdraw,
    gift_aid_declaration_cancel,
    gift_aid_declaration_record,
)
from funds.transitions import GIFT_AID_CLAIM_FLOW
from funds.web.donation_forms import DATE_FORMATS, _date_widget
from support.access import requires
from support.audit import audit_record
from support.confirm import confirm_page, confirmed
from support.csv_safe import safe_cell, stream_csv
from support.errors import SupportError
from support.forms import GovukErrorsMixin, form_error_from
from support.money import pounds
from support.permissions import has_perm

PAGE_SIZE = 50


def _text(
    label: str, *, max_length: int, width: str = "", required: bool = True, **kwargs
) -> forms.CharField:
    css = "govuk-input" + (f" govuk-input--width-{width}" if width else "")
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.TextInput(attrs={"class": css, "autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": f"Enter the {label.lower()}"},
        **kwargs,
    )


def _checkbox() -> forms.CheckboxInput:
    return forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"})


class DeclarationForm(GovukErrorsMixin, forms.Form):
    donor = _text(
        "Donor",
        max_length=200,
        help_text="Exactly as their donations are recorded, for example Trustee: Mrs H. Pemberton",
    )
    title = _text("Title", max_length=4, width="4", required=False, help_text="For example Mrs, Mr, Dr")
    first_name = _text("First name or initial", max_length=35, width="20")
    last_name = _text("Last name", max_length=35, width="20")
    house = _text("House name or number", max_length=40, width="20")
    address = forms.CharField(
        label="Home address",
        max_length=500,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3, "autocomplete": "off"}),
        error_messages={"required": "Enter the donor's home address"},
    )
    postcode = _text("Postcode", max_length=10, width="10")
    declared_on = forms.DateField(
        label="Date of the declaration",
        input_formats=DATE_FORMATS,
        widget=_date_widget(),
        error_messages={"required": "Enter the date of the declaration", "invalid": "Enter a real date"},
    )
    covers_past = forms.BooleanField(
        label="It covers gifts made in the 4 years before this date", required=False, widget=_checkbox()
    )
    covers_future = forms.BooleanField(
        label="It covers this gift and all future gifts until cancelled", required=False, widget=_checkbox()
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["donor"].widget.attrs["list"] = "donor-names"


class CancelForm(GovukErrorsMixin, forms.Form):
    cancelled_on = forms.DateField(
        label="Cancelled from",
        input_formats=DATE_FORMATS,
        help_text="Gifts received on or after this day are not covered",
        widget=_date_widget(),
        error_messages={
            "required": "Enter the date the cancellation takes effect",
            "invalid": "Enter a real date",
        },
    )
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 2}),
    )


class SubmitForm(GovukErrorsMixin, forms.Form):
    hmrc_reference = _text("HMRC's reference for the claim", max_length=40, width="20")
    submitted_on = forms.DateField(
        label="Date submitted",
        input_formats=DATE_FORMATS,
        widget=_date_widget(),
        error_messages={"required": "Enter the date the claim was submitted", "invalid": "Enter a real date"},
    )


class PaidForm(GovukErrorsMixin, forms.Form):
    paid_on = forms.DateField(
        label="Date HMRC paid",
        input_formats=DATE_FORMATS,
        help_text="The day the Gift Aid reached the trust's account",
        widget=_date_widget(),
        error_messages={"required": "Enter the date HMRC paid", "invalid": "Enter a real date"},
    )


class WithdrawForm(GovukErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Why is the claim being withdrawn?",
        max_length=500,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 2}),
        error_messages={"required": "Give a reason for withdrawing the claim"},
    )


MOVE_FORMS = {"submit": SubmitForm, "pay": PaidForm, "withdraw": WithdrawForm}


# --- The overview ----------------------------------------------------------------------------------


@requires("giftaid.view")
def gift_aid_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    claimable = claimable_donations_for(request.user, today=today)
    declarations = gift_aid_declarations_visible_to(request.user).filter(anonymised_at__isnull=True)
    claims = (
        gift_aid_claims_visible_to(request.user).select_related("prepared_by").order_by("-prepared_on", "-pk")
    )
    return render(
        request,
        "finance/gift_aid.html",
        {
            "totals": claimable_totals(claimable),
            "overclaimed_pence": overclaimed_pence(),
            "claims": Paginator(claims, PAGE_SIZE).get_page(request.GET.get("page")),
            "declarations": declarations.order_by("donor", "-declared_on", "-pk")[:200],
            "can_manage": has_perm(request.user, "giftaid.manage"),
            "today": today,
        },
    )


# --- Declarations --------------------------------------------------------------------------------


@requires("giftaid.manage")
def declaration_new(request: HttpRequest) -> HttpResponse:
    initial = {"declared_on": timezone.localdate(), "covers_past": True, "covers_future": True}
    form = DeclarationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            declaration = gift_aid_declaration_record(actor=request.user, **form.cleaned_data)
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"Gift Aid declaration from {declaration.donor} recorded.")
            return redirect("finance_gift_aid_declaration", pk=declaration.pk)
    # The names donations are recorded under, offered as the donor's name is typed.
    donors = donations_visible_to(request.user).values_list("donor", flat=True).distinct().order_by("donor")
    return render(
        request,
        "finance/gift_aid_declaration_form.html",
        {"form": form, "donors": list(donors[:500])},
        status=400 if request.method == "POST" else 200,
    )


def _declaration_page(request: HttpRequest, declaration: GiftAidDeclaration, form=None, status=200):
    donations = (
        donations_visible_to(request.user)
        .filter(donor=declaration.donor)
        .order_by("-received_on", "-pk")[:50]
    )
    return render(
        request,
        "finance/gift_aid_declaration.html",
        {
            "declaration": declaration,
            "donations": [(d, declaration.covers(d.received_on)) for d in donations],
            "form": form or CancelForm(initial={"cancelled_on": timezone.localdate()}),
            "can_manage": has_perm(request.user, "giftaid.manage"),
            "can_export": has_perm(request.user, "giftaid.subject_access"),
        },
        status=status,
    )


@requires("giftaid.view")
def declaration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    declaration = get_object_or_404(gift_aid_declarations_visible_to(request.user), pk=pk)
    return _declaration_page(request, declaration)


@requires("giftaid.manage")
def declaration_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    declaration = get_object_or_404(gift_aid_declarations_visible_to(request.user), pk=pk)
    if request.method != "POST":
        return redirect("finance_gift_aid_declaration", pk=pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            gift_aid_declaration_cancel(declaration=declaration, actor=request.user, **form.cleaned_data)
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"The declaration from {declaration.donor} is cancelled.")
            return redirect("finance_gift_aid_declaration", pk=pk)
    return _declaration_page(request, declaration, form=form, status=400)


@requires("giftaid.subject_access")
def declaration_subject_access(request: HttpRequest, pk: int) -> HttpResponse:
    """A donor's data as JSON (trust admins), answering a subject access request."""
    declaration = get_object_or_404(gift_aid_declarations_visible_to(request.user), pk=pk)
    data = donor_subject_access(declaration=declaration, actor=request.user)
    response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="donor-{declaration.pk}-subject-access.json"'
    return response


# --- Claims --------------------------------------------------------------------------------------


@requires("giftaid.manage")
def claim_new(request: HttpRequest) -> HttpResponse:
    """GET: the check page (every donation the claim will hold); POST with ``confirm=yes``: prepare it
    from exactly the donations shown."""
    if confirmed(request):
        ids = [int(v) for v in request.POST.getlist("donation") if v.isdigit() and len(v) < 12]
        try:
            claim = gift_aid_claim_prepare(actor=request.user, donation_ids=ids[: SCHEDULE_MAX_ROWS + 1])
        except SupportError as exc:
            messages.error(request, exc.message)
            return redirect("finance_gift_aid_claim_new")
        messages.success(
            request,
            f"Claim {claim.pk} prepared: {pounds(claim.gift_aid_pence)} Gift Aid on "
            f"{pounds(claim.donations_pence)} of donations"
            + (
                f", less {pounds(claim.adjustment_pence)} overclaimed before (gifts since reversed)"
                if claim.adjustment_pence
                else ""
            )
            + ". Download its schedule for HMRC.",
        )
        return redirect("finance_gift_aid_claim", pk=claim.pk)
    donations = list(claimable_donations_for(request.user, today=timezone.localdate())[:SCHEDULE_MAX_ROWS])
    declarations = {
        d.pk: d
        for d in gift_aid_declarations_visible_to(request.user).filter(
            pk__in={d.declaration_id for d in donations}
        )
    }
    gift_aid_pence = sum(gift_aid_on(d.amount_pence) for d in donations)
    _rows, give_back_pence = overclaimed_to_give_back([d.pk for d in donations])
    return render(
        request,
        "finance/gift_aid_claim_check.html",
        {
            "rows": [(d, declarations.get(d.declaration_id)) for d in donations],
            "donations_pence": sum(d.amount_pence for d in donations),
            "gift_aid_pence": gift_aid_pence,
            "give_back_pence": give_back_pence,
            "net_pence": gift_aid_pence - give_back_pence,
            "overclaimed_pence": overclaimed_pence(),
            "max_rows": SCHEDULE_MAX_ROWS,
        },
    )


def _claim_page(request: HttpRequest, claim: GiftAidClaim, forms_: dict | None = None, status: int = 200):
    can_manage = has_perm(request.user, "giftaid.manage")
    today = timezone.localdate()
    moves = GIFT_AID_CLAIM_FLOW.moves_from(claim.status) if can_manage else []
    defaults = {
        "submit": {"submitted_on": today},
        "pay": {"paid_on": today},
        "withdraw": {},
    }
    shown = {
        m.name: (forms_ or {}).get(m.name) or MOVE_FORMS[m.name](initial=defaults[m.name]) for m in moves
    }
    return render(
        request,
        "finance/gift_aid_claim.html",
        {
            "claim": claim,
            "items": claim_items(claim),
            "adjustments": claim_adjustments(claim),
            "forms": shown,
            "entries_url": f"{reverse('finance_ledger')}?category=gift_aid",
        },
        status=status,
    )


def _claim_or_404(request: HttpRequest, pk: int) -> GiftAidClaim:
    return get_object_or_404(
        gift_aid_claims_visible_to(request.user).select_related("prepared_by", "submitted_by", "paid_by"),
        pk=pk,
    )


@requires("giftaid.view")
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _claim_page(request, _claim_or_404(request, pk))


@requires("giftaid.manage")
def claim_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    """POST a move of the claim's transitions table; marking it paid and withdrawing it are read back on
    a check page first."""
    claim = _claim_or_404(request, pk)
    if move not in MOVE_FORMS:
        raise Http404
    if request.method != "POST":
        return redirect("finance_gift_aid_claim", pk=pk)
    form = MOVE_FORMS[move](request.POST)
    if not form.is_valid():
        return _claim_page(request, claim, {move: form}, status=400)
    data = form.cleaned_data
    if move in ("pay", "withdraw") and not confirmed(request):
        return _move_check(request, claim, move, form)
    try:
        if move == "submit":
            gift_aid_claim_submit(claim=claim, actor=request.user, **data)
            note = f"Claim {claim.pk} is submitted to HMRC (reference {claim.hmrc_reference})."
        elif move == "pay":
            gift_aid_claim_paid(claim=claim, actor=request.user, paid_on=data["paid_on"])
            note = (
                f"Claim {claim.pk} is paid: {pounds(claim.net_pence)} Gift Aid is income in the ledger "
                f"on {date_format(claim.paid_on, 'j F Y')}."
            )
        else:
            gift_aid_claim_withdraw(claim=claim, actor=request.user, reason=data["reason"])
            note = f"Claim {claim.pk} is withdrawn; its donations can be claimed again."
    except SupportError as exc:
        form_error_from(form, exc)
        return _claim_page(request, _claim_or_404(request, pk), {move: form}, status=400)
    messages.success(request, note)
    return redirect("finance_gift_aid_claim", pk=pk)


def _move_check(request: HttpRequest, claim: GiftAidClaim, move: str, form: forms.Form) -> HttpResponse:
    back = reverse("finance_gift_aid_claim", args=[claim.pk])
    action = reverse("finance_gift_aid_claim_move", args=[claim.pk, move])
    if move == "pay":
        paid_on = form.cleaned_data["paid_on"]
        return confirm_page(
            request,
            title=f"Record that HMRC paid claim {claim.pk}?",
            caption="Gift Aid",
            summary=[
                ("Gift Aid", pounds(claim.gift_aid_pence)),
                *(
                    [("Less Gift Aid overclaimed before", pounds(claim.adjustment_pence))]
                    if claim.adjustment_pence
                    else []
                ),
                ("On donations of", pounds(claim.donations_pence)),
                ("HMRC reference", claim.hmrc_reference or "–"),
                ("Paid on", date_format(paid_on, "j F Y")),
            ],
            consequences=[
                f"{pounds(claim.net_pence)} comes into the funds as income on "
                f"{date_format(paid_on, 'j F Y')}.",
                "Check the amount against the bank statement: a ledger entry can be reversed, not changed.",
            ],
            action=action,
            button="Record payment",
            back_url=back,
            fields={"paid_on": paid_on.isoformat()},
            destructive=False,
        )
    return confirm_page(
        request,
        title=f"Withdraw claim {claim.pk}?",
        caption="Gift Aid",
        consequences=["The claim will not go to HMRC.", "Its donations can be put in another claim."],
        action=action,
        button="Withdraw claim",
        back_url=back,
        fields={"reason": form.cleaned_data["reason"]},
    )


def schedule_xlsx_bytes(claim: GiftAidClaim) -> bytes:
    """The claim's schedule as a spreadsheet HMRC's Charities Online takes: one header row, one row per
    donation; dates as DD/MM/YY text, amounts as numbers with two decimals (no £). Text cells are
    neutralised (openpyxl stores a string starting "=" as a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Schedule"
    sheet.append(list(SCHEDULE_HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in claim_schedule_rows(claim):
        sheet.append([safe_cell(v) if isinstance(v, str) else v for v in row])
        sheet.cell(row=sheet.max_row, column=8).number_format = "@"
        sheet.cell(row=sheet.max_row, column=9).number_format = "0.00"
    for letter, width in zip("ABCDEFGHI", (8, 22, 22, 22, 10, 12, 10, 14, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    # The two boxes above HMRC's rows, for whoever copies the rows into HMRC's own schedule.
    details = workbook.create_sheet("Claim")
    earliest = claim_earliest_donation(claim)
    details.append(["Earliest donation date in the period", schedule_date(earliest) if earliest else ""])
    details.append(["Adjustment for Gift Aid overclaimed", schedule_amount(claim.adjustment_pence)])
    details.cell(row=1, column=2).number_format = "@"
    details.cell(row=2, column=2).number_format = "0.00"
    details.column_dimensions["A"].width = 38
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@requires("giftaid.view")
def claim_schedule(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    claim = _claim_or_404(request, pk)
    if fmt not in ("xlsx", "csv"):
        raise Http404
    audit_record(
        actor=request.user, action="gift_aid.schedule_downloaded", subject=claim, after={"format": fmt}
    )
    filename = f"gift-aid-claim-{claim.pk}.{fmt}"
    if fmt == "csv":
        rows = ([*row[:8], f"{row[8]:.2f}"] for row in claim_schedule_rows(claim))
        return stream_csv(rows, filename=filename, header=SCHEDULE_HEADER)
    response = HttpResponse(
        schedule_xlsx_bytes(claim),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("gift-aid/", gift_aid_page, name="finance_gift_aid"),
    path("gift-aid/declarations/new/", declaration_new, name="finance_gift_aid_declaration_new"),
    path("gift-aid/declarations/<int:pk>/", declaration_detail, name="finance_gift_aid_declaration"),
    path(
        "gift-aid/declarations/<int:pk>/cancel/",
        declaration_cancel,
        name="finance_gift_aid_declaration_cancel",
    ),
    path(
        "gift-aid/declarations/<int:pk>/subject-access.json",
        declaration_subject_access,
        name="finance_gift_aid_subject_access",
    ),
    path("gift-aid/claims/new/", claim_new, name="finance_gift_aid_claim_new"),
    path("gift-aid/claims/<int:pk>/", claim_detail, name="finance_gift_aid_claim"),
    path("gift-aid/claims/<int:pk>/<slug:move>/", claim_move, name="finance_gift_aid_claim_move"),
    path("gift-aid/claims/<int:pk>/schedule.<str:fmt>", claim_schedule, name="finance_gift_aid_schedule"),
]
