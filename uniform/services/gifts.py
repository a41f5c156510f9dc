"""Welcome uniform use cases: items and packs, generating the intake's gifts, sizes, packing, hand-over
(stock for the hand-over is taken under the same locks; receiving and adjusting stock is ``stock``).

Every state change is a conditional update (``filter(status=...).update(...)``, 0 rows means someone
else got there first) or happens under row locks taken in primary-key order; every change is audited.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch
from django.utils import timezone

from funds.models import Fund
from funds.services.ledger import (
    SpendItem,
    fund_commitment_release,
    fund_spend_actual,
    fund_spend_commit_many,
)
from support.audit import audit_event, audit_record, audit_record_many
from support.dates import academic_year_start_for
from support.errors import ConflictError, SupportError
from support.models import Pupil, School
from support.scopes import require_school
from support.selectors import on_roll_at
from uniform.branded import BrandedCount, branded_count
from uniform.models import (
    SECONDHAND,
    Condition,
    Gift,
    GiftLine,
    ItemKind,
    StockLevel,
    StockMovement,
    UniformItem,
    WelcomePack,
    WelcomePackItem,
)
from uniform.sizes import check_item_size, normalise_sizes
from uniform.transitions import GIFT_FLOW

Status = Gift.Status
INTAKE_YEARS = {0: "Reception", 7: "Year 7"}
BATCH_SIZE = 1000


# --- Items and welcome packs -----------------------------------------------------------------

ITEM_FIELDS = [
    "name", "kind", "sizes", "unit_cost_pence", "supplier", "track_stock", "is_active", "branded", "required",
    "is_tie",
]  # fmt: skip


@transaction.atomic
def uniform_item_save(
    *,
    school: School,
    actor: AbstractBaseUser,
    name: str,
    sizes: list[str],
    unit_cost_pence: int,
    supplier: str = "",
    track_stock: bool = True,
    is_active: bool = True,
    item: UniformItem | None = None,
    kind: str = ItemKind.UNIFORM,
    branded: bool | None = None,
    required: bool | None = None,
    is_tie: bool | None = None,
) -> UniformItem:
    """Add an item (uniform, a coat, shoes) to ``school`` or change one (``item``). A pastoral lead at the
    school only. Sizes are kept in their one spelling (``uniform.sizes``); requests are priced from
    ``unit_cost_pence``. ``branded``, ``required`` and ``is_tie`` (None: as they are) count toward the legal
    limit on required branded items (``uniform.branded``)."""
    require_school(actor, school, lead=True)
    if kind not in ItemKind.values:
        raise SupportError("Choose uniform, a coat or shoes.", field="kind")
    if item is not None and item.school_id != school.pk:
        raise SupportError("This item belongs to another school.")
    name = name.strip()
    if not name:
        raise SupportError("Give the item a name.", field="name")
    if len(name) > 80:
        raise SupportError("Keep the name to 80 characters or fewer.", field="name")
    if unit_cost_pence < 0:
        raise SupportError("The unit cost cannot be negative.", field="unit_cost_pence")
    if len(supplier.strip()) > 120:
        raise SupportError("Keep the supplier to 120 characters or fewer.", field="supplier")
    sizes = normalise_sizes(sizes)
    taken = UniformItem.objects.filter(school=school, name__iexact=name)
    if item is not None:
        taken = taken.exclude(pk=item.pk)
    if taken.exists():
        raise SupportError(f"{school.name} already has an item called {name}.", field="name")
    if item is not None and kind != item.kind and WelcomePackItem.objects.filter(item=item).exists():
        raise SupportError(f"{item.name} is in a welcome pack, so it stays uniform.", field="kind")

    values = {
        "name": name,
        "kind": kind,
        "sizes": sizes,
        "unit_cost_pence": unit_cost_pence,
        "supplier": supplier.strip(),
        "track_stock": track_stock,
        "is_active": is_active,
    }
    for field, flag in (("branded", branded), ("required", required), ("is_tie", is_tie)):
        values[field] = bool(flag) if flag is not None else bool(item and getattr(item, field))
    if item is None:
        item = UniformItem.objects.create(school=school, **values)
        audit_record(actor=actor, action="uniform_item.created", subject=item, after=values)
        return item
    before = {field: getattr(item, field) for field in ITEM_FIELDS}
    for field, value in values.items():
        setattr(item, field, value)
    item.save(update_fields=ITEM_FIELDS)
    old, new = (
        {k: v for k, v in before.items() if v != values[k]},
        {k: v for k, v in values.items() if v != before[k]},
    )
    if new:
        audit_record(actor=actor, action="uniform_item.updated", subject=item, before=old, after=new)
    return item


@transaction.atomic
def welcome_pack_set(
    *,
    school: School,
    year_group: int,
    contents: Mapping[int, int],
    actor: AbstractBaseUser,
    promise_new: bool | None = None,
) -> WelcomePack:
    """Set what the ``year_group`` (0 = Reception, 7) pack of ``school`` holds: item id → how many (0 = none),
    and whether the trust promises it new (``promise_new``; None leaves it as it is): a pack promised new
    is never given second-hand stock.

    Gifts already generated keep the contents they were made with.
    """
    require_school(actor, school, lead=True)
    if year_group not in INTAKE_YEARS:
        raise SupportError("Welcome packs are for Reception or Year 7.", field="year_group")
    wanted = {int(item_id): int(qty) for item_id, qty in contents.items() if int(qty) != 0}
    if any(qty < 0 or qty > 20 for qty in wanted.values()):
        raise SupportError("Give between 0 and 20 of each item.", field="contents")
    items = UniformItem.objects.filter(school=school, pk__in=wanted, kind=ItemKind.UNIFORM)
    if items.count() != len(wanted):
        raise SupportError("Choose items of this school only.", field="contents")
    pack, _ = WelcomePack.objects.get_or_create(school=school, year_group=year_group)
    if promise_new is not None and promise_new != pack.promise_new:
        WelcomePack.objects.filter(pk=pack.pk).update(promise_new=promise_new)
        audit_record(
            actor=actor,
            action="welcome_pack.promise_new_changed",
            subject=pack,
            before={"promise_new": pack.promise_new},
            after={"promise_new": promise_new},
        )
        pack.promise_new = promise_new
    before = dict(WelcomePackItem.objects.filter(pack=pack).values_list("item_id", "quantity"))
    if before == wanted:
        return pack
    WelcomePackItem.objects.filter(pack=pack).exclude(item_id__in=wanted).delete()
    for item_id, qty in wanted.items():
        WelcomePackItem.objects.update_or_create(pack=pack, item_id=item_id, defaults={"quantity": qty})
    audit_record(
        actor=actor,
        action="welcome_pack.updated",
        subject=pack,
        before={str(k): v for k, v in before.items()},
        after={str(k): v for k, v in wanted.items()},
    )
    return pack


# --- Generating the intake's gifts -----------------------------------------------------------


def _check_academic_year(academic_year: int) -> None:
    current = academic_year_start_for(timezone.localdate())
    if not current - 1 <= academic_year <= current + 1:
        raise SupportError(
            f"Choose the academic year starting in {current - 1}, {current} or {current + 1}.",
            field="academic_year",
        )


@dataclass(frozen=True)
class IntakePlan:
    """One intake (Reception or Year 7) of a generation: who gets a pack, what one costs, who pays."""

    year_group: int
    label: str
    pupils: tuple[Pupil, ...]
    pack_cost_pence: int
    fund: Fund | None  # None when no fund pays for this intake's packs
    lines: tuple[tuple[int, int], ...] = ()  # (item id, quantity) in each pack
    # The pack's required branded items, named, when the school requires more than the law allows.
    branded_over: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.pupils)

    @property
    def total_pence(self) -> int:
        return self.pack_cost_pence * self.count if self.fund is not None else 0


@dataclass(frozen=True)
class GiftPlan:
    """What ``gifts_generate`` will do (or did): the packs per intake and what they commit from which fund.

    ``gifts_generate_preview`` returns one without writing; ``gifts_generate`` builds the same one under its
    lock and returns it, so the check page and the commit are worked out by one function.
    """

    school: School
    academic_year: int
    intakes: tuple[IntakePlan, ...]
    branded: BrandedCount | None = None

    @property
    def branded_flagged(self) -> bool:
        """A pack would give a required branded item while the school requires more than the legal limit."""
        return any(intake.branded_over and intake.count for intake in self.intakes)

    @property
    def count(self) -> int:
        return sum(intake.count for intake in self.intakes)

    @property
    def total_pence(self) -> int:
        return sum(intake.total_pence for intake in self.intakes)

    def by_fund(self) -> list[tuple[Fund, int]]:
        """(fund, pence committed from it), for each fund that pays for at least one pack."""
        totals: dict[int, list] = {}
        for intake in self.intakes:
            if intake.fund is not None and intake.count:
                totals.setdefault(intake.fund.pk, [intake.fund, 0])[1] += intake.total_pence
        return [(fund, pence) for fund, pence in totals.values()]

    @property
    def signature(self) -> str:
        """Who and how much, in one string: the confirm step sends back the one it was shown."""
        return f"{self.count}:{self.total_pence}"


def _gift_plan(school: School, academic_year: int, *, branded: bool = False) -> GiftPlan:
    """The plan; with ``branded``, the school's required branded items are counted too (the check page's
    flag: generating itself does not need the query)."""
    pack_rows = list(
        WelcomePack.objects.filter(school=school)
        .select_related("fund")
        .prefetch_related(Prefetch("items", queryset=WelcomePackItem.objects.select_related("item")))
    )
    packs = {pack.year_group: pack for pack in pack_rows if pack.items.all()}
    if not packs:
        raise SupportError(
            f"{school.name} has no welcome pack with items yet: set up the pack first.", code="no_pack"
        )
    pupils = list(
        # Pupils whose main school this is and who are still on its roll.
        Pupil.objects.filter(on_roll_at(school.pk), school=school, year_group__in=packs)
        .exclude(gifts__academic_year=academic_year)
        .only("pk", "legal_forename", "preferred_forename", "surname", "year_group", "upn")
        .order_by("pk")
    )
    count = branded_count(school) if branded else None
    intakes = []
    for year_group in sorted(packs):
        pack = packs[year_group]
        required_branded = tuple(
            line.item.name
            for line in pack.items.all()
            if line.item.branded and line.item.required and line.item.is_active
        )
        intakes.append(
            IntakePlan(
                year_group=year_group,
                label=INTAKE_YEARS.get(year_group, str(year_group)),
                pupils=tuple(pupil for pupil in pupils if pupil.year_group == year_group),
                # What one pack costs, priced as the fund is charged for it.
                pack_cost_pence=sum(line.item.unit_cost_pence * line.quantity for line in pack.items.all()),
                fund=pack.fund,
                lines=tuple((line.item_id, line.quantity) for line in pack.items.all()),
                branded_over=required_branded if count and count.over else (),
            )
        )
    return GiftPlan(school=school, academic_year=academic_year, intakes=tuple(intakes), branded=count)


def gifts_generate_preview(*, school: School, academic_year: int, actor: AbstractBaseUser) -> GiftPlan:
    """What ``gifts_generate`` would do now, writing nothing: the same checks and the same pricing."""
    require_school(actor, school, lead=True)
    _check_academic_year(academic_year)
    return _gift_plan(school, academic_year, branded=True)


@transaction.atomic
def gifts_generate(
    *, school: School, academic_year: int, actor: AbstractBaseUser, expected: str | None = None
) -> GiftPlan:
    """Make one gift (with its pack's lines) for every Reception or Year 7 pupil at ``school`` who has none
    for ``academic_year``, and commit their cost from each pack's fund. Returns the plan it carried out
    (``.count`` packs made; running it again makes only the newcomers').

    ``expected`` is the ``signature`` of the preview the user confirmed: if the pupils or the cost changed
    since, nothing is made and a ``ConflictError`` asks them to check again.

    A bounded number of queries: the pupils without a gift are found in one query, and gifts, lines and
    audit events are bulk-created in batches. The database's unique (pupil, academic year) constraint is
    the last word: a pupil given a pack elsewhere in the meantime makes this refuse, changing nothing.
    """
    require_school(actor, school, lead=True)
    _check_academic_year(academic_year)
    # Two leads generating at once for one school take turns here, so the pre-filter below holds.
    School.objects.select_for_update().filter(pk=school.pk).first()
    plan = _gift_plan(school, academic_year)
    if expected is not None and expected != plan.signature:
        raise ConflictError(
            "The pupils or the packs' cost changed since you checked. Check the new figures before "
            "generating.",
            code="plan_changed",
        )
    packs = {intake.year_group: list(intake.lines) for intake in plan.intakes}
    pupils = [pupil for intake in plan.intakes for pupil in intake.pupils]
    pupils.sort(key=lambda pupil: pupil.pk)
    made: list[Gift] = []
    try:
        with transaction.atomic():
            for start in range(0, len(pupils), BATCH_SIZE):
                made += _generate_batch(
                    pupils[start : start + BATCH_SIZE], school, academic_year, packs, actor
                )
    except IntegrityError:
        raise ConflictError(
            "Some of these pupils were given a welcome pack at the same moment. Try again.", code="conflict"
        ) from None
    # Generating the packs is the decision to give them: their cost is committed now, all or nothing
    # (a fund that cannot afford the intake refuses it, and no gift is made).
    paid_by = {intake.year_group: intake for intake in plan.intakes if intake.fund is not None}
    for fund, _total in plan.by_fund():
        fund_spend_commit_many(
            fund=fund,
            items=[
                SpendItem(
                    source=gift,
                    amount_pence=paid_by[gift.year_group].pack_cost_pence,
                    category="welcome_uniform",
                    school=school,
                )
                for gift in made
                if gift.year_group in paid_by and paid_by[gift.year_group].fund.pk == fund.pk
            ],
            actor=actor,
        )
    if made:
        audit_record(
            actor=actor,
            action="gifts.generated",
            subject=school,
            after={"academic_year": academic_year, "count": len(made), "committed_pence": plan.total_pence},
        )
    return plan


def _generate_batch(
    pupils: list[Pupil],
    school: School,
    academic_year: int,
    packs: dict[int, list[tuple[int, int]]],
    actor: AbstractBaseUser,
) -> list[Gift]:
    gifts = [
        Gift(pupil=pupil, school=school, academic_year=academic_year, year_group=pupil.year_group)
        for pupil in pupils
    ]
    Gift.objects.bulk_create(gifts)
    if any(gift.pk is None for gift in gifts):  # pragma: no cover - a database without RETURNING
        ids = dict(
            Gift.objects.filter(pupil__in=pupils, academic_year=academic_year).values_list("pupil_id", "pk")
        )
        for gift in gifts:
            gift.pk = ids[gift.pupil_id]
    GiftLine.objects.bulk_create(
        [
            GiftLine(gift=gift, item_id=item_id, quantity=quantity)
            for gift in gifts
            for item_id, quantity in packs[gift.year_group]
        ]
    )
    audit_record_many(
        [
            audit_event(
                actor=actor,
                action="gift.created",
                subject=gift,
                after={"pupil": gift.pupil_id, "academic_year": academic_year, "year_group": gift.year_group},
            )
            for gift in gifts
        ]
    )
    return gifts


# --- Sizes, packing, hand-over ---------------------------------------------------------------


def _lines_complete(lines: Iterable[GiftLine]) -> bool:
    return all(line.size or not line.item.sizes for line in lines)


@transaction.atomic
def gift_sizes_record(*, school: School, sizes: Mapping[int, str], actor: AbstractBaseUser) -> int:
    """Record sizes for many gift lines of ``school`` at once: gift line id → size ('' clears it).

    A gift moves to "sizes recorded" when every line that comes in sizes has one (and back when one is
    cleared). Packed or handed-over gifts keep their sizes. Returns how many gifts changed. The queries
    do not grow with the number of gifts: lock, read, one bulk update, two conditional updates, audit.
    """
    require_school(actor, school.pk)
    wanted = {int(line_id): (size or "").strip() for line_id, size in sizes.items()}
    if not wanted:
        return 0
    gift_ids = GiftLine.objects.filter(pk__in=wanted, gift__school=school).values("gift_id")
    gifts, lines = _lock_gifts_and_lines(Gift.objects.filter(pk__in=gift_ids))
    if len({line.pk for line in lines} & wanted.keys()) != len(wanted):
        raise SupportError("Some of these lines are not on this school's gifts.", field="sizes")
    return _record_sizes(gifts=gifts, lines=lines, wanted=wanted, actor=actor)


@transaction.atomic
def gift_sizes_apply(
    *,
    school: School,
    academic_year: int,
    year_group: int,
    defaults: Mapping[int, str],
    exceptions: Mapping[int, str] | None = None,
    overwrite: bool = False,
    actor: AbstractBaseUser,
) -> int:
    """Sizes for one class's packs in one go: a default size per item (item id → size), then the
    exceptions (gift line id → size, '' clears), which win over the default.

    A default fills only lines with no size yet, unless ``overwrite``; it never touches a packed or
    handed-over pack (an exception for one is refused, as in ``gift_sizes_record``). The class's gifts
    are locked before their sizes are read, so a size someone saved a moment ago is not overwritten by
    a default. Returns how many gifts changed; audited per gift as ``gift.sized``.
    """
    require_school(actor, school.pk)
    exceptions = {int(line_id): (size or "").strip() for line_id, size in (exceptions or {}).items()}
    defaults = {
        int(item_id): (size or "").strip() for item_id, size in defaults.items() if (size or "").strip()
    }
    if not defaults and not exceptions:
        return 0
    gifts, lines = _lock_gifts_and_lines(
        Gift.objects.filter(school=school, academic_year=academic_year, year_group=year_group)
    )
    if not exceptions.keys() <= {line.pk for line in lines}:
        raise SupportError("Some of these lines are not on this class's packs.", field="sizes")
    items = {line.item_id: line.item for line in lines}
    if not defaults.keys() <= items.keys():
        raise SupportError("Some of these items are not in this class's packs.", field="defaults")
    # A default the item does not come in is refused even where no line would take it.
    checked = {item_id: check_item_size(items[item_id], size) for item_id, size in defaults.items()}
    open_statuses = (Status.AWAITING_SIZES, Status.SIZED)
    wanted = {
        line.pk: checked[line.item_id]
        for line in lines
        if line.item_id in checked
        and (overwrite or not line.size)
        and gifts[line.gift_id].status in open_statuses
    }
    wanted.update(exceptions)
    return _record_sizes(gifts=gifts, lines=lines, wanted=wanted, actor=actor)


def _lock_gifts_and_lines(gift_qs) -> tuple[dict[int, Gift], list[GiftLine]]:
    gifts = {
        gift.pk: gift
        for gift in gift_qs.select_for_update(of=("self",)).select_related("pupil").order_by("pk")
    }
    lines = list(GiftLine.objects.filter(gift_id__in=gifts).select_related("item").order_by("pk"))
    return gifts, lines


def _record_sizes(
    *, gifts: dict[int, Gift], lines: list[GiftLine], wanted: Mapping[int, str], actor: AbstractBaseUser
) -> int:
    """Set ``wanted`` (line id → size) on the locked ``gifts``' ``lines``; move statuses; audit."""
    by_gift: dict[int, list[GiftLine]] = defaultdict(list)
    changed_lines: list[GiftLine] = []
    before: dict[int, dict[str, str]] = defaultdict(dict)
    after: dict[int, dict[str, str]] = defaultdict(dict)
    for line in lines:
        by_gift[line.gift_id].append(line)
        if line.pk not in wanted or wanted[line.pk] == line.size:
            continue
        gift = gifts[line.gift_id]
        if gift.status in (Status.PACKED, Status.HANDED_OVER):
            raise ConflictError(
                f"{gift.pupil} already has a pack that is {gift.get_status_display().lower()}: "
                "its sizes cannot change.",
                code="packed",
            )
        size = check_item_size(line.item, wanted[line.pk])
        if size == line.size:  # "Age 5-6" typed for a stored "5-6"
            continue
        before[gift.pk][line.item.name] = line.size
        after[gift.pk][line.item.name] = size
        line.size = size
        changed_lines.append(line)
    if not changed_lines:
        return 0
    GiftLine.objects.bulk_update(changed_lines, ["size"], batch_size=BATCH_SIZE)
    touched = set(after)
    complete = {pk for pk in touched if _lines_complete(by_gift[pk])}
    sized, unsized = GIFT_FLOW["sized"], GIFT_FLOW["unsized"]
    Gift.objects.filter(pk__in=complete, status__in=sized.sources).update(status=Status.SIZED)
    Gift.objects.filter(pk__in=touched - complete, status__in=unsized.sources).update(
        status=Status.AWAITING_SIZES
    )
    audit_record_many(
        [
            audit_event(
                actor=actor, action="gift.sized", subject=gifts[pk], before=before[pk], after=after[pk]
            )
            for pk in sorted(touched)
        ]
    )
    return len(touched)


def gift_refusal(gift: Gift, doing: str) -> ConflictError:
    if gift.status == Status.AWAITING_SIZES:
        return ConflictError(f"Record every size before this pack is {doing}.", code="awaiting_sizes")
    if gift.status == Status.HANDED_OVER:
        when = timezone.localtime(gift.handed_over_at).strftime("%d/%m/%Y") if gift.handed_over_at else ""
        return ConflictError(
            f"This pack was already handed over{' on ' + when if when else ''}.", code="done"
        )
    if gift.status == Status.PACKED:
        return ConflictError("This pack is already packed.", code="packed")
    return ConflictError("Mark the pack as packed before handing it over.", code="not_packed")


@transaction.atomic
def gift_pack(*, gift: Gift, actor: AbstractBaseUser) -> Gift:
    """Mark a gift whose sizes are all recorded as packed (who, when)."""
    require_school(actor, gift.school_id)
    now = timezone.now()
    claimed = Gift.objects.filter(pk=gift.pk, status__in=GIFT_FLOW["pack"].sources).update(
        status=Status.PACKED, packed_at=now, packed_by=actor
    )
    gift.refresh_from_db()
    if not claimed:
        raise gift_refusal(gift, "packed")
    audit_record(
        actor=actor,
        action="gift.packed",
        subject=gift,
        before={"status": Status.SIZED},
        after={"status": Status.PACKED},
    )
    return gift


@dataclass(frozen=True)
class _Need:
    item: UniformItem
    size: str
    quantity: int
    condition: str = Condition.NEW

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.item.pk, self.size, self.condition)

    @property
    def saved_pence(self) -> int:
        """What second-hand stock saved here: the item's unit cost new (nothing for new stock)."""
        return 0 if self.condition == Condition.NEW else self.item.unit_cost_pence * self.quantity


def _lock_levels(needs: list[_Need]) -> dict[tuple[int, str, str], StockLevel]:
    """The stock rows for ``needs``, locked in primary-key order (so two hand-overs cannot deadlock)."""
    if not needs:
        return {}
    keys = {need.key for need in needs}
    candidates = StockLevel.objects.filter(item_id__in={key[0] for key in keys}).values_list(
        "pk", "item_id", "size", "condition"
    )
    pks = sorted(pk for pk, *key in candidates if tuple(key) in keys)
    locked = StockLevel.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    return {(level.item_id, level.size, level.condition): level for level in locked}


def _pack_allows_secondhand(gift: Gift) -> bool:
    """Whether staff may give second-hand stock in ``gift``: only when its pack does not promise new."""
    return WelcomePack.objects.filter(
        school_id=gift.school_id, year_group=gift.year_group, promise_new=False
    ).exists()


def gift_secondhand_offer(*, gift: Gift) -> dict[int, dict[str, int]]:
    """Second-hand stock for each line of ``gift`` in its size: line id → {condition: how many}, best
    first. Empty when the pack promises new, the pack is handed over, or a size is still to record."""
    if gift.status not in (Status.SIZED, Status.PACKED) or not _pack_allows_secondhand(gift):
        return {}
    lines = list(GiftLine.objects.filter(gift=gift).select_related("item"))
    have: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    for item_id, size, condition, quantity in StockLevel.objects.filter(
        item_id__in={line.item_id for line in lines}, condition__in=SECONDHAND, quantity__gt=0
    ).values_list("item_id", "size", "condition", "quantity"):
        have[(item_id, size)][condition] = quantity
    offer = {}
    for line in lines:
        there = have.get((line.item_id, line.size), {})
        if there or line.condition != Condition.NEW:
            offer[line.pk] = {condition: there[condition] for condition in SECONDHAND if condition in there}
    return offer


@transaction.atomic
def gift_secondhand_choose(*, gift: Gift, conditions: Mapping[int, str], actor: AbstractBaseUser) -> Gift:
    """Staff choose, line by line, to give donated second-hand stock in ``gift`` instead of new (gift line
    id → condition, or "new" to go back to new). Never for a pack the trust promises new.

    The stock is checked and taken at hand-over (``gift_hand_over``), where the fund is charged only for
    the lines given new. Sized or packed gifts only. Audited as ``gift.secondhand_chosen``.
    """
    require_school(actor, gift.school_id)
    locked = Gift.objects.select_for_update().filter(pk=gift.pk).first()
    if locked is None:
        raise SupportError("This pack is not at your schools.")
    if locked.status not in (Status.SIZED, Status.PACKED):
        raise gift_refusal(locked, "given second-hand")
    if not _pack_allows_secondhand(locked):
        raise SupportError(
            "The trust promises this welcome pack new: second-hand stock is not offered for it.",
            code="promise_new",
        )
    lines = {line.pk: line for line in GiftLine.objects.filter(gift=locked).select_related("item")}
    before, after, changed = {}, {}, []
    for line_id, condition in conditions.items():
        line = lines.get(int(line_id))
        if line is None:
            raise SupportError("Some of these lines are not on this pack.", field="conditions")
        if condition not in Condition.values:
            raise SupportError("Choose new or a second-hand condition.", field="conditions")
        if condition != line.condition:
            before[line.item.name], after[line.item.name] = line.condition, condition
            line.condition = condition
            changed.append(line)
    if changed:
        GiftLine.objects.bulk_update(changed, ["condition"])
        audit_record(actor=actor, action="gift.secondhand_chosen", subject=locked, before=before, after=after)
    return locked


@transaction.atomic
def gift_hand_over(*, gift: Gift, actor: AbstractBaseUser) -> Gift:
    """Hand a packed gift to the pupil or their family: stock goes down, the cost is kept on the gift.

    Refused (changing nothing) when a tracked item's stock in that size is too low; items whose stock
    is not tracked are handed over without a stock movement. Lines staff chose to give second-hand
    (``gift_secondhand_choose``) come out of second-hand stock (always counted) and cost the fund
    nothing: that part of the pack's commitment is released, and the rest becomes actual spend.
    """
    require_school(actor, gift.school_id)
    locked = Gift.objects.select_for_update().filter(pk=gift.pk).first()
    if locked is None or locked.status not in GIFT_FLOW["hand-over"].sources:
        gift.refresh_from_db()
        raise gift_refusal(gift, "handed over")
    lines = list(GiftLine.objects.filter(gift=gift).select_related("item").order_by("item_id"))
    if any(line.condition != Condition.NEW for line in lines) and not _pack_allows_secondhand(locked):
        raise SupportError(
            "The trust promises this welcome pack new: choose new for every item first.", code="promise_new"
        )
    needs = [
        _Need(line.item, line.size, line.quantity, line.condition)
        for line in lines
        if line.item.track_stock or line.condition != Condition.NEW
    ]
    levels = _lock_levels(needs)
    short = []
    for need in needs:
        level = levels.get(need.key)
        have = level.quantity if level else 0
        if have < need.quantity:
            size = f" size {need.size}" if need.size else ""
            kind = "" if need.condition == Condition.NEW else f" {Condition(need.condition).label.lower()}"
            short.append(f"{need.item.name}{size}{kind} (needs {need.quantity}, {have} in stock)")
    if short:
        raise ConflictError(
            "Not enough stock to hand this pack over: "
            + "; ".join(short)
            + ". Record the delivery from the supplier first, or choose new.",
            code="no_stock",
        )
    for need in needs:
        StockLevel.objects.filter(pk=levels[need.key].pk).update(quantity=F("quantity") - need.quantity)
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                item=need.item,
                size=need.size,
                condition=need.condition,
                change=-need.quantity,
                kind=StockMovement.Kind.HANDOVER,
                gift=gift,
                by=actor,
                saved_pence=need.saved_pence,
            )
            for need in needs
        ]
    )
    now = timezone.now()
    saved = sum(need.saved_pence for need in needs)
    cost = sum(line.item.unit_cost_pence * line.quantity for line in lines if line.condition == Condition.NEW)
    Gift.objects.filter(pk=gift.pk, status__in=GIFT_FLOW["hand-over"].sources).update(
        status=Status.HANDED_OVER, handed_over_at=now, handed_over_by=actor, cost_pence=cost
    )
    gift.refresh_from_db()
    if saved:
        fund_commitment_release(
            source=gift, actor=actor, amount_pence=saved, note="Given from donated second-hand stock"
        )
    fund_spend_actual(source=gift, actor=actor)
    after = {"status": Status.HANDED_OVER, "cost_pence": cost}
    if saved:
        after["secondhand_saved_pence"] = saved
    audit_record(
        actor=actor,
        action="gift.handed_over",
        subject=gift,
        before={"status": Status.PACKED},
        after=after,
    )
    return gift
