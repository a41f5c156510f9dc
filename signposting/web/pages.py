"""Pages for the agency directory and for signposting a family: choose an agency, record a signpost or a
referral (checked first), see one and record its outcome, the follow-ups due, and the agency's sheet for
the family (PDF or e-mail). A safeguarding service shows the guidance instead of a form.

Every queryset starts from a selector; every write goes through ``signposting.services``.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from signposting import selectors, services
from signposting.forms import OutcomeForm, SheetEmailForm, SignpostForm
from signposting.models import Agency, Signpost
from signposting.sheet import agency_sheet_pdf
from support import selectors as support_selectors
from support.access import requires
from support.confirm import confirmed
from support.errors import SupportError
from support.forms import form_error_from
from support.languages import family_language
from support.models import Family
from support.permissions import has_perm
from support.safeguarding import lead_names

ASSESSMENTS = (Signpost.Kind.EARLY_HELP, Signpost.Kind.TEAM_AROUND_FAMILY)


def _family(request: HttpRequest, family_pk: int) -> Family:
    return get_object_or_404(support_selectors.families_visible_to(request.user), pk=family_pk)


def _agency(request: HttpRequest, family: Family, agency_pk: int) -> Agency:
    return get_object_or_404(selectors.agencies_for_family(request.user, family), pk=agency_pk)


@requires("signposting.view")
def agency_list(request: HttpRequest) -> HttpResponse:
    agencies = selectors.agencies_visible_to(request.user).filter(is_active=True).prefetch_related("schools")
    return render(
        request, "signposting/agency_list.html", {"agencies": agencies.order_by("safeguarding", "name")}
    )


@requires("signposting.record")
def signpost_choose(request: HttpRequest, family_pk: int) -> HttpResponse:
    family = _family(request, family_pk)
    agencies = list(selectors.agencies_for_family(request.user, family))
    return render(request, "signposting/choose.html", {"family": family, "agencies": agencies})


def _safeguarding_page(request: HttpRequest, family: Family, agency: Agency) -> HttpResponse:
    """The guidance instead of a form: nothing is recorded, and the school's safeguarding leads are named."""
    schools = list(support_selectors.family_schools_visible_to(request.user, family).order_by("name"))
    pupils = []
    if has_perm(request.user, "pupils.safeguarding"):
        pupils = list(
            support_selectors.pupils_visible_to(request.user)
            .filter(family=family, school__in=schools)
            .order_by("legal_forename")
        )
    return render(
        request,
        "signposting/safeguarding.html",
        {
            "family": family,
            "agency": agency,
            "guidance": services.safeguarding_guidance(agency),
            "leads": lead_names(schools),
            "pupils": pupils,
        },
    )


@requires("signposting.record")
def signpost_create(request: HttpRequest, family_pk: int, agency_pk: int | None = None) -> HttpResponse:
    family = _family(request, family_pk)
    agency = _agency(request, family, agency_pk) if agency_pk is not None else None
    if agency is not None and agency.safeguarding:
        return _safeguarding_page(request, family, agency)
    schools = list(support_selectors.family_schools_visible_to(request.user, family).order_by("name"))
    kinds = ASSESSMENTS if agency is None else None
    form = SignpostForm(request.POST or None, schools=schools, kinds=kinds, safeguarding_schools=schools)
    editing = request.method == "POST" and request.POST.get("change") == "yes"
    if request.method == "POST" and not editing and form.is_valid():
        given = {key: form.cleaned_data[key] for key in (
            "kind", "school", "given_on", "lead_professional", "consent_method", "consent_given_on",
            "follow_up_on", "note",
        )}  # fmt: skip
        try:
            if not confirmed(request):
                values = services.signpost_check(family=family, agency=agency, actor=request.user, **given)
                return render(
                    request,
                    "signposting/check.html",
                    {
                        "family": family,
                        "agency": agency,
                        "form": form,
                        "values": values,
                        "kind_label": Signpost.Kind(values["kind"]).label,
                        "consent_label": dict(form.fields["consent_method"].choices).get(
                            values["consent_method"]
                        ),
                        "consent_wording": services.referral_consent_wording(agency) if agency else "",
                    },
                )
            signpost = services.signpost_record(family=family, agency=agency, actor=request.user, **given)
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"{signpost.what} recorded.")
            return redirect("family_detail", pk=family.pk)
    return render(
        request,
        "signposting/form.html",
        {
            "family": family,
            "agency": agency,
            "form": form,
            "consent_wording": services.referral_consent_wording(agency) if agency else "",
            # The sheet (printed or e-mailed) says it all again in this language after the English.
            "sheet_language": family_language(family.language),
        },
        status=400 if request.method == "POST" and not editing else 200,
    )


