"""Web pages of the support core. Every queryset comes from a selector; every write from a service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from support import consents, contacts, data_rights, free_meals, registry, safeguarding, selectors, services
from support import timeline as family_timeline
from support.access import requires
from support.confirm import confirm_page, confirmed
from support.csv_safe import stream_csv
from support.errors import SupportError
from support.filters import ImportFilter, filterset_for
from support.forms import (
    ConsentForm,
    ContactForm,
    FamilyForm,
    ImportUploadForm,
    NeedForm,
    RollLeaveForm,
    SafeguardingLeadsForm,
    SafeguardingReferralForm,
    form_error_from,
)
from support.models import Enrolment, Family, FamilyConsent, FamilyDuplicate, Pupil, PupilImport
from support.paging import ListPaginator
from support.pupil_csv import column_label, year_label
from support.pupil_import import (
    plan_year,
    pupil_import_confirm,
    pupil_import_parse,
    pupil_import_plan,
    pupil_import_upload,
)
from support.rolls import pupil_roll_leave
from support.scopes import scope_for

PAGE_SIZE = 25
RECENT_UPLOADS = 20
MAX_UPLOADS_OF_A_STATUS = 100  # previews expire after the policy's days, so those ready stay few


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's first job, up front, then the work waiting for them: counts, each linking to its queue.

    The counts come from ``support.registry``'s home panels (the core's in ``support.home``, each feature's
    from its ``registrations.py``), so the page makes the same number of queries whatever the data holds.
    """
    user = request.user
    scope = scope_for(user)
    context: dict = {"scope": scope}
    if scope.is_school_staff or scope.is_admin:
        families = selectors.families_visible_to(user)
        pupils = selectors.pupils_visible_to(user)
        context["family_count"] = families.count()
        context["pupil_count"] = pupils.count()
        context["in_need_count"] = pupils.filter(in_need=True).count()
    if scope.lead_school_ids:
        context["safeguarding_schools"] = selectors.lead_schools_of(user)
    # Each slot's panels (the charity's code box, the work waiting, finance's standby fund, ...), each
    # scoped by its own context function.
    context["panels"] = registry.home_panels(request)
    if scope.is_finance or scope.is_admin:
        # Pupils on each school's current roll: a dual-registered pupil counts at both schools.
        on_roll = Q(enrolments__left_on__isnull=True)
        context["school_overview"] = selectors.schools_visible_to(user).annotate(
            pupils_total=Count("enrolments", filter=on_roll),
            # Benefits-related FSM registered today: the measure the table's caption names.
            fsm_total=Count(
                "enrolments",
                filter=on_roll
                & free_meals.registered_fsm_q(today=timezone.localdate(), prefix="enrolments__pupil__"),
            ),
            pp_total=Count("enrolments", filter=on_roll & Q(enrolments__pupil__pupil_premium=True)),
            in_need_total=Count("enrolments", filter=on_roll & Q(enrolments__pupil__in_need=True)),
        )
    if scope.is_charity:
        context["partners"] = selectors.partners_visible_to(user).prefetch_related("services")
    if scope.is_admin:
        context["recent_events"] = selectors.audit_events_visible_to(user)[:8]
    return render(request, "support/home.html", context)


def _family_results(request: HttpRequest):
    """The family list's filter set (``support.filters``, the API's too) over the user's families."""
    visible_pupils = (
        selectors.pupils_visible_to(request.user).select_related("school").order_by("year_group", "pk")
    )
    families = selectors.families_visible_to(request.user).prefetch_related(
        Prefetch("pupils", queryset=visible_pupils, to_attr="visible_pupils")
    )
    filterset = filterset_for(request, queryset=families)
    if not filterset.is_valid():
        return filterset, families.none()
    return filterset, filterset.qs


