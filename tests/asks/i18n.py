"""The asks app's message files, compiled once per test session (``make setup`` compiles them too; the
.mo files are never committed)."""

import os
from pathlib import Path

from django.core.management import call_command

ASKS = Path(__file__).resolve().parents[2] / "asks"


def compile_asks_messages() -> None:
    stale = [
        po
        for po in ASKS.glob("locale/*/LC_MESSAGES/django.po")
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale:
        return
    here = os.getcwd()
    os.chdir(ASKS)  # compilemessages compiles every locale/ under the working directory: only ours
    try:
        call_command("compilemessages", verbosity=0)
    finally:
        os.chdir(here)
    from django.utils.translation import trans_real

    trans_real._translations = {}  # forget catalogues loaded before the files existed
