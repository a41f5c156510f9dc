"""The fund's scoped reads: what of the fund's books a user may see (finance and trust admins see every
fund's; nobody else sees any). The modules beside this one read through these."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Cast

from funds.models import (
    Donation,
    Fund,
    GiftAidClaim,
    GiftAidDeclaration,
    LedgerEntry,
    Pledge,
    SpendRequest,
)
from support.models import Role
from support.scopes import scope_for

User = AbstractBaseUser | AnonymousUser | None


def _sees_funds(user: User) -> bool:
    return scope_for(user).has_role(Role.FINANCE)


def funds_visible_to(user: User) -> QuerySet[Fund]:
    """Every fund for finance and trust admins; nothing for anyone else."""
    return Fund.objects.all() if _sees_funds(user) else Fund.objects.none()


def donations_visible_to(user: User) -> QuerySet[Donation]:
    return Donation.objects.all() if _sees_funds(user) else Donation.objects.none()


def pledges_visible_to(user: User) -> QuerySet[Pledge]:
    return Pledge.objects.all() if _sees_funds(user) else Pledge.objects.none()


def spend_requests_visible_to(user: AbstractBaseUser) -> QuerySet[SpendRequest]:
    """Finance and admins see every spend request; nobody else sees the queue."""
    scope = scope_for(user)
    if not (scope.is_finance or scope.is_admin):
        return SpendRequest.objects.none()
    return SpendRequest.objects.select_related(
        "fund", "school", "requested_by", "first_approved_by", "decided_by", "source_type"
    )


def ledger_entries_visible_to(user: User) -> QuerySet[LedgerEntry]:
    """Entries of the funds the user may see: every fund's for finance and trust admins, none otherwise."""
    if scope_for(user).has_role("finance"):
        return LedgerEntry.objects.filter(fund__in=funds_visible_to(user))
    return LedgerEntry.objects.none()


def gift_aid_declarations_visible_to(user: User) -> QuerySet[GiftAidDeclaration]:
    """Donors' declarations (names and home addresses): finance and trust admins only."""
    return GiftAidDeclaration.objects.all() if _sees_funds(user) else GiftAidDeclaration.objects.none()


def gift_aid_claims_visible_to(user: User) -> QuerySet[GiftAidClaim]:
    return GiftAidClaim.objects.all() if _sees_funds(user) else GiftAidClaim.objects.none()


def donation_is_reversed(donation: str = "pk") -> Exists:
    """True for a donation whose income entry finance has reversed (it stays listed, out of totals);
    ``donation``: the outer query's field holding the donation's id."""
    return Exists(
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.REVERSAL,
            source_type=ContentType.objects.get_for_model(Donation),
            source_id=Cast(OuterRef(donation), output_field=models.CharField()),
        )
    )