@requires("families.view")
def family_list(request: HttpRequest) -> HttpResponse:
    filterset, families = _family_results(request)
    page = ListPaginator(families, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    form = filterset.form
    return render(
        request,
        "support/family_list.html",
        {
            "form": form,
            "page": page,
            "query": form.cleaned_data.get("q", "") if form.is_valid() else "",
            "querystring": params.urlencode(),
        },
        status=200 if form.is_valid() else 400,
    )


@requires("families.export")
def family_export(request: HttpRequest) -> StreamingHttpResponse:
    """The same families as the search page, as CSV (formula-like cells neutralised)."""
    filterset, families = _family_results(request)
    if not filterset.is_valid():
        return family_list(request)  # the list page, with the error said beside the field
    header = [
        "Family id",
        "Lead carer",
        "Phone",
        "E-mail",
        "Postcode",
        "Adults",
        "Children",
        "Dietary needs",
        "Consent to share with",
        "Pupils (at your schools)",
    ]

    consented: dict[int, list[str]] = {}
    for family_id, partner in (
        FamilyConsent.objects.filter(family__in=families.values("pk"), withdrawn_on__isnull=True)
        .order_by("partner__name")
        .values_list("family_id", "partner__name")
    ):
        consented.setdefault(family_id, []).append(partner)

    def rows():
        for family in families.iterator(chunk_size=500):
            pupils = "; ".join(
                f"{p.known_as} {p.surname} ({p.get_year_group_display()}, {p.school.name})"
                for p in family.visible_pupils
            )
            yield [
                family.pk,
                family.lead_carer_name,
                family.phone,
                family.email,
                family.postcode,
                family.adults,
                family.children,
                family.dietary_needs,
                "; ".join(consented.get(family.pk, [])),
                pupils,
            ]

    data_rights.family_export_record(
        actor=request.user,
        query=request.GET.urlencode(),
        family_ids=list(families.values_list("pk", flat=True)),
    )
    return stream_csv(rows(), filename="families.csv", header=header)


def _with_safeguarding(request: HttpRequest, pupils) -> list[Pupil]:
    """The pupils, each with ``safeguarding_referrals`` (None when the user is not staff of its school)."""
    pupils = list(pupils)
    own = set(
        safeguarding.safeguarding_pupils_of(request.user)
        .filter(pk__in=[p.pk for p in pupils])
        .values_list("pk", flat=True)
    )
    referrals: dict[int, list] = {}
    for referral in selectors.safeguarding_referrals_visible_to(request.user).filter(pupil_id__in=own):
        referrals.setdefault(referral.pupil_id, []).append(referral)
    for pupil in pupils:
        pupil.safeguarding_shown = referrals.get(pupil.pk, []) if pupil.pk in own else None
    return pupils


def _visible_family(request: HttpRequest, pk: int):
    return get_object_or_404(selectors.families_visible_to(request.user), pk=pk)


@requires("pupils.fsm_check")
def fsm_check(request: HttpRequest) -> HttpResponse:
    """A lead's list: families the school supports whose children are not registered for FSM."""
    rows = free_meals.fsm_check_families(user=request.user)
    return render(
        request,
        "support/fsm_check.html",
        {
            "rows": rows,
            "measure": free_meals.MEASURE,
            "premium_pounds": free_meals.PUPIL_PREMIUM_PRIMARY_POUNDS,
            "apply_url": free_meals.APPLY_URL,
        },
    )


@requires("pupils.fsm_check")
def fsm_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable letter explaining how to apply, for one family the lead's schools can see."""
    family = get_object_or_404(
        selectors.families_visible_to(request.user).filter(
            selectors.family_on_roll_at(_lead_school_ids(request))
        ),
        pk=pk,
    )
    pupils = free_meals.fsm_letter_pupils(user=request.user, family=family)
    try:
        pdf = free_meals.render_fsm_letter_pdf(family=family, pupils=pupils, actor=request.user)
    except SupportError as exc:
        messages.error(request, exc.message)
        return redirect("family_detail", pk=family.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="free-school-meals-family-{family.pk}.pdf"'
    return response


@requires("families.view")
def family_detail(request: HttpRequest, pk: int) -> HttpResponse:
    family = _visible_family(request, pk)
    data_rights.family_view_record(family=family, actor=request.user)
    former = list(selectors.former_pupils_visible_to(request.user).filter(family=family).order_by("pk"))
    pupils = _family_pupils(request, family).exclude(pk__in=[p.pk for p in former])
    elsewhere = (
        Pupil.objects.filter(family=family)
        .exclude(pk__in=pupils.values("pk"))
        .exclude(pk__in=[p.pk for p in former])
        .count()
    )
    return render(
        request,
        "support/family_detail.html",
        {**_family_page(request, family, pupils), "former": former, "elsewhere": elsewhere},
    )


def _family_page(request: HttpRequest, family, pupils, consent_form: ConsentForm | None = None) -> dict:
    """The family page's sections: its pupils, the feature apps' panels, the timeline, consent, contacts."""
    pupils = _with_safeguarding(request, pupils)
    return {
        "family": family,
        "pupils": pupils,
        "panels": registry.family_panels(request, family, pupils),
        "timeline": _timeline(request, family),
        "lead_school_ids": _lead_school_ids(request),
        **_consent_context(request, family, consent_form),
        "contacts": contacts.contacts_of(family),
    }


def _timeline(request: HttpRequest, family) -> family_timeline.Timeline:
    """The family's timeline, of the kind chosen (``?kind=``), its first ``?shown=`` entries."""
    try:
        shown = int(request.GET.get("shown", family_timeline.PAGE))
    except ValueError:
        shown = family_timeline.PAGE
    return family_timeline.family_timeline(
        user=request.user, family=family, kind=request.GET.get("kind", ""), limit=shown
    )


def _consent_context(request: HttpRequest, family, form: ConsentForm | None = None) -> dict:
    """The family page's consent section: each named consent, and the form for partners without one."""
    listed = list(consents.family_consents(family))
    current = {c.partner_id for c in listed if c.is_current}
    unconsented = selectors.partners_visible_to(request.user).filter(is_active=True).exclude(pk__in=current)
    wordings = [(p, consents.consent_wording(p.name)) for p in unconsented]
    return {
        "consents": listed,
        "consent_form": form or ConsentForm(partners=unconsented),
        "consent_partners_left": bool(wordings),
        "can_confirm_consent": consents.family_consent_can_confirm(family=family, actor=request.user),
        "consent_wordings": wordings,
    }


def _family_pupils(request: HttpRequest, family):
    """The family's pupils the user may see, each with the school rolls it is on now."""
    rolls = Enrolment.objects.current().select_related("school").order_by("registration", "joined", "pk")
    return (
        selectors.pupils_visible_to(request.user)
        .filter(family=family)
        .select_related("school")
        .prefetch_related(Prefetch("enrolments", queryset=rolls, to_attr="current_rolls"))
    )


def _lead_school_ids(request: HttpRequest) -> set[int]:
    return set(selectors.lead_schools_of(request.user).values_list("pk", flat=True))


@login_required
def family_subject_access(request: HttpRequest, pk: int) -> HttpResponse:
    """Trust admins only: everything held about one family, as JSON or PDF (each download audited)."""
    if not scope_for(request.user).is_admin:
        raise PermissionDenied
    family = _visible_family(request, pk)
    download = request.GET.get("format")
    if download == "json":
        data = data_rights.family_subject_access(family=family, actor=request.user)
        response = HttpResponse(data_rights.subject_access_json(data), content_type="application/json")
    elif download == "pdf":
        pdf = data_rights.family_subject_access_pdf(family=family, actor=request.user)
        response = HttpResponse(pdf, content_type="application/pdf")
    else:
        data = data_rights.subject_access_data(family=family, actor=request.user)
        counts = [
            (name.replace("_", " ").capitalize(), len(v)) for name, v in data.items() if isinstance(v, list)
        ]
        return render(request, "support/subject_access.html", {"family": family, "counts": counts})
    response["Content-Disposition"] = f'attachment; filename="family-{family.pk}-subject-access.{download}"'
    return response


@requires("families.edit")
def family_edit(request: HttpRequest, pk: int) -> HttpResponse:
    family = _visible_family(request, pk)
    form = FamilyForm(request.POST or None, instance=family)
    if request.method == "POST" and form.is_valid():
        try:
            fields = {name: form.cleaned_data[name] for name in services.FAMILY_EDITABLE}
            family.refresh_from_db()
            services.family_update(family=family, actor=request.user, **fields)
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, "Family details saved.")
            return redirect("family_detail", pk=family.pk)
    return render(request, "support/family_edit.html", {"family": family, "form": form})


@require_POST
@requires("families.edit")
def family_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """Record or withdraw the family's consent to share with one named partner."""
    family = _visible_family(request, pk)
    form = ConsentForm(request.POST, partners=selectors.partners_visible_to(request.user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["given"]:
                consents.family_consent_record(
                    family=family,
                    partner=data["partner"],
                    actor=request.user,
                    method=data["method"],
                    given_on=data["date"],
                )
            else:
                consents.family_consent_withdraw(
                    family=family, partner=data["partner"], actor=request.user, withdrawn_on=data["date"]
                )
        except SupportError as exc:
            form_error_from(form, exc, fields={"given_on": "date", "withdrawn_on": "date"})
        else:
            name = data["partner"].name
            messages.success(
                request,
                f"Consent to share with {name} recorded."
                if data["given"]
                else f"Consent to share with {name} withdrawn: no new voucher for {name} can be issued.",
            )
            return redirect(f"{reverse('family_detail', args=[family.pk])}#consent")
    pupils = _family_pupils(request, family)
    return render(
        request,
        "support/family_detail.html",
        {**_family_page(request, family, pupils, form), "elsewhere": 0},
        status=400,
    )


def _contact_form_page(request: HttpRequest, *, family, contact=None) -> HttpResponse:
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in contacts.CONTACT_EDITABLE}
        try:
            if contact is None:
                contacts.contact_create(family=family, actor=request.user, **fields)
            else:
                contacts.contact_update(contact=contact, actor=request.user, **fields)
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, "Contact saved.")
            return redirect(f"{reverse('family_detail', args=[family.pk])}#contacts")
    return render(request, "support/contact_edit.html", {"family": family, "contact": contact, "form": form})


@requires("families.edit")
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _contact_form_page(request, family=_visible_family(request, pk))


@requires("families.edit")
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(selectors.contacts_visible_to(request.user).select_related("family"), pk=pk)
    return _contact_form_page(request, family=contact.family, contact=contact)


@require_POST
@requires("families.edit")
def family_consent_confirm(request: HttpRequest, pk: int, consent_pk: int) -> HttpResponse:
    """A lead confirms, having asked the family, a consent migrated from the single consent box."""
    family = _visible_family(request, pk)
    consent = get_object_or_404(consents.family_consents(family), pk=consent_pk)
    try:
        consents.family_consent_confirm(consent=consent, actor=request.user)
    except SupportError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied(exc.message) from None
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Consent to share with {consent.partner.name} confirmed.")
    return redirect(f"{reverse('family_detail', args=[family.pk])}#consent")


@require_POST
@requires("pupils.flag_need")
def pupil_need(request: HttpRequest, pk: int) -> HttpResponse:
    pupil = get_object_or_404(selectors.pupils_visible_to(request.user), pk=pk)
    form = NeedForm(request.POST)
    form.is_valid()
    if pupil.in_need and not form.cleaned_data.get("in_need", False) and not confirmed(request):
        return confirm_page(
            request,
            title=f"Are you sure you want to remove the in-need flag from {pupil.known_as} {pupil.surname}?",
            consequences=[
                f"Coats, shoes and uniform can no longer be requested for {pupil.known_as}.",
                "The change is recorded in the family's timeline; you can mark them in need again.",
            ],
            action=reverse("pupil_need", args=[pupil.pk]),
            fields={"in_need": ""},
            button="Yes, remove the flag",
            back_url=reverse("family_detail", args=[pupil.family_id]),
            back_label="No, keep the flag",
            destructive=False,
        )
    try:
        services.pupil_set_in_need(
            pupil=pupil,
            actor=request.user,
            in_need=form.cleaned_data.get("in_need", False),
            reason=form.cleaned_data.get("reason", ""),
        )
    except SupportError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{pupil.known_as} {'is now' if pupil.in_need else 'is no longer'} marked in need."
        )
    return redirect("family_detail", pk=pupil.family_id)


