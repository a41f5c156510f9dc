"""Finance's approvals queue: spend above the threshold waiting for a decision, and the decision."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from funds.models import SpendRequest
from funds.selectors import spend_requests_visible_to
from funds.selectors.positions import fund_position
from funds.services import approvals
from funds.services.ledger import category_label
from funds.transitions import SPEND_FLOW
from support.access import requires
from support.confirm import confirm_page, confirmed
from support.errors import SupportError
from support.forms import GovukErrorsMixin, form_error_from
from support.money import pounds
from support.people import person_name
from support.permissions import has_perm
from support.scopes import scope_for

Status = SpendRequest.Status
DECIDED_PAGE_SIZE = 25


class DecisionForm(GovukErrorsMixin, forms.Form):
    note = forms.CharField(
        label="Note to the school",
        required=False,
        max_length=1000,
        help_text="Needed to reject or send back: say what would make it acceptable.",
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
    )
    override_reason = forms.CharField(
        label="Reason to approve although the fund is short",
        required=False,
        max_length=500,
        help_text="Only when the fund does not have enough available: it is recorded on the ledger.",
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 2}),
    )


@requires("fund.view")
def approval_queue(request: HttpRequest) -> HttpResponse:
    rows = approvals.approval_queue(user=request.user)
    decided = (
        spend_requests_visible_to(request.user)
        .exclude(status=Status.PENDING)
        .order_by("-decided_at", "-pk")
    )
    page = Paginator(decided, DECIDED_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "finance/approvals.html",
        {
            "rows": rows,
            "page": page,
            "querystring": "",
            "can_decide": scope_for(request.user).is_finance,
            "category_label": category_label,
        },
    )


def _detail(
    request: HttpRequest, spend_request: SpendRequest, *, form: DecisionForm | None = None, status=200
):
    position = fund_position(fund=spend_request.fund)
    is_first_approver = spend_request.first_approved_by_id == request.user.pk
    steps = [
        move.name
        for move in SPEND_FLOW.moves_from(spend_request.status)
        if scope_for(request.user).is_finance
        and has_perm(request.user, move.permission)  # type: ignore[arg-type]
        and not (move.name == "approve" and is_first_approver)
    ]
    return render(
        request,
        "finance/approval_detail.html",
        {
            "r": spend_request,
            "category": category_label(spend_request.category),
            "position": position,
            "available_after_pence": position.available_pence - spend_request.amount_pence,
            "form": form or DecisionForm(),
            "steps": steps,
            "can_decide": bool(steps),
            "is_first_approver": is_first_approver,
        },
        status=status,
    )


@requires("fund.view")
def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_object_or_404(spend_requests_visible_to(request.user), pk=pk))


# The message after each manual move of ``SPEND_FLOW`` (which says which exist and from where).
DECISIONS = {
    "approve": "approved",
    "send-back": "sent back for changes",
    "reject": "rejected",
}


@require_POST
@requires("fund.approve")
def approval_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    spend_request = get_object_or_404(spend_requests_visible_to(request.user), pk=pk)
    if decision not in DECISIONS or decision not in SPEND_FLOW.moves:
        return redirect("finance_approval", pk=pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    note = form.cleaned_data.get("note", "")
    rejectable = SPEND_FLOW["reject"] in SPEND_FLOW.moves_from(spend_request.status)
    if decision == "reject" and note.strip() and rejectable and not confirmed(request):
        return confirm_page(
            request,
            title="Are you sure you want to reject this spend?",
            caption=f"{spend_request.summary}, {pounds(spend_request.amount_pence)}",
            summary=[("Note to the school", note)],
            consequences=[
                f"Nothing is committed from {spend_request.fund.name}.",
                f"{person_name(spend_request.requested_by)} is e-mailed your note.",
            ],
            warning="A rejected spend cannot be reopened: the school would have to ask again.",
            action=reverse("finance_approval_decide", args=[spend_request.pk, "reject"]),
            fields={"note": note},
            button="Yes, reject it",
            back_url=reverse("finance_approval", args=[spend_request.pk]),
            back_label="No, go back to the request",
        )
    try:
        if decision == "approve":
            decided = approvals.spend_request_approve(
                spend_request=spend_request,
                actor=request.user,
                note=note,
                override_reason=form.cleaned_data.get("override_reason", ""),
            )
        elif decision == "reject":
            decided = approvals.spend_request_reject(
                spend_request=spend_request, actor=request.user, note=note
            )
        else:
            decided = approvals.spend_request_send_back(
                spend_request=spend_request, actor=request.user, note=note
            )
    except SupportError as exc:
        if exc.code == "insufficient_funds":  # the way past a short fund is finance's reason
            form.add_error("override_reason", exc.message)
        else:
            form_error_from(form, exc)
        spend_request.refresh_from_db()
        return _detail(request, spend_request, form=form, status=exc.status_code)
    if decided.status == Status.PENDING:
        messages.success(request, "Your approval is recorded. A second finance approver must approve it too.")
    else:
        messages.success(request, f"{decided.summary}: {DECISIONS[decision]}. The school has been told.")
    return redirect("finance_approvals")


urlpatterns = [
    path("approvals/", approval_queue, name="finance_approvals"),
    path("approvals/<int:pk>/", approval_detail, name="finance_approval"),
    path("approvals/<int:pk>/<slug:decision>/", approval_decide, name="finance_approval_decide"),
]
