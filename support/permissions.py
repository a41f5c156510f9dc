"""What each role may do. Doors declare a permission name; ``has_perm`` is the one check.

Which *objects* a permitted user may touch is the selectors' business (out of scope is a 404).
The core's own actions are below; each feature app adds its own from ``AppConfig.ready`` with
``support.registry.register_permissions``.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from support.models import Role
from support.scopes import scope_for

SCHOOL_STAFF = frozenset({Role.PASTORAL, Role.LEAD})
LEADS = frozenset({Role.LEAD})

PERMISSIONS: dict[str, frozenset[str]] = {
    "families.view": SCHOOL_STAFF,
    "families.edit": SCHOOL_STAFF,
    "families.export": SCHOOL_STAFF,
    "families.merge": LEADS,
    "pupils.view": SCHOOL_STAFF,
    "pupils.flag_need": SCHOOL_STAFF,
    "pupils.import": LEADS,
    # The free-school-meals check and its letters (issue 20.5): a lead's list.
    "pupils.fsm_check": LEADS,
    # Only staff of the pupil's own school, whatever the role grants: see safeguarding.safeguarding_pupils_of.
    "pupils.safeguarding": SCHOOL_STAFF,
    "schools.safeguarding_leads": LEADS,
    "schools.view": SCHOOL_STAFF | {Role.FINANCE},
    "partners.view": SCHOOL_STAFF | {Role.FINANCE, Role.CHARITY},
    "audit.view": frozenset(),
    "policy.edit": frozenset(),
    # Only the header's "API" link: the API's own doors check the caller's role and scope.
    "api.docs": frozenset(),
}


def has_perm(user: AbstractBaseUser | AnonymousUser | None, permission: str) -> bool:
    """True when one of the user's roles grants ``permission``. Trust admins hold every permission."""
    if permission not in PERMISSIONS:
        raise KeyError(
            f"Unknown permission {permission!r}: register it with support.registry.register_permissions"
        )
    scope = scope_for(user)
    if scope.is_admin:
        return True
    return bool(scope.roles & PERMISSIONS[permission])
