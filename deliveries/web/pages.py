"""Referral pages: a school refers a family; the charity's inbox (phone first), a referral, its moves; the
charity's capacity per service."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from deliveries import services
from deliveries.filters import ReferralFilter
from deliveries.forms import MOVE_FORMS, CapacityForm, ReferralForm
from deliveries.selectors import (
    delivered_services_visible_to,
    referrals_visible_to,
    service_capacity,
    services_for_family,
)
from deliveries.transitions import REFERRAL_FLOW
from support.access import requires
from support.errors import SupportError
from support.forms import form_error_from
from support.models import Enrolment, School
from support.permissions import has_perm
from support.scopes import scope_for
from support.selectors import families_visible_to


def _family_schools(request: HttpRequest, family) -> list[School]:
    scope = scope_for(request.user)
    current = Enrolment.objects.current().filter(pupil__family=family).values("school")
    schools = School.objects.filter(pk__in=current).order_by("name")
    if not scope.is_admin:
        schools = schools.filter(pk__in=scope.school_ids)
    return list(schools)


@requires("deliveries.refer")
def referral_new(request: HttpRequest, pk: int) -> HttpResponse:
    family = get_object_or_404(families_visible_to(request.user), pk=pk)
    offered = [(s, service_capacity(s)) for s in services_for_family(request.user, family)]
    schools = _family_schools(request, family)
    initial = {
        "adults": family.adults,
        "children_5_to_11": family.children,
        "delivery_address": family.address,
        "delivery_postcode": family.postcode,
        "delivery_phone": family.phone,
    }
    form = ReferralForm(
        request.POST if request.method == "POST" else None, initial=initial, services=offered, schools=schools
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = services.referral_issue(
                family=family,
                items=form.chosen_items(),
                school=School.objects.get(pk=data["school"]),
                issued_by=request.user,
                delivery_address=data["delivery_address"],
                delivery_postcode=data["delivery_postcode"],
                delivery_phone=data["delivery_phone"],
                access_notes=data["access_notes"],
                adults=data["adults"],
                children_under_5=data["children_under_5"],
                children_5_to_11=data["children_5_to_11"],
                children_12_to_17=data["children_12_to_17"],
            )
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            waiting = [r.item.name for r in made if r.state == r.State.WAITING]
            text = f"Referred for {', '.join(r.item.name.lower() for r in made)}."
            if waiting:
                text += f" On the waiting list (the charity is full this week): {', '.join(waiting).lower()}."
            messages.success(request, text)
            return redirect("family_detail", pk=family.pk)
    status = 400 if form.errors else 200
    return render(
        request,
        "deliveries/referral_new.html",
        {"family": family, "form": form, "offered": offered, "schools": schools},
        status=status,
    )


@requires("deliveries.view")
def referral_inbox(request: HttpRequest) -> HttpResponse:
    referrals = referrals_visible_to(request.user).select_related(
        "item", "school", "service__voucher_type__partner"
    )
    filterset = ReferralFilter(request.GET or None, queryset=referrals, request=request).for_page()
    valid = not filterset.is_bound or filterset.is_valid()
    shown = filterset.qs if valid else referrals.none()
    page = Paginator(shown.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    counts = {state: 0 for state, _ in referrals.model.State.choices}
    for state in referrals.values_list("state", flat=True).order_by():
        counts[state] += 1
    tabs = [(value, label, counts[value]) for value, label in referrals.model.State.choices]
    return render(
        request,
        "deliveries/inbox.html",
        {
            "page": page,
            "form": filterset.form,
            "tabs": tabs,
            "current": filterset.form.cleaned_data.get("state") if filterset.is_bound and valid else "",
            "services": list(delivered_services_visible_to(request.user))
            if scope_for(request.user).is_charity
            else [],
        },
        status=200 if valid else 400,
    )


def _moves_for(request: HttpRequest, referral) -> list[tuple[str, str, object]]:
    moves = []
    for move in REFERRAL_FLOW.moves_from(referral.state):
        if not has_perm(request.user, move.permission):
            continue
        form_class = MOVE_FORMS[move.name]
        moves.append((move.name, move.doing, form_class(prefix=move.name) if form_class else None))
    return moves


@requires("deliveries.view")
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_object_or_404(
        referrals_visible_to(request.user).select_related("item", "school", "service__voucher_type__partner"),
        pk=pk,
    )
    return render(
        request,
        "deliveries/referral_detail.html",
        {
            "referral": referral,
            "moves": _moves_for(request, referral),
            "is_school": scope_for(request.user).is_school_staff or scope_for(request.user).is_admin,
        },
    )


@require_POST
@requires("deliveries.view")
def referral_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    referral = get_object_or_404(
        referrals_visible_to(request.user).select_related("item", "school", "service__voucher_type__partner"),
        pk=pk,
    )
    if move not in REFERRAL_FLOW.moves or move not in MOVE_FORMS:
        raise Http404
    if not has_perm(request.user, REFERRAL_FLOW[move].permission):
        return HttpResponse("You cannot do this.", status=403)
    form_class = MOVE_FORMS[move]
    form = form_class(request.POST, prefix=move) if form_class else None
    if form is not None and not form.is_valid():
        return _detail_with_error(request, referral, move, form)
    data = form.cleaned_data if form is not None else {}
    user = request.user
    try:
        if move in ("accept", "reschedule"):
            services.referral_accept(referral=referral, actor=user, expected_on=data["expected_on"])
        elif move == "wait":
            services.referral_wait(referral=referral, actor=user)
        elif move == "decline":
            services.referral_decline(referral=referral, actor=user, reason=data["reason"])
        elif move == "deliver":
            services.referral_deliver(
                referral=referral,
                actor=user,
                delivered_on=data["delivered_on"],
                delivered_what=data["delivered_what"],
            )
        elif move == "not-reached":
            services.referral_not_reached(referral=referral, actor=user, note=data["note"])
        else:
            services.referral_cancel(referral=referral, actor=user, reason=data["reason"])
    except SupportError as exc:
        if form is None:
            messages.error(request, exc.message)
            return redirect("referral_detail", pk=referral.pk)
        form_error_from(form, exc)
        return _detail_with_error(request, referral, move, form)
    messages.success(request, f"{referral.item.name}: {referral.get_state_display().lower()}.")
    return redirect("referral_detail", pk=referral.pk)


def _detail_with_error(request: HttpRequest, referral, move: str, form) -> HttpResponse:
    moves = [
        (name, doing, form if name == move else other) for name, doing, other in _moves_for(request, referral)
    ]
    return render(
        request,
        "deliveries/referral_detail.html",
        {
            "referral": referral,
            "moves": moves,
            "open_move": move,
            "is_school": scope_for(request.user).is_school_staff,
        },
        status=400,
    )


@requires("deliveries.manage")
def service_capacity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(delivered_services_visible_to(request.user), pk=pk)
    initial = {
        "capacity_per_week": service.capacity_per_week,
        "paused_until": service.paused_until,
        "pause_note": service.pause_note,
    }
    form = CapacityForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.delivered_service_set_capacity(service=service, actor=request.user, **form.cleaned_data)
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"{service.voucher_type.name}: capacity saved.")
            return redirect("referral_inbox")
    return render(
        request,
        "deliveries/capacity.html",
        {"service": service, "form": form, "capacity": service_capacity(service)},
        status=400 if form.errors else 200,
    )


urlpatterns = [
    path("families/<int:pk>/refer-for-delivery/", referral_new, name="referral_new"),
    path("deliveries/", referral_inbox, name="referral_inbox"),
    path("deliveries/<int:pk>/", referral_detail, name="referral_detail"),
    path("deliveries/<int:pk>/<str:move>/", referral_move, name="referral_move"),
    path("deliveries/services/<int:pk>/capacity/", service_capacity_edit, name="delivered_service_capacity"),
]
