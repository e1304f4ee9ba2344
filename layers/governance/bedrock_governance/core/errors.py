"""The project's exceptions: one type per kind of failure, all under :class:`GovernanceError`."""

from __future__ import annotations


class GovernanceError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(GovernanceError):
    """A setting is missing or malformed. The message names the setting."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"Invalid setting {setting}: {problem}")


class AlertNotPublished(GovernanceError):
    """A run finished its work but its message could not be sent. Raised last, so the invocation
    fails and the Errors alarm fires, after everything the run did is done, logged and counted."""


class AwsError(GovernanceError):
    """An AWS call failed. Subclasses say how; ``code`` keeps AWS's own error code."""

    def __init__(self, service: str, operation: str, code: str, message: str) -> None:
        self.service = service
        self.operation = operation
        self.code = code
        self.aws_message = message
        super().__init__(f"{service}:{operation} failed with {code}: {message}")


class AccessDenied(AwsError):
    """The caller lacks a permission (or the account may not do this at all)."""


class Throttled(AwsError):
    """AWS kept throttling after the client's retries were spent."""


class NotFound(AwsError):
    """The resource does not exist (any more)."""


class Conflict(AwsError):
    """The resource is in a state that forbids the action (e.g. a profile in use)."""


class AlreadyExists(AwsError):
    """A resource with that name exists already (e.g. a budget created concurrently)."""


class LimitExceeded(AwsError):
    """A service quota or request limit was hit."""


class InvalidRequest(AwsError):
    """AWS rejected the request as malformed."""


class DataUnavailable(AwsError):
    """Cost Explorer has no data for the period yet."""


class ServiceUnavailable(AwsError):
    """AWS failed on its side, or could not be reached."""


class PagingError(ServiceUnavailable):
    """A paged answer did not end: a page token came back a second time, or there were more pages
    than any real answer has. Following it would loop (and, in Cost Explorer, bill) for ever."""


class UnreadableState(GovernanceError):
    """A saved state document could not be understood (not JSON, wrong types, naive times...).
    The run treats it as missing and says so; the message says what is wrong with it."""
