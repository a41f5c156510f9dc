"""Printing doors: one voucher's PDF, and a batch (at once when small, else a job with a progress page).

Every door goes through ``vouchers.printing.print_job_start``, which checks scope (out of scope is a 404),
refuses vouchers that are not valid (a 409 page saying why, never a PDF) and audits each print.
"""

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from support.access import requires
from support.errors import ConflictError, SupportError
from support.http import site_url
from vouchers.printing import (
    JOB_SECONDS,
    PrintJob,
    PrintNotFound,
    PrintResult,
    print_job_get,
    print_job_pdf,
    print_job_start,
)

REFRESH_SECONDS = 2


def _url(name: str, *args: object, fallback: str = "home") -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the page lives in another part of the app that may not be there
        return reverse(fallback)


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


def _start(
    request: HttpRequest, voucher_ids: list, paper: str, back: tuple[str, str]
) -> PrintResult | HttpResponse:
    try:
        return print_job_start(
            voucher_ids=voucher_ids, actor=request.user, paper=paper or "A5", site_url=site_url(request)
        )
    except PrintNotFound:
        raise Http404 from None
    except SupportError as exc:
        context = {
            "message": exc.message,
            "back_url": back[0],
            "back_label": back[1],
            "not_printable": isinstance(exc, ConflictError),
        }
        return render(request, "vouchers/print_refused.html", context, status=exc.status_code)


@requires("vouchers.print")
@never_cache
def voucher_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """One voucher as a PDF (A5, or ?paper=A4)."""
    result = _start(
        request, [pk], request.GET.get("paper", ""), (_url("voucher_detail", pk), "Go back to the voucher")
    )
    if isinstance(result, HttpResponse):
        return result
    return _pdf_response(result.pdf, result.filename)


@requires("vouchers.print")
@require_POST
@never_cache
def voucher_print_batch(request: HttpRequest) -> HttpResponse:
    """The vouchers ticked (``voucher``, repeated) as one PDF, or a job's progress page for many."""
    result = _start(
        request,
        request.POST.getlist("voucher"),
        request.POST.get("paper", ""),
        (_url("voucher_list"), "Go back to the vouchers"),
    )
    if isinstance(result, HttpResponse):
        return result
    if result.job is not None:
        return redirect("voucher_print_job", job_id=result.job.id)
    return _pdf_response(result.pdf, result.filename)


def _job(request: HttpRequest, job_id: str) -> PrintJob:
    try:
        return print_job_get(job_id=job_id, actor=request.user)
    except PrintNotFound:
        raise Http404 from None


@requires("vouchers.print")
@never_cache
def voucher_print_job(request: HttpRequest, job_id: str) -> HttpResponse:
    """Progress while the job runs (the page reloads itself, no script needed), then the download."""
    job = _job(request, job_id)
    context = {"job": job, "hours": JOB_SECONDS // 3600, "back_url": _url("voucher_list")}
    response = render(request, "vouchers/print_job.html", context)
    if job.running:
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


@requires("vouchers.print")
@never_cache
def voucher_print_job_progress(request: HttpRequest, job_id: str) -> JsonResponse:
    """The same progress as JSON, for a page or a client that would rather poll than reload."""
    job = _job(request, job_id)
    status = "ready" if job.ready else "failed" if job.failed else "running"
    return JsonResponse(
        {
            "status": status,
            "percent": job.percent,
            "chunks_done": job.chunks_done,
            "chunk_count": job.chunk_count,
            "voucher_count": job.voucher_count,
            "error": job.error,
            "download_url": reverse("voucher_print_job_download", args=[job.id]) if job.ready else None,
        }
    )


@requires("vouchers.print")
@never_cache
def voucher_print_job_download(request: HttpRequest, job_id: str) -> HttpResponse:
    try:
        job, pdf = print_job_pdf(job_id=job_id, actor=request.user)
    except PrintNotFound:
        raise Http404 from None
    except ConflictError:  # still running, or failed: the job's page says which
        return redirect("voucher_print_job", job_id=job_id)
    return _pdf_response(pdf, job.filename)


urlpatterns = [
    path("vouchers/<int:pk>/pdf/", voucher_pdf, name="voucher_pdf"),
    path("vouchers/print/", voucher_print_batch, name="voucher_print_batch"),
    path("vouchers/print/<slug:job_id>/", voucher_print_job, name="voucher_print_job"),
    path(
        "vouchers/print/<slug:job_id>/progress/",
        voucher_print_job_progress,
        name="voucher_print_job_progress",
    ),
    path(
        "vouchers/print/<slug:job_id>/download/",
        voucher_print_job_download,
        name="voucher_print_job_download",
    ),
]
