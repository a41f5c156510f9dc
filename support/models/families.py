from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import upn as upn_module

from support.languages import FamilyLanguage
from support.models.schools import School

# A household bigger than this is a typing mistake (or a probe): a voucher copies the household size
# into a small integer, and a partner plans a parcel by it.
HOUSEHOLD_MAX_ADULTS = 12
HOUSEHOLD_MAX_CHILDREN = 18


def validate_upn(value: str) -> None:
    try:
        upn_module.validate(value)
    except StdnumError as exc:
        raise ValidationError(f"{value} is not a valid UPN: {exc.message}") from None


class SurnameFirst(Func):
    """A name key with its last word (the surname, titles already dropped) moved to the front:
    "grace okafor" sorts as "okafor grace okafor". The same on PostgreSQL and SQLite, and immutable, so
    the database keeps it as a generated column every writer (bulk ones too) fills in."""

    output_field = models.CharField()

    def __init__(self, expression, **extra) -> None:
        super().__init__(expression, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(regexp_replace({sql}, '^.* ', '') || ' ' || {sql})", [*params, *params]

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        # The text after the last space: strip every character the name has from its end back to
        # that space, then take what was stripped.
        last = f"replace({sql}, rtrim({sql}, replace({sql}, ' ', '')), '')"
        return f"({last} || ' ' || {sql})", params * 5

    def as_sql(self, compiler, connection, **extra):  # another database: sorted by the whole key
        return compiler.compile(self.source_expressions[0])


class YearGroup(models.IntegerChoices):
    RECEPTION = 0, "Reception"
    Y1 = 1, "Year 1"
    Y2 = 2, "Year 2"
    Y3 = 3, "Year 3"
    Y4 = 4, "Year 4"
    Y5 = 5, "Year 5"
    Y6 = 6, "Year 6"
    Y7 = 7, "Year 7"
    Y8 = 8, "Year 8"
    Y9 = 9, "Year 9"
    Y10 = 10, "Year 10"
    Y11 = 11, "Year 11"
    Y12 = 12, "Year 12"
    Y13 = 13, "Year 13"


class Family(models.Model):
    """A household: the lead carer, how to reach them, and what a voucher may say about them."""

    lead_carer_name = models.CharField(max_length=120)
    # Casefolded name without titles or accents, kept to find likely duplicate families quickly.
    carer_name_key = models.CharField(max_length=120, db_index=True, editable=False)
    # The family list's order: by surname, then the rest of the name (support.search finds by both).
    carer_sort_key = models.GeneratedField(
        expression=SurnameFirst("carer_name_key"),
        output_field=models.CharField(max_length=241),
        db_persist=True,
        editable=False,
    )
    phone = models.CharField(max_length=20, blank=True, db_index=True, help_text="E.164, e.g. +447700900123")
    email = models.EmailField(blank=True, db_index=True)
    address = models.TextField(blank=True, max_length=500)
    postcode = models.CharField(max_length=8, blank=True, db_index=True)
    adults = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(HOUSEHOLD_MAX_ADULTS)]
    )
    children = models.PositiveSmallIntegerField(
        default=1, validators=[MaxValueValidator(HOUSEHOLD_MAX_CHILDREN)]
    )
    dietary_needs = models.CharField(max_length=200, blank=True)
    # What the family receives (voucher, e-voucher, e-mail, text) is in English and this language.
    language = models.CharField(
        "preferred language",
        max_length=8,
        choices=FamilyLanguage.choices,
        blank=True,
        default="",
        help_text="Vouchers and messages go in English and this language.",
    )
    # The school export's own words for a language we have no translation for (language "other").
    language_noted = models.CharField("language as the school's export gave it", max_length=60, blank=True)
    # Consent to share is named, one partner at a time: ``FamilyConsent`` (support/models/consents.py).
    # Set when a lead merged this family into another; its pupils moved there.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["carer_sort_key", "pk"]
        verbose_name_plural = "families"
        indexes = [
            models.Index(fields=["carer_name_key", "postcode"], name="family_dupe_key"),
            models.Index(fields=["carer_sort_key", "id"], name="family_sort_key"),
            # An outward code's families in the search's order without a visit to the table (PostgreSQL:
            # the prefix by the pattern operators, the rest read from the index; support.search.AreaRanking).
            models.Index(
                fields=["postcode"],
                name="family_postcode_area",
                opclasses=["varchar_pattern_ops"],
                include=["carer_sort_key", "merged_into", "id"],
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(adults__gte=1), name="family_has_an_adult"),
        ]

    def __str__(self) -> str:
        return self.lead_carer_name

    @property
    def household_size(self) -> int:
        return self.adults + self.children


