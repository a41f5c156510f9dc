"""Uniform's panels (see support.registry): the request link in each pupil's card on the family page, and
its counts of the work waiting on home."""

from datetime import date

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from support.dates import academic_year_start_for
from support.models import Family
from support.permissions import has_perm
from support.registry import WorkWaiting
from support.scopes import scope_for
from uniform import selectors
from uniform.models import SupportRequest


def pupil_request_links(request: HttpRequest, family: Family, pupils: list) -> dict[int, dict]:
    """ "Request a coat, shoes or uniform" for each pupil marked in need, for staff who may ask."""
    if not has_perm(request.user, "requests.create"):
        return {}
    return {
        pupil.pk: {"url": reverse("support_request_create", args=[pupil.pk]), "pupil": pupil}
        for pupil in pupils
        if pupil.in_need
    }


# --- Home: the work waiting (support.registry's "work" slot) ---------------------------------------


def home_requests_waiting(request: HttpRequest) -> list[WorkWaiting]:
    """Requests a lead has to decide, and requests finance sent back to the school staff who asked."""
    user = request.user
    work = []
    if has_perm(user, "requests.decide"):
        work.append(
            WorkWaiting(
                "Requests to decide",
                selectors.support_requests_to_decide(user).count(),
                reverse("support_request_queue"),
                "Coats, shoes and uniform asked for at the schools you lead: approve or reject them.",
            )
        )
    if scope_for(user).is_school_staff and has_perm(user, "requests.create"):
        work.append(
            WorkWaiting(
                "Requests sent back for changes",
                selectors.support_requests_sent_back(user).count(),
                f"{reverse('support_request_list')}?status={SupportRequest.Status.CHANGES.value}",
                "Finance asked for a change before approving: change them and send them again.",
            )
        )
    return work


def home_packs_waiting(request: HttpRequest, *, today: date | None = None) -> list[WorkWaiting]:
    """This academic year's welcome packs still waiting for sizes, for those who do a lead's work."""
    user = request.user
    if not has_perm(user, "uniform.generate_gifts"):
        return []
    year = academic_year_start_for(today or timezone.localdate())
    return [
        WorkWaiting(
            "Welcome packs waiting for sizes",
            selectors.gifts_awaiting_sizes(user, academic_year=year).count(),
            f"{reverse('uniform_overview')}?year={year}",
            "Reception and Year 7 pupils whose uniform sizes are still to be recorded, class by class.",
        )
    ]
