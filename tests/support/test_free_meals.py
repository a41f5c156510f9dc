"""Free school meals done properly (issue 20.5): the import keeps benefits-related FSM (with its dates),
universal infant meals and the pupil premium's other reasons apart, and reports name their measure."""

import datetime
import re

from django.utils import timezone

from support.models import Pupil
from support.pupil_import import pupil_import_apply, pupil_import_parse
from tests.support.test_pupil_import import HEADER, csv_bytes, row

TODAY = timezone.localdate()
MEALS = ["FSM Start Date", "FSM End Date", "UIFSM", "Service Child", "CLA"]


def test_it_imports_fsm_periods_apart_from_infant_meals_and_pupil_premium(school_a, lead_a):
    data = csv_bytes(
        [
            {
                **row(forename="Ava", year=1, fsm="Y"),
                "FSM Start Date": "01/09/2024",
                "UIFSM": "Y",
            },
            {
                **row(forename="Ben", year=4, pp="Y"),
                "FSM Start Date": "01/09/2022",
                "FSM End Date": "31/03/2024",
                "Service Child": "Y",
            },
            {**row(forename="Cal", year=5, pp="Y"), "CLA": "Yes"},
        ],
        header=[*HEADER, *MEALS],
    )
    pupil_import_apply(school=school_a, data=data, actor=lead_a)
    got = {
        p.legal_forename: (
            p.fsm,
            p.fsm_start,
            p.fsm_end,
            p.uifsm,
            p.pupil_premium,
            p.service_child,
            p.looked_after,
        )
        for p in Pupil.objects.all()
    }
    assert got == {
        "Ava": (True, datetime.date(2024, 9, 1), None, True, False, False, False),
        "Ben": (False, datetime.date(2022, 9, 1), datetime.date(2024, 3, 31), False, True, True, False),
        "Cal": (False, None, None, False, True, False, True),
    }


def test_without_an_fsm_column_the_period_says_whether_the_pupil_is_registered():
    header = [h for h in HEADER if h != "FSM"] + ["FSM Start Date", "FSM End Date"]
    ended = (TODAY - datetime.timedelta(days=40)).strftime("%d/%m/%Y")
    parsed = pupil_import_parse(
        csv_bytes(
            [
                {**row(forename="Now"), "FSM Start Date": "01/09/2023"},
                {**row(forename="Past"), "FSM Start Date": "01/09/2023", "FSM End Date": ended},
            ],
            header=header,
        )
    )
    assert parsed.ok, parsed.errors
    assert [(r.legal_forename, r.fsm) for r in parsed.rows] == [("Now", True), ("Past", False)]


def test_it_refuses_an_fsm_period_that_ends_before_it_starts():
    data = csv_bytes(
        [{**row(), "FSM Start Date": "01/09/2024", "FSM End Date": "01/09/2023"}], header=[*HEADER, *MEALS]
    )
    parsed = pupil_import_parse(data)
    assert not parsed.rows
    assert [e.reason for e in parsed.errors] == ["FSM end date is before the FSM start date"]


def test_the_schools_table_counts_fsm_registered_today_and_says_so(school_a, family_a, admin, client_for):
    Pupil.objects.filter(family=family_a).update(fsm=True, fsm_end=TODAY - datetime.timedelta(days=1))
    page = client_for(admin).get("/").content.decode()
    assert (
        "Free school meals counts benefits-related FSM registered today (not universal infant meals)" in page
    )
    cells = re.findall(r"numeric\">(\d+)</td>", page[page.index(school_a.name) :])
    assert cells[:2] == ["1", "0"]  # one pupil on roll, no FSM registered today (it ended yesterday)


def test_subject_access_lists_each_measure_apart(family_a):
    from support.data_rights import subject_access_data

    Pupil.objects.filter(family=family_a).update(
        fsm=True, fsm_start=datetime.date(2024, 9, 1), looked_after=True
    )
    (pupil,) = subject_access_data(family=family_a)["pupils"]
    assert (
        pupil["free_school_meals_from"],
        pupil["looked_after"],
        pupil["universal_infant_free_school_meals"],
    ) == (
        "2024-09-01",
        True,
        False,
    )
