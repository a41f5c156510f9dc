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


@register.filter(name="pounds")
def pounds_filter(pence: int | None) -> str:
    """{{ voucher.face_value_pence|pounds }} → £25.00"""
    from support.money import pounds

    return pounds(pence)
