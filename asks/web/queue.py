"""The pastoral leads' queue of asks, one ask's page and its actions, and the poster for staff."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from asks import services
from asks.forms import CloseForm, MatchForm, ReplyForm, RequestForm, VoucherForm
from asks.models import Ask
from asks.selectors import ask_schools_visible_to, asks_open_for, asks_visible_to
from asks.transitions import ASK_FLOW
from support.access import requires
from support.contacts import family_recipient
from support.errors import SupportError
from support.forms import form_error_from
from support.http import site_url
from uniform.selectors import uniform_items_visible_to
from vouchers.qr import qr_svg
from vouchers.selectors import voucher_types_available

# The page's action -> the move it makes.
ACTIONS = {
    "match": "match",
    "request": "to-request",
    "voucher": "to-voucher",
    "reply": "reply",
    "close": "close",
}


@requires("asks.decide")
def ask_queue(request: HttpRequest) -> HttpResponse:
    asks = asks_open_for(request.user).select_related("school", "family")
    schools = ask_schools_visible_to(request.user).order_by("name")
    return render(request, "asks/queue.html", {"asks": asks, "schools": schools})


def _forms(request: HttpRequest, ask: Ask, data=None, action: str = "") -> dict:
    """Each action's form, bound only for the action posted."""
    user = request.user

    def bound(name: str):
        return data if action == name else None

    forms = {"close": CloseForm(bound("close"), prefix="close")}
    if ask.status in ASK_FLOW["match"].sources:
        forms["match"] = MatchForm(
            bound("match"), pupils=services.ask_pupils(ask=ask, user=user), prefix="match"
        )
    if ask.status == Ask.Status.MATCHED:
        if ask.wants_item:
            items = list(
                uniform_items_visible_to(user).filter(school_id=ask.school_id, kind=ask.kind, is_active=True)
            )
            forms["request"] = RequestForm(bound("request"), items=items, prefix="request")
        forms["voucher"] = VoucherForm(bound("voucher"), types=voucher_types_available(), prefix="voucher")
        forms["reply"] = ReplyForm(bound("reply"), prefix="reply")
    return forms


def _render(request: HttpRequest, ask: Ask, forms: dict, *, status: int = 200) -> HttpResponse:
    recipients = []
    if ask.family_id:
        recipients = [
            (label, family_recipient(ask.family, channel=channel))
            for label, channel in (("E-mail", "email"), ("Text message", "sms"))
        ]
    context = {"ask": ask, "forms": forms, "recipients": recipients, "open": ask.is_open}
    return render(request, "asks/detail.html", context, status=status)


def _visible(request: HttpRequest, pk: int) -> Ask:
    return get_object_or_404(asks_visible_to(request.user).select_related("school", "family", "pupil"), pk=pk)


@requires("asks.decide")
def ask_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ask = _visible(request, pk)
    return _render(request, ask, _forms(request, ask))


def _act(request: HttpRequest, ask: Ask, action: str, form) -> str:
    """Run the action's service; returns the message to show."""
    data = form.cleaned_data
    if action == "match":
        services.ask_match(ask=ask, actor=request.user, pupil=data["pupil"])
        return "Matched. The person who asked is not told."
    if action == "request":
        item, size = form.item_and_size()
        made = services.ask_to_request(
            ask=ask, actor=request.user, item=item, size=size, urgency=data["urgency"]
        )
        return f"Request made: {made.get_kind_display().lower()}, {made.get_status_display().lower()}."
    if action == "voucher":
        services.ask_to_voucher(
            ask=ask, actor=request.user, voucher_type=data["voucher_type"],
            referral_reason=data["referral_reason"],
        )  # fmt: skip
        return "Voucher issued."
    if action == "reply":
        services.ask_reply(ask=ask, actor=request.user, channel=data["channel"], body=data["body"])
        return "Reply sent to the family's contact."
    services.ask_close(ask=ask, actor=request.user, reason=data["reason"])
    return "Ask closed."


@require_POST
@requires("asks.decide")
def ask_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    ask = _visible(request, pk)
    forms = _forms(request, ask, request.POST, action)
    form = forms.get(action)
    if form is None:
        messages.error(request, ASK_FLOW.refusal(ask, ACTIONS[action]).message)
        return redirect("ask_detail", ask.pk)
    if form.is_valid():
        try:
            done = _act(request, ask, action, form)
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, done)
            return redirect("ask_detail", ask.pk) if action == "match" else redirect("ask_queue")
    return _render(request, ask, forms, status=400)


@requires("asks.poster")
def ask_poster(request: HttpRequest, school_pk: int) -> HttpResponse:
    school = get_object_or_404(ask_schools_visible_to(request.user), pk=school_pk)
    link = services.ask_link_for(school)
    url = site_url(request) + reverse("ask_public", args=[link.code])
    return render(
        request, "asks/poster.html", {"school": school, "link": link, "url": url, "qr": qr_svg(url)}
    )


urlpatterns = [
    path("asks/", ask_queue, name="ask_queue"),
    path("asks/<int:pk>/", ask_detail, name="ask_detail"),
    path("asks/<int:pk>/<slug:action>/", ask_act, name="ask_act"),
    path("asks/poster/<int:school_pk>/", ask_poster, name="ask_poster"),
]
