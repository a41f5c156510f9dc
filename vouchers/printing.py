"""Printing vouchers: one or a few at once, many in the background (chunks across Celery workers, merged).

Every door that prints comes through ``print_job_start``: each voucher must be in the actor's scope (else
PrintNotFound, which doors show as a 404) and valid (``voucher_record_print`` refuses, and audits each
print). Up to SYNC_LIMIT vouchers are rendered at once; more become a job: chunks of CHUNK_SIZE rendered
by a Celery group, merged with pypdf by the chord's callback, progress counted as chunks finish.

A job lives in the cache, not the database, for JOB_SECONDS: its description, a counter, the chunks'
PDFs and then the merged PDF. With no result backend (chords need one) the last chunk to finish sends
the merge instead. Only the user who started a job can see it.
"""

import os
import re
import resource
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from celery import chord, current_app, group
from celery.backends.base import DisabledBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from support import jobs
from support.bounds import id_in_range
from support.errors import ConflictError, SupportError
from support.jobs import task_named
from vouchers.models import Voucher
from vouchers.pdf import PAPER_SIZES, merge_pdfs, render_voucher_pdf, render_vouchers_pdf
from vouchers.selectors import vouchers_visible_to
from vouchers.services import voucher_record_print

SYNC_LIMIT = 20
CHUNK_SIZE = 50
MAX_VOUCHERS = 5000
JOB_SECONDS = 6 * 60 * 60
BROKER_DOWN = "Printing could not start: the background service is not answering. Try again in a few minutes."
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


class PrintNotFound(SupportError):
    """A voucher or job that is not the actor's to print or see (doors answer 404, saying nothing more)."""

    status_code = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message, code="not_found")


