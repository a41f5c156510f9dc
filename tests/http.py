"""Requests made by hand, for code that takes a request without going through a URL (admin forms, viewsets'
querysets, a view called directly). Tests use the ``request_for`` fixture; helpers may call
``make_request``."""

from rest_framework.request import Request
from rest_framework.test import APIRequestFactory


def make_request(user, path: str = "/", *, method: str = "get", api: bool = False, **query):
    """A request from ``user`` (None: anonymous) for ``path`` with ``query``; wrapped as DRF's ``Request``
    when ``api``, as a viewset's ``self.request`` is."""
    from django.contrib.auth.models import AnonymousUser

    request = getattr(APIRequestFactory(), method)(path, query)
    request.user = user if user is not None else AnonymousUser()
    if api:
        request = Request(request)
        request.user = user if user is not None else AnonymousUser()
    return request


def work_on_home(client) -> dict[str, tuple[int, str]]:
    """Home's "Waiting for you" list as ``client``'s user sees it: {name: (count, link)}."""
    from django.urls import reverse

    response = client.get(reverse("home"))
    assert response.status_code == 200
    return {
        work.name: (work.count, work.url)
        for shown in response.context["panels"]["work"]
        for work in shown.context
    }
