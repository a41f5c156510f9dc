"""The pastoral leads' side of asks: the queue, matching, turning an ask into help, replies, retention."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from asks import services
from asks.models import Ask
from asks.panels import home_asks_waiting
from support.contacts import contact_create, contact_update
from support.data_rights import subject_access_data
from support.errors import ConflictError, SupportError
from support.models import AuditEvent
from support.services import pupil_set_in_need
from tests.factories import FamilyFactory, PupilFactory
from uniform.models import ItemKind, SupportRequest, UniformItem

pytestmark = pytest.mark.django_db


def _ask(link, **fields) -> Ask:
    values = {"kind": "coat", "asker_name": "Jo Parent", "child_name": "Sam", "contact_way": "email"}
    return services.ask_submit(link=link, **{**values, **fields})


@pytest.fixture
def pupil_a(family_a):
    return family_a.pupils.get()


@pytest.fixture
def coat_a(school_a):
    return UniformItem.objects.create(
        school=school_a, kind=ItemKind.COAT, name="Winter coat", sizes=["7-8", "9-10"], unit_cost_pence=20_00,
        track_stock=False,
    )  # fmt: skip


def test_the_queue_shows_a_lead_only_their_schools_asks(client_for, lead_a, link_a, link_b):
    mine, theirs = _ask(link_a, asker_name="Ada Mine"), _ask(link_b, asker_name="Bea Theirs")
    html = client_for(lead_a).get(reverse("ask_queue")).content.decode()
    assert "Ada Mine" in html
    assert "Bea Theirs" not in html
    assert client_for(lead_a).get(reverse("ask_detail", args=[theirs.pk])).status_code == 404
    assert client_for(lead_a).get(reverse("ask_detail", args=[mine.pk])).status_code == 200


def test_other_staff_at_the_school_do_not_see_asks(client_for, pastoral_a, finance, link_a):
    ask = _ask(link_a)
    for user in (pastoral_a, finance):
        assert client_for(user).get(reverse("ask_queue")).status_code == 403
        assert client_for(user).get(reverse("ask_detail", args=[ask.pk])).status_code == 403
    with pytest.raises(SupportError):
        services.ask_close(ask=ask, actor=pastoral_a, reason="Not mine")


def test_home_counts_the_asks_waiting_for_a_lead(request_for, lead_a, pastoral_a, link_a, link_b):
    _ask(link_a), _ask(link_a), _ask(link_b)
    [work] = home_asks_waiting(request_for(lead_a))
    assert (work.count, work.url) == (2, reverse("ask_queue"))
    assert home_asks_waiting(request_for(pastoral_a)) == []


def test_a_lead_matches_an_ask_to_a_pupil_of_the_school_only(lead_a, link_a, pupil_a, family_b):
    ask = _ask(link_a)
    with pytest.raises(SupportError):
        services.ask_match(ask=ask, actor=lead_a, pupil=family_b.pupils.get())
    ask = services.ask_match(ask=ask, actor=lead_a, pupil=pupil_a)
    assert (ask.status, ask.family_id, ask.pupil_id) == ("matched", pupil_a.family_id, pupil_a.pk)
    assert AuditEvent.objects.filter(action="ask.matched", subject_id=str(ask.pk)).exists()


def test_a_matched_coat_ask_becomes_a_coat_request_through_uniforms_rules(lead_a, link_a, pupil_a, coat_a):
    ask = services.ask_match(ask=_ask(link_a), actor=lead_a, pupil=pupil_a)
    with pytest.raises(SupportError, match="not marked in need"):
        services.ask_to_request(ask=ask, actor=lead_a, item=coat_a, size="7-8")
    ask.refresh_from_db()
    assert ask.status == Ask.Status.MATCHED  # the refusal changed nothing
    pupil_set_in_need(pupil=pupil_a, actor=lead_a, in_need=True, reason="Winter")
    request = services.ask_to_request(ask=ask, actor=lead_a, item=coat_a, size="7-8")
    assert (request.pupil, request.kind) == (pupil_a, ItemKind.COAT)
    assert request.reason == services.REQUEST_REASON
    ask.refresh_from_db()
    assert (ask.status, ask.outcome, ask.outcome_ref) == ("done", "request", f"request:{request.pk}")
    with pytest.raises(ConflictError):
        services.ask_to_request(ask=ask, actor=lead_a, item=coat_a, size="7-8")
    assert SupportRequest.objects.count() == 1


def test_an_ask_must_be_matched_before_it_becomes_help(lead_a, link_a, coat_a):
    with pytest.raises(ConflictError):
        services.ask_to_request(ask=_ask(link_a), actor=lead_a, item=coat_a, size="7-8")


def test_a_reply_goes_only_to_an_allowed_contact_never_to_a_typed_address(
    lead_a, link_a, pupil_a, eager, django_capture_on_commit_callbacks
):
    family = pupil_a.family
    contact_create(
        family=family, actor=lead_a, name="Lee Barred", email="lee@example.com", restriction="court_order"
    )
    ask = services.ask_match(ask=_ask(link_a), actor=lead_a, pupil=pupil_a)
    with pytest.raises(SupportError, match="parental responsibility"):
        services.ask_reply(ask=ask, actor=lead_a, channel="email", body="Please call the office.")
    contact_create(
        family=family, actor=lead_a, name="Anna Able", email="anna@example.com", parental_responsibility=True
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ask_reply(ask=ask, actor=lead_a, channel="email", body="Please call the office.")
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]
    assert "Please call the office." in mail.outbox[0].body
    ask.refresh_from_db()
    assert (ask.status, ask.outcome) == ("done", "reply")


def test_a_restriction_recorded_before_the_reply_is_sent_stops_it(lead_a, link_a, pupil_a):
    allowed = contact_create(
        family=pupil_a.family,
        actor=lead_a,
        name="Anna Able",
        email="anna@example.com",
        parental_responsibility=True,
    )
    ask = services.ask_match(ask=_ask(link_a), actor=lead_a, pupil=pupil_a)
    Ask.objects.filter(pk=ask.pk).update(status="done", outcome="reply", outcome_note="Hello")
    contact_update(contact=allowed, actor=lead_a, restriction="no_contact")
    mail.outbox.clear()
    assert services.ask_reply_send(ask_id=ask.pk, channel="email") is False
    assert mail.outbox == []


def test_a_lead_closes_an_ask_with_a_reason(lead_a, link_a):
    ask = _ask(link_a)
    with pytest.raises(SupportError):
        services.ask_close(ask=ask, actor=lead_a, reason="  ")
    ask = services.ask_close(ask=ask, actor=lead_a, reason="No family matches")
    assert (ask.status, ask.outcome, ask.outcome_note) == ("closed", "closed", "No family matches")
    assert AuditEvent.objects.filter(action="ask.close", subject_id=str(ask.pk)).exists()


def test_the_page_runs_each_action_through_its_service(client_for, lead_a, link_a, pupil_a, coat_a):
    pupil_set_in_need(pupil=pupil_a, actor=lead_a, in_need=True, reason="Winter")
    ask = _ask(link_a)
    client = client_for(lead_a)
    assert client.post(reverse("ask_act", args=[ask.pk, "request"]), {}).status_code == 302  # not matched yet
    response = client.post(reverse("ask_act", args=[ask.pk, "match"]), {"match-pupil": pupil_a.pk})
    assert response.status_code == 302
    assert client.post(reverse("ask_act", args=[ask.pk, "request"]), {"request-size": ""}).status_code == 400
    response = client.post(
        reverse("ask_act", args=[ask.pk, "request"]),
        {"request-size": f"{coat_a.pk}:7-8", "request-urgency": "routine"},
    )
    assert response.status_code == 302
    assert SupportRequest.objects.filter(pupil=pupil_a, kind="coat").exists()
    assert client.post(reverse("ask_act", args=[ask.pk, "nonsense"]), {}).status_code == 404


def test_old_asks_are_purged(link_a, settings):
    settings.ASKS_RETENTION_DAYS = 30
    old, new = _ask(link_a), _ask(link_a)
    Ask.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    assert services.asks_purge() == 1
    assert list(Ask.objects.values_list("pk", flat=True)) == [new.pk]
    assert AuditEvent.objects.filter(action="ask.purged").exists()


def test_a_matched_ask_is_in_the_familys_subject_access_export(lead_a, link_a, pupil_a):
    services.ask_match(ask=_ask(link_a, message="We need a coat"), actor=lead_a, pupil=pupil_a)
    data = subject_access_data(family=pupil_a.family)
    (ask,) = data["asks"]
    assert ask["kind"] == "coat"
    assert ask["status"] == "matched"
    # What the asker typed about themselves may be another carer's words: never in the export.
    assert "We need a coat" not in str(data)
    assert not {"asker_name", "message", "contact_way", "child_name"} & set(ask)


def test_a_merge_moves_the_asks_to_the_kept_family(lead_a, link_a, pupil_a, school_a):
    from asks.data_rights import _move

    other = FamilyFactory()
    PupilFactory(family=other, school=school_a)
    ask = services.ask_match(ask=_ask(link_a), actor=lead_a, pupil=pupil_a)
    _move(source=pupil_a.family, target=other, actor=lead_a)
    ask.refresh_from_db()
    assert ask.family == other


def test_the_poster_shows_the_link_and_its_qr_code(client_for, pastoral_a, pastoral_b, school_a):
    response = client_for(pastoral_a).get(reverse("ask_poster", args=[school_a.pk]))
    html = response.content.decode()
    link = school_a.ask_link
    assert reverse("ask_public", args=[link.code]) in html
    assert "<svg" in html
    assert client_for(pastoral_b).get(reverse("ask_poster", args=[school_a.pk])).status_code == 404


def test_the_transitions_table_allows_only_these_moves():
    from asks.transitions import ASK_FLOW

    assert ASK_FLOW.edges() == {
        ("waiting", "matched"), ("matched", "matched"), ("matched", "done"), ("waiting", "closed"),
        ("matched", "closed"),
    }  # fmt: skip
    assert [m.name for m in ASK_FLOW.moves_from("waiting")] == ["match", "close"]
    assert ASK_FLOW.moves_from("done") == ASK_FLOW.moves_from("closed") == []


def test_a_closed_ask_cannot_be_matched_or_closed_again(lead_a, link_a, pupil_a):
    ask = services.ask_close(ask=_ask(link_a), actor=lead_a, reason="Helped another way")
    with pytest.raises(ConflictError):
        services.ask_match(ask=ask, actor=lead_a, pupil=pupil_a)
    with pytest.raises(ConflictError):
        services.ask_close(ask=ask, actor=lead_a, reason="Again")