def _visible_signpost(request: HttpRequest, pk: int) -> Signpost:
    return get_object_or_404(
        selectors.signposts_visible_to(request.user).select_related(
            "family", "agency", "school", "recorded_by", "consent_recorded_by", "outcome_by"
        ),
        pk=pk,
    )


def _render_detail(request: HttpRequest, signpost: Signpost, form: OutcomeForm, *, status: int = 200):
    return render(
        request,
        "signposting/detail.html",
        {"signpost": signpost, "form": form, "can_record": has_perm(request.user, "signposting.record")},
        status=status,
    )


@requires("signposting.view")
def signpost_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _visible_signpost(request, pk), OutcomeForm())


@require_POST
@requires("signposting.record")
def signpost_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    signpost = _visible_signpost(request, pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.signpost_outcome_record(
                signpost=signpost,
                outcome=form.cleaned_data["outcome"],
                follow_up_on=form.cleaned_data["follow_up_on"],
                actor=request.user,
            )
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, "Outcome recorded.")
            return redirect("signpost_detail", pk=signpost.pk)
    return _render_detail(request, signpost, form, status=400)


@requires("signposting.record")
def signpost_follow_ups(request: HttpRequest) -> HttpResponse:
    due = selectors.follow_ups_due(request.user).select_related("family", "agency", "school", "recorded_by")
    return render(request, "signposting/follow_ups.html", {"due": due[:200]})


@requires("signposting.record")
def agency_sheet(request: HttpRequest, family_pk: int, agency_pk: int) -> HttpResponse:
    family = _family(request, family_pk)
    agency = _agency(request, family, agency_pk)
    if agency.safeguarding:
        return _safeguarding_page(request, family, agency)
    pdf = agency_sheet_pdf(family=family, agency=agency)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="agency-details.pdf"'
    return response


@require_POST
@requires("signposting.record")
def agency_sheet_email(request: HttpRequest, family_pk: int, agency_pk: int) -> HttpResponse:
    family = _family(request, family_pk)
    agency = _agency(request, family, agency_pk)
    form = SheetEmailForm(request.POST)
    if form.is_valid():
        try:
            address = services.agency_sheet_email(family=family, agency=agency, actor=request.user)
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"{agency.name}'s details sent to {address}.")
            return redirect("signpost_create", family_pk=family.pk, agency_pk=agency.pk)
    return render(
        request,
        "signposting/email_refused.html",
        {"family": family, "agency": agency, "form": form},
        status=400,
    )


urlpatterns = [
    path("agencies/", agency_list, name="agency_list"),
    path("families/<int:family_pk>/signposts/new/", signpost_choose, name="signpost_choose"),
    path("families/<int:family_pk>/signposts/new/assessment/", signpost_create, name="signpost_assessment"),
    path("families/<int:family_pk>/signposts/new/<int:agency_pk>/", signpost_create, name="signpost_create"),
    path("families/<int:family_pk>/agencies/<int:agency_pk>/sheet.pdf", agency_sheet, name="agency_sheet"),
    path(
        "families/<int:family_pk>/agencies/<int:agency_pk>/email/",
        agency_sheet_email,
        name="agency_sheet_email",
    ),
    path("signposts/follow-ups/", signpost_follow_ups, name="signpost_follow_ups"),
    path("signposts/<int:pk>/", signpost_detail, name="signpost_detail"),
    path("signposts/<int:pk>/outcome/", signpost_outcome, name="signpost_outcome"),
]