@requires("pupils.safeguarding")
def pupil_safeguarding(request: HttpRequest, pk: int) -> HttpResponse:
    """ "This may be a safeguarding concern": records only that it was passed to the school's lead."""
    pupil = get_object_or_404(
        safeguarding.safeguarding_pupils_of(request.user).select_related("school"), pk=pk
    )
    posted = request.method == "POST"
    form = SafeguardingReferralForm(request.POST if posted else None, school=pupil.school)
    status = 200
    if posted:
        # With no lead recorded the service says so, rather than the form asking to choose from none.
        if form.is_valid() or not pupil.school.safeguarding_leads:
            try:
                safeguarding.safeguarding_referral_record(
                    pupil=pupil, actor=request.user, lead_kind=form.cleaned_data.get("lead_kind", "")
                )
            except SupportError as exc:
                form_error_from(form, exc)
            else:
                messages.success(
                    request,
                    f"Recorded that you passed a concern about {pupil.known_as} to the safeguarding lead.",
                )
                return redirect("family_detail", pk=pupil.family_id)
        status = 400
    referrals = selectors.safeguarding_referrals_visible_to(request.user).filter(pupil=pupil)
    return render(
        request,
        "support/pupil_safeguarding.html",
        {"pupil": pupil, "form": form, "referrals": referrals},
        status=status,
    )


