"""The trust's agency directory, a year of signposts and referrals spread over the months (written through
the services, with the dates they happened), and follow-ups due today for ``pastoral_a``. Idempotent.
"""

import datetime
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from signposting.models import Agency, Signpost
from signposting.services import signpost_outcome_record, signpost_record
from support.models import Family, School
from support.selectors import family_schools_visible_to

# (name, helps with, who can use them, how to contact, how to refer, phone, e-mail, website, areas,
# safeguarding)
AGENCIES = [
    (
        "Riverton College adult learning",
        "Free and low-cost courses for adults: English, maths, digital skills, English for speakers of other "
        "languages, and routes back into work.",
        "Any adult aged 19 or over living in Riverton. Many courses are free for people on benefits.",
        "Phone or drop in to the college's advice centre, Monday to Friday 9am to 5pm.",
        "Signpost only: the family contacts the college themselves.",
        "01632 960100", "adultlearning@riverton-college.example", "https://riverton-college.example/adults",
        "Riverton and surrounding villages", False,
    ),
    (
        "Parent Minds (parental mental health service)",
        "Talking therapies and groups for parents and carers with anxiety, low mood or stress.",
        "Parents and carers registered with a GP in the borough. People can refer themselves.",
        "Self-referral online or by phone.",
        "With consent, send the carer's name, contact details and a short note of what they would like help "
        "with through the service's professional referral form.",
        "01632 960200", "referrals@parentminds.example", "https://parentminds.example", "The whole borough",
        False,
    ),
    (
        "CAMHS (children and young people's mental health)",
        "Assessment and support for children and young people with emotional wellbeing and mental health "
        "needs.",
        "Children and young people up to 18 registered with a GP in the borough.",
        "Through the school's mental health lead, a GP, or the single point of access line.",
        "With consent, the school's mental health lead completes the single point of access referral.",
        "01632 960300", "", "https://camhs.example", "The whole borough", False,
    ),
    (
        "Attendance and wellbeing support",
        "Help for families when a child is struggling to attend school: home visits, plans with the school, "
        "and links to other help.",
        "Families with a child at a school in the borough whose attendance is falling.",
        "Through the school's attendance lead.",
        "With consent, the attendance lead sends the referral form and the pupil's attendance record.",
        "01632 960400", "attendance@council.example", "", "The whole borough", False,
    ),
    (
        "Debt and benefits advice (Citizens Advice Riverton)",
        "Free, confidential advice on debt, benefits, Universal Credit, energy bills and budgeting.",
        "Anyone living in Riverton.",
        "Phone the advice line or book an appointment online.",
        "With consent, use the partner referral portal; otherwise give the family the advice line number.",
        "0800 144 8848", "", "https://citizensadvice.example/riverton", "Riverton", False,
    ),
    (
        "Housing options",
        "Help for families who are homeless or at risk of losing their home, and advice on repairs and rent.",
        "Anyone living in the borough.",
        "Phone the housing options team, or in an emergency out of hours the council's main number.",
        "With consent, use the council's duty to refer form.",
        "01632 960500", "housingoptions@council.example", "https://council.example/housing",
        "The whole borough", False,
    ),
    (
        "Children's social care (front door)",
        "Concerns that a child may be at risk of harm.",
        "Through the school's designated safeguarding lead only.",
        "The designated safeguarding lead contacts the front door.",
        "Never from here: tell the designated safeguarding lead.",
        "01632 960999", "", "", "The whole borough", True,
    ),
]  # fmt: skip


def _agencies() -> list[Agency]:
    made = []
    for name, helps, who, contact, refer, phone, email, web, areas, sg in AGENCIES:
        agency, _ = Agency.objects.get_or_create(
            name=name,
            defaults={
                "helps_with": helps,
                "who_can_use": who,
                "how_to_contact": contact,
                "how_to_refer": refer,
                "phone": phone,
                "email": email,
                "website": web,
                "areas": areas,
                "safeguarding": sg,
            },
        )
        made.append(agency)
    return made


def signposting_demo_seed() -> list[str]:
    User = get_user_model()
    agencies = [a for a in _agencies() if not a.safeguarding]
    if Signpost.objects.exists():
        return []
    today = timezone.localdate()
    rng = random.Random(18)
    made = 0
    for school in School.objects.order_by("pk"):
        staff = User.objects.filter(username=f"staff_{school.urn}").first()
        if staff is None:
            continue
        families = list(Family.objects.filter(pupils__school=school).distinct().order_by("pk")[:200])
        for family in rng.sample(families, min(len(families), 12)):
            if not family_schools_visible_to(staff, family).filter(pk=school.pk).exists():
                continue
            given_on = today - datetime.timedelta(days=rng.randint(20, 360))
            agency = rng.choice(agencies)
            referral = rng.random() < 0.4
            signpost = signpost_record(
                family=family,
                agency=agency,
                school=school,
                kind=Signpost.Kind.REFERRAL if referral else Signpost.Kind.SIGNPOST,
                consent_method="in_person" if referral else "",
                given_on=given_on,
                follow_up_on=given_on + datetime.timedelta(days=14),
                actor=staff,
                today=today,
                now=timezone.make_aware(datetime.datetime.combine(given_on, datetime.time(10))),
            )
            outcome = rng.choice(
                [Signpost.Outcome.ENGAGED, Signpost.Outcome.DECLINED, Signpost.Outcome.NOT_REACHED]
            )
            signpost_outcome_record(signpost=signpost, outcome=outcome, actor=staff, today=today)
            made += 1
    pastoral_a = User.objects.filter(username="pastoral_a").first()
    if pastoral_a is not None:
        family = (
            Family.objects.filter(pupils__school__in=pastoral_a.memberships.values("schools"))
            .exclude(signposts__isnull=False)
            .order_by("pk")
            .first()
        )
        if family is not None:
            signpost_record(
                family=family,
                agency=agencies[0],
                kind=Signpost.Kind.SIGNPOST,
                given_on=today - datetime.timedelta(days=14),
                follow_up_on=today,
                actor=pastoral_a,
                today=today,
            )
            made += 1
    return [f"Signposting: {len(AGENCIES)} agencies in the directory, {made} signposts and referrals."]
