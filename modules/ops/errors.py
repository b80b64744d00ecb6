"""Error codes of ops' mutations (`OpsError.code`)."""

from enum import StrEnum


class OpsErrorCode(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