@dataclass(frozen=True)
class PrintJob:
    id: str
    owner_id: int
    voucher_count: int
    chunk_count: int
    paper: str
    chunks_done: int = 0
    ready: bool = False
    error: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error)

    @property
    def running(self) -> bool:
        return not (self.ready or self.failed)

    @property
    def percent(self) -> int:
        """Chunks rendered, as a percentage; 100 only once the merged PDF is there to download."""
        if self.ready:
            return 100
        return min(99, self.chunks_done * 100 // self.chunk_count)

    @property
    def filename(self) -> str:
        return f"vouchers-{self.voucher_count}-{self.id[:8]}.pdf"


@dataclass(frozen=True)
class PrintResult:
    """The PDF when it was made at once, or the job making it in the background."""

    pdf: bytes | None
    filename: str
    job: PrintJob | None = None


def _key(job_id: str, part: str = "") -> str:
    return f"print-job:{job_id}:{part}" if part else f"print-job:{job_id}"


def _check_paper(paper: str) -> str:
    if paper.upper() not in PAPER_SIZES:
        raise SupportError(f"Choose a paper size: {' or '.join(PAPER_SIZES)}.", field="paper")
    return paper.upper()


def vouchers_in_scope(*, voucher_ids: Iterable[int], actor: AbstractBaseUser) -> list[Voucher]:
    """The actor's vouchers with these ids, in the order given. Any id out of scope: PrintNotFound."""
    ids = list(dict.fromkeys(voucher_ids))  # without repeats, in order
    found = (
        vouchers_visible_to(actor).select_related("voucher_type__partner", "school", "family").in_bulk(ids)
    )
    if len(found) != len(ids):
        raise PrintNotFound()
    return [found[pk] for pk in ids]


def print_job_start(
    *, voucher_ids: Iterable[int], actor: AbstractBaseUser, paper: str = "A5", site_url: str | None = None
) -> PrintResult:
    """Print these vouchers, one a page: at once when there are few, else as a background job.

    ``site_url`` starts the QR codes' links (the address the request came in on; kept with a job).
    Refused (PrintNotFound) if any voucher is not the actor's, and (ConflictError) if any is not valid;
    otherwise each print is audited. Jobs are sent after the transaction commits.
    """
    paper = _check_paper(paper)
    ids = [id_in_range(pk) for pk in voucher_ids]
    if None in ids:  # not a number, or no voucher could have it: the same answer as another's voucher
        raise PrintNotFound()
    if not ids:
        raise SupportError("Choose at least one voucher to print.", field="voucher")
    if len(set(ids)) > MAX_VOUCHERS:
        raise SupportError(f"Print at most {MAX_VOUCHERS:,} vouchers at a time.", field="voucher")
    vouchers = vouchers_in_scope(voucher_ids=ids, actor=actor)
    voucher_record_print(vouchers=vouchers, actor=actor)

    if len(vouchers) == 1:
        voucher = vouchers[0]
        return PrintResult(
            pdf=render_voucher_pdf(voucher, paper=paper, site_url=site_url),
            filename=f"voucher-{voucher.code}.pdf",
        )
    if len(vouchers) <= SYNC_LIMIT:
        today = timezone.localdate()
        return PrintResult(
            pdf=render_vouchers_pdf(vouchers, paper=paper, site_url=site_url),
            filename=f"vouchers-{len(vouchers)}-{today}.pdf",
        )

    chunks = [[v.pk for v in vouchers[i : i + CHUNK_SIZE]] for i in range(0, len(vouchers), CHUNK_SIZE)]
    job = PrintJob(
        id=uuid.uuid4().hex,
        owner_id=actor.pk,
        voucher_count=len(vouchers),
        chunk_count=len(chunks),
        paper=paper,
    )
    use_chord = _chords_work()
    cache.set_many(
        {
            _key(job.id): {
                "owner_id": job.owner_id,
                "voucher_count": job.voucher_count,
                "chunk_count": job.chunk_count,
                "paper": job.paper,
                "chord": use_chord,
                "site_url": site_url,
            },
            _key(job.id, "done"): 0,
        },
        JOB_SECONDS,
    )
    transaction.on_commit(lambda: _send(job.id, chunks, use_chord=use_chord))
    return PrintResult(pdf=None, filename=job.filename, job=job)


def _chords_work() -> bool:
    app = current_app
    return bool(app.conf.task_always_eager) or not isinstance(app.backend, DisabledBackend)


def _send(job_id: str, chunks: list[list[int]], *, use_chord: bool) -> None:
    # A print job is wanted now, not whenever the broker returns: if it cannot be sent, the job says so
    # (its page shows the message) and the request that started it still answers normally.
    if not jobs.broker.usable():
        _fail(job_id, BROKER_DOWN)
        return
    render = task_named("vouchers.print_chunk")
    header = [render.si(job_id, index, ids) for index, ids in enumerate(chunks)]
    try:
        if use_chord:
            chord(header)(task_named("vouchers.print_merge").si(job_id), **jobs.PUBLISH_OPTIONS)
        else:
            group(header).apply_async(**jobs.PUBLISH_OPTIONS)
    except Exception as exc:
        jobs.broker.trip(exc)
        _fail(job_id, BROKER_DOWN)


def print_chunk_pdf(
    *, voucher_ids: list[int], owner_id: int, paper: str, site_url: str | None = None
) -> bytes:
    """One chunk's PDF: the vouchers read again in the owner's scope (it may have changed) and rendered."""
    owner = get_user_model().objects.get(pk=owner_id)
    vouchers = vouchers_in_scope(voucher_ids=voucher_ids, actor=owner)
    return render_vouchers_pdf(vouchers, paper=paper, site_url=site_url)


def _fail(job_id: str, message: str) -> None:
    cache.add(_key(job_id, "error"), message, JOB_SECONDS)  # the first problem is the one reported


def print_chunk_render(*, job_id: str, index: int, voucher_ids: list[int]) -> int:
    """Render and store chunk ``index`` of a job, and count it once (idempotent). Returns its pages."""
    meta = cache.get(_key(job_id))
    if meta is None or cache.get(_key(job_id, "error")) is not None:
        return 0  # the job has expired or failed: nothing more to do
    part_key = _key(job_id, f"part:{index}")
    if not cache.has_key(part_key):
        try:
            pdf = print_chunk_pdf(
                voucher_ids=voucher_ids,
                owner_id=meta["owner_id"],
                paper=meta["paper"],
                site_url=meta.get("site_url"),
            )
        except PrintNotFound:
            _fail(job_id, "Some of these vouchers are no longer yours to print. Print the others again.")
            return 0
        except ConflictError as exc:
            # Cancelled or expired since the job started: print the others again, without it.
            _fail(job_id, f"{exc.message} Print the others again without it.")
            return 0
        except Exception:
            _fail(job_id, "Something went wrong while printing. Try again.")
            raise
        cache.set(part_key, pdf, JOB_SECONDS)
    stats = {"pages": len(voucher_ids), "pid": os.getpid(), "peak_rss_mb": peak_rss_mb()}
    if cache.add(_key(job_id, f"counted:{index}"), stats, JOB_SECONDS):
        done = cache.incr(_key(job_id, "done"))
        if done == meta["chunk_count"] and not meta["chord"]:
            task_named("vouchers.print_merge").delay(job_id)
    return len(voucher_ids)


def print_job_merge(*, job_id: str) -> bool:
    """Merge a job's chunks into its one PDF, in order (idempotent). False if the job cannot finish."""
    meta = cache.get(_key(job_id))
    if meta is None or cache.get(_key(job_id, "error")) is not None:
        return False
    if cache.has_key(_key(job_id, "pdf")):
        return True
    part_keys = [_key(job_id, f"part:{index}") for index in range(meta["chunk_count"])]
    parts = cache.get_many(part_keys)
    if len(parts) != len(part_keys):
        _fail(job_id, "Part of this print was lost before it was finished. Try again.")
        return False
    cache.set(_key(job_id, "pdf"), merge_pdfs(parts[key] for key in part_keys), JOB_SECONDS)
    cache.delete_many(part_keys)
    return True


def print_job_get(*, job_id: str, actor: AbstractBaseUser) -> PrintJob:
    """The job, if ``actor`` started it (PrintNotFound otherwise, also once it has expired)."""
    meta = cache.get(_key(job_id)) if _JOB_ID.match(job_id) else None
    if meta is None or meta["owner_id"] != actor.pk:
        raise PrintNotFound()
    progress = cache.get_many([_key(job_id, "done"), _key(job_id, "error")])
    return PrintJob(
        id=job_id,
        owner_id=meta["owner_id"],
        voucher_count=meta["voucher_count"],
        chunk_count=meta["chunk_count"],
        paper=meta["paper"],
        chunks_done=progress.get(_key(job_id, "done"), 0),
        ready=cache.has_key(_key(job_id, "pdf")),
        error=progress.get(_key(job_id, "error"), ""),
    )


def print_job_pdf(*, job_id: str, actor: AbstractBaseUser) -> tuple[PrintJob, bytes]:
    """The finished job's PDF. ConflictError while it is still running or if it failed."""
    job = print_job_get(job_id=job_id, actor=actor)
    pdf = cache.get(_key(job_id, "pdf"))
    if pdf is None:
        raise ConflictError(job.error or "These vouchers are still being printed.", code="not_ready")
    return job, pdf


def print_job_chunk_stats(*, job_id: str, chunk_count: int) -> list[dict]:
    """Which process rendered each counted chunk and its peak memory (for benchmarks and diagnosis)."""
    found = cache.get_many([_key(job_id, f"counted:{index}") for index in range(chunk_count)])
    return list(found.values())


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
