"""Why a request breaks routing's rules, in plain words an official can act on.

The HTTP edge answers each kind with its status (`NotFound` 404, `Forbidden` 403,
`Conflict` 409, `Invalid` 422); an event handler that meets one lets the event be
dead-lettered with the message as its reason.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A request the rules do not allow; the message says why."""


class NotFound(DomainError):
    """No such dossier, template or unit (as far as the asker may know)."""


class Refused(DomainError):
    """An attempt outside the rules; it is written to the audit log with its `outcome`."""

    outcome: ClassVar[str] = "refused"

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.detail = detail  # structured details for the answer (e.g. every broken workflow rule)


class Forbidden(Refused):
    """The official may not do this: wrong unit, role or holder."""

    outcome = "forbidden"


class Conflict(Refused):
    """The dossier's state does not allow it now (closed, waiting, held by someone else)."""

    outcome = "conflict"


class Invalid(Refused):
    """The request itself is wrong (a date, a target official, a workflow that breaks the rules)."""

    outcome = "invalid"
