"""Parse and validate pupil CSV exports from a school information system (SIMS, Arbor, Bromcom...).

This module is pure: it needs no database and no Django settings. Give :func:`parse_pupil_csv` the raw
bytes of an uploaded file and it returns every valid pupil row plus every problem found, each problem
tied to the physical line of the file it came from, in words a school office worker can act on.

Rows with any error are left out of :attr:`ParseResult.rows`; rows with only warnings are kept.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from stdnum import exceptions as stdnum_exceptions
from stdnum.gb import upn as stdnum_upn

from support.dates import academic_year_start_for

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

__all__ = [
    "COLUMNS",
    "HEADERS",
    "MAX_BYTES",
    "REQUIRED",
    "ContactRow",
    "ParseResult",
    "PupilRow",
    "RowError",
    "UnreadColumn",
    "expected_year_group",
    "named_in_file",
    "normalise_name_key",
    "normalise_postcode",
    "parse_pupil_csv",
    "year_label",
]


@dataclass(frozen=True)
class RowError:
    """One problem found in the file.

    ``line`` is the 1-based physical line of the file (the header is line 1); for a record whose quoted
    values span several lines it is the record's first line. It is 0 when the problem is with the file as
    a whole (too big, not text, no pupil rows). ``column`` is the canonical column name (a key of
    :data:`COLUMNS`), or "" for whole-row and whole-file problems.
    """

    line: int
    column: str
    reason: str
    value: str = ""
    # The column's name as the file's own header row names it ("" when the file has no such column).
    header: str = ""

    @property
    def column_name(self) -> str:
        """The column as the person who made the file knows it: its header, else our label."""
        return self.header or column_label(self.column)


@dataclass(frozen=True)
class UnreadColumn:
    """A column of the file the import does not read, and the accepted header it most resembles."""

    header: str
    letter: str
    suggestion: str = ""  # an accepted header name, when one is close
    field: str = ""  # the field that header would fill

    @property
    def message(self) -> str:
        text = f"Column {self.letter} '{self.header}' was not read"
        if self.suggestion:
            text += f": did you mean '{self.suggestion}' ({column_label(self.field)})?"
        return text


@dataclass(frozen=True)
class ContactRow:
    """One of a pupil's contacts as the export lists them (issue 20). ``restriction`` is "none",
    "court_order" or "no_contact" (support.models.Contact.Restriction's values)."""

    name: str
    relationship: str
    priority: int
    parental_responsibility: bool
    lives_with_pupil: bool
    restriction: str
    phone: str
    email: str


@dataclass(frozen=True)
class PupilRow:
    """One valid pupil, with every value normalised."""

    line: int
    upn: str
    legal_forename: str
    preferred_forename: str
    surname: str
    date_of_birth: datetime.date
    year_group: int
    fsm: bool
    pupil_premium: bool
    contact_name: str
    contact_phone: str
    contact_email: str
    postcode: str
    family_ref: str
    warnings: tuple[str, ...] = ()
    # Leaving, registration and free-meal columns (all optional in a file).
    leaving_date: datetime.date | None = None
    registration: str = ""  # "", "current", "main", "subsidiary" or "leaver"
    fsm_start: datetime.date | None = None
    fsm_end: datetime.date | None = None
    uifsm: bool = False
    service_child: bool = False
    looked_after: bool = False
    contacts: tuple[ContactRow, ...] = ()  # in the file's order; empty when the file has no contact columns
    home_language: str = ""  # as the export wrote it (support.languages.language_from_export reads it)
    # Attendance this academic year, per term given (issue 18): ((term: 1 autumn, 2 spring, 3 summer,
    # percent), ...)
    attendance: tuple[tuple[int, Decimal], ...] = ()


@dataclass
class ParseResult:
    """Everything :func:`parse_pupil_csv` found: the valid rows, the errors, and the columns it used."""

    rows: list[PupilRow]
    errors: list[RowError]
    columns: dict[str, str]
    unread: list[UnreadColumn] = field(default_factory=list)

    def header_for(self, column: str) -> str:
        """The file's own header for one of our fields, or our label when the file lacks it."""
        return self.columns.get(column) or column_label(column)

    @property
    def ok(self) -> bool:
        """True when the file has no errors and at least one pupil row."""
        return not self.errors and bool(self.rows)


# The one table of accepted header names: for each field, the names the common UK school
# information systems' exports give it. Case, spaces and punctuation are ignored when matching, so
# "DateOfBirth", "date_of_birth" and "Date of Birth" are one name. A header in no row is listed back
# to the user as a column that was not read, with the closest accepted name.
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "upn": {
        "Any": ("UPN", "Unique Pupil Number"),
        "Wonde, Groupcall Xporter": ("Pupil UPN", "Student UPN"),
    },
    "legal_forename": {
        "SIMS": ("Legal Forename", "Forename"),
        "Arbor": ("Legal First Name", "First Name"),
        "Bromcom": ("Legal Forename",),
        "ScholarPack": ("Forename", "First Name"),
        "Wonde, Groupcall Xporter": (
            "Legal Forename",
            "Student Legal Forename",
            "Pupil Forename",
            "Given Name",
        ),
    },
    "preferred_forename": {
        "SIMS": ("Preferred Forename", "Chosen Forename"),
        "Arbor": ("Preferred First Name", "Preferred Name"),
        "Bromcom": ("Preferred Forename", "Known As"),
        "ScholarPack": ("Preferred Name", "Known As"),
        "Wonde, Groupcall Xporter": ("Forename Preferred", "Student Preferred Forename"),
    },
    "surname": {
        "SIMS": ("Surname", "Legal Surname"),
        "Arbor": ("Legal Last Name", "Last Name"),
        "Bromcom": ("Legal Surname", "Surname"),
        "ScholarPack": ("Surname", "Last Name"),
        "Wonde, Groupcall Xporter": ("Student Legal Surname", "Pupil Surname", "Family Name"),
    },
    "date_of_birth": {
        "SIMS": ("Date of Birth", "DOB"),
        "Arbor": ("Date of Birth",),
        "Bromcom": ("DOB", "Birth Date"),
        "ScholarPack": ("Date of Birth", "D.O.B."),
        "Wonde, Groupcall Xporter": ("DateOfBirth", "Student Date of Birth", "Pupil DOB"),
    },
    "year_group": {
        "SIMS": ("Year", "Year Group", "NC Year Actual", "Year Taught In"),
        "Arbor": ("Year Group", "Curriculum Year"),
        "Bromcom": ("NC Year", "Year Group"),
        "ScholarPack": ("Year Group", "Year"),
        "Wonde, Groupcall Xporter": ("NCYearActual", "National Curriculum Year", "Student Year Group"),
    },
    "fsm": {
        "SIMS": ("FSM", "FSM Eligible", "Eligible for FSM"),
        "Arbor": ("Is Eligible for FSM", "Free School Meals"),
        "Bromcom": ("FSM", "FSM Eligibility"),
        "ScholarPack": ("Free School Meals", "FSM"),
        "Wonde, Groupcall Xporter": ("FSMEligible", "FSM Status"),
    },
    "pupil_premium": {
        "SIMS": ("Pupil Premium Indicator", "Pupil Premium"),
        "Arbor": ("Pupil Premium", "Is Pupil Premium", "PP"),
        "Bromcom": ("Pupil Premium", "PP Eligible"),
        "ScholarPack": ("Pupil Premium", "PP"),
        "Wonde, Groupcall Xporter": ("PupilPremium", "PP Status"),
    },
    "contact_name": {
        "SIMS": ("Primary Contact", "Priority 1 Contact", "Contact Name", "Contact 1 Name"),
        "Arbor": ("Primary Guardian Name", "Primary Guardian"),
        "Bromcom": ("Contact 1 Name", "Contact 1 Full Name"),
        "ScholarPack": ("Parent Name", "Parent/Carer Name", "Main Contact Name"),
        "Wonde, Groupcall Xporter": ("Contact Full Name", "Priority 1 Contact Name", "Parent Name"),
    },
    "contact_phone": {
        "SIMS": ("Contact Telephone", "Telephone", "Primary Telephone", "Priority 1 Contact Telephone"),
        "Arbor": ("Primary Guardian Mobile", "Primary Guardian Phone", "Mobile"),
        "Bromcom": ("Contact 1 Mobile", "Contact 1 Phone", "Contact 1 Telephone"),
        "ScholarPack": ("Parent Telephone", "Parent Mobile", "Main Contact Telephone"),
        "Wonde, Groupcall Xporter": ("ContactTelephone", "Contact Phone", "Contact Mobile", "Phone"),
    },
    "contact_email": {
        "SIMS": ("Contact Email", "Primary Email", "Priority 1 Contact Email"),
        "Arbor": ("Primary Guardian Email",),
        "Bromcom": ("Contact 1 Email",),
        "ScholarPack": ("Parent Email", "Main Contact Email"),
        "Wonde, Groupcall Xporter": ("ContactEmail", "Contact Email Address", "Email"),
    },
    "postcode": {
        "SIMS": ("Postcode", "Address Postcode"),
        "Arbor": ("Postcode", "Home Postcode"),
        "Bromcom": ("Post Code",),
        "ScholarPack": ("Postcode",),
        "Wonde, Groupcall Xporter": ("PostCode", "Address Post Code", "Student Postcode"),
    },
    "family_ref": {
        "SIMS": ("Family ID", "Sibling ID", "Sibling Link"),
        "Arbor": ("Family Ref", "Household ID"),
        "Bromcom": ("Family ID", "Family Code"),
        "ScholarPack": ("Family ID", "Sibling Group"),
        "Wonde, Groupcall Xporter": ("FamilyID", "Family Reference"),
    },
    # Leaving dates, registration type and the measures of disadvantage (issue 20, items 4 and 5).
    "leaving_date": {
        "SIMS": ("Leaving Date", "Date of Leaving"),
        "Arbor": ("Leaving Date", "Date Of Leaving School"),
        "Bromcom": ("Leave Date", "Date Left"),
        "Wonde, Groupcall Xporter": ("LeavingDate", "Student Leaving Date"),
    },
    "registration": {
        "SIMS": ("Enrolment Status", "Enrol Status"),
        "Arbor": ("Registration Type", "Enrolment Type"),
        "Bromcom": ("Enrolment Status", "Registration Status"),
        "Wonde, Groupcall Xporter": ("EnrolStatus", "Enrolment Status Code"),
    },
    "fsm_start": {
        "SIMS": ("FSM Start Date", "FSM Start"),
        "Arbor": ("FSM Eligibility Start Date",),
        "Wonde, Groupcall Xporter": ("FSMStartDate",),
    },
    "fsm_end": {
        "SIMS": ("FSM End Date", "FSM End"),
        "Arbor": ("FSM Eligibility End Date",),
        "Wonde, Groupcall Xporter": ("FSMEndDate",),
    },
    "uifsm": {
        "SIMS": ("UIFSM", "Universal Infant FSM"),
        "Arbor": ("Universal Infant Free School Meals",),
        "Wonde, Groupcall Xporter": ("UIFSMEligible", "UIFSM Eligible"),
    },
    "service_child": {
        "SIMS": ("Service Child", "Service Child Indicator"),
        "Arbor": ("Is Service Child", "Service Children"),
        "Wonde, Groupcall Xporter": ("ServiceChild",),
    },
    # The family's preferred language (issue 19): a name or the DfE's code; see support.languages.
    "home_language": {
        "SIMS": ("Home Language", "First Language", "Language"),
        "Arbor": ("First Language", "Main Language Spoken at Home"),
        "Bromcom": ("Home Language", "Language at Home"),
        "Wonde, Groupcall Xporter": ("HomeLanguage", "FirstLanguage", "Home Language Code"),
    },
    "looked_after": {
        "SIMS": ("In Care", "Looked After", "CLA"),
        "Arbor": ("Is Looked After", "Looked After Child"),
        "Wonde, Groupcall Xporter": ("LookedAfter", "Child Looked After"),
    },
    # Attendance per term this academic year, a percentage (issue 18: the impact report's outcomes).
    "attendance_autumn": {
        "SIMS": ("Autumn Attendance %", "Attendance Autumn"),
        "Arbor": ("Autumn Term Attendance", "Attendance Autumn Term"),
        "Wonde, Groupcall Xporter": ("AttendanceAutumn",),
    },
    "attendance_spring": {
        "SIMS": ("Spring Attendance %", "Attendance Spring"),
        "Arbor": ("Spring Term Attendance", "Attendance Spring Term"),
        "Wonde, Groupcall Xporter": ("AttendanceSpring",),
    },
    "attendance_summer": {
        "SIMS": ("Summer Attendance %", "Attendance Summer"),
        "Arbor": ("Summer Term Attendance", "Attendance Summer Term"),
        "Wonde, Groupcall Xporter": ("AttendanceSummer",),
    },
}
ATTENDANCE_TERMS = {"attendance_autumn": 1, "attendance_spring": 2, "attendance_summer": 3}
# --- Contacts (issue 20) --------------------------------------------------------------------------
# Each contact's relationship, priority, parental responsibility, whether they live with the pupil, and
# court order / no contact flags, for contacts 1 to MAX_CONTACTS, as SIMS ("Priority 2 Contact
# Relationship") and the others ("Contact 2 Relationship") name them. Contact 1's name, telephone and
# e-mail are the contact_name, contact_phone and contact_email rows above; contact N's are contactN_name,
# contactN_phone and contactN_email. Keys are "contact<N>_<field>".
MAX_CONTACTS = 4
_CONTACT_HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "Contact {n} Name",
        "Priority {n} Contact",
        "Priority {n} Contact Name",
        "Contact {n} Full Name",
    ),
    "relationship": (
        "Contact {n} Relationship",
        "Priority {n} Contact Relationship",
        "Contact {n} Relationship To Pupil",
    ),
    "priority": ("Contact {n} Priority", "Priority {n} Contact Priority"),
    "parental_responsibility": (
        "Contact {n} Parental Responsibility",
        "Priority {n} Contact Parental Responsibility",
        "Contact {n} Has Parental Responsibility",
    ),
    "lives_with_pupil": (
        "Contact {n} Lives With Pupil",
        "Priority {n} Contact Lives With Pupil",
        "Contact {n} Lives With Student",
    ),
    "court_order": ("Contact {n} Court Order", "Priority {n} Contact Court Order"),
    "no_contact": ("Contact {n} No Contact", "Priority {n} Contact No Contact"),
    "phone": (
        "Contact {n} Telephone",
        "Contact {n} Mobile",
        "Contact {n} Phone",
        "Priority {n} Contact Telephone",
    ),
    "email": ("Contact {n} Email", "Priority {n} Contact Email"),
}
_CONTACT_LABELS = {
    "name": "name",
    "relationship": "relationship",
    "priority": "priority",
    "parental_responsibility": "parental responsibility",
    "lives_with_pupil": "lives with pupil",
    "court_order": "court order",
    "no_contact": "no contact",
    "phone": "telephone",
    "email": "email",
}
_CONTACT_ONE = {"name": "contact_name", "phone": "contact_phone", "email": "contact_email"}


