from django.core.management.base import BaseCommand

from support.pupil_csv import HEADERS, REQUIRED


def columns_markdown() -> str:
    """The pupil import's column table (``support.pupil_csv.HEADERS``) as Markdown: one row per field,
    the header names each school information system's export uses, and whether the field is required."""
    lines = [
        "| field | required | headers read (by system) |",
        "| --- | --- | --- |",
    ]
    for field, by_system in HEADERS.items():
        names = "; ".join(
            f"{system}: " + ", ".join(f"`{name}`" for name in names) for system, names in by_system.items()
        )
        lines.append(f"| `{field}` | {'yes' if field in REQUIRED else 'no'} | {names} |")
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print the pupil import's column table (the source of docs/import.md's table)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(columns_markdown(), ending="")
