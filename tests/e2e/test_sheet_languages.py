"""A family that reads Arabic takes away an agency's details in English and Arabic (issue 19).

Staff set the family's language on its page, open the college's adult learning from *Signpost or refer*,
see that the sheet comes in English and Arabic, print it (the PDF says it again in Arabic) and e-mail it
(the e-mail follows the English with the same in Arabic). Screenshots and the PDF go to e2e-artifacts/.
"""

import pytest
from django.core import mail

from signposting.models import Agency
from tests.e2e.browser import ARTIFACTS, download_from, follow, pdf_text, sign_in
from tests.vouchers.test_languages import letters

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_family_that_reads_arabic_gets_the_agency_sheet_in_english_and_arabic(
    page, check_page, family_a, pastoral_a, eager
):
    Agency.objects.create(
        name="Riverton College adult learning",
        helps_with="Courses for adults",
        how_to_contact="Drop in to the advice centre",
        phone="01632 960100",
    )
    family_a.email = "anna@example.org"
    family_a.save()

    sign_in(page, pastoral_a, next_path=f"/families/{family_a.pk}/edit/")
    page.get_by_label("Preferred language").select_option("ar")
    follow(page.get_by_role("button", name="Save"))
    follow(page.get_by_role("button", name="Signpost or refer"))
    follow(page.get_by_role("link", name="Riverton College adult learning"))
    assert "in English and in Arabic" in page.locator("#sheet-language").inner_text()
    check_page(page, "agency-arabic")

    pdf, _ = download_from(page, page.get_by_role("link", name="Print their details for the family (PDF)"))
    (ARTIFACTS / "test_sheet_languages").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "test_sheet_languages" / "sheet-arabic.pdf").write_bytes(pdf)
    text = pdf_text(pdf)
    assert "Help from Riverton College adult learning" in text
    assert "01632 960100" in text
    assert letters("مساعدة من") in letters(text)  # the names in a right-to-left line may come back elsewhere

    mail.outbox.clear()
    follow(page.get_by_role("button", name="E-mail their details to the family"))
    assert page.get_by_text("details sent to anna@example.org").is_visible()
    (message,) = mail.outbox
    college = "Riverton College adult learning"
    assert message.subject == f"Help from {college} / مساعدة من {college}"
    assert "Dear Anna Able," in message.body
    assert "الهاتف: 01632 960100" in message.body
