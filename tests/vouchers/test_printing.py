"""Printing doors and the batch job: scope, refusal, audit, progress, and the merged PDF read back."""

import datetime
import io
import time

import pytest
from django.utils import timezone
from pypdf import PdfReader

from support.errors import ConflictError
from support.models import AuditEvent, Service
from tests.factories import consent_to
from vouchers import printing
from vouchers.codes import generate_code
from vouchers.models import ReferralReason, Voucher, VoucherType
from vouchers.services import voucher_cancel, voucher_issue


def pages_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def food(partner_1):
    return VoucherType.objects.create(
        partner=partner_1, service=Service.FOOD_PARCEL, name="Food parcel", face_value_pence=25_00
    )


@pytest.fixture
def voucher(food, family_a, school_a, pastoral_a):
    consent_to(family_a, pastoral_a)
    return voucher_issue(
        family=family_a,
        voucher_type=food,
        school=school_a,
        issued_by=pastoral_a,
        referral_reason=ReferralReason.BENEFITS,
    )


@pytest.fixture
def make_vouchers(food, pastoral_a, school_a, family_a, pastoral_b, school_b, family_b):
    """``make_vouchers(n, school="a")``: valid vouchers written directly (the issue limit stops at three)."""

    def make(count: int, *, school: str = "a") -> list[Voucher]:
        at, family, user = (
            (school_a, family_a, pastoral_a) if school == "a" else (school_b, family_b, pastoral_b)
        )
        return Voucher.objects.bulk_create(
            Voucher(
                code=generate_code(),
                voucher_type=food,
                family=family,
                school=at,
                face_value_pence=food.face_value_pence,
                issued_by=user,
                expires_on=timezone.localdate() + datetime.timedelta(days=28),
                referral_reason=ReferralReason.LOW_INCOME,
                lead_carer_name=family.lead_carer_name,
                household_size=2,
            )
            for _ in range(count)
        )

    return make


@pytest.fixture
def small_jobs(monkeypatch):
    """Background jobs from three vouchers up, in chunks of two: cheap to render, several chunks."""
    monkeypatch.setattr(printing, "SYNC_LIMIT", 2)
    monkeypatch.setattr(printing, "CHUNK_SIZE", 2)


def printed(voucher_ids) -> int:
    return AuditEvent.objects.filter(
        action="voucher.printed", subject_id__in=[str(pk) for pk in voucher_ids]
    ).count()


# --- Who may print (one table, as the style asks) -------------------------------------------------

DOORS = [
    ("pastoral_a", 200),
    ("lead_a", 200),
    ("admin", 200),
    ("pastoral_b", 404),  # another school's voucher: not found, nothing said about it
    ("charity_staff", 403),
    ("finance", 403),
    (None, 302),  # to sign in
]


@pytest.mark.parametrize(("persona", "expected"), DOORS)
@pytest.mark.parametrize("door", ["one", "batch"])
def test_it_lets_only_the_issuing_schools_staff_print(request, client_for, voucher, door, persona, expected):
    client = client_for(request.getfixturevalue(persona) if persona else None)
    if door == "one":
        response = client.get(f"/vouchers/{voucher.pk}/pdf/")
    else:
        response = client.post("/vouchers/print/", {"voucher": [voucher.pk]})

    assert response.status_code == expected
    assert (response.get("Content-Type") == "application/pdf") == (expected == 200)
    assert printed([voucher.pk]) == (1 if expected == 200 else 0)


# --- One voucher ----------------------------------------------------------------------------


def test_it_prints_one_voucher_and_audits_the_print(client_for, pastoral_a, voucher):
    response = client_for(pastoral_a).get(f"/vouchers/{voucher.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'inline; filename="voucher-{voucher.code}.pdf"'
    assert "no-store" in response["Cache-Control"]
    (text,) = pages_of(response.content)
    assert voucher.display_code in text
    event = AuditEvent.objects.get(action="voucher.printed")
    assert (event.subject_id, event.actor) == (str(voucher.pk), pastoral_a)


def test_it_prints_a4_on_request(client_for, pastoral_a, voucher):
    response = client_for(pastoral_a).get(f"/vouchers/{voucher.pk}/pdf/?paper=A4")

    box = PdfReader(io.BytesIO(response.content)).pages[0].mediabox
    assert (round(box.width), round(box.height)) == (595, 842)


def test_it_answers_404_for_a_voucher_that_does_not_exist(client_for, pastoral_a):
    assert client_for(pastoral_a).get("/vouchers/999999/pdf/").status_code == 404


@pytest.mark.parametrize("state", ["cancelled", "expired", "past its date", "redeemed"])
def test_it_refuses_a_voucher_that_is_not_valid_at_every_door(client_for, pastoral_a, voucher, state):
    if state == "cancelled":
        voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Family moved away")
    elif state == "past its date":
        Voucher.objects.filter(pk=voucher.pk).update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1)
        )
    else:
        Voucher.objects.filter(pk=voucher.pk).update(state=state)
    client = client_for(pastoral_a)

    one = client.get(f"/vouchers/{voucher.pk}/pdf/")
    batch = client.post("/vouchers/print/", {"voucher": [voucher.pk]})
    with pytest.raises(ConflictError):
        printing.print_job_start(voucher_ids=[voucher.pk], actor=pastoral_a)

    for response in (one, batch):
        assert response.status_code == 409
        assert response["Content-Type"].startswith("text/html")
        assert "only valid vouchers can be printed" in response.content.decode()
    assert printed([voucher.pk]) == 0


