"""Making the fund go further: second-hand uniform per school (what donated stock saved), a welcome pack's
second-hand choices, and the branded-items page (each school's required branded items against the law).

Schools come from ``schools_visible_to`` and gifts from the uniform selectors, so out of scope is a 404;
writes go through ``uniform.services``.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from support.access import requires
from support.dates import academic_year_bounds, academic_year_start_for
from support.errors import SupportError
from support.permissions import has_perm
from support.scopes import scope_for
from support.selectors import schools_visible_to
from uniform import selectors
from uniform.branded import LIMIT, LIMIT_WITH_TIE, branded_counts
from uniform.models import Condition, GiftLine
from uniform.services import gifts as services


@requires("uniform.view")
def uniform_secondhand(request: HttpRequest) -> HttpResponse:
    """Per school: donated second-hand uniform in stock, given out this academic year, and what it saved
    the fund (the items' price new)."""
    today = timezone.localdate()
    year = academic_year_start_for(today)
    start, _end = academic_year_bounds(year)
    rows = selectors.secondhand_by_school(request.user, start=start, end=today)
    return render(
        request,
        "uniform/secondhand.html",
        {
            "rows": rows,
            "year": year,
            "total_saved": sum(row.saved_pence for row in rows),
            "can_stock": has_perm(request.user, "uniform.stock"),
        },
    )


@requires("uniform.branded")
def uniform_branded(request: HttpRequest) -> HttpResponse:
    """Each school's required branded items against the legal limit: a lead's schools, or every school for
    a trust admin."""
    scope = scope_for(request.user)
    schools = schools_visible_to(request.user).filter(is_active=True).order_by("name")
    if not scope.is_admin:
        schools = schools.filter(pk__in=scope.lead_school_ids)
    return render(
        request,
        "uniform/branded.html",
        {"rows": branded_counts(schools), "limit": LIMIT, "limit_with_tie": LIMIT_WITH_TIE},
    )


@requires("uniform.hand_over")
def gift_secondhand(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose, item by item, to give donated second-hand stock in one pupil's welcome pack instead of new
    (only where the pack does not promise new)."""
    gifts = selectors.gifts_visible_to(request.user).select_related("pupil", "school")
    gift = get_object_or_404(gifts, pk=pk)
    back = (
        f"{reverse('uniform_class', args=[gift.school_id, gift.year_group])}?year={gift.academic_year}"
        f"#gift-{gift.pk}"
    )
    error = ""
    if request.method == "POST":
        lines = GiftLine.objects.filter(gift=gift).values_list("pk", flat=True)
        wanted = {
            pk: request.POST.get(f"condition-{pk}", Condition.NEW)[:10]
            for pk in lines
            if f"condition-{pk}" in request.POST
        }
        try:
            services.gift_secondhand_choose(gift=gift, conditions=wanted, actor=request.user)
        except SupportError as exc:
            error = exc.message
        else:
            messages.success(request, f"{gift.pupil}'s pack: new and second-hand choices saved.")
            return redirect(back)
    offer = services.gift_secondhand_offer(gift=gift)
    lines = list(GiftLine.objects.filter(gift=gift).select_related("item").order_by("item__name"))
    rows = [
        {
            "line": line,
            "choices": [(Condition.NEW.value, Condition.NEW.label, None)]
            + [
                (condition, Condition(condition).label, count)
                for condition, count in offer.get(line.pk, {}).items()
            ]
            + (
                [(line.condition, Condition(line.condition).label, 0)]
                if line.condition != Condition.NEW and line.condition not in offer.get(line.pk, {})
                else []
            ),
        }
        for line in lines
    ]
    return render(
        request,
        "uniform/gift_secondhand.html",
        {
            "gift": gift,
            "rows": rows,
            "offered": bool(offer),
            "back": back,
            "error": error,
        },
        status=400 if error else 200,
    )


urlpatterns = [
    path("uniform/second-hand/", uniform_secondhand, name="uniform_secondhand"),
    path("uniform/branded-items/", uniform_branded, name="uniform_branded"),
    path("uniform/gifts/<int:pk>/second-hand/", gift_secondhand, name="gift_secondhand"),
]
