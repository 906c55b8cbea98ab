"""Domain errors raised by services; views turn them into translated messages."""

from collections.abc import Iterable


class DomainError(Exception):
    """A rule was broken; str(error) is a message fit for the person who broke it."""


class NotFound(DomainError):
    pass


class Forbidden(DomainError):
    pass


class Invalid(DomainError):
    pass


class NotReady(DomainError):
    """An action needs steps that are not done yet."""

    def __init__(self, missing: Iterable[str]):
        self.missing = list(missing)
        super().__init__(", ".join(self.missing))


class Conflict(DomainError):
    """Someone else saved the record since the form was opened."""

    def __init__(self, message: str, changed: dict | None = None):
        self.changed = changed or {}
        super().__init__(message)


class Busy(DomainError):
    """The server has no room for the work right now; asking again in a moment will do."""

    def __init__(self, message: str, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)
