"""Every demo school's ask-for-help link, and a few asks waiting in the first two schools' leads' queues.
Idempotent like the rest of the demo: asks are added only when the first school has none."""

from django.db import transaction

from asks.models import Ask
from asks.services import ask_link_for, ask_submit
from support.demo import SCHOOLS
from support.models import Pupil, School

WAITING = [
    # (school index, kind, asker, child, year, contact way, message, language)
    (0, "coat", "Anna Kowalska", None, "Year 3", "text", "Mój syn potrzebuje kurtki na zimę.", "pl"),
    (0, "contact", "K. Jones", "Riley", "Year 5", "phone", "", "en"),
    (1, "food", "Mariam Hussain", None, "Year 2", "any", "", "ur"),
]


@transaction.atomic
def asks_demo_seed() -> list[str]:
    schools = {school.urn: school for school in School.objects.filter(urn__in=[urn for _, urn, _ in SCHOOLS])}
    ordered = [schools[urn] for _, urn, _ in SCHOOLS if urn in schools]
    if not ordered:
        return []
    links = [ask_link_for(school) for school in ordered]
    lines = [f"Ask-for-help pages: /ask/{links[0].code}/ ({ordered[0].name}) and one per school"]
    if Ask.objects.filter(school=ordered[0]).exists():
        return lines
    for index, kind, asker, child, year, way, message, lang in WAITING:
        school = ordered[index]
        if child is None:  # a real pupil at the school in need, so the lead can match and help
            pupil = (
                Pupil.objects.filter(school=school, in_need=True, year_group__gte=1).order_by("pk").first()
            )
            child = pupil.known_as if pupil else "Sam"
        ask_submit(
            link=links[index], kind=kind, asker_name=asker, child_name=child, child_year=year,
            contact_way=way, message=message, language=lang,
        )  # fmt: skip
    lines.append(f"Asks for help: {len(WAITING)} waiting in the leads' queues (lead_a and lead_b)")
    return lines
