"""Errors the application layer raises.

ApplicationError
 ├── NotFoundError          the thing asked for does not exist
 ├── ConflictError          the change collides with the stored state
 ├── StaleVersionError      the change was based on an older version
 ├── UnknownTickerError     a price source has nothing for a ticker
 ├── PriceSourceError       a price source failed or answered nonsense
 │    └── SourceRateLimitedError  the source keeps refusing for too many requests
 ├── ProjectionTimeoutError the read models did not catch up in time
 ├── InvalidQueryError      a query parameter cannot be read
 ├── InvalidParamsError     a job was asked to work on something it cannot
 ├── WrongPasswordError     the current password given does not match
 └── OwnRoleChangeError     an account requested a change of its own role
"""

from __future__ import annotations


class ApplicationError(Exception):
    """Raised when a command or query cannot be carried out."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems = {} if field is None else {field: message}


class NotFoundError(ApplicationError):
    """Raised when a symbol, ticker or record does not exist."""


class ConflictError(ApplicationError):
    """Raised when a change collides with what is already stored."""


class StaleVersionError(ApplicationError):
    """Raised when a change names a version that is no longer the current one."""


class UnknownTickerError(ApplicationError):
    """Raised when a price source has no prices for a ticker."""


class PriceSourceError(ApplicationError):
    """Raised when a price source fails or returns unusable data."""


class SourceRateLimitedError(PriceSourceError):
    """Raised when a source still refuses requests after every retry."""


class ProjectionTimeoutError(ApplicationError):
    """Raised when the read models do not reach a position in time."""


class InvalidQueryError(ApplicationError):
    """Raised when a query parameter, such as a page cursor, cannot be read."""


class InvalidParamsError(ApplicationError):
    """Raised when a run is requested with parameters its job does not accept."""


class WrongPasswordError(ApplicationError):
    """Raised when the current password given with a change does not match."""


class OwnRoleChangeError(ApplicationError):
    """Raised when an account requests a change of its own role."""
