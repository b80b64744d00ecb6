"""Error codes of the jobs module (the `JobsErrorCode` GraphQL enum)."""

from enum import StrEnum


class JobsErrorCode(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    JOB_NOT_FOUND = "JOB_NOT_FOUND"
    JOB_FINISHED = "JOB_FINISHED"
    # What a module starting a job may be refused with (its own error enum has them too).
    NO_ROWS = "NO_ROWS"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    UNKNOWN_KIND = "UNKNOWN_KIND"
