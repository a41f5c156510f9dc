"""The agency directory the trust keeps, and the families its schools send on to an agency.

A ``Signpost`` is one of: a signpost (the family was given an agency's details; nothing was shared), a
referral (the school sent the family's details to the agency, with the family's consent to share with that
named agency), an Early Help assessment or a team around the family (each with its lead professional).
A safeguarding referral is never one of these: it goes to the school's designated safeguarding lead.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from support.models import Family, School
from support.models.consents import ConsentMethod


class Agency(models.Model):
    """An organisation outside the schools that helps families, kept by trust admins."""

    name = models.CharField(max_length=120, unique=True)
    helps_with = models.TextField("what they help with", max_length=500)
    who_can_use = models.TextField("who can use them", max_length=500, blank=True)
    how_to_contact = models.TextField("how to contact them", max_length=500, blank=True)
    how_to_refer = models.TextField(
        "how staff refer", max_length=500, blank=True, help_text="What the school sends, and where."
    )
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    areas = models.CharField("areas served", max_length=200, blank=True)
    schools = models.ManyToManyField(
        School, blank=True, related_name="+", help_text="The schools it serves; none: every school."
    )
    safeguarding = models.BooleanField(
        default=False,
        help_text="A safeguarding service (children's social care): never referred to here; staff are sent "
        "to the school's designated safeguarding lead instead.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class Signpost(models.Model):
    class Kind(models.TextChoices):
        SIGNPOST = "signpost", "Signpost (details given, nothing shared)"
        REFERRAL = "referral", "Referral (details shared with consent)"
        EARLY_HELP = "early_help", "Early Help assessment"
        TEAM_AROUND_FAMILY = "taf", "Team around the family"

    class Outcome(models.TextChoices):
        ENGAGED = "engaged", "Engaged"
        DECLINED = "declined", "Declined"
        NOT_REACHED = "not_reached", "Not reached"
        WAITING = "waiting", "Waiting"

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="signposts")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="signposts"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    given_on = models.DateField()
    lead_professional = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=300, blank=True)
    follow_up_on = models.DateField(null=True, blank=True)
    # The family's consent to share with this named agency (a referral's), as the core records consent.
    consent_given_on = models.DateField(null=True, blank=True)
    consent_method = models.CharField(max_length=12, choices=ConsentMethod.choices, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    outcome_on = models.DateField(null=True, blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-given_on", "-pk"]
        indexes = [
            models.Index(fields=["family", "given_on"], name="signpost_family"),
            models.Index(fields=["school", "follow_up_on"], name="signpost_follow_up"),
            models.Index(fields=["given_on"], name="signpost_given_on"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="referral") | Q(consent_given_on__isnull=False),
                name="signpost_referral_has_consent",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["early_help", "taf"]) | Q(agency__isnull=False),
                name="signpost_names_its_agency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.given_on:%d/%m/%Y}"

    @property
    def what(self) -> str:
        """Short words for lists: "Referral to Housing Options", "Early Help assessment"."""
        short = {
            self.Kind.SIGNPOST: "Signposted to",
            self.Kind.REFERRAL: "Referred to",
            self.Kind.EARLY_HELP: "Early Help assessment",
            self.Kind.TEAM_AROUND_FAMILY: "Team around the family",
        }[self.kind]
        if self.kind in (self.Kind.SIGNPOST, self.Kind.REFERRAL):
            return f"{short} {self.agency.name}"
        return f"{short} with {self.agency.name}" if self.agency_id else short

    @property
    def is_open(self) -> bool:
        """No outcome yet, or still waiting: a follow-up is still due."""
        return self.outcome in ("", self.Outcome.WAITING)
