from typing import Any

from django.apps import AppConfig


class AuthConfig(AppConfig):
    name = "modules.auth"
    label = "majestic_auth"
    verbose_name = "Authentication"

    def ready(self) -> None:
        from modules.user.api import user_deactivated

        user_deactivated.connect(
            _revoke_sessions_of_deactivated_user, dispatch_uid="auth.revoke_sessions"
        )


def _revoke_sessions_of_deactivated_user(
    sender: Any, *, user_uuid: Any, reason: str, **kwargs: Any
) -> None:
    # Runs inside the user module's transaction: the user and their sessions end together.
    from modules.auth.services import sessions_revoke_all

    sessions_revoke_all(user_uuid=user_uuid, reason=reason)
