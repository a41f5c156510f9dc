from rest_framework import serializers

from support import safeguarding
from support.api.fields import BoundedDateField
from support.api.visibility import VisibleFieldsMixin
from support.models import (
    Family,
    FamilyConsent,
    PartnerCharity,
    PartnerService,
    Pupil,
    SafeguardingReferral,
    School,
)
from support.models.consents import RECORDABLE_METHODS


class SchoolSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["id", "name", "urn", "phase", "phone", "email", "is_active"]


class PupilSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    school_name = serializers.CharField(source="school.name", read_only=True)

    class Meta:
        model = Pupil
        fields = [
            "id",
            "upn",
            "legal_forename",
            "preferred_forename",
            "surname",
            "date_of_birth",
            "year_group",
            "school",
            "school_name",
            "family",
            "fsm",
            "fsm_start",
            "fsm_end",
            "uifsm",
            "pupil_premium",
            "service_child",
            "looked_after",
            "in_need",
        ]
        read_only_fields = fields


class PupilInNeedSerializer(serializers.Serializer):
    in_need = serializers.BooleanField()
    # The 300-character rule is the service's (pupil_set_in_need), so the page and the API give one
    # error; this bound only stops an oversized body before it gets there.
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text=safeguarding.guidance(seen_by=safeguarding.SEEN_BY_SCHOOL),
    )


class SafeguardingReferralSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    """That a concern was passed to the school's safeguarding lead: who, to which lead, when; never what."""

    class Meta:
        model = SafeguardingReferral
        fields = ["id", "pupil", "school", "passed_by_name", "lead_kind", "lead_name", "passed_at"]
        read_only_fields = fields


class SafeguardingReferralCreateSerializer(serializers.Serializer):
    lead_kind = serializers.ChoiceField(
        choices=SafeguardingReferral.LeadKind.choices,
        default=SafeguardingReferral.LeadKind.LEAD,
        help_text="Which of the school's safeguarding leads you told. There is no field for the concern: "
        "record it in your school's safeguarding system.",
    )


class FamilyPupilSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    build_fields_once = True  # the family list's: built per page otherwise

    class Meta:
        model = Pupil
        fields = ["id", "preferred_forename", "legal_forename", "surname", "year_group", "school"]


class FamilyConsentSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    build_fields_once = True  # the family list's: built per page otherwise
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    withdrawn_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    is_current = serializers.BooleanField(read_only=True)
    awaits_confirmation = serializers.BooleanField(
        read_only=True, help_text="Migrated from the single consent box; a lead confirms it with the family."
    )

    class Meta:
        model = FamilyConsent
        fields = [
            "id", "partner", "partner_name", "given_on", "method", "recorded_by", "recorded_at", "migrated",
            "confirmed_by", "confirmed_at", "withdrawn_on", "withdrawn_by", "withdrawn_at", "is_current",
            "awaits_confirmation",
        ]  # fmt: skip
        read_only_fields = fields


class FamilySerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    build_fields_once = True  # the family list's: built per page otherwise
    pupils = serializers.SerializerMethodField(help_text="Pupils at the caller's schools only.")
    consents = FamilyConsentSerializer(many=True, read_only=True, help_text="Consent to share, per partner.")
    household_size = serializers.IntegerField(read_only=True)

    class Meta:
        model = Family
        fields = [
            "id",
            "lead_carer_name",
            "phone",
            "email",
            "address",
            "postcode",
            "adults",
            "children",
            "household_size",
            "dietary_needs",
            "language",
            "language_noted",
            "consents",
            "pupils",
        ]
        read_only_fields = ["id", "consents", "household_size", "pupils", "language_noted"]

    def get_pupils(self, family: Family) -> list[dict]:
        return self.represent_pupils(family, user=self._viewer())

    @classmethod
    def represent_pupils(cls, family: Family, *, user) -> list[dict]:  # type: ignore[no-untyped-def]
        """The family's pupils the caller may see (``visible_pupils``, set by the door), with the fields
        bound once per role set (``represent_object``): which of them the caller may see is decided once,
        not once per family (that was a third of a family search's time)."""
        pupils = getattr(family, "visible_pupils", None) or []
        return [FamilyPupilSerializer.represent_object(pupil, user=user) for pupil in pupils]


class ConsentSerializer(serializers.Serializer):
    """Record (``given`` true) or withdraw (false) the family's consent to share with one partner."""

    partner = serializers.PrimaryKeyRelatedField(queryset=PartnerCharity.objects.all())
    given = serializers.BooleanField()
    method = serializers.ChoiceField(
        choices=RECORDABLE_METHODS, required=False, help_text="How the carer gave consent (when given)."
    )
    date = BoundedDateField(
        required=False, allow_null=True, help_text="Given or withdrawn on; today if left out."
    )


class PartnerServiceSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = PartnerService
        fields = ["service", "description", "is_active"]


class PartnerSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    services = PartnerServiceSerializer(many=True, read_only=True)

    class Meta:
        model = PartnerCharity
        fields = [
            "id",
            "name",
            "address",
            "postcode",
            "phone",
            "email",
            "opening_times",
            "is_active",
            "services",
        ]
