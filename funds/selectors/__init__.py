"""The fund's scoped reads: what of the fund's books a user may see (finance and trust admins see every
fund's; nobody else sees any). The modules beside this one read through these."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from funds.models import Donation, Fund, LedgerEntry, Pledge, SpendRequest
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
