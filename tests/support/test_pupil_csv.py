"""Tests for support.pupil_csv: the pure parser/validator for pupil CSV exports (no database)."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.gb import upn as stdnum_upn

from support.dates import academic_year_start_for
from support.pupil_csv import (
    COLUMNS,
    MAX_BYTES,
    REQUIRED,
    ParseResult,
    RowError,
    expected_year_group,
    normalise_name_key,
    normalise_postcode,
    parse_pupil_csv,
)
from support.pupil_csv import HEADERS as HEADER_TABLE

AYS = 2026  # academic year 2026/27: Reception = born 1 Sep 2021 .. 31 Aug 2022, Year 3 = 2018/19 births

HEADERS: dict[str, str] = {
    "upn": "UPN",
    "legal_forename": "Legal Forename",
    "preferred_forename": "Preferred Forename",
    "surname": "Surname",
    "date_of_birth": "Date of Birth",
    "year_group": "Year Group",
    "fsm": "FSM",
    "pupil_premium": "Pupil Premium",
    "contact_name": "Contact Name",
    "contact_phone": "Contact Phone",
    "contact_email": "Contact Email",
    "postcode": "Postcode",
    "family_ref": "Family ID",
}

# LA codes on stdnum's list, used to generate valid UPNs.
LA_CODES = (201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 330, 380, 801, 822, 926)
# Per the DfE check-letter table, the value of a final letter A..K (no I) equals that of the digit 0..9.
TEMPORARY_ALIASES = "ABCDEFGHJK"


def make_upn(body: str) -> str:
    """A UPN with the right check letter for a 12-character body (LA code first)."""
    return stdnum_upn.calc_check_digit(body) + body


UPN_A = make_upn("801200005001")
UPN_B = make_upn("822201412345")


def pupil(n: int = 1, **changes: str) -> dict[str, str]:
    """A valid Year 3 pupil (for 2026/27) keyed by canonical column; ``n`` makes the UPN unique."""
    values = {
        "upn": make_upn(f"801{n:09d}"),
        "legal_forename": "Amelia",
        "preferred_forename": "Millie",
        "surname": "Smith",
        "date_of_birth": "14/03/2019",
        "year_group": "3",
        "fsm": "Y",
        "pupil_premium": "N",
        "contact_name": "Jo Smith",
        "contact_phone": "07500 123456",
        "contact_email": "Jo.Smith@Example.org",
        "postcode": "sw1a1aa",
        "family_ref": "F1",
    }
    values.update(changes)
    return values


def make_csv(
    *rows: dict[str, str],
    columns: tuple[str, ...] = tuple(HEADERS),
    delimiter: str = ",",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A CSV file with a header row and the given rows (keyed by canonical column)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow([(headers or HEADERS)[column] for column in columns])
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue().encode()


def parse(data: bytes, *, academic_year_start: int = AYS) -> ParseResult:
    return parse_pupil_csv(data, academic_year_start=academic_year_start)


def only_error(result: ParseResult) -> RowError:
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


def row_error(changes: dict[str, str], *, academic_year_start: int = AYS) -> RowError:
    """The single error from a one-pupil file with the given changes to a valid pupil."""
    result = parse(make_csv(pupil(**changes)), academic_year_start=academic_year_start)
    assert result.rows == []
    return only_error(result)


# --- A good file ------------------------------------------------------------------------------------


def test_it_parses_and_normalises_a_valid_row() -> None:
    result = parse(make_csv(pupil(upn=" " + UPN_A.lower()[:5] + " " + UPN_A.lower()[5:])))

    assert result.errors == []
    assert result.ok
    (row,) = result.rows
    assert row.line == 2
    assert row.upn == UPN_A
    assert (row.legal_forename, row.preferred_forename, row.surname) == ("Amelia", "Millie", "Smith")
    assert row.date_of_birth == datetime.date(2019, 3, 14)
    assert row.year_group == 3
    assert row.fsm is True
    assert row.pupil_premium is False
    assert row.contact_name == "Jo Smith"
    assert row.contact_phone == "+447500123456"
    assert row.contact_email == "jo.smith@example.org"
    assert row.postcode == "SW1A 1AA"
    assert row.family_ref == "F1"
    assert row.warnings == ()
    assert result.columns == HEADERS


def test_it_falls_back_to_the_legal_forename_when_the_preferred_forename_is_blank() -> None:
    (row,) = parse(make_csv(pupil(preferred_forename="  "))).rows
    assert row.preferred_forename == "Amelia"


def test_it_collapses_spaces_inside_names() -> None:
    (row,) = parse(make_csv(pupil(legal_forename="  Mary   Jane ", surname="Smith  Jones"))).rows
    assert (row.legal_forename, row.surname) == ("Mary Jane", "Smith Jones")


def test_it_accepts_a_file_with_only_the_required_columns_and_blanks_the_rest() -> None:
    result = parse(make_csv(pupil(), columns=REQUIRED))

    assert result.ok
    (row,) = result.rows
    assert (row.fsm, row.pupil_premium) == (False, False)
    assert (row.contact_name, row.contact_phone, row.contact_email, row.postcode, row.family_ref) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert set(result.columns) == set(REQUIRED)


def test_it_accepts_blank_optional_values() -> None:
    blanks = dict.fromkeys(("contact_phone", "contact_email", "postcode", "family_ref", "fsm"), "")
    (row,) = parse(make_csv(pupil(**blanks))).rows
    assert (row.contact_phone, row.contact_email, row.postcode, row.family_ref, row.fsm) == (
        "",
        "",
        "",
        "",
        False,
    )


def test_it_reports_ok_only_with_rows_and_no_errors() -> None:
    assert parse(make_csv(pupil())).ok
    assert not parse(make_csv(pupil(), pupil(2, surname=""))).ok
    assert not parse(make_csv()).ok


# --- Headers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "alias"), [(column, alias) for column, aliases in COLUMNS.items() for alias in aliases]
)
def test_it_accepts_every_header_alias(column: str, alias: str) -> None:
    headers = dict(HEADERS, **{column: alias})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers.values())
    writer.writerow(pupil().values())

    result = parse(out.getvalue().encode())

    assert result.errors == []
    assert result.columns[column] == alias


@pytest.mark.parametrize(
    "header", ["legal_forename", "LEGAL-FORENAME", "Legal.Forename", "  legal  forename ", "LegalForename"]
)
def test_it_matches_headers_ignoring_case_spaces_underscores_hyphens_and_dots(header: str) -> None:
    data = f"UPN,{header},Surname,DOB,Year\n{UPN_A},Amelia,Smith,14/03/2019,3\n".encode()
    result = parse(data)
    assert result.errors == []
    assert result.columns["legal_forename"] == header.strip()
    assert result.rows[0].legal_forename == "Amelia"


def test_it_has_no_alias_claimed_by_two_columns() -> None:
    seen: dict[str, str] = {}
    for column, aliases in COLUMNS.items():
        for alias in aliases:
            key = "".join(ch for ch in alias.casefold() if ch.isalnum())
            assert seen.setdefault(key, column) == column, alias


def test_it_ignores_unknown_extra_columns() -> None:
    data = (
        f"Admission No,UPN,Forename,Surname,DOB,Year,Tutor Group\n0042,{UPN_A},Amy,Smith,14/03/2019,3,3RB\n"
    )
    result = parse(data.encode())
    assert result.ok
    assert "Admission No" not in result.columns.values()


def test_it_reports_each_missing_required_column_and_parses_no_rows() -> None:
    data = f"UPN,First Name,Year\n{UPN_A},Amy,3\n".encode()

    result = parse(data)

    assert result.rows == []
    assert [(e.line, e.column) for e in result.errors] == [(1, "surname"), (1, "date_of_birth")]
    assert result.errors[0].reason.startswith("Missing column: Surname (accepted headers: Surname, ")
    assert "Date of Birth, DOB" in result.errors[1].reason


def test_it_reports_two_headers_for_the_same_column() -> None:
    data = f"UPN,Forename,First Name,Surname,DOB,Year\n{UPN_A},Amy,Amy,Smith,14/03/2019,3\n".encode()

    error = only_error(parse(data))

    assert (error.line, error.column) == (1, "legal_forename")
    assert "Two columns are both Legal forename" in error.reason
    assert "column B" in error.reason
    assert "column C" in error.reason


def test_it_reports_the_same_header_written_twice() -> None:
    data = f"UPN,Forename,Surname,DOB,Year,UPN\n{UPN_A},Amy,Smith,14/03/2019,3,{UPN_A}\n".encode()
    error = only_error(parse(data))
    assert (error.line, error.column) == (1, "upn")


def test_it_skips_blank_lines_before_the_header() -> None:
    data = b"\n\n" + make_csv(pupil())
    result = parse(data)
    assert result.ok
    assert result.rows[0].line == 4


# --- Encoding and file-level problems ---------------------------------------------------------------


def test_it_strips_a_utf8_bom() -> None:
    result = parse(b"\xef\xbb\xbf" + make_csv(pupil()))
    assert result.ok
    assert result.columns["upn"] == "UPN"


def test_it_reports_the_line_of_the_first_byte_that_is_not_utf8() -> None:
    data = make_csv(pupil(1), pupil(2), pupil(3, surname="Zo\u00eb")).replace("Zo\u00eb".encode(), b"Zo\xeb")

    error = only_error(parse(data))

    assert (error.line, error.column) == (4, "")
    assert error.reason == "The file is not UTF-8 text: save it as 'CSV UTF-8' and try again"


def test_it_counts_crlf_lines_when_reporting_bad_utf8() -> None:
    data = b"UPN,Forename,Surname,DOB,Year\r\nx,y,z,1/1/2019,3\r\nx,Ren\xe9e,z,1/1/2019,3\r\n"
    assert only_error(parse(data)).line == 3


def test_it_reports_a_utf16_file_as_not_utf8() -> None:
    error = only_error(parse(make_csv(pupil()).decode().encode("utf-16")))
    assert "not UTF-8 text" in error.reason


@pytest.mark.parametrize(
    "data",
    [
        b"UPN,Forename\x00,Surname\n",
        b"PK\x03\x04\x14\x00\x06\x00",
        b"%PDF-1.7\n",
        b"\xd0\xcf\x11\xe0\xa1\xb1",
    ],
    ids=["nul-bytes", "xlsx", "pdf", "xls"],
)
def test_it_rejects_files_that_are_not_csv_text(data: bytes) -> None:
    error = only_error(parse(data))
    assert (error.line, error.column) == (0, "")
    assert error.reason.startswith("This is not a CSV text file")


def test_it_rejects_a_file_over_the_size_limit() -> None:
    data = make_csv(pupil())
    data += b" " * (MAX_BYTES + 1 - len(data))

    error = only_error(parse(data))

    assert "larger than the 10 MB limit" in error.reason


def test_it_accepts_a_file_exactly_at_the_size_limit() -> None:
    data = make_csv(pupil())
    padding = MAX_BYTES - len(data)
    line = b" " * 99_999 + b"\n"  # blank rows, each under the csv module's field size limit
    data += line * (padding // len(line)) + b"\n" * (padding % len(line))
    assert len(data) == MAX_BYTES
    assert parse(data).ok


@pytest.mark.parametrize(
    "data",
    [b"", b"  \r\n\n", b"\xef\xbb\xbf", make_csv(), make_csv() + b"\n,,,,\n\n ,  ,\n"],
    ids=["empty", "whitespace", "bom-only", "header-only", "header-and-blank-rows"],
)
def test_it_reports_a_file_with_no_pupil_rows(data: bytes) -> None:
    error = only_error(parse(data))
    assert error.reason == "The file has no pupil rows"


# --- CSV structure ----------------------------------------------------------------------------------


def test_it_reads_semicolon_separated_files() -> None:
    result = parse(make_csv(pupil(surname="Smith, Jr"), pupil(2), delimiter=";"))
    assert result.errors == []
    assert [row.surname for row in result.rows] == ["Smith, Jr", "Smith"]


def test_it_detects_the_delimiter_after_blank_lines_before_the_header() -> None:
    result = parse(b"\r\n  \r\n" + make_csv(pupil(surname="Smith, Jr"), delimiter=";"))
    assert result.errors == []
    assert result.rows[0].surname == "Smith, Jr"
    assert result.rows[0].line == 4


def test_it_reads_tab_separated_files() -> None:
    result = parse(make_csv(pupil(), pupil(2, surname="O'Neill"), delimiter="\t"))
    assert result.errors == []
    assert [row.line for row in result.rows] == [2, 3]


def test_it_keeps_commas_as_the_delimiter_when_values_contain_semicolons() -> None:
    result = parse(make_csv(pupil(contact_name="Jo; Sam"), pupil(2)))
    assert result.ok
    assert result.rows[0].contact_name == "Jo; Sam"


def test_it_reports_the_first_line_of_a_record_with_quoted_newlines() -> None:
    data = (
        "UPN,Forename,Surname,DOB,Year,Address,Postcode\n"
        f'{UPN_A},Amy,Smith,14/03/2019,3,"1 High Street,\nSmalltown,\nShire",SW1A 1AA\n'
        f'NOT-A-UPN,Ben,Jones,14/03/2019,3,"2 Low Road\nBigtown",SW1A 1AA\n'
        f"{UPN_B},Cat,Brown,14/03/2019,3,3 Mid Lane,NOPE\n"
    ).encode()

    result = parse(data)

    assert [row.line for row in result.rows] == [2]
    assert [(e.line, e.column) for e in result.errors] == [(5, "upn"), (7, "postcode")]


def test_it_counts_lines_in_crlf_files_with_quoted_newlines() -> None:
    data = (
        "UPN,Forename,Surname,DOB,Year,Address\r\n"
        f'{UPN_A},Amy,Smith,14/03/2019,3,"1 High Street\r\nSmalltown"\r\n'
        "\r\n"
        f"{UPN_B},,Brown,14/03/2019,3,x\r\n"
    ).encode()

    result = parse(data)

    assert [row.line for row in result.rows] == [2]
    assert [(e.line, e.column) for e in result.errors] == [(5, "legal_forename")]


def test_it_accepts_spaces_after_the_delimiter_before_a_quoted_value() -> None:
    data = f'UPN, Forename, Surname, DOB, Year\n{UPN_A}, Amy, "Smith, Jr", 14/03/2019, 3\n'.encode()
    (row,) = parse(data).rows
    assert row.surname == "Smith, Jr"


def test_it_skips_blank_rows_silently_and_keeps_line_numbers() -> None:
    # line 2: pupil, 3: empty, 4: only commas, 5: only spaces, 6: pupil
    data = make_csv(pupil(1)) + b"\n,,,,,,\n   \n" + make_csv(pupil(2)).split(b"\n", 1)[1]
    result = parse(data)
    assert result.errors == []
    assert [row.line for row in result.rows] == [2, 6]


def test_it_reports_a_row_with_more_values_than_the_header() -> None:
    data = f"UPN,Forename,Surname,DOB,Year\n{UPN_A},Amy,Smith,Jones,14/03/2019,3\n".encode()

    error = only_error(parse(data))

    assert (error.line, error.column) == (2, "")
    assert "6 values but the header has 5 columns" in error.reason


def test_it_ignores_trailing_empty_values_and_missing_trailing_values() -> None:
    data = (
        f"UPN,Forename,Surname,DOB,Year,Postcode\n{UPN_A},Amy,Smith,14/03/2019,3,,,\n{UPN_B},B,C,1/9/2018,4\n"
    )
    result = parse(data.encode())
    assert result.errors == []
    assert [row.postcode for row in result.rows] == ["", ""]


def test_it_reports_a_stray_quote_mark_and_carries_on() -> None:
    data = (
        f'UPN,Forename,Surname,DOB,Year\n{UPN_A},"Amy"x,Smith,14/03/2019,3\n{UPN_B},Ben,Jones,14/03/2019,3\n'
    )

    result = parse(data.encode())

    error = only_error(result)
    assert (error.line, error.column) == (2, "")
    assert "quote mark" in error.reason
    assert [row.line for row in result.rows] == [3]


def test_it_reports_a_quote_that_is_never_closed_on_its_first_line() -> None:
    data = (
        f'UPN,Forename,Surname,DOB,Year\n{UPN_A},Amy,Smith,14/03/2019,3\n{UPN_B},"Ben,Jones,1/1/2019,3\nx,y\n'
    )

    error = only_error(parse(data.encode()))

    assert (error.line, error.column) == (3, "")
    assert "never closed" in error.reason


def test_it_reports_all_errors_in_the_file_not_just_the_first() -> None:
    result = parse(
        make_csv(
            pupil(1, upn="B123"),
            pupil(2),
            pupil(3, surname=""),
            pupil(4, postcode="nowhere"),
            pupil(5),
            pupil(6, fsm="perhaps"),
        )
    )

    assert [(e.line, e.column) for e in result.errors] == [
        (2, "upn"),
        (4, "surname"),
        (5, "postcode"),
        (7, "fsm"),
    ]
    assert [row.line for row in result.rows] == [3, 6]


def test_it_reports_every_error_in_a_row() -> None:
    result = parse(
        make_csv(
            pupil(
                upn=UPN_A[1:],
                legal_forename="",
                date_of_birth="32/01/2019",
                year_group="Y14",
                fsm="x",
                pupil_premium="maybe",
                contact_phone="123",
                contact_email="not an email",
                postcode="XYZ",
            )
        )
    )

    assert result.rows == []
    assert {e.line for e in result.errors} == {2}
    assert [e.column for e in result.errors] == [
        "upn",
        "legal_forename",
        "date_of_birth",
        "year_group",
        "fsm",
        "pupil_premium",
        "contact_email",
        "postcode",
    ]


def test_it_trims_and_shortens_the_value_shown_in_an_error() -> None:
    error = row_error({"surname": "  " + "X" * 150 + "  "})
    assert len(error.value) == 60
    assert error.value.startswith("XXXX")
    assert error.value.endswith("\u2026")
    assert row_error({"postcode": "  nowhere  "}).value == "nowhere"


# --- UPN --------------------------------------------------------------------------------------------


def test_it_reports_a_missing_upn() -> None:
    error = row_error({"upn": "  "})
    assert (error.line, error.column, error.reason) == (2, "upn", "UPN is missing")


def test_it_reports_a_upn_of_the_wrong_length() -> None:
    error = row_error({"upn": "B80120000500"})
    assert (error.column, error.value) == ("upn", "B80120000500")
    assert "UPN must be 13 characters" in error.reason
    assert "has 12" in error.reason


def test_it_reports_a_upn_in_the_wrong_format() -> None:
    error = row_error({"upn": "B80120000A001"})
    assert error.column == "upn"
    assert "UPN is not in the right format" in error.reason


def test_it_reports_a_wrong_upn_check_letter() -> None:
    wrong = ("A" if UPN_A[0] != "A" else "C") + UPN_A[1:]

    error = row_error({"upn": wrong})

    assert (error.line, error.column, error.value) == (2, "upn", wrong)
    assert error.reason == f"UPN check letter is wrong: expected {UPN_A[0]}, got {wrong[0]}"


def test_it_reports_an_unknown_local_authority_code() -> None:
    error = row_error({"upn": make_upn("999200005001")})
    assert error.column == "upn"
    assert error.reason == "UPN has an unknown local authority code: 999"


@pytest.mark.parametrize("la_code", ["838", "839", "940", "941", "942", "943"])
def test_it_accepts_upns_from_local_authorities_created_since_2011(la_code: str) -> None:
    upn = make_upn(la_code + "200005001")
    assert not stdnum_upn.is_valid(upn)  # stdnum's list predates these authorities
    assert parse(make_csv(pupil(upn=upn))).ok
    assert (
        "check letter is wrong"
        in row_error({"upn": "Z" + upn[1:] if upn[0] != "Z" else "A" + upn[1:]}).reason
    )


def test_it_accepts_a_temporary_upn_with_a_warning() -> None:
    upn = make_upn("80120000500A")
    (row,) = parse(make_csv(pupil(upn=upn))).rows
    assert row.upn == upn
    assert any(warning.startswith("Temporary UPN") for warning in row.warnings)


def test_it_reports_a_upn_repeated_in_the_file_on_the_later_row() -> None:
    result = parse(
        make_csv(pupil(upn=UPN_A), pupil(upn=UPN_B), pupil(upn=UPN_A.lower()[:4] + " " + UPN_A[4:]))
    )

    error = only_error(result)

    assert (error.line, error.column) == (4, "upn")
    assert error.reason == "UPN appears twice in the file (first on line 2)"
    assert [row.line for row in result.rows] == [2, 3]


def test_it_rejects_every_single_character_change_to_a_upn() -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/"
    mutants = {
        UPN_A[:i] + ch + UPN_A[i + 1 :]
        for i in range(13)
        for ch in alphabet
        if ch.upper() != UPN_A[i]
        and not (i == 12 and ch.upper() == TEMPORARY_ALIASES[int(UPN_A[12])])  # see the property test
    }

    result = parse(make_csv(*(pupil(upn=mutant) for mutant in mutants)))

    assert result.rows == []
    assert len(result.errors) == len(mutants)
    assert {error.column for error in result.errors} == {"upn"}


@given(
    la_code=st.sampled_from(LA_CODES),
    rest=st.text(alphabet="0123456789", min_size=9, max_size=9),
    position=st.integers(min_value=0, max_value=12),
    replacement=st.one_of(
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
        st.characters(codec="utf-8"),
    ),
)
def test_it_rejects_any_single_character_change_to_a_valid_upn_property(
    la_code: int, rest: str, position: int, replacement: str
) -> None:
    upn = make_upn(f"{la_code}{rest}")
    assert stdnum_upn.is_valid(upn)
    assert parse(make_csv(pupil(upn=upn))).ok
    assume(replacement.upper() != upn[position])
    changed = upn[:position] + replacement + upn[position + 1 :]

    result = parse(make_csv(pupil(upn=changed)))

    if position == 12 and replacement.upper() == TEMPORARY_ALIASES[int(upn[12])]:
        # The DfE check-letter scheme gives a final letter the same value as one digit (A=0, B=1, ...), so
        # this change makes a well-formed temporary UPN: it is accepted, but always flagged.
        (row,) = result.rows
        assert any(warning.startswith("Temporary UPN") for warning in row.warnings)
    else:
        assert result.rows == []
        assert result.errors


# --- Names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("column", "label"), [("legal_forename", "Legal forename"), ("surname", "Surname")])
def test_it_reports_a_missing_name(column: str, label: str) -> None:
    error = row_error({column: ""})
    assert (error.line, error.column, error.reason) == (2, column, f"{label} is missing")


@pytest.mark.parametrize("column", ["legal_forename", "preferred_forename", "surname", "contact_name"])
def test_it_reports_a_name_over_100_characters(column: str) -> None:
    assert parse(make_csv(pupil(**{column: "N" * 100}))).ok
    error = row_error({column: "N" * 101})
    assert error.column == column
    assert "longer than 100 characters" in error.reason


def test_it_reports_a_family_id_over_100_characters() -> None:
    error = row_error({"family_ref": "F" * 101})
    assert (error.column, error.reason) == ("family_ref", "Family ID is longer than 100 characters")


# --- Date of birth ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["14/03/2019", "14/3/2019", "2019-03-14", "14-03-2019", "2019-03-14 00:00:00"]
)
def test_it_accepts_date_of_birth_formats(value: str) -> None:
    (row,) = parse(make_csv(pupil(date_of_birth=value))).rows
    assert row.date_of_birth == datetime.date(2019, 3, 14)


def test_it_accepts_single_digit_day_and_month() -> None:
    (row,) = parse(make_csv(pupil(date_of_birth="1/9/2018", year_group="4"))).rows
    assert row.date_of_birth == datetime.date(2018, 9, 1)


@pytest.mark.parametrize("value", ["14/03/19", "March 14 2019", "14 03 2019", "2019/03/14", "14/03-2019"])
def test_it_reports_an_unrecognised_date_format(value: str) -> None:
    error = row_error({"date_of_birth": value})
    assert (error.line, error.column, error.value) == (2, "date_of_birth", value)
    assert "Date of birth is not in a recognised format" in error.reason


@pytest.mark.parametrize("value", ["31/02/2015", "29/02/2019", "00/01/2019", "12/13/2019", "2019-02-30"])
def test_it_reports_an_impossible_date(value: str) -> None:
    error = row_error({"date_of_birth": value})
    assert error.column == "date_of_birth"
    assert error.reason.startswith("Date of birth is not a real date")


def test_it_reports_a_missing_date_of_birth() -> None:
    error = row_error({"date_of_birth": ""})
    assert (error.column, error.reason) == ("date_of_birth", "Date of birth is missing")


def test_it_reports_a_date_of_birth_in_the_future() -> None:
    error = row_error({"date_of_birth": "01/01/2999"})
    assert (error.column, error.reason) == ("date_of_birth", "Date of birth is in the future")


def test_it_reports_a_pupil_younger_than_2_at_the_start_of_the_year() -> None:
    error = row_error({"date_of_birth": "02/09/2008", "year_group": "R"}, academic_year_start=2010)
    assert error.column == "date_of_birth"
    assert error.reason == "Date of birth makes the pupil younger than 2 on 1 September 2010"


def test_it_accepts_a_pupil_who_turns_2_on_the_first_day_of_the_year() -> None:
    result = parse(make_csv(pupil(date_of_birth="01/09/2008", year_group="R")), academic_year_start=2010)
    assert [e.column for e in result.errors] == ["year_group"]  # the age is fine; the year group is not


def test_it_reports_a_pupil_older_than_20_at_the_start_of_the_year() -> None:
    error = row_error({"date_of_birth": "31/08/2005", "year_group": "13"})
    assert error.column == "date_of_birth"
    assert error.reason == f"Date of birth makes the pupil older than 20 on 1 September {AYS}"


# --- Year group -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("R", 0),
        ("rec", 0),
        ("Reception", 0),
        ("YR", 0),
        ("Year R", 0),
        ("0", 0),
        ("1", 1),
        ("13", 13),
        ("y7", 7),
        ("Y13", 13),
        ("Year 1", 1),
        ("YEAR 13", 13),
        (" year  10 ", 10),
        ("07", 7),
    ],
)
def test_it_accepts_year_group_forms(value: str, expected: int) -> None:
    birth_year = AYS - expected - 5
    (row,) = parse(make_csv(pupil(year_group=value, date_of_birth=f"15/10/{birth_year}"))).rows
    assert row.year_group == expected
    assert row.warnings == ()


@pytest.mark.parametrize(
    "value", ["14", "Y0", "Year 0", "Year 14", "N2", "Nursery", "-1", "3.5", "Year Three"]
)
def test_it_reports_an_unknown_year_group(value: str) -> None:
    error = row_error({"year_group": value})
    assert (error.line, error.column, error.value) == (2, "year_group", value)
    assert error.reason.startswith("Unknown year group")


def test_it_reports_a_missing_year_group() -> None:
    error = row_error({"year_group": ""})
    assert (error.column, error.reason) == ("year_group", "Year group is missing")


def test_it_warns_when_the_year_group_is_one_year_off_the_date_of_birth() -> None:
    result = parse(make_csv(pupil(year_group="4"), pupil(2, year_group="2")))

    assert result.errors == []
    assert [row.warnings for row in result.rows] == [
        ("Year 4 but date of birth suggests Year 3",),
        ("Year 2 but date of birth suggests Year 3",),
    ]


def test_it_names_reception_and_nursery_in_year_group_warnings() -> None:
    result = parse(
        make_csv(
            pupil(1, year_group="1", date_of_birth="31/08/2022"),
            pupil(2, year_group="R", date_of_birth="01/09/2022"),
        )
    )
    assert [row.warnings for row in result.rows] == [
        ("Year 1 but date of birth suggests Reception",),
        ("Reception but date of birth suggests Nursery",),
    ]


def test_it_reports_a_year_group_two_or_more_years_off_the_date_of_birth() -> None:
    error = row_error({"year_group": "Year 5"})
    assert (error.line, error.column, error.value) == (2, "year_group", "Year 5")
    assert error.reason.startswith("Year 5 but date of birth suggests Year 3")


# --- Flags ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Y", True),
        ("yes", True),
        ("TRUE", True),
        ("t", True),
        ("1", True),
        ("n", False),
        ("No", False),
        ("false", False),
        ("F", False),
        ("0", False),
        ("", False),
    ],
)
def test_it_reads_yes_no_flags(value: str, expected: bool) -> None:
    (row,) = parse(make_csv(pupil(fsm=value, pupil_premium=value))).rows
    assert (row.fsm, row.pupil_premium) == (expected, expected)


@pytest.mark.parametrize(("column", "label"), [("fsm", "FSM"), ("pupil_premium", "Pupil premium")])
def test_it_reports_a_flag_that_is_not_yes_or_no(column: str, label: str) -> None:
    error = row_error({column: "Maybe"})
    assert (error.line, error.column, error.value) == (2, column, "Maybe")
    assert error.reason.startswith(f"{label} must be Yes or No")


# --- Contact details --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("07500 123456", "+447500123456"),
        ("+44 7500 123456", "+447500123456"),
        ("+44 (0)7500 123456", "+447500123456"),
        ("7500123456", "+447500123456"),  # leading zero lost by a spreadsheet
        ("0161 496 0000", "+441614960000"),
        ("(0161) 496-0000", "+441614960000"),
        ("+33 1 23 45 67 89", "+33123456789"),
    ],
)
def test_it_normalises_phone_numbers_to_e164(value: str, expected: str) -> None:
    (row,) = parse(make_csv(pupil(contact_phone=value))).rows
    assert row.contact_phone == expected


@pytest.mark.parametrize(
    "value", ["123", "07500 12345", "07700 900123", "0761 234 5678", "not a number", "07500 123456 / 07911"]
)
def test_it_keeps_a_phone_number_it_cannot_place_as_given_with_a_warning(value: str) -> None:
    # A contact number is not a key: the file is never refused for one.
    result = parse(make_csv(pupil(contact_phone=value)))

    assert result.errors == []
    (row,) = result.rows
    assert row.contact_phone == value
    assert row.warnings == (f"Contact Phone '{value}' is not a number we can check; it is kept as given",)


def test_it_names_the_phone_column_as_the_file_does_in_its_warning() -> None:
    data = f"UPN,Forename,Surname,DOB,Year,Contact Telephone\n{UPN_A},Amy,Smith,14/03/2019,3,07700 900123\n"

    (row,) = parse(data.encode()).rows

    assert row.contact_phone == "07700 900123"
    assert row.warnings[0].startswith("Contact Telephone '07700 900123'")


def test_it_does_not_keep_a_long_text_in_the_phone_column_but_still_reads_the_row() -> None:
    (row,) = parse(make_csv(pupil(contact_phone="ring the office and ask for Mrs Smith"))).rows

    assert row.contact_phone == ""
    assert "was not kept" in row.warnings[0]


@pytest.mark.parametrize(
    "value", ["not an email", "jo@", "jo@example", "jo smith@example.org", "a@b.com; c@d.com"]
)
def test_it_reports_an_invalid_email(value: str) -> None:
    error = row_error({"contact_email": value})
    assert (error.line, error.column, error.value) == (2, "contact_email", value)
    assert "Contact email is not a valid email address" in error.reason


def test_it_reports_an_invalid_postcode() -> None:
    error = row_error({"postcode": "ZZ1"})
    assert (error.line, error.column, error.reason, error.value) == (
        2,
        "postcode",
        "Postcode is not a UK postcode",
        "ZZ1",
    )


# --- Helpers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2026, 11, 23), 2026),
        (datetime.date(2026, 8, 31), 2025),
        (datetime.date(2026, 9, 1), 2026),
        (datetime.date(2027, 1, 1), 2026),
    ],
)
def test_it_finds_the_academic_year_start(day: datetime.date, expected: int) -> None:
    assert academic_year_start_for(day) == expected


@pytest.mark.parametrize(
    ("date_of_birth", "expected"),
    [
        (datetime.date(2021, 9, 1), 0),
        (datetime.date(2022, 8, 31), 0),
        (datetime.date(2021, 8, 31), 1),
        (datetime.date(2022, 9, 1), -1),
        (datetime.date(2019, 3, 14), 3),
        (datetime.date(2008, 9, 1), 13),
    ],
)
def test_it_computes_the_expected_year_group(date_of_birth: datetime.date, expected: int) -> None:
    assert expected_year_group(date_of_birth, academic_year_start=AYS) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("  m1   1ae ", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN551PT", "DN55 1PT"),
        ("W1A 0AX", "W1A 0AX"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("gir 0aa", "GIR 0AA"),
    ],
)
def test_it_normalises_postcodes(value: str, expected: str) -> None:
    assert normalise_postcode(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "SW1A",
        "1AA",
        "SW1A 1A",
        "SW1A 1AAA",
        "Q1 1AA",
        "AI1 1AA",
        "W1I 1AA",
        "SW1A 1AC",
        "SW1A 1OA",
        "S W 1A 1 A A!",
        "12345",
    ],
)
def test_it_rejects_strings_that_are_not_postcodes(value: str) -> None:
    assert normalise_postcode(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mrs. Zoë O'Brien-Smith", "zoe obrien smith"),
        ("  DR   José   ÁLVAREZ ", "jose alvarez"),
        ("Łukasz Wiśniewski", "lukasz wisniewski"),
        ("Mr & Mrs Smith", "smith"),
        ("Mx Sam O\u2019Neill", "sam oneill"),
        ("MISS Anne-Marie  d'Arcy", "anne marie darcy"),
        ("Straße", "strasse"),
        ("Miles Drake", "miles drake"),
    ],
)
def test_it_normalises_names_for_duplicate_matching(value: str, expected: str) -> None:
    assert normalise_name_key(value) == expected


# --- Properties -------------------------------------------------------------------------------------


@given(st.text())
def test_it_normalises_postcodes_idempotently(value: str) -> None:
    normalised = normalise_postcode(value)
    if normalised is not None:
        assert normalise_postcode(normalised) == normalised


@given(
    postcode=st.from_regex(
        r"\A[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])"
        r"[0-9][ABD-HJLNP-UW-Z]{2}\Z"
    ),
    lower=st.booleans(),
    spaces=st.text(alphabet=" ", max_size=3),
)
def test_it_normalises_any_postcode_shape_idempotently(postcode: str, lower: bool, spaces: str) -> None:
    messy = spaces + (postcode.lower() if lower else postcode)[:-3] + spaces + postcode[-3:] + spaces

    normalised = normalise_postcode(messy)

    assert normalised == f"{postcode[:-3]} {postcode[-3:]}"
    assert normalise_postcode(normalised) == normalised


@given(
    date_of_birth=st.dates(min_value=datetime.date(1980, 1, 1), max_value=datetime.date(2060, 12, 31)),
    academic_year_start=st.integers(min_value=1990, max_value=2060),
)
def test_it_places_every_birth_date_inside_its_year_groups_birth_range(
    date_of_birth: datetime.date, academic_year_start: int
) -> None:
    year_group = expected_year_group(date_of_birth, academic_year_start=academic_year_start)
    first = datetime.date(academic_year_start - year_group - 5, 9, 1)
    last = datetime.date(academic_year_start - year_group - 4, 8, 31)
    assert first <= date_of_birth <= last
    assert expected_year_group(date_of_birth, academic_year_start=academic_year_start + 1) == year_group + 1


@given(
    year_group=st.integers(min_value=-2, max_value=15),
    academic_year_start=st.integers(min_value=1990, max_value=2060),
    offset=st.integers(min_value=0, max_value=365),
)
def test_it_round_trips_year_group_birth_ranges(
    year_group: int, academic_year_start: int, offset: int
) -> None:
    first = datetime.date(academic_year_start - year_group - 5, 9, 1)
    last = datetime.date(academic_year_start - year_group - 4, 8, 31)
    date_of_birth = min(first + datetime.timedelta(days=offset), last)
    assert expected_year_group(date_of_birth, academic_year_start=academic_year_start) == year_group
    assert expected_year_group(
        first - datetime.timedelta(days=1), academic_year_start=academic_year_start
    ) == (year_group + 1)
    assert expected_year_group(
        last + datetime.timedelta(days=1), academic_year_start=academic_year_start
    ) == (year_group - 1)


@given(
    year_group=st.integers(min_value=0, max_value=13),
    offset=st.integers(min_value=0, max_value=365),
)
def test_it_accepts_any_date_of_birth_that_matches_the_year_group(year_group: int, offset: int) -> None:
    first = datetime.date(AYS - year_group - 5, 9, 1)
    date_of_birth = min(first + datetime.timedelta(days=offset), datetime.date(AYS - year_group - 4, 8, 31))

    result = parse(make_csv(pupil(year_group=str(year_group), date_of_birth=f"{date_of_birth:%d/%m/%Y}")))

    (row,) = result.rows
    assert (row.year_group, row.date_of_birth, row.warnings) == (year_group, date_of_birth, ())


# --- Performance ------------------------------------------------------------------------------------


def test_it_parses_a_20000_row_file_whole() -> None:
    rows = []
    for n in range(20_000):
        year_group = n % 14
        date_of_birth = datetime.date(AYS - year_group - 5, 9, 1) + datetime.timedelta(days=n % 365)
        rows.append(
            pupil(
                n,
                legal_forename=f"Pupil {n}",
                surname="O'Brien, Smith",
                date_of_birth=f"{date_of_birth:%d/%m/%Y}",
                year_group=f"Year {year_group}" if year_group else "R",
                contact_phone=f"07500 {n:06d}" if n % 4 else f"0161 496 {n % 10000:04d}",
                contact_email=f"parent{n}@example.org.uk",
                postcode=f"M{n % 9 + 1} {n % 10}AB",
                family_ref=f"F{n // 2}",
            )
        )
    data = make_csv(*rows)

    # Speed is measured by bench/import_pupils.py; here, only that a large file parses whole.
    result = parse(data)

    assert result.errors == []
    assert len(result.rows) == 20_000


# --- Header names from the common information systems (issue 14) ----------------------------------


@pytest.mark.parametrize(
    ("column", "header"),
    [
        (column, header)
        for column, systems in HEADER_TABLE.items()
        for names in systems.values()
        for header in names
    ],
)
def test_it_reads_every_header_name_in_the_table(column: str, header: str) -> None:
    headers = {**HEADERS, column: header}
    data = make_csv(pupil(), columns=tuple(headers), headers=headers)

    result = parse(data)

    assert result.ok, result.errors
    assert result.columns[column] == header
    assert result.unread == []


def test_it_reads_a_contact_telephone_column() -> None:
    data = f"UPN,Forename,Surname,DOB,Year,Contact Telephone\n{UPN_A},Amy,Smith,14/03/2019,3,07500 123456\n"

    (row,) = parse(data.encode()).rows

    assert row.contact_phone == "+447500123456"


def test_it_lists_each_column_it_did_not_read_with_a_did_you_mean() -> None:
    data = (
        "UPN,Forename,Surname,DOB,Year,Contact Telephne,Tutor Group,Post Cod\n"
        f"{UPN_A},Amy,Smith,14/03/2019,3,07500 123456,3RB,RV1 2AB\n"
    )

    result = parse(data.encode())

    assert result.ok
    assert [(u.header, u.letter, u.suggestion, u.field) for u in result.unread] == [
        ("Contact Telephne", "F", "Contact Telephone", "contact_phone"),
        ("Tutor Group", "G", "", ""),
        ("Post Cod", "H", "Postcode", "postcode"),
    ]
    assert result.unread[0].message == (
        "Column F 'Contact Telephne' was not read: did you mean 'Contact Telephone' (Contact phone)?"
    )
    assert result.unread[1].message == "Column G 'Tutor Group' was not read"


def test_it_suggests_no_column_for_a_header_that_only_shares_a_word_with_one() -> None:
    data = f"UPN,Forename,Surname,DOB,Year,SEN Status,EAL Status\n{UPN_A},Amy,Smith,14/03/2019,3,K,Y\n"

    result = parse(data.encode())

    assert [(u.header, u.suggestion) for u in result.unread] == [("SEN Status", ""), ("EAL Status", "")]


def test_it_names_the_column_in_a_message_as_the_files_header_does() -> None:
    data = f"UPN,Forename,Family Name,DOB,Year\n{UPN_A},Amy,,14/03/2019,3\n"

    error = only_error(parse(data.encode()))

    assert (error.column, error.header, error.column_name) == ("surname", "Family Name", "Family Name")
    assert error.reason == "Family Name is missing"