@requires("schools.safeguarding_leads")
def school_safeguarding_leads(request: HttpRequest, pk: int) -> HttpResponse:
    """A school's pastoral leads (and trust admins) record who its designated safeguarding leads are."""
    school = get_object_or_404(selectors.lead_schools_of(request.user), pk=pk)
    form = SafeguardingLeadsForm(
        request.POST if request.method == "POST" else None,
        initial={"lead": school.safeguarding_lead, "deputy": school.safeguarding_deputy},
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                safeguarding.school_safeguarding_leads_set(
                    school=school,
                    actor=request.user,
                    lead=form.cleaned_data["lead"],
                    deputy=form.cleaned_data["deputy"],
                )
            except SupportError as exc:
                form_error_from(form, exc)
            else:
                messages.success(request, f"Safeguarding leads saved for {school.name}.")
                return redirect("home")
        return render(
            request, "support/school_safeguarding_leads.html", {"school": school, "form": form}, status=400
        )
    return render(request, "support/school_safeguarding_leads.html", {"school": school, "form": form})


@require_POST
@requires("pupils.import")
def pupil_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """A lead records that a pupil left one of their schools' rolls (the pupil's other rolls stay)."""
    pupil = get_object_or_404(selectors.pupils_visible_to(request.user), pk=pk)
    form = RollLeaveForm(request.POST, schools=selectors.lead_schools_of(request.user))
    if not form.is_valid():
        messages.error(request, next(iter(form.errors.values()))[0])
        return redirect("family_detail", pk=pupil.family_id)
    school = form.cleaned_data["school"]
    left_on = form.cleaned_data["left_on"]
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Are you sure you want to take {pupil.known_as} {pupil.surname} off {school.name}'s roll?",
            summary=[("Leaving date", f"{left_on.day} {left_on:%B %Y}")],
            consequences=[
                f"{pupil.known_as} is recorded as having left {school.name} on that date.",
                f"{pupil.known_as}'s rolls at any other school stay as they are.",
            ],
            warning=f"Putting {pupil.known_as} back on {school.name}'s roll needs the next pupil import.",
            action=reverse("pupil_leave", args=[pupil.pk]),
            fields={"school": str(school.pk), "left_on": left_on.isoformat()},
            button=f"Yes, take {pupil.known_as} off the roll",
            back_url=reverse("family_detail", args=[pupil.family_id]),
            back_label="No, keep them on the roll",
        )
    try:
        pupil_roll_leave(pupil=pupil, school=school, actor=request.user, left_on=left_on)
    except SupportError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{pupil.known_as} {pupil.surname} is no longer on {school.name}'s roll.")
    if selectors.pupils_visible_to(request.user).filter(pk=pupil.pk).exists():
        return redirect("family_detail", pk=pupil.family_id)
    return redirect("family_list")


