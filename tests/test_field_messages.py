"""Every error message names its field: no form of the site, and no API answer, says only
"This field is required." (support.field_messages, applied by support.bounds.BoundedFormMixin)."""

import datetime
import inspect

import pytest
from django import forms
from django.contrib.admin import site
from django.test import RequestFactory
from django.urls import get_resolver
from rest_framework.test import APIClient

from funds.models import Fund, Pledge
from support.field_messages import DJANGO_REQUIRED, required_message
from support.models import PartnerCharity, School
from tests.funds.factories import FundFactory
from vouchers.models import VoucherType

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("support", "funds", "vouchers", "uniform", "config")


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _project_forms() -> list[type[forms.BaseForm]]:
    get_resolver().url_patterns  # import every view module, and with it every form  # noqa: B018
    found = {c for c in _subclasses(forms.BaseForm) if c.__module__.split(".")[0] in PROJECT_APPS}
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


def _arguments(admin, school) -> dict:
    """What a form's constructor may ask for, by the name it gives it."""
    fund = Fund.objects.first() or FundFactory()
    return {
        "funds": Fund.objects.all(),
        "default": fund,
        "default_fund": fund,
        "today": datetime.date(2026, 3, 2),
        "pledges": Pledge.objects.none(),
        "schools": School.objects.all(),
        "school": school,
        "years": [2025, 2026],
        "partners": PartnerCharity.objects.all(),
        "only": None,
        "months": [datetime.date(2026, 2, 1)],
        "user": admin,
        "items": [],
        "adjust": False,
        "kind": "uniform",
        "voucher_types": VoucherType.objects.all(),
        "can_override": True,
        "deliveries": [("print", "Print it")],
        "channels": [("email", "E-mail"), ("sms", "Text message")],
    }


def _empty_form(cls, arguments):
    parameters = inspect.signature(cls.__init__).parameters
    # Keyword-only arguments a base class asks for pass through a subclass's **kwargs.
    wanted = {
        name
        for klass in cls.__mro__
        if "__init__" in vars(klass)
        for name, p in inspect.signature(klass.__init__).parameters.items()
        if p.kind == p.KEYWORD_ONLY and p.default is p.empty
    }
    missing = sorted(wanted - set(arguments))
    kwargs = {name: arguments[name] for name in wanted if name in arguments}
    assert not missing, f"{cls.__qualname__} asks for {missing}: add them to _arguments"
    if "data" in parameters and parameters["data"].default is parameters["data"].empty:
        return cls({}, **kwargs)
    return cls(data={}, files={}, **kwargs)


def test_no_form_of_the_site_answers_an_empty_submission_with_a_bare_required(admin, school_a):
    arguments = _arguments(admin, school_a)
    bare, named = [], 0
    for cls in _project_forms():
        if cls.__name__.startswith("_") or (issubclass(cls, forms.ModelForm) and cls._meta.model is None):
            continue  # a base, or an admin form whose model its ModelAdmin gives (scanned below)
        form = _empty_form(cls, arguments)
        bare_here, named_here = _required_errors(form)
        bare += [f"{cls.__module__}.{cls.__qualname__}.{field}" for field in bare_here]
        named += named_here
    assert not bare, f"bare 'This field is required.' from: {bare}"
    assert named > 20  # the scan did submit forms with required fields


def _required_errors(form) -> tuple[list[str], int]:
    form.is_valid()
    bare, named = [], 0
    for field, errors in form.errors.as_data().items():
        for error in errors:
            if DJANGO_REQUIRED in " ".join(error.messages):
                bare.append(field)
            elif error.code == "required":
                named += 1
    return bare, named


def test_no_admin_form_answers_an_empty_submission_with_a_bare_required(admin):
    request = RequestFactory().post("/admin/")
    request.user = admin
    bare, named = [], 0
    for model, model_admin in site._registry.items():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        form = model_admin.get_form(request)(data={}, files={})
        bare_here, named_here = _required_errors(form)
        bare += [f"{model.__name__}.{field}" for field in bare_here]
        named += named_here
    assert not bare, f"bare 'This field is required.' in the admin: {bare}"
    assert named > 5


@pytest.mark.parametrize(
    ("field", "name", "expected"),
    [
        (forms.CharField(label="Postcode"), "postcode", "Enter the postcode"),
        (forms.CharField(label="Lead carer's full name"), "lead", "Enter the lead carer's full name"),
        (forms.CharField(label="UPN"), "upn", "Enter the UPN"),
        (forms.IntegerField(label="Priority (1 is contacted first)"), "priority", "Enter the priority"),
        (forms.ChoiceField(label="School", choices=[]), "school", "Select the school"),
        (
            forms.ChoiceField(label="Which lead did you tell?", choices=[]),
            "lead",
            "Select an answer to “Which lead did you tell?”",
        ),
        (forms.DateField(label=None), "received_on", "Enter the received on"),
        (forms.CharField(label="Your reason"), "reason", "Enter your reason"),
    ],
)
def test_the_message_is_built_from_the_label(field, name, expected):
    assert required_message(field, name) == expected


def test_a_message_the_form_chose_is_kept():
    from support.forms import SafeguardingLeadsForm

    form = SafeguardingLeadsForm(data={})
    form.is_valid()
    assert form.errors["lead"] == ["Enter the designated safeguarding lead's name"]


def test_the_api_names_the_field_it_needs(pastoral_a, family_a):
    client = APIClient()
    client.force_authenticate(pastoral_a)
    response = client.post("/api/v1/vouchers/", {}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert "This field is" not in str(body)
    assert body["family"] == ["family is required."]
    assert body["voucher_type"] == ["voucher_type is required."]