# --- A few at once ----------------------------------------------------------------------------


def test_it_prints_a_few_vouchers_at_once_as_one_pdf_in_the_order_chosen(
    client_for, pastoral_a, make_vouchers
):
    vouchers = make_vouchers(3)
    chosen = [vouchers[2], vouchers[0], vouchers[1]]

    response = client_for(pastoral_a).post("/vouchers/print/", {"voucher": [v.pk for v in chosen]})

    assert response.status_code == 200
    texts = pages_of(response.content)
    assert [v.display_code in text for v, text in zip(chosen, texts, strict=True)] == [True] * 3
    assert printed([v.pk for v in vouchers]) == 3


def test_it_refuses_the_whole_batch_when_one_voucher_is_out_of_scope(client_for, pastoral_a, make_vouchers):
    ours = make_vouchers(2)
    (theirs,) = make_vouchers(1, school="b")

    response = client_for(pastoral_a).post(
        "/vouchers/print/", {"voucher": [ours[0].pk, theirs.pk, ours[1].pk]}
    )

    assert response.status_code == 404
    assert printed([ours[0].pk, ours[1].pk, theirs.pk]) == 0


def test_it_refuses_the_whole_batch_when_one_voucher_is_cancelled(client_for, pastoral_a, make_vouchers):
    vouchers = make_vouchers(3)
    voucher_cancel(voucher=vouchers[1], actor=pastoral_a, reason="Duplicate")

    response = client_for(pastoral_a).post("/vouchers/print/", {"voucher": [v.pk for v in vouchers]})

    assert response.status_code == 409
    assert vouchers[1].display_code in response.content.decode()
    assert printed([v.pk for v in vouchers]) == 0


def test_it_asks_for_a_choice_when_nothing_is_chosen(client_for, pastoral_a):
    response = client_for(pastoral_a).post("/vouchers/print/", {})

    assert response.status_code == 400
    assert "Choose at least one voucher" in response.content.decode()


def test_it_answers_404_for_ids_that_are_not_numbers(client_for, pastoral_a):
    assert client_for(pastoral_a).post("/vouchers/print/", {"voucher": ["1; drop"]}).status_code == 404


def test_it_only_prints_on_post(client_for, pastoral_a):
    assert client_for(pastoral_a).get("/vouchers/print/").status_code == 405


# --- Many, in the background ----------------------------------------------------------------------


def test_it_prints_60_vouchers_in_the_background_as_one_pdf(
    eager, client_for, pastoral_a, make_vouchers, django_capture_on_commit_callbacks
):
    vouchers = make_vouchers(60)
    client = client_for(pastoral_a)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/vouchers/print/", {"voucher": [v.pk for v in vouchers]})

    assert response.status_code == 302
    job_url = response["Location"]
    page = client.get(job_url)
    assert page.status_code == 200
    assert "60 vouchers are ready" in page.content.decode()
    assert "Refresh" not in page
    download = client.get(job_url + "download/")
    assert download.status_code == 200
    texts = pages_of(download.content)
    assert len(texts) == 60
    assert [v.display_code in text for v, text in zip(vouchers, texts, strict=True)] == [True] * 60
    assert printed([v.pk for v in vouchers]) == 60


