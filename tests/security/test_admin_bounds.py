"""The admin's forms bound numbers and dates alike on both databases (issue 13, item 6, found again by
hand): on SQLite a voucher type's window of 99,999,999 days was saved, and its issue page answered 500.
Generated from the admin site's registry, so a model or field added later is covered."""


import pytest
from django import forms
from django.contrib import admin as django_admin
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.test import Client, RequestFactory

from support.bounds import date_in_window
from tests.factories import FamilyFactory, PupilFactory, consent_to
from vouchers.models import VoucherType

PROJECT_APPS = ("support", "vouchers", "uniform")


def _admin_forms(user):
    """(where, form class) for every project ModelAdmin's change form and its inlines' forms."""
    request = RequestFactory().get("/admin/")
    request.user = user
    for model, model_admin in django_admin.site._registry.items():
        if type(model_admin).__module__.split(".")[0] not in PROJECT_APPS:
            continue
        yield f"{type(model_admin).__qualname__}", model, model_admin.get_form(request)
        for inline in model_admin.get_inline_instances(request):
            yield f"{type(inline).__qualname__}", inline.model, inline.get_formset(request).form


@pytest.mark.django_db
def test_every_admin_form_bounds_its_numbers_and_dates(admin):
    problems, walked = [], 0
    for where, model, form_class in _admin_forms(admin):
        for name, field in form_class.base_fields.items():
            try:
                db_field = model._meta.get_field(name)
            except Exception:
                continue
            if db_field.is_relation:
                continue
            if isinstance(db_field, models.IntegerField) and isinstance(field, forms.IntegerField):
                walked += 1
                high = BaseDatabaseOperations.integer_field_ranges[db_field.get_internal_type()][1]
                if field.max_value is None or field.max_value > high:
                    problems.append(f"{where}.{name}: at most {field.max_value}, its column holds {high}")
            elif isinstance(field, forms.DateField | forms.DateTimeField | forms.SplitDateTimeField):
                walked += 1
                if date_in_window not in field.validators:
                    problems.append(f"{where}.{name}: a date without support.bounds' window")
    assert walked > 15
    assert not problems, "\n".join(problems)


def _post_change(client, path, **changes):
    page = client.get(path)
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
            continue
        if isinstance(field, forms.SplitDateTimeField):
            continue
        data[name] = "" if value is None else getattr(value, "pk", value)
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
    data.update(changes)
    return client.post(path, data)


@pytest.mark.django_db
def test_it_refuses_a_voucher_type_window_of_millions_of_days_and_the_issue_page_still_answers(
    admin, pastoral_a, school_a, partner_1
):
    voucher_type = VoucherType.objects.create(
        partner=partner_1, service="food_parcel", name="Food parcel", face_value_pence=25_00, validity_days=28
    )
    family = FamilyFactory()
    consent_to(family, admin, partner_1)
    PupilFactory(family=family, school=school_a)
    client = Client(raise_request_exception=False)
    client.force_login(admin)

    response = _post_change(
        client, f"/admin/vouchers/vouchertype/{voucher_type.pk}/change/", limit_window_days="99999999"
    )

    assert response.status_code == 200
    assert "less than or equal to 32767" in response.content.decode()
    voucher_type.refresh_from_db()
    assert voucher_type.limit_window_days is None
    client.force_login(pastoral_a)
    assert client.get(f"/families/{family.pk}/vouchers/new/").status_code == 200


@pytest.mark.django_db
def test_it_refuses_a_pupil_born_in_9999_in_the_admin(admin, school_a):
    pupil = PupilFactory(family=FamilyFactory(), school=school_a)
    client = Client(raise_request_exception=False)
    client.force_login(admin)

    response = _post_change(client, f"/admin/support/pupil/{pupil.pk}/change/", date_of_birth="9999-12-31")

    assert response.status_code == 200
    assert "Enter a date between 1900 and 2199." in response.content.decode()
    pupil.refresh_from_db()
    assert pupil.date_of_birth.year < 9999
