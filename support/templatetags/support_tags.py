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
