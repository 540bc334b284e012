"""Errors the domain raises when a rule is broken.

DomainError
 ├── InvalidTickerError         a ticker is not in Yahoo form
 ├── ThresholdOutOfRangeError   a threshold or knob is outside its range
 ├── SymbolRemovedError         a change was asked of a removed symbol
 ├── SymbolWatchedError         a watched symbol was added again
 ├── InvalidPriceBatchError     a batch of bars breaks the series rules
 ├── RestatementError           a batch changes stored bars without a reason
 ├── InvalidFundamentalsError   a snapshot holds a NaN or infinite metric
 ├── InvalidUsernameError       a username is not in the allowed form
 ├── WeakPasswordError          a new password breaks a password rule
 ├── InvalidRoleError           a role is neither viewer nor admin
 ├── UsernameTakenError         a username held by one account was claimed again
 ├── LastAdminError             a change would leave no admin account
 ├── InvalidCronError           a cron expression is unreadable or never fires
 ├── InvalidTimezoneError       a timezone is not an IANA name
 ├── UnknownJobError            a job name is not one the product runs
 ├── OnDemandJobError           a schedule was given to an on-demand job
 └── RunStateError              a job run was asked for a step out of order
"""

from __future__ import annotations


class DomainError(Exception):
    """Raised when a command would break a rule of the domain."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        problems: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems = problems or ({} if field is None else {field: message})


class InvalidTickerError(DomainError):
    """Raised when a ticker is not in Yahoo form."""


class ThresholdOutOfRangeError(DomainError):
    """Raised when a threshold or setting is outside its allowed range."""


class SymbolRemovedError(DomainError):
    """Raised when a removed symbol is asked to change."""


class SymbolWatchedError(DomainError):
    """Raised when a ticker already on the watchlist is added again."""


class InvalidPriceBatchError(DomainError):
    """Raised when a batch of bars has unordered dates or unusable prices."""


class RestatementError(DomainError):
    """Raised when a batch would change stored bars and gives no reason."""


class InvalidFundamentalsError(DomainError):
    """Raised when a snapshot contains a metric that is NaN or infinite."""


class InvalidUsernameError(DomainError):
    """Raised when a username is not 3 to 32 characters of a-z, 0-9, ".", "_", "-"."""


class WeakPasswordError(DomainError):
    """Raised when a new password is too short, too long, the username or common."""


class InvalidRoleError(DomainError):
    """Raised when a role is neither "viewer" nor "admin"."""


class UsernameTakenError(DomainError):
    """Raised when another account claims a username that an account already has."""


class LastAdminError(DomainError):
    """Raised when a change would take away the role of the last admin account."""


class InvalidCronError(DomainError):
    """Raised when a cron expression is unreadable or never fires."""


class InvalidTimezoneError(DomainError):
    """Raised when a timezone is not an IANA timezone name."""


class UnknownJobError(DomainError):
    """Raised when a job name is not one of the jobs the product runs."""


class OnDemandJobError(DomainError):
    """Raised when a schedule is given to a job that only runs on demand."""


class RunStateError(DomainError):
    """Raised when a job run is asked for a step its state does not allow."""
