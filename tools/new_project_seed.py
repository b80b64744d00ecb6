"""`manage.py seed_demo`: demo accounts for `make run`, in a project without the logistics sample.

tools/new_project.py copies this file to modules/user/management/commands/seed_demo.py when it
leaves the sample out (the sample's own seed_demo also seeds centers, items and transports).
Idempotent; development only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from modules.user import api as user_api

DEMO_STAFF_USERNAME = "demo-staff"
DEMO_STAFF_PASSWORD = "majestic-demo"  # development data only: the command refuses production
DEMO_DRIVERS = (
    ("+15550000001", "Dana Demo", "123456"),
    ("+15550000002", "Drew Demo", "654321"),
)


class Command(BaseCommand):
    help = "Create the demo staff account and two demo drivers (development only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.IS_PRODUCTION:
            raise CommandError(
                "seed_demo writes demo accounts with a known password; it never runs in production."
            )
        with transaction.atomic():
            user_api.demo_staff_ensure(
                username=DEMO_STAFF_USERNAME, password=DEMO_STAFF_PASSWORD, full_name="Demo Staff"
            )
            for phone_number, full_name, _code in DEMO_DRIVERS:
                if user_api.user_uuid_for_phone_number(phone_number) is not None:
                    continue
                try:
                    user_api.register_user(
                        phone_number=phone_number,
                        user_type="DRIVER",
                        full_name=full_name,
                        date_of_birth=None,
                    )
                except ValidationError as exc:
                    raise CommandError(
                        f"Cannot create demo driver {phone_number}: {' '.join(exc.messages)}"
                    ) from None
        codes = ",".join(f"{phone}:{code}" for phone, _name, code in DEMO_DRIVERS)
        self.stdout.write(
            "\n".join(
                [
                    "Demo data ready (development only).",
                    f"  Staff:   username {DEMO_STAFF_USERNAME}  password {DEMO_STAFF_PASSWORD}"
                    "  (signInWithPassword)",
                    *(
                        f"  Driver:  {name}  phone {phone}  code {code}  (signInWithCode)"
                        for phone, name, code in DEMO_DRIVERS
                    ),
                    f'  Sign-in by code needs AUTH_TEST_PHONE_NUMBERS="{codes}" (make run sets it)',
                ]
            )
        )
