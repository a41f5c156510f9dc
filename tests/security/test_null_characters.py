"""A null character (%00) in a query string is a 400, never a 500 (issue 13, item 6, found again by hand).

PostgreSQL refuses a null character in any text comparison, so a filter that hands one to the database
answers 500 there; on SQLite it is silently accepted, so only a rule that refuses it before any view
runs is tested the same on both. The admin's lookups are generated from its registry (text fields of
every model, as changelist filters); the API and the pages by example.
"""

import pytest
from django.contrib import admin as django_admin
from django.db import models
from django.test import Client
from django.urls import reverse

from tests.factories import FamilyFactory, PupilFactory


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _changelist_lookups() -> list[str]:
    """Every admin changelist, filtered by each of its model's text fields (the admin takes a model
    field's lookup from the query string)."""
    urls = []
    for model, model_admin in django_admin.site._registry.items():
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        text_fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField) and not field.choices
        ]
        urls += [f"{changelist}?{name}=a%00b" for name in text_fields[:3]]
        if model_admin.search_fields:
            urls.append(f"{changelist}?q=a%00b")
    return urls


def test_it_finds_the_admins_text_lookups():
    urls = _changelist_lookups()
    assert any("/admin/support/family/?lead_carer_name=" in url for url in urls)
    assert len(urls) > 20


@pytest.mark.django_db
def test_it_refuses_a_null_character_in_any_admin_changelist_lookup(admin, school_a):
    PupilFactory(family=FamilyFactory(), school=school_a)
    client = _client(admin)
    failures = []
    for url in _changelist_lookups():
        response = client.get(url)
        if response.status_code != 400:
            failures.append(f"GET {url} -> {response.status_code}")
    assert not failures, failures


@pytest.mark.django_db
def test_it_answers_a_null_character_on_the_api_as_json(admin, finance):
    for user, url in (
        (admin, "/api/v1/families/?search=a%00b"),
        (admin, "/api/v1/pupils/?upn=%00"),
        (finance, "/api/v1/ledger-entries/?ordering=%00"),
    ):
        response = _client(user).get(url)
        assert response.status_code == 400, url
        assert "null character" in response.json()["detail"]
        assert response.json()["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.django_db
def test_it_answers_a_null_character_on_a_page_with_a_message(lead_a):
    response = _client(lead_a).get("/families/?q=Smith%00")
    assert response.status_code == 400
    assert b"null character" in response.content
    assert response.headers["Content-Security-Policy"]  # answered inside the security headers