def contact_column(n: int, part: str) -> str:
    """The key of contact ``n``'s ``part`` ("name", "court_order" ...): contact 1's name, phone and
    e-mail are the older contact_name, contact_phone and contact_email columns."""
    return _CONTACT_ONE[part] if n == 1 and part in _CONTACT_ONE else f"contact{n}_{part}"


for _n in range(1, MAX_CONTACTS + 1):
    for _part, _names in _CONTACT_HEADERS.items():
        if _n == 1 and _part in _CONTACT_ONE:
            continue
        _names = tuple(name.format(n=_n) for name in _names)
        _SIMS = tuple(name for name in _names if name.startswith("Priority"))
        HEADERS[contact_column(_n, _part)] = {
            "SIMS": _SIMS,
            "Arbor, Bromcom, Wonde, Groupcall Xporter": tuple(n for n in _names if n not in _SIMS),
        }
# --- end of contacts -------------------------------------------------------------------------------
COLUMNS: dict[str, tuple[str, ...]] = {
    column: tuple(dict.fromkeys(name for names in systems.values() for name in names))
    for column, systems in HEADERS.items()
}
REQUIRED: tuple[str, ...] = ("upn", "legal_forename", "surname", "date_of_birth", "year_group")
MAX_BYTES = 10 * 1024 * 1024

