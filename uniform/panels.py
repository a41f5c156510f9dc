"""Uniform's panel in each pupil's card on the family page (see support.registry)."""

from django.http import HttpRequest
from django.urls import reverse

from support.models import Family
from support.permissions import has_perm


def pupil_request_links(request: HttpRequest, family: Family, pupils: list) -> dict[int, dict]:
    """ "Request a coat, shoes or uniform" for each pupil marked in need, for staff who may ask."""
    if not has_perm(request.user, "requests.create"):
        return {}
    return {
        pupil.pk: {"url": reverse("support_request_create", args=[pupil.pk]), "pupil": pupil}
        for pupil in pupils
        if pupil.in_need
    }
