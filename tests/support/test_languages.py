"""A family's preferred language (issue 19): read from the school's export, set by staff (page, API and
admin through one service, audited), and the message files: every family-facing string translated, with
the same placeholders, in each language settings.LANGUAGES names."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from support.errors import SupportError
from support.languages import LANGUAGES, OTHER, FamilyLanguage, language_from_export, language_label
from support.models import AuditEvent, Family
from support.pupil_import import pupil_import_apply
from support.services import family_update
from tests.support.test_pupil_import import HEADER, csv_bytes, row

BASE_DIR = Path(settings.BASE_DIR)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Polish", ("pl", "")),
        ("POL", ("pl", "")),
        (" urdu ", ("ur", "")),
        ("URD", ("ur", "")),
        ("Panjabi (Gurmukhi)", ("pa", "")),
        ("PNJG", ("pa", "")),
        ("Punjabi", ("pa", "")),
        ("Romanian", ("ro", "")),
        ("ROM", ("ro", "")),
        ("Arabic", ("ar", "")),
        ("ARAA", ("ar", "")),
        ("English", ("", "")),
        ("ENB", ("", "")),
        ("", ("", "")),
        ("Not obtained", ("", "")),
        ("Refused", ("", "")),
        ("Somali", (OTHER, "Somali")),
        ("PNJM", (OTHER, "PNJM")),  # Mirpuri: which script the family reads is the school's to find out
        ("Other than English (believed)", (OTHER, "Other than English (believed)")),
    ],
)
def test_it_reads_the_home_language_an_export_gives(raw, expected):
    assert language_from_export(raw) == expected


def test_it_keeps_the_language_table_and_the_settings_in_step():
    assert {code for code, _ in settings.LANGUAGES} == {settings.LANGUAGE_CODE, *LANGUAGES}
    assert set(FamilyLanguage.values) == {"", OTHER, *LANGUAGES}
    assert {code for code, language in LANGUAGES.items() if language.rtl} == {"ur", "ar"}
    assert set(settings.LANGUAGES_BIDI) >= {"ur", "ar"}


def test_it_labels_a_language_for_staff():
    assert language_label("ur") == "Urdu (اردو)"
    assert language_label("pa") == "Punjabi (Gurmukhi) (ਪੰਜਾਬੀ)"
    assert language_label("") == "English"
    assert language_label(OTHER, "Somali") == "Another language: Somali"


def test_it_gives_a_new_family_the_language_the_export_names(school_a, lead_a):
    header = [*HEADER, "Home Language"]
    rows = [
        {**row(forename="Ola", surname="Nowak", contact="Ewa Nowak", family="F1"), "Home Language": "POL"},
        {**row(forename="Ali", surname="Khan", contact="Sana Khan", family="F2"), "Home Language": "Urdu"},
        {
            **row(forename="Ayan", surname="Hassan", contact="Hodan Hassan", family="F3"),
            "Home Language": "Somali",
        },
        {**row(forename="Tom", surname="Hill", contact="Jo Hill", family="F4"), "Home Language": "ENG"},
    ]
    pupil_import_apply(school=school_a, data=csv_bytes(rows, header=header), actor=lead_a)
    found = {f.lead_carer_name: (f.language, f.language_noted) for f in Family.objects.all()}
    assert found == {
        "Ewa Nowak": ("pl", ""),
        "Sana Khan": ("ur", ""),
        "Hodan Hassan": (OTHER, "Somali"),
        "Jo Hill": ("", ""),
    }
    created = AuditEvent.objects.filter(action="family.created").values_list("after", flat=True)
    assert sorted(event["language"] for event in created) == ["", "other", "pl", "ur"]


def test_it_sets_the_language_through_the_service_and_audits_it(family_a, pastoral_a):
    family_a.language, family_a.language_noted = OTHER, "Polski"
    family_a.save()
    family_update(family=family_a, actor=pastoral_a, language="pl")
    family_a.refresh_from_db()
    assert (family_a.language, family_a.language_noted) == ("pl", "")  # the export's words no longer needed
    event = AuditEvent.objects.get(action="family.updated")
    assert (event.before, event.after, event.actor) == ({"language": OTHER}, {"language": "pl"}, pastoral_a)


def test_it_refuses_a_language_not_on_the_list(family_a, pastoral_a):
    with pytest.raises(SupportError) as refused:
        family_update(family=family_a, actor=pastoral_a, language="xx")
    assert refused.value.field == "language"


def test_staff_set_the_language_on_the_family_page(client_for, pastoral_a, family_a):
    client = client_for(pastoral_a)
    page = client.get(f"/families/{family_a.pk}/edit/").content.decode()
    assert '<option value="ur">Urdu</option>' in page
    data = {
        "lead_carer_name": family_a.lead_carer_name,
        "phone": family_a.phone,
        "email": "",
        "address": "",
        "postcode": family_a.postcode,
        "adults": 1,
        "children": 1,
        "dietary_needs": "",
        "language": "ar",
    }
    assert client.post(f"/families/{family_a.pk}/edit/", data).status_code == 302
    family_a.refresh_from_db()
    assert family_a.language == "ar"
    assert "Arabic" in client.get(f"/families/{family_a.pk}/").content.decode()
    assert AuditEvent.objects.filter(action="family.updated", actor=pastoral_a).exists()


def test_staff_set_the_language_through_the_api(pastoral_a, family_a, finance):
    api = APIClient()
    api.force_authenticate(pastoral_a)
    response = api.patch(f"/api/v1/families/{family_a.pk}/", {"language": "pa"}, format="json")
    assert response.status_code == 200
    assert response.json()["language"] == "pa"
    assert api.patch(f"/api/v1/families/{family_a.pk}/", {"language": "xx"}, format="json").status_code == 400
    # The export's own words are read only.
    api.patch(f"/api/v1/families/{family_a.pk}/", {"language_noted": "anything"}, format="json")
    family_a.refresh_from_db()
    assert family_a.language_noted == ""
    finance_api = APIClient()
    finance_api.force_authenticate(finance)
    assert finance_api.get(f"/api/v1/families/{family_a.pk}/").status_code in (403, 404)


# --- The message files ---------------------------------------------------------------------------------

# Staff-only strings that gettext marks elsewhere in the code (never shown in a family's language).
STAFF_ONLY = {"Invalid token.", "User inactive or deleted.", "Nothing was imported: %(n)s problem to fix"}


def _unquote(lines: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', lines)
    return "".join(parts).replace('\\"', '"').replace("\\n", "\n")


def po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (plural entries: the first form)."""
    entries: dict[str, str] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, flags=re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, flags=re.M)
        if msgid and msgstr and _unquote(msgid.group(1)):
            entries[_unquote(msgid.group(1))] = _unquote(msgstr.group(1))
    return entries


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s", text))


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_every_family_facing_string_is_translated_with_its_placeholders(code):
    entries = po_entries(BASE_DIR / "locale" / code / "LC_MESSAGES" / "django.po")
    assert len(entries) > 20
    assert entries["Your voucher for %(partner)s"]
    for msgid, msgstr in entries.items():
        if msgid in STAFF_ONLY:
            continue
        assert msgstr, f"{code}: not translated: {msgid!r}"
        assert msgstr != msgid, f"{code}: left in English: {msgid!r}"
        assert placeholders(msgstr) == placeholders(msgid), f"{code}: placeholders differ in {msgid!r}"


def test_compiled_message_files_are_never_committed():
    assert "*.mo" in (BASE_DIR / ".gitignore").read_text().split()
