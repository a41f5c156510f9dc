"""The API's token authentication reads the caller's scope in the same query as the token: the same scope
``scope_for`` computes, read afresh on every request (a membership changed or ended counts at once)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from support.api.authentication import ScopedTokenAuthentication
from support.models import Membership, Role
from support.scopes import forget_scope, scope_for


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.mark.parametrize(
    "persona", ["pastoral_a", "lead_a", "finance", "charity_staff", "admin", "no_role", "lead_b"]
)
def test_it_gives_every_persona_the_scope_scope_for_computes(request, persona):
    user = request.getfixturevalue(persona)
    key = Token.objects.get_or_create(user=user)[0].key
    authenticated, _token = ScopedTokenAuthentication().authenticate_credentials(key)
    from_token = scope_for(authenticated)
    forget_scope(user)
    assert from_token == scope_for(user)


def test_it_unions_several_memberships_and_their_schools(pastoral_a, school_a, school_b, partner_1):
    lead = Membership.objects.create(user=pastoral_a, role=Role.LEAD)
    lead.schools.set([school_b])
    Membership.objects.create(user=pastoral_a, role=Role.LEAD, is_active=False).schools.set([school_a])
    user, _ = ScopedTokenAuthentication().authenticate_credentials(Token.objects.create(user=pastoral_a).key)
    scope = scope_for(user)
    assert scope.school_ids == {school_a.pk, school_b.pk}
    assert scope.lead_school_ids == {school_b.pk}  # the inactive lead membership at A counts for nothing
    assert scope.roles == {Role.PASTORAL, Role.LEAD}


def test_it_reads_token_user_and_scope_in_one_query(charity_staff):
    key = Token.objects.create(user=charity_staff).key
    with CaptureQueriesContext(connection) as context:
        user, _ = ScopedTokenAuthentication().authenticate_credentials(key)
        scope = scope_for(user)
    assert len(context) == 1
    assert scope.is_charity


def test_an_ended_membership_counts_on_the_next_request(charity_staff):
    client = _client(charity_staff)
    assert client.get("/api/v1/partners/").status_code == 200
    Membership.objects.filter(user=charity_staff).update(is_active=False)
    assert client.get("/api/v1/partners/").status_code == 403


def test_an_inactive_user_or_an_unknown_token_is_refused(charity_staff):
    client = _client(charity_staff)
    charity_staff.is_active = False
    charity_staff.save()
    assert client.get("/api/v1/partners/").status_code == 401
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert stranger.get("/api/v1/partners/").status_code == 401
