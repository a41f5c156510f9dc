from support.models.api import IdempotencyRecord
from support.models.attendance import PupilAttendance, Term
from support.models.audit import AuditEvent
from support.models.consents import ConsentMethod, FamilyConsent
from support.models.contacts import Contact
from support.models.families import Family, FamilyDuplicate, Pupil, YearGroup
from support.models.imports import PupilImport
from support.models.ops import OutboxMessage, RateLimitCounter
from support.models.partners import PartnerCharity, PartnerService, Service
from support.models.policy import Policy
from support.models.rolls import Enrolment, Registration
from support.models.safeguarding import SafeguardingReferral
from support.models.schools import Phase, School
from support.models.search import FamilySearchName, SearchName
from support.models.staff import Membership, Role

__all__ = [
    "AuditEvent",
    "ConsentMethod",
    "Contact",
    "Enrolment",
    "Family",
    "FamilyConsent",
    "FamilyDuplicate",
    "FamilySearchName",
    "IdempotencyRecord",
    "Membership",
    "OutboxMessage",
    "PartnerCharity",
    "PartnerService",
    "Phase",
    "Policy",
    "Pupil",
    "PupilAttendance",
    "PupilImport",
    "RateLimitCounter",
    "Registration",
    "Role",
    "SafeguardingReferral",
    "School",
    "SearchName",
    "Service",
    "Term",
    "YearGroup",
]
