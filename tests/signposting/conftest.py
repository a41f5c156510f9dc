import datetime

import pytest

from signposting.models import Agency

TODAY = datetime.date(2026, 3, 10)


@pytest.fixture
def college(db):
    return Agency.objects.create(
        name="Riverton College adult learning",
        helps_with="Courses for adults",
        who_can_use="Adults aged 19 or over",
        how_to_contact="Drop in to the advice centre",
        phone="01632 960100",
    )


@pytest.fixture
def housing(db):
    return Agency.objects.create(name="Housing options", helps_with="Help when at risk of losing a home")


@pytest.fixture
def social_care(db):
    return Agency.objects.create(
        name="Children's social care", helps_with="Concerns that a child may be at risk", safeguarding=True
    )
