"""Signals the user module sends; receivers run inside the sender's transaction."""

from django.dispatch import Signal

# Sent with `user_uuid` (UUID) and `reason` ("unregistered" | "banned") when a user stops being
# able to act. The user module knows nothing of credentials; their keeper listens here.
user_deactivated = Signal()

# Sent with `user_uuid` (UUID) when what a user may do changes while they stay active (e.g. staff
# powers granted or taken away), so that whoever holds their live connections can re-check them.
user_access_changed = Signal()
