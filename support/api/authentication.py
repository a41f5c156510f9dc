"""Token authentication that reads the caller's scope in the same query as the token.

DRF's ``TokenAuthentication`` reads the token and its user; every request then asks for the user's
memberships and their schools (``support.scopes.scope_for``) before it can check a permission. Here
one query does both: the token, its user, and a row per active membership and school, joined, so a
partner's system checking a code pays one round trip to learn who it is and what it may see.
"""

from django.db.models import F, FilteredRelation, Q
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from support.hot_queries import hot_query
from support.scopes import remember_scope


@hot_query
def token_with_scope(key: str):
    """The token, its user, and a row per active membership and school (compiled once per connection:
    support.hot_queries)."""
    return (
        Token.objects.select_related("user")
        .filter(key=key)
        .annotate(
            active=FilteredRelation("user__memberships", condition=Q(user__memberships__is_active=True)),
            scope_role=F("active__role"),
            scope_partner=F("active__partner_id"),
            scope_school=F("active__schools__id"),
        )
        .order_by()
    )


class ScopedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str):
        rows = token_with_scope(key)
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token = rows[0]
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        remember_scope(token.user, ((r.scope_role, r.scope_partner, r.scope_school) for r in rows))
        return token.user, token