# --- Possible duplicate families -------------------------------------------------------------


@requires("families.merge")
def duplicate_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    duplicates = selectors.family_duplicates_waiting(user).select_related(
        "family_a", "family_b", "requested_by"
    )
    page = Paginator(duplicates, PAGE_SIZE).get_page(request.GET.get("page"))
    family_ids = sorted({d.family_a_id for d in page} | {d.family_b_id for d in page})
    # A lead sees of each family only what they could already see; of a family they cannot see, only
    # that there is a match. School names and counts come from the pupils the lead may see.
    visible = set(selectors.families_visible_to(user).filter(pk__in=family_ids).values_list("pk", flat=True))
    speaks = selectors.families_spoken_for(user, family_ids)
    schools: dict[int, list[str]] = {}
    for row in (
        selectors.pupils_visible_to(user)
        .filter(family_id__in=family_ids)
        .values("family_id", "school__name")
        .annotate(n=Count("pk"))
        .order_by("school__name")
    ):
        schools.setdefault(row["family_id"], []).append(f"{row['school__name']} ({row['n']})")
    children = _children_of(user, family_ids)
    for duplicate in page:
        duplicate.sides = [
            {
                "family": family if family.pk in visible else None,
                "schools": schools.get(family.pk, []),
                "children": children.get(family.pk, []) if family.pk in visible else [],
                "yours": family.pk in speaks,
                "choice": choice,
            }
            for family, choice in ((duplicate.family_a, "keep_a"), (duplicate.family_b, "keep_b"))
        ]
        duplicate.direct = duplicate.family_a_id in speaks and duplicate.family_b_id in speaks
        duplicate.can_agree = (
            duplicate.status == FamilyDuplicate.Status.REQUESTED
            and duplicate.agreement_from_id in speaks
            and duplicate.requested_by_id != user.pk
        )
    note_hint = safeguarding.guidance(
        seen_by=safeguarding.SEEN_BY_LEADS,
        schools=selectors.schools_visible_to(user).filter(pk__in=scope_for(user).lead_school_ids),
    )
    return render(request, "support/duplicate_list.html", {"page": page, "note_hint": note_hint})