_LABELS: dict[str, str] = {
    "upn": "UPN",
    "legal_forename": "Legal forename",
    "preferred_forename": "Preferred forename",
    "surname": "Surname",
    "date_of_birth": "Date of birth",
    "year_group": "Year group",
    "fsm": "FSM",
    "pupil_premium": "Pupil premium",
    "contact_name": "Contact name",
    "contact_phone": "Contact phone",
    "contact_email": "Contact email",
    "postcode": "Postcode",
    "family_ref": "Family ID",
    "leaving_date": "Leaving date",
    "registration": "Registration type",
    "fsm_start": "FSM start date",
    "fsm_end": "FSM end date",
    "uifsm": "UIFSM",
    "service_child": "Service child",
    "looked_after": "Looked after",
    "home_language": "Home language",
    "attendance_autumn": "Attendance, autumn term (%)",
    "attendance_spring": "Attendance, spring term (%)",
    "attendance_summer": "Attendance, summer term (%)",
}

# Enrolment status codes as the information systems write them: C single registration (current),
# M main dual registration, S subsidiary dual registration, L leaver (G guest is read as subsidiary).
_REGISTRATIONS: dict[str, str] = {
    "": "",
    "c": "current",
    "current": "current",
    "single": "current",
    "singleregistration": "current",
    "m": "main",
    "main": "main",
    "maindual": "main",
    "dualmain": "main",
    "s": "subsidiary",
    "subsidiary": "subsidiary",
    "subsidiarydual": "subsidiary",
    "dualsubsidiary": "subsidiary",
    "g": "subsidiary",
    "guest": "subsidiary",
    "l": "leaver",
    "leaver": "leaver",
    "left": "leaver",
}


