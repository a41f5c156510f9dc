"""Pages for coat, shoe and uniform requests: ask for a pupil, see one and move it on, the lead's queue,
the list with filters, and the winter drive.

Every queryset starts from a selector; every write goes through ``uniform.services.requests``.
Out of scope is a 404, a role without the permission a 403.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from funds.services.approvals import spend_request_for
from support import selectors as support_selectors
from support.access import requires
from support.bounds import id_in_range
from support.confirm import confirm_page, confirmed
from support.errors import SupportError
from support.forms import GovukErrorsMixin, SafeguardingHintsMixin, form_error_from
from support.money import pounds
from support.people import person_name
from support.permissions import has_perm
from support.visibility import can_see, visible_names
from uniform.filters import SupportRequestFilter
from uniform.models import Condition, ItemKind, SupportRequest, UniformItem
from uniform.selectors import (
    support_requests_to_decide,
    support_requests_visible_to,
    uniform_items_visible_to,
)
from uniform.services import requests as services
from uniform.sizes import size_choices
from uniform.transitions import REQUEST_FLOW

PAGE_SIZE = 25
Status = SupportRequest.Status
SELECT = {"class": "govuk-select"}


# --- Forms -------------------------------------------------------------------------------------


def item_size_choices(items: list[UniformItem]) -> list[tuple[str, list[tuple[str, str]]]]:
    """One select for an item and its size, grouped by item, each with its price: ``"<item id>:<size>"``."""
    return [
        (
            f"{item.name}, {pounds(item.unit_cost_pence)} each",
            [(f"{item.pk}:{value}", label) for value, label in size_choices(item.sizes)],
        )
        for item in items
    ]


class RequestForm(SafeguardingHintsMixin, GovukErrorsMixin, forms.Form):
    """One form per kind: the school's items of that kind and their sizes in one select, each priced."""

    safeguarding_notes = {"reason": "school"}

    size = forms.ChoiceField(
        label="Size",
        widget=forms.Select(attrs=SELECT),
        error_messages={"required": "Choose a size"},
    )
    quantity = forms.IntegerField(
        label="How many",
        min_value=1,
        max_value=services.MAX_QUANTITY,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-2", "inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label="Why does the pupil need it?",
        max_length=300,
        help_text="For example: the family cannot afford a winter coat; joined mid-year from another school.",
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
        error_messages={"required": "Say why the pupil needs it"},
    )
    urgency = forms.ChoiceField(
        label="How urgent is it?",
        choices=SupportRequest.Urgency.choices,
        initial=SupportRequest.Urgency.ROUTINE,
        widget=forms.Select(attrs=SELECT),
    )

    def __init__(self, *args, kind: str, items: list[UniformItem], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.items = {str(item.pk): item for item in items}
        self.fields["size"].label = "Item and size"
        self.fields["size"].choices = [("", "Choose an item and size"), *item_size_choices(items)]
        if kind != ItemKind.UNIFORM:
            del self.fields["quantity"]

    def item_and_size(self) -> tuple[UniformItem, str]:
        item_pk, _, size = self.cleaned_data["size"].partition(":")
        return self.items[item_pk], size


class ReasonForm(SafeguardingHintsMixin, GovukErrorsMixin, forms.Form):
    safeguarding_notes = {"reason": "school"}

    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 2}),
    )
    no_cost_reason = forms.CharField(
        label="Why it costs nothing",
        help_text="This request costs £0.00. Say how it is met at no cost, for example: a coat donated by a "
        "local charity; second-hand stock.",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )


class DriveForm(SafeguardingHintsMixin, GovukErrorsMixin, forms.Form):
    safeguarding_notes = {"reason": "school"}

    reason = forms.CharField(
        label="Reason for these requests",
        max_length=300,
        initial="Winter coat drive",
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
        error_messages={"required": "Say why these pupils need a coat"},
    )


# --- Ask ---------------------------------------------------------------------------------------