def _children_of(user, family_ids: list[int]) -> dict[int, list[dict]]:
    """Each family's children that ``user`` may see (a pupil at a school out of scope stays out)."""
    children: dict[int, list[dict]] = {}
    for pupil in (
        selectors.pupils_visible_to(user)
        .filter(family_id__in=family_ids)
        .select_related("school")
        .order_by("date_of_birth", "pk")
    ):
        children.setdefault(pupil.family_id, []).append(
            {
                "name": str(pupil),
                "born": pupil.date_of_birth,
                "school": pupil.school.name,
                "year": year_label(pupil.year_group),
            }
        )
    return children


def _confirm_merge(
    request: HttpRequest, duplicate: FamilyDuplicate, keep_a: bool, fields: dict
) -> HttpResponse:
    kept, merged = (
        (duplicate.family_a, duplicate.family_b) if keep_a else (duplicate.family_b, duplicate.family_a)
    )
    children = _children_of(request.user, [kept.pk, merged.pk])
    # Of a family the user may not see, only that it is there (as on the duplicates page).
    visible = set(
        selectors.families_visible_to(request.user)
        .filter(pk__in=[kept.pk, merged.pk])
        .values_list("pk", flat=True)
    )

    def named(family: Family) -> str:
        if family.pk not in visible:
            return "A family at another of the trust's schools"
        names = ", ".join(child["name"] for child in children.get(family.pk, [])) or "no children you can see"
        return f"{family.lead_carer_name}, {family.postcode or 'no postcode'} ({names})"

    def called(family: Family) -> str:
        return f"{family.lead_carer_name}'s record" if family.pk in visible else "the other school's record"

    return confirm_page(
        request,
        title="Are you sure you want to merge these families?",
        caption=duplicate.reason,
        summary=[("Record kept", named(kept)), ("Record merged into it", named(merged))],
        consequences=[
            f"The children, contacts, vouchers, requests and notes of {called(merged)} move to "
            f"{called(kept)}.",
            "Only the kept record remains, and every school that sees either family sees that one record.",
        ],
        warning="A merge cannot be undone here: separating the families again needs an administrator.",
        action=reverse("duplicate_decide", args=[duplicate.pk]),
        fields=fields,
        button="Yes, merge the families",
        back_url=reverse("duplicate_list"),
        back_label="No, go back to the duplicates",
    )


