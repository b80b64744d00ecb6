"""Events of the auth module. The verification code travels sealed, never in plain text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from events import Event


@dataclass(frozen=True)
class VerificationCodeRequested(Event):
    """Send a code to `phone_number` (E.164).

    `sealed_code` is the code encrypted with events.sealing (Fernet under EVENTS_SEALING_KEY);
    the notification function opens it with `events.sealing.open_sealed_code(sealed_code)`.
    """

    module = "auth"
    # The notifier needs both (from the bus); nobody watching the live stream may see them.
    sensitive_fields = ("phone_number", "sealed_code")
    phone_number: str
    purpose: Literal["SIGN_IN", "SIGN_UP"]
    expires_at: str
    sealed_code: str