@requires("requests.create")
def request_create_page(request: HttpRequest, pupil_pk: int) -> HttpResponse:
    pupil = get_object_or_404(
        support_selectors.pupils_visible_to(request.user).select_related("school", "family"), pk=pupil_pk
    )
    kind = request.GET.get("kind") or request.POST.get("kind") or ItemKind.COAT
    if kind not in ItemKind.values:
        raise Http404
    items = list(
        uniform_items_visible_to(request.user)
        .filter(school=pupil.school, kind=kind, is_active=True)
        .order_by("name")
    )
    form = RequestForm(request.POST or None, kind=kind, items=items, safeguarding_schools=[pupil.school])
    editing = request.method == "POST" and request.POST.get("change") == "yes"
    if request.method == "POST" and pupil.in_need and not editing and form.is_valid():
        item, size = form.item_and_size()
        quantity = form.cleaned_data.get("quantity") or 1
        try:
            if not confirmed(request):  # check answers first: what it costs and who decides
                quote = services.request_quote(
                    pupil=pupil,
                    kind=kind,
                    size=size,
                    item=item,
                    quantity=quantity,
                    actor=request.user,
                    today=timezone.localdate(),
                )
                return render(
                    request,
                    "uniform/request_check.html",
                    {
                        "pupil": pupil,
                        "kind": kind,
                        "kind_label": ItemKind(kind).label,
                        "form": form,
                        "item": item,
                        "size": size,
                        "quantity": quantity,
                        "quote": quote,
                        "cost": pounds(quote.cost_pence),
                        "each": pounds(item.unit_cost_pence),
                    },
                )
            created = services.request_create(
                pupil=pupil,
                kind=kind,
                size=size,
                item=item,
                quantity=quantity,
                reason=form.cleaned_data["reason"],
                urgency=form.cleaned_data["urgency"],
                actor=request.user,
            )
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(
                request, f"{created.get_kind_display()} for {pupil.known_as} {_outcome(created)}"
            )
            return redirect("support_request_detail", pk=created.pk)
    return render(
        request,
        "uniform/request_form.html",
        {
            "pupil": pupil,
            "kind": kind,
            "kind_label": ItemKind(kind).label,
            "kinds": ItemKind.choices,
            "form": form,
            "history": services.pupil_history(user=request.user, pupil=pupil),
        },
        status=400 if request.method == "POST" and not editing else 200,
    )


def _outcome(moved: SupportRequest) -> str:
    """What happened to a request just asked for or changed, in a sentence's end."""
    if moved.status == Status.APPROVED:
        return "approved: it is within policy."
    if moved.status == Status.AWAITING_FINANCE:
        return (
            "sent to finance: they approve spend of this size (or the fund is short). You will get an e-mail."
        )
    if not moved.cost_pence:
        return "requested: it costs £0.00, so it waits for a lead to record why it costs nothing."
    return "requested: it waits for a lead."


