"""Posting a Django admin form as a browser would: every field as the page shows it, inline rows included,
then the changes a test makes (``post_admin_form(client, path, name="New", **{"items-0-quantity": 3})``)."""

from django import forms


def _form_values(form) -> dict:
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        key = form.add_prefix(name)
        if isinstance(field, forms.BooleanField):
            if value:
                data[key] = "on"
            continue
        if isinstance(field, forms.SplitDateTimeField):
            continue
        value = field.prepare_value(value)  # a JSON field's text, a related object's key
        data[key] = "" if value is None else value
    return data


def post_admin_form(client, path: str, **changes):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    data = _form_values(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
        for form in formset.forms:
            data.update(_form_values(form))
    data.update(changes)
    return client.post(path, data)