@require_POST
@requires("families.merge")
def duplicate_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """A lead's decision on a possible duplicate. A decision that merges at once (both families are the
    lead's, or agreeing to the other school's request) is asked on a confirmation page first."""
    duplicate = get_object_or_404(selectors.family_duplicates_visible_to(request.user), pk=pk)
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")
    fields = {"decision": decision, "note": note}
    if not confirmed(request) and duplicate.status in (
        FamilyDuplicate.Status.OPEN,
        FamilyDuplicate.Status.REQUESTED,
    ):
        speaks = selectors.families_spoken_for(request.user, [duplicate.family_a_id, duplicate.family_b_id])
        direct = duplicate.family_a_id in speaks and duplicate.family_b_id in speaks
        if decision in ("keep_a", "keep_b") and direct and duplicate.status == FamilyDuplicate.Status.OPEN:
            return _confirm_merge(request, duplicate, decision == "keep_a", fields)
        if decision == "agree" and duplicate.status == FamilyDuplicate.Status.REQUESTED:
            return _confirm_merge(
                request, duplicate, duplicate.requested_keep_id == duplicate.family_a_id, fields
            )
    try:
        if decision == "keep_apart":
            services.family_duplicate_keep_apart(duplicate=duplicate, actor=request.user, note=note)
            messages.success(request, "Kept apart: these families will not be suggested again.")
        elif decision in ("keep_a", "keep_b"):
            keep = duplicate.family_a if decision == "keep_a" else duplicate.family_b
            kept = services.family_duplicate_decide_merge(
                duplicate=duplicate, actor=request.user, keep=keep, note=note
            )
            if kept is None:
                messages.success(
                    request,
                    "Asked a lead of the other family's school to agree. Nothing is merged until they do.",
                )
            else:
                messages.success(request, f"Merged into {kept.lead_carer_name}'s family.")
        elif decision == "agree":
            kept = services.family_duplicate_agree(duplicate=duplicate, actor=request.user, note=note)
            messages.success(request, f"Agreed: merged into {kept.lead_carer_name}'s family.")
        elif decision == "refuse":
            services.family_duplicate_refuse(duplicate=duplicate, actor=request.user, note=note)
            messages.success(request, "Refused: the families stay apart.")
        else:
            messages.error(request, "Choose to merge the families or keep them apart.")
    except SupportError as exc:
        messages.error(request, exc.message)
    return redirect("duplicate_list")


# --- Pupil import ----------------------------------------------------------------------------


@requires("pupils.import")
def import_list(request: HttpRequest) -> HttpResponse:
    schools = selectors.lead_schools_of(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        upload = pupil_import_upload(
            school=form.cleaned_data["school"],
            actor=request.user,
            filename=upload_file.name,
            data=upload_file.read(),
        )
        return redirect("import_detail", pk=upload.pk)
    uploads = selectors.imports_visible_to(request.user).select_related("school", "uploaded_by")
    # ?status=previewed: the uploads home counts as ready to apply (an unknown status shows them all).
    filterset = ImportFilter(request.GET, queryset=uploads)
    shown_status = None
    if filterset.is_valid() and filterset.form.cleaned_data.get("status"):
        shown_status = PupilImport.Status(filterset.form.cleaned_data["status"])
        uploads = filterset.qs[:MAX_UPLOADS_OF_A_STATUS]
    else:
        uploads = uploads[:RECENT_UPLOADS]
    return render(
        request,
        "support/import_list.html",
        {"form": form, "uploads": uploads, "shown_status": shown_status},
    )


@requires("pupils.import")
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    upload = get_object_or_404(selectors.imports_visible_to(request.user).select_related("school"), pk=pk)
    plan, unread = None, []
    if upload.status in (PupilImport.Status.PREVIEWED, PupilImport.Status.REJECTED) and upload.content:
        parsed = pupil_import_parse(bytes(upload.content))
        unread = parsed.unread
        if parsed.ok and upload.status == PupilImport.Status.PREVIEWED:
            plan = pupil_import_plan(
                school=upload.school,
                rows=parsed.rows,
                academic_year_start=plan_year(),
                headers=parsed.columns,
            )
    # Errors name the column as the file's own header does ("DOB"); older uploads by our label.
    errors = [
        {**error, "label": error.get("header") or column_label(error.get("column", ""))}
        for error in upload.errors or []
    ]
    context = {"upload": upload, "plan": plan, "shown": 100, "errors": errors, "unread": unread}
    return render(request, "support/import_detail.html", context)


@require_POST
@requires("pupils.import")
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    upload = get_object_or_404(selectors.imports_visible_to(request.user), pk=pk)
    try:
        pupil_import_confirm(upload=upload, actor=request.user)
    except SupportError as exc:
        messages.error(request, exc.message)
    else:
        upload.refresh_from_db()
        if upload.status == PupilImport.Status.APPLIED:
            messages.success(request, "The import has been applied.")
        else:
            messages.info(request, "The import is being applied. Refresh this page to see when it is done.")
    return redirect("import_detail", pk=upload.pk)
