from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from support.models import School
from support.pupil_import import (
    ImportRejected,
    plan_year,
    pupil_import_apply,
    pupil_import_parse,
    pupil_import_plan,
)


class Command(BaseCommand):
    help = (
        "Import pupils for one school from a school information system CSV export (upsert by UPN). "
        "A file with any bad row changes nothing; every bad row is listed with its line, column and reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV export")
        parser.add_argument("--school", required=True, help="The school's URN (six digits)")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change, and change nothing"
        )

    def handle(self, *args, file: Path, school: str, dry_run: bool, **options) -> None:
        try:
            target = School.objects.get(urn=school)
        except School.DoesNotExist:
            raise CommandError(f"No school has URN {school}") from None
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None

        parsed = pupil_import_parse(data)
        for unread in parsed.unread:
            self.stderr.write(unread.message)
        if dry_run:
            if not parsed.ok:
                self._report(ImportRejected(parsed.errors))
            plan = pupil_import_plan(
                school=target, rows=parsed.rows, academic_year_start=plan_year(), headers=parsed.columns
            )
            self._summary("Would change", plan.summary)
            for line, warning in plan.warnings:
                self.stdout.write(f"  line {line}: {warning}")
            return
        # The warnings as the preview would show them, read before the file changes anything.
        warnings = pupil_import_plan(
            school=target, rows=parsed.rows, academic_year_start=plan_year(), headers=parsed.columns
        ).warnings
        try:
            summary = pupil_import_apply(school=target, data=data, actor=None, filename=file.name)
        except ImportRejected as exc:
            self._report(exc)
        self._summary(f"Imported {file.name} for {target.name}", summary)
        for line, warning in warnings:
            self.stdout.write(f"  line {line}: {warning}")

    def _report(self, exc: ImportRejected) -> None:
        for error in exc.errors:
            # Line 0 is the parser's mark for a problem with the file as a whole.
            where = f"line {error.line}" if error.line else "file"
            # The column as the file's own header names it.
            column = f", column {error.column_name}" if error.column else ""
            value = f" (value: {error.value!r})" if error.value else ""
            self.stderr.write(f"{where}{column}: {error.reason}{value}")
        raise CommandError(f"{len(exc.errors)} problem(s) in the file; nothing was changed.")

    def _summary(self, title: str, summary: dict) -> None:
        self.stdout.write(self.style.SUCCESS(title))
        for key, value in summary.items():
            self.stdout.write(f"  {key.replace('_', ' ')}: {value}")
