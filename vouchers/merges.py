"""Vouchers follow their family when two families merge, so the limit counts the household's whole history."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from support.merges import register_merge_handler
from support.models import Family
from vouchers.models import Voucher


def vouchers_move_family(*, source: Family, target: Family, actor: AbstractBaseUser | None) -> dict[str, Any]:
    # Each voucher keeps the carer's name and household size it was issued with: that is what was printed.
    moved = list(Voucher.objects.filter(family=source).order_by("pk").values_list("pk", flat=True))
    Voucher.objects.filter(pk__in=moved).update(family=target, updated_at=timezone.now())
    return {"vouchers_moved": moved}


def register() -> None:
    register_merge_handler("vouchers", covers=("vouchers.Voucher.family",), move=vouchers_move_family)