_LABELS.update(
    {
        contact_column(_n, _part): f"Contact {_n} {_label}"
        for _n in range(1, MAX_CONTACTS + 1)
        for _part, _label in _CONTACT_LABELS.items()
        if not (_n == 1 and _part in _CONTACT_ONE)
    }
)


def column_label(column: str) -> str:
    """The column's name as a lead reads it; the key itself when it is not one of ours."""
    return _LABELS.get(column, column)


_MAX_NAME = 100
_MAX_PHONE = 20  # Family.phone
_MAX_REF = 100
_MAX_RELATIONSHIP = 40  # Contact.relationship
_MAX_VALUE_SHOWN = 60
_MIN_AGE = 2
_MAX_AGE = 20


def _header_key(header: str) -> str:
    """Reduce a header to lower-case letters and digits, so "Legal_Forename" matches "legal forename"."""
    return "".join(ch for ch in header.casefold() if ch.isalnum())


_ALIAS_TO_COLUMN: dict[str, str] = {}
_ALIAS_SHOWN: dict[str, str] = {}  # header key -> the accepted name as the table spells it
for _column, _aliases in COLUMNS.items():
    for _alias in _aliases:
        _key = _header_key(_alias)
        if _ALIAS_TO_COLUMN.setdefault(_key, _column) != _column:
            raise AssertionError(f"Header {_alias!r} is accepted for two fields")
        _ALIAS_SHOWN.setdefault(_key, _alias)

# Local authority codes created after stdnum's 2011 list, so UPNs issued by their schools are not refused:
# 838 Dorset and 839 Bournemouth, Christchurch and Poole (2019), 940 North and 941 West Northamptonshire
# (2021), 942 Cumberland and 943 Westmorland and Furness (2023).
_EXTRA_LA_CODES = frozenset({838, 839, 940, 941, 942, 943})

_YEAR_GROUPS: dict[str, int] = {}
for _word in ("r", "rec", "reception", "yr", "yearr", "0"):
    _YEAR_GROUPS[_word] = 0
for _n in range(1, 14):
    for _digits in {str(_n), f"{_n:02d}"}:
        for _prefix in ("", "y", "year"):
            _YEAR_GROUPS[_prefix + _digits] = _n

_FLAGS: dict[str, bool] = {
    "": False,
    "y": True,
    "yes": True,
    "true": True,
    "t": True,
    "1": True,
    "n": False,
    "no": False,
    "false": False,
    "f": False,
    "0": False,
}

_TIME_SUFFIX = r"(?:[ T]00:00(?::00)?)?"
_DMY_RE = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})" + _TIME_SUFFIX)
_ISO_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})" + _TIME_SUFFIX)

# UK postcode shapes (BS 7666): outward code A9, A99, AA9, AA99, A9A or AA9A, inward code 9AA, with the
# letters each position never uses left out (no Q, V or X first; no I, J or Z second; no C, I, K, M, O or V
# in the inward code); plus the special GIR 0AA.
_POSTCODE_RE = re.compile(
    r"GIR0AA|(?:[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY]))"
    r"[0-9][ABD-HJLNP-UW-Z]{2}"
)

