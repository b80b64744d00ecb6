from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_role_groups(using: str = "default", **kwargs: Any) -> None:
    # Sent once per app after each migrate: the permissions of apps migrated later are added on
    # their turn (each call only adds).
    from modules.user.services import role_groups_ensure

    role_groups_ensure(using=using)


class UserConfig(AppConfig):
    name = "modules.user"
    label = "user"
    verbose_name = "Users"

    def ready(self) -> None:
        post_migrate.connect(_ensure_role_groups, dispatch_uid="user.role_groups")