def test_it_shows_progress_until_the_pdf_is_ready(
    eager, small_jobs, client_for, pastoral_a, make_vouchers, django_capture_on_commit_callbacks
):
    vouchers = make_vouchers(5)
    client = client_for(pastoral_a)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = client.post("/vouchers/print/", {"voucher": [v.pk for v in vouchers]})
    job_url = response["Location"]

    running = client.get(job_url)
    assert running["Refresh"] == "2"  # reloads itself: no script, as the CSP wants
    assert "0 of 3 parts made" in running.content.decode()
    assert client.get(job_url + "progress/").json()["status"] == "running"
    assert client.get(job_url + "download/")["Location"] == job_url  # not ready: back to the progress

    assert len(sent) == 1  # the chord, sent only once the request's transaction committed
    sent[0]()

    progress = client.get(job_url + "progress/").json()
    assert progress["status"] == "ready"
    assert (progress["percent"], progress["chunks_done"], progress["chunk_count"]) == (100, 3, 3)
    assert progress["download_url"] == job_url + "download/"
    assert len(pages_of(client.get(progress["download_url"]).content)) == 5


def test_it_counts_progress_as_chunks_finish(eager, small_jobs, pastoral_a, make_vouchers):
    vouchers = make_vouchers(5)
    job = printing.print_job_start(
        voucher_ids=[v.pk for v in vouchers], actor=pastoral_a
    ).job  # not committed

    printing.print_chunk_render(job_id=job.id, index=1, voucher_ids=[vouchers[2].pk, vouchers[3].pk])
    printing.print_chunk_render(job_id=job.id, index=1, voucher_ids=[vouchers[2].pk, vouchers[3].pk])  # again

    progress = printing.print_job_get(job_id=job.id, actor=pastoral_a)
    assert (progress.chunks_done, progress.chunk_count, progress.percent, progress.ready) == (1, 3, 33, False)


def test_it_hides_a_job_from_everyone_but_the_user_who_started_it(
    eager,
    small_jobs,
    client_for,
    pastoral_a,
    lead_a,
    admin,
    make_vouchers,
    django_capture_on_commit_callbacks,
):
    vouchers = make_vouchers(3)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(pastoral_a).post("/vouchers/print/", {"voucher": [v.pk for v in vouchers]})
    job_url = response["Location"]

    for someone_else in (lead_a, admin):  # the same school's lead, and even a trust admin
        client = client_for(someone_else)
        for url in (job_url, job_url + "progress/", job_url + "download/"):
            assert client.get(url).status_code == 404
    assert client_for(pastoral_a).get(job_url + "download/").status_code == 200
    assert client_for(pastoral_a).get("/vouchers/print/0123456789abcdef0123456789abcdef/").status_code == 404
    assert client_for(pastoral_a).get("/vouchers/print/not-a-job/").status_code == 404


def test_it_stops_the_job_when_a_voucher_is_cancelled_while_it_prints(
    eager, small_jobs, client_for, pastoral_a, make_vouchers, django_capture_on_commit_callbacks
):
    vouchers = make_vouchers(5)
    client = client_for(pastoral_a)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = client.post("/vouchers/print/", {"voucher": [v.pk for v in vouchers]})
    voucher_cancel(voucher=vouchers[3], actor=pastoral_a, reason="Family moved away")

    sent[0]()

    job_url = response["Location"]
    page = client.get(job_url).content.decode()
    assert "Printing stopped" in page
    assert vouchers[3].display_code in page
    assert client.get(job_url + "progress/").json()["status"] == "failed"
    assert client.get(job_url + "download/")["Location"] == job_url


def test_it_merges_after_the_last_chunk_when_there_is_no_result_backend(
    eager, small_jobs, monkeypatch, pastoral_a, make_vouchers, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(printing, "_chords_work", lambda: False)
    vouchers = make_vouchers(5)

    with django_capture_on_commit_callbacks(execute=True):
        job = printing.print_job_start(voucher_ids=[v.pk for v in vouchers], actor=pastoral_a).job

    done, pdf = printing.print_job_pdf(job_id=job.id, actor=pastoral_a)
    assert done.ready
    assert len(pages_of(pdf)) == 5


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_prints_a_batch_on_a_real_celery_worker(pastoral_a, make_vouchers):
    from django.conf import settings

    assert not settings.CELERY_TASK_ALWAYS_EAGER, "this test must send to a real broker"
    vouchers = make_vouchers(printing.CHUNK_SIZE + 5)  # two chunks, for the two worker processes
    job = printing.print_job_start(voucher_ids=[v.pk for v in vouchers], actor=pastoral_a).job
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job = printing.print_job_get(job_id=job.id, actor=pastoral_a)
        if not job.running:
            break
        time.sleep(0.25)
    assert job.ready, job.error
    _, pdf = printing.print_job_pdf(job_id=job.id, actor=pastoral_a)
    assert len(pages_of(pdf)) == len(vouchers)
