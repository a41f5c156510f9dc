"""People are named, never by username ("by lead_a"): pages and exports show a person's full name through
one helper (support.people.person_name, the |person filter), and no template reaches for a username."""

import re
from pathlib import Path

import pytest

from support.people import NO_NAME, person_name

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])


def test_no_template_shows_a_username_but_the_signed_in_users_own_fallback():
    found = []
    for template in TEMPLATES.rglob("*.html"):
        if template.parent.name == "registration":
            continue  # the sign-in form asks for one
        for line in template.read_text().splitlines():
            if re.search(r"get_username|\.username\b", line) and "Signed in as" not in line:
                found.append(f"{template.relative_to(TEMPLATES)}: {line.strip()[:100]}")
    assert not found, found


def test_the_voucher_and_family_pages_and_the_export_name_who_issued(
    client_for, voucher, family_a, pastoral_a, lead_a
):
    _named(pastoral_a, "Pat", "Pastor")
    _named(lead_a, "Lee", "Lead")
    client = client_for(lead_a)
    for path in (f"/vouchers/{voucher.pk}/", f"/families/{family_a.pk}/"):
        page = client.get(path).content.decode()
        assert "Pat Pastor" in page, path
        assert "pastoral_a" not in page, path
        assert "lead_a" not in page, path
    export = b"".join(client.get("/vouchers/export.csv").streaming_content).decode()
    assert "Pat Pastor" in export
    assert "pastoral_a" not in export


def test_a_person_with_no_name_is_not_shown_by_username(pastoral_a):
    assert person_name(pastoral_a) == NO_NAME
    assert person_name(None) == ""
