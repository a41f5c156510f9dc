from django.core.management.base import BaseCommand, CommandError, CommandParser

from support.data_rights import anonymise_expired, retention_years


class Command(BaseCommand):
    help = (
        "Anonymise families past the retention period (RETENTION_YEARS_AFTER_LEAVING, default 6 years "
        "after their last activity): names, contact details, dates of birth, UPNs and free text go; "
        "money, states and counts stay. Safe to run again. Every run is audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the families that would be anonymised; change nothing",
        )
        parser.add_argument("--years", type=int, help="Override the retention period, in years")

    def handle(self, *args, dry_run: bool, years: int | None, **options) -> None:
        years = retention_years() if years is None else years
        if years < 1:
            raise CommandError("The retention period is at least one year.")
        expired, result = anonymise_expired(dry_run=dry_run, years=years)
        if dry_run:
            # Ids and dates only: the command's output ends up in logs.
            for family_id, last_activity in expired:
                self.stdout.write(f"family {family_id}: last activity {last_activity:%Y-%m-%d}")
            self.stdout.write(
                f"Dry run: {len(expired)} famil{'y' if len(expired) == 1 else 'ies'} would be anonymised "
                f"({years} years after the last pupil left, with no support since). Nothing changed."
            )
            return
        counts = result.counts()
        self.stdout.write(", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items()))
        if result.audit_events_kept:
            self.stdout.write(
                self.style.WARNING(
                    f"{result.audit_events_kept} audit events were kept whole: the database refuses to "
                    "redact "
                    "them (the audit table's redaction exception is not installed)."
                )
            )
        self.stdout.write(self.style.SUCCESS(f"Anonymised {result.families} families."))