@requires("requests.create")
def request_revise_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a request finance sent back and send it on again."""
    support_request = _visible_request(request, pk)
    if support_request.status != Status.CHANGES:
        return redirect("support_request_detail", pk=pk)
    kind = support_request.kind
    items = list(
        uniform_items_visible_to(request.user)
        .filter(school=support_request.school, kind=kind, is_active=True)
        .order_by("name")
    )
    initial = {
        "size": f"{support_request.item_id}:{support_request.size}",
        "quantity": support_request.quantity,
        "reason": support_request.reason,
        "urgency": support_request.urgency,
    }
    form = RequestForm(
        request.POST or None,
        kind=kind,
        items=items,
        initial=initial,
        safeguarding_schools=[support_request.school],
    )
    del form.fields["urgency"]
    editing = request.method == "POST" and request.POST.get("change") == "yes"
    if request.method == "POST" and not editing and form.is_valid():
        item, size = form.item_and_size()
        quantity = form.cleaned_data.get("quantity") or 1
        try:
            if not confirmed(request):  # check answers first: what it now costs and who decides
                quote = services.request_revise_quote(
                    request=support_request, actor=request.user, size=size, item=item, quantity=quantity
                )
                return render(
                    request,
                    "uniform/request_revise_check.html",
                    {
                        "support_request": support_request,
                        "kind": kind,
                        "kind_label": ItemKind(kind).label,
                        "form": form,
                        "item": item,
                        "size": size,
                        "quantity": quantity,
                        "quote": quote,
                        "cost": pounds(quote.cost_pence),
                        "was": pounds(support_request.cost_pence),
                        "each": pounds(item.unit_cost_pence),
                    },
                )
            moved = services.request_revise(
                request=support_request,
                actor=request.user,
                size=size,
                item=item,
                quantity=quantity,
                reason=form.cleaned_data["reason"],
            )
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"{moved.get_kind_display()} request changed and {_outcome(moved)}")
            return redirect("support_request_detail", pk=pk)
    return render(
        request,
        "uniform/request_revise.html",
        {"support_request": support_request, "form": form, "kind_label": ItemKind(kind).label},
        status=400 if request.method == "POST" and not editing else 200,
    )


# --- Lists -------------------------------------------------------------------------------------


def _with_related(requests: QuerySet[SupportRequest]) -> QuerySet[SupportRequest]:
    return requests.select_related("pupil", "school", "item", "requested_by")


@requires("requests.view")
def request_list(request: HttpRequest) -> HttpResponse:
    filters = SupportRequestFilter(
        request.GET or None,
        queryset=_with_related(support_requests_visible_to(request.user)),
        request=request,
    ).for_page(schools=support_selectors.schools_visible_to(request.user))
    form = filters.form
    requests = filters.filtered()
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "uniform/requests_list.html",
        {
            "form": form,
            "page": page,
            "querystring": params.urlencode(),
            "filtered": form.is_bound and any(v for k, v in request.GET.items() if k != "page"),
            "shows_case": can_see(request.user, SupportRequest, "pupil"),
            "can_decide": has_perm(request.user, "requests.decide"),
        },
    )


@requires("requests.decide")
def request_queue(request: HttpRequest) -> HttpResponse:
    """What waits for a decision in the schools the user leads: urgent first, then oldest first."""
    waiting = support_requests_to_decide(request.user)
    waiting = _with_related(waiting).order_by("-urgency", "requested_at", "pk")  # "urgent" > "routine"
    page = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "uniform/requests_queue.html", {"page": page, "querystring": ""})


# --- One request -------------------------------------------------------------------------------

# What each manual move of ``REQUEST_FLOW`` calls, and the message after it. The table says which
# moves exist, from which statuses and with which permission; "revise" has a page of its own.
STEPS = {
    "approve": (services.request_approve, "approved"),
    "reject": (services.request_reject, "rejected"),
    "ordered": (services.request_mark_ordered, "marked as ordered"),
    "from-stock": (services.request_mark_from_stock, "marked as taken from stock"),
    "from-secondhand": (services.request_mark_from_secondhand, "met second-hand, at no cost to the fund"),
    "handed-over": (services.request_hand_over, "marked as handed over"),
    "revise": (None, "changed"),  # request_revise_page
}


def _visible_request(request: HttpRequest, pk: int) -> SupportRequest:
    return get_object_or_404(
        _with_related(support_requests_visible_to(request.user)).select_related(
            "decided_by", "handed_over_by"
        ),
        pk=pk,
    )


def _render_detail(
    request: HttpRequest,
    support_request: SupportRequest,
    *,
    status: int = 200,
    form: ReasonForm | None = None,
) -> HttpResponse:
    steps = services.request_next_steps(request=support_request, user=request.user)
    # Second-hand stock in the size is offered first; with none, the step is not shown.
    offer = services.request_secondhand_offer(request=support_request) if "from-secondhand" in steps else {}
    return render(
        request,
        "uniform/request_detail.html",
        {
            "support_request": support_request,
            "steps": steps,
            "secondhand": [
                {"condition": condition, "label": Condition(condition).label, "count": count}
                for condition, count in offer.items()
                if count >= support_request.quantity
            ],
            "secondhand_total": sum(offer.values()),
            "reason_form": form or ReasonForm(safeguarding_schools=[support_request.school]),
            "shows_case": can_see(request.user, SupportRequest, "pupil"),
            "sees": visible_names(request.user, SupportRequest),
            "finance_request": spend_request_for(support_request) if support_request.cost_pence else None,
        },
        status=status,
    )


@requires("requests.view")
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _visible_request(request, pk))


def _confirm_reject(request: HttpRequest, support_request: SupportRequest, reason: str) -> HttpResponse:
    r = support_request
    what = f"{services.request_summary(r)}, {pounds(r.cost_pence)}"
    return confirm_page(
        request,
        title="Are you sure you want to reject this request?",
        caption=f"{what} for {r.pupil.known_as}" if can_see(request.user, SupportRequest, "pupil") else what,
        summary=[("Reason", reason)],
        consequences=[
            "Nothing is ordered or committed from a fund.",
            f"{person_name(r.requested_by)} sees the request as rejected, with your reason.",
        ],
        warning="A rejected request cannot be reopened: a new request would be needed.",
        action=reverse("support_request_step", args=[r.pk, "reject"]),
        fields={"reason": reason},
        button="Yes, reject the request",
        back_url=reverse("support_request_detail", args=[r.pk]),
        back_label="No, go back to the request",
    )


@require_POST
@requires("requests.view")
def request_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in STEPS or step not in REQUEST_FLOW.moves:
        raise Http404
    service, done = STEPS[step]
    if service is None:
        raise Http404
    if not has_perm(request.user, REQUEST_FLOW[step].permission):
        raise PermissionDenied
    support_request = _visible_request(request, pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    kwargs = {"reason": form.cleaned_data.get("reason", "")} if REQUEST_FLOW[step].lead else {}
    if step == "approve":
        kwargs["no_cost_reason"] = form.cleaned_data.get("no_cost_reason", "")
    if step == "from-secondhand":
        kwargs["condition"] = request.POST.get("condition", "")[:10]
    reason = form.cleaned_data.get("reason", "").strip()
    rejectable = step == "reject" and reason and not confirmed(request)
    if rejectable and step in services.request_next_steps(request=support_request, user=request.user):
        return _confirm_reject(request, support_request, reason)
    try:
        service(request=support_request, actor=request.user, **kwargs)
    except SupportError as exc:
        form = ReasonForm(request.POST)
        form.is_valid()
        form_error_from(form, exc)
        return _render_detail(request, support_request, status=exc.status_code, form=form)
    messages.success(request, f"Request {done}.")
    return redirect("support_request_detail", pk=support_request.pk)


# --- Winter drive ------------------------------------------------------------------------------


@requires("requests.decide")
def winter_drive(request: HttpRequest) -> HttpResponse:
    """Pupils in need with no coat this season, each with their school's coats and sizes; raise the chosen
    in one step, each priced from its coat."""
    pupils = list(services.winter_drive_pupils(user=request.user)[: services.MAX_DRIVE])
    coats: dict[int, list[UniformItem]] = {}
    for item in (
        uniform_items_visible_to(request.user)
        .filter(school_id__in={p.school_id for p in pupils}, kind=ItemKind.COAT, is_active=True)
        .order_by("name", "pk")
    ):
        coats.setdefault(item.school_id, []).append(item)
    form = DriveForm(request.POST or None)
    selected: set[str] = set(request.POST.getlist("pupil")) if request.method == "POST" else set()
    rows = [
        {
            "pupil": p,
            "selected": str(p.pk) in selected,
            "coat": request.POST.get(f"coat-{p.pk}", ""),
            "choices": item_size_choices(coats.get(p.school_id, [])),
        }
        for p in pupils
    ]
    if request.method == "POST" and form.is_valid():
        shown = {str(p.pk): p for p in pupils}
        try:
            if not selected:
                raise SupportError("Choose at least one pupil.")
            if not selected <= set(shown):
                raise SupportError(
                    "Some of these pupils have had a coat this season or are not in your schools."
                )
            pupil_coats = {}
            for pk in selected:
                item_pk, _, size = request.POST.get(f"coat-{pk}", "").partition(":")
                item_id = id_in_range(item_pk) if item_pk.isdigit() else None
                if item_id is None:
                    raise SupportError("Choose a coat and size for every pupil you selected.")
                pupil_coats[int(pk)] = services.DriveCoat(item_id=item_id, size=size)
            created = services.requests_winter_drive(
                pupil_coats=pupil_coats, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            approved = sum(1 for r in created if r.status == Status.APPROVED)
            messages.success(
                request,
                f"{len(created)} coat request{'s' if len(created) != 1 else ''} raised, costing "
                f"{pounds(sum(r.cost_pence for r in created))}: {approved} approved"
                + (
                    f", {len(created) - approved} waiting for finance or a lead."
                    if approved != len(created)
                    else "."
                ),
            )
            return redirect("support_request_winter_drive")
    return render(
        request,
        "uniform/requests_winter_drive.html",
        {"rows": rows, "form": form, "max": services.MAX_DRIVE},
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("pupils/<int:pupil_pk>/requests/new/", request_create_page, name="support_request_create"),
    path("requests/", request_list, name="support_request_list"),
    path("requests/queue/", request_queue, name="support_request_queue"),
    path("requests/winter-drive/", winter_drive, name="support_request_winter_drive"),
    path("requests/<int:pk>/", request_detail, name="support_request_detail"),
    path("requests/<int:pk>/revise/", request_revise_page, name="support_request_revise"),
    path("requests/<int:pk>/<slug:step>/", request_step, name="support_request_step"),
]
