"""Welcome-pack pages: the overview (outstanding per class), generating gifts, a class's sizes on one page,
packing and hand-over, items and packs, stock, and printing.

Schools come from ``schools_visible_to`` and gifts, items and stock from the uniform selectors, so out
of scope is a 404; writes go through ``uniform.services``.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from support.access import requires
from support.audit import audit_record
from support.dates import academic_year_start_for
from support.errors import SupportError
from support.forms import GovukErrorsMixin, PoundsField, form_error_from
from support.models import School
from support.money import pounds
from support.permissions import has_perm
from support.pupil_names import listed_name, pupils_told_apart
from support.scopes import scope_for
from support.selectors import schools_visible_to
from support.visibility import can_see, order_visible
from uniform import printing, selectors
from uniform.filters import GiftFilter
from uniform.models import SECONDHAND, Condition, Gift, ItemKind, UniformItem
from uniform.services import gifts as services
from uniform.services import stock as stock_services
from uniform.transitions import GIFT_FLOW

Status = Gift.Status


def current_year() -> int:
    return academic_year_start_for(timezone.localdate())


def _gift_filter(request: HttpRequest, gifts: QuerySet[Gift] | None = None) -> GiftFilter:
    """The pages' one reading of ``?year=`` and ``?year_group=``: the API's ``GiftFilter``. No year means
    this academic year; the generate form posts its year as ``academic_year``."""
    data = request.GET.copy()
    asked = data.pop("year", [""])[-1]  # the pages' links and year list say ?year=
    data["academic_year"] = asked or request.POST.get("academic_year") or str(current_year())
    if gifts is None:
        gifts = selectors.gifts_visible_to(request.user)
    return GiftFilter(data, queryset=gifts, request=request)


def _checked(filters: GiftFilter) -> GiftFilter:
    """The filter set, or a 400 naming what was wrong (a print or a class page has no filter form)."""
    if not filters.is_valid():
        raise BadRequest(" ".join(str(e) for errors in filters.form.errors.values() for e in errors))
    return filters


def _year(request: HttpRequest) -> int:
    return _checked(_gift_filter(request)).form.cleaned_data["academic_year"]


def _school(request: HttpRequest, pk: int) -> School:
    return get_object_or_404(schools_visible_to(request.user), pk=pk)


def _is_lead(request: HttpRequest, school: School) -> bool:
    scope = scope_for(request.user)
    return scope.is_admin or school.pk in scope.lead_school_ids


def _class_url(school_pk: int, year_group: int, year: int) -> str:
    return f"{reverse('uniform_class', args=[school_pk, year_group])}?year={year}"


# --- Overview and generating -----------------------------------------------------------------


@requires("uniform.view")
def uniform_overview(request: HttpRequest) -> HttpResponse:
    """Per school and class: how many packs wait for sizes, are sized, packed, handed over."""
    filters = _gift_filter(request)
    if filters.is_valid():
        year, gifts = filters.form.cleaned_data["academic_year"], filters.qs
    else:  # the errors above this year's figures
        year = current_year()
        gifts = filters.queryset.filter(academic_year=year)
    counts = (
        gifts.values("school_id", "year_group")
        .annotate(
            total=Count("pk"),
            awaiting=Count("pk", filter=Q(status=Status.AWAITING_SIZES)),
            sized=Count("pk", filter=Q(status=Status.SIZED)),
            packed=Count("pk", filter=Q(status=Status.PACKED)),
            handed_over=Count("pk", filter=Q(status=Status.HANDED_OVER)),
        )
        .order_by("school_id", "year_group")
    )
    by_school: dict[int, list[dict]] = {}
    for row in counts:
        row["label"] = printing.year_label(row["year_group"])
        row["outstanding"] = row["total"] - row["handed_over"]
        row["url"] = _class_url(row["school_id"], row["year_group"], year)
        by_school.setdefault(row["school_id"], []).append(row)
    schools = [
        {"school": school, "classes": by_school.get(school.pk, []), "is_lead": _is_lead(request, school)}
        for school in schools_visible_to(request.user)
    ]
    return render(
        request,
        "uniform/overview.html",
        {
            "year": year,
            "years": [current_year() - 1, current_year(), current_year() + 1],
            "schools": schools,
            "can_generate": has_perm(request.user, "uniform.generate_gifts"),
            "can_stock": has_perm(request.user, "uniform.stock"),
            "can_print": has_perm(request.user, "uniform.print"),
            "can_branded": has_perm(request.user, "uniform.branded"),
            "form": filters.form,
        },
        status=200 if filters.is_valid() else 400,
    )


SMALL_INTAKE = 15  # up to this many pupils in a year group, the check page names them
GENERATED_KEY = "uniform.generated"


def _plan_rows(plan: services.GiftPlan) -> list[dict]:
    return [
        {
            "label": intake.label,
            "count": intake.count,
            "pupils": sorted(intake.pupils, key=lambda p: (p.surname, p.known_as, p.upn))
            if intake.count <= SMALL_INTAKE
            else [],
            "pack_cost": pounds(intake.pack_cost_pence),
            "total": pounds(intake.total_pence),
            "fund": intake.fund,
            "branded_over": intake.branded_over,
        }
        for intake in plan.intakes
    ]


@requires("uniform.generate_gifts")
def uniform_generate(request: HttpRequest, school_pk: int) -> HttpResponse:
    """Generating the intake's packs, in two steps: GET shows what it will do (how many packs, for whom, what
    it commits from which fund) and writes nothing; POST with the figures shown carries it out."""
    school = _school(request, school_pk)
    year = _year(request)
    overview = f"{reverse('uniform_overview')}?year={year}"
    expected = request.POST.get("expected") if request.method == "POST" else None
    if request.method == "POST" and not expected:  # not from the check page: show it first
        return redirect(f"{reverse('uniform_generate', args=[school.pk])}?year={year}")
    error = ""
    try:
        if expected:
            done = services.gifts_generate(
                school=school, academic_year=year, actor=request.user, expected=expected
            )
            request.session[GENERATED_KEY] = {
                "school": school.pk,
                "year": year,
                "count": done.count,
                "total": done.total_pence,
                "funds": [[fund.name, pence] for fund, pence in done.by_fund()],
            }
            return redirect(f"{reverse('uniform_generated', args=[school.pk])}?year={year}")
        plan = services.gifts_generate_preview(school=school, academic_year=year, actor=request.user)
    except SupportError as exc:
        if exc.code != "plan_changed":
            messages.error(request, exc.message)
            return redirect(overview)
        error = exc.message
        plan = services.gifts_generate_preview(school=school, academic_year=year, actor=request.user)
    return render(
        request,
        "uniform/generate_check.html",
        {
            "school": school,
            "year": year,
            "plan": plan,
            "rows": _plan_rows(plan),
            "total": pounds(plan.total_pence),
            "by_fund": [(fund, pounds(pence)) for fund, pence in plan.by_fund()],
            "overview": overview,
            "error": error,
        },
        status=409 if error else 200,
    )


@requires("uniform.generate_gifts")
def uniform_generated(request: HttpRequest, school_pk: int) -> HttpResponse:
    """What generating did, once, after the redirect: packs made, money committed, from which fund."""
    school = _school(request, school_pk)
    year = _year(request)
    done = request.session.get(GENERATED_KEY)
    if not done or done.get("school") != school.pk:
        return redirect(f"{reverse('uniform_overview')}?year={year}")
    del request.session[GENERATED_KEY]
    return render(
        request,
        "uniform/generate_done.html",
        {
            "school": school,
            "year": done["year"],
            "count": done["count"],
            "total": pounds(done["total"]),
            "funds": [(name, pounds(pence)) for name, pence in done["funds"]],
        },
    )


# --- A class: sizes on one page, packing, hand-over ------------------------------------------


def _class_gifts(request: HttpRequest, school: School, year_group: int, year: int) -> list[Gift]:
    gifts = (
        selectors.gifts_visible_to(request.user)
        .filter(school=school, year_group=year_group, academic_year=year)
        .select_related("pupil", "packed_by", "handed_over_by")
        .prefetch_related("lines__item")
        .order_by("pupil__surname", "pupil__legal_forename", "pk")
    )
    return list(order_visible(gifts, request.user))


def _class_items(gifts: list[Gift]) -> tuple[list[dict], list[tuple[UniformItem, int]]]:
    """The class's items that come in sizes (the table's columns: the item, and how many each pupil
    gets when that is the same for all) and the one-size ones with their quantity (said once above the
    table: a column of "One size" tells nobody anything)."""
    sized: dict[int, UniformItem] = {}
    quantities: dict[int, set[int]] = {}
    one_size: dict[int, tuple[UniformItem, int]] = {}
    for gift in gifts:
        for line in gift.lines.all():
            if line.item.sizes:
                sized.setdefault(line.item_id, line.item)
                quantities.setdefault(line.item_id, set()).add(line.quantity)
            else:
                one_size.setdefault(line.item_id, (line.item, line.quantity))
    order = lambda item: (item.name.casefold(), item.pk)  # noqa: E731
    columns = [
        {"item": item, "quantity": next(iter(quantities[item.pk])) if len(quantities[item.pk]) == 1 else None}
        for item in sorted(sized.values(), key=order)
    ]
    return columns, sorted(one_size.values(), key=lambda pair: order(pair[0]))


# The choice in a pupil's row that clears a size recorded by mistake (no item's size is spelt like it).
CLEAR_SIZE = "__clear__"


def _ids(values: list[str]) -> set[int]:
    return {int(value) for value in values if value.isdigit()}


@requires("uniform.view")
def uniform_class(request: HttpRequest, school_pk: int, year_group: int) -> HttpResponse:
    """One class's packs as a table (pupils × items): a size for the whole class at the top, and sizes
    for the pupils who differ, opened one pupil at a time ("Change"); one save records them all."""
    school = _school(request, school_pk)
    year = _year(request)
    can_size = has_perm(request.user, "uniform.record_sizes")
    status = 200
    error = ""
    source = request.POST if request.method == "POST" else request.GET
    changing = _ids(source.getlist("change"))
    defaults: dict[int, str] = {}
    if request.method == "POST":
        if not can_size:
            raise PermissionDenied
        defaults = {
            int(key.removeprefix("default-")): value
            for key, value in request.POST.items()
            if key.startswith("default-") and key.removeprefix("default-").isdigit() and value
        }
        # An empty choice in a pupil's row means "as the class": only a size chosen is an exception,
        # and "No size yet" (``CLEAR_SIZE``) clears the pupil's size.
        exceptions = {
            int(key.removeprefix("size-")): "" if value == CLEAR_SIZE else value
            for key, value in request.POST.items()
            if key.startswith("size-") and key.removeprefix("size-").isdigit() and value
        }
        try:
            changed = services.gift_sizes_apply(
                school=school,
                academic_year=year,
                year_group=year_group,
                defaults=defaults,
                exceptions=exceptions,
                overwrite=request.POST.get("overwrite") == "yes",
                actor=request.user,
            )
        except SupportError as exc:
            error, status = exc.message, exc.status_code
        else:
            if changed:
                messages.success(request, f"Sizes saved for {changed} pupil{'s' if changed != 1 else ''}.")
            else:
                messages.info(request, "No sizes changed: every pupil already had the sizes chosen.")
            return redirect(_class_url(school.pk, year_group, year))
    gifts = _class_gifts(request, school, year_group, year)
    columns, one_size = _class_items(gifts)
    items = [column["item"] for column in columns]
    editable = (Status.AWAITING_SIZES, Status.SIZED)
    shows_names = can_see(request.user, Gift, "pupil_name")  # not finance
    told_apart = pupils_told_apart([gift.pupil for gift in gifts], request.user) if shows_names else {}
    rows = []
    for number, gift in enumerate(gifts, start=1):
        by_item = {line.item_id: line for line in gift.lines.all()}
        is_open = can_size and gift.pk in changing and gift.status in editable
        cells = []
        for column in columns:
            item = column["item"]
            line = by_item.get(item.pk)
            typed = request.POST.get(f"size-{line.pk}", "") if line and request.method == "POST" else ""
            chosen = typed or (line.size if line else "")
            cells.append({"item": item, "quantity": column["quantity"], "line": line, "chosen": chosen})
        rows.append(
            {
                "gift": gift,
                "name": listed_name(gift.pupil) if shows_names else f"Pupil {number}",
                "short_name": gift.pupil.known_as if shows_names else f"pupil {number}",
                "hint": told_apart.get(gift.pupil_id, ""),
                "cells": cells,
                "is_open": is_open,
                "change_url": _class_url(school.pk, year_group, year)
                + "".join(f"&change={pk}" for pk in sorted(changing | {gift.pk}))
                + f"#gift-{gift.pk}",
            }
        )
    summary = {label: sum(1 for g in gifts if g.status == value) for value, label in Status.choices}
    return render(
        request,
        "uniform/class.html",
        {
            "school": school,
            "year": year,
            "year_group": year_group,
            "label": printing.year_label(year_group),
            "gifts": gifts,
            "rows": rows,
            "items": items,
            "columns": columns,
            "one_size": one_size,
            "defaults": [{"item": item, "chosen": defaults.get(item.pk, "")} for item in items],
            "overwrite": request.POST.get("overwrite") == "yes",
            "changing": sorted(
                pk for pk in changing if any(r["is_open"] and r["gift"].pk == pk for r in rows)
            ),
            "editable": editable,
            "summary": summary,
            "can_size": can_size and any(gift.status in editable for gift in gifts),
            "can_hand_over": has_perm(request.user, "uniform.hand_over"),
            # Second-hand is offered only where the class's pack does not promise new.
            "secondhand_ok": selectors.welcome_packs_visible_to(request.user)
            .filter(school=school, year_group=year_group, promise_new=False)
            .exists(),
            # Which statuses show the pack and hand-over buttons: the gift's transitions table says.
            "pack_from": GIFT_FLOW["pack"].sources,
            "hand_over_from": GIFT_FLOW["hand-over"].sources,
            "secondhand_from": (Status.SIZED, Status.PACKED),
            "can_print": has_perm(request.user, "uniform.print"),
            "shows_names": shows_names,
            "error": error,
            "clear_size": CLEAR_SIZE,
        },
        status=status,
    )


def _gift_action(request: HttpRequest, pk: int, service, done: str) -> HttpResponse:
    gift = get_object_or_404(selectors.gifts_visible_to(request.user).select_related("pupil"), pk=pk)
    try:
        service(gift=gift, actor=request.user)
    except SupportError as exc:
        messages.error(request, f"{gift.pupil}: {exc.message}")
    else:
        messages.success(request, f"{gift.pupil}'s pack {done}.")
    return redirect(_class_url(gift.school_id, gift.year_group, gift.academic_year) + f"#gift-{gift.pk}")


@require_POST
@requires("uniform.hand_over")
def gift_pack_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _gift_action(request, pk, services.gift_pack, "is marked packed")


@require_POST
@requires("uniform.hand_over")
def gift_hand_over_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _gift_action(request, pk, services.gift_hand_over, "was handed over")


# --- Items and welcome packs -----------------------------------------------------------------


class ItemForm(GovukErrorsMixin, forms.Form):
    name = forms.CharField(
        max_length=80, widget=forms.TextInput(attrs={"class": "govuk-input govuk-!-width-one-half"})
    )
    kind = forms.ChoiceField(
        label="What it is",
        choices=ItemKind.choices,
        initial=ItemKind.UNIFORM,
        required=False,
        help_text="Coats and shoes are what staff request for pupils in need; uniform can also go in a "
        "welcome pack.",
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    sizes = forms.CharField(
        required=False,
        max_length=500,
        help_text="In order, separated by commas, for example: 3-4, 5-6, 7-8, S, M, L for clothes (by age, "
        "then adult sizes), or Child 12, Child 13, Adult 1 for shoes. Leave empty for one size.",
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )
    unit_cost = PoundsField(label="Unit cost in pounds", minimum=0, width=5)
    supplier = forms.CharField(
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-!-width-one-half"}),
    )
    track_stock = forms.BooleanField(
        label="Track stock (refuse hand-overs that would take it below zero)",
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"}),
    )
    is_active = forms.BooleanField(
        label="Still given",
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"}),
    )
    branded = forms.BooleanField(
        label="Branded (the school's logo, or sold only through the school)",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"}),
    )
    required = forms.BooleanField(
        label="Required (pupils must have it)",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"}),
    )
    is_tie = forms.BooleanField(
        label="It is a tie",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"}),
    )

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or ItemKind.UNIFORM

    def size_list(self) -> list[str]:
        return [size.strip() for size in self.cleaned_data["sizes"].split(",") if size.strip()]


@requires("uniform.view")
def uniform_items(request: HttpRequest, school_pk: int) -> HttpResponse:
    school = _school(request, school_pk)
    items = list(
        selectors.uniform_items_visible_to(request.user).filter(school=school).order_by("kind", "name")
    )
    packs = (
        selectors.welcome_packs_visible_to(request.user).filter(school=school).prefetch_related("items__item")
    )
    by_year = {pack.year_group: pack for pack in packs}
    return render(
        request,
        "uniform/items.html",
        {
            "school": school,
            "items": items,
            "packs": [
                {"year_group": year, "label": label, "pack": by_year.get(year)}
                for year, label in services.INTAKE_YEARS.items()
            ],
            "can_manage": has_perm(request.user, "uniform.manage_items") and _is_lead(request, school),
        },
    )


@requires("uniform.manage_items")
def uniform_item_edit(request: HttpRequest, school_pk: int, pk: int | None = None) -> HttpResponse:
    school = _school(request, school_pk)
    item = None
    if pk is not None:
        item = get_object_or_404(
            selectors.uniform_items_visible_to(request.user).filter(school=school), pk=pk
        )
    initial = (
        {
            "name": item.name,
            "kind": item.kind,
            "sizes": ", ".join(item.sizes),
            "unit_cost": pounds(item.unit_cost_pence, symbol=False),
            "supplier": item.supplier,
            "track_stock": item.track_stock,
            "is_active": item.is_active,
            "branded": item.branded,
            "required": item.required,
            "is_tie": item.is_tie,
        }
        if item
        else None
    )
    form = ItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.uniform_item_save(
                school=school,
                actor=request.user,
                item=item,
                name=data["name"],
                kind=data["kind"],
                sizes=form.size_list(),
                unit_cost_pence=data["unit_cost"],
                supplier=data["supplier"],
                track_stock=data["track_stock"],
                is_active=data["is_active"],
                branded=data["branded"],
                required=data["required"],
                is_tie=data["is_tie"],
            )
        except SupportError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"{saved.name} saved.")
            return redirect("uniform_items", school_pk=school.pk)
    return render(
        request,
        "uniform/item_form.html",
        {"school": school, "item": item, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@requires("uniform.manage_items")
def welcome_pack_edit(request: HttpRequest, school_pk: int, year_group: int) -> HttpResponse:
    school = _school(request, school_pk)
    if year_group not in services.INTAKE_YEARS:
        raise Http404
    items = list(
        selectors.uniform_items_visible_to(request.user).filter(
            school=school, kind=ItemKind.UNIFORM, is_active=True
        )
    )
    pack = (
        selectors.welcome_packs_visible_to(request.user).filter(school=school, year_group=year_group).first()
    )
    current = dict(pack.items.values_list("item_id", "quantity")) if pack else {}
    error = ""
    if request.method == "POST":
        contents: dict[int, int] = {}
        for item in items:
            raw = request.POST.get(f"qty-{item.pk}", "0").strip() or "0"
            if not raw.isdigit():
                error = f"Give a whole number of {item.name}."
                break
            contents[item.pk] = int(raw)
        if not error:
            try:
                services.welcome_pack_set(
                    school=school,
                    year_group=year_group,
                    contents=contents,
                    actor=request.user,
                    promise_new=request.POST.get("promise_new") == "yes",
                )
            except SupportError as exc:
                error = exc.message
            else:
                messages.success(request, f"{printing.year_label(year_group)} welcome pack saved.")
                return redirect("uniform_items", school_pk=school.pk)
        current = {item.pk: request.POST.get(f"qty-{item.pk}", "") for item in items}
    rows = [{"item": item, "quantity": current.get(item.pk, 0)} for item in items]
    return render(
        request,
        "uniform/pack_form.html",
        {
            "school": school,
            "label": printing.year_label(year_group),
            "rows": rows,
            "error": error,
            "promise_new": request.POST.get("promise_new") == "yes"
            if request.method == "POST"
            else (pack.promise_new if pack else True),
        },
        status=400 if error else 200,
    )


# --- Stock -----------------------------------------------------------------------------------


class StockForm(GovukErrorsMixin, forms.Form):
    item_size = forms.ChoiceField(label="Item and size", widget=forms.Select(attrs={"class": "govuk-select"}))
    change = forms.IntegerField(
        label="How many",
        min_value=-10_000,
        max_value=10_000,
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-4", "inputmode": "numeric"}),
    )
    note = forms.CharField(
        required=False, max_length=300, widget=forms.TextInput(attrs={"class": "govuk-input"})
    )

    condition = forms.ChoiceField(
        label="Condition",
        choices=Condition.choices,
        initial=Condition.NEW,
        required=False,
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )

    def __init__(self, *args, items: list[UniformItem], adjust: bool, **kwargs) -> None:
        super().__init__(*args, prefix="adjust" if adjust else "receive", **kwargs)
        self.items = {item.pk: item for item in items}
        self.fields["item_size"].choices = self.choices_for(items)
        if adjust:
            self.fields["change"].label = "Change (negative to take away)"
            self.fields["note"].label = "Why (a count, a loss, a return)"
            self.fields["note"].required = True
        else:
            self.fields["change"].label = "How many were delivered"
            self.fields["change"].min_value = 1
            self.fields["note"].label = "Delivery note or order number (optional)"
            del self.fields["condition"]

    def clean_condition(self) -> str:
        return self.cleaned_data.get("condition") or Condition.NEW

    @staticmethod
    def choices_for(items: list[UniformItem]) -> list[tuple[str, str]]:
        pairs = [(item, size) for item in items for size in (item.sizes or [""])]
        return [(f"{item.pk}|{size}", f"{item.name} {size}".strip()) for item, size in pairs]

    def item_and_size(self) -> tuple[UniformItem, str]:
        item_pk, _, size = self.cleaned_data["item_size"].partition("|")
        return self.items[int(item_pk)], size


class DonationForm(GovukErrorsMixin, forms.Form):
    """Donated second-hand uniform taken into stock: item and size, condition, how many."""

    item_size = forms.ChoiceField(label="Item and size", widget=forms.Select(attrs={"class": "govuk-select"}))
    condition = forms.ChoiceField(
        label="Condition",
        choices=[(value, Condition(value).label) for value in SECONDHAND],
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    quantity = forms.IntegerField(
        label="How many were donated",
        min_value=1,
        max_value=1000,
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-4", "inputmode": "numeric"}),
    )
    note = forms.CharField(
        label="Where they came from (optional)",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )

    def __init__(self, *args, items: list[UniformItem], **kwargs) -> None:
        super().__init__(*args, prefix="donate", **kwargs)
        self.items = {item.pk: item for item in items}
        self.fields["item_size"].choices = StockForm.choices_for(items)

    item_and_size = StockForm.item_and_size


@requires("uniform.stock")
def uniform_stock(request: HttpRequest, school_pk: int) -> HttpResponse:
    """A school's stock, new and second-hand: deliveries, donations taken in, adjustments, movements."""
    school = _school(request, school_pk)
    active = list(selectors.uniform_items_visible_to(request.user).filter(school=school, is_active=True))
    items = [item for item in active if item.track_stock]
    action = request.POST.get("action") if request.method == "POST" else None
    adjusting, donating = action == "adjust", action == "donate"
    receive_form = StockForm(request.POST if action == "receive" else None, items=items, adjust=False)
    adjust_form = StockForm(request.POST if adjusting else None, items=active, adjust=True)
    donate_form = DonationForm(request.POST if donating else None, items=active)
    form = adjust_form if adjusting else donate_form if donating else receive_form
    if request.method == "POST" and form.is_valid():
        item, size = form.item_and_size()
        data = form.cleaned_data
        try:
            if adjusting:
                stock_services.stock_adjust(
                    item=item,
                    size=size,
                    change=data["change"],
                    actor=request.user,
                    note=data["note"],
                    condition=data["condition"],
                )
            elif donating:
                stock_services.stock_donation_receive(
                    item=item,
                    size=size,
                    quantity=data["quantity"],
                    condition=data["condition"],
                    actor=request.user,
                    note=data["note"],
                )
            else:
                stock_services.stock_receive(
                    item=item, size=size, quantity=data["change"], actor=request.user, note=data["note"]
                )
        except SupportError as exc:
            form_error_from(form, exc, fields={} if donating else {"quantity": "change"})
        else:
            what = "Donated second-hand " if donating else "Stock of "
            messages.success(request, f"{what}{item.name} {size} recorded.".replace("  ", " "))
            return redirect("uniform_stock", school_pk=school.pk)
    new: dict[tuple[int, str], int] = {}
    used: dict[tuple[int, str], int] = {}
    for level in selectors.stock_levels_visible_to(request.user).filter(item__school=school):
        into = new if level.condition == Condition.NEW else used
        into[level.item_id, level.size] = into.get((level.item_id, level.size), 0) + level.quantity
    rows = [
        {
            "item": item,
            "size": size,
            "quantity": new.get((item.pk, size), 0) if item.track_stock else None,
            "secondhand": used.get((item.pk, size), 0),
        }
        for item in active
        for size in (item.sizes or [""])
        if item.track_stock or used.get((item.pk, size))
    ]
    movements = (
        selectors.stock_movements_visible_to(request.user)
        .filter(item__school=school)
        .select_related("item", "by")[:30]
    )
    return render(
        request,
        "uniform/stock.html",
        {
            "school": school,
            "rows": rows,
            "movements": movements,
            "receive_form": receive_form,
            "adjust_form": adjust_form,
            "donate_form": donate_form,
            "can_receive": bool(items),
            "can_donate": bool(active),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Printing --------------------------------------------------------------------------------


def _print_gifts(request: HttpRequest, school: School) -> tuple[int, QuerySet[Gift]]:
    """The year printed, and its packs at ``school`` (one class when ``?year_group=`` names one)."""
    filters = _checked(_gift_filter(request, selectors.gifts_visible_to(request.user).filter(school=school)))
    return filters.form.cleaned_data["academic_year"], filters.qs


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@requires("uniform.print")
def uniform_packing_list(request: HttpRequest, school_pk: int) -> HttpResponse:
    """The sized packs still to pick (not packed yet), with a 'received by' line each, and the pupils
    whose sizes are still needed."""
    school = _school(request, school_pk)
    year, gifts = _print_gifts(request, school)
    gifts = gifts.filter(status__in=[Status.AWAITING_SIZES, Status.SIZED])
    audit_record(
        actor=request.user, action="gifts.packing_list_printed", subject=school, after={"year": year}
    )
    return _pdf_response(
        printing.render_packing_list_pdf(school=school, gifts=gifts, academic_year=year), "packing-list.pdf"
    )


@requires("uniform.print")
def uniform_gift_slips(request: HttpRequest, school_pk: int) -> HttpResponse:
    school = _school(request, school_pk)
    year, gifts = _print_gifts(request, school)
    gifts = gifts.exclude(status=Status.HANDED_OVER)
    if not gifts.exists():
        messages.error(request, "There are no packs to print slips for.")
        return redirect(f"{reverse('uniform_overview')}?year={year}")
    audit_record(actor=request.user, action="gifts.slips_printed", subject=school, after={"year": year})
    return _pdf_response(printing.render_gift_slips_pdf(gifts=gifts), "gift-slips.pdf")


@requires("uniform.print")
def uniform_order_summary(request: HttpRequest, school_pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "pdf"):
        raise Http404
    school = _school(request, school_pk)
    year, gifts = _print_gifts(request, school)
    rows = printing.order_summary(school=school, gifts=gifts)
    if fmt == "csv":
        response = HttpResponse(printing.order_summary_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="uniform-order-{school.urn}-{year}.csv"'
        return response
    return _pdf_response(
        printing.render_order_summary_pdf(school=school, rows=rows, academic_year=year), "uniform-order.pdf"
    )


urlpatterns = [
    path("uniform/", uniform_overview, name="uniform_overview"),
    path("uniform/schools/<int:school_pk>/generate/", uniform_generate, name="uniform_generate"),
    path("uniform/schools/<int:school_pk>/generated/", uniform_generated, name="uniform_generated"),
    path("uniform/schools/<int:school_pk>/year/<int:year_group>/", uniform_class, name="uniform_class"),
    path("uniform/gifts/<int:pk>/pack/", gift_pack_page, name="gift_pack"),
    path("uniform/gifts/<int:pk>/hand-over/", gift_hand_over_page, name="gift_hand_over"),
    path("uniform/schools/<int:school_pk>/items/", uniform_items, name="uniform_items"),
    path("uniform/schools/<int:school_pk>/items/new/", uniform_item_edit, name="uniform_item_add"),
    path("uniform/schools/<int:school_pk>/items/<int:pk>/", uniform_item_edit, name="uniform_item_edit"),
    path(
        "uniform/schools/<int:school_pk>/packs/<int:year_group>/", welcome_pack_edit, name="welcome_pack_edit"
    ),
    path("uniform/schools/<int:school_pk>/stock/", uniform_stock, name="uniform_stock"),
    path(
        "uniform/schools/<int:school_pk>/packing-list.pdf", uniform_packing_list, name="uniform_packing_list"
    ),
    path("uniform/schools/<int:school_pk>/gift-slips.pdf", uniform_gift_slips, name="uniform_gift_slips"),
    path(
        "uniform/schools/<int:school_pk>/order.<str:fmt>",
        uniform_order_summary,
        name="uniform_order_summary",
    ),
]