_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "mx"})
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018`\u00b4")
# Letters that NFKD does not split into a base letter and an accent (\u0131 is the dotless i).
_NOT_DECOMPOSED = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "\u0131": "i", "þ": "th", "ð": "d"}
)
_PUNCTUATION_RE = re.compile(r"[^\w\s]|_")

_PHONE_SEPARATORS = str.maketrans("", "", " -().")
_GB_MOBILE_RE = re.compile(
    phonenumbers.PhoneMetadata.metadata_for_region("GB").mobile.national_number_pattern
)

_BINARY_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"

_NOT_UTF8 = "The file is not UTF-8 text: save it as 'CSV UTF-8' and try again"
_NOT_CSV = "This is not a CSV text file"
_NO_ROWS = "The file has no pupil rows"


def expected_year_group(date_of_birth: datetime.date, *, academic_year_start: int) -> int:
    """Return the year group a child born on ``date_of_birth`` is in during the given academic year.

    Year N (Reception is 0) holds children born from 1 September of ``academic_year_start - N - 5`` to
    31 August of ``academic_year_start - N - 4``. The result is negative for children not yet in
    Reception and above 13 for those past Year 13.

    >>> expected_year_group(datetime.date(2021, 9, 1), academic_year_start=2026)
    0
    >>> expected_year_group(datetime.date(2021, 8, 31), academic_year_start=2026)
    1
    """
    return academic_year_start - 5 - academic_year_start_for(date_of_birth)


def normalise_postcode(value: str) -> str | None:
    """Return a UK postcode in the standard form "SW1A 1AA", or None if it is not a UK postcode shape.

    Case and spacing are ignored: "sw1a1aa" and " SW1A  1AA " both give "SW1A 1AA".
    """
    compact = "".join(value.split()).upper()
    if not _POSTCODE_RE.fullmatch(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def normalise_name_key(value: str) -> str:
    """Return a key for matching names that differ only in case, accents, titles, punctuation or spacing.

    "Mrs. Zoë O'Brien-Smith" and "zoe obrien smith" give the same key. Apostrophes are dropped ("O'Brien"
    matches "OBrien"); other punctuation separates words ("Smith-Jones" matches "Smith Jones").
    """
    text = unicodedata.normalize("NFKD", value.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_NOT_DECOMPOSED).translate(_APOSTROPHES)
    text = _PUNCTUATION_RE.sub(" ", text)
    return " ".join(word for word in text.split() if word not in _TITLES)


def parse_pupil_csv(data: bytes, *, academic_year_start: int) -> ParseResult:
    """Parse a pupil CSV export and check every row.

    ``academic_year_start`` is the calendar year the academic year starts in (2026 for 2026/27); it sets
    the date for the age checks (1 September of that year) and the year group expected from each date of
    birth. Every problem in the file is reported, not just the first; see the module docstring.
    """
    result = ParseResult(rows=[], errors=[], columns={})
    text, file_error = _decode(bytes(data))
    if file_error is not None:
        result.errors.append(file_error)
        return result

    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text), strict=True, skipinitialspace=True
    )
    header, header_line, header_error = _read_header(reader)
    if header_error is not None:
        result.errors.append(header_error)
        return result
    if header is None:
        result.errors.append(RowError(0, "", _NO_ROWS))
        return result

    indexes, header_errors = _map_header(header, header_line)
    result.columns = {column: header[index].strip() for column, index in indexes.items()}
    result.unread = _unread_columns(header, indexes)
    if header_errors:
        result.errors.extend(header_errors)
        return result

    parser = _RowParser(indexes, len(header), academic_year_start, result.columns)
    last_line = reader.line_num
    while True:
        line = last_line + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            last_line = reader.line_num
            result.errors.append(RowError(line, "", _csv_error_reason(str(exc))))
            parser.saw_record = True
            continue
        last_line = reader.line_num
        parser.parse(fields, line, result)

    if not parser.saw_record:
        result.errors.append(RowError(0, "", _NO_ROWS))
    return result


def _decode(data: bytes) -> tuple[str, RowError | None]:
    """Turn the uploaded bytes into text, or explain why they are not a UTF-8 CSV file."""
    if len(data) > MAX_BYTES:
        limit = f"{MAX_BYTES // (1024 * 1024)} MB"
        return "", RowError(0, "", f"The file is larger than the {limit} limit: split it into smaller files")
    if data.startswith(_UTF16_BOMS):
        return "", RowError(1, "", _NOT_UTF8)
    if b"\x00" in data or data.startswith(_BINARY_SIGNATURES):
        return "", RowError(0, "", f"{_NOT_CSV}: save it from your spreadsheet as 'CSV UTF-8'")
    data = data.removeprefix(_UTF8_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
        return "", RowError(line, "", _NOT_UTF8)
    if not text.strip():
        return "", RowError(0, "", _NO_ROWS)
    return text, None


def _sniff_delimiter(text: str) -> str:
    """Use a semicolon or tab instead of a comma when the header line has more of them than commas."""
    text = text.lstrip(" \r\n")  # blank lines before the header are skipped when reading too
    end = len(text)
    for newline in ("\n", "\r"):
        position = text.find(newline, 0, end)
        if position != -1:
            end = position
    first = text[:end]
    best, best_count = ",", first.count(",")
    for candidate in (";", "\t"):
        count = first.count(candidate)
        if count > best_count:
            best, best_count = candidate, count
    return best


def _read_header(reader: CsvReader) -> tuple[list[str] | None, int, RowError | None]:
    """Read the header record, skipping blank lines before it. Header is None if the file has none."""
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return None, 0, None
        except csv.Error as exc:
            return (
                None,
                line,
                RowError(line, "", "The header line could not be read: " + _csv_error_reason(str(exc))),
            )
        if any(field.strip() for field in fields):
            return fields, line, None


def _map_header(header: list[str], line: int) -> tuple[dict[str, int], list[RowError]]:
    """Find which column holds each canonical field; report missing and doubled columns."""
    indexes: dict[str, int] = {}
    errors: list[RowError] = []
    for index, name in enumerate(header):
        column = _ALIAS_TO_COLUMN.get(_header_key(name))
        if column is None:
            continue
        if column in indexes:
            first = indexes[column]
            errors.append(
                RowError(
                    line,
                    column,
                    f"Two columns are both {_LABELS[column]}: '{header[first].strip()}' (column "
                    f"{_column_letter(first)}) and '{name.strip()}' (column {_column_letter(index)}); "
                    "delete or rename one of them",
                    _clip(name.strip()),
                )
            )
            continue
        indexes[column] = index
    for column in REQUIRED:
        if column not in indexes:
            accepted = ", ".join(COLUMNS[column])
            errors.append(
                RowError(line, column, f"Missing column: {_LABELS[column]} (accepted headers: {accepted})")
            )
    return indexes, errors


# How alike an unread header and an accepted one must be to suggest it: a typo ('Famly ID', 'Post Cod')
# is suggested; a header that only shares a word ('SEN Status' and 'Enrol Status', 0.8) is not.
_SUGGEST_CUTOFF = 0.85


def _unread_columns(header: list[str], indexes: dict[str, int]) -> list[UnreadColumn]:
    """Each named column the import does not read, with the closest accepted header for a field the
    file does not already fill ("did you mean")."""
    read = set(indexes.values())
    open_keys = [key for key, column in _ALIAS_TO_COLUMN.items() if column not in indexes]
    unread = []
    for index, name in enumerate(header):
        shown = name.strip()
        if index in read or not shown:
            continue
        matches = difflib.get_close_matches(_header_key(shown), open_keys, n=1, cutoff=_SUGGEST_CUTOFF)
        suggestion = _ALIAS_SHOWN[matches[0]] if matches else ""
        field_name = _ALIAS_TO_COLUMN[matches[0]] if matches else ""
        unread.append(UnreadColumn(shown, _column_letter(index), suggestion, field_name))
    return unread


def _column_letter(index: int) -> str:
    """Spreadsheet-style column name for a 0-based index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _csv_error_reason(message: str) -> str:
    """Explain a csv module error in plain words."""
    if "unexpected end of data" in message:
        return 'A quote mark (") on this line is never closed, so the rest of the file could not be read'
    if "expected after" in message:
        return (
            'This line has a quote mark (") in the wrong place: a value that starts with a quote mark '
            "must end with one"
        )
    if "field larger than field limit" in message:
        return 'A value on this line is far too long: check for a quote mark (") that is never closed'
    return f"This line could not be read as CSV ({message})"


def _clip(value: str) -> str:
    """Shorten a value for display in an error."""
    if len(value) <= _MAX_VALUE_SHOWN:
        return value
    return value[: _MAX_VALUE_SHOWN - 1] + "\u2026"


def named_in_file(reason: str, column: str, header: str) -> str:
    """Name the column in ``reason`` as the file's header does ("DOB is missing", not "Date of
    birth is missing")."""
    label = _LABELS.get(column, "")
    # A header that differs only in case or spacing ("Date of Birth") already reads as our label.
    if header and label and reason.startswith(label) and _header_key(header) != _header_key(label):
        return header + reason[len(label) :]
    return reason


def year_label(year_group: int) -> str:
    """Name a year group the way schools do: "Reception", "Year 4"."""
    if year_group == 0:
        return "Reception"
    if year_group == -1:
        return "Nursery"
    if year_group < -1:
        return "pre-school age"
    return f"Year {year_group}"


def _check_upn(value: str) -> tuple[str, str]:
    """Return (normalised UPN, "") for a valid UPN, or ("", reason) for an invalid one."""
    upn = "".join(value.split()).upper()
    try:
        stdnum_upn.validate(upn)
    except stdnum_exceptions.InvalidLength:
        return "", f"UPN must be 13 characters (a check letter and 12 more); this one has {len(upn)}"
    except stdnum_exceptions.InvalidFormat:
        return "", (
            "UPN is not in the right format: it must be a check letter, 11 digits, then a digit or a "
            "letter (not I, O or S)"
        )
    except stdnum_exceptions.InvalidComponent:
        if int(upn[1:4]) not in _EXTRA_LA_CODES:
            return "", f"UPN has an unknown local authority code: {upn[1:4]}"
        expected = stdnum_upn.calc_check_digit(upn[1:])
        if expected != upn[0]:
            return "", f"UPN check letter is wrong: expected {expected}, got {upn[0]}"
    except stdnum_exceptions.InvalidChecksum:
        expected = stdnum_upn.calc_check_digit(upn[1:])
        return "", f"UPN check letter is wrong: expected {expected}, got {upn[0]}"
    except stdnum_exceptions.ValidationError:
        return "", "UPN is not valid"
    return upn, ""


def _parse_date(value: str) -> tuple[datetime.date | None, str]:
    """Return (date, "") or (None, reason) for DD/MM/YYYY, D/M/YYYY, DD-MM-YYYY or YYYY-MM-DD."""
    match = _DMY_RE.fullmatch(value)
    if match is not None:
        day, month, year = match.group(1, 3, 4)
    else:
        match = _ISO_RE.fullmatch(value)
        if match is None:
            return None, "Date of birth is not in a recognised format: use DD/MM/YYYY, for example 04/09/2018"
        year, month, day = match.group(1, 2, 3)
    try:
        return datetime.date(int(year), int(month), int(day)), ""
    except ValueError:
        return None, "Date of birth is not a real date (dates must be day/month/year)"


def _parse_phone(value: str) -> str | None:
    """Return the number in E.164 form, or None if it is not a valid phone number (UK unless +code)."""
    # Fast path for the commonest case, a plain UK mobile number, checked against phonenumbers' own
    # pattern for GB mobiles (the full parse costs ~30 microseconds a number); anything else takes
    # the full parse below.
    compact = value.translate(_PHONE_SEPARATORS)
    if compact.startswith("07"):
        national = compact[1:]
    elif compact.startswith("+447"):
        national = compact[3:]
    else:
        national = ""
    if national.isascii() and national.isdigit() and _GB_MOBILE_RE.fullmatch(national):
        return "+44" + national
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(value: str) -> str | None:
    """A phone number in E.164 form ("+447700900123"), or None if it is not a valid number (UK unless
    it starts with a +code). The one check for a family's phone: imports, web forms and the API."""
    return _parse_phone(value.strip()) if len(value) <= 40 else None


def _check_email(value: str) -> bool:
    """True if the address looks deliverable: Django's validator, and a dot in the domain."""
    try:
        validate_email(value)
    except ValidationError:
        return False
    return "." in value.rpartition("@")[2]


class _RowParser:
    """Checks data rows one by one, remembering UPNs seen so far to catch duplicates."""

    def __init__(
        self, indexes: dict[str, int], width: int, academic_year_start: int, headers: dict[str, str]
    ) -> None:
        self.indexes = indexes
        self.headers = headers
        self.width = width
        self.academic_year_start = academic_year_start
        self.start = datetime.date(academic_year_start, 9, 1)
        self.today = datetime.date.today()
        self.seen_upns: dict[str, int] = {}
        self.phone_cache: dict[str, str | None] = {}
        self.saw_record = False
        # Contacts are read only from an export that has contact columns beyond contact 1's name,
        # telephone and e-mail (older files keep making a family from those alone).
        self.has_contacts = any(column.startswith("contact") and column[7:8].isdigit() for column in indexes)

    def parse(self, fields: list[str], line: int, result: ParseResult) -> None:
        """Check one record; append a PupilRow to ``result.rows`` or its errors to ``result.errors``."""
        if not any(field.strip() for field in fields):
            return
        self.saw_record = True
        if len(fields) > self.width and any(field.strip() for field in fields[self.width :]):
            result.errors.append(
                RowError(
                    line,
                    "",
                    f"This row has {len(fields)} values but the header has {self.width} columns: "
                    "a value may contain an unquoted comma",
                )
            )
            return

        count = len(fields)

        def get(column: str) -> str:
            index = self.indexes.get(column)
            if index is None or index >= count:
                return ""
            return fields[index].strip()

        errors: list[RowError] = []
        warnings: list[str] = []

        def error(column: str, reason: str, value: str) -> None:
            header = self.headers.get(column, "")
            errors.append(RowError(line, column, named_in_file(reason, column, header), _clip(value), header))

        # UPN
        raw_upn = get("upn")
        upn = ""
        if not raw_upn:
            error("upn", "UPN is missing", raw_upn)
        else:
            upn, reason = _check_upn(raw_upn)
            if reason:
                error("upn", reason, raw_upn)
            else:
                first_line = self.seen_upns.get(upn)
                if first_line is not None:
                    error("upn", f"UPN appears twice in the file (first on line {first_line})", raw_upn)
                else:
                    self.seen_upns[upn] = line
                if upn[-1].isalpha():
                    warnings.append(
                        "Temporary UPN (it ends in a letter): update it when the permanent UPN is known"
                    )

        # Names
        names: dict[str, str] = {}
        for column in ("legal_forename", "preferred_forename", "surname", "contact_name"):
            raw = get(column)
            value = " ".join(raw.split())
            if not value and column in ("legal_forename", "surname"):
                error(column, f"{_LABELS[column]} is missing", raw)
            elif len(value) > _MAX_NAME:
                error(column, f"{_LABELS[column]} is longer than {_MAX_NAME} characters", raw)
            names[column] = value

        # Date of birth
        raw_dob = get("date_of_birth")
        date_of_birth: datetime.date | None = None
        if not raw_dob:
            error("date_of_birth", "Date of birth is missing", raw_dob)
        else:
            date_of_birth, reason = _parse_date(raw_dob)
            if date_of_birth is not None:
                reason = self._age_problem(date_of_birth)
                if reason:
                    date_of_birth = None
            if reason:
                error("date_of_birth", reason, raw_dob)

        # Year group
        raw_year = get("year_group")
        year_group = _YEAR_GROUPS.get("".join(raw_year.split()).casefold())
        if not raw_year:
            error("year_group", "Year group is missing", raw_year)
        elif year_group is None:
            error("year_group", "Unknown year group: use R (or 0) for Reception, or 1 to 13", raw_year)
        elif date_of_birth is not None:
            expected = expected_year_group(date_of_birth, academic_year_start=self.academic_year_start)
            difference = abs(year_group - expected)
            if difference:
                message = f"{year_label(year_group)} but date of birth suggests {year_label(expected)}"
                if difference == 1:
                    warnings.append(message)
                else:
                    error("year_group", f"{message}: check the year group and date of birth", raw_year)

        # Flags
        flags: dict[str, bool] = {}
        for column in ("fsm", "pupil_premium"):
            raw = get(column)
            flag = _FLAGS.get(raw.casefold())
            if flag is None:
                error(column, f"{_LABELS[column]} must be Yes or No (or Y/N, True/False, 1/0)", raw)
                flag = False
            flags[column] = flag

        # Contact details
        raw_phone = get("contact_phone")
        phone = ""
        if raw_phone:
            if raw_phone in self.phone_cache:
                parsed_phone = self.phone_cache[raw_phone]
            else:
                parsed_phone = self.phone_cache[raw_phone] = _parse_phone(raw_phone)
            if parsed_phone is not None:
                phone = parsed_phone
            else:
                # A contact number is not a key: one the library cannot place (new ranges, 076
                # pagers, a typo) is kept as given, and the preview says so.
                header = self.headers.get("contact_phone", "Contact phone")
                kept = " ".join(raw_phone.split())
                if len(kept) <= _MAX_PHONE:
                    phone = kept
                    warnings.append(
                        f"{header} '{_clip(kept)}' is not a number we can check; it is kept as given"
                    )
                else:
                    warnings.append(
                        f"{header} '{_clip(kept)}' is not a phone number and is longer than "
                        f"{_MAX_PHONE} characters; it was not kept"
                    )

        raw_email = get("contact_email")
        email = raw_email.lower()
        if email and not _check_email(email):
            error("contact_email", "Contact email is not a valid email address", raw_email)

        raw_postcode = get("postcode")
        postcode = ""
        if raw_postcode:
            postcode = normalise_postcode(raw_postcode) or ""
            if not postcode:
                error("postcode", "Postcode is not a UK postcode", raw_postcode)

        family_ref = get("family_ref")
        if len(family_ref) > _MAX_REF:
            error("family_ref", f"Family ID is longer than {_MAX_REF} characters", family_ref)

        # Leaving date and registration type
        dates: dict[str, datetime.date | None] = {}
        for column in ("leaving_date", "fsm_start", "fsm_end"):
            raw = get(column)
            dates[column] = None
            if raw:
                dates[column], reason = _parse_date(raw)
                if reason:
                    error(column, reason.replace("Date of birth", _LABELS[column], 1), raw)
        raw_registration = get("registration")
        registration = _REGISTRATIONS.get(_header_key(raw_registration))
        if registration is None:
            error(
                "registration",
                "Registration type must be C (current), M (main dual), S (subsidiary dual) or L (leaver)",
                raw_registration,
            )
            registration = ""
        leaving_date = dates["leaving_date"]
        if leaving_date is not None and leaving_date > self.today:
            # A planned leaving date: the pupil is on roll until then, and a later export says so.
            warnings.append(f"Leaving date {leaving_date:%d/%m/%Y} is still to come: the pupil stays on roll")
            leaving_date = None
        elif registration == "leaver" and leaving_date is None and not get("leaving_date"):
            error("leaving_date", "Leaving date is missing for a leaver (registration type L)", "")
        if dates["fsm_start"] and dates["fsm_end"] and dates["fsm_end"] < dates["fsm_start"]:
            error("fsm_end", "FSM end date is before the FSM start date", get("fsm_end"))
        for column in ("uifsm", "service_child", "looked_after"):
            raw = get(column)
            flag = _FLAGS.get(raw.casefold())
            if flag is None:
                error(column, f"{_LABELS[column]} must be Yes or No (or Y/N, True/False, 1/0)", raw)
                flag = False
            flags[column] = flag
        fsm = flags["fsm"]
        if "fsm" not in self.indexes and dates["fsm_start"] is not None:
            # No FSM column, only the eligibility period: eligible while today is inside it.
            fsm = dates["fsm_start"] <= self.today and (
                dates["fsm_end"] is None or dates["fsm_end"] >= self.today
            )
        contacts = self._contacts(get, error, warnings, names["contact_name"], phone, email)
        attendance = []
        for column, term in ATTENDANCE_TERMS.items():
            raw = get(column)
            if not raw:
                continue
            try:
                percent = Decimal(raw.rstrip("%").strip())
            except decimal.InvalidOperation:
                percent = None
            if percent is None or not percent.is_finite() or not 0 <= percent <= 100:
                error(column, f"{_LABELS[column]} must be a percentage from 0 to 100", raw)
                continue
            attendance.append((term, percent.quantize(Decimal("0.01"))))

        if errors or date_of_birth is None or year_group is None:
            result.errors.extend(errors)
            return
        result.rows.append(
            PupilRow(
                line=line,
                upn=upn,
                legal_forename=names["legal_forename"],
                preferred_forename=names["preferred_forename"] or names["legal_forename"],
                surname=names["surname"],
                date_of_birth=date_of_birth,
                year_group=year_group,
                fsm=fsm,
                pupil_premium=flags["pupil_premium"],
                contact_name=names["contact_name"],
                contact_phone=phone,
                contact_email=email,
                postcode=postcode,
                family_ref=family_ref,
                warnings=tuple(warnings),
                leaving_date=leaving_date,
                registration=registration,
                fsm_start=dates["fsm_start"],
                fsm_end=dates["fsm_end"],
                uifsm=flags["uifsm"],
                service_child=flags["service_child"],
                looked_after=flags["looked_after"],
                contacts=contacts,
                home_language=" ".join(get("home_language").split())[:60],
                attendance=tuple(attendance),
            )
        )

    def _contacts(self, get, error, warnings: list[str], name_1: str, phone_1: str, email_1: str):
        """The row's contacts, when the file has any contact detail column (relationship, parental
        responsibility, flags) or a second contact; a contact without a name is left out with a warning.

        Parental responsibility not stated counts as none: nothing goes to a contact until it is known."""
        if not self.has_contacts:
            return ()
        contacts = []
        for n in range(1, MAX_CONTACTS + 1):
            column = partial(contact_column, n)
            raw_name = get(column("name"))
            name = " ".join(raw_name.split())
            flags = {}
            for part in ("parental_responsibility", "lives_with_pupil", "court_order", "no_contact"):
                raw = get(column(part))
                flags[part] = _FLAGS.get(raw.casefold())
                if flags[part] is None:
                    error(column(part), f"{column_label(column(part))} must be Yes or No", raw)
                    flags[part] = False
            raw_priority = get(column("priority"))
            priority = n
            if raw_priority:
                if raw_priority.isdigit() and 1 <= int(raw_priority) <= 99:
                    priority = int(raw_priority)
                else:
                    error(
                        column("priority"),
                        f"{column_label(column('priority'))} must be 1 to 99",
                        raw_priority,
                    )
            relationship = " ".join(get(column("relationship")).split())
            if n == 1:
                phone, email = phone_1, email_1
            else:
                phone = self._contact_phone(get(column("phone")))
                email = get(column("email")).lower()
                if email and not _check_email(email):
                    error(
                        column("email"),
                        f"{column_label(column('email'))} is not a valid email address",
                        email,
                    )
                if len(name) > _MAX_NAME:
                    error(
                        column("name"),
                        f"{column_label(column('name'))} is longer than {_MAX_NAME} characters",
                        raw_name,
                    )
            if len(relationship) > _MAX_RELATIONSHIP:
                error(
                    column("relationship"),
                    f"{column_label(column('relationship'))} is too long",
                    relationship,
                )
            if not name:
                if relationship or any(flags.values()) or (n > 1 and (phone or email)):
                    warnings.append(f"Contact {n} has details but no name: it was not read")
                continue
            restriction = (
                "court_order" if flags["court_order"] else "no_contact" if flags["no_contact"] else "none"
            )
            contacts.append(
                ContactRow(
                    name=name,
                    relationship=relationship,
                    priority=priority,
                    parental_responsibility=flags["parental_responsibility"],
                    lives_with_pupil=flags["lives_with_pupil"],
                    restriction=restriction,
                    phone=phone,
                    email=email,
                )
            )
        return tuple(contacts)

    def _contact_phone(self, raw: str) -> str:
        # As for contact 1: a number the library cannot place is kept as given when it fits.
        if not raw:
            return ""
        parsed = _parse_phone(raw)
        if parsed is not None:
            return parsed
        kept = " ".join(raw.split())
        return kept if len(kept) <= _MAX_PHONE else ""

    def _age_problem(self, date_of_birth: datetime.date) -> str:
        """Reason the date of birth is impossible for a pupil this academic year, or ""."""
        if date_of_birth > self.today:
            return "Date of birth is in the future"
        start = self.start
        age = (
            start.year
            - date_of_birth.year
            - ((start.month, start.day) < (date_of_birth.month, date_of_birth.day))
        )
        when = f"on 1 September {start.year}"
        if age < _MIN_AGE:
            return f"Date of birth makes the pupil younger than {_MIN_AGE} {when}"
        if age > _MAX_AGE:
            return f"Date of birth makes the pupil older than {_MAX_AGE} {when}"
        return ""
