"""The pastoral leads' queue of asks, one ask's page and its actions, and the poster for staff."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from asks import services
from asks.forms import CloseForm, MatchForm, ReplyForm, RequestForm, SignpostForm, VoucherForm
from asks.models import Ask
from asks.selectors import ask_schools_visible_to, asks_open_for, asks_visible_to
from asks.transitions import ASK_FLOW
from signposting.selectors import agencies_for_family, signposts_visible_to
from support.access import requires
from support.confirm import confirm_page, confirmed
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
    "signpost": "to-signpost",
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
        forms["signpost"] = SignpostForm(
            bound("signpost"), agencies=agencies_for_family(user, ask.family), prefix="signpost"
        )
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
    if ask.outcome == Ask.Outcome.SIGNPOST:
        # The signpost the ask became, as the lead may see it: its page and the sheet to print.
        _, _, ref = ask.outcome_ref.partition(":")
        context["signpost"] = (
            signposts_visible_to(request.user).select_related("agency").filter(pk=ref or None).first()
        )
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
    if action == "signpost":
        signpost = services.ask_to_signpost(
            ask=ask, actor=request.user, agency=data["agency"], note=data["note"], send=data["send"]
        )
        sent = " and its sheet e-mailed to the family's contact" if data["send"] else ""
        return f"Signposted to {signpost.agency.name}{sent}. Nothing was shared with the agency."
    if action == "reply":
        services.ask_reply(ask=ask, actor=request.user, channel=data["channel"], body=data["body"])
        return "Reply sent to the family's contact."
    services.ask_close(ask=ask, actor=request.user, reason=data["reason"])
    return "Ask closed."


def _signpost_check_page(request: HttpRequest, ask: Ask, form: SignpostForm) -> HttpResponse:
    """Check before recording (the service's rules first: a safeguarding service raises its guidance)."""
    data = form.cleaned_data
    values = services.ask_signpost_check(
        ask=ask, actor=request.user, agency=data["agency"], note=data["note"], send=data["send"]
    )
    agency = values["agency"]
    summary = [
        ("What", "A signpost: the family is given the agency's details"),
        ("Agency", agency.name),
        ("Family", f"The family of {ask.family.lead_carer_name}"),
        ("School", values["school"].name),
        ("Shared with the agency", f"Nothing: the family contacts {agency.name} themselves"),
        ("The sheet", "E-mailed to the family's contact" if data["send"] else "Printed from the ask's page"),
    ]
    if values["note"]:
        summary.append(("Note", values["note"]))
    names = (f"signpost-{name}" for name in ("agency", "send", "note"))
    fields = {name: form.data.get(name, "") for name in names}
    return confirm_page(
        request,
        title="Check before you record the signpost",
        caption=ask.school.name,
        summary=summary,
        consequences=["The ask is done: it cannot be turned into anything else afterwards."],
        action=reverse("ask_act", args=[ask.pk, "signpost"]),
        button="Record the signpost",
        back_url=reverse("ask_detail", args=[ask.pk]),
        fields=fields,
        destructive=False,
    )


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
            if action == "signpost" and not confirmed(request):
                return _signpost_check_page(request, ask, form)
            done = _act(request, ask, action, form)
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, done)
            stay = action in ("match", "signpost")  # a signpost's page offers its sheet to print
            return redirect("ask_detail", ask.pk) if stay else redirect("ask_queue")
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
