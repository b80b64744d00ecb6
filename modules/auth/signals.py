"""Signals auth sends; receivers run inside the sender's transaction (defer work to on_commit)."""

from django.dispatch import Signal

# Sent with `user_uuid` (UUID or None) and `api_key_name` (str or None) when credentials stop
# working before they expire: a session signed out or revoked (one, several, or all of a user's;
# on refresh-token reuse too), or an API key revoked. It names whose, never a secret; whoever
# holds long-lived connections for them (the gateway's websockets) checks those again.
credentials_revoked = Signal()
