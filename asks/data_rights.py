"""Asks in a family's subject access export (once a lead matched them), merges and anonymisation."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from asks.models import Ask
from support.models import Family

# What the person asking typed about themselves (their name, how to reach them, their message) is left out:
# it may be another carer's words, and a subject access request may come from a parent who must not learn
# who asked or what they said (a court order, a restriction). The export says an ask was made, for what,
# and what the school did.
FIELDS = ("kind", "child_year", "language", "status")


def _collect(family: Family) -> list[dict[str, Any]]:
    from support.data_rights import iso

    return [
        {
            **{name: iso(getattr(ask, name)) for name in FIELDS},
            "school": ask.school.name,
            "received_at": iso(ask.created_at),
            "outcome": ask.outcome,
            "outcome_note": ask.outcome_note,
        }
        for ask in Ask.objects.filter(family=family).select_related("school").order_by("pk")
    ]


def _anonymise(family: Family) -> int:
    deleted, _ = Ask.objects.filter(family=family).delete()
    return deleted


def _audit_subjects(family: Family) -> list[tuple[type, list]]:
    return [(Ask, list(Ask.objects.filter(family=family).values_list("pk", flat=True)))]


def _move(*, source: Family, target: Family, actor: AbstractBaseUser | None) -> dict[str, Any]:
    moved = list(Ask.objects.filter(family=source).values_list("pk", flat=True))
    Ask.objects.filter(pk__in=moved).update(family=target)
    return {"asks_moved": moved}


def register() -> None:
    from support.data_rights import register_subject_access_section
    from support.merges import register_merge_handler

    register_merge_handler("asks", covers=("asks.Ask.family",), move=_move)
    register_subject_access_section("asks", _collect, anonymise=_anonymise, audit_subjects=_audit_subjects)
