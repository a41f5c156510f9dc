"""The core's counts on home's "Waiting for you" list (``support.registry``'s ``work`` slot): possible
duplicate families and pupil imports ready to apply, for those who do a lead's work.

Each count is one query through the scoped selector its queue also reads, and links to that queue
filtered to what it counted; the feature apps add theirs the same way (``<app>/registrations.py``).
"""

from django.http import HttpRequest
from django.urls import reverse

from support import registry, selectors
from support.models import PupilImport
from support.permissions import has_perm
from support.registry import WorkWaiting


def imports_ready_url() -> str:
    return f"{reverse('import_list')}?status={PupilImport.Status.PREVIEWED.value}"


def home_lead_work(request: HttpRequest) -> list[WorkWaiting]:
    user = request.user
    work = []
    if has_perm(user, "families.merge"):
        work.append(
            WorkWaiting(
                "Possible duplicate families",
                selectors.family_duplicates_waiting(user).count(),
                reverse("duplicate_list"),
                "Two records that may be one household: merge them or keep them apart.",
            )
        )
    if has_perm(user, "pupils.import"):
        work.append(
            WorkWaiting(
                "Pupil imports ready to apply",
                selectors.imports_ready_to_apply(user).count(),
                imports_ready_url(),
                "Files checked and previewed, waiting for you to apply them before the preview expires.",
            )
        )
    return work


def register_core() -> None:
    registry.register_home_panel("lead_work", context=home_lead_work, slot="work", order=50)
