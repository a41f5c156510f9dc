"""The one home of each job (issue 17), tested where the copies used to disagree: CSV exports, a
service's refusal on a form, months and years, and amounts of money typed in pounds or sent in pence."""

import datetime

import pytest
from django import forms
from django.utils import timezone
from rest_framework import serializers

from funds.services.ledger import financial_year_bounds, financial_year_for
from support.api.fields import PenceField
from support.csv_safe import BOM, csv_text, stream_csv
from support.dates import (
    academic_year_bounds,
    academic_year_start_for,
    month_bounds,
    month_instants,
    next_month,
    previous_month,
)
from support.errors import SupportError
from support.forms import PoundsField, form_error_from
from support.money import MAX_AMOUNT_PENCE, NOT_PENCE, TOO_PRECISE, parse_pence, parse_pounds, pounds

# --- Streaming CSV --------------------------------------------------------------------------------


def test_it_streams_a_csv_a_row_at_a_time_with_formulas_neutralised():
    read = []

    def rows():
        for row in (["=SUM(A1)", 2], ["-1", "plain"]):
            read.append(row)
            yield row

    response = stream_csv(rows(), filename="things.csv", header=["@name", "n"])
    assert response["Content-Disposition"] == 'attachment; filename="things.csv"'
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert read == []  # nothing read before the response is sent
    lines = [chunk.decode() for chunk in response.streaming_content]
    assert lines == ["'@name,n\r\n", "'=SUM(A1),2\r\n", "'-1,plain\r\n"]


def test_it_marks_a_csv_as_utf8_once_when_asked():
    assert csv_text([["£1.00"]], header=["Amount"], bom=True) == f"{BOM}Amount\r\n£1.00\r\n"
    assert csv_text([["£1.00"]], bom=True) == f"{BOM}£1.00\r\n"
    assert csv_text([], bom=True) == BOM
    assert csv_text([["a"]]) == "a\r\n"


# --- Form errors ----------------------------------------------------------------------------------


class _Form(forms.Form):
    amount = forms.CharField(required=False)
    date = forms.DateField(required=False)


@pytest.mark.parametrize(
    ("field", "fields", "where"),
    [
        ("amount", None, "amount"),
        ("amount_pence", {"amount_pence": "amount"}, "amount"),  # the service's name mapped to the form's
        ("given_on", {"given_on": "date"}, "date"),
        ("school", None, "__all__"),  # not on this form: above it, never a ValueError
        (None, None, "__all__"),
        ("", None, "__all__"),
    ],
)
def test_it_puts_a_services_refusal_beside_its_field_or_above_the_form(field, fields, where):
    form = _Form(data={})
    assert form.is_valid()
    form_error_from(form, SupportError("Not like that.", field=field), fields=fields)
    assert form.errors == {where: ["Not like that."]}


# --- Months and years -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (datetime.date(2026, 8, 31), 2025),
        (datetime.date(2026, 9, 1), 2026),
        (datetime.date(2027, 1, 1), 2026),
    ],
)
def test_the_academic_and_financial_year_are_one_year(day, year):
    assert academic_year_start_for(day) == financial_year_for(day) == year
    assert academic_year_bounds(year) == financial_year_bounds(year)
    first, last = academic_year_bounds(year)
    assert (first, last) == (datetime.date(year, 9, 1), datetime.date(year + 1, 8, 31))
    assert first <= day <= last


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        (datetime.date(2028, 2, 17), datetime.date(2028, 2, 1), datetime.date(2028, 2, 29)),  # leap
        (datetime.date(2027, 2, 1), datetime.date(2027, 2, 1), datetime.date(2027, 2, 28)),
        (datetime.date(2026, 12, 31), datetime.date(2026, 12, 1), datetime.date(2026, 12, 31)),
        (datetime.date(2026, 1, 31), datetime.date(2026, 1, 1), datetime.date(2026, 1, 31)),
    ],
)
def test_it_gives_a_months_first_and_last_day_from_any_day_in_it(day, first, last):
    """The ledger's copy needed the first of the month; now any day of it gives the same month."""
    assert month_bounds(day) == (first, last)
    assert next_month(day) == last + datetime.timedelta(days=1)
    assert previous_month(next_month(day)) == first


