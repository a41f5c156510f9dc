"""Signposts follow their family when two families merge, so its history stays whole."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from signposting.models import Signpost
from support.merges import register_merge_handler
from support.models import Family


def signposts_move_family(
    *, source: Family, target: Family, actor: AbstractBaseUser | None
) -> dict[str, Any]:
    moved = list(Signpost.objects.filter(family=source).order_by("pk").values_list("pk", flat=True))
    Signpost.objects.filter(pk__in=moved).update(family=target, updated_at=timezone.now())
    return {"signposts_moved": moved}


def register() -> None:
    register_merge_handler("signposts", covers=("signposting.Signpost.family",), move=signposts_move_family)