class Pupil(models.Model):
    upn = models.CharField("UPN", max_length=13, unique=True, validators=[validate_upn])
    legal_forename = models.CharField(max_length=100)
    preferred_forename = models.CharField(max_length=100, blank=True)
    surname = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    year_group = models.PositiveSmallIntegerField(choices=YearGroup.choices)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="pupils")
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="pupils")
    # Benefits-related free school meals (the poverty measure), as the school's system records it,
    # with the eligibility period when the export gives one. Universal infant free school meals
    # (every child in Reception to Year 2) is not a poverty measure and is kept apart.
    fsm = models.BooleanField("benefits-related free school meals", default=False)
    fsm_start = models.DateField("FSM start date", null=True, blank=True)
    fsm_end = models.DateField("FSM end date", null=True, blank=True)
    uifsm = models.BooleanField("universal infant free school meals", default=False)
    # Pupil premium also covers service children and looked-after children, not only FSM.
    pupil_premium = models.BooleanField(default=False)
    service_child = models.BooleanField(default=False)
    looked_after = models.BooleanField("looked after (CLA)", default=False)
    in_need = models.BooleanField(default=False, help_text="Flagged by pastoral staff as in need of support.")
    # The school information system's own family / sibling link, kept to group siblings on re-import.
    sis_family_ref = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["surname", "legal_forename", "pk"]
        indexes = [
            models.Index(fields=["school", "year_group"], name="pupil_school_year"),
            models.Index(fields=["school", "sis_family_ref"], name="pupil_school_famref"),
            models.Index(fields=["surname"], name="pupil_surname"),
            # A family's pupils' ids from the index alone (the search's scope check, with the above).
            models.Index(fields=["family", "id"], name="pupil_family_cover"),
            # The few pupils flagged in need (a twentieth): the coats and shoes pages and the impact
            # report's reach among them read them without a pass over every pupil.
            models.Index(fields=["school"], condition=Q(in_need=True), name="pupil_in_need"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(year_group__gte=0, year_group__lte=13), name="pupil_year_group_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.known_as} {self.surname}"

    def save(self, *args, **kwargs) -> None:
        # ``school`` is the main roll; a pupil saved one by one keeps its main roll row in step.
        # (Loaded with ``school`` deferred, the old school is unknown and the roll is left alone.)
        loaded = self.__dict__.get("_loaded_school_id", self.__dict__.get("school_id"))
        follow = self._state.adding or loaded != self.__dict__.get("school_id", loaded)
        super().save(*args, **kwargs)
        if follow:
            from django.utils import timezone

            from support.models.rolls import main_roll_follow

            main_roll_follow(self, today=timezone.localdate())
            self._loaded_school_id = self.school_id

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if "school_id" in instance.__dict__:
            instance._loaded_school_id = instance.__dict__["school_id"]
        return instance

    @property
    def known_as(self) -> str:
        return self.preferred_forename or self.legal_forename


class FamilyDuplicate(models.Model):
    """Two families that look like one household. A lead decides: merge them, or keep them apart.

    A lead speaks only for families with a pupil at their own schools: when the other family has none
    there, the lead asks for the merge and a lead of that family's school (or an admin) agrees or refuses.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a decision"
        REQUESTED = "requested", "Merge asked, waiting for the other school"
        MERGED = "merged", "Merged"
        KEPT_APART = "kept_apart", "Kept apart"
        REFUSED = "refused", "Merge refused by the other school"

    family_a = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="+")
    family_b = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A merge asked for by a lead who speaks for one family only: which record to keep, and the family
    # whose school's lead must agree.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    requested_keep = models.ForeignKey(
        Family, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    agreement_from = models.ForeignKey(
        Family, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    request_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["family_a", "family_b"], name="family_duplicate_pair_once"),
            # Pairs are stored lower id first, so (a, b) and (b, a) cannot both exist.
            models.CheckConstraint(condition=Q(family_a__lt=F("family_b")), name="family_duplicate_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.family_a} / {self.family_b}: {self.reason}"
