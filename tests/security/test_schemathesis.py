"""The API fuzzed against its own OpenAPI schema, as each role (issue 6, hostile input).

schemathesis reads /api/v1/schema/ from the WSGI app (no server, no network) and, for every
operation, sends a bounded number of generated requests: valid ones and, for the write operations,
invalid ones too. Every answer must be a non-5xx with a documented content type and, where the
schema documents that status, a body matching it. Bounded and reproducible: a fixed number of
examples per operation and Hypothesis derandomised (a fixed seed), no example database.

The world (two schools, two charities, objects on both sides) comes from tests/security/conftest.py.
Random ids mostly answer 404, so each operation on an object runs again on a real object of side A
(in scope for some roles, not others), and each create runs again with real ids in its body: that is
what reaches the serializers and the services. Failures are collected across operations and
reported together, each with its request.
"""

from collections.abc import Callable

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup

ROLES = ("pastoral_a", "lead_a", "finance", "charity_1", "admin")
MIN_OPERATIONS = {"pastoral_a": 25, "lead_a": 25, "finance": 25, "charity_1": 4, "admin": 40}
# Per operation and mode: about 50 operations, ~300 requests a role, the module in about 20 s.
MAX_EXAMPLES = 3
MAX_RANDOM_IDS = 1  # operations with an id are also run on a real object (below), which finds more
SEED = 20260601


def _checks() -> list[Callable]:
    load_all_checks()
    # Statuses the schema leaves undocumented (401/403/404 from DRF) are not failures here: the
    # access matrix pins them. Conformance is checked wherever the schema documents the status.
    names = ("not_a_server_error", "content_type_conformance", "response_schema_conformance")
    return [CHECKS.get_one(name) for name in names]


def _fuzz(
    operation,
    mode: GenerationMode,
    headers: dict,
    checks: list[Callable],
    path_parameters: dict | None = None,
    body_ids: dict | None = None,
) -> str | None:
    """Run one operation's bounded examples; the failure's description, or None."""
    failure: list[str] = []

    @seed(SEED)
    @settings(
        max_examples=MAX_RANDOM_IDS if "{" in operation.path and not path_parameters else MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case) -> None:
        if failure:
            return
        if body_ids and isinstance(case.body, dict):
            case.body = {**case.body, **{k: v for k, v in body_ids.items() if k in case.body}}
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=checks)
        except (AssertionError, FailureGroup) as exc:  # FailureGroup: schemathesis's own checks
            failure.append(
                f"{operation.label} [{mode.value}] -> {response.status_code}: "
                f"{str(exc)[:600]}\n  request: {case.path_parameters} {case.query} {case.body!r:.200}"
            )

    try:
        run()
    except Unsatisfiable:
        # Nothing left to make invalid (an action with no body, its id pinned): positive covers it.
        if mode is not GenerationMode.NEGATIVE:
            raise
    return failure[0] if failure else None


def _real_object(world, path: str) -> dict:
    """Path parameters naming a real object of side A (in scope for most roles) for ``path``."""
    if "{code}" in path:
        return {"code": world.a.voucher.code}
    objects = {
        "agencies": world.extra["agency"],
        "asks": world.a.ask,
        "donations": world.donation,
        "families": world.a.family,
        "funds": world.fund,
        "gifts": world.a.gift,
        "ledger-entries": world.entry,
        "partners": world.a.partner,
        "pledges": world.pledge,
        "pupils": world.a.pupil,
        "referrals": world.a.referral,
        "schools": world.a.school,
        "signposts": world.a.signpost,
        "spend-requests": world.spend_request,
        "support-requests": world.extra["waiting_request"],
        "uniform-items": world.a.item,
        "vouchers": world.a.voucher,
        "welcome-packs": world.a.pack,
        "gift-aid/declarations": world.extra["declaration"],
        "gift-aid/claims": world.extra["claim"],
    }
    resource = path.split("/")[3]
    if resource == "gift-aid":
        resource = "/".join(path.split("/")[3:5])
    return {"id": objects[resource].pk}


def _real_ids(world) -> dict:
    """Body fields naming objects (of side A) by id, for the create operations."""
    return {
        "family": world.a.family.pk,
        "voucher_type": world.a.voucher.voucher_type_id,
        "school": world.a.school.pk,
        "pupil": world.a.pupil.pk,
        "item": world.extra["blazer"].pk,
        "fund": world.fund.pk,
        "pledge": world.pledge.pk,
        "agency": world.extra["agency"].pk,
    }


@pytest.fixture
def keep_connection():
    """Requests go straight to the WSGI app, not through Django's test client, so do what the client
    does: stop each request from closing the database connection (which, inside the test's
    transaction, PostgreSQL would lose with the whole world)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ROLES)
def test_it_answers_generated_requests_without_500s_and_as_documented(
    world, db, keep_connection, settings, role
):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "testserver"]
    token, _ = Token.objects.get_or_create(user=world.users[role])
    headers = {"Authorization": f"Token {token.key}"}
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", get_wsgi_application(), headers=headers
    )
    checks = _checks()
    operations = [result.ok() for result in schema.get_all_operations()]
    # Each role is served the operations it may call (issue 13, item 8): a charity's is the counter.
    assert len(operations) >= MIN_OPERATIONS[role], "the schema lost its operations"

    failures = []
    for operation in operations:
        modes = [GenerationMode.POSITIVE]
        if len(operation.body):
            modes.append(GenerationMode.NEGATIVE)
        pinned = [None]
        if "{" in operation.path:
            pinned.append(_real_object(world, operation.path))
        for path_parameters in pinned:
            for mode in modes:
                found = _fuzz(operation, mode, headers, checks, path_parameters)
                if found:
                    failures.append(found)
        if len(operation.body) and "{" not in operation.path:
            # A create with real objects named in its body reaches the serializer and the service.
            found = _fuzz(operation, GenerationMode.POSITIVE, headers, checks, body_ids=_real_ids(world))
            if found:
                failures.append(found)
    assert not failures, "\n\n".join(failures)
