"""A parent's or carer's ask for help through their school's public page, and the page's short link.

An ask holds what the person typed and nothing looked up: matching it to a family is a pastoral lead's
work, later, and is never shown to the person asking.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from support.models import Family, Pupil, School

# Lower-case letters and digits without look-alikes (0/o, 1/l/i): typed from a printed newsletter.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 6


def new_link_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class AskLink(models.Model):
    """A school's public ask-for-help page: ``/ask/<code>/``, printed on posters and in newsletters."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="ask_link")
    code = models.CharField(max_length=12, unique=True, default=new_link_code)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.school} ({self.code})"


class AskKind(models.TextChoices):
    UNIFORM = "uniform", "School uniform"
    COAT = "coat", "A winter coat"
    SHOES = "shoes", "School shoes"
    FOOD = "food", "Food"
    CONTACT = "contact", "Please contact me"


class ContactWay(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "E-mail"
    ANY = "any", "Any of these"


class Ask(models.Model):
    """One ask for help, in a school's pastoral leads' queue until it is turned into help or closed."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        MATCHED = "matched", "Matched to a family"
        DONE = "done", "Done"
        CLOSED = "closed", "Closed"

    class Outcome(models.TextChoices):
        NONE = "", "None yet"
        REQUEST = "request", "Turned into a request"
        VOUCHER = "voucher", "Turned into a voucher"
        SIGNPOST = "signpost", "Turned into a signpost"
        REPLY = "reply", "Replied"
        CLOSED = "closed", "Closed with a reason"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="asks")
    kind = models.CharField(max_length=10, choices=AskKind.choices)
    asker_name = models.CharField(max_length=100)
    child_name = models.CharField(max_length=100)
    child_year = models.CharField(max_length=40, blank=True)
    contact_way = models.CharField(max_length=10, choices=ContactWay.choices)
    message = models.CharField(max_length=500, blank=True)
    language = models.CharField(max_length=8, default="en")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    # The lead's match: never shown to the person asking.
    family = models.ForeignKey(Family, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pupil = models.ForeignKey(Pupil, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.NONE, blank=True)
    # The reply sent, or why the ask was closed.
    outcome_note = models.CharField(max_length=500, blank=True)
    # What the ask became (generic enough not to tie asks to one feature's table).
    outcome_ref = models.CharField(max_length=40, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["school", "status"], name="ask_school_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "matched", "done", "closed"]), name="ask_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"Ask {self.pk} at {self.school_id} ({self.get_kind_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.WAITING, self.Status.MATCHED)

    @property
    def wants_item(self) -> bool:
        return self.kind in (AskKind.UNIFORM, AskKind.COAT, AskKind.SHOES)
