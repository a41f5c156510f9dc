import phonenumbers
from django import template

register = template.Library()


@register.filter
def uk_phone(value: str) -> str:
    """+441134960001 → 0113 496 0001 (numbers are stored in E.164, shown as people write them)."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@register.filter
def person(user) -> str:
    """{{ voucher.issued_by|person }} → Priya Shah (a full name, never a username; "" for nobody)."""
    from support.people import person_name

    return person_name(user)


@register.filter(name="pounds")
def pounds_filter(pence: int | None) -> str:
    """{{ voucher.face_value_pence|pounds }} → £25.00"""
    from support.money import pounds

    return pounds(pence)


@register.simple_tag
def safeguarding_hint(schools, seen_by: str) -> str:
    """{% safeguarding_hint pupil.school "school" %}: the guidance beside a free-text note, naming the
    school's designated safeguarding leads. ``seen_by`` is a key of ``SEEN_BY`` in support.safeguarding."""
    from support import safeguarding

    return safeguarding.guidance(seen_by=safeguarding.SEEN_BY[seen_by], schools=schools)


@register.simple_tag(takes_context=True)
def guide_link(context, slug: str) -> str:
    """{% guide_link "imports" %}: "Help with this page", linking the task's guide (docs/guides/), for a
    user who may read it; nothing otherwise."""
    from django.urls import reverse
    from django.utils.html import format_html

    from support import registry
    from support.permissions import has_perm

    guide = registry.guide(slug)
    user = context.get("user")
    if guide is None or user is None or (guide.permission and not has_perm(user, guide.permission)):
        return ""
    return format_html(
        '<p class="govuk-body-s govuk-!-margin-top-1 govuk-!-margin-bottom-0">'
        '<a class="govuk-link" href="{}">Help with this page'
        '<span class="govuk-visually-hidden">: {}</span></a></p>',
        reverse("guide", args=[slug]),
        guide.title,
    )
