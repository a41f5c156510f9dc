"""A trust admin imports pupils from a school information system's CSV export: a file with bad rows is
refused with every problem listed (and nothing imported); a good file shows what will change, then is
applied."""

import pytest

from support.models import Pupil
from tests.e2e.browser import follow, sign_in
from tests.factories import make_upn
from tests.support.test_pupil_import import csv_bytes, make_check, row, with_wrong_check_letter

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def upload(page, name: str, data: bytes) -> None:
    page.get_by_label("School").select_option(label="Alpha Primary Academy")
    page.get_by_label("Pupil export (CSV)").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    follow(page.get_by_role("button", name="Upload and preview"))


def test_admin_sees_every_problem_in_a_bad_pupil_file_then_previews_and_applies_a_good_one(
    page, check_page, admin, school_a, school_b
):
    sign_in(page, admin, next_path="/imports/")
    assert page.get_by_role("heading", level=1).inner_text() == "Import pupils"
    check_page(page, "upload-form")

    # Sent without a file: the error summary links to the field, and the field says what is wrong.
    follow(page.get_by_role("button", name="Upload and preview"))
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert page.title().startswith("Error: Import pupils")
    summary.get_by_role("link").first.click()
    focused = page.evaluate("document.activeElement.id")
    assert focused in ("id_school", "id_file"), focused
    assert page.locator(f"#{focused}_error").is_visible()
    assert f"{focused}_error" in (page.locator(f"#{focused}").get_attribute("aria-describedby") or "")
    check_page(page, "upload-missing")

    bad_check = with_wrong_check_letter(make_upn())
    bad = csv_bytes(
        [
            row(make_upn(), "Good", "One"),
            row(bad_check, "Bad", "Check"),
            {**row(forename="Bad", surname="Year"), "Year": "Y15"},
            {**row(forename="Bad", surname="Date"), "DOB": "31/02/2019"},
        ]
    )
    upload(page, "autumn-bad.csv", bad)
    assert page.get_by_role("heading", level=1).inner_text() == "autumn-bad.csv"
    assert page.title().startswith("Error: autumn-bad.csv")
    assert "Nothing was imported: 3 problems to fix" in page.locator(".govuk-error-summary").inner_text()
    problems = page.locator("table.govuk-table tbody tr")
    assert problems.count() == 3
    listed = [problems.nth(i).locator("td").all_inner_texts() for i in range(3)]
    assert [cells[0] for cells in listed] == ["3", "4", "5"]
    assert f"expected {make_check(bad_check)}" in listed[0][2]
    assert "Unknown year group" in listed[1][2]
    assert "not a real date" in listed[2][2]
    assert not Pupil.objects.exists()
    check_page(page, "bad-file")

    follow(page.get_by_role("link", name="Import pupils", exact=True).first)
    good = csv_bytes(
        [
            row(make_upn(), "Amy", "Smith", contact="Sam Smith", postcode="RV1 2AB", family="F1"),
            row(make_upn(), "Ben", "Smith", year=2, contact="Sam Smith", postcode="RV1 2AB", family="F1"),
            row(make_upn(), "Cal", "Jones", year=6, contact="Jo Jones", postcode="RV4 4DD"),
        ]
    )
    upload(page, "autumn.csv", good)
    assert page.get_by_role("heading", name="What will change").is_visible()
    changes = page.locator(".govuk-summary-list").inner_text()
    assert "New pupils\n3" in changes.replace("\t", "\n")
    new_pupils = page.locator("table", has=page.locator("caption", has_text="New pupils"))
    assert new_pupils.locator("tbody tr").count() == 3
    assert "Ben Smith" in new_pupils.inner_text()
    assert not Pupil.objects.exists()
    check_page(page, "preview")

    follow(page.get_by_role("button", name="Apply these changes"))
    assert page.get_by_text("The import has been applied.").is_visible()
    assert Pupil.objects.filter(school=school_a).count() == 3
    check_page(page, "applied")