def test_a_months_instants_are_the_trusts_midnights_whatever_zone_is_active():
    """The redemptions page used the active zone, the statements the trust's: one answer now, the
    trust's, across the clocks going back (October: 31 days of 24 hours and one of 25)."""
    with timezone.override("UTC"):
        start, end = month_instants(datetime.date(2026, 10, 15))
    london = timezone.get_default_timezone()
    assert start == datetime.datetime(2026, 10, 1, tzinfo=london)
    assert end == datetime.datetime(2026, 11, 1, tzinfo=london)
    assert start.astimezone(datetime.UTC) == datetime.datetime(2026, 9, 30, 23, tzinfo=datetime.UTC)
    assert end.astimezone(datetime.UTC) == datetime.datetime(2026, 11, 1, 0, tzinfo=datetime.UTC)
    assert end.astimezone(datetime.UTC) - start.astimezone(datetime.UTC) == datetime.timedelta(
        days=31, hours=1
    )


# --- Pounds and pence -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("£10,000.00", 10_000_00),
        ("10000", 10_000_00),
        ("250.5", 250_50),
        (" £ 1,234.56 ", 1_234_56),
        ("0.01", 1),
        ("1.50", 1_50),
    ],
)
def test_it_reads_pounds_as_people_type_them(text, pence):
    assert parse_pounds(text) == pence


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.005", TOO_PRECISE),  # the donation form refused it, the uniform form rounded it up
        ("12.345", TOO_PRECISE),
        ("1.500", TOO_PRECISE),
        ("1,00", "Enter an amount in pounds, like 10,000 or 250.50"),
        ("1.", "Enter an amount in pounds, like 10,000 or 250.50"),
        ("1e3", "Enter an amount in pounds, like 10,000 or 250.50"),
        ("0", "Enter an amount more than £0"),
        ("-£0.50", "Enter an amount more than £0"),
        ("10,000,000.01", "Enter an amount no more than £10,000,000.00"),
    ],
)
def test_it_refuses_what_is_not_pounds_and_pence(text, message):
    with pytest.raises(ValueError, match=message):
        parse_pounds(text)


def test_it_reads_a_negative_or_zero_amount_only_when_asked():
    assert parse_pounds("0", minimum=0) == 0
    assert parse_pounds("-£0.50", minimum=None) == -50
    with pytest.raises(ValueError, match="Enter an amount of £0 or more"):
        parse_pounds("-1", minimum=0)


class _PoundsForm(forms.Form):
    amount = PoundsField()
    cost = PoundsField(required=False, minimum=0, maximum=100_00)


class _PenceSerializer(serializers.Serializer):
    amount_pence = PenceField()
    cost_pence = PenceField(required=False, allow_null=True, minimum=0, maximum=100_00)


@pytest.mark.parametrize(
    ("pounds_text", "pence_value", "message"),
    [
        ("1.005", 1.005, None),  # a third decimal place: each in its own unit's words, both refused
        ("0", 0, "Enter an amount more than £0"),
        ("-5", -500, "Enter an amount more than £0"),
        ("10,000,000.01", MAX_AMOUNT_PENCE + 1, "Enter an amount no more than £10,000,000.00"),
    ],
)
def test_the_form_and_the_serializer_refuse_the_same_amounts(pounds_text, pence_value, message):
    form = _PoundsForm(data={"amount": pounds_text})
    serializer = _PenceSerializer(data={"amount_pence": pence_value})
    assert not form.is_valid()
    assert not serializer.is_valid()
    if message is None:
        assert form.errors["amount"] == [TOO_PRECISE]
        assert serializer.errors["amount_pence"] == [NOT_PENCE]
    else:
        assert form.errors["amount"] == [message]
        assert serializer.errors["amount_pence"] == [message]


def test_the_form_and_the_serializer_accept_the_same_amounts():
    form = _PoundsForm(data={"amount": "£1,250.50", "cost": "0"})
    serializer = _PenceSerializer(data={"amount_pence": "125050", "cost_pence": 0})
    assert form.is_valid()
    assert serializer.is_valid()
    assert form.cleaned_data == {"amount": 125050, "cost": 0}
    assert serializer.validated_data == {"amount_pence": 125050, "cost_pence": 0}
    assert _PoundsForm(data={"amount": "1", "cost": ""}).is_valid()
    assert _PenceSerializer(data={"amount_pence": 1, "cost_pence": None}).is_valid()


@pytest.mark.parametrize("value", [10.5, "10.50", "1.005", True, "lots", None, [1]])
def test_the_api_refuses_pounds_where_it_takes_pence(value):
    with pytest.raises(ValueError, match=NOT_PENCE):
        parse_pence(value)


def test_the_api_reads_whole_pence_however_sent():
    assert parse_pence(1050) == parse_pence("1050") == parse_pence(1050.0) == 1050
    assert parse_pence(pounds(1050, symbol=False).replace(".", "")) == 1050
