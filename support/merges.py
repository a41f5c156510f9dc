"""When two families merge, every record that points at the merged-away family moves to the kept one.

Each app registers, from its ``AppConfig.ready``, a handler for the foreign keys to ``Family`` it owns
(``covers``: ``"app_label.Model.field"``); the core's merge (``support.services.family_duplicate_merge``)
calls every handler inside its transaction, with both families locked. The core never imports a
feature app. ``uncovered_family_references()`` walks the app registry, so a model given a foreign key
to ``Family`` without a handler is caught by a test instead of being left behind at the next merge.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from support.models import Family, FamilyConsent, FamilyDuplicate, Pupil

# (source, target, actor) -> a JSON-able summary of what moved, kept in the merge's audit event.
MergeMove = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class MergeHandler:
    name: str
    covers: tuple[str, ...]
    move: MergeMove


_HANDLERS: dict[str, MergeHandler] = {}


def register_merge_handler(name: str, *, covers: tuple[str, ...], move: MergeMove) -> None:
    """Register (or replace) the handler ``name`` that moves the records behind ``covers``."""
    _HANDLERS[name] = MergeHandler(name=name, covers=tuple(covers), move=move)


def merge_handlers() -> list[MergeHandler]:
    return [_HANDLERS[name] for name in sorted(_HANDLERS)]


def merge_handlers_run(*, source: Family, target: Family, actor: AbstractBaseUser | None) -> dict[str, Any]:
    """Call every handler; the caller holds the transaction and both families' locks."""
    return {
        handler.name: handler.move(source=source, target=target, actor=actor) for handler in merge_handlers()
    }


def family_references() -> list[str]:
    """Every concrete foreign key or one-to-one field to ``Family`` in every installed model."""
    found = []
    for model in apps.get_models():
        for model_field in model._meta.get_fields():
            if model_field.concrete and model_field.is_relation and model_field.related_model is Family:
                found.append(f"{model._meta.label}.{model_field.name}")
    return sorted(found)


def uncovered_family_references() -> list[str]:
    covered = {label for handler in _HANDLERS.values() for label in handler.covers}
    return [label for label in family_references() if label not in covered]


# --- The core's own references --------------------------------------------------------------


def _move_pupils(*, source: Family, target: Family, actor: AbstractBaseUser | None) -> dict[str, Any]:
    # Pupils keep their schools: a merge joins the household's records, it moves no pupil between rolls.
    moved = list(Pupil.objects.filter(family=source).order_by("pk").values_list("pk", flat=True))
    Pupil.objects.filter(pk__in=moved).update(family=target, updated_at=timezone.now())
    return {"pupils_moved": moved}


def _close_moot_pairs(*, source: Family, target: Family, actor: AbstractBaseUser | None) -> dict[str, Any]:
    # Decided pairs stay as history; open ones that involve the merged-away family are now moot.
    waiting = (FamilyDuplicate.Status.OPEN, FamilyDuplicate.Status.REQUESTED)
    closed = 0
    for side in ("family_a", "family_b"):
        closed += FamilyDuplicate.objects.filter(status__in=waiting, **{side: source}).update(
            status=FamilyDuplicate.Status.MERGED, decided_by=actor, decided_at=timezone.now()
        )
    return {"pairs_closed": closed}


def _repoint_earlier_merges(
    *, source: Family, target: Family, actor: AbstractBaseUser | None
) -> dict[str, Any]:
    # Families merged into the source earlier now point at the kept family: no chains to follow.
    earlier = list(Family.objects.filter(merged_into=source).values_list("pk", flat=True))
    Family.objects.filter(pk__in=earlier).update(merged_into=target)
    return {"earlier_merges": earlier}


def _move_consents(*, source: Family, target: Family, actor: AbstractBaseUser | None) -> dict[str, Any]:
    # Consents move with their history (given, withdrawn, migrated): both records were one household,
    # and a consent the merged-away record held stays the household's consent to that partner.
    moved = list(FamilyConsent.objects.filter(family=source).order_by("pk").values_list("pk", flat=True))
    FamilyConsent.objects.filter(pk__in=moved).update(family=target)
    return {"consents_moved": moved}


def _search_names_follow(*, source: Family, target: Family, actor: AbstractBaseUser | None) -> dict[str, Any]:
    # The search's names table (support.FamilySearchName) is the database's own: on PostgreSQL its
    # triggers refill both families' rows when the pupils move and the merged-away family is marked, so
    # there is nothing to move here (on SQLite the table is not used). Registered so that every foreign
    # key to a family has said what a merge does to it.
    return {"search_names": "refilled by the database"}


def register_core_handlers() -> None:
    register_merge_handler(
        "search_names", covers=("support.FamilySearchName.family",), move=_search_names_follow
    )
    register_merge_handler("consents", covers=("support.FamilyConsent.family",), move=_move_consents)
    register_merge_handler("pupils", covers=("support.Pupil.family",), move=_move_pupils)
    register_merge_handler(
        "duplicates",
        covers=(
            "support.FamilyDuplicate.family_a",
            "support.FamilyDuplicate.family_b",
            "support.FamilyDuplicate.requested_keep",
            "support.FamilyDuplicate.agreement_from",
        ),
        move=_close_moot_pairs,
    )
    register_merge_handler(
        "merged_into", covers=("support.Family.merged_into",), move=_repoint_earlier_merges
    )
