import pytest
from django.urls import reverse

from asks.services import ask_close, ask_submit

pytestmark = pytest.mark.django_db


def _ask(link, name):
    return ask_submit(link=link, kind="food", asker_name=name, child_name="Sam", contact_way="any")


def test_the_api_lists_a_leads_own_schools_asks_and_filters_them(client_for, lead_a, link_a, link_b):
    waiting, closed = _ask(link_a, "Ada"), _ask(link_a, "Cy")
    _ask(link_b, "Bea")
    ask_close(ask=closed, actor=lead_a, reason="No family matches")
    client = client_for(lead_a)
    rows = client.get(reverse("ask-list")).json()["results"]
    assert [row["asker_name"] for row in rows] == ["Ada", "Cy"]
    rows = client.get(reverse("ask-list"), {"status": "waiting"}).json()["results"]
    assert [row["id"] for row in rows] == [waiting.pk]


def test_the_api_is_the_leads_only(client_for, pastoral_a, finance, link_a):
    ask = _ask(link_a, "Ada")
    for user in (pastoral_a, finance):
        assert client_for(user).get(reverse("ask-list")).status_code == 403
        assert client_for(user).get(reverse("ask-detail", args=[ask.pk])).status_code == 403
