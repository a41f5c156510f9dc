from django.apps import apps
from django.core.management.base import BaseCommand

from support.demo import DEMO_PASSWORD, USERS, demo_seed
from support.models import Role


class Command(BaseCommand):
    help = (
        "Build the demo trust (12 academies, about 3,000 pupils, one partner charity, a user per role). "
        "Safe to run twice."
    )

    def handle(self, *args, **options) -> None:
        counts = demo_seed()
        if counts["schools"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo trust created: {counts['schools']} academies, {counts['families']} families, "
                    f"{counts['pupils']} pupils, {counts['users']} users."
                )
            )
        else:
            self.stdout.write("The demo trust is already here; nothing changed.")
        # Feature apps add their own demo data through an AppConfig.demo_seed() hook, so the core
        # never imports them.
        for config in apps.get_app_configs():
            hook = getattr(config, "demo_seed", None)
            if hook is not None and config.name != "support":
                for line in hook():
                    self.stdout.write(line)
        self.stdout.write(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD})")
        for user in USERS:
            self.stdout.write(f"  {user.username:<12} {Role(user.role).label}")
